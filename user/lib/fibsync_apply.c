// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * fibsync's installed layer: make the BPF FIB and nexthop table equal the
 * desired set, under the node lock (fibsync_apply); allocate, adopt and
 * free the router's nexthop ids.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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

/* ---- maps ---- */

struct apply {
	struct fibsync *fs;
	struct xvr_node *n;
	struct fibsync_stats *st;
	struct nexthop *tbl;	/* the node's nexthops, read once per apply */
	__u32 next_free;
	long t0;		/* ms, when the apply began */
	struct nhobj **owner;		/* full apply: the object holding each id */
};

static int nh_map_write(struct apply *ap, struct nhobj *o, const struct nexthop *v)
{
	int err = nexthop_store(ap->n, o->id, v);

	if (err)
		return err;
	o->cur = *v;
	return 0;
}

bool nh_same_but(const struct nexthop *a, const struct nexthop *b, __u16 flags)
{
	struct nexthop x = *a, y = *b;

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
	struct nexthop want, step;
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
		return 0;	/* read already: nexthop_take is cheaper */
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
		/* Taken for the rest of this apply, even before it is written. */
		id = nexthop_take(ap->tbl, &ap->next_free, fs->vr);
	}
	if (!id) {
		if (!fs->warned_full)
			pr_warn("router %u: the node's nexthop table is full\n", fs->vr);
		fs->warned_full = true;
		return -ENOSPC;
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
	struct nexthop zero = {};
	struct xvr_nh_group gzero = {};
	struct xvr_nexthop cur;

	if (!id || id >= XVR_MAX_NEXTHOPS || bpf_map_lookup_elem(ap->n->nexthops_fd, &id, &cur) ||
	    !(cur.flags & XVR_NH_VALID) || cur.vr_id != ap->fs->vr)
		return;
	nexthop_store(ap->n, id, &zero);
	if (cur.flags & XVR_NH_GROUP)
		bpf_map_update_elem(ap->n->nh_groups_fd, &id, &gzero, BPF_ANY);
	ap->st->nh_freed++;
}

static int grp_sync(struct apply *ap, struct nhgrp *g)
{
	struct xvr_nh_group ent = { .count = g->key.count };
	struct nexthop want;
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

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
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
	ops = 0;
	for (struct pfx *p = ap->fs->dirty; p; p = p->dirty_next) {
		/*
		 * The caller holds the node lock, which every other router's
		 * fibsync and every node command wait for: past the budget the
		 * rest stays dirty, and st->more asks for another apply.
		 */
		if (!(++ops % 64) && now_ms() - ap->t0 > FS_APPLY_MS) {
			ap->st->more = true;
			break;
		}
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
static bool key_of(const struct fibsync *fs, const struct nexthop *e, struct nh_key *k)
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
	struct apply ap = { .fs = fs, .n = n, .st = st, .next_free = 1, .t0 = now_ms() };
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
