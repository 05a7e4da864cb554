#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# A real control plane: BIRD 2 with OSPF in two xdp-mode routers, started
# with 'xvr router exec'. The adjacency forms through xvr; routes BIRD
# learns reach the BPF FIB through fibsync; hosts' traffic is then
# forwarded by XDP; withdrawing a route removes it from the BPF FIB.
#
#   h1 ── p1 ─ R1 (e0 10.1.1.1, e1 10.12.0.1) ─ pa ══ pb ─ R2 (e1 10.12.0.2, e0 10.2.1.1) ─ p2 ── h2
#   pa and pb are both xvr ports, the two ends of one veth pair.
set -u
. "$(dirname "$0")/../lib.sh"
t_init bird
t_need jq ethtool ping bird birdc
NODE=$T_P
RUN=$(mktemp -d /run/xvr-bird.XXXXXX)
x() { "$XVR" -n "$NODE" "$@"; }
in_ns() { ip netns exec "$@"; }
BIRDS=()
trap 'for p in "${BIRDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$RUN"; t_cleanup' EXIT

t_two_routers "$NODE" >/dev/null || { t_fail "setup"; exit 1; }

for r in R1:10.12.0.1 R2:10.12.0.2; do
	name=${r%%:*} id=${r##*:}
	cat >"$RUN/$name.conf" <<CONF
router id $id;
protocol device { scan time 1; }
protocol kernel { ipv4 { export all; import none; }; learn; scan time 1; }
protocol ospf v2 ospf1 {
	ipv4 { import all; export none; };
	area 0 {
		interface "e1" { type ptp; hello 1; dead 4; };
		interface "e0" { stub yes; };
	};
}
CONF
	# In the foreground: the tenant's first process is PID 1 of its namespace.
	# $XVR itself in the background, so $! is the process to stop. The
	# config is handed in; the control socket is in the router's own /run.
	"$XVR" -n "$NODE" router exec "$name" --bind "$RUN/$name.conf:/run/bird/bird.conf" -- \
		bird -f -c /run/bird/bird.conf -s /run/bird/bird.ctl -P /run/bird/bird.pid \
		>"$RUN/$name.log" 2>&1 &
	BIRDS+=($!)
done

birdc_() { x router exec "$1" -- birdc -s /run/bird/bird.ctl "${@:2}"; }
wait_for() {	# wait_for SECONDS COMMAND…: poll until it succeeds
	local end=$(( $(date +%s) + $1 )); shift
	until "$@" >/dev/null 2>&1; do [ "$(date +%s)" -ge "$end" ] && return 1; sleep 0.3; done
}

t_check "OSPF adjacency R1-R2 comes up through xvr" \
	wait_for 30 sh -c "\"$XVR\" -n $NODE router exec R1 -- birdc -s /run/bird/bird.ctl show ospf neighbors | grep -q Full"
t_check "R1's BIRD learned 10.2.1.0/24" \
	wait_for 15 sh -c "ip -n xvr-$NODE-R1 route show 10.2.1.0/24 | grep -q bird"
t_check "the route reached R1's BPF FIB" \
	wait_for 5 sh -c "\"$XVR\" -n $NODE -j route list R1 | jq -e '.[] | select(.prefix == \"10.2.1.0/24\")'"
t_check "and R2's (10.1.1.0/24)" \
	wait_for 5 sh -c "\"$XVR\" -n $NODE -j route list R2 | jq -e '.[] | select(.prefix == \"10.1.1.0/24\")'"
t_check "fibsync check: R1's BPF FIB equals its kernel FIB" x fibsync R1 check

# Warm up neighbours, then count: the hosts' pings must be forwarded by XDP.
# The neighbours those pings resolved reach the BPF FIBs through fibsync.
in_ns "${T_P}h1" ping -c 3 -i 0.2 -W 1 10.2.1.2 >/dev/null 2>&1
t_wait 10 sh -c "\"$XVR\" -n $NODE fibsync R1 check && \"$XVR\" -n $NODE fibsync R2 check"
f1=$(t_stat "$NODE" R1 fwd_packets) p1=$(t_stat "$NODE" R1 punt_packets)
t_check "h1 pings h2 across both routers" in_ns "${T_P}h1" ping -c 50 -i 0.02 -W 1 10.2.1.2
fwd=$(( $(t_stat "$NODE" R1 fwd_packets) - f1 )) punt=$(( $(t_stat "$NODE" R1 punt_packets) - p1 ))
echo "    R1 during 50 pings: forwarded by XDP $fwd, punted $punt"
t_ge "R1 forwarded the echo requests and replies in XDP" "$fwd" 100
t_check "R1 punted almost none of them (OSPF hellos aside)" test "$punt" -le 10

# Withdraw: R2's stub interface goes down, OSPF withdraws 10.2.1.0/24.
ip -n "xvr-$NODE-R2" link set e0 down
t_check "withdrawn route leaves R1's kernel FIB" \
	wait_for 20 sh -c "! ip -n xvr-$NODE-R1 route show 10.2.1.0/24 | grep -q ."
t_check "and R1's BPF FIB" \
	wait_for 5 sh -c "! \"$XVR\" -n $NODE -j route list R1 | jq -e '.[] | select(.prefix == \"10.2.1.0/24\")'"
t_fails "h2 is unreachable now" in_ns "${T_P}h1" ping -c 1 -W 1 10.2.1.2
# Back again, then stopping the protocol withdraws everything learned from it.
ip -n "xvr-$NODE-R2" link set e0 up
t_check "R2's stub back up: the route returns to R1's BPF FIB" \
	wait_for 20 sh -c "\"$XVR\" -n $NODE -j route list R1 | jq -e '.[] | select(.prefix == \"10.2.1.0/24\")'"
birdc_ R1 disable ospf1 >/dev/null
t_check "disabling R1's OSPF protocol removes the route from its BPF FIB" \
	wait_for 10 sh -c "! \"$XVR\" -n $NODE -j route list R1 | jq -e '.[] | select(.prefix == \"10.2.1.0/24\")'"
t_check "fibsync check after the withdrawals" x fibsync R1 check

# Deleting a router ends its tenant's processes.
R2_UID=$(x -j router show R2 | jq -r .uid_base)
t_check "R2's BIRD runs as R2's own host uid" pgrep -u "$R2_UID" -x bird
x router del R2
t_check "router del ended R2's BIRD" \
	wait_for 5 sh -c "! pgrep -f '[b]ird -f -c /run/bird/bird.conf' -u $R2_UID"
