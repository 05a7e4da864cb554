#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Where a shed frame's cost goes on veth (issue 10, the victim levers):
# one xdp-mode router flooded by xvr-pktgen (CPU 0, BPF_PROG_TEST_RUN live
# frames, XDP_TX into the port's veth), the port's threaded NAPI on CPU 1;
# interleaved runs with every frame forwarded (to the sink) and with every
# frame shed at ingress (`xvr fair set r1 rate 1000`). Per run: frames the
# program saw per second, CPU 1's busy time per such frame, and a perf
# profile of CPU 1 (top symbols). Run under the bench lock:
#   flock /work/bench.lock scripts/bench/perf-shed.sh [ROUNDS] [SECS]
# Prints one line a run, then the profiles to $OUT (default /tmp).
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
XVR=${XVR:-$ROOT/build/xvr}
. "$ROOT/selftests/lib.sh"
t_init perfshed
ROUNDS=${1:-3} SECS=${2:-3} OUT=${OUT:-/tmp}
M1=02:00:00:2e:00:01 M2=02:00:00:2e:00:02 MAC_S=02:00:00:2e:00:99
command -v perf >/dev/null || { echo "perf missing" >&2; exit 1; }
t_gen_sink_xdp2 $M1 $M2 $MAC_S || { echo "setup failed" >&2; exit 1; }

# the port's and the sink's NAPI threaded, on CPU 1 at real-time priority
napi() {
	local ns=$1 dev=$2 pid
	ip netns exec "$ns" sh -c "echo 1 > /sys/class/net/$dev/threaded" 2>/dev/null ||
		echo 1 >"/sys/class/net/$dev/threaded"
	for pid in $(pgrep -f "^napi/$dev-"); do
		taskset -pc 1 "$pid" >/dev/null && chrt -f -p 50 "$pid"
	done
}
ethtool -K "$PA" gro on >/dev/null 2>&1
napi "" "$PA"
ip netns exec "$NSS" ethtool -K s0 gro on >/dev/null 2>&1
napi "$NSS" s0

busy1() { awk -v hz="$(getconf CLK_TCK)" '$1 == "cpu1" { printf "%.0f\n", ($4 + $7 + $8) * 1e9 / hz }' /proc/stat; }
rx() { t_stat "$NODE" r1 rx_packets; }

run() {
	local mode=$1 r=$2 b0 b1 x0 x1 t0 t1 gp
	if [ "$mode" = shed ]; then "$XVR" -n "$NODE" fair set r1 rate 1000; fi
	taskset -c 0 "$PKTGEN" -N "$NSG" -d "$M1" -t $((SECS + 1)) -j g0 >/dev/null 2>&1 &
	gp=$!
	sleep 0.5
	b0=$(busy1) x0=$(rx) t0=$(date +%s%N)
	perf record -q -C 1 -g -o "$OUT/perf-shed-$mode-$r.data" -- sleep "$SECS" >/dev/null 2>&1
	b1=$(busy1) x1=$(rx) t1=$(date +%s%N)
	wait "$gp"
	"$XVR" -n "$NODE" fair set r1 rate none
	awk -v m="$mode" -v r="$r" -v b=$((b1 - b0)) -v x=$((x1 - x0)) -v t=$((t1 - t0)) \
		'BEGIN { printf "%s round %s: %.0f kpps at XDP, CPU 1 busy %.2f, %.0f ns per frame\n",
			m, r, x / t * 1e6, b / t, b / x }'
}

for r in $(seq 1 "$ROUNDS"); do
	run fwd "$r"
	run shed "$r"
done
for m in fwd shed; do
	perf report -q -i "$OUT/perf-shed-$m-1.data" --no-children --sort symbol \
		--percent-limit 2 2>/dev/null | grep -v '^$' | grep '%' | head -14 >"$OUT/perf-shed-$m.txt"
	echo "== $m, CPU 1, symbols over 2% (round 1)"
	cat "$OUT/perf-shed-$m.txt"
done
