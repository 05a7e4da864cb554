// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * xvr-sink: the benchmark's receiving end and its fixed-port baseline.
 *
 *   attach    loads bpf/tools/xvr_sink.bpf.c on a device (XDP, or tc ingress for
 *             skb traffic): counts and drops frames (-u: passes untagged
 *             ones to the stack), histograms one-way latency
 *   redirect  loads bpf/tools/xvr_redirect.bpf.c: every frame out of one port
 *   fibfwd    loads bpf/tools/xvr_fibfwd.bpf.c: forwarding on the kernel's
 *             FIB (bpf_fib_lookup in one routing table), the xdp_fwd peer
 *   read      prints the sink's counters
 *   reset     zeroes them
 *   detach    removes what attach/redirect/fibfwd pinned, which detaches it
 *
 * Programs are attached through bpf_link and the links are pinned under a
 * directory on bpffs, so they outlive this process and a benchmark's cleanup
 * is "rm -rf PINDIR" (or deleting the device). The tool enters a network
 * namespace itself (-N) instead of running under "ip netns exec", which
 * remounts /sys and so hides /sys/fs/bpf.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "xvr_sink.skel.h"
#include "netns.h"
#include "xvr_redirect.skel.h"
#include "xvr_fibfwd.skel.h"

/* Mirror of the histogram layout and struct sink_stats in bpf/tools/xvr_sink.bpf.c. */
#define SINK_LAT_SUB_BITS	4
#define SINK_LAT_SUB		(1 << SINK_LAT_SUB_BITS)
#define SINK_LAT_BUCKETS	512

struct sink_stats {
	__u64 packets;
	__u64 bytes;
	__u64 tagged_packets;
	__u64 tagged_bytes;
	__u64 seq_reorder;
	__u64 seq_gap;
	__u64 lat_samples;
	__u64 lat_sum_ns;
	__u64 lat_max_ns;
	__u32 last_seq;
	__u32 pad;
	__u64 lat_min_ns;
	__u64 lat_no_ts;
	__u64 lat_future;
	__u64 lat_stale;
	__u64 passed;
	__u64 match_packets;
	__u64 lat_hist[SINK_LAT_BUCKETS];
};

#define PIN_SINK_LINK		"sink_link"
#define PIN_SINK_STATS		"sink_stats"
#define PIN_REDIRECT_LINK	"redirect_link"
#define PIN_REDIRECT_PORT	"redirect_port"
#define PIN_FIBFWD_LINK		"fibfwd_link"
#define PIN_FIBFWD_PORTS	"fibfwd_ports"

static struct {
	const char *netns;
	bool json;
	bool percpu;
	bool pass_untagged;
	__be32 match_addr, match_mask;	/* -m: count tagged frames to this prefix apart */
	double interval;
	int verbose;
} opt;

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	stop_requested = 1;
}

static void pr_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void pr_err(const char *fmt, ...)
{
	va_list ap;

	fputs("xvr-sink: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	if (level == LIBBPF_DEBUG && opt.verbose < 2)
		return 0;
	if (level == LIBBPF_INFO && opt.verbose < 1)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/* mkdir -p on bpffs. */
static int make_dirs(const char *dir)
{
	char path[PATH_MAX];
	size_t len;

	len = snprintf(path, sizeof(path), "%s", dir);
	if (len >= sizeof(path))
		return -ENAMETOOLONG;
	for (char *p = path + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;

		*p = '\0';
		if (mkdir(path, 0700) && errno != EEXIST)
			return -errno;
		*p = c;
		if (!c)
			break;
	}
	return 0;
}

static int pin_path(char *buf, size_t len, const char *dir, const char *leaf)
{
	if ((size_t)snprintf(buf, len, "%s/%s", dir, leaf) >= len)
		return -ENAMETOOLONG;
	return 0;
}

static int dev_index(const char *dev)
{
	int ifindex = if_nametoindex(dev);

	if (!ifindex) {
		int err = -errno;

		pr_err("%s: %s%s%s\n", dev, strerror(-err),
		       opt.netns ? " in netns " : "", opt.netns ? opt.netns : "");
		return err;
	}
	return ifindex;
}

/* Pins link and map under dir; on failure removes what it pinned. */
static int pin_pair(struct bpf_link *link, const char *link_leaf,
		    struct bpf_map *map, const char *map_leaf, const char *dir)
{
	char lpath[PATH_MAX], mpath[PATH_MAX];
	int err;

	err = make_dirs(dir);
	if (err) {
		pr_err("%s: %s\n", dir, strerror(-err));
		return err;
	}
	err = pin_path(lpath, sizeof(lpath), dir, link_leaf) ?:
	      pin_path(mpath, sizeof(mpath), dir, map_leaf);
	if (err)
		return err;
	err = bpf_map__pin(map, mpath);
	if (err) {
		pr_err("%s: %s\n", mpath, strerror(-err));
		return err;
	}
	err = bpf_link__pin(link, lpath);
	if (err) {
		pr_err("%s: %s\n", lpath, strerror(-err));
		bpf_map__unpin(map, mpath);
		return err;
	}
	return 0;
}

/*
 * tc ingress (cls_bpf, direct action) on DEV's clsact qdisc. libbpf 1.1 has
 * no tc links, so only the map is pinned; the filter stays until "detach
 * PINDIR DEV" removes the qdisc, or the device goes.
 */
static int attach_tc(struct xvr_sink *skel, int ifindex, const char *dev,
		     const char *dir)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, tc_opts,
		    .prog_fd = bpf_program__fd(skel->progs.xvr_sink_tc));
	char mpath[PATH_MAX];
	int err;

	err = make_dirs(dir) ?: pin_path(mpath, sizeof(mpath), dir, PIN_SINK_STATS);
	if (err) {
		pr_err("%s: %s\n", dir, strerror(-err));
		return err;
	}
	err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST) {
		pr_err("%s: clsact qdisc: %s\n", dev, strerror(-err));
		return err;
	}
	err = bpf_tc_attach(&hook, &tc_opts);
	if (err) {
		pr_err("%s: attaching tc sink: %s\n", dev, strerror(-err));
		return err;
	}
	err = bpf_map__pin(skel->maps.sink_stats, mpath);
	if (err) {
		pr_err("%s: %s\n", mpath, strerror(-err));
		hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
		bpf_tc_hook_destroy(&hook);
	}
	return err;
}

static int do_attach(int argc, char **argv)
{
	struct xvr_sink *skel = NULL;
	struct bpf_link *link = NULL;
	bool tc = false;
	int ifindex, err;

	if (argc == 3 && !strcmp(argv[2], "tc"))
		tc = true;
	else if (argc == 3 && !strcmp(argv[2], "xdp"))
		tc = false;
	else if (argc != 2) {
		pr_err("usage: attach DEV PINDIR [xdp | tc]\n");
		return -EINVAL;
	}
	ifindex = dev_index(argv[0]);
	if (ifindex < 0)
		return ifindex;

	skel = xvr_sink__open();
	if (!skel) {
		err = -errno;
		pr_err("opening sink program: %s\n", strerror(-err));
		return err;
	}
	skel->rodata->sink_pass_untagged = opt.pass_untagged;
	skel->rodata->sink_match_daddr = opt.match_addr;
	skel->rodata->sink_match_mask = opt.match_mask;
	err = xvr_sink__load(skel);
	if (err) {
		pr_err("loading sink program: %s\n", strerror(-err));
		goto cleanup;
	}
	if (tc) {
		err = attach_tc(skel, ifindex, argv[0], argv[1]);
		goto cleanup;
	}
	link = bpf_program__attach_xdp(skel->progs.xvr_sink, ifindex);
	if (!link) {
		err = -errno;
		pr_err("%s: attaching sink: %s\n", argv[0], strerror(-err));
		goto cleanup;
	}
	err = pin_pair(link, PIN_SINK_LINK, skel->maps.sink_stats,
		       PIN_SINK_STATS, argv[1]);
cleanup:
	/* The pinned link keeps the program attached after we exit. */
	bpf_link__destroy(link);
	xvr_sink__destroy(skel);
	return err;
}

/* DEV and OUTDEV of the forwarding baselines, by name. */
static int two_devs(char **argv, int *ifindex, int *out_ifindex)
{
	*ifindex = dev_index(argv[0]);
	if (*ifindex < 0)
		return *ifindex;
	*out_ifindex = dev_index(argv[1]);
	return *out_ifindex < 0 ? *out_ifindex : 0;
}

/* Attaches prog to DEV (argv[0]) and pins the link and map under dir. */
static int attach_pinned(struct bpf_program *prog, int ifindex, const char *dev,
			 const char *link_leaf, struct bpf_map *map, const char *map_leaf,
			 const char *dir)
{
	struct bpf_link *link = bpf_program__attach_xdp(prog, ifindex);
	int err;

	if (!link) {
		err = -errno;
		pr_err("%s: attaching %s: %s\n", dev, bpf_program__name(prog), strerror(-err));
		return err;
	}
	err = pin_pair(link, link_leaf, map, map_leaf, dir);
	/* The pinned link keeps the program attached after we exit. */
	bpf_link__destroy(link);
	return err;
}

static int do_redirect(int argc, char **argv)
{
	struct xvr_redirect *skel;
	int ifindex, out_ifindex, err;
	__u32 key = 0, val;

	if (argc != 3) {
		pr_err("usage: redirect DEV OUTDEV PINDIR\n");
		return -EINVAL;
	}
	err = two_devs(argv, &ifindex, &out_ifindex);
	if (err)
		return err;
	skel = xvr_redirect__open_and_load();
	if (!skel) {
		err = -errno;
		pr_err("loading redirect program: %s\n", strerror(-err));
		return err;
	}
	val = out_ifindex;
	/* Fill the devmap before attaching, so no frame sees it empty. */
	if (bpf_map_update_elem(bpf_map__fd(skel->maps.redirect_port), &key, &val, BPF_ANY)) {
		err = -errno;
		pr_err("%s: redirect to %s: %s\n", argv[0], argv[1], strerror(-err));
	} else {
		err = attach_pinned(skel->progs.xvr_redirect, ifindex, argv[0], PIN_REDIRECT_LINK,
				    skel->maps.redirect_port, PIN_REDIRECT_PORT, argv[2]);
	}
	xvr_redirect__destroy(skel);
	return err;
}

/*
 * fibfwd DEV OUTDEV PINDIR TABLE: frames arriving on DEV are looked up in
 * the kernel's routing table TABLE and sent out of whichever of DEV and
 * OUTDEV the route names (the devmap holds both).
 */
static int do_fibfwd(int argc, char **argv)
{
	struct xvr_fibfwd *skel;
	int ifindex, out_ifindex, err, tables, ports;
	__u32 table;
	char *end;

	if (argc != 4) {
		pr_err("usage: fibfwd DEV OUTDEV PINDIR TABLE\n");
		return -EINVAL;
	}
	err = two_devs(argv, &ifindex, &out_ifindex);
	if (err)
		return err;
	errno = 0;
	table = strtoul(argv[3], &end, 0);
	if (errno || *end || !table) {
		pr_err("fibfwd: bad table id '%s'\n", argv[3]);
		return -EINVAL;
	}
	skel = xvr_fibfwd__open_and_load();
	if (!skel) {
		err = -errno;
		pr_err("loading fibfwd program: %s\n", strerror(-err));
		return err;
	}
	tables = bpf_map__fd(skel->maps.fibfwd_tables);
	ports = bpf_map__fd(skel->maps.fibfwd_ports);
	/* Maps first, so no frame finds them empty. */
	if (bpf_map_update_elem(tables, &ifindex, &table, BPF_ANY) ||
	    bpf_map_update_elem(ports, &ifindex, &ifindex, BPF_ANY) ||
	    bpf_map_update_elem(ports, &out_ifindex, &out_ifindex, BPF_ANY)) {
		err = -errno;
		pr_err("%s: fibfwd maps: %s\n", argv[0], strerror(-err));
	} else {
		err = attach_pinned(skel->progs.xvr_fibfwd, ifindex, argv[0], PIN_FIBFWD_LINK,
				    skel->maps.fibfwd_ports, PIN_FIBFWD_PORTS, argv[2]);
	}
	xvr_fibfwd__destroy(skel);
	return err;
}

/* 'CMD PINDIR': the pinned counters of the sink there; prints usage or what failed. */
static int open_stats(int argc, char **argv, const char *cmd)
{
	char path[PATH_MAX];
	const char *dir = argv[0];
	int fd, err;

	if (argc != 1) {
		pr_err("usage: %s PINDIR\n", cmd);
		return -EINVAL;
	}
	err = pin_path(path, sizeof(path), dir, PIN_SINK_STATS);
	if (err)
		return err;
	fd = bpf_obj_get(path);
	if (fd < 0) {
		err = -errno;
		pr_err("%s: %s\n", path, strerror(-err));
		return err;
	}
	return fd;
}

/* Sums the per-CPU values into *sum; fills percpu[] when not NULL. */
static int read_counters(int fd, struct sink_stats *sum,
			 struct sink_stats *percpu, int ncpu)
{
	struct sink_stats *vals = percpu;
	__u32 key = 0;
	int err = 0;

	if (!vals) {
		vals = calloc(ncpu, sizeof(*vals));
		if (!vals)
			return -ENOMEM;
	}
	memset(sum, 0, sizeof(*sum));
	if (bpf_map_lookup_elem(fd, &key, vals)) {
		err = -errno;
		goto out;
	}
	for (int i = 0; i < ncpu; i++) {
		sum->packets += vals[i].packets;
		sum->bytes += vals[i].bytes;
		sum->tagged_packets += vals[i].tagged_packets;
		sum->tagged_bytes += vals[i].tagged_bytes;
		sum->seq_reorder += vals[i].seq_reorder;
		sum->seq_gap += vals[i].seq_gap;
		sum->lat_samples += vals[i].lat_samples;
		sum->lat_sum_ns += vals[i].lat_sum_ns;
		if (vals[i].lat_max_ns > sum->lat_max_ns)
			sum->lat_max_ns = vals[i].lat_max_ns;
		if (vals[i].lat_min_ns && (!sum->lat_min_ns ||
					   vals[i].lat_min_ns < sum->lat_min_ns))
			sum->lat_min_ns = vals[i].lat_min_ns;
		sum->lat_no_ts += vals[i].lat_no_ts;
		sum->lat_future += vals[i].lat_future;
		sum->lat_stale += vals[i].lat_stale;
		sum->passed += vals[i].passed;
		sum->match_packets += vals[i].match_packets;
		for (int b = 0; b < SINK_LAT_BUCKETS; b++)
			sum->lat_hist[b] += vals[i].lat_hist[b];
	}
out:
	if (vals != percpu)
		free(vals);
	return err;
}

/* Lower bound (ns) of histogram bucket idx; the bucket is [lo(idx), lo(idx + 1)). */
static unsigned long long lat_bucket_lo(int idx)
{
	int e = idx / SINK_LAT_SUB, m = idx % SINK_LAT_SUB;

	if (e == 0)
		return idx;
	return (unsigned long long)(SINK_LAT_SUB + m) << (e - 1);
}

/*
 * The q-quantile (0 < q <= 1) of the histogram: the upper bound (exclusive)
 * of the bucket holding the ceil(q * n)-th sample, but not above the exact
 * maximum. 0 without samples.
 */
static unsigned long long lat_quantile(const struct sink_stats *s, double q)
{
	unsigned long long n = 0, rank, seen = 0, hi;

	for (int b = 0; b < SINK_LAT_BUCKETS; b++)
		n += s->lat_hist[b];
	if (!n)
		return 0;
	rank = (unsigned long long)(q * n);
	if (rank < q * n)
		rank++;
	if (rank < 1)
		rank = 1;
	for (int b = 0; b < SINK_LAT_BUCKETS; b++) {
		seen += s->lat_hist[b];
		if (seen >= rank) {
			hi = lat_bucket_lo(b + 1);
			return hi < s->lat_max_ns ? hi : s->lat_max_ns;
		}
	}
	return s->lat_max_ns;
}

static const struct {
	const char *name;
	double q;
} lat_quantiles[] = {
	{ "p50", 0.50 }, { "p90", 0.90 }, { "p99", 0.99 }, { "p999", 0.999 },
};

/* The latency object of the JSON output, or the text line. */
static void print_latency(const struct sink_stats *s)
{
	bool first = true;

	if (opt.json) {
		printf(",\"latency\":{\"samples\":%llu,\"min_ns\":%llu,",
		       (unsigned long long)s->lat_samples,
		       (unsigned long long)s->lat_min_ns);
		for (size_t i = 0; i < sizeof(lat_quantiles) / sizeof(lat_quantiles[0]); i++)
			printf("\"%s_ns\":%llu,", lat_quantiles[i].name,
			       lat_quantile(s, lat_quantiles[i].q));
		printf("\"max_ns\":%llu,\"no_timestamp\":%llu,"
		       "\"future_timestamp\":%llu,\"stale_timestamp\":%llu,"
		       "\"quantile_bound\":\"bucket upper bound\","
		       "\"sub_buckets_per_octave\":%d,\"histogram\":[",
		       (unsigned long long)s->lat_max_ns,
		       (unsigned long long)s->lat_no_ts,
		       (unsigned long long)s->lat_future,
		       (unsigned long long)s->lat_stale, SINK_LAT_SUB);
		for (int b = 0; b < SINK_LAT_BUCKETS; b++) {
			if (!s->lat_hist[b])
				continue;
			printf("%s[%llu,%llu,%llu]", first ? "" : ",",
			       lat_bucket_lo(b), lat_bucket_lo(b + 1),
			       (unsigned long long)s->lat_hist[b]);
			first = false;
		}
		printf("]}");
		return;
	}
	printf("  latency: %llu samples, min %llu", (unsigned long long)s->lat_samples,
	       (unsigned long long)s->lat_min_ns);
	for (size_t i = 0; i < sizeof(lat_quantiles) / sizeof(lat_quantiles[0]); i++)
		printf(" %s %llu", lat_quantiles[i].name,
		       lat_quantile(s, lat_quantiles[i].q));
	printf(" max %llu ns (percentiles: bucket upper bounds, %d per octave)\n",
	       (unsigned long long)s->lat_max_ns, SINK_LAT_SUB);
	printf("  unusable timestamps: %llu zero, %llu ahead of the clock, "
	       "%llu stale; %llu untagged frames passed to the stack\n",
	       (unsigned long long)s->lat_no_ts,
	       (unsigned long long)s->lat_future,
	       (unsigned long long)s->lat_stale,
	       (unsigned long long)s->passed);
}

static void print_counters(const struct sink_stats *s, int cpu, bool first)
{
	unsigned long long lat_avg = s->lat_samples ?
		s->lat_sum_ns / s->lat_samples : 0;

	if (opt.json) {
		printf("%s{", first ? "" : ",");
		if (cpu >= 0)
			printf("\"cpu\":%d,", cpu);
		printf("\"packets\":%llu,\"bytes\":%llu,\"tagged_packets\":%llu,"
		       "\"tagged_bytes\":%llu,\"seq_reorder\":%llu,"
		       "\"seq_gap\":%llu,\"lat_samples\":%llu,"
		       "\"lat_avg_ns\":%llu,\"lat_max_ns\":%llu,"
		       "\"passed\":%llu,\"match_packets\":%llu",
		       (unsigned long long)s->packets,
		       (unsigned long long)s->bytes,
		       (unsigned long long)s->tagged_packets,
		       (unsigned long long)s->tagged_bytes,
		       (unsigned long long)s->seq_reorder,
		       (unsigned long long)s->seq_gap,
		       (unsigned long long)s->lat_samples, lat_avg,
		       (unsigned long long)s->lat_max_ns,
		       (unsigned long long)s->passed,
		       (unsigned long long)s->match_packets);
		print_latency(s);
		printf("}");
		return;
	}
	if (cpu >= 0)
		printf("cpu %d: ", cpu);
	printf("packets %llu bytes %llu tagged %llu (%llu bytes, %llu matched) "
	       "reordered %llu gaps %llu latency avg %llu ns max %llu ns\n",
	       (unsigned long long)s->packets, (unsigned long long)s->bytes,
	       (unsigned long long)s->tagged_packets,
	       (unsigned long long)s->tagged_bytes,
	       (unsigned long long)s->match_packets,
	       (unsigned long long)s->seq_reorder,
	       (unsigned long long)s->seq_gap, lat_avg,
	       (unsigned long long)s->lat_max_ns);
	print_latency(s);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* -i SEC: one line per interval with the rates, until a signal. */
static int watch_counters(int fd, int ncpu)
{
	struct sink_stats prev, cur;
	double t_prev, t;
	int err;

	err = read_counters(fd, &prev, NULL, ncpu);
	if (err)
		return err;
	t_prev = now_s();
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	while (!stop_requested) {
		usleep((useconds_t)(opt.interval * 1e6));
		err = read_counters(fd, &cur, NULL, ncpu);
		if (err)
			return err;
		t = now_s();
		if (opt.json)
			printf("{\"t\":%.3f,\"pps\":%.0f,\"tagged_pps\":%.0f,\"packets\":%llu}\n",
			       t, (cur.packets - prev.packets) / (t - t_prev),
			       (cur.tagged_packets - prev.tagged_packets) / (t - t_prev),
			       (unsigned long long)cur.packets);
		else
			printf("%.0f pps (%.0f tagged), total %llu\n",
			       (cur.packets - prev.packets) / (t - t_prev),
			       (cur.tagged_packets - prev.tagged_packets) / (t - t_prev),
			       (unsigned long long)cur.packets);
		fflush(stdout);
		prev = cur;
		t_prev = t;
	}
	return 0;
}

static int do_read(int argc, char **argv)
{
	int ncpu = libbpf_num_possible_cpus();
	struct sink_stats sum, *percpu = NULL;
	int fd, err;

	if (ncpu < 0)
		return ncpu;
	fd = open_stats(argc, argv, "read");
	if (fd < 0)
		return fd;
	if (opt.interval > 0) {
		err = watch_counters(fd, ncpu);
		goto out;
	}
	percpu = calloc(ncpu, sizeof(*percpu));
	if (!percpu) {
		err = -ENOMEM;
		goto out;
	}
	err = read_counters(fd, &sum, percpu, ncpu);
	if (err) {
		pr_err("%s: reading counters: %s\n", argv[0], strerror(-err));
		goto out;
	}
	if (opt.percpu) {
		if (opt.json)
			printf("{\"total\":");
		print_counters(&sum, -1, true);
		if (opt.json)
			printf(",\"cpus\":[");
		for (int i = 0; i < ncpu; i++)
			print_counters(&percpu[i], i, i == 0);
		if (opt.json)
			printf("]}\n");
	} else {
		print_counters(&sum, -1, true);
		if (opt.json)
			printf("\n");
	}
out:
	free(percpu);
	close(fd);
	return err;
}

static int do_reset(int argc, char **argv)
{
	int ncpu = libbpf_num_possible_cpus();
	struct sink_stats *zero;
	__u32 key = 0;
	int fd, err = 0;

	if (ncpu < 0)
		return ncpu;
	fd = open_stats(argc, argv, "reset");
	if (fd < 0)
		return fd;
	zero = calloc(ncpu, sizeof(*zero));
	if (!zero)
		err = -ENOMEM;
	else if (bpf_map_update_elem(fd, &key, zero, BPF_ANY))
		err = -errno;
	if (err)
		pr_err("%s: resetting counters: %s\n", argv[0], strerror(-err));
	free(zero);
	close(fd);
	return err;
}

static int do_detach(int argc, char **argv)
{
	static const char *const leaves[] = {
		PIN_SINK_LINK, PIN_SINK_STATS, PIN_REDIRECT_LINK, PIN_REDIRECT_PORT,
		PIN_FIBFWD_LINK, PIN_FIBFWD_PORTS,
	};
	char path[PATH_MAX];
	int err = 0, found = 0;

	if (argc != 1 && argc != 2) {
		pr_err("usage: detach PINDIR [DEV]\n");
		return -EINVAL;
	}
	if (argc == 2) {
		/* DEV: also remove a tc sink, i.e. DEV's clsact qdisc. */
		LIBBPF_OPTS(bpf_tc_hook, hook,
			    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);
		int ifindex = dev_index(argv[1]);

		if (ifindex < 0)
			return ifindex;
		hook.ifindex = ifindex;
		/* No clsact qdisc there: the kernel says EINVAL ("Invalid handle"). */
		err = bpf_tc_hook_destroy(&hook);
		if (err && err != -ENOENT && err != -EINVAL)
			pr_err("%s: removing clsact qdisc: %s\n", argv[1],
			       strerror(-err));
		else
			err = 0;
		found++;
	}
	for (size_t i = 0; i < sizeof(leaves) / sizeof(leaves[0]); i++) {
		if (pin_path(path, sizeof(path), argv[0], leaves[i]))
			return -ENAMETOOLONG;
		if (!unlink(path)) {
			found++;
		} else if (errno != ENOENT) {
			err = -errno;
			pr_err("%s: %s\n", path, strerror(-err));
		}
	}
	if (!found && !err) {
		pr_err("%s: nothing pinned there\n", argv[0]);
		return -ENOENT;
	}
	rmdir(argv[0]);	/* only if empty: it may hold other pins */
	return err;
}

/* -m A.B.C.D/LEN into opt.match_addr/match_mask; 0 or -1. */
static int parse_match(const char *arg)
{
	char buf[32], *slash, *end;
	struct in_addr a;
	unsigned long len;

	if (snprintf(buf, sizeof(buf), "%s", arg) >= (int)sizeof(buf))
		return -1;
	slash = strchr(buf, '/');
	if (!slash)
		return -1;
	*slash = 0;
	len = strtoul(slash + 1, &end, 10);
	if (*end || end == slash + 1 || len < 1 || len > 32 || inet_pton(AF_INET, buf, &a) != 1)
		return -1;
	opt.match_mask = htonl(len == 32 ? 0xffffffffu : ~(0xffffffffu >> len));
	opt.match_addr = a.s_addr & opt.match_mask;
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: xvr-sink [OPTIONS] COMMAND ARGS\n"
"  attach DEV PINDIR [xdp|tc]   count and drop every frame arriving on DEV\n"
"                               (tc: at tc ingress, for skb traffic)\n"
"                               and histogram one-way latency\n"
"  redirect DEV OUTDEV PINDIR   baseline: redirect every frame from DEV to OUTDEV\n"
"  fibfwd DEV OUTDEV PINDIR TABLE\n"
"                               baseline: forward DEV's frames by the kernel's\n"
"                               routing table TABLE (bpf_fib_lookup)\n"
"  read PINDIR                  print the sink's counters\n"
"  reset PINDIR                 zero the sink's counters\n"
"  detach PINDIR [DEV]          unpin (and so detach) what attach/redirect/fibfwd\n"
"                               pinned; with DEV also remove a tc sink there\n"
"Options:\n"
"  -N, --netns NAME    find DEV in network namespace NAME\n"
"  -j, --json          JSON output\n"
"  -p, --per-cpu       read: per-CPU counters too\n"
"  -u, --pass-untagged attach: hand frames without the generator's tag to\n"
"                      the stack (ping beside a load) instead of dropping\n"
"  -i, --interval SEC  read: print rates every SEC seconds until a signal\n"
"  -m, --match A.B.C.D/LEN  attach: also count tagged IPv4 frames to this\n"
"                      prefix (match_packets): one flow of several\n"
"  -v, --verbose       more messages (twice: libbpf debug)\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "netns", required_argument, NULL, 'N' },
		{ "json", no_argument, NULL, 'j' },
		{ "per-cpu", no_argument, NULL, 'p' },
		{ "pass-untagged", no_argument, NULL, 'u' },
		{ "interval", required_argument, NULL, 'i' },
		{ "match", required_argument, NULL, 'm' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	static const struct {
		const char *name;
		int (*fn)(int argc, char **argv);
	} cmds[] = {
		{ "attach", do_attach },
		{ "redirect", do_redirect },
		{ "fibfwd", do_fibfwd },
		{ "read", do_read },
		{ "reset", do_reset },
		{ "detach", do_detach },
	};
	const char *cmd;
	int c, err;

	while ((c = getopt_long(argc, argv, "+N:jpui:m:vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'N':
			opt.netns = optarg;
			break;
		case 'j':
			opt.json = true;
			break;
		case 'p':
			opt.percpu = true;
			break;
		case 'u':
			opt.pass_untagged = true;
			break;
		case 'i': {
			char *end;

			opt.interval = strtod(optarg, &end);
			if (*end || !(opt.interval > 0)) {
				pr_err("invalid interval '%s'\n", optarg);
				return 2;
			}
			break;
		}
		case 'm':
			if (parse_match(optarg)) {
				pr_err("invalid match prefix '%s' (want A.B.C.D/LEN)\n", optarg);
				return 2;
			}
			break;
		case 'v':
			opt.verbose++;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	libbpf_set_print(libbpf_print);
	cmd = argv[optind++];

	if (opt.netns) {
		err = netns_enter(opt.netns);
		if (err) {
			pr_err("netns %s: %s\n", opt.netns, strerror(-err));
			return 1;
		}
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		size_t n = strlen(cmd);

		/* Prefix matching, as iproute2 does: "r" is ambiguous, "rea" is not. */
		if (n && !strncmp(cmd, cmds[i].name, n)) {
			for (size_t j = i + 1; j < sizeof(cmds) / sizeof(cmds[0]); j++) {
				if (!strncmp(cmd, cmds[j].name, n)) {
					pr_err("'%s' is ambiguous\n", cmd);
					return 2;
				}
			}
			err = cmds[i].fn(argc - optind, argv + optind);
			return err ? 1 : 0;
		}
	}
	pr_err("unknown command '%s'\n", cmd);
	usage(stderr);
	return 2;
}
