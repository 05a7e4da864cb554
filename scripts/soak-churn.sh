#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Route churn soak (make soak-churn, part of make soak, not of make check):
# CHURN_RATE (default 1,000) route changes a second, 'ip route replace' in an
# xdp-mode router's namespace mirrored by fibsync, for SOAK_SECS (default
# 600) while xvr-pktgen offers LOAD_PCT (default 50) % of what the node
# forwarded when measured first.
#
#   ns g (xvr-pktgen) ── port pg ─ e0 [router r] e1 ─ port pa ── ns a (xvr-sink)
#                                                e2 ─ port pb ── ns b (xvr-sink)
#
# Router r's neighbours 10.2.0.2-33 are all sink a's MAC, 10.3.0.2-33 sink
# b's. The churn moves 10.200.X.0/24 between gateways of a only, 10.201.X.0/24
# between gateways of b only (a new nexthop at each change), and
# 10.100.X.0/24 between a and b and in and out of the table. The generator
# sends to every one of those prefixes. Must hold:
#   - 0 mis-forwarded frames: no frame for 10.201/16 reaches a, none for
#     10.200/16 reaches b, whatever the churn did (each sink counts tagged
#     frames to the other's prefix);
#   - memory flat: fibsync's RSS and the node's BPF map memory (the maps'
#     memory use as the kernel reports it) at the end within MEM_SLACK_PCT
#     (default 10) % of the first sample after warm-up;
#   - the routes back where they started, the nexthops back to their start
#     count, and 'fibsync check' clean;
#   - the books balance: sent = delivered + punted + dropped (router r).
# The load is reported as reached: on a shared machine the generator may
# not get to its target, and the result says so.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/selftests/lib.sh"
t_init soak_churn
t_need jq ethtool

SOAK_SECS=${SOAK_SECS:-600}
CHURN_RATE=${CHURN_RATE:-1000}
LOAD_PCT=${LOAD_PCT:-50}
MEM_SLACK_PCT=${MEM_SLACK_PCT:-10}
NPFX=${NPFX:-64}	# prefixes in each churned set
PKTGEN=$ROOT/build/xvr-pktgen
SINK=$ROOT/build/xvr-sink
NODE=$T_P
RNS=xvr-$NODE-r
G=${T_P}g A=${T_P}a B=${T_P}b
PG=${T_P}pg PA=${T_P}pa PB=${T_P}pb
PIN=/sys/fs/bpf/${T_P}sink
WORK=$(mktemp -d /tmp/soak_churn.XXXXXX)
cleanup() {
	"$SINK" detach "$PIN-a" >/dev/null 2>&1
	"$SINK" detach "$PIN-b" >/dev/null 2>&1
	rm -rf "$WORK"
	t_cleanup
}
trap cleanup EXIT
x() { "$XVR" -n "$NODE" "$@"; }
r_ip() { ip -n "$RNS" "$@"; }
mac_of() { ip -n "$1" -j link show "$2" | jq -r '.[0].address'; }
sink_read() { "$SINK" -j read "$1" | jq -r ".total.$2 // .$2 // 0"; }
stat_r() { x -j stats r interval 0 | jq -r ".[0].$1 // 0"; }
fs_pid() { x -j router show r | jq -r '.fibsync_pid // empty'; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
# The node's BPF maps' memory as the kernel accounts it (memlock), in one
# bpftool call over the ids of its pinned maps (map_ids, found once).
map_ids() {
	local f
	for f in /sys/fs/bpf/xvr/"$NODE"/*; do
		bpftool -j map show pinned "$f" 2>/dev/null | jq -r '.id // empty'
	done | paste -sd, -
}
map_mem() {
	bpftool -j map show | jq "[.[] | select(.id as \$i | [$MAP_IDS] | index(\$i)) |
		.bytes_memlock] | add // 0"
}
# Valid nexthops in the node's table.
nh_count() {
	bpftool -j map dump pinned "/sys/fs/bpf/xvr/$NODE/nexthops" |
		jq '[.[] | select((.formatted.value.flags // 0) % 2 == 1)] | length'
}
synced() { x fibsync r check >/dev/null 2>&1; }
nh_back() { [ "$(nh_count)" -eq "$NH0" ]; }

# ---- topology ----
# No IPv6 on the generator's side: its router solicitations would be
# frames the router receives that xvr-pktgen did not send.
t_netns "$G" && t_netns "$A" && t_netns "$B" &&
	ip netns exec "$G" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 &&
	t_veth "$PG" "$G" eth0 && t_veth "$PA" "$A" eth0 && t_veth "$PB" "$B" eth0 &&
	t_node "$NODE" >/dev/null && x port add "$PG" && x port add "$PA" && x port add "$PB" &&
	x router add r mode xdp >/dev/null &&
	x vif add r e0 port "$PG" && x vif add r e1 port "$PA" && x vif add r e2 port "$PB" ||
	{ t_fail "topology setup"; exit 1; }
r_ip addr add 10.1.0.1/24 dev e0 && r_ip addr add 10.2.0.1/24 dev e1 &&
	r_ip addr add 10.3.0.1/24 dev e2 || { t_fail "router addresses"; exit 1; }
ip netns exec "$RNS" sysctl -qw net.ipv4.ip_forward=1
MAC_A=$(mac_of "$A" eth0) MAC_B=$(mac_of "$B" eth0) MAC_R=$(mac_of "$RNS" e0)
for i in $(seq 2 33); do
	r_ip neigh replace 10.2.0.$i lladdr "$MAC_A" dev e1 nud permanent
	r_ip neigh replace 10.3.0.$i lladdr "$MAC_B" dev e2 nud permanent
done
# The start: set a on 10.2.0.2, set b on 10.3.0.2, the movers on a.
{
	for i in $(seq 0 $((NPFX - 1))); do
		echo "route replace 10.200.$i.0/24 via 10.2.0.2"
		echo "route replace 10.201.$i.0/24 via 10.3.0.2"
		echo "route replace 10.100.$i.0/24 via 10.2.0.2"
	done
} >"$WORK/start.batch"
r_ip -batch "$WORK/start.batch" || { t_fail "start routes"; exit 1; }
for i in $(seq 0 $((NPFX - 1))); do
	echo "10.200.$i.1"; echo "10.201.$i.1"; echo "10.100.$i.1"
done >"$WORK/dsts"
"$SINK" -N "$A" -m 10.201.0.0/16 attach eth0 "$PIN-a" >/dev/null &&
	"$SINK" -N "$B" -m 10.200.0.0/16 attach eth0 "$PIN-b" >/dev/null ||
	{ t_fail "sinks"; exit 1; }
if t_wait 30 synced; then t_ok "start: fibsync in sync"; else t_fail "start: fibsync not in sync"; exit 1; fi
NH0=$(nh_count)
MAP_IDS=$(map_ids)
t_ge "start: nexthops in use" "$NH0" 2

# ---- capacity, then the offered load ----
pktgen() { "$PKTGEN" -N "$G" -d "$MAC_R" -S 10.1.0.2 -f "$WORK/dsts" -j "$@" eth0; }
delivered() { echo $(( $(sink_read "$PIN-a" tagged_packets) + $(sink_read "$PIN-b" tagged_packets) )); }
d0=$(delivered)
cap_json=$(pktgen -t 3) || { t_fail "xvr-pktgen"; exit 1; }
cap_secs=$(jq -r .duration_s <<<"$cap_json")
CAP=$(awk -v d=$(( $(delivered) - d0 )) -v s="$cap_secs" 'BEGIN { printf "%d", d / s }')
RATE=$(( CAP * LOAD_PCT / 100 ))
echo "# capacity: $CAP pps delivered with no churn; offering $RATE pps ($LOAD_PCT %)"
[ "$RATE" -gt 0 ] || { t_fail "nothing delivered at capacity"; exit 1; }
# xvr-pktgen paces in its BPF program; on a loaded machine the pacing may
# fall far short of its target. Then the load is offered unpaced (more
# than LOAD_PCT %, never less), and the result says so.
RATE_OPT=(-r "$RATE")
probe=$(pktgen -t 2 -r "$RATE" | jq -r '.pps | floor')
if [ "${probe:-0}" -lt $(( RATE * 9 / 10 )) ]; then
	echo "# xvr-pktgen paced at $RATE pps sends only ${probe:-0} pps here: offering unpaced load"
	RATE_OPT=()
fi
"$SINK" reset "$PIN-a" >/dev/null && "$SINK" reset "$PIN-b" >/dev/null
fwd0=$(stat_r fwd_packets) punt0=$(stat_r punt_packets) drop0=$(stat_r drop_packets)
rx0=$(stat_r rx_packets)

# ---- the soak: load, churn, samples ----
pktgen -t "$SOAK_SECS" "${RATE_OPT[@]}" >"$WORK/load.json" 2>"$WORK/load.err" &
LOAD_PID=$!
T_PIDS+=("$LOAD_PID")
# The churn: CHURN_RATE changes a second in 10 ms slices, into one 'ip -batch'.
"$PY" - "$SOAK_SECS" "$CHURN_RATE" "$NPFX" 2>"$WORK/churn.out" <<'EOF' | ip -n "$RNS" -force -batch - >"$WORK/ip.out" 2>&1 &
import random, sys, time
secs, rate, npfx = float(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
rnd, out, sent = random.Random(1), sys.stdout, 0
t0 = time.monotonic()
while True:
    now = time.monotonic() - t0
    if now >= secs:
        break
    due = int(now * rate) + 1
    while sent < due:
        i, k = rnd.randrange(npfx), sent % 3
        gw = rnd.randrange(2, 34)
        if k == 0:
            out.write(f"route replace 10.200.{i}.0/24 via 10.2.0.{gw}\n")
        elif k == 1:
            out.write(f"route replace 10.201.{i}.0/24 via 10.3.0.{gw}\n")
        elif rnd.random() < 0.2:
            out.write(f"route del 10.100.{i}.0/24\n")
        else:
            out.write(f"route replace 10.100.{i}.0/24 via 10.{rnd.choice((2, 3))}.0.{gw}\n")
        sent += 1
    out.flush()
    time.sleep(0.01)
print(f"{sent} {time.monotonic() - t0:.3f}", file=sys.stderr)
EOF
CHURN_PID=$!
T_PIDS+=("$CHURN_PID")
FS=$(fs_pid)
[ -n "$FS" ] || { t_fail "no fibsync pid"; exit 1; }
: >"$WORK/samples"
start=$(date +%s)
# A sample every SOAK_SECS/20 s (1..10 s).
tick=$(( SOAK_SECS / 20 )); tick=$(( tick < 1 ? 1 : tick > 10 ? 10 : tick ))
while kill -0 "$LOAD_PID" 2>/dev/null; do
	echo "$(( $(date +%s) - start )) $(rss_kb "$FS") $(map_mem) $(sink_read "$PIN-a" match_packets) $(sink_read "$PIN-b" match_packets)" >>"$WORK/samples"
	tail -1 "$WORK/samples" | awk '{printf "# t=%ss fibsync_rss=%s kB map_mem=%s B misfwd a=%s b=%s\n", $1, $2, $3, $4, $5}'
	for _ in $(seq $((tick * 10))); do kill -0 "$LOAD_PID" 2>/dev/null || break; sleep 0.1; done
done
wait "$LOAD_PID"
wait "$CHURN_PID"
read -r churned churn_secs <"$WORK/churn.out" || { churned=0; churn_secs=1; cat "$WORK/churn.out"; }

# ---- verdicts ----
sent=$(jq -r .sent "$WORK/load.json" 2>/dev/null || echo 0)
pps=$(jq -r .pps "$WORK/load.json" 2>/dev/null || echo 0)
da=$(sink_read "$PIN-a" tagged_packets) db=$(sink_read "$PIN-b" tagged_packets)
ma=$(sink_read "$PIN-a" match_packets) mb=$(sink_read "$PIN-b" match_packets)
churn_pps=$(awk -v n="$churned" -v s="$churn_secs" 'BEGIN { printf "%d", n / s }')
ip_errs=$(grep -c . "$WORK/ip.out")
cat "$WORK/load.err"
echo "# load: offered $RATE pps, reached $pps pps ($(( pps * 100 / (CAP > 0 ? CAP : 1) )) % of capacity $CAP); sent $sent, delivered a $da b $db"
echo "# churn: $churned changes in $churn_secs s ($churn_pps/s), ip errors $ip_errs (route del of a route already gone)"
t_eq "no frame for 10.201/16 reached sink a" "$ma" 0
t_eq "no frame for 10.200/16 reached sink b" "$mb" 0
t_ge "churn reached 90 % of $CHURN_RATE changes/s" "$churn_pps" $(( CHURN_RATE * 9 / 10 ))
t_ge "the load reached $LOAD_PCT % of capacity (less 10 %)" "$pps" $(( RATE * 9 / 10 ))
rx=$(( $(stat_r rx_packets) - rx0 ))
fwd=$(( $(stat_r fwd_packets) - fwd0 )) punt=$(( $(stat_r punt_packets) - punt0 ))
drop=$(( $(stat_r drop_packets) - drop0 ))
echo "# books: sent $sent, router rx $rx = fwd $fwd + punt $punt + drop $drop; delivered $((da + db))"
x -j stats r interval 0 | jq -c '.[0] | {drop_reasons: (.drop // .drops // {}), punt_reasons: (.punt // .punts // {})}' 2>/dev/null | sed 's/^/# /'
t_eq "router books balance (rx = fwd + punt + drop)" "$rx" $((fwd + punt + drop))
# The generator's side sends nothing else (no IPv6, no address): a frame
# received beyond those sent would be a frame booked twice.
t_ge "the router received every frame sent" "$rx" "$sent"
t_ge "... and no more (within 0.01 %)" $(( sent + sent / 10000 + 2 )) "$rx"
# Punted frames reach the router's kernel, which forwards those it has a
# route for (a route fibsync has not mirrored yet) to the same sinks.
t_ge "every forwarded frame was delivered" $((da + db)) "$fwd"
t_ge "nothing was delivered that was neither forwarded nor punted" $((fwd + punt)) $((da + db))
# Memory: the first sample after a tenth of the run against the last.
read -r _ rss_first mem_first _ < <(awk -v t=$((SOAK_SECS / 10)) '$1 >= t' "$WORK/samples" | head -1)
[ -n "${rss_first:-}" ] || read -r _ rss_first mem_first _ <"$WORK/samples"
read -r _ rss_last mem_last _ < <(tail -1 "$WORK/samples")
echo "# memory: fibsync RSS ${rss_first} -> ${rss_last} kB, BPF maps ${mem_first} -> ${mem_last} B"
t_ge "fibsync RSS flat (within $MEM_SLACK_PCT %)" $(( rss_first * (100 + MEM_SLACK_PCT) / 100 )) "$rss_last"
t_ge "BPF map memory flat (within $MEM_SLACK_PCT %)" $(( mem_first * (100 + MEM_SLACK_PCT) / 100 )) "$mem_last"

# Back to the start: the routes, the nexthops.
r_ip -batch "$WORK/start.batch" || t_fail "restoring the start routes"
if t_wait 30 synced; then t_ok "end: fibsync in sync"; else t_fail "end: fibsync not in sync"; fi
t_wait 10 nh_back
t_eq "nexthops back to their start count" "$(nh_count)" "$NH0"
