#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# A node as a file: 'xvr batch' (and -b) runs one command a line, stops at
# the first error naming its line, -force runs on, --dry-run changes
# nothing; 'xvr node save' prints a node so that save, down, batch gives
# back the same node (every object's listing and the BPF maps, compared with
# the ids that may change left out).
set -u
. "$(dirname "$0")/../lib.sh"
t_init config
t_need jq bpftool ip
PLUGIN=$(cd "$(dirname "$XVR")" && pwd)/plugins/firewall.so

NODE=$T_P
A=${T_P}a C=${T_P}c
CONF=/tmp/$T_P.conf SAVED=/tmp/$T_P.saved
T_FILES=("$CONF" "$SAVED" "$CONF.bad" "$CONF.a" "$CONF.b")
trap 'rm -f "${T_FILES[@]}"; t_cleanup' EXIT
T_NODES+=("$NODE")
for d in "$A" "$C"; do
	ip link add "$d" type veth peer name "${d}p" && T_LINKS+=("$d") && ip link set "$d" up
done

# Every kind of state a node holds, written as an operator would.
cat >"$CONF" <<EOF
# a node with one router of each mode
node up
node set miss drop
port add $A
port add $C mode generic
router add red mode xdp fibsync off
router add blue id 7 mode netns
router add green mode xdp
router add af mode afxdp
router set af dist flowhash
vif add red e0 port $A mac 02:00:00:0a:01:01
vif add blue e0 port $C vlan 20
vif add red e1 port $C mac 02:00:00:0a:01:02 spoof on
vif add af e0 port $A vlan 30     # a comment after a command
classify add red udp-port 4789 port $C
classify add blue prefix 10.9.0.0/16
classify add red default port $C
classify add blue gre-key 77
route add red 10.2.0.0/16 via 10.2.1.2 lladdr 02:00:00:0a:02:02 dev $C vlan 5
route add red 2001:db8:2::/48 via 2001:db8:2::2 dev $A
route add red 10.3.0.0/16 blackhole
route add red 10.1.1.1/32 local
fe add af cpu 0 share 50 weight 2 idle 0 pool 64 plugin $PLUGIN args "drop udp dport 9999"
node set router-defaults pids 512 memory 512M
router set red cpu 50 memory 256M pids 300
router set green max-routes 5000
limit set red pps 100000 burst 500
limit set blue bps 80000000 punt 200
EOF

t_check "--dry-run of a whole node" "$XVR" -n "$NODE" --dry-run -b "$CONF"
t_check "--dry-run created nothing" test ! -e "/sys/fs/bpf/xvr/$NODE"
sed 's/^vif add blue e0 port .*/vif add blue e0 port/' "$CONF" >"$CONF.bad"
out=$("$XVR" -n "$NODE" batch "$CONF.bad" --dry-run 2>&1)
t_check "--dry-run finds a grammar error and names its line (12)" grep -q "$CONF.bad:12:" <<<"$out"
t_check "... and still changed nothing" test ! -e "/sys/fs/bpf/xvr/$NODE"

t_check "xvr -b FILE builds the node" "$XVR" -n "$NODE" -b "$CONF"
t_eq "the quoted engine arguments arrived as one" \
	"$(tr '\0' '\n' <"/run/xvr/$NODE/fe1.argv" | tail -1)" "drop udp dport 9999"
"$XVR" -n "$NODE" node save >"$SAVED"
t_check "node save lists the engine with its options" \
	grep -qx "fe add af cpu 0 share 50 weight 2 pool 64 idle 0 plugin $PLUGIN args \"drop udp dport 9999\"" "$SAVED"
t_check "node save keeps 'fibsync off' and the router id" grep -qx "router add red id 1 mode xdp fibsync off" "$SAVED"
t_check "node save: no route of a fibsync router" test "$(grep -c '^route add green' "$SAVED")" = 0

# Every object's listing, with what legitimately differs between two builds
# of the same node removed (program, nexthop and slot ids, pids, counters),
# arrays sorted; and the maps whose content names no ifindex or id that a
# rebuild may change.
snapshot() {
	local o r
	for o in "node show" "port list" "router list" "vif list" "classify list" "fe list" \
		 "limit list"; do
		echo "== $o"
		"$XVR" -n "$NODE" -j $o | jq -S 'def clean: del(.prog_id, .slot, .ifindex, .uid_base,
			.fibsync_pid, .supervisor_pid, .nexthop, .rx_packets, .tx_packets,
			.drop_packets, .rx_ring_full, .rx_dropped, .tx_invalid, .wakeups,
			.idle_sleeps, .alive);
			if type == "array" then map(clean) | sort_by(tostring) else clean end'
	done
	for r in red green af blue; do
		echo "== route $r"
		"$XVR" -n "$NODE" -j route list $r | jq -S 'map(del(.nexthop)) | sort_by(.prefix)'
	done
	for m in routers classify cls_prefix fe_sets; do
		echo "== map $m"
		bpftool -j map dump pinned "/sys/fs/bpf/xvr/$NODE/$m" |
			jq -S 'map(select(.formatted) | .formatted) | sort_by(tostring)'
	done
}
snapshot >"$CONF.a"
t_check "the snapshot holds every object" test "$(grep -c '"name"\|"router"' "$CONF.a")" -ge 10
t_check "node down" "$XVR" -n "$NODE" node down
t_check "batch of the saved file" "$XVR" -n "$NODE" batch "$SAVED"
snapshot >"$CONF.b"
if diff -u "$CONF.a" "$CONF.b" >/dev/null; then
	t_ok "save, down, batch: the same node (listings and maps)"
else
	t_fail "save, down, batch: the node differs"
	diff -u "$CONF.a" "$CONF.b" | head -20 | sed 's/^/    /'
fi
"$XVR" -n "$NODE" node save >"$CONF.b"
t_check "and it saves to the same file" diff "$SAVED" "$CONF.b"

# Errors: the first failing line stops the batch and is named; -force runs
# every line and fails at the end.
printf 'router add r9 fibsync off\nroute add r9 10.0.0.0/33 blackhole\nrouter add r10 fibsync off\n' >"$CONF.bad"
out=$("$XVR" -n "$NODE" -b "$CONF.bad" 2>&1); rc=$?
t_check "a failing line fails the batch" test "$rc" -ne 0
t_check "... naming the file and line 2" grep -q "$CONF.bad:2: command failed" <<<"$out"
t_check "... the line before it ran" "$XVR" -n "$NODE" router show r9
t_fails "... the line after it did not" "$XVR" -n "$NODE" router show r10
"$XVR" -n "$NODE" router del r9
out=$("$XVR" -n "$NODE" -force -b "$CONF.bad" 2>&1); rc=$?
t_check "-force: the batch still fails" test "$rc" -ne 0
t_check "-force: says how many failed" grep -q "1 command(s) failed" <<<"$out"
t_check "-force: the line after the error ran" "$XVR" -n "$NODE" router show r10
printf 'router add r11 fibsync off\nbatch %s\n' "$CONF" >"$CONF.bad"
t_fails "a batch cannot run another" "$XVR" -n "$NODE" batch "$CONF.bad"
printf 'router add "r12 fibsync off\n' >"$CONF.bad"
out=$("$XVR" -n "$NODE" batch "$CONF.bad" 2>&1)
t_check "an unterminated quote is named with its line" grep -q "$CONF.bad:1: unterminated quote" <<<"$out"
t_fails "a missing file fails" "$XVR" -n "$NODE" batch "/tmp/$T_P.none"
t_check "batch from stdin" sh -c "echo 'router add r13 fibsync off' | '$XVR' -n '$NODE' batch -"
t_check "... ran" "$XVR" -n "$NODE" router show r13
