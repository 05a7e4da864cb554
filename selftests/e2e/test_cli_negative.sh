#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# CLI negative matrix: each command with bad arguments (missing, extra,
# repeated keywords, wrong address family, out-of-range numbers, unknown
# names) exits non-zero, names the offending token, and leaves every map
# of the node byte-identical (a bpftool dump of all of them before and
# after the whole matrix).
set -u
. "$(dirname "$0")/../lib.sh"
t_init cli_negative
t_need jq ethtool bpftool
NODE=$T_P
P=${T_P}p0
P1=${T_P}p1
x() { "$XVR" -n "$NODE" "$@"; }

t_netns "${T_P}h0" && t_veth "$P" "${T_P}h0" eth0 && t_veth "$P1" "${T_P}h0" eth1 &&
	t_node "$NODE" >/dev/null && x port add "$P" && x router add r fibsync off >/dev/null &&
	x router add n mode netns >/dev/null && x vif add r e0 port "$P" >/dev/null &&
	x route add r 10.9.0.0/16 via 10.1.0.2 lladdr 02:00:00:00:00:01 dev "$P" ||
	{ t_fail "setup"; exit 1; }

# Every map of the node, raw bytes (no counters: frames may arrive
# meanwhile). The data path writes some maps itself: the limits' buckets
# (their configuration is compared through 'limit list' instead), the links'
# next-hop cache and learned MACs, the trace ring.
maps_dump() {
	{
		for m in /sys/fs/bpf/xvr/"$NODE"/*; do
			case ${m##*/} in
			vr_stats | port_stats | fe_state | rr | links | vif_links | fe | prog* | \
			limits | vlink_nh | vlink_fdb | vlink_stats | trace) continue ;;
			esac
			[ -f "$m" ] || continue
			echo "map dump pinned $m"
		done | bpftool batch file -
		x -j limit list
	} | sha256sum
}
before=$(maps_dump)

# bad TOKEN ARGS...: the command fails and its message names TOKEN.
bad() {
	local token=$1; shift
	local out
	if out=$(x "$@" 2>&1); then
		t_fail "xvr $* succeeded"
	elif [ -n "$token" ] && ! grep -qF -- "$token" <<<"$out"; then
		t_fail "xvr $*: message does not name '$token': $(head -1 <<<"$out")"
	else
		t_ok "xvr $* refused"
	fi
}

# node
bad extra node up extra
bad extra node down extra
bad maybe node set miss maybe
bad x node repair x
bad frob node frob
# port
bad nosuchdev0 port add nosuchdev0
bad weird port add "$P1" mode weird
bad mode port add "$P1" mode
bad mode port add "$P1" mode native mode generic
bad nosuchdev0 port del nosuchdev0
bad extra port del "$P" extra
bad "$P" port add "$P"
# router
bad 'bad!name' router add 'bad!name'
bad 0 router add r2 id 0
bad 1024 router add r2 id 1024
bad abc router add r2 id abc
bad -1 router add r2 id -1
bad warp router add r2 mode warp
bad maybe router add r2 fibsync maybe
bad id router add r2 id 5 id 6
bad mode router add r2 mode xdp mode netns
bad id router add r2 id
bad r router add r
bad nosuch router del nosuch
bad b router del r b
bad nope router set r dist nope
bad nosuch router set nosuch dist rr
# vif
bad nosuch vif add nosuch e0 port "$P"
bad nosuchdev0 vif add r e1 port nosuchdev0
bad zz vif add r e1 port "$P" mac zz
bad 5000 vif add r e1 port "$P" vlan 5000
bad port vif add r e1 port "$P" port "$P"
bad mac vif add r e1 port "$P" mac 02:00:00:00:00:0a mac 02:00:00:00:00:0b
bad e0 vif add r e0 port "$P"
bad frob vif add r e1 port "$P" frob 1
bad nosuch vif del r nosuch
# route
bad 10.0.0.0/33 route add r 10.0.0.0/33 blackhole
bad 10.0.0.300/8 route add r 10.0.0.300/8 blackhole
bad 2001:db8::1 route add r 10.1.0.0/16 via 2001:db8::1 lladdr 02:00:00:00:00:01 dev "$P"
bad 10.0.0.1 route add r 2001:db8:1::/48 via 10.0.0.1 lladdr 02:00:00:00:00:01 dev "$P"
bad dev route add r 10.1.0.0/16 via 10.1.0.2 lladdr 02:00:00:00:00:01 dev "$P" dev "$P1"
bad via route add r 10.1.0.0/16 via 10.1.0.2 via 10.1.0.3 lladdr 02:00:00:00:00:01 dev "$P"
bad lladdr route add r 10.1.0.0/16 via 10.1.0.2 lladdr 02:00:00:00:00:01 lladdr 02:00:00:00:00:02 dev "$P"
bad 4096 route add r 10.1.0.0/16 via 10.1.0.2 lladdr 02:00:00:00:00:01 dev "$P" vlan 4096
bad nosuch route add nosuch 10.1.0.0/16 blackhole
bad 10.99.0.0/16 route del r 10.99.0.0/16
bad 10.9.0.0/16 route add r 10.9.0.0/16 blackhole
bad /nonexistent route load r /nonexistent
bad n route add n 10.1.0.0/16 blackhole
# classify
bad nosuch classify add nosuch vlan 7 port "$P"
bad 5000 classify add r vlan 5000 port "$P"
bad 70000 classify add r udp-port 70000 port "$P"
bad nosuchdev0 classify add r vlan 7 port nosuchdev0
bad port classify add r vlan 7 port "$P" port "$P"
bad default classify add r default
bad frob classify add r frob 1
# fe, stats, fibsync
bad r fe add r
bad nosuch fe del r nosuch
bad nosuch stats nosuch
bad abc stats r interval abc
bad nosuch fibsync nosuch check
bad frob fibsync r frob

t_eq "every map byte-identical after the whole matrix" "$(maps_dump)" "$before"
