/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Virtual links (EGRE): a VIF whose frames travel in GRE between nodes.
 * The link's id is its VIF's id; the VIF gives it its interface in the
 * router's namespace, its node-side end and its place in fibsync.
 */
#ifndef XVR_LINK_H
#define XVR_LINK_H

#include <stdbool.h>
#include <xvr/xvr.h>
#include "node.h"

/* The multipoint flooding program (tc) under the node's pin root. */
#define XVR_FLOOD_PIN	"prog_flood"

struct link_spec {
	__u32 vr_id;
	const char *router;
	const char *name;	/* interface name inside the namespace */
	__u32 key;
	__be32 local;
	__be32 remote[XVR_LINK_MAX_REMOTES];
	int nremotes;
	__u32 port;		/* ifindex the underlay route must use, 0 = any */
	__u8 ttl;		/* 0: XVR_EGRE_DEFAULT_TTL */
	__u16 mtu;		/* 0: the underlay's MTU minus XVR_EGRE_OVERHEAD */
};

/* Creates the link: checks, underlay neighbours, VIF, maps; nothing is left on failure. */
int link_create(struct xvr_node *n, const struct link_spec *spec, __u32 *id);
/* Removes the link and its VIF. */
int link_destroy(struct xvr_node *n, __u32 id);
/* The link's map entries and underlay neighbours; vif_destroy calls it. */
void link_forget(struct xvr_node *n, __u32 id);
int link_get(struct xvr_node *n, __u32 id, struct xvr_link *out);
/* Link of router vr_id named name; -ENOENT if none. */
int link_find(struct xvr_node *n, __u32 vr_id, const char *name, __u32 *id,
	      struct xvr_link *out);
/* Adds or removes one remote (multipoint); the last remote cannot go. */
int link_remote_change(struct xvr_node *n, __u32 id, __be32 addr, bool add);
/* The flooding program at tc ingress of dev (a link's or an engine's node-side end). */
int link_flood_attach(struct xvr_node *n, __u32 dev, bool replace);
/* Every link and engine to the flooding program pinned now: the count or -errno. */
int link_flood_refresh(struct xvr_node *n);
/* Node-side set-up of a link's dev: IPv4 forwarding on, which bpf_fib_lookup needs. */
void link_dev_setup(const char *dev);

#endif
