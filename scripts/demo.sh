#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The xvr demo: two virtual routers, red and blue, on one node with two
# ports. Both route the same tenant prefixes (10.1.0.0/16, 10.2.0.0/16 and
# their IPv6 twins); xvr tells their frames apart by destination MAC. Traffic
# goes through both, then a per-router table shows what each forwarded.
# Everything it creates is removed at the end, also on failure.
set -eu
cd "$(dirname "$0")/.."
export XVR=$PWD/build/xvr
. scripts/redblue.sh
RB_P=demo RB_NODE=demo
PY=/usr/bin/python3

trap 'redblue_down' EXIT
redblue_down	# leftovers of an interrupted run
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "Building the node: 2 ports, routers red and blue (same addresses, told apart by MAC)"
redblue_up
$XVR -n demo port list
$XVR -n demo router list
$XVR -n demo classify list
for r in red blue; do
	echo "-- routes of $r"
	$XVR -n demo route list $r
done

# UDP burst of COUNT datagrams from host NS to ADDR; prints what arrived.
udp_burst() {
	local from=$1 to=$2 addr=$3 count=$4
	ip netns exec "$to" $PY -c '
import socket, sys
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
s.bind(("::" if fam == socket.AF_INET6 else "0.0.0.0", 7000))
s.settimeout(1.0)
n = 0
try:
    while True:
        s.recv(2048); n += 1
except socket.timeout:
    pass
print(n)' "$addr" >/tmp/.demo_rx.$$ &
	local rx=$!
	sleep 0.3
	ip netns exec "$from" $PY -c '
import socket, sys, time
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
for i in range(int(sys.argv[2])):
    s.sendto(b"xvr demo", (sys.argv[1], 7000))
    if i % 50 == 49: time.sleep(0.005)' "$addr" "$count"
	wait $rx
	cat /tmp/.demo_rx.$$
	rm -f /tmp/.demo_rx.$$
}

step "Traffic through both routers"
for h in ra:red ba:blue; do
	ns=demo${h%%:*} r=${h##*:}
	echo "-- $r: ping 10.2.1.2 and 2001:db8:2::2 from site A"
	ip netns exec "$ns" ping -c 3 -i 0.2 10.2.1.2 | tail -2
	ip netns exec "$ns" ping -6 -c 3 -i 0.2 2001:db8:2::2 | tail -2
done
red_rx=$(udp_burst demora demorb 10.2.1.2 3000)
blue_rx=$(udp_burst demoba demobb 10.2.1.2 1000)
red6_rx=$(udp_burst demorb demora 2001:db8:1::2 500)
echo "-- UDP: red 10.2.1.2 received $red_rx of 3000, blue 10.2.1.2 received $blue_rx of 1000,"
echo "   red 2001:db8:1::2 received $red6_rx of 500"

step "What each virtual router forwarded (xvr stats)"
printf '%-8s %10s %10s %12s %8s %8s\n' router rx fwd fwd_bytes punted dropped
for r in red blue; do
	$XVR -n demo -j stats $r interval 0 | jq -r --arg r $r \
		'.[0] | [$r, .rx_packets, .fwd_packets, .fwd_bytes, .punt_packets, .drop_packets] | @tsv' |
		awk '{ printf "%-8s %10s %10s %12s %8s %8s\n", $1, $2, $3, $4, $5, $6 }'
done
echo
echo "The same 10.2.1.2 exists twice; each router delivered only to its own host."
echo "Cleaning up."
