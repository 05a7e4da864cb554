/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Every map of the ingress object. Pinned by xvr under
 * /sys/fs/bpf/xvr/<node>/<name without the xvr_ prefix>; user space opens
 * them through user/lib/node.c (XVR_MAPS there lists the same names).
 */
#ifndef XVR_BPF_MAPS_H
#define XVR_BPF_MAPS_H

/* Node settings. Written by `xvr node set`, read by ingress per frame. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xvr_config);
} xvr_config SEC(".maps");

/* Ports by ifindex. Written by `xvr port`, read by ingress (stats slot). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XVR_MAX_PORTS);
	__type(key, __u32);
	__type(value, struct xvr_port);
} xvr_ports SEC(".maps");

/* The ports again, by ifindex % XVR_PORT_IDX (xvr.h). Written by `xvr port`, read by ingress. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XVR_PORT_IDX);
	__type(key, __u32);
	__type(value, struct xvr_port_ent);
} xvr_port_idx SEC(".maps");

/*
 * Redirect targets, ifindex -> ifindex: the ports, every VIF's host end and
 * every engine's veth. Written by `xvr port`, `vif` and `fe`, used by
 * bpf_redirect_map.
 */
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, XVR_MAX_PORTS + XVR_MAX_VIFS + XVR_MAX_FES);
	__type(key, __u32);
	__type(value, struct bpf_devmap_val);
} xvr_tx_ports SEC(".maps");

/* Exact-match classifier rules. Written by `xvr classify`, read by ingress. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XVR_MAX_RULES);
	__type(key, struct xvr_cls_key);
	__type(value, struct xvr_cls_val);
} xvr_classify SEC(".maps");

/* Destination-prefix classifier rules. Written by `xvr classify`, read by ingress. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, XVR_MAX_PREFIX_RULES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct xvr_cls_prefix_key);
	__type(value, struct xvr_cls_val);
} xvr_cls_prefix SEC(".maps");

/* Its IPv4 rules by exact key (xvr_cls4_key). Kept by user space, read by ingress. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XVR_MAX_PREFIX_RULES);
	__type(key, struct xvr_cls4_key);
	__type(value, struct xvr_cls_val);
} xvr_cls_prefix4 SEC(".maps");

/* Routers by id. Written by `xvr router` (and the FIB library), read by ingress. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XVR_MAX_ROUTERS);
	__type(key, __u32);
	__type(value, struct xvr_router);
} xvr_routers SEC(".maps");

/* Router bookkeeping (route counts, table occupancy). User space only: no program reads it. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XVR_MAX_ROUTERS);
	__type(key, __u32);
	__type(value, struct xvr_router_book);
} xvr_router_book SEC(".maps");

/*
 * Per-router IPv4 DIR-16-8-8 tables, two banks per router (XVR_FIB4_SLOT),
 * the live one named by the router's entry. Inner maps are created by user
 * space and mmapped for writing; a rebuild fills the idle bank's slots and
 * flips the router's bank. Read by ingress.
 *
 * Level 1: every inner map has the same size (no BPF_F_INNER_MAP), so the
 * verifier inlines both the outer and the inner lookup.
 */
struct xvr_fib4_l1_inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, XVR_FIB4_L1_LINES);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(struct xvr_fib4_line));
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, XVR_MAX_ROUTERS * XVR_FIB4_BANKS);
	__type(key, __u32);
	__array(values, struct xvr_fib4_l1_inner);
} xvr_fib4_l1 SEC(".maps");

/* Levels 2 and 3, the groups: sized to the table (BPF_F_INNER_MAP lets sizes differ). */
struct xvr_fib4_inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE | BPF_F_INNER_MAP);
	__uint(max_entries, XVR_FIB4_GROUP_SIZE * 2);
	__type(key, __u32);
	__type(value, __u32);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, XVR_MAX_ROUTERS * XVR_FIB4_BANKS);
	__type(key, __u32);
	__array(values, struct xvr_fib4_inner);
} xvr_fib4 SEC(".maps");

/*
 * The groups as runs (struct xvr_fib4_runs, record g for group g), one map
 * per bank built, sized to the groups it was built with: a group created
 * later has no record, and its lookup fails over to the groups map.
 */
struct xvr_fib4_runs_inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE | BPF_F_INNER_MAP);
	__uint(max_entries, 2);
	/* Sizes, not types: see xvr_fib6_inner. */
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(struct xvr_fib4_runs));
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, XVR_MAX_ROUTERS * XVR_FIB4_BANKS);
	__type(key, __u32);
	__array(values, struct xvr_fib4_runs_inner);
} xvr_fib4_runs SEC(".maps");

/* Per-router IPv6 FIB tries, prefix -> nexthop id. Written by user space, read by ingress. */
struct xvr_fib6_inner {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, XVR_MAX_ROUTES6);
	/* Sizes, not types: clang emits only a forward declaration for a
	 * struct reached solely through this template, which libbpf refuses.
	 */
	__uint(key_size, sizeof(struct xvr_lpm6_key));
	__uint(value_size, sizeof(__u32));
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, XVR_MAX_ROUTERS);
	__type(key, __u32);
	__array(values, struct xvr_fib6_inner);
} xvr_fib6 SEC(".maps");

/* Per-router IPv4 route sets (the RIB behind fib4). User space only. */
struct xvr_rib4_inner {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, XVR_MAX_ROUTES4);
	__uint(key_size, sizeof(struct xvr_lpm4_key));
	__uint(value_size, sizeof(__u32));
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, XVR_MAX_ROUTERS);
	__type(key, __u32);
	__array(values, struct xvr_rib4_inner);
} xvr_rib4 SEC(".maps");

/* Nexthops by id. Written by `xvr route`, read by ingress after a FIB hit. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XVR_MAX_NEXTHOPS);
	__type(key, __u32);
	__type(value, struct xvr_nexthop);
} xvr_nexthops SEC(".maps");

/* Nexthop bookkeeping (references, gateway). User space only: no program reads it. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XVR_MAX_NEXTHOPS);
	__type(key, __u32);
	__type(value, struct xvr_nh_book);
} xvr_nh_book SEC(".maps");

/* Members of multipath nexthops. Written by fibsync and `xvr route`, read by ingress. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XVR_MAX_NEXTHOPS);
	__type(key, __u32);
	__type(value, struct xvr_nh_group);
} xvr_nh_groups SEC(".maps");

/* VIFs by id. Written by `xvr vif`, read by ingress (delivery) and egress. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XVR_MAX_VIFS);
	__type(key, __u32);
	__type(value, struct xvr_vif);
} xvr_vifs SEC(".maps");

/* VIF id by the ifindex of its node-side end. Written by `xvr vif`, read by egress. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XVR_MAX_VIFS);
	__type(key, __u32);
	__type(value, __u32);
} xvr_vif_by_dev SEC(".maps");

/* VIF id by {router, in-namespace ifindex}. Written by `xvr vif`, read by egress (engine tags). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XVR_MAX_VIFS);
	__type(key, struct xvr_vif_peer_key);
	__type(value, __u32);
} xvr_vif_by_peer SEC(".maps");

/* Forwarding engines by id. Written by `xvr fe`, read by ingress and egress. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XVR_MAX_FES);
	__type(key, __u32);
	__type(value, struct xvr_fe);
} xvr_fes SEC(".maps");

/* Engine id by its node-side veth end. Written by `xvr fe`, read by egress. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XVR_MAX_FES);
	__type(key, __u32);
	__type(value, __u32);
} xvr_fe_by_dev SEC(".maps");

/* A router's engines and distribution policy. Written by `xvr fe`/`router set`, read by ingress. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XVR_MAX_ROUTERS);
	__type(key, __u32);
	__type(value, struct xvr_fe_set);
} xvr_fe_sets SEC(".maps");

/*
 * Each engine's live state: a one-element mmapable array per engine, whose
 * fd only that engine holds (it writes heartbeat and counters in place).
 * Created by `xvr fe add`, read by ingress (liveness) and `xvr stats`.
 */
struct xvr_fe_state_inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(struct xvr_fe_state));
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, XVR_MAX_FES);
	__type(key, __u32);
	__array(values, struct xvr_fe_state_inner);
} xvr_fe_state SEC(".maps");

/* Round-robin position per router and CPU. Ingress only. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XVR_MAX_ROUTERS);
	__type(key, __u32);
	__type(value, __u32);
} xvr_rr SEC(".maps");

/* Counters per router and CPU. Written by ingress, read by `xvr stats`. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XVR_MAX_ROUTERS);
	__type(key, __u32);
	__type(value, struct xvr_counters);
} xvr_vr_stats SEC(".maps");

/* Counters per port slot and CPU. Written by ingress, read by `xvr stats`. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XVR_MAX_PORTS);
	__type(key, __u32);
	__type(value, struct xvr_counters);
} xvr_port_stats SEC(".maps");

/* Limits and their buckets per router. Written by `xvr limit`, read and updated by ingress. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XVR_MAX_ROUTERS);
	__type(key, __u32);
	__type(value, struct xvr_limit);
} xvr_limits SEC(".maps");

/* Weights and admission buckets per router. Written by `xvr router set` and `xvr fair`, read and updated by ingress. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XVR_MAX_ROUTERS);
	__type(key, __u32);
	__type(value, struct xvr_fair);
} xvr_fair SEC(".maps");

/* Sampled processing cost per router and CPU. Written by ingress, read by `xvr fair` and `xvr stats`. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XVR_MAX_ROUTERS);
	__type(key, __u32);
	__type(value, struct xvr_cost);
} xvr_cost SEC(".maps");

/* Virtual links by id (= VIF id). Written by `xvr link`, read by ingress and egress. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XVR_MAX_VIFS);
	__type(key, __u32);
	__type(value, struct xvr_link);
} xvr_vlinks SEC(".maps");

/* Link id by {local address, key}. Written by `xvr link`, read by ingress (decap). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XVR_MAX_VIFS);
	__type(key, struct xvr_link_key);
	__type(value, __u32);
} xvr_vlink_keys SEC(".maps");

/*
 * The node's link-local addresses, address -> links using it. GRE to one
 * of these is xvr's (dropped if no link takes it); other GRE is the host's.
 * Written by `xvr link`, read by ingress.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __be32);
	__type(value, __u32);
} xvr_vlink_locals SEC(".maps");

/*
 * MACs learned per multipoint link: one LRU hash per link, created by `xvr
 * link` with XVR_LINK_FDB_SIZE entries, so a link's tenant cannot evict
 * another link's MACs. Written by ingress (decap), read by ingress and egress.
 */
struct xvr_fdb_inner {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, XVR_LINK_FDB_SIZE);
	__uint(key_size, sizeof(struct xvr_fdb_key));
	__uint(value_size, sizeof(struct xvr_fdb_entry));
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, XVR_MAX_VIFS);
	__type(key, __u32);
	__array(values, struct xvr_fdb_inner);
} xvr_vlink_fdb SEC(".maps");

/* Counters per link and CPU: rx decapsulated, tx encapsulated, drops. Written by ingress and egress. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XVR_MAX_VIFS);
	__type(key, __u32);
	__type(value, struct xvr_counters);
} xvr_vlink_stats SEC(".maps");
/*
 * Frames of a running trace (struct xvr_trace_rec). Written by ingress and
 * egress while their trace_cfg.on is set (bpf/trace.h), read by `xvr trace`.
 */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, XVR_TRACE_RING_SIZE);
} xvr_trace SEC(".maps");

/* Each link's cached underlay next hop, per CPU. Ingress and egress only. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XVR_MAX_VIFS);
	__type(key, __u32);
	__type(value, struct xvr_link_nh);
} xvr_vlink_nh SEC(".maps");

/*
 * Broadcast sets: {port, vlan} -> devmap of the node-side ends of the VIFs
 * there, each entry running xvr_bcast_copy (include/xvr/xvr.h). Written by
 * `xvr vif` (user/lib/bcast.c), read by ingress for group-addressed frames.
 */
struct xvr_bcast_inner {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, XVR_BCAST_VIFS);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(struct bpf_devmap_val));
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__uint(max_entries, XVR_MAX_VIFS);
	__type(key, struct xvr_bcast_key);
	__array(values, struct xvr_bcast_inner);
} xvr_bcast SEC(".maps");

/*
 * Core binding: one cpumap per distinct CPU set of bound routers, its
 * entries (one per CPU of the set) running xvr_cpumap. Created and freed by
 * `xvr router set cpus`, read by ingress (bpf_redirect_map on the inner map).
 */
struct xvr_cpumap_inner {
	__uint(type, BPF_MAP_TYPE_CPUMAP);
	__uint(max_entries, XVR_MAX_BOUND_CPUS);
	/* Sizes, not types: see xvr_fib6_inner. */
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(struct bpf_cpumap_val));
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, XVR_MAX_CPU_GROUPS);
	__type(key, __u32);
	__array(values, struct xvr_cpumap_inner);
} xvr_cpu_groups SEC(".maps");

/* Each group's CPUs, for the flow hash. Written by `xvr router set cpus`, read by ingress. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XVR_MAX_CPU_GROUPS);
	__type(key, __u32);
	__type(value, struct xvr_cpu_set);
} xvr_cpu_sets SEC(".maps");

/* Handoffs per router and CPU. Written by ingress and xvr_cpumap, read by `xvr stats`. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XVR_MAX_ROUTERS);
	__type(key, __u32);
	__type(value, struct xvr_cpu_counters);
} xvr_cpu_stats SEC(".maps");

#endif /* XVR_BPF_MAPS_H */
