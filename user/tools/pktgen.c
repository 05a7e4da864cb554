// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * xvr-pktgen: UDP/IPv4 (or IPv6) traffic generator built on
 * BPF_PROG_TEST_RUN with BPF_F_TEST_XDP_LIVE_FRAMES. The kernel runs
 * bpf/tools/xvr_pktgen.bpf.c on batches of page-pool frames "received" on DEV; the
 * program rewrites each frame and returns XDP_TX, which sends it out of DEV
 * into the veth's peer. No socket, no skb: one core reaches several Mpps.
 *
 * Frames injected this way are not delivered to a kernel stack by XDP_PASS
 * on the receiver, so kernel-forwarding baselines need a socket generator
 * (scripts/bench.sh uses trafgen for those).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
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
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/ethtool.h>
#include <linux/if_ether.h>
#include <linux/sockios.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#define PKTGEN_TMPL_LEN		64

/*
 * Mirrors of the BPF side's types (bpf/tools/xvr_pktgen.bpf.c). bpftool 7.1's
 * skeleton names the type of a global but does not define it.
 */
struct pktgen_template {
	__u8 hdr[PKTGEN_TMPL_LEN];
	__u32 ip4_csum_base;
	__u32 udp6_csum_base;
};

struct pktgen_stats {
	__u64 seq;
	__u64 tx_packets;
	__u64 tx_bytes;
	__u64 idle;
	__u64 start_ns;
	__u64 next_fp;
};

struct pktgen_dst {
	__u8 addr[16];
	__u8 mac[6];
	__u8 has_mac;
	__u8 pad;
};

#include "xvr_pktgen.skel.h"
#include "common.h"
#include "netns.h"

#define PKTGEN_MAGIC		0x78767270	/* "xvrp", see bpf/tools/xvr_pktgen.bpf.c */
#define PKTGEN_HDR4_LEN		42
#define PKTGEN_HDR6_LEN		62
#define PKTGEN_PAYLOAD_LEN	16		/* magic, seq, timestamp */
#define PKTGEN_FCS_LEN		4
#define PKTGEN_MAX_FRAME	1518		/* with FCS: 1500-byte MTU */
#define PKTGEN_MAX_BATCH	256		/* kernel limit of batch_size */
#define PKTGEN_MAX_DSTS		(16u << 20)

struct pktgen_opts {
	const char *dev;
	const char *netns;
	const char *dst_file;
	int family;		/* AF_INET or AF_INET6 */
	__u8 src_mac[6];
	__u8 dst_mac[6];
	bool have_src_mac, have_dst_mac;
	__u8 src_ip[16];
	__u8 dst_ip[16];
	const char *src_ip_str, *dst_ip_str;
	__u16 sport, dport;
	__u32 flows;
	__u32 size;		/* Ethernet frame with FCS, as in RFC 2544 */
	__u64 count;
	double duration;
	__u64 rate;		/* frames per second, 0 = as fast as possible */
	int cpu;
	__u32 batch;
	double interval;
	bool json;
	int verbose;
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	stop_requested = 1;
}

static int verbose;

static void pr_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void pr_err(const char *fmt, ...)
{
	va_list ap;

	fputs("xvr-pktgen: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	if (level == LIBBPF_DEBUG && verbose < 2)
		return 0;
	if (level == LIBBPF_INFO && verbose < 1)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int parse_mac_str(const char *s, __u8 mac[6])
{
	unsigned int b[6];
	char tail;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3],
		   &b[4], &b[5], &tail) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		mac[i] = b[i];
	return 0;
}

static int parse_u64_str(const char *s, __u64 *v, __u64 max)
{
	unsigned long long x;
	char *end;

	if (!*s || *s == '-')
		return -EINVAL;
	errno = 0;
	x = strtoull(s, &end, 0);
	/* Accept k/M/G suffixes: rates and counts read better as 2M. */
	if (*end == 'k' || *end == 'K')
		x *= 1000, end++;
	else if (*end == 'M')
		x *= 1000000, end++;
	else if (*end == 'G')
		x *= 1000000000, end++;
	if (errno || *end || x > max)
		return -EINVAL;
	*v = x;
	return 0;
}

static int parse_seconds(const char *s, double *v)
{
	char *end;

	errno = 0;
	*v = strtod(s, &end);
	if (errno || *end || end == s || !(*v >= 0) || isinf(*v))
		return -EINVAL;
	return 0;
}

/*
 * The device's own count of XDP frames it transmitted and failed to
 * (veth: tx_queue_N_xdp_xmit and _xdp_xmit_errors, summed). A live-frame
 * XDP_TX whose redirect fails is freed without trace (the veth peer has no
 * XDP program and no NAPI, say); comparing these with the program's count
 * finds that. -EOPNOTSUPP if the driver has no such counters.
 */
static int dev_xmit_counters(const char *dev, __u64 *xmit, __u64 *errors)
{
	struct ethtool_sset_info *sset = NULL;
	struct ethtool_gstrings *strings = NULL;
	struct ethtool_stats *stats = NULL;
	bool found = false;
	int err = 0;
	__u32 n;

	sset = calloc(1, sizeof(*sset) + sizeof(__u32));
	if (!sset) {
		err = -ENOMEM;
		goto out;
	}
	sset->cmd = ETHTOOL_GSSET_INFO;
	sset->sset_mask = 1ull << ETH_SS_STATS;
	if (if_ethtool(dev, sset) || !sset->sset_mask) {
		err = -EOPNOTSUPP;
		goto out;
	}
	n = sset->data[0];
	strings = calloc(1, sizeof(*strings) + (size_t)n * ETH_GSTRING_LEN);
	stats = calloc(1, sizeof(*stats) + (size_t)n * sizeof(__u64));
	if (!strings || !stats) {
		err = -ENOMEM;
		goto out;
	}
	strings->cmd = ETHTOOL_GSTRINGS;
	strings->string_set = ETH_SS_STATS;
	strings->len = n;
	err = if_ethtool(dev, strings);
	if (err)
		goto out;
	stats->cmd = ETHTOOL_GSTATS;
	stats->n_stats = n;
	err = if_ethtool(dev, stats);
	if (err)
		goto out;
	*xmit = *errors = 0;
	for (__u32 i = 0; i < n; i++) {
		const char *name = (const char *)strings->data + i * ETH_GSTRING_LEN;
		const char *suffix;

		if (strncmp(name, "tx_queue_", 9))
			continue;
		suffix = strchr(name + 9, '_');
		if (!suffix)
			continue;
		if (!strncmp(suffix, "_xdp_xmit", ETH_GSTRING_LEN - (suffix - name))) {
			*xmit += stats->data[i];
			found = true;
		} else if (!strncmp(suffix, "_xdp_xmit_errors",
				    ETH_GSTRING_LEN - (suffix - name))) {
			*errors += stats->data[i];
		}
	}
	if (!found)
		err = -EOPNOTSUPP;
out:
	free(sset);
	free(strings);
	free(stats);
	return err;
}

/* One's-complement sum of 16-bit words in memory order (len even). */
static __u32 csum_add(__u32 sum, const void *buf, size_t len)
{
	const __u8 *p = buf;

	for (size_t i = 0; i + 1 < len; i += 2) {
		__u16 w;

		memcpy(&w, p + i, 2);	/* buf may be any type: no aliasing */
		sum += w;
	}
	return sum;
}

static __u16 csum_fold32(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)sum;
}

/*
 * Writes the frame test-run copies into every page and the template the
 * program copies into every frame. Checksum bases leave out the fields the
 * program varies (daddr; for IPv6 also sport, seq and timestamp).
 */
static void build_frame(const struct pktgen_opts *o, __u8 *frame, __u32 len,
			struct pktgen_template *tmpl)
{
	struct ethhdr *eth = (void *)frame;
	__u32 magic = htonl(PKTGEN_MAGIC);

	memset(frame, 0, len);
	memcpy(eth->h_dest, o->dst_mac, 6);
	memcpy(eth->h_source, o->src_mac, 6);

	if (o->family == AF_INET) {
		__u8 *ip = frame + ETH_HLEN, *udp = ip + 20;
		__u16 tot_len = htons(len - ETH_HLEN);
		__u16 udp_len = htons(len - ETH_HLEN - 20);
		__u16 w;

		eth->h_proto = htons(ETH_P_IP);
		ip[0] = 0x45;
		memcpy(ip + 2, &tot_len, 2);
		w = htons(0x4000);	/* DF: never fragmented on the way */
		memcpy(ip + 6, &w, 2);
		ip[8] = 64;
		ip[9] = 17;
		memcpy(ip + 12, o->src_ip, 4);
		/* daddr left zero for the base, set below */
		w = htons(o->sport);
		memcpy(udp, &w, 2);
		w = htons(o->dport);
		memcpy(udp + 2, &w, 2);
		memcpy(udp + 4, &udp_len, 2);
		memcpy(udp + 8, &magic, 4);
		tmpl->ip4_csum_base = csum_add(0, ip, 20);
		memcpy(ip + 16, o->dst_ip, 4);
		w = ~csum_fold32(csum_add(0, ip, 20));
		memcpy(ip + 10, &w, 2);
	} else {
		__u8 *ip6 = frame + ETH_HLEN, *udp = ip6 + 40;
		__u16 udp_len = htons(len - ETH_HLEN - 40);
		__u32 plen32 = htonl(len - ETH_HLEN - 40), nh32 = htonl(17);
		__u32 sum = 0;
		__u16 w;

		eth->h_proto = htons(ETH_P_IPV6);
		ip6[0] = 0x60;
		memcpy(ip6 + 4, &udp_len, 2);
		ip6[6] = 17;
		ip6[7] = 64;
		memcpy(ip6 + 8, o->src_ip, 16);
		w = htons(o->dport);
		memcpy(udp + 2, &w, 2);
		memcpy(udp + 4, &udp_len, 2);
		memcpy(udp + 8, &magic, 4);
		/* pseudo-header without daddr; UDP header without sport */
		sum = csum_add(sum, o->src_ip, 16);
		sum = csum_add(sum, &plen32, 4);
		sum = csum_add(sum, &nh32, 4);
		sum = csum_add(sum, udp, len - ETH_HLEN - 40);
		tmpl->udp6_csum_base = sum;
		memcpy(ip6 + 24, o->dst_ip, 16);
		w = htons(o->sport);
		memcpy(udp, &w, 2);
		/* The frame in data_in needs no checksum: the program rewrites it. */
	}
	memcpy(tmpl->hdr, frame, o->family == AF_INET ? PKTGEN_HDR4_LEN :
							 PKTGEN_HDR6_LEN);
}

/*
 * Reads FILE into dsts; returns count. A line holds an address and,
 * optionally, the destination MAC for it ('#' starts a comment).
 */
static int read_dst_file(const char *path, int family, struct pktgen_dst **out)
{
	struct pktgen_dst *dsts = NULL;
	size_t n = 0, cap = 0, lineno = 0;
	char *line = NULL;
	size_t linecap = 0;
	int err = 0;
	FILE *f;

	f = fopen(path, "r");
	if (!f)
		return -errno;
	while (getline(&line, &linecap, f) > 0) {
		char *s = line, *e, *m = NULL, *me;

		lineno++;
		line[strcspn(line, "#\r\n")] = '\0';
		s += strspn(s, " \t");
		e = s + strcspn(s, " \t");
		if (e == s)
			continue;
		if (*e) {
			*e = '\0';
			m = e + 1 + strspn(e + 1, " \t");
			me = m + strcspn(m, " \t");
			if (*me && me[strspn(me, " \t")]) {
				pr_err("%s:%zu: want ADDRESS [MAC]\n", path, lineno);
				err = -EINVAL;
				goto out;
			}
			*me = '\0';
			if (!*m)
				m = NULL;
		}
		if (n == cap) {
			struct pktgen_dst *nd;

			cap = cap ? cap * 2 : 4096;
			nd = realloc(dsts, cap * sizeof(*dsts));
			if (!nd) {
				err = -ENOMEM;
				goto out;
			}
			dsts = nd;
		}
		memset(&dsts[n], 0, sizeof(dsts[n]));
		if (inet_pton(family, s, dsts[n].addr) != 1) {
			pr_err("%s:%zu: '%s' is not an IPv%d address\n", path,
			       lineno, s, family == AF_INET ? 4 : 6);
			err = -EINVAL;
			goto out;
		}
		if (m) {
			if (parse_mac_str(m, dsts[n].mac)) {
				pr_err("%s:%zu: '%s' is not a MAC address\n", path, lineno, m);
				err = -EINVAL;
				goto out;
			}
			dsts[n].has_mac = 1;
		}
		if (++n > PKTGEN_MAX_DSTS) {
			pr_err("%s: more than %u addresses\n", path,
			       PKTGEN_MAX_DSTS);
			err = -E2BIG;
			goto out;
		}
	}
	if (!n) {
		pr_err("%s: no addresses\n", path);
		err = -EINVAL;
	}
out:
	free(line);
	fclose(f);
	if (err) {
		free(dsts);
		return err;
	}
	*out = dsts;
	return n;
}

static int read_stats(int map_fd, struct pktgen_stats *sum)
{
	int ncpu = libbpf_num_possible_cpus();
	struct pktgen_stats *vals;
	__u32 key = 0;
	int err = 0;

	if (ncpu < 0)
		return ncpu;
	vals = calloc(ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	memset(sum, 0, sizeof(*sum));
	if (bpf_map_lookup_elem(map_fd, &key, vals)) {
		err = -errno;
		goto out;
	}
	for (int i = 0; i < ncpu; i++) {
		sum->tx_packets += vals[i].tx_packets;
		sum->tx_bytes += vals[i].tx_bytes;
		sum->idle += vals[i].idle;
	}
out:
	free(vals);
	return err;
}

/*
 * The generator thread makes one long BPF_PROG_TEST_RUN call (each call
 * costs ~25 ms of page-pool setup and teardown); this watcher decides when
 * the run is over (duration, count at a set rate, SIGINT) and interrupts the
 * call with SIGUSR1, which the kernel checks between batches. It repeats
 * the signal until the generator confirms, in case one lands between calls.
 */
struct pktgen_run {
	const struct pktgen_opts *o;
	int stats_fd;
	pthread_t generator;
	volatile bool generator_done;	/* generator -> watcher */
	volatile bool stopping;		/* watcher -> generator */
	double start, stop;	/* CLOCK_MONOTONIC seconds */
};

static void on_wakeup(int sig)
{
}

static void *watch_run(void *arg)
{
	struct pktgen_run *run = arg;
	const struct pktgen_opts *o = run->o;
	double next_report = run->start + o->interval, t;
	__u64 last_sent = 0;

	while (!run->generator_done) {
		struct pktgen_stats st;

		usleep(run->stopping ? 1000 : 2000);
		t = now_s();
		if (run->stopping) {
			pthread_kill(run->generator, SIGUSR1);
			continue;
		}
		if (o->interval > 0 && t >= next_report &&
		    !read_stats(run->stats_fd, &st)) {
			fprintf(stderr, "xvr-pktgen: %.1f s: %llu sent, %.0f pps\n",
				t - run->start, (unsigned long long)st.tx_packets,
				(st.tx_packets - last_sent) / o->interval);
			last_sent = st.tx_packets;
			next_report += o->interval;
		}
		if (stop_requested ||
		    (o->duration > 0 && t - run->start >= o->duration) ||
		    (o->count && o->rate && !read_stats(run->stats_fd, &st) &&
		     st.tx_packets >= o->count)) {
			run->stop = t;
			run->stopping = true;
			pthread_kill(run->generator, SIGUSR1);
		}
	}
	return NULL;
}

/*
 * Sends until the duration, the count or a signal. Without a rate and with
 * a count, the call's repeat is the count and the run ends by itself;
 * otherwise repeat is "forever" and the watcher interrupts it.
 */
static int generate(const struct pktgen_opts *o, int prog_fd, int stats_fd,
		    const __u8 *frame, __u32 frame_len, int ifindex,
		    double *elapsed)
{
	struct xdp_md ctx_in = { .data_end = frame_len, .ingress_ifindex = ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		    .data_in = frame,
		    .data_size_in = frame_len,
		    .ctx_in = &ctx_in,
		    .ctx_size_in = sizeof(ctx_in),
		    .flags = BPF_F_TEST_XDP_LIVE_FRAMES,
		    .batch_size = o->batch);
	struct pktgen_run run = { .o = o, .stats_fd = stats_fd };
	struct sigaction sa = { .sa_handler = on_wakeup };	/* no SA_RESTART */
	__u64 remaining = o->count;
	pthread_t watcher;
	int err = 0, policy;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	run.generator = pthread_self();
	run.start = now_s();
	err = pthread_create(&watcher, NULL, watch_run, &run);
	if (err) {
		pr_err("starting watcher thread: %s\n", strerror(err));
		return -err;
	}
	/*
	 * Under a real-time policy (chrt -f) the generator never yields the
	 * CPU to an equal-priority thread; the watcher, which sleeps nearly
	 * all the time, must outrank it or the run never ends.
	 */
	policy = sched_getscheduler(0);
	if (policy == SCHED_FIFO || policy == SCHED_RR) {
		struct sched_param sp;

		sched_getparam(0, &sp);
		if (sp.sched_priority < sched_get_priority_max(policy))
			sp.sched_priority++;
		err = pthread_setschedparam(watcher, policy, &sp);
		if (err) {
			pr_err("raising watcher priority: %s\n", strerror(err));
			stop_requested = 1;
			run.generator_done = true;
			pthread_join(watcher, NULL);
			return -err;
		}
	}

	while (!stop_requested && !run.stopping) {
		bool counted = o->count && !o->rate;

		opts.repeat = UINT32_MAX;
		if (counted && remaining < UINT32_MAX)
			opts.repeat = remaining;
		err = bpf_prog_test_run_opts(prog_fd, &opts);
		if (err) {
			err = -errno;
			if (err == -EINTR) {	/* the watcher: stop, keep the count */
				err = 0;
				break;
			}
			pr_err("%s: test run: %s\n", o->dev, strerror(-err));
			break;
		}
		if (counted) {
			remaining -= opts.repeat;
			if (!remaining)
				break;
		}
	}
	if (!run.stop)
		run.stop = now_s();
	run.generator_done = true;
	pthread_join(watcher, NULL);
	*elapsed = run.stop - run.start;
	return err;
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: xvr-pktgen [OPTIONS] DEV\n"
"Sends UDP frames out of DEV (into its veth peer) with XDP live frames.\n"
"\n"
"  -N, --netns NAME      run in network namespace NAME (or a netns path)\n"
"  -s, --src-mac MAC     source MAC (default: DEV's)\n"
"  -d, --dst-mac MAC     destination MAC (required)\n"
"  -S, --src-ip ADDR     source address (default 198.18.0.1 / 2001:db8::1)\n"
"  -D, --dst-ip ADDR     destination address (default 198.19.0.1 / 2001:db8:1::1)\n"
"  -f, --dst-file FILE   destinations, one address per line, used in turn;\n"
"                        an address may be followed by its destination MAC\n"
"  -F, --flows N         vary the UDP source port over N values (default 1)\n"
"      --sport PORT      UDP source port, first of the flows (default 9)\n"
"      --dport PORT      UDP destination port (default 9)\n"
"  -l, --size BYTES      frame size with FCS, RFC 2544 style (default 64;\n"
"                        the device sees BYTES-4)\n"
"  -n, --count N         stop after N frames\n"
"  -t, --duration SEC    stop after SEC seconds (default 5 unless -n)\n"
"  -r, --rate PPS        frames per second (default 0: as fast as possible)\n"
"  -c, --cpu N           run on CPU N (default: the CPU it starts on)\n"
"  -b, --batch N         frames per test-run batch, 1..256 (default 64)\n"
"  -i, --interval SEC    print progress every SEC seconds\n"
"  -6, --ipv6            send IPv6\n"
"  -j, --json            print the result as JSON\n"
"  -v, --verbose         more messages (twice: libbpf debug)\n"
"  -h, --help\n"
"Suffixes k, M, G multiply counts and rates by 10^3, 10^6, 10^9.\n");
}

static int parse_args(int argc, char **argv, struct pktgen_opts *o)
{
	static const struct option longopts[] = {
		{ "netns", required_argument, NULL, 'N' },
		{ "src-mac", required_argument, NULL, 's' },
		{ "dst-mac", required_argument, NULL, 'd' },
		{ "src-ip", required_argument, NULL, 'S' },
		{ "dst-ip", required_argument, NULL, 'D' },
		{ "dst-file", required_argument, NULL, 'f' },
		{ "flows", required_argument, NULL, 'F' },
		{ "sport", required_argument, NULL, 1 },
		{ "dport", required_argument, NULL, 2 },
		{ "size", required_argument, NULL, 'l' },
		{ "count", required_argument, NULL, 'n' },
		{ "duration", required_argument, NULL, 't' },
		{ "rate", required_argument, NULL, 'r' },
		{ "cpu", required_argument, NULL, 'c' },
		{ "batch", required_argument, NULL, 'b' },
		{ "interval", required_argument, NULL, 'i' },
		{ "ipv6", no_argument, NULL, '6' },
		{ "json", no_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	bool have_duration = false;
	__u64 v;
	int c;

	o->family = AF_INET;
	o->sport = 9;
	o->dport = 9;
	o->flows = 1;
	o->size = 64;
	o->cpu = -1;
	o->batch = 64;

	while ((c = getopt_long(argc, argv, "N:s:d:S:D:f:F:l:n:t:r:c:b:i:6jvh",
				longopts, NULL)) != -1) {
		switch (c) {
		case 'N':
			o->netns = optarg;
			break;
		case 's':
			if (parse_mac_str(optarg, o->src_mac))
				goto bad;
			o->have_src_mac = true;
			break;
		case 'd':
			if (parse_mac_str(optarg, o->dst_mac))
				goto bad;
			o->have_dst_mac = true;
			break;
		case 'S':
			o->src_ip_str = optarg;
			break;
		case 'D':
			o->dst_ip_str = optarg;
			break;
		case 'f':
			o->dst_file = optarg;
			break;
		case 'F':
			if (parse_u64_str(optarg, &v, 65536) || !v)
				goto bad;
			o->flows = v;
			break;
		case 1:
		case 2:
			if (parse_u64_str(optarg, &v, 65535))
				goto bad;
			if (c == 1)
				o->sport = v;
			else
				o->dport = v;
			break;
		case 'l':
			if (parse_u64_str(optarg, &v, PKTGEN_MAX_FRAME))
				goto bad;
			o->size = v;
			break;
		case 'n':
			if (parse_u64_str(optarg, &v, ~0ull))
				goto bad;
			o->count = v;
			break;
		case 't':
			if (parse_seconds(optarg, &o->duration))
				goto bad;
			have_duration = true;
			break;
		case 'r':
			if (parse_u64_str(optarg, &v, 1000000000ull))
				goto bad;
			o->rate = v;
			break;
		case 'c':
			if (parse_u64_str(optarg, &v, CPU_SETSIZE - 1))
				goto bad;
			o->cpu = v;
			break;
		case 'b':
			if (parse_u64_str(optarg, &v, PKTGEN_MAX_BATCH) || !v)
				goto bad;
			o->batch = v;
			break;
		case 'i':
			if (parse_seconds(optarg, &o->interval))
				goto bad;
			break;
		case '6':
			o->family = AF_INET6;
			break;
		case 'j':
			o->json = true;
			break;
		case 'v':
			o->verbose++;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return -EINVAL;
	}
	o->dev = argv[optind];
	if (!have_duration && !o->count)
		o->duration = 5;
	if (!o->have_dst_mac) {
		pr_err("%s: no destination MAC (-d MAC, usually the peer's)\n",
		       o->dev);
		return -EINVAL;
	}
	if ((__u32)o->sport + o->flows - 1 > 65535) {
		pr_err("sport %u + %u flows passes port 65535\n", o->sport,
		       o->flows);
		return -EINVAL;
	}
	if (!o->src_ip_str)
		o->src_ip_str = o->family == AF_INET ? "198.18.0.1" : "2001:db8::1";
	if (!o->dst_ip_str)
		o->dst_ip_str = o->family == AF_INET ? "198.19.0.1" : "2001:db8:1::1";
	if (inet_pton(o->family, o->src_ip_str, o->src_ip) != 1) {
		pr_err("source address '%s' is not IPv%d\n", o->src_ip_str,
		       o->family == AF_INET ? 4 : 6);
		return -EINVAL;
	}
	if (inet_pton(o->family, o->dst_ip_str, o->dst_ip) != 1) {
		pr_err("destination address '%s' is not IPv%d\n", o->dst_ip_str,
		       o->family == AF_INET ? 4 : 6);
		return -EINVAL;
	}
	{
		__u32 min = (o->family == AF_INET ? PKTGEN_HDR4_LEN : PKTGEN_HDR6_LEN) +
			    PKTGEN_PAYLOAD_LEN + PKTGEN_FCS_LEN;

		if (o->size < min) {
			pr_err("frame size %u: IPv%d frames need at least %u bytes\n",
			       o->size, o->family == AF_INET ? 4 : 6, min);
			return -EINVAL;
		}
	}
	return 0;
bad:
	pr_err("invalid argument for -%c: '%s'\n", c > 32 ? c : '-', optarg);
	return -EINVAL;
}

struct xmit_check {
	bool valid;		/* the device has xdp_xmit counters */
	__u64 xmit, errors;	/* deltas over the run */
};

static void print_result(const struct pktgen_opts *o,
			 const struct pktgen_stats *st, double elapsed,
			 int ndsts, const struct xmit_check *xc)
{
	double pps = elapsed > 0 ? st->tx_packets / elapsed : 0;
	double mbps = elapsed > 0 ? (st->tx_bytes + st->tx_packets * 24.0) * 8 /
					    elapsed / 1e6 : 0;

	if (o->json) {
		printf("{\"device\":\"%s\",\"netns\":\"%s\",\"family\":%d,"
		       "\"frame_size\":%u,\"sent\":%llu,\"bytes\":%llu,"
		       "\"duration_s\":%.6f,\"pps\":%.0f,\"rate_target\":%llu,"
		       "\"flows\":%u,\"destinations\":%d,\"cpu\":%d,\"batch\":%u",
		       o->dev, o->netns ? o->netns : "",
		       o->family == AF_INET ? 4 : 6, o->size,
		       (unsigned long long)st->tx_packets,
		       (unsigned long long)st->tx_bytes, elapsed, pps,
		       (unsigned long long)o->rate, o->flows, ndsts, o->cpu,
		       o->batch);
		if (xc->valid)
			printf(",\"dev_xdp_xmit\":%llu,\"dev_xdp_xmit_errors\":%llu",
			       (unsigned long long)xc->xmit,
			       (unsigned long long)xc->errors);
		printf("}\n");
		return;
	}
	/* Line rate counts preamble, SFD, FCS and gap: 24 bytes a frame. */
	printf("%s: sent %llu frames (%llu bytes on the device) in %.3f s: "
	       "%.0f pps, %.1f Mbit/s at line level\n",
	       o->dev, (unsigned long long)st->tx_packets,
	       (unsigned long long)st->tx_bytes, elapsed, pps, mbps);
	if (xc->valid)
		printf("%s: device transmitted %llu, its peer's ring refused %llu\n",
		       o->dev, (unsigned long long)xc->xmit,
		       (unsigned long long)xc->errors);
}

int main(int argc, char **argv)
{
	struct pktgen_opts o = {};
	struct xvr_pktgen *skel = NULL;
	struct pktgen_dst *dsts = NULL;
	struct pktgen_template tmpl = {};
	struct pktgen_stats st = {};
	struct xmit_check xc = {};
	__u64 xmit0 = 0, xerr0 = 0;
	__u8 frame[PKTGEN_MAX_FRAME];
	double elapsed = 0;
	int ndsts = 0, ifindex, err;
	__u32 frame_len;

	err = parse_args(argc, argv, &o);
	if (err)
		return 2;
	verbose = o.verbose;
	libbpf_set_print(libbpf_print);

	if (o.netns) {
		err = netns_enter(o.netns);
		if (err) {
			pr_err("netns %s: %s\n", o.netns, strerror(-err));
			return 1;
		}
	}
	ifindex = if_nametoindex(o.dev);
	if (!ifindex) {
		pr_err("%s: %s\n", o.dev, strerror(errno));
		return 1;
	}
	if (!o.have_src_mac) {
		err = if_mac(o.dev, o.src_mac);
		if (err) {
			pr_err("%s: reading MAC: %s\n", o.dev, strerror(-err));
			return 1;
		}
	}
	/*
	 * Always run on one CPU: the program's pacing state and frame limit
	 * are per CPU, so a thread that migrates would break both.
	 */
	if (o.cpu < 0)
		o.cpu = sched_getcpu();
	err = cpu_pin(o.cpu);
	if (err) {
		pr_err("CPU %d: %s\n", o.cpu, strerror(-err));
		return 1;
	}
	if (o.dst_file) {
		ndsts = read_dst_file(o.dst_file, o.family, &dsts);
		if (ndsts < 0) {
			if (ndsts != -EINVAL && ndsts != -E2BIG)
				pr_err("%s: %s\n", o.dst_file, strerror(-ndsts));
			return 1;
		}
	}

	frame_len = o.size - PKTGEN_FCS_LEN;
	build_frame(&o, frame, frame_len, &tmpl);

	skel = xvr_pktgen__open();
	if (!skel) {
		err = -errno;
		pr_err("opening BPF object: %s\n", strerror(-err));
		goto cleanup;
	}
	skel->rodata->pktgen_family = o.family == AF_INET ? 4 : 6;
	skel->rodata->pktgen_nr_flows = o.flows;
	skel->rodata->pktgen_nr_dsts = ndsts;
	skel->rodata->pktgen_sport = o.sport;
	skel->rodata->pktgen_limit = o.count;
	if (o.rate)
		skel->rodata->pktgen_gap_fp = (1000000000ull << 10) / o.rate;
	err = bpf_map__set_max_entries(skel->maps.pktgen_dsts, ndsts ? ndsts : 1);
	if (err) {
		pr_err("sizing pktgen_dsts: %s\n", strerror(-err));
		goto cleanup;
	}
	err = xvr_pktgen__load(skel);
	if (err) {
		pr_err("loading BPF program: %s\n", strerror(-err));
		goto cleanup;
	}
	skel->bss->pktgen_tmpl = tmpl;
	for (int i = 0; i < ndsts; i++) {
		__u32 key = i;

		err = bpf_map_update_elem(bpf_map__fd(skel->maps.pktgen_dsts),
					  &key, &dsts[i], BPF_ANY);
		if (err) {
			err = -errno;
			pr_err("pktgen_dsts[%d]: %s\n", i, strerror(-err));
			goto cleanup;
		}
	}

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	xc.valid = !dev_xmit_counters(o.dev, &xmit0, &xerr0);
	err = generate(&o, bpf_program__fd(skel->progs.xvr_pktgen),
		       bpf_map__fd(skel->maps.pktgen_stats), frame, frame_len,
		       ifindex, &elapsed);
	if (xc.valid && !dev_xmit_counters(o.dev, &xc.xmit, &xc.errors)) {
		xc.xmit -= xmit0;
		xc.errors -= xerr0;
	} else {
		xc.valid = false;
	}
	/* Print what was sent even after an error: the frames are out. */
	if (read_stats(bpf_map__fd(skel->maps.pktgen_stats), &st)) {
		pr_err("reading counters failed\n");
		goto cleanup;
	}
	print_result(&o, &st, elapsed, ndsts, &xc);
	if (xc.valid && xc.xmit + xc.errors < st.tx_packets)
		pr_err("%s: %llu of %llu frames never reached the device's transmit "
		       "path: does its peer run XDP or NAPI (GRO, threaded)?\n",
		       o.dev,
		       (unsigned long long)(st.tx_packets - xc.xmit - xc.errors),
		       (unsigned long long)st.tx_packets);

cleanup:
	xvr_pktgen__destroy(skel);
	free(dsts);
	return err ? 1 : 0;
}
