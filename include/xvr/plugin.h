/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The plugin ABI of xvr-router, the AF_XDP forwarding engine.
 *
 * A plugin is a shared object a tenant hands to its engine with
 * `--plugin FILE.so [--plugin-config STRING]`. It exports one symbol,
 * `xvr_plugin`, a const struct xvr_plugin. The engine loads it after it has
 * dropped the node's privileges, calls init() once, then process() for
 * every batch of frames, and fini() when it stops. All calls come from the
 * engine's single data-path thread; a plugin needs no locking.
 *
 * A plugin sees Ethernet frames without the engine tag (the engine strips
 * it on the way in and writes it on the way out, see xvr.h), with the
 * interface the frame arrived on (in_ifindex, an ifindex inside the
 * router's namespace). For each frame it sets a verdict: forward it out of
 * an interface, hand it to the router's own kernel stack through an
 * interface, or drop it. The frame lives in the engine's packet pool
 * (UMEM); the plugin rewrites it in place and may move its start and end
 * within the room the engine gives (headroom, tailroom).
 *
 * The engine trusts nothing a plugin returns: a verdict out of range, an
 * out_ifindex that is not one of the router's interfaces, a frame moved
 * outside its buffer or shorter than an Ethernet header: the frame is
 * dropped and counted, and the engine carries on.
 *
 * Versioning: XVR_PLUGIN_ABI_VERSION changes whenever any structure,
 * enum value or function signature here changes. The engine refuses a
 * plugin built against another version, with a message naming both. Only
 * this header is the ABI; plugins link against nothing of xvr's.
 *
 * docs/plugins.md describes the ABI with examples.
 */
#ifndef XVR_PLUGIN_H
#define XVR_PLUGIN_H

#include <linux/types.h>

#define XVR_PLUGIN_ABI_VERSION	1
#define XVR_PLUGIN_SYMBOL	"xvr_plugin"

/* What becomes of a frame; process() must set one for each. */
enum xvr_verdict {
	XVR_VERDICT_UNSET = 0,		/* as handed in; invalid as an answer */
	XVR_VERDICT_FORWARD = 1,	/* transmit out of out_ifindex */
	XVR_VERDICT_STACK = 2,		/* to the router's kernel, arriving on out_ifindex */
	XVR_VERDICT_DROP = 3,
};

/*
 * Why ctx->route() chose XVR_VERDICT_STACK or XVR_VERDICT_DROP (0 for
 * XVR_VERDICT_FORWARD). A plugin may set its own drop reason
 * XVR_REASON_PLUGIN; the engine counts verdicts by reason.
 */
enum xvr_reason {
	XVR_REASON_NONE = 0,
	/* to the stack */
	XVR_REASON_NON_IP = 1,		/* not IPv4/IPv6: ARP, unknown EtherTypes */
	XVR_REASON_TTL = 2,		/* TTL or hop limit <= 1 */
	XVR_REASON_NO_ROUTE = 3,
	XVR_REASON_UNRESOLVED = 4,	/* no neighbour entry for the next hop */
	XVR_REASON_LOCAL = 5,		/* addressed to the router */
	XVR_REASON_IP_OPTIONS = 6,	/* IPv4 options, IPv6 hop-by-hop */
	XVR_REASON_MCAST = 7,		/* multicast, broadcast, link-local, martians */
	XVR_REASON_MTU = 8,		/* larger than the output interface's MTU */
	XVR_REASON_ROUTE_STACK = 9,	/* unreachable/prohibit routes: the kernel answers */
	XVR_REASON_NO_OUTPUT = 10,	/* the route's interface is down or unusable */
	/* dropped */
	XVR_REASON_BAD_L2 = 16,		/* shorter than an Ethernet header */
	XVR_REASON_BAD_IP = 17,		/* truncated or inconsistent IP header */
	XVR_REASON_BAD_CSUM = 18,	/* IPv4 header checksum wrong */
	XVR_REASON_BLACKHOLE = 19,	/* blackhole route */
	XVR_REASON_PLUGIN = 20,		/* the plugin's own decision */
	XVR_REASON_MAX = 32,
};

/*
 * One frame. data points at the destination MAC; the engine owns the
 * buffer around it:
 *
 *   [ headroom ][ data, len bytes ][ tailroom ]
 *
 * A plugin may move data back by up to headroom bytes (push a header),
 * forward (pull), and grow or shrink len within tailroom; it must keep
 * headroom/tailroom consistent (the helpers below do). The engine checks
 * the result against its own record of the buffer, not these fields.
 */
struct xvr_pkt {
	__u8 *data;
	__u32 len;
	__u32 headroom;
	__u32 tailroom;
	__u32 in_ifindex;	/* arrival interface in the router's namespace, 0: unknown */
	__u32 out_ifindex;	/* answer for FORWARD and STACK */
	__u16 verdict;		/* enum xvr_verdict */
	__u16 reason;		/* enum xvr_reason */
	__u64 user;		/* the plugin's, per frame; 0 on entry */
};

/*
 * Handed to every call. Fields above priv are set by the engine and read
 * only; priv belongs to the plugin (typically set by init()).
 */
struct xvr_plugin_ctx {
	__u32 abi_version;	/* the engine's XVR_PLUGIN_ABI_VERSION */
	__u32 fe_id;
	const char *node;
	const char *router;
	const char *dev;	/* the engine's own interface (never an output) */
	__u32 dev_ifindex;
	__u32 frame_size;	/* bytes per packet buffer */
	void *priv;

	/*
	 * The engine's built-in IPv4/IPv6 router, applied to one frame:
	 * longest-prefix match over the namespace's routes, TTL/hop limit
	 * decrement, MAC rewrite; sets verdict, out_ifindex and reason. A
	 * frame it cannot forward goes to the stack unchanged (or is dropped,
	 * e.g. blackhole routes, broken headers).
	 */
	void (*route)(struct xvr_plugin_ctx *ctx, struct xvr_pkt *pkt);
	/* ifindex of an interface of the router's namespace, or -ENODEV. */
	int (*ifindex)(struct xvr_plugin_ctx *ctx, const char *name);
	/* Its MAC address; 0 or -ENODEV. */
	int (*ifmac)(struct xvr_plugin_ctx *ctx, __u32 ifindex, __u8 mac[6]);
	/* Its name (buf >= 16 bytes); 0 or -ENODEV. */
	int (*ifname)(struct xvr_plugin_ctx *ctx, __u32 ifindex, char *buf);
	/* A line on the engine's log (stderr), prefixed with the plugin's name. */
	void (*log)(struct xvr_plugin_ctx *ctx, const char *fmt, ...)
		__attribute__((format(printf, 2, 3)));
	/* CLOCK_MONOTONIC in ns, as the engine's heartbeat. */
	__u64 (*now_ns)(struct xvr_plugin_ctx *ctx);

	void *engine;		/* opaque */
};

/* The descriptor a plugin exports as `const struct xvr_plugin xvr_plugin`. */
struct xvr_plugin {
	__u32 abi_version;	/* XVR_PLUGIN_ABI_VERSION the plugin was built with */
	const char *name;
	/*
	 * Parse config (never NULL, "" without --plugin-config) and set up;
	 * 0, or a negative errno to refuse to start (say why with ctx->log).
	 * Optional.
	 */
	int (*init)(struct xvr_plugin_ctx *ctx, const char *config);
	/*
	 * Set a verdict for each of pkts[0..n); n >= 1. Required. Frames left
	 * XVR_VERDICT_UNSET are dropped and counted as plugin errors.
	 */
	void (*process)(struct xvr_plugin_ctx *ctx, struct xvr_pkt *pkts, unsigned int n);
	/* Release what init() took. Optional. */
	void (*fini)(struct xvr_plugin_ctx *ctx);
};

/* Room helpers: each returns 0, or -1 leaving the frame as it was. */
static inline int xvr_pkt_push(struct xvr_pkt *p, __u32 n)
{
	if (n > p->headroom)
		return -1;
	p->data -= n;
	p->len += n;
	p->headroom -= n;
	return 0;
}

static inline int xvr_pkt_pull(struct xvr_pkt *p, __u32 n)
{
	if (n > p->len)
		return -1;
	p->data += n;
	p->len -= n;
	p->headroom += n;
	return 0;
}

static inline int xvr_pkt_put(struct xvr_pkt *p, __u32 n)
{
	if (n > p->tailroom)
		return -1;
	p->len += n;
	p->tailroom -= n;
	return 0;
}

static inline int xvr_pkt_trim(struct xvr_pkt *p, __u32 n)
{
	if (n > p->len)
		return -1;
	p->len -= n;
	p->tailroom += n;
	return 0;
}

/* Set verdicts; out_ifindex for FORWARD and STACK. */
static inline void xvr_pkt_forward(struct xvr_pkt *p, __u32 ifindex)
{
	p->verdict = XVR_VERDICT_FORWARD;
	p->out_ifindex = ifindex;
	p->reason = XVR_REASON_NONE;
}

static inline void xvr_pkt_to_stack(struct xvr_pkt *p, __u32 ifindex, __u16 reason)
{
	p->verdict = XVR_VERDICT_STACK;
	p->out_ifindex = ifindex;
	p->reason = reason;
}

static inline void xvr_pkt_drop(struct xvr_pkt *p)
{
	p->verdict = XVR_VERDICT_DROP;
	p->reason = XVR_REASON_PLUGIN;
}

#endif /* XVR_PLUGIN_H */
