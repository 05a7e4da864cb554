# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Experiment 5: virtual interfaces per router. Sourced by scripts/bench.sh;
# the point vifs:N runs one xdp-mode router (fibsync off) with N VIFs
# (N even, 2..4094), half on each DUT port, each with its own MAC (the
# first on port A has the MAC the generator sends to, the first on port B
# the DUT's usual one): every VIF is a veth into the router's namespace, a
# MAC classifier rule and an entry of the VIF and port maps. The router's
# destinations are split over its N/2 interfaces on port B: the J-th /24 of
# 198.18.0.0/15 routes to its own neighbour (its own MAC) on port B, and
# xvr-pktgen's destination list spreads the frames over all of them.
# Aggregate delivered rate, REPS accounted runs; VIF setup and teardown
# are timed and recorded.
#
# In xdp mode a nexthop names a port, not a VIF, so frames leave port B
# with the router's MAC there whichever neighbour they go to; what grows
# with N on the data path is the classifier's MAC rules, the VIF and
# devmap entries and the nexthops (N/2 neighbours).

. "$ROOT/scripts/bench/scale-lib.sh"

VIFS_DSTS=${VIFS_DSTS:-1024}	# destination addresses, at least 4 per neighbour

# vifs_setup N: node, ports, the router and its N VIFs and N/2 routes.
vifs_setup() {
	local n=$1 h=$(($1 / 2)) j mac
	xvr_ports_up &&
	"$XVR" -n "$NODE" router add bench id 1 mode xdp fibsync off || return 1
	VIF_NS=xvr-$NODE-bench
	ip netns exec "$VIF_NS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 || return 1
	for j in $(seq 0 $((h - 1))); do
		if [ "$j" = 0 ]; then mac=$MAC_A; else mac=$(scale_mac 11 "$j"); fi
		"$XVR" -n "$NODE" vif add bench "a$j" port "${P}a" mac "$mac" || return 1
		if [ "$j" = 0 ]; then mac=$MAC_B; else mac=$(scale_mac 12 "$j"); fi
		"$XVR" -n "$NODE" vif add bench "b$j" port "${P}b" mac "$mac" || return 1
		"$XVR" -n "$NODE" route add bench "$(scale_prefix "$j")/24" via $GW_SINK \
			lladdr "$(scale_mac 22 "$j")" dev "${P}b" || return 1
	done
}

# xp_vifs N
xp_vifs() {
	local n=$1 name=vifs-$1 desc reason ndst h maxv
	[[ "$n" =~ ^[0-9]+$ ]] && [ "$n" -ge 2 ] && [ $((n % 2)) = 0 ] && [ "$n" -le 1024 ] ||
		die "vifs:$n: want an even VIF count, 2..1024"
	h=$((n / 2))
	ndst=$(( h * 4 > VIFS_DSTS ? h * 4 : VIFS_DSTS ))
	desc="xvr, one router in xdp mode (fibsync off) with $n VIFs, $h on each port, each with its own MAC (a veth into the router's namespace and a MAC classifier rule); the generator sends to the first VIF on port A; $h routes (one /24 of 198.18.0.0/15 each) to $h neighbours on port B, one per VIF there; $ndst destinations, as many in each /24, used in turn. Aggregate delivered rate. In xdp mode a nexthop names a port, not a VIF: frames leave port B with the router's MAC there"
	if ! reason=$(xvr_ready); then
		scale_not_measured "$name" vifs xdp "$n" "$desc" "$reason"
		return 0
	fi
	# A node has VIF ids 1..XVR_MAX_VIFS - 1.
	maxv=$(awk '$2 == "XVR_MAX_VIFS" { print $3 }' "$ROOT/include/xvr/xvr.h")
	if [ -n "$maxv" ] && [ "$n" -ge "$maxv" ]; then
		scale_not_measured "$name" vifs xdp "$n" "$desc" "a node holds at most $((maxv - 1)) VIFs (XVR_MAX_VIFS)"
		return 0
	fi
	log "$name: one xdp-mode router with $n VIFs, $REPS x ${DURATION}s"
	topo_up ""
	scale_dsts "$ndst" "$h" "$TMP/vifs-dsts.txt"
	scale_point "$name" vifs xdp "$n" "$desc" "$TMP/vifs-dsts.txt" \
		"$(jq -n --argjson n "$n" --argjson d "$ndst" '
			{vifs: $n, vifs_per_port: ($n / 2), neighbours: ($n / 2), destinations: $d}')" \
		vifs_setup "$n"
}
