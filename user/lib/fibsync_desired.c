// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * fibsync's desired set: what the BPF FIB should hold for each prefix the
 * mirror changed, as content-addressed nexthop objects.
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
#include "fibsync_int.h"

/* ---- nexthop objects ---- */

void nh_touch(struct fibsync *fs, struct nhobj *o)
{
	if (o->touched)
		return;
	o->touched = true;
	o->touched_next = fs->touched;
	fs->touched = o;
}

struct nhobj *nh_lookup(const struct fibsync *fs, const struct nh_key *k)
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

void obj_put(struct fibsync *fs, struct nhobj *o)
{
	if (o->refs)
		o->refs--;
	nh_touch(fs, o);
}

bool nh_forwarding(const struct nexthop *nh)
{
	return (nh->flags & XVR_NH_VALID) &&
	       !(nh->flags & (XVR_NH_UNRESOLVED | XVR_NH_LOCAL | XVR_NH_BLACKHOLE | XVR_NH_GROUP));
}

/* The map entry a single nexthop should have now; refcnt included. */
void nh_content(const struct fibsync *fs, const struct nhobj *o, struct nexthop *nh)
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
		/* A virtual link: port is its own dev, where ingress encapsulates. */
		if (v->flags & XVR_VIF_LINK) {
			nh->flags |= XVR_NH_LINK;
			nh->link_id = o->key.vif;
		}
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
			struct nexthop *nh, struct nexthop *members, int *nmembers)
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
