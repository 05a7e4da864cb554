/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fibsync: mirror a router namespace's kernel FIB and neighbours into the
 * router's BPF FIB and nexthops.
 *
 * The state has three layers, all kept per prefix:
 *   mirror   - the kernel's routes (tables main and local) and neighbours,
 *              fed by rtnetlink dumps and notifications (fibsync_msg);
 *   desired  - what the BPF FIB should hold, recomputed for the prefixes a
 *              change touched (fibsync_compute);
 *   installed - what the BPF FIB holds, changed to match the desired set
 *              under the node lock (fibsync_apply).
 * Nexthops are content-addressed: one per (VIF, gateway), one per multipath
 * member list, one each for local, blackhole and punt. A neighbour change
 * rewrites its nexthop in place, so no FIB entry moves. Gateways XDP uses
 * are kept resolved by asking the kernel (fibsync_nudge), since once XDP
 * forwards, the kernel no longer sends to them itself.
 *
 * Ownership: a router's FIB becomes fibsync's once the router has a VIF
 * (before that nothing in its namespace can route for XDP, and its FIB is
 * left to 'xvr route'); a marker file keeps that across restarts.
 *
 * Every function returns 0 or a negative errno unless it says otherwise.
 */
#ifndef XVR_FIBSYNC_H
#define XVR_FIBSYNC_H

#include <stdbool.h>
#include <linux/types.h>
#include <xvr/xvr.h>
#include "objects.h"

struct fibsync;
struct nl;
struct nlmsghdr;
struct xvr_node;

/* What one fibsync_apply did. */
struct fibsync_stats {
	unsigned long routes;		/* desired routes after the apply */
	unsigned long added, replaced, deleted;
	unsigned long nh_new, nh_updated, nh_freed;
	unsigned long errors;
	bool bulk;			/* tables rebuilt by fib_routes_replace */
	bool more;			/* time ran out: apply again, after letting others lock */
};

struct fibsync *fibsync_new(__u32 vr_id);
void fibsync_free(struct fibsync *fs);

/*
 * The router's VIFs, read from the node's vifs map. Returns 1 if the set or
 * any VIF changed since the last call (a full resync is then due), else 0.
 */
int fibsync_read_vifs(struct fibsync *fs, struct xvr_node *n);
/* The same from a list (VIF ids and entries); for tests. */
int fibsync_set_vifs(struct fibsync *fs, const __u32 *ids, const struct xvr_vif *vifs, int n);
int fibsync_vif_count(const struct fibsync *fs);

/*
 * The FIB a tenant can push through fibsync is bounded: at most max
 * prefixes hold kernel routes in the mirror (tables main and local; 0: no
 * bound). Past it, a route for a new prefix is refused and counted; what
 * the mirror holds stays. Lowering it takes effect at the next full sync.
 */
void fibsync_set_max_routes(struct fibsync *fs, unsigned long max);
/* Routes refused by the bound since fibsync_new; prefixes the mirror holds. */
unsigned long fibsync_refused(const struct fibsync *fs);
unsigned long fibsync_mirror_count(const struct fibsync *fs);

/*
 * The router's bound, as 'xvr router set ROUTER max-routes N' keeps it (a
 * file beside the ownership marker): FIBSYNC_MAX_ROUTES unless set.
 */
#define FIBSYNC_MAX_ROUTES	200000
unsigned long fibsync_limit_read(const char *node, const char *router);
int fibsync_limit_write(const char *node, const char *router, unsigned long max);

/* What the running daemon last reported (a status file it rewrites after each apply). */
struct fibsync_status {
	unsigned long routes;		/* prefixes in the mirror */
	unsigned long refused;		/* routes kept out by max_routes */
	unsigned long max_routes;
	unsigned long lock_ms_max;	/* longest hold of the node lock */
};
int fibsync_status_write(const char *node, const char *router, const struct fibsync_status *st);
int fibsync_status_read(const char *node, const char *router, struct fibsync_status *st);

/* Forget the mirror (routes and neighbours) before a full dump. */
void fibsync_mirror_clear(struct fibsync *fs);
/* Forget the routes of one family before re-dumping them. */
void fibsync_mirror_clear_routes(struct fibsync *fs, int family);

/* Hints fibsync_msg returns: what the caller must re-dump. */
enum {
	FIBSYNC_OK = 0,
	FIBSYNC_RESYNC_ALL = 1,		/* links, addresses, nexthop objects changed */
	FIBSYNC_RESYNC_ROUTES4 = 2,	/* an IPv4 change the mirror cannot apply alone */
	FIBSYNC_RESYNC_ROUTES6 = 4,
};

/*
 * Feed one rtnetlink message, a dump reply (dump true) or a notification.
 * Returns a mask of FIBSYNC_RESYNC_* (0 when applied) or -errno.
 */
int fibsync_msg(struct fibsync *fs, const struct nlmsghdr *h, bool dump);

/* Recompute the desired entries of every prefix the mirror changes touched. */
void fibsync_compute(struct fibsync *fs);

/*
 * Make the BPF FIB and nexthops equal the desired set. The caller holds the
 * node lock. full: first read what the maps hold (FIB walk, nexthop table),
 * adopt matching nexthops, and afterwards free every nexthop of the router
 * that nothing references; needed at start and after any resync.
 */
int fibsync_apply(struct fibsync *fs, struct xvr_node *n, bool full, struct fibsync_stats *st);

/*
 * Compare the desired set with the maps, without changing them: missing,
 * stale and different routes, leaked nexthops, wrong use counts. Prints
 * one line per difference (at most max_print) and returns how many there
 * are (0: the BPF FIB is exactly the kernel's), or -errno.
 */
int fibsync_check(struct fibsync *fs, struct xvr_node *n, int max_print);

/* Whether changes wait for an apply (one failed, or none ran yet). */
bool fibsync_pending(const struct fibsync *fs);

/* Desired routes right now; routes of family the BPF FIB has, as last seen. */
unsigned long fibsync_desired_count(const struct fibsync *fs);
unsigned long fibsync_installed_count(const struct fibsync *fs, int family);

/*
 * The desired nexthop of one exact prefix, as it would be written to the
 * map (refcnt zero); a multipath one also fills members (count returned in
 * *nmembers). -ENOENT if the prefix gets no BPF route. For tests.
 */
int fibsync_desired_get(struct fibsync *fs, int family, const __u8 *addr, int plen,
			struct nexthop *nh, struct nexthop *members, int *nmembers);

/*
 * Netlink, inside the router's namespace. fibsync_nl_open opens nl there
 * (events: subscribed to links, addresses, routes, neighbours and nexthop
 * objects, non-blocking, large receive buffer); the calling thread ends up
 * in the namespace it started in.
 */
int fibsync_nl_open(struct nl *nl, const char *netns, bool events);
/* Dump routes (family AF_INET, AF_INET6) or neighbours into the mirror. */
int fibsync_nl_dump_routes(struct nl *nl, struct fibsync *fs, int family);
int fibsync_nl_dump_neigh(struct nl *nl, struct fibsync *fs);
/*
 * Read every queued notification into the mirror. Returns the number of
 * messages read, with *hints ORed with FIBSYNC_RESYNC_*; nl->lost tells
 * that the socket overran (messages were lost: resync everything).
 */
int fibsync_nl_read(struct nl *nl, struct fibsync *fs, int *hints);

/*
 * Asks the namespace's kernel (nl from fibsync_nl_open) to resolve the
 * gateways of nexthops in use that are unresolved (at most once a second
 * each) and to re-validate stale ones (every 30 s). Returns how many.
 */
int fibsync_nudge(struct fibsync *fs, struct nl *nl, long now_ms);

/* Remove the marker that the router's FIB belongs to fibsync (router delete). */
void fibsync_forget(const char *node, const char *router);
/* Whether fibsync owns the router's FIB: it has VIFs, or had them before. */
bool fibsync_owned(const char *node, const char *router);
int fibsync_own(const char *node, const char *router);

#endif /* XVR_FIBSYNC_H */
