// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* xvr fe: an afxdp router's forwarding engines, their CPUs and their shares. */
#include <math.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "xvr.h"
#include "alloc.h"
#include "cgroup.h"
#include "sandbox.h"
#include "fe.h"
#include "supervise.h"
#include "pidns.h"

#define FE_START_TIMEOUT_MS	10000

static int fe_help(void)
{
	fprintf(stderr,
		"Usage: xvr fe add ROUTER [cpu CPU] [share PERCENT] [weight W] [pool FRAMES]\n"
		"                         [batch N] [idle US] [plugin FILE.so] [args STRING]\n"
		"       xvr fe add ROUTER capacity CORES [weight W] [pool FRAMES] …\n"
		"       xvr fe del ROUTER ID\n"
		"       xvr fe list [ROUTER]\n"
		"An engine is an xvr-router process in the router's namespace on an AF_XDP\n"
		"socket, supervised (restarted if it dies) and held to SHARE percent of a\n"
		"CPU. 'capacity' places engines the way PdP's SliceAlloc does: a whole free\n"
		"core for each full unit, the best-fitting core for the rest (e.g. 1.5).\n"
		"'xvr router set ROUTER dist { rr | weighted | flowhash }' chooses how the\n"
		"router's frames are spread over its engines.\n");
	return 0;
}

/* How an engine's process is started: what fe add was given, kept for restarts. */
struct fe_launch {
	const char *pool, *batch, *idle, *plugin, *args;
};

static void supervise_name(char *buf, size_t len, __u32 id)
{
	fe_ifname(buf, len, id);
}

static int self_exe(char *buf, size_t len)
{
	ssize_t n = readlink("/proc/self/exe", buf, len - 1);

	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

/* What an engine's supervisor probes: the engine, by id and node-side device. */
struct fe_probe_arg {
	char node[64];
	__u32 id;
	__u32 dev;
};

static enum supervise_health fe_probe_check(const void *arg, long started_ms)
{
	const struct fe_probe_arg *a = arg;

	return fe_health(a->node, a->id, a->dev, started_ms);
}

static void fe_probe_restarted(const void *arg, unsigned long restarts)
{
	const struct fe_probe_arg *a = arg;

	fe_restarts_set(a->node, a->id, restarts);
}

static int fe_start(struct xvr_node *n, const char *router, __u32 id, const struct fe_launch *l)
{
	struct fe_probe_arg parg = { .id = id };
	struct supervise_probe probe = {
		.check = fe_probe_check, .restarted = fe_probe_restarted, .arg = &parg,
		.interval_ms = FE_PROBE_MS,
	};
	struct xvr_fe fe;
	char exe[PATH_MAX], ids[16], name[32];
	const char *argv[24];
	int c = 0, err;

	err = self_exe(exe, sizeof(exe));
	if (err)
		return err;
	snprintf(ids, sizeof(ids), "%u", id);
	argv[c++] = exe;
	argv[c++] = "-n";
	argv[c++] = n->name;
	argv[c++] = "fe";
	argv[c++] = "exec";
	argv[c++] = router;
	argv[c++] = ids;
	if (l->pool) {
		argv[c++] = "pool";
		argv[c++] = l->pool;
	}
	if (l->batch) {
		argv[c++] = "batch";
		argv[c++] = l->batch;
	}
	if (l->idle) {
		argv[c++] = "idle";
		argv[c++] = l->idle;
	}
	if (l->plugin) {
		argv[c++] = "plugin";
		argv[c++] = l->plugin;
	}
	if (l->args) {
		argv[c++] = "args";
		argv[c++] = l->args;
	}
	argv[c] = NULL;
	err = fe_get(n, id, &fe);
	if (err)
		return err;
	snprintf(parg.node, sizeof(parg.node), "%s", n->name);
	parg.dev = fe.dev;
	supervise_name(name, sizeof(name), id);
	/* A router older than its PID namespace, or whose init died: one first. */
	if (pidns_init_pid(n->name, router) < 0) {
		pr_info("router %s: its PID namespace has no init: starting one\n", router);
		err = router_pidns_start(n->name, router);
		if (err)
			return err;
	}
	/* Born in the router's PID namespace: a member from its first instruction. */
	return supervise_start_in(n->name, name, (char *const *)argv, &probe, router);
}

/* Waits until every engine in ids beats; -ETIMEDOUT names the first that did not. */
static int fe_wait_alive(struct xvr_node *n, const __u32 *ids, int cnt)
{
	struct timespec ts = { 0, 20 * 1000 * 1000 };

	for (int waited = 0; waited < FE_START_TIMEOUT_MS; waited += 20) {
		int alive = 0;

		for (int i = 0; i < cnt; i++) {
			struct xvr_fe_state st;
			long age;

			if (fe_state_read(n, ids[i], &st))
				continue;
			age = fe_heartbeat_age_ms(&st);
			alive += age >= 0 && age < 200;
		}
		if (alive == cnt)
			return 0;
		nanosleep(&ts, NULL);
	}
	return -ETIMEDOUT;
}

static void fe_remove(struct xvr_node *n, __u32 id)
{
	char name[32];

	supervise_name(name, sizeof(name), id);
	supervise_stop(n->name, name);
	fe_destroy(n, id);
}

/* Parses "1.5" (cores) into percent, 1..100 * XVR_MAX_ROUTER_FES. */
static int parse_capacity(const char *s, unsigned int *pct)
{
	char *end;
	double v = strtod(s, &end);

	if (*end || !(v > 0) || v * 100 > SLICE_CORE * XVR_MAX_ROUTER_FES)
		return -EINVAL;
	*pct = (unsigned int)lround(v * 100);
	return *pct ? 0 : -EINVAL;
}

static int fe_add(int argc, char **argv)
{
	unsigned int seen = 0;	/* keywords given, for arg_once */
	struct fe_spec spec = { .cpu = -1, .weight = 1 };
	struct slice slices[XVR_MAX_ROUTER_FES];
	__u32 ids[XVR_MAX_ROUTER_FES], v;
	struct fe_launch launch = {};
	char plugin[PATH_MAX];
	unsigned int capacity = 0;
	struct xvr_router r;
	struct xvr_node n;
	int nslices = 1, made = 0, err, ncpus = libbpf_num_possible_cpus();

	if (argc < 1) {
		fe_help();
		return -EINVAL;
	}
	spec.router = argv[0];
	SHIFT_ARG();
	while (argc > 0) {
		if (arg_once(&seen, argv[0]))
			return -EINVAL;
		if (matches(argv[0], "cpu")) {
			NEXT_ARG();
			if (parse_u32(argv[0], &v, ncpus - 1))
				return bad_arg("cpu", argv[0]);
			spec.cpu = v;
		} else if (matches(argv[0], "share")) {
			NEXT_ARG();
			if (parse_u32(argv[0], &v, 100) || !v)
				return bad_arg("share (1-100 percent)", argv[0]);
			spec.share = v;
		} else if (matches(argv[0], "weight")) {
			NEXT_ARG();
			if (parse_u32(argv[0], &v, 100) || !v)
				return bad_arg("weight (1-100)", argv[0]);
			spec.weight = v;
		} else if (matches(argv[0], "capacity")) {
			NEXT_ARG();
			if (parse_capacity(argv[0], &capacity))
				return bad_arg("capacity (cores, e.g. 1.5)", argv[0]);
		} else if (matches(argv[0], "pool")) {
			NEXT_ARG();
			if (parse_u32(argv[0], &v, 16384) || v < 2)
				return bad_arg("pool (2-16384 frames)", argv[0]);
			launch.pool = argv[0];
		} else if (matches(argv[0], "batch")) {
			NEXT_ARG();
			if (parse_u32(argv[0], &v, 1024) || !v)
				return bad_arg("batch (1-1024)", argv[0]);
			launch.batch = argv[0];
		} else if (matches(argv[0], "idle")) {
			NEXT_ARG();
			if (parse_u32(argv[0], &v, 1000000))
				return bad_arg("idle (0-1000000 us of polling before sleeping)", argv[0]);
			launch.idle = argv[0];
		} else if (matches(argv[0], "plugin")) {
			NEXT_ARG();
			/* Absolute: the engine starts from the supervisor's cwd, "/". */
			if (access(argv[0], R_OK) || !realpath(argv[0], plugin))
				return bad_arg("plugin (a readable .so)", argv[0]);
			launch.plugin = plugin;
		} else if (matches(argv[0], "args")) {
			NEXT_ARG();
			launch.args = argv[0];
		} else {
			return unexpected_arg(argv[0]);
		}
		SHIFT_ARG();
	}
	if (capacity && (spec.cpu >= 0 || spec.share)) {
		pr_warn("fe: capacity places engines itself; drop cpu and share\n");
		return -EINVAL;
	}

	err = cli_node_open(&n, true);
	if (err)
		return err;
	err = router_find(&n, spec.router, &spec.vr_id, &r);
	if (err) {
		pr_warn("fe: router %s: no such router\n", spec.router);
		goto out;
	}
	if (r.mode != XVR_MODE_AFXDP) {
		pr_warn("fe: router %s is in mode %s; engines serve afxdp routers\n", spec.router,
			mode_name(r.mode));
		err = -EINVAL;
		goto out;
	}
	if (capacity) {
		unsigned int free[1024];

		fe_cpu_free(&n, free, ncpus);
		nslices = slice_alloc(free, ncpus, capacity, slices, XVR_MAX_ROUTER_FES);
		if (nslices < 0) {
			err = nslices;
			pr_warn("fe: router %s: capacity %s does not fit the free cores\n",
				spec.router, err == -ENOSPC ? "" : "request");
			goto out;
		}
	} else {
		slices[0] = (struct slice){ .cpu = spec.cpu, .share = spec.share };
	}

	for (made = 0; made < nslices; made++) {
		spec.cpu = slices[made].cpu;
		spec.share = slices[made].share == SLICE_CORE ? 0 : slices[made].share;
		err = fe_create(&n, &spec, &ids[made]);
		if (!err) {
			err = fe_start(&n, spec.router, ids[made], &launch);
			if (err) {
				pr_warn("fe %u: cannot start its engine: %s\n", ids[made],
					strerror(-err));
				fe_destroy(&n, ids[made]);
			}
		}
		if (err)
			break;
	}
	if (!err) {
		err = fe_wait_alive(&n, ids, made);
		if (err)
			pr_warn("fe: router %s: engine(s) did not start within %d s; see %s/%s/fe*.log\n",
				spec.router, FE_START_TIMEOUT_MS / 1000, XVR_RUN_DIR, n.name);
	}
	if (err) {
		/* All or nothing: remove the engines this command made. */
		while (made-- > 0)
			fe_remove(&n, ids[made]);
		goto out;
	}
	for (int i = 0; i < nslices; i++)
		printf("%u\n", ids[i]);
out:
	xvr_node_close(&n);
	return err;
}

static int fe_del(int argc, char **argv)
{
	struct xvr_node n;
	struct xvr_fe fe;
	__u32 vr, id;
	int err;

	if (argc != 2)
		return cli_nargs(argc, argv, 2, fe_help);
	if (parse_u32(argv[1], &id, XVR_MAX_FES - 1) || !id)
		return bad_arg("engine id", argv[1]);
	err = cli_node_open(&n, true);
	if (err)
		return err;
	err = router_find(&n, argv[0], &vr, NULL);
	if (err) {
		pr_warn("fe: router %s: no such router\n", argv[0]);
		goto out;
	}
	if (fe_get(&n, id, &fe) || fe.vr_id != vr) {
		pr_warn("fe: router %s has no engine %u\n", argv[0], id);
		err = -ENOENT;
		goto out;
	}
	fe_remove(&n, id);
out:
	xvr_node_close(&n);
	return err;
}

static void fe_row(struct xvr_node *n, __u32 id, __u32 only)
{
	char name[32], ifname[IF_NAMESIZE];
	struct xvr_fe_state st;
	struct xvr_router r;
	struct xvr_fe fe;
	long age;
	int pid;

	if (fe_get(n, id, &fe) || (only && fe.vr_id != only))
		return;
	router_get(n, fe.vr_id, &r);
	fe_state_read(n, id, &st);
	age = fe_heartbeat_age_ms(&st);
	supervise_name(name, sizeof(name), id);
	pid = supervise_pid(n->name, name);
	print_open_object(NULL);
	print_u64("id", "%-4llu", id);
	print_string("router", " router %-12s", r.name);
	print_string("dev", " dev %-10s", if_name(fe.dev, ifname));
	if (fe.cpu >= 0)
		print_u64("cpu", " cpu %llu", fe.cpu);
	else
		print_string("cpu", " cpu %s", "any");
	print_u64("share", " share %llu%%", fe.share ? fe.share : 100);
	print_u64("weight", " weight %llu", fe.weight);
	print_bool("alive", " alive %s", age >= 0 && age < 200);
	print_u64("supervisor_pid", " supervisor %llu", pid > 0 ? pid : 0);
	print_u64("restarts", " restarts %llu\n", st.restarts);
	print_u64("rx_packets", "     rx %llu", st.rx_packets);
	print_u64("tx_packets", " tx %llu", st.tx_packets);
	print_u64("drop_packets", " dropped %llu", st.drop_packets);
	print_u64("rx_ring_full", " rx-ring-full %llu", st.rx_ring_full);
	print_u64("rx_dropped", " rx-dropped %llu", st.rx_dropped);
	print_u64("tx_invalid", " tx-invalid %llu", st.tx_invalid);
	print_u64("wakeups", " wakeups %llu", st.wakeups);
	print_u64("idle_sleeps", " idle-sleeps %llu\n", st.idle_sleeps);
	print_close_object();
}

static int fe_list(int argc, char **argv)
{
	return cli_list(argc, argv, true, XVR_MAX_FES, fe_row);
}

/*
 * Internal: what the supervisor runs. Joins the engine's cgroup and CPU,
 * then becomes xvr-router (from the directory of this binary).
 */
static int fe_exec(int argc, char **argv)
{
	char exe[PATH_MAX], ids[16], dev[IF_NAMESIZE], cg[128], userns[PATH_MAX], *slash;
	const char *eargv[32];
	struct xvr_node n;
	struct xvr_fe fe;
	int c = 0, err;
	__u32 id;

	if (argc < 2 || parse_u32(argv[1], &id, XVR_MAX_FES - 1))
		return -EINVAL;
	err = cli_node_open(&n, false);
	if (err == -ENOENT && getenv(SUPERVISE_ENV))
		exit(SUPERVISE_EXIT_DONE);	/* the node is down */
	if (err)
		return err;
	err = fe_get(&n, id, &fe);
	xvr_node_close(&n);
	if (err) {
		pr_warn("fe %u: no such engine\n", id);
		/* Deleted: its supervisor must not start it again and again. */
		if (err == -ENOENT && getenv(SUPERVISE_ENV))
			exit(SUPERVISE_EXIT_DONE);
		return err;
	}
	fe_cgroup(cg, sizeof(cg), cli_node, argv[0], id);
	err = cg_attach(cg, 0);
	if (err)
		pr_warn("fe %u: join cgroup %s: %s\n", id, cg, strerror(-err));
	if (fe.cpu >= 0 && (err = cpu_pin(fe.cpu)))
		pr_warn("fe %u: pin to cpu %d: %s\n", id, fe.cpu, strerror(-err));
	err = self_exe(exe, sizeof(exe));
	if (err)
		return err;
	slash = strrchr(exe, '/');
	snprintf(slash ? slash + 1 : exe, sizeof(exe) - (slash ? slash + 1 - exe : 0),
		 "xvr-router");
	snprintf(ids, sizeof(ids), "%u", id);
	fe_ifname(dev, sizeof(dev), id);
	eargv[c++] = exe;
	eargv[c++] = "-n";
	eargv[c++] = cli_node;
	eargv[c++] = "-r";
	eargv[c++] = argv[0];
	eargv[c++] = "--fe";
	eargv[c++] = ids;
	eargv[c++] = "--dev";
	eargv[c++] = dev;
	/*
	 * After setup the engine (and a tenant's plugin in it) runs as the
	 * router's root in the router's user namespace, with no capabilities:
	 * a host uid of that router only, no file of the node its to write.
	 */
	tenant_userns_path(userns, sizeof(userns), cli_node, argv[0]);
	eargv[c++] = "--userns";
	eargv[c++] = userns;
	for (int i = 2; i + 1 < argc && c < 28; i += 2) {
		if (!strcmp(argv[i], "pool"))
			eargv[c++] = "--pool";
		else if (!strcmp(argv[i], "batch"))
			eargv[c++] = "--batch";
		else if (!strcmp(argv[i], "idle"))
			eargv[c++] = "--idle-us";
		else if (!strcmp(argv[i], "plugin"))
			eargv[c++] = "--plugin";
		else if (!strcmp(argv[i], "args"))
			eargv[c++] = "--plugin-config";
		else
			continue;
		eargv[c++] = argv[i + 1];
	}
	eargv[c] = NULL;
	execv(exe, (char *const *)eargv);
	pr_warn("fe %u: exec %s: %s\n", id, exe, strerror(errno));
	return -errno;
}

int do_fe(int argc, char **argv)
{
	static const struct cmd cmds[] = {
		{ "add", fe_add },
		{ "del", fe_del },
		{ "list", fe_list },
		{ "show", fe_list },
		{ "exec", fe_exec },
		{ NULL, NULL },
	};

	return cmd_dispatch("fe", cmds, argc, argv, fe_help);
}
