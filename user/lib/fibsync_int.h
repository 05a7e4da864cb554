/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fibsync's state, shared by its layers: the mirror (fibsync_mirror.c),
 * the desired set (fibsync_desired.c), the maps (fibsync_apply.c,
 * fibsync_check.c) and the namespace's netlink (fibsync_nl.c). Not for
 * users of fibsync: they have fibsync.h.
 */
#ifndef XVR_FIBSYNC_INT_H
#define XVR_FIBSYNC_INT_H

#include <stdbool.h>
#include <sys/socket.h>
#include <linux/types.h>
#include <linux/neighbour.h>
#include <xvr/xvr.h>
#include "htab.h"
#include "objects.h"

/* Paths of one kernel route kept; more than a group can hold is cut anyway. */
#define FS_MAX_PATHS		32
/*
 * Nexthops one router may hold. The table is shared by every router of the
 * node, and a tenant decides how many neighbours its namespace has: without
 * a bound one tenant could starve the others' 'xvr route' and fibsync.
 */
#define FS_MAX_NEXTHOPS		(XVR_MAX_NEXTHOPS / 4)
/* In-place FIB changes stop after this long under the node lock; the rest waits its turn. */
#define FS_APPLY_MS		100
/* More FIB changes than this (and half the table) in one apply: rebuild instead. */
#define FS_BULK_OPS		4096

#define NUD_USABLE (NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT | NUD_NOARP)


struct pfx_key {
	__u8 family;
	__u8 plen;
	__u16 pad;
	__u8 addr[16];
};

struct kpath {
	__u32 oif;
	__u8 gw_family;		/* 0: device route */
	__u8 weight;		/* rtnh_hops + 1 */
	__u8 flags;		/* RTNH_F_* */
	__u8 pad;
	__u8 gw[16];
};

/* One kernel route at a prefix (an IPv4 alias, an IPv6 route of one metric). */
struct kroute {
	struct kroute *next;
	__u64 seq;		/* kernel order among equals */
	__u32 table, metric, nh_id;
	__u8 tos, type, src_plen, npaths;
	bool unexpanded;	/* a nexthop object the kernel did not spell out */
	struct kpath paths[];
};

/* Everything fibsync knows about one prefix. */
struct pfx {
	struct hnode node;
	struct pfx_key key;
	struct kroute *routes;	/* tables main and local */
	struct nhobj *want;	/* desired nexthop, NULL: no BPF route */
	__u32 installed;	/* nexthop id in the BPF FIB, 0: none */
	__u8 counted;		/* PFX_LOCAL/PFX_MAIN as counted in plen_* */
	bool dirty;
	struct pfx *dirty_next;
};

#define PFX_LOCAL	1
#define PFX_MAIN	2

struct neigh_key {
	__u32 ifindex;
	__u8 family;
	__u8 pad[3];
	__u8 addr[16];
};

struct neigh {
	struct hnode node;
	struct neigh_key key;
	__u16 state;		/* NUD_* */
	bool usable;
	__u8 ll[6];
};

enum nh_kind {
	NHK_NONE = 0,
	NHK_LOCAL,
	NHK_BLACKHOLE,
	NHK_PUNT,
	NHK_VIF,
	NHK_GROUP,
};

/* What a single nexthop stands for; its MAC and state follow the neighbour. */
struct nh_key {
	__u8 kind;
	__u8 family;		/* NHK_VIF: of addr; 0 for a device route */
	__u16 pad;
	__u32 vif;		/* NHK_VIF: VIF id */
	__u8 addr[16];		/* NHK_VIF: gateway */
};

struct grp_key {
	__u32 count;
	struct nh_key m[XVR_MAX_ECMP];
};

struct nhgrp;

struct nhobj {
	struct hnode node;
	struct nh_key key;	/* groups: kind only, they live in grps */
	__u32 id;		/* in xvr_nexthops, 0 until allocated */
	__u32 refs;		/* desired routes and group slots using it */
	struct nexthop cur;	/* the map's entry at id, as last read or written */
	long nudged;		/* ms: when the kernel was last asked to resolve it */
	bool touched;
	struct nhobj *touched_next;
	struct nhgrp *grp;
};

struct nhgrp {
	struct hnode node;
	struct grp_key key;
	struct nhobj obj;
	struct nhobj *members[XVR_MAX_ECMP];
	__u32 written[XVR_MAX_ECMP];	/* member ids in xvr_nh_groups[obj.id] */
	bool released;			/* members put back, freed next */
};

struct fs_vif {
	__u32 id;
	struct xvr_vif v;
};

/* A desired nexthop before it is looked up: one key, or a group's members. */
struct want {
	int n;
	struct nh_key k[XVR_MAX_ECMP];
};

struct fibsync {
	__u32 vr;
	struct htab pfxs, neighs, nhs, grps;
	struct fs_vif *vifs;
	int nvifs;
	__u64 seq;
	__u32 plen_local[2][129], plen_main[2][129];
	struct pfx *dirty;
	bool redo[2];		/* recompute every prefix of the family */
	bool neigh_redo[2];	/* recompute the host route of every neighbour */
	struct nhobj *touched;
	__u32 *inst;		/* per nexthop id: FIB entries holding it */
	unsigned long ndesired;	/* prefixes with a want */
	unsigned long ninst[2];	/* per family: prefixes with an installed route */
	unsigned long nh_count;	/* objects holding an id */
	__u32 cursor;		/* where the next free nexthop id is looked for */
	__u32 *retired;		/* ids to clear once the FIB is switched */
	size_t nretired, capretired;
	bool warned_full;
	unsigned long npfx_routed;	/* prefixes holding kernel routes */
	unsigned long max_routes;	/* at most this many; 0: no bound */
	unsigned long refused;		/* routes max_routes kept out, since start */
};

static inline int fam_idx(int family)
{
	return family == AF_INET6;
}

static inline int fam_bits(int family)
{
	return family == AF_INET6 ? 128 : 32;
}

static inline int fam_bytes(int family)
{
	return family == AF_INET6 ? 16 : 4;
}

static inline void addr_mask(__u8 *a, int plen, int bytes)
{
	for (int i = 0; i < bytes; i++) {
		int bits = plen - i * 8;

		if (bits >= 8)
			continue;
		a[i] &= bits <= 0 ? 0 : (__u8)(0xff << (8 - bits));
	}
}

static inline bool is_linklocal6(int family, const __u8 *a, int plen)
{
	return family == AF_INET6 && plen >= 10 && a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}

/* fibsync_mirror.c */
/* The prefix's state, created when create and missing; NULL without memory. */
struct pfx *pfx_find(struct fibsync *fs, int family, const __u8 *addr, int plen, bool create);
/* Queue the prefix for fibsync_compute. */
void pfx_dirty(struct fibsync *fs, struct pfx *p);
/* Record that the BPF FIB holds nexthop id (0: nothing) for the prefix. */
void pfx_install(struct fibsync *fs, struct pfx *p, __u32 id);
/* Free the prefix once nothing (route, want, installed entry) holds it. */
void pfx_maybe_free(struct fibsync *fs, struct pfx *p);
struct neigh *neigh_find(const struct fibsync *fs, __u32 ifindex, int family, const __u8 *addr);
/* The router's VIF whose namespace end is ifindex (its id in *id), or NULL. */
const struct xvr_vif *vif_by_peer(const struct fibsync *fs, __u32 ifindex, __u32 *id);
const struct xvr_vif *vif_by_id(const struct fibsync *fs, __u32 id);
/* Forget every neighbour (before a dump of them). */
void mirror_clear_neigh(struct fibsync *fs);

/* fibsync_desired.c */
/* Queue the nexthop object for the next apply (its content may have changed). */
void nh_touch(struct fibsync *fs, struct nhobj *o);
struct nhobj *nh_lookup(const struct fibsync *fs, const struct nh_key *k);
/* Drop one reference to the object; apply frees it when none are left. */
void obj_put(struct fibsync *fs, struct nhobj *o);
/* Whether the entry sends frames somewhere (resolved, on a port). */
bool nh_forwarding(const struct nexthop *nh);
/* The map entry object o stands for now. */
void nh_content(const struct fibsync *fs, const struct nhobj *o, struct nexthop *nh);

/* fibsync_apply.c */
/* Entries a and b are the same but for their use counts and the given flags. */
bool nh_same_but(const struct nexthop *a, const struct nexthop *b, __u16 flags);

#endif /* XVR_FIBSYNC_INT_H */
