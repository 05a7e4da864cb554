# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Experiment 9: performance isolation (NAPI-macvlan, Table 1). Sourced by
# scripts/bench.sh; the point isolation:MODE (xdp, netns, macvlan, bridge)
# builds two routers on the same two DUT ports, told apart by the MAC the
# generator sends to on port A:
#
#   VR1  flooded: everything the generator can send (several times what the
#        node forwards)
#   VR2  the victim: a steady ISO_VICTIM share (default 0.3) of the node's
#        capacity, measured first with VR1 alone
#
# Both route 198.19.0.0/16 to the sink; VR1's destinations are in
# 198.19.1.0/24, VR2's in 198.19.2.0/24, and the sink counts VR2's apart
# (xvr-sink -m). One xvr-pktgen sends to a destination list in turn, so
# VR2's offered frames are known exactly from the count sent.
#
# Configurations, run interleaved (run 1 of each, run 2 of each, ...):
#   nolimit  equal weights, no limits
#   limit    VR1 limited to ISO_LIMIT (default 0.3) of the capacity
#            (`xvr limit set`; xvr modes only)
#   alone, alone-limited  VR1 alone at full load, without limits and with
#            limits on both routers that nothing reaches (1 Gpps): what the
#            admission machinery costs (experiment 4; xvr modes only)
#   bound    (xdp mode) like nolimit, VR1 and VR2 bound to different CPUs (`router set
#            cpus`): VR1 to ISO_BIND_VR1 (default DUT_CPU, where the port's
#            NAPI thread runs), VR2 to ISO_BIND_VR2 (default GEN_CPU; with two
#            CPUs there is no third, so VR2's cpumap thread shares the
#            generator's CPU)
#   alone-bound  (xdp mode) VR1 alone at full load, bound to ISO_BIND_VR1: capacity
#            with the cpumap handoff against 'alone' (experiment 4)
# ISO_REPS runs of ISO_DURATION seconds each (default 2 and 2: the suite
# must stay within 30 minutes).
# Each run is balanced as every run is (sent = delivered + counted drops);
# the record holds VR2's delivered/offered per run, the drops by place (the
# port's ring before XDP runs, XDP_DROP in the program, ...).

ISO_VICTIM=${ISO_VICTIM:-0.3}
ISO_REPS=${ISO_REPS:-$([ "$QUICK" = 1 ] && echo 1 || echo 2)}
ISO_DURATION=${ISO_DURATION:-2}
ISO_LIMIT=${ISO_LIMIT:-0.3}
ISO_BIND_VR1=${ISO_BIND_VR1:-$DUT_CPU}
ISO_BIND_VR2=${ISO_BIND_VR2:-$GEN_CPU}
ISO_DSTS=1000		# destination list length; VR2 gets an even share of it
ISO_VR1_NET=198.19.1
ISO_VR2_NET=198.19.2

# iso_mac K PORT: router K's MAC on port PORT (a or b).
iso_mac() { printf '02:00:00:%s:00:%02x' "$([ "$2" = a ] && echo 1a || echo 1b)" "$1"; }

# iso_dsts FILE K: ISO_DSTS lines "ADDRESS MAC", K of them (evenly spaced)
# VR2's, the rest VR1's.
iso_dsts() {
	local file=$1 k=$2 i prev=0 cur
	for i in $(seq 0 $((ISO_DSTS - 1))); do
		cur=$(( (i + 1) * k / ISO_DSTS ))
		if [ "$cur" != "$prev" ]; then
			echo "$ISO_VR2_NET.$((i % 250 + 1)) $(iso_mac 2 a)"
		else
			echo "$ISO_VR1_NET.$((i % 250 + 1)) $(iso_mac 1 a)"
		fi
		prev=$cur
	done >"$file"
}

# iso_offered FILE SENT: VR2's frames among the first SENT of the list's
# cycle (xvr-pktgen sends destination seq % length).
iso_offered() {
	awk -v sent="$2" -v net="$ISO_VR2_NET." '
		{ v2[NR - 1] = index($1, net) == 1; n++ }
		END { full = int(sent / n); rest = sent % n; c = 0
		      for (i = 0; i < n; i++) { if (v2[i]) { c += full; if (i < rest) c++ } }
		      print c }' "$1"
}

# ------------------------------------------------------------ the DUTs

# xdp mode: two routers without VIFs, each with a MAC rule on port A and
# its route to the sink.
iso_setup_xdp() {
	local k
	xvr_ports_up || return 1
	for k in 1 2; do
		"$XVR" -n "$NODE" router add "v$k" id "$k" mode xdp fibsync off &&
		"$XVR" -n "$NODE" classify add "v$k" mac "$(iso_mac "$k" a)" port "${P}a" &&
		"$XVR" -n "$NODE" route add "v$k" 198.19.0.0/16 via $GW_SINK \
			lladdr $MAC_S dev "${P}b" || return 1
	done
}

# netns mode: two namespace routers, a VIF on each port each (unthreaded:
# their NAPI runs in softirq in the thread that feeds them; drops counted).
iso_setup_netns() {
	local k ns d
	xvr_ports_up || return 1
	MX_DROPDEVS=()
	for k in 1 2; do
		ns=xvr-$NODE-v$k
		"$XVR" -n "$NODE" router add "v$k" id "$k" mode netns || return 1
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
			net.ipv6.conf.default.disable_ipv6=1
		# Names unique on the node: the accounting tells devices apart by name.
		"$XVR" -n "$NODE" vif add "v$k" "a$k" port "${P}a" mac "$(iso_mac "$k" a)" &&
		"$XVR" -n "$NODE" vif add "v$k" "b$k" port "${P}b" mac "$(iso_mac "$k" b)" &&
		rns_config "$ns" "a$k" "b$k" || return 1
		MX_DROPDEVS+=("$ns:a$k" "$ns:b$k")
	done
	while read -r d; do
		MX_DROPDEVS+=(":$d")
	done < <("$XVR" -n "$NODE" -j vif list | jq -r '.. | objects | select(.dev? != null) | .dev')
}

# macvlan baseline: two namespaces, each with a macvlan on each port.
iso_setup_macvlan() {
	local k ns
	ports_other_macs
	for k in 1 2; do
		ns=$P-r$k
		add_ns "$ns"
		ip link add "${P}m${k}a" link "${P}a" address "$(iso_mac "$k" a)" type macvlan mode bridge &&
		ip link add "${P}m${k}b" link "${P}b" address "$(iso_mac "$k" b)" type macvlan mode bridge &&
		ip link set "${P}m${k}a" netns "$ns" &&
		ip link set "${P}m${k}b" netns "$ns" &&
		rns_config "$ns" "${P}m${k}a" "${P}m${k}b" || return 1
	done
}

# bridge baseline: the two ports and a veth pair per router interface in
# one bridge (static FDB); each router's namespace forwards.
iso_setup_bridge() {
	local k ns br=${P}br d
	ports_other_macs
	ip link add "$br" type bridge stp_state 0 forward_delay 0 || return 1
	sysctl -qw "net.ipv6.conf.$br.disable_ipv6=1"
	MX_DEVS=()
	for k in 1 2; do
		ns=$P-r$k
		add_ns "$ns"
		ip link add "${P}v${k}a" type veth peer name "${P}e${k}a" address "$(iso_mac "$k" a)" netns "$ns" &&
		ip link add "${P}v${k}b" type veth peer name "${P}e${k}b" address "$(iso_mac "$k" b)" netns "$ns" || return 1
		sysctl -qw "net.ipv6.conf.${P}v${k}a.disable_ipv6=1" "net.ipv6.conf.${P}v${k}b.disable_ipv6=1"
		for d in "${P}v${k}a" "${P}v${k}b"; do
			ip link set "$d" master "$br" && ip link set "$d" up || return 1
		done
		bridge fdb replace "$(iso_mac "$k" a)" dev "${P}v${k}a" master static
		bridge fdb replace "$(iso_mac "$k" b)" dev "${P}v${k}b" master static
		rns_config "$ns" "${P}e${k}a" "${P}e${k}b" || return 1
		MX_DEVS+=(":${P}v${k}a" "$ns:${P}e${k}a" "$ns:${P}e${k}b" ":${P}v${k}b")
	done
	for d in "${P}a" "${P}b"; do
		ip link set "$d" master "$br" && ip link set "$d" up || return 1
	done
	ip link set "$br" up
	bridge fdb replace $MAC_G dev "${P}a" master static
	bridge fdb replace $MAC_S dev "${P}b" master static
}

iso_teardown() {
	local mode=$1 k
	case $mode in
	xdp | netns) xvr_teardown >/dev/null 2>&1 ;;
	bridge) ip link del "${P}br" 2>/dev/null || true
		for k in 1 2; do
			ip link del "${P}v${k}a" 2>/dev/null || true
			ip link del "${P}v${k}b" 2>/dev/null || true
		done ;;
	esac
	for k in 1 2; do
		ip netns del "$P-r$k" 2>/dev/null || true
	done
	mx_reset
	topo_down ""
	return 0
}

# iso_cpumap_prio: the node's cpumap threads (cpumap/CPU/map:ID, one per
# CPU of each group) at the DUT's real-time priority + 1, as the DUT's
# other inner stages are: at normal priority the NAPI thread on the same
# CPU (SCHED_FIFO) would starve them and their queues would overflow.
iso_cpumap_prio() {
	local id f pid
	[ -n "${DUT_PRIO:-}" ] || return 0
	# The outer map's values are the inner maps' ids, dumped as raw bytes.
	for id in $(bpftool -j map dump pinned "/sys/fs/bpf/xvr/$NODE/cpu_groups" 2>/dev/null |
		$PY -c 'import json, sys
for e in json.load(sys.stdin): print(int.from_bytes(bytes(int(b, 16) for b in e["value"]), "little"))'); do
		for f in /proc/[0-9]*/comm; do
			case $(cat "$f" 2>/dev/null) in
			cpumap/*/map:"$id")
				pid=${f#/proc/}
				chrt -f -p $((DUT_PRIO + 1)) "${pid%/comm}" ;;
			esac
		done
	done
}

# ------------------------------------------------------------- the runs

# iso_run NAME CONFIG DSTFILE: one accounted run; appends VR2's figures to
# the run record.
iso_run() {
	local name=$1 cfg=$2 dsts=$3 f sent matched offered
	f=$TMP/iso-$name-$cfg-$ISO_REP.json
	DURATION=$ISO_DURATION measure_run "$name $cfg run $ISO_REP/$ISO_REPS" pktgen "" \
		"$ISO_NODE" "$f" -f "$dsts" >&2
	sent=$(jq -r .sent "$f")
	matched=$(jq -r '.match_packets // 0' "$TMP/sink.json")
	offered=$(iso_offered "$dsts" "$sent")
	jq --arg cfg "$cfg" --argjson m "$matched" --argjson o "$offered" '
		. + {config: $cfg, vr2_offered: $o, vr2_delivered: $m,
		     vr2_ratio: (if $o > 0 then $m / $o else null end),
		     vr1_offered: (.sent - $o), vr1_delivered: (.delivered - $m),
		     vr2_offered_pps: ($o / .elapsed_s)}' "$f" >"$f.tmp" && mv "$f.tmp" "$f"
	log "$name $cfg run $ISO_REP: VR2 delivered $matched of $offered offered ($(jq -r 'if .vr2_ratio then .vr2_ratio * 1000 | floor / 1000 else "-" end' "$f"))"
	echo "$f"
}

# xp_isolation MODE
xp_isolation() {
	local mode=$1 name=isolation-$1 desc reason="" cap gen_pps k limit=0 cfgs f runs=() cfg
	case $mode in
	xdp) ISO_NODE=$NODE; cfgs="nolimit limit bound alone alone-limited alone-bound" ;;
	# netns: cpumap binding is the same handoff as in xdp mode, measured
	# there (the suite must stay within 30 minutes)
	netns) ISO_NODE=$NODE; cfgs="nolimit limit alone alone-limited" ;;
	macvlan | bridge) ISO_NODE=""; cfgs="nolimit" ;;
	*) die "isolation:$mode: mode xdp, netns, macvlan or bridge" ;;
	esac
	cfgs=${ISO_CONFIGS:-$cfgs}
	desc="two routers ($mode) on the same two ports, told apart by MAC; VR1 offered all the generator sends, VR2 a steady $ISO_VICTIM of the node's capacity; VR2's delivered/offered with no limits and with VR1 limited to $ISO_LIMIT of the capacity"
	log "$name: two routers, VR1 flooded, VR2 at $ISO_VICTIM of capacity; configs: $cfgs"
	[ "$mode" = xdp ] || l3_point_begin
	SINK_ATTACH_ARGS="-m $ISO_VR2_NET.0/24"
	topo_up ""
	SINK_ATTACH_ARGS=""
	"iso_setup_$mode" >"$TMP/xvr.log" 2>&1 || reason="setup failed: $(tail -1 "$TMP/xvr.log")"
	if [ -z "$reason" ]; then
		mx_args "$name" "" "$ISO_NODE"
		# Capacity: VR1 alone at full load.
		iso_dsts "$TMP/iso-dsts-cal.txt" 0
		ISO_REP=cal
		f=$(iso_run "$name" calibrate "$TMP/iso-dsts-cal.txt")
		cap=$(jq -r '.pps' "$f")
		gen_pps=$(jq -r '.offered_pps' "$f")
		k=$(awk -v c="$cap" -v g="$gen_pps" -v v="$ISO_VICTIM" -v n="$ISO_DSTS" \
			'BEGIN { k = int(v * c / g * n + 0.5); print (k < 1 ? 1 : k) }')
		limit=$(awk -v c="$cap" -v l="$ISO_LIMIT" 'BEGIN { printf "%d", c * l }')
		log "$name: capacity $cap pps at $gen_pps offered; VR2 gets $k of $ISO_DSTS destinations; VR1's limit $limit pps"
		iso_dsts "$TMP/iso-dsts.txt" "$k"
		for ISO_REP in $(seq 1 "$ISO_REPS"); do
			for cfg in $cfgs; do
				if ! case $cfg in
					limit) "$XVR" -n "$NODE" limit set v1 pps "$limit" ;;
					alone-limited) "$XVR" -n "$NODE" limit set v1 pps 1000000000 &&
						"$XVR" -n "$NODE" limit set v2 pps 1000000000 ;;
					bound) "$XVR" -n "$NODE" router set v1 cpus "$ISO_BIND_VR1" &&
						"$XVR" -n "$NODE" router set v2 cpus "$ISO_BIND_VR2" &&
						iso_cpumap_prio ;;
					alone-bound) "$XVR" -n "$NODE" router set v1 cpus "$ISO_BIND_VR1" &&
						iso_cpumap_prio ;;
					esac >>"$TMP/xvr.log" 2>&1; then
					reason="xvr limit set or router set cpus failed: $(tail -1 "$TMP/xvr.log")"
					break 2
				fi
				case $cfg in
				alone*) f=$TMP/iso-dsts-cal.txt ;;
				*) f=$TMP/iso-dsts.txt ;;
				esac
				runs+=("$(iso_run "$name" "$cfg" "$f")")
				if [ -n "$ISO_NODE" ]; then
					"$XVR" -n "$NODE" limit del v1 >>"$TMP/xvr.log" 2>&1
					"$XVR" -n "$NODE" limit del v2 >>"$TMP/xvr.log" 2>&1
					"$XVR" -n "$NODE" router set v1 cpus any >>"$TMP/xvr.log" 2>&1
					"$XVR" -n "$NODE" router set v2 cpus any >>"$TMP/xvr.log" 2>&1
				fi
			done
		done
		f=$TMP/iso-$name-calibrate-cal.json
	fi
	iso_teardown "$mode"
	[ "$mode" = xdp ] || l3_point_end
	if [ -n "$reason" ] || [ ${#runs[@]} = 0 ]; then
		jq -n --arg name "$name" --arg mode "$mode" --arg desc "$desc" --arg reason "${reason:-no runs}" \
			'{name: $name, kind: "isolation", mode: $mode, description: $desc,
			  status: "not measured", reason: $reason, configs: []}' >"$TMP/xp-$name.json"
		log "$name: not measured: ${reason:-no runs}"
	else
		jq -s --arg name "$name" --arg mode "$mode" --arg desc "$desc" \
			--argjson cap "$cap" --argjson limit "$limit" --argjson reps "$ISO_REPS" \
			--argjson dur "$ISO_DURATION" --argjson victim "$ISO_VICTIM" --slurpfile cal "$f" '
			def med: sort | if length > 0 then .[(length - 1) / 2 | floor] else null end;
			{name: $name, kind: "isolation", mode: $mode, description: $desc,
			 status: "measured", repetitions: $reps, duration_s: $dur,
			 capacity_pps: $cap, victim_share: $victim, vr1_limit_pps: $limit,
			 calibration: $cal[0],
			 configs: (group_by(.config) | map(
				([.[] | select(.balanced)]) as $ok |
				{config: .[0].config, runs: length, balanced_runs: ($ok | length),
				 pps_median: ([$ok[].pps] | med), pps_min: ([$ok[].pps] | min),
				 pps_max: ([$ok[].pps] | max),
				 vr2_ratio_median: ([$ok[].vr2_ratio] | med),
				 vr2_ratio_min: ([$ok[].vr2_ratio] | min),
				 vr2_ratio_max: ([$ok[].vr2_ratio] | max),
				 vr2_offered_pps_median: ([$ok[].vr2_offered_pps] | med),
				 vr1_offered_pps_median: ([$ok[] | .vr1_offered / .elapsed_s] | med),
				 vr1_delivered_pps_median: ([$ok[] | .vr1_delivered / .elapsed_s] | med),
				 drops_median: ([$ok[].drops | keys[]] | unique | map(. as $k |
					{($k): ([$ok[] | .drops[$k] // 0] | med)}) | add),
				 run_records: .}))}' "${runs[@]}" >"$TMP/xp-$name.json"
		log "$name: $(jq -r '[.configs[] | "\(.config): VR2 \(.vr2_ratio_median // "none") (\(.vr2_ratio_min // "-")-\(.vr2_ratio_max // "-")), \(.balanced_runs)/\(.runs) balanced"] | join("; ")' "$TMP/xp-$name.json")"
	fi
	xp_record "$TMP/xp-$name.json"
	return 0
}
