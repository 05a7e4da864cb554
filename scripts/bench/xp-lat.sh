# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# Experiment 6 (issue 5): latency. Sourced by scripts/bench.sh; the point
# lat:MODE runs xp_lat MODE for a mode of mode_run (kernel bridge macvlan
# pfpacket xdp netns afxdp ...).
#
# With the DUT up, lat_measure
#  1. measures its capacity: one accounted run at maximal load, capacity =
#     its delivered rate;
#  2. runs one accounted run at each of LAT_LOADS percent of that capacity
#     (xvr-pktgen -r). The sink histograms the one-way latency of every
#     generated frame (xvr-pktgen's timestamp, written when the frame was
#     built, against the sink's clock when it arrived: both
#     bpf_ktime_get_ns(), one machine), log-linear, 16 buckets per power of
#     two, so percentiles are bucket upper bounds within 6.25%;
#  3. pings through the DUT during each run (also the maximal-load one):
#     from the generator's namespace (198.18.0.1) to the sink's (198.19.0.1),
#     every LAT_PING_INTERVAL s while the generator runs. The sink is
#     re-attached with --pass-untagged so ICMP reaches its namespace's stack;
#     the DUT gets the route back (198.18.0.0/16 to the generator). The
#     echo frames are not the generator's: they are not in "sent", not
#     delivered, and a lost one may show among the counted drops, so each
#     load records the probes lost next to the run's residual.
# pfpacket forwards from A to B only: no echo reply comes back, its ping is
# "not measured". One record per mode, kind "lat", name lat-MODE;
# report_e6_lat.py draws it.
#
# The loads follow the capacity run back to back (MX_QUIET=0: no quiet
# check before them). Defaults (per mode: 4 runs of LAT_DURATION s plus
# ~2 s overhead each, plus the mode's setup; ~20-30 s per mode):
#   LAT_LOADS="10 50 90" (percent of capacity)
#   LAT_DURATION=1 seconds per run
#   LAT_PING_INTERVAL=0.01 (s between echo requests), LAT_PING=1 (0: no ping)

LAT_LOADS=${LAT_LOADS:-10 50 90}
LAT_DURATION=${LAT_DURATION:-1}
LAT_PING_INTERVAL=${LAT_PING_INTERVAL:-0.01}
LAT_PING=${LAT_PING:-1}
LAT_G_ADDR=198.18.0.1	# the generator namespace's address (= SRC_IP)
LAT_S_ADDR=198.19.0.1	# the sink namespace's (= DST_IP)
LAT_GW_A=198.51.100.254	# the DUT as seen from either side (rns_config)
LAT_GW_B=198.51.101.254

# The fields of a run record a load keeps.
LAT_RUN_FIELDS='{sent, delivered, counted_drops, residual, balanced,
	elapsed_s, pps, offered_pps, drops, not_forwarded, bottleneck, saturated,
	dut_cpu_busy, stray_at_sink, notes}'

xp_lat() {
	local mode=$1 name=lat-$1 t0
	LAT_MODE=$mode
	t0=$(date +%s)
	if ! xp_mode_run lat "$mode" lat_measure; then
		lat_not_measured "$name" "$mode" "latency of mode $mode" "$XP_REASON"
	fi
	log "$name: done in $(( $(date +%s) - t0 )) s"
}

lat_not_measured() {
	local name=$1 mode=$2 desc=$3 reason=$4
	log "$name: not measured: $reason"
	jq -n --arg name "$name" --arg mode "$mode" --arg desc "$desc" --arg reason "$reason" \
		'{name: $name, kind: "lat", mode: $mode, description: $desc,
		  status: "not measured", reason: $reason}' >"$TMP/lat-$name.json"
	xp_record "$TMP/lat-$name.json"
}

# lat_ping_setup DNS: addresses and static routes for the echo path; sets
# LAT_PING_REASON (empty: ping works) and undoes nothing (the namespaces go
# with the mode).
lat_ping_setup() {
	local dns=$1 rns="" dev
	LAT_PING_REASON=""
	if [ "$LAT_PING" != 1 ]; then
		LAT_PING_REASON="ping switched off (LAT_PING=0)"
		return 0
	fi
	if ! command -v ping >/dev/null; then
		LAT_PING_REASON="ping (iputils-ping) not installed"
		return 0
	fi
	case $LAT_MODE in
	pfpacket)
		LAT_PING_REASON="the PF_PACKET forwarder forwards from port A to port B only, so no echo reply comes back"
		return 0
		;;
	netns | afxdp*) rns=$VIF_NS ;;
	xdp | xdp-*) rns="" ;;
	*) rns=${MX_SNMP_NS:-$dns} ;;
	esac
	{
		# Untagged frames (ICMP) reach the sink namespace's stack.
		"$SINK" detach "$PIN/sink" &&
		"$SINK" -N "$NS_S" --pass-untagged attach "${P}s0" "$PIN/sink" &&
		# A veth takes XDP-redirected frames (replies forwarded by
		# an XDP DUT) only with its NAPI on: GRO, as on the others.
		ip netns exec "$NS_G" ethtool -K "${P}g0" gro on >/dev/null &&
		ip -n "$NS_G" addr add "$LAT_G_ADDR/32" dev "${P}g0" &&
		ip -n "$NS_G" neigh replace $LAT_GW_A lladdr $MAC_A dev "${P}g0" nud permanent &&
		ip -n "$NS_G" route add 198.19.0.0/16 via $LAT_GW_A dev "${P}g0" onlink &&
		ip -n "$NS_S" addr add "$LAT_S_ADDR/32" dev "${P}s0" &&
		ip -n "$NS_S" neigh replace $LAT_GW_B lladdr $MAC_B dev "${P}s0" nud permanent &&
		ip -n "$NS_S" route add 198.18.0.0/16 via $LAT_GW_B dev "${P}s0" onlink &&
		if [ -n "$rns" ]; then
			# The way back through the DUT's routing namespace.
			dev=$(ip -n "$rns" -o route get $GW_GEN | sed -n 's/.* dev \([^ ]*\).*/\1/p') &&
			[ -n "$dev" ] &&
			ip -n "$rns" neigh replace $GW_GEN lladdr $MAC_G dev "$dev" nud permanent &&
			ip -n "$rns" route replace 198.18.0.0/16 via $GW_GEN dev "$dev"
		else
			# xdp mode: xvr_setup routes 198.18.0.0/16 back to the
			# generator; port B's frames must reach the router too.
			"$XVR" -n "$NODE" classify add bench default port "${P}b"
		fi
	} >"$TMP/lat-ping-setup.log" 2>&1 ||
		LAT_PING_REASON="echo path setup failed: $(tail -1 "$TMP/lat-ping-setup.log")"
	# Never leave the path without its sink.
	[ -e "$PIN/sink/sink_stats" ] || "$SINK" -N "$NS_S" attach "${P}s0" "$PIN/sink"
	return 0
}

# MX_PRE / MX_POST around each run: the mode's own hooks, and a ping that
# starts when the generator does (its output file appears) and lasts
# about as long.
lat_pre() {
	[ -n "$LAT_PRE0" ] && $LAT_PRE0
	rm -f "$TMP/gen.json" "$TMP/gen.txt" "$TMP/lat-ping.txt"
	[ -z "$LAT_PING_REASON" ] || return 0
	local n
	n=$(awk -v d="$DURATION" -v i="$LAT_PING_INTERVAL" 'BEGIN { n = int((d - 0.2) / i); print (n < 10 ? 10 : n) }')
	(
		for _ in $(seq 1 300); do
			[ -e "$TMP/gen.json" ] || [ -e "$TMP/gen.txt" ] && break
			sleep 0.01
		done
		# Above the generator on its CPU: a probe waits for no one.
		# -c N replies, or until the deadline: a lost probe does not
		# keep it (and the run's end) waiting long.
		ip netns exec "$NS_G" ${GEN_PRIO:+chrt -f $((GEN_PRIO + 1))} \
			taskset -c "$GEN_CPU" ping -n -i "$LAT_PING_INTERVAL" -c "$n" \
			-W 1 -w $(( ${DURATION%.*} + 1 )) "$LAT_S_ADDR" >"$TMP/lat-ping.txt" 2>&1
	) &
	LAT_PING_PID=$!
}
lat_post() {
	if [ -n "$LAT_PING_PID" ]; then
		wait "$LAT_PING_PID" 2>/dev/null || true
		LAT_PING_PID=""
	fi
	[ -n "$LAT_POST0" ] && $LAT_POST0
	return 0
}

# lat_ping_json FILE: the ping summary of the last run as JSON.
lat_ping_json() {
	if [ -n "$LAT_PING_REASON" ]; then
		jq -n --arg r "$LAT_PING_REASON" '{status: "not measured", reason: $r}'
		return
	fi
	$PY - "$TMP/lat-ping.txt" <<-'EOF'
	import json, math, re, sys
	rtt = []
	tx = rx = 0
	for line in open(sys.argv[1], errors="replace"):
	    m = re.search(r"time=([0-9.]+) ms", line)
	    if m:
	        rtt.append(float(m.group(1)) * 1000)
	    m = re.search(r"(\d+) packets transmitted, (\d+) received", line)
	    if m:
	        tx, rx = int(m.group(1)), int(m.group(2))
	res = {"status": "measured", "transmitted": tx, "received": rx,
	       "lost": tx - rx, "samples": len(rtt)}
	if rtt:
	    s = sorted(rtt)
	    n = len(s)
	    pct = lambda q: s[min(n - 1, max(0, math.ceil(q * n) - 1))]  # nearest rank
	    avg = sum(s) / n
	    res.update({"min_us": s[0], "avg_us": avg, "max_us": s[-1],
	                "mdev_us": (sum((x - avg) ** 2 for x in s) / n) ** 0.5,
	                "p50_us": pct(0.50), "p99_us": pct(0.99)})
	else:
	    res["status"] = "no replies"
	    res["output_tail"] = open(sys.argv[1], errors="replace").read()[-300:]
	print(json.dumps(res))
	EOF
}

# lat_load_json PCT REQ RUNFILE OUTFILE: one load's entry.
lat_load_json() {
	local pct=$1 req=$2 runf=$3 outf=$4
	lat_ping_json >"$TMP/lat-ping.json"
	jq --argjson pct "$pct" --argjson req "$req" \
		--slurpfile sink "$TMP/sink.json" --slurpfile ping "$TMP/lat-ping.json" '
		($sink[0].latency // {}) as $l |
		{load_pct: $pct, requested_pps: $req, offered_pps: .offered_pps,
		 delivered_pps: .pps, balanced: .balanced,
		 one_way: {samples: $l.samples, min_ns: $l.min_ns, p50_ns: $l.p50_ns,
			p90_ns: $l.p90_ns, p99_ns: $l.p99_ns, p999_ns: $l.p999_ns,
			max_ns: $l.max_ns, avg_ns: $sink[0].lat_avg_ns,
			no_timestamp: $l.no_timestamp,
			future_timestamp: $l.future_timestamp,
			stale_timestamp: $l.stale_timestamp,
			quantile_bound: $l.quantile_bound,
			sub_buckets_per_octave: $l.sub_buckets_per_octave},
		 histogram: ($l.histogram // []),
		 passed_to_stack: $sink[0].passed,
		 ping: $ping[0],
		 run: '"$LAT_RUN_FIELDS"'}' "$runf" >"$outf"
}

# lat_measure NAME KIND DUT_NS NODE DESCRIPTION [generator args...]
lat_measure() {
	local mode=$LAT_MODE point=$1 kind=$2 dns=$3 node=$4 desc=$5; shift 5
	local name=lat-$mode
	local DURATION=$LAT_DURATION GEN_RATE="" cap pct req dir=$TMP/$name
	local LAT_PRE0=$MX_PRE LAT_POST0=$MX_POST LAT_PING_PID=""
	local MX_PRE=lat_pre MX_POST=lat_post
	desc="latency of $point: $desc"
	if [ "$kind" != pktgen ]; then
		lat_not_measured "$name" "$mode" "$desc" \
			"needs xvr-pktgen's rate limit and timestamps (this mode's generator is $kind)"
		return 0
	fi
	mkdir -p "$dir"
	lat_ping_setup "$dns"
	[ -n "$LAT_PING_REASON" ] && log "$name: no ping: $LAT_PING_REASON"
	mx_args "$name" "$dns" "$node"

	# 1. Capacity: the delivered rate at maximal load.
	measure_run "$name max load" "$kind" "$dns" "$node" "$dir/max.json" "$@"
	lat_load_json null null "$dir/max.json" "$dir/l-max.json"
	cap=$(jq '.pps | floor' "$dir/max.json")
	if [ "$(jq .balanced "$dir/max.json")" != true ] || [ "$cap" -le 0 ]; then
		lat_not_measured "$name" "$mode" "$desc" \
			"the run at maximal load did not balance its books, so no capacity to load against"
		return 0
	fi
	log "$name: capacity $(awk -v r="$cap" 'BEGIN { printf "%.3f", r / 1e6 }') Mpps"

	# 2. The loads, in percent of that capacity. The generator runs
	# SCHED_OTHER here: a SCHED_FIFO busy-poller uses up its CPU's real-time
	# budget (950 ms a second) and the kernel then stops every real-time
	# thread there for 50 ms, the sink's too when it shares that CPU; that
	# stall, not the DUT, would be the latency tail. At these rates it keeps
	# up without SCHED_FIFO (the sink, still SCHED_FIFO, preempts it).
	local loads=() t0 GEN_SCHED=()
	for pct in $LAT_LOADS; do
		t0=$(date +%s.%N)
		req=$(( cap * pct / 100 ))
		[ "$req" -ge 1000 ] || req=1000
		GEN_RATE=$req MX_QUIET=0 measure_run "$name ${pct}% ($req pps)" "$kind" "$dns" "$node" \
			"$dir/run-$pct.json" "$@"
		lat_load_json "$pct" "$req" "$dir/run-$pct.json" "$dir/l-$pct.json"
		loads+=("$dir/l-$pct.json")
		log "$name ${pct}%: step took $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s"
		jq -r --arg n "$name ${pct}%" '"\($n): one-way p50 \(.one_way.p50_ns / 1000) us, " +
			"p99 \(.one_way.p99_ns / 1000) us, p99.9 \(.one_way.p999_ns / 1000) us (\(.one_way.samples) samples); " +
			(if .ping.status == "measured" then "ping avg \(.ping.avg_us | floor) us, p99 \(.ping.p99_us | floor) us, \(.ping.received)/\(.ping.transmitted) replies"
			 else "ping \(.ping.status)" end)' "$dir/l-$pct.json" | while read -r l; do log "$l"; done
	done

	jq -s --arg name "$name" --arg mode "$mode" --arg desc "$desc" \
		--argjson cap "$cap" --argjson dur "$LAT_DURATION" --argjson size "$SIZE" \
		--argjson sinkcpu "$SINK_CPU" --slurpfile max "$dir/l-max.json" \
		--arg interval "$LAT_PING_INTERVAL" --argjson gencpu "$GEN_CPU" \
		--argjson rtrun "$(cat /proc/sys/kernel/sched_rt_runtime_us 2>/dev/null || echo null)" \
		--argjson rtper "$(cat /proc/sys/kernel/sched_rt_period_us 2>/dev/null || echo null)" '
		{name: $name, kind: "lat", mode: $mode, description: $desc,
		 status: "measured", repetitions: 1, duration_s: $dur,
		 frame_size: $size, sink_cpu: $sinkcpu, gen_cpu: $gencpu,
		 sched_rt_runtime_us: $rtrun, sched_rt_period_us: $rtper,
		 gen_sched_loads: "SCHED_OTHER",
		 capacity_pps: $cap,
		 ping_interval_s: ($interval | tonumber),
		 balanced_runs: ([.[], $max[0] | select(.balanced)] | length),
		 total_runs: (length + 1),
		 max_load: $max[0],
		 loads: .}' "${loads[@]}" >"$TMP/lat-$name.json"
	xp_record "$TMP/lat-$name.json"
}
