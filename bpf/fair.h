/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Fair sharing under overload (docs/fair-sharing.md): the router's
 * admission bucket, whose rate the `xvr fair` controller sets, and the
 * sampling of each router's processing cost that the controller reads.
 * Uses policer.h's GCRA bucket.
 */
#ifndef XVR_BPF_FAIR_H
#define XVR_BPF_FAIR_H

/*
 * Whether the controller has set the router an admission rate (it does
 * only while the node is overloaded); inlined, so that a frame of a router
 * without one skips admit_fair()'s call.
 */
static __always_inline bool fair_limited(__u32 vr_id)
{
	struct xvr_fair *fair = bpf_map_lookup_elem(&xvr_fair, &vr_id);

	return fair && fair->adm.frame_cost;
}

/*
 * The router's fair-share admission; true if the frame is admitted. A
 * global function like the limits' checks: verified once. Without a rate
 * (the controller sees no overload) it costs one lookup.
 *
 * It reads the coarse clock (bpf/clock.h): on a flooded router every frame
 * comes here, and most are shed, so the clock read was much of what a shed
 * frame cost. GCRA on a clock that stands still for a jiffy (J) and then
 * jumps by J: within a jiffy, frames are admitted until tat runs tolerance
 * ahead of the frozen now; at the jump, now moves J on. If tolerance >= J,
 * tat is still ahead of the new now, base stays tat, no credit is lost,
 * and each jiffy admits exactly J of the rate: the average rate over the
 * controller's periods is the one it set. With tolerance < J, tat would
 * fall behind at each jump and each jiffy admit only tolerance's worth,
 * well under the rate. So the controller sets the tolerance to several
 * jiffies (fair_rate_set in lib/fair.c: at least XVR_FAIR_TOL_JIFFIES, so
 * a late tick loses nothing either). The price: a flooded router's
 * admitted frames come in bunches of a jiffy's worth at the start of each
 * tick (400 frames every 4 ms at 100 kpps, HZ=250) instead of evenly
 * spaced, and its first burst may be up to a jiffy's worth longer than the
 * tolerance (the clock's lag). The controller shares capacity over its
 * periods, not within a jiffy.
 */
__noinline bool admit_fair(__u32 vr_id)
{
	struct xvr_fair *fair = bpf_map_lookup_elem(&xvr_fair, &vr_id);

	if (!fair || !fair->adm.frame_cost)
		return true;
	return bucket_take(&fair->adm, bucket_now_coarse(), fair->adm.frame_cost,
			   fair->adm.tolerance);
}

/*
 * Whether this frame of the router is timed: about one in
 * XVR_COST_SAMPLE_MEAN, at random gaps. Returns the start time, or 0 for a
 * frame that is not sampled.
 */
static __always_inline __u64 cost_begin(__u32 vr_id)
{
	struct xvr_cost *c = bpf_map_lookup_elem(&xvr_cost, &vr_id);

	if (!c)
		return 0;
	if (c->gap > 1) {
		c->gap--;
		return 0;
	}
	c->gap = bpf_get_prandom_u32() % (2 * XVR_COST_SAMPLE_MEAN - 1) + 1;
	/* The precise clock: a frame's path takes far less than a jiffy. */
	return bpf_ktime_get_ns();
}

/* Books a sampled frame's time since t0 (from cost_begin). */
static __always_inline void cost_end(__u32 vr_id, __u64 t0)
{
	struct xvr_cost *c = bpf_map_lookup_elem(&xvr_cost, &vr_id);

	if (!c)
		return;
	c->ns += bpf_ktime_get_ns() - t0;
	c->samples++;
}

#endif /* XVR_BPF_FAIR_H */
