/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Forwarding engines of afxdp routers: veth, XSK program, state, maps. */
#ifndef XVR_FE_H
#define XVR_FE_H

#include <xvr/xvr.h>
#include "node.h"
#include "supervise.h"

/*
 * An engine whose heartbeat is older than this (it beats every 10 ms, idle
 * or not) is hung and restarted by its supervisor; a new run gets
 * FE_START_GRACE_MS for its first beat (its setup reads the router's whole
 * FIB before it beats).
 */
#define FE_HUNG_MS		2000
#define FE_START_GRACE_MS	60000
#define FE_PROBE_MS		200

struct fe_spec {
	__u32 vr_id;
	const char *router;
	int cpu;		/* -1: any */
	unsigned int share;	/* percent of a CPU, 0: unlimited */
	unsigned int weight;	/* 1..100 */
};

/* "fe<ID>": the engine's interface in the router's namespace and its supervision name. */
void fe_ifname(char *buf, size_t len, __u32 id);
/* "xvr/<node>/routers/<router>/fe<ID>": the engine's cgroup, inside its router's. */
void fe_cgroup(char *buf, size_t len, const char *node, const char *router, __u32 id);

/* Builds everything but the process; on failure nothing is left. */
int fe_create(struct xvr_node *n, const struct fe_spec *spec, __u32 *id);
int fe_destroy(struct xvr_node *n, __u32 id);
int fe_get(struct xvr_node *n, __u32 id, struct xvr_fe *out);
/* The router's engines, ascending; returns how many (<= XVR_MAX_ROUTER_FES). */
int fe_list_router(struct xvr_node *n, __u32 vr_id, __u32 ids[XVR_MAX_ROUTER_FES]);
/* Rewrites xvr_fe_sets[vr_id] from the engines present; dist < 0 keeps the policy. */
int fe_set_rebuild(struct xvr_node *n, __u32 vr_id, int dist);
int fe_state_read(struct xvr_node *n, __u32 id, struct xvr_fe_state *out);
/* Free capacity of each CPU in percent, after the shares of all engines. */
int fe_cpu_free(struct xvr_node *n, unsigned int *free, int ncpus);
/*
 * The supervisor's probe of engine id on node: SUPERVISE_GONE once the
 * engine (the one with node-side device dev) is deleted or the node is
 * down, SUPERVISE_HUNG if it stopped beating since a run that started at
 * started_ms, else SUPERVISE_OK. Opens the pins afresh each time.
 */
enum supervise_health fe_health(const char *node, __u32 id, __u32 dev, long started_ms);
/* Publishes the supervisor's restart count in the engine's state. */
void fe_restarts_set(const char *node, __u32 id, unsigned long restarts);
/* Milliseconds since the engine's last heartbeat, or -1 if it never beat. */
long fe_heartbeat_age_ms(const struct xvr_fe_state *st);

#endif
