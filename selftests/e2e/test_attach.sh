#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The ingress object attaches with the standard tools too: xdp-loader
# (libxdp, honouring its XDP_RUN_CONFIG) and 'ip link set … xdp obj'. Loaded
# that way, without an xvr node behind it, it passes every frame.
set -u
. "$(dirname "$0")/../lib.sh"
t_init attach
t_need xdp-loader ethtool ping
OBJ=$(dirname "$XVR")/xvr_ingress.bpf.o

t_netns "${T_P}h"
t_veth "${T_P}a" "${T_P}h" eth0
# An address of this run's own, so parallel runs and other setups don't clash.
NET=100.127.$(( 0x$T_ID % 250 ))
ip addr add "$NET.1/24" dev "${T_P}a"
ip -n "${T_P}h" addr add "$NET.2/24" dev eth0

t_check "xdp-loader load (native)" xdp-loader load -m native "${T_P}a" "$OBJ"
t_check "xdp-loader status lists xvr_ingress" sh -c "xdp-loader status ${T_P}a | grep -q xvr_ingress"
t_check "traffic passes with no node behind the program" ip netns exec "${T_P}h" ping -c 2 -i 0.2 -W 1 $NET.1
t_check "xdp-loader unload" xdp-loader unload -a "${T_P}a"

t_check "ip link set xdp obj" ip link set dev "${T_P}a" xdp obj "$OBJ" sec xdp
t_check "ip link shows the program" sh -c "ip -d link show ${T_P}a | grep -q prog/xdp"
t_check "traffic passes" ip netns exec "${T_P}h" ping -c 2 -i 0.2 -W 1 $NET.1
t_check "ip link set xdp off" ip link set dev "${T_P}a" xdp off

# xvr's own attach: bpf_link, so a second attach by others is refused.
NODE=$T_P
t_node "$NODE" && t_check "xvr port add" "$XVR" -n "$NODE" port add "${T_P}a"
t_fails "a foreign program cannot replace xvr's link" ip link set dev "${T_P}a" xdp obj "$OBJ" sec xdp
t_fails "port add of the same port again" "$XVR" -n "$NODE" port add "${T_P}a"
t_check "xvr port del detaches" "$XVR" -n "$NODE" port del "${T_P}a"
t_fails "no program left" sh -c "ip -d link show ${T_P}a | grep -q prog/xdp"
t_check "generic mode attach" "$XVR" -n "$NODE" port add "${T_P}a" mode generic
t_eq "port list says generic" "$("$XVR" -n "$NODE" -j port list | jq -r '.[0].mode')" generic
