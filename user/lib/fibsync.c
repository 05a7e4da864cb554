// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * fibsync: the kernel FIB and neighbours of a router's namespace, mirrored
 * into the router's BPF FIB (see fibsync.h for the three layers).
 *
 * Mapping, per prefix, in the kernel's order of lookup:
 *   - a local-table route covering the prefix wins (the kernel consults
 *     table local before main): local, broadcast and anycast become
 *     XVR_NH_LOCAL, so frames for the router reach its sockets;
 *   - else the main-table route with the lowest metric (the first one the
 *     kernel lists among equals):
 *       unicast out of the router's VIFs: one nexthop per path, on the VIF's
 *         port, VLAN and MAC, with the gateway's MAC when its neighbour entry
 *         is usable, else XVR_NH_UNRESOLVED (punted; the namespace's kernel
 *         resolves it and the neighbour event moves the flow to XDP); a
 *         device route (no gateway) is always unresolved, except a host
 *         route, whose own address is its gateway;
 *       several paths: an XVR_NH_GROUP of those nexthops, weights kept by
 *         repeating members;
 *       blackhole: XVR_NH_BLACKHOLE;
 *       unreachable, prohibit, throw, routes out of any interface that is
 *         no VIF of the router (lo, tunnels), TOS- or source-specific
 *         routes: a punt nexthop (unresolved, no port). They must be
 *         installed, not left out: a shorter route would otherwise forward
 *         what the kernel refuses or sends elsewhere;
 *   - else, for a host prefix (/32, /128), a usable neighbour on a VIF
 *     whose connected (device) route is the kernel's longest match for it
 *     gets a host route with its MAC, so traffic to known hosts of a
 *     connected subnet is forwarded by XDP and only unknown hosts punt.
 * Multicast routes and IPv6 link-local prefixes are left out: ingress
 * punts those destinations before any FIB lookup.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/neighbour.h>
#include <bpf/bpf.h>
#include "common.h"
#include "fib.h"
#include "htab.h"
#include "netns.h"
#include "nl.h"
#include "node.h"
#include "objects.h"
#include "fibsync.h"

/* Paths of one kernel route kept; more than a group can hold is cut anyway. */
#define FS_MAX_PATHS		32
/*
 * Nexthops one router may hold. The table is shared by every router of the
 * node, and a tenant decides how many neighbours its namespace has: without
 * a bound one tenant could starve the others' 'xvr route' and fibsync.
 */
#define FS_MAX_NEXTHOPS		(XVR_MAX_NEXTHOPS / 4)
/* More FIB changes than this (and half the table) in one apply: rebuild instead. */
#define FS_BULK_OPS		4096

#define NUD_USABLE (NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT | NUD_NOARP)

/* ---- state ---- */

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
	struct xvr_nexthop cur;	/* the map's entry at id, as last read or written */
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
};

static int fam_idx(int family)
{
	return family == AF_INET6;
}

static int fam_bits(int family)
{
	return family == AF_INET6 ? 128 : 32;
}

static int fam_bytes(int family)
{
	return family == AF_INET6 ? 16 : 4;
}

static void addr_mask(__u8 *a, int plen, int bytes)
{
	for (int i = 0; i < bytes; i++) {
		int bits = plen - i * 8;

		if (bits >= 8)
			continue;
		a[i] &= bits <= 0 ? 0 : (__u8)(0xff << (8 - bits));
	}
}

static bool is_linklocal6(int family, const __u8 *a, int plen)
{
	return family == AF_INET6 && plen >= 10 && a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}

/* ---- prefixes ---- */

static struct pfx *pfx_find(struct fibsync *fs, int family, const __u8 *addr, int plen,
			    bool create)
{
	struct pfx_key k = { .family = family, .plen = plen };
	struct pfx *p;
	__u32 h;

	memcpy(k.addr, addr, fam_bytes(family));
	addr_mask(k.addr, plen, 16);
	h = htab_hash(&k, sizeof(k));
	p = htab_find(&fs->pfxs, &k, h);
	if (p || !create)
		return p;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->key = k;
	if (htab_add(&fs->pfxs, &p->node, h)) {
		free(p);
		return NULL;
	}
	return p;
}

static void pfx_dirty(struct fibsync *fs, struct pfx *p)
{
	if (p->dirty)
		return;
	p->dirty = true;
	p->dirty_next = fs->dirty;
	fs->dirty = p;
}

/* Keeps plen_local/plen_main: which prefix lengths have routes, for LPM. */
static void pfx_recount(struct fibsync *fs, struct pfx *p)
{
	int f = fam_idx(p->key.family);
	__u8 now = 0;

	for (struct kroute *r = p->routes; r; r = r->next)
		now |= r->table == RT_TABLE_LOCAL ? PFX_LOCAL : PFX_MAIN;
	if ((now ^ p->counted) & PFX_LOCAL)
		fs->plen_local[f][p->key.plen] += now & PFX_LOCAL ? 1 : -1;
	if ((now ^ p->counted) & PFX_MAIN)
		fs->plen_main[f][p->key.plen] += now & PFX_MAIN ? 1 : -1;
	p->counted = now;
}

static void pfx_install(struct fibsync *fs, struct pfx *p, __u32 id)
{
	if (p->installed && p->installed < XVR_MAX_NEXTHOPS && fs->inst[p->installed])
		fs->inst[p->installed]--;
	if (id && id < XVR_MAX_NEXTHOPS)
		fs->inst[id]++;
	fs->ninst[fam_idx(p->key.family)] += !!id - !!p->installed;
	p->installed = id;
}

static void pfx_maybe_free(struct fibsync *fs, struct pfx *p)
{
	if (p->routes || p->want || p->installed || p->dirty)
		return;
	htab_del(&fs->pfxs, &p->node);
	free(p);
}

/* ---- neighbours ---- */

static struct neigh *neigh_find(const struct fibsync *fs, __u32 ifindex, int family,
				const __u8 *addr)
{
	struct neigh_key k = { .ifindex = ifindex, .family = family };

	memcpy(k.addr, addr, fam_bytes(family));
	return htab_find(&fs->neighs, &k, htab_hash(&k, sizeof(k)));
}

/* ---- VIFs ---- */

static const struct xvr_vif *vif_by_peer(const struct fibsync *fs, __u32 ifindex, __u32 *id)
{
	for (int i = 0; i < fs->nvifs; i++)
		if (fs->vifs[i].v.peer == ifindex) {
			*id = fs->vifs[i].id;
			return &fs->vifs[i].v;
		}
	return NULL;
}

static const struct xvr_vif *vif_by_id(const struct fibsync *fs, __u32 id)
{
	for (int i = 0; i < fs->nvifs; i++)
		if (fs->vifs[i].id == id)
			return &fs->vifs[i].v;
	return NULL;
}

int fibsync_vif_count(const struct fibsync *fs)
{
	return fs->nvifs;
}

int fibsync_set_vifs(struct fibsync *fs, const __u32 *ids, const struct xvr_vif *vifs, int n)
{
	struct fs_vif *mine = calloc(n + 1, sizeof(*mine));
	int changed;

	if (!mine)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		mine[i].id = ids[i];
		mine[i].v = vifs[i];
	}
	changed = n != fs->nvifs || (n && memcmp(mine, fs->vifs, n * sizeof(*mine)));
	free(fs->vifs);
	fs->vifs = mine;
	fs->nvifs = n;
	return changed;
}

int fibsync_read_vifs(struct fibsync *fs, struct xvr_node *n)
{
	__u32 *keys = calloc(XVR_MAX_VIFS, sizeof(*keys)), count = XVR_MAX_VIFS, batch;
	struct xvr_vif *vals = calloc(XVR_MAX_VIFS, sizeof(*vals));
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	int nmine = 0, err = 0;

	if (!keys || !vals) {
		err = -ENOMEM;
		goto out;
	}
	err = bpf_map_lookup_batch(n->vifs_fd, NULL, &batch, keys, vals, &count, &opts);
	if (err && err != -ENOENT)
		goto out;
	/* Compacted in place: the router's VIFs first. */
	for (__u32 i = 0; i < count; i++)
		if ((vals[i].flags & XVR_VIF_ACTIVE) && vals[i].vr_id == fs->vr && keys[i]) {
			keys[nmine] = keys[i];
			vals[nmine++] = vals[i];
		}
	err = fibsync_set_vifs(fs, keys, vals, nmine);
out:
	free(keys);
	free(vals);
	return err;
}

/* ---- nexthop objects ---- */

static void nh_touch(struct fibsync *fs, struct nhobj *o)
{
	if (o->touched)
		return;
	o->touched = true;
	o->touched_next = fs->touched;
	fs->touched = o;
}

static struct nhobj *nh_lookup(const struct fibsync *fs, const struct nh_key *k)
{
	return htab_find(&fs->nhs, k, htab_hash(k, sizeof(*k)));
}

static struct nhobj *nh_get(struct fibsync *fs, const struct nh_key *k)
{
	__u32 h = htab_hash(k, sizeof(*k));
	struct nhobj *o = htab_find(&fs->nhs, k, h);

	if (!o) {
		o = calloc(1, sizeof(*o));
		if (!o)
			return NULL;
		o->key = *k;
		if (htab_add(&fs->nhs, &o->node, h)) {
			free(o);
			return NULL;
		}
	}
	o->refs++;
	nh_touch(fs, o);
	return o;
}

static struct nhobj *grp_get(struct fibsync *fs, const struct want *w)
{
	struct grp_key k = { .count = w->n };
	struct nhgrp *g;
	__u32 h;

	memcpy(k.m, w->k, w->n * sizeof(k.m[0]));
	h = htab_hash(&k, sizeof(k));
	g = htab_find(&fs->grps, &k, h);
	if (!g) {
		g = calloc(1, sizeof(*g));
		if (!g)
			return NULL;
		g->key = k;
		g->obj.key.kind = NHK_GROUP;
		g->obj.grp = g;
		int i;

		for (i = 0; i < w->n; i++)
			if (!(g->members[i] = nh_get(fs, &w->k[i])))
				break;
		if (i < w->n || htab_add(&fs->grps, &g->node, h)) {
			while (i--)
				g->members[i]->refs--;
			free(g);
			return NULL;
		}
	}
	g->obj.refs++;
	nh_touch(fs, &g->obj);
	return &g->obj;
}

static void obj_put(struct fibsync *fs, struct nhobj *o)
{
	if (o->refs)
		o->refs--;
	nh_touch(fs, o);
}

static bool nh_forwarding(const struct xvr_nexthop *nh)
{
	return (nh->flags & XVR_NH_VALID) &&
	       !(nh->flags & (XVR_NH_UNRESOLVED | XVR_NH_LOCAL | XVR_NH_BLACKHOLE | XVR_NH_GROUP));
}

/* The map entry a single nexthop should have now; refcnt included. */
static void nh_content(const struct fibsync *fs, const struct nhobj *o, struct xvr_nexthop *nh)
{
	const struct xvr_vif *v;
	struct neigh *ne;

	memset(nh, 0, sizeof(*nh));
	nh->vr_id = fs->vr;
	nh->flags = XVR_NH_VALID;
	nh->refcnt = o->refs;
	switch (o->key.kind) {
	case NHK_LOCAL:
		nh->flags |= XVR_NH_LOCAL;
		break;
	case NHK_BLACKHOLE:
		nh->flags |= XVR_NH_BLACKHOLE;
		break;
	case NHK_GROUP:
		nh->flags |= XVR_NH_GROUP;
		break;
	case NHK_VIF:
		v = vif_by_id(fs, o->key.vif);
		if (!v) {
			nh->flags |= XVR_NH_UNRESOLVED;
			break;
		}
		nh->ifindex = v->port;
		nh->vlan = v->vlan;
		memcpy(nh->smac, v->mac, 6);
		nh->family = o->key.family;
		memcpy(nh->gw, o->key.addr, 16);
		ne = o->key.family ? neigh_find(fs, v->peer, o->key.family, o->key.addr) : NULL;
		if (ne && ne->usable)
			memcpy(nh->dmac, ne->ll, 6);
		else
			nh->flags |= XVR_NH_UNRESOLVED;
		break;
	default:
		nh->flags |= XVR_NH_UNRESOLVED;	/* punt: the kernel decides */
		break;
	}
}

/* ---- mirror: routes ---- */

/*
 * A parsed route. Its paths are kept apart, not in r.paths: that flexible
 * array starts inside the padding at the end of struct kroute, so it would
 * not line up with an array placed after r.
 */
struct rtparse {
	int family, plen;
	__u8 dst[16];
	struct kroute r;
	struct kpath paths[FS_MAX_PATHS];
};

/* A malformed gateway is left out, as if the kernel had given none. */
static void rta_gateway(struct kpath *p, int family, const struct nlattr *tb[])
{
	__u8 gw[16] = {};
	int gw_family;

	if (nl_route_gw(tb, family, &gw_family, gw) > 0) {
		p->gw_family = gw_family;
		memcpy(p->gw, gw, 16);
	}
}

static int parse_multipath(struct rtparse *rp, const struct nlattr *mp)
{
	const struct rtnexthop *nh = mnl_attr_get_payload(mp);
	int left = mnl_attr_get_payload_len(mp);

	while (left >= (int)sizeof(*nh) && nh->rtnh_len >= sizeof(*nh) && nh->rtnh_len <= left) {
		if (rp->r.npaths < FS_MAX_PATHS) {
			struct kpath *p = &rp->paths[rp->r.npaths++];
			const struct nlattr *tb[RTA_MAX + 1];

			memset(p, 0, sizeof(*p));
			p->oif = nh->rtnh_ifindex;
			p->weight = nh->rtnh_hops + 1;
			p->flags = nh->rtnh_flags;
			if (nl_attrs_buf(RTNH_DATA(nh), nh->rtnh_len - RTNH_LENGTH(0), tb, RTA_MAX,
					 nl_route_policy))
				return -EINVAL;
			rta_gateway(p, rp->family, tb);
		}
		left -= RTNH_ALIGN(nh->rtnh_len);
		nh = RTNH_NEXT(nh);
	}
	return 0;
}

/* 1: a route of tables main/local fibsync keeps; 0: not one; -EINVAL: malformed. */
static int route_parse(const struct nlmsghdr *h, struct rtparse *rp)
{
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(h);
	const struct nlattr *tb[RTA_MAX + 1];
	struct kpath single = {};

	if (nl_attrs(h, sizeof(*rtm), tb, RTA_MAX, nl_route_policy))
		return -EINVAL;
	memset(&rp->r, 0, sizeof(rp->r));
	rp->family = rtm->rtm_family;
	rp->plen = rtm->rtm_dst_len;
	if ((rp->family != AF_INET && rp->family != AF_INET6) ||
	    rp->plen > fam_bits(rp->family) || (rtm->rtm_flags & RTM_F_CLONED))
		return 0;
	memset(rp->dst, 0, sizeof(rp->dst));
	rp->r.table = tb[RTA_TABLE] ? mnl_attr_get_u32(tb[RTA_TABLE]) : rtm->rtm_table;
	rp->r.tos = rtm->rtm_tos;
	rp->r.type = rtm->rtm_type;
	rp->r.src_plen = rtm->rtm_src_len;
	if (tb[RTA_DST]) {
		if (mnl_attr_get_payload_len(tb[RTA_DST]) != (unsigned int)fam_bytes(rp->family))
			return -EINVAL;
		memcpy(rp->dst, mnl_attr_get_payload(tb[RTA_DST]), fam_bytes(rp->family));
	}
	if (tb[RTA_PRIORITY])
		rp->r.metric = mnl_attr_get_u32(tb[RTA_PRIORITY]);
	if (tb[RTA_NH_ID])
		rp->r.nh_id = mnl_attr_get_u32(tb[RTA_NH_ID]);
	single.weight = 1;
	single.flags = rtm->rtm_flags & 0xff;
	if (tb[RTA_OIF])
		single.oif = mnl_attr_get_u32(tb[RTA_OIF]);
	rta_gateway(&single, rp->family, tb);
	if (rp->r.table != RT_TABLE_MAIN && rp->r.table != RT_TABLE_LOCAL)
		return 0;
	if (rp->r.type == RTN_MULTICAST || is_linklocal6(rp->family, rp->dst, rp->plen))
		return 0;
	addr_mask(rp->dst, rp->plen, 16);
	if (tb[RTA_MULTIPATH]) {
		if (parse_multipath(rp, tb[RTA_MULTIPATH]))
			return -EINVAL;
	} else if (tb[RTA_OIF] || single.gw_family) {
		rp->paths[rp->r.npaths++] = single;
	}
	/* Without the kernel's compat expansion a nexthop object is opaque. */
	rp->r.unexpanded = rp->r.nh_id && !rp->r.npaths;
	return 1;
}

static struct kroute *kroute_dup(const struct rtparse *rp, __u64 seq)
{
	struct kroute *r = malloc(sizeof(*r) + rp->r.npaths * sizeof(struct kpath));

	if (!r)
		return NULL;
	*r = rp->r;
	memcpy(r->paths, rp->paths, rp->r.npaths * sizeof(struct kpath));
	r->seq = seq;
	r->next = NULL;
	return r;
}

/* The kernel's identity of a route: same table, TOS, metric and source length. */
static bool kroute_same_slot(const struct kroute *a, const struct kroute *b)
{
	return a->table == b->table && a->tos == b->tos && a->metric == b->metric &&
	       a->src_plen == b->src_plen;
}

static bool kpath_eq(const struct kpath *a, const struct kpath *b)
{
	return a->oif == b->oif && a->gw_family == b->gw_family && a->weight == b->weight &&
	       !memcmp(a->gw, b->gw, 16);
}

/* Route a is the parsed one, in every field that matters. */
static bool kroute_same(const struct kroute *a, const struct rtparse *rp)
{
	const struct kroute *b = &rp->r;

	if (!kroute_same_slot(a, b) || a->type != b->type || a->npaths != b->npaths ||
	    a->nh_id != b->nh_id)
		return false;
	for (int i = 0; i < a->npaths; i++)
		if (!kpath_eq(&a->paths[i], &rp->paths[i]))
			return false;
	return true;
}

static void route_changed(struct fibsync *fs, struct pfx *p, __u32 table)
{
	int f = fam_idx(p->key.family);

	pfx_recount(fs, p);
	pfx_dirty(fs, p);
	/* Any main route may now be a neighbour's longest match, or stop being one. */
	fs->neigh_redo[f] = true;
	/* A local route shorter than a host route overrides main routes under it. */
	if (table == RT_TABLE_LOCAL && p->key.plen < fam_bits(p->key.family))
		fs->redo[f] = true;
}

static void kroute_unlink(struct pfx *p, struct kroute *victim)
{
	struct kroute **pp = &p->routes;

	while (*pp && *pp != victim)
		pp = &(*pp)->next;
	if (*pp)
		*pp = victim->next;
	free(victim);
}

static void kroute_append(struct pfx *p, struct kroute *r)
{
	struct kroute **pp = &p->routes;

	while (*pp)
		pp = &(*pp)->next;
	*pp = r;
}

/*
 * Applies a route notification when its effect is certain. The kernel
 * tells what happened through the flags it echoes: NLM_F_EXCL for a route
 * whose table/TOS/metric slot was empty, NLM_F_REPLACE for a replacement of
 * the first route in that slot; appends and prepends to an occupied slot
 * (IPv4 aliases, IPv6 siblings and duplicates) and deletions that could
 * match several routes are not: those make the caller re-dump the family.
 * A notification replayed over a newer dump changes nothing.
 */
static int route_msg(struct fibsync *fs, const struct nlmsghdr *h, bool dump)
{
	struct kroute *r, *first = NULL, *exact = NULL, *nr, **pp;
	int same = 0, nexact = 0, resync, ret;
	struct rtparse rp;
	struct pfx *p;

	ret = route_parse(h, &rp);
	if (ret <= 0)
		return ret;
	resync = rp.family == AF_INET ? FIBSYNC_RESYNC_ROUTES4 : FIBSYNC_RESYNC_ROUTES6;
	p = pfx_find(fs, rp.family, rp.dst, rp.plen, h->nlmsg_type == RTM_NEWROUTE);
	if (!p)
		return h->nlmsg_type == RTM_NEWROUTE ? -ENOMEM : 0;
	for (r = p->routes; r; r = r->next) {
		if (!kroute_same_slot(r, &rp.r))
			continue;
		if (!same++)
			first = r;
		if (kroute_same(r, &rp) && !nexact++)
			exact = r;
	}

	if (h->nlmsg_type == RTM_DELROUTE) {
		if (!same)
			return 0;
		if (same == 1 && (nexact == 1 || rp.family == AF_INET))
			kroute_unlink(p, first);
		else if (nexact == 1)
			kroute_unlink(p, exact);
		else
			return resync;
		route_changed(fs, p, rp.r.table);
		return 0;
	}

	if (!dump && same) {
		if (same == 1 && nexact == 1 && !(h->nlmsg_flags & NLM_F_APPEND))
			return 0;
		if (!(h->nlmsg_flags & NLM_F_REPLACE) || same > 1)
			return resync;
	}
	nr = kroute_dup(&rp, ++fs->seq);
	if (!nr)
		return -ENOMEM;
	if (!dump && first) {
		/* A replacement takes the old route's place among equals. */
		for (pp = &p->routes; *pp != first; pp = &(*pp)->next)
			;
		nr->seq = first->seq;
		nr->next = first->next;
		*pp = nr;
		free(first);
	} else {
		kroute_append(p, nr);
	}
	route_changed(fs, p, rp.r.table);
	return 0;
}

/* ---- mirror: neighbours ---- */

static void neigh_changed(struct fibsync *fs, const struct neigh_key *k)
{
	struct nh_key nk = { .kind = NHK_VIF, .family = k->family };
	struct nhobj *o;
	struct pfx *p;

	if (!vif_by_peer(fs, k->ifindex, &nk.vif))
		return;
	memcpy(nk.addr, k->addr, 16);
	o = nh_lookup(fs, &nk);
	if (o)
		nh_touch(fs, o);
	p = pfx_find(fs, k->family, k->addr, fam_bits(k->family), true);
	if (p)
		pfx_dirty(fs, p);
}

static int neigh_msg(struct fibsync *fs, const struct nlmsghdr *h)
{
	const struct ndmsg *nd = mnl_nlmsg_get_payload(h);
	const struct nlattr *tb[NDA_MAX + 1];
	struct neigh_key k = {};
	bool have_ll, usable;
	__u8 ll[6] = {};
	struct neigh *ne;
	__u32 vif;
	__u32 hash;

	if (nl_attrs(h, sizeof(*nd), tb, NDA_MAX, nl_neigh_policy))
		return -EINVAL;
	if ((nd->ndm_family != AF_INET && nd->ndm_family != AF_INET6) ||
	    (nd->ndm_flags & NTF_PROXY) || !vif_by_peer(fs, nd->ndm_ifindex, &vif))
		return 0;
	k.ifindex = nd->ndm_ifindex;
	k.family = nd->ndm_family;
	if (!tb[NDA_DST] ||
	    mnl_attr_get_payload_len(tb[NDA_DST]) != (unsigned int)fam_bytes(k.family))
		return 0;
	memcpy(k.addr, mnl_attr_get_payload(tb[NDA_DST]), fam_bytes(k.family));
	have_ll = tb[NDA_LLADDR] && mnl_attr_get_payload_len(tb[NDA_LLADDR]) == 6;
	if (have_ll)
		memcpy(ll, mnl_attr_get_payload(tb[NDA_LLADDR]), 6);
	hash = htab_hash(&k, sizeof(k));
	ne = htab_find(&fs->neighs, &k, hash);
	if (h->nlmsg_type == RTM_DELNEIGH) {
		if (!ne)
			return 0;
		htab_del(&fs->neighs, &ne->node);
		free(ne);
		neigh_changed(fs, &k);
		return 0;
	}
	usable = (nd->ndm_state & NUD_USABLE) && have_ll;
	if (ne)
		ne->state = nd->ndm_state;
	if (ne && ne->usable == usable && (!usable || !memcmp(ne->ll, ll, 6)))
		return 0;
	if (!ne) {
		ne = calloc(1, sizeof(*ne));
		if (!ne)
			return -ENOMEM;
		ne->key = k;
		if (htab_add(&fs->neighs, &ne->node, hash)) {
			free(ne);
			return -ENOMEM;
		}
	}
	ne->usable = usable;
	ne->state = nd->ndm_state;
	memcpy(ne->ll, ll, 6);
	neigh_changed(fs, &k);
	return 0;
}

int fibsync_msg(struct fibsync *fs, const struct nlmsghdr *h, bool dump)
{
	switch (h->nlmsg_type) {
	case RTM_NEWROUTE:
	case RTM_DELROUTE:
		return route_msg(fs, h, dump);
	case RTM_NEWNEIGH:
	case RTM_DELNEIGH:
		return neigh_msg(fs, h);
	case RTM_NEWLINK:
	case RTM_DELLINK:
	case RTM_NEWADDR:
	case RTM_DELADDR:
		/*
		 * IPv4 drops the routes of a device going down without a
		 * notification, and addresses come with routes of their own:
		 * only a fresh dump is sure to be right.
		 */
		return FIBSYNC_RESYNC_ALL;
	case RTM_NEWNEXTHOP:
	case RTM_DELNEXTHOP:
		return FIBSYNC_RESYNC_ROUTES4 | FIBSYNC_RESYNC_ROUTES6;
	}
	return 0;
}

void fibsync_mirror_clear_routes(struct fibsync *fs, int family)
{
	struct hnode *e, *nx;
	size_t i;

	htab_for_each(&fs->pfxs, i, e, nx) {
		struct pfx *p = (struct pfx *)e;

		if (p->key.family != family || !p->routes)
			continue;
		while (p->routes)
			kroute_unlink(p, p->routes);
		pfx_recount(fs, p);
	}
	fs->redo[fam_idx(family)] = true;
	fs->neigh_redo[fam_idx(family)] = true;
}

static void mirror_clear_neigh(struct fibsync *fs);

void fibsync_mirror_clear(struct fibsync *fs)
{
	fibsync_mirror_clear_routes(fs, AF_INET);
	fibsync_mirror_clear_routes(fs, AF_INET6);
	mirror_clear_neigh(fs);
}

/* ---- desired set ---- */

static const struct kroute *kroute_best(const struct pfx *p, __u32 table, bool *punt)
{
	const struct kroute *best = NULL;

	for (const struct kroute *r = p->routes; r; r = r->next) {
		if (r->table != table)
			continue;
		/* XDP looks at neither TOS nor source: leave such prefixes to the kernel. */
		if (r->tos || r->src_plen) {
			*punt = true;
			continue;
		}
		if (!best || r->metric < best->metric ||
		    (r->metric == best->metric && r->seq < best->seq))
			best = r;
	}
	return best;
}

/* The longest prefix of table with a route covering addr, no longer than maxplen. */
static struct pfx *lpm(struct fibsync *fs, int family, const __u8 *addr, int maxplen,
		       bool local, const struct kroute **r, bool *punt)
{
	const __u32 *count = local ? fs->plen_local[fam_idx(family)] :
				     fs->plen_main[fam_idx(family)];

	for (int plen = maxplen; plen >= 0; plen--) {
		struct pfx *q;

		if (!count[plen])
			continue;
		q = pfx_find(fs, family, addr, plen, false);
		if (!q)
			continue;
		*punt = false;
		*r = kroute_best(q, local ? RT_TABLE_LOCAL : RT_TABLE_MAIN, punt);
		if (*r || *punt)
			return q;
	}
	return NULL;
}

static void want_one(struct want *w, enum nh_kind kind)
{
	memset(w, 0, sizeof(*w));
	w->n = 1;
	w->k[0].kind = kind;
}

/* A group's members, each path repeated by its weight (scaled into XVR_MAX_ECMP). */
static void want_paths(struct want *w, const struct nh_key *keys, const __u8 *weights, int n)
{
	int wt[XVR_MAX_ECMP], sum = 0, total = 0;

	if (n > XVR_MAX_ECMP)
		n = XVR_MAX_ECMP;
	for (int i = 0; i < n; i++)
		total += weights[i];
	for (int i = 0; i < n; i++) {
		wt[i] = total <= XVR_MAX_ECMP ? weights[i] : weights[i] * XVR_MAX_ECMP / total;
		if (wt[i] < 1)
			wt[i] = 1;
		sum += wt[i];
	}
	while (sum > XVR_MAX_ECMP) {
		int big = 0;

		for (int i = 1; i < n; i++)
			if (wt[i] > wt[big])
				big = i;
		wt[big]--;
		sum--;
	}
	w->n = 0;
	for (int i = 0; i < n; i++)
		for (int j = 0; j < wt[i]; j++)
			w->k[w->n++] = keys[i];
	/* All members alike: one plain nexthop. */
	for (int i = 1; i < w->n; i++)
		if (memcmp(&w->k[i], &w->k[0], sizeof(w->k[0])))
			return;
	w->n = 1;
}

/* The BPF nexthop for kernel route r at prefix p. */
static void want_route(const struct fibsync *fs, const struct pfx *p, const struct kroute *r,
		       struct want *w)
{
	struct nh_key keys[XVR_MAX_ECMP];
	__u8 weights[XVR_MAX_ECMP];
	int n = 0;

	switch (r->type) {
	case RTN_LOCAL:
	case RTN_BROADCAST:
	case RTN_ANYCAST:
		want_one(w, NHK_LOCAL);
		return;
	case RTN_BLACKHOLE:
		want_one(w, NHK_BLACKHOLE);
		return;
	case RTN_UNICAST:
		break;
	default:
		/* unreachable, prohibit, throw: the kernel sends the ICMP error */
		want_one(w, NHK_PUNT);
		return;
	}
	if (r->unexpanded) {
		want_one(w, NHK_PUNT);
		return;
	}
	for (int i = 0; i < r->npaths && n < XVR_MAX_ECMP; i++) {
		const struct kpath *kp = &r->paths[i];
		struct nh_key *k = &keys[n];

		if (kp->flags & RTNH_F_DEAD)
			continue;
		memset(k, 0, sizeof(*k));
		k->kind = NHK_VIF;
		if (!vif_by_peer(fs, kp->oif, &k->vif)) {
			/* Out of lo, a tunnel, ...: only the kernel can forward it. */
			want_one(w, NHK_PUNT);
			return;
		}
		if (kp->gw_family) {
			k->family = kp->gw_family;
			memcpy(k->addr, kp->gw, 16);
		} else if (p->key.plen == fam_bits(p->key.family)) {
			/* A host route out of a device: the host is its own gateway. */
			k->family = p->key.family;
			memcpy(k->addr, p->key.addr, 16);
		}
		weights[n++] = kp->weight ? kp->weight : 1;
	}
	if (!n) {
		want_one(w, NHK_PUNT);	/* every path dead: the kernel answers */
		return;
	}
	want_paths(w, keys, weights, n);
}

/*
 * A host route for a neighbour at host prefix p, if the kernel's longest
 * match for it is the device route of the VIF the neighbour is on.
 */
static bool want_neigh(struct fibsync *fs, const struct pfx *p, struct want *w)
{
	int family = p->key.family, bits = fam_bits(family);
	const struct kroute *r;
	bool punt;

	for (int i = 0; i < fs->nvifs; i++) {
		const struct xvr_vif *v = &fs->vifs[i].v;
		struct neigh *ne = neigh_find(fs, v->peer, family, p->key.addr);

		if (!ne || !ne->usable)
			continue;
		if (!lpm(fs, family, p->key.addr, bits - 1, false, &r, &punt) || !r ||
		    r->type != RTN_UNICAST || r->npaths != 1 || r->paths[0].gw_family ||
		    r->paths[0].oif != v->peer || (r->paths[0].flags & RTNH_F_DEAD))
			continue;
		memset(w, 0, sizeof(*w));
		w->n = 1;
		w->k[0].kind = NHK_VIF;
		w->k[0].vif = fs->vifs[i].id;
		w->k[0].family = family;
		memcpy(w->k[0].addr, p->key.addr, 16);
		return true;
	}
	return false;
}

static bool want_select(struct fibsync *fs, struct pfx *p, struct want *w)
{
	const struct kroute *r;
	struct pfx *q;
	bool punt = false;

	q = lpm(fs, p->key.family, p->key.addr, p->key.plen, true, &r, &punt);
	if (q) {
		if (punt && !r)
			want_one(w, NHK_PUNT);
		else
			want_route(fs, q, r, w);
		return true;
	}
	punt = false;
	r = kroute_best(p, RT_TABLE_MAIN, &punt);
	if (punt) {
		want_one(w, NHK_PUNT);
		return true;
	}
	if (r) {
		want_route(fs, p, r, w);
		return true;
	}
	if (p->key.plen == fam_bits(p->key.family))
		return want_neigh(fs, p, w);
	return false;
}

static void recompute(struct fibsync *fs, struct pfx *p)
{
	struct nhobj *o = NULL;
	struct want w;

	if (want_select(fs, p, &w)) {
		o = w.n == 1 ? nh_get(fs, &w.k[0]) : grp_get(fs, &w);
		/* Out of memory: keep the old nexthop, stale beats a hole. */
		if (!o)
			return;
	}
	if (p->want)
		obj_put(fs, p->want);
	fs->ndesired += !!o - !!p->want;
	p->want = o;
}

void fibsync_compute(struct fibsync *fs)
{
	struct hnode *e, *nx;
	size_t i;

	for (int f = 0; f < 2; f++) {
		int family = f ? AF_INET6 : AF_INET;

		if (fs->redo[f]) {
			htab_for_each(&fs->pfxs, i, e, nx)
				if (((struct pfx *)e)->key.family == family)
					pfx_dirty(fs, (struct pfx *)e);
		}
		if (fs->neigh_redo[f]) {
			htab_for_each(&fs->neighs, i, e, nx) {
				struct neigh *ne = (struct neigh *)e;
				struct pfx *p;

				if (ne->key.family != family)
					continue;
				p = pfx_find(fs, family, ne->key.addr, fam_bits(family), true);
				if (p)
					pfx_dirty(fs, p);
			}
		}
		fs->redo[f] = fs->neigh_redo[f] = false;
	}
	for (struct pfx *p = fs->dirty; p; p = p->dirty_next)
		recompute(fs, p);
}

unsigned long fibsync_desired_count(const struct fibsync *fs)
{
	return fs->ndesired;
}

unsigned long fibsync_installed_count(const struct fibsync *fs, int family)
{
	return fs->ninst[fam_idx(family)];
}

int fibsync_desired_get(struct fibsync *fs, int family, const __u8 *addr, int plen,
			struct xvr_nexthop *nh, struct xvr_nexthop *members, int *nmembers)
{
	struct pfx *p = pfx_find(fs, family, addr, plen, false);

	if (!p || !p->want)
		return -ENOENT;
	nh_content(fs, p->want, nh);
	nh->refcnt = 0;
	*nmembers = 0;
	if (p->want->grp) {
		*nmembers = p->want->grp->key.count;
		for (int i = 0; i < *nmembers; i++) {
			nh_content(fs, p->want->grp->members[i], &members[i]);
			members[i].refcnt = 0;
		}
	}
	return 0;
}

/* ---- maps ---- */


struct apply {
	struct fibsync *fs;
	struct xvr_node *n;
	struct fibsync_stats *st;
	struct xvr_nexthop *tbl;	/* the node's nexthops, read once per apply */
	__u32 next_free;
	struct nhobj **owner;		/* full apply: the object holding each id */
};

static int nh_map_write(struct apply *ap, struct nhobj *o, const struct xvr_nexthop *v)
{
	int err = bpf_map_update_elem(ap->n->nexthops_fd, &o->id, v, BPF_ANY);

	if (err)
		return err;
	o->cur = *v;
	return 0;
}

static bool nh_same_but(const struct xvr_nexthop *a, const struct xvr_nexthop *b, __u16 flags)
{
	struct xvr_nexthop x = *a, y = *b;

	x.refcnt = y.refcnt = 0;
	x.flags &= ~flags;
	y.flags &= ~flags;
	return !memcmp(&x, &y, sizeof(x));
}

/*
 * XDP reads a nexthop while we overwrite it, and an array update is a
 * plain copy: a reader could see the new flags with half the old MAC. So a
 * forwarding nexthop first turns unresolved (one flag: punt), its
 * addresses change while it is unresolved, and it forwards again last.
 */
static int nh_sync(struct apply *ap, struct nhobj *o)
{
	bool was_valid = o->cur.flags & XVR_NH_VALID;
	struct xvr_nexthop want, step;
	int err;

	nh_content(ap->fs, o, &want);
	if (!memcmp(&want, &o->cur, sizeof(want)))
		return 0;
	if (nh_same_but(&want, &o->cur, 0))
		return nh_map_write(ap, o, &want);	/* the use count only */
	if (was_valid)
		ap->st->nh_updated++;
	if (was_valid && nh_forwarding(&o->cur) &&
	    !nh_same_but(&o->cur, &want, XVR_NH_UNRESOLVED)) {
		step = o->cur;
		step.flags |= XVR_NH_UNRESOLVED;
		err = nh_map_write(ap, o, &step);
		if (err)
			return err;
	}
	if (was_valid && nh_forwarding(&want)) {
		step = want;
		step.flags |= XVR_NH_UNRESOLVED;
		if (memcmp(&step, &o->cur, sizeof(step))) {
			err = nh_map_write(ap, o, &step);
			if (err)
				return err;
		}
	}
	return nh_map_write(ap, o, &want);
}

static int tbl_get(struct apply *ap)
{
	if (ap->tbl)
		return 0;
	return nexthops_read(ap->n, &ap->tbl);
}

/* Free slots probed one by one from the cursor before the whole table is read. */
#define NH_PROBES	64

/*
 * A free nexthop id near the cursor, or 0. Reading all of xvr_nexthops
 * takes milliseconds; a route change needs one id, usually right at the
 * cursor. The node lock keeps other commands from taking it meanwhile.
 */
static __u32 nh_probe(struct apply *ap)
{
	struct xvr_nexthop nh;
	__u32 id;

	if (ap->tbl)
		return 0;	/* read already: nexthop_free_slot is cheaper */
	for (int i = 0; i < NH_PROBES; i++) {
		id = ap->fs->cursor;
		if (!id || id >= XVR_MAX_NEXTHOPS)
			id = 1;
		ap->fs->cursor = id + 1;
		if (bpf_map_lookup_elem(ap->n->nexthops_fd, &id, &nh))
			return 0;
		if (!(nh.flags & XVR_NH_VALID))
			return id;
	}
	return 0;
}

static int nh_alloc(struct apply *ap, struct nhobj *o)
{
	struct fibsync *fs = ap->fs;
	__u32 id;
	int err;

	if (fs->nh_count >= FS_MAX_NEXTHOPS) {
		if (!fs->warned_full)
			pr_warn("router %u: fibsync holds %d nexthops, the most one router may\n",
				fs->vr, FS_MAX_NEXTHOPS);
		fs->warned_full = true;
		return -ENOSPC;
	}
	id = nh_probe(ap);
	if (!id) {
		err = tbl_get(ap);
		if (err)
			return err;
		id = nexthop_free_slot(ap->tbl, ap->next_free);
		if (!id)
			id = nexthop_free_slot(ap->tbl, 1);
	}
	if (!id) {
		if (!fs->warned_full)
			pr_warn("router %u: the node's nexthop table is full\n", fs->vr);
		fs->warned_full = true;
		return -ENOSPC;
	}
	/* Taken for the rest of this apply, even before it is written. */
	if (ap->tbl) {
		ap->tbl[id].flags = XVR_NH_VALID;
		ap->tbl[id].vr_id = fs->vr;
		ap->next_free = id + 1;
	}
	fs->cursor = id + 1;
	o->id = id;
	memset(&o->cur, 0, sizeof(o->cur));
	fs->nh_count++;
	ap->st->nh_new++;
	if (ap->owner)
		ap->owner[id] = o;
	return 0;
}

static void retire(struct fibsync *fs, __u32 id)
{
	if (fs->nretired == fs->capretired) {
		size_t cap = fs->capretired ? fs->capretired * 2 : 64;
		__u32 *v = realloc(fs->retired, cap * sizeof(*v));

		if (!v)
			return;	/* left for the next full apply's sweep */
		fs->retired = v;
		fs->capretired = cap;
	}
	fs->retired[fs->nretired++] = id;
}

/* Clears nexthop id (and its member list) if it still belongs to this router. */
static void nh_clear(struct apply *ap, __u32 id)
{
	struct xvr_nexthop cur, zero = {};
	struct xvr_nh_group gzero = {};

	if (!id || id >= XVR_MAX_NEXTHOPS || bpf_map_lookup_elem(ap->n->nexthops_fd, &id, &cur) ||
	    !(cur.flags & XVR_NH_VALID) || cur.vr_id != ap->fs->vr)
		return;
	bpf_map_update_elem(ap->n->nexthops_fd, &id, &zero, BPF_ANY);
	if (cur.flags & XVR_NH_GROUP)
		bpf_map_update_elem(ap->n->nh_groups_fd, &id, &gzero, BPF_ANY);
	ap->st->nh_freed++;
}

static int grp_sync(struct apply *ap, struct nhgrp *g)
{
	struct xvr_nh_group ent = { .count = g->key.count };
	struct xvr_nexthop want;
	bool fresh = !g->obj.id;
	int err;

	for (__u32 i = 0; i < g->key.count; i++) {
		ent.members[i] = g->members[i]->id;
		if (!ent.members[i])
			return -ENOSPC;	/* a member has no id */
		if (ent.members[i] != g->written[i])
			fresh = true;
	}
	/*
	 * A member list is never rewritten while a FIB entry may point at it
	 * (a reader could see half of each): a changed list is a new group,
	 * and the old one is cleared once the FIB has moved.
	 */
	if (fresh) {
		if (g->obj.id) {
			retire(ap->fs, g->obj.id);
			ap->fs->nh_count--;
			g->obj.id = 0;
		}
		err = nh_alloc(ap, &g->obj);
		if (err)
			return err;
		err = bpf_map_update_elem(ap->n->nh_groups_fd, &g->obj.id, &ent, BPF_ANY);
		if (err)
			return err;
		memcpy(g->written, ent.members, sizeof(g->written));
	}
	nh_content(ap->fs, &g->obj, &want);
	if (memcmp(&want, &g->obj.cur, sizeof(want)))
		return nh_map_write(ap, &g->obj, &want);
	return 0;
}

static void obj_free(struct apply *ap, struct nhobj *o)
{
	struct fibsync *fs = ap->fs;

	if (o->id) {
		nh_clear(ap, o->id);
		fs->nh_count--;
	}
	if (o->grp) {
		htab_del(&fs->grps, &o->grp->node);
		free(o->grp);
	} else {
		htab_del(&fs->nhs, &o->node);
		free(o);
	}
}

static int route_prefix_write(struct apply *ap, struct pfx *p)
{
	struct fibsync *fs = ap->fs;
	__u32 id = p->want ? p->want->id : 0, old = 0;
	char buf[INET6_ADDRSTRLEN];
	int err;

	if (p->want && !id)
		return -ENOSPC;	/* its nexthop has no id: keep what is there */
	if (id == p->installed)
		return 0;
	if (id) {
		err = fib_route_add(ap->n, fs->vr, p->key.family, p->key.addr, p->key.plen, id,
				    &old);
		if (!err) {
			if (p->installed)
				ap->st->replaced++;
			else
				ap->st->added++;
			pfx_install(fs, p, id);
		}
	} else {
		err = fib_route_del(ap->n, fs->vr, p->key.family, p->key.addr, p->key.plen, &old);
		if (!err || err == -ENOENT) {
			ap->st->deleted++;
			pfx_install(fs, p, 0);
			err = 0;
		}
	}
	if (err && !ap->st->errors)
		pr_warn("router %u: route %s/%d: %s\n", fs->vr,
			fmt_addr(p->key.family, p->key.addr, buf), p->key.plen, strerror(-err));
	return err;
}

/* Many changes at once (the first sync of a big table): new tables, swapped in. */
static int routes_bulk(struct apply *ap)
{
	struct fibsync *fs = ap->fs;
	struct fib_route *routes;
	struct hnode *e, *nx;
	size_t i, cnt = 0;
	int err;

	routes = calloc(fs->pfxs.count + 1, sizeof(*routes));
	if (!routes)
		return -ENOMEM;
	htab_for_each(&fs->pfxs, i, e, nx) {
		struct pfx *p = (struct pfx *)e;
		/* A nexthop without an id keeps the route the FIB has. */
		__u32 id = p->want && p->want->id ? p->want->id : p->want ? p->installed : 0;

		if (!id)
			continue;
		routes[cnt].family = p->key.family;
		routes[cnt].plen = p->key.plen;
		routes[cnt].nh = id;
		memcpy(routes[cnt].addr, p->key.addr, 16);
		cnt++;
	}
	err = fib_routes_replace(ap->n, fs->vr, routes, cnt, NULL, NULL);
	free(routes);
	if (err) {
		pr_warn("router %u: replace FIB: %s\n", fs->vr, strerror(-err));
		return err;
	}
	ap->st->bulk = true;
	htab_for_each(&fs->pfxs, i, e, nx) {
		struct pfx *p = (struct pfx *)e;
		__u32 id = p->want && p->want->id ? p->want->id : p->want ? p->installed : 0;

		if (id && p->installed && id != p->installed)
			ap->st->replaced++;
		else if (id && !p->installed)
			ap->st->added++;
		else if (!id && p->installed)
			ap->st->deleted++;
		pfx_install(fs, p, id);
	}
	return 0;
}

static int routes_write(struct apply *ap)
{
	unsigned long ops = 0;
	int err = 0, e;

	for (struct pfx *p = ap->fs->dirty; p; p = p->dirty_next)
		ops += (p->want ? p->want->id : 0) != p->installed;
	/*
	 * A rebuild costs about half as much per route of the whole table as
	 * an in-place change costs per changed route (measured: 13 us vs 28).
	 */
	if (ops > FS_BULK_OPS && ops > fibsync_desired_count(ap->fs) / 2)
		return routes_bulk(ap);
	for (struct pfx *p = ap->fs->dirty; p; p = p->dirty_next) {
		e = route_prefix_write(ap, p);
		if (e) {
			ap->st->errors++;
			err = err ?: e;
		}
	}
	return err;
}

static int installed_cb(const struct fib_route *r, void *ctx)
{
	struct fibsync *fs = ctx;
	struct pfx *p = pfx_find(fs, r->family, r->addr, r->plen, true);

	if (!p)
		return -ENOMEM;
	pfx_install(fs, p, r->nh);
	pfx_dirty(fs, p);
	return 0;
}

/* What the FIB holds now, into each prefix's installed. */
static int installed_read(struct fibsync *fs, struct xvr_node *n)
{
	struct hnode *e, *nx;
	size_t i;

	memset(fs->inst, 0, XVR_MAX_NEXTHOPS * sizeof(*fs->inst));
	fs->ninst[0] = fs->ninst[1] = 0;
	htab_for_each(&fs->pfxs, i, e, nx) {
		((struct pfx *)e)->installed = 0;
		pfx_dirty(fs, (struct pfx *)e);
	}
	return fib_route_walk(n, fs->vr, AF_UNSPEC, installed_cb, fs);
}

/* The key a map entry of this router stands for; false if none fits. */
static bool key_of(const struct fibsync *fs, const struct xvr_nexthop *e, struct nh_key *k)
{
	memset(k, 0, sizeof(*k));
	if (e->flags & XVR_NH_LOCAL) {
		k->kind = NHK_LOCAL;
	} else if (e->flags & XVR_NH_BLACKHOLE) {
		k->kind = NHK_BLACKHOLE;
	} else if (e->flags & XVR_NH_GROUP) {
		return false;
	} else if ((e->flags & XVR_NH_UNRESOLVED) && !e->ifindex && !e->family) {
		k->kind = NHK_PUNT;
	} else {
		for (int i = 0; i < fs->nvifs; i++) {
			const struct xvr_vif *v = &fs->vifs[i].v;

			if (v->port != e->ifindex || v->vlan != e->vlan ||
			    memcmp(v->mac, e->smac, 6))
				continue;
			k->kind = NHK_VIF;
			k->vif = fs->vifs[i].id;
			k->family = e->family;
			if (e->family)
				memcpy(k->addr, e->gw, 16);
			return true;
		}
		return false;
	}
	return true;
}

static bool mine(const struct apply *ap, __u32 id)
{
	return id && id < XVR_MAX_NEXTHOPS && (ap->tbl[id].flags & XVR_NH_VALID) &&
	       ap->tbl[id].vr_id == ap->fs->vr;
}

/* Gives single nexthop id to the object with the same key, if it has none. */
static struct nhobj *adopt_single(struct apply *ap, __u32 id)
{
	struct nh_key k;
	struct nhobj *o;

	if (ap->owner[id])
		return ap->owner[id]->grp ? NULL : ap->owner[id];
	if (!mine(ap, id) || !key_of(ap->fs, &ap->tbl[id], &k))
		return NULL;
	o = nh_lookup(ap->fs, &k);
	if (!o || o->id)
		return NULL;
	o->id = id;
	o->cur = ap->tbl[id];
	ap->owner[id] = o;
	ap->fs->nh_count++;
	nh_touch(ap->fs, o);
	return o;
}

static void adopt_group(struct apply *ap, __u32 id)
{
	struct nhobj *m[XVR_MAX_ECMP];
	struct xvr_nh_group ent;
	struct grp_key k = {};
	struct nhgrp *g;

	if (ap->owner[id] || !mine(ap, id) || !(ap->tbl[id].flags & XVR_NH_GROUP) ||
	    bpf_map_lookup_elem(ap->n->nh_groups_fd, &id, &ent) || !ent.count ||
	    ent.count > XVR_MAX_ECMP)
		return;
	k.count = ent.count;
	for (__u32 i = 0; i < ent.count; i++) {
		if (ent.members[i] >= XVR_MAX_NEXTHOPS)
			return;
		m[i] = adopt_single(ap, ent.members[i]);
		if (!m[i] || m[i]->id != ent.members[i])
			return;
		k.m[i] = m[i]->key;
	}
	g = htab_find(&ap->fs->grps, &k, htab_hash(&k, sizeof(k)));
	if (!g || g->obj.id)
		return;
	g->obj.id = id;
	g->obj.cur = ap->tbl[id];
	memcpy(g->written, ent.members, sizeof(g->written));
	ap->owner[id] = &g->obj;
	ap->fs->nh_count++;
	nh_touch(ap->fs, &g->obj);
}

/*
 * After reading the maps: check every id the objects hold (a command may
 * have cleared or taken it meanwhile), then give the ids the FIB already
 * uses to the objects that mean the same, so a restart rewrites nothing.
 */
static void adopt(struct apply *ap)
{
	struct fibsync *fs = ap->fs;
	struct hnode *e, *nx;
	size_t i;

	fs->nh_count = 0;
	for (int t = 0; t < 2; t++) {
		struct htab *tab = t ? &fs->grps : &fs->nhs;

		htab_for_each(tab, i, e, nx) {
			struct nhobj *o = t ? &((struct nhgrp *)e)->obj : (struct nhobj *)e;
			struct xvr_nh_group ent;

			if (!o->id)
				continue;
			nh_touch(fs, o);
			if (mine(ap, o->id) && !ap->owner[o->id]) {
				o->cur = ap->tbl[o->id];
				ap->owner[o->id] = o;
				fs->nh_count++;
				if (o->grp) {
					if (bpf_map_lookup_elem(ap->n->nh_groups_fd, &o->id, &ent))
						memset(&ent, 0, sizeof(ent));
					memcpy(o->grp->written, ent.members, sizeof(ent.members));
				}
				continue;
			}
			/* Cleared or taken: allocate again; the FIB entries follow. */
			o->id = 0;
			memset(&o->cur, 0, sizeof(o->cur));
			if (o->grp)
				memset(o->grp->written, 0, sizeof(o->grp->written));
		}
	}
	htab_for_each(&fs->pfxs, i, e, nx) {
		__u32 id = ((struct pfx *)e)->installed;

		if (!mine(ap, id) || ap->owner[id])
			continue;
		if (ap->tbl[id].flags & XVR_NH_GROUP)
			adopt_group(ap, id);
		else
			adopt_single(ap, id);
	}
}

/*
 * Nexthops nothing uses any more are cleared once no FIB entry points at
 * them: an unused group first gives its members back (they may become
 * unused too), then everything unused goes. One still installed (its FIB
 * write failed) waits for the next apply.
 */
static void release(struct apply *ap)
{
	struct fibsync *fs = ap->fs;
	struct nhobj *o, *next;

	for (o = fs->touched; o; o = o->touched_next) {
		struct nhgrp *g = o->grp;

		if (!g || o->refs || g->released || (o->id && fs->inst[o->id]))
			continue;
		for (__u32 i = 0; i < g->key.count; i++)
			obj_put(fs, g->members[i]);	/* may push onto fs->touched */
		g->released = true;
	}
	o = fs->touched;
	fs->touched = NULL;
	for (; o; o = next) {
		next = o->touched_next;
		o->touched = false;
		if (o->refs) {
			if (o->id && nh_sync(ap, o))
				ap->st->errors++;
		} else if (o->id && fs->inst[o->id]) {
			nh_touch(fs, o);
		} else {
			obj_free(ap, o);
		}
	}
}

int fibsync_apply(struct fibsync *fs, struct xvr_node *n, bool full, struct fibsync_stats *st)
{
	struct apply ap = { .fs = fs, .n = n, .st = st, .next_free = 1 };
	struct pfx *p, *next, *keep = NULL;
	struct hnode *e, *nx;
	struct nhobj *o;
	int err = 0, ret;
	size_t i;

	memset(st, 0, sizeof(*st));
	if (full) {
		ap.owner = calloc(XVR_MAX_NEXTHOPS, sizeof(*ap.owner));
		if (!ap.owner)
			return -ENOMEM;
		err = installed_read(fs, n) ?: tbl_get(&ap);
		if (err) {
			pr_warn("router %u: read FIB: %s\n", fs->vr, strerror(-err));
			goto out;
		}
		adopt(&ap);
	}

	/* Members before groups, both before any FIB entry points at them. */
	for (o = fs->touched; o; o = o->touched_next) {
		if (o->grp || !o->refs)
			continue;
		ret = o->id ? 0 : nh_alloc(&ap, o);
		if (!ret)
			ret = nh_sync(&ap, o);
		if (ret) {
			st->errors++;
			err = err ?: ret;
		}
	}
	for (o = fs->touched; o; o = o->touched_next) {
		if (!o->grp || !o->refs)
			continue;
		ret = grp_sync(&ap, o->grp);
		if (ret) {
			st->errors++;
			err = err ?: ret;
		}
	}

	ret = routes_write(&ap);
	err = err ?: ret;

	release(&ap);
	for (i = 0; i < fs->nretired; i++)
		if (!fs->inst[fs->retired[i]])
			nh_clear(&ap, fs->retired[i]);
	fs->nretired = 0;
	if (full) {
		/* Whatever of the router's no object holds is garbage now. */
		for (int t = 0; t < 2; t++) {
			struct htab *tab = t ? &fs->grps : &fs->nhs;

			htab_for_each(tab, i, e, nx) {
				o = t ? &((struct nhgrp *)e)->obj : (struct nhobj *)e;
				if (o->id)
					ap.owner[o->id] = o;
			}
		}
		for (__u32 id = 1; id < XVR_MAX_NEXTHOPS; id++)
			if (mine(&ap, id) && !ap.owner[id] && !fs->inst[id])
				nh_clear(&ap, id);
	}

	/* Prefixes whose write failed stay dirty for the next apply. */
	for (p = fs->dirty; p; p = next) {
		next = p->dirty_next;
		if ((p->want ? p->want->id : 0) != p->installed) {
			p->dirty_next = keep;
			keep = p;
			continue;
		}
		p->dirty = false;
		p->dirty_next = NULL;
		pfx_maybe_free(fs, p);
	}
	fs->dirty = keep;
	st->routes = fibsync_desired_count(fs);
out:
	free(ap.tbl);
	free(ap.owner);
	return err;
}

bool fibsync_pending(const struct fibsync *fs)
{
	return fs->dirty || fs->touched;
}

/* ---- check ---- */

static const char *nh_desc(const struct xvr_nexthop *nh, char *buf, size_t len)
{
	char gw[INET6_ADDRSTRLEN], mac[18];
	int off;

	if (!(nh->flags & XVR_NH_VALID))
		return snprintf(buf, len, "invalid"), buf;
	if (nh->flags & XVR_NH_LOCAL)
		return snprintf(buf, len, "local"), buf;
	if (nh->flags & XVR_NH_BLACKHOLE)
		return snprintf(buf, len, "blackhole"), buf;
	if (nh->flags & XVR_NH_GROUP)
		return snprintf(buf, len, "group"), buf;
	if ((nh->flags & XVR_NH_UNRESOLVED) && !nh->ifindex)
		return snprintf(buf, len, "punt"), buf;
	off = snprintf(buf, len, "port %u", nh->ifindex);
	if (nh->vlan)
		off += snprintf(buf + off, len - off, " vlan %u", nh->vlan);
	if (nh->family)
		off += snprintf(buf + off, len - off, " via %s", fmt_addr(nh->family, nh->gw, gw));
	if (nh->flags & XVR_NH_UNRESOLVED)
		snprintf(buf + off, len - off, " unresolved");
	else
		snprintf(buf + off, len - off, " lladdr %s", fmt_mac(nh->dmac, mac));
	return buf;
}

struct check {
	struct fibsync *fs;
	struct xvr_node *n;
	struct xvr_nexthop *tbl;
	__u32 *refs;
	int diffs, max_print;
};

static void check_report(struct check *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void check_report(struct check *c, const char *fmt, ...)
{
	va_list ap;

	if (c->diffs++ >= c->max_print)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
}

static bool entry_is(const struct check *c, __u32 id, const struct xvr_nexthop *want)
{
	return id < XVR_MAX_NEXTHOPS && c->tbl[id].vr_id == c->fs->vr &&
	       nh_same_but(&c->tbl[id], want, 0);
}

/* Whether installed id means exactly what object o stands for now. */
static bool check_nh(struct check *c, const struct nhobj *o, __u32 id, char *why, size_t len)
{
	struct xvr_nexthop want;
	struct xvr_nh_group ent;
	char a[128], b[128];

	nh_content(c->fs, o, &want);
	if (!entry_is(c, id, &want)) {
		snprintf(why, len, "want %s, have %s (nexthop %u)", nh_desc(&want, a, sizeof(a)),
			 id < XVR_MAX_NEXTHOPS ? nh_desc(&c->tbl[id], b, sizeof(b)) : "?", id);
		return false;
	}
	if (!o->grp)
		return true;
	if (bpf_map_lookup_elem(c->n->nh_groups_fd, &id, &ent) || ent.count != o->grp->key.count) {
		snprintf(why, len, "group %u has %u members, want %u", id, ent.count,
			 o->grp->key.count);
		return false;
	}
	for (__u32 i = 0; i < ent.count; i++) {
		nh_content(c->fs, o->grp->members[i], &want);
		if (!entry_is(c, ent.members[i], &want)) {
			snprintf(why, len, "group %u member %u: want %s, have %s (nexthop %u)",
				 id, i,
				 nh_desc(&want, a, sizeof(a)),
				 ent.members[i] < XVR_MAX_NEXTHOPS ?
				 nh_desc(&c->tbl[ent.members[i]], b, sizeof(b)) : "?",
				 ent.members[i]);
			return false;
		}
	}
	return true;
}

static int check_cb(const struct fib_route *r, void *ctx)
{
	struct check *c = ctx;
	struct pfx *p = pfx_find(c->fs, r->family, r->addr, r->plen, true);

	if (!p)
		return -ENOMEM;
	p->installed = r->nh;
	return 0;
}

int fibsync_check(struct fibsync *fs, struct xvr_node *n, int max_print)
{
	struct check c = { .fs = fs, .n = n, .max_print = max_print };
	char buf[INET6_ADDRSTRLEN], why[512], d[128];
	struct xvr_nexthop want;
	struct hnode *e, *nx;
	size_t i;
	int err;

	c.refs = calloc(XVR_MAX_NEXTHOPS, sizeof(*c.refs));
	if (!c.refs)
		return -ENOMEM;
	htab_for_each(&fs->pfxs, i, e, nx)
		((struct pfx *)e)->installed = 0;
	err = fib_route_walk(n, fs->vr, AF_UNSPEC, check_cb, &c) ?: nexthops_read(n, &c.tbl);
	if (err)
		goto out;
	htab_for_each(&fs->pfxs, i, e, nx) {
		struct pfx *p = (struct pfx *)e;

		fmt_addr(p->key.family, p->key.addr, buf);
		if (p->installed && p->installed < XVR_MAX_NEXTHOPS)
			c.refs[p->installed]++;
		if (p->want && !p->installed) {
			nh_content(fs, p->want, &want);
			check_report(&c, "missing %s/%d %s\n", buf, p->key.plen,
				     nh_desc(&want, d, sizeof(d)));
		} else if (!p->want && p->installed) {
			check_report(&c, "stale %s/%d (nexthop %u)\n", buf, p->key.plen,
				     p->installed);
		} else if (p->want && !check_nh(&c, p->want, p->installed, why, sizeof(why))) {
			check_report(&c, "differs %s/%d: %s\n", buf, p->key.plen, why);
		}
	}
	/* Use counts: FIB entries, and each slot of a group's member list. */
	for (__u32 id = 1; id < XVR_MAX_NEXTHOPS; id++) {
		struct xvr_nh_group ent;

		if (!c.refs[id] || !(c.tbl[id].flags & XVR_NH_GROUP) ||
		    bpf_map_lookup_elem(n->nh_groups_fd, &id, &ent))
			continue;
		for (__u32 j = 0; j < ent.count && j < XVR_MAX_ECMP; j++)
			if (ent.members[j] < XVR_MAX_NEXTHOPS)
				c.refs[ent.members[j]]++;
	}
	for (__u32 id = 1; id < XVR_MAX_NEXTHOPS; id++) {
		const struct xvr_nexthop *nh = &c.tbl[id];

		if (!(nh->flags & XVR_NH_VALID) || nh->vr_id != fs->vr)
			continue;
		if (!c.refs[id])
			check_report(&c, "leaked nexthop %u: %s\n", id, nh_desc(nh, d, sizeof(d)));
		else if (nh->refcnt != c.refs[id])
			check_report(&c, "nexthop %u: use count %u, used %u times\n", id,
				     nh->refcnt, c.refs[id]);
	}
	err = c.diffs;
out:
	free(c.tbl);
	free(c.refs);
	return err;
}

/* ---- netlink ---- */

int fibsync_nl_open(struct nl *nl, const char *netns, bool events)
{
	static const int groups[] = {
		RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR, RTNLGRP_IPV4_ROUTE,
		RTNLGRP_IPV6_ROUTE, RTNLGRP_NEIGH, RTNLGRP_NEXTHOP,
	};

	/* Room for a routing daemon's burst; an overrun costs a full resync. */
	return events ? nl_open(nl, netns, groups, ARRAY_SIZE(groups), 32 << 20) :
			nl_open(nl, netns, NULL, 0, 4 << 20);
}

static int dump_cb(const struct nlmsghdr *h, void *fs)
{
	int ret = fibsync_msg(fs, h, true);

	return ret < 0 ? ret : 0;
}

/* A dump the kernel flags as interrupted (the table changed under it) is redone. */
#define NL_DUMP_TRIES 5

int fibsync_nl_dump_routes(struct nl *nl, struct fibsync *fs, int family)
{
	int err = -EAGAIN;

	for (int i = 0; i < NL_DUMP_TRIES && err == -EAGAIN; i++) {
		fibsync_mirror_clear_routes(fs, family);
		err = nl_dump(nl, RTM_GETROUTE, family, sizeof(struct rtmsg), dump_cb, fs);
	}
	return err == -EAGAIN ? 0 : err;
}

static void mirror_clear_neigh(struct fibsync *fs)
{
	struct hnode *e, *nx;
	size_t i;

	htab_for_each(&fs->neighs, i, e, nx)
		free(e);
	htab_free(&fs->neighs);
	/* Every nexthop's MAC may have changed, every host route may go. */
	htab_for_each(&fs->nhs, i, e, nx)
		nh_touch(fs, (struct nhobj *)e);
	fs->redo[0] = fs->redo[1] = true;
}

int fibsync_nl_dump_neigh(struct nl *nl, struct fibsync *fs)
{
	int err = -EAGAIN;

	for (int i = 0; i < NL_DUMP_TRIES && err == -EAGAIN; i++) {
		mirror_clear_neigh(fs);
		err = nl_dump(nl, RTM_GETNEIGH, AF_UNSPEC, sizeof(struct ndmsg), dump_cb, fs);
	}
	return err == -EAGAIN ? 0 : err;
}

struct read_ctx {
	struct fibsync *fs;
	int hints;
};

static int read_cb(const struct nlmsghdr *h, void *arg)
{
	struct read_ctx *c = arg;
	int ret = fibsync_msg(c->fs, h, false);

	/* Out of memory: start over. */
	c->hints |= ret < 0 ? FIBSYNC_RESYNC_ALL : ret;
	return 0;
}

int fibsync_nl_read(struct nl *nl, struct fibsync *fs, int *hints)
{
	struct read_ctx c = { fs, 0 };
	int count = nl_read(nl, 0, read_cb, &c);

	*hints |= c.hints;
	return count;
}

/* ---- life cycle ---- */

struct fibsync *fibsync_new(__u32 vr_id)
{
	struct fibsync *fs = calloc(1, sizeof(*fs));

	if (!fs)
		return NULL;
	fs->vr = vr_id;
	fs->inst = calloc(XVR_MAX_NEXTHOPS, sizeof(*fs->inst));
	htab_init(&fs->pfxs, offsetof(struct pfx, key), sizeof(struct pfx_key));
	htab_init(&fs->neighs, offsetof(struct neigh, key), sizeof(struct neigh_key));
	htab_init(&fs->nhs, offsetof(struct nhobj, key), sizeof(struct nh_key));
	htab_init(&fs->grps, offsetof(struct nhgrp, key), sizeof(struct grp_key));
	if (!fs->inst) {
		fibsync_free(fs);
		return NULL;
	}
	return fs;
}

void fibsync_free(struct fibsync *fs)
{
	struct hnode *e, *nx;
	size_t i;

	if (!fs)
		return;
	htab_for_each(&fs->pfxs, i, e, nx) {
		struct pfx *p = (struct pfx *)e;

		while (p->routes)
			kroute_unlink(p, p->routes);
		free(p);
	}
	htab_for_each(&fs->neighs, i, e, nx)
		free(e);
	htab_for_each(&fs->nhs, i, e, nx)
		free(e);
	htab_for_each(&fs->grps, i, e, nx)
		free(e);
	htab_free(&fs->pfxs);
	htab_free(&fs->neighs);
	htab_free(&fs->nhs);
	htab_free(&fs->grps);
	free(fs->vifs);
	free(fs->inst);
	free(fs->retired);
	free(fs);
}

/* ---- ownership marker ---- */

static void owned_path(char *buf, size_t len, const char *node, const char *router)
{
	snprintf(buf, len, "%s/%s/fibsync-%s.owned", XVR_RUN_DIR, node, router);
}

bool fibsync_owned(const char *node, const char *router)
{
	char path[PATH_MAX];

	owned_path(path, sizeof(path), node, router);
	return !access(path, F_OK);
}

int fibsync_own(const char *node, const char *router)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", XVR_RUN_DIR, node);
	if ((mkdir(XVR_RUN_DIR, 0700) && errno != EEXIST) || (mkdir(path, 0700) && errno != EEXIST))
		return -errno;
	owned_path(path, sizeof(path), node, router);
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

void fibsync_forget(const char *node, const char *router)
{
	char path[PATH_MAX];

	owned_path(path, sizeof(path), node, router);
	unlink(path);
	snprintf(path, sizeof(path), "%s/%s", XVR_RUN_DIR, node);
	rmdir(path);	/* only once nothing else of the node's is there */
}

/* ---- keeping gateways resolved ---- */

#define NUDGE_UNRESOLVED_MS	1000
#define NUDGE_STALE_MS		30000

static int nudge_send(struct nl *nl, int family, __u32 ifindex, const __u8 *addr)
{
	struct nlmsghdr *h = nl_request(nl, RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE,
					sizeof(struct ndmsg));
	struct ndmsg *nd = mnl_nlmsg_get_payload(h);

	nd->ndm_family = family;
	nd->ndm_ifindex = ifindex;
	nd->ndm_state = NUD_NONE;
	nd->ndm_flags = NTF_USE;
	mnl_attr_put(h, NDA_DST, fam_bytes(family), addr);
	return nl_send(nl, h);
}

/*
 * The kernel resolves a neighbour when it sends to it, but once XDP
 * forwards, the kernel sends nothing: an ECMP member the kernel's own hash
 * does not pick would stay unresolved (its flows punted for good), and a
 * host that changed its MAC would never be noticed. NTF_USE does what a
 * sent packet would: unresolved gateways in use are resolved, stale ones
 * re-validated now and then.
 */
int fibsync_nudge(struct fibsync *fs, struct nl *nl, long now_ms)
{
	struct hnode *e, *nx;
	int sent = 0;
	size_t i;

	htab_for_each(&fs->nhs, i, e, nx) {
		struct nhobj *o = (struct nhobj *)e;
		const struct xvr_vif *v;
		struct neigh *ne;
		long every;

		if (o->key.kind != NHK_VIF || !o->key.family || !o->refs)
			continue;
		v = vif_by_id(fs, o->key.vif);
		if (!v)
			continue;
		ne = neigh_find(fs, v->peer, o->key.family, o->key.addr);
		if (!ne || !ne->usable)
			every = NUDGE_UNRESOLVED_MS;
		else if (ne->state & NUD_STALE)
			every = NUDGE_STALE_MS;
		else
			continue;
		if (o->nudged && now_ms - o->nudged < every)
			continue;
		o->nudged = now_ms;
		if (!nudge_send(nl, o->key.family, v->peer, o->key.addr))
			sent++;
	}
	return sent;
}
