# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Experiment 3 of issue 10 (Trellis, Table 4): a victim router's one-way
# latency (p50, p99) and loss while its neighbour (a) is flooded, (b) burns
# CPU in its namespace. Sourced by scripts/bench.sh; the point victim:xdp
# builds two xdp-mode routers on port A, told apart by MAC:
#
#   v1  the neighbour: routes to port B (the suite's sink)
#   v2  the victim: routes to a third port C, whose peer has a sink of its
#       own, so the victim's frames are counted and their latency
#       histogrammed apart (xvr-pktgen's timestamp against the sink's clock)
#
# The victim is offered VIC_RATE (default: VIC_SHARE = 0.1 of the node's
# capacity with v1 alone, measured first). Configurations, interleaved over
# VIC_REPS rounds of VIC_DURATION s:
#   alone       the victim's traffic only (xvr-pktgen -r)
#   flood       v1 sent all the generator can send beside it (one generator,
#               a destination list with the victim's share of lines)
#   flood-fair  the same with the fair-sharing controller (weights 1:1)
#   flood-limit the same with v1 limited to VIC_LIMIT (0.5) of capacity
#   burn        the victim's traffic only, while v1's namespace runs a busy
#               loop on the DUT's CPU (within its cgroup's cpu limit)
# Each run: victim offered (from the generator's count), delivered (sink C),
# loss, p50/p99, and p99 over the alone run's of the same round.
# Target (issue 10): p99 <= 1.2x alone, loss 0.

VIC_SHARE=${VIC_SHARE:-0.1}
VIC_LIMIT=${VIC_LIMIT:-0.5}
VIC_REPS=${VIC_REPS:-$([ "$QUICK" = 1 ] && echo 1 || echo 2)}
VIC_DURATION=${VIC_DURATION:-2}
VIC_CONFIGS=${VIC_CONFIGS:-alone flood flood-fair flood-limit burn}
VIC_DSTS=1000
VIC_CTL_PRIO=${VIC_CTL_PRIO:-45}
MAC_V=02:00:00:00:03:01	# the victim's sink

vic_mac() { printf '02:00:00:2d:00:%02x' "$1"; }

# vic_dsts FILE K: VIC_DSTS lines, K of them (evenly spaced) the victim's.
vic_dsts() {
	local file=$1 k=$2 i prev=0 cur
	for i in $(seq 0 $((VIC_DSTS - 1))); do
		cur=$(( (i + 1) * k / VIC_DSTS ))
		if [ "$cur" != "$prev" ]; then
			echo "198.19.2.$((i % 250 + 1)) $(vic_mac 2)"
		else
			echo "198.19.1.$((i % 250 + 1)) $(vic_mac 1)"
		fi
		prev=$cur
	done >"$file"
}

vic_setup() {
	add_ns "$P-v"
	ip link add "${P}c" type veth peer name "${P}v0" address $MAC_V netns "$P-v" &&
	sysctl -qw "net.ipv6.conf.${P}c.disable_ipv6=1" &&
	ip link set "${P}c" up && ip -n "$P-v" link set "${P}v0" up &&
	"$SINK" -N "$P-v" attach "${P}v0" "$PIN/vsink" || return 1
	pin_napi "$P-v" "${P}v0" "$SINK_CPU" $SINK_PRIO
	pin_napi "" "${P}c" "$DUT_CPU" $DUT_PRIO
	xvr_ports_up && "$XVR" -n "$NODE" port add "${P}c" || return 1
	fair_routers vic_mac 1 2 &&
	"$XVR" -n "$NODE" route add v1 198.19.0.0/16 via $GW_SINK lladdr $MAC_S dev "${P}b" &&
	"$XVR" -n "$NODE" route add v2 198.19.0.0/16 via 198.51.102.2 lladdr $MAC_V dev "${P}c"
}

vic_teardown() {
	"$SINK" detach "$PIN/vsink" >/dev/null 2>&1
	xvr_teardown >/dev/null 2>&1
	ip link del "${P}c" 2>/dev/null
	ip netns del "$P-v" 2>/dev/null
	topo_down ""
}

# vic_run CFG ROUND: one run; prints its record's file.
vic_run() {
	local cfg=$1 rep=$2 f=$TMP/vic-$1-$2.json gen_args sent dur k offered extra="" bpid=""
	chrt -f -p "$VIC_CTL_PRIO" "$BASHPID" >/dev/null
	case $cfg in
	alone | burn) gen_args=(-f "$TMP/vic-only.txt" -r "$VIC_RATE") ;;
	# the flood at the calibrated generator rate, so that the victim's
	# share of the list is VIC_RATE (the generator's speed varies by run)
	*) gen_args=(-f "$TMP/vic-mix.txt" -r "$VIC_GEN_RATE") ;;
	esac
	case $cfg in
	flood-fair)
		fair_ctl_start "$XVR"
		extra=$FAIR_CTL
		sleep 0.3 ;;
	flood-limit) "$XVR" -n "$NODE" limit set v1 pps "$VIC_V1_LIMIT" ;;
	burn)
		"$XVR" -n "$NODE" router exec v1 -- timeout $((VIC_DURATION + 3)) \
			taskset -c "$DUT_CPU" sh -c 'while :; do :; done' >/dev/null 2>&1 &
		bpid=$!
		sleep 0.3 ;;
	esac
	"$SINK" reset "$PIN/vsink" >/dev/null
	"${GEN_SCHED[@]}" taskset -c "$GEN_CPU" "$PKTGEN" -N "$NS_G" -d "$MAC_A" -t "$VIC_DURATION" \
		-j "${gen_args[@]}" "${P}g0" >"$TMP/vic-gen.json" 2>/dev/null
	sleep "$DRAIN"
	"$SINK" -j read "$PIN/vsink" >"$TMP/vic-sink.json"
	[ -n "$extra" ] && { kill "$extra"; wait "$extra" 2>/dev/null; }
	[ -n "$bpid" ] && { kill "$bpid" 2>/dev/null; wait "$bpid" 2>/dev/null; }
	[ "$cfg" = flood-limit ] && "$XVR" -n "$NODE" limit del v1
	sent=$(jq .sent "$TMP/vic-gen.json")
	case $cfg in
	alone | burn) offered=$sent ;;
	*) k=$(grep -c "198.19.2." "$TMP/vic-mix.txt")
	   offered=$(awk -v s="$sent" -v k="$k" -v n="$VIC_DSTS" 'BEGIN {
		full = int(s / n); rest = s % n; printf "%d", full * k + (rest * k / n) }') ;;
	esac
	jq -n --arg cfg "$cfg" --argjson rep "$rep" --argjson offered "$offered" \
		--slurpfile g "$TMP/vic-gen.json" --slurpfile s "$TMP/vic-sink.json" '
		{config: $cfg, round: $rep, generator: $g[0], victim_offered: $offered,
		 victim_delivered: $s[0].tagged_packets,
		 victim_loss: (($offered - $s[0].tagged_packets) / $offered),
		 p50_ns: $s[0].latency.p50_ns, p99_ns: $s[0].latency.p99_ns,
		 max_ns: $s[0].latency.max_ns}' >"$f"
	echo "$f"
}

xp_victim() {
	local mode=$1 name=victim-$1 reason="" runs=() rep cfg f cap g
	[ "$mode" = xdp ] || die "victim:$mode: only victim:xdp"
	log "$name: victim beside a flooded / CPU-burning neighbour; configs: $VIC_CONFIGS"
	topo_up ""
	vic_setup >"$TMP/xvr.log" 2>&1 || reason="setup failed: $(tail -1 "$TMP/xvr.log")"
	if [ -z "$reason" ]; then
		# Capacity: v1 alone at full load, the victim none.
		vic_dsts "$TMP/vic-cal.txt" 0
		"${GEN_SCHED[@]}" taskset -c "$GEN_CPU" "$PKTGEN" -N "$NS_G" -d "$MAC_A" -t 2 -j \
			-f "$TMP/vic-cal.txt" "${P}g0" >"$TMP/vic-cal.json" 2>/dev/null
		cap=$(( $("$XVR" -n "$NODE" -j stats v1 interval 0 | jq '.[0].fwd_packets') / 2 ))
		g=$(jq '.sent / .duration_s | floor' "$TMP/vic-cal.json")
		VIC_GEN_RATE=$g
		VIC_RATE=${VIC_RATE:-$(awk -v c="$cap" -v s="$VIC_SHARE" 'BEGIN { printf "%d", c * s }')}
		VIC_V1_LIMIT=$(awk -v c="$cap" -v s="$VIC_LIMIT" 'BEGIN { printf "%d", c * s }')
		k=$(awk -v r="$VIC_RATE" -v g="$g" -v n="$VIC_DSTS" 'BEGIN { k = int(r / g * n + 0.5); print (k < 1 ? 1 : k) }')
		vic_dsts "$TMP/vic-mix.txt" "$k"
		echo "198.19.2.1 $(vic_mac 2)" >"$TMP/vic-only.txt"
		log "$name: capacity ~$cap pps (v1 alone), generator $g pps; victim at $VIC_RATE pps ($k of $VIC_DSTS lines in the flood), v1 limit $VIC_V1_LIMIT"
		for rep in $(seq 1 "$VIC_REPS"); do
			for cfg in $VIC_CONFIGS; do
				f=$(vic_run "$cfg" "$rep")
				runs+=("$f")
				log "$name: $cfg round $rep: $(jq -r '"victim offered \(.victim_offered) delivered \(.victim_delivered) loss \(.victim_loss * 10000 | floor / 100)% p50 \(.p50_ns) ns p99 \(.p99_ns) ns"' "$f")"
			done
		done
	fi
	vic_teardown
	if [ -n "$reason" ] || [ ${#runs[@]} = 0 ]; then
		jq -n --arg name "$name" --arg reason "${reason:-no runs}" \
			'{name: $name, kind: "victim", status: "not measured", reason: $reason}' \
			>"$TMP/xp-$name.json"
		log "$name: not measured: ${reason:-no runs}"
	else
		jq -s --arg name "$name" --argjson cap "$cap" --argjson rate "$VIC_RATE" '
			(map(select(.config == "alone")) | map({(.round | tostring): .p99_ns}) | add) as $base |
			{name: $name, kind: "victim", status: "measured", capacity_pps: $cap,
			 victim_rate_pps: $rate,
			 configs: (group_by(.config) | map({config: .[0].config,
				loss: [.[].victim_loss], p50_ns: [.[].p50_ns], p99_ns: [.[].p99_ns],
				p99_over_alone: [.[] | .p99_ns / $base[.round | tostring]]})),
			 runs: .}' "${runs[@]}" >"$TMP/xp-$name.json"
		jq -r '.configs[] | "\(.config): loss \(.loss | map(. * 10000 | floor / 100)) %, p99 \(.p99_ns) ns, p99/alone \(.p99_over_alone | map(. * 100 | floor / 100))"' \
			"$TMP/xp-$name.json" | while read -r l; do log "$name: $l"; done
		cp "$TMP/xp-$name.json" "${VIC_KEEP:-/dev/null}" 2>/dev/null || true
	fi
	xp_record "$TMP/xp-$name.json"
	return 0
}
