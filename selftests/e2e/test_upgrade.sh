#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Upgrades: 'node up' on a live node loads both programs before switching
# any device; a switch that fails half way (XVR_FAIL_AT) puts every port and
# VIF back on its old program and says so; pins of another ABI version are
# refused; a node without a map this xvr adds is upgraded and repaired. And
# a live 'node up' while xvr-pktgen sends UPG_PPS (500k) frames
# per second through an xdp router loses none: sent = delivered at the sink.
set -u
. "$(dirname "$0")/../lib.sh"
t_init upgrade
t_need jq ethtool bpftool
BUILD=$(dirname "$XVR")
NODE=$T_P
PA=${T_P}a
PB=${T_P}b
PIN=/sys/fs/bpf/xvr-test-$T_P
x() { "$XVR" -n "$NODE" "$@"; }
trap '"$BUILD/xvr-sink" detach "$PIN" >/dev/null 2>&1; rm -rf "$PIN"; t_cleanup' EXIT

# g (xvr-pktgen) ── PA ─ router r (xdp) ─ PB ── s (xvr-sink)
t_netns "${T_P}g" && t_netns "${T_P}s" && t_veth "$PA" "${T_P}g" eth0 &&
	t_veth "$PB" "${T_P}s" eth0 && t_node "$NODE" >/dev/null && x port add "$PA" &&
	x port add "$PB" && x router add r fibsync off >/dev/null &&
	x vif add r e0 port "$PA" >/dev/null &&
	smac=$(ip -n "${T_P}s" -j link show eth0 | jq -r '.[0].address') &&
	x route add r 198.19.0.0/16 via 198.19.0.2 lladdr "$smac" dev "$PB" ||
	{ t_fail "setup"; exit 1; }
vmac=$(x -j vif list | jq -r '.[0].mac')
vdev=$(x -j vif list | jq -r '.[0].dev')
prog_of() { ip -j -d link show "$1" | jq '.[0].xdp.prog.id // 0'; }
progs() { echo "$(prog_of "$PA") $(prog_of "$PB") $(prog_of "$vdev")"; }

# 1. A switch that fails half way: every link back on its old program.
p0=$(progs)
for step in node-up:port-links node-up:vif-links; do
	out=$(XVR_FAIL_AT=$step x node up 2>&1)
	t_eq "$step: node up fails" "$?" 1
	t_check "$step: it says every device runs its old program again" \
		grep -q "runs its old program again" <<<"$out"
	t_eq "$step: ports and VIF run the programs they ran" "$(progs)" "$p0"
done
t_check "node up then works" x node up
t_check "and every port and the VIF run new programs" test "$(progs)" != "$p0"
t_check "fibsync-free routes kept" test "$(x -j route list r | jq length)" = 1

# 2. Pins of another ABI version are refused, naming both versions: a
# future one, and ABI 1 (routers and nexthops carried control-plane counts).
abi=$(awk '$2 == "XVR_ABI_VERSION" { print $3 }' "$(dirname "$0")/../../include/xvr/xvr.h")
t_check "this xvr's ABI is 2 or later" test "${abi:-0}" -ge 2
for old in 255 1; do
	bpftool map update pinned "/sys/fs/bpf/xvr/$NODE/abi" key 0 0 0 0 value "$old" 0 0 0
	out=$(x node up 2>&1)
	t_eq "node up on pins of ABI $old fails" "$?" 1
	t_check "naming the versions ($old)" grep -q "node $NODE: its pins have ABI $old, this xvr ABI $abi" <<<"$out"
done
bpftool map update pinned "/sys/fs/bpf/xvr/$NODE/abi" key 0 0 0 0 value "$abi" 0 0 0

# 3. Under load: two live upgrades while frames flow; the books balance.
PPS=${UPG_PPS:-500000}
"$BUILD/xvr-sink" -N "${T_P}s" attach eth0 "$PIN" >/dev/null || t_fail "sink attach"
"$BUILD/xvr-pktgen" -N "${T_P}g" -d "$vmac" -D 198.19.0.1 -r "$PPS" -t 3 -c 0 -j eth0 \
	>"/tmp/.$T_P.gen" 2>/dev/null &
gen=$!
sink_n() { "$BUILD/xvr-sink" -j read "$PIN" | jq '.tagged_packets // 0'; }
t_wait 5 test_ge_cmd sink_n 1000
t_check "live node up under load (1)" x node up
t_check "live node up under load (2)" x node up
wait $gen
sent=$(jq '.sent // 0' "/tmp/.$T_P.gen")
rm -f "/tmp/.$T_P.gen"
t_wait 5 test_ge_cmd sink_n "$sent"
got=$(sink_n)
drops=$(t_stat "$NODE" r drop_packets)
echo "    $sent sent at ${PPS}/s over 3 s, $got delivered, router r dropped $drops"
t_ge "frames flowed" "$sent" 1000
t_eq "two live upgrades under load lost no frame (sent = delivered)" "$got" "$sent"

# 4. A node an older xvr made, without a map this xvr adds (port_idx, its
#    pin removed): 'node up' upgrades it without calling it "not up",
#    creates the map, and publishes the ports there; frames still flow.
rm "/sys/fs/bpf/xvr/$NODE/port_idx" || t_fail "unpin port_idx"
out=$(x node up 2>&1)
t_eq "node up of a node without port_idx succeeds" "$?" 0
t_fails "  without calling it not up" grep -q "not up" <<<"$out"
PAI=$(cat "/sys/class/net/$PA/ifindex")
t_eq "  port $PA is published in the new port index" \
	"$(bpftool -j map lookup pinned "/sys/fs/bpf/xvr/$NODE/port_idx" key \
		$((PAI % 256)) 0 0 0 |
		jq '.formatted.value.ifindex // .value.ifindex')" "$PAI"
got0=$(sink_n)
"$BUILD/xvr-pktgen" -N "${T_P}g" -d "$vmac" -D 198.19.0.1 -r 10000 -t 1 -c 0 -j eth0 \
	>"/tmp/.$T_P.gen" 2>/dev/null
sent=$(jq '.sent // 0' "/tmp/.$T_P.gen")
rm -f "/tmp/.$T_P.gen"
t_wait 5 test_ge_cmd sink_n $((got0 + sent))
t_eq "  the upgraded node forwards every frame" "$(( $(sink_n) - got0 ))" "$sent"
