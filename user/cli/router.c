// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* xvr router: virtual routers, each with its own FIB, nexthops and counters. */
#include <stdio.h>
#include <stdint.h>
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
#include "sandbox.h"
#include "cglimits.h"
#include "pidns.h"
#include "cpugroup.h"
#include "fair.h"

static int router_help(void)
{
	fprintf(stderr,
		"Usage: xvr router add NAME [id ID] [mode { xdp | netns | afxdp }]\n"
		"                      [fibsync { on | off }]\n"
		"                      [cpu PCT] [memory BYTES] [pids N]\n"
		"       xvr router set NAME [dist { rr | weighted | flowhash }] [cpu PCT]\n"
		"                      [memory BYTES] [pids N] [max-routes N] [weight W]\n"
		"                      [cpus { LIST | any }]\n"
		"       xvr router del NAME\n"
		"       xvr router list\n"
		"       xvr router show NAME\n"
		"       xvr router exec NAME [--bind SRC[:DST]]... [--bind-rw SRC[:DST]]...\n"
		"                       [--] COMMAND [ARGS]\n"
		"NAME := 1-15 of [A-Za-z0-9_-]   ID := 1..%d (default: lowest free)\n"
		"PCT := percent of one CPU or max   BYTES := N[K|M|G] or max   N := count or max\n"
		"A router is a container: a user namespace of its own (its root is an\n"
		"unprivileged host uid), its network namespace xvr-NODE-NAME, a cgroup\n"
		"with the limits above (defaults: 'xvr node set router-defaults').\n"
		"'exec' runs a command there as the router's root: the host's files\n"
		"read-only, the router's own /run, /tmp, /var and /dev/shm, no bpf(),\n"
		"in the router's PID namespace (its engines and daemons, nothing else);\n"
		"the command and all it started end with it.\n"
		"--bind hands in a host file or directory (read-only; --bind-rw: writable)\n"
		"at DST, which must exist in the router's view.\n"
		"'max-routes' bounds the prefixes fibsync takes from the namespace\n"
		"(default %d); past it, routes are refused and counted ('router show').\n"
		"'cpus' binds the router's data path to CPUs (LIST := 0,1 or 0-3,6; each\n"
		"online): its frames are classified on the CPU that received them and\n"
		"handed through a cpumap to one of LIST, chosen by flow (a flow keeps its\n"
		"CPU). 'any' runs it inline on the receiving CPU again (the default).\n"
		"'weight' (1..%d, default %d) is the router's claim on the forwarding CPUs\n"
		"when they are overloaded ('xvr fair', docs/fair-sharing.md).\n",
		XVR_MAX_ROUTERS - 1, FIBSYNC_MAX_ROUTES, XVR_WEIGHT_MAX, XVR_WEIGHT_DEFAULT);
	return 0;
}

/* Modes whose data path this build has. */
static bool mode_available(__u32 mode)
{
	return mode == XVR_MODE_XDP || mode == XVR_MODE_NETNS || mode == XVR_MODE_AFXDP;
}

int router_pidns_start(const char *node, const char *router)
{
	char exe[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	int err;

	if (len < 0)
		return -errno;
	exe[len] = '\0';
	err = pidns_start(exe, node, router);
	if (err)
		pr_warn("router %s: cannot start its PID namespace: %s\n", router, strerror(-err));
	return err;
}

/* 'router init NAME' (not in the help: xvr runs it): the router's PID namespace's init. */
static int router_init(int argc, char **argv)
{
	int err;

	if (argc != 1)
		return cli_nargs(argc, argv, 1, router_help);
	if (!router_name_ok(argv[0]))
		return bad_arg("router name", argv[0]);
	err = pidns_init_run(cli_node, argv[0]);
	if (err == -EEXIST)
		exit(PIDNS_INIT_EXIT_EXISTS);
	return err;
}

static int router_add(int argc, char **argv)
{
	unsigned int seen = 0;	/* keywords given, for arg_once */
	struct xvr_router r = {}, old;
	__u32 id = 0, mode = XVR_MODE_XDP, existing;
	struct router_limits lim;
	bool lim_set[3] = {};
	struct router_limits given = {};
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
		} else if (limit_keyword(argv[0]) >= 0) {
			int k = limit_keyword(argv[0]);

			NEXT_ARG();
			if (limit_parse(argv[-1], argv[0], &given) != 1)
				return bad_arg(limit_what[k], argv[0]);
			lim_set[k] = true;
		} else {
			return unexpected_arg(argv[0]);
		}
		SHIFT_ARG();
	}

	err = cli_node_open(&n, true);
	if (err)
		return err;
	/* What a killed command left (a slot, a namespace) goes before any check. */
	node_repair(&n);
	err = router_defaults_read(n.name, &lim);
	if (err) {
		pr_warn("router %s: node defaults: %s\n", name, strerror(-err));
		goto out;
	}
	limits_merge(&lim, &given, lim_set);
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
	err = tenant_create(n.name, name, ns);
	if (err) {
		pr_warn("router %s: cannot create namespace %s\n", name, ns);
		goto out;
	}
	xvr_die_at("router-add:netns");

	err = router_cg_create(n.name, name, &lim);
	if (err) {
		pr_warn("router %s: cgroup: %s\n", name, strerror(-err));
		router_cg_destroy(n.name, name);
		tenant_destroy(n.name, name, ns);
		goto out;
	}
	err = router_pidns_start(n.name, name);
	if (err) {
		router_cg_destroy(n.name, name);
		tenant_destroy(n.name, name, ns);
		goto out;
	}
	xvr_die_at("router-add:pidns");
	/* FIB and counters exist before the router turns active. */
	counters_zero(n.vr_stats_fd, id);
	fair_clear(&n, id);
	err = fib_router_init(&n, id);
	if (err) {
		pr_warn("router %s: create FIB: %s\n", name, strerror(-err));
		pidns_stop(n.name, name);
		router_cg_destroy(n.name, name);
		tenant_destroy(n.name, name, ns);
		goto out;
	}
	xvr_die_at("router-add:fib");
	r.mode = mode;
	snprintf(r.name, sizeof(r.name), "%s", name);
	if (bpf_map_lookup_elem(n.routers_fd, &id, &old) == 0) {
		/* Keep the table bank fib_router_init installed. */
		r.fib4_bank = old.fib4_bank;
	}
	r.flags = XVR_ROUTER_ACTIVE;
	if (bpf_map_update_elem(n.routers_fd, &id, &r, BPF_ANY)) {
		err = -errno;
		pr_warn("router %s: %s\n", name, strerror(-err));
		fib_router_fini(&n, id);
		pidns_stop(n.name, name);
		router_cg_destroy(n.name, name);
		tenant_destroy(n.name, name, ns);
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
	struct nexthop *tbl, zero = {};
	int cnt = 0;

	if (nexthops_read(n, &tbl))
		return 0;
	for (__u32 i = 1; i < XVR_MAX_NEXTHOPS; i++)
		if ((tbl[i].flags & XVR_NH_VALID) && tbl[i].vr_id == id)
			cnt += !nexthop_store(n, i, &zero);
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

	memset(rel, 0, sizeof(*rel));
	rel->fes = fes_flush_router(n, id);
	xvr_die_at("router-del:engines");
	rel->vifs = vifs_flush_router(n, id);
	xvr_die_at("router-del:vifs");
	rel->fib = fib_router_present(n, id);
	fib_router_fini(n, id);
	xvr_die_at("router-del:fib");
	rel->nexthops = nexthops_flush_router(n, id);
	limit_clear(n, id);
	cpu_bind(n, id, 0);
	fair_clear(n, id);
	bpf_map_update_elem(n->routers_fd, &id, &zero, BPF_ANY);
	counters_zero(n->vr_stats_fd, id);
	cpu_counters_zero(n, id);
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
	/* The tenant's daemons go with their router, and its PID namespace. */
	pidns_stop(n->name, r.name);
	xvr_die_at("router-del:pidns");
	netns_kill_procs(ns);
	/* And whatever of theirs left the namespace (nested ones) but not the cgroup. */
	router_cg_destroy(n->name, r.name);
	err = tenant_destroy(n->name, r.name, ns);
	if (err)
		pr_warn("router %s: cannot remove its state: %s\n", r.name, strerror(-err));
	return err;
}

static int router_del(int argc, char **argv)
{
	struct xvr_router r;
	struct xvr_node n;
	__u32 id;
	int err;

	if (argc != 1)
		return cli_nargs(argc, argv, 1, router_help);
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
	char cpus[3 * XVR_MAX_BOUND_CPUS];
	struct xvr_router_book book;
	struct router_limits lim;
	struct fib_stats fst;
	char ns[128];
	__u32 base;
	int pid;

	netns_name(ns, sizeof(ns), n->name, r->name);
	print_open_object(NULL);
	print_string("name", "%-16s", r->name);
	print_u64("id", " id %-4llu", id);
	print_string("mode", " mode %-6s", mode_name(r->mode));
	if (bpf_map_lookup_elem(n->router_book_fd, &id, &book))
		memset(&book, 0, sizeof(book));
	print_u64("routes4", " routes4 %-8llu", book.routes4);
	print_u64("routes6", " routes6 %-8llu", book.routes6);
	print_u64("fib4_groups_used", " fib4 groups %llu", book.fib4_groups_used);
	print_u64("fib4_groups_max", "/%llu", book.fib4_groups_max);
	if (!fib_router_stats(n, id, &fst) && fst.runs_written) {
		print_u64("fib4_runs", " runs %llu", fst.runs_written);
		print_u64("fib4_runs_aside", " (aside %llu)", fst.runs_aside);
	}
	print_string("cpus", " cpus %s", cpu_list_format(book.cpus, cpus, sizeof(cpus)));
	print_u64("weight", " weight %llu", fair_weight(n, id));
	print_string("netns", " netns %s", ns);
	pid = fibsync_pid(n->name, r->name);
	if (pid > 0)
		print_u64("fibsync_pid", " fibsync pid %llu", pid);
	if (!tenant_id_base(n->name, r->name, &base))
		print_u64("uid_base", " uids %llu", base);
	if (!router_cg_read(n->name, r->name, &lim))
		limits_print(&lim);
	if (r->mode == XVR_MODE_XDP) {
		struct fibsync_status st;

		print_u64("max_routes", " max-routes %llu", fibsync_limit_read(n->name, r->name));
		if (!fibsync_status_read(n->name, r->name, &st)) {
			print_u64("fibsync_routes", " fibsync routes %llu", st.routes);
			print_u64("fibsync_refused", " refused %llu", st.refused);
			print_u64("fibsync_lock_ms_max", " lock max %llu ms", st.lock_ms_max);
		}
	}
	print_text("\n");
	print_close_object();
}

static void router_row(struct xvr_node *n, __u32 id, __u32 only)
{
	struct xvr_router r;

	(void)only;
	if (!router_get(n, id, &r))
		router_print(n, id, &r);
}

static int router_list(int argc, char **argv)
{
	return cli_list(argc, argv, false, XVR_MAX_ROUTERS, router_row);
}

static int router_show(int argc, char **argv)
{
	struct xvr_node n;
	struct xvr_router r;
	__u32 id;
	int err;

	if (argc != 1)
		return cli_nargs(argc, argv, 1, router_help);
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

static pid_t exec_child;

/* Passes on what stops us to the tenant's command. */
static void exec_forward(int sig)
{
	if (exec_child > 0)
		kill(exec_child, sig);
}

static const int exec_fwd_sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT };

/* Waits for pid; its exit status as a shell reports it. */
static int exec_wait(pid_t pid)
{
	int status;

	exec_child = pid;
	for (size_t i = 0; i < ARRAY_SIZE(exec_fwd_sigs); i++)
		signal(exec_fwd_sigs[i], exec_forward);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return 127;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

/*
 * Whatever the command left running (daemons, a fork bomb's children)
 * was handed to us, the subreaper: kill it until nothing is left.
 */
static void exec_reap_all(void)
{
	char path[64];
	FILE *f;
	int pid;

	snprintf(path, sizeof(path), "/proc/self/task/%d/children", (int)getpid());
	for (;;) {
		f = fopen(path, "re");
		while (f && fscanf(f, "%d", &pid) == 1)
			kill(pid, SIGKILL);
		if (f)
			fclose(f);
		if (waitpid(-1, NULL, 0) < 0 && errno != EINTR)
			break;
	}
}

struct exec_mounts {
	const char *node, *router;
	const struct tenant_bind *binds;
	int nbinds;
};

static int exec_mounts(void *ctx)
{
	const struct exec_mounts *m = ctx;

	return tenant_mounts(m->node, m->router, m->binds, m->nbinds);
}

/*
 * Runs in the child, born in the router's PID namespace: the router's
 * cgroup and network namespace, the mounts of tenant_mounts() (its /proc
 * the router's PID namespace's: the tenant sees its engines and daemons),
 * set up as root of the node, then the router's user namespace as its
 * root, no_new_privs and the tenant's seccomp filter. This process stays
 * as the command's parent and subreaper, so the command and all it
 * started end with 'router exec'. Returns the exit status.
 */
static int exec_in_router(const char *node, const char *router, const char *ns,
			  const struct tenant_bind *binds, int nbinds, char **argv)
{
	struct exec_mounts m = { node, router, binds, nbinds };
	int err;
	pid_t pid;

	err = router_cg_join(node, router, 0);
	if (err) {
		pr_warn("exec: router %s: join its cgroup: %s\n", router, strerror(-err));
		return 127;
	}
	if (tenant_enter(node, router, ns, exec_mounts, &m, "exec: "))
		return 127;
	/*
	 * Goes when 'router exec' goes, however it goes (set after the uid
	 * change). Our parent is outside the namespace: its pid here is 0.
	 */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != 0)
		return 127;
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)) {
		pr_warn("exec: subreaper: %s\n", strerror(errno));
		return 127;
	}
	err = tenant_seccomp();
	if (err) {
		pr_warn("exec: seccomp: %s\n", strerror(-err));
		return 127;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		pr_warn("exec: fork: %s\n", strerror(errno));
		return 127;
	}
	if (!pid) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		execvp(argv[0], argv);
		pr_warn("exec: %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	err = exec_wait(pid);
	exec_reap_all();
	return err;
}

#define EXEC_MAX_BINDS	32

/* --bind SRC[:DST] and --bind-rw SRC[:DST]: absolute paths, DST defaults to SRC. */
static int parse_bind(char *arg, bool rw, struct tenant_bind *b)
{
	char *colon = strchr(arg, ':');

	if (colon)
		*colon = '\0';
	b->src = arg;
	b->dst = colon ? colon + 1 : arg;
	b->rw = rw;
	if (b->src[0] != '/' || b->dst[0] != '/') {
		if (colon)
			*colon = ':';
		return bad_arg("bind (SRC[:DST], absolute paths)", arg);
	}
	return 0;
}

static int router_exec(int argc, char **argv)
{
	struct tenant_bind binds[EXEC_MAX_BINDS];
	const char *router;
	struct xvr_router r;
	struct xvr_node n;
	int err, nbinds = 0;
	char ns[128];
	__u32 id;
	pid_t pid;

	if (argc < 2) {
		router_help();
		return -EINVAL;
	}
	router = argv[0];
	SHIFT_ARG();
	while (argc > 0 && argv[0][0] == '-') {
		bool rw = !strcmp(argv[0], "--bind-rw");

		if (!strcmp(argv[0], "--")) {
			SHIFT_ARG();
			break;
		}
		if (!rw && strcmp(argv[0], "--bind"))
			return bad_arg("exec option (--bind, --bind-rw or --)", argv[0]);
		NEXT_ARG();
		if (nbinds == EXEC_MAX_BINDS)
			return bad_arg("bind (too many)", argv[0]);
		err = parse_bind(argv[0], rw, &binds[nbinds++]);
		if (err)
			return err;
		SHIFT_ARG();
	}
	if (!argc) {
		router_help();
		return -EINVAL;
	}
	err = cli_node_open(&n, false);
	if (err)
		return err;
	err = router_find(&n, router, &id, &r);
	netns_name(ns, sizeof(ns), n.name, router);
	xvr_node_close(&n);
	if (err) {
		pr_warn("router %s: no such router\n", router);
		return err;
	}
	/* The router's PID namespace applies to children: fork, then wait for it. */
	err = pidns_enter(cli_node, router);
	if (err) {
		pr_warn("exec: router %s: its PID namespace: %s%s\n", router, strerror(-err),
			err == -ENOENT ? " (its init is gone: 'xvr node repair' starts it)" : "");
		return err;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid)
		_exit(exec_in_router(cli_node, router, ns, binds, nbinds, argv));
	exit(exec_wait(pid));
}

/* What 'router set' was asked to change; parsed in full before anything changes. */
struct router_set_req {
	int dist;			/* -1: unchanged */
	struct router_limits lim;
	bool lim_set[LIMIT_KINDS];
	__u32 max_routes;		/* 0: unchanged */
	bool cpus_set;
	__u64 cpus;			/* 0: any */
	__u32 weight;			/* 0: unchanged */
};

static int set_cpus(struct router_set_req *req, const char *key, const char *val)
{
	const char *bad;
	int err;

	(void)key;
	err = cpu_list_parse(val, &req->cpus, &bad);
	if (err == -ENODEV) {
		pr_warn("router set: cpus %s: CPU %s is not online (online: %s)\n", val, bad,
			cpu_list_format(cpus_online(), (char[200]){}, 200));
		return err;
	}
	if (err)
		return bad_arg("cpus (any, or a list like 0,1 or 0-3)", bad);
	req->cpus_set = true;
	return 0;
}

static int set_weight(struct router_set_req *req, const char *key, const char *val)
{
	(void)key;
	if (parse_u32(val, &req->weight, XVR_WEIGHT_MAX) || !req->weight)
		return bad_arg("weight (1..1000)", val);
	return 0;
}

static int set_max_routes(struct router_set_req *req, const char *key, const char *val)
{
	(void)key;
	if (parse_u32(val, &req->max_routes, UINT32_MAX) || !req->max_routes)
		return bad_arg("max-routes (1 or more)", val);
	return 0;
}

static int set_dist(struct router_set_req *req, const char *key, const char *val)
{
	static const char *const dists[] = {
		[XVR_DIST_RR] = "rr", [XVR_DIST_WEIGHTED] = "weighted",
		[XVR_DIST_FLOWHASH] = "flowhash",
	};

	(void)key;
	for (int i = 0; i < (int)ARRAY_SIZE(dists); i++)
		if (!strcmp(val, dists[i]))
			req->dist = i;
	return req->dist < 0 ? bad_arg("distribution (rr, weighted or flowhash)", val) : 0;
}

static int set_limit(struct router_set_req *req, const char *key, const char *val)
{
	int k = limit_keyword(key);

	if (limit_parse(key, val, &req->lim) != 1)
		return bad_arg(limit_what[k], val);
	req->lim_set[k] = true;
	return 0;
}

/* One row per keyword of 'router set', each taking one value. */
static const struct {
	const char *key;
	int (*parse)(struct router_set_req *req, const char *key, const char *val);
} router_set_keys[] = {
	{ "dist", set_dist },
	{ "cpu", set_limit },
	{ "cpus", set_cpus },
	{ "memory", set_limit },
	{ "pids", set_limit },
	{ "max-routes", set_max_routes },
	{ "weight", set_weight },
};

static int router_set(int argc, char **argv)
{
	struct router_set_req req = { .dist = -1 };
	struct router_limits old, lim;
	const char *name;
	struct xvr_node n;
	bool limits = false;
	int err;
	__u32 id;

	if (argc < 3) {
		router_help();
		return -EINVAL;
	}
	name = argv[0];
	SHIFT_ARG();
	while (argc > 0) {
		size_t i;

		for (i = 0; i < ARRAY_SIZE(router_set_keys); i++)
			if (matches(argv[0], router_set_keys[i].key))
				break;
		if (i == ARRAY_SIZE(router_set_keys))
			return unexpected_arg(argv[0]);
		NEXT_ARG();
		err = router_set_keys[i].parse(&req, argv[-1], argv[0]);
		if (err)
			return err;
		SHIFT_ARG();
	}
	for (int k = 0; k < LIMIT_KINDS; k++)
		limits |= req.lim_set[k];

	err = cli_node_open(&n, true);
	if (err)
		return err;
	err = router_find(&n, name, &id, NULL);
	if (err) {
		pr_warn("router %s: no such router\n", name);
		goto out;
	}
	if (limits) {
		err = router_cg_read(n.name, name, &old);
		if (err) {
			pr_warn("router %s: its cgroup: %s\n", name, strerror(-err));
			goto out;
		}
		lim = old;
		limits_merge(&lim, &req.lim, req.lim_set);
		err = router_cg_apply(n.name, name, &lim);
		if (err) {
			pr_warn("router %s: limits refused (engines' shares above the cpu limit, "
				"or memory in use above it?): nothing changed\n", name);
			goto out;
		}
	}
	if (req.dist >= 0) {
		err = fe_set_rebuild(&n, id, req.dist);
		if (err) {
			pr_warn("router %s: dist: %s\n", name, strerror(-err));
			if (limits)
				router_cg_apply(n.name, name, &old);
			goto out;
		}
	}
	if (req.cpus_set) {
		err = cpu_bind(&n, id, req.cpus);
		if (err) {
			pr_warn("router %s: cpus: %s%s\n", name, strerror(-err),
				err == -ENOSPC ? " (every CPU group in use: bind routers to "
				"sets they share)" : "");
			if (req.dist >= 0)
				pr_warn("router %s: dist was changed already\n", name);
			if (limits)
				router_cg_apply(n.name, name, &old);
			goto out;
		}
	}
	if (req.weight) {
		err = fair_weight_set(&n, id, req.weight);
		if (err) {
			pr_warn("router %s: weight: %s\n", name, strerror(-err));
			goto out;
		}
	}
	/* Last: fibsync re-reads its bound; nothing above can fail after it. */
	if (req.max_routes) {
		err = fibsync_limit_write(n.name, name, req.max_routes);
		if (err)
			pr_warn("router %s: max-routes: %s\n", name, strerror(-err));
	}
out:
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
		{ "init", router_init },
		{ NULL, NULL },
	};

	return cmd_dispatch("router", cmds, argc, argv, router_help);
}
