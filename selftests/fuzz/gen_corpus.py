#!/usr/bin/python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Writes the fuzzers' seed corpus (selftests/fuzz/corpus/seed-*).

Each input is two control bytes and a frame (see fuzz_parse.c and
fuzz_progs.c for what the control bytes select). The frames cover every
header the parser walks: VLAN and QinQ tags, IPv4 with options and
fragments, IPv6 with extension headers and fragments, UDP, TCP, GRE with
and without key and checksum, EGRE, ARP; addresses and ports hit the
fuzzers' rules and routes. Regression inputs (crashes once found) live
beside them as regress-*; this script leaves those alone.
"""
import os
import sys

from scapy.all import (ARP, GRE, IP, TCP, UDP, Dot1AD, Dot1Q, Ether, IPv6,
                       IPv6ExtHdrDestOpt, IPv6ExtHdrFragment,
                       IPv6ExtHdrHopByHop, IPv6ExtHdrRouting, Raw)

MAC_RULE = "02:00:00:00:00:11"   # fuzz_parse: mac rule on port A
ETH = Ether(src="02:00:00:00:0e:01", dst="02:00:00:00:00:01")
PAY = Raw(b"xvr-fuzz" * 3)

frames = {
    "udp4": ETH / IP(src="192.0.2.1", dst="10.1.2.3") / UDP(sport=40000, dport=7) / PAY,
    "udp4-vxlan": ETH / IP(src="192.0.2.1", dst="10.9.9.9") / UDP(dport=4789) / PAY,
    "udp4-5000": ETH / IP(src="192.0.2.1", dst="10.1.2.3") / UDP(dport=5000) / PAY,
    "tcp4": ETH / IP(src="192.0.2.1", dst="10.2.0.1") / TCP(sport=1234, dport=80) / PAY,
    "tcp4-ttl1": ETH / IP(src="192.0.2.1", dst="10.1.5.5", ttl=1) / TCP() / PAY,
    "ip4-opts": ETH / IP(src="192.0.2.1", dst="10.1.2.3", options=b"\x01\x01\x01\x00") / UDP() / PAY,
    "ip4-frag1": ETH / IP(src="192.0.2.1", dst="10.1.2.3", flags="MF") / UDP() / PAY,
    "ip4-frag2": ETH / IP(src="192.0.2.1", dst="10.1.2.3", frag=3) / PAY,
    "ip4-mcast": ETH / IP(src="192.0.2.1", dst="224.0.0.5") / PAY,
    "gre4-key": ETH / IP(src="198.51.100.2", dst="198.51.100.1") / GRE(key_present=1, key=100, proto=0x6558) / ETH / IP(dst="10.1.2.3") / UDP() / PAY,
    "gre4-csum-key": ETH / IP(dst="10.3.0.1") / GRE(chksum_present=1, key_present=1, key=200, proto=0x0800) / IP(dst="10.4.0.1") / PAY,
    "gre4-plain": ETH / IP(dst="10.3.0.1") / GRE(proto=0x0800) / IP() / PAY,
    "vlan100": ETH / Dot1Q(vlan=100, prio=5) / IP(src="192.0.2.1", dst="10.1.2.3") / UDP() / PAY,
    "vlan200": ETH / Dot1Q(vlan=200) / IPv6(src="2001:db8:ffff::1", dst="2001:db8::2") / UDP() / PAY,
    "qinq": Ether(src="02:00:00:00:0e:01", dst=MAC_RULE) / Dot1AD(vlan=100) / Dot1Q(vlan=7) / IP(dst="10.1.0.1") / UDP() / PAY,
    "vlan3": ETH / Dot1Q(vlan=1) / Dot1Q(vlan=2) / Dot1Q(vlan=3) / IP() / PAY,
    "mac-rule": Ether(dst=MAC_RULE) / IP(dst="203.0.113.9") / UDP() / PAY,
    "mac-cross": Ether(src="02:00:00:00:0e:01", dst="02:00:00:00:00:77") / IP(src="192.0.2.1", dst="10.1.2.3", ttl=1) / UDP() / PAY,
    "mac-rule2": Ether(src="02:00:00:00:00:22", dst="02:00:00:00:00:22") / IP(src="192.0.2.1", dst="10.2.0.9") / UDP() / PAY,
    "vif4-vlan20": Ether(src="02:00:00:00:0e:04") / Dot1Q(vlan=20) / IP(src="192.0.2.1", dst="10.2.0.9") / UDP() / PAY,
    "fe-tag": Ether(src="02:00:00:00:0e:03", dst="02:00:00:00:00:01", type=0x88b5) / Raw(b"\x00\x0d\x08\x00") / IP(src="192.0.2.1", dst="10.2.0.9") / UDP() / PAY,
    "fe-tag-stack": Ether(src="02:00:00:00:0e:03", dst="02:00:00:00:00:01", type=0x88b5) / Raw(b"\x80\x0d\x08\x06") / ARP(),
    "fe-tag-other": Ether(src="02:00:00:00:0e:01", type=0x88b5) / Raw(b"\x00\x0b\x08\x00") / IP(dst="10.2.0.9") / UDP() / PAY,
    "arp": Ether(src="02:00:00:00:0e:01", dst="ff:ff:ff:ff:ff:ff") / ARP(psrc="10.1.0.2", pdst="10.1.0.1"),
    "udp6": ETH / IPv6(src="2001:db8:ffff::1", dst="2001:db8:1::1") / UDP(dport=4789) / PAY,
    "tcp6": ETH / IPv6(src="2001:db8:ffff::1", dst="2001:db8:1::1") / TCP(dport=443) / PAY,
    "ip6-hbh": ETH / IPv6(src="2001:db8:ffff::1", dst="2001:db8:1::1") / IPv6ExtHdrHopByHop() / UDP() / PAY,
    "ip6-chain": ETH / IPv6(src="2001:db8:ffff::1", dst="2001:db8:1::1") / IPv6ExtHdrDestOpt() / IPv6ExtHdrRouting() / IPv6ExtHdrDestOpt() / TCP() / PAY,
    "ip6-frag1": ETH / IPv6(src="2001:db8:ffff::1", dst="2001:db8:1::1") / IPv6ExtHdrFragment(m=1) / UDP() / PAY,
    "ip6-frag2": ETH / IPv6(src="2001:db8:ffff::1", dst="2001:db8:1::1") / IPv6ExtHdrFragment(offset=4) / PAY,
    "ip6-gre": ETH / IPv6(dst="2001:db8::9") / GRE(key_present=1, key=100, proto=0x6558) / ETH / IP() / PAY,
    "ip6-linklocal": ETH / IPv6(src="fe80::1", dst="ff02::5") / PAY,
}

# Control bytes (device, program): ingress on both ports; egress from a
# router 1 VIF, router 2's tagged VIF and router 3's engine.
CONTROLS = [b"\x00\x00", b"\x01\x00", b"\x02\x01", b"\x05\x01", b"\x07\x01"]


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus")
    os.makedirs(out, exist_ok=True)
    for name, pkt in sorted(frames.items()):
        raw = bytes(pkt)
        for i, ctl in enumerate(CONTROLS):
            with open(os.path.join(out, f"seed-{name}-{i}"), "wb") as f:
                f.write(ctl + raw)


if __name__ == "__main__":
    main()
