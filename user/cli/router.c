// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* xvr router: virtual routers, each with its own FIB, nexthops and counters. */
#include <stdio.h>
#include <stdlib.h>
#include <bpf/bpf.h>
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>
#include <sys/mount.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include "xvr.h"
#include "fib.h"
#include "netns.h"
#include "vif.h"
#include "fe.h"
#include "supervise.h"
#include "fibsync.h"

static int router_help(void)
{
	fprintf(stderr,
		"Usage: xvr router add NAME [id ID] [mode { xdp | netns | afxdp }]\n"
		"                      [fibsync { on | off }]\n"
		"       xvr router set NAME dist { rr | weighted | flowhash }\n"
		"       xvr router del NAME\n"
		"       xvr router list\n"
		"       xvr router show NAME\n"
		"       xvr router exec NAME [--] COMMAND [ARGS]\n"
		"NAME := 1-15 of [A-Za-z0-9_-]   ID := 1..%d (default: lowest free)\n"
		"Each router has a network namespace, xvr-NODE-NAME, for its VIFs and\n"
		"control plane. 'exec' runs a command there without the capabilities\n"
		"that reach beyond it (no CAP_SYS_ADMIN, CAP_BPF, CAP_PERFMON, ...).\n",
		XVR_MAX_ROUTERS - 1);
	return 0;
}

/* Modes whose data path this build has. */
static bool mode_available(__u32 mode)
{
	return mode == XVR_MODE_XDP || mode == XVR_MODE_NETNS || mode == XVR_MODE_AFXDP;
}

static int router_add(int argc, char **argv)
{
	unsigned int seen = 0;	/* keywords given, for arg_once */
	struct xvr_router r = {}, old;
	__u32 id = 0, mode = XVR_MODE_XDP, existing;
	bool fibsync = true;
	char ns[128];
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
		if (arg_once(&seen, argv[0]))
			return -EINVAL;
		if (matches(argv[0], "id")) {
			NEXT_ARG();
			if (parse_u32(argv[0], &id, XVR_MAX_ROUTERS - 1) || !id)
				return bad_arg("router id", argv[0]);
		} else if (matches(argv[0], "fibsync")) {
			NEXT_ARG();
			if (strcmp(argv[0], "on") && strcmp(argv[0], "off"))
				return bad_arg("fibsync (on or off)", argv[0]);
			fibsync = !strcmp(argv[0], "on");
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
	/* What a killed command left (a slot, a namespace) goes before any check. */
	node_repair(&n);
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

	netns_name(ns, sizeof(ns), n.name, name);
	if (netns_exists(ns)) {
		pr_warn("router %s: namespace %s exists already\n", name, ns);
		err = -EEXIST;
		goto out;
	}
	err = netns_add(ns);
	if (err) {
		pr_warn("router %s: cannot create namespace %s\n", name, ns);
		goto out;
	}
	xvr_die_at("router-add:netns");

	/* FIB and counters exist before the router turns active. */
	counters_zero(n.vr_stats_fd, id);
	err = fib_router_init(&n, id);
	if (err) {
		pr_warn("router %s: create FIB: %s\n", name, strerror(-err));
		netns_del(ns);
		goto out;
	}
	xvr_die_at("router-add:fib");
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
		netns_del(ns);
		goto out;
	}
	pr_info("router %s: id %u mode %s\n", name, id, mode_name(mode));
	xvr_die_at("router-add:active");
	if (mode == XVR_MODE_XDP && fibsync) {
		/* The namespace's routing daemons reach the XDP FIB through fibsync. */
		fibsync_forget(n.name, name);
		err = fibsync_start(n.name, name);
		if (err) {
			pr_warn("router %s: cannot start fibsync: %s\n", name, strerror(-err));
			router_destroy(&n, id);
		}
	}
out:
	xvr_node_close(&n);
	return err;
}

/* Clears every nexthop owned by the router; the FIB is already gone. */
static int nexthops_flush_router(struct xvr_node *n, __u32 id)
{
	struct xvr_nexthop *tbl, zero = {};
	int cnt = 0;

	if (nexthops_read(n, &tbl))
		return 0;
	for (__u32 i = 1; i < XVR_MAX_NEXTHOPS; i++)
		if ((tbl[i].flags & XVR_NH_VALID) && tbl[i].vr_id == id)
			cnt += !bpf_map_update_elem(n->nexthops_fd, &i, &zero, BPF_ANY);
	free(tbl);
	return cnt;
}

/* Stops and removes every forwarding engine of the router. */
static int fes_flush_router(struct xvr_node *n, __u32 id)
{
	__u32 ids[XVR_MAX_ROUTER_FES];
	int cnt = fe_list_router(n, id, ids);
	char name[32];

	for (int i = 0; i < cnt; i++) {
		fe_ifname(name, sizeof(name), ids[i]);
		supervise_stop(n->name, name);
		fe_destroy(n, ids[i]);
	}
	bpf_map_delete_elem(n->fe_sets_fd, &id);
	return cnt > 0 ? cnt : 0;
}

/*
 * Everything router slot id owns in the maps, its namespace aside: engines,
 * VIFs, FIB, nexthops, the slot itself. Safe on a slot a killed 'router
 * add' or 'router del' left half done; what it removed goes into *rel.
 */
int router_release(struct xvr_node *n, __u32 id, struct router_released *rel)
{
	struct xvr_router zero = {};
	__u32 inner;

	memset(rel, 0, sizeof(*rel));
	rel->fes = fes_flush_router(n, id);
	xvr_die_at("router-del:engines");
	rel->vifs = vifs_flush_router(n, id);
	xvr_die_at("router-del:vifs");
	rel->fib = !bpf_map_lookup_elem(n->fib4_fd, &id, &inner) ||
		   !bpf_map_lookup_elem(n->rib4_fd, &id, &inner) ||
		   !bpf_map_lookup_elem(n->fib6_fd, &id, &inner);
	fib_router_fini(n, id);
	xvr_die_at("router-del:fib");
	rel->nexthops = nexthops_flush_router(n, id);
	bpf_map_update_elem(n->routers_fd, &id, &zero, BPF_ANY);
	counters_zero(n->vr_stats_fd, id);
	return 0;
}

/* Everything of a router, in the order that stops traffic first. */
int router_destroy(struct xvr_node *n, __u32 id)
{
	struct router_released rel;
	struct xvr_router r;
	char ns[128];
	int err;

	err = router_get(n, id, &r);
	if (err)
		return err;
	/* fibsync first: it would mirror the teardown, and holds the namespace. */
	fibsync_stop(n->name, r.name);
	fibsync_forget(n->name, r.name);
	xvr_die_at("router-del:fibsync");
	rules_flush_router(n, id);
	r.flags &= ~XVR_ROUTER_ACTIVE;
	bpf_map_update_elem(n->routers_fd, &id, &r, BPF_ANY);
	xvr_die_at("router-del:inactive");
	router_release(n, id, &rel);
	xvr_die_at("router-del:slot");
	netns_name(ns, sizeof(ns), n->name, r.name);
	/* The tenant's daemons go with their router. */
	netns_kill_procs(ns);
	err = netns_del(ns);
	if (err)
		pr_warn("router %s: cannot remove namespace %s\n", r.name, ns);
	return err;
}

static int router_del(int argc, char **argv)
{
	struct xvr_router r;
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
	err = router_destroy(&n, id);
out:
	xvr_node_close(&n);
	return err;
}

static void router_print(struct xvr_node *n, __u32 id, const struct xvr_router *r)
{
	char ns[128];
	int pid;

	netns_name(ns, sizeof(ns), n->name, r->name);
	print_open_object(NULL);
	print_string("name", "%-16s", r->name);
	print_u64("id", " id %-4llu", id);
	print_string("mode", " mode %-6s", mode_name(r->mode));
	print_u64("routes4", " routes4 %-8llu", r->routes4);
	print_u64("routes6", " routes6 %-8llu", r->routes6);
	print_u64("fib4_groups_used", " fib4 groups %llu", r->fib4_groups_used);
	print_u64("fib4_groups_max", "/%llu", r->fib4_groups_max);
	print_string("netns", " netns %s", ns);
	pid = fibsync_pid(n->name, r->name);
	if (pid > 0)
		print_u64("fibsync_pid", " fibsync pid %llu", pid);
	print_text("\n");
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
			router_print(&n, id, &r);
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
		router_print(&n, id, &r);
	print_end();
	xvr_node_close(&n);
	return err;
}

/*
 * Runs in the child: the router's network namespace, a mount namespace whose
 * /sys belongs to that network namespace (the node's bpffs, mounted under
 * the old /sys, is not there), a PID namespace with its own /proc, and the
 * tenant's capabilities only.
 */
static int exec_in_router(const char *ns, char **argv)
{
	int err;

	err = netns_enter(ns);
	if (err) {
		pr_warn("exec: enter %s: %s\n", ns, strerror(-err));
		return err;
	}
	if (unshare(CLONE_NEWNS) || mount("", "/", NULL, MS_SLAVE | MS_REC, NULL) ||
	    umount2("/sys", MNT_DETACH) || mount(ns, "/sys", "sysfs", 0, NULL) ||
	    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL)) {
		err = -errno;
		pr_warn("exec: mounts for %s: %s\n", ns, strerror(-err));
		return err;
	}
	/* Goes when 'router exec' goes, however it goes. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	err = caps_drop_to_tenant();
	if (err) {
		pr_warn("exec: drop capabilities: %s\n", strerror(-err));
		return err;
	}
	execvp(argv[0], argv);
	err = -errno;
	pr_warn("exec: %s: %s\n", argv[0], strerror(-err));
	return err;
}

static pid_t exec_child;

/* The tenant's process is PID 1 of its namespace: pass on what stops us. */
static void exec_forward(int sig)
{
	if (exec_child > 0)
		kill(exec_child, sig);
}

static int router_exec(int argc, char **argv)
{
	static const int fwd[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT };
	struct xvr_router r;
	struct xvr_node n;
	char ns[128];
	int err, status;
	__u32 id;
	pid_t pid;

	if (argc < 2) {
		router_help();
		return -EINVAL;
	}
	err = cli_node_open(&n, false);
	if (err)
		return err;
	err = router_find(&n, argv[0], &id, &r);
	netns_name(ns, sizeof(ns), n.name, argv[0]);
	xvr_node_close(&n);
	if (err) {
		pr_warn("router %s: no such router\n", argv[0]);
		return err;
	}
	argc--, argv++;
	if (!strcmp(argv[0], "--")) {
		argc--, argv++;
		if (!argc) {
			router_help();
			return -EINVAL;
		}
	}
	/* The new PID namespace applies to children: fork, then wait for it. */
	if (unshare(CLONE_NEWPID)) {
		err = -errno;
		pr_warn("exec: new PID namespace: %s\n", strerror(-err));
		return err;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid)
		_exit(exec_in_router(ns, argv) ? 127 : 0);
	exec_child = pid;
	for (size_t i = 0; i < ARRAY_SIZE(fwd); i++)
		signal(fwd[i], exec_forward);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (WIFEXITED(status))
		exit(WEXITSTATUS(status));
	exit(128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0));
}

static int router_set(int argc, char **argv)
{
	static const char *const dists[] = {
		[XVR_DIST_RR] = "rr", [XVR_DIST_WEIGHTED] = "weighted",
		[XVR_DIST_FLOWHASH] = "flowhash",
	};
	struct xvr_node n;
	int dist = -1, err;
	__u32 id;

	if (argc != 3 || !matches(argv[1], "dist")) {
		router_help();
		return -EINVAL;
	}
	for (int i = 0; i < (int)ARRAY_SIZE(dists); i++)
		if (!strcmp(argv[2], dists[i]))
			dist = i;
	if (dist < 0)
		return bad_arg("distribution (rr, weighted or flowhash)", argv[2]);
	err = cli_node_open(&n, true);
	if (err)
		return err;
	err = router_find(&n, argv[0], &id, NULL);
	if (err)
		pr_warn("router %s: no such router\n", argv[0]);
	else
		err = fe_set_rebuild(&n, id, dist);
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
		{ "exec", router_exec },
		{ "set", router_set },
		{ NULL, NULL },
	};

	return cmd_dispatch("router", cmds, argc, argv, router_help);
}
