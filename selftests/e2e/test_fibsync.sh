#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# fibsync: an xdp-mode router whose FIB is whatever its namespace's kernel
# has. Routes (static, connected, ECMP, IPv6, blackhole, unreachable) and
# neighbours reach the BPF FIB; a gateway is resolved by the namespace's own
# ARP, after which XDP forwards; random churn converges to the kernel's FIB
# exactly; a killed fibsync is restarted and catches up; a link going down
# takes its routes along; deleting the router leaves no process behind.
#
#   ns h0 10.1.0.2 ── port p0 ─ e0 [router r] e1 ─ port p1 ── ns h1 10.2.0.2-4
#                                                             (lo: 10.99.0.1, ...)
#
# Two independent judges compare the BPF FIB with the kernel's: 'xvr
# fibsync r check' and fibsync_oracle below, a separate implementation of
# the mapping rules over 'ip -j route/neigh' and 'xvr -j fibsync r show'.
set -u
. "$(dirname "$0")/../lib.sh"
t_init fibsync
t_need jq ethtool ping

NODE=$T_P
RNS=xvr-$NODE-r
H0=${T_P}h0
H1=${T_P}h1
P0=${T_P}p0
P1=${T_P}p1
ORACLE=$(mktemp /tmp/fibsync_oracle.XXXXXX.py)
BATCH=$(mktemp /tmp/fibsync_batch.XXXXXX)
trap 'rm -f "$ORACLE" "$BATCH"; t_cleanup' EXIT
x() { "$XVR" -n "$NODE" "$@"; }
r_ip() { ip -n "$RNS" "$@"; }
ms() { date +%s%3N; }

cat >"$ORACLE" <<'EOF'
# The mapping rules of user/lib/fibsync.c, written again from the kernel's
# point of view; prints each difference between the expected and the BPF FIB.
import ipaddress, json, subprocess, sys

ns, vifs = sys.argv[1], dict(a.split("=") for a in sys.argv[3:])   # e0=PORT ...
xvr = sys.argv[2].split()
USABLE = {"REACHABLE", "STALE", "DELAY", "PROBE", "PERMANENT", "NOARP"}

def ipj(*args):
    out = subprocess.run(["ip", "-n", ns, "-j", *args], capture_output=True, text=True).stdout
    return json.loads(out or "[]")

def net(dst, fam):
    if dst == "default":
        dst = "0.0.0.0/0" if fam == 4 else "::/0"
    return ipaddress.ip_network(dst, strict=False)

routes = {}   # network -> {"local": [...], "main": [...]}
for fam in (4, 6):
    for table in ("local", "main"):
        for r in ipj(f"-{fam}", "route", "show", "table", table):
            n = net(r["dst"], fam)
            if r.get("type") == "multicast":
                continue
            if fam == 6 and n.prefixlen >= 10 and n.subnet_of(ipaddress.ip_network("fe80::/10")):
                continue
            routes.setdefault(n, {"local": [], "main": []})[table].append(r)

neigh = {}
for e in ipj("neigh", "show"):
    if e.get("dev") in vifs and "lladdr" in e and USABLE & set(e.get("state", [])):
        neigh[(ipaddress.ip_address(e["dst"]), e["dev"])] = e["lladdr"]

def best(rs):
    # lowest metric; among equals the first the kernel lists
    return min(rs, key=lambda r: r.get("metric", 0)) if rs else None

def member(n, p):
    dev, gw = p.get("dev"), p.get("gateway")
    if dev not in vifs:
        return None
    if not gw and n.prefixlen == n.max_prefixlen:
        gw = str(n.network_address)
    mac = neigh.get((ipaddress.ip_address(gw), dev)) if gw else None
    return ("unicast", gw, mac or "unresolved", vifs[dev])

def expect(n, r):
    t = r.get("type", "unicast")
    if t in ("local", "broadcast", "anycast"):
        return ("local",)
    if t == "blackhole":
        return ("blackhole",)
    if t != "unicast":
        return ("punt",)
    paths = [p for p in r.get("nexthops", [r]) if "dead" not in p.get("flags", [])]
    ms = []
    for p in paths:
        m = member(n, p)
        if m is None:
            return ("punt",)
        ms += [m] * p.get("weight", 1)
    if not ms:
        return ("punt",)
    if len(set(ms)) == 1:
        return ms[0]
    return ("group",) + tuple(sorted(ms))

def covering(n, table, strict):
    c = [m for m in routes if m.version == n.version and routes[m][table] and
         (m.prefixlen < n.prefixlen if strict else m.prefixlen <= n.prefixlen) and n.subnet_of(m)]
    return max(c, key=lambda m: m.prefixlen) if c else None

want = {}
for n in routes:
    l = covering(n, "local", False)
    if l:
        want[n] = expect(l, best(routes[l]["local"]))
    elif routes[n]["main"]:
        want[n] = expect(n, best(routes[n]["main"]))
for (addr, dev), mac in neigh.items():
    h = ipaddress.ip_network(addr)
    if h in want or covering(h, "local", False):
        continue
    m = covering(h, "main", True)
    r = best(routes[m]["main"]) if m else None
    if r and r.get("type", "unicast") == "unicast" and "nexthops" not in r and \
       "gateway" not in r and r.get("dev") == dev:
        want[h] = ("unicast", str(addr), mac, vifs[dev])

def desc(e):
    if e["type"] in ("local", "blackhole", "punt"):
        return (e["type"],)
    return ("unicast", e.get("via"), e["lladdr"], e["dev"])

have = {}
for e in json.loads(subprocess.run(xvr + ["-j", "fibsync", "r", "show"], capture_output=True,
                                   text=True).stdout or "[]"):
    n = ipaddress.ip_network(e["prefix"])
    have[n] = ("group",) + tuple(sorted(desc(m) for m in e["members"])) \
        if e["type"] == "group" else desc(e)

diffs = 0
for n in sorted(set(want) | set(have), key=str):
    if want.get(n) != have.get(n):
        diffs += 1
        if diffs <= 10:
            print(f"{n}: kernel says {want.get(n)}, BPF FIB has {have.get(n)}")
print(f"{len(want)} routes expected, {len(have)} in the BPF FIB, {diffs} differences")
sys.exit(diffs > 0)
EOF

oracle() { "$PY" "$ORACLE" "$RNS" "$XVR -n $NODE" "e0=$P0" "e1=$P1"; }
# in_sync [SECONDS]: both judges agree the BPF FIB is the kernel's, within the time.
in_sync() {
	local until=$(( $(ms) + ${1:-5} * 1000 ))
	while :; do
		x fibsync r check >/tmp/.fs_check.$$ 2>&1 && oracle >/tmp/.fs_oracle.$$ 2>&1 && {
			rm -f /tmp/.fs_check.$$ /tmp/.fs_oracle.$$; return 0; }
		[ "$(ms)" -ge "$until" ] && break
		sleep 0.1
	done
	cat /tmp/.fs_check.$$ /tmp/.fs_oracle.$$ 2>/dev/null | sed 's/^/    /' | head -20
	rm -f /tmp/.fs_check.$$ /tmp/.fs_oracle.$$
	return 1
}
# wait_fib PREFIX present|absent: ms until 'fibsync show' agrees, or fails after 5 s.
wait_fib() {
	local t0 until q
	t0=$(ms)
	until=$((t0 + 5000))
	q=".[] | select(.prefix == \"$1\")"
	while :; do
		if [ "$2" = present ]; then
			x -j fibsync r show | jq -e "$q" >/dev/null && break
		else
			x -j fibsync r show | jq -e "[$q] | length == 0" >/dev/null && break
		fi
		[ "$(ms)" -ge "$until" ] && return 1
		sleep 0.01
	done
	echo $(( $(ms) - t0 ))
}
stat_r() { x -j stats r interval 0 | jq -r ".[0]$1 // 0"; }
# running PID: it exists and is no zombie (init reaps orphans when it gets to it)
running() { [ -e "/proc/$1" ] && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]; }
fs_pid() { x -j router show r | jq -r '.fibsync_pid // empty'; }
sup_pid() { awk '{print $1}' "/run/xvr/$NODE/fibsync-r.pid" 2>/dev/null; }

# ---- topology ----
t_netns "$H0" && t_netns "$H1" &&
	t_veth "$P0" "$H0" eth0 && t_veth "$P1" "$H1" eth0 &&
	t_node "$NODE" >/dev/null && x port add "$P0" && x port add "$P1" &&
	x -v router add r 2>/dev/null &&
	x vif add r e0 port "$P0" && x vif add r e1 port "$P1" || { t_fail "topology setup"; exit 1; }
ip netns exec "$RNS" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
r_ip addr add 10.1.0.1/24 dev e0
r_ip addr add 10.2.0.1/24 dev e1
r_ip addr add 2001:db8:1::1/64 dev e0 nodad
r_ip addr add 2001:db8:2::1/64 dev e1 nodad
ip -n "$H0" addr add 10.1.0.2/24 dev eth0
ip -n "$H0" addr add 2001:db8:1::2/64 dev eth0 nodad
ip -n "$H0" route add default via 10.1.0.1
ip -n "$H0" -6 route add default via 2001:db8:1::1
for a in 2 3 4; do
	ip -n "$H1" addr add 10.2.0.$a/24 dev eth0
	ip -n "$H1" addr add 2001:db8:2::$a/64 dev eth0 nodad
done
for a in 10.99.0.1/32 10.98.0.1/32 10.201.0.1/32 2001:db8:99::1/128 2001:db8:98::1/128; do
	ip -n "$H1" addr add $a dev lo
done
ip -n "$H1" route add default via 10.2.0.1
ip -n "$H1" -6 route add default via 2001:db8:2::1
# Until DAD of their link-local addresses ends, interfaces send no Neighbour
# Solicitation, and IPv6 gateways stay unresolved for a second or more.
for _ in $(seq 50); do
	[ -z "$(r_ip -6 addr show tentative; ip -n "$H0" -6 addr show tentative;
		ip -n "$H1" -6 addr show tentative)" ] && break
	sleep 0.1
done
t_ok "topology: node, ports p0/p1, xdp router r with VIFs e0/e1"

t_check "router list shows fibsync's pid" test -n "$(fs_pid)"
t_check "fibsync process runs" kill -0 "$(fs_pid)"

# ---- 1. routes of every kind reach the BPF FIB ----
t0=$(ms)
r_ip route add 10.99.0.0/16 via 10.2.0.2
lat_add=$(wait_fib 10.99.0.0/16 present) || lat_add=fail
r_ip route add 10.98.0.0/16 nexthop via 10.2.0.2 nexthop via 10.2.0.3 nexthop via 10.2.0.4
r_ip route add blackhole 10.97.0.0/16
r_ip route add unreachable 10.96.0.0/16
r_ip route add prohibit 10.95.0.0/16
r_ip route add 10.94.0.0/16 dev lo
r_ip -6 route add 2001:db8:99::/48 via 2001:db8:2::2
r_ip -6 route add 2001:db8:98::/48 nexthop via 2001:db8:2::2 nexthop via 2001:db8:2::3 nexthop via 2001:db8:2::4
r_ip -6 route add blackhole 2001:db8:97::/48
t_check "static, connected, ECMP, IPv6, blackhole, unreachable routes mirrored" in_sync 5
echo "# a new route reached the BPF FIB in $lat_add ms (incl. polling 'xvr fibsync show')"
t_eq "10.98.0.0/16 is a 3-member group" \
	"$(x -j fibsync r show | jq '.[] | select(.prefix == "10.98.0.0/16") | .members | length')" 3
t_eq "2001:db8:98::/48 is a 3-member group" \
	"$(x -j fibsync r show | jq '.[] | select(.prefix == "2001:db8:98::/48") | .members | length')" 3
t_eq "unreachable 10.96.0.0/16 is a punt (the kernel sends the ICMP error)" \
	"$(x -j fibsync r show | jq -r '.[] | select(.prefix == "10.96.0.0/16") | .type')" punt
t_eq "a route out of lo is a punt" \
	"$(x -j fibsync r show | jq -r '.[] | select(.prefix == "10.94.0.0/16") | .type')" punt
t_eq "the router's own address is local" \
	"$(x -j fibsync r show | jq -r '.[] | select(.prefix == "10.1.0.1/32") | .type')" local
t_eq "IPv6 link-local prefixes are left to the ingress punt" \
	"$(x -j fibsync r show | jq '[.[] | select(.prefix | startswith("fe80"))] | length')" 0

# ---- 2. ARP resolves a new gateway; then XDP forwards ----
unres0=$(stat_r '.punt.unresolved')
fwd0=$(stat_r .fwd_packets)
t_check "h0 pings 10.99.0.1 (via unresolved 10.2.0.2)" \
	ip netns exec "$H0" ping -c 5 -i 0.1 -W 1 10.99.0.1
t_ge "first packets punted as unresolved" "$(( $(stat_r '.punt.unresolved') - unres0 ))" 1
t_check "10.2.0.2 got resolved by the namespace's kernel, no manual lladdr" \
	sh -c "ip -n $RNS neigh show 10.2.0.2 dev e1 | grep -q lladdr"
t_check "the gateway's MAC reached the BPF nexthop" in_sync 3
e0_0=$(ip netns exec "$RNS" cat /sys/class/net/e0/statistics/rx_packets)
e1_0=$(ip netns exec "$RNS" cat /sys/class/net/e1/statistics/rx_packets)
fwd1=$(stat_r .fwd_packets)
t_check "100 more pings, IPv4" ip netns exec "$H0" ping -c 100 -i 0.005 -W 1 -q 10.99.0.1
t_check "20 pings, IPv6 via ECMP" ip netns exec "$H0" ping -6 -c 20 -i 0.01 -W 1 -q 2001:db8:98::1
t_check "20 pings via the IPv4 ECMP group" ip netns exec "$H0" ping -c 20 -i 0.01 -W 1 -q 10.98.0.1
e0_1=$(ip netns exec "$RNS" cat /sys/class/net/e0/statistics/rx_packets)
e1_1=$(ip netns exec "$RNS" cat /sys/class/net/e1/statistics/rx_packets)
fwd2=$(stat_r .fwd_packets)
t_ge "XDP forwarded the requests and replies (280 minus a few first punts)" \
	"$((fwd2 - fwd1))" 270
t_ge "the router's VIFs saw (almost) none of them: $((e0_1 - e0_0 + e1_1 - e1_0)) frames" \
	10 "$((e0_1 - e0_0 + e1_1 - e1_0))"
t_check "unreachable: h0 gets the kernel's ICMP error" \
	sh -c "ip netns exec $H0 ping -c 1 -W 1 10.96.0.1 | grep -qi unreachable"
t_fails "blackhole: dropped" ip netns exec "$H0" ping -c 1 -W 1 10.97.0.1
lat_neigh=$( t=$(ms); r_ip neigh replace 10.2.0.2 lladdr 02:00:00:00:00:99 dev e1 nud permanent;
	until x -j fibsync r show | jq -e '.[] | select(.prefix == "10.99.0.0/16") |
		select(.lladdr == "02:00:00:00:00:99")' >/dev/null; do
		[ $(( $(ms) - t )) -gt 5000 ] && break; sleep 0.01; done; echo $(( $(ms) - t )) )
t_check "a neighbour's new MAC moves the nexthop (in $lat_neigh ms)" in_sync 3
r_ip neigh del 10.2.0.2 dev e1
t_check "a deleted neighbour makes its nexthop unresolved" in_sync 3

# ---- 3. random churn ----
"$PY" - "$BATCH" <<'EOF'
import random, sys
random.seed(7)
v4 = ["via 10.2.0.2", "via 10.2.0.3", "via 10.1.0.2 dev e0",
      "nexthop via 10.2.0.2 nexthop via 10.2.0.3",
      "nexthop via 10.2.0.2 nexthop via 10.2.0.4 weight 2 nexthop via 10.1.0.2 dev e0"]
v6 = ["via 2001:db8:2::2", "via 2001:db8:2::3", "via 2001:db8:1::2 dev e0",
      "nexthop via 2001:db8:2::2 nexthop via 2001:db8:2::4"]
kinds = ["blackhole", "unreachable"]
with open(sys.argv[1], "w") as f:
    for i in range(600):
        six = random.random() < 0.35
        p = (f"2001:db8:200:{random.randrange(48):x}::/64" if six else
             f"10.200.{random.randrange(96)}.0/24")
        op = random.choice(["add", "add", "replace", "replace", "del", "append", "prepend"])
        nh = random.choice(v6 if six else v4)
        if random.random() < 0.1:
            nh, p = "", random.choice(kinds) + " " + p
        if op in ("append", "prepend") and (six or nh.startswith("nexthop") or not nh):
            op = "replace"
        metric = " metric 50" if random.random() < 0.1 else ""
        if op == "del":
            f.write(f"route del {p}{metric}\n")
        else:
            f.write(f"route {op} {p}{metric} {nh}\n")
EOF
t0=$(ms)
errs=$(ip -n "$RNS" -force -batch "$BATCH" 2>&1 | grep -c "^Command failed")
t1=$(ms)
t_ge "churn: most commands applied ($errs of 600 refused, e.g. deleting an absent route)" \
	150 "$errs"
if in_sync 10; then
	t_ok "600 random adds/replaces/deletes/appends (ECMP, metrics, both families) converged"
else
	t_fail "churn did not converge"
fi
echo "# churn: ip -batch took $((t1 - t0)) ms; both judges agreed $(( $(ms) - t1 )) ms after it ended"
echo "# kernel: $(r_ip route show | wc -l) IPv4 and $(r_ip -6 route show | wc -l) IPv6 main routes"

# ---- 4. kill -9: the supervisor restarts fibsync, which catches up ----
old=$(fs_pid)
sup=$(sup_pid)
kill -STOP "$sup"	# hold the restart, so the change below surely happens while it is dead
kill -9 "$old"
r_ip route add 10.201.0.0/16 via 10.2.0.3
r_ip route del 10.99.0.0/16
r_ip -6 route add 2001:db8:201::/48 via 2001:db8:2::2
kill -CONT "$sup"
new=
for _ in $(seq 50); do
	new=$(fs_pid)
	[ -n "$new" ] && [ "$new" != "$old" ] && break
	sleep 0.1
done
t_check "the supervisor restarted fibsync ($old -> $new)" test -n "$new" -a "$new" != "$old"
t_check "changes made while it was dead are mirrored after the restart" in_sync 5
t_eq "10.99.0.0/16, deleted meanwhile, is gone" \
	"$(x -j fibsync r show | jq '[.[] | select(.prefix == "10.99.0.0/16")] | length')" 0
t_check "10.201.0.0/16, added meanwhile, forwards" ip netns exec "$H0" ping -c 2 -i 0.2 -W 1 10.201.0.1
t_check "the supervisor logged the restart" grep -q "killed by signal 9" "/run/xvr/$NODE/fibsync-r.log"

# ---- 5. a link going down takes its routes along ----
r_ip link set e1 down
t_check "e1 down: routes via e1 leave the BPF FIB" in_sync 5
t_eq "no BPF route is out of port p1 any more" \
	"$(x -j fibsync r show | jq "[.. | objects | select(.dev? == \"$P1\")] | length")" 0
r_ip link set e1 up
t_check "e1 up again: connected routes are back" in_sync 5
# The log (router added with -v): "fibsync r: KIND sync of N messages in MS ms: ... [(NOTE)]"
LOG=/run/xvr/$NODE/fibsync-r.log
grep "sync of" "$LOG" | sed 's/.* in \([0-9]*\) ms:.*/\1/' | sort -n |
	awk '{ v[NR] = $1 } END { if (NR) printf "# fibsync batches: %d, time from first event " \
		"to applied: median %d ms, max %d ms\n", NR, v[int((NR + 1) / 2)], v[NR] }'
grep "sync of" "$LOG" | sed 's/.*: \([a-z]*\) sync of.*ms:[^(]*\(([^)]*)\)\{0,1\}$/\1 \2/' |
	sort | uniq -c | sed 's/^ */# /'
t_eq "fibsync logged no warnings" "$(grep -c 'fibsync r: .*error\|cannot' "/run/xvr/$NODE/fibsync-r.log")" 0

# ---- 6. router del stops fibsync; nothing is left ----
sup=$(sup_pid)
pid=$(fs_pid)
x router del r
t_fails "fibsync process is gone" running "$pid"
t_fails "its supervisor is gone" running "$sup"
t_check "no pid or log file left" test ! -e "/run/xvr/$NODE/fibsync-r.pid" -a ! -e "/run/xvr/$NODE/fibsync-r.log"
t_eq "no process of the node's runs" "$(pgrep -f -- "-n $NODE " | wc -l)" 0

x router add n mode netns
t_eq "a netns-mode router gets no fibsync" "$(x -j router show n | jq -r '.fibsync_pid // "none"')" none
x router add s fibsync off
t_eq "'fibsync off' starts none" "$(x -j router show s | jq -r '.fibsync_pid // "none"')" none
x node down
T_NODES=()
t_check "node down leaves no run directory" test ! -e "/run/xvr/$NODE"
