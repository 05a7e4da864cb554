#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# 'port add' warns when the port is a veth whose peer cannot receive
# XDP-redirected frames (down, or no NAPI: no XDP program and GRO off):
# the kernel drops what xvr forwards there and counts it nowhere. A peer
# with GRO on or an XDP program, in this namespace or another, is fine.
set -u
. "$(dirname "$0")/../lib.sh"
t_init port_peer
t_need ethtool ip jq
NODE=$T_P
x() { "$XVR" -n "$NODE" "$@"; }
t_netns "${T_P}n"
warns() { grep -c "no NAPI" "$1"; }
for i in 0 1 2 3; do
	ip link add "${T_P}p$i" type veth peer name eth$i netns "${T_P}n" && T_LINKS+=("${T_P}p$i") &&
		ip link set "${T_P}p$i" up || { t_fail "setup veth $i"; exit 1; }
done
ip link add "${T_P}q" type veth peer name "${T_P}qp" && T_LINKS+=("${T_P}q") &&
	ip link set "${T_P}q" up && ip link set "${T_P}qp" up || { t_fail "setup veth q"; exit 1; }
ip -n "${T_P}n" link set eth0 up				# GRO off, no XDP: drops
ip -n "${T_P}n" link set eth1 up
ip netns exec "${T_P}n" ethtool -K eth1 gro on >/dev/null	# NAPI by GRO
ip -n "${T_P}n" link set eth2 up
ip -n "${T_P}n" link set eth2 xdp object "$(dirname "$XVR")/xvr_ingress.bpf.o" sec xdp ||
	{ t_fail "setup: XDP program on eth2"; exit 1; }	# NAPI by XDP
ethtool -K "${T_P}qp" gro off >/dev/null			# peer here, no NAPI
t_node "$NODE" >/dev/null || { t_fail "node up"; exit 1; }
OUT=/tmp/.port_peer.$$
for p in p0 p1 p2 p3 q; do
	x port add "${T_P}$p" 2>"$OUT.$p"
	t_eq "port add ${T_P}$p succeeds" "$?" 0
done
t_eq "peer without NAPI in another netns: warned" "$(warns "$OUT.p0")" 1
t_eq "peer with GRO on: no warning" "$(warns "$OUT.p1")" 0
t_eq "peer with an XDP program: no warning" "$(warns "$OUT.p2")" 0
t_eq "peer down: warned" "$(warns "$OUT.p3")" 1
t_eq "peer without NAPI in this netns: warned" "$(warns "$OUT.q")" 1
rm -f "$OUT".*
# stats port: the kernel's transmit drops of the device, beside xvr's books.
t_eq "stats port shows the kernel's tx_dropped" \
	"$(x -j stats port "${T_P}p0" interval 0 | jq '.[0].kernel_tx_dropped')" \
	"$(cat "/sys/class/net/${T_P}p0/statistics/tx_dropped")"
t_check "stats port (text) says kernel tx-dropped" \
	sh -c "'$XVR' -n '$NODE' stats port '${T_P}p0' interval 0 | grep -q 'kernel tx-dropped'"
