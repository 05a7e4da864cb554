// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* xvr route: a router's IPv4/IPv6 routes and the nexthops they share. */
#include <arpa/inet.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <bpf/bpf.h>
#include "xvr.h"
#include "vif.h"
#include "fib.h"
#include "fibsync.h"

static int route_help(void)
{
	fprintf(stderr,
		"Usage: xvr route add ROUTER PREFIX NEXTHOP\n"
		"       xvr route replace ROUTER PREFIX NEXTHOP\n"
		"       xvr route del ROUTER PREFIX\n"
		"       xvr route list ROUTER\n"
		"       xvr route get ROUTER ADDRESS     the route the data path picks\n"
		"       xvr route flush ROUTER\n"
		"       xvr route load ROUTER FILE       replace all routes; one\n"
		"                                        'PREFIX NEXTHOP' per line ('-': stdin)\n"
		"PREFIX  := { ADDR[/LEN] | default | default6 }\n"
		"NEXTHOP := { [via ADDR] [lladdr MAC] dev DEV [vlan ID] | local | blackhole }\n"
		"A nexthop without lladdr is unresolved: its packets go to the control plane.\n");
	return 0;
}

/* One route as the CLI and the load file state it. */
struct route_spec {
	int family, plen;
	__u8 addr[16];
	struct nexthop nh;	/* vr_id, ifindex, flags, macs, vlan, gw */
};

/* Source MAC for frames the router sends out of a port: its MAC rule there, else the port's. */
static int router_port_mac(struct xvr_node *n, __u32 vr, __u32 ifindex, __u8 mac[6])
{
	struct xvr_cls_key key, next, *prev = NULL;
	struct xvr_cls_val val;
	struct xvr_port port;
	bool any = false;

	while (!bpf_map_get_next_key(n->classify_fd, prev, &next)) {
		key = next;
		prev = &key;
		if (key.kind != XVR_RULE_MAC || bpf_map_lookup_elem(n->classify_fd, &key, &val) ||
		    val.vr_id != vr)
			continue;
		if (key.ifindex == ifindex) {
			memcpy(mac, key.mac, 6);
			return 0;
		}
		if (!key.ifindex && !any) {
			memcpy(mac, key.mac, 6);
			any = true;
		}
	}
	if (any)
		return 0;
	if (port_get(n, ifindex, &port))
		return -ENODEV;
	memcpy(mac, port.mac, 6);
	return 0;
}

/*
 * Egress port and source MAC of a nexthop device. A load file names the
 * same few devices on every line, so the last answer is kept: resolving
 * costs a socket, a map lookup and a walk of the classifier rules.
 */
static int resolve_dev(struct xvr_node *n, __u32 vr, const char *where, const char *dev,
		       struct nexthop *nh)
{
	static struct {
		char dev[IF_NAMESIZE];
		__u32 vr, ifindex;
		__u8 smac[6];
	} last;
	struct xvr_port port;
	int idx, err;

	if (last.ifindex && last.vr == vr && !strncmp(last.dev, dev, sizeof(last.dev))) {
		nh->ifindex = last.ifindex;
		memcpy(nh->smac, last.smac, 6);
		return 0;
	}
	idx = if_index(dev);
	if (idx <= 0 || port_get(n, idx, &port)) {
		__u32 link_id;
		struct xvr_vif lv;

		/* One of the router's virtual links: encapsulated at its dev. */
		if (!vif_find(n, vr, dev, &link_id, &lv) && (lv.flags & XVR_VIF_LINK)) {
			if (nh->vlan) {
				pr_warn("%s: vlan: link %s carries the router's Ethernet untagged\n",
					where, dev);
				return -EINVAL;
			}
			nh->ifindex = lv.dev;
			nh->flags |= XVR_NH_LINK;
			nh->link_id = link_id;
			memcpy(nh->smac, lv.mac, 6);
			return 0;
		}
		pr_warn("%s: nexthop dev %s is neither a port of node %s nor a link of the router\n",
			where, dev, n->name);
		return -ENODEV;
	}
	err = router_port_mac(n, vr, idx, nh->smac);
	if (err)
		return err;
	nh->ifindex = idx;
	snprintf(last.dev, sizeof(last.dev), "%s", dev);
	last.vr = vr;
	last.ifindex = idx;
	memcpy(last.smac, nh->smac, 6);
	return 0;
}

static int parse_route_prefix(const char *s, struct route_spec *r)
{
	if (!strcmp(s, "default") || !strcmp(s, "default6")) {
		memset(r->addr, 0, 16);
		r->family = s[7] ? AF_INET6 : AF_INET;
		r->plen = 0;
		return 0;
	}
	if (parse_prefix(s, &r->family, r->addr, &r->plen))
		return -EINVAL;
	if (!prefix_is_canonical(r->family, r->addr, r->plen))
		return -EINVAL;
	return 0;
}

/* Parses the prefix into r; says what is wrong with it (after where) if it is not one. */
static int route_prefix_check(const char *where, const char *s, struct route_spec *r)
{
	char why[96];

	if (!parse_route_prefix(s, r))
		return 0;
	pr_warn("%s: invalid prefix '%s': %s\n", where, s, prefix_problem(s, why, sizeof(why)) ?: "?");
	return -EINVAL;
}

/*
 * Parses "PREFIX NEXTHOP" from argv; messages name the bad token and start
 * with where (the router, or FILE:LINE). Needs the node for ports and MACs.
 */
static int parse_route(struct xvr_node *n, __u32 vr, const char *where, int argc, char **argv,
		       struct route_spec *r, bool need_nh)
{
	const char *dev = NULL;
	bool have_mac = false;
	unsigned int seen = 0;	/* keywords given, to refuse one given twice */
	__u32 v;

	memset(r, 0, sizeof(*r));
	if (argc < 1) {
		pr_warn("%s: missing prefix\n", where);
		return -EINVAL;
	}
	if (route_prefix_check(where, argv[0], r))
		return -EINVAL;
	argc--, argv++;
	r->nh.vr_id = vr;
	r->nh.flags = XVR_NH_VALID;
	for (; argc > 0; argc--, argv++) {
		static const char *const once[] = { "via", "lladdr", "dev", "vlan" };
		const char *kw = argv[0];

		if (!strcmp(kw, "local") || !strcmp(kw, "blackhole")) {
			r->nh.flags |= kw[0] == 'l' ? XVR_NH_LOCAL : XVR_NH_BLACKHOLE;
			continue;
		}
		if (strcmp(kw, "via") && strcmp(kw, "lladdr") && strcmp(kw, "dev") &&
		    strcmp(kw, "vlan")) {
			pr_warn("%s: unexpected argument '%s'\n", where, kw);
			return -EINVAL;
		}
		if (argc < 2) {
			pr_warn("%s: missing argument after '%s'\n", where, kw);
			return -EINVAL;
		}
		for (unsigned int i = 0; i < ARRAY_SIZE(once); i++) {
			if (strcmp(kw, once[i]))
				continue;
			if (seen & (1u << i)) {
				pr_warn("%s: '%s' given twice\n", where, kw);
				return -EINVAL;
			}
			seen |= 1u << i;
		}
		argc--, argv++;
		if (!strcmp(kw, "via")) {
			int family;

			if (parse_addr(argv[0], &family, r->nh.gw)) {
				pr_warn("%s: invalid gateway '%s'\n", where, argv[0]);
				return -EINVAL;
			}
			if (family != r->family) {
				pr_warn("%s: gateway '%s' is %s, the prefix %s\n", where, argv[0],
					family == AF_INET ? "IPv4" : "IPv6",
					r->family == AF_INET ? "IPv4" : "IPv6");
				return -EINVAL;
			}
			r->nh.family = family;
		} else if (!strcmp(kw, "lladdr")) {
			if (parse_mac(argv[0], r->nh.dmac)) {
				pr_warn("%s: invalid lladdr '%s'\n", where, argv[0]);
				return -EINVAL;
			}
			have_mac = true;
		} else if (!strcmp(kw, "dev")) {
			dev = argv[0];
		} else if (!strcmp(kw, "vlan")) {
			if (parse_u32(argv[0], &v, 4094) || !v) {
				pr_warn("%s: invalid vlan '%s'\n", where, argv[0]);
				return -EINVAL;
			}
			r->nh.vlan = v;
		}
	}
	if (r->nh.flags & (XVR_NH_LOCAL | XVR_NH_BLACKHOLE)) {
		if (dev || have_mac || r->nh.family) {
			pr_warn("%s: local and blackhole routes take no gateway or device\n", where);
			return -EINVAL;
		}
		if ((r->nh.flags & XVR_NH_LOCAL) && (r->nh.flags & XVR_NH_BLACKHOLE)) {
			pr_warn("%s: a route is either local or blackhole\n", where);
			return -EINVAL;
		}
		return 0;
	}
	if (!dev) {
		if (need_nh) {
			pr_warn("%s: missing 'dev DEV' (or local, blackhole)\n", where);
			return -EINVAL;
		}
		return 0;
	}
	if (!have_mac)
		r->nh.flags |= XVR_NH_UNRESOLVED;
	return resolve_dev(n, vr, where, dev, &r->nh);
}

/*
 * Nexthops of one command, read once: lookups and allocations happen in
 * memory, and only the entries that changed are written back.
 */
struct nh_cache {
	struct nexthop *tbl;
	__u32 recent[64];	/* ids matched lately; load files reuse few */
	int nrecent;
	__u32 next_free;
};

static __u32 nh_cache_get(struct nh_cache *c, const struct nexthop *want)
{
	struct nexthop tmp;
	__u32 id;

	for (int i = 0; i < c->nrecent; i++) {
		tmp = c->tbl[c->recent[i]];
		tmp.refcnt = want->refcnt;
		if (!memcmp(&tmp, want, sizeof(tmp)))
			return c->recent[i];
	}
	id = nexthop_match(c->tbl, want);
	if (!id) {
		id = nexthop_take(c->tbl, &c->next_free, want->vr_id);
		if (!id)
			return 0;
		c->tbl[id] = *want;
		c->tbl[id].refcnt = 0;
	}
	if (c->nrecent < (int)ARRAY_SIZE(c->recent))
		c->recent[c->nrecent++] = id;
	else
		c->recent[id % ARRAY_SIZE(c->recent)] = id;
	return id;
}

static int router_arg(struct xvr_node *n, const char *name, __u32 *vr)
{
	int err = router_find(n, name, vr, NULL);

	if (err)
		pr_warn("route: router %s: no such router\n", name);
	return err;
}

/*
 * A router whose FIB fibsync mirrors from its namespace takes its routes
 * from there; a change made here would be undone on the next sync.
 */
static int router_arg_writable(struct xvr_node *n, const char *name, __u32 *vr)
{
	int err = router_arg(n, name, vr);
	struct xvr_router r;

	if (!err && !router_get(n, *vr, &r) && r.mode == XVR_MODE_NETNS) {
		pr_warn("route: router %s: mode netns forwards with its namespace's own routes "
			"('ip -n xvr-%s-%s route …'); it has no BPF FIB\n", name, n->name, name);
		return -EPERM;
	}
	if (!err && fibsync_owned(n->name, name)) {
		pr_warn("route: router %s: its FIB follows its namespace (fibsync); change "
			"routes there ('ip -n xvr-%s-%s route …'), or create the router with "
			"'fibsync off'\n", name, n->name, name);
		err = -EPERM;
	}
	return err;
}

/*
 * The node (locked for a change, which the router must then take) and the
 * router's id. Prints on failure; the node is closed then.
 */
static int route_node_open(struct xvr_node *n, const char *router, bool change, __u32 *vr)
{
	int err = cli_node_open(n, change);

	if (err)
		return err;
	err = (change ? router_arg_writable : router_arg)(n, router, vr);
	if (err)
		xvr_node_close(n);
	return err;
}

static int route_add_common(int argc, char **argv, bool replace)
{
	struct nh_cache c = {};
	struct route_spec r;
	struct xvr_node n;
	__u32 vr, id, old = 0;
	char where[64];
	int err;

	if (argc < 2) {
		route_help();
		return -EINVAL;
	}
	snprintf(where, sizeof(where), "router %s: route", argv[0]);
	/* The prefix before the node: --dry-run stops at the node. */
	if (route_prefix_check(where, argv[1], &r))
		return -EINVAL;
	err = route_node_open(&n, argv[0], true, &vr);
	if (err)
		return err;
	err = parse_route(&n, vr, where, argc - 1, argv + 1, &r, true);
	if (err)
		goto out;
	if (!replace && !fib_route_get(&n, vr, r.family, r.addr, r.plen, &old)) {
		pr_warn("router %s: route %s exists (use 'route replace')\n", argv[0], argv[1]);
		err = -EEXIST;
		goto out;
	}
	err = nexthops_read(&n, &c.tbl);
	if (err)
		goto out;
	id = nh_cache_get(&c, &r.nh);
	if (!id) {
		pr_warn("router %s: route %s: no free nexthop (%d in use)\n", argv[0], argv[1],
			XVR_MAX_NEXTHOPS - 1);
		err = -ENOSPC;
		goto out;
	}
	/* The nexthop is valid before any FIB entry can point at it. */
	c.tbl[id].refcnt++;
	err = nexthop_store(&n, id, &c.tbl[id]);
	if (err)
		goto out;
	err = fib_route_add(&n, vr, r.family, r.addr, r.plen, id, &old);
	if (err) {
		pr_warn("router %s: route %s: %s\n", argv[0], argv[1], strerror(-err));
		nexthop_ref(&n, id, -1);
		goto out;
	}
	if (old)
		nexthop_ref(&n, old, -1);
out:
	free(c.tbl);
	xvr_node_close(&n);
	return err;
}

static int route_add(int argc, char **argv)
{
	return route_add_common(argc, argv, false);
}

static int route_replace(int argc, char **argv)
{
	return route_add_common(argc, argv, true);
}

static int route_del(int argc, char **argv)
{
	struct route_spec r;
	struct xvr_node n;
	__u32 vr, old = 0;
	char where[64];
	int err;

	if (argc != 2)
		return cli_nargs(argc, argv, 2, route_help);
	err = route_node_open(&n, argv[0], true, &vr);
	if (err)
		return err;
	snprintf(where, sizeof(where), "router %s: route", argv[0]);
	err = parse_route(&n, vr, where, 1, argv + 1, &r, false);
	if (err)
		goto out;
	err = fib_route_del(&n, vr, r.family, r.addr, r.plen, &old);
	if (err) {
		pr_warn("router %s: route %s: %s\n", argv[0], argv[1],
			err == -ENOENT ? "no such route" : strerror(-err));
		goto out;
	}
	nexthop_ref(&n, old, -1);
out:
	xvr_node_close(&n);
	return err;
}

static void nexthop_print(const struct nexthop *nh);

/* A multipath nexthop: its members, each printed like a nexthop. */
static void group_print(const struct nexthop *tbl, const struct xvr_nh_group *grp)
{
	print_string("type", " %s", "multipath");
	print_open_array("paths");
	for (__u32 i = 0; grp && i < grp->count && i < XVR_MAX_ECMP; i++) {
		__u32 m = grp->members[i];

		print_open_object(NULL);
		print_text("\n    path");
		print_u64("nexthop", NULL, m);
		nexthop_print(m < XVR_MAX_NEXTHOPS && !(tbl[m].flags & XVR_NH_GROUP) ? &tbl[m] :
			      NULL);
		print_close_object();
	}
	print_close_array();
}

void nexthop_print_unicast(const struct nexthop *nh)
{
	char buf[INET6_ADDRSTRLEN], mac[18], ifname[IF_NAMESIZE];

	print_string("type", NULL, "unicast");
	if (nh->family)
		print_string("via", " via %s", fmt_addr(nh->family, nh->gw, buf));
	if (nh->flags & XVR_NH_UNRESOLVED)
		print_string("lladdr", " %s", "unresolved");
	else
		print_string("lladdr", " lladdr %s", fmt_mac(nh->dmac, mac));
	print_string("dev", " dev %s", if_name(nh->ifindex, ifname));
	if (nh->vlan && !(nh->flags & XVR_NH_LINK))	/* a link's: its id */
		print_u64("vlan", " vlan %llu", nh->vlan);
}

static void nexthop_print(const struct nexthop *nh)
{
	char mac[18];

	if (!nh || !(nh->flags & XVR_NH_VALID)) {
		print_string("type", " (invalid nexthop)", "invalid");
		return;
	}
	if (nh->flags & XVR_NH_LOCAL) {
		print_string("type", " %s", "local");
		return;
	}
	if (nh->flags & XVR_NH_BLACKHOLE) {
		print_string("type", " %s", "blackhole");
		return;
	}
	nexthop_print_unicast(nh);
	print_string("src_mac", NULL, fmt_mac(nh->smac, mac));
}

struct list_ctx {
	const struct nexthop *tbl;
	int groups_fd;
};

static int route_print(const struct fib_route *r, void *ctx)
{
	const struct nexthop *tbl = ((struct list_ctx *)ctx)->tbl;
	char buf[INET6_ADDRSTRLEN], pfx[INET6_ADDRSTRLEN + 8];

	snprintf(pfx, sizeof(pfx), "%s/%d", fmt_addr(r->family, r->addr, buf), r->plen);
	print_open_object(NULL);
	print_string("prefix", "%s", pfx);
	print_u64("nexthop", NULL, r->nh);
	if (r->nh < XVR_MAX_NEXTHOPS && (tbl[r->nh].flags & XVR_NH_GROUP)) {
		struct xvr_nh_group grp = {};
		__u32 id = r->nh;

		bpf_map_lookup_elem(((struct list_ctx *)ctx)->groups_fd, &id, &grp);
		group_print(tbl, &grp);
	} else {
		nexthop_print(r->nh < XVR_MAX_NEXTHOPS ? &tbl[r->nh] : NULL);
	}
	print_text("\n");
	print_close_object();
	return 0;
}

/*
 * 'route list|flush|load ROUTER …': the node (locked for a change, which the
 * router must then take) and the nexthop table, for the caller to free.
 * Prints on failure; the node is closed then.
 */
static int route_router_open(int argc, char **argv, bool change, struct xvr_node *n, __u32 *vr,
			     struct nexthop **tbl)
{
	int err;

	if (argc != 1)
		return cli_nargs(argc, argv, 1, route_help);
	err = route_node_open(n, argv[0], change, vr);
	if (err)
		return err;
	err = nexthops_read(n, tbl);
	if (err)
		xvr_node_close(n);
	return err;
}

static int route_list(int argc, char **argv)
{
	struct list_ctx lc;
	struct nexthop *tbl;
	struct xvr_node n;
	__u32 vr;
	int err;

	err = route_router_open(argc, argv, false, &n, &vr, &tbl);
	if (err)
		return err;
	lc.tbl = tbl;
	lc.groups_fd = n.nh_groups_fd;
	print_open_array(NULL);
	err = fib_route_walk(&n, vr, AF_UNSPEC, route_print, &lc);
	print_close_array();
	print_end();
	free(tbl);
	xvr_node_close(&n);
	return err;
}

static int route_get(int argc, char **argv)
{
	struct nexthop nh = {};
	struct xvr_node n;
	__u8 addr[16];
	__u32 vr, id;
	int family, err;

	if (argc != 2)
		return cli_nargs(argc, argv, 2, route_help);
	if (parse_addr(argv[1], &family, addr))
		return bad_arg("address", argv[1]);
	err = route_node_open(&n, argv[0], false, &vr);
	if (err)
		return err;
	err = fib_lookup(&n, vr, family, addr, &id);
	if (err) {
		pr_warn("router %s: %s: %s\n", argv[0], argv[1],
			err == -ENOENT ? "no route" : strerror(-err));
		goto out;
	}
	nexthop_load(&n, id, &nh);
	print_open_object(NULL);
	print_string("address", "%s", argv[1]);
	print_u64("nexthop", NULL, id);
	nexthop_print(&nh);
	print_text("\n");
	print_close_object();
	print_end();
out:
	xvr_node_close(&n);
	return err;
}

/* Bulk replace: routes with their nexthop ids, and the ids' new use counts. */
struct load {
	struct fib_route *routes;
	size_t count, cap;
	__u32 *refs;		/* per nexthop id, in the new table */
};

/* Writes every nexthop of the router whose use count changed; clears unused ones. */
/* Nexthop entries as they were before a load wrote them, to put back on failure. */
struct nh_undo {
	__u32 *ids;
	struct nexthop *vals;
	size_t count, cap;
};

static int nh_undo_save(struct xvr_node *n, struct nh_undo *u, __u32 id)
{
	if (u->count == u->cap) {
		size_t cap = u->cap ? u->cap * 2 : 256;
		void *ids = realloc(u->ids, cap * sizeof(*u->ids));
		void *vals = ids ? realloc(u->vals, cap * sizeof(*u->vals)) : NULL;

		if (ids)
			u->ids = ids;
		if (!ids || !vals)
			return -ENOMEM;
		u->vals = vals;
		u->cap = cap;
	}
	if (nexthop_load(n, id, &u->vals[u->count]))
		return -EIO;
	u->ids[u->count++] = id;
	return 0;
}

/* Puts every saved entry back, newest first: no new nexthop, no raised refcount. */
static void nh_undo_apply(struct xvr_node *n, struct nh_undo *u)
{
	while (u->count--)
		nexthop_store(n, u->ids[u->count], &u->vals[u->count]);
	u->count = 0;
}

static int nexthops_commit(struct xvr_node *n, struct nh_cache *c, __u32 vr,
			   const __u32 *refs, bool only_used, struct nh_undo *undo)
{
	struct nexthop zero = {};
	int err;

	for (__u32 id = 1; id < XVR_MAX_NEXTHOPS; id++) {
		struct nexthop *nh = &c->tbl[id];

		if (!(nh->flags & XVR_NH_VALID) || nh->vr_id != vr)
			continue;
		if (only_used && !refs[id])
			continue;
		if (undo && nh_undo_save(n, undo, id))
			return -ENOMEM;
		if (refs[id])
			nh->refcnt = refs[id];
		err = nexthop_store(n, id, refs[id] ? nh : &zero);
		if (err)
			return err;
	}
	return 0;
}

static int load_replace(struct xvr_node *n, __u32 vr, const char *router, struct load *ld,
			struct nh_cache *c)
{
	struct nh_undo undo = {};
	int err;

	/*
	 * New nexthops exist before the new tables that point at them; if the
	 * swap fails, the old tables are still in place and the nexthops are
	 * put back as they were (no new ones, no raised refcounts).
	 */
	err = nexthops_commit(n, c, vr, ld->refs, true, &undo);
	if (!err)
		err = xvr_fail_at("route-load:swap") ? -EIO :
		      fib_routes_replace(n, vr, ld->routes, ld->count, NULL, NULL);
	if (err) {
		nh_undo_apply(n, &undo);
		pr_warn("router %s: replace routes: %s; routes and nexthops unchanged\n", router,
			strerror(-err));
		goto out;
	}
	/* ...and the old ones go once no table points at them. */
	err = nexthops_commit(n, c, vr, ld->refs, false, NULL);
out:
	free(undo.ids);
	free(undo.vals);
	return err;
}

static int load_file(struct xvr_node *n, __u32 vr, const char *router, const char *file,
		     struct load *ld, struct nh_cache *c)
{
	char *line = NULL, *words[16], where[PATH_MAX + 32];
	size_t len = 0;
	int lineno = 0, err = 0;
	FILE *f;

	f = strcmp(file, "-") ? fopen(file, "r") : stdin;
	if (!f) {
		pr_warn("router %s: %s: %s\n", router, file, strerror(errno));
		return -errno;
	}
	while (getline(&line, &len, f) > 0) {
		struct route_spec r;
		char *save, *w;
		int nw = 0;
		__u32 id;

		lineno++;
		for (w = strtok_r(line, " \t\r\n", &save); w && nw < (int)ARRAY_SIZE(words);
		     w = strtok_r(NULL, " \t\r\n", &save))
			words[nw++] = w;
		if (!nw || words[0][0] == '#')
			continue;
		snprintf(where, sizeof(where), "router %s: %s:%d", router, file, lineno);
		err = parse_route(n, vr, where, nw, words, &r, true);
		if (err)
			break;
		id = nh_cache_get(c, &r.nh);
		if (!id) {
			pr_warn("%s: no free nexthop\n", where);
			err = -ENOSPC;
			break;
		}
		if (ld->count == ld->cap) {
			size_t cap = ld->cap ? ld->cap * 2 : 4096;
			void *p = realloc(ld->routes, cap * sizeof(*ld->routes));

			if (!p) {
				err = -ENOMEM;
				break;
			}
			ld->routes = p;
			ld->cap = cap;
		}
		ld->routes[ld->count++] = (struct fib_route){
			.family = r.family, .plen = r.plen, .nh = id,
		};
		memcpy(ld->routes[ld->count - 1].addr, r.addr, 16);
		ld->refs[id]++;
	}
	free(line);
	if (f != stdin)
		fclose(f);
	return err;
}

static int route_load(int argc, char **argv)
{
	struct load ld = {};
	struct nh_cache c = {};
	struct xvr_node n;
	struct timespec t0, t1;
	__u32 vr;
	int err;

	if (argc != 2)
		return cli_nargs(argc, argv, 2, route_help);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	err = route_router_open(1, argv, true, &n, &vr, &c.tbl);
	if (err)
		return err;
	ld.refs = calloc(XVR_MAX_NEXTHOPS, sizeof(*ld.refs));
	if (!ld.refs) {
		err = -ENOMEM;
		goto out;
	}
	/* Duplicates within the file: the later line wins, as fib_routes_replace does. */
	err = load_file(&n, vr, argv[0], argv[1], &ld, &c);
	if (err)
		goto out;
	err = load_replace(&n, vr, argv[0], &ld, &c);
	if (err)
		goto out;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	pr_info("router %s: loaded %zu routes in %.3f s\n", argv[0], ld.count,
		(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
out:
	free(ld.routes);
	free(ld.refs);
	free(c.tbl);
	xvr_node_close(&n);
	return err;
}

static int route_flush(int argc, char **argv)
{
	struct load ld = {};
	struct nh_cache c = {};
	struct xvr_node n;
	__u32 vr;
	int err;

	err = route_router_open(argc, argv, true, &n, &vr, &c.tbl);
	if (err)
		return err;
	ld.refs = calloc(XVR_MAX_NEXTHOPS, sizeof(*ld.refs));
	err = !ld.refs ? -ENOMEM : load_replace(&n, vr, argv[0], &ld, &c);
	free(ld.refs);
	free(c.tbl);
	xvr_node_close(&n);
	return err;
}

int do_route(int argc, char **argv)
{
	static const struct cmd cmds[] = {
		{ "add", route_add },
		{ "replace", route_replace },
		{ "del", route_del },
		{ "list", route_list },
		{ "show", route_list },
		{ "get", route_get },
		{ "flush", route_flush },
		{ "load", route_load },
		{ NULL, NULL },
	};

	return cmd_dispatch("route", cmds, argc, argv, route_help);
}
