// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* xvr stats and xvr top: counters and rates per router and per port. */
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "xvr.h"
#include "cpugroup.h"
#include "fair.h"

static int stats_help(void)
{
	fprintf(stderr,
		"Usage: xvr stats [ROUTER | port DEV | link ROUTER NAME] [interval MS]\n"
		"       xvr stats --format prometheus   every counter, for a monitoring system\n"
		"       xvr top [interval MS]\n"
		"Totals since the router or port was created, and rates over a sample of\n"
		"interval milliseconds (default 200; 0 for totals only).\n");
	return 0;
}

/* One object's counters at two instants. */
struct sample {
	bool is_port;
	bool is_link;
	__u32 key;		/* router id or port slot */
	char name[XVR_NAME_LEN];
	struct xvr_counters a, b;
	__u64 cost_ns[2], cost_samples[2];	/* routers: sampled cost at a and b */
	double cpu_ns;		/* routers: estimated path time in the sample */
};

/* A router's frames past admission (its limits and its fair share). */
static __u64 admitted(const struct xvr_counters *c)
{
	return c->rx_packets - c->drop[XVR_DROP_POLICED] - c->drop[XVR_DROP_PUNT_POLICED] -
	       c->drop[XVR_DROP_SHED];
}

/*
 * Each router's path time in the sample, estimated as its admitted frames
 * times its sampled ns per frame (over the sample, or since it began if the
 * sample has too few); the CPU share is its part of all routers' time.
 */
static double cost_per_frame(const struct sample *s, bool totals)
{
	__u64 ns = s->cost_ns[1] - (totals ? 0 : s->cost_ns[0]);
	__u64 n = s->cost_samples[1] - (totals ? 0 : s->cost_samples[0]);

	if (!totals && n < 4)
		return cost_per_frame(s, true);
	return n ? (double)ns / n : 0;
}

static double shares_compute(struct sample *s, int cnt, bool totals)
{
	double sum = 0;

	for (int i = 0; i < cnt; i++) {
		if (s[i].is_port || s[i].is_link)
			continue;
		s[i].cpu_ns = cost_per_frame(&s[i], totals) *
			      (admitted(&s[i].b) - (totals ? 0 : admitted(&s[i].a)));
		sum += s[i].cpu_ns;
	}
	return sum;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void print_reasons(const char *key, const __u64 *v, int n,
			  const char *(*name)(unsigned int))
{
	print_open_object(key);
	for (int i = 0; i < n; i++) {
		const char *nm = name(i);

		if (!v[i] || !nm)
			continue;
		print_u64(nm, NULL, v[i]);
		print_text(" %s %llu", nm, (unsigned long long)v[i]);
	}
	print_close_object();
}

/*
 * The kernel's count of frames the port's device dropped on transmit, or
 * -1 if unknown. Not every drop is in it: a veth whose peer has no NAPI
 * drops redirected frames without counting them (port add warns of that).
 */
static long long dev_tx_dropped(const char *ifname)
{
	char path[128];
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/class/net/%s/statistics/tx_dropped", ifname);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%lld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

/*
 * Where a router's frames were handled, per CPU: received (and classified),
 * processed (booked forwarded, punted or dropped there), handed to a cpumap
 * (steered) and taken off one (arrived). CPUs with nothing are left out.
 */
static void cpu_rows_print(struct xvr_node *n, __u32 id)
{
	int ncpu = libbpf_num_possible_cpus();
	struct xvr_cpu_counters *cc = NULL;
	struct xvr_counters *vc = NULL;
	struct xvr_router r;
	char cpus[3 * XVR_MAX_BOUND_CPUS];

	if (router_get(n, id, &r))
		return;
	print_string("cpus", "  cpus %s", cpu_list_format(cpu_bound(n, id), cpus, sizeof(cpus)));
	print_u64("cpu_handoff_lost", " handoff lost %llu\n", cpu_handoff_lost(n, id));
	if (ncpu <= 0)
		return;
	cc = calloc(ncpu, sizeof(*cc));
	vc = calloc(ncpu, sizeof(*vc));
	if (!cc || !vc || cpu_counters_read(n, id, cc, ncpu) ||
	    bpf_map_lookup_elem(n->vr_stats_fd, &id, vc))
		goto out;
	print_open_array("per_cpu");
	for (int c = 0; c < ncpu; c++) {
		__u64 done = vc[c].fwd_packets + vc[c].punt_packets + vc[c].drop_packets;

		if (!vc[c].rx_packets && !done && !cc[c].steered_packets && !cc[c].arrived_packets)
			continue;
		print_open_object(NULL);
		print_u64("cpu", "  cpu %llu:", c);
		print_u64("rx_packets", " rx %llu", vc[c].rx_packets);
		print_u64("processed_packets", " processed %llu", done);
		print_u64("steered_packets", " steered %llu", cc[c].steered_packets);
		print_u64("arrived_packets", " arrived %llu\n", cc[c].arrived_packets);
		print_close_object();
	}
	print_close_array();
out:
	free(cc);
	free(vc);
}

static void sample_print(struct xvr_node *n, const struct sample *s, double dt, double cpu_sum)
{
	const struct xvr_counters *c = &s->b;
	double rate = 0, fwd_rate = 0, drop_rate = 0, bps = 0;

	if (dt > 0) {
		rate = (c->rx_packets - s->a.rx_packets) / dt;
		bps = (c->rx_bytes - s->a.rx_bytes) * 8 / dt;
		fwd_rate = (c->fwd_packets - s->a.fwd_packets) / dt;
		drop_rate = (c->drop_packets - s->a.drop_packets) / dt;
	}
	print_open_object(NULL);
	print_string(s->is_port ? "port" : s->is_link ? "link" : "router",
		     s->is_port ? "port %s\n" : s->is_link ? "link %s\n" : "router %s\n", s->name);
	print_u64("rx_packets", "  rx %llu pkts", c->rx_packets);
	print_u64("rx_bytes", " %llu bytes", c->rx_bytes);
	print_u64("fwd_packets", "  fwd %llu pkts", c->fwd_packets);
	print_u64("fwd_bytes", " %llu bytes\n", c->fwd_bytes);
	print_u64("punt_packets", "  punt %llu pkts", c->punt_packets);
	print_u64("punt_bytes", " %llu bytes", c->punt_bytes);
	print_u64("drop_packets", "  drop %llu pkts", c->drop_packets);
	print_u64("drop_bytes", " %llu bytes\n", c->drop_bytes);
	if (s->is_port) {
		print_u64("miss_packets", "  unclassified %llu pkts", c->miss_packets);
		print_u64("miss_bytes", " %llu bytes\n", c->miss_bytes);
		if (dev_tx_dropped(s->name) >= 0)
			print_u64("kernel_tx_dropped", "  kernel tx-dropped %llu pkts\n",
				  dev_tx_dropped(s->name));
	} else {
		print_u64("tx_packets", s->is_link ? "  encapsulated %llu pkts" :
			  "  sent by the router %llu pkts", c->tx_packets);
		print_u64("tx_bytes", " %llu bytes\n", c->tx_bytes);
		limit_print_brief(n, s->key);
		print_u64("weight", "  weight %llu", fair_weight(n, s->key));
		print_double("cost_ns", " cost %.1f ns/pkt", cost_per_frame(s, dt <= 0));
		print_u64("cost_samples", " (%llu samples)", s->cost_samples[1]);
		print_double("cpu_share", " cpu share %.3f", cpu_sum > 0 ? s->cpu_ns / cpu_sum : 0);
		print_u64("shed", " shed %llu pkts", c->drop[XVR_DROP_SHED]);
		print_u64("admission_pps", " admission %llu pps\n", fair_rate(n, s->key));
		if (!s->is_link)
			cpu_rows_print(n, s->key);
	}
	if (dt > 0) {
		print_double("rx_pps", "  rate rx %.0f pps", rate);
		print_double("rx_bps", " %.0f bit/s", bps);
		print_double("fwd_pps", " fwd %.0f pps", fwd_rate);
		print_double("drop_pps", " drop %.0f pps\n", drop_rate);
	}
	print_text("  punted:");
	print_reasons("punt", c->punt, XVR_PUNT_MAX, punt_reason_name);
	print_text("\n  dropped:");
	print_reasons("drop", c->drop, XVR_DROP_MAX, drop_reason_name);
	print_text("\n");
	print_close_object();
}

/* Collects the objects to show: one router, one port, or everything. */
static int samples_collect(struct xvr_node *n, const char *router, const char *port,
			   const char *link, struct sample **out, int *count)
{
	struct sample *s = calloc(XVR_MAX_ROUTERS + XVR_MAX_PORTS, sizeof(*s));
	__u32 key, next, *prev = NULL, id;
	struct xvr_router r;
	struct xvr_port p;
	int cnt = 0;

	if (!s)
		return -ENOMEM;
	if (link) {
		/* A link's counters: rx is what it decapsulated, tx what it sent. */
		if (link_stats_find(n, router, link, &id)) {
			free(s);
			return -ENOENT;
		}
		s[0].is_link = true;
		s[0].key = id;
		snprintf(s[0].name, XVR_NAME_LEN, "%s", link);
		*out = s;
		*count = 1;
		return 0;
	}
	if (router) {
		if (router_find(n, router, &id, &r)) {
			pr_warn("stats: router %s: no such router\n", router);
			free(s);
			return -ENOENT;
		}
		s[cnt].key = id;
		snprintf(s[cnt++].name, XVR_NAME_LEN, "%s", r.name);
	}
	for (id = 1; !router && !port && id < XVR_MAX_ROUTERS; id++) {
		if (router_get(n, id, &r))
			continue;
		s[cnt].key = id;
		snprintf(s[cnt++].name, XVR_NAME_LEN, "%s", r.name);
	}
	while (!router && !bpf_map_get_next_key(n->ports_fd, prev, &next)) {
		key = next;
		prev = &key;
		if (port_get(n, key, &p) || (port && strncmp(p.name, port, XVR_NAME_LEN)))
			continue;
		s[cnt].is_port = true;
		s[cnt].key = p.slot;
		snprintf(s[cnt++].name, XVR_NAME_LEN, "%s", p.name);
	}
	if (port && !cnt) {
		pr_warn("stats: %s is not a port of node %s\n", port, n->name);
		free(s);
		return -ENODEV;
	}
	*out = s;
	*count = cnt;
	return 0;
}

static void samples_read(struct xvr_node *n, struct sample *s, int cnt, bool second)
{
	for (int i = 0; i < cnt; i++) {
		struct xvr_counters *c = second ? &s[i].b : &s[i].a;
		__u64 lost;

		if (!s[i].is_port && !s[i].is_link)
			fair_cost_read(n, s[i].key, &s[i].cost_ns[second], &s[i].cost_samples[second]);
		counters_read(s[i].is_port ? n->port_stats_fd :
			      s[i].is_link ? n->vlink_stats_fd : n->vr_stats_fd, s[i].key, c);
		if (s[i].is_port || s[i].is_link)
			continue;
		/* What a bound router's cpumap queues lost: counted by no program. */
		lost = cpu_handoff_lost(n, s[i].key);
		c->drop_packets += lost;
		c->drop[XVR_DROP_CPU_HANDOFF] += lost;
	}
}

static int stats_run(int argc, char **argv, bool top)
{
	unsigned int seen = 0;	/* keywords given, for arg_once */
	const char *router = NULL, *port = NULL, *link = NULL;
	__u32 interval = top ? 1000 : 200;
	bool prometheus = false;
	struct sample *s;
	struct xvr_node n;
	double t0, t1, cpu_sum;
	int cnt, err;

	while (argc > 0) {
		if (arg_once(&seen, argv[0]))
			return -EINVAL;
		if (matches(argv[0], "interval")) {
			NEXT_ARG();
			if (parse_u32(argv[0], &interval, 3600 * 1000))
				return bad_arg("interval (ms)", argv[0]);
		} else if (!top && (!strcmp(argv[0], "--format") || matches(argv[0], "format"))) {
			NEXT_ARG();
			if (strcmp(argv[0], "prometheus"))
				return bad_arg("format (prometheus)", argv[0]);
			prometheus = true;
		} else if (!top && matches(argv[0], "port")) {
			NEXT_ARG();
			port = argv[0];
		} else if (!top && !router && !strcmp(argv[0], "link")) {
			NEXT_ARG();
			router = argv[0];
			NEXT_ARG();
			link = argv[0];
		} else if (!top && matches(argv[0], "help")) {
			return stats_help();
		} else if (!top && !router) {
			router = argv[0];
		} else {
			return unexpected_arg(argv[0]);
		}
		SHIFT_ARG();
	}
	if (prometheus) {
		if (router || port)
			return unexpected_arg(router ?: "port");
		return cli_dry_run ? CLI_DRY_RUN : stats_prometheus();
	}
	if (top && !interval)
		interval = 1000;
	err = cli_node_open(&n, false);
	if (err)
		return err;
	err = samples_collect(&n, router, port, link, &s, &cnt);
	if (err)
		goto out;
	samples_read(&n, s, cnt, false);
	t0 = now_s();
	do {
		if (interval)
			usleep(interval * 1000);
		samples_read(&n, s, cnt, true);
		t1 = now_s();
		/* Clear the screen only for a terminal, not for a pipe or a file. */
		if (top)
			print_text("%sxvr top: node %s, every %u ms (ctrl-c quits)\n\n",
				   isatty(STDOUT_FILENO) ? "\033[H\033[2J" : "", n.name, interval);
		print_open_array(NULL);
		cpu_sum = shares_compute(s, cnt, !interval);
		for (int i = 0; i < cnt; i++)
			sample_print(&n, &s[i], interval ? t1 - t0 : 0, cpu_sum);
		print_close_array();
		print_end();
		for (int i = 0; i < cnt; i++) {
			s[i].a = s[i].b;
			s[i].cost_ns[0] = s[i].cost_ns[1];
			s[i].cost_samples[0] = s[i].cost_samples[1];
		}
		t0 = t1;
	} while (top);
	free(s);
out:
	xvr_node_close(&n);
	return err;
}

int do_stats(int argc, char **argv)
{
	cli_object = "stats";
	return stats_run(argc, argv, false);
}

int do_top(int argc, char **argv)
{
	cli_object = "top";
	if (argc && matches(argv[0], "help"))
		return stats_help();
	return stats_run(argc, argv, true);
}
