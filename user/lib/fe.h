/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Forwarding engines of afxdp routers: veth, XSK program, state, maps. */
#ifndef XVR_FE_H
#define XVR_FE_H

#include <xvr/xvr.h>
#include "node.h"

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
/* Milliseconds since the engine's last heartbeat, or -1 if it never beat. */
long fe_heartbeat_age_ms(const struct xvr_fe_state *st);

#endif
