/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Core binding: a router's CPU set, and the cpumap groups behind it (one
 * per distinct set, shared by the routers that name the same set).
 */
#ifndef XVR_CPUGROUP_H
#define XVR_CPUGROUP_H

#include <stdio.h>
#include "node.h"

#define XVR_CPUMAP_PIN	"prog_cpumap"

/*
 * "any" (mask 0) or a list like 0,1 or 0-3,6: every CPU online and below
 * XVR_MAX_BOUND_CPUS. On error *bad points at the offending token (a static
 * copy) and the return is -EINVAL (syntax) or -ENODEV (CPU not online).
 */
int cpu_list_parse(const char *s, __u64 *mask, const char **bad);
/* "any", or the set as a list ("0-1,4"), into buf. */
const char *cpu_list_format(__u64 mask, char *buf, size_t len);
/* The online CPUs as a mask (CPUs below XVR_MAX_BOUND_CPUS). */
__u64 cpus_online(void);
/*
 * Binds router id to the CPU set mask (0: any, inline again): the group for
 * the set is made ready before the router's entry points at it, and the
 * old group freed after, if no router uses it any more.
 */
int cpu_bind(struct xvr_node *n, __u32 id, __u64 mask);
/* The CPU set router id is bound to (xvr_router_book), 0: none. */
__u64 cpu_bound(struct xvr_node *n, __u32 id);
/* Points every group's CPUs at the cpumap program prog_fd (after 'node up' swapped it). */
int cpu_groups_reprog(struct xvr_node *n, int prog_fd);
/* Frees groups no router names (what a killed command left); the count freed. */
int cpu_groups_gc(struct xvr_node *n);
/* Per-CPU handoff counters of router id (ncpu: libbpf_num_possible_cpus()). */
int cpu_counters_read(struct xvr_node *n, __u32 id, struct xvr_cpu_counters *per, int ncpu);
int cpu_counters_zero(struct xvr_node *n, __u32 id);
/*
 * Frames the router's cpumap queues lost: steered - arrived, over all CPUs
 * (frames in a queue for the microseconds they wait count as lost too).
 */
__u64 cpu_handoff_lost(struct xvr_node *n, __u32 id);

#endif
