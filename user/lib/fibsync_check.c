// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* fibsync_check: the desired set against the maps, read only. */
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

/* ---- check ---- */

static const char *nh_desc(const struct nexthop *nh, char *buf, size_t len)
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
	if (nh->vlan && !(nh->flags & XVR_NH_LINK))	/* a link's: its id */
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
	struct nexthop *tbl;
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

static bool entry_is(const struct check *c, __u32 id, const struct nexthop *want)
{
	return id < XVR_MAX_NEXTHOPS && c->tbl[id].vr_id == c->fs->vr &&
	       nh_same_but(&c->tbl[id], want, 0);
}

/* Whether installed id means exactly what object o stands for now. */
static bool check_nh(struct check *c, const struct nhobj *o, __u32 id, char *why, size_t len)
{
	struct nexthop want;
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
	struct nexthop want;
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
		const struct nexthop *nh = &c.tbl[id];

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
