// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * A node as a file of commands: 'xvr batch FILE' (also 'xvr -b FILE') runs
 * one command a line through the same dispatcher as the command line, and
 * 'xvr node save' prints a node's whole state as such a file.
 */
#include <arpa/inet.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "xvr.h"
#include "cpugroup.h"
#include "fe.h"
#include "fib.h"
#include "fibsync.h"
#include "supervise.h"
#include "cglimits.h"
#include "fair.h"

#define BATCH_MAX_ARGS	256

bool cli_dry_run;

static int batch_help(void)
{
	fprintf(stderr,
		"Usage: xvr batch FILE [-force] [--dry-run]\n"
		"       xvr [-force] [--dry-run] -b FILE\n"
		"Runs FILE ('-' for stdin) one command a line, as 'xvr OBJECT COMMAND ...'\n"
		"would; '#' starts a comment, \"...\" and '...' quote. Stops at the first\n"
		"failing line unless -force, which runs every line and fails at the end.\n"
		"--dry-run checks each line's grammar and changes nothing.\n"
		"'xvr node save' prints the node as such a file.\n");
	return 0;
}

/*
 * Splits line into words in place: blanks separate, '#' outside quotes ends
 * the line, "..." and '...' quote (a backslash escapes the next character
 * inside double quotes and outside quotes). Returns the count or -EINVAL.
 */
static int split_line(char *line, char **argv, int max)
{
	char *r = line, *w = line;
	int argc = 0;

	for (;;) {
		char quote = 0;

		while (*r == ' ' || *r == '\t' || *r == '\n' || *r == '\r')
			r++;
		if (!*r || *r == '#')
			return argc;
		if (argc == max)
			return -E2BIG;
		argv[argc++] = w;
		for (; *r; r++) {
			if (quote && *r == quote) {
				quote = 0;
			} else if (!quote && (*r == '"' || *r == '\'')) {
				quote = *r;
			} else if (!quote && (*r == ' ' || *r == '\t' || *r == '\n' || *r == '\r')) {
				break;
			} else if (*r == '\\' && quote != '\'' && r[1]) {
				*w++ = *++r;
			} else {
				*w++ = *r;
			}
		}
		if (quote)
			return -EINVAL;
		if (*r)
			r++;
		*w++ = '\0';
	}
}

int cli_batch(const char *file, bool force)
{
	char *line = NULL, *argv[BATCH_MAX_ARGS];
	int lineno = 0, failed = 0, argc, err;
	size_t cap = 0;
	FILE *f;

	f = strcmp(file, "-") ? fopen(file, "re") : stdin;
	if (!f) {
		err = -errno;
		pr_warn("batch: %s: %s\n", file, strerror(-err));
		return err;
	}
	while (getline(&line, &cap, f) >= 0) {
		lineno++;
		argc = split_line(line, argv, BATCH_MAX_ARGS);
		if (argc < 0) {
			pr_warn("batch: %s:%d: %s\n", file, lineno,
				argc == -E2BIG ? "too many words" : "unterminated quote");
			err = -EINVAL;
		} else if (!argc) {
			continue;
		} else if (matches(argv[0], "batch")) {
			pr_warn("batch: %s:%d: a batch cannot run another\n", file, lineno);
			err = -EINVAL;
		} else {
			err = cli_run(argc, argv);
		}
		if (!err)
			continue;
		pr_warn("batch: %s:%d: command failed%s\n", file, lineno,
			force ? "" : "; stopping (-force runs the rest)");
		failed++;
		if (!force)
			break;
	}
	free(line);
	if (f != stdin)
		fclose(f);
	if (failed && force)
		pr_warn("batch: %s: %d command(s) failed\n", file, failed);
	return failed ? -EINVAL : 0;
}

int do_batch(int argc, char **argv)
{
	const char *file = NULL;
	bool force = false;

	cli_object = "batch";
	for (; argc > 0; argc--, argv++) {
		if (!strcmp(argv[0], "-force") || !strcmp(argv[0], "--force")) {
			force = true;
		} else if (!strcmp(argv[0], "--dry-run") || !strcmp(argv[0], "-dry-run")) {
			cli_dry_run = true;
		} else if (!file && strcmp(argv[0], "help")) {
			file = argv[0];
		} else if (!file) {
			return batch_help();
		} else {
			return unexpected_arg(argv[0]);
		}
	}
	if (!file) {
		batch_help();
		return -EINVAL;
	}
	return cli_batch(file, force);
}

/* ---- xvr node save ---- */

/* One word of a saved command, quoted when split_line() would split it. */
static void put_word(const char *w)
{
	if (*w && !strpbrk(w, " \t\r\n\"'\\#")) {
		printf(" %s", w);
		return;
	}
	fputs(" \"", stdout);
	for (; *w; w++) {
		if (*w == '"' || *w == '\\')
			putchar('\\');
		putchar(*w);
	}
	putchar('"');
}

static const char *dev_name(__u32 ifindex, char *buf)
{
	return if_name(ifindex, buf);
}

/* " cpu PCT memory BYTES pids N", each 'max' where unlimited. */
static void limits_save(const struct router_limits *l)
{
	if (l->cpu)
		printf(" cpu %u", l->cpu);
	else
		printf(" cpu max");
	if (l->memory)
		printf(" memory %llu", (unsigned long long)l->memory);
	else
		printf(" memory max");
	if (l->pids)
		printf(" pids %u", l->pids);
	else
		printf(" pids max");
}

static int save_node(struct xvr_node *n)
{
	struct xvr_config cfg = {};
	__u32 zero = 0;

	if (bpf_map_lookup_elem(n->config_fd, &zero, &cfg))
		return -errno;
	struct router_limits def, builtin = ROUTER_LIMITS_BUILTIN;
	char ns[256];

	printf("node up");
	if (!xvr_node_netns(n->name, ns, sizeof(ns)))
		put_word("netns"), put_word(ns);
	printf("\n");
	if (cfg.flags & XVR_CFG_MISS_DROP)
		printf("node set miss drop\n");
	if (!router_defaults_read(n->name, &def) && memcmp(&def, &builtin, sizeof(def))) {
		printf("node set router-defaults");
		limits_save(&def);
		printf("\n");
	}
	return 0;
}

/* In slot order, so the ports get their slots (and counters' places) back. */
static int save_ports(struct xvr_node *n)
{
	struct xvr_port *ports = calloc(XVR_MAX_PORTS, sizeof(*ports));
	__u32 key, next, *prev = NULL;
	struct xvr_port p;

	if (!ports)
		return -ENOMEM;
	while (!bpf_map_get_next_key(n->ports_fd, prev, &next)) {
		key = next;
		prev = &key;
		if (!port_get(n, key, &p) && p.slot < XVR_MAX_PORTS)
			ports[p.slot] = p;
	}
	for (int i = 0; i < XVR_MAX_PORTS; i++) {
		if (!ports[i].name[0])
			continue;
		printf("port add");
		put_word(ports[i].name);
		printf("%s\n", ports[i].flags & XVR_PORT_GENERIC ? " mode generic" : "");
	}
	free(ports);
	return 0;
}

static int save_routers(struct xvr_node *n)
{
	static const char *const dists[] = {
		[XVR_DIST_RR] = "rr", [XVR_DIST_WEIGHTED] = "weighted",
		[XVR_DIST_FLOWHASH] = "flowhash",
	};
	struct router_limits lim;
	struct xvr_fe_set set;
	struct xvr_router r;

	for (__u32 id = 1; id < XVR_MAX_ROUTERS; id++) {
		if (router_get(n, id, &r))
			continue;
		printf("router add %s id %u mode %s", r.name, id, mode_name(r.mode));
		/* fibsync runs, supervised, for every xdp router made without 'fibsync off'. */
		if (r.mode == XVR_MODE_XDP && fibsync_supervised(n->name, r.name) < 0)
			printf(" fibsync off");
		printf("\n");
		if (!bpf_map_lookup_elem(n->fe_sets_fd, &id, &set) && set.dist != XVR_DIST_RR &&
		    set.dist < ARRAY_SIZE(dists))
			printf("router set %s dist %s\n", r.name, dists[set.dist]);
		/* Its cgroup's limits, as they are (the node's defaults may have changed since). */
		if (!router_cg_read(n->name, r.name, &lim)) {
			printf("router set %s", r.name);
			limits_save(&lim);
			printf("\n");
		}
		if (r.mode == XVR_MODE_XDP &&
		    fibsync_limit_read(n->name, r.name) != FIBSYNC_MAX_ROUTES)
			printf("router set %s max-routes %lu\n", r.name,
			       fibsync_limit_read(n->name, r.name));
		if (cpu_bound(n, id)) {
			char cpus[3 * XVR_MAX_BOUND_CPUS];

			printf("router set %s cpus %s\n", r.name,
			       cpu_list_format(cpu_bound(n, id), cpus, sizeof(cpus)));
		}
	}
	return 0;
}

/* The classifier rule a VIF made for itself (vif_create), if any. */
static int vif_rule_find(struct xvr_node *n, __u32 vif_id, struct xvr_cls_key *out)
{
	struct xvr_cls_key key, next, *prev = NULL;
	struct xvr_cls_val val;

	while (!bpf_map_get_next_key(n->classify_fd, prev, &next)) {
		key = next;
		prev = &key;
		if (!bpf_map_lookup_elem(n->classify_fd, &key, &val) && val.vif == vif_id) {
			*out = key;
			return 0;
		}
	}
	return -ENOENT;
}

static int save_vifs(struct xvr_node *n)
{
	char ifname[IF_NAMESIZE], mac[18];
	struct xvr_cls_key rule;
	struct xvr_router r;
	struct xvr_vif v;

	for (__u32 id = 1; id < XVR_MAX_VIFS; id++) {
		/* A link's interface is a VIF too; 'link add' makes it (save_links). */
		if (bpf_map_lookup_elem(n->vifs_fd, &id, &v) || !(v.flags & XVR_VIF_ACTIVE) ||
		    (v.flags & XVR_VIF_LINK) || router_get(n, v.vr_id, &r))
			continue;
		printf("vif add %s %s port %s", r.name, v.name, dev_name(v.port, ifname));
		/* Without its own MAC rule the VIF's MAC is derived, and not given. */
		if (!vif_rule_find(n, id, &rule) && rule.kind == XVR_RULE_MAC)
			printf(" mac %s", fmt_mac(v.mac, mac));
		if (v.vlan)
			printf(" vlan %u", v.vlan);
		if (v.flags & XVR_VIF_SPOOF)
			printf(" spoof on");
		printf("\n");
	}
	return 0;
}

/* Rules, collected and sorted: hash maps list them in no stable order. */
struct rule_lines {
	char (*line)[128];
	int count, max;
};

static void rule_save(struct xvr_node *n, struct rule_lines *rl, __u32 vr_id, const char *kind,
		      const char *value, __u32 ifindex)
{
	char ifname[IF_NAMESIZE];
	struct xvr_router r;

	if (router_get(n, vr_id, &r) || rl->count == rl->max)
		return;
	snprintf(rl->line[rl->count++], sizeof(rl->line[0]), "classify add %s %s%s%s%s%s",
		 r.name, kind, value ? " " : "", value ?: "", ifindex ? " port " : "",
		 ifindex ? dev_name(ifindex, ifname) : "");
}

static int line_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* A rule as the line that adds it; a VIF's own rule comes back with the VIF. */
static void rule_line(struct xvr_node *n, __u8 kind, const char *value, __u32 ifindex,
		      const struct xvr_cls_val *val, void *ctx)
{
	if (!rule_kind_name(kind) || (kind != XVR_RULE_PREFIX && val->vif))
		return;
	rule_save(n, ctx, val->vr_id, rule_kind_name(kind), value, ifindex);
}

static int save_rules(struct xvr_node *n)
{
	struct rule_lines rl = { .max = XVR_MAX_RULES + XVR_MAX_PREFIX_RULES };

	rl.line = calloc(rl.max, sizeof(*rl.line));
	if (!rl.line)
		return -ENOMEM;
	rules_walk(n, rule_line, &rl);
	qsort(rl.line, rl.count, sizeof(*rl.line), line_cmp);
	for (int i = 0; i < rl.count; i++)
		printf("%s\n", rl.line[i]);
	free(rl.line);
	return 0;
}

struct route_save_ctx {
	struct xvr_node *n;
	const char *router;
	const struct nexthop *tbl;
};

/* A nexthop's device as 'route add' names it: a port, or a link by its name. */
static const char *nh_dev_name(struct xvr_node *n, const struct nexthop *nh, char *buf)
{
	struct xvr_vif v;
	__u32 id;

	if ((nh->flags & XVR_NH_LINK) && !bpf_map_lookup_elem(n->vif_by_dev_fd, &nh->ifindex, &id) &&
	    !bpf_map_lookup_elem(n->vifs_fd, &id, &v)) {
		snprintf(buf, IF_NAMESIZE, "%.*s", IF_NAMESIZE - 1, v.name);
		return buf;
	}
	return dev_name(nh->ifindex, buf);
}

static int route_save(const struct fib_route *rt, void *ctx)
{
	const struct route_save_ctx *c = ctx;
	char buf[INET6_ADDRSTRLEN], mac[18], ifname[IF_NAMESIZE];
	const struct nexthop *nh = rt->nh < XVR_MAX_NEXTHOPS ? &c->tbl[rt->nh] : NULL;

	/* Multipath comes only from fibsync, whose routers are not saved. */
	if (!nh || !(nh->flags & XVR_NH_VALID) || (nh->flags & XVR_NH_GROUP))
		return 0;
	printf("route add %s %s/%d", c->router, fmt_addr(rt->family, rt->addr, buf), rt->plen);
	if (nh->flags & XVR_NH_LOCAL) {
		printf(" local\n");
		return 0;
	}
	if (nh->flags & XVR_NH_BLACKHOLE) {
		printf(" blackhole\n");
		return 0;
	}
	if (nh->family)
		printf(" via %s", fmt_addr(nh->family, nh->gw, buf));
	if (!(nh->flags & XVR_NH_UNRESOLVED))
		printf(" lladdr %s", fmt_mac(nh->dmac, mac));
	printf(" dev %s", nh_dev_name(c->n, nh, ifname));
	if (nh->vlan && !(nh->flags & XVR_NH_LINK))	/* a link's: its id */
		printf(" vlan %u", nh->vlan);
	printf("\n");
	return 0;
}

/* Routes of the routers xvr route writes; fibsync's come from the namespace. */
static int save_routes(struct xvr_node *n)
{
	struct nexthop *tbl;
	struct xvr_router r;
	int err;

	err = nexthops_read(n, &tbl);
	if (err)
		return err;
	for (__u32 id = 1; !err && id < XVR_MAX_ROUTERS; id++) {
		struct route_save_ctx c = { n, r.name, tbl };

		if (router_get(n, id, &r) || fibsync_owned(n->name, r.name))
			continue;
		err = fib_route_walk(n, id, AF_UNSPEC, route_save, &c);
	}
	free(tbl);
	return err;
}

/*
 * Engines: placement from the map, the rest from the command line their
 * supervisor runs ('xvr -n NODE fe exec ROUTER ID [KEYWORD VALUE]...'),
 * whose keywords are those of 'fe add'.
 */
static int save_fes(struct xvr_node *n)
{
	char name[32], args[4096];
	struct xvr_router r;
	struct xvr_fe fe;

	for (__u32 id = 1; id < XVR_MAX_FES; id++) {
		int len, word = 0;

		if (fe_get(n, id, &fe) || router_get(n, fe.vr_id, &r))
			continue;
		printf("fe add %s", r.name);
		if (fe.cpu >= 0)
			printf(" cpu %d", fe.cpu);
		if (fe.share)
			printf(" share %u", fe.share);
		if (fe.weight != 1)
			printf(" weight %u", fe.weight);
		fe_ifname(name, sizeof(name), id);
		len = supervise_argv(n->name, name, args, sizeof(args));
		for (int i = 0; i < len; i += strlen(args + i) + 1, word++) {
			/* exe -n NODE fe exec ROUTER ID: the launch options follow */
			if (word >= 7)
				put_word(args + i);
		}
		printf("\n");
	}
	return 0;
}

static int save_links(struct xvr_node *n)
{
	char addr[INET_ADDRSTRLEN], ifname[IF_NAMESIZE];
	struct xvr_router r;
	struct xvr_link l;

	for (__u32 id = 1; id < XVR_MAX_VIFS; id++) {
		if (bpf_map_lookup_elem(n->vlinks_fd, &id, &l) || !(l.flags & XVR_LINK_ACTIVE) ||
		    router_get(n, l.vr_id, &r))
			continue;
		printf("link add %s %s egre local %s", r.name, l.name,
		       inet_ntop(AF_INET, &l.local, addr, sizeof(addr)));
		for (__u32 i = 0; i < l.nremotes && i < XVR_LINK_MAX_REMOTES; i++)
			printf(" remote %s", inet_ntop(AF_INET, &l.remote[i], addr, sizeof(addr)));
		printf(" key %u", l.key);
		if (l.port)
			printf(" port %s", dev_name(l.port, ifname));
		printf(" ttl %u mtu %u\n", l.ttl, l.mtu);
	}
	return 0;
}

static int save_weights(struct xvr_node *n)
{
	struct xvr_router r;

	for (__u32 id = 1; id < XVR_MAX_ROUTERS; id++) {
		__u32 w;

		if (router_get(n, id, &r))
			continue;
		w = fair_weight(n, id);
		if (w != XVR_WEIGHT_DEFAULT)
			printf("router set %s weight %u\n", r.name, w);
	}
	return 0;
}

static int save_limits(struct xvr_node *n)
{
	struct xvr_router r;
	struct xvr_limit l;

	for (__u32 id = 1; id < XVR_MAX_ROUTERS; id++) {
		if (bpf_map_lookup_elem(n->limits_fd, &id, &l) || !(l.flags & XVR_LIMIT_SET) ||
		    router_get(n, id, &r))
			continue;
		printf("limit set %s", r.name);
		if (l.rate_pps)
			printf(" pps %llu", (unsigned long long)l.rate_pps);
		if (l.rate_bps)
			printf(" bps %llu", (unsigned long long)l.rate_bps);
		if (l.burst)
			printf(" burst %u", l.burst);
		if (l.punt_pps)
			printf(" punt %u", l.punt_pps);
		printf("\n");
	}
	return 0;
}

/*
 * What 'node save' prints, in the order a batch must recreate it. An object
 * that other state refers to comes before it (ports before VIFs, routers
 * before rules and routes).
 */
static const struct saver {
	const char *what;
	int (*save)(struct xvr_node *n);
} savers[] = {
	{ "node", save_node },
	{ "ports", save_ports },
	{ "routers", save_routers },
	{ "VIFs", save_vifs },
	{ "links", save_links },
	{ "classifier rules", save_rules },
	{ "static routes", save_routes },
	{ "engines", save_fes },
	{ "limits", save_limits },
	{ "weights", save_weights },
};

int node_save(int argc, char **argv)
{
	struct xvr_node n;
	int err = 0;

	err = cli_show_open(argc, argv, &n);
	if (err)
		return err;
	printf("# xvr node %s, saved by 'xvr node save'; restore with 'xvr -n NODE batch FILE'\n",
	       n.name);
	for (size_t i = 0; !err && i < ARRAY_SIZE(savers); i++) {
		printf("# %s\n", savers[i].what);
		err = savers[i].save(&n);
		if (err)
			pr_warn("node %s: save %s: %s\n", n.name, savers[i].what, strerror(-err));
	}
	fflush(stdout);
	xvr_node_close(&n);
	return err;
}
