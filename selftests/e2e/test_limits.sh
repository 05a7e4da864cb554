#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Router limits (xvr limit): bad input is refused and changes nothing; a
# limit delivers its rate (within 10% over a few seconds, the generator on
# the other CPU than the port's NAPI thread), lets its burst through, and
# drops the rest at ingress as 'policed'; the books balance; the punt
# budget holds the frames punted to the router's namespace; a netns-mode
# router is limited alike.
set -u
. "$(dirname "$0")/../lib.sh"
t_init limits
t_need jq ethtool
[ "$(nproc --all)" -ge 2 ] || { t_skip "needs 2 CPUs (generator and NAPI thread apart)"; exit 0; }

M1=02:00:00:1a:00:01 M2=02:00:00:1a:00:02 M3=02:00:00:1a:00:03
MAC_S=02:00:00:1b:00:99
x() { "$XVR" -n "$NODE" "$@"; }

# gen (g0) -> port PA | node | port PB -> sink (s0, xvr-sink counts and drops)
t_gen_sink_xdp2 $M1 $M2 $MAC_S ||
	{ t_fail "topology setup"; exit 1; }
# Port A's NAPI in a thread of its own on CPU 1; the generator on CPU 0.
echo 1 >"/sys/class/net/$PA/threaded"
napi=$(grep -sl "^napi/$PA-[0-9]*\$" /proc/[0-9]*/comm | cut -d/ -f3)
[ -n "$napi" ] || { t_fail "no NAPI thread for $PA"; exit 1; }
for p in $napi; do taskset -pc 1 "$p" >/dev/null; done
t_ok "topology: node, 2 ports, routers r1 and r2, sink; NAPI on CPU 1"

stat() { t_stat "$NODE" "$1" "$2"; }
policed() { x -j stats "$1" interval 0 | jq '.[0].drop.policed // 0'; }
punt_policed() { x -j stats "$1" interval 0 | jq '.[0].drop["punt-policed"] // 0'; }
# gen MAC RATE SECONDS [pktgen args]: sends from CPU 0; prints the JSON summary.
gen() {
	local mac=$1 rate=$2 secs=$3; shift 3
	taskset -c 0 "$PKTGEN" -N "$NSG" -d "$mac" -r "$rate" -t "$secs" -c 0 -j "$@" g0 2>/dev/null
}
settle() { t_settle "$NODE" "$1"; }

# 1. Bad input: a clear error naming the token, nothing changed.
x limit set r2 pps 5000
before=$(x -j limit list)
bad() {
	local what=$1 token=$2 err; shift 2
	if err=$(x limit "$@" 2>&1 >/dev/null); then
		t_fail "$what: accepted ($*)"
	elif grep -qF -- "$token" <<<"$err"; then
		t_ok "$what: refused, naming '$token'"
	else
		t_fail "$what: error does not name '$token': $err"
	fi
}
bad "limit on an unknown router" nosuch set nosuch pps 100
bad "pps 0" "'0'" set r1 pps 0
bad "pps with trailing junk" "'100x'" set r1 pps 100x
bad "negative pps" "'-5'" set r1 pps -5
bad "absurd burst" "'2000000'" set r1 pps 100 burst 2000000
bad "burst 0" "'0'" set r1 pps 100 burst 0
bad "burst of minutes at the rate" "'7000'" set r1 pps 100 burst 7000
bad "burst of minutes at the bit rate" "'100'" set r1 bps 12144 burst 100
bad "bps below one frame a second" "'100'" set r1 bps 100
bad "unknown keyword" "'rate'" set r1 rate 100
bad "missing value" "'pps'" set r1 pps
bad "nothing to set" "nothing to set" set r1
bad "burst without a rate" "burst without" set r1 burst 10
bad "pps twice" "pps given twice" set r1 pps 10 pps 20
bad "punt 0" "'0'" set r1 punt 0
bad "del of an unknown router" nosuch del nosuch
t_eq "rejected commands changed nothing" "$(x -j limit list)" "$before"

# 2. set, list, del.
x limit set r1 pps 20000
t_eq "list: pps and the default burst (20 ms)" \
	"$(x -j limit list r1 | jq -c '.[0] | [.pps, .burst, .punt, .punt_default]')" "[20000,400,10000,true]"
t_eq "list: routers with limits only" "$(x -j limit list | jq -c '[.[].router]')" '["r1","r2"]'
x limit del r2
t_eq "del: r2 unlimited again" "$(x -j limit list r2 | jq -c '.[0] | [.pps, .bps, .burst]')" "[0,0,0]"

# 3. Accuracy: r1 limited to 20 kpps, offered up to 300 kpps for 3 s.
rx0=$(stat r1 rx_packets) fwd0=$(stat r1 fwd_packets) pol0=$(policed r1)
"$SINK" reset "$PIN"
out=$(gen $M1 300000 3)
settle r1
secs=$(jq .duration_s <<<"$out")
rx=$(( $(stat r1 rx_packets) - rx0 )) fwd=$(( $(stat r1 fwd_packets) - fwd0 ))
pol=$(( $(policed r1) - pol0 ))
want=$(awk -v s="$secs" 'BEGIN { printf "%d", 20000 * s + 400 }')
echo "# accuracy: offered $(jq .sent <<<"$out") in ${secs}s, at r1 $rx, forwarded $fwd (want ~$want), policed $pol"
t_ge "the limit was binding (r1 received over 1.5x its limit)" "$rx" $((want * 3 / 2))
t_check "forwarded within 10% of 20 kpps x duration + burst ($fwd vs $want)" \
	awk -v f="$fwd" -v w="$want" 'BEGIN { exit !(f >= 0.9 * w && f <= 1.1 * w) }'
t_eq "the rest policed at ingress" "$pol" $((rx - fwd))
sleep 0.2
t_eq "the sink got what r1 forwarded" "$("$SINK" -j read "$PIN" | jq .tagged_packets)" "$fwd"
t_eq "r2 (no limit) saw none of it" "$(policed r2)" 0

# 4. Burst: 100 pps with a burst of 3000. After a pause the bucket is full:
# a rush of 2500 frames all pass; a second rush of 4000 right after gets the
# rest of the burst plus what the rate added in between, no more. (Counted
# as the router received them: a rush may overflow the port's ring.)
x limit set r1 pps 100 burst 3000
sleep 0.2
t0=$(date +%s.%N)
fwd0=$(stat r1 fwd_packets) rx0=$(stat r1 rx_packets)
gen $M1 50000 0 -n 2500 >/dev/null
settle r1
fwd1=$(stat r1 fwd_packets) rx1=$(stat r1 rx_packets)
t_eq "first rush: all $((rx1 - rx0)) received frames within the burst" "$((fwd1 - fwd0))" "$((rx1 - rx0))"
gen $M1 50000 0 -n 4000 >/dev/null
settle r1
fwd2=$(stat r1 fwd_packets) rx2=$(stat r1 rx_packets)
t1=$(date +%s.%N)
refill=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%d", (b - a) * 100 + 1 }')
left=$(( 3000 - (fwd1 - fwd0) ))
min=$(( rx2 - rx1 < left ? rx2 - rx1 : left ))
echo "# burst: first rush $((fwd1 - fwd0)) of $((rx1 - rx0)) forwarded, second $((fwd2 - fwd1)) of $((rx2 - rx1)) (bucket had $left, refill at most $refill)"
t_ge "second rush: the rest of the burst passed" "$((fwd2 - fwd1))" "$min"
t_check "second rush: no more than the rest + the refill" test $((fwd2 - fwd1)) -le $((left + refill))
t_ge "second rush: policed beyond it" "$(( (rx2 - rx1) - (fwd2 - fwd1) ))" 1

# 5. The books balance: rx = fwd + punt + drop per router and port, and
# every drop of r1 is a policed one.
# One snapshot per object: a stray frame (the generator's IPv6 neighbour
# discovery) may arrive between two reads.
books() {
	x -j stats $1 interval 0 | jq -r '.[0] | "\(.rx_packets) \(.fwd_packets + .punt_packets + .drop_packets + (.miss_packets // 0))"'
}
for r in r1 r2; do
	read -r rx sum < <(books $r)
	t_eq "router $r: rx ($rx) = fwd + punt + drop" "$sum" "$rx"
done
t_eq "router r1: every drop is policed" "$(stat r1 drop_packets)" "$(policed r1)"
read -r rx sum < <(books "port $PA")
t_eq "port $PA: rx = fwd + punt + drop + unclassified" "$sum" "$rx"
t_eq "port $PA: policed counted on the port too" \
	"$(x -j stats port "$PA" interval 0 | jq '.[0].drop.policed // 0')" "$(policed r1)"

# 6. Punt budget: r2 gets 8 kpps to an unrouted address (punted, no-route)
# under a budget of 500/s; its forwarded traffic is not held by it.
x limit set r2 punt 500
p0=$(stat r2 punt_packets) pp0=$(punt_policed r2)
out=$(gen $M2 8000 1 -D 203.0.113.9)
settle r2
secs=$(jq .duration_s <<<"$out")
punted=$(( $(stat r2 punt_packets) - p0 )) pp=$(( $(punt_policed r2) - pp0 ))
cap=$(awk -v s="$secs" 'BEGIN { printf "%d", 500 * s * 1.1 + 32 + 1 }')
echo "# punt budget: ${secs}s, punted $punted (at most $cap), punt-policed $pp"
t_check "punted no more than the budget ($punted <= $cap)" test "$punted" -le "$cap"
t_ge "punted at least 90% of the budget" "$punted" "$(awk -v s="$secs" 'BEGIN { printf "%d", 450 * s }')"
t_ge "the rest punt-policed" "$pp" 1000
f0=$(stat r2 fwd_packets) rx0=$(stat r2 rx_packets)
gen $M2 8000 0.5 >/dev/null
settle r2
f1=$(( $(stat r2 fwd_packets) - f0 ))
t_ge "forwarding under a spent punt budget goes on" "$f1" 1
t_eq "every frame r2 received was forwarded" "$f1" "$(( $(stat r2 rx_packets) - rx0 ))"

# 7. A netns-mode router is limited alike (frames into its VIF).
x router add r3 mode netns >/dev/null && x vif add r3 e0 port "$PA" mac $M3 >/dev/null &&
	x limit set r3 pps 5000 || t_fail "netns router setup"
fwd0=$(stat r3 fwd_packets)
out=$(gen $M3 30000 1)
settle r3
secs=$(jq .duration_s <<<"$out")
fwd=$(( $(stat r3 fwd_packets) - fwd0 ))
want=$(awk -v s="$secs" 'BEGIN { printf "%d", 5000 * s + 100 }')
echo "# netns: forwarded into the VIF $fwd (want ~$want), policed $(policed r3)"
t_check "netns router: delivered within 10% of its limit ($fwd vs $want)" \
	awk -v f="$fwd" -v w="$want" 'BEGIN { exit !(f >= 0.9 * w && f <= 1.1 * w) }'

# 8. Deleting a router removes its limit: a new router in its slot has none.
id=$(x -j router show r3 | jq '.id')
x router del r3
x router add r4 id "$id" mode xdp fibsync off >/dev/null
t_eq "a router reusing the slot starts without limits" \
	"$(x -j limit list r4 | jq -c '.[0] | [.pps, .punt_default]')" "[0,true]"
