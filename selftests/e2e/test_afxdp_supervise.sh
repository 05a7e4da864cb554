#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Engine supervision: an engine that is stopped (SIGSTOP) under load, or
# frozen so that its heartbeat goes stale, is killed and restarted by its
# supervisor, which counts the restarts (fe list), while another router's
# delivery goes on undisturbed; the router's own tenant, which sees its
# engine in its PID namespace, may stop it, another router's may not; a deleted engine's supervisor is gone, also
# when the engine was deleted behind its back.
set -u
. "$(dirname "$0")/../lib.sh"
t_init afxdp_supervise
t_need jq ethtool ping bpftool
NODE=$T_P
x() { "$XVR" -n "$NODE" "$@"; }
in_ns() { ip netns exec "$@"; }
RUN=/run/xvr/$NODE
FRZ=
sup_cleanup() {
	if [ -n "$FRZ" ] && [ -d "$FRZ" ]; then
		echo 0 >"$FRZ/cgroup.freeze" 2>/dev/null || echo THAWED >"$FRZ/freezer.state" 2>/dev/null
		for pid in $(cat "$FRZ/cgroup.procs" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
		for _ in $(seq 50); do rmdir "$FRZ" 2>/dev/null && break; sleep 0.1; done
	fi
	[ -n "$ORPHAN" ] && orphan_cleanup
}
trap 'rc=$?; sup_cleanup; (exit $rc); t_cleanup' EXIT
# The engine deleted behind its supervisor's back (step 5) leaves its
# cgroup and log, which 'node down' no longer knows of.
ORPHAN=
orphan_cleanup() {
	for d in /sys/fs/cgroup/cpu /sys/fs/cgroup /sys/fs/cgroup/unified; do
		[ -d "$d/xvr/$NODE/fe$ORPHAN" ] && rmdir "$d/xvr/$NODE/fe$ORPHAN"
	done
	rm -f "$RUN/fe$ORPHAN.log"
	ORPHAN=
}

# h1 ── p0 ─ ar (afxdp) ─ p1 ── h2
# h3 ── p2 ─ xr (xdp)   ─ p3 ── h4   the bystander
t_afxdp_pair "$NODE" || exit 1

# bystander COUNT PORT: UDP datagrams h3 -> h4 through xr; prints how many arrived.
bystander() {
	in_ns "${T_P}h4" "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("0.0.0.0", int(sys.argv[1])))
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
print("ready", flush=True)
s.settimeout(2)
n = 0
try:
    while True: s.recv(2048); n += 1
except socket.timeout: pass
print(n)' "$2" >/tmp/.sup.$$ &
	local rx=$!
	for _ in $(seq 100); do grep -q ready /tmp/.sup.$$ && break; sleep 0.05; done
	in_ns "${T_P}h3" "$PY" -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(int(sys.argv[2])):
    s.sendto(b"x" * 64, ("10.4.1.2", int(sys.argv[1])))
    if i % 64 == 63: time.sleep(0.001)' "$2" "$1"
	wait $rx
	tail -1 /tmp/.sup.$$
	rm -f /tmp/.sup.$$
}
# running PID: it exists and is no zombie (supervisors are init's to reap).
running() { [ -r "/proc/$1/stat" ] && [ "$(sed 's/.*) //' "/proc/$1/stat" | cut -c1)" != Z ]; }
fe_field() { x -j fe list ar | jq -r ".[] | select(.id == $1) | .$2"; }
engine_pid() { awk '{ print $2 }' "$RUN/fe$1.pid" 2>/dev/null; }
sup_pid() { awk '{ print $1 }' "$RUN/fe$1.pid" 2>/dev/null; }
# wait_restart ID OLD_PID RESTARTS: a new live engine, the restarts counted.
wait_restart() {
	for _ in $(seq 150); do
		local pid=$(engine_pid "$1")
		if [ -n "$pid" ] && [ "$pid" != 0 ] && [ "$pid" != "$2" ] &&
			[ "$(fe_field "$1" alive)" = true ] && [ "$(fe_field "$1" restarts)" = "$3" ]; then
			return 0
		fi
		sleep 0.2
	done
	return 1
}

ID=$(x fe add ar) || { t_fail "fe add"; exit 1; }
t_eq "a new engine has no restarts" "$(fe_field "$ID" restarts)" 0
t_check "ping through the engine" in_ns "${T_P}h1" ping -c 2 -i 0.2 -W 1 10.2.1.2

# 1. SIGSTOP under load: killed and restarted; the bystander undisturbed.
pid1=$(engine_pid "$ID")
in_ns "${T_P}h1" ping -q -c 600 -i 0.005 -W 1 10.2.1.2 >/dev/null 2>&1 &
load=$!
T_PIDS+=($load)
kill -STOP "$pid1"
during=$(bystander 4000 7011)
echo "    bystander delivered $during of 4000 while ar's engine was stopped"
t_check "bystander: all 4000 delivered meanwhile ($during)" test "$during" -ge 4000 -a "$during" -le 4010
t_check "SIGSTOPped engine restarted, restarts 1" wait_restart "$ID" "$pid1" 1
t_fails "the stopped engine was killed" running "$pid1"
t_check "the supervisor says why" grep -q "stopped by signal 19" "$RUN/fe$ID.log"
wait $load 2>/dev/null
t_check "ar forwards again" in_ns "${T_P}h1" ping -c 2 -i 0.2 -W 2 10.2.1.2

# 2. Frozen (a freezer cgroup: not stopped, just no longer running): its
#    heartbeat goes stale and the supervisor kills it.
pid2=$(engine_pid "$ID")
if [ -f /sys/fs/cgroup/unified/cgroup.procs ] || [ -f /sys/fs/cgroup/cgroup.freeze ] ||
	[ -f /sys/fs/cgroup/cgroup.subtree_control ]; then
	base=/sys/fs/cgroup
	[ -f /sys/fs/cgroup/unified/cgroup.procs ] && base=/sys/fs/cgroup/unified
	FRZ=$base/${T_P}-frozen
	mkdir "$FRZ" && echo "$pid2" >"$FRZ/cgroup.procs" && echo 1 >"$FRZ/cgroup.freeze"
else
	FRZ=/sys/fs/cgroup/freezer/${T_P}-frozen
	mkdir "$FRZ" && echo "$pid2" >"$FRZ/cgroup.procs" && echo FROZEN >"$FRZ/freezer.state"
fi || { t_fail "cannot freeze the engine in $FRZ"; exit 1; }
hung=0
for _ in $(seq 150); do grep -q "hung" "$RUN/fe$ID.log" && { hung=1; break; }; sleep 0.2; done
t_eq "the frozen engine's stale heartbeat was noticed" "$hung" 1
# A v1 freezer holds even SIGKILL until thawed; a v2 one does not.
echo 0 >"$FRZ/cgroup.freeze" 2>/dev/null || echo THAWED >"$FRZ/freezer.state"
t_check "frozen engine restarted, restarts 2" wait_restart "$ID" "$pid2" 2
t_fails "the frozen engine was killed" running "$pid2"
t_check "ar forwards after the restart" in_ns "${T_P}h1" ping -c 2 -i 0.2 -W 2 10.2.1.2
rmdir "$FRZ" && FRZ=

# 3. An idle engine keeps beating: no restart in 3 s of no traffic.
sleep 3
t_eq "an idle engine is not restarted" "$(fe_field "$ID" restarts)" 2
t_eq "and stays alive" "$(fe_field "$ID" alive)" true

# 3b. The engine lives in ar's PID namespace: ar's tenant sees it in ps and
#     may stop it (restarted as in 1), xr's tenant sees and stops nothing.
pid3=$(engine_pid "$ID")
inner=$(awk '/^NSpid:/ { print $3 }' "/proc/$pid3/status")
init=$(cat "$RUN/pidns/ar.pid")
t_eq "ar's engine is in ar's PID namespace, born there" \
	"$(readlink "/proc/$pid3/ns/pid")" "$(readlink "/proc/$init/ns/pid")"
t_eq "  ar's tenant sees it in ps, at its pid there" \
	"$(x router exec ar -- ps -eo pid=,comm= | awk '$2 == "xvr-router" { print $1 }')" "$inner"
t_eq "  xr's tenant sees no engine" "$(x router exec xr -- ps -eo comm= | grep -c xvr-router)" 0
t_fails "  xr's tenant cannot stop it by its host pid" x router exec xr -- kill -STOP "$pid3"
t_check "  ar's tenant stops its own engine" x router exec ar -- kill -STOP "$inner"
t_check "  which is restarted, restarts 3" wait_restart "$ID" "$pid3" 3
t_eq "  the new engine is born in ar's PID namespace too" \
	"$(readlink "/proc/$(engine_pid "$ID")/ns/pid")" "$(readlink "/proc/$init/ns/pid")"

# 4. Deleted: its supervisor is gone.
sup=$(sup_pid "$ID")
t_check "fe del" x fe del ar "$ID"
t_fails "the supervisor is gone after fe del" running "$sup"
t_fails "its pidfile is gone" test -e "$RUN/fe$ID.pid"

# 5. Deleted behind the supervisor's back (a 'fe del' killed half way, say):
#    the supervisor notices, stops the engine and ends.
ID=$(x fe add ar) || { t_fail "fe add (2)"; exit 1; }
ORPHAN=$ID
sup=$(sup_pid "$ID") pid=$(engine_pid "$ID")
key=$(printf '%d %d %d %d' $((ID & 255)) $((ID >> 8 & 255)) 0 0)
bpftool map update pinned "/sys/fs/bpf/xvr/$NODE/fes" key $key value $(printf '0 %.0s' $(seq 32)) ||
	t_fail "bpftool: clear engine $ID"
gone=0
for _ in $(seq 100); do running "$sup" || { gone=1; break; }; sleep 0.1; done
t_eq "the supervisor of an engine deleted behind its back ends" "$gone" 1
t_fails "and its engine is gone" running "$pid"
t_check "it says so" grep -q "its object is gone" "$RUN/fe$ID.log"
orphan_cleanup
