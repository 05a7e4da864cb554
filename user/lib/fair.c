// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Fair sharing: the controller's arithmetic and its maps (lib/fair.h). */
#include <errno.h>
#include <math.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "common.h"
#include "fair.h"
#include "supervise.h"

#define NS_PER_S	1000000000ull

/* Water filling of capacity_ns by weight; fills cpu_ns and capped. */
static double fill(struct fair_claim *c, int n, double capacity_ns, bool *done)
{
	double left = capacity_ns, wsum = 0, level = -1;
	int open = 0;

	for (int i = 0; i < n; i++) {
		c[i].cpu_ns = 0;
		c[i].rate_pps = 0;
		c[i].capped = false;
		/* a router without demand or cost asks for nothing now */
		done[i] = c[i].demand_pps <= 0 || c[i].cost_ns <= 0 || c[i].weight <= 0;
		if (!done[i]) {
			wsum += c[i].weight;
			open++;
		}
	}
	/* Serve whoever asks for no more than its share of what is left; repeat. */
	while (open) {
		bool served = false;

		for (int i = 0; i < n; i++) {
			double want;

			if (done[i])
				continue;
			want = c[i].demand_pps * c[i].cost_ns;
			if (want <= left * c[i].weight / wsum) {
				c[i].cpu_ns = want;
				left -= want;
				wsum -= c[i].weight;
				done[i] = true;
				open--;
				served = true;
			}
		}
		if (!served)
			break;
	}
	if (open) {
		level = (left > 0 ? left : 0) / wsum;
		for (int i = 0; i < n; i++) {
			if (!done[i]) {
				c[i].cpu_ns = level * c[i].weight;
				c[i].capped = true;
				c[i].rate_pps = c[i].cpu_ns / c[i].cost_ns;
			}
		}
	}
	return level;
}

/* Frames per second the rates refuse of what arrives now. */
static double shed_of(const struct fair_claim *c, int n)
{
	double s = 0;

	for (int i = 0; i < n; i++) {
		double arrive = c[i].arrival_pps > 0 ? c[i].arrival_pps : c[i].demand_pps;

		if (c[i].capped && arrive > c[i].rate_pps)
			s += arrive - c[i].rate_pps;
	}
	return s;
}

double fair_allocate(struct fair_claim *c, int n, double capacity_ns, double shed_ns)
{
	bool *done = calloc(n ? n : 1, sizeof(*done));
	double level, budget = capacity_ns;

	if (!done)
		return -1;
	level = fill(c, n, budget, done);
	/*
	 * A shed frame is not free: what the rates refuse costs shed_ns each,
	 * taken from the capacity before it is shared (no router is charged
	 * for it: shares stay by weight among the frames forwarded). Refusing
	 * more leaves less to share, which refuses more: a few rounds find
	 * the point where both agree, never below half the capacity (at a
	 * shed cost near a frame's full cost, shedding buys nothing, and
	 * chasing it would starve everyone).
	 */
	for (int round = 0; level >= 0 && shed_ns > 0 && round < 200; round++) {
		double next = capacity_ns - shed_ns * shed_of(c, n);

		if (next < capacity_ns / 2)
			next = capacity_ns / 2;
		if (fabs(next - budget) <= 1e-10 * capacity_ns)
			break;
		budget = next;
		level = fill(c, n, budget, done);
	}
	free(done);
	return level;
}

__u32 fair_weight(struct xvr_node *n, __u32 id)
{
	struct xvr_fair f = {};

	if (bpf_map_lookup_elem(n->fair_fd, &id, &f) || !f.weight)
		return XVR_WEIGHT_DEFAULT;
	return f.weight;
}

__u64 fair_rate(struct xvr_node *n, __u32 id)
{
	struct xvr_fair f = {};

	return bpf_map_lookup_elem(n->fair_fd, &id, &f) ? 0 : f.rate_pps;
}

int fair_weight_set(struct xvr_node *n, __u32 id, __u32 weight)
{
	struct xvr_fair f = {};

	if (bpf_map_lookup_elem(n->fair_fd, &id, &f))
		return -errno;
	f.weight = weight;
	return bpf_map_update_elem(n->fair_fd, &id, &f, BPF_ANY) ? -errno : 0;
}

/*
 * A jiffy: the resolution of CLOCK_MONOTONIC_COARSE, the clock ingress
 * runs the admission bucket on (4 ms at HZ=250). If the kernel does not
 * say, 10 ms (HZ=100), the longest jiffy in common use.
 */
static __u64 jiffy_ns(void)
{
	struct timespec res;

	if (clock_getres(CLOCK_MONOTONIC_COARSE, &res) || res.tv_sec || !res.tv_nsec)
		return 10 * 1000 * 1000;
	return res.tv_nsec;
}

/*
 * The admission bucket's tolerance for a rate of frame_cost (1/16 ns) a frame:
 * XVR_FAIR_BURST_NS of the rate, at least XVR_FAIR_TOL_JIFFIES jiffies
 * (the bucket runs on the coarse clock and loses credit at each tick if
 * its tolerance is below one; see bpf/fair.h), at least
 * XVR_LIMIT_MIN_BURST frames back to back.
 */
__u64 fair_tolerance(__u64 frame_cost)
{
	__u64 ns = XVR_FAIR_TOL_JIFFIES * jiffy_ns(), floor;

	if (ns < XVR_FAIR_BURST_NS)
		ns = XVR_FAIR_BURST_NS;
	floor = frame_cost * (XVR_LIMIT_MIN_BURST - 1);
	return (ns << XVR_BUCKET_SHIFT) > floor ? ns << XVR_BUCKET_SHIFT : floor;
}

int fair_rate_set(struct xvr_node *n, __u32 id, __u64 pps)
{
	struct xvr_fair f = {};

	if (bpf_map_lookup_elem(n->fair_fd, &id, &f))
		return -errno;
	if (f.rate_pps == pps)
		return 0;
	f.rate_pps = pps;
	if (!pps) {
		f.adm.frame_cost = 0;
		f.adm.tolerance = 0;
	} else {
		f.adm.frame_cost = (NS_PER_S << XVR_BUCKET_SHIFT) / pps ?: 1;
		f.adm.tolerance = fair_tolerance(f.adm.frame_cost);
	}
	return bpf_map_update_elem(n->fair_fd, &id, &f, BPF_ANY) ? -errno : 0;
}

int fair_cost_read(struct xvr_node *n, __u32 id, __u64 *ns, __u64 *samples)
{
	int ncpu = libbpf_num_possible_cpus();
	struct xvr_cost *per;

	*ns = *samples = 0;
	if (ncpu < 0)
		return ncpu;
	per = calloc(ncpu, sizeof(*per));
	if (!per)
		return -ENOMEM;
	if (bpf_map_lookup_elem(n->cost_fd, &id, per)) {
		free(per);
		return -errno;
	}
	for (int c = 0; c < ncpu; c++) {
		*ns += per[c].ns;
		*samples += per[c].samples;
	}
	free(per);
	return 0;
}

void fair_clear(struct xvr_node *n, __u32 id)
{
	int ncpu = libbpf_num_possible_cpus();
	struct xvr_fair zero = {};
	struct xvr_cost *per;

	bpf_map_update_elem(n->fair_fd, &id, &zero, BPF_ANY);
	if (ncpu <= 0)
		return;
	per = calloc(ncpu, sizeof(*per));
	if (per)
		bpf_map_update_elem(n->cost_fd, &id, per, BPF_ANY);
	free(per);
}

static void status_path(char *buf, size_t len, const char *node)
{
	snprintf(buf, len, "%s/%s/fair.status", XVR_RUN_DIR, node);
}

void fair_stop(const char *node)
{
	char path[PATH_MAX];

	supervise_stop(node, FAIR_SUPERVISE_NAME);
	status_path(path, sizeof(path), node);
	unlink(path);
	snprintf(path, sizeof(path), "%s/%s", XVR_RUN_DIR, node);
	rmdir(path);	/* only once nothing else of the node's is there */
}

int fair_status_write(const char *node, const struct fair_status *st)
{
	char path[PATH_MAX];
	size_t len = offsetof(struct fair_status, r) + st->count * sizeof(st->r[0]);

	snprintf(path, sizeof(path), "%s/%s", XVR_RUN_DIR, node);
	if ((mkdir(XVR_RUN_DIR, 0700) && errno != EEXIST) || (mkdir(path, 0700) && errno != EEXIST))
		return -errno;
	status_path(path, sizeof(path), node);
	return file_replace(path, st, len, 0600);
}

int fair_status_read(const char *node, struct fair_status *st)
{
	char path[PATH_MAX];
	ssize_t got;
	int fd;

	memset(st, 0, sizeof(*st));
	status_path(path, sizeof(path), node);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	got = read(fd, st, sizeof(*st));
	close(fd);
	if (got < (ssize_t)offsetof(struct fair_status, r) || st->count < 0 ||
	    st->count > XVR_MAX_ROUTERS ||
	    (size_t)got < offsetof(struct fair_status, r) + st->count * sizeof(st->r[0]))
		return -EINVAL;
	return 0;
}
