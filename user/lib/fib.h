/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Per-router FIBs: the IPv4 DIR-16-8-8 table (in memory and in its mmapped
 * BPF array), the IPv4 route set (rib4 trie) and the IPv6 trie (fib6).
 *
 * Every function returns 0 or a negative errno. The map-level functions
 * (fib_router_*, fib_route*) mutate live maps that XDP reads on other CPUs;
 * callers serialise them per node with xvr_node_lock(). XDP never sees a
 * half-written table: IPv4 entries change one 32-bit word at a time, new
 * groups are filled before they are linked, and bulk changes are built in
 * fresh inner maps that replace the old ones with one outer-slot update.
 */
#ifndef XVR_FIB_H
#define XVR_FIB_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include <xvr/xvr.h>

struct xvr_node;

/* One route; addr holds the prefix in network order (4 or 16 bytes used). */
struct fib_route {
	int family;		/* AF_INET or AF_INET6 */
	__u8 addr[16];
	int plen;
	__u32 nh;		/* 1..XVR_MAX_NEXTHOPS-1 */
};

/*
 * An IPv4 DIR-16-8-8 table (layout in xvr.h), as one index space: level 1
 * at [0, 65536), group g at 65536 + g * 256. In memory entry i lives at
 * ent[i * stride] (stride 1). A table in BPF maps (level 1 and groups are
 * two maps) has no ent; window() finds the entry, stride is then the
 * groups map's: 2, its elements are 8 bytes apart even with a 4-byte value
 * (the kernel rounds every array element up to 8 bytes, and mmap exposes
 * that layout).
 *
 * Group 0 is reserved: its first entry records how many groups are in use,
 * so a table mapped by a later process (or after a crash) knows where to
 * allocate next without trusting any other map. Groups 1..groups_max are
 * allocatable. Nothing links to group 0, so lookups never read it.
 *
 * Groups are not reclaimed on remove (an emptied group still answers
 * correctly, it just holds space); a rebuild (fib4_build into a new table)
 * compacts. -ENOSPC from an insert means "rebuild bigger".
 */
struct fib4_table {
	__u32 *ent;		/* the whole table, or NULL when windowed */
	__u32 stride;
	__u32 groups_max;	/* allocatable groups, excluding group 0 */
	__u32 groups_used;
	/*
	 * Set by the map layer instead of ent: entry i of level 1 or, mapping
	 * the page holding it on demand, of the groups. mmap of a BPF array
	 * maps every page up front, so one route change must not map a groups
	 * map that can be hundreds of MiB.
	 */
	__u32 *(*window)(const struct fib4_table *t, size_t i);
	/* Set by the map layer while level 1 / all the groups are mapped: no window call. */
	__u32 *l1, *grp;
	/*
	 * Set by the map layer for a table with runs records (xvr_fib4_runs):
	 * called before group g changes in place, to invalidate its record.
	 */
	void (*touch)(const struct fib4_table *t, __u32 g);
};

/* Entries in a table with room for groups allocatable groups. */
static inline size_t fib4_table_entries(__u32 groups)
{
	return XVR_FIB4_L1_SIZE + ((size_t)groups + 1) * XVR_FIB4_GROUP_SIZE;
}

/* Groups to size a table for needed groups, with room to grow before a rebuild. */
static inline __u32 fib4_groups_headroom(__u32 needed)
{
	return needed + needed / 4 + 64;
}

/* A zeroed in-memory table (stride 1); fib4_table_free releases it. */
int fib4_table_alloc(struct fib4_table *t, __u32 groups);
void fib4_table_free(struct fib4_table *t);

/*
 * Insert or replace addr/plen (host order, host bits must be zero) with
 * nexthop nh. -ENOSPC, with the table unchanged, when groups run out.
 */
int fib4_insert(struct fib4_table *t, __u32 addr, int plen, __u32 nh);

/*
 * Remove addr/plen. parent_nh/parent_plen describe the longest route
 * strictly shorter than plen that covers addr (parent_nh 0: none); its
 * entry takes the removed route's place.
 */
int fib4_remove(struct fib4_table *t, __u32 addr, int plen, __u32 parent_nh,
		int parent_plen);

/* Longest-prefix match of addr (host order): the nexthop id, or 0. */
__u32 fib4_lookup(const struct fib4_table *t, __u32 addr);

/* Groups a table needs to hold the AF_INET routes of routes[0..n), or -ENOMEM. */
long fib4_groups_needed(const struct fib_route *routes, size_t n);

/*
 * Fill a table that nothing reads yet from the AF_INET routes of
 * routes[0..n) (others are skipped; a later duplicate wins). Level 1 and
 * the group counter are reset; groups need no clearing because allocation
 * initialises them. -EINVAL for a malformed route, -ENOSPC if
 * t->groups_max < fib4_groups_needed().
 */
int fib4_build(struct fib4_table *t, const struct fib_route *routes, size_t n);

/*
 * Map level. vr is the router id (1..XVR_MAX_ROUTERS-1); family AF_INET or
 * AF_INET6; addr in network order with host bits zero (-EINVAL otherwise).
 */

/* Create a router's empty fib4, rib4 and fib6 and install them; -EEXIST if any is installed. */
int fib_router_init(struct xvr_node *n, __u32 vr);
/*
 * Remove the router's FIB slots; the kernel frees the maps with their last
 * user. Walk the routes first to drop the nexthop references they hold.
 */
int fib_router_fini(struct xvr_node *n, __u32 vr);
/* Whether any of the router's FIB slots (either fib4 bank, rib4, fib6) holds a table. */
bool fib_router_present(struct xvr_node *n, __u32 vr);

/*
 * Insert or replace; *old_nh (if given) is the replaced nexthop or 0. An
 * IPv4 table out of groups is rebuilt bigger from rib4 and swapped in on
 * the way. A change maps only the table pages it touches.
 */
int fib_route_add(struct xvr_node *n, __u32 vr, int family, const __u8 *addr, int plen,
		  __u32 nh, __u32 *old_nh);
/* Remove the exact prefix; -ENOENT if absent. *old_nh gets its nexthop. */
int fib_route_del(struct xvr_node *n, __u32 vr, int family, const __u8 *addr, int plen,
		  __u32 *old_nh);
/* The nexthop of the exact prefix; -ENOENT if absent. */
int fib_route_get(struct xvr_node *n, __u32 vr, int family, const __u8 *addr, int plen,
		  __u32 *nh);
/*
 * What the data path would pick for a destination address: the IPv4 DIR
 * table or the IPv6 trie, longest match. -ENOENT if no route covers it.
 */
int fib_lookup(struct xvr_node *n, __u32 vr, int family, const __u8 *addr, __u32 *nh);

/*
 * Call fn for every route of family (AF_INET, AF_INET6, or AF_UNSPEC for
 * both), in trie order (more specific first). A non-zero return of fn stops
 * the walk and is returned.
 */
typedef int (*fib_route_fn)(const struct fib_route *r, void *ctx);
int fib_route_walk(struct xvr_node *n, __u32 vr, int family, fib_route_fn fn, void *ctx);

/*
 * Replace all routes of the router (both families) with routes[0..count)
 * (a later duplicate wins). New tables are built aside and swapped in per
 * outer slot, so a lookup never misses a route present before and after.
 * Once the swap succeeded, old_fn (if given) is called for every route of
 * the old set, so the caller can drop the nexthop references they held;
 * its return value is ignored. Nothing changes on failure.
 */
int fib_routes_replace(struct xvr_node *n, __u32 vr, const struct fib_route *routes,
		       size_t count, fib_route_fn old_fn, void *ctx);

/* Route counts as recorded in xvr_router_book; groups from the live table. */
struct fib_stats {
	__u32 routes4, routes6;
	__u32 groups_used, groups_max;
	__u32 runs_written, runs_aside;	/* groups' runs records, xvr.h */
};
int fib_router_stats(struct xvr_node *n, __u32 vr, struct fib_stats *st);

#endif /* XVR_FIB_H */
