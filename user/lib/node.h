/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* A node's pinned objects, opened by path, and its mutation lock. */
#ifndef XVR_NODE_H
#define XVR_NODE_H

#include <limits.h>
#include <stdbool.h>
#include <xvr/xvr.h>

#define XVR_PIN_BASE	"/sys/fs/bpf/xvr"
#define XVR_RUN_DIR	"/run/xvr"

/*
 * Every map of the ingress object, by the name it has in BPF (xvr_<name>)
 * and under the pin root. X(name) expands once per map.
 */
#define XVR_MAPS(X)	\
	X(config)	\
	X(ports)	\
	X(port_idx)	\
	X(tx_ports)	\
	X(classify)	\
	X(cls_prefix)	\
	X(cls_prefix4)	\
	X(routers)	\
	X(router_book)	\
	X(fib4_l1)	\
	X(fib4)		\
	X(fib4_runs)	\
	X(fib6)		\
	X(rib4)		\
	X(nexthops)	\
	X(nh_book)	\
	X(nh_groups)	\
	X(vifs)		\
	X(vif_by_dev)	\
	X(vif_by_peer)	\
	X(fes)		\
	X(fe_by_dev)	\
	X(fe_sets)	\
	X(fe_state)	\
	X(rr)		\
	X(vr_stats)	\
	X(port_stats)	\
	X(limits)	\
	X(fair)		\
	X(cost)		\
	X(vlinks)	\
	X(vlink_keys)	\
	X(vlink_locals)	\
	X(vlink_fdb)	\
	X(vlink_stats)	\
	X(vlink_nh)	\
	X(bcast)	\
	X(cpu_groups)	\
	X(cpu_sets)	\
	X(cpu_stats)

struct xvr_node {
	char name[64];
	char root[PATH_MAX];	/* XVR_PIN_BASE/<name> */
	int lock_fd;
#define XVR_NODE_FD(m) int m##_fd;
	XVR_MAPS(XVR_NODE_FD)
#undef XVR_NODE_FD
};

/* The node's name from -n, else $XVR_NODE, else "default". */
const char *xvr_node_name(const char *opt);
bool xvr_node_name_ok(const char *name);
int xvr_node_path(char *buf, size_t len, const char *node, const char *leaf);
/*
 * A 16-bit hash of the node's name, for device names that must not collide
 * between nodes sharing a machine (interface names hold 15 characters).
 */
unsigned int xvr_node_tag(const char *name);
/* Names the handle, every fd closed (-1); xvr_node_close() is then safe. */
void xvr_node_init(struct xvr_node *n, const char *name);
/* Opens every pinned map; -ENOENT (with a message) if the node is not up. */
int xvr_node_open(struct xvr_node *n, const char *name);
void xvr_node_close(struct xvr_node *n);
/* Serialises mutating commands on one node (flock on XVR_RUN_DIR/<node>.lock). */
int xvr_node_lock(struct xvr_node *n);
/* That lock file's path, for node NAME. */
void xvr_node_lock_path(char *buf, size_t len, const char *name);

/*
 * A node may run inside a network namespace of its own (one per simulated
 * machine: its ports, underlay address and routes), given at 'node up
 * netns NS' and recorded in XVR_RUN_DIR/<node>.netns. Every command on the
 * node enters it with setns(), keeping xvr's mount namespace and so the
 * bpffs (which 'ip netns exec' would hide behind a fresh /sys).
 */
int xvr_node_netns(const char *node, char *buf, size_t len);
int xvr_node_netns_set(const char *node, const char *ns);	/* NULL: forget */
/* Enters the node's namespace if it has one; 0 or -errno (printed). */
int xvr_node_enter(const char *node);
/*
 * The ABI version the node's pins carry (XVR_ABI_VERSION of the xvr that
 * made them): 0 and *version set, -ENOENT if the node has none.
 */
int xvr_node_abi(const char *node, __u32 *version);
/* Pins the running xvr's XVR_ABI_VERSION for a new node. */
int xvr_node_abi_pin(const char *node);

#endif
