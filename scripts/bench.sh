#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# make bench: forwarding throughput of xvr against two baselines, each at
# maximal offered load over veth, with every packet accounted for.
#
#   kernel     Linux IP forwarding in a namespace router (trafgen generator)
#   redirect   the minimal XDP program: redirect every frame to one port
#   xvr-2      xvr, xdp mode, 2 routes
#   xvr-170k   xvr, xdp mode, a 170,000-prefix table, random destinations
#
#   scripts/bench.sh           all points; results in bench/results/<date>/
#   scripts/bench.sh micro     micro benchmarks (make bench-micro)
#
# Environment: QUICK=1 (1 repetition of 2 s), DURATION=SEC, REPS=N,
# SIZE=BYTES (frame with FCS, default 64), POINTS="kernel redirect ...",
# PREFIXES=N (default 170000), NDSTS=N (destinations, default 262144),
# OUT=DIR, GEN_CPU / DUT_CPU (default 0 / 1), SINK_CPU / SINK_CPU_KERNEL
# (the sink's CPU for the XDP points / the kernel point, default DUT_CPU /
# GEN_CPU), DUT_PRIO / SINK_PRIO / GEN_PRIO (SCHED_FIFO priorities, default
# 50 / 51 / 40).
#
# Topology, rebuilt for every point (names start with a unique prefix $P):
#
#   netns $P-g: ${P}g0 ──veth── ${P}a  DUT  ${P}b ──veth── ${P}s0 :netns $P-s
#
# The DUT ports sit in the root namespace for the XDP points (xvr and
# xvr-sink run there, next to their bpffs pins) and in netns $P-d for the
# kernel point. Everything is removed on exit, pass or fail.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$ROOT/build
PY=/usr/bin/python3
ACCT=$ROOT/scripts/bench/acct.py
PKTGEN=$BUILD/xvr-pktgen
SINK=$BUILD/xvr-sink
XVR=${XVR:-$BUILD/xvr}

if [ "${1:-}" = micro ]; then
	echo "bench-micro: not measured yet (there is no micro benchmark)"
	exit 0
fi
if [ $# -gt 0 ]; then
	echo "usage: $0 [micro]" >&2
	exit 2
fi

QUICK=${QUICK:-0}
if [ "$QUICK" = 1 ]; then
	DURATION=${DURATION:-2}
	REPS=${REPS:-1}
else
	DURATION=${DURATION:-5}
	REPS=${REPS:-3}
fi
SIZE=${SIZE:-64}
PREFIXES=${PREFIXES:-170000}
NDSTS=${NDSTS:-262144}
POINTS=${POINTS:-kernel redirect xvr-2 xvr-170k}
# CPU placement. The generator has one CPU to itself, the DUT's NAPI
# threads the other. The sink's NAPI thread must go somewhere:
#  - XDP points: on the DUT's CPU. On the generator's CPU it would take half
#    of it and leave the generator far below the DUT's capacity. The DUT's
#    CPU then saturates at 1 / (DUT cost + sink cost); each thread's
#    schedstat run time splits the two, and the DUT's own cost per frame
#    gives its capacity.
#  - kernel point: on the generator's CPU. There the split does not hold
#    (part of the stack's work for an skb runs in softirq context on the
#    sink's thread), and the sink's cost per skb (~0.7 us) would dwarf the
#    difference between points; trafgen is the bottleneck anyway.
GEN_CPU=${GEN_CPU:-0}
DUT_CPU=${DUT_CPU:-1}
SINK_CPU_XDP=${SINK_CPU:-$DUT_CPU}
SINK_CPU_KERNEL=${SINK_CPU_KERNEL:-$GEN_CPU}
SINK_CPU=$SINK_CPU_XDP	# the current point's
# Real-time priorities (SCHED_FIFO). The DUT's NAPI threads and the generator
# outrank whatever else runs on the machine: builds and tests beside a
# benchmark halve its figures otherwise, and nice -20 does not stop that.
# The sink outranks the DUT and the generator, whichever CPU it shares, so
# its ring never overflows: it preempts them between NAPI polls or batches,
# drains its ring and sleeps. The kernel's RT throttling still leaves other
# tasks 5% of each CPU. Empty: SCHED_OTHER.
DUT_PRIO=${DUT_PRIO-50}
SINK_PRIO=${SINK_PRIO-51}
GEN_PRIO=${GEN_PRIO-40}
GEN_SCHED=()
[ -n "$GEN_PRIO" ] && GEN_SCHED=(chrt -f "$GEN_PRIO")
DATE=$(date +%Y-%m-%d)
OUT=${OUT:-$ROOT/bench/results/$DATE}
DRAIN=0.5	# seconds for rings to empty after the generator stops
# Before each run, wait (up to QUIET_WAIT s) until no CPU is more than
# QUIET_BUSY% busy: builds and tests running beside the benchmark skew it.
QUIET_BUSY=${QUIET_BUSY:-10}
QUIET_WAIT=${QUIET_WAIT:-$([ "$QUICK" = 1 ] && echo 15 || echo 60)}

# Fixed addresses: the generator's source, the flow's destination, and the
# DUT's neighbours. 198.18.0.0/15 is the RFC 2544 benchmarking range.
SRC_IP=198.18.0.1
DST_IP=198.19.0.1
GW_GEN=198.51.100.1	# the generator, seen from the DUT
GW_SINK=198.51.101.2	# the sink, seen from the DUT
MAC_G=02:00:00:00:01:01
MAC_A=02:00:00:00:01:02
MAC_B=02:00:00:00:02:02
MAC_S=02:00:00:00:02:01

log() { printf '[bench] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root"
for f in "$PKTGEN" "$SINK"; do
	[ -x "$f" ] || die "$f missing: run make first"
done
command -v trafgen >/dev/null || die "trafgen missing (scripts/setup.sh)"
command -v bpftool >/dev/null || die "bpftool missing (scripts/setup.sh)"
[ "$(nproc --all)" -gt "$DUT_CPU" ] || die "needs CPU $DUT_CPU"
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf

# This script, the snapshots and the CLI calls run on the generator's CPU:
# the DUT's CPU must carry nothing but the DUT (and the sink).
taskset -pc "$GEN_CPU" $$ >/dev/null

P=xk$(printf '%03x' $(( ($$ + RANDOM) % 0xfff )))
NS_G=$P-g
NS_S=$P-s
NS_D=$P-d
NODE=bench-$P
PIN=/sys/fs/bpf/xvr-bench/$P
TMP=$(mktemp -d /tmp/xvr-bench.XXXXXX)
WMEM_SAVED=$(sysctl -n net.core.wmem_default)
CREATED_NS=()
XVR_UP=0

cleanup() {
	local rc=$?
	set +e
	if [ "$XVR_UP" = 1 ]; then
		"$XVR" -n "$NODE" node down >/dev/null 2>&1
	fi
	rm -rf "/sys/fs/bpf/xvr/$NODE" "$PIN" 2>/dev/null
	rmdir /sys/fs/bpf/xvr-bench 2>/dev/null
	ip link del "${P}a" 2>/dev/null
	ip link del "${P}b" 2>/dev/null
	for ns in "${CREATED_NS[@]}"; do ip netns del "$ns" 2>/dev/null; done
	sysctl -qw net.core.wmem_default="$WMEM_SAVED"
	rm -rf "$TMP"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A halted vCPU takes tens of microseconds to wake, and a veth ring holds 256
# frames: an idle DUT thread woken by a burst overflows its ring before it
# runs. A zero PM QoS latency request keeps idle CPUs polling (cpuidle state
# POLL) while this script holds the file open; it lapses when we exit.
if [ "${LOW_LATENCY:-1}" = 1 ] && [ -c /dev/cpu_dma_latency ]; then
	exec {QOS_FD}>/dev/cpu_dma_latency
	printf '\x00\x00\x00\x00' >&"$QOS_FD"
fi

# ------------------------------------------------------------- topology

add_ns() {
	ip netns add "$1"
	CREATED_NS+=("$1")
	# No IPv6: router solicitations and MLD reports would be stray frames.
	ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1
}

# ns_sh NS CMD: a shell command in NS, or in the root namespace if NS is "".
ns_sh() {
	if [ -n "$1" ]; then ip netns exec "$1" sh -c "$2"; else sh -c "$2"; fi
}

# pin_napi NS DEV CPU [RTPRIO]: threaded NAPI for DEV, its kthread on CPU,
# SCHED_FIFO at RTPRIO if given.
pin_napi() {
	local ns=$1 dev=$2 cpu=$3 prio=${4:-} pid found=0 comm
	ns_sh "$ns" "ethtool -K $dev gro on >/dev/null && echo 1 > /sys/class/net/$dev/threaded"
	for pid in /proc/[0-9]*; do
		comm=$(cat "$pid/comm" 2>/dev/null) || continue
		case $comm in
		"napi/$dev-"*)
			taskset -pc "$cpu" "${pid#/proc/}" >/dev/null
			if [ -n "$prio" ]; then
				chrt -f -p "$prio" "${pid#/proc/}"
			else
				chrt -o -p 0 "${pid#/proc/}"
			fi
			found=1
			;;
		esac
	done
	[ "$found" = 1 ] || die "$dev: no napi/$dev-* kthread to pin"
}

# topo_up DUT_NS: build the four veth ends; DUT_NS "" is the root namespace.
topo_up() {
	local dns=$1 dn=()
	[ -n "$dns" ] && dn=(netns "$dns")
	add_ns "$NS_G"
	add_ns "$NS_S"
	if [ -z "$dns" ]; then
		# Root namespace: disable IPv6 per device, before it comes up.
		ip link add "${P}a" address $MAC_A type veth peer name "${P}g0" \
			address $MAC_G netns "$NS_G"
		ip link add "${P}b" address $MAC_B type veth peer name "${P}s0" \
			address $MAC_S netns "$NS_S"
		sysctl -qw "net.ipv6.conf.${P}a.disable_ipv6=1" \
			"net.ipv6.conf.${P}b.disable_ipv6=1"
	else
		ip link add "${P}a" address $MAC_A "${dn[@]}" type veth \
			peer name "${P}g0" address $MAC_G netns "$NS_G"
		ip link add "${P}b" address $MAC_B "${dn[@]}" type veth \
			peer name "${P}s0" address $MAC_S netns "$NS_S"
	fi
	# veth hands a TSO-capable sender's skbs to the peer's NAPI only if the
	# peer runs XDP; otherwise they go through netif_rx, i.e. the sending
	# CPU's backlog, and the kernel point would forward on the generator's
	# CPU. Without TSO every skb takes the peer's (pinned) NAPI thread.
	ip netns exec "$NS_G" ethtool -K "${P}g0" tso off >/dev/null
	ip -n "$NS_G" link set "${P}g0" up
	ip -n "$NS_S" link set "${P}s0" up
	ip ${dns:+-n "$dns"} link set "${P}a" up
	ip ${dns:+-n "$dns"} link set "${P}b" up
	"$SINK" -N "$NS_S" attach "${P}s0" "$PIN/sink"
	pin_napi "$NS_S" "${P}s0" "$SINK_CPU" $SINK_PRIO
	pin_napi "$dns" "${P}a" "$DUT_CPU" $DUT_PRIO
	pin_napi "$dns" "${P}b" "$DUT_CPU" $DUT_PRIO
}

topo_down() {
	local dns=$1
	"$SINK" detach "$PIN/sink" >/dev/null 2>&1 || true
	"$SINK" detach "$PIN/redirect" >/dev/null 2>&1 || true
	if [ -n "$dns" ]; then
		ip netns del "$dns"
	else
		ip link del "${P}a" 2>/dev/null || true
		ip link del "${P}b" 2>/dev/null || true
	fi
	ip netns del "$NS_G"
	ip netns del "$NS_S"
	CREATED_NS=()
}

# ------------------------------------------------------------ generators

# Writes a trafgen config: the same frame xvr-pktgen sends (UDP, payload
# tag "xvrp"), with sequence number and timestamp left zero.
trafgen_cfg() {
	local len=$((SIZE - 4)) ip_len udp_len pad
	ip_len=$((len - 14))
	udp_len=$((ip_len - 20))
	pad=$((udp_len - 8 - 16))
	hexmac() { echo "$1" | sed 's/\([0-9a-f][0-9a-f]\)/0x\1/g; s/:/, /g'; }
	hexip() { echo "$1" | tr . ,; }
	cat <<EOF
{
  $(hexmac $MAC_A), $(hexmac $MAC_G), c16(0x0800),
  0x45, 0x00, c16($ip_len), c16(0), c16(0x4000), 64, 17, csumip(14, 33),
  $(hexip $SRC_IP), $(hexip $DST_IP),
  c16(9), c16(9), c16($udp_len), c16(0),
  c32(0x78767270), c32(0), c32(0), c32(0)$( [ "$pad" -gt 0 ] && printf ', fill(0x00, %d)' "$pad")
}
EOF
}

# run_gen KIND EXTRA...: one run; prints "SENT ELAPSED".
run_gen() {
	local kind=$1; shift
	if [ "$kind" = pktgen ]; then
		"${GEN_SCHED[@]}" taskset -c "$GEN_CPU" "$PKTGEN" -N "$NS_G" -d $MAC_A -S $SRC_IP \
			-D $DST_IP -l "$SIZE" -c "$GEN_CPU" -t "$DURATION" -j \
			"$@" "${P}g0" >"$TMP/gen.json"
		jq -r '"\(.sent) \(.duration_s)"' "$TMP/gen.json"
	else
		local t0 t1 sent
		t0=$(date +%s.%N)
		# trafgen exits on SIGINT and prints what it sent.
		ip netns exec "$NS_G" timeout -s INT "$DURATION" \
			"${GEN_SCHED[@]}" taskset -c "$GEN_CPU" trafgen -o "${P}g0" -i "$TMP/trafgen.cfg" \
			-P 1 --no-sock-mem >"$TMP/gen.txt" 2>&1 || true
		t1=$(date +%s.%N)
		# Its summary lines start with a carriage return.
		sent=$(tr '\r' '\n' <"$TMP/gen.txt" | awk '/packets outgoing/ { print $1 }')
		[ -n "$sent" ] || { cat "$TMP/gen.txt" >&2; die "trafgen failed"; }
		echo "$sent $(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')"
	fi
}

# ------------------------------------------------------------ measuring

RESULTS=()	# one JSON file per point

# measure NAME KIND DUT_NS XVR_NODE DESCRIPTION [pktgen args...]
measure() {
	local name=$1 kind=$2 dns=$3 node=$4 desc=$5; shift 5
	local devs=(--dev "gen=$NS_G:${P}g0" --dev "dut_in=$dns:${P}a"
		    --dev "dut_out=$dns:${P}b" --dev "sink=$NS_S:${P}s0")
	local extra=() rep runs=()
	[ -n "$node" ] && extra+=(--xvr-node "$node")
	[ -n "$dns" ] && extra+=(--snmp-ns "$dns")
	extra+=(--napi "${P}a" --napi "${P}b" --napi "${P}s0")

	for rep in $(seq 1 "$REPS"); do
		local busy
		if ! busy=$($PY "$ACCT" quiet --max-busy "$QUIET_BUSY" \
				--timeout "$QUIET_WAIT"); then
			log "$name run $rep/$REPS: machine still ${busy}% busy after ${QUIET_WAIT}s; measuring anyway"
		fi
		# Threads may have been recreated by an attach: pin again.
		pin_napi "$dns" "${P}a" "$DUT_CPU" $DUT_PRIO
		pin_napi "$dns" "${P}b" "$DUT_CPU" $DUT_PRIO
		pin_napi "$NS_S" "${P}s0" "$SINK_CPU" $SINK_PRIO
		"$SINK" reset "$PIN/sink"
		$PY "$ACCT" snapshot "${devs[@]}" "${extra[@]}" >"$TMP/before.json"
		run_gen "$kind" "$@" >"$TMP/gen.out"
		read -r sent elapsed <"$TMP/gen.out"
		sleep "$DRAIN"
		$PY "$ACCT" snapshot "${devs[@]}" "${extra[@]}" >"$TMP/after.json"
		"$SINK" -j read "$PIN/sink" >"$TMP/sink.json"
		$PY "$ACCT" account --before "$TMP/before.json" \
			--after "$TMP/after.json" --gen "$kind" --sent "$sent" \
			--sink-json "$TMP/sink.json" --elapsed "$elapsed" \
			--dut-cpu "$DUT_CPU" --sink-cpu "$SINK_CPU" >"$TMP/run-$name-$rep.json"
		jq --argjson busy "$busy" '. + {busy_before_pct: $busy} |
			if $busy > '"$QUIET_BUSY"' then .notes += ["machine \($busy)% busy before the run"] else . end' \
			"$TMP/run-$name-$rep.json" >"$TMP/run.tmp" && mv "$TMP/run.tmp" "$TMP/run-$name-$rep.json"
		runs+=("$TMP/run-$name-$rep.json")
		jq -r --arg n "$name" --arg r "$rep/$REPS" '
			"\($n) run \($r): sent \(.sent) delivered \(.delivered) " +
			"drops \(.counted_drops) residual \(.residual) -> " +
			(if .balanced then "books balance" else "BOOKS DO NOT BALANCE: FAILED" end) +
			"; \(.pps / 1e6 * 1000 | floor / 1000) Mpps delivered, " +
			"offered \(.offered_pps / 1e6 * 1000 | floor / 1000) Mpps, " +
			"bottleneck \(.bottleneck)" +
			(if .dut_cpu_busy then ", DUT CPU \(.dut_cpu_busy * 100 | floor)% busy" +
			 (if .dut_napi_cpu then " (DUT threads \(.dut_napi_cpu * 100 | floor)%, with sink \(.dut_cpu_ours * 100 | floor)%)" else "" end)
			 else "" end) +
			(if .dut_ns_per_frame then ", DUT \(.dut_ns_per_frame | floor) ns/frame" else "" end)
			' "$TMP/run-$name-$rep.json" | while read -r l; do log "$l"; done
	done
	jq -s --arg name "$name" --arg desc "$desc" --argjson reps "$REPS" \
		--argjson dur "$DURATION" --argjson size "$SIZE" '
		([.[] | select(.balanced) | .pps] | sort) as $ok |
		([.[] | select(.balanced and .saturated) | .dut_ns_per_frame | select(. != null)] | sort) as $nss |
		([.[] | select(.balanced) | .dut_ns_per_frame | select(. != null)] | sort) as $nsa |
		(if ($nss | length) > 0 then $nss else $nsa end) as $ns |
		([.[] | select(.balanced) | .sink_ns_per_frame | select(. != null)] | sort) as $sns |
		(if ($ns | length) > 0 then $ns[(($ns | length) - 1) / 2 | floor] else null end) as $nsm |
		{name: $name, description: $desc, status: "measured",
		 sink_cpu: '"$SINK_CPU"',
		 repetitions: $reps, duration_s: $dur, frame_size: $size,
		 balanced_runs: ($ok | length),
		 pps_median: (if ($ok | length) > 0 then $ok[(($ok | length) - 1) / 2 | floor] else null end),
		 pps_min: ($ok | min), pps_max: ($ok | max),
		 saturated_runs: ($nss | length),
		 capacity_from_saturated: (($nss | length) > 0),
		 dut_ns_per_frame_median: $nsm,
		 sink_ns_per_frame_median: (if ($sns | length) > 0 then $sns[(($sns | length) - 1) / 2 | floor] else null end),
		 capacity_pps: (if $nsm then 1e9 / $nsm else null end),
		 sent: [.[].sent], delivered: [.[].delivered],
		 drops: [.[].counted_drops], runs: .}' "${runs[@]}" \
		>"$TMP/point-$name.json"
	RESULTS+=("$TMP/point-$name.json")
}

not_measured() {
	local name=$1 desc=$2 reason=$3
	log "$name: not measured: $reason"
	jq -n --arg name "$name" --arg desc "$desc" --arg reason "$reason" \
		'{name: $name, description: $desc, status: "not measured",
		  reason: $reason, pps_median: null, runs: []}' \
		>"$TMP/point-$name.json"
	RESULTS+=("$TMP/point-$name.json")
}

# --------------------------------------------------------------- points

point_kernel() {
	local desc="Linux IPv4 forwarding in a namespace router (ip_forward=1, static route and neighbour), trafgen generator"
	log "kernel: namespace router, trafgen on CPU $GEN_CPU"
	SINK_CPU=$SINK_CPU_KERNEL
	add_ns "$NS_D"
	topo_up "$NS_D"
	ip netns exec "$NS_D" sysctl -qw net.ipv4.ip_forward=1 \
		net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
		"net.ipv4.conf.${P}a.rp_filter=0"
	ip -n "$NS_D" addr add 198.51.100.254/24 dev "${P}a"
	ip -n "$NS_D" addr add 198.51.101.254/24 dev "${P}b"
	ip -n "$NS_D" route add 198.19.0.0/16 via $GW_SINK dev "${P}b"
	ip -n "$NS_D" neigh replace $GW_SINK lladdr $MAC_S dev "${P}b" nud permanent
	# trafgen cannot raise socket memory from inside a namespace; with the
	# default send buffer it stalls with EAGAIN. Restored on exit.
	sysctl -qw net.core.wmem_default=4194304
	trafgen_cfg >"$TMP/trafgen.cfg"
	measure kernel trafgen "$NS_D" "" "$desc"
	sysctl -qw net.core.wmem_default="$WMEM_SAVED"
	topo_down "$NS_D"
	SINK_CPU=$SINK_CPU_XDP
}

point_redirect() {
	local desc="minimal XDP program (bpf/xvr_redirect.bpf.c): every frame to one fixed port through a devmap, no header change"
	log "redirect: minimal XDP redirect, xvr-pktgen on CPU $GEN_CPU"
	topo_up ""
	"$SINK" redirect "${P}a" "${P}b" "$PIN/redirect"
	measure redirect pktgen "" "" "$desc"
	topo_down ""
}

xvr_ready() {
	[ -x "$XVR" ] || { echo "build/xvr missing"; return 1; }
	"$XVR" node help >/dev/null 2>&1 || { echo "build/xvr does not run"; return 1; }
}

# xvr_setup ROUTES_FILE|"": node, ports, one xdp-mode router owning port A.
xvr_setup() {
	local table=$1
	XVR_UP=1
	"$XVR" -n "$NODE" node up
	"$XVR" -n "$NODE" port add "${P}a"
	"$XVR" -n "$NODE" port add "${P}b"
	"$XVR" -n "$NODE" router add bench id 1 mode xdp
	"$XVR" -n "$NODE" classify add bench default port "${P}a"
	if [ -z "$table" ]; then
		"$XVR" -n "$NODE" route add bench 198.19.0.0/16 via $GW_SINK \
			lladdr $MAC_S dev "${P}b"
		"$XVR" -n "$NODE" route add bench 198.18.0.0/16 via $GW_GEN \
			lladdr $MAC_G dev "${P}a"
	else
		"$XVR" -n "$NODE" route load bench "$table"
	fi
}

xvr_teardown() {
	"$XVR" -n "$NODE" node down || true
	XVR_UP=0
	rm -rf "/sys/fs/bpf/xvr/$NODE"
}

point_xvr() {
	local name=$1 desc reason table="" gen_args=()
	if [ "$name" = xvr-2 ]; then
		desc="xvr, one router in xdp mode, 2 routes, one destination"
	else
		desc="xvr, one router in xdp mode, $PREFIXES-prefix synthetic table (scripts/gen-table.py), $NDSTS random destinations across it"
	fi
	if ! reason=$(xvr_ready); then
		not_measured "$name" "$desc" "$reason"
		return
	fi
	log "$name: xvr xdp mode, xvr-pktgen on CPU $GEN_CPU"
	topo_up ""
	if [ "$name" = xvr-170k ]; then
		table=$TMP/table.txt
		$PY "$ROOT/scripts/gen-table.py" -n "$PREFIXES" --via $GW_SINK \
			--lladdr $MAC_S --dev "${P}b" -o "$table" \
			--dst-file "$TMP/dsts.txt" --dst-count "$NDSTS"
		gen_args=(-f "$TMP/dsts.txt")
	fi
	if ! xvr_setup "$table" >"$TMP/xvr.log" 2>&1; then
		reason="xvr setup failed: $(tail -1 "$TMP/xvr.log")"
		xvr_teardown >/dev/null 2>&1
		topo_down ""
		not_measured "$name" "$desc" "$reason"
		return
	fi
	measure "$name" pktgen "" "$NODE" "$desc" "${gen_args[@]}"
	xvr_teardown
	topo_down ""
}

# ----------------------------------------------------------------- main

CMD="make bench    # DURATION=$DURATION REPS=$REPS SIZE=$SIZE POINTS=\"$POINTS\""
[ "$QUICK" = 1 ] && CMD="QUICK=1 $CMD"
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
log "prefix $P, $REPS x ${DURATION}s per point, ${SIZE}-byte frames, points: $POINTS"
for pt in $POINTS; do
	case $pt in
	kernel) point_kernel ;;
	redirect) point_redirect ;;
	xvr-2 | xvr-170k) point_xvr "$pt" ;;
	*) die "unknown point $pt" ;;
	esac
done

mkdir -p "$OUT"
jq -s --arg kernel "$(uname -r)" \
	--arg cpu "$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)" \
	--argjson cpus "$(nproc --all)" --arg date "$(date -Is)" --arg cmd "$CMD" \
	--arg load "$LOAD_START" \
	--argjson dur "$DURATION" --argjson reps "$REPS" --argjson size "$SIZE" \
	--argjson gcpu "$GEN_CPU" --argjson dcpu "$DUT_CPU" --argjson scpu "$SINK_CPU_XDP" \
	--arg file "bench/results/$(basename "$OUT")/results.json" '
	(map({(.name): .pps_median}) | add) as $m |
	(map({(.name): .capacity_pps}) | add) as $c |
	def ratio($n; $a; $b; $t):
		{name: $n, numerator: $a, denominator: $b, target: $t,
		 value: (if $c[$a] and $c[$b] then $c[$a] / $c[$b] else null end),
		 value_delivered: (if $m[$a] and $m[$b] then $m[$a] / $m[$b] else null end)};
	{meta: {kernel: $kernel, cpu_model: $cpu, cpus: $cpus, date: $date,
		command: $cmd, duration_s: $dur, repetitions: $reps,
		loadavg_at_start: $load,
		frame_size: $size, gen_cpu: $gcpu, dut_cpu: $dcpu, sink_cpu: $scpu,
		results_file: $file},
	 points: [.[] | . + {kernel: $kernel, cpu_model: $cpu}],
	 ratios: [ratio("xdp mode / kernel forwarding"; "xvr-2"; "kernel"; 3.0),
		  ratio("xdp mode / minimal redirect"; "xvr-2"; "redirect"; 0.8),
		  ratio("170k table, random / 2 routes"; "xvr-170k"; "xvr-2"; 0.8)]}
	' "${RESULTS[@]}" >"$OUT/results.json"
$PY "$ACCT" report "$OUT/results.json" "$ROOT/BENCHMARKS.md"

log "results: $OUT/results.json, BENCHMARKS.md"
jq -r '.points[] | "\(.name): " + (if .pps_median then "\(.pps_median / 1e6 * 1000 | floor / 1000) Mpps delivered (\(.balanced_runs)/\(.repetitions) runs balanced); DUT " + (if .capacity_pps then "\(.dut_ns_per_frame_median | floor) ns/frame, capacity \(.capacity_pps / 1e6 * 1000 | floor / 1000) Mpps" + (if .capacity_from_saturated then "" else " (never saturated: estimate)" end) else "no cost figure" end) else (.reason // "no balanced run") end)' \
	"$OUT/results.json" | while read -r l; do log "$l"; done
jq -r '.ratios[] | "\(.name): " + (if .value then "\(.value * 100 | floor / 100) (target >= \(.target))" else "not measured" end) + (if .value_delivered then "; delivered \(.value_delivered * 100 | floor / 100)" else "" end)' \
	"$OUT/results.json" | while read -r l; do log "$l"; done
