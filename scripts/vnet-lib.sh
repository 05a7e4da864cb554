# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Shared by scripts/demo-vnet.sh and scripts/bench/links-converge.sh: nodes
# that are machines of their own on one underlay switch. Source it with
# XVR and ROOT set.

# vnet_switch NS: the switch, a bridge br0 in namespace NS.
vnet_switch() {
	ip netns add "$1" && ip -n "$1" link set lo up
	ip -n "$1" link add br0 type bridge && ip -n "$1" link set br0 up
}

# vnet_machine SWITCH_NS MACHINE_NS NODE I SUBNET: the machine's namespace
# with underlay port u0 (SUBNET.I/24) on the switch (port swI), node NODE
# up in it with u0 as its port.
vnet_machine() {
	local sw=$1 m=$2 node=$3 i=$4 net=$5
	ip netns add "$m" && ip -n "$m" link set lo up
	ip -n "$m" link add u0 type veth peer name "sw$i" netns "$sw"
	ip -n "$sw" link set "sw$i" master br0 up
	# NAPI for the frames xvr redirects onto the switch (an XDP program
	# gives it), no GRO.
	ip netns exec "$sw" ethtool -K "sw$i" gro off >/dev/null
	ip -n "$sw" link set dev "sw$i" xdp obj "$ROOT/build/xvr_ingress.bpf.o" sec xdp
	ip -n "$m" addr add "$net.$i/24" dev u0 && ip -n "$m" link set u0 up
	"$XVR" -n "$node" node up netns "$m" >/dev/null
	"$XVR" -n "$node" port add u0
}

# vnet_ospf_conf FILE ROUTER_ID HELLO DEAD: BIRD OSPF over a ring router's
# links "next" and "prev" (point-to-point), its "lan" a stub.
vnet_ospf_conf() {
	cat >"$1" <<CONF
router id $2;
protocol device { scan time 1; }
protocol kernel { ipv4 { export all; import none; }; learn; scan time 1; }
protocol ospf v2 ospf1 {
	ipv4 { import all; export none; };
	area 0 {
		interface "next", "prev" { type ptp; hello $3; dead $4; };
		interface "lan" { stub yes; };
	};
}
CONF
}
