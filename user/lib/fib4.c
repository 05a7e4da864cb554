// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The IPv4 DIR-16-8-8 table (DPDK rte_lpm's algorithm), on its own: insert,
 * remove and build over a table in memory or in a mapped BPF array, with no
 * syscall of its own. fib.c puts it into maps; the engine uses it as is.
 *
 * Every entry is written with a single 32-bit store, and a new group is
 * initialised with its covering entry before the link to it is published
 * with a release store: a concurrent reader sees, for every address, the
 * route before or the route after a change.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include "common.h"
#include "fib.h"
#include "fib_int.h"

static inline bool fib4_is_link(__u32 e)
{
	return e & XVR_FIB_EXT;
}

static inline __u32 fib4_depth(__u32 e)
{
	return (e >> XVR_FIB_DEPTH_SHIFT) & XVR_FIB_DEPTH_MASK;
}

static inline void fib4_write(__u32 *p, __u32 v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

int fib4_table_alloc(struct fib4_table *t, __u32 groups)
{
	if (groups > FIB4_GROUPS_LIMIT)
		return -E2BIG;
	t->ent = calloc(fib4_table_entries(groups), sizeof(__u32));
	if (!t->ent)
		return -ENOMEM;
	t->stride = 1;
	t->groups_max = groups;
	t->groups_used = 0;
	t->window = NULL;
	t->l1 = NULL;
	t->grp = NULL;
	return 0;
}

void fib4_table_free(struct fib4_table *t)
{
	free(t->ent);
	t->ent = NULL;
	t->groups_max = t->groups_used = 0;
}

/*
 * Take the next free group, fill it with the entry it refines and return
 * the link to it. The counter in group 0 moves first: if we die before the
 * link is published the group is merely leaked, never handed out twice.
 */
static __u32 fib4_group_new(struct fib4_table *t, __u32 fill)
{
	__u32 g = ++t->groups_used;
	size_t base = fib4_group_base(g);

	fib4_write(fib4_slot(t, fib4_group_base(0)), g);
	for (__u32 i = 0; i < FIB4_GS; i++)
		*fib4_slot(t, base + i) = fill;
	return XVR_FIB_EXT | g;
}

/* Make the filled group visible only after its contents (pairs with XDP's dependent read). */
static void fib4_publish(__u32 *slot, __u32 link)
{
	__atomic_store_n(slot, link, __ATOMIC_RELEASE);
}

/* Group g (starting at base) is about to change: its runs record goes first. */
static void fib4_touch(struct fib4_table *t, size_t base)
{
	if (t->touch && base >= FIB4_L1)
		t->touch(t, (base - FIB4_L1) / FIB4_GS);
}

/*
 * Write v over entries [first, first + count) of the level starting at base
 * wherever the current route is not more specific than plen, descending
 * into groups, whose whole range lies inside the prefix.
 */
static void fib4_paint(struct fib4_table *t, size_t base, __u32 first, __u32 count, int plen,
		       __u32 v)
{
	fib4_touch(t, base);
	for (__u32 i = first; i < first + count; i++) {
		__u32 *p = fib4_slot(t, base + i);
		__u32 e = fib4_read(p);

		if (fib4_is_link(e))
			fib4_paint(t, fib4_group_base(e & XVR_FIB_NH_MASK), 0, FIB4_GS, plen, v);
		else if (fib4_depth(e) <= (__u32)plen)
			fib4_write(p, v);
	}
}

/* Replace the entries route plen owns in the range by r (its parent, or empty). */
static void fib4_unpaint(struct fib4_table *t, size_t base, __u32 first, __u32 count, int plen,
			 __u32 r)
{
	fib4_touch(t, base);
	for (__u32 i = first; i < first + count; i++) {
		__u32 *p = fib4_slot(t, base + i);
		__u32 e = fib4_read(p);

		if (fib4_is_link(e))
			fib4_unpaint(t, fib4_group_base(e & XVR_FIB_NH_MASK), 0, FIB4_GS, plen, r);
		else if ((e & XVR_FIB_NH_MASK) && fib4_depth(e) == (__u32)plen)
			fib4_write(p, r);
	}
}

static bool fib4_prefix_ok(__u32 addr, int plen)
{
	return plen >= 0 && plen <= 32 && !(addr & ~prefix_mask4(plen));
}

int fib4_insert(struct fib4_table *t, __u32 addr, int plen, __u32 nh)
{
	__u32 v = XVR_FIB_ENTRY(nh, plen), need = 0, e1, e2, *p1, *p2;
	size_t g2;

	if (!fib4_prefix_ok(addr, plen) || !nh_ok(nh))
		return -EINVAL;
	if (plen <= 16) {
		fib4_paint(t, 0, addr >> 16, 1u << (16 - plen), plen, v);
		return 0;
	}

	/* Count the groups first so that -ENOSPC leaves the table untouched. */
	p1 = fib4_slot(t, addr >> 16);
	e1 = fib4_read(p1);
	if (!fib4_is_link(e1)) {
		need = plen > 24 ? 2 : 1;
	} else if (plen > 24) {
		e2 = fib4_read(fib4_slot(t, fib4_group_base(e1 & XVR_FIB_NH_MASK) +
					    ((addr >> 8) & 0xff)));
		need = !fib4_is_link(e2);
	}
	if (need > t->groups_max - t->groups_used)
		return -ENOSPC;

	if (!fib4_is_link(e1)) {
		e1 = fib4_group_new(t, e1);
		fib4_publish(p1, e1);
	}
	g2 = fib4_group_base(e1 & XVR_FIB_NH_MASK);
	if (plen <= 24) {
		fib4_paint(t, g2, (addr >> 8) & 0xff, 1u << (24 - plen), plen, v);
		return 0;
	}

	p2 = fib4_slot(t, g2 + ((addr >> 8) & 0xff));
	e2 = fib4_read(p2);
	if (!fib4_is_link(e2)) {
		e2 = fib4_group_new(t, e2);
		fib4_touch(t, g2);
		fib4_publish(p2, e2);
	}
	fib4_paint(t, fib4_group_base(e2 & XVR_FIB_NH_MASK), addr & 0xff, 1u << (32 - plen), plen,
		   v);
	return 0;
}

int fib4_remove(struct fib4_table *t, __u32 addr, int plen, __u32 parent_nh, int parent_plen)
{
	__u32 r = 0, e1, e2;
	size_t g2;

	if (!fib4_prefix_ok(addr, plen))
		return -EINVAL;
	if (parent_nh) {
		if (!nh_ok(parent_nh) || parent_plen < 0 || parent_plen >= plen)
			return -EINVAL;
		r = XVR_FIB_ENTRY(parent_nh, parent_plen);
	}
	if (plen <= 16) {
		fib4_unpaint(t, 0, addr >> 16, 1u << (16 - plen), plen, r);
		return 0;
	}

	/* A route longer than /16 always left a link behind (links are never undone). */
	e1 = fib4_read(fib4_slot(t, addr >> 16));
	if (!fib4_is_link(e1))
		return 0;
	g2 = fib4_group_base(e1 & XVR_FIB_NH_MASK);
	if (plen <= 24) {
		fib4_unpaint(t, g2, (addr >> 8) & 0xff, 1u << (24 - plen), plen, r);
		return 0;
	}
	e2 = fib4_read(fib4_slot(t, g2 + ((addr >> 8) & 0xff)));
	if (!fib4_is_link(e2))
		return 0;
	fib4_unpaint(t, fib4_group_base(e2 & XVR_FIB_NH_MASK), addr & 0xff, 1u << (32 - plen), plen,
		     r);
	return 0;
}

__u32 fib4_lookup(const struct fib4_table *t, __u32 addr)
{
	__u32 e = fib4_read(fib4_slot(t, addr >> 16));

	if (fib4_is_link(e))
		e = fib4_read(fib4_slot(t, fib4_group_base(e & XVR_FIB_NH_MASK) +
					   ((addr >> 8) & 0xff)));
	if (fib4_is_link(e))
		e = fib4_read(fib4_slot(t, fib4_group_base(e & XVR_FIB_NH_MASK) + (addr & 0xff)));
	return fib4_is_link(e) ? 0 : e & XVR_FIB_NH_MASK;
}

static __u32 route_addr4(const struct fib_route *r)
{
	__u32 a;

	memcpy(&a, r->addr, sizeof(a));
	return ntohl(a);
}

/*
 * A group per /16 holding a route longer than /16, and one per /24 holding
 * a route longer than /24: exactly what inserting the set allocates.
 */
long fib4_groups_needed(const struct fib_route *routes, size_t n)
{
	__u64 *l2, *l3;
	long needed = 0;

	l2 = calloc(FIB4_L1 / 64, sizeof(*l2));
	l3 = calloc((1u << 24) / 64, sizeof(*l3));
	if (!l2 || !l3) {
		free(l2);
		free(l3);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		__u32 a, b;

		if (routes[i].family != AF_INET || routes[i].plen <= 16)
			continue;
		a = route_addr4(&routes[i]);
		b = a >> 16;
		if (!(l2[b / 64] & (1ull << (b % 64)))) {
			l2[b / 64] |= 1ull << (b % 64);
			needed++;
		}
		if (routes[i].plen <= 24)
			continue;
		b = a >> 8;
		if (!(l3[b / 64] & (1ull << (b % 64)))) {
			l3[b / 64] |= 1ull << (b % 64);
			needed++;
		}
	}
	free(l2);
	free(l3);
	return needed;
}

/*
 * Indices of the routes of family in address order (IPv6: by the top 64
 * bits), stable, by an LSD radix sort. Bulk loads insert in this order: the
 * trie walks and the DIR table writes then stay in cache, which halves the
 * time of a large load against insertion in input order.
 */
int routes_by_addr(const struct fib_route *routes, size_t n, int family, __u32 **order,
			  size_t *count)
{
	struct rec {
		__u64 key;
		__u32 idx;
	} *a, *b, *tmp;
	int passes = family == AF_INET ? 5 : 8;
	size_t m = 0;

	*order = NULL;
	*count = 0;
	if (n > UINT32_MAX)
		return -E2BIG;
	a = malloc((n ? n : 1) * sizeof(*a));
	b = malloc((n ? n : 1) * sizeof(*b));
	if (!a || !b) {
		free(a);
		free(b);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		const struct fib_route *r = &routes[i];
		__u64 key = 0;

		if (r->family != family)
			continue;
		if (family == AF_INET) {
			key = (__u64)route_addr4(r) << 8 | r->plen;
		} else {
			for (int j = 0; j < 8; j++)
				key = key << 8 | r->addr[j];
		}
		a[m].key = key;
		a[m++].idx = i;
	}
	for (int p = 0; p < passes; p++) {
		size_t pos[256] = { 0 }, sum = 0;
		int shift = 8 * p;

		for (size_t i = 0; i < m; i++)
			pos[(a[i].key >> shift) & 0xff]++;
		for (int d = 0; d < 256; d++) {
			size_t c = pos[d];

			pos[d] = sum;
			sum += c;
		}
		for (size_t i = 0; i < m; i++)
			b[pos[(a[i].key >> shift) & 0xff]++] = a[i];
		tmp = a;
		a = b;
		b = tmp;
	}
	free(b);
	/* Reuse the records' memory for the result. */
	*order = (__u32 *)a;
	for (size_t i = 0; i < m; i++)
		(*order)[i] = a[i].idx;
	*count = m;
	return 0;
}

/*
 * Shorter prefixes first: a longer one is then painted over them and never
 * repainted, and no short prefix has to descend into groups. The counting
 * sort is stable, so the routes of one length stay in address order and a
 * later duplicate still wins.
 */
int fib4_build_sorted(struct fib4_table *t, const struct fib_route *routes,
			     const __u32 *by_addr, size_t n4)
{
	size_t start[34] = { 0 };
	__u32 *order;
	int err = 0;

	for (size_t i = 0; i < n4; i++)
		start[routes[by_addr[i]].plen + 1]++;
	for (int l = 1; l < 34; l++)
		start[l] += start[l - 1];
	order = malloc((n4 ? n4 : 1) * sizeof(*order));
	if (!order)
		return -ENOMEM;
	for (size_t i = 0; i < n4; i++)
		order[start[routes[by_addr[i]].plen]++] = by_addr[i];

	for (size_t i = 0; i < FIB4_L1; i++)
		*fib4_slot(t, i) = 0;
	t->groups_used = 0;
	*fib4_slot(t, fib4_group_base(0)) = 0;
	for (size_t i = 0; i < n4 && !err; i++) {
		const struct fib_route *r = &routes[order[i]];

		err = fib4_insert(t, route_addr4(r), r->plen, r->nh);
	}
	free(order);
	return err;
}

int fib4_build(struct fib4_table *t, const struct fib_route *routes, size_t n)
{
	__u32 *by_addr;
	size_t n4;
	int err;

	for (size_t i = 0; i < n; i++)
		if (routes[i].family == AF_INET && !route_ok(&routes[i]))
			return -EINVAL;
	err = routes_by_addr(routes, n, AF_INET, &by_addr, &n4);
	if (err)
		return err;
	err = fib4_build_sorted(t, routes, by_addr, n4);
	free(by_addr);
	return err;
}

/*
 * Group g as runs of entries that answer alike (the same nexthop, or the
 * same link), for xvr_fib4_runs; false, and r->n 0, if it has more than
 * XVR_FIB4_RUNS of them.
 */
bool fib4_group_runs(const struct fib4_table *t, __u32 g, struct xvr_fib4_runs *r)
{
	const __u32 same = XVR_FIB_EXT | XVR_FIB_NH_MASK;
	size_t base = fib4_group_base(g);
	__u32 n = 0;

	memset(r, 0, sizeof(*r));
	for (__u32 i = 0; i < FIB4_GS; i++) {
		__u32 e = fib4_read(fib4_slot(t, base + i));

		if (n && !((e ^ r->e[n - 1]) & same))
			continue;
		if (n == XVR_FIB4_RUNS) {
			memset(r, 0, sizeof(*r));
			return false;
		}
		r->e[n] = e;
		r->start[n++] = i;
	}
	for (__u32 i = n; i < XVR_FIB4_RUNS; i++) {
		r->e[i] = r->e[n - 1];
		r->start[i] = 0xff;
	}
	r->n = n;
	return true;
}
