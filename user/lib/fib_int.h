/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What the FIB library's files share: entry access to a table and the
 * checks on a route (fib4.c, the DIR-16-8-8 algorithm), the maps and their
 * mmap windows (fib_maps.c), the trie helpers (fib_trie.c) and the
 * map-level operations (fib.c) that the bulk replace (fib_bulk.c) uses.
 * Not for other users: fib.h.
 */
#ifndef XVR_FIB_INT_H
#define XVR_FIB_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/types.h>
#include "fib.h"

struct xvr_node;

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

/* The runs record of group g (fib4.c); false if the group has too many runs. */
bool fib4_group_runs(const struct fib4_table *t, __u32 g, struct xvr_fib4_runs *r);

/* ---- the maps (fib_maps.c) ---- */

/*
 * A mapped IPv4 table: its level-1 map (256 KiB, always mapped whole) and
 * its groups map. Building a new table maps all of it (every page gets
 * written anyway); changing a live one maps only the group pages it
 * touches, one window per page, and the whole groups map only if a change
 * touches more than FIB4_MAX_WINDOWS pages (a short prefix over many
 * groups). A built table also has its groups' runs records (written
 * through a mapping when built, invalidated one by one with a map update
 * when a live group changes).
 */
#define FIB4_MAX_WINDOWS 256

struct fib4_map {
	int l1_fd;
	__u32 *l1;		/* the 65536 level-1 entries, 4 bytes apart */
	size_t l1_len;
	int fd;			/* the groups map */
	size_t len;		/* bytes of the groups map, page-rounded */
	size_t page;
	void *whole;		/* the whole groups map, if mapped */
	void **windows;		/* by page number, while !whole */
	size_t *mapped;		/* page numbers in windows[] */
	size_t nmapped;
	int err;		/* first mapping failure */
	__u32 scratch;		/* stands in for an entry that could not be mapped */
	int runs_fd;		/* the groups' runs records, or -1 */
	__u32 runs_count;	/* records in it */
	__u32 runs_written;	/* valid when built (record 0) */
	__u32 runs_aside;	/* set aside since (record 0) */
	struct fib4_table t;
};

int fib4_map_create(__u32 vr, __u32 groups);
int fib4_l1_create(__u32 vr);
int fib4_runs_create(__u32 vr, __u32 groups);
int trie_create(int family, __u32 vr);
int slot_fd(int outer_fd, __u32 vr);
int fib4_map_attach(int l1_fd, int fd, struct fib4_map *m, bool whole);
int fib4_map_runs(struct fib4_map *m, int runs_fd);
void fib4_map_close(struct fib4_map *m);
int fib4_map_build(__u32 vr, const struct fib_route *routes, size_t n, const __u32 *by_addr,
		   size_t n4, struct fib4_map *m);

/* ---- tries (fib_trie.c) ---- */

struct route_vec {
	struct fib_route *v;
	size_t n, cap;
};

size_t trie_key_size(int family);
int trie_first(int fd, void *first);
int trie_has(int fd, const void *key, const void *first, size_t ksz);
int trie_get(int fd, const void *key, size_t ksz, __u32 *nh);
int trie_set(int fd, const void *key, __u32 nh, __u32 *old);
void route_to_key(const struct fib_route *r, void *key);
long routes_distinct(const struct fib_route *routes, size_t n, int family);
int trie_fill(int fd, int family, const struct fib_route *routes, const __u32 *order, size_t n);
int trie_walk(int fd, int family, fib_route_fn fn, void *ctx);
int route_vec_push(const struct fib_route *r, void *ctx);

/* ---- map-level operations the bulk replace shares (fib.c) ---- */

void router_account(struct xvr_node *n, __u32 vr, bool absolute, long routes4, long routes6,
		    const struct fib4_table *t);
bool vr_ok(__u32 vr);
__u32 fib4_bank(struct xvr_node *n, __u32 vr);
int fib4_bank_set(struct xvr_node *n, __u32 vr, __u32 bank);
int fib4_install(struct xvr_node *n, __u32 vr, const struct fib4_map *m, __u32 *old_bank);
void fib4_retire(struct xvr_node *n, __u32 vr, __u32 bank);

#endif /* XVR_FIB_INT_H */
