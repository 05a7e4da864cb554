#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Concurrent commands: four CLI loops at once on one node (router add/del,
# route load, vif add/del, and node down/up) for CONC_SECONDS (20 s here;
# 'make soak' runs longer). Every command either succeeds or fails with a
# clear "busy"/"no such"/"exists"/"not up" message; afterwards the node is
# consistent: nothing to repair, no orphan in maps, namespaces or devices.
set -u
. "$(dirname "$0")/../lib.sh"
t_init concurrency
t_need jq ethtool bpftool
NODE=$T_P
P0=${T_P}p0
SECS=${CONC_SECONDS:-20}
TMP=$(mktemp -d "/tmp/.$T_P.XXXX")
x() { "$XVR" -n "$NODE" "$@"; }
trap 'rm -rf "$TMP"; t_cleanup' EXIT

t_netns "${T_P}h0" && t_veth "$P0" "${T_P}h0" eth0 && t_node "$NODE" >/dev/null &&
	x port add "$P0" && x router add stay fibsync off >/dev/null || { t_fail "setup"; exit 1; }
printf '10.9.0.0/16 via 10.1.0.2 lladdr 02:00:00:00:00:01 dev %s\n10.8.0.0/16 blackhole\n' \
	"$P0" >"$TMP/routes"

# run WORKER COMMAND...: one command; its messages, if it fails, go to WORKER's log.
run() {
	local w=$1; shift
	if out=$(x "$@" 2>&1); then echo ok >>"$TMP/$w.n"; else
		echo "fail" >>"$TMP/$w.n"; printf '%s: %s\n' "$*" "$out" >>"$TMP/$w.err"; fi
}
loop() {	# loop WORKER: until the deadline
	local w=$1 end=$(( $(date +%s) + SECS )) i=0
	while [ "$(date +%s)" -lt "$end" ]; do
		i=$((i + 1))
		case $w in
		routers) run $w router add "c$((i % 3))" fibsync off; run $w router del "c$(((i + 1) % 3))" ;;
		routes) run $w route load stay "$TMP/routes"; run $w route load "c$((i % 3))" "$TMP/routes" ;;
		vifs) run $w vif add "c$((i % 3))" e0 port "$P0"; run $w vif del "c$(((i + 2) % 3))" e0 ;;
		# 'node up' holds the lock for seconds (it loads the programs):
		# a live upgrade now and then, a 'node down' once, half way.
		node) if [ "$i" = 3 ]; then run $w node down; run $w node up;
			run $w port add "$P0"; run $w router add stay fibsync off; else
			run $w node up; fi
			sleep 5 ;;
		esac
	done
}
for w in routers routes vifs node; do loop $w & done
wait

wc -l "$TMP"/*.n | sed "s/^/    /"
total=$(cat "$TMP"/*.n 2>/dev/null | wc -l)
okn=$(cat "$TMP"/*.n 2>/dev/null | grep -c ok)
echo "    $total commands in $SECS s, $okn succeeded"
t_ge "commands ran and most succeeded" "$okn" $((total / 4))
# The errors a racing operator may see: each names what is missing or taken.
clear='no such|exists|not up|busy|has it already|already sends|not a port|neither a port|is taken|cannot take lock'
unclear=$(cat "$TMP"/*.err 2>/dev/null | grep -Ev "$clear" | grep -v '^$')
t_eq "every failure was a clear no-such/exists/not-up/busy" "$(echo "$unclear" | head -5)" ""

x node up >/dev/null 2>&1
x port add "$P0" >/dev/null 2>&1
t_check "after the storm: node repair finds nothing" \
	sh -c "\"$XVR\" -n $NODE node repair | grep -q 'nothing to repair'"
t_check "no orphan in maps, namespaces, devices" "$PY" "$(dirname "$0")/../orphans.py" "$NODE"
