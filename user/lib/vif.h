/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Virtual interfaces: a veth pair from the node into a router's namespace. */
#ifndef XVR_VIF_H
#define XVR_VIF_H

#include <stdbool.h>
#include <xvr/xvr.h>
#include "node.h"

struct vif_spec {
	__u32 vr_id;
	const char *router;	/* name, for the namespace and messages */
	const char *ifname;	/* inside the namespace */
	__u32 port;		/* ifindex */
	bool has_mac;
	__u8 mac[6];		/* else derived from router and VIF ids */
	__u16 vlan;		/* 0 = untagged */
	bool spoof;		/* any source MAC may leave by it (egress skips the check) */
	/* A virtual link's interface: no port, no classifier rule; its dev
	 * stands in for the port (see XVR_VIF_LINK) and mtu is the link's. */
	bool link;
	int mtu;
};

/* Creates the VIF and its classifier rule; on failure nothing is left. */
int vif_create(struct xvr_node *n, const struct vif_spec *spec, __u32 *id);
int vif_destroy(struct xvr_node *n, __u32 id);
/* Destroys every VIF of router vr_id; returns how many, or -errno. */
int vifs_flush_router(struct xvr_node *n, __u32 vr_id);
/* VIF of router vr_id named ifname; -ENOENT if none. */
int vif_find(struct xvr_node *n, __u32 vr_id, const char *ifname, __u32 *id,
	     struct xvr_vif *out);
int vif_get(struct xvr_node *n, __u32 id, struct xvr_vif *out);
/* The VIF of router vr_id on port (first found); -ENOENT if none. */
int vif_on_port(struct xvr_node *n, __u32 vr_id, __u32 port, struct xvr_vif *out);

#endif
