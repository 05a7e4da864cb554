#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# make bench-links: the per-packet cost of xvr_ingress for an xdp-mode
# router forwarding onto a virtual link (encapsulation, the underlay's
# bpf_fib_lookup included) and from one (decapsulation, then forwarding),
# against the same router's plain forwarding. Interleaved: every round
# runs the three cases back to back (CALLS BPF_PROG_TEST_RUN calls each,
# median), and the ratios are taken within a round; the report gives
# their median and range over ROUNDS rounds.
#
#   scripts/bench/links.sh [OUT.json]
#
# A scratch node in a namespace of its own, with two ports whose peers sit
# in a second namespace (the underlay peer answers ARP, so the link's next
# hop resolves). No traffic flows. Environment: CALLS (default 20000),
# ROUNDS (default 5), XVR. Everything is removed on exit, pass or fail.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
XVR=${XVR:-$ROOT/build/xvr}
PY=/usr/bin/python3
CALLS=${CALLS:-20000}
ROUNDS=${ROUNDS:-5}
OUTF=${1:-/dev/null}
P=xl$(printf '%03x' $(( ($$ + RANDOM) % 0xfff )))
NODE=$P M=$P-m PEER=$P-p
TMP=$(mktemp -d /tmp/xvr-links.XXXXXX)

log() { printf '[bench-links] %s\n' "$*" >&2; }
cleanup() {
	local rc=$?
	set +e
	"$XVR" -n "$NODE" node down >/dev/null 2>&1
	ip netns del "$M" 2>/dev/null
	ip netns del "$PEER" 2>/dev/null
	rm -rf "$TMP"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
[ "$(id -u)" = 0 ] || { log "needs root"; exit 1; }

ip netns add "$M" && ip netns add "$PEER"
for x in ua ub; do
	ip -n "$M" link add $x type veth peer name p$x netns "$PEER"
	ip -n "$M" link set $x up && ip -n "$PEER" link set p$x up
done
ip -n "$M" link set ua address 02:00:00:00:01:02
ip -n "$M" addr add 192.168.99.1/24 dev ub
ip -n "$PEER" addr add 192.168.99.2/24 dev pub
{
	"$XVR" -n "$NODE" node up netns "$M"
	"$XVR" -n "$NODE" port add ua
	"$XVR" -n "$NODE" port add ub
	"$XVR" -n "$NODE" router add rx mode xdp fibsync off
	"$XVR" -n "$NODE" vif add rx x0 port ua mac 02:00:00:00:01:02
	"$XVR" -n "$NODE" link add rx l0 egre local 192.168.99.1 remote 192.168.99.2 key 7
	"$XVR" -n "$NODE" route add rx 198.19.0.0/16 via 198.51.101.2 lladdr 02:00:00:00:02:01 dev ub
	"$XVR" -n "$NODE" route add rx 198.20.0.0/16 via 10.255.0.2 lladdr 06:00:00:00:09:09 dev l0
} >"$TMP/setup.log" 2>&1 || { cat "$TMP/setup.log" >&2; log "setup failed"; exit 1; }
# The link's next hop: resolved by the node's kernel (a managed entry).
for _ in $(seq 50); do
	ip -n "$M" neigh show 192.168.99.2 | grep -q REACHABLE && break
	sleep 0.1
done

ifidx() { ip -n "$M" -j link show "$1" | jq '.[0].ifindex'; }
ING=$(bpftool -j link show pinned "/sys/fs/bpf/xvr/$NODE/links/$(ifidx ua)" | jq -r .prog_id)

$PY - "$TMP" <<'EOF'
import struct, sys
d = sys.argv[1]
def mac(s): return bytes(int(x, 16) for x in s.split(":"))
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff
def ip4(src, dst, proto, payload, ttl=64):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 0, 0x4000, ttl, proto, 0,
                    bytes(map(int, src.split("."))), bytes(map(int, dst.split("."))))
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + payload
def udp4(dmac, src, dst):
    udp = struct.pack("!HHHH", 9, 9, 26, 0) + b"xvrp" + bytes(14)
    return mac(dmac) + mac("02:00:00:00:01:01") + b"\x08\x00" + ip4(src, dst, 17, udp)
inner = udp4("02:00:00:00:01:02", "198.18.0.1", "198.19.0.1")
gre = struct.pack("!HHI", 0x2000, 0x6558, 7) + inner
frames = {
    "fwd": udp4("02:00:00:00:01:02", "198.18.0.1", "198.19.0.1"),
    "encap": udp4("02:00:00:00:01:02", "198.18.0.1", "198.20.0.1"),
    "decap": mac("02:00:00:00:02:02") + mac("02:00:00:00:02:01") + b"\x08\x00" +
             ip4("192.168.99.2", "192.168.99.1", 47, gre),
}
for k, f in frames.items():
    open(f"{d}/{k}.bin", "wb").write(f + bytes(max(0, 60 - len(f))))
EOF

run() {	# run CASE PORT: median ns per packet, and the verdict must be REDIRECT (4)
	local out
	out=$(ip netns exec "$M" $PY "$ROOT/scripts/bench/testrun.py" "$ING" "$TMP/$1.bin" \
		"$(ifidx "$2")" "$CALLS")
	[ "$(echo "$out" | jq .retval)" = 4 ] || { log "$1: verdict $(echo "$out" | jq .retval), not REDIRECT"; exit 1; }
	echo "$out" | jq .ns_per_packet
}
: >"$TMP/rounds"
for r in $(seq "$ROUNDS"); do
	f=$(run fwd ua) e=$(run encap ua) d=$(run decap ub)
	log "round $r: fwd $f ns, encap $e ns, decap $d ns"
	echo "$f $e $d" >>"$TMP/rounds"
done
"$XVR" -n "$NODE" stats link rx l0 interval 0 >&2
$PY - "$TMP/rounds" "$OUTF" "$CALLS" <<'EOF'
import json, statistics, sys
rows = [list(map(float, l.split())) for l in open(sys.argv[1])]
def summary(xs): return {"median": statistics.median(xs), "min": min(xs), "max": max(xs)}
enc = [f / e for f, e, d in rows]	# packets per second, encap vs plain
dec = [f / d for f, e, d in rows]
res = {"command": "make bench-links", "calls": int(sys.argv[3]), "rounds": len(rows),
       "ns": {"fwd": summary([r[0] for r in rows]), "encap": summary([r[1] for r in rows]),
              "decap": summary([r[2] for r in rows])},
       "encap_vs_fwd": summary(enc), "decap_vs_fwd": summary(dec)}
json.dump(res, open(sys.argv[2], "w"), indent=1)
print("per-packet cost of xvr_ingress, %d rounds of %s calls each (median, min-max):" % (len(rows), sys.argv[3]))
for k in ("fwd", "encap", "decap"):
    s = res["ns"][k]
    print("  %-6s %6.1f ns  (%.1f-%.1f)" % (k, s["median"], s["min"], s["max"]))
for k, name in (("encap_vs_fwd", "onto a link (encap)"), ("decap_vs_fwd", "from a link (decap)")):
    s = res[k]
    print("  %-22s %.2f of plain forwarding's rate  (%.2f-%.2f; target >= 0.8)" % (name, s["median"], s["min"], s["max"]))
EOF
