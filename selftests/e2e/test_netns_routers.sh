#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# netns-mode routers: the router's own namespace stack forwards, reached by
# XDP redirect into its VIFs. Two routers with the same addresses share both
# ports, told apart by MAC. ping, UDP and TCP (iperf3) go through; each
# namespace sees only its own VIFs; counters match; deleting a router
# leaves nothing behind.
set -u
. "$(dirname "$0")/../lib.sh"
t_init netns_routers
t_need jq ethtool ping iperf3
. "$(dirname "$0")/../../scripts/redblue.sh"

RB_P=$T_P RB_NODE=$T_P RB_MODE=netns
T_NODES+=("$RB_NODE")
trap 'redblue_down; t_cleanup' EXIT
x() { "$XVR" -n "$RB_NODE" "$@"; }
in_ns() { ip netns exec "$@"; }
RNS="xvr-$RB_NODE-red" BNS="xvr-$RB_NODE-blue"

if ! redblue_up; then
	t_fail "topology setup"
	exit 1
fi
t_ok "topology: netns routers red and blue with VIFs e0, e1"

# 1. The namespaces and what they contain.
t_eq "red's namespace has exactly lo, e0, e1" \
	"$(ip -n "$RNS" -j link show | jq -r '[.[].ifname] | sort | join(",")')" "e0,e1,lo"
t_eq "vif list shows 4 VIFs" "$(x -j vif list | jq length)" 4
t_eq "router list names the namespace" "$(x -j router show red | jq -r .netns)" "$RNS"

# 2. Reachability through both routers, both families.
for h in ra ba; do
	t_check "ping $h -> 10.2.1.2" in_ns "${RB_P}$h" ping -c 3 -i 0.2 -W 1 10.2.1.2
	t_check "ping6 $h -> 2001:db8:2::2" in_ns "${RB_P}$h" ping -6 -c 3 -i 0.2 -W 1 2001:db8:2::2
done
t_check "ping red's own address" in_ns "${RB_P}ra" ping -c 1 -W 1 10.1.1.1

# 3. UDP with exact books: red's router gets 300 frames in and sends 300 out.
rx0=$(t_stat "$RB_NODE" red rx_packets) tx0=$(t_stat "$RB_NODE" red tx_packets)
blue0=$(t_stat "$RB_NODE" blue rx_packets)
fwd_count() { ip netns exec "$1" awk '/^Ip:/ { if (++n == 2) print $7 }' /proc/net/snmp; }
blue_fw0=$(fwd_count "$BNS")
bb0=$(in_ns "${RB_P}bb" cat /sys/class/net/eth0/statistics/rx_packets)
blue_e0=$(ip -n "$BNS" -j -s link show e0 | jq '.[0].stats64.rx.packets')
in_ns "${RB_P}rb" "$PY" -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("0.0.0.0", 6001)); s.settimeout(1.5)
n = 0
try:
    while True: s.recv(2048); n += 1
except socket.timeout: pass
print(n)' >/tmp/.nsudp.$$ &
rxpid=$!
t_wait_listen "${RB_P}rb" udp 6001
in_ns "${RB_P}ra" "$PY" -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(300):
    s.sendto(b"y" * 100, ("10.2.1.2", 6001)); time.sleep(0.0005)'
wait $rxpid
t_eq "UDP: red's host B got all 300" "$(cat /tmp/.nsudp.$$)" 300
rm -f /tmp/.nsudp.$$
# The hosts' own multicast (IPv6 MLD, router solicitations) reaches every
# router on their port, as broadcasts do (test_bcast): a few frames more.
rx=$(( $(t_stat "$RB_NODE" red rx_packets) - rx0 ))
t_check "red: the 300 frames in through its VIF ($rx, incl. hosts' multicast)" \
	test "$rx" -ge 300 -a "$rx" -le 310
# The router's own IPv6 housekeeping (MLD, ND) leaves the same way.
tx=$(( $(t_stat "$RB_NODE" red tx_packets) - tx0 ))
t_check "red: the 300 frames out through xvr_egress ($tx, incl. own chatter)" \
	test "$tx" -ge 300 -a "$tx" -le 310
t_check "blue saw none of red's traffic (at most the hosts' multicast)" \
	test "$(( $(t_stat "$RB_NODE" blue rx_packets) - blue0 ))" -le 10
t_eq "blue's namespace forwarded none of it" \
	"$(( $(fwd_count "$BNS") - blue_fw0 ))" 0
t_eq "blue's host B saw none of it" \
	"$(( $(in_ns "${RB_P}bb" cat /sys/class/net/eth0/statistics/rx_packets) - bb0 ))" 0
t_check "blue's namespace received none of it" test \
	"$(( $(ip -n "$BNS" -j -s link show e0 | jq '.[0].stats64.rx.packets') - blue_e0 ))" -lt 10

# 4. TCP: an iperf3 transfer through red.
in_ns "${RB_P}rb" iperf3 -s -1 -D -p 5201 >/dev/null 2>&1
t_wait_listen "${RB_P}rb" tcp 5201
bps=$(timeout 30 ip netns exec "${RB_P}ra" iperf3 -c 10.2.1.2 -p 5201 -t 2 -J 2>/dev/null |
	jq '.end.sum_received.bits_per_second // 0 | floor')
echo "    iperf3 through red: $bps bit/s"
t_ge "iperf3 TCP through a netns router moves data" "${bps:-0}" 1000000
t_eq "router red dropped nothing" "$(t_stat "$RB_NODE" red drop_packets)" 0

# 5. A tenant's routing change stays in its namespace.
ip -n "$RNS" route add blackhole 10.2.1.2/32
t_fails "red's blackhole stops red's traffic" in_ns "${RB_P}ra" ping -c 1 -W 1 10.2.1.2
t_check "blue keeps forwarding" in_ns "${RB_P}ba" ping -c 1 -W 1 10.2.1.2
ip -n "$RNS" route del blackhole 10.2.1.2/32

# 6. Removing a VIF, then a router, leaves nothing behind.
dev=$(x -j vif list red | jq -r '.[] | select(.ifname == "e1") | .dev')
t_check "vif del red e1" x vif del red e1
t_fails "the VIF's node end is gone" ip link show "$dev"
t_fails "red no longer reaches site B" in_ns "${RB_P}ra" ping -c 1 -W 1 10.2.1.2
t_check "router del red" x router del red
t_fails "red's namespace is gone" ip netns exec "$RNS" true
t_eq "red's VIFs are gone" "$(x -j vif list | jq '[.[] | select(.router == "red")] | length')" 0
t_check "blue still forwards" in_ns "${RB_P}ba" ping -c 1 -W 1 10.2.1.2
t_fails "vif add to a missing router" x vif add red e0 port "${RB_P}p0"
t_fails "vif add with a MAC rule another router has" x vif add blue e9 port "${RB_P}p0" mac "$(rb_mac b 1 1)"
t_fails "vif add with a bad port" x vif add blue e9 port nosuchdev
