# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Shared by the end-to-end tests: a unique prefix for everything a test
# creates, cleanup in a trap (pass or fail), and assertions that count.
# Source it, then call t_init NAME.

XVR=${XVR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/build/xvr}
PY=/usr/bin/python3
T_PASS=0
T_FAIL=0
T_SKIP=0
T_NS=()
T_LINKS=()
T_NODES=()
T_PIDS=()
T_SINK_PINS=()

t_init() {
	T_NAME=$1
	# Short: interface names have 15 characters at most.
	T_ID=$(printf '%x' $(( ($$ + RANDOM) % 0xfff )))
	T_P=x${T_ID}
	trap t_cleanup EXIT
	trap 'exit 130' INT TERM
}

t_cleanup() {
	local rc=$?
	for pid in "${T_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
	wait 2>/dev/null
	for pin in "${T_SINK_PINS[@]}"; do
		"$(dirname "$XVR")/xvr-sink" detach "$pin" >/dev/null 2>&1
		rm -rf "$pin"
	done
	for node in "${T_NODES[@]}"; do
		"$XVR" -n "$node" node down >/dev/null 2>&1
		rm -rf "/sys/fs/bpf/xvr/$node" 2>/dev/null
	done
	for l in "${T_LINKS[@]}"; do ip link del "$l" 2>/dev/null; done
	for ns in "${T_NS[@]}"; do ip netns del "$ns" 2>/dev/null; done
	rmdir /sys/fs/bpf/xvr 2>/dev/null
	t_summary
	exit $(( rc ? rc : (T_FAIL > 0) ))
}

t_summary() {
	[ -n "${T_SUMMARY_DONE:-}" ] && return
	T_SUMMARY_DONE=1
	echo "# $T_NAME: $T_PASS passed, $T_FAIL failed, $T_SKIP skipped"
}

t_ok() { T_PASS=$((T_PASS + 1)); echo "ok - $T_NAME: $*"; }
t_fail() { T_FAIL=$((T_FAIL + 1)); echo "FAIL - $T_NAME: $*"; }
t_skip() { T_SKIP=$((T_SKIP + 1)); echo "SKIP - $T_NAME: $*"; }

# t_check DESCRIPTION COMMAND...: passes when the command succeeds.
t_check() {
	local what=$1; shift
	if "$@" >/tmp/.t_out.$$ 2>&1; then
		t_ok "$what"
	else
		t_fail "$what (command: $*)"
		sed 's/^/    /' /tmp/.t_out.$$ | tail -5
	fi
	rm -f /tmp/.t_out.$$
}

# t_fails DESCRIPTION COMMAND...: passes when the command fails.
t_fails() {
	local what=$1; shift
	if "$@" >/tmp/.t_out.$$ 2>&1; then
		t_fail "$what (expected failure: $*)"
	else
		t_ok "$what"
	fi
	rm -f /tmp/.t_out.$$
}

# t_eq DESCRIPTION GOT WANT
t_eq() {
	if [ "$2" = "$3" ]; then t_ok "$1"; else t_fail "$1: got '$2' want '$3'"; fi
}

# t_ge DESCRIPTION GOT MIN
t_ge() {
	if [ "$2" -ge "$3" ] 2>/dev/null; then t_ok "$1"; else t_fail "$1: got '$2' want >= '$3'"; fi
}

# t_need TOOL...: scripts/setup.sh installs every tool a test uses, so a
# missing one is a failure of the machine's setup, never a skip.
t_need() {
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || { t_fail "missing $c (run scripts/setup.sh)"; exit 1; }
	done
}
# t_need_py MODULE...: likewise for python3 modules (python3-scapy).
t_need_py() {
	for m in "$@"; do
		"$PY" -c "import $m" >/dev/null 2>&1 ||
			{ t_fail "missing python3 module $m (run scripts/setup.sh)"; exit 1; }
	done
}

# t_wait SECONDS COMMAND...: poll until the command succeeds; fails after
# SECONDS. Tests wait for the condition they need, never a fixed time.
t_wait() {
	local until=$(( $(date +%s%N) / 1000000 + ${1%.*} * 1000 )); shift
	until "$@" >/dev/null 2>&1; do
		[ $(( $(date +%s%N) / 1000000 )) -ge "$until" ] && return 1
		sleep 0.02
	done
}
# t_listening NS udp|tcp PORT: a socket in NS is bound to (listens on) PORT.
t_listening() {
	local f=-Hlun
	[ "$2" = tcp ] && f=-Hltn
	[ -n "$(ip netns exec "$1" ss $f "sport = :$3")" ]
}
# t_wait_listen NS udp|tcp PORT: wait (5 s at most) for a receiver to be ready.
t_wait_listen() { t_wait 5 t_listening "$@"; }

t_netns() { ip netns add "$1" && T_NS+=("$1") && ip -n "$1" link set lo up; }
t_node() { T_NODES+=("$1"); "$XVR" -n "$1" node up; }
# t_veth ROOT_END NS PEER_NAME: a veth pair, the peer moved into NS.
t_veth() {
	ip link add "$1" type veth peer name "$1p" && T_LINKS+=("$1") &&
	ip link set "$1p" netns "$2" && ip -n "$2" link set "$1p" name "$3" &&
	ip link set "$1" up && ip -n "$2" link set "$3" up &&
	# Frames XDP-redirected into a veth need NAPI on the receiving end.
	ip netns exec "$2" ethtool -K "$3" gro on >/dev/null &&
	# XDP forwarding cannot complete a checksum left to offload.
	ip netns exec "$2" ethtool -K "$3" tx off >/dev/null
}

# t_settle NODE ROUTER: waits (2 s at most) until the router's rx counter
# stops moving between two reads 0.1 s apart.
t_settle() {
	local a b
	b=$(t_stat "$1" "$2" rx_packets)
	for _ in $(seq 1 20); do
		sleep 0.1
		a=$b
		b=$(t_stat "$1" "$2" rx_packets)
		[ "$a" = "$b" ] && return 0
	done
}

# t_gen_sink: the rate tests' topology. A generator namespace $NSG (g0, no
# IPv6: its multicast would reach routers with VIFs on the port) on port $PA,
# a sink namespace $NSS (s0: xvr-sink counts and drops, its state at $PIN) on
# port $PB, and node $NODE up with both ports. Sets NODE NSG NSS PA PB PIN
# PKTGEN SINK; the sink is detached by t_cleanup.
t_gen_sink() {
	NODE=$T_P NSG=${T_P}g NSS=${T_P}s PA=${T_P}pa PB=${T_P}pb
	PIN=/sys/fs/bpf/xvr-test-$T_P
	PKTGEN=$(dirname "$XVR")/xvr-pktgen SINK=$(dirname "$XVR")/xvr-sink
	[ -x "$PKTGEN" ] && [ -x "$SINK" ] || { t_fail "xvr-pktgen or xvr-sink missing (make)"; return 1; }
	T_SINK_PINS+=("$PIN")
	t_netns "$NSG" && t_netns "$NSS" &&
	ip netns exec "$NSG" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 &&
	t_veth "$PA" "$NSG" g0 && t_veth "$PB" "$NSS" s0 &&
	t_node "$NODE" >/dev/null && "$XVR" -n "$NODE" port add "$PA" 2>/dev/null &&
	"$XVR" -n "$NODE" port add "$PB" 2>/dev/null &&
	"$SINK" -N "$NSS" attach s0 "$PIN"
}

# t_gen_sink_xdp2 MAC1 MAC2 SINK_MAC: t_gen_sink, then xdp routers r1 and
# r2 told apart by destination MAC on $PA, both routing 198.19.0.0/16 to
# the sink on $PB.
t_gen_sink_xdp2() {
	local x=("$XVR" -n "$T_P")
	t_gen_sink &&
	"${x[@]}" router add r1 mode xdp fibsync off >/dev/null &&
	"${x[@]}" router add r2 mode xdp fibsync off >/dev/null &&
	"${x[@]}" classify add r1 mac "$1" port "$PA" &&
	"${x[@]}" classify add r2 mac "$2" port "$PA" &&
	"${x[@]}" route add r1 198.19.0.0/16 via 198.51.101.2 lladdr "$3" dev "$PB" &&
	"${x[@]}" route add r2 198.19.0.0/16 via 198.51.101.2 lladdr "$3" dev "$PB"
}

# Counter field of a router (or "port DEV") from 'xvr stats -j'.
t_stat() {
	local node=$1 obj=$2 field=$3
	"$XVR" -n "$node" -j stats $obj interval 0 | jq -r ".[0].$field // 0"
}
# test_ge_cmd COMMAND MIN: the number COMMAND prints is at least MIN (for t_wait).
test_ge_cmd() { [ "$("$1")" -ge "$2" ] 2>/dev/null; }

# t_afxdp_pair NODE: the afxdp tests' topology, on node NODE:
#   h1 (10.1.1.2) ── p0 ─ ar (afxdp) ─ p1 ── h2 (10.2.1.2)
#   h3 (10.3.1.2) ── p2 ─ xr (xdp)   ─ p3 ── h4 (10.4.1.2)   the bystander
# ar (no engine yet) forwards in its namespace's stack; xr, without
# fibsync, has static routes and neighbours. Says what failed.
t_afxdp_pair() {
	local node=$1 i mac vmac
	local x=("$XVR" -n "$node") rns="xvr-$node-ar"
	for i in 1 2 3 4; do
		t_netns "${T_P}h$i" && t_veth "${T_P}p$((i - 1))" "${T_P}h$i" eth0 &&
		ip -n "${T_P}h$i" addr add "10.$i.1.2/24" dev eth0 &&
		ip -n "${T_P}h$i" route add default via "10.$i.1.1" ||
		{ t_fail "setup host h$i"; return 1; }
	done
	t_node "$node" >/dev/null || { t_fail "setup node"; return 1; }
	for i in 0 1 2 3; do "${x[@]}" port add "${T_P}p$i" || { t_fail "port p$i"; return 1; }; done
	"${x[@]}" router add ar mode afxdp && "${x[@]}" vif add ar e0 port "${T_P}p0" &&
		"${x[@]}" vif add ar e1 port "${T_P}p1" && ip -n "$rns" addr add 10.1.1.1/24 dev e0 &&
		ip -n "$rns" addr add 10.2.1.1/24 dev e1 &&
		ip netns exec "$rns" sysctl -qw net.ipv4.ip_forward=1 ||
		{ t_fail "setup afxdp router"; return 1; }
	# IPv4 only: without IPv6, the bystander's VIFs send its hosts nothing of
	# their own (router solicitations, MLD reports) that a count of frames
	# reaching a host would take for leaked traffic.
	"${x[@]}" router add xr mode xdp fibsync off &&
		ip netns exec "xvr-$node-xr" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
			net.ipv6.conf.default.disable_ipv6=1 &&
		"${x[@]}" vif add xr e0 port "${T_P}p2" &&
		"${x[@]}" vif add xr e1 port "${T_P}p3" || { t_fail "setup bystander router"; return 1; }
	for i in 3 4; do
		mac=$(ip -n "${T_P}h$i" -j link show eth0 | jq -r '.[0].address') &&
		vmac=$("${x[@]}" -j vif list xr | jq -r ".[] | select(.ifname == \"e$((i - 3))\") | .mac") &&
		ip -n "${T_P}h$i" neigh add "10.$i.1.1" lladdr "$vmac" dev eth0 &&
		"${x[@]}" route add xr "10.$i.1.0/24" via "10.$i.1.2" lladdr "$mac" dev "${T_P}p$((i - 1))" ||
		{ t_fail "setup bystander route to h$i"; return 1; }
	done
}

# t_two_routers NODE: the routing-daemon tests' topology. Hosts h1
# (10.1.1.2/24) and h2 (10.2.1.2/24) behind xdp-mode routers R1 and R2 of
# node NODE, which meet on 10.12.0.0/30 over the veth pair pa/pb; every
# veth a port of the node, forwarding on in both routers.
t_two_routers() {
	local node=$1 p r
	t_netns "${T_P}h1" && t_netns "${T_P}h2" &&
	t_veth "${T_P}p1" "${T_P}h1" eth0 && t_veth "${T_P}p2" "${T_P}h2" eth0 &&
	ip link add "${T_P}pa" type veth peer name "${T_P}pb" && T_LINKS+=("${T_P}pa") &&
	ip link set "${T_P}pa" up && ip link set "${T_P}pb" up &&
	ip -n "${T_P}h1" addr add 10.1.1.2/24 dev eth0 &&
	ip -n "${T_P}h1" route add default via 10.1.1.1 &&
	ip -n "${T_P}h2" addr add 10.2.1.2/24 dev eth0 &&
	ip -n "${T_P}h2" route add default via 10.2.1.1 &&
	t_node "$node" || return 1
	for p in p1 p2 pa pb; do "$XVR" -n "$node" port add "${T_P}$p" || return 1; done
	"$XVR" -n "$node" router add R1 mode xdp && "$XVR" -n "$node" router add R2 mode xdp &&
	"$XVR" -n "$node" vif add R1 e0 port "${T_P}p1" &&
	"$XVR" -n "$node" vif add R1 e1 port "${T_P}pa" &&
	"$XVR" -n "$node" vif add R2 e0 port "${T_P}p2" &&
	"$XVR" -n "$node" vif add R2 e1 port "${T_P}pb" &&
	ip -n "xvr-$node-R1" addr add 10.1.1.1/24 dev e0 &&
	ip -n "xvr-$node-R1" addr add 10.12.0.1/30 dev e1 &&
	ip -n "xvr-$node-R2" addr add 10.2.1.1/24 dev e0 &&
	ip -n "xvr-$node-R2" addr add 10.12.0.2/30 dev e1 || return 1
	for r in R1 R2; do
		ip netns exec "xvr-$node-$r" sysctl -qw net.ipv4.ip_forward=1 || return 1
	done
}
