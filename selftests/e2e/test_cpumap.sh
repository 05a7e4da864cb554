#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Core binding (xvr router set ROUTER cpus LIST|any): bad input is refused
# and changes nothing; a router bound to CPU 1 has its frames, received on
# CPU 0, processed on CPU 1 only (per-CPU counters), in xdp and netns mode;
# many flows bound to 0-1 spread over both and a flow keeps its CPU; 'cpus
# any' is inline again; the books balance; node save keeps the binding; the
# last router of a CPU set frees its cpumap group.
set -u
. "$(dirname "$0")/../lib.sh"
t_init cpumap
t_need jq ethtool bpftool
[ "$(nproc)" -ge 2 ] || { t_skip "needs 2 online CPUs (receiving CPU and bound CPU apart)"; exit 0; }

ROOT=/sys/fs/bpf/xvr/$T_P
M1=02:00:00:2a:00:01 M2=02:00:00:2a:00:02
MAC_S=02:00:00:2b:00:99
x() { "$XVR" -n "$NODE" "$@"; }

# gen (g0) -> port PA | node | port PB -> sink (s0). No threaded NAPI: PA's
# poll runs on the CPU the generator sends from, CPU 0.
t_gen_sink &&
x router add r1 mode xdp fibsync off >/dev/null &&
x router add r2 mode netns >/dev/null && x vif add r2 e0 port "$PA" mac $M2 >/dev/null &&
x classify add r1 mac $M1 port "$PA" &&
x route add r1 198.19.0.0/16 via 198.51.101.2 lladdr $MAC_S dev "$PB" ||
	{ t_fail "topology setup"; exit 1; }
t_ok "topology: node, 2 ports, xdp router r1, netns router r2, sink"

# js ROUTER FILTER: a jq filter over the router's 'stats -j' object.
js() { x -j stats "$1" interval 0 | jq -r ".[0] | $2"; }
# cpu ROUTER CPU FIELD: one per-CPU counter (0 if the CPU has no row).
cpu() { js "$1" "([.per_cpu[]? | select(.cpu == $2) | .$3] | add) // 0"; }
gen() { taskset -c 0 "$PKTGEN" -N "$NSG" -c 0 -j "$@" g0 2>/dev/null; }
# settle ROUTER: waits (10 s at most) until the router's counters, the
# cpumap arrivals among them, held still over three reads 0.1 s apart.
settle() {
	local a b same=0
	sig() { js "$1" '[.rx_packets, .fwd_packets, .drop_packets, ([.per_cpu[]?.arrived_packets] | add)] | tostring'; }
	b=$(sig "$1")
	for _ in $(seq 1 100); do
		sleep 0.1
		a=$b
		b=$(sig "$1")
		if [ "$a" = "$b" ]; then same=$((same + 1)); else same=0; fi
		[ $same -ge 2 ] && return 0
	done
}
books() { js "$1" '"\(.rx_packets) \(.fwd_packets + .punt_packets + .drop_packets)"'; }
dumps() {
	for m in cpu_groups cpu_sets routers; do bpftool map dump pinned "$ROOT/$m"; done | md5sum
}

# 1. Bad input: a clear error naming the token, exit non-zero, nothing changed.
x router set r1 cpus 1
before=$(dumps) list_before=$(x -j router list)
offline=$(nproc --all)
bad() {
	local what=$1 token=$2 err; shift 2
	if err=$(x router set "$@" 2>&1 >/dev/null); then
		t_fail "$what: accepted ($*)"
	elif grep -qF -- "$token" <<<"$err"; then
		t_ok "$what: refused, naming '$token'"
	else
		t_fail "$what: error does not name '$token': $err"
	fi
}
bad "CPU not online" "CPU $offline is not online" r1 cpus "$offline"
bad "CPU beyond any set" "CPU 64 is not online" r1 cpus 64
bad "not a CPU list" "'abc'" r1 cpus abc
bad "a list with junk" "'1x'" r1 cpus 0,1x
bad "reversed range" "'1-0'" r1 cpus 1-0
bad "a trailing comma" "'0,'" r1 cpus 0,
bad "missing value" "cpus" r1 cpus
bad "unknown router" "nosuch" nosuch cpus 1
t_eq "rejected commands changed no map" "$(dumps)" "$before"
t_eq "rejected commands changed no router" "$(x -j router list)" "$list_before"

# 2. Bound to CPU 1: received and steered on CPU 0, processed on CPU 1 only.
t_eq "router list shows the set" "$(x -j router show r1 | jq -r .cpus)" "1"
N=20000
gen -d $M1 -n $N -r 200000 >/dev/null
settle r1
rx=$(js r1 .rx_packets) fwd=$(js r1 .fwd_packets)
echo "# bound to 1: rx $rx fwd $fwd; per CPU: $(js r1 .per_cpu | jq -c .)"
t_ge "r1 received the frames" "$rx" $((N * 9 / 10))
# A loaded machine may starve CPU 1's cpumap thread until its queue
# overflows: those frames are counted (cpu-handoff), never silently gone.
arr=$(cpu r1 1 arrived_packets) lost=$(js r1 '.drop["cpu-handoff"] // 0')
t_eq "steered on CPU 0: every frame received" "$(cpu r1 0 steered_packets)" "$rx"
t_eq "arrived on CPU 1 ($arr) + lost in the queue ($lost) = steered" "$((arr + lost))" "$rx"
t_ge "arrived on CPU 1: at least 90%" "$arr" $((rx * 9 / 10))
t_eq "processed on CPU 0: none" "$(cpu r1 0 processed_packets)" 0
t_eq "processed on CPU 1: every arrival" "$(cpu r1 1 processed_packets)" "$arr"
t_eq "received on CPU 1: none (the port's poll ran on CPU 0)" "$(cpu r1 1 rx_packets)" 0
read -r a b < <(books r1)
t_eq "books: rx ($a) = fwd + punt + drop (cpu-handoff included)" "$b" "$a"
t_eq "the sink got what r1 forwarded" "$("$SINK" -j read "$PIN" | jq .tagged_packets)" "$fwd"
t_eq "prometheus: arrivals per CPU" \
	"$(x stats --format prometheus | grep '^xvr_router_cpu_arrived_total{.*router="r1"' | tr -d '\n')" \
	"xvr_router_cpu_arrived_total{node=\"$NODE\",router=\"r1\",cpu=\"1\"} $arr"

# 3. Bound to 0-1, many flows: both CPUs take a share.
x router set r1 cpus 0-1
a0=$(cpu r1 0 arrived_packets) a1=$(cpu r1 1 arrived_packets)
gen -d $M1 -n $N -r 200000 -F 64 >/dev/null
settle r1
d0=$(( $(cpu r1 0 arrived_packets) - a0 )) d1=$(( $(cpu r1 1 arrived_packets) - a1 ))
echo "# bound to 0-1, 64 flows: arrived on CPU 0 $d0, on CPU 1 $d1"
t_ge "CPU 0 took a share (>= 10%)" "$d0" $((N / 10))
t_ge "CPU 1 took a share (>= 10%)" "$d1" $((N / 10))
# One flow: one CPU only.
a0=$(cpu r1 0 arrived_packets) a1=$(cpu r1 1 arrived_packets)
gen -d $M1 -n 5000 -r 200000 >/dev/null
settle r1
d0=$(( $(cpu r1 0 arrived_packets) - a0 )) d1=$(( $(cpu r1 1 arrived_packets) - a1 ))
t_check "one flow stays on one CPU ($d0 on 0, $d1 on 1)" \
	test $(( d0 == 0 || d1 == 0 )) -eq 1 -a $((d0 + d1)) -ge 4500

# 4. 'cpus any': inline again, on the receiving CPU; the group is freed.
x router set r1 cpus any
t_eq "cpus any: no group left" "$(bpftool -j map dump pinned "$ROOT/cpu_groups" | jq length)" 0
s0=$(cpu r1 0 steered_packets) p0=$(cpu r1 0 processed_packets) a1=$(cpu r1 1 arrived_packets)
gen -d $M1 -n 5000 -r 200000 >/dev/null
settle r1
t_eq "cpus any: nothing steered" "$(cpu r1 0 steered_packets)" "$s0"
t_eq "cpus any: nothing arrived on CPU 1" "$(cpu r1 1 arrived_packets)" "$a1"
t_ge "cpus any: processed on CPU 0" "$(( $(cpu r1 0 processed_packets) - p0 ))" 4500
read -r a b < <(books r1)
t_eq "books after all runs: rx ($a) = fwd + punt + drop" "$b" "$a"

# bound_checks ROUTER MODE MIN WHAT: a router bound to CPU 1 received MIN
# frames at least, 90% of them arrived on CPU 1 (the rest counted as lost
# in the queue), nothing was processed on CPU 0, every arrival went on, the
# books balance. Leaves the arrivals in $arr.
bound_checks() {
	local r=$1 mode=$2 min=$3 what=$4 rx a b
	rx=$(js "$r" .rx_packets)
	arr=$(cpu "$r" 1 arrived_packets)
	echo "# $mode bound to 1: $(js "$r" '[.rx_packets, .fwd_packets, .drop_packets, .per_cpu]' | jq -c .)"
	t_ge "$mode: $r received the frames" "$rx" "$min"
	t_ge "$mode: arrived on CPU 1 (90% at least)" "$arr" $((rx * 9 / 10))
	t_eq "$mode: processed on CPU 0: none" "$(cpu "$r" 0 processed_packets)" 0
	t_eq "$mode: every arrival $what" "$(js "$r" .fwd_packets)" "$arr"
	read -r a b < <(books "$r")
	t_eq "$mode: books: rx ($a) = fwd + punt + drop" "$b" "$a"
}

# 5. netns mode: delivered into the router's VIF from CPU 1.
x router set r2 cpus 1
gen -d $M2 -n 5000 -r 100000 >/dev/null
settle r2
bound_checks r2 netns 4500 "delivered into the VIF"

# 5b. afxdp mode: handed to the router's engine from CPU 1.
M3=02:00:00:2a:00:03
x router add r3 mode afxdp >/dev/null && x vif add r3 e0 port "$PA" mac $M3 >/dev/null &&
	x fe add r3 >/dev/null && x router set r3 cpus 1 || t_fail "afxdp router setup"
gen -d $M3 -n 3000 -r 100000 >/dev/null
settle r3
fe_rx() { x -j fe list r3 | jq '[.[].rx_packets] | add // 0'; }
t_wait 5 test_ge_cmd fe_rx "$(cpu r3 1 arrived_packets)"
bound_checks r3 afxdp 2700 "handed to the engine"
t_eq "afxdp: the engine received them" "$(fe_rx)" "$arr"
x router del r3

# 6. Routers with the same set share a group; node save keeps the binding.
x router set r1 cpus 1
t_eq "r1 and r2 on CPU 1 share one group" \
	"$(bpftool -j map dump pinned "$ROOT/cpu_groups" | jq length)" 1
t_check "node save keeps the binding" grep -qx "router set r1 cpus 1" <(x node save 2>/dev/null)
# 'node up' on the live node swaps the cpumap program into the groups.
x node up >/dev/null 2>&1
a1=$(cpu r1 1 arrived_packets)
gen -d $M1 -n 2000 -r 100000 >/dev/null
settle r1
t_ge "after node up the bound router still runs on CPU 1" \
	"$(( $(cpu r1 1 arrived_packets) - a1 ))" 1800
x router del r2
t_eq "the group outlives r2 (r1 still in it)" \
	"$(bpftool -j map dump pinned "$ROOT/cpu_groups" | jq length)" 1
x router del r1
t_eq "the last router's delete freed the group" \
	"$(bpftool -j map dump pinned "$ROOT/cpu_groups" | jq length)" 0
