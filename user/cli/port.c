// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* xvr port: attach xvr_ingress to a device and make it a redirect target. */
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/sockios.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "xvr.h"
#include "vif.h"

static int port_help(void)
{
	fprintf(stderr,
		"Usage: xvr port add DEV [mode { native | generic }]\n"
		"       xvr port del DEV [force]\n"
		"  del refuses a port that VIFs or classifier rules use; force removes\n"
		"  them first (and says which). Routes through it must go first.\n"
		"       xvr port list\n");
	return 0;
}

static void link_pin_path(char *buf, size_t len, const char *node, __u32 ifindex)
{
	char leaf[32];

	snprintf(leaf, sizeof(leaf), "links/%u", ifindex);
	xvr_node_path(buf, len, node, leaf);
}

static int port_slot_alloc(struct xvr_node *n, __u32 *slot)
{
	bool used[XVR_MAX_PORTS] = {};
	__u32 key, next, *prev = NULL;
	struct xvr_port p;

	while (!bpf_map_get_next_key(n->ports_fd, prev, &next)) {
		if (!bpf_map_lookup_elem(n->ports_fd, &next, &p) && p.slot < XVR_MAX_PORTS)
			used[p.slot] = true;
		key = next;
		prev = &key;
	}
	for (__u32 i = 0; i < XVR_MAX_PORTS; i++)
		if (!used[i]) {
			*slot = i;
			return 0;
		}
	return -ENOSPC;
}

static bool is_veth(const char *ifname)
{
	struct ethtool_drvinfo info = { .cmd = ETHTOOL_GDRVINFO };

	return !if_ethtool(ifname, &info) && !strcmp(info.driver, "veth");
}

/* A veth's "peer_ifindex" statistic: the other end's index, in its own netns. */
static int veth_peer_ifindex(const char *ifname)
{
	struct {
		struct ethtool_sset_info hdr;
		__u32 len;
	} sset = { .hdr = { .cmd = ETHTOOL_GSSET_INFO, .sset_mask = 1ull << ETH_SS_STATS } };
	struct ethtool_gstrings *names = NULL;
	struct ethtool_stats *stats = NULL;
	int ret = -ENOENT;
	__u32 n;

	if (if_ethtool(ifname, &sset) || !sset.hdr.sset_mask || !(n = sset.len) || n > 256)
		return -ENOENT;
	names = calloc(1, sizeof(*names) + n * ETH_GSTRING_LEN);
	stats = calloc(1, sizeof(*stats) + n * sizeof(__u64));
	if (!names || !stats)
		goto out;
	*names = (struct ethtool_gstrings){ .cmd = ETHTOOL_GSTRINGS, .string_set = ETH_SS_STATS,
					    .len = n };
	*stats = (struct ethtool_stats){ .cmd = ETHTOOL_GSTATS, .n_stats = n };
	if (if_ethtool(ifname, names) || if_ethtool(ifname, stats))
		goto out;
	for (__u32 i = 0; i < n; i++)
		if (!strncmp((char *)names->data + i * ETH_GSTRING_LEN, "peer_ifindex",
			     ETH_GSTRING_LEN))
			ret = (int)stats->data[i];
out:
	free(names);
	free(stats);
	return ret;
}

/*
 * In the current netns: is ifindex a veth whose peer is our port? Then 1 if
 * it can take redirected frames (up, and NAPI through an XDP program or
 * GRO), 0 if not; -ENOENT if it is not the peer.
 */
static int peer_napi_here(int ifindex, int port_ifindex)
{
	struct ethtool_value gro = { .cmd = ETHTOOL_GGRO };
	LIBBPF_OPTS(bpf_xdp_query_opts, xdp);
	char name[IF_NAMESIZE];
	struct ifreq ifr = {};
	int fd, up = 0;

	if (!if_indextoname(ifindex, name) || !is_veth(name) ||
	    veth_peer_ifindex(name) != port_ifindex)
		return -ENOENT;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
		up = !ioctl(fd, SIOCGIFFLAGS, &ifr) && (ifr.ifr_flags & IFF_UP);
		close(fd);
	}
	if (!up)
		return 0;
	if (!bpf_xdp_query(ifindex, 0, &xdp) && xdp.attach_mode != XDP_ATTACHED_NONE)
		return 1;
	return !if_ethtool(name, &gro) && gro.data;
}

/*
 * A veth drops XDP-redirected frames unless its peer runs NAPI, and the
 * kernel counts those drops nowhere: warn now. The peer is looked for in
 * this netns and in the named ones (/run/netns); elsewhere it is unknown.
 */
static void veth_peer_warn(const char *dev, int ifindex)
{
	char path[PATH_MAX];
	struct dirent *de;
	int peer, self, ok = -ENOENT;
	DIR *d;

	if (!is_veth(dev))
		return;
	peer = veth_peer_ifindex(dev);
	if (peer <= 0)
		return;
	ok = peer_napi_here(peer, ifindex);
	self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	d = ok == -ENOENT && self >= 0 ? opendir("/run/netns") : NULL;
	while (d && ok == -ENOENT && (de = readdir(d))) {
		int fd;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/run/netns/%s", de->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (!setns(fd, CLONE_NEWNET)) {
			ok = peer_napi_here(peer, ifindex);
			if (setns(self, CLONE_NEWNET)) {
				/* Never carry on in another namespace. */
				pr_warn("port %s: cannot return to our namespace: %s\n", dev,
					strerror(errno));
				exit(1);
			}
		}
		close(fd);
	}
	if (d)
		closedir(d);
	if (self >= 0)
		close(self);
	if (!ok)
		pr_warn("port %s: warning: its veth peer is down or has no NAPI (no XDP program, "
			"GRO off), so it drops the frames xvr forwards to it, uncounted; attach an "
			"XDP program there or 'ethtool -K PEER gro on' (or threaded NAPI)\n", dev);
}

static int port_add(int argc, char **argv)
{
	unsigned int seen = 0;	/* keywords given, for arg_once */
	LIBBPF_OPTS(bpf_link_create_opts, opts);
	struct bpf_devmap_val dv = {};
	char path[PATH_MAX], prog_path[PATH_MAX];
	struct xvr_port port = {};
	const char *dev;
	struct xvr_node n;
	int ifindex, mtu, prog_fd = -1, link_fd = -1, err;
	bool generic = false;

	if (argc < 1) {
		port_help();
		return -EINVAL;
	}
	dev = argv[0];
	SHIFT_ARG();
	while (argc > 0) {
		if (arg_once(&seen, argv[0]))
			return -EINVAL;
		if (matches(argv[0], "mode")) {
			NEXT_ARG();
			if (!strcmp(argv[0], "generic"))
				generic = true;
			else if (strcmp(argv[0], "native"))
				return bad_arg("mode (native or generic)", argv[0]);
		} else {
			return unexpected_arg(argv[0]);
		}
		SHIFT_ARG();
	}
	ifindex = if_index(dev);
	if (ifindex < 0) {
		pr_warn("port %s: no such device\n", dev);
		return ifindex;
	}
	err = cli_node_open(&n, true);
	if (err)
		return err;
	if (!port_get(&n, ifindex, &port)) {
		pr_warn("port %s: already a port of node %s\n", dev, n.name);
		err = -EEXIST;
		goto out;
	}
	memset(&port, 0, sizeof(port));
	err = port_slot_alloc(&n, &port.slot);
	if (err) {
		pr_warn("port %s: node has %d ports already\n", dev, XVR_MAX_PORTS);
		goto out;
	}
	mtu = if_mtu(dev);
	if (mtu > 0 && mtu < XVR_MIN_PORT_MTU) {
		pr_warn("port %s: MTU %d is below %d, which xvr needs of a port\n", dev, mtu,
			XVR_MIN_PORT_MTU);
		err = -EINVAL;
		goto out;
	}
	port.mtu = mtu > 0 ? mtu : 1500;
	port.flags = XVR_PORT_ACTIVE | (generic ? XVR_PORT_GENERIC : 0);
	if_mac(dev, port.mac);
	snprintf(port.name, sizeof(port.name), "%s", dev);

	xvr_node_path(prog_path, sizeof(prog_path), n.name, "prog_ingress");
	prog_fd = bpf_obj_get(prog_path);
	if (prog_fd < 0) {
		err = -errno;
		pr_warn("port %s: %s: %s\n", dev, prog_path, strerror(-err));
		goto out;
	}

	/* Map entries first: the program finds its port the moment it runs. */
	counters_zero(n.port_stats_fd, port.slot);
	port_index_unpublish(&n, ifindex);
	if (bpf_map_update_elem(n.ports_fd, &ifindex, &port, BPF_NOEXIST)) {
		err = -errno;
		pr_warn("port %s: %s\n", dev, strerror(-err));
		goto out;
	}
	xvr_die_at("port-add:index");
	ports_index_sync(&n);
	dv.ifindex = ifindex;
	if (bpf_map_update_elem(n.tx_ports_fd, &ifindex, &dv, BPF_ANY)) {
		err = -errno;
		pr_warn("port %s: devmap: %s\n", dev, strerror(-err));
		goto undo_port;
	}

	opts.flags = generic ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
	link_fd = bpf_link_create(prog_fd, ifindex, BPF_XDP, &opts);
	if (link_fd < 0) {
		err = -errno;
		pr_warn("port %s: attach xvr_ingress (%s mode): %s%s\n", dev,
			generic ? "generic" : "native", strerror(-err),
			err == -EBUSY ? " (another XDP program is attached)" : "");
		goto undo_devmap;
	}
	link_pin_path(path, sizeof(path), n.name, ifindex);
	if (bpf_obj_pin(link_fd, path)) {
		err = -errno;
		pr_warn("port %s: pin %s: %s\n", dev, path, strerror(-err));
		goto undo_devmap;	/* closing link_fd detaches */
	}
	veth_peer_warn(dev, ifindex);
	goto out;

undo_devmap:
	bpf_map_delete_elem(n.tx_ports_fd, &ifindex);
undo_port:
	port_index_unpublish(&n, ifindex);
	bpf_map_delete_elem(n.ports_fd, &ifindex);
	ports_index_sync(&n);
out:
	if (link_fd >= 0)
		close(link_fd);
	if (prog_fd >= 0)
		close(prog_fd);
	xvr_node_close(&n);
	return err;
}

static int port_nexthop_users(struct xvr_node *n, __u32 ifindex)
{
	struct nexthop *tbl;
	int users = 0;

	if (nexthops_read(n, &tbl))
		return 0;
	for (__u32 i = 1; i < XVR_MAX_NEXTHOPS; i++)
		users += (tbl[i].flags & XVR_NH_VALID) && tbl[i].ifindex == ifindex &&
			 !(tbl[i].flags & (XVR_NH_LOCAL | XVR_NH_BLACKHOLE));
	free(tbl);
	return users;
}

/*
 * VIFs that arrive on the port and classifier rules keyed by it; with
 * remove, deletes them (VIFs first: their own rules go with them) and
 * names each. Returns how many there are (were).
 */
static int port_rule_users(struct xvr_node *n, __u32 ifindex, const char *dev, bool remove)
{
	struct xvr_cls_prefix_key pk, pnext, *pprev = NULL, pdel[64];
	struct xvr_cls_key k, next, *prev = NULL, del[64];
	int users = 0, ndel = 0, npdel = 0;
	struct xvr_router r;
	struct xvr_cls_val val;
	struct xvr_vif v;

	for (__u32 i = 1; i < XVR_MAX_VIFS; i++) {
		if (vif_get(n, i, &v) || v.port != ifindex)
			continue;
		users++;
		if (!remove)
			continue;
		if (router_get(n, v.vr_id, &r))
			memset(&r, 0, sizeof(r));
		vif_destroy(n, i);
		pr_warn("port %s: force: removed VIF %.*s of router %.*s\n", dev,
			(int)sizeof(v.name), v.name, XVR_NAME_LEN, r.name);
	}
	while (!bpf_map_get_next_key(n->classify_fd, prev, &next)) {
		if (next.ifindex == ifindex && !bpf_map_lookup_elem(n->classify_fd, &next, &val) &&
		    ndel < (int)ARRAY_SIZE(del))
			del[ndel++] = next;
		k = next;
		prev = &k;
	}
	while (!bpf_map_get_next_key(n->cls_prefix_fd, pprev, &pnext)) {
		if (ntohl(pnext.ifindex) == ifindex && npdel < (int)ARRAY_SIZE(pdel))
			pdel[npdel++] = pnext;
		pk = pnext;
		pprev = &pk;
	}
	users += ndel + npdel;
	if (!remove || !(ndel + npdel))
		return users;
	for (int i = 0; i < ndel; i++)
		bpf_map_delete_elem(n->classify_fd, &del[i]);
	for (int i = 0; i < npdel; i++)
		bpf_map_delete_elem(n->cls_prefix_fd, &pdel[i]);
	rules_refresh_kinds(n);
	pr_warn("port %s: force: removed %d classifier rule(s)\n", dev, ndel + npdel);
	return users;
}

static int port_del(int argc, char **argv)
{
	struct xvr_port port;
	struct xvr_node n;
	char path[PATH_MAX];
	__u32 ifindex;
	int idx, users, err;
	bool force = false;

	if (argc == 2 && !strcmp(argv[1], "force"))
		force = true;
	else if (argc >= 2)
		return unexpected_arg(argv[1]);
	if (argc < 1) {
		port_help();
		return -EINVAL;
	}
	err = cli_node_open(&n, true);
	if (err)
		return err;
	/* A device that vanished is still deletable by its old name. */
	idx = if_index(argv[0]);
	if (idx < 0) {
		__u32 key, next, *prev = NULL;

		while (!bpf_map_get_next_key(n.ports_fd, prev, &next)) {
			if (!port_get(&n, next, &port) &&
			    !strncmp(port.name, argv[0], sizeof(port.name))) {
				idx = next;
				break;
			}
			key = next;
			prev = &key;
		}
	}
	ifindex = idx;
	if (idx < 0 || port_get(&n, ifindex, &port)) {
		pr_warn("port %s: not a port of node %s\n", argv[0], n.name);
		err = -ENOENT;
		goto out;
	}
	users = port_nexthop_users(&n, ifindex);
	if (users) {
		pr_warn("port %s: %d nexthop(s) leave through it; delete their routes first\n",
			argv[0], users);
		err = -EBUSY;
		goto out;
	}
	users = port_rule_users(&n, ifindex, argv[0], false);
	if (users && !force) {
		pr_warn("port %s: %d VIF(s) and classifier rule(s) use it; delete them first, "
			"or 'port del %s force'\n", argv[0], users, argv[0]);
		err = -EBUSY;
		goto out;
	}
	if (users)
		port_rule_users(&n, ifindex, argv[0], true);
	xvr_die_at("port-del:users");
	link_pin_path(path, sizeof(path), n.name, ifindex);
	if (unlink(path) && errno != ENOENT) {
		err = -errno;
		pr_warn("port %s: detach (%s): %s\n", argv[0], path, strerror(-err));
		goto out;
	}
	bpf_map_delete_elem(n.tx_ports_fd, &ifindex);
	port_index_unpublish(&n, ifindex);
	bpf_map_delete_elem(n.ports_fd, &ifindex);
	xvr_die_at("port-del:index");
	ports_index_sync(&n);
	counters_zero(n.port_stats_fd, port.slot);
out:
	xvr_node_close(&n);
	return err;
}

static int port_list(int argc, char **argv)
{
	__u32 key, next, *prev = NULL;
	struct xvr_port port;
	struct xvr_node n;
	char mac[18], name[IF_NAMESIZE];
	int err;

	err = cli_list_open(argc, argv, &n, NULL);
	if (err)
		return err;
	while (!bpf_map_get_next_key(n.ports_fd, prev, &next)) {
		key = next;
		prev = &key;
		if (port_get(&n, key, &port))
			continue;
		print_open_object(NULL);
		print_string("dev", "%-16s", if_name(key, name));
		print_u64("ifindex", " ifindex %-5llu", key);
		print_u64("slot", " slot %-3llu", port.slot);
		print_string("mode", " mode %-8s",
			     port.flags & XVR_PORT_GENERIC ? "generic" : "native");
		print_string("mac", " mac %s", fmt_mac(port.mac, mac));
		print_u64("mtu", " mtu %llu\n", port.mtu);
		print_close_object();
	}
	return cli_list_close(&n);
}

int do_port(int argc, char **argv)
{
	static const struct cmd cmds[] = {
		{ "add", port_add },
		{ "del", port_del },
		{ "list", port_list },
		{ "show", port_list },
		{ NULL, NULL },
	};

	return cmd_dispatch("port", cmds, argc, argv, port_help);
}
