#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# What an operator sees from the command line: messages that name the bad
# token and say what is wrong, one message for a word too many, 'xvr top'
# output fit for a pipe, version, and a host left without routing daemons
# of its own by scripts/setup.sh.
set -u
. "$(dirname "$0")/../lib.sh"
t_init cli
t_need jq ip

NODE=$T_P
# t_msg DESCRIPTION WANT COMMAND...: fails, and stderr contains WANT.
t_msg() {
	local what=$1 want=$2 out; shift 2
	if out=$("$@" 2>&1); then
		t_fail "$what: succeeded (command: $*)"
	elif [[ "$out" == *"$want"* ]]; then
		t_ok "$what"
	else
		t_fail "$what: got '$out' want '$want'"
	fi
}

t_msg "an unknown object points at 'xvr help'" "unknown object 'bogus' (try 'xvr help')" \
	"$XVR" bogus list
t_msg "an unknown command points at its object's help" "(try 'xvr router help')" \
	"$XVR" router bogus
t_msg "node down on a node that is not up says so" "not up" "$XVR" -n "$NODE" node down
out=$("$XVR" -n "$NODE" node down 2>&1)
t_eq "... without suggesting 'node up'" "${out/node up/}" "$out"
t_fails "a locking command on a node that is not up fails" "$XVR" -n "$NODE" router add r1
t_check "... and leaves no lock file behind" test ! -e "/run/xvr/$NODE.lock"

# Version: the build's (the VERSION file, or git describe of a tag) and,
# once the node is up, the ABI of its pinned state.
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
v=$("$XVR" -n "$NODE" -j version)
t_check "xvr -V and xvr version agree" test "$("$XVR" -n "$NODE" -V)" = "$("$XVR" -n "$NODE" version)"
want=$(git -C "$ROOT" describe --tags 2>/dev/null || cat "$ROOT/VERSION")
t_check "the version is the build's ($want…)" test "${v}" != "${v/\"version\":\"$want/}"
t_eq "no pinned state before node up" "$(jq -r .abi <<<"$v")" "none (not up)"
t_msg "version takes no argument" "unexpected argument 'extra'" "$XVR" version extra

t_node "$NODE" >/dev/null
abi=$("$XVR" -n "$NODE" -j version | jq -r .abi)
want=$(awk '$2 == "XVR_ABI_VERSION" { print $3 }' "$(dirname "$0")/../../include/xvr/xvr.h")
t_eq "the node's pins carry this xvr's ABI version" "$abi" "$want"
ip link add "${T_P}a" type veth peer name "${T_P}b" && T_LINKS+=("${T_P}a")
"$XVR" -n "$NODE" port add "${T_P}a" >/dev/null
"$XVR" -n "$NODE" router add r1 mode xdp fibsync off >/dev/null
"$XVR" -n "$NODE" vif add r1 e0 port "${T_P}a" >/dev/null

# Each invalid prefix says what is wrong with it, in route and classify alike.
while IFS='|' read -r pfx want; do
	t_msg "route: $pfx: $want" "$want" "$XVR" -n "$NODE" route add r1 "$pfx" blackhole
	t_msg "classify: $pfx: $want" "$want" "$XVR" -n "$NODE" classify add r1 prefix "$pfx"
done <<'EOF'
10.0.0.0/33|prefix length 33 is out of range 0-32
2001:db8::/129|prefix length 129 is out of range 0-128
300.1.1.0/24|'300.1.1.0' is not an IPv4 or IPv6 address
10.0.0.0/x|prefix length 'x' is not a number 0-32
10.0.0.1/8|host bits set: the network is 10.0.0.0/8
2001:db8::1/32|host bits set: the network is 2001:db8::/32
EOF
t_eq "no route was added" "$("$XVR" -n "$NODE" -j route list r1 | jq length)" 0

# A word too many: the same message whether or not another word follows it,
# and the command changes nothing.
while read -r cmd; do
	a=$("$XVR" -n "$NODE" $cmd extra 2>&1)
	b=$("$XVR" -n "$NODE" $cmd extra foo 2>&1)
	if [[ "$a" == *"unexpected argument 'extra'"* && "$a" == "$b" ]]; then
		t_ok "'$cmd extra [foo]': unexpected argument 'extra'"
	else
		t_fail "'$cmd extra' says '$a', '$cmd extra foo' says '$b'"
	fi
done <<EOF
node up
node show
node set miss drop
port add ${T_P}b
port del ${T_P}a
port list
router add r2
router del r1
router show r1
router set r1 dist rr
router list
vif add r1 e1 port ${T_P}a
vif del r1 e0
vif list r1
classify add r1 default port ${T_P}a
classify list r1
route add r1 10.9.0.0/16 blackhole
route del r1 10.9.0.0/16
route get r1 10.9.0.1
route list r1
route flush r1
fe del r1 1
fe list r1
fibsync r1 show
stats r1
EOF
t_eq "the rejected commands changed nothing: routers" \
	"$("$XVR" -n "$NODE" -j router list | jq -r '[.[].name] | join(",")')" r1
t_eq "... ports" "$("$XVR" -n "$NODE" -j port list | jq length)" 1
t_eq "... VIFs" "$("$XVR" -n "$NODE" -j vif list | jq length)" 1
t_eq "... miss policy" "$("$XVR" -n "$NODE" -j node show | jq -r .miss)" pass

# xvr doctor: a veth port whose peer has no NAPI is a problem, named with
# its fix, and the exit status says so; with GRO on the peer it is not.
ip link set "${T_P}b" up
ethtool -K "${T_P}b" gro off
out=$("$XVR" -n "$NODE" doctor); rc=$?
t_check "doctor: exit status 1 with a problem" test "$rc" = 1
t_check "doctor: names the port's peer without NAPI" grep -q "FAIL veth peer .*peer ${T_P}b has no NAPI" <<<"$out"
t_check "doctor: says how to fix it" grep -q "fix: ethtool -K ${T_P}b gro on" <<<"$out"
t_check "doctor: checks kernel BTF, bpffs, cgroups, XDP helpers" \
	test "$(grep -cE '^ok   (btf|bpffs|cgroup|helper) ' <<<"$out")" -ge 6
ethtool -K "${T_P}b" gro on
t_check "doctor: exit status 0 once fixed" "$XVR" -n "$NODE" doctor
t_eq "doctor -j: the port's finding" \
	"$("$XVR" -n "$NODE" -j doctor | jq -r '.[] | select(.check == "veth peer") | .status')" ok

# 'xvr top' into a pipe: the header and counters, no terminal escapes.
out=$(timeout 3 "$XVR" -n "$NODE" top interval 100 | head -c 4000)
t_check "top into a pipe prints counters" grep -q "router r1" <<<"$out"
if [[ "$out" == *$'\033'* ]]; then t_fail "top into a pipe writes escapes"; else
	t_ok "top into a pipe writes no escapes"; fi

# scripts/setup.sh leaves no routing daemon enabled on the host: xvr runs
# them inside routers' namespaces.
for unit in bird.service frr.service; do
	wants=$(ls /etc/systemd/system/*.wants/"$unit" 2>/dev/null)
	t_eq "$unit is not enabled on the host" "$wants" ""
done
host_ns=$(readlink /proc/self/ns/net)
daemons=""
for pid in $(pgrep -x bird; pgrep -x zebra; pgrep -x ospfd; pgrep -x bgpd; pgrep -x watchfrr); do
	[ "$(readlink /proc/$pid/ns/net 2>/dev/null)" = "$host_ns" ] && daemons+=" $pid"
done
t_eq "no BIRD or FRR daemon runs in the host namespace" "$daemons" ""
