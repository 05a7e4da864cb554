#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Virtual links (EGRE) between nodes that are machines of their own: each
# node runs in its own network namespace ('xvr node up netns'), the three
# share an underlay switch (a bridge in namespace W, where tshark watches).
# Two tenants with the same addresses, each with a router per node and a
# point-to-point link between them (keys 100 and 200):
#
#   h1 ─ p1 ─[node 1: R (xdp), S (netns)]─ u1 ─┐               ┌─ u2 ─[node 2: R (xdp), S (afxdp)]─ p2 ─ h2
#   g1 ─ q1 ─┘                                 └── br0 (W) ────┘                                  └ q2 ─ g2
#                                                   │
#                                                   └─ u3 ─[node 3: M (xdp)]   (multipoint, with R on 1 and 2)
#
# T1 (R) runs BIRD OSPF over its link; T2 (S) uses static routes, and on
# node 2 an AF_XDP engine forwards for it.
set -u
. "$(dirname "$0")/../lib.sh"
t_init links
for c in jq ethtool ping tshark dumpcap iperf3 bird birdc bpftool; do
	command -v "$c" >/dev/null || { t_fail "missing $c (scripts/setup.sh installs it)"; exit 1; }
done
PY=/usr/bin/python3
RUN=$(mktemp -d /run/xvr-links.XXXXXX)
N1=${T_P}n1 N2=${T_P}n2 N3=${T_P}n3
M1=${T_P}m1 M2=${T_P}m2 M3=${T_P}m3 W=${T_P}w
BIRDS=()
# A BIRD that is still exiting may remove its socket while the directory
# goes: try again until it is gone.
rm_run() { for _ in 1 2 3 4 5; do rm -rf "$RUN" 2>/dev/null; [ -e "$RUN" ] || return 0; sleep 0.5; done; }
trap 'for p in "${BIRDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm_run; t_cleanup' EXIT
x() { local node=$1; shift; "$XVR" -n "$node" "$@"; }
in_ns() { ip netns exec "$@"; }
wait_for() {	# wait_for SECONDS COMMAND…: poll until it succeeds
	local end=$(( $(date +%s) + $1 )); shift
	until "$@" >/dev/null 2>&1; do [ "$(date +%s)" -ge "$end" ] && return 1; sleep 0.2; done
}
lstat() { "$XVR" -n "$1" -j stats link "$2" "$3" interval 0 | jq -r ".[0].$4 // 0"; }
pstat() { "$XVR" -n "$1" -j stats port "$2" interval 0 | jq -r ".[0].$3 // 0"; }
rstat() { "$XVR" -n "$1" -j stats "$2" interval 0 | jq -r ".[0].$3 // 0"; }

# ---- machines, underlay switch, hosts ----
for ns in "$W" "$M1" "$M2" "$M3" "${T_P}h1" "${T_P}h2" "${T_P}g1" "${T_P}g2"; do t_netns "$ns"; done
ip -n "$W" link add br0 type bridge && ip -n "$W" link set br0 up
for i in 1 2 3; do
	m=${T_P}m$i
	ip -n "$m" link add u$i type veth peer name w$i netns "$W"
	ip -n "$W" link set w$i master br0 up
	ip -n "$m" link set u$i up
	ip -n "$m" addr add 192.168.77.$i/24 dev u$i
	# The switch side receives frames xvr redirects: it needs NAPI, which
	# an XDP program gives it (xvr_ingress without a node passes all).
	# Not GRO: the kernel's GRE GRO would merge the tenant's TCP segments
	# into one GSO frame, which a veth then hands whole to the next XDP.
	in_ns "$W" ethtool -K w$i gro off >/dev/null
	ip -n "$W" link set dev w$i xdp obj "$(dirname "$XVR")/xvr_ingress.bpf.o" sec xdp
done
# hosts: T1's h1/h2 and T2's g1/g2 use the same addresses
host() {	# host NS MACHINE PORT ADDR GW
	ip -n "$2" link add "$3" type veth peer name eth0 netns "$1"
	ip -n "$2" link set "$3" up && ip -n "$1" link set eth0 up
	in_ns "$1" ethtool -K eth0 gro on tx off >/dev/null
	ip -n "$1" addr add "$4" dev eth0 && ip -n "$1" route add default via "$5"
}
host "${T_P}h1" "$M1" p1 10.1.1.2/24 10.1.1.1
host "${T_P}g1" "$M1" q1 10.1.1.2/24 10.1.1.1
host "${T_P}h2" "$M2" p2 10.2.1.2/24 10.2.1.1
host "${T_P}g2" "$M2" q2 10.2.1.2/24 10.2.1.1

T_NODES+=("$N1" "$N2" "$N3")
x "$N1" node up netns "$M1" && x "$N2" node up netns "$M2" && x "$N3" node up netns "$M3" ||
	{ t_fail "nodes up in their namespaces"; exit 1; }
t_check "node 1 records its namespace" sh -c "\"$XVR\" -n $N1 port add u1 && ip -n $M1 -d link show u1 | grep -q xdp"
x "$N1" port add p1 && x "$N1" port add q1 &&
	x "$N2" port add u2 && x "$N2" port add p2 && x "$N2" port add q2 && x "$N3" port add u3 &&
	x "$N1" router add R mode xdp && x "$N1" router add S mode netns &&
	x "$N2" router add R mode xdp && x "$N2" router add S mode afxdp && x "$N3" router add M mode xdp &&
	x "$N1" vif add R e0 port p1 && x "$N1" vif add S e0 port q1 &&
	x "$N2" vif add R e0 port p2 && x "$N2" vif add S e0 port q2 ||
	{ t_fail "setup"; exit 1; }

# ---- link add: bad input is refused and changes nothing ----
t_fails "local must be the node's address" x "$N1" link add R l0 egre local 192.168.77.9 remote 192.168.77.2 key 100
t_fails "remote without a route" x "$N1" link add R l0 egre local 192.168.77.1 remote 10.99.0.1 key 100
t_fails "mtu above the underlay's" x "$N1" link add R l0 egre local 192.168.77.1 remote 192.168.77.2 key 100 mtu 1500
t_fails "port that is not the route's" x "$N1" link add R l0 egre local 192.168.77.1 remote 192.168.77.2 key 100 port p1
t_fails "bad key" x "$N1" link add R l0 egre local 192.168.77.1 remote 192.168.77.2 key -1
t_fails "no such router" x "$N1" link add Z l0 egre local 192.168.77.1 remote 192.168.77.2 key 100
t_eq "refused commands left no link" "$(x "$N1" -j link list | jq length)" 0
t_fails "refused commands left no interface" ip -n "xvr-$N1-R" link show l0

x "$N1" link add R l0 egre local 192.168.77.1 remote 192.168.77.2 key 100 port u1 &&
	x "$N2" link add R l0 egre local 192.168.77.2 remote 192.168.77.1 key 100 &&
	x "$N1" link add S l0 egre local 192.168.77.1 remote 192.168.77.2 key 200 &&
	x "$N2" link add S l0 egre local 192.168.77.2 remote 192.168.77.1 key 200 ||
	{ t_fail "link add"; exit 1; }
t_fails "a key is one link's per local address" x "$N1" link add S l1 egre local 192.168.77.1 remote 192.168.77.2 key 200
t_eq "link list -j" "$(x "$N1" -j link list R | jq -c '.[0] | [.name, .key, .local, .remotes, .mtu, .kind]')" \
	'["l0",100,"192.168.77.1",["192.168.77.2"],1458,"point-to-point"]'
t_eq "the link's interface has the link's MTU (1500 - 42)" \
	"$(ip -n "xvr-$N1-R" -j link show l0 | jq '.[0].mtu')" 1458
t_check "the node keeps the remote's neighbour resolved (managed)" \
	sh -c "ip -n $M1 neigh show 192.168.77.2 | grep -q managed"

for n in "$N1" "$N2"; do
	for r in R S; do
		ns=xvr-$n-$r
		in_ns "$ns" sysctl -qw net.ipv4.ip_forward=1
		ip -n "$ns" link set l0 up
	done
done
ip -n "xvr-$N1-R" addr add 10.1.1.1/24 dev e0 && ip -n "xvr-$N1-R" addr add 10.12.0.1/30 dev l0
ip -n "xvr-$N2-R" addr add 10.2.1.1/24 dev e0 && ip -n "xvr-$N2-R" addr add 10.12.0.2/30 dev l0
# T2: the same addresses, static routes
ip -n "xvr-$N1-S" addr add 10.1.1.1/24 dev e0 && ip -n "xvr-$N1-S" addr add 10.12.0.1/30 dev l0
ip -n "xvr-$N2-S" addr add 10.2.1.1/24 dev e0 && ip -n "xvr-$N2-S" addr add 10.12.0.2/30 dev l0
ip -n "xvr-$N1-S" route add 10.2.1.0/24 via 10.12.0.2 dev l0
ip -n "xvr-$N2-S" route add 10.1.1.0/24 via 10.12.0.1 dev l0
# T2's router on node 2 is an engine's (afxdp): decapsulated frames go to
# it, and what it sends by the link is encapsulated from its tags.
t_check "an engine for S on node 2" x "$N2" fe add S

# T1: BIRD OSPF over the link (and later over the multipoint link m0)
ospf_conf() {	# FILE ROUTER_ID [m0]
	cat >"$1" <<CONF
router id $2;
protocol device { scan time 1; }
protocol kernel { ipv4 { export all; import none; }; learn; scan time 1; }
protocol ospf v2 ospf1 {
	ipv4 { import all; export none; };
	area 0 {
		interface "l0" { type ptp; hello 1; dead 4; };
		$([ "${3:-}" = m0 ] && echo 'interface "m0" { type broadcast; hello 1; dead 4; wait 2; };')
		interface "e0" { stub yes; };
	};
}
CONF
}
for r in "$N1:10.12.0.1" "$N2:10.12.0.2"; do
	n=${r%%:*} id=${r##*:}
	ospf_conf "$RUN/$n.conf" "$id"
	# The config is handed in; the control socket is in the router's own /run.
	"$XVR" -n "$n" router exec R --bind "$RUN/$n.conf:/run/bird/bird.conf" -- \
		bird -f -c /run/bird/bird.conf -s /run/bird/bird.ctl -P /run/bird/bird.pid \
		>"$RUN/$n.log" 2>&1 &
	BIRDS+=($!)
done
t_check "OSPF adjacency over the p2p link" \
	wait_for 30 sh -c "\"$XVR\" -n $N1 router exec R -- birdc -s /run/bird/bird.ctl show ospf neighbors | grep -q Full"
t_check "the route OSPF learned reaches R's BPF FIB as a link nexthop (fibsync)" \
	wait_for 20 sh -c "\"$XVR\" -n $N1 -j route list R | jq -e '.[] | select(.prefix == \"10.2.1.0/24\")'"

# ---- traffic across the link ----
t_check "T1: h1 pings h2 across the link" wait_for 10 in_ns "${T_P}h1" ping -c 1 -W 1 10.2.1.2
t_check "T2: g1 pings g2 (same addresses, other key)" wait_for 10 in_ns "${T_P}g1" ping -c 1 -W 1 10.2.1.2

# The underlay, captured on node 1's switch port (dumpcap: tshark itself
# takes long to start on a loaded machine; it decodes the file later).
# (the filter: GRE between nodes 1 and 2 with key 100, at byte 24 of the IP header)
in_ns "$W" dumpcap -i w1 -f "ip proto 47 and host 192.168.77.1 and ip[24:4] = 100" -c 10 -a duration:30 \
	-w "$RUN/u.pcap" 2>"$RUN/dumpcap.err" &
DC=$!
T_PIDS+=("$DC")
wait_for 30 grep -q Capturing "$RUN/dumpcap.err"
f0=$(rstat "$N1" R fwd_packets)
in_ns "${T_P}h1" ping -c 5 -i 0.05 -W 1 10.2.1.2 >/dev/null
wait "$DC" 2>/dev/null	# it stops at 10 frames: 5 requests, 5 replies
tshark -n -r "$RUN/u.pcap" -T fields -E separator=, -E occurrence=f \
	-e ip.src -e ip.dst -e ip.ttl -e ip.flags.df -e gre.key -e gre.proto -e ip.proto \
	>"$RUN/tshark.out" 2>"$RUN/tshark.err" &
TS=$!
T_PIDS+=("$TS")
t_ge "R on node 1 forwarded them in XDP, encapsulating in the same pass" \
	"$(( $(rstat "$N1" R fwd_packets) - f0 ))" 5

# isolation: T2's link and its interface see none of T1's frames
s0=$(lstat "$N2" S l0 rx_packets)
i0=$(ip -n "xvr-$N2-S" -j -s link show l0 | jq '.[0].stats64.rx.packets')
in_ns "${T_P}h1" ping -c 10 -i 0.05 -W 1 10.2.1.2 >/dev/null
# (its own stack's ARP or ND may pass meanwhile; ten echo requests may not)
t_check "T2's link decapsulated none of T1's frames" test "$(( $(lstat "$N2" S l0 rx_packets) - s0 ))" -le 2
t_check "T2's link interface received none of them" \
	test "$(( $(ip -n "xvr-$N2-S" -j -s link show l0 | jq '.[0].stats64.rx.packets') - i0 ))" -le 2

# oversized with DF: the tenant's router answers with the link's MTU
m0=$(rstat "$N1" R "punt.\"link-mtu\"")
out=$(in_ns "${T_P}h1" ping -c 1 -W 1 -M do -s 1450 10.2.1.2 2>&1)
t_check "ICMP frag-needed from R with mtu 1458" grep -q "mtu = 1458" <<<"$out"
t_ge "counted as punt link-mtu" "$(rstat "$N1" R "punt.\"link-mtu\"")" $(( m0 + 1 ))
t_check "1430 bytes of ICMP payload (1458 IP) still pass" in_ns "${T_P}h1" ping -c 1 -W 1 -M do -s 1430 10.2.1.2
# IPv6: packet-too-big from R with the link's MTU (static routes, fibsync mirrors them)
for nr in "$N1:1:2" "$N2:2:1"; do
	IFS=: read -r n i o <<<"$nr"
	in_ns "xvr-$n-R" sysctl -qw net.ipv6.conf.all.forwarding=1
	ip -n "xvr-$n-R" addr add 2001:db8:$i::1/64 dev e0 nodad
	ip -n "xvr-$n-R" addr add 2001:db8:12::$i/64 dev l0 nodad
	ip -n "xvr-$n-R" route add 2001:db8:$o::/64 via 2001:db8:12::$o dev l0
	h=${T_P}h$i
	ip -n "$h" addr add 2001:db8:$i::2/64 dev eth0 nodad
	ip -n "$h" route add default via 2001:db8:$i::1
done
t_check "IPv6: h1 pings h2 across the link" wait_for 10 in_ns "${T_P}h1" ping -6 -c 1 -W 1 2001:db8:2::2
t_check "fibsync put the IPv6 route via the link into R's FIB" \
	wait_for 10 sh -c "\"$XVR\" -n $N1 -j route list R | jq -e '.[] | select(.prefix == \"2001:db8:2::/64\")'"
m0=$(rstat "$N1" R "punt.\"link-mtu\"")
out=$(in_ns "${T_P}h1" ping -6 -c 1 -W 1 -M do -s 1450 2001:db8:2::2 2>&1)
t_check "ICMPv6 packet-too-big from R with mtu 1458" grep -q "Packet too big: mtu=1458" <<<"$out"
t_ge "counted as punt link-mtu" "$(rstat "$N1" R "punt.\"link-mtu\"")" $(( m0 + 1 ))
t_check "1410 bytes of ICMPv6 payload (1458 IP) still pass" \
	in_ns "${T_P}h1" ping -6 -c 1 -W 1 -M do -s 1410 2001:db8:2::2

# TCP
in_ns "${T_P}h2" iperf3 -s -1 -D -p 5201 -I "$RUN/iperf.pid" >/dev/null 2>&1
wait_for 5 test -s "$RUN/iperf.pid" && T_PIDS+=("$(cat "$RUN/iperf.pid")")
bps=$(in_ns "${T_P}h1" iperf3 -c 10.2.1.2 -p 5201 -t 2 -J 2>/dev/null | jq '.end.sum_received.bits_per_second // 0 | floor')
echo "    iperf3 h1->h2 over the link: $(( ${bps:-0} / 1000000 )) Mbit/s"
t_ge "TCP (iperf3) across the link" "${bps:-0}" 1000000
[ "${bps:-0}" -ge 1000000 ] ||
	for n in "$N1" "$N2"; do x "$n" stats R interval 0; x "$n" stats link R l0 interval 0; x "$n" stats port u${n: -1} interval 0; done

# ---- malformed and foreign GRE, sent from the switch to node 2 ----
ip -n "$W" addr add 192.168.77.9/24 dev br0
ip -n "$M2" addr add 192.168.78.2/24 dev u2
U2MAC=$(ip -n "$M2" -j link show u2 | jq -r '.[0].address')
declare -A before
reasons="gre-key gre-remote gre-flags gre-proto gre-trunc"
for r in $reasons; do before[$r]=$(pstat "$N2" u2 "drop.\"$r\""); done
miss0=$(pstat "$N2" u2 miss_packets)
in_ns "$W" "$PY" - "$U2MAC" <<'EOF' || t_fail "scapy sender"
import sys
from scapy.all import Ether, IP, GRE, Raw, sendp, conf
conf.verb = 0
dst = sys.argv[1]
inner = Ether(dst="02:00:00:00:00:02", src="02:00:00:00:00:01") / IP(src="10.1.1.2", dst="10.2.1.2") / Raw(b"x" * 32)
def gre(src, dst_ip, **kw):
    return Ether(dst=dst, src="02:00:00:00:00:09") / IP(src=src, dst=dst_ip, flags="DF") / GRE(**kw)
frames = [
    gre("192.168.77.1", "192.168.77.2", key_present=1, key=999, proto=0x6558) / inner,     # gre-key
    gre("192.168.77.9", "192.168.77.2", key_present=1, key=100, proto=0x6558) / inner,     # gre-remote
    gre("192.168.77.1", "192.168.77.2", chksum_present=1, key_present=1, key=100, proto=0x6558) / inner,  # gre-flags
    gre("192.168.77.1", "192.168.77.2", seqnum_present=1, key_present=1, key=100, proto=0x6558) / inner,  # gre-flags
    gre("192.168.77.1", "192.168.77.2", key_present=1, key=100, proto=0x0800) / inner[IP],  # gre-proto
    gre("192.168.77.1", "192.168.77.2", key_present=1, key=100, proto=0x6558) / Raw(b"\x02" * 10),  # gre-trunc
    gre("192.168.77.1", "192.168.78.2", key_present=1, key=100, proto=0x6558) / inner,     # not xvr's
]
sendp(frames, iface="br0")
EOF
for r in $reasons; do
	want=1; [ "$r" = gre-flags ] && want=2
	t_eq "foreign/malformed GRE dropped: $r" "$(( $(pstat "$N2" u2 "drop.\"$r\"") - ${before[$r]} ))" "$want"
done
t_ge "GRE to an address no link has goes to the host stack" "$(pstat "$N2" u2 miss_packets)" $(( miss0 + 1 ))
t_eq "the wrong remote is counted on the link too" "$(lstat "$N2" R l0 'drop."gre-remote"')" 1

# ---- multipoint ("bridge"): R on nodes 1 and 2 and M on node 3, key 300 ----
x "$N1" link add R m0 egre local 192.168.77.1 remote 192.168.77.2 remote 192.168.77.3 key 300 &&
	x "$N2" link add R m0 egre local 192.168.77.2 remote 192.168.77.1 remote 192.168.77.3 key 300 &&
	x "$N3" link add M m0 egre local 192.168.77.3 remote 192.168.77.1 remote 192.168.77.2 key 300 ||
	t_fail "multipoint link add"
t_eq "three remotes' links are multipoint" "$(x "$N3" -j link list M | jq -r '.[0].kind')" multipoint
for nr in "$N1:R:1" "$N2:R:2" "$N3:M:3"; do
	IFS=: read -r n r i <<<"$nr"
	# No IPv6 on it: its router solicitations and MLD reports are flooded
	# too, and would count as unicast that went astray.
	ip netns exec "xvr-$n-$r" sysctl -qw net.ipv6.conf.m0.disable_ipv6=1
	ip -n "xvr-$n-$r" addr add 10.123.0.$i/24 dev m0 && ip -n "xvr-$n-$r" link set m0 up
done
b0=$(lstat "$N2" R m0 rx_packets) t0=$(lstat "$N3" M m0 tx_packets)
t_check "M reaches R on node 1 across the multipoint link" \
	wait_for 10 in_ns "xvr-$N3-M" ping -c 1 -W 1 10.123.0.1
t_ge "M's ARP request was flooded to both remotes" "$(( $(lstat "$N3" M m0 tx_packets) - t0 ))" 3
t_ge "so node 2 received it too" "$(( $(lstat "$N2" R m0 rx_packets) - b0 ))" 1
MID=$(x "$N3" -j link list M | jq '.[0].id')
# the link's learning table: an inner map, its id the value (little-endian bytes)
FDB=$(( 16#$(bpftool -j map lookup pinned "/sys/fs/bpf/xvr/$N3/vlink_fdb" key $MID 0 0 0 |
	jq -r '.value | reverse | map(ltrimstr("0x")) | join("")') ))
R1MAC=$(ip -n "xvr-$N1-R" -j link show m0 | jq -r '.[0].address')
t_eq "M's link learned R's MAC behind 192.168.77.1" \
	"$(bpftool -j map lookup id "$FDB" key hex ${R1MAC//:/ } 00 00 2>/dev/null | jq -c '.value[0:4]')" \
	'["0xc0","0xa8","0x4d","0x01"]'
b0=$(lstat "$N2" R m0 rx_packets)
t_check "unicast to a learned MAC: 20 pings" in_ns "xvr-$N3-M" ping -c 20 -i 0.02 -W 1 10.123.0.1
t_check "went to node 1 alone (node 2 got none of them)" \
	test "$(( $(lstat "$N2" R m0 rx_packets) - b0 ))" -le 2
t_check "M reaches R on node 2 as well" in_ns "xvr-$N3-M" ping -c 1 -W 1 10.123.0.2

# ---- node up on a live node: links stay, and flood with the new program ----
MDEV=$(x "$N3" -j link list M | jq -r '.[0].dev')
flood_id() { bpftool -j prog show pinned "/sys/fs/bpf/xvr/$N3/prog_flood" | jq '.id'; }
tc_flood_id() { tc -n "$M3" -j filter show dev "$MDEV" ingress | jq '[.[] | .options.prog.id // empty][0]'; }
old_id=$(flood_id)
t_eq "the link's device runs the pinned flooding program" "$(tc_flood_id)" "$old_id"
t_check "node up on the live node 3" x "$N3" node up
t_eq "node up left the multipoint link in place" "$(x "$N3" -j link list M | jq length)" 1
t_check "node up loaded a new flooding program" test "$(flood_id)" != "$old_id"
t_eq "and the link's device runs it" "$(tc_flood_id)" "$(flood_id)"
t_check "node repair" x "$N3" node repair
t_eq "node repair left the link in place" "$(x "$N3" -j link list M | jq -c '[.[].name]')" '["m0"]'
t_check "its interface too" ip -n "xvr-$N3-M" link show m0
ip -n "xvr-$N3-M" neigh flush dev m0
t0=$(lstat "$N3" M m0 tx_packets)
t_check "after both, M resolves R on node 2 again (ARP flooded)" \
	wait_for 10 in_ns "xvr-$N3-M" ping -c 1 -W 1 10.123.0.2
t_ge "flooded by the new program to both remotes" "$(( $(lstat "$N3" M m0 tx_packets) - t0 ))" 3

# ---- an engine's frame onto a multipoint link is flooded ----
# S on node 2 (afxdp) gets a multipoint link to node 1 (p2p back) and
# node 3 (no such key there: dropped as gre-key).
x "$N2" link add S m1 egre local 192.168.77.2 remote 192.168.77.1 remote 192.168.77.3 key 400 &&
	x "$N1" link add S m1 egre local 192.168.77.1 remote 192.168.77.2 key 400 ||
	t_fail "multipoint link of S add"
for nr in "$N1:1" "$N2:2"; do
	n=${nr%%:*} i=${nr##*:}
	ip netns exec "xvr-$n-S" sysctl -qw net.ipv6.conf.m1.disable_ipv6=1
	ip -n "xvr-$n-S" addr add 10.124.0.$i/24 dev m1 && ip -n "xvr-$n-S" link set m1 up
done
t_check "S on node 2 reaches S on node 1 by the multipoint link" \
	wait_for 10 in_ns "xvr-$N2-S" ping -c 1 -W 1 10.124.0.1
# Node 2's link learned node 1's MAC from the reply: forget it, so that
# what the engine forwards there is unknown unicast, for every remote.
SID=$(x "$N2" -j link list S | jq '.[] | select(.name == "m1") | .id')
SFDB=$(( 16#$(bpftool -j map lookup pinned "/sys/fs/bpf/xvr/$N2/vlink_fdb" key $SID 0 0 0 |
	jq -r '.value | reverse | map(ltrimstr("0x")) | join("")') ))
S1MAC=$(ip -n "xvr-$N1-S" -j link show m1 | jq -r '.[0].address')
t_check "node 2's link had learned it" bpftool map delete id "$SFDB" key hex ${S1MAC//:/ } 00 00
t0=$(lstat "$N2" S m1 tx_packets) d0=$(lstat "$N2" S m1 'drop."link-down"')
# g2's pings are forwarded by the engine (S's route to 10.124.0.0/24 is
# m1); the replies come back by l0, so m1 never learns node 1's MAC again.
t_check "g2 pings S on node 1 through the engine and the multipoint link" \
	in_ns "${T_P}g2" ping -c 3 -i 0.2 -W 2 10.124.0.1
t_ge "each echo request was flooded to both remotes" "$(( $(lstat "$N2" S m1 tx_packets) - t0 ))" 6
t_eq "none dropped as link-down" "$(( $(lstat "$N2" S m1 'drop."link-down"') - d0 ))" 0
x "$N2" link del S m1 && x "$N1" link del S m1 || t_fail "multipoint link of S del"
in_ns "xvr-$N1-R" iperf3 -s -1 -D -p 5202 -I "$RUN/iperf2.pid" >/dev/null 2>&1
wait_for 5 test -s "$RUN/iperf2.pid" && T_PIDS+=("$(cat "$RUN/iperf2.pid")")
bps=$(in_ns "xvr-$N3-M" iperf3 -c 10.123.0.1 -p 5202 -t 2 -J 2>/dev/null | jq '.end.sum_received.bits_per_second // 0 | floor')
echo "    iperf3 M->R over the multipoint link: $(( ${bps:-0} / 1000000 )) Mbit/s"
t_ge "TCP (iperf3) across the multipoint link" "${bps:-0}" 1000000
# a remote removed: node 1 no longer takes node 3's frames, counted
t_check "link set remote del" x "$N1" link set R m0 remote del 192.168.77.3
t_fails "the last remote cannot go" x "$N3" link set M m0 remote del 192.168.77.9
g0=$(lstat "$N1" R m0 'drop."gre-remote"')
t_fails "M no longer reaches node 1" in_ns "xvr-$N3-M" ping -c 2 -i 0.2 -W 1 10.123.0.1
t_ge "node 1 dropped M's frames as gre-remote" "$(lstat "$N1" R m0 'drop."gre-remote"')" $(( g0 + 1 ))
t_check "link set remote add" x "$N1" link set R m0 remote add 192.168.77.3
t_check "M reaches node 1 again" wait_for 10 in_ns "xvr-$N3-M" ping -c 1 -W 1 10.123.0.1

# ---- the learning table: aging, and its bound per link ----
# (FDB, MID, R1MAC: node 3's link m0.) An entry older than 300 s is not
# used: its station's unicast is flooded, and the answer learns it again.
R2MAC=$(ip -n "xvr-$N2-R" -j link show m0 | jq -r '.[0].address')
# Static neighbours both ways: no ARP probe from R relearns its MAC meanwhile.
ip -n "xvr-$N3-M" neigh replace 10.123.0.1 lladdr "$R1MAC" dev m0 nud permanent
ip -n "xvr-$N1-R" neigh replace 10.123.0.3 dev m0 nud permanent \
	lladdr "$(ip -n "xvr-$N3-M" -j link show m0 | jq -r '.[0].address')"
fdb_set_age() {	# MAC REMOTE_HEX SECONDS_AGO: write an entry learned that long ago
	bpftool map update id "$FDB" key hex ${1//:/ } 00 00 value hex $2 00 00 00 00 $("$PY" -c '
import sys, time
print(" ".join("%02x" % b for b in (time.monotonic_ns() - int(sys.argv[1]) * 10**9).to_bytes(8, "little")))' "$3")
}
fdb_age() { bpftool -j map lookup id "$FDB" key hex ${1//:/ } 00 00 |
	"$PY" -c 'import sys, json, time; v = json.load(sys.stdin)["value"]
print((time.monotonic_ns() - int.from_bytes(bytes(int(x, 16) for x in v[8:16]), "little")) // 10**9)'; }
t_check "an entry learned 299 s ago" fdb_set_age "$R1MAC" "c0 a8 4d 01" 299
b0=$(lstat "$N2" R m0 rx_packets) t0=$(lstat "$N3" M m0 tx_packets)
in_ns "xvr-$N3-M" ping -c 1 -W 1 10.123.0.1 >/dev/null
t_eq "is still used: one copy, to node 1" "$(( $(lstat "$N3" M m0 tx_packets) - t0 ))" 1
t_eq "node 2 got none" "$(( $(lstat "$N2" R m0 rx_packets) - b0 ))" 0
t_check "an entry learned 301 s ago" fdb_set_age "$R1MAC" "c0 a8 4d 01" 301
b0=$(lstat "$N2" R m0 rx_packets) t0=$(lstat "$N3" M m0 tx_packets)
t_check "M still reaches R on node 1" in_ns "xvr-$N3-M" ping -c 1 -W 1 10.123.0.1
t_eq "has aged: the request was flooded to both remotes" "$(( $(lstat "$N3" M m0 tx_packets) - t0 ))" 2
t_ge "node 2 got it too" "$(( $(lstat "$N2" R m0 rx_packets) - b0 ))" 1
t_check "the reply learned R's MAC again (age below 5 s)" test "$(fdb_age "$R1MAC")" -lt 5
# 1500 stations behind node 1 (GRE from the switch, posing as node 1):
# the table keeps at most 1024 of them; the newest are learned.
U3MAC=$(ip -n "$M3" -j link show u3 | jq -r '.[0].address')
l0=$(lstat "$N3" M m0 rx_packets)
in_ns "$W" "$PY" - "$U3MAC" <<'EOF2' || t_fail "scapy sender (1500 stations)"
import sys
from scapy.all import Ether, IP, GRE, Raw, sendp, conf
conf.verb = 0
# inner frames of an unassigned EtherType: M's stack ignores them
frames = [Ether(dst=sys.argv[1], src="02:00:00:00:00:09") /
          IP(src="192.168.77.1", dst="192.168.77.3", flags="DF") /
          GRE(key_present=1, key=300, proto=0x6558) /
          Ether(dst="06:00:00:00:00:01", src="02:aa:00:00:%02x:%02x" % (i >> 8, i & 0xff), type=0x88b5) /
          Raw(b"x" * 46) for i in range(1500)]
sendp(frames, iface="br0")
EOF2
t_ge "node 3's link decapsulated the 1500 frames" "$(( $(lstat "$N3" M m0 rx_packets) - l0 ))" 1500
n_fdb=$(bpftool -j map dump id "$FDB" | jq length)
t_check "its learning table holds at most 1024 entries (it holds $n_fdb)" test "$n_fdb" -le 1024
t_ge "and is filled (at least 512)" "$n_fdb" 512
t_check "the last station sent is learned, behind 192.168.77.1" \
	sh -c "bpftool -j map lookup id $FDB key hex 02 aa 00 00 05 db 00 00 | jq -e '.value[0:4] == [\"0xc0\",\"0xa8\",\"0x4d\",\"0x01\"]'"
R2FDB=$(( 16#$(bpftool -j map lookup pinned "/sys/fs/bpf/xvr/$N2/vlink_fdb" key $(x "$N2" -j link list R | jq '.[] | select(.name == "m0") | .id') 0 0 0 |
	jq -r '.value | reverse | map(ltrimstr("0x")) | join("")') ))
# (by the stations' key, 02:aa:..: a byte 0xaa anywhere, as in a learned
# entry's timestamp, is no station)
t_check "another node's table of the same link learned none of them" \
	sh -c "bpftool -j map dump id $R2FDB |
		jq -e '[.[] | select(.key[0:2] == [\"0x02\", \"0xaa\"])] | length == 0' >/dev/null"
ip -n "xvr-$N3-M" neigh del 10.123.0.1 dev m0
ip -n "xvr-$N1-R" neigh del 10.123.0.3 dev m0
t_check "M reaches R on node 1 after its entry was pushed out" \
	wait_for 10 in_ns "xvr-$N3-M" ping -c 1 -W 1 10.123.0.1

# ---- OSPF over the multipoint link: three routers on one segment ----
ospf_conf "$RUN/$N1.conf" 10.12.0.1 m0 && ospf_conf "$RUN/$N2.conf" 10.12.0.2 m0 &&
	ospf_conf "$RUN/$N3.conf" 10.123.0.3 m0
for n in "$N1" "$N2"; do
	t_check "BIRD of R on $n takes m0 (configure)" \
		"$XVR" -n "$n" router exec R -- birdc -s /run/bird/bird.ctl configure
done
"$XVR" -n "$N3" router exec M --bind "$RUN/$N3.conf:/run/bird/bird.conf" -- \
	bird -f -c /run/bird/bird.conf -s /run/bird/bird.ctl -P /run/bird/bird.pid >"$RUN/$N3.log" 2>&1 &
BIRDS+=($!)
t_check "M on node 3: OSPF adjacencies (Full) with both routers over the multipoint link" \
	wait_for 40 sh -c "[ \$(\"$XVR\" -n $N3 router exec M -- birdc -s /run/bird/bird.ctl show ospf neighbors | grep -c Full) -eq 2 ]"
for pfx in 10.1.1.0/24 10.2.1.0/24; do
	t_check "M learned $pfx by OSPF over m0" \
		wait_for 20 sh -c "ip -n xvr-$N3-M route show $pfx | grep -q 'dev m0'"
done
t_check "M reaches h1 (node 1) across the multipoint link" wait_for 10 in_ns "xvr-$N3-M" ping -c 1 -W 1 10.1.1.2
t_check "and h2 (node 2)" wait_for 10 in_ns "xvr-$N3-M" ping -c 1 -W 1 10.2.1.2

# ---- a link removed while traffic flows leaves nothing behind ----
# Not through in_ns: $! must be ping itself ('ip netns exec' becomes it), or
# the kill below reaches only a subshell and ping outlives the test; -w
# bounds it in any case.
ip netns exec "${T_P}g1" ping -i 0.01 -w 60 -W 1 10.2.1.2 >/dev/null 2>&1 &
PING=$!
T_PIDS+=("$PING")
sleep 0.5
LDEV=$(x "$N1" -j link list S | jq -r '.[0].dev')
t_check "link del while T2 pings" x "$N1" link del S l0
kill "$PING" 2>/dev/null
t_fails "the link's interface is gone" ip -n "xvr-$N1-S" link show l0
t_fails "its node-side end is gone" ip -n "$M1" link show "$LDEV"
t_eq "no link of S remains" "$(x "$N1" -j link list S | jq length)" 0
t_eq "no VIF of it remains" "$(x "$N1" -j vif list S | jq '[.[] | select(.ifname == "l0")] | length')" 0
t_eq "key 200 left the decapsulation map" \
	"$(bpftool -j map dump pinned "/sys/fs/bpf/xvr/$N1/vlink_keys" | jq '[.[] | select(.formatted.key.key == 200)] | length')" 0
t_check "R's link still carries T1" in_ns "${T_P}h1" ping -c 1 -W 1 10.2.1.2
x "$N1" link del R l0 && x "$N1" link del R m0
t_eq "the last link's address left the GRE address map" \
	"$(bpftool -j map dump pinned "/sys/fs/bpf/xvr/$N1/vlink_locals" | jq length)" 0
t_check "and the remote's neighbour is no longer managed" \
	sh -c "! ip -n $M1 neigh show 192.168.77.2 | grep -q managed"

# the underlay capture, decoded
wait "$TS" 2>/dev/null
t_ge "tshark decoded the underlay frames as GRE" "$(grep -c ',47$' "$RUN/tshark.out")" 10
t_eq "h1->h2: 192.168.77.1 to .2, TTL 64, DF, key 100, transparent Ethernet" \
	"$(grep -m1 '^192.168.77.1,' "$RUN/tshark.out")" \
	"192.168.77.1,192.168.77.2,64,1,0x00000064,0x6558,47"
t_eq "and back: .2 to .1, key 100" "$(grep -m1 '^192.168.77.2,' "$RUN/tshark.out" | cut -d, -f1,2,5,6)" \
	"192.168.77.2,192.168.77.1,0x00000064,0x6558"
