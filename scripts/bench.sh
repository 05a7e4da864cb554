#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# make bench: forwarding throughput of xvr against two baselines, each at
# maximal offered load over veth, with every packet accounted for.
#
#   kernel     Linux IP forwarding where the ports are (no virtualization)
#   redirect   the minimal XDP program: redirect every frame to one port
#   fibfwd, fibfwd-170k   the xdp_fwd-class peer: an XDP forwarder on
#              bpf_fib_lookup in a kernel table per tenant (TBID), with the
#              2 routes of xvr-2 / the table and destinations of xvr-170k
#   xvr-2      xvr, xdp mode, 2 routes
#   xvr-170k   xvr, xdp mode, a 170,000-prefix table, random destinations
#   netns      xvr netns-mode router (issue 3); macvlan, bridge: the same
#              namespace router behind macvlan / veth + Linux bridge
#   xdp-static, xdp-bird   xdp mode with VIFs, routes from `xvr route add`
#              (fibsync off) / from BIRD 2 in the router's namespace
#   pfpacket   build/xvr-pfpacket, recvfrom/sendto forwarder (issue 4)
#   pfmmap     build/xvr-pfmmap, PF_PACKET on PACKET_MMAP rings (TPACKET_V3
#              RX, TX ring, one sendto per batch), the stronger baseline
#   afxdp      afxdp router, 1 engine; afxdp-pool-N: pool of N frames;
#              afxdp-{2,3}-{rr,weighted,flowhash}: reordering; afxdp-idle
#   kernel, netns, macvlan, bridge, pfpacket, pfmmap share one generator ($L3GEN)
#
# and the experiments, KIND:ARG, each in scripts/bench/xp-KIND.sh with its
# report section in scripts/bench/report_eN_KIND.py:
#   sweep:MODE    offered load 10-150% of capacity, no-drop rate (exp. 1)
#   size:MODE     frame sizes 64-1500 (exp. 2)
#   fib:N         N-prefix table, random destinations (exp. 3)
#   routers:N[-netns]  N routers, traffic over all (exp. 4)
#   vifs:N        one router with N VIFs (exp. 5)
#   lat:MODE      one-way latency percentiles and ping RTT at 10/50/90% (exp. 6)
#   tcp:MODE      iperf3 throughput, reordering with engines (exp. 7)
#   isolation:MODE  a flooded router beside a victim, with and without a
#                 limit on the flooded one (exp. 9; xdp netns macvlan bridge)
#   fair:xdp      three routers of unequal cost under the fair-sharing
#                 controller, weights 1:1:1 and 2:1:1: CPU share by weight
#                 (issue 10, exp. 2)
#   victim:xdp    a victim's loss and p99 latency beside a flooded or
#                 CPU-burning neighbour (issue 10, exp. 3)
# MODE: kernel bridge macvlan pfpacket pfmmap redirect xdp netns afxdp afxdp-N.
#
#   scripts/bench.sh           the suite; results in bench/results/<date>/
#   scripts/bench.sh micro     micro benchmarks (make bench-micro, exp. 8)
#
# The standard points (ROUND_POINTS) run in ROUNDS rounds (default 5, QUICK
# 2), every point once per round, so every ratio comes from interleaved
# pairs: the report gives each ratio's median with the min-max of its
# per-round values. The kernel's per-program statistics are off in the
# measured runs and on in short probes (BPF_STATS, below).
#
# Environment: XVR_A=PATH (another build's build/xvr, for points POINT.a),
# QUICK=1 (the short suite: fewer points, 1 repetition of
# 2 s), DURATION=SEC, REPS=N (runs of a point outside the rounds),
# ROUNDS=N, PAIR=0 (no rounds), BPF_STATS=probe|on, STATS_ROUNDS="1 3 5",
# STATS_PROBE_S=0.5, POINTS="kernel sweep:xdp ..." (default: see
# DEFAULT_POINTS below), experiment knobs at the head of each xp-*.sh,
# SIZE=BYTES (frame with FCS, default 64), POINTS="kernel redirect ...",
# PREFIXES=N (default 170000), NDSTS=N (destinations, default 262144),
# OUT=DIR, GEN_CPU / DUT_CPU (default 0 / 1), SINK_CPU / SINK_CPU_KERNEL
# (the sink's CPU for the XDP points / the kernel point, default DUT_CPU /
# GEN_CPU), DUT_PRIO / SINK_PRIO / GEN_PRIO (SCHED_FIFO priorities, default
# 50 / 60 / 40; a DUT's inner devices get 51, 52, ... along the path).
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

# write_report RESULTS: BENCHMARKS.md and the README's ratio table from a
# full run's results (meta.full_run), else a report next to RESULTS only,
# so that the documents always come from one full run.
write_report() {
	local res=$1 md
	if jq -e .meta.full_run "$res" >/dev/null; then
		md=$ROOT/BENCHMARKS.md
		"$PY" "$ACCT" report "$res" "$md" --readme "$ROOT/README.md" || return 1
	else
		md=$(dirname "$res")/BENCHMARKS.md
		"$PY" "$ACCT" report "$res" "$md" || return 1
	fi
	REPORT_MD=$md
}

if [ "${1:-}" = micro ]; then
	# Per-program costs only; merged into this date's results.json (if
	# there is one) and BENCHMARKS.md regenerated.
	OUT=${OUT:-$ROOT/bench/results/$(date +%Y-%m-%d)}
	mkdir -p "$OUT"
	"$ROOT/scripts/bench/micro.sh" "$OUT/micro.json"
	if [ -f "$OUT/results.json" ]; then
		jq --slurpfile m "$OUT/micro.json" '.micro = $m[0]' "$OUT/results.json" \
			>"$OUT/results.json.tmp" && mv "$OUT/results.json.tmp" "$OUT/results.json"
		write_report "$OUT/results.json"
		echo "bench-micro: $OUT/micro.json, merged into $OUT/results.json and $REPORT_MD"
	else
		echo "bench-micro: $OUT/micro.json (no results.json of this date to merge into)"
	fi
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
	DURATION=${DURATION:-2}
	REPS=${REPS:-2}
fi
SIZE=${SIZE:-64}
MODES_SWEEP="xdp netns afxdp"
PREFIXES=${PREFIXES:-170000}
NDSTS=${NDSTS:-262144}
POOLS=${POOLS:-2 4096}
# The suite. Standard points (the ratios) first, then the experiments of
# scripts/bench/xp-*.sh as KIND:ARG (1 sweep, 2 size, 3 fib, 4 routers,
# 5 vifs, 6 lat, 7 tcp, 9 isolation; 8 is the micro benchmarks, run at the
# end). The
# default must stay within 30 minutes on this 2-CPU machine (the report
# gives the run's length; the last took 29), QUICK=1 runs fewer points.
# A point POINT@BYTES runs a standard point with frames of BYTES.
if [ "$QUICK" = 1 ]; then
	SIZE_STEPS=${SIZE_STEPS:-64 1500}
	DEFAULT_POINTS="kernel netns redirect fibfwd xvr-2 pfpacket pfmmap afxdp \
		$(for p in $POOLS; do printf 'afxdp-pool-%s ' "$p"; done) \
		afxdp-3-rr afxdp-3-flowhash afxdp-idle \
		sweep:kernel sweep:xdp size:xdp fib:1000 routers:8 vifs:8 lat:xdp tcp:xdp \
		isolation:xdp link-p2p fair:xdp victim:xdp"
else
	DEFAULT_POINTS="kernel netns macvlan bridge xdp-static xdp-bird redirect \
		fibfwd xvr-2 xvr-170k fibfwd-170k pfpacket pfmmap afxdp link-p2p link-mp bridge-vxlan \
		$(for p in $POOLS; do printf 'afxdp-pool-%s ' "$p"; done) \
		afxdp-3-rr afxdp-3-flowhash afxdp-idle \
		$(for m in $MODES_SWEEP; do printf 'sweep:%s ' "$m"; done) \
		size:xdp fib:2 fib:1000000 routers:1 routers:64 routers:512 vifs:2 vifs:512 \
		lat:kernel lat:xdp lat:netns lat:afxdp \
		tcp:xdp tcp:netns tcp:afxdp-3-rr tcp:afxdp-3-flowhash \
		isolation:xdp isolation:netns isolation:macvlan isolation:bridge \
		fair:xdp victim:xdp"
fi
# A full run: the default points, not QUICK (write_report).
FULL_RUN=0
[ "$QUICK" != 1 ] && [ -z "${POINTS:-}" ] && FULL_RUN=1
POINTS=$(echo ${POINTS:-$DEFAULT_POINTS})
# Generator of the points that forward in a Linux stack. xvr-pktgen's live
# frames do reach the stack through a veth whose NAPI (GRO) path builds skbs
# from them, and it offers several times what any of these DUTs forwards, so
# they saturate; L3GEN=trafgen uses trafgen (AF_PACKET, 0.5-1.3 Mpps here:
# it, not the DUT, is then the bottleneck).
L3GEN=${L3GEN:-pktgen}
# Points that also get a no-drop rate (binary search on the offered rate,
# pktgen only): the figure the afxdp ratios use, since an overloaded engine
# loses frames inside the DUT (at its ring) after port A spent CPU on them.
# POINT.a (another build, for A/B) gets one whenever POINT does.
NDR_POINTS=${NDR_POINTS-kernel pfpacket pfmmap afxdp}
# Offered rate of the afxdp pool sweep and reordering points (below one
# engine's capacity, so that what they show is not overload loss).
AF_RATE=${AF_RATE:-200000}
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
SINK_PRIO=${SINK_PRIO-60}
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
BPF_STATS_SAVED=$(sysctl -n kernel.bpf_stats_enabled)
CREATED_NS=()
XVR_UP=0
BIRD_NS=""	# a namespace whose processes (BIRD) we started
FWD_PID=""	# the PF_PACKET forwarder

# The BIRD we started: the bird processes in the router's namespace only.
bird_kill() {
	local p
	for p in $(ip netns pids "$BIRD_NS" 2>/dev/null); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = bird ] && kill "$p" 2>/dev/null
	done
	return 0
}

cleanup() {
	local rc=$?
	set +e
	if [ "$XVR_UP" = 1 ]; then
		"$XVR" -n "$NODE" node down >/dev/null 2>&1
	fi
	rm -rf "/sys/fs/bpf/xvr/$NODE" "$PIN" 2>/dev/null
	ip route flush table "$FIBFWD_TABLE" 2>/dev/null
	rmdir /sys/fs/bpf/xvr-bench 2>/dev/null
	ip link del "${P}a" 2>/dev/null
	ip link del "${P}b" 2>/dev/null
	for l in br bx vx v0 v1; do ip link del "$P$l" 2>/dev/null; done
	[ -n "$BIRD_NS" ] && bird_kill
	[ -n "$FWD_PID" ] && kill "$FWD_PID" 2>/dev/null
	for ns in "${CREATED_NS[@]}"; do ip netns del "$ns" 2>/dev/null; done
	sysctl -qw net.core.wmem_default="$WMEM_SAVED"
	sysctl -qw kernel.bpf_stats_enabled="$BPF_STATS_SAVED"
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

# Per-program run time and count, for each program's own cost per frame
# (kernel.bpf_stats_enabled). Each program run then reads the clock twice,
# a paravirtual clock in this guest: a cost the XDP points pay per program
# and the kernel's own forwarding does not. BPF_STATS=probe (default): off
# in the measured runs; in the rounds STATS_ROUNDS each standard point gets
# a STATS_PROBE_S s probe at maximal load after its run, with it on only
# then, whose per-program figures go into that run's record. BPF_STATS=on:
# on for the whole suite, every run's own figures (and their cost in it).
BPF_STATS=${BPF_STATS:-probe}
STATS_ROUNDS=${STATS_ROUNDS:-1 3 5}
STATS_PROBE_S=${STATS_PROBE_S:-0.5}
case $BPF_STATS in
on) sysctl -qw kernel.bpf_stats_enabled=1 ;;
probe) sysctl -qw kernel.bpf_stats_enabled=0 ;;
*) die "BPF_STATS: on or probe, not '$BPF_STATS'" ;;
esac

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

# napi_threads DEV: the PIDs of DEV's NAPI kthreads (napi/DEV-ID; the
# kernel shows a kthread's full name in comm). One grep over /proc.
napi_threads() {
	grep -sl "^napi/$1-[0-9]*\$" /proc/[0-9]*/comm | cut -d/ -f3
}

# pin_napi NS DEV CPU [RTPRIO]: threaded NAPI for DEV, its kthread on CPU,
# SCHED_FIFO at RTPRIO if given.
pin_napi() {
	local ns=$1 dev=$2 cpu=$3 prio=${4:-} pid found=0 comm
	ns_sh "$ns" "ethtool -K $dev gro on >/dev/null && echo 1 > /sys/class/net/$dev/threaded"
	for pid in $(napi_threads "$dev"); do
		taskset -pc "$cpu" "$pid" >/dev/null
		if [ -n "$prio" ]; then
			chrt -f -p "$prio" "$pid"
		else
			chrt -o -p 0 "$pid"
		fi
		found=1
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
	"$SINK" ${SINK_ATTACH_ARGS:-} -N "$NS_S" attach "${P}s0" "$PIN/sink"
	pin_napi "$NS_S" "${P}s0" "$SINK_CPU" $SINK_PRIO
	pin_napi "$dns" "${P}a" "$DUT_CPU" $DUT_PRIO
	pin_napi "$dns" "${P}b" "$DUT_CPU" $DUT_PRIO
}

topo_down() {
	local dns=$1
	"$SINK" detach "$PIN/sink" >/dev/null 2>&1 || true
	"$SINK" detach "$PIN/redirect" >/dev/null 2>&1 || true
	"$SINK" detach "$PIN/fibfwd" >/dev/null 2>&1 || true
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
			${GEN_RATE:+-r "$GEN_RATE"} \
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

# ------------------------------------------------------- no-drop rate

# ndr_probe RATE: one short pktgen run at RATE; prints "SENT DELIVERED".
ndr_probe() {
	local rate=$1 out
	"$SINK" reset "$PIN/sink"
	DURATION=$NDR_PROBE_S run_gen pktgen -r "$rate" "${NDR_GEN_ARGS[@]}" >"$TMP/probe.out"
	sleep "$DRAIN"
	out=$("$SINK" -j read "$PIN/sink" | jq -r .tagged_packets)
	echo "$(cut -d' ' -f1 "$TMP/probe.out") $out"
}

# find_ndr NAME: the highest offered rate (pktgen) with loss <= 0.1%, by
# binary search between 0 and NDR_MAX pps in NDR_STEPS probes. Sets NDR.
NDR_MAX=${NDR_MAX:-4000000}
NDR_STEPS=${NDR_STEPS:-5}
NDR_PROBE_S=${NDR_PROBE_S:-0.5}	# seconds per probe (fractions allowed)
NDR_GEN_ARGS=()
find_ndr() {
	local name=$1 lo=0 hi=$NDR_MAX mid i sent del
	[ -n "$MX_PIN" ] && $MX_PIN
	# Upper bound: 1.5 x what it delivers at NDR_MAX (a no-drop rate lies
	# below that), for resolution.
	[ -n "$MX_PRE" ] && $MX_PRE
	read -r sent del < <(ndr_probe "$NDR_MAX")
	[ -n "$MX_POST" ] && $MX_POST
	hi=$(awk -v d="$del" -v s="$NDR_PROBE_S" 'BEGIN { printf "%d", d * 1.5 / s }')
	[ "$hi" -ge 50000 ] || hi=50000
	log "$name: no-drop search: $del delivered at $NDR_MAX pps offered; searching [0, $hi]"
	for i in $(seq 1 "$NDR_STEPS"); do
		mid=$(( (lo + hi) / 2 ))
		[ -n "$MX_PRE" ] && $MX_PRE
		read -r sent del < <(ndr_probe "$mid")
		[ -n "$MX_POST" ] && $MX_POST
		if [ "$sent" -gt 0 ] && [ $(( (sent - del) * 1000 )) -le "$sent" ]; then
			lo=$mid
		else
			hi=$mid
		fi
		log "$name: no-drop search $i/$NDR_STEPS: offered $mid pps, sent $sent delivered $del -> [$lo, $hi]"
	done
	NDR=$lo
}

# ------------------------------------------------------------ measuring

RESULTS=()	# one JSON file per point
# Set by a point before measure(): extra DUT devices "NS:DEV", DUT processes,
# the namespace whose IP MIB counts, hooks run around each generator run.
MX_DEVS=()
MX_PIDS=()
MX_SNMP_NS=""
MX_PRE=""
MX_POST=""
MX_PIN=""	# a point's own pinning, after the others'
MX_DROPDEVS=()	# "NS:DEV" whose drops count (NAPI threads handled by the point)
mx_reset() { MX_DEVS=(); MX_PIDS=(); MX_SNMP_NS=""; MX_PRE=""; MX_POST=""; MX_PIN=""; MX_DROPDEVS=(); }

# mx_args NAME DUT_NS XVR_NODE: the accounting arguments of a point, in
# MXA_DEVS, MXA_EXTRA and MXA_ACCT.
mx_args() {
	local name=$1 dns=$2 node=$3 x
	MXA_DEVS=(--dev "gen=$NS_G:${P}g0" --dev "dut_in=$dns:${P}a"
		  --dev "dut_out=$dns:${P}b" --dev "sink=$NS_S:${P}s0")
	MXA_EXTRA=()
	MXA_ACCT=()
	[ -n "$node" ] && MXA_EXTRA+=(--xvr-node "$node")
	if [ -n "$MX_SNMP_NS" ]; then
		MXA_EXTRA+=(--snmp-ns "$MX_SNMP_NS")
	elif [ -n "$dns" ]; then
		MXA_EXTRA+=(--snmp-ns "$dns")
	fi
	MXA_EXTRA+=(--napi "${P}a" --napi "${P}b" --napi "${P}s0")
	# Extra DUT devices ("NS:DEV"): their drops count, their NAPI threads
	# are pinned with the DUT's and their CPU time is the DUT's.
	for x in "${MX_DEVS[@]}"; do
		MXA_DEVS+=(--dev "x-${x#*:}=$x")
		MXA_EXTRA+=(--napi "${x#*:}")
	done
	for x in "${MX_DROPDEVS[@]}"; do MXA_DEVS+=(--dev "x-${x#*:}=$x"); done
	if [ ${#MX_DEVS[@]} -gt 0 ] || [ ${#MX_DROPDEVS[@]} -gt 0 ]; then
		MXA_ACCT+=(--dut-napi "${P}a" --dut-napi "${P}b")
		for x in "${MX_DEVS[@]}"; do MXA_ACCT+=(--dut-napi "${x#*:}"); done
	fi
}

# bpf_prog_stats: the xvr programs loaded now with the kernel's run-time
# statistics (counted while kernel.bpf_stats_enabled is on: BPF_STATS).
bpf_prog_stats() {
	bpftool -j prog show 2>/dev/null |
		jq '[.[] | select((.name // "") | startswith("xvr_")) |
		     {id, name, run_time_ns: (.run_time_ns // 0), run_cnt: (.run_cnt // 0)}]'
}

# bpf_prog_delta BEFORE AFTER: each BPF program's own cost between two
# bpf_prog_stats, by name (all instances of a name summed), ns per run.
bpf_prog_delta() {
	jq -s '(.[0] | map({(.id | tostring): .}) | add // {}) as $b |
		[.[1][] | . as $a | ($b[$a.id | tostring] // {run_time_ns: 0, run_cnt: 0}) as $o |
		 {name: $a.name, ns: ($a.run_time_ns - $o.run_time_ns), cnt: ($a.run_cnt - $o.run_cnt)} |
		 select(.cnt > 0)] | group_by(.name) |
		map({(.[0].name): {runs: (map(.cnt) | add), ns_per_run: ((map(.ns) | add) / (map(.cnt) | add))}}) |
		add // {}' "$1" "$2"
}

# stats_probe RUNFILE KIND [generator args...]: STATS_PROBE_S s at maximal
# load with kernel.bpf_stats_enabled on; the programs' figures into
# RUNFILE's bpf_progs (BPF_STATS=probe).
stats_probe() {
	local f=$1 kind=$2; shift 2
	sysctl -qw kernel.bpf_stats_enabled=1
	bpf_prog_stats >"$TMP/progs-before.json"
	DURATION=$STATS_PROBE_S run_gen "$kind" "$@" >/dev/null
	sleep "$DRAIN"
	bpf_prog_stats >"$TMP/progs-after.json"
	sysctl -qw kernel.bpf_stats_enabled=0
	bpf_prog_delta "$TMP/progs-before.json" "$TMP/progs-after.json" >"$TMP/progs.json"
	jq --slurpfile progs "$TMP/progs.json" --argjson s "$STATS_PROBE_S" \
		'. + {bpf_progs: $progs[0], bpf_progs_probe_s: $s}' "$f" >"$TMP/run.tmp" &&
		mv "$TMP/run.tmp" "$f"
}

# quiet_wait: waits up to QUIET_WAIT s until no CPU was more than
# QUIET_BUSY% busy (all but idle and iowait) over 0.3 s; prints the last
# busiest CPU's figure, fails if it never got quiet. acct.py quiet does the
# same for the tests; here in awk, since a Python start costs a third of a
# second on this machine, before each of some 300 runs.
quiet_wait() {
	local t_end busy
	t_end=$(( $(date +%s) + ${QUIET_WAIT%.*} ))
	while :; do
		busy=$( { grep '^cpu[0-9]' /proc/stat; sleep 0.3; grep '^cpu[0-9]' /proc/stat; } |
			awk '{ t = 0; for (i = 2; i <= NF; i++) t += $i; idle = $5 + $6
			       if ($1 in t0) { dt = t - t0[$1]; di = idle - i0[$1]
			                       b = dt > 0 ? 100 * (1 - di / dt) : 0; if (b > m) m = b }
			       else { t0[$1] = t; i0[$1] = idle } }
			     END { printf "%.0f\n", m }')
		if [ "$busy" -le "$QUIET_BUSY" ] || [ "$(date +%s)" -ge "$t_end" ]; then
			echo "$busy"
			[ "$busy" -le "$QUIET_BUSY" ]
			return
		fi
	done
}

# measure_run NAME KIND DUT_NS XVR_NODE OUTFILE [generator args...]: one
# accounted run at $GEN_RATE (maximal load if empty), after mx_args; the
# run's record (acct.py account) in OUTFILE, its summary logged.
measure_run() {
	local name=$1 kind=$2 dns=$3 node=$4 outf=$5 x busy sent elapsed; shift 5
	# MX_QUIET=0: no quiet check (busy_before_pct null), for runs that
	# follow one that had it, back to back.
	if [ "${MX_QUIET:-1}" = 0 ]; then
		busy=null
	elif ! busy=$(quiet_wait); then
		log "$name: machine still ${busy}% busy after ${QUIET_WAIT}s; measuring anyway"
	fi
	# Threads may have been recreated by an attach: pin again.
	pin_napi "$dns" "${P}a" "$DUT_CPU" $DUT_PRIO
	pin_napi "$dns" "${P}b" "$DUT_CPU" $DUT_PRIO
	pin_napi "$NS_S" "${P}s0" "$SINK_CPU" $SINK_PRIO
	# Downstream outranks upstream: a SCHED_FIFO NAPI thread that
	# always has work never yields to one of its own priority, so the
	# devices after the DUT's input port get rising priorities (in
	# MX_DEVS order, which is the path's) and drain what it hands on.
	local xp=${DUT_PRIO:-}
	for x in "${MX_DEVS[@]}"; do
		[ -n "$xp" ] && xp=$((xp + 1))
		pin_napi "${x%%:*}" "${x#*:}" "$DUT_CPU" $xp
	done
	[ -n "$MX_PIN" ] && $MX_PIN
	: >"$TMP/extra_drops"
	[ -n "$MX_PRE" ] && $MX_PRE
	local pidargs=()
	for x in "${MX_PIDS[@]}"; do pidargs+=(--pid "$x"); done
	"$SINK" reset "$PIN/sink"
	$PY "$ACCT" snapshot "${MXA_DEVS[@]}" "${MXA_EXTRA[@]}" "${pidargs[@]}" >"$TMP/before.json"
	# The programs' own figures of this run: only with BPF_STATS=on (else
	# nothing counts them, and stats_probe gives them).
	if [ "$BPF_STATS" = on ]; then bpf_prog_stats >"$TMP/progs-before.json"; fi
	run_gen "$kind" "$@" >"$TMP/gen.out"
	read -r sent elapsed <"$TMP/gen.out"
	sleep "$DRAIN"
	if [ "$BPF_STATS" = on ]; then bpf_prog_stats >"$TMP/progs-after.json"; fi
	$PY "$ACCT" snapshot "${MXA_DEVS[@]}" "${MXA_EXTRA[@]}" "${pidargs[@]}" >"$TMP/after.json"
	[ -n "$MX_POST" ] && $MX_POST
	if [ "${DEBUG:-0}" = 1 ]; then
		for x in "$dns:${P}a" "$dns:${P}b" "${MX_DEVS[@]}"; do
			echo "== $x" >&2
			ns_sh "${x%%:*}" "ethtool -S ${x#*:} | grep -v ': 0$'" >&2
		done
		ps -eLo pid,psr,cls,rtprio,pcpu,comm | grep -E "napi/$P|xvr-r|pfpacket" >&2
	fi
	"$SINK" -j read "$PIN/sink" >"$TMP/sink.json"
	local ed=()
	while read -r x; do [ -n "$x" ] && ed+=(--extra-drop "$x"); done <"$TMP/extra_drops"
	$PY "$ACCT" account --before "$TMP/before.json" \
		--after "$TMP/after.json" --gen "$kind" --sent "$sent" \
		--sink-json "$TMP/sink.json" --elapsed "$elapsed" \
		"${MXA_ACCT[@]}" "${ed[@]}" \
		--dut-cpu "$DUT_CPU" --sink-cpu "$SINK_CPU" >"$outf"
	if [ "$BPF_STATS" = on ]; then
		bpf_prog_delta "$TMP/progs-before.json" "$TMP/progs-after.json" >"$TMP/progs.json"
	else
		echo '{}' >"$TMP/progs.json"
	fi
	jq --slurpfile progs "$TMP/progs.json" --argjson round "${ROUND:-null}" --argjson ndr "${RUN_NDR:-null}" \
		'. + {bpf_progs: $progs[0], round: $round, ndr_pps: $ndr}' "$outf" >"$TMP/run.tmp" &&
		mv "$TMP/run.tmp" "$outf"
	jq --argjson busy "$busy" '. + {busy_before_pct: $busy} |
		if $busy > '"$QUIET_BUSY"' then .notes += ["machine \($busy)% busy before the run"] else . end' \
		"$outf" >"$TMP/run.tmp" && mv "$TMP/run.tmp" "$outf"
	jq -r --arg n "$name" '
		"\($n): sent \(.sent) delivered \(.delivered) " +
		"drops \(.counted_drops) residual \(.residual) -> " +
		(if .balanced then "books balance" else "BOOKS DO NOT BALANCE: FAILED" end) +
		"; \(.pps / 1e6 * 1000 | floor / 1000) Mpps delivered, " +
		"offered \(.offered_pps / 1e6 * 1000 | floor / 1000) Mpps, " +
		"bottleneck \(.bottleneck)" +
		(if .dut_cpu_busy then ", DUT CPU \(.dut_cpu_busy * 100 | floor)% busy" +
		 (if .dut_napi_cpu then " (DUT threads \(.dut_napi_cpu * 100 | floor)%, with sink \(.dut_cpu_ours * 100 | floor)%)" else "" end)
		 else "" end) +
		(if .dut_ns_per_frame then ", DUT \(.dut_ns_per_frame | floor) ns/frame" else "" end)
		' "$outf" | while read -r l; do log "$l"; done
}

# measure NAME KIND DUT_NS XVR_NODE DESCRIPTION [pktgen args...]: the
# standard point, REPS runs at maximal load (plus a no-drop search for
# NDR_POINTS). Point functions call $MEASURE, which an experiment may
# point at its own function with the same arguments (xp-*.sh).
MEASURE=measure
measure() {
	local name=$1$NAME_SUFFIX kind=$2 dns=$3 node=$4 desc=$5; shift 5
	local rep runs=()
	mx_args "$name" "$dns" "$node"

	local NDR=""
	if [ "$kind" = pktgen ] && [[ " $NDR_POINTS " == *" ${name%.a} "* ]]; then
		NDR_GEN_ARGS=("$@")
		find_ndr "$name"
		log "$name: no-drop rate $(awk -v r="$NDR" 'BEGIN { printf "%.3f", r / 1e6 }') Mpps"
	fi
	for rep in $(seq 1 "$REPS"); do
		measure_run "$name run $rep/$REPS" "$kind" "$dns" "$node" \
			"$TMP/run-$name-$rep.json" "$@"
		runs+=("$TMP/run-$name-$rep.json")
	done
	point_json "$name" "$desc" "$REPS" "${runs[@]}"
}

# point_json NAME DESCRIPTION REPS RUNFILES...: the point's record from its
# runs (medians over balanced runs), added to RESULTS.
point_json() {
	local name=$1 desc=$2 reps=$3; shift 3
	local runs=("$@")
	jq -s --arg name "$name" --arg desc "$desc" --argjson reps "$reps" \
		--argjson dur "$DURATION" --argjson size "$SIZE" '
		([.[] | select(.balanced) | .pps] | sort) as $ok |
		([.[] | select(.balanced and .saturated) | .dut_ns_per_frame | select(. != null)] | sort) as $nss |
		([.[] | select(.balanced) | .dut_ns_per_frame | select(. != null)] | sort) as $nsa |
		(if ($nss | length) > 0 then $nss else $nsa end) as $ns |
		([.[] | select(.balanced) | .sink_ns_per_frame | select(. != null)] | sort) as $sns |
		(if ($ns | length) > 0 then $ns[(($ns | length) - 1) / 2 | floor] else null end) as $nsm |
		{name: $name, description: $desc, status: "measured",
		 offered_rate_pps: (if "'"${GEN_RATE:-}"'" == "" then null else ("'"${GEN_RATE:-0}"'" | tonumber) end),
		 ndr_pps: (if "'"${NDR:-}"'" == "" then
			([.[] | .ndr_pps // empty] | sort | if length > 0 then .[(length - 1) / 2 | floor] else null end)
			else ("'"${NDR:-0}"'" | tonumber) end),
		 reorder_pct_median: ([.[] | select(.balanced) | .reorder_pct | select(. != null)] | sort | if length > 0 then .[(length - 1) / 2 | floor] else null end),
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
	local name=$1$NAME_SUFFIX desc=$2 reason=$3
	log "$name: not measured: $reason"
	jq -n --arg name "$name" --arg desc "$desc" --arg reason "$reason" \
		'{name: $name, description: $desc, status: "not measured",
		  reason: $reason, pps_median: null, runs: []}' \
		>"$TMP/point-$name.json"
	RESULTS+=("$TMP/point-$name.json")
}

# --------------------------------------------------------------- points

point_kernel() {
	local desc="Linux IPv4 forwarding where the ports are, no virtualization (ip_forward=1, static route and neighbour in the DUT's namespace), $L3GEN generator"
	log "kernel: Linux forwarding, $L3GEN on CPU $GEN_CPU"
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
	$MEASURE kernel "$L3GEN" "$NS_D" "" "$desc"
	sysctl -qw net.core.wmem_default="$WMEM_SAVED"
	topo_down "$NS_D"
	SINK_CPU=$SINK_CPU_XDP
}

point_redirect() {
	local desc="minimal XDP program (bpf/tools/xvr_redirect.bpf.c): every frame to one fixed port through a devmap, no header change"
	log "redirect: minimal XDP redirect, xvr-pktgen on CPU $GEN_CPU"
	topo_up ""
	"$SINK" redirect "${P}a" "${P}b" "$PIN/redirect"
	$MEASURE redirect pktgen "" "" "$desc"
	topo_down ""
}

# point_fibfwd NAME: the xdp_fwd-class peer (bpf/tools/xvr_fibfwd.bpf.c):
# an XDP forwarder on bpf_fib_lookup in the kernel's table $FIBFWD_TABLE
# (one table per tenant, looked up with BPF_FIB_LOOKUP_TBID) in the root
# namespace where the DUT's ports are, static neighbours. fibfwd: the same
# 2 routes as xvr-2; fibfwd-170k: the same $PREFIXES-prefix table and
# random destinations as xvr-170k.
FIBFWD_TABLE=${FIBFWD_TABLE:-4242}
point_fibfwd() {
	local name=$1 desc gen_args=()
	desc="XDP forwarder on the kernel's FIB (bpf_fib_lookup, table per tenant via BPF_FIB_LOOKUP_TBID; the xdp_fwd class)"
	log "$name: $desc, xvr-pktgen on CPU $GEN_CPU"
	topo_up ""
	# bpf_fib_lookup() answers only for a port that forwards.
	sysctl -qw "net.ipv4.conf.${P}a.forwarding=1" "net.ipv4.conf.${P}b.forwarding=1"
	ip neigh replace $GW_SINK lladdr $MAC_S dev "${P}b" nud permanent
	ip neigh replace $GW_GEN lladdr $MAC_G dev "${P}a" nud permanent
	if [ "$name" = fibfwd-170k ]; then
		desc="$desc, $PREFIXES-prefix synthetic table (scripts/gen-table.py), $NDSTS random destinations across it"
		$PY "$ROOT/scripts/gen-table.py" -n "$PREFIXES" --via $GW_SINK \
			--lladdr $MAC_S --dev "${P}b" -o "$TMP/table.txt" \
			--dst-file "$TMP/dsts.txt" --dst-count "$NDSTS"
		awk -v t="$FIBFWD_TABLE" '{ print "route add " $1 " via " $3 " dev " $7 " onlink table " t }' \
			"$TMP/table.txt" >"$TMP/table.batch"
		ip -batch "$TMP/table.batch"
		gen_args=(-f "$TMP/dsts.txt")
	else
		desc="$desc, 2 routes, one destination"
		ip route add 198.19.0.0/16 via $GW_SINK dev "${P}b" onlink table "$FIBFWD_TABLE"
		ip route add 198.18.0.0/16 via $GW_GEN dev "${P}a" onlink table "$FIBFWD_TABLE"
	fi
	"$SINK" fibfwd "${P}a" "${P}b" "$PIN/fibfwd" "$FIBFWD_TABLE"
	$MEASURE "$name" pktgen "" "" "$desc" "${gen_args[@]}"
	"$SINK" detach "$PIN/fibfwd" >/dev/null 2>&1 || true
	ip route flush table "$FIBFWD_TABLE" 2>/dev/null || true
	topo_down ""
}

# rns_config NS IF0 IF1: a Linux router in NS between IF0 (generator side)
# and IF1 (sink side): addresses, the route to the flow's destination, a
# static neighbour for the sink, ip_forward.
rns_config() {
	local ns=$1 if0=$2 if1=$3
	ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1 \
		net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
		"net.ipv4.conf.$if0.rp_filter=0"
	ip -n "$ns" link set "$if0" up
	ip -n "$ns" link set "$if1" up
	ip -n "$ns" addr add 198.51.100.254/24 dev "$if0"
	ip -n "$ns" addr add 198.51.101.254/24 dev "$if1"
	[ "${4:-}" = noroute ] || ip -n "$ns" route add 198.19.0.0/16 via $GW_SINK dev "$if1"
	ip -n "$ns" neigh replace $GW_SINK lladdr $MAC_S dev "$if1" nud permanent
	ip -n "$ns" neigh replace $GW_GEN lladdr $MAC_G dev "$if0" nud permanent
}

# Every point whose DUT forwards in a Linux stack (kernel, netns, macvlan,
# bridge, pfpacket): the same generator ($L3GEN) and sink placement.
l3_point_begin() {
	SINK_CPU=$SINK_CPU_KERNEL
	sysctl -qw net.core.wmem_default=4194304
	trafgen_cfg >"$TMP/trafgen.cfg"
}
l3_point_end() {
	sysctl -qw net.core.wmem_default="$WMEM_SAVED"
	SINK_CPU=$SINK_CPU_XDP
	mx_reset
}

# The DUT ports give their MACs to the router's interfaces (the generator
# addresses MAC_A, the router answers from MAC_B) and take others.
ports_other_macs() {
	ip link set "${P}a" address 02:00:00:00:01:0a
	ip link set "${P}b" address 02:00:00:00:02:0a
}

point_macvlan() {
	local desc="Linux namespace router behind macvlan: macvlan devices on the two DUT ports moved into the router's namespace, which forwards ($L3GEN generator)"
	log "macvlan: namespace router on macvlans, $L3GEN on CPU $GEN_CPU"
	local rns=$P-r
	l3_point_begin
	topo_up ""
	add_ns "$rns"
	ports_other_macs
	ip link add "${P}m0" link "${P}a" address $MAC_A type macvlan mode bridge
	ip link add "${P}m1" link "${P}b" address $MAC_B type macvlan mode bridge
	ip link set "${P}m0" netns "$rns"
	ip link set "${P}m1" netns "$rns"
	rns_config "$rns" "${P}m0" "${P}m1"
	MX_SNMP_NS=$rns
	$MEASURE macvlan "$L3GEN" "" "" "$desc"
	l3_point_end
	ip netns del "$rns"
	topo_down ""
}

point_bridge() {
	local desc="Linux namespace router behind veth + Linux bridge: the DUT ports and the host ends of two veth pairs in one bridge (static FDB), the router's namespace forwards ($L3GEN generator)"
	log "bridge: namespace router on veth + bridge, $L3GEN on CPU $GEN_CPU"
	local rns=$P-r br=${P}br
	l3_point_begin
	topo_up ""
	add_ns "$rns"
	ports_other_macs
	ip link add "$br" type bridge stp_state 0 forward_delay 0
	sysctl -qw "net.ipv6.conf.$br.disable_ipv6=1"
	ip link add "${P}v0" type veth peer name "${P}e0" address $MAC_A netns "$rns"
	ip link add "${P}v1" type veth peer name "${P}e1" address $MAC_B netns "$rns"
	sysctl -qw "net.ipv6.conf.${P}v0.disable_ipv6=1" "net.ipv6.conf.${P}v1.disable_ipv6=1"
	for d in "${P}a" "${P}b" "${P}v0" "${P}v1"; do
		ip link set "$d" master "$br"
		ip link set "$d" up
	done
	ip link set "$br" up
	bridge fdb replace $MAC_A dev "${P}v0" master static
	bridge fdb replace $MAC_B dev "${P}v1" master static
	bridge fdb replace $MAC_G dev "${P}a" master static
	bridge fdb replace $MAC_S dev "${P}b" master static
	rns_config "$rns" "${P}e0" "${P}e1"
	MX_SNMP_NS=$rns
	MX_DEVS=(":${P}v0" "$rns:${P}e0" "$rns:${P}e1" ":${P}v1")
	$MEASURE bridge "$L3GEN" "" "" "$desc"
	l3_point_end
	ip link del "$br"
	ip link del "${P}v0" 2>/dev/null || true
	ip link del "${P}v1" 2>/dev/null || true
	ip netns del "$rns"
	topo_down ""
}

# xvr_vifs ROUTER: VIFs e0 on port A (MAC_A), e1 on port B (MAC_B); sets
# VIF_NS and MX_DEVS (both ends of both VIFs).
xvr_vifs() {
	local r=$1 d0 d1
	VIF_NS=xvr-$NODE-$r
	ip netns exec "$VIF_NS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1
	"$XVR" -n "$NODE" vif add "$r" "${P}e0" port "${P}a" mac $MAC_A
	"$XVR" -n "$NODE" vif add "$r" "${P}e1" port "${P}b" mac $MAC_B
	d0=$("$XVR" -n "$NODE" -j vif list "$r" | jq -r --arg n "${P}e0" '.. | objects | select(.ifname? == $n) | .dev' | head -1)
	d1=$("$XVR" -n "$NODE" -j vif list "$r" | jq -r --arg n "${P}e1" '.. | objects | select(.ifname? == $n) | .dev' | head -1)
	[ -n "$d0" ] && [ -n "$d1" ] || { echo "cannot find the VIFs' host ends"; return 1; }
	MX_DEVS=(":$d0" "$VIF_NS:${P}e0" "$VIF_NS:${P}e1" ":$d1")
}

# NETNS_THREADED says whether the VIFs' veth ends get NAPI threads of their
# own: 0 (default), they do not, so the router end's NAPI (skb build, the
# namespace's forwarding) and the host end's (xvr_egress, redirect to port
# B) run in softirq in port A's thread, which scheduled them: the whole path
# in one thread, as the kernel point's is; 1, each end its own SCHED_FIFO
# thread on the DUT's CPU (a context switch per poll at each hop). The
# point netns-threaded is netns with NETNS_THREADED=1, for A/B in rounds.
# GRO stays on at the router's end of each VIF: it is what gives that veth
# end the NAPI instance that frames redirected into the VIF need (without
# it they are lost).
# NETNS_EGRESS: the egress checks on the VIFs' host ends as XDP (xdp, what
# xvr attaches) or as the tc program xvr_egress_skb at their clsact ingress
# (tc: the XDP link detached; veth then hands the namespace's skbs to the
# host end through the backlog, tcgro: through its NAPI, GRO on). Points
# netns-tc and netns-tcgro are netns with those.
NETNS_THREADED=${NETNS_THREADED:-0}
NETNS_EGRESS=${NETNS_EGRESS:-xdp}
point_netns() {
	local name=${1:-netns} threaded=$NETNS_THREADED egress=$NETNS_EGRESS
	local desc="xvr, one router in netns mode: ingress redirects into its VIF, the router's namespace forwards, xvr_egress sends out of the port ($L3GEN generator)"
	local reason x
	[ "$name" = netns-threaded ] && threaded=1
	[ "$name" = netns-tc ] && egress=tc
	[ "$name" = netns-tcgro ] && egress=tcgro
	if [ "$threaded" = 1 ]; then
		desc="$desc; the VIFs' veth ends have NAPI threads of their own"
	else
		desc="$desc; the VIFs' veth ends without NAPI threads (their NAPI runs in port A's thread)"
	fi
	if ! reason=$(xvr_ready); then
		not_measured "$name" "$desc" "$reason"
		return
	fi
	log "$name: xvr netns-mode router, $L3GEN on CPU $GEN_CPU"
	l3_point_begin
	topo_up ""
	if ! {
		xvr_ports_up &&
		"$XVR" -n "$NODE" router add bench id 1 mode netns &&
		xvr_vifs bench &&
		rns_config "$VIF_NS" "${P}e0" "${P}e1"
	} >"$TMP/xvr.log" 2>&1; then
		reason="xvr setup failed: $(tail -1 "$TMP/xvr.log")"
		xvr_teardown >/dev/null 2>&1
		topo_down ""
		l3_point_end
		not_measured "$name" "$desc" "$reason"
		return
	fi
	MX_SNMP_NS=$VIF_NS
	if [ "$threaded" != 1 ]; then
		# Their drops still count; their work is port A's thread's.
		for x in "${MX_DEVS[@]}"; do
			ns_sh "${x%%:*}" "echo 0 > /sys/class/net/${x#*:}/threaded"
		done
		MX_DROPDEVS=("${MX_DEVS[@]}")
		MX_DEVS=()
	fi
	if [ "$egress" != xdp ] && ! netns_egress_tc "$egress" >"$TMP/xvr.log" 2>&1; then
		reason="egress as tc: $(tail -1 "$TMP/xvr.log")"
		l3_point_end
		xvr_teardown >/dev/null 2>&1
		topo_down ""
		not_measured "$name" "$desc" "$reason"
		return
	fi
	[ "$egress" != xdp ] && desc="$desc; egress checks as tc (xvr_egress_skb) at the VIFs' host ends' ingress, $([ "$egress" = tc ] && echo "through the backlog" || echo "through their NAPI, GRO on")"
	$MEASURE "$name" "$L3GEN" "" "$NODE" "$desc"
	l3_point_end
	xvr_teardown
	topo_down ""
}

# netns_egress_tc tc|tcgro: each VIF host end of the bench router
# (MX_DROPDEVS ":dev") runs xvr_egress_skb at tc ingress instead of XDP.
netns_egress_tc() {
	local x dev idx
	for x in "${MX_DROPDEVS[@]}" "${MX_DEVS[@]}"; do
		[ -z "${x%%:*}" ] || continue
		dev=${x#*:}
		idx=$(cat "/sys/class/net/$dev/ifindex")
		bpftool link detach pinned "/sys/fs/bpf/xvr/$NODE/vif_links/$idx" || return 1
		tc qdisc add dev "$dev" clsact &&
		tc filter add dev "$dev" ingress bpf da pinned "/sys/fs/bpf/xvr/$NODE/prog_egress_skb" || return 1
		ethtool -K "$dev" gro "$([ "$1" = tcgro ] && echo on || echo off)" >/dev/null || return 1
	done
}

# xdp mode with VIFs: routes from `xvr route add` (fibsync off) or from
# BIRD in the router's namespace, mirrored into the BPF FIB by fibsync.
point_xdp_src() {
	local name=$1 desc reason bird=0 i
	if [ "$name" = xdp-bird ]; then
		bird=1
		desc="xvr, one router in xdp mode with VIFs; its route comes from BIRD 2 (static protocol, kernel export) in the router's namespace, mirrored into the BPF FIB by fibsync; xvr-pktgen generator"
	else
		desc="xvr, one router in xdp mode with VIFs, fibsync off, its route from xvr route add; xvr-pktgen generator"
	fi
	if ! reason=$(xvr_ready); then
		not_measured "$name" "$desc" "$reason"
		return
	fi
	if [ "$bird" = 1 ] && ! command -v bird >/dev/null; then
		not_measured "$name" "$desc" "bird (bird2) not installed"
		return
	fi
	log "$name: xvr xdp mode, routes from $([ $bird = 1 ] && echo BIRD || echo 'xvr route add'), xvr-pktgen on CPU $GEN_CPU"
	topo_up ""
	if ! {
		xvr_ports_up &&
		if [ "$bird" = 1 ]; then
			"$XVR" -n "$NODE" router add bench id 1 mode xdp
		else
			"$XVR" -n "$NODE" router add bench id 1 mode xdp fibsync off
		fi &&
		xvr_vifs bench &&
		rns_config "$VIF_NS" "${P}e0" "${P}e1" noroute &&
		if [ "$bird" = 1 ]; then
			cat >"$TMP/bird.conf" <<-EOF
			router id 198.51.101.254;
			protocol device { }
			protocol kernel { ipv4 { export all; }; }
			protocol static { ipv4; route 198.19.0.0/16 via $GW_SINK; }
			EOF
			chmod 755 "$TMP"; chmod 644 "$TMP/bird.conf"
			BIRD_NS=$VIF_NS
			# The router has its own /tmp and /run: the config is handed in.
			"$XVR" -n "$NODE" router exec bench --bind "$TMP/bird.conf:/run/bird/bird.conf" \
				-- bird -f -c /run/bird/bird.conf -s /run/bird/bird.ctl \
				>"$TMP/bird.log" 2>&1 &
			for i in $(seq 1 50); do
				ip -n "$VIF_NS" route show 198.19.0.0/16 | grep -q bird &&
					"$XVR" -n "$NODE" route list bench 2>/dev/null | grep -q 198.19.0.0/16 &&
					break
				sleep 0.2
			done
			ip -n "$VIF_NS" route show 198.19.0.0/16 | grep -q bird ||
				{ echo "BIRD did not install its route: $(tail -1 "$TMP/bird.log")"; false; } &&
			"$XVR" -n "$NODE" fibsync bench check
		else
			"$XVR" -n "$NODE" route add bench 198.19.0.0/16 via $GW_SINK \
				lladdr $MAC_S dev "${P}b"
		fi
	} >"$TMP/xvr.log" 2>&1; then
		reason="xvr setup failed: $(tail -1 "$TMP/xvr.log")"
	else
		reason=""
		"$XVR" -n "$NODE" route list bench >"$TMP/routes.txt" 2>&1 || true
		log "$name: BPF FIB: $(grep -c . "$TMP/routes.txt") line(s): $(grep 198.19 "$TMP/routes.txt" | head -1)"
		$MEASURE "$name" pktgen "" "$NODE" "$desc"
	fi
	if [ -n "$BIRD_NS" ]; then
		bird_kill
		BIRD_NS=""
	fi
	mx_reset
	xvr_teardown >/dev/null 2>&1
	topo_down ""
	[ -n "$reason" ] && not_measured "$name" "$desc" "$reason"
	return 0
}

# The PF_PACKET forwarder (PF_TOOL: pfpacket or pfmmap) runs for one
# generator run at a time: its socket's drop counter is read (and reset)
# when it exits.
PF_TOOL=pfpacket
pfpacket_start() {
	ip netns exec "$NS_D" ${DUT_PRIO:+chrt -f $((DUT_PRIO + 1))} \
		"$BUILD/xvr-$PF_TOOL" -c "$DUT_CPU" -s $MAC_B -d $MAC_S \
		"${P}a" "${P}b" >"$TMP/fwd.json" 2>"$TMP/fwd.err" &
	FWD_PID=$!
	MX_PIDS=("$FWD_PID")
	for _ in $(seq 1 50); do
		grep -q forwarding "$TMP/fwd.err" 2>/dev/null && break
		sleep 0.1
	done
}
pfpacket_stop() {
	kill -TERM "$FWD_PID" 2>/dev/null || true
	wait "$FWD_PID" 2>/dev/null || true
	FWD_PID=""
	jq -r '"fwd_sock_drops=\(.sock_drops)", "fwd_not_ipv4=\(.drop_proto)",
		"fwd_ttl=\(.drop_ttl)", "fwd_tx_err=\(.tx_err)",
		(if .tx_full then "fwd_tx_full=\(.tx_full)" else empty end)' "$TMP/fwd.json" \
		>"$TMP/extra_drops" 2>/dev/null || { cat "$TMP/fwd.err" >&2; die "xvr-$PF_TOOL failed"; }
}

# point_pfpacket pfpacket|pfmmap: a user-space forwarder on PF_PACKET
# sockets on the DUT's CPU. pfpacket: build/xvr-pfpacket, one recvfrom and
# one sendto per frame. pfmmap: the same forwarder's work on PACKET_MMAP
# rings (build/xvr-pfmmap): a TPACKET_V3 RX ring handing over blocks of
# frames, a TX ring sent with one sendto() per block, the qdisc bypassed.
point_pfpacket() {
	local name=$1 desc
	if [ "$name" = pfmmap ]; then
		desc="user-space forwarder on PACKET_MMAP rings (build/xvr-pfmmap: TPACKET_V3 RX ring on A, blocks of up to 64 frames, MAC rewrite, TTL and checksum, copied into a TPACKET_V2 TX ring on B with PACKET_QDISC_BYPASS, one sendto per block; one process on the DUT's CPU), $L3GEN generator"
	else
		desc="user-space forwarder on PF_PACKET sockets (build/xvr-pfpacket: recvfrom on A, MAC rewrite, TTL and checksum, sendto on B; one process on the DUT's CPU), $L3GEN generator"
	fi
	[ -x "$BUILD/xvr-$name" ] || { not_measured "$name" "$desc" "build/xvr-$name missing"; return; }
	log "$name: PF_PACKET forwarder (xvr-$name), $L3GEN on CPU $GEN_CPU"
	l3_point_begin
	add_ns "$NS_D"
	topo_up "$NS_D"
	# A gives up MAC_A: the stack drops the generator's frames as not its
	# own (a silent drop of the original; the forwarder has its copy).
	ip -n "$NS_D" link set "${P}a" address 02:00:00:00:01:0a
	local PF_TOOL=$name
	MX_PRE=pfpacket_start
	MX_POST=pfpacket_stop
	$MEASURE "$name" "$L3GEN" "$NS_D" "" "$desc"
	l3_point_end
	topo_down "$NS_D"
}

# afxdp_setup [POOL] [NFE] [DIST]: an afxdp router with VIFs and NFE
# engines (default 1) on the DUT's CPU; adds the engines' veths to MX_DEVS
# and their processes to MX_PIDS.
afxdp_setup() {
	local pool=${1:-} nfe=${2:-1} dist=${3:-} i
	xvr_ports_up &&
	"$XVR" -n "$NODE" router add bench id 1 mode afxdp &&
	xvr_vifs bench &&
	rns_config "$VIF_NS" "${P}e0" "${P}e1" || return 1
	for i in $(seq 1 "$nfe"); do
		# weighted: engine 1 gets twice the share of the others.
		"$XVR" -n "$NODE" fe add bench cpu "$DUT_CPU" ${pool:+pool $pool} ${AF_FE_ARGS:-} \
			$([ "$dist" = weighted ] && echo weight $([ "$i" = 1 ] && echo 2 || echo 1)) || return 1
	done
	if [ -n "$dist" ]; then
		"$XVR" -n "$NODE" router set bench dist "$dist" || return 1
	fi
	sleep 1
	"$XVR" -n "$NODE" -j fe list bench >"$TMP/fe.json"
}

# napi_pids NS DEV: the NAPI kthreads of DEV, which may share its name with
# devices in other namespaces (an engine's veth is fe<ID> everywhere):
# threaded NAPI is switched off and on, and the new napi/DEV-* threads are
# DEV's.
napi_pids() {
	local ns=$1 dev=$2 before after
	list() { napi_threads "$dev" | sort; }
	ns_sh "$ns" "ethtool -K $dev gro on >/dev/null; echo 0 > /sys/class/net/$dev/threaded"
	before=$(list)
	ns_sh "$ns" "echo 1 > /sys/class/net/$dev/threaded"
	after=$(list)
	comm -13 <(echo "$before") <(echo "$after")
}

# The afxdp DUT's path, downstream outranking upstream: port A's NAPI
# (DUT_PRIO) -> the engine veth's NAPI in the router (+1: XDP, copy into the
# UMEM) -> the engine -> its host end's NAPI (+3: xvr_egress, redirect to
# port B) -> the sink (SINK_PRIO). point_afxdp runs them all SCHED_OTHER,
# ordered by CFS weight instead (af_weights). AF_THREADED says which of the
# engine's veth ends get a NAPI thread: "host" (default), its host end only,
# so the router end's NAPI (XDP, the copy into the UMEM) runs in softirq in
# port A's thread, one thread fewer on the path; 1, both ends; 0, neither
# (the host end's NAPI then runs in the engine's sendto). Measured here,
# "host" forwarded 10-30% more than 1 at overload, 0 the least.
AF_THREADED=${AF_THREADED:-host}
# The engines share the DUT's CPU with the NAPI threads that feed them: they
# sleep as soon as their ring is empty (polling on would take those threads'
# time; 0.26-0.31 Mpps delivered polling 50 us, 0.33-0.43 with idle 0).
AF_FE_ARGS=${AF_FE_ARGS-idle 0}
AF_FE_THREADS=()
AF_ENGINES=()
AF_HOSTDEVS=()
afxdp_pin() {
	local t p=${DUT_PRIO:-}
	for t in "${AF_FE_THREADS[@]}"; do
		taskset -pc "$DUT_CPU" "$t" >/dev/null
		[ -n "$p" ] && chrt -f -p $((p + 1)) "$t"
	done
	for t in "${AF_ENGINES[@]}"; do
		taskset -apc "$DUT_CPU" "$t" >/dev/null
	done
	for t in "${AF_HOSTDEVS[@]}"; do
		pin_napi "" "$t" "$DUT_CPU" ${p:+$((p + 3))}
	done
	[ -n "$p" ] || af_weights
}

# SCHED_OTHER: the same order by CFS weight. Port A's NAPI thread gets the
# least, everything after it the most, so under overload A is the one that
# runs short and frames are lost at its ring, before the DUT spent anything
# on them, instead of at the engine's after A did.
af_weights() {
	local t cg
	[ "${AF_WEIGHTS:-1}" = 1 ] || return 0
	for t in $(napi_threads "${P}a"); do renice -n "${AF_A_NICE:-19}" -p "$t" >/dev/null; done
	for t in "${AF_FE_THREADS[@]}"; do renice -n -20 -p "$t" >/dev/null; done
	# The engines' host ends: SCHED_FIFO (AF_HOST_PRIO), so that an
	# engine's sendto() wakes its host end's thread at once and that drains
	# the veth ring (256 frames) before the engine, equal to it in weight,
	# fills it for a whole time slice. Only an engine feeds it: it cannot
	# take the CPU for longer than the engine gives it work.
	for t in "${AF_HOSTDEVS[@]}"; do
		for t in $(napi_threads "$t"); do
			if [ -n "${AF_HOST_PRIO:-50}" ]; then
				chrt -f -p "${AF_HOST_PRIO:-50}" "$t"
			else
				renice -n -20 -p "$t" >/dev/null
			fi
		done
	done
	for t in "${AF_ENGINES[@]}"; do
		renice -n -20 -p "$t" >/dev/null
		# The engine's cgroup competes as a whole: its weight, too.
		cg=$(awk -F: '$2 ~ /(^|,)cpu(,|$)/ { print $3 }' "/proc/$t/cgroup")
		if [ -n "$cg" ] && [ -w "/sys/fs/cgroup/cpu$cg/cpu.shares" ]; then
			echo 262144 >"/sys/fs/cgroup/cpu$cg/cpu.shares"
		elif cg=$(awk -F: '$1 == 0 { print $3 }' "/proc/$t/cgroup") && [ -w "/sys/fs/cgroup$cg/cpu.weight" ]; then
			echo 10000 >"/sys/fs/cgroup$cg/cpu.weight"
		fi
	done
}

# afxdp_devs: after afxdp_setup, the DUT's extra parts from fe.json.
afxdp_devs() {
	local id dev pid t
	AF_FE_THREADS=(); AF_ENGINES=(); AF_HOSTDEVS=()
	MX_DEVS=(); MX_PIDS=()
	while read -r id dev pid; do
		# The engine: the supervisor's child.
		t=$(pgrep -P "$pid" | head -1)
		[ -n "$t" ] || { echo "engine $id: no process"; return 1; }
		AF_ENGINES+=("$t")
		MX_PIDS+=("$t")
		MX_DROPDEVS+=("$VIF_NS:fe$id")
		if [ "$AF_THREADED" = 0 ]; then
			MX_DROPDEVS+=(":$dev")
			continue
		fi
		AF_HOSTDEVS+=("$dev")
		MX_DEVS+=(":$dev")
		[ "$AF_THREADED" = host ] && continue
		for t in $(napi_pids "$VIF_NS" "fe$id"); do
			AF_FE_THREADS+=("$t")
			MX_PIDS+=("$t")
		done
	done < <(jq -r '.[] | "\(.id) \(.dev) \(.supervisor_pid)"' "$TMP/fe.json")
	MX_PIN=afxdp_pin
}

point_afxdp() {
	local name=$1 pool=${2:-} nfe=${3:-1} dist=${4:-} reason desc
	desc="xvr, one afxdp router, $nfe engine(s) (build/xvr-router, AF_XDP copy mode on veth) on the DUT's CPU${pool:+, pool $pool frames}${dist:+, dist $dist}; xvr-pktgen generator. DUT threads SCHED_OTHER, ordered by CFS weight (port A's NAPI thread lowest), so overload is shed at A's ring. Its DUT ns/frame is per frame port A took in, which overstates its capacity: see its no-drop rate"
	if ! reason=$(xvr_ready); then
		not_measured "$name" "$desc" "$reason"
		return
	fi
	# An engine lives in a cgroup with a cpu.max share, where a task may not
	# be SCHED_FIFO; every DUT thread of this point is SCHED_OTHER then, so
	# none of them can starve another.
	local DUT_PRIO=""
	log "$name: xvr afxdp router, $nfe engine(s)${pool:+, pool $pool}${dist:+, $dist}, xvr-pktgen on CPU $GEN_CPU"
	l3_point_begin
	topo_up ""
	if ! { afxdp_setup "$pool" "$nfe" "$dist" && afxdp_devs; } >"$TMP/xvr.log" 2>&1; then
		reason="xvr setup failed: $(tail -1 "$TMP/xvr.log")"
	else
		reason=""
		$MEASURE "$name" pktgen "" "$NODE" "$desc" ${AF_GEN_ARGS:-}
	fi
	l3_point_end
	xvr_teardown >/dev/null 2>&1
	topo_down ""
	[ -n "$reason" ] && not_measured "$name" "$desc" "$reason"
	return 0
}

# afxdp_idle: CPU use of one engine with no traffic, from /proc/PID/stat
# (utime + stime) over IDLE_S seconds.
IDLE_S=${IDLE_S:-$([ "$QUICK" = 1 ] && echo 5 || echo 10)}
point_afxdp_idle() {
	local name=afxdp-idle reason pid t0 t1 hz s0 s1 desc
	desc="CPU use of one idle engine (no traffic) over ${IDLE_S} s, utime + stime from /proc/PID/stat"
	if ! reason=$(xvr_ready); then
		not_measured "$name" "$desc" "$reason"
		return
	fi
	log "$name: engine with no traffic for ${IDLE_S}s"
	topo_up ""
	if ! { afxdp_setup "" 1 "" && afxdp_devs; } >"$TMP/xvr.log" 2>&1; then
		not_measured "$name" "$desc" "xvr setup failed: $(tail -1 "$TMP/xvr.log")"
	else
		pid=${AF_ENGINES[0]}
		hz=$(getconf CLK_TCK)
		sleep 1
		s0=$(awk '{ print $14 + $15 }' "/proc/$pid/stat"); t0=$(date +%s.%N)
		sleep "$IDLE_S"
		s1=$(awk '{ print $14 + $15 }' "/proc/$pid/stat"); t1=$(date +%s.%N)
		jq -n --arg name "$name" --arg desc "$desc" --argjson ticks $((s1 - s0)) \
			--argjson hz "$hz" --argjson t0 "$t0" --argjson t1 "$t1" '
			{name: $name, description: $desc, status: "measured", kind: "idle",
			 pps_median: null, runs: [], idle_ticks: $ticks, hz: $hz,
			 idle_seconds: ($t1 - $t0),
			 idle_cpu_pct: (100 * $ticks / $hz / ($t1 - $t0))}' >"$TMP/point-$name.json"
		RESULTS+=("$TMP/point-$name.json")
		log "$name: $((s1 - s0)) ticks of 1/$hz s in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s"
	fi
	mx_reset
	xvr_teardown >/dev/null 2>&1
	topo_down ""
}

xvr_ready() {
	[ -x "$XVR" ] || { echo "build/xvr missing"; return 1; }
	"$XVR" node help >/dev/null 2>&1 || { echo "build/xvr does not run"; return 1; }
}

# xvr_setup ROUTES_FILE|"": node, ports, one xdp-mode router owning port A.
xvr_setup() {
	local table=$1
	xvr_ports_up
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

# xvr_ports_up: node $NODE up with the DUT's two ports.
xvr_ports_up() {
	XVR_UP=1
	"$XVR" -n "$NODE" node up &&
	"$XVR" -n "$NODE" port add "${P}a" &&
	"$XVR" -n "$NODE" port add "${P}b"
}

xvr_teardown() {
	"$XVR" -n "$NODE" node down || true
	XVR_UP=0
	rm -rf "/sys/fs/bpf/xvr/$NODE"
}

point_xvr() {
	local name=$1 desc="" reason table="" gen_args=()
	if [ "${name#*-}" = 2 ]; then
		desc="${desc}xvr, one router in xdp mode, 2 routes, one destination"
	else
		desc="${desc}xvr, one router in xdp mode, $PREFIXES-prefix synthetic table (scripts/gen-table.py), $NDSTS random destinations across it"
	fi
	if ! reason=$(xvr_ready); then
		not_measured "$name" "$desc" "$reason"
		return
	fi
	log "$name: xvr xdp mode, xvr-pktgen on CPU $GEN_CPU"
	topo_up ""
	if [ "${name#*-}" = 170k ]; then
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
	$MEASURE "$name" pktgen "" "$NODE" "$desc" "${gen_args[@]}"
	xvr_teardown
	topo_down ""
}

# point_link NAME: xvr-2 with its route onto a virtual link (issue 11):
# the router forwards, encapsulates in EGRE and redirects out of port B in
# one XDP pass; the sink counts the inner frames. link-p2p: one remote;
# link-mp: two remotes (Trellis's bridge), the destination MAC learned
# behind the first, so every frame is unicast after a learning-table
# lookup. Port B carries the underlay (LINK_LOCAL, remotes with static
# neighbours on the sink's MAC).
LINK_LOCAL=198.51.101.254
LINK_REMOTE2=198.51.101.3
LINK_INNER_MAC=06:00:00:00:09:09
point_link() {
	local name=$1 desc reason remotes="remote $GW_SINK" fdb
	desc="xvr, one router in xdp mode, its route onto a virtual link (EGRE, key 7) out of port B"
	if [ "$name" = link-mp ]; then
		desc="$desc, multipoint (2 remotes, the destination MAC learned behind one)"
		remotes="$remotes remote $LINK_REMOTE2"
	else
		desc="$desc, point-to-point"
	fi
	if ! reason=$(xvr_ready); then
		not_measured "$name" "$desc" "$reason"
		return
	fi
	log "$name: xvr xdp mode onto a virtual link, xvr-pktgen on CPU $GEN_CPU"
	topo_up ""
	if ! {
		xvr_ports_up &&
		ip addr add $LINK_LOCAL/24 dev "${P}b" &&
		"$XVR" -n "$NODE" router add bench id 1 mode xdp fibsync off &&
		"$XVR" -n "$NODE" classify add bench default port "${P}a" &&
		"$XVR" -n "$NODE" link add bench l0 egre local $LINK_LOCAL $remotes key 7 &&
		# link add asked for managed entries; the sink answers no ARP.
		ip neigh replace $GW_SINK lladdr $MAC_S dev "${P}b" nud permanent &&
		ip neigh replace $LINK_REMOTE2 lladdr $MAC_S dev "${P}b" nud permanent &&
		"$XVR" -n "$NODE" route add bench 198.19.0.0/16 via 10.255.0.2 \
			lladdr $LINK_INNER_MAC dev l0 &&
		if [ "$name" = link-mp ]; then
			fdb=$(bpftool -j map lookup pinned "/sys/fs/bpf/xvr/$NODE/vlink_fdb" key \
				$("$XVR" -n "$NODE" -j link list bench | jq '.[0].id') 0 0 0 |
				jq -r '.value | reverse | map(ltrimstr("0x")) | join("")') &&
			# learned now: 300 s before it ages, longer than a point runs
			bpftool map update id $((16#$fdb)) key hex ${LINK_INNER_MAC//:/ } 00 00 \
				value hex $(printf '%02x ' ${GW_SINK//./ }) 00 00 00 00 $($PY -c '
import time; print(" ".join("%02x" % b for b in time.monotonic_ns().to_bytes(8, "little")))')
		fi
	} >"$TMP/xvr.log" 2>&1; then
		reason="xvr setup failed: $(tail -1 "$TMP/xvr.log")"
		xvr_teardown >/dev/null 2>&1
		topo_down ""
		not_measured "$name" "$desc" "$reason"
		return
	fi
	$MEASURE "$name" pktgen "" "$NODE" "$desc"
	"$XVR" -n "$NODE" stats link bench l0 interval 0 >&2 || true
	xvr_teardown
	topo_down ""
}

# bridge-vxlan: the kernel's nearest thing to a virtual link here (no
# gretap): a Linux namespace router behind two bridges, the generator's
# side bridged with port A, the sink's side with a VXLAN device (VNI 7)
# whose underlay leaves by port B. Trellis's comparison point.
point_bridge_vxlan() {
	local desc="Linux namespace router behind veth + Linux bridges, its far side bridged into VXLAN (VNI 7, underlay out of port B); the sink counts the inner frames ($L3GEN generator)"
	log "bridge-vxlan: namespace router, bridge + VXLAN, $L3GEN on CPU $GEN_CPU"
	local rns=$P-r d
	l3_point_begin
	topo_up ""
	add_ns "$rns"
	ports_other_macs
	ip link add "${P}br" type bridge stp_state 0 forward_delay 0
	ip link add "${P}bx" type bridge stp_state 0 forward_delay 0
	ip addr add $LINK_LOCAL/24 dev "${P}b"
	ip neigh replace $GW_SINK lladdr $MAC_S dev "${P}b" nud permanent
	ip link add "${P}vx" type vxlan id 7 local $LINK_LOCAL remote $GW_SINK dstport 4789 \
		dev "${P}b" nolearning
	ip link add "${P}v0" type veth peer name "${P}e0" address $MAC_A netns "$rns"
	ip link add "${P}v1" type veth peer name "${P}e1" address $MAC_B netns "$rns"
	for d in "${P}br" "${P}bx" "${P}vx" "${P}v0" "${P}v1"; do
		sysctl -qw "net.ipv6.conf.$d.disable_ipv6=1"
	done
	for d in "${P}a" "${P}v0"; do ip link set "$d" master "${P}br" up; done
	for d in "${P}vx" "${P}v1"; do ip link set "$d" master "${P}bx" up; done
	ip link set "${P}br" up
	ip link set "${P}bx" up
	bridge fdb replace $MAC_A dev "${P}v0" master static
	bridge fdb replace $MAC_G dev "${P}a" master static
	bridge fdb replace $MAC_B dev "${P}v1" master static
	bridge fdb replace $MAC_S dev "${P}vx" master static
	rns_config "$rns" "${P}e0" "${P}e1"
	MX_SNMP_NS=$rns
	MX_DEVS=(":${P}v0" "$rns:${P}e0" "$rns:${P}e1" ":${P}v1")
	$MEASURE bridge-vxlan "$L3GEN" "" "" "$desc"
	l3_point_end
	for d in "${P}br" "${P}bx" "${P}vx" "${P}v0" "${P}v1"; do ip link del "$d" 2>/dev/null || true; done
	ip netns del "$rns"
	topo_down ""
}

# ------------------------------------------------------ modes, experiments

# mode_run MODE: set up MODE's DUT, call $MEASURE NAME KIND DUT_NS NODE
# DESCRIPTION [generator args] once, tear it down. The modes are the
# points of experiment 1: the baselines and xvr in every mode.
MODES_ALL="kernel bridge macvlan pfpacket pfmmap redirect xdp netns afxdp afxdp-3"
mode_run() {
	case $1 in
	xdp) std_point xvr-2 ;;
	xdp-170k) std_point xvr-170k ;;
	afxdp-[0-9]) point_afxdp "$1" "" "${1#afxdp-}" flowhash ;;
	*) std_point "$1" ;;
	esac
}

# The standard points, whose ratios are the suite's headline, run in
# ROUNDS rounds: every point once per round, each set up afresh, so that
# whatever else happens on the machine falls on all of them alike and every
# ratio has one pair of runs per round (A B ... A B ...). The report gives
# the median of the per-round ratios with their min-max. PAIR=0 measures
# each point on its own instead (REPS runs back to back).
# echo: one space between names (a tab after the line break would keep
# the next name out of the " $ROUND_POINTS " matches below).
ROUND_POINTS=$(echo kernel netns netns-threaded netns-tc netns-tcgro macvlan bridge xdp-static \
	xdp-bird redirect fibfwd xvr-2 xvr-170k fibfwd-170k pfpacket pfmmap afxdp link-p2p link-mp \
	bridge-vxlan)
ROUNDS=${ROUNDS:-$([ "$QUICK" = 1 ] && echo 2 || echo 5)}
ROUND=""
round_measure() {
	local name=$1$NAME_SUFFIX kind=$2 dns=$3 node=$4 desc=$5; shift 5
	local NDR="" RUN_NDR=""
	mx_args "$name" "$dns" "$node"
	if [ "$kind" = pktgen ] && [[ " $NDR_POINTS " == *" ${name%.a} "* ]]; then
		NDR_GEN_ARGS=("$@")
		find_ndr "$name"
		RUN_NDR=$NDR
	fi
	measure_run "$name round $ROUND/$ROUNDS" "$kind" "$dns" "$node" \
		"$TMP/rounds/run-$name-$ROUND.json" "$@"
	if [ "$BPF_STATS" = probe ] && [[ " $STATS_ROUNDS " == *" $ROUND "* ]]; then
		stats_probe "$TMP/rounds/run-$name-$ROUND.json" "$kind" "$@"
	fi
	printf '%s' "$desc" >"$TMP/rounds/desc-$name"
}
run_rounds() {
	local pt f name runs r
	mkdir -p "$TMP/rounds"
	for ROUND in $(seq 1 "$ROUNDS"); do
		for pt in "$@"; do
			log "== round $ROUND/$ROUNDS: $pt"
			MEASURE=round_measure std_point "$pt"
		done
	done
	ROUND=""
	for f in "$TMP"/rounds/desc-*; do
		[ -e "$f" ] || continue
		name=${f##*/desc-}
		runs=()
		for r in $(seq 1 "$ROUNDS"); do
			[ -e "$TMP/rounds/run-$name-$r.json" ] && runs+=("$TMP/rounds/run-$name-$r.json")
		done
		# A point that never came up has its not_measured record already.
		[ ${#runs[@]} -gt 0 ] &&
			point_json "$name" "$(cat "$f") (runs interleaved in $ROUNDS rounds with the other standard points)" \
				"$ROUNDS" "${runs[@]}"
	done
	return 0
}

# An experiment is a file scripts/bench/xp-KIND.sh defining xp_KIND ARG;
# the point KIND:ARG runs it (e.g. sweep:kernel, routers:64). It adds its
# records (one JSON file each, with a "kind" field) with xp_record, and
# scripts/bench/report_KIND.py renders them into BENCHMARKS.md.
xp_record() { RESULTS+=("$1"); }

# xp_mode_run KIND MODE FUNCTION: mode_run MODE with $MEASURE = FUNCTION.
# If the mode could not be set up, its not_measured record (a standard
# point's) is taken back out of RESULTS, XP_REASON says why, and it
# returns 1: the experiment records "not measured" under its own kind.
xp_mode_run() {
	local kind=$1 mode=$2 fn=$3 n=${#RESULTS[@]} f
	XP_REASON=""
	NAME_SUFFIX="%$kind" MEASURE=$fn mode_run "$mode"
	while [ ${#RESULTS[@]} -gt "$n" ]; do
		f=${RESULTS[-1]}
		jq -e 'has("kind")' "$f" >/dev/null 2>&1 && break
		XP_REASON=$(jq -r '.reason // "setup failed"' "$f")
		unset 'RESULTS[-1]'
	done
	[ -z "$XP_REASON" ]
}
for f in "$ROOT"/scripts/bench/xp-*.sh; do
	[ -e "$f" ] && . "$f"
done

# ---------------------------------------------------------------- plots

# plots: PNGs next to results.json (gnuplot), listed in $TMP/plots.json.
plots() {
	local dir=$OUT rel
	rel=bench/results/$(basename "$OUT")
	echo '{}' >"$TMP/plots.json"
	command -v gnuplot >/dev/null || return 0
	# Capacity and delivered rate per point.
	jq -rs '.[] | select(.kind == null and .status == "measured" and .pps_median != null) |
		"\(.name) \(.pps_median / 1e6) \((.capacity_pps // 0) / 1e6)"' \
		"${RESULTS[@]}" >"$TMP/rates.dat"
	if [ -s "$TMP/rates.dat" ]; then
		gnuplot <<-EOF 2>/dev/null && jq --arg f "rates.png" '.rates = $f' "$TMP/plots.json" >"$TMP/p.tmp" && mv "$TMP/p.tmp" "$TMP/plots.json"
		set terminal png size 900,420
		set output "$dir/rates.png"
		set style data histograms
		set style histogram clustered gap 1
		set style fill solid 0.8 border -1
		set ylabel "Mpps"
		set xtics rotate by -35
		set key top right
		set grid ytics
		plot "$TMP/rates.dat" using 2:xtic(1) title "delivered", "" using 3 title "DUT capacity (1/cost)"
		EOF
	fi
	jq -rs '.[] | select(.status == "measured" and (.name | startswith("afxdp-pool-"))) |
		"\(.name | ltrimstr("afxdp-pool-")) \(.pps_median / 1e6)"' "${RESULTS[@]}" |
		sort -n >"$TMP/pool.dat"
	if [ -s "$TMP/pool.dat" ]; then
		gnuplot <<-EOF 2>/dev/null && jq --arg f "pool.png" '.pool = $f' "$TMP/plots.json" >"$TMP/p.tmp" && mv "$TMP/p.tmp" "$TMP/plots.json"
		set terminal png size 700,380
		set output "$dir/pool.png"
		set logscale x 2
		set xlabel "pool size, frames"
		set ylabel "delivered Mpps"
		set grid
		plot "$TMP/pool.dat" using 1:2 with linespoints title "afxdp, 1 engine"
		EOF
	fi
	# Paths relative to BENCHMARKS.md.
	jq --arg r "$rel" 'with_entries(.value = "\($r)/\(.value)")' "$TMP/plots.json" >"$TMP/p.tmp" &&
		mv "$TMP/p.tmp" "$TMP/plots.json"
}

# std_point POINT: one standard point (not an experiment) by its name.
# POINT.a: the point with the binaries of $XVR_A (another build's xvr, with
# its xvr-router and programs), named POINT.a: A/B of two builds in rounds.
std_point() {
	case $1 in
	*.a)
		[ -x "${XVR_A:-}" ] || die "point $1: XVR_A (another build's xvr) is not set"
		NAME_SUFFIX=$NAME_SUFFIX.a XVR=$XVR_A std_point "${1%.a}"
		return ;;
	kernel) point_kernel ;;
	netns | netns-threaded | netns-tc | netns-tcgro) point_netns "$1" ;;
	pfpacket | pfmmap) point_pfpacket "$1" ;;
	afxdp) point_afxdp afxdp ;;
	afxdp-pool-*) GEN_RATE=${GEN_RATE:-$AF_RATE} point_afxdp "$1" "${1#afxdp-pool-}" ;;
	afxdp-[23]-rr | afxdp-[23]-weighted | afxdp-[23]-flowhash)
		local n=${1#afxdp-}
		GEN_RATE=${GEN_RATE:-$AF_RATE} point_afxdp "$1" "" "${n%%-*}" "${n#*-}" ;;
	afxdp-idle) point_afxdp_idle ;;
	xdp-static | xdp-bird) point_xdp_src "$1" ;;
	macvlan) point_macvlan ;;
	bridge) point_bridge ;;
	redirect) point_redirect ;;
	fibfwd | fibfwd-170k) point_fibfwd "$1" ;;
	xvr-2 | xvr-170k) point_xvr "$1" ;;
	link-p2p | link-mp) point_link "$1" ;;
	bridge-vxlan) point_bridge_vxlan ;;
	*) die "unknown point $1" ;;
	esac
}

# ----------------------------------------------------------------- main

CMD="make bench    # DURATION=$DURATION REPS=$REPS SIZE=$SIZE POINTS=\"$POINTS\""
[ "$QUICK" = 1 ] && CMD="QUICK=1 $CMD"
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
log "prefix $P, $REPS x ${DURATION}s per point, ${SIZE}-byte frames, points: $POINTS"
NAME_SUFFIX=""
SIZE0=$SIZE
NPTS=$(echo $POINTS | wc -w)
K=0
T_START=$(date +%s)
for pt in $POINTS; do
	K=$((K + 1))
	log "== point $K of $NPTS: $pt (elapsed $(( $(date +%s) - T_START )) s)"
	# POINT@BYTES: the point with frames of BYTES (with FCS).
	NAME_SUFFIX=""
	SIZE=$SIZE0
	case $pt in
	*@*) SIZE=${pt#*@}; NAME_SUFFIX=@$SIZE; pt=${pt%@*} ;;
	esac
	if [ "${PAIR:-1}" = 1 ] && [[ " $ROUND_POINTS " == *" ${pt%.a} "* ]] && [ -z "$NAME_SUFFIX" ]; then
		# All standard points of the suite, in rounds, at the first of them.
		if [ -z "${ROUNDS_DONE:-}" ]; then
			rp=()
			for x in $POINTS; do
				[[ " $ROUND_POINTS " == *" ${x%.a} "* ]] && rp+=("$x")
			done
			run_rounds "${rp[@]}"
			ROUNDS_DONE=1
		fi
		continue
	fi
	case $pt in
	*:*)
		declare -F "xp_${pt%%:*}" >/dev/null || die "unknown experiment ${pt%%:*} (no scripts/bench/xp-${pt%%:*}.sh)"
		"xp_${pt%%:*}" "${pt#*:}"
		;;
	*) std_point "$pt" ;;
	esac
done

mkdir -p "$OUT"
# The per-program costs (make bench-micro) belong to every full run.
if [ "${MICRO:-1}" = 1 ]; then
	log "== micro benchmarks (elapsed $(( $(date +%s) - T_START )) s)"
	"$ROOT/scripts/bench/micro.sh" "$OUT/micro.json" || log "micro benchmarks failed"
fi
[ -f "$OUT/micro.json" ] || echo null >"$OUT/micro.json"
ELAPSED=$(( $(date +%s) - T_START ))
plots
# A record once, however often a point was retried.
mapfile -t RESULTS < <(printf '%s\n' "${RESULTS[@]}" | awk '!seen[$0]++')
jq -s --slurpfile micro "$OUT/micro.json" --slurpfile plots "$TMP/plots.json" --arg kernel "$(uname -r)" \
	--arg cpu "$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)" \
	--argjson cpus "$(nproc --all)" --arg date "$(date -Is)" --arg cmd "$CMD" \
	--arg load "$LOAD_START" --argjson elapsed "$ELAPSED" --argjson full "$FULL_RUN" \
	--argjson dur "$DURATION" --argjson reps "$REPS" --argjson size "$SIZE0" \
	--argjson gcpu "$GEN_CPU" --argjson dcpu "$DUT_CPU" --argjson scpu "$SINK_CPU_XDP" \
	--arg file "bench/results/$(basename "$OUT")/results.json" '
	(map({(.name): .pps_median}) | add) as $m |
	(map({(.name): .capacity_pps}) | add) as $c |
	(map({(.name): .ndr_pps}) | add) as $nd |
	(map({(.name): (.runs // [])}) | add) as $runs |
	# Per-round ratios of a run field f: one pair per round in which both
	# points had a balanced run; their median and min-max.
	def median: if length == 0 then null elif length % 2 == 1 then .[(length - 1) / 2]
		else (.[length / 2 - 1] + .[length / 2]) / 2 end;
	def rounds($a; $b; f):
		[($runs[$a] // [])[] as $x | ($runs[$b] // [])[] as $y |
		 select($x.round != null and $x.round == $y.round and $x.balanced and $y.balanced) |
		 ($x | f) as $p | ($y | f) as $q |
		 select($p != null and $q != null and $q > 0) | $p / $q] | sort |
		if length > 0 then {median: median, min: min, max: max, pairs: length} else null end;
	def cap: if .dut_ns_per_frame then 1e9 / .dut_ns_per_frame else null end;
	def ratio($n; $a; $b; $t):
		rounds($a; $b; cap) as $rc | rounds($a; $b; .pps) as $rd | rounds($a; $b; .ndr_pps) as $rn |
		{name: $n, numerator: $a, denominator: $b, target: $t,
		 value: (if $rc then $rc.median elif $c[$a] and $c[$b] then $c[$a] / $c[$b] else null end),
		 value_delivered: (if $rd then $rd.median elif $m[$a] and $m[$b] then $m[$a] / $m[$b] else null end),
		 value_ndr: (if $rn then $rn.median elif $nd[$a] and $nd[$b] and $nd[$b] > 0 then $nd[$a] / $nd[$b] else null end),
		 rounds: $rc, rounds_delivered: $rd, rounds_ndr: $rn};
	def ratio_ndr($n; $a; $b; $t): ratio($n; $a; $b; $t) + {by: "ndr"};
	def band($n; $a; $b; $lo; $hi): ratio($n; $a; $b; $lo) + {target_max: $hi};
	{meta: {kernel: $kernel, cpu_model: $cpu, cpus: $cpus, date: $date,
		command: $cmd, duration_s: $dur, repetitions: $reps,
		loadavg_at_start: $load, elapsed_s: $elapsed, full_run: ($full == 1),
		bpf_stats: "'"$BPF_STATS"'",
		frame_size: $size, gen_cpu: $gcpu, dut_cpu: $dcpu, sink_cpu: $scpu,
		results_file: $file, plots: $plots[0]},
	 micro: $micro[0],
	 points: [.[] | . + {kernel: $kernel, cpu_model: $cpu}],
	 ratios: ([ratio("xdp mode / kernel forwarding"; "xvr-2"; "kernel"; 3.0),
		  ratio("xdp mode / minimal redirect"; "xvr-2"; "redirect"; 0.8),
		  ratio("xdp mode / XDP on the kernel FIB, 2 routes"; "xvr-2"; "fibfwd"; 1.0),
		  ratio("xdp mode / XDP on the kernel FIB, 170k table"; "xvr-170k"; "fibfwd-170k"; 1.3),
		  ratio("170k table, random / 2 routes"; "xvr-170k"; "xvr-2"; 0.8),
		  ratio("netns mode / Linux forwarding (issue 3)"; "netns"; "kernel"; 0.95),
		  ratio("netns mode / macvlan namespace router (issue 3)"; "netns"; "macvlan"; 1.0),
		  ratio("netns mode / veth + bridge namespace router (issue 3)"; "netns"; "bridge"; 1.0),
		  band("xdp, routes from BIRD / from xvr route add (issue 3)"; "xdp-bird"; "xdp-static"; 0.95; 1.05),
		  ratio_ndr("afxdp 1 engine / PF_PACKET forwarder (issue 4)"; "afxdp"; "pfpacket"; 4.0),
		  ratio_ndr("afxdp 1 engine / PACKET_MMAP forwarder (issue 15)"; "afxdp"; "pfmmap"; 1.0),
		  ratio_ndr("afxdp 1 engine / Linux forwarding (issue 4)"; "afxdp"; "kernel"; 1.0),
		  ratio("onto a p2p link / Linux forwarding (issue 11)"; "link-p2p"; "kernel"; 2.5),
		  ratio("onto a p2p link / plain xdp forwarding (issue 11)"; "link-p2p"; "xvr-2"; 0.8),
		  ratio("onto a multipoint link / plain xdp forwarding (issue 11)"; "link-mp"; "xvr-2"; 0.8),
		  ratio("p2p link / bridge + VXLAN namespace router (issue 11)"; "link-p2p"; "bridge-vxlan"; 2.5),
		  ratio("multipoint link / bridge + VXLAN namespace router (issue 11)"; "link-mp"; "bridge-vxlan"; 2.5)]
		 # Every POINT.a run beside its POINT: this build / XVR_A.
		 + [($m // {}) | keys[] | select(endswith(".a")) | rtrimstr(".a") as $b | select($m[$b]) |
		    ratio("\($b): this build / XVR_A (A/B of a change)"; $b; $b + ".a"; 1.0)])}
	' "${RESULTS[@]}" >"$OUT/results.json"
# REPORT=0: no report at all (make bench-links renders its own).
REPORT_MD=none
[ "${REPORT:-1}" = 1 ] && write_report "$OUT/results.json"

log "results: $OUT/results.json, report $REPORT_MD ($ELAPSED s)"
jq -r '.points[] | select(.kind == null or .kind == "idle") | "\(.name): " + (if .kind == "idle" and .idle_cpu_pct then "idle engine \(.idle_cpu_pct * 100 | floor / 100)% of a core" elif .pps_median then "\(.pps_median / 1e6 * 1000 | floor / 1000) Mpps delivered (\(.balanced_runs)/\(.repetitions) runs balanced); DUT " + (if .capacity_pps then "\(.dut_ns_per_frame_median | floor) ns/frame, capacity \(.capacity_pps / 1e6 * 1000 | floor / 1000) Mpps" + (if .capacity_from_saturated then "" else " (never saturated: estimate)" end) else "no cost figure" end) else (.reason // "no balanced run") end)' \
	"$OUT/results.json" | while read -r l; do log "$l"; done
jq -r '.ratios[] | (if .by == "ndr" then .value = .value_ndr | .name += " (by no-drop rate)" else . end) | "\(.name): " + (if .value then "\(.value * 100 | floor / 100) (target >= \(.target)\(if .target_max then ", <= \(.target_max)" else "" end))" else "not measured" end) + (if .value_delivered then "; delivered \(.value_delivered * 100 | floor / 100)" else "" end)' \
	"$OUT/results.json" | while read -r l; do log "$l"; done
