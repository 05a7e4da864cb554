// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* xvr vif: a router's interfaces, each a veth into its namespace. */
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <bpf/bpf.h>
#include "xvr.h"
#include "vif.h"
#include "fibsync.h"

static int vif_help(void)
{
	fprintf(stderr,
		"Usage: xvr vif add ROUTER IFNAME port DEV [mac ADDR] [vlan ID] [spoof on|off]\n"
		"       xvr vif del ROUTER IFNAME\n"
		"       xvr vif list [ROUTER]\n"
		"IFNAME appears in the router's namespace. The port's frames reach it by\n"
		"destination MAC if mac is given, else by VLAN id if vlan is given, else\n"
		"all of the port's unclassified frames do (the port default). Broadcast and\n"
		"multicast frames of its port (and VLAN) reach every VIF there, each router\n"
		"counting its own copy; the host stack no longer gets them.\n"
		"What the router sends out of it must not carry a VLAN tag, and its source\n"
		"MAC must be the VIF's MAC or one of the router's 'classify … mac' rules on\n"
		"the port, unless 'spoof on' (default off); other frames are dropped and\n"
		"counted (egress-vlan, egress-src-mac).\n");
	return 0;
}

static int vif_add(int argc, char **argv)
{
	unsigned int seen = 0;	/* keywords given, for arg_once */
	struct vif_spec spec = {};
	const char *port = NULL;
	struct xvr_router r;
	struct xvr_node n;
	__u32 v, id;
	int err, idx;

	if (argc < 2) {
		vif_help();
		return -EINVAL;
	}
	spec.router = argv[0];
	spec.ifname = argv[1];
	if (!router_name_ok(spec.ifname) || !strcmp(spec.ifname, "lo"))
		return bad_arg("interface name (1-15 of [A-Za-z0-9_-])", spec.ifname);
	argc -= 2, argv += 2;
	while (argc > 0) {
		if (arg_once(&seen, argv[0]))
			return -EINVAL;
		if (matches(argv[0], "port")) {
			NEXT_ARG();
			port = argv[0];
		} else if (matches(argv[0], "mac")) {
			NEXT_ARG();
			if (parse_mac(argv[0], spec.mac) || (spec.mac[0] & 1))
				return bad_arg("unicast MAC address", argv[0]);
			spec.has_mac = true;
		} else if (matches(argv[0], "vlan")) {
			NEXT_ARG();
			if (parse_u32(argv[0], &v, 4094) || !v)
				return bad_arg("VLAN id (1-4094)", argv[0]);
			spec.vlan = v;
		} else if (matches(argv[0], "spoof")) {
			NEXT_ARG();
			if (strcmp(argv[0], "on") && strcmp(argv[0], "off"))
				return bad_arg("spoof (on or off)", argv[0]);
			spec.spoof = !strcmp(argv[0], "on");
		} else {
			return unexpected_arg(argv[0]);
		}
		SHIFT_ARG();
	}
	if (!port) {
		pr_warn("vif %s: missing 'port DEV'\n", spec.ifname);
		return -EINVAL;
	}
	err = cli_node_open(&n, true);
	if (err)
		return err;
	err = router_find(&n, spec.router, &spec.vr_id, &r);
	if (err) {
		pr_warn("vif %s: router %s: no such router\n", spec.ifname, spec.router);
		goto out;
	}
	idx = if_index(port);
	if (idx < 0) {
		pr_warn("vif %s: port %s: no such device\n", spec.ifname, port);
		err = -ENODEV;
		goto out;
	}
	spec.port = idx;
	err = vif_create(&n, &spec, &id);
	if (err)
		goto out;
	pr_info("vif %s: id %u of router %s on port %s\n", spec.ifname, id, spec.router, port);
	/*
	 * From its first VIF on, an xdp router's FIB follows its namespace:
	 * say so now rather than when fibsync next looks, so 'xvr route'
	 * refuses changes from this moment.
	 */
	if (r.mode == XVR_MODE_XDP && fibsync_pid(n.name, spec.router) > 0)
		err = fibsync_own(n.name, spec.router);
out:
	xvr_node_close(&n);
	return err;
}

static int vif_del(int argc, char **argv)
{
	struct xvr_node n;
	__u32 vr, id;
	int err;

	if (argc != 2)
		return cli_nargs(argc, argv, 2, vif_help);
	err = cli_node_open(&n, true);
	if (err)
		return err;
	err = router_find(&n, argv[0], &vr, NULL);
	if (err) {
		pr_warn("vif %s: router %s: no such router\n", argv[1], argv[0]);
		goto out;
	}
	err = vif_find(&n, vr, argv[1], &id, NULL);
	if (err) {
		pr_warn("vif %s: router %s has no such VIF\n", argv[1], argv[0]);
		goto out;
	}
	err = vif_destroy(&n, id);
	if (err)
		pr_warn("vif %s: %s\n", argv[1], strerror(-err));
out:
	xvr_node_close(&n);
	return err;
}

static void vif_row(struct xvr_node *n, __u32 id, __u32 only)
{
	char ifname[IF_NAMESIZE], mac[18];
	struct xvr_vif v;

	if (vif_get(n, id, &v) || !cli_row_open(n, v.vr_id, only, "ifname", v.name, id))
		return;
	print_string("port", " port %-12s", if_name(v.port, ifname));
	print_string("mac", " mac %s", fmt_mac(v.mac, mac));
	print_u64("vlan", " vlan %llu", v.vlan);
	/* JSON true/false; text the on/off that 'vif add' takes. */
	print_bool("spoof", NULL, v.flags & XVR_VIF_SPOOF);
	print_text(" spoof %s", v.flags & XVR_VIF_SPOOF ? "on" : "off");
	print_string("dev", " dev %s\n", if_name(v.dev, ifname));
	print_close_object();
}

static int vif_list(int argc, char **argv)
{
	return cli_list(argc, argv, true, XVR_MAX_VIFS, vif_row);
}

int do_vif(int argc, char **argv)
{
	static const struct cmd cmds[] = {
		{ "add", vif_add },
		{ "del", vif_del },
		{ "list", vif_list },
		{ "show", vif_list },
		{ NULL, NULL },
	};

	return cmd_dispatch("vif", cmds, argc, argv, vif_help);
}
