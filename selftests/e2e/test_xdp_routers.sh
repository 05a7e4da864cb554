#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Two xdp-mode routers with the same tenant addresses on shared ports: hosts
# ping and exchange UDP through both, neither router's packets leave on the
# other's nexthops, counters match what was sent, exceptions are punted, a
# live 'node up' loses nothing, bad commands change nothing.
set -u
. "$(dirname "$0")/../lib.sh"
t_init xdp_routers
t_need jq ethtool ping
. "$(dirname "$0")/../../scripts/redblue.sh"

RB_P=$T_P RB_NODE=$T_P
T_NODES+=("$RB_NODE")
trap 'redblue_down; t_cleanup' EXIT
x() { "$XVR" -n "$RB_NODE" "$@"; }
in_ns() { ip netns exec "$@"; }

if ! redblue_up; then
	t_fail "topology setup"
	exit 1
fi
t_ok "topology: node, 2 ports, routers red and blue"

# UDP: send COUNT datagrams from NS to ADDR:PORT, print how many NS2 got.
udp_count() {
	local src=$1 dst_ns=$2 addr=$3 count=$4 port=$5
	in_ns "$dst_ns" "$PY" -c '
import socket, sys
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
s.bind(("::" if fam == socket.AF_INET6 else "0.0.0.0", int(sys.argv[2])))
s.settimeout(1.5)
n = 0
try:
    while True:
        s.recv(2048); n += 1
except socket.timeout:
    pass
print(n)' "$addr" "$port" >/tmp/.udp.$$ &
	local rx=$!
	t_wait_listen "$dst_ns" udp "$port"
	in_ns "$src" "$PY" -c '
import socket, sys, time
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
for i in range(int(sys.argv[3])):
    s.sendto(b"x" * 64, (sys.argv[1], int(sys.argv[2])))
    time.sleep(0.001)' "$addr" "$port" "$count"
	wait $rx
	cat /tmp/.udp.$$
	rm -f /tmp/.udp.$$
}

# 1. Reachability through both routers, both families.
for h in ra ba; do
	t_check "ping $h -> 10.2.1.2" in_ns "${RB_P}$h" ping -c 3 -i 0.2 -W 1 10.2.1.2
	t_check "ping6 $h -> 2001:db8:2::2" in_ns "${RB_P}$h" ping -6 -c 3 -i 0.2 -W 1 2001:db8:2::2
done

# 2. UDP, and isolation: red's datagrams reach only red's host at site B.
red_fwd0=$(t_stat "$RB_NODE" red fwd_packets)
blue_rx0=$(t_stat "$RB_NODE" blue rx_packets)
bb_rx0=$(in_ns "${RB_P}bb" cat /sys/class/net/eth0/statistics/rx_packets)
got=$(udp_count "${RB_P}ra" "${RB_P}rb" 10.2.1.2 200 5001)
t_eq "UDP red A -> red B: all 200 delivered" "$got" 200
bb_rx1=$(in_ns "${RB_P}bb" cat /sys/class/net/eth0/statistics/rx_packets)
t_eq "blue's site-B host received none of red's UDP" "$((bb_rx1 - bb_rx0))" 0
t_eq "red forwarded exactly the 200 datagrams" \
	"$(( $(t_stat "$RB_NODE" red fwd_packets) - red_fwd0 ))" 200
t_eq "blue received none of them" "$(( $(t_stat "$RB_NODE" blue rx_packets) - blue_rx0 ))" 0
got=$(udp_count "${RB_P}ba" "${RB_P}bb" 2001:db8:2::2 100 5002)
t_eq "UDP6 blue A -> blue B: all 100 delivered" "$got" 100

# 3. Counters: rx = fwd + punt + drop for each router; port books match too.
for r in red blue; do
	rx=$(t_stat "$RB_NODE" $r rx_packets)
	sum=$(( $(t_stat "$RB_NODE" $r fwd_packets) + $(t_stat "$RB_NODE" $r punt_packets) + \
		$(t_stat "$RB_NODE" $r drop_packets) ))
	t_eq "router $r: rx ($rx) = fwd + punt + drop" "$sum" "$rx"
done
p0_rx=$(t_stat "$RB_NODE" "port ${RB_P}p0" rx_packets)
p0_sum=$(( $(t_stat "$RB_NODE" "port ${RB_P}p0" fwd_packets) + \
	$(t_stat "$RB_NODE" "port ${RB_P}p0" punt_packets) + \
	$(t_stat "$RB_NODE" "port ${RB_P}p0" drop_packets) + \
	$(t_stat "$RB_NODE" "port ${RB_P}p0" miss_packets) ))
t_eq "port p0: rx = fwd + punt + drop + unclassified" "$p0_sum" "$p0_rx"

# 4. Exceptions are punted, counted by reason: TTL 1, no route.
ttl0=$(x -j stats red interval 0 | jq '.[0].punt.ttl // 0')
in_ns "${RB_P}ra" ping -c 2 -i 0.2 -W 1 -t 1 10.2.1.2 >/dev/null 2>&1
t_eq "ping with TTL 1 punted twice (reason ttl)" \
	"$(( $(x -j stats red interval 0 | jq '.[0].punt.ttl // 0') - ttl0 ))" 2
nr0=$(x -j stats red interval 0 | jq '.[0].punt["no-route"] // 0')
in_ns "${RB_P}ra" ping -c 2 -i 0.2 -W 1 10.9.9.9 >/dev/null 2>&1
t_eq "ping to an unrouted address punted twice (reason no-route)" \
	"$(( $(x -j stats red interval 0 | jq '.[0].punt["no-route"] // 0') - nr0 ))" 2

# 5. A route change takes effect at once: blackhole, then restore.
x route replace red 10.2.0.0/16 blackhole
t_fails "blackholed route: red ping fails" in_ns "${RB_P}ra" ping -c 1 -W 1 10.2.1.2
t_check "blue unaffected by red's blackhole" in_ns "${RB_P}ba" ping -c 1 -W 1 10.2.1.2
x route replace red 10.2.0.0/16 via 10.2.1.2 lladdr "$(rb_mac a 2 2)" dev "${RB_P}p1"
t_check "restored route: red ping works" in_ns "${RB_P}ra" ping -c 1 -W 1 10.2.1.2

# 5b. The port index (xvr.h): each port is published there. With p0's entry
#     held by another ifindex (two ports sharing an index), p0's frames are
#     found through xvr_ports: red still forwards and p0 still counts them;
#     node repair publishes p0 again.
le32() { echo "$(($1 & 255)) $(($1 >> 8 & 255)) $(($1 >> 16 & 255)) $(($1 >> 24 & 255))"; }
P0I=$(cat "/sys/class/net/${RB_P}p0/ifindex")
IDXMAP=/sys/fs/bpf/xvr/$RB_NODE/port_idx
# shellcheck disable=SC2046
idx_of_p0() { bpftool -j map lookup pinned "$IDXMAP" key $(le32 $((P0I % 256))) |
	jq '.formatted.value.ifindex // .value.ifindex'; }
t_eq "port p0 is published in the port index" "$(idx_of_p0)" "$P0I"
vsize=$(bpftool -j map show pinned "$IDXMAP" | jq .bytes_value)
# shellcheck disable=SC2046
bpftool map update pinned "$IDXMAP" key $(le32 $((P0I % 256))) \
	value $(le32 $((P0I + 256))) $(printf '0 %.0s' $(seq $((vsize - 4)))) ||
	t_fail "write p0's index entry"
t_eq "  its entry now holds another ifindex" "$(idx_of_p0)" "$((P0I + 256))"
rx0=$(t_stat "$RB_NODE" "port ${RB_P}p0" rx_packets)
t_check "  red forwards p0's frames, found through xvr_ports" \
	in_ns "${RB_P}ra" ping -c 2 -i 0.2 -W 1 10.2.1.2
t_ge "  p0 counted them" "$(( $(t_stat "$RB_NODE" "port ${RB_P}p0" rx_packets) - rx0 ))" 2
t_check "  node repair rewrites the entry" \
	sh -c "\"$XVR\" -n $RB_NODE node repair 2>&1 | grep -q 'rewrote 1 port index'"
t_eq "  port p0 is published again" "$(idx_of_p0)" "$P0I"

# 6. 'node up' on a live node swaps programs without losing a packet.
prog0=$(x -j node show | jq .prog_id)
in_ns "${RB_P}ra" ping -c 150 -i 0.01 -W 1 10.2.1.2 >/tmp/.ping.$$ 2>&1 &
pid=$!
t_wait 5 grep -q "icmp_seq=10 " /tmp/.ping.$$
x node up
x node up
wait $pid
loss=$(grep -o '[0-9.]*% packet loss' /tmp/.ping.$$ | cut -d% -f1)
rm -f /tmp/.ping.$$
t_eq "live 'node up' twice during a 150-ping burst: packet loss" "$loss" 0
t_check "program was replaced" test "$(x -j node show | jq .prog_id)" != "$prog0"
t_eq "routes kept across 'node up'" "$(x -j route list red | jq length)" 4

# 7. Bad commands name the problem, exit non-zero, change nothing.
before=$(x -j route list red; x -j classify list; x -j router list; x -j port list)
t_fails "route add: bad prefix" x route add red 10.0.0.300/8 via 10.2.1.2 lladdr 02:00:00:00:00:01 dev "${RB_P}p1"
t_fails "route add: host bits set" x route add red 10.0.0.1/8 via 10.2.1.2 lladdr 02:00:00:00:00:01 dev "${RB_P}p1"
t_fails "route add: dev is not a port" x route add red 10.3.0.0/16 via 10.2.1.2 lladdr 02:00:00:00:00:01 dev lo
t_fails "route add: bad lladdr" x route add red 10.3.0.0/16 via 10.2.1.2 lladdr 02:00:00:00:00 dev "${RB_P}p1"
t_fails "route add: existing prefix" x route add red 10.2.0.0/16 via 10.2.1.2 lladdr 02:00:00:00:00:01 dev "${RB_P}p1"
t_fails "route add: unknown router" x route add green 10.3.0.0/16 blackhole
t_fails "route del: absent prefix" x route del red 10.77.0.0/16
t_fails "classify add: duplicate MAC rule of another router" x classify add blue mac "$(rb_mac a 1 1)" port "${RB_P}p0"
t_fails "classify add: vlan 5000" x classify add red vlan 5000
t_fails "classify add: default without port" x classify add red default
t_fails "router add: duplicate name" x router add red
t_fails "router add: bad name" x router add 'bad name!'
t_fails "port add: no such device" x port add nosuchdev0
t_fails "port del: port with nexthops" x port del "${RB_P}p1"
t_fails "unknown object" x frobnicate list
err=$(x route add red 10.3.0.0/16 via 10.2.1.2 lladdr zz dev "${RB_P}p1" 2>&1 >/dev/null)
t_check "error names the bad token" grep -q "zz" <<<"$err"
after=$(x -j route list red; x -j classify list; x -j router list; x -j port list)
t_eq "rejected commands changed nothing" "$after" "$before"

# 8. Bulk load replaces the table; the router keeps forwarding.
tbl=$(mktemp)
{
	echo "10.1.0.0/16 via 10.1.1.2 lladdr $(rb_mac a 1 2) dev ${RB_P}p0"
	echo "10.2.0.0/16 via 10.2.1.2 lladdr $(rb_mac a 2 2) dev ${RB_P}p1"
	for i in $(seq 0 199); do echo "172.16.$i.0/24 blackhole"; done
	echo "2001:db8:1::/48 via 2001:db8:1::2 lladdr $(rb_mac a 1 2) dev ${RB_P}p0"
	echo "2001:db8:2::/48 via 2001:db8:2::2 lladdr $(rb_mac a 2 2) dev ${RB_P}p1"
} >"$tbl"
t_check "route load of 204 routes" x route load red "$tbl"
t_eq "route list shows the loaded table" "$(x -j route list red | jq length)" 204
t_check "red still forwards after the load" in_ns "${RB_P}ra" ping -c 1 -W 1 10.2.1.2
echo "10.2.0.0/16 via 10.2.1.2 lladdr $(rb_mac a 2 2) dev nosuch" >>"$tbl"
t_fails "route load with a bad line is refused" x route load red "$tbl"
t_eq "the refused load changed nothing" "$(x -j route list red | jq length)" 204
rm -f "$tbl"

# 9. Deleting a router removes its rules; its traffic is then unclassified.
x router del red
t_eq "red's classifier rules are gone" "$(x -j classify list | jq '[.[] | select(.router == "red")] | length')" 0
t_fails "red's hosts are cut off" in_ns "${RB_P}ra" ping -c 1 -W 1 10.2.1.2
t_check "blue still forwards" in_ns "${RB_P}ba" ping -c 1 -W 1 10.2.1.2

# 10. node down leaves nothing pinned and no program attached.
x node down
t_check "node down removed the pin root" test ! -e "/sys/fs/bpf/xvr/$RB_NODE"
t_fails "no XDP program left on port p0" sh -c "ip -d link show ${RB_P}p0 | grep -q 'prog/xdp'"
