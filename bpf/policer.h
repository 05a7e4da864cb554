/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Admission: a router's limits (struct xvr_limit, GCRA buckets; the ABI
 * header says why one shared word per bucket and not per-CPU buckets),
 * checked right after classification, before any per-router work.
 */
#ifndef XVR_BPF_POLICER_H
#define XVR_BPF_POLICER_H

#include "clock.h"

/*
 * Compare-and-swap attempts before a conforming frame gives up: each failure
 * means another CPU admitted a frame of the same router just now. A frame
 * that loses every race is policed, so the bucket never lets more through
 * than its rate, whatever the contention.
 */
#define POLICER_CAS_TRIES	4

/*
 * The user's limits run on the precise clock (bpf/clock.h), and must: the
 * coarse clock stands still for a jiffy and then jumps by one. A bucket
 * whose tolerance is below a jiffy (burst 32 at 1 Mpps is 31 us) would
 * refill only burst frames per jump and police most of the rate away; and
 * with any tolerance, the clock's lag of up to a jiffy lets up to a jiffy's
 * worth of the rate more through back to back than `burst N` promises.
 * Neither is what the user configured, so they pay for the exact clock.
 */
static __always_inline __u64 bucket_now(void)
{
	return bpf_ktime_get_ns() << XVR_BUCKET_SHIFT;
}

/*
 * The coarse clock in bucket units: for buckets whose tolerance xvr itself
 * sets to several jiffies (the fair-share admission, bpf/fair.h).
 */
static __always_inline __u64 bucket_now_coarse(void)
{
	return clock_coarse_ns() << XVR_BUCKET_SHIFT;
}

/*
 * A frame limit's frames taken ahead on one CPU. The clock read a bucket
 * needs is the dear part of admitting a frame here (kvm-clock: a
 * paravirtual page, a TSC read and a scaling, some 40 ns in this guest):
 * a CPU that finds the bucket with room takes up to POLICER_BATCH frames'
 * worth at once, as if that many frames had arrived back to back then, and
 * admits the next ones of the router from them without a clock read.
 *
 * Never more than the bucket grants: every frame admitted this way is a
 * frame the bucket admitted at the moment of the take. What changes is
 * when: a CPU spends them within the coarse clock's tick it read right
 * after the take (a jiffy or so later at most); a frame after that tick
 * gives the unspent ones back to the bucket first, so none is lost. A
 * flooded router's bucket has room for one frame at a time, and takes one:
 * the batch only saves the clock on frames under the limit (a limit nothing
 * reaches costs a clock read per POLICER_BATCH frames instead of per
 * frame), and a frame over the limit pays for it no more than a per-CPU
 * array read (no coarse clock, no division). The batch is at most half the
 * burst, so a burst of 3 stays exact frame by frame.
 *
 * Per CPU and per program object, not node state: never pinned, gone
 * with the program (a replaced program's unspent frames are lost, at most
 * POLICER_BATCH - 1 per CPU and router, once).
 */
#define POLICER_BATCH		8

struct police_credit {
	__u64 tick;		/* the coarse clock right after the frames were taken */
	__u64 cost;		/* the frame cost they were taken at */
	__u32 frames;		/* taken and not yet admitted */
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XVR_MAX_ROUTERS);
	__type(key, __u32);
	__type(value, struct police_credit);
} police_credit SEC(".maps");

/*
 * Moves the bucket on by cost (1/16 ns) if it is within tolerance of now:
 * 1, or 0 if the frame is over the limit (found without a division or a
 * write). With batch, by as many frames of cost as conform back to back
 * now, at most half the burst and POLICER_BATCH; how many it took.
 */
static __always_inline __u32 bucket_take_n(struct xvr_bucket *b, __u64 now, __u64 cost,
					   __u64 tolerance, bool batch)
{
	for (int i = 0; i < POLICER_CAS_TRIES; i++) {
		__u64 tat = *(volatile __u64 *)&b->tat;
		__u64 base = tat > now ? tat : now;
		__u64 n = 1, want;

		if (base - now > tolerance)
			return 0;
		if (batch) {
			want = (tolerance / cost + 1) / 2;
			if (want > POLICER_BATCH)
				want = POLICER_BATCH;
			n = (tolerance - (base - now)) / cost + 1;
			if (n > want)
				n = want ?: 1;
		}
		if (__sync_val_compare_and_swap(&b->tat, tat, base + n * cost) == tat)
			return n;
	}
	return 0;
}

static __always_inline bool bucket_take(struct xvr_bucket *b, __u64 now, __u64 cost,
					__u64 tolerance)
{
	return bucket_take_n(b, now, cost, tolerance, false);
}

/*
 * Gives frames taken at cost back: tat moves back by their cost, unless the
 * bucket was set anew since (its cost changed, or tat is below what would
 * be given: `xvr limit set` writes tat 0). Each failed compare-and-swap
 * means another CPU moved tat; one that loses every try loses them (the
 * limit is then slightly tighter for a moment, never looser).
 */
static __always_inline void bucket_give_frames(struct xvr_bucket *b, __u64 cost, __u32 frames)
{
	__u64 back = frames * cost;

	for (int i = 0; i < POLICER_CAS_TRIES; i++) {
		__u64 tat = *(volatile __u64 *)&b->tat;

		if (b->frame_cost != cost || tat < back)
			return;
		if (__sync_val_compare_and_swap(&b->tat, tat, tat - back) == tat)
			return;
	}
}

/* A frame limit without a byte limit: admitted from the CPU's frames taken ahead, or the bucket. */
static __always_inline bool police_frames(struct xvr_bucket *b, __u32 vr_id)
{
	struct police_credit *c = bpf_map_lookup_elem(&police_credit, &vr_id);
	__u64 cost = b->frame_cost;
	__u32 n;

	if (c && c->frames) {
		if (c->tick == bpf_ktime_get_coarse_ns() && c->cost == cost) {
			c->frames--;
			return true;
		}
		bucket_give_frames(b, c->cost, c->frames);
		c->frames = 0;
	}
	n = bucket_take_n(b, bucket_now(), cost, b->tolerance, true);
	if (!n)
		return false;
	if (c && n > 1) {
		c->tick = bpf_ktime_get_coarse_ns();
		c->cost = cost;
		c->frames = n - 1;
	}
	return true;
}

/*
 * Whether the router has a data limit at all: an inlined array read, so
 * that a router without limits (the common case) pays neither the global
 * function's call nor its clock read. police_frame() checks again.
 */
static __always_inline bool data_limited(__u32 vr_id)
{
	struct xvr_limit *lim = bpf_map_lookup_elem(&xvr_limits, &vr_id);

	return lim && (lim->pps.frame_cost || lim->bps.byte_cost);
}

/*
 * The two checks are global functions: the verifier checks a global
 * function once, on its own, where an inlined copy of the compare-and-swap
 * loop at each of the data path's punt sites multiplies the states it walks
 * past its limit. They look the router's limits up themselves (a global
 * function's arguments are plain scalars here).
 */

/*
 * The router's data limits: frames per second, then bytes per second; true
 * if the frame is admitted. A frame the frame bucket admitted and the byte
 * bucket refuses has used a frame token for nothing; with both limits set
 * the frame limit is then slightly tighter than configured, never looser.
 */
__noinline bool police_frame(__u32 vr_id, __u32 len)
{
	struct xvr_limit *lim = bpf_map_lookup_elem(&xvr_limits, &vr_id);
	__u64 now;

	if (!lim || (!lim->pps.frame_cost && !lim->bps.byte_cost))
		return true;
	if (!lim->bps.byte_cost)
		return police_frames(&lim->pps, vr_id);
	now = bucket_now();
	if (lim->pps.frame_cost &&
	    !bucket_take(&lim->pps, now, lim->pps.frame_cost, lim->pps.tolerance))
		return false;
	if (lim->bps.byte_cost &&
	    !bucket_take(&lim->bps, now, ((__u64)len * lim->bps.byte_cost) >> XVR_BUCKET_BYTE_SHIFT,
			 lim->bps.tolerance))
		return false;
	return true;
}

/* The router's budget for frames into its namespace: its own, or the default. */
__noinline bool police_punt(__u32 vr_id)
{
	struct xvr_limit *lim = bpf_map_lookup_elem(&xvr_limits, &vr_id);
	__u64 cost, tolerance;

	if (!lim)
		return true;
	cost = lim->punt.frame_cost;
	tolerance = lim->punt.tolerance;
	if (!cost) {
		cost = (1000000000ull << XVR_BUCKET_SHIFT) / XVR_PUNT_DEFAULT_PPS;
		tolerance = cost * (XVR_PUNT_DEFAULT_BURST - 1);
	}
	return bucket_take(&lim->punt, bucket_now(), cost, tolerance);
}

#endif /* XVR_BPF_POLICER_H */
