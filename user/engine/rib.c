// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The engine's copy of its router namespace's forwarding state: links,
 * neighbours, nexthops and the routes of the main and local tables, kept
 * current by netlink.c.
 *
 * Routes are held per family in a hash per prefix length. IPv4 lookups go
 * through a DIR-16-8-8 table (user/lib/fib4.c, the same code that fills the
 * xdp mode's BPF table) holding nexthop ids; the per-length hashes give the
 * parent route a removal needs. IPv6 lookups probe the hashes longest
 * prefix first: only the lengths in use are probed, a handful in practice.
 *
 * A prefix may have several routes (local and main table, metrics); the
 * kernel's choice is the local table first, then the lowest metric, and so
 * is ours. Nexthops are interned: routes with the same type and paths share
 * one id, which is what the DIR table stores.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <linux/rtnetlink.h>
#include "common.h"
#include "engine.h"

#define FIB4_START_GROUPS 64

static void rt_init(struct fe_rtable *t, int family)
{
	memset(t, 0, sizeof(*t));
	t->family = family;
	t->max_plen = family == AF_INET ? 32 : 128;
	for (int i = 0; i <= t->max_plen; i++)
		htab_init(&t->by_plen[i], offsetof(struct fe_route, addr), 16);
}

int rib_init(struct fe_rib *r)
{
	memset(r, 0, sizeof(*r));
	r->links = calloc(FE_MAX_LINK + 1, sizeof(*r->links));
	r->nhs = calloc(FE_MAX_NH + 1, sizeof(*r->nhs));
	if (!r->links || !r->nhs) {
		rib_fini(r);
		return -ENOMEM;
	}
	r->nh_next = 1;
	htab_init(&r->neighs, offsetof(struct fe_neigh, key), sizeof(struct fe_neigh_key));
	htab_init(&r->nh_by_key, offsetof(struct fe_nh, key), sizeof(struct fe_nh_key));
	rt_init(&r->rt4, AF_INET);
	rt_init(&r->rt6, AF_INET6);
	return fib4_table_alloc(&r->fib4, FIB4_START_GROUPS);
}

static void free_node(struct hnode *n, void *arg)
{
	free(n);
}

static void rt_fini(struct fe_rtable *t)
{
	for (int i = 0; i <= t->max_plen; i++) {
		htab_each(&t->by_plen[i], free_node, NULL);
		htab_free(&t->by_plen[i]);
	}
	t->nplens = 0;
	t->count = 0;
}

static void rib_clear(struct fe_rib *r)
{
	rt_fini(&r->rt4);
	rt_fini(&r->rt6);
	htab_each(&r->neighs, free_node, NULL);
	htab_free(&r->neighs);
	htab_each(&r->nh_by_key, free_node, NULL);
	htab_free(&r->nh_by_key);
	if (r->nhs)
		memset(r->nhs, 0, (FE_MAX_NH + 1) * sizeof(*r->nhs));
	if (r->links)
		memset(r->links, 0, (FE_MAX_LINK + 1) * sizeof(*r->links));
	r->nh_next = 1;
	r->routes_ignored = 0;
	r->links_ignored = 0;
	fib4_table_free(&r->fib4);
}

void rib_fini(struct fe_rib *r)
{
	rib_clear(r);
	free(r->links);
	free(r->nhs);
	r->links = NULL;
	r->nhs = NULL;
}

int rib_reset(struct fe_rib *r)
{
	rib_clear(r);
	return fib4_table_alloc(&r->fib4, FIB4_START_GROUPS);
}

/* ---- links ---- */

void rib_link_set(struct fe_rib *r, const struct fe_link *l)
{
	if (l->ifindex == 0 || l->ifindex > FE_MAX_LINK) {
		/* The tag cannot name it; the engine can neither receive from nor send to it. */
		pr_debug("link %s: ifindex %u beyond the tag's 15 bits, ignored\n", l->name,
			 l->ifindex);
		r->links_ignored++;
		return;
	}
	r->links[l->ifindex] = *l;
	r->links[l->ifindex].present = true;
}

void rib_link_del(struct fe_rib *r, __u32 ifindex)
{
	if (ifindex && ifindex <= FE_MAX_LINK)
		memset(&r->links[ifindex], 0, sizeof(r->links[ifindex]));
}

int rib_link_by_name(const struct fe_rib *r, const char *name)
{
	for (__u32 i = 1; i <= FE_MAX_LINK; i++)
		if (r->links[i].present && !strcmp(r->links[i].name, name))
			return i;
	return -ENODEV;
}

/* ---- neighbours ---- */

static void neigh_key(struct fe_neigh_key *k, int family, __u32 ifindex, const __u8 *addr)
{
	memset(k, 0, sizeof(*k));
	k->ifindex = ifindex;
	k->family = family;
	memcpy(k->addr, addr, family == AF_INET ? 4 : 16);
}

const struct fe_neigh *rib_neigh(const struct fe_rib *r, int family, __u32 ifindex,
				 const __u8 *addr)
{
	struct fe_neigh_key k;

	neigh_key(&k, family, ifindex, addr);
	return (const struct fe_neigh *)htab_find(&r->neighs, &k, htab_hash(&k, sizeof(k)));
}

int rib_neigh_set(struct fe_rib *r, int family, __u32 ifindex, const __u8 *addr,
		  const __u8 *mac, __u16 state)
{
	struct fe_neigh_key k;
	struct fe_neigh *n;
	__u32 hash;
	int err;

	neigh_key(&k, family, ifindex, addr);
	hash = htab_hash(&k, sizeof(k));
	n = (struct fe_neigh *)htab_find(&r->neighs, &k, hash);
	if (!mac) {
		if (n) {
			htab_del(&r->neighs, &n->node);
			free(n);
		}
		return 0;
	}
	if (!n) {
		n = calloc(1, sizeof(*n));
		if (!n)
			return -ENOMEM;
		n->key = k;
		err = htab_add(&r->neighs, &n->node, hash);
		if (err) {
			free(n);
			return err;
		}
	}
	memcpy(n->mac, mac, 6);
	n->state = state;
	return 0;
}

/* ---- nexthops ---- */

static int nh_get(struct fe_rib *r, const struct fe_nh_key *k, __u32 *id)
{
	__u32 hash = htab_hash(k, sizeof(*k));
	struct fe_nh *nh = (struct fe_nh *)htab_find(&r->nh_by_key, k, hash);
	int err;

	if (nh) {
		nh->refcnt++;
		*id = nh->id;
		return 0;
	}
	for (__u32 i = 0; i < FE_MAX_NH; i++) {
		__u32 cand = (r->nh_next - 1 + i) % FE_MAX_NH + 1;

		if (r->nhs[cand])
			continue;
		nh = calloc(1, sizeof(*nh));
		if (!nh)
			return -ENOMEM;
		nh->key = *k;
		nh->id = cand;
		nh->refcnt = 1;
		err = htab_add(&r->nh_by_key, &nh->node, hash);
		if (err) {
			free(nh);
			return err;
		}
		r->nhs[cand] = nh;
		r->nh_next = cand % FE_MAX_NH + 1;
		*id = cand;
		return 0;
	}
	return -ENOSPC;
}

static void nh_put(struct fe_rib *r, __u32 id)
{
	struct fe_nh *nh = id && id <= FE_MAX_NH ? r->nhs[id] : NULL;

	if (!nh || --nh->refcnt)
		return;
	htab_del(&r->nh_by_key, &nh->node);
	r->nhs[id] = NULL;
	free(nh);
}

/* ---- routes ---- */

static void mask_addr(__u8 *dst, const __u8 *src, int plen, int bytes)
{
	memset(dst, 0, 16);
	memcpy(dst, src, bytes);
	for (int i = 0; i < bytes; i++) {
		int bits = plen - i * 8;

		if (bits >= 8)
			continue;
		dst[i] &= bits <= 0 ? 0 : (__u8)(0xff << (8 - bits));
	}
}

static struct fe_rtable *rt_of(struct fe_rib *r, int family)
{
	return family == AF_INET ? &r->rt4 : family == AF_INET6 ? &r->rt6 : NULL;
}

static struct fe_route *rt_find(const struct fe_rtable *t, const __u8 *key, int plen)
{
	return (struct fe_route *)htab_find(&t->by_plen[plen], key, htab_hash(key, 16));
}

static void rt_plens_update(struct fe_rtable *t)
{
	t->nplens = 0;
	for (int l = t->max_plen; l >= 0; l--)
		if (t->by_plen[l].count)
			t->plens[t->nplens++] = l;
}

/* The local table first (the kernel looks there first), then the lowest metric. */
static __u32 rt_best(const struct fe_route *rt)
{
	const struct fe_route_alt *best = NULL;

	for (__u32 i = 0; i < rt->nalts; i++) {
		const struct fe_route_alt *a = &rt->alts[i];

		if (!best || (a->table == RT_TABLE_LOCAL && best->table != RT_TABLE_LOCAL) ||
		    (a->table == best->table && a->prio < best->prio))
			best = a;
	}
	return best ? best->nh : 0;
}

struct collect4 {
	struct fib_route *v;
	size_t n;
};

static void collect4_cb(struct hnode *n, void *arg)
{
	struct fe_route *rt = (struct fe_route *)n;
	struct collect4 *c = arg;
	struct fib_route *fr = &c->v[c->n++];

	memset(fr, 0, sizeof(*fr));
	fr->family = AF_INET;
	memcpy(fr->addr, rt->addr, 4);
	fr->plen = rt->plen;
	fr->nh = rt->best;
}

/* The DIR table ran out of groups: build a bigger one from the routes. */
static int fib4_rebuild(struct fe_rib *r)
{
	struct collect4 c = { .v = calloc(r->rt4.count + 1, sizeof(*c.v)) };
	struct fib4_table t;
	long needed;
	int err;

	if (!c.v)
		return -ENOMEM;
	for (int l = 0; l <= 32; l++)
		htab_each(&r->rt4.by_plen[l], collect4_cb, &c);
	needed = fib4_groups_needed(c.v, c.n);
	if (needed < 0) {
		free(c.v);
		return (int)needed;
	}
	err = fib4_table_alloc(&t, fib4_groups_headroom(needed));
	if (!err)
		err = fib4_build(&t, c.v, c.n);
	free(c.v);
	if (err) {
		fib4_table_free(&t);
		return err;
	}
	fib4_table_free(&r->fib4);
	r->fib4 = t;
	pr_debug("IPv4 table rebuilt: %zu routes, %u groups\n", c.n, t.groups_max);
	return 0;
}

static __u32 addr4_host(const __u8 *a)
{
	__u32 v;

	memcpy(&v, a, 4);
	return ntohl(v);
}

static int fib4_set(struct fe_rib *r, const struct fe_route *rt)
{
	int err = fib4_insert(&r->fib4, addr4_host(rt->addr), rt->plen, rt->best);

	return err == -ENOSPC ? fib4_rebuild(r) : err;
}

static int fib4_unset(struct fe_rib *r, const struct fe_route *rt)
{
	__u8 key[16];

	/* The longest shorter route covering this one takes its place. */
	for (int l = (int)rt->plen - 1; l >= 0; l--) {
		const struct fe_route *parent;

		if (!r->rt4.by_plen[l].count)
			continue;
		mask_addr(key, rt->addr, l, 4);
		parent = rt_find(&r->rt4, key, l);
		if (parent)
			return fib4_remove(&r->fib4, addr4_host(rt->addr), rt->plen, parent->best,
					   l);
	}
	return fib4_remove(&r->fib4, addr4_host(rt->addr), rt->plen, 0, 0);
}

static bool path_eq(const struct fe_path *a, const struct fe_path *b)
{
	return !memcmp(a, b, sizeof(*a));
}

static bool nh_has_path(const struct fe_nh_key *k, const struct fe_path *p)
{
	for (__u32 i = 0; i < k->npaths; i++)
		if (path_eq(&k->paths[i], p))
			return true;
	return false;
}

/* alt's nexthop becomes key (consumes nothing of the caller's). */
static int alt_set_nh(struct fe_rib *r, struct fe_route_alt *alt, const struct fe_nh_key *key)
{
	__u32 id;
	int err = nh_get(r, key, &id);

	if (err)
		return err;
	nh_put(r, alt->nh);
	alt->nh = id;
	return 0;
}

static int route_changed(struct fe_rib *r, struct fe_rtable *t, struct fe_route *rt)
{
	__u32 best = rt_best(rt);

	if (best == rt->best)
		return 0;
	rt->best = best;
	return t->family == AF_INET ? fib4_set(r, rt) : 0;
}

int rib_route_add(struct fe_rib *r, const struct fe_route_msg *m, bool append)
{
	struct fe_rtable *t = rt_of(r, m->family);
	struct fe_route_alt *alt = NULL;
	struct fe_route *rt;
	__u8 key[16];
	int err;

	if (!t || m->plen < 0 || m->plen > t->max_plen)
		return -EINVAL;
	if (m->nh.type == FE_NH_FORWARD && (!m->nh.npaths || m->nh.npaths > FE_MAX_PATHS))
		return -EINVAL;
	mask_addr(key, m->addr, m->plen, m->family == AF_INET ? 4 : 16);
	rt = rt_find(t, key, m->plen);
	if (!rt) {
		rt = calloc(1, sizeof(*rt));
		if (!rt)
			return -ENOMEM;
		memcpy(rt->addr, key, 16);
		rt->plen = m->plen;
		err = htab_add(&t->by_plen[m->plen], &rt->node, htab_hash(key, 16));
		if (err) {
			free(rt);
			return err;
		}
		t->count++;
		rt_plens_update(t);
	}
	for (__u32 i = 0; i < rt->nalts; i++)
		if (rt->alts[i].table == m->table && rt->alts[i].prio == m->prio)
			alt = &rt->alts[i];

	if (alt && append) {
		const struct fe_nh *cur = rib_nh(r, alt->nh);
		struct fe_nh_key merged;

		/*
		 * IPv6 grows a multipath route with appends; IPv4 appends a
		 * second route the kernel does not use while the first exists.
		 */
		if (m->family != AF_INET6 || !cur || cur->key.type != FE_NH_FORWARD ||
		    m->nh.type != FE_NH_FORWARD)
			return 0;
		merged = cur->key;
		for (__u32 i = 0; i < m->nh.npaths; i++) {
			if (nh_has_path(&merged, &m->nh.paths[i]))
				continue;
			if (merged.npaths == FE_MAX_PATHS)
				break;
			merged.paths[merged.npaths++] = m->nh.paths[i];
		}
		err = alt_set_nh(r, alt, &merged);
	} else if (alt) {
		err = alt_set_nh(r, alt, &m->nh);
	} else {
		if (rt->nalts == FE_MAX_ALTS)
			return -ENOSPC;
		alt = &rt->alts[rt->nalts];
		alt->table = m->table;
		alt->prio = m->prio;
		alt->nh = 0;
		err = alt_set_nh(r, alt, &m->nh);
		if (!err)
			rt->nalts++;
	}
	if (!err)
		err = route_changed(r, t, rt);
	if (!rt->nalts) {
		/* A new route whose nexthop could not be taken. */
		htab_del(&t->by_plen[rt->plen], &rt->node);
		t->count--;
		rt_plens_update(t);
		free(rt);
	}
	return err;
}

int rib_route_del(struct fe_rib *r, const struct fe_route_msg *m)
{
	struct fe_rtable *t = rt_of(r, m->family);
	struct fe_route *rt;
	const struct fe_nh *cur;
	__u8 key[16];
	__u32 i;
	int err = 0;

	if (!t || m->plen < 0 || m->plen > t->max_plen)
		return -EINVAL;
	mask_addr(key, m->addr, m->plen, m->family == AF_INET ? 4 : 16);
	rt = rt_find(t, key, m->plen);
	if (!rt)
		return 0;
	for (i = 0; i < rt->nalts; i++)
		if (rt->alts[i].table == m->table && rt->alts[i].prio == m->prio)
			break;
	if (i == rt->nalts)
		return 0;

	cur = rib_nh(r, rt->alts[i].nh);
	if (m->family == AF_INET6 && cur && cur->key.type == FE_NH_FORWARD &&
	    m->nh.type == FE_NH_FORWARD && m->nh.npaths < cur->key.npaths) {
		/* One path of an IPv6 multipath route goes; the others stay. */
		struct fe_nh_key left = cur->key;

		left.npaths = 0;
		memset(left.paths, 0, sizeof(left.paths));
		for (__u32 p = 0; p < cur->key.npaths; p++)
			if (!nh_has_path(&m->nh, &cur->key.paths[p]))
				left.paths[left.npaths++] = cur->key.paths[p];
		if (left.npaths) {
			err = alt_set_nh(r, &rt->alts[i], &left);
			return err ?: route_changed(r, t, rt);
		}
	}

	nh_put(r, rt->alts[i].nh);
	memmove(&rt->alts[i], &rt->alts[i + 1], (rt->nalts - i - 1) * sizeof(rt->alts[0]));
	rt->nalts--;
	if (rt->nalts)
		return route_changed(r, t, rt);

	htab_del(&t->by_plen[rt->plen], &rt->node);
	t->count--;
	rt_plens_update(t);
	if (t->family == AF_INET)
		err = fib4_unset(r, rt);
	free(rt);
	return err;
}

__u32 rib_lookup6(const struct fe_rib *r, const __u8 daddr[16])
{
	const struct fe_rtable *t = &r->rt6;

	for (int i = 0; i < t->nplens; i++) {
		int plen = t->plens[i];
		const struct fe_route *rt;
		__u8 key[16];

		mask_addr(key, daddr, plen, 16);
		rt = rt_find(t, key, plen);
		if (rt)
			return rt->best;
	}
	return 0;
}
