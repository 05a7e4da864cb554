#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Egress anti-spoofing: what a tenant sends out of its VIFs may carry no
# 802.1Q/802.1ad tag of its own and only its router's source MACs, unless
# the VIF was made with 'spoof on'. Two routers share port p1, an xdp-mode
# one (VIF e1, the port default) and a netns-mode one (VIF n1 by MAC, and
# n2 with spoof on); scapy inside each router's namespace sends tagged,
# foreign-source and correct frames; tshark on the port's other side (h2)
# sees only the correct ones, and each router counts its refusals by reason.
set -u
. "$(dirname "$0")/../lib.sh"
t_init egress_guard
t_need jq ethtool tshark
"$PY" -c 'import scapy.all' 2>/dev/null || { t_fail "python3-scapy is missing (run scripts/setup.sh)"; exit 1; }
NODE=$T_P
x() { "$XVR" -n "$NODE" "$@"; }
CAP=$(mktemp /tmp/xvr-egress-guard.XXXXXX)
trap 'rm -f "$CAP" "$CAP.err" "$CAP.txt"; t_cleanup' EXIT

# rx (xdp) ─┐
# rn (netns)┴ p1 ── h2 (tshark)
MAC_N1=02:00:00:5e:01:01 MAC_N2=02:00:00:5e:01:02 MAC_N1B=02:00:00:5e:01:0b
MAC_FOREIGN=02:66:66:66:66:66
t_netns "${T_P}h2"
t_veth "${T_P}p1" "${T_P}h2" eth0 || { t_fail "setup: veth"; exit 1; }
t_node "$NODE" >/dev/null &&
	x port add "${T_P}p1" &&
	x router add rx mode xdp fibsync off && x vif add rx e1 port "${T_P}p1" &&
	x router add rn mode netns && x vif add rn n1 port "${T_P}p1" mac $MAC_N1 &&
	x vif add rn n2 port "${T_P}p1" mac $MAC_N2 spoof on &&
	x classify add rn mac $MAC_N1B port "${T_P}p1" >/dev/null ||
	{ t_fail "setup: node, routers, VIFs"; exit 1; }
MAC_E1=$(x -j vif list rx | jq -r '.[] | select(.ifname == "e1") | .mac')

t_eq "vif list: spoof off by default" "$(x -j vif list rn | jq -r '.[] | select(.ifname == "n1") | .spoof')" false
t_eq "vif list: spoof on" "$(x -j vif list rn | jq -r '.[] | select(.ifname == "n2") | .spoof')" true
t_check "vif list (text) says spoof on" sh -c "'$XVR' -n '$NODE' vif list rn | grep -q 'n2 .*spoof on'"
t_fails "vif add: spoof takes on or off" x vif add rn n3 port "${T_P}p1" mac 02:00:00:5e:01:03 spoof yes
t_eq "a rejected vif add made no VIF" "$(x -j vif list rn | jq length)" 2

N=20
GOOD=4	# kinds of correct frames, N of each
# Capture on h2 the test's UDP frames, tagged or not (the dport says which
# case a frame is), until the correct ones are in: the refused frames are
# sent first, so any that leaked would be in the capture by then.
F="udp portrange 7000-7200"
ip netns exec "${T_P}h2" tshark -n -q -i eth0 -f "$F or (vlan and $F)" -c $((GOOD * N)) \
	-a duration:120 -w "$CAP" >/dev/null 2>"$CAP.err" &
CAP_PID=$!
T_PIDS+=($CAP_PID)
for _ in $(seq 300); do grep -q "Capturing on" "$CAP.err" && break; sleep 0.1; done
grep -q "Capturing on" "$CAP.err" || { t_fail "tshark did not start: $(cat "$CAP.err")"; exit 1; }

# send ROUTER IFNAME DPORT/SRC_MAC[/VLAN[/OUTER_VLAN]]...: N UDP frames to h2
# of each kind, in that order, by scapy in the router's namespace (one
# process per router: scapy takes seconds to start on a busy machine).
send() {
	local r=$1 ifname=$2
	shift 2
	ip netns exec "xvr-$NODE-$r" "$PY" - "$ifname" $N "$@" <<'EOF'
import sys
from scapy.layers.l2 import Ether, Dot1Q, Dot1AD
from scapy.layers.inet import IP, UDP
from scapy.packet import Raw
from scapy.sendrecv import sendp
ifname, count = sys.argv[1], int(sys.argv[2])
for case in sys.argv[3:]:
    f = case.split("/")
    dport, src = int(f[0]), f[1]
    vlan = int(f[2]) if len(f) > 2 else 0
    outer = int(f[3]) if len(f) > 3 else 0
    l3 = IP(src="10.9.0.1", dst="10.9.0.2") / UDP(sport=4000, dport=dport) / Raw(b"x" * 32)
    eth = Ether(src=src, dst="02:00:00:5e:ff:02")
    if outer:
        frame = eth / Dot1AD(vlan=outer) / Dot1Q(vlan=vlan) / l3
    elif vlan:
        frame = eth / Dot1Q(vlan=vlan) / l3
    else:
        frame = eth / l3
    sendp(frame, iface=ifname, count=count, verbose=False)
EOF
}
drop_of() { x -j stats "$1" interval 0 | jq -r ".[0].drop[\"$2\"] // 0"; }
tx_of() { t_stat "$NODE" "$1" tx_packets; }
rx_tx0=$(tx_of rx) rn_tx0=$(tx_of rn)

# Refused: tags of their own (802.1Q, 802.1ad, also with spoof on), foreign
# and other routers' MACs. Let through: each VIF's own MAC, the router's
# classify mac rule, anything with spoof on.
send rx e1 7001/"$MAC_E1"/20 7002/"$MAC_E1"/20/30 7003/$MAC_FOREIGN 7004/$MAC_N1 \
	7100/"$MAC_E1"
send rn n1 7005/"$MAC_E1" 7006/$MAC_N1/7 7101/$MAC_N1 7102/$MAC_N1B
send rn n2 7007/$MAC_N2/7 7103/$MAC_FOREIGN
wait $CAP_PID
# One read (tshark takes seconds to start): "DPORT VLAN-IDS" a frame.
tshark -n -r "$CAP" -T fields -e udp.dstport -e vlan.id >"$CAP.txt" 2>/dev/null
count() { awk -v p="$1" '$1 == p' "$CAP.txt" | wc -l; }
for p in 7001 7002 7003 7004 7005 7006 7007; do
	t_eq "h2 saw none of the refused frames (dport $p)" "$(count $p)" 0
done
for p in 7100 7101 7102 7103; do
	t_eq "h2 saw all $N correct frames (dport $p)" "$(count $p)" $N
done
t_eq "h2 saw no tagged frame at all" "$(awk 'NF > 1' "$CAP.txt" | wc -l)" 0

t_eq "rx: egress-vlan counts its 802.1Q and 802.1ad frames" "$(drop_of rx egress-vlan)" $((2 * N))
t_eq "rx: egress-src-mac counts the foreign and rn's MAC" "$(drop_of rx egress-src-mac)" $((2 * N))
t_eq "rn: egress-vlan counts its tagged frames (spoof on too)" "$(drop_of rn egress-vlan)" $((2 * N))
t_eq "rn: egress-src-mac counts rx's MAC" "$(drop_of rn egress-src-mac)" $N
# The routers' own chatter (ND, MLD) leaves as well: at least the good ones.
t_ge "rx: the correct frames were sent (tx)" "$(( $(tx_of rx) - rx_tx0 ))" $N
t_ge "rn: the correct frames were sent (tx)" "$(( $(tx_of rn) - rn_tx0 ))" $((3 * N))
