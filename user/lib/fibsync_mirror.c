// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * fibsync's mirror: the kernel's routes (tables main and local) and
 * neighbours of the router's namespace, per prefix, and the router's VIFs,
 * fed by dumps and notifications (fibsync_msg). A change marks the prefixes
 * whose desired entry must be recomputed.
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
#include "fibsync_int.h"

/* ---- prefixes ---- */

struct pfx *pfx_find(struct fibsync *fs, int family, const __u8 *addr, int plen,
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

void pfx_dirty(struct fibsync *fs, struct pfx *p)
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
	if (!now != !p->counted)
		fs->npfx_routed += now ? 1 : -1;
	p->counted = now;
}

void pfx_install(struct fibsync *fs, struct pfx *p, __u32 id)
{
	if (p->installed && p->installed < XVR_MAX_NEXTHOPS && fs->inst[p->installed])
		fs->inst[p->installed]--;
	if (id && id < XVR_MAX_NEXTHOPS)
		fs->inst[id]++;
	fs->ninst[fam_idx(p->key.family)] += !!id - !!p->installed;
	p->installed = id;
}

void pfx_maybe_free(struct fibsync *fs, struct pfx *p)
{
	if (p->routes || p->want || p->installed || p->dirty)
		return;
	htab_del(&fs->pfxs, &p->node);
	free(p);
}

/* ---- neighbours ---- */

struct neigh *neigh_find(const struct fibsync *fs, __u32 ifindex, int family,
				const __u8 *addr)
{
	struct neigh_key k = { .ifindex = ifindex, .family = family };

	memcpy(k.addr, addr, fam_bytes(family));
	return htab_find(&fs->neighs, &k, htab_hash(&k, sizeof(k)));
}

/* ---- VIFs ---- */

const struct xvr_vif *vif_by_peer(const struct fibsync *fs, __u32 ifindex, __u32 *id)
{
	for (int i = 0; i < fs->nvifs; i++)
		if (fs->vifs[i].v.peer == ifindex) {
			*id = fs->vifs[i].id;
			return &fs->vifs[i].v;
		}
	return NULL;
}

const struct xvr_vif *vif_by_id(const struct fibsync *fs, __u32 id)
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
	/*
	 * A tenant's daemon decides how many routes it announces: past
	 * max_routes prefixes, new ones are counted and left out (the mirror
	 * and the BPF FIB keep what they hold); the next full sync after
	 * room frees up picks them up.
	 */
	if (h->nlmsg_type == RTM_NEWROUTE && !p->routes && fs->max_routes &&
	    fs->npfx_routed >= fs->max_routes) {
		fs->refused++;
		pfx_maybe_free(fs, p);
		return 0;
	}
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

void fibsync_mirror_clear(struct fibsync *fs)
{
	fibsync_mirror_clear_routes(fs, AF_INET);
	fibsync_mirror_clear_routes(fs, AF_INET6);
	mirror_clear_neigh(fs);
}

void mirror_clear_neigh(struct fibsync *fs)
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

void fibsync_set_max_routes(struct fibsync *fs, unsigned long max)
{
	fs->max_routes = max;
}

unsigned long fibsync_refused(const struct fibsync *fs)
{
	return fs->refused;
}

unsigned long fibsync_mirror_count(const struct fibsync *fs)
{
	return fs->npfx_routed;
}
