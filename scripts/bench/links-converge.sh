#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# Convergence over virtual links (part of make bench-links): four nodes,
# each the machine of its own namespace on one underlay switch, a tenant
# router (xdp mode) on each, joined in a ring of EGRE links with BIRD OSPF
# (hello HELLO s, dead DEAD s). A host behind node 1 pings one behind
# node 2 every INTERVAL s while link 1-2 is cut in the underlay (both
# nodes get a blackhole route to the other's underlay address, so the link
# interfaces stay up and only OSPF's dead timer notices) and restored:
#
#   cut:     the longest gap between two answered pings: how long the
#            network carried no traffic from h1 to h2 before OSPF took the
#            long way round (TTL 60 instead of 62 in the replies)
#   restore: from the restore to the first reply back on the short path
#            (TTL 62; the reply's path, node 2 to node 1). Traffic keeps
#            flowing the long way meanwhile.
#
# ROUNDS cut/restore cycles (default 3); the report gives each figure's
# median and min-max.
#
#            n1 ── n2          link i joins node i and node i+1
#            │      │
#            n4 ── n3
#
#   scripts/bench/links-converge.sh [OUT.json]
#
# Environment: ROUNDS, HELLO (1), DEAD (4), INTERVAL (0.01), XVR.
# Everything is removed on exit, pass or fail.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
XVR=${XVR:-$ROOT/build/xvr}
PY=/usr/bin/python3
ROUNDS=${ROUNDS:-3}
HELLO=${HELLO:-1}
DEAD=${DEAD:-4}
INTERVAL=${INTERVAL:-0.01}
OUTF=${1:-/dev/null}
. "$ROOT/scripts/vnet-lib.sh"
P=xc$(printf '%03x' $(( ($$ + RANDOM) % 0xfff )))
RUN=$(mktemp -d /run/xvr-converge.XXXXXX)
BIRDS=()
PING=""

log() { printf '[links-converge] %s\n' "$*" >&2; }
x() { local n=$1; shift; "$XVR" -n "$P$n" "$@"; }
wait_for() {	# wait_for SECONDS COMMAND…
	local end=$(( $(date +%s) + $1 )); shift
	until "$@" >/dev/null 2>&1; do [ "$(date +%s)" -ge "$end" ] && return 1; sleep 0.1; done
}
cleanup() {
	local rc=$?
	set +e
	[ -n "$PING" ] && kill "$PING" 2>/dev/null
	for p in "${BIRDS[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	# node down needs the node's machine namespace: before those go.
	for i in 1 2 3 4; do
		[ -d "/sys/fs/bpf/xvr/$P$i" ] || continue
		"$XVR" -n "$P$i" node down >/dev/null 2>"$RUN/down.err" ||
			{ log "node $P$i: node down failed: $(tail -1 "$RUN/down.err")"; rm -rf "/sys/fs/bpf/xvr/$P$i"; }
	done
	for ns in $(ip netns list | awk '{print $1}' | grep -E "^($P-|xvr-$P[1-4]-)"); do ip netns del "$ns"; done
	rm -rf "$RUN"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
[ "$(id -u)" = 0 ] || { log "needs root"; exit 1; }
for c in bird birdc jq ping ethtool; do
	command -v "$c" >/dev/null || { log "missing $c (scripts/setup.sh installs it)"; exit 1; }
done

log "4 nodes, a ring of EGRE links, BIRD OSPF hello $HELLO s dead $DEAD s"
vnet_switch $P-sw
for i in 1 2 3 4; do
	vnet_machine $P-sw $P-m$i $P$i $i 192.168.91
	x $i router add t mode xdp
	ip netns exec xvr-$P$i-t sysctl -qw net.ipv4.ip_forward=1
done
for i in 1 2; do
	h=$P-h$i
	ip netns add $h && ip -n $h link set lo up
	ip -n $P-m$i link add hp$i type veth peer name eth0 netns $h
	ip -n $P-m$i link set hp$i up && ip -n $h link set eth0 up
	ip netns exec $h ethtool -K eth0 gro on tx off >/dev/null
	ip -n $h addr add 10.0.$i.2/24 dev eth0 && ip -n $h route add default via 10.0.$i.1
	x $i port add hp$i
	x $i vif add t lan port hp$i
	ip -n xvr-$P$i-t addr add 10.0.$i.1/24 dev lan
done
for i in 1 2 3 4; do
	j=$(( i % 4 + 1 ))
	x $i link add t next egre local 192.168.91.$i remote 192.168.91.$j key $((300 + i))
	x $j link add t prev egre local 192.168.91.$j remote 192.168.91.$i key $((300 + i))
	ip -n xvr-$P$i-t addr add 10.255.$i.1/30 dev next && ip -n xvr-$P$i-t link set next up
	ip -n xvr-$P$j-t addr add 10.255.$i.2/30 dev prev && ip -n xvr-$P$j-t link set prev up
done
for i in 1 2 3 4; do
	vnet_ospf_conf "$RUN/$i.conf" 10.0.$i.1 "$HELLO" "$DEAD"
	"$XVR" -n $P$i router exec t --bind "$RUN/$i.conf:/run/bird/bird.conf" -- \
		bird -f -c /run/bird/bird.conf -s /run/bird/bird.ctl >"$RUN/bird$i.log" 2>&1 &
	BIRDS+=($!)
done
# Converged: h1 reaches h2 by the short path (TTL 62 in the reply).
short_path() { ip netns exec $P-h1 ping -c 1 -W 1 10.0.2.2 | grep -q 'ttl=62'; }
wait_for 90 short_path || { log "OSPF did not converge"; exit 1; }
log "converged: h1 reaches h2 over link 1-2"

underlay() {	# underlay add|del: blackhole routes between nodes 1 and 2
	ip -n $P-m1 route "$1" blackhole 192.168.91.2/32
	ip -n $P-m2 route "$1" blackhole 192.168.91.1/32
}
: >"$RUN/rounds"
for r in $(seq "$ROUNDS"); do
	ip netns exec $P-h1 ping -D -i "$INTERVAL" -W 1 10.0.2.2 >"$RUN/ping$r.txt" 2>&1 &
	PING=$!
	sleep 1	# a second of the steady state before the event
	t_cut=$(date +%s.%N)
	underlay add
	# OSPF must notice (dead interval) and take the long way: TTL 60.
	wait_for $(( DEAD * 5 + 20 )) sh -c "tail -n 3 $RUN/ping$r.txt | grep -q 'ttl=60'" ||
		{ log "round $r: traffic did not take the long way"; exit 1; }
	sleep 1
	t_restore=$(date +%s.%N)
	underlay del
	wait_for 60 sh -c "tail -n 3 $RUN/ping$r.txt | grep -q 'ttl=62'" ||
		{ log "round $r: traffic did not come back to link 1-2"; exit 1; }
	sleep 1
	kill "$PING" 2>/dev/null; wait "$PING" 2>/dev/null || true
	PING=""
	$PY - "$RUN/ping$r.txt" "$t_cut" "$t_restore" >>"$RUN/rounds" <<'EOF'
import re, sys
t_cut, t_restore = float(sys.argv[2]), float(sys.argv[3])
replies = [(float(m.group(1)), int(m.group(2))) for m in
           re.finditer(r"\[(\d+\.\d+)\] .* ttl=(\d+)", open(sys.argv[1]).read())]
times = [t for t, _ in replies if t >= t_cut - 0.5 and t < t_restore]
gap = max(b - a for a, b in zip(times, times[1:]))
back = min(t for t, ttl in replies if t > t_restore and ttl == 62) - t_restore
print("%.3f %.3f %d" % (gap, back, len(replies)))
EOF
	read -r gap back n < <(tail -1 "$RUN/rounds")
	log "round $r: cut -> traffic again after ${gap} s; restore -> short path after ${back} s ($n replies)"
done
$PY - "$RUN/rounds" "$OUTF" "$HELLO" "$DEAD" "$INTERVAL" <<'EOF'
import json, statistics, sys
rows = [list(map(float, l.split())) for l in open(sys.argv[1])]
def summary(xs): return {"median": statistics.median(xs), "min": min(xs), "max": max(xs)}
res = {"command": "scripts/bench/links-converge.sh", "rounds": len(rows),
       "ospf_hello_s": int(sys.argv[3]), "ospf_dead_s": int(sys.argv[4]),
       "ping_interval_s": float(sys.argv[5]),
       "cut_outage_s": summary([r[0] for r in rows]),
       "restore_to_short_path_s": summary([r[1] for r in rows])}
json.dump(res, open(sys.argv[2], "w"), indent=1)
print("4-node OSPF ring over EGRE links, hello %s s dead %s s, %d rounds (median, min-max):"
      % (sys.argv[3], sys.argv[4], len(rows)))
for k, name in (("cut_outage_s", "link cut: no traffic for"),
                ("restore_to_short_path_s", "link restored: back on it after")):
    s = res[k]
    print("  %-34s %.2f s  (%.2f-%.2f)" % (name, s["median"], s["min"], s["max"]))
EOF
