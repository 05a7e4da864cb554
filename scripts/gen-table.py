#!/usr/bin/python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Writes a synthetic routing table for benchmarks and tests.

Prefix lengths follow the shape of today's default-free zone: for IPv4
mostly /24 (about 60%), then /22-/23, /16-/21 and a few /8-/15; for IPv6
mostly /48, then /32-/44. Prefixes may nest (as real tables do) but never
repeat. The same seed always gives the same table.

Output, one route per line, in the form 'xvr route load' reads:

    PREFIX via ADDR lladdr MAC dev DEV

With several --via/--lladdr/--dev values the routes take the nexthops in
turn. --dst-file also writes random addresses that each fall inside some
prefix of the table (prefixes picked uniformly), for xvr-pktgen -f.
"""

import argparse
import ipaddress
import random
import sys

# Share of prefixes per length. IPv4 after the 2024 DFZ (~1M routes) scaled
# down; the rest of the mass goes to /24.
V4_SHARES = {
    8: 0.00002, 9: 0.00002, 10: 0.00004, 11: 0.0001, 12: 0.0003,
    13: 0.0006, 14: 0.0011, 15: 0.0019, 16: 0.013, 17: 0.008, 18: 0.014,
    19: 0.025, 20: 0.05, 21: 0.05, 22: 0.13, 23: 0.11,
}
V4_BULK = 24

V6_SHARES = {
    19: 0.0005, 20: 0.001, 24: 0.002, 28: 0.01, 29: 0.025, 30: 0.005,
    31: 0.003, 32: 0.12, 33: 0.01, 34: 0.01, 35: 0.008, 36: 0.04, 37: 0.005,
    38: 0.007, 39: 0.005, 40: 0.08, 41: 0.005, 42: 0.008, 43: 0.005,
    44: 0.10, 45: 0.008, 46: 0.015, 47: 0.02,
}
V6_BULK = 48

# First octets a public IPv4 table can hold: not 0/8, 10/8, 127/8, 224/3.
V4_FIRST_OCTETS = [o for o in range(1, 224) if o not in (10, 127)]


def length_counts(n, shares, bulk):
    """Splits n prefixes over lengths; rounding goes to the bulk length."""
    counts = {plen: int(round(n * share)) for plen, share in shares.items()}
    counts[bulk] = n - sum(counts.values())
    if counts[bulk] < 0:
        raise ValueError("table too small for the distribution")
    return counts


def random_v4_network(rng, plen):
    addr = (rng.choice(V4_FIRST_OCTETS) << 24) | rng.getrandbits(24)
    mask = (0xFFFFFFFF << (32 - plen)) & 0xFFFFFFFF
    return addr & mask


def random_v6_network(rng, plen):
    # Global unicast 2000::/3.
    addr = (0b001 << 125) | rng.getrandbits(125)
    mask = ((1 << 128) - 1) ^ ((1 << (128 - plen)) - 1)
    return addr & mask


def max_prefixes(family, plen):
    if family == 4:
        # 221 usable first octets, then the remaining bits.
        return len(V4_FIRST_OCTETS) * (1 << max(plen - 8, 0))
    return 1 << min(plen - 3, 62)


def make_table(n, family, seed):
    rng = random.Random(seed)
    shares, bulk = (V4_SHARES, V4_BULK) if family == 4 else (V6_SHARES, V6_BULK)
    pick = random_v4_network if family == 4 else random_v6_network
    counts = length_counts(n, shares, bulk)
    table = []
    for plen in sorted(counts):
        want = counts[plen]
        if want > max_prefixes(family, plen):
            raise ValueError(f"/{plen}: {want} prefixes do not fit")
        seen = set()
        while len(seen) < want:
            seen.add(pick(rng, plen))
        table.extend((net, plen) for net in sorted(seen))
    # Shuffle so that a table loaded line by line is not sorted by length.
    rng.shuffle(table)
    return table


def fmt_prefix(family, net, plen):
    if family == 4:
        return f"{ipaddress.IPv4Address(net)}/{plen}"
    return f"{ipaddress.IPv6Address(net)}/{plen}"


def random_dsts(table, family, count, seed):
    """count addresses, each inside a prefix picked uniformly from table."""
    rng = random.Random(seed ^ 0x5EED)
    bits = 32 if family == 4 else 128
    out = []
    for _ in range(count):
        net, plen = table[rng.randrange(len(table))]
        host = rng.getrandbits(bits - plen) if plen < bits else 0
        addr = net | host
        out.append(str(ipaddress.IPv4Address(addr) if family == 4
                       else ipaddress.IPv6Address(addr)))
    return out


def nexthops(args):
    """Zips --via/--lladdr/--dev; a single value is used for every nexthop."""
    vias, macs, devs = args.via, args.lladdr, args.dev
    n = max(len(vias), len(macs), len(devs))
    for name, lst in (("--via", vias), ("--lladdr", macs), ("--dev", devs)):
        if len(lst) not in (1, n):
            sys.exit(f"gen-table: {name} given {len(lst)} times; "
                     f"want 1 or {n}")
    pick = lambda lst, i: lst[i] if len(lst) > 1 else lst[0]
    return [f"via {pick(vias, i)} lladdr {pick(macs, i)} dev {pick(devs, i)}"
            for i in range(n)]


def main():
    ap = argparse.ArgumentParser(
        description="Write a synthetic routing table (and destinations).")
    ap.add_argument("-n", "--prefixes", type=int, default=170000,
                    help="number of prefixes (default 170000)")
    ap.add_argument("--family", type=int, choices=(4, 6), default=4)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--via", action="append",
                    help="nexthop address (repeat for several nexthops)")
    ap.add_argument("--lladdr", action="append",
                    help="nexthop MAC (repeat, or once for all)")
    ap.add_argument("--dev", action="append",
                    help="egress device (repeat, or once for all)")
    ap.add_argument("-o", "--output", default="-",
                    help="table file (default: stdout)")
    ap.add_argument("--dst-file", help="also write destination addresses here")
    ap.add_argument("--dst-count", type=int, default=65536,
                    help="destination addresses to write (default 65536)")
    ap.add_argument("--stats", action="store_true",
                    help="print the prefix-length histogram to stderr")
    args = ap.parse_args()

    if args.prefixes < 1:
        sys.exit("gen-table: --prefixes must be positive")
    if args.via is None:
        args.via = ["198.51.100.2" if args.family == 4 else "2001:db8:ffff::2"]
    if args.lladdr is None:
        args.lladdr = ["02:00:00:00:00:02"]
    if args.dev is None:
        args.dev = ["eth1"]
    for v in args.via:
        try:
            if ipaddress.ip_address(v).version != args.family:
                sys.exit(f"gen-table: --via {v} is not IPv{args.family}")
        except ValueError:
            sys.exit(f"gen-table: --via {v}: not an address")

    try:
        table = make_table(args.prefixes, args.family, args.seed)
    except ValueError as e:
        sys.exit(f"gen-table: {e}")
    nhs = nexthops(args)

    out = sys.stdout if args.output == "-" else open(args.output, "w")
    with out:
        for i, (net, plen) in enumerate(table):
            out.write(f"{fmt_prefix(args.family, net, plen)} {nhs[i % len(nhs)]}\n")

    if args.dst_file:
        with open(args.dst_file, "w") as f:
            for a in random_dsts(table, args.family, args.dst_count, args.seed):
                f.write(a + "\n")

    if args.stats:
        hist = {}
        for _, plen in table:
            hist[plen] = hist.get(plen, 0) + 1
        for plen in sorted(hist):
            print(f"/{plen}: {hist[plen]} ({100.0 * hist[plen] / len(table):.2f}%)",
                  file=sys.stderr)


if __name__ == "__main__":
    main()
