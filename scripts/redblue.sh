# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The red/blue topology of the demo and the end-to-end tests: one xvr node,
# two ports, two virtual routers that use the same tenant addresses and are
# told apart by destination MAC. Hosts sit behind macvlans at each site:
#
#   ns A-red  10.1.1.2 ┐                         ┌ ns B-red  10.2.1.2
#                      ├ site A ── port p0 ─ xvr ─ port p1 ── site B ┤
#   ns A-blue 10.1.1.2 ┘          (red, blue)                        └ ns B-blue 10.2.1.2
#
# Source it; RB_P is the name prefix (≤ 6 chars), RB_NODE the xvr node,
# RB_MODE the routers' mode: xdp (default; routes given to xvr) or netns
# (each router gets VIFs e0/e1 with its MACs, and its namespace's own stack
# routes). Callers register cleanup themselves (redblue_down).

: "${XVR:?XVR must point at build/xvr}"

rb_mac() {	# rb_mac ROUTER(a|b) SITE(1|2) HOST(1 router, 2 host)
	printf '02:00:00:0%s:0%s:0%s' "$1" "$2" "$3"
}

redblue_names() {
	RB_SA=${RB_P}sa RB_SB=${RB_P}sb
	RB_P0=${RB_P}p0 RB_P1=${RB_P}p1
	RB_HOSTS=("${RB_P}ra" "${RB_P}ba" "${RB_P}rb" "${RB_P}bb")
}

# rb_host NS SITE_NS MAC ADDR4 GW4 ADDR6 GW6 GWMAC
rb_host() {
	local ns=$1 site=$2 mac=$3
	ip netns add "$ns" && ip -n "$ns" link set lo up &&
	ip -n "$site" link add link eth0 name "h$ns" address "$mac" type macvlan mode bridge &&
	ip -n "$site" link set "h$ns" netns "$ns" &&
	ip -n "$ns" link set "h$ns" name eth0 &&
	ip -n "$ns" link set eth0 up &&
	ip -n "$ns" addr add "$4/24" dev eth0 &&
	ip -n "$ns" addr add "$6/64" dev eth0 nodad &&
	ip -n "$ns" route add default via "$5" &&
	ip -n "$ns" -6 route add default via "$7" &&
	ip -n "$ns" neigh add "$5" lladdr "$8" dev eth0 nud permanent &&
	ip -n "$ns" -6 neigh add "$7" lladdr "$8" dev eth0 nud permanent
}

redblue_up() {
	local x="$XVR -n $RB_NODE" r c
	redblue_names
	for site in "$RB_SA" "$RB_SB"; do
		ip netns add "$site" && ip -n "$site" link set lo up || return 1
	done
	for pair in "$RB_P0:$RB_SA" "$RB_P1:$RB_SB"; do
		local port=${pair%%:*} site=${pair##*:}
		ip link add "$port" type veth peer name "${port}x" &&
		ip link set "${port}x" netns "$site" &&
		ip -n "$site" link set "${port}x" name eth0 &&
		ip link set "$port" up && ip -n "$site" link set eth0 up &&
		# Frames XDP-redirected into a veth need NAPI on the receiving end.
		ip netns exec "$site" ethtool -K eth0 gro on >/dev/null &&
		# A frame that leaves a veth through XDP loses the kernel's
		# "checksum still to be filled in" state: senders must fill it.
		ip netns exec "$site" ethtool -K eth0 tx off >/dev/null || return 1
	done
	# Hosts: router letter a (red) / b (blue), site 1 (A) / 2 (B).
	rb_host "${RB_P}ra" "$RB_SA" "$(rb_mac a 1 2)" 10.1.1.2 10.1.1.1 2001:db8:1::2 2001:db8:1::1 "$(rb_mac a 1 1)" &&
	rb_host "${RB_P}ba" "$RB_SA" "$(rb_mac b 1 2)" 10.1.1.2 10.1.1.1 2001:db8:1::2 2001:db8:1::1 "$(rb_mac b 1 1)" &&
	rb_host "${RB_P}rb" "$RB_SB" "$(rb_mac a 2 2)" 10.2.1.2 10.2.1.1 2001:db8:2::2 2001:db8:2::1 "$(rb_mac a 2 1)" &&
	rb_host "${RB_P}bb" "$RB_SB" "$(rb_mac b 2 2)" 10.2.1.2 10.2.1.1 2001:db8:2::2 2001:db8:2::1 "$(rb_mac b 2 1)" ||
		return 1

	$x node up && $x port add "$RB_P0" && $x port add "$RB_P1" || return 1
	for r in red:a blue:b; do
		local name=${r%%:*} l=${r##*:}
		if [ "${RB_MODE:-xdp}" = netns ]; then
			redblue_netns_router "$name" "$l" || return 1
			continue
		fi
		$x router add "$name" &&
		$x classify add "$name" mac "$(rb_mac "$l" 1 1)" port "$RB_P0" &&
		$x classify add "$name" mac "$(rb_mac "$l" 2 1)" port "$RB_P1" &&
		$x route add "$name" 10.1.0.0/16 via 10.1.1.2 lladdr "$(rb_mac "$l" 1 2)" dev "$RB_P0" &&
		$x route add "$name" 10.2.0.0/16 via 10.2.1.2 lladdr "$(rb_mac "$l" 2 2)" dev "$RB_P1" &&
		$x route add "$name" 2001:db8:1::/48 via 2001:db8:1::2 lladdr "$(rb_mac "$l" 1 2)" dev "$RB_P0" &&
		$x route add "$name" 2001:db8:2::/48 via 2001:db8:2::2 lladdr "$(rb_mac "$l" 2 2)" dev "$RB_P1" ||
			return 1
	done
}

# A netns-mode router: VIFs e0 (site A) and e1 (site B) carrying its MACs,
# addresses and forwarding configured inside its namespace.
redblue_netns_router() {
	local x="$XVR -n $RB_NODE" name=$1 l=$2 ns="xvr-$RB_NODE-$1"
	$x router add "$name" mode netns &&
	$x vif add "$name" e0 port "$RB_P0" mac "$(rb_mac "$l" 1 1)" &&
	$x vif add "$name" e1 port "$RB_P1" mac "$(rb_mac "$l" 2 1)" &&
	ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 &&
	ip -n "$ns" addr add 10.1.1.1/24 dev e0 &&
	ip -n "$ns" addr add 10.2.1.1/24 dev e1 &&
	ip -n "$ns" addr add 2001:db8:1::1/64 dev e0 nodad &&
	ip -n "$ns" addr add 2001:db8:2::1/64 dev e1 nodad &&
	# Both tenants' hosts share each site's LAN (this kernel has no VLAN
	# devices to split it), so neither side ARPs: the other tenant's host
	# would answer too.
	ip -n "$ns" neigh add 10.1.1.2 lladdr "$(rb_mac "$l" 1 2)" dev e0 nud permanent &&
	ip -n "$ns" neigh add 10.2.1.2 lladdr "$(rb_mac "$l" 2 2)" dev e1 nud permanent &&
	ip -n "$ns" neigh add 2001:db8:1::2 lladdr "$(rb_mac "$l" 1 2)" dev e0 nud permanent &&
	ip -n "$ns" neigh add 2001:db8:2::2 lladdr "$(rb_mac "$l" 2 2)" dev e1 nud permanent
}

redblue_down() {
	redblue_names
	# Each step may find nothing to remove; that is not an error.
	$XVR -n "$RB_NODE" node down >/dev/null 2>&1 || true
	ip link del "$RB_P0" 2>/dev/null || true
	ip link del "$RB_P1" 2>/dev/null || true
	for ns in "${RB_HOSTS[@]}" "$RB_SA" "$RB_SB"; do
		ip netns del "$ns" 2>/dev/null || true
	done
	rmdir /sys/fs/bpf/xvr 2>/dev/null || true
}
