/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The veth pairs between the node and a router's namespace (VIFs, engine
 * ports), made over rtnetlink and ioctls: no program is run, so nothing
 * depends on PATH, and every error is reported with the device's name.
 */
#ifndef XVR_VETH_H
#define XVR_VETH_H

#include <stdbool.h>
#include <linux/types.h>

struct veth_spec {
	const char *name;	/* the node's end */
	const char *peer;	/* the end in the namespace */
	const char *netns;	/* an 'ip netns' name or a path */
	int mtu;		/* of both ends */
	const __u8 *peer_mac;	/* NULL: the kernel picks one */
	/* The peer carries no addresses (an engine's end): no IPv6 there either. */
	bool peer_quiet;
	/*
	 * The peer receives redirected frames, which needs NAPI (GRO on); and
	 * frames it sends cross XDP, which cannot complete a checksum left to
	 * offload, so the stack must compute it (tx checksum off).
	 */
	bool peer_xdp;
};

/*
 * Create the pair with the peer in its namespace (one RTM_NEWLINK), keep
 * the node's end from talking on its own (no IPv6), set the peer up as
 * the spec says, and bring both ends up. All or nothing: on failure the
 * pair is deleted again. Prints what failed.
 */
int veth_create(const struct veth_spec *s);
/* Delete the node's end (and with it the peer); 0 if it is gone already. */
int veth_del(const char *name);

#endif /* XVR_VETH_H */
