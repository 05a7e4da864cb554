# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Experiment 2: frame sizes at maximal offered load. Sourced by
# scripts/bench.sh; the point size:MODE sets MODE's DUT up once and measures
# every size in SIZE_STEPS (bytes with FCS) on it, REPS accounted runs each.

SIZE_STEPS=${SIZE_STEPS:-64 128 512 1500}
SIZE_DURATION=${SIZE_DURATION:-1}

size_measure() {
	local name=$SIZE_MODE kind=$2 dns=$3 node=$4 desc=$5; shift 5
	local z rep f steps=() runs
	mx_args "size-$name" "$dns" "$node"
	for z in $SIZE_STEPS; do
		runs=()
		for rep in $(seq 1 "$REPS"); do
			f=$TMP/size-$name-$z-$rep.json
			SIZE=$z DURATION=$SIZE_DURATION measure_run \
				"size-$name ${z}B run $rep/$REPS" "$kind" "$dns" "$node" "$f" "$@"
			runs+=("$f")
		done
		jq -s --argjson z "$z" '
			([.[] | select(.balanced) | .pps] | sort) as $ok |
			{frame_size: $z, repetitions: length, balanced_runs: ($ok | length),
			 pps_median: (if ($ok | length) > 0 then $ok[(($ok | length) - 1) / 2 | floor] else null end),
			 pps_min: ($ok | min), pps_max: ($ok | max),
			 offered_pps_median: ([.[] | .offered_pps] | sort | .[(length - 1) / 2 | floor]),
			 runs: [.[] | {sent, delivered, counted_drops, residual, balanced, pps,
				      offered_pps, bottleneck, drops}]}' "${runs[@]}" >"$TMP/size-$name-$z.json"
		steps+=("$TMP/size-$name-$z.json")
	done
	jq -s --arg name "size-$name" --arg mode "$SIZE_MODE" --arg desc "$desc" \
		--argjson reps "$REPS" --argjson dur "$SIZE_DURATION" '
		{name: $name, kind: "size", mode: $mode, status: "measured",
		 description: $desc, repetitions: $reps, duration_s: $dur, steps: .}' \
		"${steps[@]}" >"$TMP/xp-size-$name.json"
	xp_record "$TMP/xp-size-$name.json"
}

# xp_size MODE
xp_size() {
	local mode=$1
	log "size:$mode: frame sizes $SIZE_STEPS, $REPS x ${SIZE_DURATION}s each"
	if ! SIZE_MODE=$mode xp_mode_run size "$mode" size_measure; then
		jq -n --arg name "size-$mode" --arg mode "$mode" --arg reason "$XP_REASON" \
			'{name: $name, kind: "size", mode: $mode, status: "not measured",
			  reason: $reason, description: "frame sizes", steps: []}' >"$TMP/xp-size-$mode.json"
		xp_record "$TMP/xp-size-$mode.json"
	fi
}
