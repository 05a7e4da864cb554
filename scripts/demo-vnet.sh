#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# A virtual network over four nodes (make demo-vnet). Each node is a
# machine of its own: a network namespace with one underlay port on a
# shared switch (a bridge) and its own xvr node ('xvr node up netns').
# Two tenants, red and blue, use the same addresses: each has a router on
# every node, the four joined in a ring of EGRE links (keys chosen per link
# and tenant), BIRD OSPF over the ring, and a host behind every router.
# The hosts ping across the ring; then link 1-2 of red is cut and OSPF
# routes around it. Everything it creates is removed at the end.
#
#            n1 ── n2          link i joins node i and node i+1:
#            │      │          red key 100+i, blue key 200+i,
#            n4 ── n3          10.255.i.0/30 in both tenants
set -eu
cd "$(dirname "$0")/.."
XVR=$PWD/build/xvr
ROOT=$PWD
. scripts/vnet-lib.sh
P=vnet
RUN=/run/xvr-$P
TENANTS=(red blue)
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
x() { local n=$1; shift; "$XVR" -n "$P$n" "$@"; }
wait_for() {	# wait_for SECONDS COMMAND…
	local end=$(( $(date +%s) + $1 )); shift
	until "$@" >/dev/null 2>&1; do [ "$(date +%s)" -ge "$end" ] && return 1; sleep 0.5; done
}

down() {
	[ -f "$RUN/birds" ] && while read -r pid; do kill "$pid" 2>/dev/null || true; done <"$RUN/birds"
	for i in 1 2 3 4; do
		[ -d "/sys/fs/bpf/xvr/$P$i" ] && "$XVR" -n "$P$i" node down >/dev/null 2>&1 || true
	done
	for ns in $(ip netns list | awk '{print $1}' | grep -E "^$P-" || true); do ip netns del "$ns"; done
	rm -rf "$RUN"
}
trap down EXIT
down	# leftovers of an interrupted run
mkdir -p "$RUN"

step "Four machines on one underlay switch, each an xvr node of its own"
vnet_switch $P-sw
for i in 1 2 3 4; do
	vnet_machine $P-sw $P-m$i $P$i $i 192.168.90
done
x 1 node list

step "Two tenants, a router each on every node, hosts with the same addresses"
for i in 1 2 3 4; do
	for t in "${TENANTS[@]}"; do
		h=$P-$t$i
		ip netns add $h && ip -n $h link set lo up
		ip -n $P-m$i link add ${t:0:1}h$i type veth peer name eth0 netns $h
		ip -n $P-m$i link set ${t:0:1}h$i up && ip -n $h link set eth0 up
		ip netns exec $h ethtool -K eth0 gro on tx off >/dev/null
		ip -n $h addr add 10.0.$i.2/24 dev eth0 && ip -n $h route add default via 10.0.$i.1
		x $i port add ${t:0:1}h$i
		x $i router add $t mode xdp
		x $i vif add $t lan port ${t:0:1}h$i
		ip -n xvr-$P$i-$t addr add 10.0.$i.1/24 dev lan
		ip netns exec xvr-$P$i-$t sysctl -qw net.ipv4.ip_forward=1
	done
done

step "A ring of EGRE links per tenant: link i joins node i and node i+1"
for i in 1 2 3 4; do
	j=$(( i % 4 + 1 ))
	for t in "${TENANTS[@]}"; do
		[ "$t" = red ] && key=$((100 + i)) || key=$((200 + i))
		x $i link add $t next egre local 192.168.90.$i remote 192.168.90.$j key $key
		x $j link add $t prev egre local 192.168.90.$j remote 192.168.90.$i key $key
		ip -n xvr-$P$i-$t addr add 10.255.$i.1/30 dev next && ip -n xvr-$P$i-$t link set next up
		ip -n xvr-$P$j-$t addr add 10.255.$i.2/30 dev prev && ip -n xvr-$P$j-$t link set prev up
	done
done
x 1 link list

step "BIRD OSPF in every router, over the links"
: >"$RUN/birds"
for i in 1 2 3 4; do
	for t in "${TENANTS[@]}"; do
		vnet_ospf_conf "$RUN/$t$i.conf" 10.0.$i.1 1 4
		# The config is handed in; the control socket is in the router's own /run.
		"$XVR" -n $P$i router exec $t --bind "$RUN/$t$i.conf:/run/bird/bird.conf" -- \
			bird -f -c /run/bird/bird.conf -s /run/bird/bird.ctl >"$RUN/$t$i.log" 2>&1 &
		echo $! >>"$RUN/birds"
	done
done
for t in "${TENANTS[@]}"; do
	for i in 1 2 3 4; do
		wait_for 60 sh -c "[ \$(ip -n xvr-$P$i-$t route | grep -c 'proto bird') -ge 5 ]" ||
			{ echo "$t$i: OSPF did not converge" >&2; exit 1; }
	done
done
echo "OSPF converged in both tenants: every router has a route to every LAN and link"
ip -n xvr-${P}1-red route | grep bird

step "Hosts ping across the ring (node 1's host to every other LAN, both tenants)"
fail=0
for t in "${TENANTS[@]}"; do
	for i in 2 3 4; do
		if ip netns exec $P-${t}1 ping -c 3 -i 0.2 -W 1 10.0.$i.2 >/dev/null; then r=ok; else r=FAIL fail=1; fi
		printf '  %-5s %s1 -> %s%d (10.0.%d.2): %s\n' "$t" "$t" "$t" "$i" "$i" "$r"
	done
done

step "Red's link 1-2 cut: OSPF routes red around the ring; blue is untouched"
x 1 link del red next
wait_for 30 ip netns exec $P-red1 ping -c 1 -W 1 10.0.2.2 &&
	echo "  red1 -> red2 again, now the long way: $(ip -n xvr-${P}1-red route get 10.0.2.2 | head -1)" ||
	{ echo "  red did not reconverge" >&2; fail=1; }
ip netns exec $P-blue1 ping -c 1 -W 1 10.0.2.2 >/dev/null && echo "  blue1 -> blue2: ok" || fail=1

step "What the links carried (node 1)"
for t in "${TENANTS[@]}"; do
	for l in next prev; do
		x 1 -j link list $t | grep -q "\"$l\"" || continue
		x 1 -j stats link $t $l interval 0 |
			python3 -c 'import json,sys; s=json.load(sys.stdin)[0]; print("  %-5s %-5s decapsulated %6d  encapsulated %6d  dropped %d" % (sys.argv[1], sys.argv[2], s["rx_packets"], s["tx_packets"], s["drop_packets"]))' $t $l
	done
done
[ "$fail" = 0 ] && step "Done: everything is removed now" || { echo "demo-vnet: some pings failed" >&2; exit 1; }
