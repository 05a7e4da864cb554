#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# make bench-micro: each xvr BPF program's cost per packet, from
# BPF_PROG_TEST_RUN (bpftool prog run ... repeat N) on a fixed set of frames,
# and its size (xlated instructions, JITed bytes). Under a minute.
# Each packet is one test run (CALLS of them, default 50000), the figure the
# median of the kernel's timing of each run.
#
#   scripts/bench/micro.sh OUT.json
#
# A scratch node with four ports (veth pairs whose peers sit in a scratch
# namespace; no traffic flows): port a+b an xdp-mode router with VIFs
# (fibsync off, static routes), port c a netns-mode router's VIF, port d an
# afxdp router's VIF with one engine. Environment: CALLS (default 50000),
# XVR. Everything is removed on exit, pass or fail.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
XVR=${XVR:-$ROOT/build/xvr}
PY=/usr/bin/python3
CALLS=${CALLS:-50000}
OUTF=${1:?usage: $0 OUT.json}
P=xm$(printf '%03x' $(( ($$ + RANDOM) % 0xfff )))
NODE=micro-$P
NS=$P-peer
TMP=$(mktemp -d /tmp/xvr-micro.XXXXXX)
UP=0

log() { printf '[bench-micro] %s\n' "$*" >&2; }
cleanup() {
	local rc=$?
	set +e
	[ "$UP" = 1 ] && "$XVR" -n "$NODE" node down >/dev/null 2>&1
	rm -rf "/sys/fs/bpf/xvr/$NODE" 2>/dev/null
	for x in a b c d; do ip link del "$P$x" 2>/dev/null; done
	ip netns del "$NS" 2>/dev/null
	rm -rf "$TMP"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ "$(id -u)" = 0 ] || { log "needs root"; exit 1; }
[ -x "$XVR" ] || { log "$XVR missing: run make"; exit 1; }
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
T0=$(date +%s.%N)

ip netns add "$NS"
ip netns exec "$NS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
i=1
for x in a b c d; do
	ip link add "$P$x" address 02:00:00:00:0$i:02 type veth peer name "p$x" \
		address 02:00:00:00:0$i:01 netns "$NS"
	sysctl -qw "net.ipv6.conf.$P$x.disable_ipv6=1"
	ip link set "$P$x" up
	ip -n "$NS" link set "p$x" up
	i=$((i + 1))
done

UP=1
{
	"$XVR" -n "$NODE" node up
	for x in a b c d; do "$XVR" -n "$NODE" port add "$P$x"; done
	# xdp router: VIFs on a (MAC 02:00:00:00:01:02) and b, static routes.
	"$XVR" -n "$NODE" router add rx id 1 mode xdp fibsync off
	"$XVR" -n "$NODE" vif add rx x0 port "${P}a" mac 02:00:00:00:01:02
	"$XVR" -n "$NODE" vif add rx x1 port "${P}b" mac 02:00:00:00:02:02
	"$XVR" -n "$NODE" route add rx 198.19.0.0/16 via 198.51.101.2 \
		lladdr 02:00:00:00:02:01 dev "${P}b"
	"$XVR" -n "$NODE" route add rx 2001:db8:1::/48 via 2001:db8:ff::2 \
		lladdr 02:00:00:00:02:01 dev "${P}b"
	"$XVR" -n "$NODE" route add rx 203.0.113.0/24 blackhole
	# Room for every punt of the run (the default budget is 10000/s).
	"$XVR" -n "$NODE" limit set rx punt 1000000
	# netns router on port c, afxdp router on port d.
	"$XVR" -n "$NODE" router add rn id 2 mode netns
	"$XVR" -n "$NODE" vif add rn n0 port "${P}c" mac 02:00:00:00:03:02
	"$XVR" -n "$NODE" router add ra id 3 mode afxdp
	"$XVR" -n "$NODE" vif add ra a0 port "${P}d" mac 02:00:00:00:04:02
	"$XVR" -n "$NODE" fe add ra
	# A router on port a held to 1 frame a second: its frames are policed.
	"$XVR" -n "$NODE" router add rp id 4 mode xdp fibsync off
	"$XVR" -n "$NODE" classify add rp mac 02:00:00:00:01:09 port "${P}a"
	"$XVR" -n "$NODE" route add rp 198.19.0.0/16 via 198.51.101.2 \
		lladdr 02:00:00:00:02:01 dev "${P}b"
	"$XVR" -n "$NODE" limit set rp pps 1 burst 1
	# A router on port a with a limit its frames never reach: what
	# admission costs a frame under the limit (against fwd4).
	"$XVR" -n "$NODE" router add rl id 6 mode xdp fibsync off
	"$XVR" -n "$NODE" classify add rl mac 02:00:00:00:01:0b port "${P}a"
	"$XVR" -n "$NODE" route add rl 198.19.0.0/16 via 198.51.101.2 \
		lladdr 02:00:00:00:02:01 dev "${P}b"
	"$XVR" -n "$NODE" limit set rl pps 1000000000
	# A router on port a bound to CPU 0 (router set cpus): the receiving
	# CPU's part of the handoff, classification and the cpumap redirect.
	"$XVR" -n "$NODE" router add rs id 5 mode xdp fibsync off
	"$XVR" -n "$NODE" classify add rs mac 02:00:00:00:01:0a port "${P}a"
	"$XVR" -n "$NODE" route add rs 198.19.0.0/16 via 198.51.101.2 \
		lladdr 02:00:00:00:02:01 dev "${P}b"
} >"$TMP/setup.log" 2>&1 || { cat "$TMP/setup.log" >&2; log "setup failed"; exit 1; }
# An xvr without core binding (an older build under XVR=) skips that case.
STEER=0
"$XVR" -n "$NODE" router set rs cpus 0 >>"$TMP/setup.log" 2>&1 && STEER=1
sleep 1	# the engine's heartbeat

ifidx() { cat "/sys/class/net/$1/ifindex"; }
vif_dev() {
	"$XVR" -n "$NODE" -j vif list "$1" | jq -r --arg n "$2" '.[] | select(.ifname == $n) | .dev'
}
link_prog() { bpftool -j link show pinned "$1" | jq -r .prog_id; }
PIN=/sys/fs/bpf/xvr/$NODE
ING=$(link_prog "$PIN/links/$(ifidx "${P}a")")
X1=$(vif_dev rx x1)
EGR=$(link_prog "$PIN/vif_links/$(ifidx "$X1")")

# Frames: Ethernet + IPv4/IPv6 + UDP, 60 bytes (64 with FCS) for IPv4.
$PY - "$TMP" <<'EOF'
import struct, sys
d = sys.argv[1]
def mac(s): return bytes(int(x, 16) for x in s.split(":"))
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff
def v4(dst_mac, src, dst, ttl=64):
    udp = struct.pack("!HHHH", 9, 9, 26, 0) + b"xvrp" + bytes(14)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0x4000, ttl, 17, 0,
                     bytes(map(int, src.split("."))), bytes(map(int, dst.split("."))))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return mac(dst_mac) + mac("02:00:00:00:01:01") + b"\x08\x00" + ip + udp
def v6(dst_mac, dst_hi):
    udp = struct.pack("!HHHH", 9, 9, 26, 0) + b"xvrp" + bytes(14)
    src = bytes.fromhex("20010db8000000000000000000000001")
    dst = bytes.fromhex(dst_hi)
    ip = struct.pack("!IHBB", 6 << 28, len(udp), 17, 64) + src + dst
    return mac(dst_mac) + mac("02:00:00:00:01:01") + b"\x86\xdd" + ip + udp
A = "02:00:00:00:01:02"
frames = {
    "fwd4": v4(A, "198.18.0.1", "198.19.0.1"),
    "fwd6": v6(A, "20010db8000100000000000000000001"),
    "punt": v4(A, "198.18.0.1", "198.19.0.1", ttl=1),
    "drop": v4(A, "198.18.0.1", "203.0.113.1"),
    "netns": v4("02:00:00:00:03:02", "198.18.0.1", "198.19.0.1"),
    "policed": v4("02:00:00:00:01:09", "198.18.0.1", "198.19.0.1"),
    "limited": v4("02:00:00:00:01:0b", "198.18.0.1", "198.19.0.1"),
    "afxdp": v4("02:00:00:00:04:02", "198.18.0.1", "198.19.0.1"),
    "steer": v4("02:00:00:00:01:0a", "198.18.0.1", "198.19.0.1"),
    # What a router's stack sends out of its VIF x1: to the sink's MAC.
    "egress": mac("02:00:00:00:02:01") + mac("02:00:00:00:02:02") + v4(A, "198.18.0.1", "198.19.0.1")[12:],
}
for k, f in frames.items():
    f = f + bytes(max(0, 60 - len(f)))
    open(f"{d}/{k}.bin", "wb").write(f)
EOF


VERDICTS=(ABORTED DROP PASS TX REDIRECT)
RESF=$TMP/cases.jsonl
: >"$RESF"
# run_case CASE PROG_ID IFINDEX PROG_NAME: CALLS test runs of one packet each
# (scripts/bench/testrun.py says why not repeat N); the median run time.
run_case() {
	local c=$1 id=$2 ifi=$3 pname=$4 out info rv
	if ! out=$($PY "$ROOT/scripts/bench/testrun.py" "$id" "$TMP/$c.bin" "$ifi" "$CALLS" 2>&1); then
		log "$c: test run failed: $out"
		jq -n --arg c "$c" --arg p "$pname" --arg e "$out" '{case: $c, prog: $p, error: $e}' >>"$RESF"
		return
	fi
	rv=$(echo "$out" | jq .retval)
	info=$(bpftool -j prog show id "$id")
	jq -n --arg c "$c" --arg p "$pname" --arg v "${VERDICTS[$rv]:-$rv}" \
		--argjson r "$out" --argjson info "$info" '
		$r + {case: $c, prog: $p, verdict: $v, repeat: $r.calls,
		 prog_id: $info.id, xlated_insns: ($info.bytes_xlated / 8 | floor),
		 jited_bytes: $info.bytes_jited,
		 verified_insns: ($info.verified_insns // null)}' >>"$RESF"
	log "$c ($pname): ${VERDICTS[$rv]:-$rv}, median $(echo "$out" | jq .ns_per_packet) ns/packet (p10 $(echo "$out" | jq .ns_p10), p90 $(echo "$out" | jq .ns_p90))"
}

run_case fwd4 "$ING" "$(ifidx "${P}a")" xvr_ingress
run_case fwd6 "$ING" "$(ifidx "${P}a")" xvr_ingress
run_case punt "$ING" "$(ifidx "${P}a")" xvr_ingress
run_case drop "$ING" "$(ifidx "${P}a")" xvr_ingress
run_case policed "$ING" "$(ifidx "${P}a")" xvr_ingress
run_case limited "$ING" "$(ifidx "${P}a")" xvr_ingress
run_case netns "$ING" "$(ifidx "${P}c")" xvr_ingress
run_case afxdp "$ING" "$(ifidx "${P}d")" xvr_ingress
[ "$STEER" = 1 ] && run_case steer "$ING" "$(ifidx "${P}a")" xvr_ingress
run_case egress "$EGR" "$(ifidx "$X1")" xvr_egress

[ "${DEBUG:-0}" = 1 ] && "$XVR" -n "$NODE" stats >&2
T1=$(date +%s.%N)
jq -s --arg date "$(date -Is)" --argjson rep "$CALLS" --arg kernel "$(uname -r)" \
	--argjson secs "$(awk -v a="$T0" -v b="$T1" 'BEGIN { print b - a }')" '
	{date: $date, command: "make bench-micro", repeat: $rep, kernel: $kernel,
	 seconds: $secs, cases: .}' "$RESF" >"$OUTF"
log "done in $(awk -v a="$T0" -v b="$T1" 'BEGIN { printf "%.1f", b - a }') s: $OUTF"
