#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Broadcast and multicast reach every router with a VIF on the port, like
# macvlan: a host resolves (ARP) two netns routers behind MAC-classified VIFs
# of one port; every router counts its own copy of a broadcast and of a
# multicast; with one router deleted, or its VIF down, the other still gets
# its copies; an xdp-mode router's copy is a punt into its VIF; on a VLAN the
# tagged broadcasts reach the VLAN's VIFs and untagged ones do not.
set -u
. "$(dirname "$0")/../lib.sh"
t_init bcast
t_need jq ethtool ping
N=50
NODE=$T_P H=${T_P}h P0=${T_P}p0 P1=${T_P}p1
x() { "$XVR" -n "$NODE" "$@"; }
rns() { echo "xvr-$NODE-$1"; }
st() { t_stat "$NODE" "$1" "$2"; }
ns_rx() { ip -n "$(rns "$1")" -j -s link show e0 | jq '.[0].stats64.rx.packets'; }
ns_rx_ge() { [ "$(ns_rx "$1")" -ge "$2" ]; }	# for t_wait

# send DEV DST_MAC KIND COUNT [VLAN]: COUNT frames from the host on DEV,
# to DST_MAC: "arp" (who-has 10.9.0.77, an address nobody has, so nobody
# answers) or "mcast" (UDP to 224.0.0.251:5353). A raw socket: exactly
# COUNT frames, nothing the host's stack adds.
send() {
	ip netns exec "$H" "$PY" - "$@" <<'PY'
import socket, struct, sys
dev, dst, kind, count = sys.argv[1], bytes.fromhex(sys.argv[2].replace(":", "")), sys.argv[3], int(sys.argv[4])
vlan = int(sys.argv[5]) if len(sys.argv) > 5 else 0
src = bytes.fromhex(open(f"/sys/class/net/{dev}/address").read().strip().replace(":", ""))
if kind == "arp":
    proto, body = 0x0806, struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, src,
                                     socket.inet_aton("10.9.0.100"), b"\0" * 6,
                                     socket.inet_aton("10.9.0.77"))
else:
    udp = struct.pack("!HHHH", 5353, 5353, 8 + 18, 0) + b"m" * 18
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 1, 17, 0,
                     socket.inet_aton("10.9.0.100"), socket.inet_aton("224.0.0.251"))
    c = sum(struct.unpack("!10H", ip)); c = (c & 0xffff) + (c >> 16); c = (c & 0xffff) + (c >> 16)
    ip = ip[:10] + struct.pack("!H", ~c & 0xffff) + ip[12:]
    proto, body = 0x0800, ip + udp
tag = struct.pack("!HH", 0x8100, vlan) if vlan else b""
frame = dst + src + tag + struct.pack("!H", proto) + body
frame += b"\0" * max(0, 60 - len(frame))
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((dev, 0))
for _ in range(count):
    s.send(frame)
PY
}

# A netns router NAME with VIF e0 on PORT (MAC, optional VLAN) at ADDR/24.
netns_router() {
	local name=$1 port=$2 mac=$3 addr=$4 vlan=${5:-}
	x router add "$name" mode netns &&
	x vif add "$name" e0 port "$port" mac "$mac" ${vlan:+vlan $vlan} &&
	ip -n "$(rns "$name")" addr add "$addr/24" dev e0 &&
	ip netns exec "$(rns "$name")" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
}

setup() {
	t_netns "$H" && t_node "$NODE" &&
	t_veth "$P0" "$H" h0 && t_veth "$P1" "$H" h1 &&
	# The host says nothing on its own (no IPv6 chatter): every frame counted is sent here.
	ip netns exec "$H" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 &&
	ip -n "$H" addr add 10.9.0.100/24 dev h0 &&
	x port add "$P0" && x port add "$P1" &&
	netns_router r1 "$P0" 02:42:00:00:00:01 10.9.0.1 &&
	netns_router r2 "$P0" 02:42:00:00:00:02 10.9.0.2 &&
	x router add r3 && x vif add r3 e0 port "$P0" mac 02:42:00:00:00:03 &&
	netns_router v1 "$P1" 02:42:00:01:00:01 10.9.1.1 100 &&
	netns_router v2 "$P1" 02:42:00:01:00:02 10.9.1.2 100
}
if ! setup; then
	t_fail "topology setup"
	exit 1
fi
t_ok "topology: netns routers r1, r2 and xdp router r3 on $P0 by MAC; v1, v2 on VLAN 100 of $P1"

# 1. ARP from the host resolves both routers: their replies come back by MAC.
t_check "host pings r1 without a static neighbour" ip netns exec "$H" ping -c 1 -W 2 10.9.0.1
t_check "host pings r2 without a static neighbour" ip netns exec "$H" ping -c 1 -W 2 10.9.0.2
t_eq "host learned r1's MAC" "$(ip -n "$H" -j neigh show 10.9.0.1 | jq -r '.[0].lladdr')" \
	02:42:00:00:00:01
t_eq "host learned r2's MAC" "$(ip -n "$H" -j neigh show 10.9.0.2 | jq -r '.[0].lladdr')" \
	02:42:00:00:00:02

# 2. Every router counts its own copy of each broadcast, and gets it.
books() {	# books KIND FIELD_R3: each router's share of N frames of KIND
	local kind=$1 dst=$2 f3=$3 r
	declare -A rx0 fw0 ns0
	for r in r1 r2; do rx0[$r]=$(st "$r" rx_packets) fw0[$r]=$(st "$r" fwd_packets) ns0[$r]=$(ns_rx "$r"); done
	local r3rx=$(st r3 rx_packets) r3p=$(st r3 "$f3") prx=$(st "port $P0" rx_packets)
	local pfw=$(st "port $P0" fwd_packets)
	send h0 "$dst" "$kind" $N
	for r in r1 r2; do
		t_wait 5 ns_rx_ge "$r" $((ns0[$r] + N)) ||
			t_fail "$kind: $r's namespace got $(( $(ns_rx "$r") - ns0[$r] )) of $N"
		t_eq "$kind: $r counts $N copies received" $(( $(st "$r" rx_packets) - rx0[$r] )) $N
		t_eq "$kind: $r counts $N copies forwarded into its VIF" \
			$(( $(st "$r" fwd_packets) - fw0[$r] )) $N
	done
	t_eq "$kind: xdp router r3 counts $N copies received" $(( $(st r3 rx_packets) - r3rx )) $N
	t_eq "$kind: xdp router r3 counts $N copies as punts ($f3)" $(( $(st r3 "$f3") - r3p )) $N
	t_eq "$kind: the port books $N frames received" $(( $(st "port $P0" rx_packets) - prx )) $N
	t_eq "$kind: the port books $N frames forwarded (once each)" \
		$(( $(st "port $P0" fwd_packets) - pfw )) $N
}
# Learned, now pinned on both sides: no reachability probe lands in the books.
ip -n "$H" neigh replace 10.9.0.1 lladdr 02:42:00:00:00:01 dev h0 nud permanent
ip -n "$H" neigh replace 10.9.0.2 lladdr 02:42:00:00:00:02 dev h0 nud permanent
hmac=$(ip netns exec "$H" cat /sys/class/net/h0/address)
for r in r1 r2; do
	ip -n "$(rns $r)" neigh replace 10.9.0.100 lladdr "$hmac" dev e0 nud permanent
done
books arp ff:ff:ff:ff:ff:ff 'punt["non-ip"]'
books mcast 01:00:5e:00:00:fb 'punt["mcast"]'

# 2b. A live 'node up' points every set entry at the new copy program.
set_progs() {	# the program ids of every broadcast set entry, sorted, unique
	local pin=/sys/fs/bpf/xvr/$NODE
	bpftool -j map dump pinned "$pin/bcast" | "$PY" -c '
import json, subprocess, sys
ids = set()
for e in json.load(sys.stdin):
    inner = int.from_bytes(bytes(int(b, 16) for b in e["value"]), "little")
    for d in json.loads(subprocess.check_output(["bpftool", "-j", "map", "dump", "id", str(inner)])):
        ids.add(int.from_bytes(bytes(int(b, 16) for b in d["value"][4:8]), "little"))
print(" ".join(map(str, sorted(ids))))'
}
old_prog=$(set_progs)
t_check "node up on the live node" x node up
new_prog=$(bpftool -j prog show pinned "/sys/fs/bpf/xvr/$NODE/prog_bcast" | jq .id)
t_eq "node up: every set entry runs the new copy program" "$(set_progs)" "$new_prog"
t_check "node up: the copy program changed ($old_prog -> $new_prog)" test "$old_prog" != "$new_prog"
rx1=$(st r1 rx_packets) rx2=$(st r2 rx_packets)
send h0 ff:ff:ff:ff:ff:ff arp $N
t_eq "after node up: r1 counts all $N" $(( $(st r1 rx_packets) - rx1 )) $N
t_eq "after node up: r2 counts all $N" $(( $(st r2 rx_packets) - rx2 )) $N

# 3. One router down, then deleted: the other still gets every copy.
ip -n "$(rns r2)" link set e0 down
rx1=$(st r1 rx_packets) ns1=$(ns_rx r1)
send h0 ff:ff:ff:ff:ff:ff arp $N
t_wait 5 ns_rx_ge r1 $((ns1 + N)) || t_fail "r2's VIF down: r1's namespace missed copies"
t_eq "r2's VIF down: r1 still counts all $N" $(( $(st r1 rx_packets) - rx1 )) $N
t_check "router del r2" x router del r2
rx1=$(st r1 rx_packets) ns1=$(ns_rx r1)
send h0 ff:ff:ff:ff:ff:ff arp $N
t_wait 5 ns_rx_ge r1 $((ns1 + N)) || t_fail "r2 deleted: r1's namespace missed copies"
t_eq "r2 deleted: r1 still counts all $N" $(( $(st r1 rx_packets) - rx1 )) $N
ip -n "$H" neigh del 10.9.0.1 dev h0
t_check "r2 deleted: host still resolves and pings r1" ip netns exec "$H" ping -c 1 -W 2 10.9.0.1

# 4. VLAN 100 on the second port: tagged broadcasts reach v1 and v2 (untagged
#    in their namespaces), untagged ones and other VLANs do not.
for r in v1 v2; do eval "vrx_$r=$(st $r rx_packets) vns_$r=$(ns_rx $r)"; done
send h1 ff:ff:ff:ff:ff:ff arp $N 100
send h1 ff:ff:ff:ff:ff:ff arp $N
send h1 ff:ff:ff:ff:ff:ff arp $N 200
for r in v1 v2; do
	eval "rx0=\$vrx_$r ns0=\$vns_$r"
	t_wait 5 ns_rx_ge "$r" $((ns0 + N)) || t_fail "VLAN 100: $r's namespace missed copies"
	t_eq "VLAN 100: $r counts exactly the $N tagged broadcasts" \
		$(( $(st $r rx_packets) - rx0 )) $N
done

# 5. Nothing left behind by the deletes, and the orphan check knows the sets.
t_check "no orphans (broadcast sets included)" "$PY" "$(dirname "$0")/../orphans.py" "$NODE"
x router del r1 && x router del r3 && x router del v1 && x router del v2
t_eq "no broadcast sets once the VIFs are gone" \
	"$(bpftool -j map dump pinned "/sys/fs/bpf/xvr/$NODE/bcast" | jq length)" 0
