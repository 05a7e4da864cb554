#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Crash matrix: every node-changing command is killed (SIGKILL, through the
# XVR_DIE_AT test hook) at each of its steps; the next command must work,
# 'xvr node repair' must leave the node consistent, and an independent
# dump of the maps (bpftool), namespaces and devices must find no orphan.
set -u
. "$(dirname "$0")/../lib.sh"
t_init crash
t_need jq ethtool bpftool flock
NODE=$T_P
P0=${T_P}p0
x() { "$XVR" -n "$NODE" "$@"; }

t_netns "${T_P}h0" && t_veth "$P0" "${T_P}h0" eth0 && t_node "$NODE" >/dev/null &&
	x port add "$P0" || { t_fail "topology setup"; exit 1; }
t_ok "topology: node and port"

# orphans [nexthops]: selftests/orphans.py, an independent dump (bpftool, ip)
# of what no active router owns; fails if there is any.
orphans() { "$PY" "$(dirname "$0")/../orphans.py" "$NODE" "$@"; }

wait_for() {	# wait_for SECONDS COMMAND…: poll until it succeeds
	local end=$(( $(date +%s) + $1 )); shift
	until "$@" >/dev/null 2>&1; do [ "$(date +%s)" -ge "$end" ] && return 1; sleep 0.1; done
}

# die STEP COMMAND...: run the command with the hook at STEP; it must die there.
die() {
	local step=$1; shift
	XVR_DIE_AT=$step x "$@" >/dev/null 2>&1
	t_eq "$step: the command was killed there" "$?" 137
}

# settle WHAT: 'node repair', then the cheap checks: each namespace of the
# node is a router's, each device into one is a VIF's. The full dump of the
# maps (orphans) runs once per section: what repair misses stays till then.
settle() {
	x node repair >/dev/null 2>&1
	local nss routers devs vifs
	nss=$(ls /run/netns | grep "^xvr-$NODE-" | sed "s/^xvr-$NODE-//" | sort | tr '\n' ' ')
	routers=$(x -j router list | jq -r '.[].name' | sort | tr '\n' ' ')
	t_eq "$1: after node repair, a namespace for each router, no other" "$nss" "$routers"
	devs=$(ip -o link show 2>/dev/null | grep -c "link-netns xvr-$NODE-")
	vifs=$(x -j vif list | jq length)
	t_eq "$1: after node repair, a device into a router for each VIF, no other" "$devs" "$vifs"
}

# A router with a VIF and a route: what 'router del' must take apart.
full_router() {
	x router add "$1" fibsync off >/dev/null && x vif add "$1" e0 port "$P0" >/dev/null &&
		x route add "$1" 10.9.0.0/16 via 10.1.0.2 lladdr 02:00:00:00:00:01 dev "$P0" >/dev/null
}

# 1. router add, killed at each step: the same 'router add' then works,
#    unless the kill came after the commit point (ACTIVE), when the router
#    exists whole.
for step in lock router-add:netns router-add:pidns router-add:fib router-add:active; do
	die "$step" router add ra fibsync off
	if [ "$step" = router-add:active ]; then
		t_check "$step: router ra exists whole, router del works" x router del ra
	else
		t_check "$step: router add ra (no id) works next" x router add ra fibsync off
		x router del ra >/dev/null 2>&1
	fi
	settle "$step"
done
t_check "router add: no orphan in maps, namespaces, devices" orphans

# 1b. A router whose PID namespace's init died: 'router exec' says so, and
#     'node repair' starts a new one (the stale pid file is told by its lock).
x router add ri fibsync off >/dev/null || t_fail "router ri"
PIDF=/run/xvr/$NODE/pidns/ri.pid
kill -KILL "$(cat "$PIDF")"
t_check "ri's init killed: its pid file is unlocked" \
	wait_for 10 flock -n -s "$PIDF" true
t_fails "router exec ri is refused without its init" x router exec ri -- true
t_check "node repair starts ri's PID namespace again" \
	sh -c "\"$XVR\" -n $NODE node repair 2>&1 | grep -q 'ri: started its PID namespace'"
t_eq "  router exec ri works again" \
	"$(x router exec ri -- sh -c 'test -e /proc/1/cmdline && echo ok')" ok
t_check "  no orphan, the new init included" orphans
x router del ri >/dev/null 2>&1
t_check "router del ri: its init and pid file are gone" \
	sh -c "test ! -e $PIDF && ! pgrep -f -- '-n $NODE router init ri\$'"

# 2. router del, killed at each step: a repeated 'router del' works or says
#    there is no such router; nothing of the router survives the repair,
#    and a router of the same name can be made again.
for step in router-del:inactive router-del:vifs \
	router-del:fib router-del:slot router-del:pidns; do
	full_router rd 2>/dev/null || t_fail "$step: set up router rd"
	die "$step" router del rd
	t_check "$step: router del again: done, or 'no such router'" \
		sh -c "\"$XVR\" -n $NODE router del rd 2>&1 | grep -q 'no such router' ||
			! \"$XVR\" -n $NODE router show rd >/dev/null 2>&1"
	settle "$step"
	t_check "$step: router add rd works next" x router add rd fibsync off
	x router del rd >/dev/null 2>&1
done
t_check "router del: no orphan in maps, namespaces, devices" orphans

# 3. vif add and vif del, killed at each step: after a repair the same
#    'vif add' works.
x router add rv fibsync off >/dev/null 2>&1 || t_fail "router rv"
for step in vif-add:veth vif-add:maps vif-add:link vif-add:bcast vif-del:rules vif-del:bcast \
	vif-del:slot; do
	[[ $step == vif-del:* ]] && { x vif add rv e0 port "$P0" >/dev/null || t_fail "$step: vif add"; }
	case $step in
	vif-add:*) die "$step" vif add rv e0 port "$P0" ;;
	*) die "$step" vif del rv e0 ;;
	esac
	settle "$step"
	t_check "$step: vif add rv e0 works next" x vif add rv e0 port "$P0"
	x vif del rv e0 >/dev/null 2>&1
done
t_check "vif add, vif del: no orphan in maps, namespaces, devices" orphans
x router del rv >/dev/null 2>&1
t_check "a second repair finds nothing to do" \
	sh -c "\"$XVR\" -n $NODE node repair | grep -q 'nothing to repair'"

# 3b. A 'route load' whose swap fails (XVR_FAIL_AT) leaves the routes, and
#     the nexthops (no new ones, no raised refcounts), as they were.
nh_dump() {	# nexthop slots 1-8, raw: enough for the few this router has
	for i in 1 2 3 4 5 6 7 8; do
		bpftool map lookup pinned "/sys/fs/bpf/xvr/$NODE/nexthops" key $i 0 0 0 2>&1
	done
}
full_router rl || t_fail "router rl"
printf '10.9.0.0/16 via 10.1.0.2 lladdr 02:00:00:00:00:01 dev %s\n10.8.0.0/16 via 10.1.0.3 lladdr 02:00:00:00:00:02 dev %s\n' \
	"$P0" "$P0" >"/tmp/.$T_P.routes"
before=$(nh_dump; x -j route list rl)
XVR_FAIL_AT=route-load:swap x route load rl "/tmp/.$T_P.routes" >/dev/null 2>&1
t_eq "route load with a failed swap exits non-zero" "$?" 1
t_eq "... and leaves routes, nexthops and refcounts as they were" "$(nh_dump; x -j route list rl)" "$before"
t_check "the same route load then works" x route load rl "/tmp/.$T_P.routes"
t_eq "with both routes" "$(x -j route list rl | jq length)" 2
rm -f "/tmp/.$T_P.routes"
x router del rl >/dev/null 2>&1

# 4. 'node up' on a live node repairs too; 'node down' sees a half-deleted router.
full_router ru || t_fail "router ru"
die router-del:inactive router del ru
x node up 2>&1 | sed 's/^/    /'
t_check "node up on a live node repaired a killed router del (nexthops too)" orphans nexthops
full_router ru2 || t_fail "router ru2"
die router-del:inactive router del ru2
x node down >/dev/null 2>&1
t_eq "node down removed the half-deleted router's namespace too" \
	"$(ip netns list | grep -c "^xvr-$NODE-")" 0

# 5. A port that others use: refused without force; force removes the VIFs
#    and rules, names them, and leaves no orphan; killed half way, the next
#    'port del' finishes.
NODE=${T_P}b
P1=${T_P}p1
t_netns "${T_P}h1" && t_veth "$P1" "${T_P}h1" eth0 && t_node "$NODE" >/dev/null &&
	x port add "$P1" && x router add rp fibsync off >/dev/null &&
	x vif add rp e0 port "$P1" >/dev/null || t_fail "port section setup"
before=$(x -j vif list; x -j classify list; x -j port list)
t_fails "port del of a port a VIF uses is refused" x port del "$P1"
t_eq "the refused port del changed nothing" "$(x -j vif list; x -j classify list; x -j port list)" "$before"
t_fails "port del with a bad last word is refused" x port del "$P1" forced
die port-del:users port del "$P1" force
t_check "after a kill half way, port del finishes" x port del "$P1"
x port add "$P1" && x vif add rp e0 port "$P1" >/dev/null || t_fail "VIF again"
t_check "port del force names the VIF it removes" \
	sh -c "\"$XVR\" -n $NODE port del $P1 force 2>&1 | grep -q 'removed VIF e0 of router rp'"
t_eq "no VIF left on the deleted port" "$(x -j vif list | jq length)" 0
x router del rp >/dev/null 2>&1
t_check "port del force: no orphan" orphans

# The port index (xvr.h), killed between xvr_ports and the index: the
# entry is left unpublished, never stale; repair publishes it again.
# idx_of DEV: the ifindex its port index entry holds (0: unpublished).
idx_of() {
	local i; i=$(cat "/sys/class/net/$1/ifindex")
	bpftool -j map lookup pinned "/sys/fs/bpf/xvr/$NODE/port_idx" key $((i % 256)) 0 0 0 |
		jq '.formatted.value.ifindex // .value.ifindex'
}
P1I=$(cat "/sys/class/net/$P1/ifindex")
die port-add:index port add "$P1"
t_eq "port-add:index: port $P1 not published yet" "$(idx_of "$P1")" 0
t_check "port-add:index: no orphan before the repair" orphans
settle port-add:index
t_eq "port-add:index: repair published it" "$(idx_of "$P1")" "$P1I"
x router add rx fibsync off >/dev/null || t_fail "router rx"
die port-default:unpublished classify add rx default port "$P1"
t_eq "port-default:unpublished: the entry is unpublished, not stale" "$(idx_of "$P1")" 0
t_check "port-default:unpublished: no orphan before the repair" orphans
settle port-default:unpublished
t_eq "port-default:unpublished: repair published it again" "$(idx_of "$P1")" "$P1I"
t_check "port-default:unpublished: no orphan" orphans
# A prefix rule's command killed before the IPv4 copy (cls_prefix4) holds it.
copy4() { bpftool -j map dump pinned "/sys/fs/bpf/xvr/$NODE/cls_prefix4" | jq length; }
die rules:prefix4 classify add rx prefix 10.77.0.0/16 port "$P1"
t_eq "rules:prefix4: the rule is in the trie" "$(x -j classify list rx | jq '[.[] | select(.kind == "prefix")] | length')" 1
t_eq "rules:prefix4: not yet in the copy" "$(copy4)" 0
t_fails "rules:prefix4: orphans sees the copy short of a rule" orphans
settle rules:prefix4
t_eq "rules:prefix4: repair wrote it into the copy" "$(copy4)" 1
t_check "rules:prefix4: no orphan" orphans
x router del rx >/dev/null 2>&1
t_eq "rules:prefix4: router del took it from the copy" "$(copy4)" 0
die port-del:index port del "$P1"
t_eq "port-del:index: port $P1 is gone from the index" "$(idx_of "$P1")" 0
t_check "port-del:index: no orphan" orphans
settle port-del:index
t_check "port index: a second repair finds nothing to do" \
	sh -c "\"$XVR\" -n $NODE node repair | grep -q 'nothing to repair'"

# router set cpus, killed once its new CPU group exists (the router not yet
# moved) and once the router moved (its old group not yet freed): the next
# 'router set cpus' works, repair frees the group no router names.
x router add rc fibsync off >/dev/null && x router set rc cpus 0 || t_fail "cpus section setup"
for step in router-set:cpus-group router-set:cpus; do
	die "$step" router set rc cpus 1
	settle "$step"
	t_check "$step: no orphan CPU group after repair" orphans
	t_check "$step: router set cpus works next" x router set rc cpus 0
done
x router del rc >/dev/null 2>&1
t_check "router set cpus: no orphan" orphans
