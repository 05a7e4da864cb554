# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# Experiment 1 (issue 5): offered-load sweeps, RFC 2544 style. Sourced by
# scripts/bench.sh; the point sweep:MODE runs xp_sweep MODE for a mode of
# mode_run (kernel bridge macvlan pfpacket xdp netns afxdp afxdp-3 ...).
#
# With the DUT up, sweep_measure
#  1. measures its capacity: SWEEP_REPS accounted runs at maximal load,
#     capacity = their median delivered rate;
#  2. steps the offered rate (xvr-pktgen -r) through SWEEP_LOADS percent
#     of that capacity, SWEEP_REPS accounted runs of SWEEP_DURATION s each;
#  3. searches its no-drop rate (find_ndr, SWEEP_NDR_STEPS probes) unless
#     SWEEP_NDR=0.
# The offered rate a step achieved is the generator's (offered_pps), which
# may fall short of the requested one at high rates. One record per mode,
# kind "sweep", name sweep-MODE; report_e1_sweep.py draws it.
#
# Defaults (per mode: ~10 steps x 2 runs x 1 s plus overheads, ~35-45 s):
#   SWEEP_LOADS="10 25 50 75 90 100 110 125 150"
#   SWEEP_DURATION=1 (s per run), SWEEP_REPS=2 (QUICK: 1)
#   SWEEP_NDR=1, SWEEP_NDR_STEPS=6 (QUICK: 5)

SWEEP_LOADS=${SWEEP_LOADS:-10 25 50 75 90 100 110 125 150}
SWEEP_DURATION=${SWEEP_DURATION:-1}
SWEEP_REPS=${SWEEP_REPS:-$([ "$QUICK" = 1 ] && echo 1 || echo 2)}
SWEEP_NDR=${SWEEP_NDR:-1}
SWEEP_NDR_STEPS=${SWEEP_NDR_STEPS:-$([ "$QUICK" = 1 ] && echo 5 || echo 6)}

# The fields of a run record a sweep step keeps.
SWEEP_RUN_FIELDS='{sent, delivered, counted_drops, residual, balanced,
	elapsed_s, pps, offered_pps, drops, not_forwarded, bottleneck, saturated,
	dut_cpu_busy, dut_ns_per_frame, gen_backpressure, notes}'

xp_sweep() {
	local mode=$1 n0=${#RESULTS[@]} reason name=sweep-$1$NAME_SUFFIX
	SWEEP_MODE=$mode
	SWEEP_DONE=0
	local t0
	t0=$(date +%s)
	MEASURE=sweep_measure mode_run "$mode"
	if [ "$SWEEP_DONE" = 0 ]; then
		# The mode's setup failed before it measured: its not_measured
		# record (a standard point's) becomes the sweep's.
		reason=$(jq -rs '[.[] | .reason // empty] | first // "the mode did not come up"' \
			"${RESULTS[@]:$n0}" 2>/dev/null || echo "the mode did not come up")
		RESULTS=("${RESULTS[@]:0:$n0}")
		sweep_not_measured "$name" "$mode" "offered-load sweep of mode $mode" "$reason"
	fi
	log "$name: done in $(( $(date +%s) - t0 )) s"
}

sweep_not_measured() {
	local name=$1 mode=$2 desc=$3 reason=$4
	log "$name: not measured: $reason"
	jq -n --arg name "$name" --arg mode "$mode" --arg desc "$desc" --arg reason "$reason" \
		'{name: $name, kind: "sweep", mode: $mode, description: $desc,
		  status: "not measured", reason: $reason, pps_median: null}' \
		>"$TMP/sweep-$name.json"
	xp_record "$TMP/sweep-$name.json"
}

# sweep_runs LABEL FILEPREFIX N DUT args...: N accounted runs at $GEN_RATE;
# their records in FILEPREFIX-1.json ...
sweep_runs() {
	local label=$1 pre=$2 n=$3 kind=$4 dns=$5 node=$6 rep; shift 6
	for rep in $(seq 1 "$n"); do
		measure_run "$label run $rep/$n" "$kind" "$dns" "$node" "$pre-$rep.json" "$@"
	done
}

# sweep_measure NAME KIND DUT_NS NODE DESCRIPTION [generator args...]
sweep_measure() {
	local mode=$SWEEP_MODE point=$1 kind=$2 dns=$3 node=$4 desc=$5; shift 5
	local name=sweep-$mode$NAME_SUFFIX
	local DURATION=$SWEEP_DURATION GEN_RATE="" NDR="" NDR_STEPS=$SWEEP_NDR_STEPS
	local cap pct req dir=$TMP/$name t0
	SWEEP_DONE=1
	desc="offered-load sweep of $point: $desc"
	if [ "$kind" != pktgen ]; then
		sweep_not_measured "$name" "$mode" "$desc" \
			"needs xvr-pktgen's rate limit (this mode's generator is $kind)"
		return 0
	fi
	mkdir -p "$dir"
	mx_args "$name" "$dns" "$node"

	# 1. Capacity: the delivered rate at maximal load.
	t0=$(date +%s)
	sweep_runs "$name max load" "$dir/max" "$SWEEP_REPS" "$kind" "$dns" "$node" "$@"
	cap=$(jq -s '[.[] | select(.balanced) | .pps] | sort |
		if length > 0 then .[(length - 1) / 2 | floor] | floor else 0 end' \
		"$dir"/max-*.json)
	if [ "$cap" -le 0 ]; then
		sweep_not_measured "$name" "$mode" "$desc" \
			"no run at maximal load balanced its books, so no capacity to sweep against"
		return 0
	fi
	log "$name: capacity $(awk -v r="$cap" 'BEGIN { printf "%.3f", r / 1e6 }') Mpps (delivered at maximal load, $(( $(date +%s) - t0 )) s)"

	# 2. The steps, in percent of that capacity.
	for pct in $SWEEP_LOADS; do
		req=$(( cap * pct / 100 ))
		[ "$req" -ge 1000 ] || req=1000
		GEN_RATE=$req sweep_runs "$name ${pct}% ($req pps)" "$dir/step-$pct" \
			"$SWEEP_REPS" "$kind" "$dns" "$node" "$@"
	done

	# 3. The no-drop rate.
	if [ "$SWEEP_NDR" = 1 ]; then
		NDR_GEN_ARGS=("$@")
		find_ndr "$name"
		log "$name: no-drop rate $(awk -v r="$NDR" 'BEGIN { printf "%.3f", r / 1e6 }') Mpps"
	fi

	# The record: one step per load, plus the maximal-load runs.
	local steps=() f
	for pct in $SWEEP_LOADS; do
		jq -s --argjson pct "$pct" --argjson req "$(( cap * pct / 100 < 1000 ? 1000 : cap * pct / 100 ))" \
			'{load_pct: $pct, requested_pps: $req, runs: [.[] | '"$SWEEP_RUN_FIELDS"']}' \
			"$dir/step-$pct"-*.json >"$dir/s-$pct.json"
		steps+=("$dir/s-$pct.json")
	done
	jq -s '{load_pct: null, requested_pps: null, max_load: true,
		runs: [.[] | '"$SWEEP_RUN_FIELDS"']}' "$dir"/max-*.json >"$dir/s-max.json"
	steps+=("$dir/s-max.json")
	jq -s --arg name "$name" --arg mode "$mode" --arg desc "$desc" \
		--argjson cap "$cap" --argjson reps "$SWEEP_REPS" \
		--argjson dur "$SWEEP_DURATION" --argjson size "$SIZE" \
		--argjson ndr "${NDR:-null}" --argjson sinkcpu "$SINK_CPU" '
		def med: sort | if length > 0 then .[(length - 1) / 2 | floor] else null end;
		[.[] | . as $s | ([.runs[] | select(.balanced)]) as $ok | $s + {
		   offered_pps_median: ([$ok[].offered_pps] | med),
		   delivered_pps_median: ([$ok[].pps] | med),
		   delivered_pps_min: ([$ok[].pps] | min),
		   delivered_pps_max: ([$ok[].pps] | max),
		   loss_pct_median: ([$ok[] | select(.sent > 0) |
			100 * (.sent - .delivered) / .sent] | med),
		   balanced_runs: ($ok | length), total_runs: (.runs | length)}] as $steps |
		($steps | map(select(.load_pct != null))) as $ls |
		(def at($p): [$ls[] | select(.load_pct == $p) | .delivered_pps_median][0];
		 {d100: at(100), d150: at(150)}) as $d |
		($ls | map(.load_pct) | max) as $top |
		([$ls[] | select(.load_pct == $top) | .delivered_pps_median][0]) as $dtop |
		([$steps[] | .delivered_pps_median | select(. != null)] | max) as $peak |
		{name: $name, kind: "sweep", mode: $mode, description: $desc,
		 status: "measured", repetitions: $reps, duration_s: $dur,
		 frame_size: $size, sink_cpu: $sinkcpu,
		 capacity_pps: $cap, ndr_pps: $ndr, peak_pps: $peak,
		 delivered_100_pps: $d.d100, delivered_150_pps: $d.d150,
		 overload_ratio: (if $d.d100 and $d.d150 and $d.d100 > 0
			then $d.d150 / $d.d100 else null end),
		 top_load_pct: $top,
		 top_over_peak: (if $dtop and $peak and $peak > 0 then $dtop / $peak else null end),
		 max_load_over_peak: (if $peak and $peak > 0 and $cap then $cap / $peak else null end),
		 held_peak: (if $d.d100 and $d.d150 and $d.d100 > 0
			then ($d.d150 / $d.d100 >= 0.95) else null end),
		 balanced_runs: ([$steps[].balanced_runs] | add),
		 total_runs: ([$steps[].total_runs] | add),
		 pps_median: $cap,
		 steps: $steps}' "${steps[@]}" >"$TMP/sweep-$name.json"
	xp_record "$TMP/sweep-$name.json"
	jq -r '"\(.name): capacity \(.capacity_pps / 1e6 * 1000 | floor / 1000) Mpps, " +
		"no-drop \(if .ndr_pps then "\(.ndr_pps / 1e6 * 1000 | floor / 1000) Mpps" else "-" end), " +
		"delivered at 150%/100% \(if .overload_ratio then (.overload_ratio * 100 | floor / 100) else "-" end), " +
		"\(.balanced_runs)/\(.total_runs) runs balanced"' "$TMP/sweep-$name.json" |
		while read -r l; do log "$l"; done
}
