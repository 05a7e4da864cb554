/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Reading and writing a node's objects: routers, ports, nexthops, rules. */
#ifndef XVR_OBJECTS_H
#define XVR_OBJECTS_H

#include <stdbool.h>
#include <stddef.h>
#include <xvr/xvr.h>
#include "node.h"

/* Router id by name; -ENOENT (silently) if there is none. */
int router_find(struct xvr_node *n, const char *name, __u32 *id, struct xvr_router *out);
int router_get(struct xvr_node *n, __u32 id, struct xvr_router *out);
bool router_name_ok(const char *name);
const char *mode_name(__u32 mode);
int mode_parse(const char *s, __u32 *mode);

/* Port by ifindex; -ENOENT if the device is not an xvr port. */
int port_get(struct xvr_node *n, __u32 ifindex, struct xvr_port *out);

/* All nexthops in one batch read; *out is XVR_MAX_NEXTHOPS entries, free() it. */
int nexthops_read(struct xvr_node *n, struct xvr_nexthop **out);
/* Same target, same router: the id to share (refcnt untouched), or 0. */
__u32 nexthop_match(const struct xvr_nexthop *tbl, const struct xvr_nexthop *want);
/*
 * The nexthop allocator of 'xvr route' and fibsync, over the table as read
 * (nexthops_read) under the node lock: a free id from *next on, wrapping
 * once, marked taken in tbl for router vr_id (so one command or apply never
 * hands it out twice), *next moved past it. 0 when the table is full.
 */
__u32 nexthop_take(struct xvr_nexthop *tbl, __u32 *next, __u32 vr_id);
/* refcnt += delta; a nexthop that drops to 0 references is invalidated. */
int nexthop_ref(struct xvr_node *n, __u32 id, int delta);

/* Recompute xvr_config.rule_kinds from the rules present, and copy each
 * port's default rule into its xvr_ports entry (where ingress reads it). */
int rules_refresh_kinds(struct xvr_node *n);
/* Delete every classifier rule of router vr_id; returns how many. */
int rules_flush_router(struct xvr_node *n, __u32 vr_id);

/* Sum of a per-CPU counter block. */
int counters_read(int map_fd, __u32 key, struct xvr_counters *sum);
/* Zeroes entry key of a per-CPU map on every CPU. */
int percpu_zero(int map_fd, __u32 key, size_t value_size);
int counters_zero(int map_fd, __u32 key);

const char *drop_reason_name(unsigned int reason);
const char *punt_reason_name(unsigned int reason);

#endif
