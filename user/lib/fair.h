/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Fair sharing under overload (docs/fair-sharing.md): the max-min
 * arithmetic of the `xvr fair` controller, a pure function, and access to
 * the routers' weights, admission buckets and sampled costs.
 */
#ifndef XVR_LIB_FAIR_H
#define XVR_LIB_FAIR_H

#include <stdbool.h>
#include <xvr/xvr.h>
#include "node.h"

/* One router's claim, as fair_allocate() takes it and what it gives back. */
struct fair_claim {
	double weight;		/* > 0 */
	double demand_pps;	/* frames per second offered (after its limits) */
	double arrival_pps;	/* of them, what reaches the rates (0: all) */
	double cost_ns;		/* CPU time per admitted frame; <= 0: unknown */
	/* results */
	double cpu_ns;		/* CPU time per second it gets: min(demand, its share) */
	double rate_pps;	/* admission rate; 0: none (unknown cost) */
	bool capped;		/* gets less than it asks */
};

/*
 * Max-min fair shares of capacity_ns (CPU nanoseconds per second) by
 * weight, in CPU time: a router asking for less than its weighted share
 * (demand x cost) gets all it asks, the rest is divided again among the
 * others by weight, until every remaining router asks for more than its
 * share (it is capped at weight x level) or all are served. A capped
 * router's admission rate is weight x level / cost; a router served in
 * full gets none (0): it is never shed. Frames the rates refuse (arrival
 * over rate) cost shed_ns each, off the capacity before it is shared.
 * Returns the level (CPU ns per second per unit of weight), or a negative
 * value when everyone is served (nothing to cap: no admission needed).
 */
double fair_allocate(struct fair_claim *c, int n, double capacity_ns, double shed_ns);

/* The controller's name under supervision (lib/supervise.h). */
#define FAIR_SUPERVISE_NAME	"fair"

/* A router's weight (XVR_WEIGHT_DEFAULT for 0 or a missing entry). */
__u32 fair_weight(struct xvr_node *n, __u32 id);
/* Its admission rate, frames per second (0: none). */
__u64 fair_rate(struct xvr_node *n, __u32 id);
int fair_weight_set(struct xvr_node *n, __u32 id, __u32 weight);
/* The admission bucket's tolerance (1/16 ns) for frames of frame_cost. */
__u64 fair_tolerance(__u64 frame_cost);
/* Sets the admission rate (0: none), keeping weight and bucket state. */
int fair_rate_set(struct xvr_node *n, __u32 id, __u64 pps);
/* Sum over CPUs of the router's sampled time and sample count. */
int fair_cost_read(struct xvr_node *n, __u32 id, __u64 *ns, __u64 *samples);
/* Back to weight 1, no admission, no samples (router add and del). */
void fair_clear(struct xvr_node *n, __u32 id);

/* The controller's last tick, XVR_RUN_DIR/<node>/fair.status. */
struct fair_status_router {
	__u32 id;
	__u32 weight;
	char name[XVR_NAME_LEN];
	double demand_pps, admitted_pps, cost_ns, path_ns, share, rate_pps;
	bool capped;
};

struct fair_status {
	double time_s;		/* CLOCK_REALTIME of the tick */
	double busy;		/* forwarding CPUs' busy fraction (0..1 each, summed / cpus) */
	double forwarding;	/* of it, the forwarding contexts' (softirq, NAPI and cpumap threads) */
	double capacity_ns;	/* CPU ns per second the shares divide */
	double overhead_ns;	/* per admitted frame, outside the sampled path */
	double shed_ns;		/* per shed frame, learnt (or the overhead) */
	double lost_pps;	/* frames the ports lost before XDP ran */
	int cpus;
	bool saturated;
	__u64 ticks, saturated_ticks;	/* since the controller started */
	int count;
	struct fair_status_router r[XVR_MAX_ROUTERS];
};

/* Stops the node's supervised controller, if any, and removes its status. */
void fair_stop(const char *node);
int fair_status_write(const char *node, const struct fair_status *st);
int fair_status_read(const char *node, struct fair_status *st);

#endif
