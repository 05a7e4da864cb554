# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# Experiment 1 (issue 5): offered-load sweeps, RFC 2544 style. Sourced by
# scripts/bench.sh; the point sweep:MODE runs xp_sweep MODE for a mode of
# mode_run (kernel bridge macvlan pfpacket xdp netns afxdp afxdp-3 ...).
#
# With the DUT up, sweep_measure
#  1. measures its capacity: SWEEP_CAP_REPS accounted runs at maximal
#     load, capacity = their median delivered rate;
#  2. steps the offered rate (xvr-pktgen -r) through SWEEP_LOADS percent
#     of that capacity, SWEEP_REPS accounted runs of SWEEP_DURATION s each;
#  3. unless SWEEP_NDR=0, finds its no-drop rate (loss <= 0.1%) by binary
#     search between the highest step without loss and the next one, in
#     SWEEP_NDR_STEPS accounted runs (the sweep already brackets it, so a
#     few probes give the resolution find_ndr gets from 9 over [0, 1.5 x]).
# Every run is an accounted run (measure_run). The offered rate a run
# achieved is the generator's (offered_pps), which falls a few percent
# short of the requested one and may fall far short at high rates: the
# record and the plots use it. The machine is checked for quiet before the
# first run of a mode only (SWEEP_QUIET=step: before every step's first
# run); the runs after it follow back to back. One record per mode, kind
# "sweep", name sweep-MODE; report_e1_sweep.py renders them.
#
# Defaults: SWEEP_LOADS="10 25 50 75 90 100 125 150", SWEEP_REPS=1 (2 gives
# the median and min-max of two runs per step), SWEEP_CAP_REPS=3,
# SWEEP_DURATION=1 (s per run), SWEEP_NDR=1, SWEEP_NDR_STEPS=3; QUICK=1:
# SWEEP_LOADS="25 50 90 100 125 150", SWEEP_REPS=1, SWEEP_CAP_REPS=1,
# SWEEP_DURATION=0.5. A run costs its duration plus ~1.1 s (drain,
# snapshots, accounting): a mode's 14 runs and its setup take ~35 s by
# default, its 10 runs ~25 s with QUICK=1.

if [ "$QUICK" = 1 ]; then
	SWEEP_LOADS=${SWEEP_LOADS:-25 50 90 100 125 150}
	SWEEP_DURATION=${SWEEP_DURATION:-0.5}
	SWEEP_REPS=${SWEEP_REPS:-1}
else
	SWEEP_LOADS=${SWEEP_LOADS:-10 25 50 75 90 100 125 150}
	SWEEP_DURATION=${SWEEP_DURATION:-1}
	SWEEP_REPS=${SWEEP_REPS:-1}
fi
SWEEP_CAP_REPS=${SWEEP_CAP_REPS:-$([ "$QUICK" = 1 ] && echo 1 || echo 3)}
SWEEP_NDR=${SWEEP_NDR:-1}
SWEEP_NDR_STEPS=${SWEEP_NDR_STEPS:-3}
SWEEP_QUIET=${SWEEP_QUIET:-mode}

# The fields of a run record a sweep step keeps.
SWEEP_RUN_FIELDS='{sent, delivered, counted_drops, residual, balanced,
	elapsed_s, pps, offered_pps, drops, not_forwarded, bottleneck, saturated,
	dut_cpu_busy, dut_ns_per_frame, gen_backpressure, notes}'

# xp_sweep MODE
xp_sweep() {
	local mode=$1 t0
	SWEEP_NAME=sweep-$mode$NAME_SUFFIX	# sweep:MODE@BYTES: that frame size
	SWEEP_MODE=$mode
	t0=$(date +%s)
	log "$SWEEP_NAME: loads $SWEEP_LOADS % of capacity, $SWEEP_REPS x ${SWEEP_DURATION}s each"
	if ! xp_mode_run sweep "$mode" sweep_measure; then
		sweep_not_measured "offered-load sweep of mode $mode" "$XP_REASON"
	fi
	log "$SWEEP_NAME: done in $(( $(date +%s) - t0 )) s"
}

sweep_not_measured() {
	local desc=$1 reason=$2
	log "$SWEEP_NAME: not measured: $reason"
	jq -n --arg name "$SWEEP_NAME" --arg mode "$SWEEP_MODE" --arg desc "$desc" \
		--arg reason "$reason" --argjson size "$SIZE" \
		'{name: $name, kind: "sweep", mode: $mode, description: $desc,
		  status: "not measured", reason: $reason, frame_size: $size,
		  pps_median: null, steps: []}' >"$TMP/xp-$SWEEP_NAME.json"
	xp_record "$TMP/xp-$SWEEP_NAME.json"
}

# sweep_runs LABEL FILEPREFIX KIND DUT_NS NODE [generator args...]:
# SWEEP_REPS accounted runs at $GEN_RATE, records in FILEPREFIX-N.json.
sweep_runs() {
	local label=$1 pre=$2 kind=$3 dns=$4 node=$5 rep MX_QUIET=0; shift 5
	for rep in $(seq 1 "$SWEEP_REPS"); do
		[ "$rep" = 1 ] && [ "$SWEEP_QUIET" = step ] && MX_QUIET=1
		[ "$SWEEP_FIRST" = 1 ] && MX_QUIET=1 && SWEEP_FIRST=0
		measure_run "$label run $rep/$SWEEP_REPS" "$kind" "$dns" "$node" "$pre-$rep.json" "$@"
		MX_QUIET=0
	done
}

# sweep_lossless FILE...: 1 if every balanced run lost <= 0.1% of what it sent
# (and there was one), else 0.
sweep_lossless() {
	jq -s '[.[] | select(.balanced)] |
		if length > 0 and all(.sent > 0 and (.sent - .delivered) * 1000 <= .sent)
		then 1 else 0 end' "$@"
}

# sweep_measure NAME KIND DUT_NS NODE DESCRIPTION [generator args...]
sweep_measure() {
	local point=$1 kind=$2 dns=$3 node=$4 desc=$5; shift 5
	local DURATION=$SWEEP_DURATION GEN_RATE=""
	local name=$SWEEP_NAME cap pct req dir=$TMP/$SWEEP_NAME t0 f steps=() tw
	tw=$(date +%s)
	desc="offered-load sweep of $point: $desc"
	if [ "$kind" != pktgen ]; then
		sweep_not_measured "$desc" "needs xvr-pktgen's rate limit (this mode's generator is $kind)"
		return 0
	fi
	mkdir -p "$dir"
	mx_args "$name" "$dns" "$node"
	SWEEP_FIRST=1

	# 1. Capacity: the delivered rate at maximal load.
	t0=$(date +%s)
	SWEEP_REPS=$SWEEP_CAP_REPS sweep_runs "$name max load" "$dir/max" \
		"$kind" "$dns" "$node" "$@"
	cap=$(jq -s '[.[] | select(.balanced) | .pps] | sort |
		if length > 0 then .[(length - 1) / 2 | floor] | floor else 0 end' "$dir"/max-*.json)
	if [ "$cap" -le 0 ]; then
		sweep_not_measured "$desc" "no run at maximal load balanced its books: no capacity to sweep against"
		return 0
	fi
	log "$name: capacity $(awk -v r="$cap" 'BEGIN { printf "%.3f", r / 1e6 }') Mpps (delivered at maximal load; $(( $(date +%s) - t0 )) s)"

	# 2. The steps, in percent of that capacity.
	for pct in $SWEEP_LOADS; do
		req=$(( cap * pct / 100 ))
		[ "$req" -ge 1000 ] || req=1000
		GEN_RATE=$req sweep_runs "$name ${pct}% ($req pps)" "$dir/step-$pct" \
			"$kind" "$dns" "$node" "$@"
		jq -s --argjson pct "$pct" --argjson req "$req" \
			'{load_pct: $pct, requested_pps: $req, runs: [.[] | '"$SWEEP_RUN_FIELDS"']}' \
			"$dir/step-$pct"-*.json >"$dir/s-$pct.json"
		steps+=("$dir/s-$pct.json")
	done
	jq -s '{load_pct: null, requested_pps: null, max_load: true,
		runs: [.[] | '"$SWEEP_RUN_FIELDS"']}' "$dir"/max-*.json >"$dir/s-max.json"
	steps+=("$dir/s-max.json")

	# 3. The no-drop rate: binary search between the highest step without
	# loss and the next step above it (a lossy step below that one, from
	# a disturbance, is counted in lossy_below_ndr).
	local lo=0 hi="" i mid ndr=null ndr_req=null ndr_note="" lossy_below=0 last_ok=""
	for pct in $SWEEP_LOADS; do
		[ "$(sweep_lossless "$dir/step-$pct"-*.json)" = 1 ] && last_ok=$pct
	done
	for pct in $SWEEP_LOADS; do
		req=$(jq .requested_pps "$dir/s-$pct.json")
		if [ -z "$last_ok" ] || [ "$pct" -gt "$last_ok" ]; then
			[ -n "$hi" ] || hi=$req
		elif [ "$pct" = "$last_ok" ]; then
			lo=$req
			ndr_req=$req
			ndr=$(jq -s '[.[] | select(.balanced) | .offered_pps] | min' "$dir/step-$pct"-*.json)
		else
			[ "$(sweep_lossless "$dir/step-$pct"-*.json)" = 1 ] || lossy_below=$((lossy_below + 1))
		fi
	done
	if [ -z "$hi" ]; then
		ndr_note="no step lost frames: the no-drop rate is at least the highest offered"
	elif [ "$SWEEP_NDR" = 1 ]; then
		for i in $(seq 1 "$SWEEP_NDR_STEPS"); do
			mid=$(( (lo + hi) / 2 ))
			GEN_RATE=$mid sweep_runs "$name no-drop $i/$SWEEP_NDR_STEPS ($mid pps)" \
				"$dir/ndr-$i" "$kind" "$dns" "$node" "$@"
			if [ "$(sweep_lossless "$dir/ndr-$i"-*.json)" = 1 ]; then
				lo=$mid
				ndr_req=$mid
				ndr=$(jq -s '[.[] | select(.balanced) | .offered_pps] | min' "$dir/ndr-$i"-*.json)
			else
				hi=$mid
			fi
			jq -s --argjson req "$mid" \
				'{load_pct: null, requested_pps: $req, ndr_probe: true,
				  runs: [.[] | '"$SWEEP_RUN_FIELDS"']}' \
				"$dir/ndr-$i"-*.json >"$dir/s-ndr-$i.json"
			steps+=("$dir/s-ndr-$i.json")
		done
		log "$name: no-drop rate: requested $ndr_req pps (offered $ndr), next lossy $hi pps"
	fi

	jq -s --arg name "$name" --arg mode "$SWEEP_MODE" --arg desc "$desc" \
		--argjson cap "$cap" --argjson reps "$SWEEP_REPS" \
		--argjson capreps "$SWEEP_CAP_REPS" \
		--argjson dur "$SWEEP_DURATION" --argjson size "$SIZE" \
		--argjson ndr "$ndr" --argjson ndr_req "$ndr_req" --arg ndr_note "$ndr_note" \
		--argjson ndr_hi "${hi:-null}" --argjson ndr_on "$SWEEP_NDR" \
		--argjson lossy_below "$lossy_below" \
		--argjson sinkcpu "$SINK_CPU" --arg loads "$SWEEP_LOADS" \
		--argjson wall "$(( $(date +%s) - tw ))" '
		def med: sort | if length > 0 then .[(length - 1) / 2 | floor] else null end;
		[.[] | ([.runs[] | select(.balanced)]) as $ok | . + {
		   offered_pps_median: ([$ok[].offered_pps] | med),
		   delivered_pps_median: ([$ok[].pps] | med),
		   delivered_pps_min: ([$ok[].pps] | min),
		   delivered_pps_max: ([$ok[].pps] | max),
		   loss_pct_median: ([$ok[] | select(.sent > 0) |
			100 * (.sent - .delivered) / .sent] | med),
		   balanced_runs: ($ok | length), total_runs: (.runs | length)}] as $steps |
		($steps | map(select(.load_pct != null))) as $ls |
		([$ls[] | select(.load_pct == 100) | .delivered_pps_median][0]) as $d100 |
		([$ls[] | select(.load_pct == 150) | .delivered_pps_median][0]) as $d150 |
		($ls | map(.load_pct) | max) as $top |
		([$ls[] | select(.load_pct == $top) | .delivered_pps_median][0]) as $dtop |
		([$steps[] | .delivered_pps_median | select(. != null)] | max) as $peak |
		([$steps[] | select(.max_load) | .offered_pps_median][0]) as $maxoff |
		{name: $name, kind: "sweep", mode: $mode, description: $desc,
		 status: "measured", repetitions: $reps, capacity_runs: $capreps,
		 duration_s: $dur,
		 frame_size: $size, sink_cpu: $sinkcpu, wall_s: $wall,
		 loads_pct: ($loads | split(" ") | map(select(. != "") | tonumber)),
		 capacity_pps: $cap, max_offered_pps: $maxoff, peak_pps: $peak,
		 ndr_pps: $ndr, ndr_requested_pps: $ndr_req,
		 ndr_next_lossy_pps: $ndr_hi, ndr_searched: ($ndr_on == 1),
		 lossy_below_ndr: $lossy_below,
		 ndr_note: (if $ndr_note == "" then null else $ndr_note end),
		 delivered_100_pps: $d100, delivered_150_pps: $d150,
		 overload_ratio: (if $d100 and $d150 and $d100 > 0 then $d150 / $d100 else null end),
		 held_peak: (if $d100 and $d150 and $d100 > 0 then ($d150 / $d100 >= 0.95) else null end),
		 top_load_pct: $top,
		 top_over_peak: (if $dtop and $peak and $peak > 0 then $dtop / $peak else null end),
		 max_load_over_peak: (if $peak and $peak > 0 then $cap / $peak else null end),
		 balanced_runs: ([$steps[].balanced_runs] | add),
		 total_runs: ([$steps[].total_runs] | add),
		 pps_median: $cap,
		 steps: $steps}' "${steps[@]}" >"$TMP/xp-$name.json"
	xp_record "$TMP/xp-$name.json"
	jq -r '"\(.name): capacity \(.capacity_pps / 1e6 * 1000 | floor / 1000) Mpps, " +
		"peak \(.peak_pps / 1e6 * 1000 | floor / 1000) Mpps, " +
		"no-drop \(if .ndr_pps then "\(.ndr_pps / 1e6 * 1000 | floor / 1000) Mpps" else "-" end), " +
		"delivered at 150%/100% \(if .overload_ratio then (.overload_ratio * 100 | floor / 100) else "-" end), " +
		"\(.balanced_runs)/\(.total_runs) runs balanced"' "$TMP/xp-$name.json" |
		while read -r l; do log "$l"; done
}
