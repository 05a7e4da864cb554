/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The data path's two clocks, and which per-frame read takes which.
 *
 * bpf_ktime_get_ns() is CLOCK_MONOTONIC to the nanosecond: it reads the
 * clocksource, which in a VM guest (kvm-clock) is a paravirtual page, a
 * TSC read and a scaling, for every call: on xvr's shed path it was a
 * quarter of the CPU a shed frame costs. bpf_ktime_get_coarse_ns() is
 * CLOCK_MONOTONIC_COARSE: the same base, the time of the last tick (it
 * lags CLOCK_MONOTONIC by up to one jiffy, 4 ms at HZ=250, 10 ms at
 * HZ=100, and moves in steps of one), read from memory.
 *
 * Coarse, where a jiffy is far below what the time decides:
 *   engine liveness (XVR_FE_STALE_NS, 200 ms), a link's FDB refresh (1 s)
 *   and aging (XVR_LINK_FDB_AGE_NS), its nexthop cache (100 ms), and the
 *   fair-share admission bucket, whose tolerance the controller sets to
 *   several jiffies (bpf/fair.h says why that keeps its rate exact).
 * Precise:
 *   the user's limits (bpf/policer.h says why), the cost samples (a frame's
 *   path takes well under a jiffy), tracing timestamps.
 *
 * A time written with CLOCK_MONOTONIC (an engine's heartbeat) may be ahead
 * of the coarse clock by up to a jiffy: compare such times signed.
 */
#ifndef XVR_BPF_CLOCK_H
#define XVR_BPF_CLOCK_H

static __always_inline __u64 clock_coarse_ns(void)
{
	return bpf_ktime_get_coarse_ns();
}

#endif /* XVR_BPF_CLOCK_H */
