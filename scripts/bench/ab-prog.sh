#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# A/B of two builds' xvr_ingress under load, in interleaved pairs of short
# runs: for a change to the program too small to see through the machine's
# drift between the full bench's points (a round of it takes minutes; here a
# pair takes about 20 s).
#
#   scripts/bench/ab-prog.sh A/xvr B/xvr [PAIRS] [SECONDS]
#
# AB_RULE=prefix: the router takes port a's frames by a prefix rule
# (198.18.0.0/15 on port a) instead of the port default; AB_RULE=mac: by a
# MAC rule (port a's address, on port a).
#
# Each run builds one node with the given build (one xdp-mode router, port
# default on port a, 2 routes, like the xvr-2 point), offers xvr-pktgen's
# full rate from CPU 0 into port a for SECONDS (default 3) with the kernel's
# per-program statistics on, and prints the program's ns per run, port a's
# NAPI thread's CPU time per frame (both threads pinned to CPU 1, the sink's
# above them, as in make bench), and the frames the sink counted. Then the
# median and min-max of the pairwise B/A ratios. Everything is removed on
# exit, pass or fail.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
A=${1:?usage: $0 A/xvr B/xvr [PAIRS] [SECONDS]}
B=${2:?usage: $0 A/xvr B/xvr [PAIRS] [SECONDS]}
PAIRS=${3:-5}
SECS=${4:-3}
AB_RULE=${AB_RULE:-default}
case $AB_RULE in
default | prefix | mac) ;;
*) echo "ab-prog: AB_RULE: default, prefix or mac, not '$AB_RULE'" >&2; exit 1 ;;
esac
PKTGEN=$ROOT/build/xvr-pktgen
SINK=$ROOT/build/xvr-sink
P=xab$(printf '%03x' $(( ($$ + RANDOM) % 0xfff )))
NODE=$P
PIN=/sys/fs/bpf/$P
TMP=$(mktemp -d /tmp/xvr-abprog.XXXXXX)
STATS0=$(sysctl -n kernel.bpf_stats_enabled)

log() { printf '[ab-prog] %s\n' "$*" >&2; }
teardown() {
	"$SINK" detach "$PIN" >/dev/null 2>&1
	rm -rf "$PIN"
	"${X:-$A}" -n "$NODE" node down >/dev/null 2>&1
	rm -rf "/sys/fs/bpf/xvr/$NODE"
	ip link del "${P}a" 2>/dev/null
	ip link del "${P}b" 2>/dev/null
	ip netns del "${P}g" 2>/dev/null
	ip netns del "${P}s" 2>/dev/null
	return 0
}
cleanup() {
	local rc=$?
	set +e
	teardown
	sysctl -qw "kernel.bpf_stats_enabled=$STATS0"
	rm -rf "$TMP"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ "$(id -u)" = 0 ] || { log "needs root"; exit 1; }
for f in "$A" "$B" "$PKTGEN" "$SINK"; do [ -x "$f" ] || { log "$f missing"; exit 1; }; done
for t in jq bpftool ethtool; do command -v "$t" >/dev/null || { log "$t missing"; exit 1; }; done

napi_ns() {	# napi_ns DEV: CPU ns its NAPI threads ran so far
	local t=0 pid
	for pid in $(grep -sl "^napi/$1-" /proc/[0-9]*/comm | cut -d/ -f3); do
		t=$((t + $(cut -d' ' -f1 "/proc/$pid/schedstat")))
	done
	echo "$t"
}
napi_pin() {	# napi_pin DEV PRIO: its NAPI threads on CPU 1, SCHED_FIFO PRIO
	local pid
	for pid in $(grep -sl "^napi/$1-" /proc/[0-9]*/comm | cut -d/ -f3); do
		taskset -pc 1 "$pid" >/dev/null && chrt -f -p "$2" "$pid"
	done
}

# run LABEL XVR: one run; prints "LABEL prog_ns thread_ns delivered".
run() {
	local label=$1 id r0 c0 r1 c1 t0 t1 runs sent got
	X=$2
	ip netns add "${P}g"
	ip netns add "${P}s"
	ip link add "${P}a" address 02:00:00:00:aa:01 type veth peer "${P}g0" netns "${P}g"
	ip link add "${P}b" address 02:00:00:00:bb:01 type veth peer "${P}s0" netns "${P}s"
	sysctl -qw "net.ipv6.conf.${P}a.disable_ipv6=1" "net.ipv6.conf.${P}b.disable_ipv6=1"
	ip netns exec "${P}g" ethtool -K "${P}g0" tso off >/dev/null
	ip link set "${P}a" up
	ip link set "${P}b" up
	ip -n "${P}g" link set "${P}g0" up
	ip -n "${P}s" link set "${P}s0" up
	mkdir -p "$PIN"
	"$SINK" -N "${P}s" attach "${P}s0" "$PIN" >/dev/null
	{
		"$X" -n "$NODE" node up &&
		"$X" -n "$NODE" port add "${P}a" && "$X" -n "$NODE" port add "${P}b" &&
		"$X" -n "$NODE" router add r1 id 1 mode xdp fibsync off &&
		if [ "$AB_RULE" = prefix ]; then
			"$X" -n "$NODE" classify add r1 prefix 198.18.0.0/15 port "${P}a"
		elif [ "$AB_RULE" = mac ]; then
			"$X" -n "$NODE" classify add r1 mac 02:00:00:00:aa:01 port "${P}a"
		else
			"$X" -n "$NODE" classify add r1 default port "${P}a"
		fi &&
		"$X" -n "$NODE" route add r1 198.18.0.0/15 via 198.19.255.1 \
			lladdr 02:00:00:00:cc:01 dev "${P}b" &&
		"$X" -n "$NODE" route add r1 10.0.0.0/8 via 198.19.255.1 \
			lladdr 02:00:00:00:cc:01 dev "${P}b"
	} >"$TMP/setup.log" 2>&1 || { log "setup with $X: $(tail -1 "$TMP/setup.log")"; return 1; }
	echo 1 >"/sys/class/net/${P}a/threaded"
	echo 1 >"/sys/class/net/${P}b/threaded"
	ip netns exec "${P}s" sh -c "echo 1 > /sys/class/net/${P}s0/threaded"
	napi_pin "${P}a" 50
	napi_pin "${P}b" 50
	napi_pin "${P}s0" 60
	id=$(bpftool -j prog show | jq -r '[.[] | select(.name == "xvr_ingress")] | max_by(.id) | .id')
	sysctl -qw kernel.bpf_stats_enabled=1
	read -r r0 c0 < <(bpftool -j prog show id "$id" | jq -r '"\(.run_time_ns // 0) \(.run_cnt // 0)"')
	t0=$(napi_ns "${P}a")
	sent=$(taskset -c 0 "$PKTGEN" -N "${P}g" -d 02:00:00:00:aa:01 -c 0 -t "$SECS" -j "${P}g0" | jq .sent)
	read -r r1 c1 < <(bpftool -j prog show id "$id" | jq -r '"\(.run_time_ns // 0) \(.run_cnt // 0)"')
	t1=$(napi_ns "${P}a")
	sysctl -qw "kernel.bpf_stats_enabled=$STATS0"
	got=$("$SINK" -j read "$PIN" | jq .packets)
	runs=$((c1 - c0))
	teardown
	[ "$runs" -gt 0 ] || { log "no program run"; return 1; }
	echo "$label $(( (r1 - r0) / runs )) $(( (t1 - t0) / runs )) $got $sent"
}

for i in $(seq "$PAIRS"); do
	a=$(run A "$A")
	b=$(run B "$B")
	echo "$a"
	echo "$b"
	echo "$a $b" >>"$TMP/pairs"
done | tee "$TMP/runs" | awk '{ printf "  %s  prog %s ns/run  thread %s ns/frame  delivered %s of %s\n", $1, $2, $3, $4, $5 }'
awk '
function med(v, n,   i, j, t) {
	for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
	return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
}
{ n++; p[n] = $7 / $2; t[n] = $8 / $3; d[n] = $9 / $4 }
END {
	printf "B/A over %d pairs, median (min-max):\n", n
	printf "  program ns/run      %.3f (%.3f-%.3f)\n", med(p, n), p[1], p[n]
	printf "  thread ns/frame     %.3f (%.3f-%.3f)\n", med(t, n), t[1], t[n]
	printf "  frames delivered    %.3f (%.3f-%.3f)\n", med(d, n), d[1], d[n]
}' "$TMP/pairs"
