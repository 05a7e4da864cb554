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
/*
 * The port index (xvr_port_idx, xvr.h) around a change of xvr_ports:
 * port_index_unpublish before the change (ingress reads the port from the
 * hash until the index is synced again), ports_index_sync after it. A
 * command killed in between leaves an entry unpublished, never stale.
 * ports_index_sync returns the number of entries it rewrote, or -errno.
 */
void port_index_unpublish(struct xvr_node *n, __u32 ifindex);
int ports_index_sync(struct xvr_node *n);

/*
 * A nexthop as the control plane handles it: the entry ingress reads
 * (xvr_nexthops: port, owner, flags, MACs, VLAN) joined with its
 * bookkeeping (xvr_nh_book: references, gateway). nexthops_read,
 * nexthop_load and nexthop_store are the only readers and writers of the
 * two maps.
 */
struct nexthop {
	__u32 ifindex;
	__u16 vr_id;
	__u16 flags;		/* enum xvr_nh_flags */
	__u8 dmac[6];
	__u8 smac[6];
	union {
		__u16 vlan;
		__u16 link_id;	/* XVR_NH_LINK: as in struct xvr_nexthop */
	};
	__u8 family;		/* of the gateway, 0 = none */
	__u8 pad;
	__u32 refcnt;
	__u8 gw[16];
};

/* Nexthop id (1..XVR_MAX_NEXTHOPS-1), both halves. */
int nexthop_load(struct xvr_node *n, __u32 id, struct nexthop *out);
/*
 * Write nexthop id. A valid one: bookkeeping first, then the data-path
 * entry, and that only if it changed (a reference count never rewrites
 * what ingress reads). An invalid one (zeroed): the data-path entry first.
 */
int nexthop_store(struct xvr_node *n, __u32 id, const struct nexthop *nh);

/* All nexthops in one batch read; *out is XVR_MAX_NEXTHOPS entries, free() it. */
int nexthops_read(struct xvr_node *n, struct nexthop **out);
/* Same target, same router: the id to share (refcnt untouched), or 0. */
__u32 nexthop_match(const struct nexthop *tbl, const struct nexthop *want);
/*
 * The nexthop allocator of 'xvr route' and fibsync, over the table as read
 * (nexthops_read) under the node lock: a free id from *next on, wrapping
 * once, marked taken in tbl for router vr_id (so one command or apply never
 * hands it out twice), *next moved past it. 0 when the table is full.
 */
__u32 nexthop_take(struct nexthop *tbl, __u32 *next, __u32 vr_id);
/*
 * The one reference count of a nexthop: refcnt += delta in its bookkeeping;
 * one that drops to 0 references is invalidated (both halves cleared).
 */
int nexthop_ref(struct xvr_node *n, __u32 id, int delta);

/* Recompute xvr_config.rule_kinds from the rules present, bring the IPv4
 * prefix rules' copy up to date (cls4.h), and copy each port's default
 * rule into its xvr_ports entry (where ingress reads it). */
int rules_refresh_kinds(struct xvr_node *n);
/* The same; *changed: how many entries of the IPv4 copy it mended. */
int rules_refresh(struct xvr_node *n, int *changed);
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
