/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What fib.c (the maps) and fib4.c (the DIR-16-8-8 algorithm) share: entry
 * access to a table and the checks on a route. Not for other users: fib.h.
 */
#ifndef XVR_FIB_INT_H
#define XVR_FIB_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/types.h>
#include "fib.h"

#define FIB4_L1		XVR_FIB4_L1_SIZE
#define FIB4_GS		XVR_FIB4_GROUP_SIZE

/* Largest group count whose table still fits a map's __u32 max_entries. */
#define FIB4_GROUPS_LIMIT ((__u32)((UINT32_MAX - FIB4_L1) / FIB4_GS - 1))

static inline __u32 *fib4_slot(const struct fib4_table *t, size_t i)
{
	if (t->ent)
		return &t->ent[i * t->stride];
	if (i < FIB4_L1 && t->l1)
		return &t->l1[i];
	if (i >= FIB4_L1 && t->grp)
		return &t->grp[(i - FIB4_L1) * t->stride];
	return t->window(t, i);
}

static inline size_t fib4_group_base(__u32 g)
{
	return FIB4_L1 + (size_t)g * FIB4_GS;
}

/* Relaxed atomics: XDP must never see a torn entry. */
static inline __u32 fib4_read(const __u32 *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static inline __u32 prefix_mask4(int plen)
{
	return plen ? ~0u << (32 - plen) : 0;
}

static inline bool nh_ok(__u32 nh)
{
	return nh && nh < XVR_MAX_NEXTHOPS && nh <= XVR_FIB_NH_MASK;
}

static inline bool route_ok(const struct fib_route *r)
{
	int bits = r->family == AF_INET ? 32 : r->family == AF_INET6 ? 128 : 0;
	int full = r->plen / 8;

	if (!bits || r->plen < 0 || r->plen > bits || !nh_ok(r->nh))
		return false;
	if (r->plen % 8 && (r->addr[full] & (0xff >> (r->plen % 8))))
		return false;
	for (int i = (r->plen + 7) / 8; i < bits / 8; i++)
		if (r->addr[i])
			return false;
	return true;
}

/*
 * Indices of routes of family in address order (*order, n_out of them;
 * free() it), for building a table or filling a trie in one pass.
 */
int routes_by_addr(const struct fib_route *routes, size_t n, int family, __u32 **order,
		   size_t *count);
/* Fill an empty table from routes[order[0..n)] (order from routes_by_addr). */
int fib4_build_sorted(struct fib4_table *t, const struct fib_route *routes,
		      const __u32 *by_addr, size_t n4);

#endif /* XVR_FIB_INT_H */
