/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Packet trace: a frame's verdict and its first bytes into the xvr_trace
 * ring buffer, for `xvr trace`. The hook sits in the booking functions
 * (stats.h), where every frame gets exactly one verdict, so each frame tests
 * trace_cfg.on once; while no trace runs that load is all it costs.
 */
#ifndef XVR_BPF_TRACE_H
#define XVR_BPF_TRACE_H

/*
 * Written by `xvr trace` through this program's .bss map (found from the
 * pinned program), so it needs no map lookup: the load is one instruction.
 */
volatile struct xvr_trace_cfg trace_cfg;

/* Out of line: the frames' path carries only the test of trace_cfg.on. */
static __noinline __attribute__((unused)) void
trace_record(struct xdp_md *ctx, __u32 vr_id, __u32 verdict, __u32 reason)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct xvr_trace_rec *rec;
	__u32 len = data_end - data, caplen;

	if (trace_cfg.vr_id && trace_cfg.vr_id != vr_id)
		return;
	if (trace_cfg.ifindex && trace_cfg.ifindex != ctx->ingress_ifindex)
		return;
	if (trace_cfg.verdict && trace_cfg.verdict != verdict)
		return;
	if (trace_cfg.reason && trace_cfg.reason != reason + 1)
		return;
	rec = bpf_ringbuf_reserve(&xvr_trace, sizeof(*rec), 0);
	if (!rec)
		return;
	rec->ts_ns = bpf_ktime_get_ns();
	rec->ifindex = ctx->ingress_ifindex;
	rec->vr_id = vr_id;
	rec->verdict = verdict;
	rec->reason = reason;
	rec->len = len;
	caplen = len < XVR_TRACE_SNAP ? len : XVR_TRACE_SNAP;
	/* The helper wants a length the verifier can bound to 1..SNAP. */
	barrier_var(caplen);
	if (caplen < 1 || caplen > XVR_TRACE_SNAP || bpf_xdp_load_bytes(ctx, 0, rec->data, caplen))
		caplen = 0;
	rec->caplen = caplen;
	bpf_ringbuf_submit(rec, 0);
}

/*
 * The hook: one line at each verdict. XVR_NO_TRACE builds the programs
 * without it, only to measure what it costs while off (bench-micro A/B).
 */
#ifdef XVR_NO_TRACE
#define trace_frame(ctx, vr_id, verdict, reason) do { } while (0)
#else
#define trace_frame(ctx, vr_id, verdict, reason)				\
	do {									\
		if (trace_cfg.on && (ctx))					\
			trace_record((ctx), (vr_id), (verdict), (reason));	\
	} while (0)
#endif

#endif /* XVR_BPF_TRACE_H */
