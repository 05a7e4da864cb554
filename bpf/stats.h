/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Booking a frame in the counter blocks of its router and its port. Every
 * frame a program sees is booked once as received and once as forwarded,
 * punted or dropped (with exactly one reason).
 */
#ifndef XVR_BPF_STATS_H
#define XVR_BPF_STATS_H

#include "trace.h"

struct books {
	struct xvr_counters *vr;
	struct xvr_counters *port;
	__u32 len;
	__u32 vr_id;		/* for the trace: 0 until classified */
	struct xdp_md *ctx;	/* for the trace: NULL in books that are not traced */
};

static __always_inline void book_rx(struct xvr_counters *c, __u32 len)
{
	if (c) {
		c->rx_packets++;
		c->rx_bytes += len;
	}
}

static __always_inline void book_drop(struct books *b, enum xvr_drop_reason reason)
{
	struct xvr_counters *cs[2] = { b->vr, b->port };

	trace_frame(b->ctx, b->vr_id, XVR_TRACE_DROP, reason);
	for (int i = 0; i < 2; i++) {
		struct xvr_counters *c = cs[i];

		if (!c)
			continue;
		c->drop_packets++;
		c->drop_bytes += b->len;
		if (reason < XVR_DROP_MAX)
			c->drop[reason]++;
	}
}

static __always_inline void book_punt(struct books *b, enum xvr_punt_reason reason)
{
	struct xvr_counters *cs[2] = { b->vr, b->port };

	trace_frame(b->ctx, b->vr_id, XVR_TRACE_PUNT, reason);
	for (int i = 0; i < 2; i++) {
		struct xvr_counters *c = cs[i];

		if (!c)
			continue;
		c->punt_packets++;
		c->punt_bytes += b->len;
		if (reason < XVR_PUNT_MAX)
			c->punt[reason]++;
	}
}

static __always_inline void book_fwd(struct books *b)
{
	trace_frame(b->ctx, b->vr_id, XVR_TRACE_FWD, 0);
	if (b->vr) {
		b->vr->fwd_packets++;
		b->vr->fwd_bytes += b->len;
	}
	if (b->port) {
		b->port->fwd_packets++;
		b->port->fwd_bytes += b->len;
	}
}

static __always_inline int drop(struct books *b, enum xvr_drop_reason reason)
{
	book_drop(b, reason);
	return XDP_DROP;
}

#endif /* XVR_BPF_STATS_H */
