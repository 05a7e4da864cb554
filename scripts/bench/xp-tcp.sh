# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# Experiment 7 (issue 5): TCP through the DUT. Sourced by scripts/bench.sh;
# the point tcp:MODE runs xp_tcp MODE.
#
#   MODE  kernel bridge macvlan pfpacket xdp netns afxdp afxdp-N (any mode
#         mode_run knows), or afxdp-N-DIST: N engines spreading frames by
#         DIST (rr, weighted, flowhash), for reordering.
#
# With the DUT up, the sink's XDP program (which counts and drops every
# frame) is attached again with -u (frames without the generator's tag go
# to the stack) and the two end namespaces become TCP hosts:
# 198.18.0.1/32 on ${P}g0, 198.19.0.1/32 on ${P}s0, each routing the other's
# /16 through the DUT port it faces (on-link gateway, static neighbour).
# The DUT's router gets the way back (198.18.0.0/16 via the generator) where
# the mode lacks it. Then:
#  - throughput: iperf3 (server in the sink's namespace, client in the
#    generator's, both on GEN_CPU; the DUT stays on DUT_CPU), TCP_REPS runs
#    of TCP_DURATION s: Gbit/s received, retransmits;
#  - reordering: one more iperf3 run with the data direction captured
#    (dumpcap, snaplen 96, at most TCP_CAP_PKTS frames) where it leaves the
#    sender (${P}g0) and where it arrives (${P}s0, GRO off there so that a
#    captured frame is one segment as it arrived): a segment arriving below
#    the highest byte already received counts as reordered if the sender
#    sent its sequence number once (a retransmission of a lost one does
#    not); tshark's tcp.analysis.out_of_order and retransmissions are
#    recorded beside it. The captures are deleted.
# Both ends send without checksum offload (ethtool -K tx off, which takes
# TSO/GSO with it: software GSO hands the veth MSS-sized segments): a frame
# that crosses XDP on veth loses CHECKSUM_PARTIAL, and a sender relying on
# it puts bad checksums on the wire (xdp mode: not even the SYN gets
# through). The same for every mode, so that the modes compare.
# TCP_TXOFF=0 leaves the offloads on.
#
# Environment: TCP_DURATION (s, default 5, QUICK 2), TCP_REPS (default
# REPS), TCP_VAR_REPS (throughput runs of the afxdp-N-DIST variants, default
# 1), TCP_CAP_S (capture run, s, default 2, QUICK 1), TCP_CAP_PKTS (default
# 30000), TCP_CAPTURE=0 (no capture), TCP_PORT (default 5201),
# TCP_SINK_PRIO (the receiver's NAPI thread, default SINK_PRIO; empty:
# SCHED_OTHER). DEBUG=1 prints device counters after each run.

if [ "$QUICK" = 1 ]; then
	TCP_DURATION=${TCP_DURATION:-2}
	TCP_CAP_S=${TCP_CAP_S:-1}
else
	TCP_DURATION=${TCP_DURATION:-5}
	TCP_CAP_S=${TCP_CAP_S:-2}
fi
TCP_REPS=${TCP_REPS:-$REPS}
TCP_VAR_REPS=${TCP_VAR_REPS:-1}
TCP_CAP_PKTS=${TCP_CAP_PKTS:-30000}
TCP_CAPTURE=${TCP_CAPTURE:-1}
TCP_TXOFF=${TCP_TXOFF:-1}
TCP_PORT=${TCP_PORT:-5201}
# The receiver's NAPI thread SCHED_FIFO (it preempts the iperf3 processes on
# GEN_CPU and drains its ring, which XDP redirect into a veth overflows
# without backpressure: a SCHED_OTHER one there lost ~15% of the segments).
TCP_SINK_PRIO=${TCP_SINK_PRIO-$SINK_PRIO}
TCP_G_IP=198.18.0.1
TCP_S_IP=198.19.0.1

# tcp_rns NAME DUT_NS: the namespace whose Linux routes the DUT forwards by
# ("" for xdp mode, whose BPF FIB has the way back from xvr_setup).
tcp_rns() {
	case $1 in
	kernel | pfpacket) echo "$2" ;;
	bridge | macvlan) echo "$MX_SNMP_NS" ;;
	netns | afxdp*) echo "$VIF_NS" ;;
	*) echo "" ;;
	esac
}

# tcp_host NS DEV ADDR PEER_NET GW MAC: ADDR/32 on DEV, PEER_NET via GW
# (on link, neighbour MAC: the DUT port DEV faces).
tcp_host() {
	local ns=$1 dev=$2
	ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.rp_filter=0 \
		net.ipv4.conf.default.rp_filter=0 "net.ipv4.conf.$dev.rp_filter=0" &&
	ip -n "$ns" addr add "$3/32" dev "$dev" &&
	ip -n "$ns" route add "$4" via "$5" dev "$dev" onlink &&
	ip -n "$ns" neigh replace "$5" lladdr "$6" dev "$dev" nud permanent || return 1
	if [ "$TCP_TXOFF" = 1 ]; then
		ip netns exec "$ns" ethtool -K "$dev" tx off >/dev/null || return 1
	fi
}

# tcp_hosts NAME DUT_NS NODE: the end namespaces as TCP hosts, the DUT's way
# back, the sink passing TCP.
tcp_hosts() {
	local name=$1 dns=$2 node=$3 rns dev
	# The sink again, now handing TCP (untagged) to the stack: an XDP
	# program keeps ${P}s0 on NAPI with GRO off too, and frames that XDP
	# redirects into a veth need that.
	"$SINK" detach "$PIN/sink" >/dev/null &&
	"$SINK" -N "$NS_S" -u attach "${P}s0" "$PIN/sink" >/dev/null || return 1
	tcp_host "$NS_G" "${P}g0" $TCP_G_IP 198.19.0.0/16 198.51.100.254 $MAC_A || return 1
	tcp_host "$NS_S" "${P}s0" $TCP_S_IP 198.18.0.0/16 198.51.101.254 $MAC_B || return 1
	rns=$(tcp_rns "$name" "$dns")
	if [ -n "$rns" ]; then
		# The router's interface on the generator's side.
		dev=$(ip -n "$rns" -o -4 addr show to 198.51.100.254/32 | awk '{ print $2; exit }')
		[ -n "$dev" ] || { echo "no generator-side interface in $rns"; return 1; }
		ip -n "$rns" neigh replace $GW_GEN lladdr $MAC_G dev "$dev" nud permanent &&
		ip -n "$rns" route replace 198.18.0.0/16 via $GW_GEN dev "$dev" || return 1
	elif [ -n "$node" ]; then
		# xdp mode: the sink's side classified to the router too.
		"$XVR" -n "$node" classify add bench default port "${P}b" || return 1
	fi
}

# tcp_pin DUT_NS: the ends' NAPI threads on GEN_CPU with the TCP hosts
# (the receiver's SCHED_FIFO at TCP_SINK_PRIO, the sender's SCHED_OTHER),
# the DUT's on DUT_CPU as measure_run pins them.
tcp_pin() {
	local dns=$1 x xp=${DUT_PRIO:-} l ns dev cpu prio
	l=("$NS_G:${P}g0:$GEN_CPU:" "$NS_S:${P}s0:$GEN_CPU:$TCP_SINK_PRIO"
	   "$dns:${P}a:$DUT_CPU:$DUT_PRIO" "$dns:${P}b:$DUT_CPU:$DUT_PRIO")
	for x in "${MX_DEVS[@]}"; do
		[ -n "$xp" ] && xp=$((xp + 1))
		l+=("$x:$DUT_CPU:$xp")
	done
	for x in "${l[@]}"; do
		IFS=: read -r ns dev cpu prio <<<"$x"
		pin_napi "$ns" "$dev" "$cpu" $prio
	done
	[ -n "$MX_PIN" ] && $MX_PIN
	return 0
}

# tcp_iperf SECONDS OUT: one iperf3 run (server exits after it); JSON in OUT.
tcp_iperf() {
	local t=$1 out=$2 spid i
	ip netns exec "$NS_S" timeout $((t + 20)) taskset -c "$GEN_CPU" \
		iperf3 -s -1 -B $TCP_S_IP -p "$TCP_PORT" >/dev/null 2>&1 &
	spid=$!
	for i in $(seq 1 50); do
		ip netns exec "$NS_S" ss -Hltn "sport = :$TCP_PORT" | grep -q . && break
		sleep 0.05
	done
	ip netns exec "$NS_G" timeout $((t + 15)) taskset -c "$GEN_CPU" \
		iperf3 -c $TCP_S_IP -B $TCP_G_IP -p "$TCP_PORT" -t "$t" -J \
		--connect-timeout 3000 >"$out" 2>/dev/null || true
	kill "$spid" 2>/dev/null || true
	wait "$spid" 2>/dev/null || true
	jq -e '.end.sum_received.bits_per_second' "$out" >/dev/null 2>&1
}

# tcp_dumpcap NS DEV COUNT FILE: a capture of the data direction in the
# background (snaplen 96); waits until it runs, its PID in CAP_PID.
tcp_dumpcap() {
	local i
	: >"$4.err"
	ip netns exec "$1" timeout $((TCP_CAP_S + 20)) taskset -c "$GEN_CPU" \
		dumpcap -q -i "$2" -s 96 -B 32 -c "$3" -a "duration:$((TCP_CAP_S + 5))" \
		-f "tcp and dst host $TCP_S_IP and dst port $TCP_PORT" -w "$4" \
		>/dev/null 2>"$4.err" &
	CAP_PID=$!
	for i in $(seq 1 60); do
		grep -q 'Capturing on' "$4.err" 2>/dev/null && break
		sleep 0.05
	done
}

# tcp_fields FILE: per data segment "SEQ LEN OOO RETX" (absolute sequence
# numbers; OOO / RETX: tshark's out_of_order / (fast_)retransmission flags).
tcp_fields() {
	tshark -n -r "$1" -o tcp.relative_sequence_numbers:FALSE -Y 'tcp.len > 0' \
		-T fields -e tcp.seq -e tcp.len -e tcp.analysis.out_of_order \
		-e tcp.analysis.retransmission -e tcp.analysis.fast_retransmission \
		-E occurrence=f -E separator=, 2>/dev/null |
	awk -F, '{ print $1, $2, ($3 != "" ? 1 : 0), ($4 != "" || $5 != "" ? 1 : 0) }'
}

# tcp_capture OUT: an iperf3 run of TCP_CAP_S s, the data direction
# captured where it leaves the sender (${P}g0) and where it arrives
# (${P}s0, GRO off so that a frame is a segment as it arrived); the
# reordering figures as JSON in OUT. A segment arrived out of order if it
# starts below the highest byte already received; it was reordered (not a
# retransmission of one lost in between) if the sender sent its sequence
# number once.
tcp_capture() {
	local out=$1 rcap=$TMP/tcp-r.pcapng scap=$TMP/tcp-s.pcapng rpid spid
	rm -f "$rcap" "$scap"
	ip netns exec "$NS_S" ethtool -K "${P}s0" gro off >/dev/null
	tcp_dumpcap "$NS_S" "${P}s0" "$TCP_CAP_PKTS" "$rcap"; rpid=$CAP_PID
	tcp_dumpcap "$NS_G" "${P}g0" $((TCP_CAP_PKTS * 2)) "$scap"; spid=$CAP_PID
	tcp_iperf "$TCP_CAP_S" "$TMP/tcp-cap-iperf.json" || true
	kill -INT "$rpid" "$spid" 2>/dev/null || true
	wait "$rpid" "$spid" 2>/dev/null || true
	ip netns exec "$NS_S" ethtool -K "${P}s0" gro on >/dev/null
	if [ ! -s "$rcap" ] || [ ! -s "$scap" ]; then
		rm -f "$rcap" "$scap"
		echo "capture failed: $(tail -qn1 "$rcap.err" "$scap.err" | tr '\n' ' ')"
		return 1
	fi
	# The two in parallel: the DUT's CPU is idle now.
	tcp_fields "$rcap" >"$TMP/tcp-r.txt" &
	tcp_fields "$scap" >"$TMP/tcp-s.txt"
	wait $!
	rm -f "$rcap" "$scap"
	# dumpcap's own losses ("Packets received/dropped on interface ...:
	# R/D (P%)"): a frame the sender's capture missed can make a
	# retransmission look reordered.
	$PY - "$TMP/tcp-r.txt" "$TMP/tcp-s.txt" "$TMP/tcp-cap-iperf.json" \
		"$rcap.err" "$scap.err" >"$out" <<-'EOF'
	import json, re, sys
	def capdrops(f):
	    m = re.findall(r"dropped on interface[^:]*: *(\d+)/(\d+)", open(f).read())
	    return int(m[-1][1]) if m else None
	from collections import Counter
	def rows(f):
	    return [tuple(int(x) for x in l.split()) for l in open(f) if l.strip()]
	rx, tx = rows(sys.argv[1]), rows(sys.argv[2])
	# Sequence numbers from the sender's first segment on, unwrapped.
	base = tx[0][0] if tx else (rx[0][0] if rx else 0)
	rx = [((r[0] - base) % 2**32,) + r[1:] for r in rx]
	tx = [((r[0] - base) % 2**32,) + r[1:] for r in tx]
	sent = Counter(r[0] for r in tx)
	top = None          # the highest byte received + 1
	late = reord = late_retx = unmatched = 0
	for seq, ln, ooo, retx in rx:
	    if top is not None and seq < top:
	        late += 1
	        n = sent.get(seq, 0)
	        if n == 1:
	            reord += 1
	        elif n > 1:
	            late_retx += 1
	        else:
	            unmatched += 1
	    top = max(top or 0, seq + ln)
	n = len(rx)
	try:
	    gbps = json.load(open(sys.argv[3]))["end"]["sum_received"]["bits_per_second"] / 1e9
	except Exception:
	    gbps = None
	print(json.dumps({
	    "data_segments": n,
	    "out_of_order": sum(r[2] for r in rx),
	    "out_of_order_pct": 100 * sum(r[2] for r in rx) / n if n else None,
	    "retransmissions_seen": sum(r[3] for r in rx),
	    "late_segments": late,
	    "reordered": reord,
	    "late_retransmissions": late_retx,
	    "late_unmatched": unmatched,
	    "reorder_pct": 100 * reord / n if n else None,
	    "sender_segments": len(tx),
	    "sender_retransmitted_seqs": sum(1 for v in sent.values() if v > 1),
	    "max_segment_len": max((r[1] for r in rx), default=0),
	    "receiver_capture_drops": capdrops(sys.argv[4]),
	    "sender_capture_drops": capdrops(sys.argv[5]),
	    "capture_gbps": gbps}))
	EOF
}

# tcp_debug DUT_NS: the end and DUT devices' nonzero counters (DEBUG=1).
tcp_debug() {
	local x
	for x in "$NS_G:${P}g0" "$1:${P}a" "$1:${P}b" "$NS_S:${P}s0" "${MX_DEVS[@]}"; do
		echo "== $x" >&2
		ns_sh "${x%%:*}" "ethtool -S ${x#*:} | grep -v ': 0$' | grep -i 'drop\|full\|err\|pkts\|packets'" >&2
	done
	ip netns exec "$NS_S" nstat -az TcpExtTCPOFOQueue TcpInErrs TcpExtTCPRcvQDrop IpInDiscards >&2
	ps -eLo pid,psr,cls,rtprio,pcpu,comm | grep -E "napi/$P|iperf|xvr-r" >&2
}

# tcp_measure NAME KIND DUT_NS NODE DESCRIPTION [generator args]: $MEASURE
# for mode_run / point_afxdp.
tcp_measure() {
	local dut=$1 kind=$2 dns=$3 node=$4 desc=$5 mode=${TCP_MODE:-$1} reps=$TCP_REPS rep reason=""
	local name=tcp-$mode
	local runs=() f t0=$SECONDS
	desc="TCP (iperf3, one flow, ${TCP_DURATION} s) through: $desc"
	case $mode in afxdp-*-*) reps=$TCP_VAR_REPS ;; esac
	if [ "$dut" = pfpacket ]; then
		not_measured "$name" "$desc" "the PF_PACKET forwarder forwards one direction only (A to B): no way back for the ACKs"
		jq '. + {kind: "tcp", mode: "pfpacket"}' "$TMP/point-$name.json" >"$TMP/tcp.tmp" &&
			mv "$TMP/tcp.tmp" "$TMP/point-$name.json"
		return 0
	fi
	if ! tcp_hosts "$dut" "$dns" "$node" >"$TMP/tcp-setup.log" 2>&1; then
		reason="TCP setup failed: $(tail -1 "$TMP/tcp-setup.log")"
	fi
	[ -z "$reason" ] && tcp_pin "$dns"
	# The path both ways, before any TCP.
	if [ -z "$reason" ] && ! ip netns exec "$NS_G" ping -c 1 -W 2 -I $TCP_G_IP $TCP_S_IP >/dev/null 2>&1 &&
	   ! ip netns exec "$NS_G" ping -c 1 -W 2 -I $TCP_G_IP $TCP_S_IP >/dev/null 2>&1; then
		reason="no path: ping $TCP_G_IP -> $TCP_S_IP through the DUT unanswered"
	fi
	if [ -n "$reason" ]; then
		not_measured "$name" "$desc" "$reason"
		jq --arg m "$mode" '. + {kind: "tcp", mode: $m}' "$TMP/point-$name.json" >"$TMP/tcp.tmp" &&
			mv "$TMP/tcp.tmp" "$TMP/point-$name.json"
		return 0
	fi
	for rep in $(seq 1 "$reps"); do
		f=$TMP/tcp-$mode-$rep.json
		if tcp_iperf "$TCP_DURATION" "$f"; then
			jq -c '{gbps: (.end.sum_received.bits_per_second / 1e9),
				retransmits: .end.sum_sent.retransmits,
				bytes: .end.sum_received.bytes,
				cpu_sender_pct: .end.cpu_utilization_percent.host_total,
				cpu_receiver_pct: .end.cpu_utilization_percent.remote_total}' "$f" >"$f.run"
		else
			jq -nc --arg e "$(jq -r '.error // "no result"' "$f" 2>/dev/null || echo "no result")" \
				'{gbps: null, error: $e}' >"$f.run"
		fi
		log "$name run $rep/$reps: $(jq -r 'if .gbps then "\(.gbps * 1000 | floor / 1000) Gbit/s, \(.retransmits) retransmits" else "failed: \(.error)" end' "$f.run")"
		runs+=("$f.run")
		[ "${DEBUG:-0}" = 1 ] && tcp_debug "$dns"
	done
	log "$name: path up and $reps run(s) after $((SECONDS - t0)) s"
	echo '{}' >"$TMP/tcp-cap.json"
	if [ "$TCP_CAPTURE" = 1 ]; then
		if tcp_capture "$TMP/tcp-cap.json" >"$TMP/tcp-cap.log" 2>&1; then
			log "$name capture: $(jq -r '"\(.data_segments) data segments: \(.reordered) reordered (\(.reorder_pct // 0 | . * 100 | floor / 100)%); tshark: \(.out_of_order) out of order, \(.retransmissions_seen) retransmissions; largest \(.max_segment_len) bytes; capture drops \(.receiver_capture_drops) at the receiver, \(.sender_capture_drops) at the sender"' "$TMP/tcp-cap.json")"
		else
			log "$name capture: $(tail -1 "$TMP/tcp-cap.log")"
			jq -n --arg e "$(tail -1 "$TMP/tcp-cap.log")" '{capture_error: $e}' >"$TMP/tcp-cap.json"
		fi
	fi
	jq -s --arg name "$name" --arg mode "$mode" --arg desc "$desc" \
		--argjson reps "$reps" --argjson dur "$TCP_DURATION" \
		--argjson txoff "$TCP_TXOFF" --argjson capr "$TCP_CAP_S" \
		--slurpfile cap "$TMP/tcp-cap.json" '
		([.[] | .gbps | select(. != null)] | sort) as $g |
		def med: if length > 0 then .[(length - 1) / 2 | floor] else null end;
		{name: $name, kind: "tcp", mode: $mode, description: $desc,
		 status: (if ($g | length) > 0 then "measured" else "not measured" end),
		 repetitions: $reps, duration_s: $dur, frame_size: 1514,
		 ok_runs: ($g | length),
		 gbps_median: ($g | med), gbps_min: ($g | min), gbps_max: ($g | max),
		 retransmits: [.[] | .retransmits],
		 retransmits_median: ([.[] | .retransmits | select(. != null)] | sort | med),
		 out_of_order: ($cap[0].out_of_order // null),
		 out_of_order_pct: ($cap[0].out_of_order_pct // null),
		 reordered: ($cap[0].reordered // null),
		 late_retransmissions: ($cap[0].late_retransmissions // null),
		 late_unmatched: ($cap[0].late_unmatched // null),
		 sender_segments: ($cap[0].sender_segments // null),
		 capture_drops: {receiver: ($cap[0].receiver_capture_drops // null),
				 sender: ($cap[0].sender_capture_drops // null)},
		 packets_captured: ($cap[0].data_segments // null),
		 capture_retransmissions: ($cap[0].retransmissions_seen // null),
		 max_segment_len: ($cap[0].max_segment_len // null),
		 reorder_pct: ($cap[0].reorder_pct // null),
		 capture_gbps: ($cap[0].capture_gbps // null),
		 capture_duration_s: $capr,
		 capture_error: ($cap[0].capture_error // null),
		 sender_offloads: (if $txoff == 1 then "tx checksum, TSO, GSO off (software segmentation)" else "default" end),
		 tcp_runs: .}
		| if .status != "measured" then .reason = "no iperf3 run completed: \([.tcp_runs[] | .error] | unique | join("; "))" else . end' \
		"${runs[@]}" >"$TMP/point-$name.json"
	xp_record "$TMP/point-$name.json"
}

xp_tcp() {
	local m=$1 n TCP_MODE=$1 t0=$SECONDS
	case $m in
	afxdp-[0-9]-rr | afxdp-[0-9]-weighted | afxdp-[0-9]-flowhash)
		n=${m#afxdp-}
		MEASURE=tcp_measure point_afxdp "$m" "" "${n%%-*}" "${n#*-}"
		;;
	*) MEASURE=tcp_measure mode_run "$m" ;;
	esac
	log "tcp-$m: $((SECONDS - t0)) s with setup and teardown"
}
