#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# xvr trace: every frame the data path books shows up once with its router,
# verdict and reason; the trace's verdicts match the counters; -w writes
# pcapng that tshark reads (verdict in each packet's comment); filters by
# router, port and reason; the programs' trace switch is off once a trace
# ends, also when it is killed; one trace at a time.
set -u
. "$(dirname "$0")/../lib.sh"
t_init trace
t_need jq tshark bpftool

NODE=$T_P
H1=${T_P}h1 H2=${T_P}h2 A=${T_P}a B=${T_P}b
OUT=/tmp/$T_P.trace
trap 'rm -f "$OUT".*; t_cleanup' EXIT
t_netns "$H1" && t_netns "$H2"
t_veth "$A" "$H1" eth0 && t_veth "$B" "$H2" eth0
# No IPv6 chatter (router solicitations, ND): only the frames sent below.
ip netns exec "$H1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
ip netns exec "$H2" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
ip -n "$H1" addr add 10.1.0.2/24 dev eth0
ip -n "$H1" route add default via 10.1.0.1
ip -n "$H1" neigh add 10.1.0.1 lladdr 02:00:00:0a:01:01 dev eth0
ip -n "$H2" addr add 10.2.0.2/24 dev eth0
H2MAC=$(ip -n "$H2" -j link show eth0 | jq -r '.[0].address')

t_node "$NODE" >/dev/null
{
	"$XVR" -n "$NODE" port add "$A"
	"$XVR" -n "$NODE" port add "$B"
	"$XVR" -n "$NODE" router add red mode xdp fibsync off
	"$XVR" -n "$NODE" classify add red default port "$A"
	"$XVR" -n "$NODE" route add red 10.2.0.0/16 via 10.2.0.2 lladdr "$H2MAC" dev "$B"
	"$XVR" -n "$NODE" route add red 10.3.0.0/16 blackhole
} >/dev/null || t_fail "setup"

# send DST N: N UDP datagrams (port 9, 4 bytes: 46-byte frames, 60 on the
# wire) from H1; nothing waits for an answer.
send() {
	ip netns exec "$H1" bash -c 'for ((i = 0; i < $2; i++)); do printf xvr! >/dev/udp/$1/9; done' \
		_ "$1" "$2" 2>/dev/null
}
# Starts 'xvr trace ARGS…' in the background, stderr to $OUT.err; returns
# once it has switched the trace on.
trace_start() {
	: >"$OUT.err"
	"$XVR" -n "$NODE" trace "$@" >"$OUT.txt" 2>"$OUT.err" &
	TPID=$!
	T_PIDS+=("$TPID")
	for _ in $(seq 100); do
		grep -q "tracing" "$OUT.err" && return 0
		kill -0 "$TPID" 2>/dev/null || break
		sleep 0.05
	done
	t_fail "trace $* did not start: $(cat "$OUT.err")"
	return 1
}
# trace_wait: the trace ends by itself (count) within 10 s.
trace_wait() {
	for _ in $(seq 200); do kill -0 "$TPID" 2>/dev/null || { wait "$TPID"; return; }; sleep 0.05; done
	kill "$TPID"; wait "$TPID"; return 124
}
stat() { t_stat "$NODE" red "$1"; }
# The .bss map of each program, where its trace switch lives (looked up
# once: 'prog show' is slow on a busy machine).
declare -A BSS
bpftool -j map show >"$OUT.maps"
for prog in prog_ingress prog_egress; do
	BSS[$prog]=$(bpftool -j prog show pinned "/sys/fs/bpf/xvr/$NODE/$prog" |
		jq -r --slurpfile maps "$OUT.maps" '.map_ids as $ids |
			$maps[0][] | select((.id as $i | $ids | index($i)) and (.name | endswith(".bss"))) | .id')
done
# The trace switch of a program: trace_cfg.on in its .bss map.
trace_on() {
	bpftool -j map dump id "${BSS[$1]}" |
		jq -r '.[0].formatted.value[".bss"][] | select(.trace_cfg) | .trace_cfg.on'
}

# 1. Text lines, and their verdicts against the counters.
rx0=$(stat rx_packets) fwd0=$(stat fwd_packets) bh0=$(stat drop.blackhole) nr0=$(stat punt.\"no-route\")
trace_start count 15 &&
	{ send 10.2.0.2 5; send 10.3.0.1 5; send 10.4.0.1 5; trace_wait; }
t_eq "the trace ended after count 15 frames" "$(wc -l <"$OUT.txt")" 15
t_eq "every frame the router received was traced" "$(( $(stat rx_packets) - rx0 ))" 15
t_eq "fwd lines = forwarded counter" "$(grep -c 'router red fwd ' "$OUT.txt")" "$(( $(stat fwd_packets) - fwd0 ))"
t_eq "drop blackhole lines = its counter" "$(grep -c 'router red drop blackhole ' "$OUT.txt")" \
	"$(( $(stat drop.blackhole) - bh0 ))"
t_eq "punt no-route lines = its counter" "$(grep -c 'router red punt no-route ' "$OUT.txt")" \
	"$(( $(stat punt.\"no-route\") - nr0 ))"
t_check "a line names device, length and the frame's addresses" \
	grep -q "router red drop blackhole dev $A len 46: .* IPv4 10.1.0.2 > 10.3.0.1 ttl 64 udp [0-9]* > 9" "$OUT.txt"
t_check "a forwarded frame shows as it left (TTL 63, next hop's MAC)" \
	grep -q "router red fwd dev $A len 46: .* > $H2MAC IPv4 10.1.0.2 > 10.2.0.2 ttl 63 udp" "$OUT.txt"
t_eq "ingress trace switch off after the trace" "$(trace_on prog_ingress)" 0
t_eq "egress trace switch off after the trace" "$(trace_on prog_egress)" 0

# 2. pcapng for tshark, verdicts in the comments, matching the counters.
bh0=$(stat drop.blackhole) fwd0=$(stat fwd_packets)
trace_start red -w "$OUT.pcapng" count 8 && { send 10.2.0.2 4; send 10.3.0.1 4; trace_wait; }
# One tshark run (each takes seconds): the comment and destination of each packet.
tshark -r "$OUT.pcapng" -T fields -E separator=, -e frame.comment -e ip.dst >"$OUT.tshark" 2>"$OUT.tserr"
t_eq "tshark reads the pcapng" "$?" 0
comments=$(cat "$OUT.tshark")
t_eq "tshark: 8 packets with a comment" "$(grep -c "router red" <<<"$comments")" 8
t_eq "tshark: drop blackhole = its counter" "$(grep -c 'drop blackhole' <<<"$comments")" \
	"$(( $(stat drop.blackhole) - bh0 ))"
t_eq "tshark: fwd = forwarded counter" "$(grep -c 'red fwd' <<<"$comments")" \
	"$(( $(stat fwd_packets) - fwd0 ))"
t_eq "tshark decodes the blackholed packets' destination" \
	"$(grep blackhole "$OUT.tshark" | cut -d, -f2 | sort -u)" 10.3.0.1

# 3. Filters: reason, port; JSON lines.
trace_start reason blackhole count 3 && { send 10.2.0.2 3; send 10.4.0.1 3; send 10.3.0.1 3; trace_wait; }
t_eq "reason blackhole: only blackholed frames" "$(grep -c 'drop blackhole' "$OUT.txt")/$(wc -l <"$OUT.txt")" 3/3
trace_start port "$B" reason fwd && { send 10.2.0.2 3; kill -INT "$TPID"; wait "$TPID"; }
t_eq "port $B: nothing arrived there" "$(wc -l <"$OUT.txt")" 0
"$XVR" -n "$NODE" -j trace port "$A" reason no-route count 2 >"$OUT.json" 2>/dev/null &
TPID=$!; T_PIDS+=("$TPID")
for _ in $(seq 30); do send 10.4.0.1 1; kill -0 "$TPID" 2>/dev/null || break; done
wait "$TPID"
t_eq "-j: one JSON object a frame" "$(jq -r '[.router, .verdict, .reason, .dev] | join(" ")' "$OUT.json" | sort -u)" \
	"red punt no-route $A"

# 4. Killed, the trace still switches off; one trace at a time.
trace_start && {
	t_fails "a second trace is refused while one runs" "$XVR" -n "$NODE" trace count 1
	t_eq "the switch is on while it runs" "$(trace_on prog_ingress)" 1
	kill -TERM "$TPID"; wait "$TPID"
}
t_eq "SIGTERM: the switch is off again" "$(trace_on prog_ingress)/$(trace_on prog_egress)" 0/0
t_fails "an unknown reason is refused" "$XVR" -n "$NODE" trace reason bogus
t_fails "an unknown router is refused" "$XVR" -n "$NODE" trace nosuch
t_fails "an unknown port is refused" "$XVR" -n "$NODE" trace port "${T_P}zz"
