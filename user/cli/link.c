// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* xvr link: virtual links between nodes, Ethernet in GRE (EGRE). */
#include <arpa/inet.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <bpf/bpf.h>
#include "xvr.h"
#include "link.h"
#include "vif.h"

static int link_help(void)
{
	fprintf(stderr,
		"Usage: xvr link add ROUTER NAME egre local ADDR remote ADDR [remote ADDR]…\n"
		"                    key K [port DEV] [ttl N] [mtu N]\n"
		"       xvr link set ROUTER NAME remote { add | del } ADDR\n"
		"       xvr link del ROUTER NAME\n"
		"       xvr link list [ROUTER]\n"
		"       xvr stats link ROUTER NAME\n"
		"NAME appears in the router's namespace as an Ethernet interface. One remote\n"
		"makes a point-to-point link; several, a multipoint one (MACs learned per\n"
		"remote, broadcast and unknown unicast to all). local is the node's underlay\n"
		"address; the outer next hop comes from the node's routes and neighbours.\n"
		"The link's MTU defaults to the underlay's minus %d bytes.\n",
		XVR_EGRE_OVERHEAD);
	return 0;
}

static int parse_v4(const char *s, __be32 *out)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1 || !a.s_addr || (ntohl(a.s_addr) >> 28) >= 0xe)
		return -EINVAL;
	*out = a.s_addr;
	return 0;
}

static int link_add(int argc, char **argv)
{
	struct link_spec spec = {};
	bool have_key = false, have_local = false;
	const char *port = NULL;
	struct xvr_node n;
	__u32 v, id;
	int err, idx;

	if (argc < 3) {
		link_help();
		return -EINVAL;
	}
	spec.router = argv[0];
	spec.name = argv[1];
	if (!router_name_ok(spec.name) || !strcmp(spec.name, "lo"))
		return bad_arg("link name (1-15 of [A-Za-z0-9_-])", spec.name);
	if (strcmp(argv[2], "egre"))
		return bad_arg("link type (egre)", argv[2]);
	argc -= 3, argv += 3;
	while (argc > 0) {
		if (matches(argv[0], "local")) {
			NEXT_ARG();
			if (parse_v4(argv[0], &spec.local))
				return bad_arg("local IPv4 address", argv[0]);
			have_local = true;
		} else if (matches(argv[0], "remote")) {
			NEXT_ARG();
			if (spec.nremotes >= XVR_LINK_MAX_REMOTES)
				return bad_arg("remote (at most 8)", argv[0]);
			if (parse_v4(argv[0], &spec.remote[spec.nremotes]))
				return bad_arg("remote IPv4 address", argv[0]);
			for (int i = 0; i < spec.nremotes; i++)
				if (spec.remote[i] == spec.remote[spec.nremotes])
					return bad_arg("remote (given twice)", argv[0]);
			spec.nremotes++;
		} else if (matches(argv[0], "key")) {
			NEXT_ARG();
			if (parse_u32(argv[0], &spec.key, 0xffffffffu))
				return bad_arg("key (0-4294967295)", argv[0]);
			have_key = true;
		} else if (matches(argv[0], "port")) {
			NEXT_ARG();
			port = argv[0];
		} else if (matches(argv[0], "ttl")) {
			NEXT_ARG();
			if (parse_u32(argv[0], &v, 255) || !v)
				return bad_arg("ttl (1-255)", argv[0]);
			spec.ttl = v;
		} else if (matches(argv[0], "mtu")) {
			NEXT_ARG();
			if (parse_u32(argv[0], &v, 65535) || v < XVR_MIN_PORT_MTU)
				return bad_arg("mtu (1280-65535)", argv[0]);
			spec.mtu = v;
		} else {
			return unexpected_arg(argv[0]);
		}
		SHIFT_ARG();
	}
	if (!have_local || !spec.nremotes || !have_key) {
		pr_warn("link %s: needs local ADDR, remote ADDR and key K\n", spec.name);
		return -EINVAL;
	}
	for (int i = 0; i < spec.nremotes; i++)
		if (spec.remote[i] == spec.local) {
			pr_warn("link %s: a remote is the local address\n", spec.name);
			return -EINVAL;
		}
	err = cli_node_open(&n, true);
	if (err)
		return err;
	err = router_find(&n, spec.router, &spec.vr_id, NULL);
	if (err) {
		pr_warn("link %s: router %s: no such router\n", spec.name, spec.router);
		goto out;
	}
	if (port) {
		struct xvr_port p;

		idx = if_index(port);
		if (idx <= 0 || port_get(&n, idx, &p)) {
			pr_warn("link %s: port %s is not a port of node %s\n", spec.name, port,
				n.name);
			err = -ENODEV;
			goto out;
		}
		spec.port = idx;
	}
	err = link_create(&n, &spec, &id);
	if (!err)
		pr_info("link %s: id %u of router %s\n", spec.name, id, spec.router);
out:
	xvr_node_close(&n);
	return err;
}

/* Opens the node (locked) and finds ROUTER's link NAME; prints on failure. */
static int link_open(struct xvr_node *n, const char *router, const char *name, __u32 *id)
{
	__u32 vr;
	int err;

	err = cli_node_open(n, true);
	if (err)
		return err;
	err = router_find(n, router, &vr, NULL);
	if (err)
		pr_warn("link %s: router %s: no such router\n", name, router);
	else if ((err = link_find(n, vr, name, id, NULL)))
		pr_warn("link %s: router %s has no such link\n", name, router);
	if (err)
		xvr_node_close(n);
	return err;
}

static int link_del(int argc, char **argv)
{
	struct xvr_node n;
	__u32 id;
	int err;

	if (argc != 2) {
		link_help();
		return -EINVAL;
	}
	err = link_open(&n, argv[0], argv[1], &id);
	if (err)
		return err;
	err = link_destroy(&n, id);
	if (err)
		pr_warn("link %s: %s\n", argv[1], strerror(-err));
	xvr_node_close(&n);
	return err;
}

static int link_set(int argc, char **argv)
{
	struct xvr_node n;
	__be32 addr;
	bool add;
	__u32 id;
	int err;

	if (argc != 5 || !matches(argv[2], "remote")) {
		link_help();
		return -EINVAL;
	}
	if (!strcmp(argv[3], "add"))
		add = true;
	else if (!strcmp(argv[3], "del"))
		add = false;
	else
		return bad_arg("remote change (add or del)", argv[3]);
	if (parse_v4(argv[4], &addr))
		return bad_arg("remote IPv4 address", argv[4]);
	err = link_open(&n, argv[0], argv[1], &id);
	if (err)
		return err;
	err = link_remote_change(&n, id, addr, add);
	xvr_node_close(&n);
	return err;
}

static void link_row(struct xvr_node *n, __u32 id, __u32 only)
{
	char buf[INET_ADDRSTRLEN], ifname[IF_NAMESIZE];
	struct xvr_link l;

	if (link_get(n, id, &l) || !cli_row_open(n, l.vr_id, only, "name", l.name, id))
		return;
	print_string("type", " %s", "egre");
	print_string("kind", " %s", l.flags & XVR_LINK_MULTI ? "multipoint" :
		     "point-to-point");
	print_u64("key", " key %llu", l.key);
	print_string("local", " local %s", inet_ntop(AF_INET, &l.local, buf, sizeof(buf)));
	print_open_array("remotes");
	for (__u32 i = 0; i < l.nremotes && i < XVR_LINK_MAX_REMOTES; i++)
		print_string(NULL, " remote %s",
			     inet_ntop(AF_INET, &l.remote[i], buf, sizeof(buf)));
	print_close_array();
	if (l.port)
		print_string("port", " port %s", if_name(l.port, ifname));
	print_u64("ttl", " ttl %llu", l.ttl);
	print_u64("mtu", " mtu %llu", l.mtu);
	print_string("dev", " dev %s\n", if_name(l.dev, ifname));
	print_close_object();
}

static int link_list(int argc, char **argv)
{
	return cli_list(argc, argv, true, XVR_MAX_VIFS, link_row);
}

int link_stats_find(struct xvr_node *n, const char *router, const char *name, __u32 *id)
{
	__u32 vr;

	if (router_find(n, router, &vr, NULL)) {
		pr_warn("stats: router %s: no such router\n", router);
		return -ENOENT;
	}
	if (link_find(n, vr, name, id, NULL)) {
		pr_warn("stats: router %s has no link %s\n", router, name);
		return -ENOENT;
	}
	return 0;
}

int do_link(int argc, char **argv)
{
	static const struct cmd cmds[] = {
		{ "add", link_add },
		{ "del", link_del },
		{ "set", link_set },
		{ "list", link_list },
		{ "show", link_list },
		{ NULL, NULL },
	};

	return cmd_dispatch("link", cmds, argc, argv, link_help);
}
