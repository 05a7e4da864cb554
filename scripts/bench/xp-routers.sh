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
	XVR_UP=1
	"$XVR" -n "$NODE" node up &&
	"$XVR" -n "$NODE" port add "${P}a" &&
	"$XVR" -n "$NODE" port add "${P}b" || return 1
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
	local arg=$1 n mode name desc reason="" t0 t_setup t_down extra ndst
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
	t0=$(scale_now)
	if ! routers_xdp_setup "$n" >"$TMP/xvr.log" 2>&1; then
		reason="xvr setup failed: $(tail -1 "$TMP/xvr.log")"
	fi
	t_setup=$(scale_since "$t0")
	log "$name: $n router(s) set up in ${t_setup}s"
	[ -z "$reason" ] && scale_runs "$name" -- -f "$TMP/routers-dsts.txt"
	t0=$(scale_now)
	xvr_teardown >/dev/null 2>&1
	t_down=$(scale_since "$t0")
	topo_down ""
	log "$name: torn down in ${t_down}s"
	extra=$(jq -n --argjson n "$n" --argjson d "$ndst" --argjson s "$t_setup" \
		--argjson td "$t_down" '
		{routers: $n, destinations: $d, setup_s: $s, teardown_s: $td,
		 setup_s_per_router: ($s / $n * 1000 | round / 1000)}')
	if [ -n "$reason" ]; then
		scale_not_measured "$name" routers "$mode" "$n" "$desc" "$reason" "$extra"
	else
		scale_record "$name" routers "$mode" "$n" "$desc" "$extra"
	fi
	return 0
}

# netns mode: a router's frames reach its namespace through a VIF, and a
# classifier rule names that VIF only if it is a MAC (or VLAN) rule: the
# prefix rule above carries no VIF. N netns routers on port A therefore
# need N destination MACs (or VLANs), which xvr-pktgen cannot vary (one -d
# MAC), and trafgen, which can, is itself the bottleneck (see bench.sh's
# L3GEN). Recorded as not measured with that reason.
xp_routers_netns() {
	local n=$1
	scale_not_measured "routers-$n-netns" routers netns "$n" \
		"xvr, $n router(s) in netns mode, two VIFs each" \
		"netns-mode routers are reached through a VIF, which only a MAC or VLAN classifier rule names (a prefix rule carries none); spreading frames over $n routers needs $n destination MACs, and xvr-pktgen sends to one"
}
