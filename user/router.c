// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* xvr router: virtual routers, each with its own FIB, nexthops and counters. */
#include <stdio.h>
#include <stdlib.h>
#include <bpf/bpf.h>
#include "xvr.h"
#include "fib.h"

static int router_help(void)
{
	fprintf(stderr,
		"Usage: xvr router add NAME [id ID] [mode xdp]\n"
		"       xvr router del NAME\n"
		"       xvr router list\n"
		"       xvr router show NAME\n"
		"NAME := 1-15 of [A-Za-z0-9_-]   ID := 1..%d (default: lowest free)\n",
		XVR_MAX_ROUTERS - 1);
	return 0;
}

/* Modes whose data path this build has. */
static bool mode_available(__u32 mode)
{
	return mode == XVR_MODE_XDP;
}

static int router_add(int argc, char **argv)
{
	struct xvr_router r = {}, old;
	__u32 id = 0, mode = XVR_MODE_XDP, existing;
	const char *name;
	struct xvr_node n;
	int err;

	if (argc < 1) {
		router_help();
		return -EINVAL;
	}
	name = argv[0];
	if (!router_name_ok(name))
		return bad_arg("router name (1-15 of [A-Za-z0-9_-])", name);
	SHIFT_ARG();
	while (argc > 0) {
		if (matches(argv[0], "id")) {
			NEXT_ARG();
			if (parse_u32(argv[0], &id, XVR_MAX_ROUTERS - 1) || !id)
				return bad_arg("router id", argv[0]);
		} else if (matches(argv[0], "mode")) {
			NEXT_ARG();
			if (mode_parse(argv[0], &mode))
				return bad_arg("mode", argv[0]);
			if (!mode_available(mode)) {
				pr_warn("router %s: mode %s is not available in this build\n",
					name, argv[0]);
				return -EOPNOTSUPP;
			}
		} else {
			return bad_arg("argument", argv[0]);
		}
		SHIFT_ARG();
	}

	err = cli_node_open(&n, true);
	if (err)
		return err;
	if (!router_find(&n, name, &existing, NULL)) {
		pr_warn("router %s: exists\n", name);
		err = -EEXIST;
		goto out;
	}
	if (id && !router_get(&n, id, &old)) {
		pr_warn("router %s: id %u is taken by router %s\n", name, id, old.name);
		err = -EEXIST;
		goto out;
	}
	for (__u32 i = 1; !id && i < XVR_MAX_ROUTERS; i++)
		if (router_get(&n, i, &old))
			id = i;
	if (!id) {
		pr_warn("router %s: node has %d routers already\n", name, XVR_MAX_ROUTERS - 1);
		err = -ENOSPC;
		goto out;
	}

	/* FIB and counters exist before the router turns active. */
	counters_zero(n.vr_stats_fd, id);
	err = fib_router_init(&n, id);
	if (err) {
		pr_warn("router %s: create FIB: %s\n", name, strerror(-err));
		goto out;
	}
	r.mode = mode;
	snprintf(r.name, sizeof(r.name), "%s", name);
	if (bpf_map_lookup_elem(n.routers_fd, &id, &old) == 0) {
		/* Keep what fib_router_init recorded about the table. */
		r.fib4_groups_used = old.fib4_groups_used;
		r.fib4_groups_max = old.fib4_groups_max;
	}
	r.flags = XVR_ROUTER_ACTIVE;
	if (bpf_map_update_elem(n.routers_fd, &id, &r, BPF_ANY)) {
		err = -errno;
		pr_warn("router %s: %s\n", name, strerror(-err));
		fib_router_fini(&n, id);
		goto out;
	}
	pr_info("router %s: id %u mode %s\n", name, id, mode_name(mode));
out:
	xvr_node_close(&n);
	return err;
}

/* Clears every nexthop owned by the router; the FIB is already gone. */
static void nexthops_flush_router(struct xvr_node *n, __u32 id)
{
	struct xvr_nexthop *tbl, zero = {};

	if (nexthops_read(n, &tbl))
		return;
	for (__u32 i = 1; i < XVR_MAX_NEXTHOPS; i++)
		if ((tbl[i].flags & XVR_NH_VALID) && tbl[i].vr_id == id)
			bpf_map_update_elem(n->nexthops_fd, &i, &zero, BPF_ANY);
	free(tbl);
}

static int router_del(int argc, char **argv)
{
	struct xvr_router r, zero = {};
	struct xvr_node n;
	__u32 id;
	int err;

	if (argc != 1) {
		router_help();
		return -EINVAL;
	}
	err = cli_node_open(&n, true);
	if (err)
		return err;
	err = router_find(&n, argv[0], &id, &r);
	if (err) {
		pr_warn("router %s: no such router\n", argv[0]);
		goto out;
	}
	/* Stop classifying to it first, so nothing new arrives. */
	rules_flush_router(&n, id);
	r.flags &= ~XVR_ROUTER_ACTIVE;
	bpf_map_update_elem(n.routers_fd, &id, &r, BPF_ANY);
	fib_router_fini(&n, id);
	nexthops_flush_router(&n, id);
	bpf_map_update_elem(n.routers_fd, &id, &zero, BPF_ANY);
	counters_zero(n.vr_stats_fd, id);
out:
	xvr_node_close(&n);
	return err;
}

static void router_print(__u32 id, const struct xvr_router *r)
{
	print_open_object(NULL);
	print_string("name", "%-16s", r->name);
	print_u64("id", " id %-4llu", id);
	print_string("mode", " mode %-6s", mode_name(r->mode));
	print_u64("routes4", " routes4 %-8llu", r->routes4);
	print_u64("routes6", " routes6 %-8llu", r->routes6);
	print_u64("fib4_groups_used", " fib4 groups %llu", r->fib4_groups_used);
	print_u64("fib4_groups_max", "/%llu\n", r->fib4_groups_max);
	print_close_object();
}

static int router_list(int argc, char **argv)
{
	struct xvr_node n;
	struct xvr_router r;
	int err;

	if (argc)
		return bad_arg("argument", argv[0]);
	err = cli_node_open(&n, false);
	if (err)
		return err;
	print_open_array(NULL);
	for (__u32 id = 1; id < XVR_MAX_ROUTERS; id++)
		if (!router_get(&n, id, &r))
			router_print(id, &r);
	print_close_array();
	print_end();
	xvr_node_close(&n);
	return 0;
}

static int router_show(int argc, char **argv)
{
	struct xvr_node n;
	struct xvr_router r;
	__u32 id;
	int err;

	if (argc != 1) {
		router_help();
		return -EINVAL;
	}
	err = cli_node_open(&n, false);
	if (err)
		return err;
	err = router_find(&n, argv[0], &id, &r);
	if (err)
		pr_warn("router %s: no such router\n", argv[0]);
	else
		router_print(id, &r);
	print_end();
	xvr_node_close(&n);
	return err;
}

int do_router(int argc, char **argv)
{
	static const struct cmd cmds[] = {
		{ "add", router_add },
		{ "del", router_del },
		{ "list", router_list },
		{ "show", router_show },
		{ NULL, NULL },
	};

	return cmd_dispatch("router", cmds, argc, argv, router_help);
}
