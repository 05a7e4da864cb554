// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* xvr node: the pin root, the ingress program and every map of a node. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "xvr.h"
#include "cgroup.h"
#include "cglimits.h"
#include "fair.h"
#include "netns.h"
#include "link.h"
#include "xvr_ingress.skel.h"
#include "cpugroup.h"
#include "xvr_egress.skel.h"
#include "bcast.h"

#define PROG_PIN	"prog_ingress"
#define EGRESS_PIN	"prog_egress"
#define EGRESS_SKB_PIN	"prog_egress_skb"
#define LINKS_DIR	"links"		/* ports: ingress */
#define VIF_LINKS_DIR	"vif_links"	/* node-side VIF ends: egress */

static const char *const link_dirs[] = { LINKS_DIR, VIF_LINKS_DIR };

static int node_help(void)
{
	fprintf(stderr,
		"Usage: xvr node up [netns NS]\n"
		"                          create the node, or swap in the current programs\n"
		"                          of a live node (maps and routes are kept); with\n"
		"                          netns, the node is the machine of namespace NS:\n"
		"                          its ports and underlay are there\n"
		"       xvr node down      detach every port and remove all of the node\n"
		"       xvr node show\n"
		"       xvr node list      every node on this machine\n"
		"       xvr node set miss { pass | drop }\n"
		"                          what happens to frames no rule classifies\n"
		"       xvr node set router-defaults [cpu PCT] [memory BYTES] [pids N]\n"
		"                          limits a new router gets (built in: cpu max\n"
		"                          memory 1G pids 1024)\n"
		"       xvr node save      the node as commands for 'xvr batch'\n"
		"       xvr node repair    remove what interrupted commands left behind\n"
		"                          (also done by 'node up' on a live node)\n");
	return 0;
}

static int ensure_bpffs(void)
{
	struct statfs st;

	if (!statfs("/sys/fs/bpf", &st) && st.f_type == BPF_FS_MAGIC)
		return 0;
	if (mount("bpf", "/sys/fs/bpf", "bpf", 0, NULL)) {
		pr_warn("node: cannot mount bpffs on /sys/fs/bpf: %s\n", strerror(errno));
		return -errno;
	}
	return 0;
}

static int mkdir_p(const char *path)
{
	if (mkdir(path, 0700) && errno != EEXIST) {
		pr_warn("node: mkdir %s: %s\n", path, strerror(errno));
		return -errno;
	}
	return 0;
}

/*
 * Switches every link in links_dir to the program new_fd; returns the count
 * or -errno. On a failure it switches the links it did back to old_fd (if
 * there is one), so the directory is all old or all new. fail_step is the
 * XVR_FAIL_AT test hook, checked after the first link.
 */
static int links_set(const char *root, const char *links_dir, int new_fd, int old_fd,
		     const char *fail_step)
{
	char dir[PATH_MAX], path[PATH_MAX + 256];
	int cnt = 0, err = 0, fd;
	struct dirent *de;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/%s", root, links_dir);
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while (!err && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		fd = bpf_obj_get(path);
		if (fd < 0) {
			err = -errno;
			pr_warn("node: open link %s: %s\n", path, strerror(-err));
			break;
		}
		err = bpf_link_update(fd, new_fd, NULL) ? -errno : 0;
		close(fd);
		if (err)
			pr_warn("node: update link %s: %s\n", path, strerror(-err));
		else if (++cnt == 1 && fail_step && xvr_fail_at(fail_step))
			err = -EIO;
	}
	if (err && old_fd >= 0 && cnt) {
		rewinddir(d);
		while ((de = readdir(d))) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			fd = bpf_obj_get(path);
			if (fd >= 0) {
				bpf_link_update(fd, old_fd, NULL);
				close(fd);
			}
		}
	}
	closedir(d);
	return err ? err : cnt;
}

/*
 * Reuse the map pinned at path if its shape matches, else have libbpf create
 * and pin it. libbpf's own reuse check also compares flags, which fails for
 * devmaps: the kernel adds BPF_F_RDONLY_PROG to them and refuses it at
 * creation, so the object cannot declare it.
 */
static int map_reuse_or_pin(struct bpf_map *map, const char *path)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	int fd, err;

	fd = bpf_obj_get(path);
	if (fd < 0)
		return errno == ENOENT ? bpf_map__set_pin_path(map, path) : -errno;
	err = bpf_obj_get_info_by_fd(fd, &info, &len);
	if (err)
		goto out;
	if (info.type != bpf_map__type(map) || info.key_size != bpf_map__key_size(map) ||
	    info.value_size != bpf_map__value_size(map) ||
	    info.max_entries != bpf_map__max_entries(map)) {
		pr_warn("node %s: pinned map %s has another layout; 'xvr node down' first\n",
			cli_node, path);
		err = -EINVAL;
		goto out;
	}
	err = bpf_map__reuse_fd(map, fd);
out:
	close(fd);
	return err;
}

/*
 * Load one object against the node's pins: maps already pinned are reused,
 * missing ones created and pinned. Nothing runs it yet.
 */
static int object_load(struct bpf_object *obj, struct bpf_program *prog, const char *root)
{
	char path[PATH_MAX];
	struct bpf_map *map;
	int err;

	bpf_object__for_each_map(map, obj) {
		const char *name = bpf_map__name(map);

		/* .rodata and friends are per-program, not node state */
		if (bpf_map__is_internal(map) || strncmp(name, "xvr_", 4))
			continue;
		snprintf(path, sizeof(path), "%s/%s", root, name + 4);
		err = map_reuse_or_pin(map, path);
		if (err)
			return err;
	}
	err = bpf_object__load(obj);
	if (err) {
		pr_warn("node %s: load %s: %s\n", cli_node, bpf_program__name(prog),
			strerror(-err));
		return err;
	}
	return 0;
}

/* The program now pinned as leaf (the one running), or -1. */
static int prog_pinned(const char *root, const char *leaf)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", root, leaf);
	return bpf_obj_get(path);
}

static int prog_pin(struct bpf_program *prog, const char *root, const char *leaf)
{
	char path[PATH_MAX];
	int err;

	snprintf(path, sizeof(path), "%s/%s", root, leaf);
	unlink(path);
	err = bpf_program__pin(prog, path);
	if (err)
		pr_warn("node %s: pin %s: %s\n", cli_node, path, strerror(-err));
	return err;
}

/*
 * Every port to the new ingress program, then every VIF to the new egress
 * program; on any failure every link goes back to the program it ran, and
 * the message says so. Returns 0 or -errno.
 */
static int programs_swap(const char *root, struct bpf_program *in, struct bpf_program *eg,
			 int *ports, int *vifs)
{
	int old_in = prog_pinned(root, PROG_PIN), old_eg = prog_pinned(root, EGRESS_PIN);
	int err = 0, back;

	*vifs = 0;
	*ports = links_set(root, LINKS_DIR, bpf_program__fd(in), old_in, "node-up:port-links");
	if (*ports < 0) {
		err = *ports;
		pr_warn("node %s: switching the ports failed; every port runs its old program "
			"again, the VIFs were not touched\n", cli_node);
		goto out;
	}
	*vifs = links_set(root, VIF_LINKS_DIR, bpf_program__fd(eg), old_eg, "node-up:vif-links");
	if (*vifs < 0) {
		err = *vifs;
		back = old_in >= 0 ? links_set(root, LINKS_DIR, old_in, -1, NULL) : 0;
		pr_warn("node %s: switching the VIFs failed; every VIF runs its old program "
			"again, and %d of %d port(s) run the old ingress program again\n",
			cli_node, back < 0 ? 0 : back, *ports);
		if (back != *ports)
			err = back < 0 ? back : -EIO;
		goto out;
	}
	err = prog_pin(in, root, PROG_PIN) ?: prog_pin(eg, root, EGRESS_PIN);
out:
	if (old_in >= 0)
		close(old_in);
	if (old_eg >= 0)
		close(old_eg);
	return err;
}

/* Every map of this xvr is pinned for node name. */
static bool node_maps_pinned(const char *name)
{
	char path[PATH_MAX];

#define NODE_MAP_PINNED(m)					\
	xvr_node_path(path, sizeof(path), name, #m);		\
	if (access(path, F_OK))					\
		return false;
	XVR_MAPS(NODE_MAP_PINNED)
#undef NODE_MAP_PINNED
	return true;
}

static int node_up(int argc, char **argv)
{
	struct xvr_ingress *ingress = NULL;
	struct xvr_egress *egress = NULL;
	char root[PATH_MAX], path[PATH_MAX];
	int err, ports, vifs = 0;
	struct xvr_node n;
	const char *netns = NULL;
	bool existed;

	if (argc == 2 && matches(argv[0], "netns")) {
		netns = argv[1];
		argc -= 2;
	}
	if (argc)
		return unexpected_arg(argv[0]);
	if (!xvr_node_name_ok(cli_node)) {
		pr_warn("node %s: invalid name (1-32 of [A-Za-z0-9_-])\n", cli_node);
		return -EINVAL;
	}
	if (cli_dry_run)
		return CLI_DRY_RUN;
	xvr_node_path(path, sizeof(path), cli_node, "config");
	existed = !access(path, F_OK);
	if (netns) {
		char had[256] = "";

		/* main() entered the recorded namespace already, if any. */
		if (existed && (xvr_node_netns(cli_node, had, sizeof(had)) || strcmp(had, netns))) {
			pr_warn("node %s: is up %s%s; 'xvr node down' first\n", cli_node,
				*had ? "in namespace " : "outside any namespace", had);
			return -EINVAL;
		}
		if (strchr(netns, '/') || !netns_exists(netns)) {
			pr_warn("node %s: netns %s: no such namespace ('ip netns add' it)\n",
				cli_node, netns);
			return -ENOENT;
		}
		err = netns_enter(netns);
		if (err) {
			pr_warn("node %s: enter netns %s: %s\n", cli_node, netns, strerror(-err));
			return err;
		}
	}
	xvr_node_init(&n, cli_node);
	/* Taken before anything exists, so two 'node up' never race. */
	err = xvr_node_lock(&n);
	if (err) {
		pr_warn("node %s: cannot take lock: %s\n", cli_node, strerror(-err));
		return err;
	}

	err = ensure_bpffs();
	if (err)
		goto out;
	xvr_node_path(root, sizeof(root), cli_node, NULL);
	err = mkdir_p(XVR_PIN_BASE) ?: mkdir_p(root);
	for (size_t i = 0; !err && i < ARRAY_SIZE(link_dirs); i++) {
		snprintf(path, sizeof(path), "%s/%s", root, link_dirs[i]);
		err = mkdir_p(path);
	}
	if (err)
		goto out;

	/* Pins of another layout are refused before anything is loaded. */
	if (existed) {
		__u32 abi;

		err = xvr_node_abi(cli_node, &abi);
		if (err || abi != XVR_ABI_VERSION) {
			if (err)
				pr_warn("node %s: its pins carry no ABI version (made by an older "
					"xvr); this xvr has ABI %d: 'xvr node down' first\n",
					cli_node, XVR_ABI_VERSION);
			else
				pr_warn("node %s: its pins have ABI %u, this xvr ABI %d (a map "
					"layout changed): 'xvr node down' first\n", cli_node, abi,
					XVR_ABI_VERSION);
			err = -EPROTO;
			goto out;
		}
	} else {
		err = xvr_node_abi_pin(cli_node);
		if (err) {
			pr_warn("node %s: pin its ABI version: %s\n", cli_node, strerror(-err));
			goto out;
		}
	}
	/*
	 * A live node is repaired first: what killed commands left behind
	 * (a severed link among them) would otherwise fail the swap. A node
	 * an older xvr made lacks the maps this one added: it is repaired
	 * once they exist, after the swap.
	 */
	if (existed && node_maps_pinned(cli_node)) {
		int lock_fd = n.lock_fd;

		if (!xvr_node_open(&n, cli_node))
			node_repair(&n);
		xvr_node_close(&n);
		n.lock_fd = lock_fd;
	}
	ingress = xvr_ingress__open();
	egress = xvr_egress__open();
	if (!ingress || !egress) {
		err = -errno;
		pr_warn("node %s: open BPF objects: %s\n", cli_node, strerror(-err));
		goto out;
	}
	/*
	 * Both objects load (and pass the verifier) before any device runs
	 * either: ingress first, it creates and pins the maps egress reuses.
	 */
	err = object_load(ingress->obj, ingress->progs.xvr_ingress, root) ?:
	      object_load(egress->obj, egress->progs.xvr_egress, root);
	if (err) {
		if (existed)
			pr_warn("node %s: the new programs did not load; the running ones are "
				"unchanged\n", cli_node);
		goto out;
	}
	err = programs_swap(root, ingress->progs.xvr_ingress, egress->progs.xvr_egress, &ports,
			    &vifs);
	if (err)
		goto out;
	/* Bound routers' CPUs run the new cpumap program too. */
	snprintf(path, sizeof(path), "%s/%s", root, XVR_CPUMAP_PIN);
	unlink(path);
	err = bpf_program__pin(ingress->progs.xvr_cpumap, path);
	if (err) {
		pr_warn("node %s: pin %s: %s\n", cli_node, path, strerror(-err));
		goto out;
	}
	if (existed) {
		int lock_fd = n.lock_fd;

		err = xvr_node_open(&n, cli_node);
		if (!err)
			err = cpu_groups_reprog(&n, bpf_program__fd(ingress->progs.xvr_cpumap));
		xvr_node_close(&n);
		n.lock_fd = lock_fd;
		if (err) {
			pr_warn("node %s: bound routers' CPUs kept the old cpumap program: %s\n",
				cli_node, strerror(-err));
			goto out;
		}
	}
	/* Links attach it at tc ingress of their node-side end ('xvr link'). */
	snprintf(path, sizeof(path), "%s/%s", root, XVR_FLOOD_PIN);
	unlink(path);
	err = bpf_program__pin(egress->progs.xvr_link_flood, path);
	if (err) {
		pr_warn("node %s: pin %s: %s\n", cli_node, path, strerror(-err));
		goto out;
	}
	/* Every broadcast set entry runs the new copy program from here on. */
	err = prog_pin(egress->progs.xvr_bcast_copy, root, XVR_BCAST_PIN);
	if (err)
		goto out;
	/* The egress checks as a tc program on the skb (see xvr_egress_skb). */
	err = prog_pin(egress->progs.xvr_egress_skb, root, EGRESS_SKB_PIN);
	if (err)
		goto out;
	/* Links, engines and broadcast sets that exist run the old programs until told. */
	if (existed) {
		int lock_fd = n.lock_fd, cnt;

		err = xvr_node_open(&n, cli_node);
		cnt = err ? err : link_flood_refresh(&n);
		if (cnt < 0) {
			err = cnt;
			pr_warn("node %s: flooding program not replaced on every link: %s\n",
				cli_node, strerror(-err));
		} else {
			err = bcast_reprogram(&n, bpf_program__fd(egress->progs.xvr_bcast_copy));
			if (err >= 0) {
				node_repair(&n);	/* VIFs made before sets existed join theirs */
				err = 0;
			} else {
				pr_warn("node %s: broadcast sets to the new copy program: %s\n",
					cli_node, strerror(-err));
			}
		}
		xvr_node_close(&n);
		n.lock_fd = lock_fd;
		if (err)
			goto out;
	}
	if (netns && !existed) {
		err = xvr_node_netns_set(cli_node, netns);
		if (err) {
			pr_warn("node %s: record netns: %s\n", cli_node, strerror(-err));
			goto out;
		}
	}
	if (existed)
		pr_info("node %s: programs replaced on %d port(s) and %d VIF(s), maps kept\n",
			cli_node, ports, vifs);
	else
		pr_info("node %s: up at %s\n", cli_node, root);
out:
	xvr_egress__destroy(egress);
	xvr_ingress__destroy(ingress);
	xvr_node_close(&n);
	return err;
}

/* bpffs has no recursive remove; unlink the leaves, then the directories. */
static int rm_tree(const char *path)
{
	struct dirent *de;
	DIR *d = opendir(path);
	int err = 0;

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		char sub[PATH_MAX + 256];
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
		if (!lstat(sub, &st) && S_ISDIR(st.st_mode))
			err = rm_tree(sub) ?: err;
		else if (unlink(sub))
			err = -errno;
	}
	closedir(d);
	if (rmdir(path))
		err = -errno;
	return err;
}

static int node_down(int argc, char **argv)
{
	char root[PATH_MAX], lock[PATH_MAX];
	struct xvr_node n;
	int err;

	if (argc)
		return unexpected_arg(argv[0]);
	if (cli_dry_run)
		return CLI_DRY_RUN;
	xvr_node_path(root, sizeof(root), cli_node, NULL);
	if (access(root, F_OK)) {
		pr_warn("node %s: not up (no %s), nothing to take down\n", cli_node, root);
		return -ENOENT;
	}
	/* The fair-sharing controller first: it writes the maps going away. */
	fair_stop(cli_node);
	err = cli_node_open(&n, true);
	if (err)
		return err;
	/* A killed command's leftovers too: 'router del' cleared a slot's ACTIVE. */
	node_repair(&n);
	/* Routers first: their namespaces and VIFs live outside the pins. */
	for (__u32 id = 1; id < XVR_MAX_ROUTERS; id++) {
		struct xvr_router r;

		if (!router_get(&n, id, &r))
			router_destroy(&n, id);
	}
	xvr_node_path(root, sizeof(root), cli_node, NULL);
	/* Unpinning a link detaches the program from its device. */
	for (size_t i = 0; !err && i < ARRAY_SIZE(link_dirs); i++) {
		snprintf(lock, sizeof(lock), "%s/%s", root, link_dirs[i]);
		err = rm_tree(lock);
	}
	if (!err)
		err = rm_tree(root);
	if (err)
		pr_warn("node %s: remove %s: %s\n", cli_node, root, strerror(-err));
	xvr_node_netns_set(cli_node, NULL);
	xvr_node_lock_path(lock, sizeof(lock), cli_node);
	unlink(lock);
	/* The routers' cgroups are gone with them; now their parents. */
	snprintf(lock, sizeof(lock), "xvr/%s/routers", cli_node);
	cg_remove(lock);
	snprintf(lock, sizeof(lock), "xvr/%s", cli_node);
	cg_remove(lock);
	router_defaults_remove(cli_node);
	/*
	 * What is left of the node's run directory (a supervisor's files
	 * after it died unstopped): every process of the node is gone now.
	 */
	snprintf(lock, sizeof(lock), "%s/%s", XVR_RUN_DIR, cli_node);
	rm_tree(lock);
	xvr_node_close(&n);
	return err;
}

static int count_entries(int fd, size_t key_size)
{
	char key[64], next[64];
	void *prev = NULL;
	int cnt = 0;

	while (key_size <= sizeof(key) && !bpf_map_get_next_key(fd, prev, next)) {
		memcpy(key, next, key_size);
		prev = key;
		cnt++;
	}
	return cnt;
}

static int node_print(struct xvr_node *n)
{
	struct router_limits lim;
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info), zero = 0, routers = 0;
	struct xvr_config cfg = {};
	char path[PATH_MAX];
	int prog_fd;

	xvr_node_path(path, sizeof(path), n->name, PROG_PIN);
	prog_fd = bpf_obj_get(path);
	if (prog_fd >= 0) {
		bpf_obj_get_info_by_fd(prog_fd, &info, &len);
		close(prog_fd);
	}
	bpf_map_lookup_elem(n->config_fd, &zero, &cfg);
	for (__u32 id = 1; id < XVR_MAX_ROUTERS; id++) {
		struct xvr_router r;

		routers += !router_get(n, id, &r);
	}

	print_open_object(NULL);
	print_string("node", "node %s", n->name);
	print_string("pin_root", "  pins %s\n", n->root);
	print_u64("prog_id", "  ingress program id %llu", info.id);
	print_string("miss", "  unclassified frames: %s\n",
		     cfg.flags & XVR_CFG_MISS_DROP ? "drop" : "pass");
	print_u64("ports", "  ports %llu", count_entries(n->ports_fd, sizeof(__u32)));
	print_u64("routers", "  routers %llu", routers);
	print_u64("rules", "  classifier rules %llu\n",
		  count_entries(n->classify_fd, sizeof(struct xvr_cls_key)) +
		  count_entries(n->cls_prefix_fd, sizeof(struct xvr_cls_prefix_key)));
	if (!router_defaults_read(n->name, &lim)) {
		print_open_object("router_defaults");
		print_text("  router defaults:");
		limits_print(&lim);
		print_text("\n");
		print_close_object();
	}
	print_close_object();
	return 0;
}

static int node_show(int argc, char **argv)
{
	struct xvr_node n;
	int err;

	err = cli_show_open(argc, argv, &n);
	if (err)
		return err;
	err = node_print(&n);
	cli_show_close(&n);
	return err;
}

static int node_list(int argc, char **argv)
{
	struct dirent *de;
	DIR *d;

	if (argc)
		return unexpected_arg(argv[0]);
	print_open_array(NULL);
	d = opendir(XVR_PIN_BASE);
	while (d && (de = readdir(d))) {
		struct xvr_node n;

		if (de->d_name[0] == '.')
			continue;
		/* A half-removed or foreign directory is skipped, not fatal. */
		if (xvr_node_open(&n, de->d_name))
			continue;
		node_print(&n);
		xvr_node_close(&n);
	}
	if (d)
		closedir(d);
	print_close_array();
	print_end();
	return 0;
}

/* node set router-defaults [cpu PCT] [memory BYTES] [pids N] */
static int node_set_defaults(int argc, char **argv)
{
	struct router_limits lim, given = {};
	bool set[LIMIT_KINDS] = {};
	struct xvr_node n;
	int err;

	if (!argc) {
		node_help();
		return -EINVAL;
	}
	for (; argc > 0; SHIFT_ARG()) {
		int k = limit_keyword(argv[0]);

		if (k < 0)
			return bad_arg("router-defaults keyword (cpu, memory or pids)", argv[0]);
		NEXT_ARG();
		if (limit_parse(argv[-1], argv[0], &given) != 1)
			return bad_arg(limit_what[k], argv[0]);
		set[k] = true;
	}
	err = cli_node_open(&n, true);
	if (err)
		return err;
	err = router_defaults_read(n.name, &lim);
	if (!err) {
		limits_merge(&lim, &given, set);
		err = router_defaults_write(n.name, &lim);
	}
	if (err)
		pr_warn("node %s: set router-defaults: %s\n", n.name, strerror(-err));
	xvr_node_close(&n);
	return err;
}

static int node_set(int argc, char **argv)
{
	struct xvr_config cfg;
	struct xvr_node n;
	__u32 zero = 0;
	bool drop;
	int err;

	if (argc >= 1 && matches(argv[0], "router-defaults"))
		return node_set_defaults(argc - 1, argv + 1);
	if (argc > 2)
		return unexpected_arg(argv[2]);
	if (argc != 2 || !matches(argv[0], "miss")) {
		node_help();
		return -EINVAL;
	}
	if (!strcmp(argv[1], "pass"))
		drop = false;
	else if (!strcmp(argv[1], "drop"))
		drop = true;
	else
		return bad_arg("miss policy (pass or drop)", argv[1]);
	err = cli_node_open(&n, true);
	if (err)
		return err;
	if (bpf_map_lookup_elem(n.config_fd, &zero, &cfg)) {
		err = -errno;
		goto out;
	}
	cfg.flags = drop ? cfg.flags | XVR_CFG_MISS_DROP : cfg.flags & ~XVR_CFG_MISS_DROP;
	if (bpf_map_update_elem(n.config_fd, &zero, &cfg, BPF_ANY))
		err = -errno;
out:
	if (err)
		pr_warn("node %s: set miss: %s\n", n.name, strerror(-err));
	xvr_node_close(&n);
	return err;
}

static int node_repair_cmd(int argc, char **argv)
{
	struct xvr_node n;
	int err, fixed;

	if (argc)
		return unexpected_arg(argv[0]);
	err = cli_node_open(&n, true);
	if (err)
		return err;
	fixed = node_repair(&n);
	if (fixed)
		printf("node %s: repaired %d thing(s)\n", n.name, fixed);
	else
		printf("node %s: consistent, nothing to repair\n", n.name);
	xvr_node_close(&n);
	return 0;
}

int do_node(int argc, char **argv)
{
	static const struct cmd cmds[] = {
		{ "up", node_up },
		{ "down", node_down },
		{ "show", node_show },
		{ "list", node_list },
		{ "set", node_set },
		{ "save", node_save },
		{ "repair", node_repair_cmd },
		{ NULL, NULL },
	};

	return cmd_dispatch("node", cmds, argc, argv, node_help);
}
