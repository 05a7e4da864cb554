#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The benchmark tools: xvr-pktgen's destination list (an address with its
# own destination MAC, or without one), xvr-sink's counts and one-way
# latency histogram of the generator's frames, and its pass-untagged mode.
set -u
. "$(dirname "$0")/../lib.sh"
t_init tools
t_need tshark jq ping
BUILD=$(dirname "$XVR")
PKTGEN=$BUILD/xvr-pktgen
SINK=$BUILD/xvr-sink
PIN=/sys/fs/bpf/xvr-test-$T_P
NS=${T_P}n
t_netns "$NS"
# IPv4 only: the veths then send nothing of their own (router solicitations,
# MLD reports) that a count of the generator's IPv6 frames would include.
ip netns exec "$NS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
	net.ipv6.conf.default.disable_ipv6=1
ip link add "${T_P}g" netns "$NS" type veth peer name "${T_P}r" netns "$NS"
ip -n "$NS" link set "${T_P}g" up
ip -n "$NS" link set "${T_P}r" up
ip netns exec "$NS" ethtool -K "${T_P}r" gro on >/dev/null
cleanup_pin() { "$SINK" detach "$PIN" >/dev/null 2>&1; rm -rf "$PIN"; }
trap 'cleanup_pin; t_cleanup' EXIT

DSTS=/tmp/.dsts.$$
printf '%s\n' "198.19.0.1 02:00:00:00:0a:01" "198.19.0.2" "# a comment" \
	"198.19.0.3 02:00:00:00:0a:03   # and one after a MAC" >"$DSTS"

# 1. Destination MACs: 3 addresses in turn, the second with -d's MAC.
# tshark says "Capturing on" once its capture socket and filter are in place.
ip netns exec "$NS" timeout 15 tshark -i "${T_P}r" -c 9 -f "udp" -T fields \
	-e eth.dst -e ip.dst >/tmp/.cap.$$ 2>/tmp/.caperr.$$ &
cap=$!
t_wait 10 grep -q "Capturing on" /tmp/.caperr.$$
t_check "pktgen with a destination list holding MACs" \
	"$PKTGEN" -N "$NS" -f "$DSTS" -d 02:00:00:00:0a:09 -r 100 -t 0.2 -c 0 "${T_P}g"
wait $cap
t_eq "each address goes to its own MAC, or to -d's" \
	"$(sort -u /tmp/.cap.$$ | tr '\t\n' ' ')" \
	"02:00:00:00:0a:01 198.19.0.1 02:00:00:00:0a:03 198.19.0.3 02:00:00:00:0a:09 198.19.0.2 "
rm -f /tmp/.cap.$$ /tmp/.caperr.$$

printf '198.19.0.1 02:00:00:00:0a\n' >"$DSTS"
t_fails "a malformed MAC is refused" "$PKTGEN" -N "$NS" -f "$DSTS" -t 0.1 "${T_P}g"
printf '198.19.0.1 02:00:00:00:0a:01 extra\n' >"$DSTS"
t_fails "a third field is refused" "$PKTGEN" -N "$NS" -f "$DSTS" -t 0.1 "${T_P}g"
rm -f "$DSTS"

# 2. The sink counts the generator's frames and their one-way latency.
t_check "sink attach" "$SINK" -N "$NS" attach "${T_P}r" "$PIN"
"$PKTGEN" -N "$NS" -d 02:00:00:00:0a:09 -r 20000 -t 0.5 -c 0 -j "${T_P}g" >/tmp/.gen.$$ 2>/dev/null
sent=$(jq .sent /tmp/.gen.$$)
rm -f /tmp/.gen.$$
sink_tagged() { "$SINK" -j read "$PIN" | jq .tagged_packets; }
t_wait 5 test_ge_cmd sink_tagged "$sent"
"$SINK" -j read "$PIN" >/tmp/.sink.$$
t_eq "every frame sent reached the sink" "$(jq .tagged_packets /tmp/.sink.$$)" "$sent"
t_eq "each has a latency sample" "$(jq .latency.samples /tmp/.sink.$$)" "$sent"
t_check "percentiles in order, all within 1 s" jq -e '.latency |
	.min_ns > 0 and .min_ns <= .p50_ns and .p50_ns <= .p99_ns and
	.p99_ns <= .p999_ns and .p999_ns <= .max_ns and .max_ns < 1e9' /tmp/.sink.$$
t_eq "the histogram ([low, high, count] buckets) adds up" \
	"$(jq '[.latency.histogram[] | .[2]] | add' /tmp/.sink.$$)" "$sent"
t_eq "no frame without a usable timestamp" \
	"$(jq '.latency | .no_timestamp + .future_timestamp + .stale_timestamp' /tmp/.sink.$$)" 0
rm -f /tmp/.sink.$$
t_check "sink reset" "$SINK" reset "$PIN"
t_eq "reset clears the histogram" "$("$SINK" -j read "$PIN" | jq .latency.samples)" 0
cleanup_pin

# 3. pass-untagged: other frames (a ping) reach the namespace's stack.
ip -n "$NS" addr add 100.127.1.1/24 dev "${T_P}g"
ip -n "$NS" addr add 100.127.2.1/24 dev "${T_P}r"
t_check "sink attach --pass-untagged" "$SINK" -N "$NS" -u attach "${T_P}r" "$PIN"
ip netns exec "$NS" ping -c 3 -i 0.2 -W 1 -I "${T_P}g" 100.127.2.1 >/dev/null 2>&1
t_ge "untagged frames passed, not dropped" "$("$SINK" -j read "$PIN" | jq '.passed // 0')" 1
t_eq "and not counted as the generator's" "$("$SINK" -j read "$PIN" | jq .tagged_packets)" 0
cleanup_pin

# 4. fibfwd, the benchmark's peer forwarder: frames on port A are forwarded
# by the kernel's routing table 4242 (bpf_fib_lookup with its table id) to
# port B's neighbour; a destination the table lacks goes to the stack.
FWD=$PIN-fwd
trap '"$SINK" detach "$FWD" >/dev/null 2>&1; rm -rf "$FWD"; cleanup_pin; t_cleanup' EXIT
ip link add "${T_P}a" netns "$NS" type veth peer name "${T_P}h" netns "$NS"
ip link add "${T_P}b" netns "$NS" type veth peer name "${T_P}s" netns "$NS"
for d in a h b s; do ip -n "$NS" link set "${T_P}$d" up; done
smac=$(ip -n "$NS" -j link show "${T_P}s" | jq -r '.[0].address')
amac=$(ip -n "$NS" -j link show "${T_P}a" | jq -r '.[0].address')
ip netns exec "$NS" sysctl -qw "net.ipv4.conf.${T_P}a.forwarding=1" "net.ipv4.conf.${T_P}b.forwarding=1"
ip -n "$NS" neigh replace 100.127.9.2 lladdr "$smac" dev "${T_P}b" nud permanent
ip -n "$NS" route add 198.19.0.0/16 via 100.127.9.2 dev "${T_P}b" onlink table 4242
t_check "fibfwd attach" "$SINK" -N "$NS" fibfwd "${T_P}a" "${T_P}b" "$FWD" 4242
t_fails "fibfwd refuses table 0" "$SINK" -N "$NS" fibfwd "${T_P}a" "${T_P}b" "$FWD-x" 0
t_check "sink attach behind it" "$SINK" -N "$NS" attach "${T_P}s" "$PIN"
"$PKTGEN" -N "$NS" -d "$amac" -D 198.19.0.1 -r 20000 -t 0.3 -c 0 -j "${T_P}h" >/tmp/.gen.$$ 2>/dev/null
sent=$(jq .sent /tmp/.gen.$$)
t_ge "generator sent" "$sent" 1
for _ in $(seq 1 50); do
	[ "$("$SINK" -j read "$PIN" | jq .tagged_packets)" = "$sent" ] && break
	sleep 0.1
done
t_eq "every frame was forwarded by the kernel table to B's neighbour" \
	"$("$SINK" -j read "$PIN" | jq .tagged_packets)" "$sent"
"$SINK" reset "$PIN"
"$PKTGEN" -N "$NS" -d "$amac" -D 203.0.113.1 -r 20000 -t 0.2 -c 0 "${T_P}h" >/dev/null 2>&1
t_eq "a destination outside the table is not forwarded" \
	"$("$SINK" -j read "$PIN" | jq .tagged_packets)" 0
rm -f /tmp/.gen.$$

# 5. pfmmap, the PACKET_MMAP forwarder (TPACKET_V3 RX ring, V2 TX ring, one
# sendto per block): A -> B with TTL - 1, a valid checksum and B's MAC as
# the source (tshark: checksum status 1, good), every frame counted, fewer
# system calls than frames.
"$SINK" detach "$FWD" >/dev/null 2>&1
"$SINK" detach "$PIN" >/dev/null 2>&1
ip netns exec "$NS" ethtool -K "${T_P}a" gro on >/dev/null
bmac=$(ip -n "$NS" -j link show "${T_P}b" | jq -r '.[0].address')
MMAP_OUT=/tmp/.mmap.$$
MMAP_PID=""
mmap_start() {
	ip netns exec "$NS" "$BUILD/xvr-pfmmap" -s "$bmac" -d "$smac" "${T_P}a" "${T_P}b" \
		>"$MMAP_OUT" 2>"$MMAP_OUT.err" &
	MMAP_PID=$!
	t_wait 5 grep -q forwarding "$MMAP_OUT.err"
}
mmap_stop() { kill -TERM "$MMAP_PID" 2>/dev/null; wait "$MMAP_PID"; MMAP_PID=""; }
trap '[ -n "$MMAP_PID" ] && kill "$MMAP_PID" 2>/dev/null; rm -f "$MMAP_OUT" "$MMAP_OUT.err" /tmp/.cap.$$ /tmp/.caperr.$$;
	"$SINK" detach "$FWD" >/dev/null 2>&1; rm -rf "$FWD"; cleanup_pin; t_cleanup' EXIT
t_fails "pfmmap refuses a TX ring that is not a power of two" \
	"$BUILD/xvr-pfmmap" -F 1000 -s "$bmac" -d "$smac" "${T_P}a" "${T_P}b"
t_fails "pfmmap refuses a malformed MAC" \
	"$BUILD/xvr-pfmmap" -s 02:00:00:00:0a -d "$smac" "${T_P}a" "${T_P}b"
t_fails "pfmmap refuses a device that does not exist" \
	ip netns exec "$NS" "$BUILD/xvr-pfmmap" -s "$bmac" -d "$smac" "${T_P}a" "${T_P}nx"
mmap_start || t_fail "pfmmap did not start: $(cat "$MMAP_OUT.err")"
ip netns exec "$NS" timeout 15 tshark -i "${T_P}s" -c 3 -f "udp" -o ip.check_checksum:TRUE \
	-T fields -e eth.src -e eth.dst -e ip.ttl -e ip.checksum.status >/tmp/.cap.$$ 2>/tmp/.caperr.$$ &
cap=$!
t_wait 10 grep -q "Capturing on" /tmp/.caperr.$$
"$PKTGEN" -N "$NS" -d "$amac" -r 1000 -n 3 -c 0 "${T_P}h" >/dev/null 2>&1
wait $cap
t_eq "pfmmap rewrites MACs and TTL, the checksum stays valid" \
	"$(sort -u /tmp/.cap.$$ | tr '\t\n' ' ')" "$bmac $smac 63 1 "
mmap_stop
t_check "sink attach behind pfmmap" "$SINK" -N "$NS" attach "${T_P}s" "$PIN"
mmap_start
# IPv6 first: once the sink has every IPv4 frame, pfmmap has seen them.
t_check "pktgen sends 50 IPv6 frames" "$PKTGEN" -N "$NS" -6 -l 128 -d "$amac" -r 1000 -n 50 -c 0 "${T_P}h"
"$PKTGEN" -N "$NS" -d "$amac" -r 50000 -t 0.4 -c 0 -j "${T_P}h" >/tmp/.gen.$$ 2>/dev/null
sent=$(jq .sent /tmp/.gen.$$)
t_wait 5 test_ge_cmd sink_tagged "$sent"
mmap_stop
t_eq "every frame reached the sink through pfmmap" "$(sink_tagged)" "$sent"
t_eq "pfmmap forwarded each IPv4 frame" "$(jq .tx "$MMAP_OUT")" "$sent"
t_eq "and counted the 50 IPv6 frames as not IPv4" "$(jq .drop_proto "$MMAP_OUT")" 50
t_eq "nothing lost in its rings" "$(jq '.sock_drops + .tx_full + .tx_err + .send_err' "$MMAP_OUT")" 0
t_check "it sent in batches (fewer sendto calls than frames)" \
	jq -e '.sends > 0 and .sends * 2 < .tx' "$MMAP_OUT"
rm -f /tmp/.gen.$$
