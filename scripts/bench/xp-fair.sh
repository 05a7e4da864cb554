# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Experiment 2 of issue 10: weighted, cost-aware fair sharing (the fairness
# paper). Sourced by scripts/bench.sh; the point fair:xdp builds three
# xdp-mode routers on the DUT's two ports, told apart by the MAC the
# generator sends to:
#
#   v1  dear: a FAIR_PREFIXES-prefix table (scripts/gen-table.py), random
#       destinations across it
#   v2, v3  cheap: one route, one destination
#
# 1. Solo capacity of each router (the generator at full rate to it alone,
#    no controller): C_k frames/s with the DUT's CPU saturated, so 1/C_k is
#    the CPU time one of its frames costs, everything included (driver, XDP,
#    the sink's NAPI on the same CPU). Their ratio is the cost ratio.
# 2. All three offered together, evenly, at all the generator sends (well
#    over 2x what the node forwards; the record says how much), with the
#    controller (`xvr fair run cpus DUT_CPU`) and weights 1:1:1, then 2:1:1,
#    and once without controller for reference. Each router's CPU share is
#    (fwd_k / C_k) / sum_j (fwd_j / C_j), over a FAIR_DURATION s window
#    after FAIR_SETTLE s for the controller to settle; the target is its
#    weight share, within +-10%. The controller must report the node
#    saturated, else the run says so ("not saturated"), it does not pass.
# The numbers of the controller itself (its cost estimates and shares) are
# recorded beside the independent ones. FAIR_REPS rounds (default 3), each
# with its own solo runs: a mix's shares are computed from its own round's
# capacities (the machine's speed drifts between rounds more than the
# routers differ), and each router's error is reported per round with its
# spread.
#
# Tokens of FAIR_WEIGHTS besides weights and none:
#   lone   experiment 4: v2 alone at full rate, as its solo run, with limits
#          on all three routers that nothing reaches (1 Gpps) and the
#          controller on; its forwarded rate over the same round's solo v2
#          is what the machinery costs (target >= 0.95)
#   W/a, lone/a  the same with the controller of FAIR_XVR_A (another build's
#          xvr: the A of an A/B comparison, interleaved in the same rounds)

FAIR_PREFIXES=${FAIR_PREFIXES:-170000}
FAIR_DURATION=${FAIR_DURATION:-2}
FAIR_SETTLE=${FAIR_SETTLE:-1.5}
FAIR_REPS=${FAIR_REPS:-3}
FAIR_SOLO_REPS=${FAIR_SOLO_REPS:-1}	# solo runs per round; capacity = their median
FAIR_WEIGHTS=${FAIR_WEIGHTS:-none 1:1:1 2:1:1}
FAIR_CTL_PRIO=${FAIR_CTL_PRIO:-45}	# above the generator on its CPU: it must run
FAIR_XVR_A=${FAIR_XVR_A:-}		# the controller of W/a and lone/a

fair_mac() { printf '02:00:00:2c:00:%02x' "$1"; }

# fair_counters FILE: every router's counters, one JSON object by name.
fair_counters() {
	chrt -f "$FAIR_CTL_PRIO" "$XVR" -n "$NODE" -j stats interval 0 |
		jq '[.[] | select(.router) | {(.router): {rx: .rx_packets, fwd: .fwd_packets,
			punt: .punt_packets, drop: .drop_packets, shed: (.drop.shed // 0),
			cost_ns: .cost_ns}}] | add' >"$1"
}

# fair_cpu: the DUT's CPU's busy (system, irq, softirq) and steal time, in
# ns: "BUSY STEAL".
fair_cpu() {
	awk -v c="cpu$DUT_CPU" -v hz="$(getconf CLK_TCK)" \
		'$1 == c { printf "%.0f %.0f\n", ($4 + $7 + $8) * 1e9 / hz, $9 * 1e9 / hz }' /proc/stat
}

# fair_window NAME DSTS: the generator at full rate over DSTS; counters
# after FAIR_SETTLE s and FAIR_DURATION s later; prints the record's file.
fair_window() {
	local name=$1 dsts=$2 f=$TMP/fair-${1//\//_}.json gpid t0 t1 total b0 b1 s0 s1
	# This subshell outranks the generator on its CPU, or its timing slips.
	chrt -f -p "$FAIR_CTL_PRIO" "$BASHPID" >/dev/null
	total=$(awk -v a="$FAIR_SETTLE" -v b="$FAIR_DURATION" 'BEGIN { print a + b + 3 }')
	"${GEN_SCHED[@]}" taskset -c "$GEN_CPU" "$PKTGEN" -N "$NS_G" -d "$MAC_A" -f "$dsts" \
		-t "$total" -j "${P}g0" >"$TMP/fair-gen.json" 2>/dev/null &
	gpid=$!
	sleep "$FAIR_SETTLE"
	fair_counters "$TMP/fair-a.json"
	read -r b0 s0 < <(fair_cpu)
	t0=$(date +%s.%N)
	sleep "$(awk -v d="$FAIR_DURATION" 'BEGIN { print d / 2 }')"
	# the controller's view in the middle of the window
	chrt -f "$FAIR_CTL_PRIO" "$XVR" -n "$NODE" -j fair show >"$TMP/fair-ctl.json" 2>/dev/null ||
		echo '{}' >"$TMP/fair-ctl.json"
	sleep "$(awk -v d="$FAIR_DURATION" 'BEGIN { print d / 2 }')"
	fair_counters "$TMP/fair-b.json"
	read -r b1 s1 < <(fair_cpu)
	t1=$(date +%s.%N)
	wait "$gpid"
	jq -n --arg name "$name" --argjson dt "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" \
		--slurpfile a "$TMP/fair-a.json" --slurpfile b "$TMP/fair-b.json" \
		--slurpfile g "$TMP/fair-gen.json" --slurpfile c "$TMP/fair-ctl.json" \
		--argjson busy "$((b1 - b0))" --argjson steal "$((s1 - s0))" '
		{name: $name, window_s: $dt, generator: $g[0], controller: $c[0],
		 dut_busy: ($busy / 1e9 / $dt), dut_steal: ($steal / 1e9 / $dt),
		 routers: ($b[0] | to_entries | map(.key as $k | .value as $v | $a[0][$k] as $u |
			{(.key): {rx_pps: (($v.rx - $u.rx) / $dt), fwd_pps: (($v.fwd - $u.fwd) / $dt),
			 shed_pps: (($v.shed - $u.shed) / $dt), cost_ns: $v.cost_ns,
			 balanced: ($v.rx == $v.fwd + $v.punt + $v.drop)}}) | add)}' >"$f"
	echo "$f"
}

# fair_routers MACFN K...: xdp-mode routers vK (id K) on the node's ports,
# each told apart on port A by the MAC `MACFN K` prints (xp-victim too).
fair_routers() {
	local macfn=$1 k
	shift
	for k in "$@"; do
		"$XVR" -n "$NODE" router add "v$k" id "$k" mode xdp fibsync off &&
		"$XVR" -n "$NODE" classify add "v$k" mac "$("$macfn" "$k")" port "${P}a" || return 1
	done
}

# fair_setup: node, ports, v1 (table) v2 v3; destination files.
fair_setup() {
	local k
	xvr_ports_up || return 1
	$PY "$ROOT/scripts/gen-table.py" -n "$FAIR_PREFIXES" --via $GW_SINK --lladdr $MAC_S \
		--dev "${P}b" -o "$TMP/fair-table.txt" --dst-file "$TMP/fair-v1.txt" \
		--dst-count 65536 || return 1
	fair_routers fair_mac 1 2 3 || return 1
	"$XVR" -n "$NODE" route load v1 "$TMP/fair-table.txt" || return 1
	for k in 2 3; do
		"$XVR" -n "$NODE" route add "v$k" 198.19.0.0/16 via $GW_SINK lladdr $MAC_S \
			dev "${P}b" || return 1
	done
	sed "s/\$/ $(fair_mac 1)/" "$TMP/fair-v1.txt" >"$TMP/fair-solo1.txt"
	for k in 2 3; do echo "$DST_IP $(fair_mac "$k")" >"$TMP/fair-solo$k.txt"; done
	# Evenly interleaved: v1, v2, v3, v1, ...
	awk -v m2="$DST_IP $(fair_mac 2)" -v m3="$DST_IP $(fair_mac 3)" \
		'{ print; print m2; print m3 }' "$TMP/fair-solo1.txt" >"$TMP/fair-mix.txt"
}

# fair_ctl_start XVR: the controller for the DUT's CPU, in the background on
# the generator's, above the generator (xp-victim too).
fair_ctl_start() {
	chrt -f "$FAIR_CTL_PRIO" taskset -c "$GEN_CPU" "$1" -n "$NODE" fair run \
		cpus "$DUT_CPU" interval 100 >>"$TMP/fair-ctl.log" 2>&1 &
	FAIR_CTL=$!
}

fair_ctl_stop() {
	kill "$FAIR_CTL" 2>/dev/null
	wait "$FAIR_CTL" 2>/dev/null
}

# fair_config TOKEN ROUND: one window of a FAIR_WEIGHTS token; appends to runs.
fair_config() {
	local w=$1 rep=$2 ctl_xvr=$XVR k
	if [ "${w%/a}" != "$w" ]; then
		[ -x "$FAIR_XVR_A" ] || { echo "$w: FAIR_XVR_A is no xvr" >>"$TMP/xvr.log"; return 1; }
		ctl_xvr=$FAIR_XVR_A
	fi
	case ${w%/a} in
	none)
		runs+=("$(fair_window "mix-$w-r$rep" "$TMP/fair-mix.txt")") ;;
	lone)
		for k in 1 2 3; do
			"$XVR" -n "$NODE" limit set "v$k" pps 1000000000 >>"$TMP/xvr.log" 2>&1 || return 1
		done
		fair_ctl_start "$ctl_xvr"
		runs+=("$(fair_window "lone-$w-r$rep" "$TMP/fair-solo2.txt")")
		fair_ctl_stop
		for k in 1 2 3; do "$XVR" -n "$NODE" limit del "v$k" >>"$TMP/xvr.log" 2>&1; done
		log "$name: $w (v2 alone, limits and controller on): $(jq -r '.routers.v2.fwd_pps | floor' "${runs[-1]}") pps, shed $(jq -r '.routers.v2.shed_pps | floor' "${runs[-1]}") pps"
		return 0 ;;
	*)
		for k in 1 2 3; do
			"$XVR" -n "$NODE" router set "v$k" weight "$(cut -d: -f"$k" <<<"${w%/a}")" \
				>>"$TMP/xvr.log" 2>&1 || return 1
		done
		fair_ctl_start "$ctl_xvr"
		runs+=("$(fair_window "mix-$w-r$rep" "$TMP/fair-mix.txt")")
		fair_ctl_stop ;;
	esac
	log "$name: weights $w: $(jq -r '[.routers | to_entries[] | "\(.key) \(.value.fwd_pps | floor) pps"] | join(", ")' "${runs[-1]}"), controller saturated: $(jq -r '.controller.saturated // "-"' "${runs[-1]}")"
}

xp_fair() {
	local mode=$1 name=fair-$1 reason="" runs=() rep w k f desc s
	[ "$mode" = xdp ] || die "fair:$mode: only fair:xdp"
	desc="three xdp-mode routers, v1 with a $FAIR_PREFIXES-prefix table and random destinations, v2 and v3 one route; offered together at full generator rate; CPU share by weight with the fair-sharing controller"
	log "$name: three routers, v1 dear ($FAIR_PREFIXES prefixes), weights: $FAIR_WEIGHTS"
	topo_up ""
	fair_setup >"$TMP/xvr.log" 2>&1 || reason="setup failed: $(tail -1 "$TMP/xvr.log")"
	for rep in $(seq 1 "$FAIR_REPS"); do
		[ -z "$reason" ] || break
		for s in $(seq 1 "$FAIR_SOLO_REPS"); do
			for k in 1 2 3; do
				runs+=("$(fair_window "solo$k-r$rep.$s" "$TMP/fair-solo$k.txt")")
				log "$name: v$k alone: $(jq -r ".routers.v$k.fwd_pps | floor" "${runs[-1]}") pps"
			done
		done
		for w in $FAIR_WEIGHTS; do
			fair_config "$w" "$rep" || { reason="weights $w: $(tail -1 "$TMP/xvr.log")"; break; }
		done
	done
	[ -n "${FAIR_DEBUG:-}" ] && cp -r "$TMP" "$FAIR_DEBUG"
	xvr_teardown >/dev/null 2>&1
	topo_down ""
	if [ -n "$reason" ] || [ ${#runs[@]} = 0 ]; then
		jq -n --arg name "$name" --arg desc "$desc" --arg reason "${reason:-no runs}" \
			'{name: $name, kind: "fair", description: $desc, status: "not measured",
			  reason: $reason}' >"$TMP/xp-$name.json"
		log "$name: not measured: ${reason:-no runs}"
		xp_record "$TMP/xp-$name.json"
		return 0
	fi
	jq -s --arg name "$name" --arg desc "$desc" --arg weights "$FAIR_WEIGHTS" '
		def med: sort | .[(length - 1) / 2 | floor];
		def rnd: .name | capture("-r(?<r>[0-9]+)($|\\.)").r;
		def spread: {median: med, min: min, max: max};
		(map(select(.name | startswith("solo")))) as $solo |
		def capof($rs; $k): [$rs[] | select(.name[4:5] == $k) | .routers["v" + $k].fwd_pps] | med;
		def costof($rs; $k): [$rs[] | select(.name[4:5] == $k) |
			.dut_busy * 1e9 / .routers["v" + $k].fwd_pps] | med;
		# each round its own capacities: the solo runs of that round; v2
		# and v3 (the same router twice) also pooled, as "cheap"
		($solo | group_by(rnd) | map((.[0] | rnd) as $r | . as $rs | {($r):
			({v1: capof($rs; "1"), v2: capof($rs; "2"), v3: capof($rs; "3")} |
			 . + {cheap: ((.v2 + .v3) / 2)})}) | add) as $caps |
		# and the CPU time per forwarded frame of each router, from the DUT
		# CPU busy time in their solo runs (ns)
		($solo | group_by(rnd) | map((.[0] | rnd) as $r | . as $rs | {($r):
			({v1: costof($rs; "1"), v2: costof($rs; "2"), v3: costof($rs; "3")} |
			 . + {cheap: ((.v2 + .v3) / 2)})}) | add) as $costs |
		(map(select(.name | startswith("mix-none-"))) | map({(rnd): ([.routers[].fwd_pps] | add)}) |
			add // {}) as $none |
		([.[] | select(.name | startswith("mix")) | . as $r | rnd as $rd | $caps[$rd] as $cap |
			(.name | split("-")[1]) as $w |
			(if $w == "none" then [1, 1, 1] else ($w | split("/")[0] | split(":") | map(tonumber)) end) as $ws |
			[range(0; 3) as $i | $r.routers["v\($i + 1)"].fwd_pps] as $fwd |
			[range(0; 3) as $i | $fwd[$i] / $cap["v\($i + 1)"]] as $t |
			($t | add) as $tsum |
			([$fwd[0] / $cap.v1, $fwd[1] / $cap.cheap, $fwd[2] / $cap.cheap]) as $tp |
			($tp | add) as $tpsum |
			$costs[$rd] as $cost |
			([$fwd[0] * $cost.v1, $fwd[1] * $cost.cheap, $fwd[2] * $cost.cheap]) as $u |
			($u | add) as $usum |
			{weights: $w, round: ($rd | tonumber), saturated: .controller.saturated,
			 saturated_ticks: .controller.saturated_ticks, ticks: .controller.ticks,
			 offered_pps: (.generator.sent / .generator.duration_s), sent: .generator.sent,
			 fwd_pps: $fwd, fwd_total_over_none: (if $none[$rd] then ($fwd | add) / $none[$rd] else null end),
			 shed_pps: [range(0; 3) as $i | $r.routers["v\($i + 1)"].shed_pps],
			 balanced: ([.routers[].balanced] | all),
			 capacity_pps: $cap,
			 cpu_share: [$t[] / $tsum],
			 weight_share: [$ws[] / ($ws | add)],
			 share_error: [range(0; 3) as $i | ($t[$i] / $tsum) / ($ws[$i] / ($ws | add)) - 1],
			 # v2 and v3 are the same router twice: one capacity for both,
			 # the median of both their solo runs of the round
			 cpu_share_pooled: [$tp[] / $tpsum],
			 share_error_pooled: [range(0; 3) as $i | ($tp[$i] / $tpsum) / ($ws[$i] / ($ws | add)) - 1],
			 # CPU time: forwarded frames at the CPU time each took in its solo run
			 cost_ns: $cost, dut_busy: .dut_busy, dut_steal: .dut_steal,
			 cpu_time_explained: ($usum / 1e9 / .dut_busy),
			 cpu_share_time: [$u[] / $usum],
			 share_error_time: [range(0; 3) as $i | ($u[$i] / $usum) / ($ws[$i] / ($ws | add)) - 1],
			 controller_share: [.controller.routers[]?.share],
			 controller_cost_ns: [.controller.routers[]?.cost_ns],
			 controller_overhead_ns: .controller.overhead_ns,
			 controller_shed_ns: .controller.shed_ns,
			 offered_over_capacity: (.generator.sent / .generator.duration_s / ($fwd | add))}]) as $mixes |
		{name: $name, kind: "fair", description: $desc, status: "measured",
		 rounds: ($caps | length), capacity_pps_by_round: $caps,
		 solo_runs_pps: ($solo | group_by(.name[4:5]) | map(.[0].name[4:5] as $k |
			{("v" + $k): [.[].routers["v" + $k].fwd_pps]}) | add),
		 cost_ratio_v1_v2: ([$caps[] | .cheap / .v1] | spread),
		 cost_ns_by_round: $costs,
		 cost_ratio_v1_v2_time: ([$costs[] | .v1 / .cheap] | spread),
		 mixes: $mixes,
		 errors: ($mixes | group_by(.weights) | map({weights: .[0].weights,
			rounds: length,
			share_error: [range(0; 3) as $i | [.[].share_error[$i]] | spread],
			share_error_pooled: [range(0; 3) as $i | [.[].share_error_pooled[$i]] | spread],
			share_error_time: [range(0; 3) as $i | [.[].share_error_time[$i]] | spread],
			cpu_time_explained: ([.[].cpu_time_explained] | spread),
			fwd_total_over_none: ([.[].fwd_total_over_none | select(. != null)] |
				if length > 0 then spread else null end)})),
		 machinery: ([.[] | select(.name | startswith("lone")) | rnd as $rd |
			{config: (.name | split("-")[1]), round: ($rd | tonumber),
			 fwd_pps: .routers.v2.fwd_pps, shed_pps: .routers.v2.shed_pps,
			 solo_pps: $caps[$rd].v2, over_solo: (.routers.v2.fwd_pps / $caps[$rd].v2),
			 saturated: .controller.saturated, balanced: ([.routers[].balanced] | all)}] |
			group_by(.config) | map({config: .[0].config, runs: .,
				over_solo: ([.[].over_solo] | spread)})),
		 runs: .}' "${runs[@]}" >"$TMP/xp-$name.json"
	jq -r '.mixes[] | "weights \(.weights) round \(.round): cpu share \(.cpu_share | map(. * 1000 | floor / 1000)) vs \(.weight_share | map(. * 1000 | floor / 1000)), error \(.share_error | map(. * 1000 | floor / 1000)) (v2, v3 pooled: \(.share_error_pooled | map(. * 1000 | floor / 1000)); by CPU time: \(.share_error_time | map(. * 1000 | floor / 1000)), explained \(.cpu_time_explained * 100 | floor / 100)), saturated \(.saturated), offered/forwarded \(.offered_over_capacity * 100 | floor / 100), forwarded over no controller \(.fwd_total_over_none)"' \
		"$TMP/xp-$name.json" | while read -r l; do log "$name: $l"; done
	jq -r '.machinery[] | "machinery \(.config): v2 alone over its solo run \(.over_solo)"' \
		"$TMP/xp-$name.json" | while read -r l; do log "$name: $l"; done
	cp "$TMP/xp-$name.json" "${FAIR_KEEP:-/dev/null}" 2>/dev/null || true
	xp_record "$TMP/xp-$name.json"
	return 0
}
