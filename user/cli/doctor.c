// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * xvr doctor: what this machine and node need for xvr, checked one by one:
 * kernel features, mounts, tools, and each port's attach mode and what
 * frames redirected out of it need on the far end. Each finding says how
 * to fix it; the exit status is 1 if anything is missing.
 */
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <linux/ethtool.h>
#include <linux/magic.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/vfs.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "xvr.h"

enum finding { OK, WARN, FAIL };

struct doctor {
	int fails, warns;
};

static const char *const finding_names[] = { "ok", "warn", "FAIL" };

/* One finding: what was checked, what was found and, unless ok, the fix. */
static void report(struct doctor *d, enum finding f, const char *check, const char *fix,
		   const char *fmt, ...)
{
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	d->fails += f == FAIL;
	d->warns += f == WARN;
	print_open_object(NULL);
	print_string("status", "%-4s", finding_names[f]);
	print_string("check", " %-14s", check);
	print_string("found", " %s\n", what);
	if (f != OK && fix)
		print_string("fix", "     fix: %s\n", fix);
	print_close_object();
}

static bool fs_is(const char *path, long magic)
{
	struct statfs st;

	return !statfs(path, &st) && st.f_type == magic;
}

static void check_kernel(struct doctor *d)
{
	static const struct {
		enum bpf_map_type type;
		const char *name;
	} maps[] = {
		{ BPF_MAP_TYPE_DEVMAP_HASH, "devmap_hash" }, { BPF_MAP_TYPE_LPM_TRIE, "lpm_trie" },
		{ BPF_MAP_TYPE_XSKMAP, "xskmap" }, { BPF_MAP_TYPE_RINGBUF, "ringbuf" },
		{ BPF_MAP_TYPE_ARRAY_OF_MAPS, "array_of_maps" },
	};
	static const struct {
		enum bpf_func_id id;
		const char *name;
	} helpers[] = {
		{ BPF_FUNC_redirect_map, "bpf_redirect_map" },
		{ BPF_FUNC_check_mtu, "bpf_check_mtu" },
		{ BPF_FUNC_xdp_load_bytes, "bpf_xdp_load_bytes" },
		{ BPF_FUNC_ringbuf_reserve, "bpf_ringbuf_reserve" },
	};

	if (!access("/sys/kernel/btf/vmlinux", R_OK))
		report(d, OK, "btf", NULL, "kernel BTF at /sys/kernel/btf/vmlinux");
	else
		report(d, FAIL, "btf", "a kernel built with CONFIG_DEBUG_INFO_BTF=y",
		       "no /sys/kernel/btf/vmlinux");
	if (fs_is("/sys/fs/bpf", BPF_FS_MAGIC))
		report(d, OK, "bpffs", NULL, "mounted on /sys/fs/bpf");
	else
		report(d, FAIL, "bpffs", "mount -t bpf bpf /sys/fs/bpf (scripts/setup.sh does)",
		       "not mounted on /sys/fs/bpf");
	if (fs_is("/sys/fs/cgroup", CGROUP2_SUPER_MAGIC))
		report(d, OK, "cgroup", NULL, "v2 at /sys/fs/cgroup (engines' cpu.max)");
	else if (!access("/sys/fs/cgroup/cpu/cpu.cfs_quota_us", F_OK) ||
		 !access("/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us", F_OK))
		report(d, OK, "cgroup", NULL, "v1 with the cpu controller (engines' quota)");
	else
		report(d, WARN, "cgroup", "mount cgroup v2 on /sys/fs/cgroup, or cgroup v1's cpu controller",
		       "no cgroup v2 and no v1 cpu controller: engine shares are not enforced");
	for (size_t i = 0; i < ARRAY_SIZE(maps); i++) {
		int ret = libbpf_probe_bpf_map_type(maps[i].type, NULL);

		report(d, ret == 1 ? OK : FAIL, "map type", "a newer kernel (xvr needs 5.18 or later)",
		       "%s%s", maps[i].name, ret == 1 ? "" : ": not supported");
	}
	for (size_t i = 0; i < ARRAY_SIZE(helpers); i++) {
		int ret = libbpf_probe_bpf_helper(BPF_PROG_TYPE_XDP, helpers[i].id, NULL);

		report(d, ret == 1 ? OK : FAIL, "helper", "a newer kernel (xvr needs 5.18 or later)",
		       "%s%s", helpers[i].name, ret == 1 ? "" : ": not available to XDP");
	}
}

/* Found in PATH (or the standard system directories, for root's sake). */
static bool have_tool(const char *tool)
{
	static const char *const dirs[] = { "/usr/sbin", "/usr/bin", "/sbin", "/bin",
					    "/usr/local/sbin", "/usr/local/bin" };
	char path[PATH_MAX];

	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		snprintf(path, sizeof(path), "%s/%s", dirs[i], tool);
		if (!access(path, X_OK))
			return true;
	}
	return false;
}

static void check_tools(struct doctor *d)
{
	static const struct {
		const char *tool, *package, *why;
		bool needed;
	} tools[] = {
		/* xvr itself runs neither (netlink and ioctls); operators do. */
		{ "ip", "iproute2", "addresses and routes inside routers", false },
		{ "ethtool", "ethtool", "the fixes suggested here", false },
		{ "bpftool", "bpftool", "reading pinned maps", false },
		{ "xdp-loader", "xdp-tools", "attaching with libxdp", false },
		{ "bird", "bird2", "a routing daemon inside routers", false },
		{ "tshark", "tshark", "reading 'xvr trace -w' files", false },
	};

	for (size_t i = 0; i < ARRAY_SIZE(tools); i++) {
		char fix[128];

		snprintf(fix, sizeof(fix), "apt-get install %s (or scripts/setup.sh)", tools[i].package);
		if (have_tool(tools[i].tool))
			report(d, OK, "tool", NULL, "%s (%s)", tools[i].tool, tools[i].why);
		else
			report(d, tools[i].needed ? FAIL : WARN, "tool", fix, "%s missing (%s)",
			       tools[i].tool, tools[i].why);
	}
}

static int sysfs_read(const char *dev, const char *leaf, char *buf, size_t len)
{
	char path[PATH_MAX];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "/sys/class/net/%s/%s", dev, leaf);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	ok = fgets(buf, len, f) != NULL;
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return ok ? 0 : -EIO;
}

static bool gro_on(const char *dev)
{
	struct ethtool_value ev = { .cmd = ETHTOOL_GGRO };

	return !if_ethtool(dev, &ev) && ev.data;
}

static bool is_veth(const char *dev)
{
	struct ethtool_drvinfo info = { .cmd = ETHTOOL_GDRVINFO };

	return !if_ethtool(dev, &info) && !strcmp(info.driver, "veth");
}

/*
 * A veth port: frames redirected out of it arrive at its peer, which drops
 * them unless it has NAPI there (an XDP program, GRO, or threaded NAPI).
 * Only a peer in this namespace can be looked at.
 */
static void check_veth_peer(struct doctor *d, const char *dev, int ifindex)
{
	char buf[64], peer[IF_NAMESIZE], fix[160];
	__u32 prog_id = 0;
	int peer_idx;

	if (sysfs_read(dev, "iflink", buf, sizeof(buf)) || (peer_idx = atoi(buf)) == ifindex)
		return;
	if (!if_indextoname(peer_idx, peer) || sysfs_read(peer, "iflink", buf, sizeof(buf)) ||
	    atoi(buf) != ifindex) {
		report(d, OK, "veth peer", NULL,
		       "port %s: its peer is in another namespace; there it needs an XDP program, "
		       "GRO or threaded NAPI", dev);
		return;
	}
	snprintf(fix, sizeof(fix), "ethtool -K %s gro on (or echo 1 > /sys/class/net/%s/threaded)",
		 peer, peer);
	if (!bpf_xdp_query_id(peer_idx, 0, &prog_id) && prog_id)
		report(d, OK, "veth peer", NULL, "port %s: peer %s runs an XDP program (NAPI)", dev,
		       peer);
	else if (gro_on(peer))
		report(d, OK, "veth peer", NULL, "port %s: peer %s has GRO (NAPI for redirects)", dev,
		       peer);
	else if (!sysfs_read(peer, "threaded", buf, sizeof(buf)) && !strcmp(buf, "1"))
		report(d, OK, "veth peer", NULL, "port %s: peer %s has threaded NAPI", dev, peer);
	else
		report(d, FAIL, "veth peer", fix,
		       "port %s: peer %s has no NAPI: frames redirected out of %s are dropped", dev,
		       peer, dev);
}

static void check_ports(struct doctor *d, struct xvr_node *n)
{
	__u32 key, next, *prev = NULL;
	char buf[64], fix[160];
	struct xvr_port p;
	int ports = 0;

	while (!bpf_map_get_next_key(n->ports_fd, prev, &next)) {
		key = next;
		prev = &key;
		if (port_get(n, key, &p))
			continue;
		ports++;
		snprintf(fix, sizeof(fix), "xvr port del %s; xvr port add %s (native needs driver support)",
			 p.name, p.name);
		if (p.flags & XVR_PORT_GENERIC)
			report(d, WARN, "xdp mode", fix,
			       "port %s: generic (skb) XDP, slower than native and no redirect into veths",
			       p.name);
		else
			report(d, OK, "xdp mode", NULL, "port %s: native XDP", p.name);
		snprintf(fix, sizeof(fix), "echo 1 > /sys/class/net/%s/threaded", p.name);
		if (!sysfs_read(p.name, "threaded", buf, sizeof(buf)) && !strcmp(buf, "1"))
			report(d, OK, "napi", NULL, "port %s: threaded NAPI", p.name);
		else
			report(d, OK, "napi", NULL,
			       "port %s: NAPI in softirq (threaded NAPI lets it be pinned: %s)", p.name,
			       fix);
		if (is_veth(p.name))
			check_veth_peer(d, p.name, key);
	}
	if (!ports)
		report(d, WARN, "ports", "xvr port add DEV", "node %s has no ports", n->name);
}

int do_doctor(int argc, char **argv)
{
	struct doctor d = {};
	char fix[128], path[PATH_MAX];
	struct xvr_node n;

	cli_object = "doctor";
	if (argc && !strcmp(argv[0], "help")) {
		fprintf(stderr, "Usage: xvr doctor\n"
				"Checks what xvr needs of this machine and of the node's ports, says\n"
				"how to fix what is missing; exits 1 if anything is.\n");
		return 0;
	}
	if (argc)
		return unexpected_arg(argv[0]);
	if (cli_dry_run)
		return CLI_DRY_RUN;
	print_open_array(NULL);
	check_kernel(&d);
	check_tools(&d);
	xvr_node_path(path, sizeof(path), xvr_node_name(cli_node), "config");
	if (access(path, F_OK) || xvr_node_open(&n, xvr_node_name(cli_node))) {
		snprintf(fix, sizeof(fix), "xvr -n %s node up", xvr_node_name(cli_node));
		report(&d, WARN, "node", fix, "node %s is not up: its ports are not checked",
		       xvr_node_name(cli_node));
	} else {
		report(&d, OK, "node", NULL, "node %s is up", n.name);
		check_ports(&d, &n);
		xvr_node_close(&n);
	}
	print_close_array();
	print_end();
	if (!print_json)
		printf("%d problem(s), %d warning(s)\n", d.fails, d.warns);
	return d.fails ? -EINVAL : 0;
}
