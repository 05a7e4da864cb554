#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# fibsync's max-routes: a tenant pushes far more routes into its namespace
# than its router may hold. fibsync takes up to the bound, refuses and
# counts the rest (router show, its log), keeps the routes it had, and the
# node's other router goes on syncing; raising the bound lets the rest in.
#
#   ns h0 10.1.0.2 ── port p0 ─ e0 [router r1, max-routes CAP]
#   ns h1 10.2.0.2 ── port p1 ─ e0 [router r2]
#
# COUNT routes (default 1000) over CAP (default 100) in make check;
# 'make soak' runs it with COUNT=2000000 and the node's default bound.
set -u
. "$(dirname "$0")/../lib.sh"
t_init fibsync_cap
t_need jq

COUNT=${COUNT:-1000}
CAP=${CAP:-100}
NODE=$T_P
H0=${T_P}h0
H1=${T_P}h1
P0=${T_P}p0
P1=${T_P}p1
BATCH=$(mktemp /tmp/fibsync_cap.XXXXXX)
trap 'rm -f "$BATCH"; t_cleanup' EXIT
x() { "$XVR" -n "$NODE" "$@"; }
ms() { date +%s%3N; }
show() { x -j router show "$1" | jq -r "if type == \"array\" then .[0] else . end | .$2 // empty"; }
fib_has() { x -j fibsync "$1" show | jq -e ".[] | select(.prefix == \"$2\")" >/dev/null; }
fib_count() { x -j fibsync "$1" show | jq 'length'; }
# wait_for SECONDS COMMAND...: until it succeeds, or fail after SECONDS.
wait_for() {
	local until=$(( $(ms) + $1 * 1000 ))

	shift
	until "$@"; do
		[ "$(ms)" -ge "$until" ] && return 1
		sleep 0.1
	done
}

t_netns "$H0" && t_netns "$H1" &&
	t_veth "$P0" "$H0" eth0 && t_veth "$P1" "$H1" eth0 &&
	t_node "$NODE" >/dev/null && x port add "$P0" && x port add "$P1" &&
	x router add r1 && x router add r2 &&
	x vif add r1 e0 port "$P0" && x vif add r2 e0 port "$P1" || { t_fail "topology setup"; exit 1; }
ip -n "xvr-$NODE-r1" addr add 10.1.0.1/24 dev e0
ip -n "xvr-$NODE-r2" addr add 10.2.0.1/24 dev e0
ip -n "$H0" addr add 10.1.0.2/24 dev eth0
ip -n "$H1" addr add 10.2.0.2/24 dev eth0
t_ok "topology: node, routers r1 and r2 with a VIF each"

t_fails "max-routes 0 is refused" x router set r1 max-routes 0
t_fails "max-routes abc is refused" x router set r1 max-routes abc
t_fails "max-routes of a missing router is refused" x router set nosuch max-routes 10
t_eq "a refused setting changed nothing" "$(show r1 max_routes)" \
	"$(show r2 max_routes)"
t_check "router set r1 max-routes $CAP" x router set r1 max-routes "$CAP"
t_eq "router show says so" "$(show r1 max_routes)" "$CAP"

# What r1 had before the flood must stay.
ip -n "xvr-$NODE-r1" route add 10.50.0.0/16 via 10.1.0.2
t_check "r1's route before the flood reached its BPF FIB" wait_for 10 fib_has r1 10.50.0.0/16

# The flood: COUNT host routes through the namespace's own kernel.
awk -v n="$COUNT" 'BEGIN { for (i = 0; i < n; i++)
	printf "route add 172.%d.%d.%d/32 via 10.1.0.2\n", 16 + int(i / 65536), int(i / 256) % 256, i % 256 }' >"$BATCH"
t0=$(ms)
t_check "$COUNT routes added in r1's namespace" ip -n "xvr-$NODE-r1" -batch "$BATCH"
echo "# ip -batch of $COUNT routes: $(( $(ms) - t0 )) ms"
kernel=$(ip -n "xvr-$NODE-r1" route show | wc -l)
t_ge "r1's kernel holds them all" "$kernel" "$COUNT"

settled() { [ "$(show r1 fibsync_routes)" = "$CAP" ] && [ "$(show r1 fibsync_refused)" -ge $((COUNT - CAP)) ]; }
t_check "fibsync took $CAP prefixes and refused the rest" wait_for $((60 + COUNT / 1000)) settled
refused=$(show r1 fibsync_refused)
echo "# r1: $(show r1 fibsync_routes) prefixes, $refused refused, node lock held at most" \
	"$(show r1 fibsync_lock_ms_max) ms, fibsync's resident memory $(ps -o rss= -p "$(show r1 fibsync_pid)") KiB"
t_ge "at least COUNT - CAP refusals counted" "$refused" $((COUNT - CAP))
t_check "the refusals are in fibsync's log" \
	grep -q "max-routes $CAP reached" "/run/xvr/$NODE/fibsync-r1.log"
t_check "r1 keeps the route it had" fib_has r1 10.50.0.0/16
n=$(fib_count r1)
t_ge "r1's BPF FIB holds no more than the bound (and its neighbours' host routes)" \
	$((CAP + 4)) "$n"
t_ge "the node lock was never held for more than 2 s" 2000 "$(show r1 fibsync_lock_ms_max)"

# The other router of the node is not held up.
ip -n "xvr-$NODE-r2" route add 10.60.0.0/16 via 10.2.0.2
t_check "r2's new route reaches its BPF FIB" wait_for 10 fib_has r2 10.60.0.0/16
t_check "r2's BPF FIB equals its kernel's" x fibsync r2 check
t_check "node commands still work" x router list

# Room again: the refused routes come in with the next full sync.
t_check "router set r1 max-routes $((COUNT * 2))" x router set r1 max-routes $((COUNT * 2))
all_in() { [ "$(show r1 fibsync_routes)" -ge "$COUNT" ]; }
# In-place FIB changes run at tens of microseconds each on this machine, more under load.
slow=$((60 + COUNT / 1000))
t_check "with room, fibsync takes the routes it refused" wait_for $slow all_in
t_check "r1's BPF FIB equals its kernel's" wait_for $slow x fibsync r1 check
