# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Experiment 4: number of virtual routers. Sourced by scripts/bench.sh; the
# point routers:N runs N xdp-mode routers r1..rN (fibsync off) on the two
# DUT ports. Router K owns the K-th /24 of 198.18.0.0/15: a classifier rule
# (prefix, on port A) hands it the frames for that /24, and its own FIB
# holds its own route for it to the sink via port B. xvr-pktgen's
# destination list (-f) spreads the frames over all N routers (the same
# number of addresses in each /24, shuffled). Aggregate delivered rate,
# REPS accounted runs; setting the routers up and tearing them down (their
# namespaces xvr-NODE-rK included) is timed and recorded.
#
# routers:N-netns is the same count in netns mode; see xp_routers_netns.

. "$ROOT/scripts/bench/scale-lib.sh"

# Destination addresses: at least ROUTERS_DSTS, and 4 per router.
ROUTERS_DSTS=${ROUTERS_DSTS:-1024}

# routers_xdp_setup N: node, ports, N routers with their rule and route.
routers_xdp_setup() {
	local n=$1 k pfx
	xvr_ports_up || return 1
	for k in $(seq 1 "$n"); do
		pfx=$(scale_prefix $((k - 1)))/24
		"$XVR" -n "$NODE" router add "r$k" id "$k" mode xdp fibsync off &&
		"$XVR" -n "$NODE" classify add "r$k" prefix "$pfx" port "${P}a" &&
		"$XVR" -n "$NODE" route add "r$k" "$pfx" via $GW_SINK \
			lladdr $MAC_S dev "${P}b" || return 1
	done
}

# xp_routers N[-MODE]  (MODE xdp, the default, or netns)
xp_routers() {
	local arg=$1 n mode name desc reason ndst
	n=${arg%%-*}
	mode=xdp
	[ "$arg" != "$n" ] && mode=${arg#*-}
	[[ "$n" =~ ^[0-9]+$ ]] && [ "$n" -ge 1 ] && [ "$n" -le 1023 ] ||
		die "routers:$arg: want a router count of 1..1023"
	[ "$n" -le 512 ] || die "routers:$arg: at most 512 routers (one /24 of 198.18.0.0/15 each)"
	name=routers-$n-$mode
	case $mode in
	xdp) ;;
	netns) xp_routers_netns "$n"; return 0 ;;
	*) die "routers:$arg: mode xdp or netns" ;;
	esac
	ndst=$(( n * 4 > ROUTERS_DSTS ? n * 4 : ROUTERS_DSTS ))
	desc="xvr, $n router(s) in xdp mode (fibsync off), each with its own FIB holding one route (its /24 of 198.18.0.0/15, to the sink via port B) and a classifier rule (that /24, on port A); $ndst destinations, as many in each router's /24, used in turn: traffic spread over all $n router(s). Aggregate delivered rate"
	if ! reason=$(xvr_ready); then
		scale_not_measured "$name" routers "$mode" "$n" "$desc" "$reason"
		return 0
	fi
	log "$name: $n xdp-mode router(s), $REPS x ${DURATION}s"
	topo_up ""
	scale_dsts "$ndst" "$n" "$TMP/routers-dsts.txt"
	scale_point "$name" routers xdp "$n" "$desc" "$TMP/routers-dsts.txt" \
		"$(jq -n --argjson n "$n" --argjson d "$ndst" '{routers: $n, destinations: $d}')" \
		routers_xdp_setup "$n"
}

# netns mode: a router's frames reach its namespace through a VIF, found by
# the VIF's MAC. Router K (nK, id K) has VIF e0 on port A with MAC
# 02:00:00:0a:HH:LL and e1 on port B with 02:00:00:0b:HH:LL, and its
# namespace forwards 198.19.0.0/16 to the sink (rns_config). xvr-pktgen's
# destination list carries the MAC with each address, so frames go to every
# router in turn. The VIFs' veths are not threaded: their NAPI runs in
# softirq on the DUT's CPU, in the thread that fed them (port A's, then the
# router's forwarding); their drops are counted.
routers_netns_setup() {
	local n=$1 k ns
	xvr_ports_up || return 1
	MX_DROPDEVS=()
	for k in $(seq 1 "$n"); do
		ns=xvr-$NODE-n$k
		"$XVR" -n "$NODE" router add "n$k" id "$k" mode netns || return 1
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
			net.ipv6.conf.default.disable_ipv6=1
		"$XVR" -n "$NODE" vif add "n$k" e0 port "${P}a" mac "$(scale_mac 0a "$k")" &&
		"$XVR" -n "$NODE" vif add "n$k" e1 port "${P}b" mac "$(scale_mac 0b "$k")" &&
		rns_config "$ns" e0 e1 || return 1
		MX_DROPDEVS+=("$ns:e0" "$ns:e1")
	done
	# The VIFs' host ends.
	while read -r d; do
		MX_DROPDEVS+=(":$d")
	done < <("$XVR" -n "$NODE" -j vif list | jq -r '.. | objects | select(.dev? != null) | .dev')
}

xp_routers_netns() {
	local n=$1 name=routers-$1-netns desc reason ndst k
	ndst=$(( n * 4 > ROUTERS_DSTS ? n * 4 : ROUTERS_DSTS ))
	desc="xvr, $n router(s) in netns mode, each a namespace with two VIFs (one per port, each with its own MAC) forwarding 198.19.0.0/16 to the sink; xvr-pktgen sends to each router's MAC on port A in turn ($ndst destinations). VIF veths unthreaded (softirq on the DUT's CPU). Aggregate delivered rate"
	if ! reason=$(xvr_ready); then
		scale_not_measured "$name" routers netns "$n" "$desc" "$reason"
		return 0
	fi
	log "$name: $n netns-mode router(s), $REPS x ${DURATION}s"
	topo_up ""
	for k in $(seq 0 $((ndst - 1))); do
		echo "198.19.$((k / 250 % 256)).$((k % 250 + 1)) $(scale_mac 0a $((k % n + 1)))"
	done >"$TMP/routers-dsts.txt"
	scale_point "$name" routers netns "$n" "$desc" "$TMP/routers-dsts.txt" \
		"$(jq -n --argjson n "$n" --argjson d "$ndst" '{routers: $n, destinations: $d}')" \
		routers_netns_setup "$n"
}
