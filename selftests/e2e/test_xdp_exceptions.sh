#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# An xdp-mode router with VIFs answers like a Linux router: what its fast
# path punts (TTL 1, its own addresses, no route, ARP) reaches its namespace,
# whose kernel replies (ICMP time exceeded from the router's address, echo
# replies, ICMP unreachable, a UDP socket receiving), and those replies leave
# through xvr_egress. Also: a tenant's command run with 'router exec' cannot
# touch xvr's BPF objects.
set -u
. "$(dirname "$0")/../lib.sh"
t_init xdp_exceptions
t_need jq ethtool ping traceroute bpftool
NODE=$T_P
x() { "$XVR" -n "$NODE" "$@"; }
in_ns() { ip netns exec "$@"; }
RNS="xvr-$NODE-r1"

# h1 (10.1.1.2) ── p0 ─ r1 (xdp) ─ p1 ── h2 (10.2.1.2)
t_netns "${T_P}h1" && t_netns "${T_P}h2"
t_veth "${T_P}p0" "${T_P}h1" eth0 && t_veth "${T_P}p1" "${T_P}h2" eth0
ip -n "${T_P}h1" addr add 10.1.1.2/24 dev eth0
ip -n "${T_P}h2" addr add 10.2.1.2/24 dev eth0
ip -n "${T_P}h1" route add default via 10.1.1.1
ip -n "${T_P}h2" route add default via 10.2.1.1
h2mac=$(ip -n "${T_P}h2" -j link show eth0 | jq -r '.[0].address')

t_node "$NODE"
# Routes from the CLI here, so no fibsync: the test is about the punts.
x port add "${T_P}p0" && x port add "${T_P}p1" && x router add r1 mode xdp fibsync off &&
	x vif add r1 e0 port "${T_P}p0" && x vif add r1 e1 port "${T_P}p1" ||
	{ t_fail "setup"; exit 1; }
ip -n "$RNS" addr add 10.1.1.1/24 dev e0
ip -n "$RNS" addr add 10.2.1.1/24 dev e1
in_ns "$RNS" sysctl -qw net.ipv4.ip_forward=1
# The forwarding path in BPF; the router's own address punts as local.
x route add r1 10.2.1.0/24 via 10.2.1.2 lladdr "$h2mac" dev "${T_P}p1"
x route add r1 10.1.1.1/32 local
x route add r1 10.2.1.1/32 local

# 1. ARP for the router's address is answered by its namespace (h1 has no
#    static entry): the request is punted (non-ip) into e0.
t_check "h1 reaches the router's address (ARP through the VIF)" \
	in_ns "${T_P}h1" ping -c 2 -i 0.2 -W 1 10.1.1.1
t_ge "ARP was punted as non-ip" "$(x -j stats r1 interval 0 | jq '.[0].punt["non-ip"] // 0')" 1
t_ge "echo requests to the router were punted as local" \
	"$(x -j stats r1 interval 0 | jq '.[0].punt.local // 0')" 2
t_ge "the router's replies left through xvr_egress" "$(t_stat "$NODE" r1 tx_packets)" 2

# 2. Forwarding in XDP; the reply path too (h2 resolves 10.2.1.1 through e1).
fwd0=$(t_stat "$NODE" r1 fwd_packets)
t_check "h1 -> h2 through r1" in_ns "${T_P}h1" ping -c 3 -i 0.2 -W 1 10.2.1.2
t_ge "echo requests forwarded by XDP" "$(( $(t_stat "$NODE" r1 fwd_packets) - fwd0 ))" 3

# 3. TTL 1: ICMP time exceeded from the router's own address.
hop=$(in_ns "${T_P}h1" traceroute -n -q 1 -w 1 -m 2 10.2.1.2 2>/dev/null | awk '$1 == "1" { print $2 }')
t_eq "traceroute's first hop is the router's address" "$hop" 10.1.1.1
t_ge "TTL expiry punted as ttl" "$(x -j stats r1 interval 0 | jq '.[0].punt.ttl // 0')" 1

# 4. No route: the router's kernel answers with ICMP unreachable.
out=$(in_ns "${T_P}h1" ping -c 1 -W 1 10.9.9.9 2>&1)
t_check "no route: ICMP unreachable from the router" grep -q "From 10.1.1.1" <<<"$out"
t_ge "punted as no-route" "$(x -j stats r1 interval 0 | jq '.[0].punt["no-route"] // 0')" 1

# 5. A packet for the router reaches a socket in its namespace.
in_ns "$RNS" "$PY" -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("10.1.1.1", 7777)); s.settimeout(3)
print(s.recv(100).decode())' >/tmp/.exc.$$ &
pid=$!
t_wait_listen "$RNS" udp 7777
in_ns "${T_P}h1" "$PY" -c '
import socket
socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"to-the-router", ("10.1.1.1", 7777))'
wait $pid
t_eq "UDP to the router's address reached its socket" "$(cat /tmp/.exc.$$)" to-the-router
rm -f /tmp/.exc.$$

# 6. A router whose FIB fibsync mirrors refuses CLI routes, saying why.
x router add r2 mode xdp && x vif add r2 e0 port "${T_P}p0" mac 02:00:00:00:0e:01
out=$(x route add r2 10.9.0.0/16 blackhole 2>&1)
t_check "route add on a fibsync router is refused, naming fibsync" grep -q fibsync <<<"$out"
t_eq "and changed nothing" "$(x -j route list r2 | jq '[.[] | select(.prefix == "10.9.0.0/16")] | length')" 0
x router del r2

# 7. router exec: the tenant's processes run without the node's powers.
t_check "router exec runs in the router's namespace" \
	sh -c "x() { \"$XVR\" -n \"$NODE\" \"\$@\"; }; x router exec r1 -- ip -br addr show e0 | grep -q 10.1.1.1"
id=$(bpftool -j map show pinned "/sys/fs/bpf/xvr/$NODE/config" | jq .id)
out=$(x router exec r1 -- bpftool map update id "$id" key hex 00 00 00 00 value hex 01 00 00 00 00 00 00 00 2>&1)
t_check "bpftool map update by id from inside fails: permission" grep -qi "not permitted" <<<"$out"
out=$(x router exec r1 -- bpftool map update pinned "/sys/fs/bpf/xvr/$NODE/config" \
	key hex 00 00 00 00 value hex 01 00 00 00 00 00 00 00 2>&1)
t_fails "bpftool map update on an xvr pin from inside fails" \
	x router exec r1 -- bpftool map update pinned "/sys/fs/bpf/xvr/$NODE/config" \
	key hex 00 00 00 00 value hex 01 00 00 00 00 00 00 00
echo "    (inside: $(head -1 <<<"$out"))"
t_fails "mounting bpffs from inside fails" x router exec r1 -- mount -t bpf bpf /mnt
t_eq "the node's config is unchanged" "$(x -j node show | jq -r .miss)" pass
# Its capabilities are those of root in the router's own user namespace,
# whose ids are an unprivileged host range: they reach nothing of the host's.
t_eq "the tenant's uid 0 is the router's first host id" \
	"$(x router exec r1 -- cat /proc/self/uid_map | awk '{ print $1, $2 }')" \
	"0 $(x -j router show r1 | jq .uid_base)"
t_check "the tenant can still configure its own interfaces" \
	x router exec r1 -- ip addr add 10.1.1.9/24 dev e0
# Builtins only: the shell globs /proc itself. The router's PID namespace
# holds its init (pid 1), the exec's parent and the shell: nothing else.
t_eq "the tenant sees only its own processes" \
	"$(x router exec r1 -- sh -c 'set -- /proc/[0-9]*; echo $#; [ -d /proc/1 ] && echo init')" \
	"3
init"
t_fails "the tenant cannot enter another namespace" \
	x router exec r1 -- ip netns exec "${T_P}h1" true
