#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# FRR's zebra and ospfd (Debian's frr, /usr/lib/frr) in two xdp-mode
# routers, each daemon started in the foreground by its own 'router exec'
# with its config handed in by --bind; they share the router's /run/frr
# (zebra's socket, the vty sockets vtysh uses). They need CAP_SYS_ADMIN,
# which they hold over their router's namespaces only. The adjacency forms
# through xvr, the routes zebra installs reach the BPF FIB through fibsync,
# and the hosts' traffic is forwarded by XDP.
#
#   h1 ── p1 ─ R1 (e0 10.1.1.1, e1 10.12.0.1) ─ pa ══ pb ─ R2 (e1 10.12.0.2, e0 10.2.1.1) ─ p2 ── h2
#   pa and pb are both xvr ports, the two ends of one veth pair.
set -u
. "$(dirname "$0")/../lib.sh"
t_init frr
t_need jq ethtool ping
# setup.sh installs frr: missing, it is a failure.
for b in /usr/lib/frr/zebra /usr/lib/frr/ospfd /usr/bin/vtysh; do
	[ -x "$b" ] || { t_fail "$b is missing (scripts/setup.sh installs frr)"; exit 1; }
done
NODE=$T_P
RUN=$(mktemp -d /run/xvr-frr.XXXXXX)
x() { "$XVR" -n "$NODE" "$@"; }
in_ns() { ip netns exec "$@"; }
DAEMONS=()
trap 'for p in "${DAEMONS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$RUN"; t_cleanup' EXIT

t_two_routers "$NODE" >/dev/null || { t_fail "setup"; exit 1; }

wait_for() {	# wait_for SECONDS COMMAND…: poll until it succeeds
	local end=$(( $(date +%s) + $1 )); shift
	until "$@" >/dev/null 2>&1; do [ "$(date +%s)" -ge "$end" ] && return 1; sleep 0.3; done
}

for r in R1:10.12.0.1:10.1.1.0/24 R2:10.12.0.2:10.2.1.0/24; do
	IFS=: read -r name id stub <<<"$r"
	cat >"$RUN/$name-zebra.conf" <<CONF
hostname $name
CONF
	cat >"$RUN/$name-ospfd.conf" <<CONF
hostname $name
interface e1
 ip ospf network point-to-point
 ip ospf hello-interval 1
 ip ospf dead-interval 4
router ospf
 ospf router-id $id
 network 10.12.0.0/30 area 0
 network $stub area 0
 passive-interface e0
CONF
	# /run/frr as the package makes it, in the router's own /run.
	x router exec "$name" -- install -d -o frr -g frr -m 0755 /run/frr ||
		t_fail "$name: /run/frr"
done
# frr_start ROUTER DAEMON: in the foreground, as FRR's documentation starts
# them, with its config handed in; $! is xvr, the process to stop.
frr_start() {
	"$XVR" -n "$NODE" router exec "$1" --bind "$RUN/$1-$2.conf:/run/frr/$2.conf" -- \
		/usr/lib/frr/$2 -f /run/frr/$2.conf -i /run/frr/$2.pid -u frr -g frr \
		--log stdout >"$RUN/$1-$2.log" 2>&1 &
	DAEMONS+=($!)
}
# zebra first in both: ospfd talks to it through its socket.
frr_start R1 zebra && frr_start R2 zebra
for r in R1 R2; do
	wait_for 10 x router exec "$r" -- test -S /run/frr/zserv.api || t_fail "$r: zebra's socket"
done
frr_start R1 ospfd && frr_start R2 ospfd
vtysh_() { x router exec "$1" -- vtysh -c "$2"; }

# ospfd was just started and drops to frr's user after it has read its
# config: wait for both daemons of each router to run as that user.
for r in R1 R2; do
	uid=$(( $(x -j router show "$r" | jq .uid_base) + $(id -u frr) ))
	t_check "$r: zebra and ospfd run as FRR's user of the router's own range ($uid)" \
		wait_for 10 sh -c "pgrep -u $uid -x zebra >/dev/null && pgrep -u $uid -x ospfd >/dev/null"
done
t_check "OSPF adjacency R1-R2 comes up through xvr" \
	wait_for 40 sh -c "\"$XVR\" -n $NODE router exec R1 -- vtysh -c 'show ip ospf neighbor' | grep -q Full"
t_check "R1's zebra installed 10.2.1.0/24 (proto ospf)" \
	wait_for 20 sh -c "ip -n xvr-$NODE-R1 route show 10.2.1.0/24 | grep -q ospf"
t_check "the route reached R1's BPF FIB" \
	wait_for 5 sh -c "\"$XVR\" -n $NODE -j route list R1 | jq -e '.[] | select(.prefix == \"10.2.1.0/24\")'"
t_check "and R2's (10.1.1.0/24)" \
	wait_for 20 sh -c "\"$XVR\" -n $NODE -j route list R2 | jq -e '.[] | select(.prefix == \"10.1.1.0/24\")'"
t_check "fibsync check: R1's BPF FIB equals its kernel FIB" x fibsync R1 check
t_check "fibsync check: R2's" x fibsync R2 check

# Warm up neighbours, then count: the hosts' pings must be forwarded by XDP.
in_ns "${T_P}h1" ping -c 3 -i 0.2 -W 1 10.2.1.2 >/dev/null 2>&1
f1=$(t_stat "$NODE" R1 fwd_packets) f2=$(t_stat "$NODE" R2 fwd_packets)
t_check "h1 pings h2 across both routers" in_ns "${T_P}h1" ping -c 50 -i 0.02 -W 1 10.2.1.2
fwd1=$(( $(t_stat "$NODE" R1 fwd_packets) - f1 )) fwd2=$(( $(t_stat "$NODE" R2 fwd_packets) - f2 ))
echo "    during 50 pings: R1 forwarded by XDP $fwd1, R2 $fwd2"
t_ge "R1 forwarded the echo requests and replies in XDP" "$fwd1" 100
t_ge "and R2" "$fwd2" 100
t_check "vtysh in R1 talks to its own zebra only" \
	sh -c "\"$XVR\" -n $NODE router exec R1 -- vtysh -c 'show running-config' | grep -q 'hostname R1'"

x router del R2
t_check "router del ended R2's daemons" \
	wait_for 5 sh -c "! pgrep -u $(( $(x -j router show R1 | jq .uid_base) + 65536 )) ."
