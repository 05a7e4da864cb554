#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# FIB at scale through the CLI: 170,000 IPv4 prefixes load in under 2 s,
# 1,000,000 IPv4 and 200,000 IPv6 prefixes load, 'route get' agrees with a
# reference longest-prefix match, and reloading under traffic never misses.
set -u
. "$(dirname "$0")/../lib.sh"
t_init fib_scale
t_need jq ethtool ping
GEN="$PY $(dirname "$0")/../../scripts/gen-table.py"
NODE=$T_P
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"; t_cleanup' EXIT
x() { "$XVR" -n "$NODE" "$@"; }

# h1 (10.1.1.2) ── p0 ─ router big ─ p1 ── h2 (10.2.1.2)
t_netns "${T_P}h1" && t_netns "${T_P}h2"
t_veth "${T_P}p0" "${T_P}h1" eth0 && t_veth "${T_P}p1" "${T_P}h2" eth0
h1mac=$(ip -n "${T_P}h1" -j link show eth0 | jq -r '.[0].address')
h2mac=$(ip -n "${T_P}h2" -j link show eth0 | jq -r '.[0].address')
p0mac=$(ip -j link show "${T_P}p0" | jq -r '.[0].address')
p1mac=$(ip -j link show "${T_P}p1" | jq -r '.[0].address')
ip -n "${T_P}h1" addr add 10.1.1.2/24 dev eth0
ip -n "${T_P}h2" addr add 10.2.1.2/24 dev eth0
ip -n "${T_P}h1" route add default via 10.1.1.1
ip -n "${T_P}h2" route add default via 10.2.1.1
ip -n "${T_P}h1" neigh add 10.1.1.1 lladdr "$p0mac" dev eth0
ip -n "${T_P}h2" neigh add 10.2.1.1 lladdr "$p1mac" dev eth0

t_node "$NODE"
x port add "${T_P}p0" && x port add "${T_P}p1" && x router add big &&
	x classify add big default port "${T_P}p0" && x classify add big default port "${T_P}p1" ||
	{ t_fail "setup"; exit 1; }

# Table: the synthetic prefixes spread over 4 nexthops, plus the hosts' /24s.
$GEN -n 170000 --seed 7 --dev "${T_P}p1" --via 10.2.1.2 --via 10.2.1.3 --via 10.2.1.4 --via 10.2.1.5 \
	--lladdr 02:00:00:00:00:01 --lladdr 02:00:00:00:00:02 --lladdr 02:00:00:00:00:03 \
	--lladdr "$h2mac" --dst-file "$TMP/dst" --dst-count 400 -o "$TMP/t170k"
{
	cat "$TMP/t170k"
	echo "10.1.1.0/24 via 10.1.1.2 lladdr $h1mac dev ${T_P}p0"
	echo "10.2.1.0/24 via 10.2.1.2 lladdr $h2mac dev ${T_P}p1"
} >"$TMP/table"

start=$(date +%s.%N)
t_check "route load of 170,002 IPv4 prefixes" x route load big "$TMP/table"
secs=$(echo "$(date +%s.%N) - $start" | bc)
echo "    170k load took $secs s"
t_check "170k load under 2 s ($secs s)" test "$(echo "$secs < 2" | bc)" = 1
t_eq "router reports 170,002 IPv4 routes" "$(x -j router show big | jq .routes4)" 170002

# 'route get' against a reference LPM over the same file.
$PY - "$TMP/table" "$TMP/dst" >"$TMP/expect" <<'PY'
import ipaddress, sys
routes = {}
for line in open(sys.argv[1]):
    w = line.split()
    net = ipaddress.ip_network(w[0])
    routes[(int(net.network_address), net.prefixlen)] = w[w.index("lladdr") + 1]
for line in open(sys.argv[2]):
    a = int(ipaddress.ip_address(line.strip()))
    for plen in range(32, -1, -1):
        key = (a >> (32 - plen) << (32 - plen) if plen else 0, plen)
        if key in routes:
            print(line.strip(), routes[key]); break
    else:
        print(line.strip(), "none")
PY
mismatch=0
while read -r addr want; do
	got=$(x -j route get big "$addr" 2>/dev/null | jq -r '.lladdr // "none"')
	[ "$got" = "$want" ] || { mismatch=$((mismatch + 1)); echo "    $addr: got $got want $want"; }
done <"$TMP/expect"
t_eq "route get agrees with a reference LPM on 400 destinations" "$mismatch" 0

# Reload under traffic: every ping crosses the router while tables swap.
ttl_nr0=$(x -j stats big interval 0 | jq '.[0].punt["no-route"] // 0')
ip netns exec "${T_P}h1" ping -c 300 -i 0.005 -W 1 10.2.1.2 >"$TMP/ping" 2>&1 &
pid=$!
for i in 1 2 3; do x route load big "$TMP/table" || t_fail "reload $i"; done
wait $pid
t_eq "3 reloads during 300 pings: loss" "$(grep -o '[0-9.]*% packet loss' "$TMP/ping" | cut -d% -f1)" 0
t_eq "no lookup missed during reloads (no-route punts)" \
	"$(( $(x -j stats big interval 0 | jq '.[0].punt["no-route"] // 0') - ttl_nr0 ))" 0

# The largest tables the issue names.
$GEN -n 1000000 --seed 8 --dev "${T_P}p1" --via 10.2.1.2 --lladdr "$h2mac" -o "$TMP/t1m"
start=$(date +%s.%N)
t_check "route load of 1,000,000 IPv4 prefixes" x route load big "$TMP/t1m"
echo "    1M load took $(echo "$(date +%s.%N) - $start" | bc) s"
t_eq "router reports 1,000,000 IPv4 routes" "$(x -j router show big | jq .routes4)" 1000000
$GEN -n 200000 --family 6 --seed 9 --dev "${T_P}p1" --via 2001:db8::2 --lladdr "$h2mac" -o "$TMP/t200k6"
start=$(date +%s.%N)
t_check "route load of 200,000 IPv6 prefixes" x route load big "$TMP/t200k6"
echo "    200k IPv6 load took $(echo "$(date +%s.%N) - $start" | bc) s"
t_eq "router reports 200,000 IPv6 routes" "$(x -j router show big | jq .routes6)" 200000
t_check "route flush" x route flush big
t_eq "no routes left" "$(x -j router show big | jq '.routes4 + .routes6')" 0
