// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * xvr fair: the fair-sharing controller (docs/fair-sharing.md). Every
 * interval it reads the forwarding CPUs' busy time (/proc/stat), each
 * router's demand (frames received, less those over its limits) and sampled
 * cost (xvr_cost), and, while those CPUs are saturated, sets each router's
 * admission rate to its max-min fair share of CPU time by weight
 * (lib/fair.c); frames beyond it are shed at ingress. Not saturated, it
 * removes every admission rate.
 */
#include <dirent.h>
#include <fcntl.h>
#include <net/if.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include "xvr.h"
#include "fair.h"
#include "supervise.h"

#define FAIR_NAME		FAIR_SUPERVISE_NAME
#define FAIR_MAX_CPUS		1024
#define COST_MIN_SAMPLES	4	/* fewer in a tick: keep the last estimate */
#define COST_EWMA		0.3	/* weight of a tick's cost in the estimate */
/* a tick teaches the overhead with this many frames, CPUs half busy */
#define OVERHEAD_MIN_FRAMES	2000

static int fair_help(void)
{
	fprintf(stderr,
		"Usage: xvr fair run [interval MS] [cpus LIST] [threshold PCT] [target PCT]\n"
		"       xvr fair start [same options]   run it under supervision\n"
		"       xvr fair stop\n"
		"       xvr fair show\n"
		"       xvr fair set ROUTER rate { PPS | none }\n"
		"The controller shares the forwarding CPUs (cpus, default all, e.g. 1 or\n"
		"0,2-3) among routers by weight ('xvr router set R weight W') when they are\n"
		"more than threshold %% busy (default 90): every interval ms (default 150,\n"
		"50..2000) it sets each router's admission rate to its max-min fair share\n"
		"of target %% (default 100) of those CPUs' time, divided by the router's\n"
		"measured cost per frame; frames beyond it are dropped at ingress (shed).\n"
		"Only routers asking for more than their share get a rate (a router alone\n"
		"never does); what the shed frames cost comes off the shared time.\n"
		"'set' fixes a router's admission rate by hand (a running controller\n"
		"overwrites it). A rate lets 20 ms of itself (at least 3 jiffies, 32\n"
		"frames) through back to back: it runs on the coarse clock, bunched by tick.\n");
	return 0;
}

struct fair_opts {
	__u32 interval_ms;
	__u32 threshold;	/* percent */
	__u32 target;		/* percent */
	bool cpus[FAIR_MAX_CPUS];
	bool all_cpus;
};

/* "1", "0,2-3": into set; -EINVAL if malformed or a CPU is out of range. */
static int parse_cpus(const char *s, bool *set)
{
	char *end;

	do {
		unsigned long a, b;

		if (*s < '0' || *s > '9')
			return -EINVAL;
		a = b = strtoul(s, &end, 10);
		if (*end == '-') {
			s = end + 1;
			if (*s < '0' || *s > '9')
				return -EINVAL;
			b = strtoul(s, &end, 10);
		}
		if (a > b || b >= FAIR_MAX_CPUS)
			return -EINVAL;
		for (unsigned long c = a; c <= b; c++)
			set[c] = true;
		s = end;
	} while (*s == ',' && *++s);
	return *s ? -EINVAL : 0;
}

static int parse_opts(int argc, char **argv, struct fair_opts *o)
{
	unsigned int seen = 0;

	memset(o, 0, sizeof(*o));
	o->interval_ms = 150;
	o->threshold = 90;
	o->target = 100;
	o->all_cpus = true;
	while (argc > 0) {
		if (arg_once(&seen, argv[0]))
			return -EINVAL;
		if (matches(argv[0], "interval")) {
			NEXT_ARG();
			if (parse_u32(argv[0], &o->interval_ms, 2000) || o->interval_ms < 50)
				return bad_arg("interval (50..2000 ms)", argv[0]);
		} else if (matches(argv[0], "cpus")) {
			NEXT_ARG();
			if (parse_cpus(argv[0], o->cpus))
				return bad_arg("cpus (a list like 1 or 0,2-3)", argv[0]);
			o->all_cpus = false;
		} else if (matches(argv[0], "threshold")) {
			NEXT_ARG();
			if (parse_u32(argv[0], &o->threshold, 100) || o->threshold < 10)
				return bad_arg("threshold (10..100 %)", argv[0]);
		} else if (matches(argv[0], "target")) {
			NEXT_ARG();
			if (parse_u32(argv[0], &o->target, 100) || o->target < 10)
				return bad_arg("target (10..100 %)", argv[0]);
		} else {
			return unexpected_arg(argv[0]);
		}
		SHIFT_ARG();
	}
	return 0;
}

/* ---- the controller ---- */

/*
 * Busy (system, irq, softirq), forwarding (irq, softirq and the forwarding
 * kernel threads, fwd_threads) and available (all but steal) time, in ticks.
 */
struct cpu_times {
	unsigned long long busy, fwd, avail;
	int cpus;
};

static bool watched(const struct fair_opts *o, int cpu)
{
	return cpu >= 0 && cpu < FAIR_MAX_CPUS && (o->all_cpus || o->cpus[cpu]);
}

static int read_cpu_times(const struct fair_opts *o, struct cpu_times *t)
{
	char line[512];
	FILE *f = fopen("/proc/stat", "re");

	memset(t, 0, sizeof(*t));
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long v[8] = {};
		int cpu;

		if (strncmp(line, "cpu", 3) || line[3] < '0' || line[3] > '9')
			continue;
		if (sscanf(line + 3, "%d %llu %llu %llu %llu %llu %llu %llu %llu", &cpu, &v[0],
			   &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) < 9)
			continue;
		if (!watched(o, cpu))
			continue;
		/* user nice system idle iowait irq softirq steal */
		t->busy += v[2] + v[5] + v[6];
		t->fwd += v[5] + v[6];
		t->avail += v[0] + v[1] + v[2] + v[3] + v[4] + v[5] + v[6];
		t->cpus++;
	}
	fclose(f);
	return t->cpus ? 0 : -ENOENT;
}

/*
 * The kernel threads that forward outside softirq: threaded NAPI
 * ("napi/DEV-ID") and the cpumap threads ("cpumap/CPU/map:ID"). Their time
 * is system time in /proc/stat, where every other task's system time is
 * too: a tenant's syscalls or another job on the forwarding CPUs would
 * count as forwarding, and the overhead per frame learnt from it would
 * make every router look dearer than it is (and shed routers under
 * capacity). Found by name among kernel threads only (PF_KTHREAD: a
 * process cannot take the name to be counted), looked up again every
 * FWD_RESCAN ticks; a thread's time counts for the CPU it last ran on.
 */
#define FWD_MAX		4096
#define FWD_RESCAN	10
#define PF_KTHREAD_FLAG	0x00200000

struct fwd_thread {
	int pid;
	unsigned long long ticks;	/* utime + stime, last read */
};

struct fwd_threads {
	struct fwd_thread t[FWD_MAX];
	int count, age;
	unsigned long long sum;		/* ticks on the watched CPUs, running */
};

/* Of /proc/PID/stat: utime + stime, the last CPU and the flags; -1 if gone. */
static int thread_stat(int pid, unsigned long long *ticks, int *cpu, unsigned long *flags)
{
	char path[64], buf[1024], *p;
	unsigned long long ut = 0, st = 0;
	int fd, len, field = 3;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len <= 0)
		return -1;
	buf[len] = '\0';
	p = strrchr(buf, ')');
	if (!p)
		return -1;
	*cpu = -1;
	for (p = strtok(p + 1, " "); p; p = strtok(NULL, " "), field++) {
		if (field == 9)
			*flags = strtoul(p, NULL, 10);
		else if (field == 14)
			ut = strtoull(p, NULL, 10);
		else if (field == 15)
			st = strtoull(p, NULL, 10);
		else if (field == 39) {
			*cpu = atoi(p);
			break;
		}
	}
	*ticks = ut + st;
	return *cpu < 0 ? -1 : 0;
}

static bool forwarding_name(int pid)
{
	char path[64], comm[32] = "";
	int fd, len;

	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	len = read(fd, comm, sizeof(comm) - 1);
	close(fd);
	if (len <= 0)
		return false;
	comm[len] = '\0';
	return !strncmp(comm, "napi/", 5) || !strncmp(comm, "cpumap/", 7);
}

static void fwd_rescan(struct fwd_threads *f)
{
	struct fwd_thread old[FWD_MAX];
	int n = f->count, found = 0;
	struct dirent *d;
	DIR *dir;

	dir = opendir("/proc");
	if (!dir)
		return;
	memcpy(old, f->t, n * sizeof(old[0]));
	while ((d = readdir(dir)) && found < FWD_MAX) {
		unsigned long flags = 0;
		unsigned long long ticks;
		int pid = atoi(d->d_name), cpu;

		if (pid <= 2 || !forwarding_name(pid) ||
		    thread_stat(pid, &ticks, &cpu, &flags) || !(flags & PF_KTHREAD_FLAG))
			continue;
		/* a thread known before keeps its last reading: no time lost */
		f->t[found] = (struct fwd_thread){ .pid = pid, .ticks = ticks };
		for (int i = 0; i < n; i++)
			if (old[i].pid == pid)
				f->t[found].ticks = old[i].ticks;
		found++;
	}
	closedir(dir);
	f->count = found;
}

/* Adds the forwarding threads' ticks since the last call to f->sum. */
static void fwd_update(struct fwd_threads *f, const struct fair_opts *o)
{
	if (f->age-- <= 0) {
		fwd_rescan(f);
		f->age = FWD_RESCAN;
	}
	for (int i = 0; i < f->count; i++) {
		unsigned long flags = 0;
		unsigned long long ticks;
		int cpu;

		if (thread_stat(f->t[i].pid, &ticks, &cpu, &flags) || ticks < f->t[i].ticks) {
			f->t[i] = f->t[--f->count];	/* gone, or a new pid */
			i--;
			continue;
		}
		if (watched(o, cpu))
			f->sum += ticks - f->t[i].ticks;
		f->t[i].ticks = ticks;
	}
}

/*
 * Frames the node's ports lost before XDP ran (a full ring, missed by the
 * card): rx_dropped, rx_missed_errors and rx_fifo_errors of every port.
 * On veth a frame the peer could not put on the port's ring is in its
 * rx_dropped.
 */
static __u64 ports_lost(struct xvr_node *n)
{
	static const char *const names[] = { "rx_dropped", "rx_missed_errors", "rx_fifo_errors" };
	__u32 key, *prev = NULL;
	__u64 sum = 0;

	while (!bpf_map_get_next_key(n->ports_fd, prev, &key)) {
		char ifname[IF_NAMESIZE], path[128];

		prev = &key;
		if (!if_indextoname(key, ifname))
			continue;
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			unsigned long long v = 0;
			FILE *f;

			snprintf(path, sizeof(path), "/sys/class/net/%s/statistics/%s", ifname,
				 names[i]);
			f = fopen(path, "re");
			if (!f)
				continue;
			if (fscanf(f, "%llu", &v) == 1)
				sum += v;
			fclose(f);
		}
	}
	return sum;
}

/* What the controller keeps of each router between ticks. */
struct fair_track {
	bool seen;
	__u64 demand, admitted, cost_ns, samples;	/* last counters */
	double path_ns;					/* estimate, EWMA */
};

struct controller {
	struct xvr_node n;
	struct fair_opts o;
	struct fair_track t[XVR_MAX_ROUTERS];
	struct fair_status st;
	struct cpu_times cpu;
	struct fwd_threads threads;
	double last_s;
	double overhead;	/* ns per frame outside the paths, EWMA */
	__u64 lost;		/* frames the ports lost before XDP, last count */
	bool saturated;
};

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The node lock if free now: the controller never waits for a command. */
static bool try_lock(struct xvr_node *n)
{
	char path[PATH_MAX];
	struct stat a, b;
	int fd;

	xvr_node_lock_path(path, sizeof(path), n->name);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return false;
	if (flock(fd, LOCK_EX | LOCK_NB) || fstat(fd, &a) || stat(path, &b) ||
	    a.st_ino != b.st_ino) {
		close(fd);
		return false;
	}
	n->lock_fd = fd;
	return true;
}

static void unlock(struct xvr_node *n)
{
	if (n->lock_fd >= 0)
		close(n->lock_fd);
	n->lock_fd = -1;
}

/*
 * Writes the routers' rates (0: none) that differ from the map's (also one
 * set by hand meanwhile): every router slot with all, else the routers the
 * last scan found. False if the node was busy.
 */
static bool write_rates(struct controller *c, const __u64 *rates, bool all)
{
	if (!try_lock(&c->n))
		return false;
	for (__u32 id = 1; id < XVR_MAX_ROUTERS; id++)
		if (all || c->t[id].seen)
			fair_rate_set(&c->n, id, rates[id]);
	unlock(&c->n);
	return true;
}

static double ewma(double old, double v)
{
	return old ? (1 - COST_EWMA) * old + COST_EWMA * v : v;
}

static void tick(struct controller *c)
{
	static struct fair_claim claims[XVR_MAX_ROUTERS];
	static __u32 ids[XVR_MAX_ROUTERS];
	static __u64 rates[XVR_MAX_ROUTERS];
	struct fair_status *st = &c->st;
	struct cpu_times now;
	double t = mono_s(), dt = t - c->last_s, busy_ns, fwd_ns, avail_ns, path_sum = 0;
	double rx_sum = 0, want = 0, capacity, scale = 1, lost_pps, shed_ns;
	long hz = sysconf(_SC_CLK_TCK);
	bool first = !c->last_s;
	struct timespec rt;
	int cnt = 0, asking = 0;
	__u64 lost;

	if (read_cpu_times(&c->o, &now))
		return;
	fwd_update(&c->threads, &c->o);
	now.fwd += c->threads.sum;
	lost = ports_lost(&c->n);
	busy_ns = (now.busy - c->cpu.busy) * 1e9 / hz / (first ? 1 : dt);
	fwd_ns = (now.fwd - c->cpu.fwd) * 1e9 / hz / (first ? 1 : dt);
	avail_ns = (now.avail - c->cpu.avail) * 1e9 / hz / (first ? 1 : dt);
	lost_pps = first || lost < c->lost ? 0 : (lost - c->lost) / dt;
	c->cpu = now;
	c->lost = lost;
	c->last_s = t;
	/* the header, but for the controller's running counts */
	st->time_s = st->busy = st->forwarding = st->capacity_ns = st->overhead_ns = 0;
	for (__u32 id = 1; id < XVR_MAX_ROUTERS; id++) {
		struct fair_track *tr = &c->t[id];
		struct fair_status_router *sr;
		struct xvr_counters k;
		struct xvr_router r;
		__u64 demand, admitted, ns, samples;

		if (router_get(&c->n, id, &r) || counters_read(c->n.vr_stats_fd, id, &k) ||
		    fair_cost_read(&c->n, id, &ns, &samples)) {
			tr->seen = false;
			continue;
		}
		demand = k.rx_packets - k.drop[XVR_DROP_POLICED] - k.drop[XVR_DROP_PUNT_POLICED];
		admitted = demand - k.drop[XVR_DROP_SHED];
		if (tr->seen && !first) {
			double path = samples - tr->samples >= COST_MIN_SAMPLES ?
				      (double)(ns - tr->cost_ns) / (samples - tr->samples) : 0;

			if (path > 0)
				tr->path_ns = ewma(tr->path_ns, path);
			sr = &st->r[cnt];
			memset(sr, 0, sizeof(*sr));
			ids[cnt] = id;
			sr->id = id;
			sr->weight = fair_weight(&c->n, id);
			snprintf(sr->name, sizeof(sr->name), "%s", r.name);
			sr->demand_pps = (demand - tr->demand) / dt;
			sr->admitted_pps = (admitted - tr->admitted) / dt;
			sr->path_ns = tr->path_ns;
			path_sum += sr->admitted_pps * tr->path_ns;
			rx_sum += sr->demand_pps;
			asking += sr->demand_pps > 0;
			cnt++;
		}
		tr->seen = true;
		tr->demand = demand;
		tr->admitted = admitted;
		tr->cost_ns = ns;
		tr->samples = samples;
	}
	if (first)
		return;
	/*
	 * What the forwarding CPUs spent beyond the sampled paths (driver,
	 * parsing, classification, transmit or drop), per frame that reached
	 * XDP, shed or not: each router's cost is its own path plus this, and
	 * a shed frame costs this alone (on veth, dropping a frame costs about
	 * as much as forwarding a cheap one). Learnt in every interval with
	 * enough frames and the CPUs at least half busy, so an estimate a
	 * noisy interval spoilt is put right by the next: an earlier version
	 * learnt it only while nothing was shed and kept it while shedding,
	 * where one bad estimate held the node at a tenth of its capacity.
	 * Dividing by every frame, not the admitted ones, keeps the shed
	 * frames' time from raising the admitted ones' cost.
	 */
	if (rx_sum * dt >= OVERHEAD_MIN_FRAMES && fwd_ns > path_sum &&
	    fwd_ns >= 0.5 * avail_ns)
		c->overhead = ewma(c->overhead, (fwd_ns - path_sum) / rx_sum);
	shed_ns = c->overhead;
	/*
	 * What the routers were sent: what reached XDP, and the frames the
	 * ports lost before it, shared among the routers as they arrive (a
	 * full ring refuses frames blindly).
	 */
	if (rx_sum > 0)
		scale += lost_pps / rx_sum;
	for (int i = 0; i < cnt; i++) {
		struct fair_status_router *sr = &st->r[i];

		claims[i] = (struct fair_claim){
			.weight = sr->weight,
			.demand_pps = sr->demand_pps * scale,
			.arrival_pps = sr->demand_pps,
			.cost_ns = sr->path_ns > 0 ? sr->path_ns + c->overhead : 0,
		};
		sr->cost_ns = claims[i].cost_ns;
		want += claims[i].demand_pps * claims[i].cost_ns;
		sr->share = fwd_ns > 0 ? sr->admitted_pps * sr->cost_ns / fwd_ns : 0;
	}
	st->cpus = now.cpus;
	st->busy = avail_ns > 0 ? busy_ns / avail_ns : 0;
	st->forwarding = avail_ns > 0 ? fwd_ns / avail_ns : 0;
	st->capacity_ns = avail_ns * c->o.target / 100;
	st->overhead_ns = c->overhead;
	st->shed_ns = shed_ns;
	st->lost_pps = lost_pps;
	/*
	 * Saturated: the CPUs are busier than the threshold; and while shedding,
	 * until the demand, at its measured cost, fits into the target again.
	 */
	if (st->busy * 100 >= c->o.threshold)
		c->saturated = true;
	else if (c->saturated && want < st->capacity_ns * 0.95)
		c->saturated = false;
	st->saturated = c->saturated;
	capacity = st->capacity_ns;
	st->ticks++;
	st->saturated_ticks += c->saturated;
	memset(rates, 0, sizeof(rates));
	/*
	 * A router alone has nobody to be unfair to: shedding its frames only
	 * costs what is left of the node. With two or more, only those asking
	 * for more than their share get a rate (fair_allocate).
	 */
	if (c->saturated && asking >= 2 && fair_allocate(claims, cnt, capacity, shed_ns) >= 0) {
		for (int i = 0; i < cnt; i++) {
			rates[ids[i]] = claims[i].rate_pps > 0 ? (__u64)claims[i].rate_pps + 1 : 0;
			st->r[i].rate_pps = rates[ids[i]];
			st->r[i].capped = claims[i].capped;
		}
	}
	if (!write_rates(c, rates, false))
		pr_debug("fair: node busy, rates unchanged this time\n");
	st->count = cnt;
	clock_gettime(CLOCK_REALTIME, &rt);
	st->time_s = rt.tv_sec + rt.tv_nsec / 1e9;
	fair_status_write(c->n.name, st);
}

static int fair_run(int argc, char **argv)
{
	static struct controller c;
	static const __u64 none[XVR_MAX_ROUTERS];
	struct sigaction sa = { .sa_handler = on_signal };
	struct cpu_times probe;
	struct timespec next;
	int err;

	err = parse_opts(argc, argv, &c.o);
	if (err)
		return err;
	if (read_cpu_times(&c.o, &probe)) {
		pr_warn("fair: none of the cpus given is in /proc/stat\n");
		return -EINVAL;
	}
	err = cli_node_open(&c.n, false);
	if (err)
		return err;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	/* Start from no admission: rates written before are no one's now. */
	while (!write_rates(&c, none, true) && !stop_signal)
		usleep(10000);
	pr_info("fair: node %s, %d cpus, every %u ms, threshold %u%%, target %u%%\n", c.n.name,
		probe.cpus, c.o.interval_ms, c.o.threshold, c.o.target);
	/*
	 * Ticks on a fixed beat (absolute deadlines): a tick's own work, or a
	 * CPU shared with others, does not stretch the interval; a beat missed
	 * altogether is skipped, not run twice.
	 */
	clock_gettime(CLOCK_MONOTONIC, &next);
	while (!stop_signal) {
		struct timespec now;

		tick(&c);
		next.tv_nsec += (long)c.o.interval_ms * 1000000;
		while (next.tv_nsec >= 1000000000) {
			next.tv_nsec -= 1000000000;
			next.tv_sec++;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec > next.tv_sec ||
		    (now.tv_sec == next.tv_sec && now.tv_nsec > next.tv_nsec))
			next = now;
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
	}
	/* Leaving: nobody is shed without a controller watching. */
	for (int tries = 0; tries < 50 && !write_rates(&c, none, true); tries++)
		usleep(10000);
	pr_info("fair: %s, admission removed, exiting\n", strsignal(stop_signal));
	xvr_node_close(&c.n);
	return 0;
}

static int fair_start(int argc, char **argv)
{
	struct fair_opts o;
	char exe[PATH_MAX];
	const char *av[32];
	ssize_t len;
	int c = 0, err;

	err = parse_opts(argc, argv, &o);
	if (err)
		return err;
	if (argc > 16)
		return unexpected_arg(argv[16]);
	len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (len < 0)
		return -errno;
	exe[len] = '\0';
	av[c++] = exe;
	av[c++] = "-n";
	av[c++] = xvr_node_name(cli_node);
	if (xvr_verbose)
		av[c++] = "-v";
	av[c++] = "fair";
	av[c++] = "run";
	for (int i = 0; i < argc; i++)
		av[c++] = argv[i];
	av[c] = NULL;
	if (cli_dry_run)
		return CLI_DRY_RUN;
	err = supervise_start(xvr_node_name(cli_node), FAIR_NAME, (char *const *)av);
	if (err == -EEXIST)
		pr_warn("fair: the controller runs already ('xvr fair stop' first)\n");
	else if (err)
		pr_warn("fair: cannot start the controller: %s\n", strerror(-err));
	return err;
}

static int fair_stop_cmd(int argc, char **argv)
{

	if (argc)
		return unexpected_arg(argv[0]);
	if (cli_dry_run)
		return CLI_DRY_RUN;
	if (supervise_pid(xvr_node_name(cli_node), FAIR_NAME) < 0) {
		pr_warn("fair: the controller does not run\n");
		return -ENOENT;
	}
	fair_stop(xvr_node_name(cli_node));
	return 0;
}

static int fair_show(int argc, char **argv)
{
	static struct fair_status st;
	struct timespec rt;
	struct xvr_node n;
	int err, pid;

	err = cli_show_open(argc, argv, &n);
	if (err)
		return err;
	pid = supervise_child(n.name, FAIR_NAME);
	err = fair_status_read(n.name, &st);
	clock_gettime(CLOCK_REALTIME, &rt);
	print_open_object(NULL);
	print_bool("supervised", NULL, supervise_pid(n.name, FAIR_NAME) > 0);
	print_u64("pid", "controller pid %llu", pid > 0 ? pid : 0);
	if (err) {
		print_bool("status", "  no status yet\n", false);
		print_close_object();
		return cli_show_close(&n);
	}
	print_double("age_s", "  status %.1f s old\n", rt.tv_sec + rt.tv_nsec / 1e9 - st.time_s);
	print_bool("saturated", "  saturated %s", st.saturated);
	print_u64("ticks", " (%llu", st.ticks);
	print_u64("saturated_ticks", " ticks, %llu of them saturated)", st.saturated_ticks);
	print_double("busy", "  busy %.3f", st.busy);
	print_u64("cpus", " of %llu cpus", st.cpus);
	print_double("forwarding", " (forwarding %.3f)", st.forwarding);
	print_double("capacity_ns", "  capacity %.0f ns/s", st.capacity_ns);
	print_double("overhead_ns", "  overhead %.1f ns/frame", st.overhead_ns);
	print_double("shed_ns", "  shed %.1f ns/frame", st.shed_ns);
	print_double("lost_pps", "  lost at the ports %.0f pps\n", st.lost_pps);
	print_open_array("routers");
	for (int i = 0; i < st.count; i++) {
		const struct fair_status_router *r = &st.r[i];

		print_open_object(NULL);
		print_string("router", "  %-16s", r->name);
		print_u64("weight", " weight %-4llu", r->weight);
		print_double("demand_pps", " demand %.0f pps", r->demand_pps);
		print_double("admitted_pps", " admitted %.0f pps", r->admitted_pps);
		print_double("path_ns", " path %.1f ns", r->path_ns);
		print_double("cost_ns", " cost %.1f ns", r->cost_ns);
		print_double("share", " share %.3f", r->share);
		print_double("rate_pps", " rate %.0f", r->rate_pps);
		print_bool("capped", r->capped ? " capped\n" : "\n", r->capped);
		print_close_object();
	}
	print_close_array();
	print_close_object();
	return cli_show_close(&n);
}

static int fair_set(int argc, char **argv)
{
	struct xvr_node n;
	__u32 id, pps = 0;
	int err;

	if (argc != 3 || !matches(argv[1], "rate"))
		return argc > 3 ? unexpected_arg(argv[3]) : (fair_help(), -EINVAL);
	if (strcmp(argv[2], "none") && (parse_u32(argv[2], &pps, XVR_LIMIT_MAX_PPS) || !pps))
		return bad_arg("rate (frames per second, 1..1000000000, or none)", argv[2]);
	err = cli_node_open(&n, true);
	if (err)
		return err;
	err = router_find(&n, argv[0], &id, NULL);
	if (err)
		pr_warn("fair %s: no such router\n", argv[0]);
	else if ((err = fair_rate_set(&n, id, pps)))
		pr_warn("fair %s: %s\n", argv[0], strerror(-err));
	xvr_node_close(&n);
	return err;
}

int do_fair(int argc, char **argv)
{
	static const struct cmd cmds[] = {
		{ "run", fair_run },
		{ "start", fair_start },
		{ "stop", fair_stop_cmd },
		{ "show", fair_show },
		{ "set", fair_set },
		{ NULL, NULL },
	};

	return cmd_dispatch("fair", cmds, argc, argv, fair_help);
}
