# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Helpers of the scaling experiments (issue 5, experiments 3-5: xp-fib.sh,
# xp-routers.sh, xp-vifs.sh), sourced by each of them. A scaling point is
# one count X (prefixes, routers, VIFs) on a DUT built for it: REPS
# accounted runs at maximal load (measure_run), one record of kind KIND.

[ -n "${SCALE_LIB:-}" ] && return 0
SCALE_LIB=1

# scale_now: the wall clock, for scale_since.
scale_now() { date +%s.%N; }
# scale_since T0: seconds since T0 (two decimals).
scale_since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }'; }

# scale_runs NAME DESC_UNUSED... : REPS accounted runs of the xvr DUT (ports
# in the root namespace, node $NODE) at maximal load; generator arguments
# after "--". The run files in SCALE_RUNS.
scale_runs() {
	local name=$1 rep f; shift
	[ "${1:-}" = -- ] && shift
	SCALE_RUNS=()
	mx_args "$name" "" "$NODE"
	for rep in $(seq 1 "$REPS"); do
		f=$TMP/scale-$name-$rep.json
		measure_run "$name run $rep/$REPS" pktgen "" "$NODE" "$f" "$@"
		SCALE_RUNS+=("$f")
	done
}

# scale_record NAME KIND MODE X DESC EXTRA_JSON: the point's record from
# SCALE_RUNS (medians over balanced runs), EXTRA_JSON merged in (setup
# times and the like), registered with xp_record.
scale_record() {
	local name=$1 kind=$2 mode=$3 x=$4 desc=$5 extra=$6
	jq -s --arg name "$name" --arg kind "$kind" --arg mode "$mode" \
		--argjson x "$x" --arg desc "$desc" --argjson extra "$extra" \
		--argjson reps "$REPS" --argjson dur "$DURATION" --argjson size "$SIZE" '
		([.[] | select(.balanced) | .pps] | sort) as $ok |
		{name: $name, kind: $kind, mode: $mode, x: $x, description: $desc,
		 status: "measured", repetitions: $reps, duration_s: $dur,
		 frame_size: $size, balanced_runs: ($ok | length),
		 pps_median: (if ($ok | length) > 0 then $ok[(($ok | length) - 1) / 2 | floor] else null end),
		 pps_min: ($ok | min), pps_max: ($ok | max),
		 offered_pps_median: ([.[] | .offered_pps] | sort | .[(length - 1) / 2 | floor]),
		 dut_ns_per_frame_median: ([.[] | select(.balanced) | .dut_ns_per_frame | select(. != null)] | sort |
			if length > 0 then .[(length - 1) / 2 | floor] else null end),
		 bottlenecks: ([.[] | select(.balanced) | .bottleneck] | unique),
		 run_records: .} + $extra' "${SCALE_RUNS[@]}" >"$TMP/xp-$name.json"
	xp_record "$TMP/xp-$name.json"
	log "$name: $(jq -r '"\(.balanced_runs)/\(.repetitions) runs balanced, median " + (if .pps_median then "\(.pps_median / 1e6 * 1000 | floor / 1000) Mpps" else "none" end)' "$TMP/xp-$name.json")"
}

# scale_not_measured NAME KIND MODE X DESC REASON [EXTRA_JSON]
scale_not_measured() {
	local name=$1 kind=$2 mode=$3 x=$4 desc=$5 reason=$6 extra=${7:-"{}"}
	log "$name: not measured: $reason"
	jq -n --arg name "$name" --arg kind "$kind" --arg mode "$mode" \
		--argjson x "$x" --arg desc "$desc" --arg reason "$reason" \
		--argjson extra "$extra" \
		'{name: $name, kind: $kind, mode: $mode, x: $x, description: $desc,
		  status: "not measured", reason: $reason, pps_median: null,
		  run_records: []} + $extra' >"$TMP/xp-$name.json"
	xp_record "$TMP/xp-$name.json"
}

# scale_prefix I: the I-th /24 (I = 0..511) of the benchmarking range
# 198.18.0.0/15, without its length.
scale_prefix() { echo "198.$((18 + $1 / 256)).$(($1 % 256)).0"; }

# scale_dsts COUNT N FILE: COUNT destination addresses, a random host of
# each of the N /24s of scale_prefix in turn, shuffled (fixed seed), for
# xvr-pktgen -f.
scale_dsts() {
	$PY - "$1" "$2" "$3" <<-'EOF'
	import random, sys
	count, n, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
	rng = random.Random(5)
	out = []
	for i in range(count):
	    j = i % n
	    out.append(f"198.{18 + j // 256}.{j % 256}.{rng.randrange(1, 255)}")
	rng.shuffle(out)
	with open(path, "w") as f:
	    f.write("\n".join(out) + "\n")
	EOF
}

# scale_mac BASE I: a locally administered MAC 02:00:00:BASE:HH:LL.
scale_mac() { printf '02:00:00:%s:%02x:%02x' "$1" $(($2 / 256)) $(($2 % 256)); }

# scale_point NAME KIND MODE X DESC DSTFILE EXTRA_JSON SETUP...: after
# topo_up, SETUP (a command and its arguments, output in $TMP/xvr.log) is
# timed, REPS accounted runs over DSTFILE's destinations follow, then the
# teardown (timed) and the record, or "not measured" if SETUP failed;
# setup_s, teardown_s and EXTRA_JSON merged in.
scale_point() {
	local name=$1 kind=$2 mode=$3 x=$4 desc=$5 dsts=$6 extra=$7 reason="" t0 t_setup t_down
	shift 7
	t0=$(scale_now)
	"$@" >"$TMP/xvr.log" 2>&1 || reason="xvr setup failed: $(tail -1 "$TMP/xvr.log")"
	t_setup=$(scale_since "$t0")
	log "$name: set up in ${t_setup}s"
	[ -z "$reason" ] && scale_runs "$name" -- -f "$dsts"
	MX_DROPDEVS=()
	t0=$(scale_now)
	xvr_teardown >/dev/null 2>&1
	t_down=$(scale_since "$t0")
	topo_down ""
	log "$name: torn down in ${t_down}s"
	extra=$(jq -n --argjson x "$x" --argjson s "$t_setup" --argjson td "$t_down" \
		--argjson e "$extra" '
		{setup_s: $s, teardown_s: $td, setup_s_per_unit: ($s / $x * 1000 | round / 1000)} + $e')
	if [ -n "$reason" ]; then
		scale_not_measured "$name" "$kind" "$mode" "$x" "$desc" "$reason" "$extra"
	else
		scale_record "$name" "$kind" "$mode" "$x" "$desc" "$extra"
	fi
	return 0
}
