#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# afxdp routers: ingress spreads IP frames over the router's AF_XDP engines
# (xvr-router processes in its namespace). ping, UDP and TCP go through 1
# and 3 engines under each distribution policy; flow hash never reorders a
# flow; the firewall plugin filters; garbage a tenant sends from an engine's
# interface is dropped and counted; an engine killed under load is restarted
# by its supervisor while another router keeps its rate; pool sizes from 2
# to 16384 frames forward.
set -u
. "$(dirname "$0")/../lib.sh"
t_init afxdp
t_need jq ethtool ping iperf3
NODE=$T_P
BUILD=$(dirname "$XVR")
x() { "$XVR" -n "$NODE" "$@"; }
in_ns() { ip netns exec "$@"; }
RNS="xvr-$NODE-ar"

# h1 (10.1.1.2) ── p0 ─ ar (afxdp) ─ p1 ── h2 (10.2.1.2)
# h3 (10.3.1.2) ── p2 ─ xr (xdp)   ─ p3 ── h4 (10.4.1.2)   the bystander
t_afxdp_pair "$NODE" || exit 1

# udp_run SRC DST_NS ADDR COUNT PORT [SPORTS] [GAP]: sends COUNT sequenced
# datagrams (source ports cycling over SPORTS flows; a GAP-second pause
# after each, else 1 ms per 64); prints "received reordered".
udp_run() {
	in_ns "$2" "$PY" -c '
import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("0.0.0.0", int(sys.argv[1])))
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
s.settimeout(1.5)
n = reord = 0; top = {}
try:
    while True:
        d = s.recv(2048); flow, seq = struct.unpack("!II", d[:8]); n += 1
        if seq < top.get(flow, -1): reord += 1
        top[flow] = max(top.get(flow, -1), seq)
except socket.timeout: pass
print(n, reord)' "$5" >/tmp/.afx.$$ &
	local rx=$!
	t_wait_listen "$2" udp "$5"
	in_ns "$1" "$PY" -c '
import socket, struct, sys, time
addr, port, count, flows = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
gap = float(sys.argv[5])
socks = []
for f in range(flows):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("0.0.0.0", 20000 + f)); socks.append(s)
for i in range(count):
    f = i % flows
    socks[f].sendto(struct.pack("!II", f, i // flows) + b"x" * 56, (addr, port))
    if gap: time.sleep(gap)
    elif i % 64 == 63: time.sleep(0.001)' "$3" "$5" "$4" "${6:-1}" "${7:-0}"
	wait $rx
	cat /tmp/.afx.$$
	rm -f /tmp/.afx.$$
}

fe_rx() { x -j fe list ar | jq -r '[.[] | .rx_packets] | join(" ")'; }

# 1. One engine.
t_check "fe add: one engine" x fe add ar
t_eq "fe list: one live engine" "$(x -j fe list ar | jq '[.[] | select(.alive)] | length')" 1
t_check "ping through one engine" in_ns "${T_P}h1" ping -c 3 -i 0.2 -W 1 10.2.1.2
read -r got reord <<<"$(udp_run "${T_P}h1" "${T_P}h2" 10.2.1.2 2000 7001)"
t_eq "UDP through one engine: 2000 of 2000" "$got" 2000
in_ns "${T_P}h2" iperf3 -s -1 -D -p 5201 >/dev/null 2>&1
t_wait_listen "${T_P}h2" tcp 5201
bps=$(timeout 20 ip netns exec "${T_P}h1" iperf3 -c 10.2.1.2 -p 5201 -t 2 -J 2>/dev/null |
	jq '.end.sum_received.bits_per_second // 0 | floor')
echo "    iperf3 through one engine: $bps bit/s"
t_ge "TCP (iperf3) through one engine" "${bps:-0}" 1000000

# 2. Three engines: weights 1, 2, 3 for the weighted policy. The third
# sleeps as soon as its ring is empty (idle 0), as on a shared core.
x fe add ar weight 2 >/dev/null && x fe add ar weight 3 idle 0 >/dev/null ||
	t_fail "fe add: engines 2 and 3"
t_eq "three live engines" "$(x -j fe list ar | jq '[.[] | select(.alive)] | length')" 3
for dist in rr weighted flowhash; do
	x router set ar dist $dist
	before=($(fe_rx))
	read -r got reord <<<"$(udp_run "${T_P}h1" "${T_P}h2" 10.2.1.2 3000 7002 1)"
	after=($(fe_rx))
	d=() total=0
	for i in 0 1 2; do d[i]=$(( after[i] - before[i] )); total=$(( total + d[i] )); done
	echo "    $dist: per-engine frames ${d[*]}, $got received, $reord reordered"
	t_eq "$dist: 3000 of 3000 delivered" "$got" 3000
	t_check "ping under $dist" in_ns "${T_P}h1" ping -c 2 -i 0.2 -W 1 10.2.1.2
	case $dist in
	rr) for i in 0 1 2; do
		t_check "rr: engine $((i + 1)) got a third (${d[i]} of $total)" \
			test $(( d[i] * 100 / total )) -ge 30 -a $(( d[i] * 100 / total )) -le 37
	    done ;;
	weighted) for i in 0 1 2; do
		want=$(( (i + 1) * 100 / 6 ))
		t_check "weighted: engine $((i + 1)) got $want% (${d[i]} of $total)" \
			test $(( d[i] * 100 / total )) -ge $(( want - 4 )) -a $(( d[i] * 100 / total )) -le $(( want + 4 ))
	    done ;;
	flowhash)
		t_eq "flowhash: one flow, no reordering" "$reord" 0
		busy=0
		for i in 0 1 2; do [ "${d[i]}" -ge 3000 ] && busy=$((busy + 1)); done
		t_eq "flowhash: the whole flow on one engine" "$busy" 1 ;;
	esac
done
read -r got reord <<<"$(udp_run "${T_P}h1" "${T_P}h2" 10.2.1.2 3000 7003 12)"
t_eq "flowhash, 12 flows: delivered" "$got" 3000
t_eq "flowhash, 12 flows: none reordered" "$reord" 0
in_ns "${T_P}h2" iperf3 -s -1 -D -p 5202 >/dev/null 2>&1
t_wait_listen "${T_P}h2" tcp 5202
bps=$(timeout 20 ip netns exec "${T_P}h1" iperf3 -c 10.2.1.2 -p 5202 -t 2 -J 2>/dev/null |
	jq '.end.sum_received.bits_per_second // 0 | floor')
echo "    iperf3 through three engines (flowhash): $bps bit/s"
t_ge "TCP through three engines" "${bps:-0}" 1000000

# 3. Garbage from a tenant: frames written straight onto an engine's
#    interface from inside the router's namespace, with tenant capabilities.
fe1=$(x -j fe list ar | jq -r '.[0].id')
e0=$(ip -n "$RNS" -j link show e0 | jq '.[0].ifindex')
e1=$(ip -n "$RNS" -j link show e1 | jq '.[0].ifindex')
# A smaller MTU on p1 for a moment, so a frame the engine's veth carries is too big for it.
ip link set "${T_P}p1" mtu 1400
drops0=$(x -j stats ar interval 0 | jq -c '.[0].drop')
h3rx0=$(in_ns "${T_P}h4" cat /sys/class/net/eth0/statistics/rx_packets)
e1mac=$(x -j vif list ar | jq -r '.[] | select(.ifname == "e1") | .mac')
x router exec ar -- "$PY" -c '
import socket, struct, sys
e0, e1 = int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW); s.bind((sys.argv[1], 0))
# From the VIF'"'"'s own MAC, so each frame is refused for what it is about.
own = bytes.fromhex(sys.argv[4].replace(":", ""))
mac = b"\x02\x00\x00\x00\x00\x01" + own
foreign = b"\x02\x00\x00\x00\x00\x01" * 2
ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 28, 0, 0, 64, 17, 0, bytes([10,2,1,2]), bytes([10,4,1,2])) + b"\0" * 8
tag = lambda ifx, proto: struct.pack("!HHH", 0x88b5, ifx, proto)
frames = [
    mac + tag(99, 0x0800) + ip,               # names no VIF of this router
    mac + tag(0x7fff, 0x0800) + ip,           # likewise, highest index
    mac + struct.pack("!H", 0x0800) + ip,      # no tag at all
    mac + tag(e0, 0x0800) + ip[:10],           # IP header cut short
    mac + tag(e0, 0x0800) + ip[:2] + struct.pack("!H", 900) + ip[4:],  # length beyond the frame
    mac + tag(e1, 0x0800) + struct.pack("!BBH", 0x45, 0, 1450) + ip[4:] + b"\0" * 1422,  # over the MTU of p1
    foreign + tag(e1, 0x0800) + ip,            # a source MAC not the router'"'"'s
    mac + tag(e1, 0x8100) + struct.pack("!HH", 20, 0x0800) + ip,  # a VLAN tag of its own
]
for f in frames: s.send(f)
' "fe$fe1" "$e0" "$e1" "$e1mac" || t_fail "tenant raw socket on fe$fe1"
# The eight frames are counted once xvr_egress has seen them all.
drops_sum() { x -j stats ar interval 0 | jq '[.[0].drop["fe-tag", "fe-bad-len", "tx-mtu", "egress-src-mac", "egress-vlan"] // 0] | add'; }
want=$(( $(jq '[.["fe-tag", "fe-bad-len", "tx-mtu", "egress-src-mac", "egress-vlan"] // 0] | add' <<<"$drops0") + 8 ))
t_wait 5 test_ge_cmd drops_sum "$want"
ip link set "${T_P}p1" mtu 1500
drops1=$(x -j stats ar interval 0 | jq -c '.[0].drop')
ddrop() { echo $(( $(jq ".[\"$1\"] // 0" <<<"$drops1") - $(jq ".[\"$1\"] // 0" <<<"$drops0") )); }
t_eq "foreign or missing tags dropped as fe-tag" "$(ddrop fe-tag)" 3
t_eq "short and inconsistent frames dropped as fe-bad-len" "$(ddrop fe-bad-len)" 2
t_eq "a frame over its port's MTU dropped as tx-mtu" "$(ddrop tx-mtu)" 1
t_eq "an engine's foreign source MAC dropped as egress-src-mac" "$(ddrop egress-src-mac)" 1
t_eq "an engine's own VLAN tag dropped as egress-vlan" "$(ddrop egress-vlan)" 1
t_eq "none reached the bystander's hosts" \
	"$(( $(in_ns "${T_P}h4" cat /sys/class/net/eth0/statistics/rx_packets) - h3rx0 ))" 0
t_check "router ar still forwards" in_ns "${T_P}h1" ping -c 1 -W 1 10.2.1.2

# 4. Kill an engine under load: the bystander keeps its rate, the
#    supervisor restarts the engine, forwarding resumes by itself.
#    Delivered is counted where the frames arrive: the bystander's host interface.
x router set ar dist flowhash
h4rx() { in_ns "${T_P}h4" cat /sys/class/net/eth0/statistics/rx_packets; }
r0=$(h4rx)
udp_run "${T_P}h3" "${T_P}h4" 10.4.1.2 4000 7010 >/dev/null
base=$(( $(h4rx) - r0 ))
in_ns "${T_P}h1" ping -c 400 -i 0.005 -W 1 10.2.1.2 >/dev/null 2>&1 &
load=$!
for pid in $(pgrep -f "xvr-router -n $NODE -r ar"); do kill -9 "$pid"; done
r0=$(h4rx)
udp_run "${T_P}h3" "${T_P}h4" 10.4.1.2 4000 7011 >/dev/null
during=$(( $(h4rx) - r0 ))
wait $load
echo "    bystander's host received $base frames before, $during while ar's engines were killed"
t_check "bystander: all 4000 delivered before ($base)" test "$base" -ge 4000 -a "$base" -le 4010
t_check "bystander: all 4000 delivered while ar's engines died ($during)" \
	test "$during" -ge 4000 -a "$during" -le 4010
ok=0
for i in $(seq 1 50); do
	[ "$(x -j fe list ar | jq '[.[] | select(.alive)] | length')" = 3 ] && { ok=1; break; }
	sleep 0.2
done
t_eq "the supervisor restarted all three engines" "$ok" 1
t_check "ar forwards again without operator action" in_ns "${T_P}h1" ping -c 2 -i 0.2 -W 2 10.2.1.2
t_ge "ar's frames to dead engines were counted fe-down" \
	"$(x -j stats ar interval 0 | jq '.[0].drop["fe-down"] // 0')" 1

# 5. Pool sizes: one engine at a time. A pool of 2 holds one frame in
#    flight each way, so it gets one datagram at a time.
for id in $(x -j fe list ar | jq -r '.[].id'); do x fe del ar "$id"; done
t_eq "fe del removed every engine" "$(x -j fe list ar | jq length)" 0
for pool in 2 64 4096 16384; do
	id=$(x fe add ar pool $pool) || { t_fail "fe add pool $pool"; continue; }
	gap=0
	[ $pool -le 2 ] && gap=0.002
	read -r got reord <<<"$(udp_run "${T_P}h1" "${T_P}h2" 10.2.1.2 1000 7020 1 $gap)"
	# Books: what did not arrive, the engine's socket counted as dropped
	# (no free buffer in the pool when the frame came).
	lost=$(x -j fe list ar | jq ".[] | select(.id == $id) | .rx_dropped + .rx_ring_full + .drop_packets")
	echo "    pool $pool: $got delivered, $lost counted as dropped by the engine"
	t_eq "pool of $pool frames: delivered + counted drops = 1000" "$(( got + lost ))" 1000
	t_check "pool of $pool frames: at least 99% forwarded ($got)" test "$got" -ge 990
	x fe del ar "$id"
done

# 6. A plugin: the stateless firewall, then the default router.
if [ -f "$BUILD/plugins/firewall.so" ]; then
	x fe add ar plugin "$BUILD/plugins/firewall.so" args "drop udp dport 9999" >/dev/null ||
		t_fail "fe add with the firewall plugin"
	read -r got _ <<<"$(udp_run "${T_P}h1" "${T_P}h2" 10.2.1.2 500 9999)"
	t_eq "firewall: UDP to port 9999 dropped" "$got" 0
	read -r got _ <<<"$(udp_run "${T_P}h1" "${T_P}h2" 10.2.1.2 500 9998)"
	t_eq "firewall: UDP to port 9998 forwarded" "$got" 500
else
	t_skip "firewall plugin not built"
fi

# 6b. A protocol of the tenant's own: XNP (EtherType 0x88b6) by destination id.
if [ -f "$BUILD/plugins/nonip.so" ]; then
	for id in $(x -j fe list ar | jq -r '.[].id'); do x fe del ar "$id"; done
	h2mac=$(ip -n "${T_P}h2" -j link show eth0 | jq -r '.[0].address')
	x fe add ar plugin "$BUILD/plugins/nonip.so" args "100 e1 $h2mac" >/dev/null ||
		t_fail "fe add with the nonip plugin"
	in_ns "${T_P}h2" "$PY" -c '
import socket, struct
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x88b6)); s.bind(("eth0", 0))
s.settimeout(1.5)
n = hops_ok = 0
try:
    while True:
        d = s.recv(2048)
        ver, hops, plen, dst, src = struct.unpack("!BBHII", d[14:26]); n += 1
        hops_ok += (ver, hops, dst, src) == (1, 7, 100, 1)
except socket.timeout: pass
print(n, hops_ok)' >/tmp/.xnp.$$ &
	rx=$!
	t_wait 5 sh -c "ip netns exec ${T_P}h2 awk 'NR > 1 && \$4 == \"88b6\"' /proc/net/packet | grep -q ."
	vmac=$(x -j vif list ar | jq -r '.[] | select(.ifname == "e0") | .mac')
	in_ns "${T_P}h1" "$PY" -c '
import socket, struct, sys, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW); s.bind(("eth0", 0))
dst = bytes.fromhex(sys.argv[1].replace(":", "")); src = s.getsockname()[4]
for i in range(50):
    for dest in (100, 999):   # 999: no such destination
        s.send(dst + src + struct.pack("!H", 0x88b6) + struct.pack("!BBHII", 1, 8, 32, dest, 1) + b"z" * 32)
    time.sleep(0.002)' "$vmac"
	wait $rx
	read -r got hops_ok </tmp/.xnp.$$
	rm -f /tmp/.xnp.$$
	t_eq "nonip: 50 XNP frames for id 100 reached h2 (none for id 999)" "$got" 50
	t_eq "nonip: each with hops 8 -> 7 and its ids intact" "$hops_ok" 50
else
	t_skip "nonip plugin not built"
fi

# 7. Bad requests change nothing.
t_fails "fe add to a non-afxdp router" x fe add xr
t_fails "fe add with a pool of 1" x fe add ar pool 1
t_fails "fe add with a negative idle time" x fe add ar idle -1
t_fails "fe add with an idle time that is not a number" x fe add ar idle soon
t_fails "fe add with a capacity that cannot fit" x fe add ar capacity 9
t_fails "fe del of an engine of another router" x fe del xr 1
t_fails "router set with an unknown policy" x router set ar dist random
