/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Per-router FIB lookups. Included after vmlinux.h, bpf_helpers.h,
 * bpf_endian.h, xvr/xvr.h and the outer maps xvr_fib4_l1, xvr_fib4,
 * xvr_fib4_runs and xvr_fib6 (maps.h).
 *
 * IPv4 walks the router's DIR-16-8-8 table (layout in xvr.h): at most three
 * levels, no loop. User space rewrites the live bank in place while we
 * read it; every entry changes in one 32-bit store, and a group is filled
 * before the entry linking to it is published, so each read below sees
 * either the old or the new route for the address, never a half state.
 * IPv6 is one longest-prefix lookup in the router's trie.
 */
#ifndef XVR_BPF_FIB_H
#define XVR_BPF_FIB_H

/* Index of entry idx of group g in the groups map. */
static __always_inline __u32 fib4_group_index(__u32 g, __u32 idx)
{
	return g * XVR_FIB4_GROUP_SIZE + idx;
}

/*
 * The entry of a valid runs record r (n != 0) at index idx: a binary search
 * for the last run starting at or before idx over all XVR_FIB4_RUNS (48)
 * slots: start[32] and start[16] pick a third, and each later step stays
 * below 48. A global function, so that the verifier checks its branches
 * once and not for every path of the program that reaches the lookup.
 */
__noinline __u32 xvr_fib4_runs_entry(const struct xvr_fib4_runs *r, __u32 idx)
{
	__u32 i = 0;

	if (!r)
		return 0;
	if (r->start[32] <= idx)
		i = 32;
	else if (r->start[16] <= idx)
		i = 16;
	if (r->start[i + 8] <= idx)
		i += 8;
	if (r->start[i + 4] <= idx)
		i += 4;
	if (r->start[i + 2] <= idx)
		i += 2;
	if (r->start[i + 1] <= idx)
		i += 1;
	return r->e[i];
}

/*
 * Nexthop id of the longest prefix covering daddr in router vr_id's table
 * (bank: the router's fib4_bank), or 0 (no table, no route). Level 1 is
 * one inlined array read (every level-1 map has the same size). Level 2
 * reads the group's runs record where it is valid, and the group itself
 * otherwise; level 3 (prefixes longer than /24) reads the group. The groups
 * map comes from an outer lookup whose size the verifier cannot know, so
 * each bpf_map_lookup_elem() on it can return NULL (index past this table's
 * size) and is checked. Most addresses of a table end in level 1, and pay
 * neither the groups' outer lookup nor a helper call.
 */
static __always_inline __u32 fib4_lookup(__u32 vr_id, __u32 bank, __be32 daddr)
{
	__u32 slot = XVR_FIB4_SLOT(vr_id, bank);
	__u32 addr = bpf_ntohl(daddr);
	__u32 top = addr >> (32 - XVR_FIB4_L1_BITS);
	__u32 idx = top >> XVR_FIB4_LINE_BITS, entry, *p;
	const struct xvr_fib4_runs *runs;
	struct xvr_fib4_line *line;
	void *table;

	table = bpf_map_lookup_elem(&xvr_fib4_l1, &slot);
	if (!table)
		return 0;
	line = bpf_map_lookup_elem(table, &idx);
	if (!line)
		return 0;
	entry = line->e[top & (XVR_FIB4_LINE - 1)];
	if (!(entry & XVR_FIB_EXT))
		return entry & XVR_FIB_NH_MASK;

	/* Level 2: the group's runs record where it has a valid one. */
	runs = NULL;
	table = bpf_map_lookup_elem(&xvr_fib4_runs, &slot);
	if (table) {
		idx = entry & XVR_FIB_NH_MASK;
		runs = bpf_map_lookup_elem(table, &idx);
		if (runs && !runs->n)
			runs = NULL;
	}
	if (runs) {
		entry = xvr_fib4_runs_entry(runs, (addr >> 8) & 0xff);
		if (!(entry & XVR_FIB_EXT))
			return entry & XVR_FIB_NH_MASK;
	}
	table = bpf_map_lookup_elem(&xvr_fib4, &slot);
	if (!table)
		return 0;
	if (!runs) {
		idx = fib4_group_index(entry & XVR_FIB_NH_MASK, (addr >> 8) & 0xff);
		p = bpf_map_lookup_elem(table, &idx);
		if (!p)
			return 0;
		entry = *p;
	}
	if (entry & XVR_FIB_EXT) {
		idx = fib4_group_index(entry & XVR_FIB_NH_MASK, addr & 0xff);
		p = bpf_map_lookup_elem(table, &idx);
		if (!p)
			return 0;
		entry = *p;
	}
	/* Level-3 entries never link further; a link here is a corrupt table. */
	if (entry & XVR_FIB_EXT)
		return 0;
	return entry & XVR_FIB_NH_MASK;
}

/*
 * Nexthop id of the longest prefix covering the 16-byte address at daddr16
 * in router vr_id's trie, or 0. daddr16 may point into the packet; the
 * caller has bounds-checked all 16 bytes.
 */
static __always_inline __u32 fib6_lookup(__u32 vr_id, const __u8 *daddr16)
{
	struct xvr_lpm6_key key = { .prefixlen = 128 };
	void *trie;
	__u32 *nh;

	trie = bpf_map_lookup_elem(&xvr_fib6, &vr_id);
	if (!trie)
		return 0;
	__builtin_memcpy(key.addr, daddr16, sizeof(key.addr));
	nh = bpf_map_lookup_elem(trie, &key);
	return nh ? *nh : 0;
}

#endif /* XVR_BPF_FIB_H */
