// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Test-only stand-ins for the node side of a forwarding engine, so that
 * selftests/e2e/test_engine.sh can measure xvr-router with a fast generator
 * before `xvr fe add` exists:
 *
 *   shim_tag_push  on the generator's veth end: inserts the FE tag
 *                  (0x88b5, the configured in-namespace ifindex, the real
 *                  EtherType) and redirects into the engine's veth
 *   shim_tag_count on the engine's node-side veth end: counts what the
 *                  engine sent back, by verdict, and drops it
 *
 * Configured and read by the test through the pinned maps.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <xvr/xvr.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct shim_cfg {
	__u32 redirect_ifindex;	/* node-side end of the engine's veth */
	__u32 tag_ifindex;	/* VIF (in-namespace ifindex) frames "arrived" on */
};

enum shim_counter {
	SHIM_PUSHED = 0,	/* tagged and redirected towards the engine */
	SHIM_PUSH_FAIL = 1,	/* could not be tagged */
	SHIM_FWD = 2,		/* came back forwarded (tag without the stack bit) */
	SHIM_STACK = 3,		/* came back for the router's stack */
	SHIM_OTHER = 4,		/* came back without a tag */
	SHIM_MAX,
};

/* Written by the test (bpftool map update), read here. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct shim_cfg);
} shim_cfg SEC(".maps");

/* Written here, read by the test. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SHIM_MAX);
	__type(key, __u32);
	__type(value, __u64);
} shim_counts SEC(".maps");

static __always_inline void count(__u32 which)
{
	__u64 *c = bpf_map_lookup_elem(&shim_counts, &which);

	if (c)
		(*c)++;
}

SEC("xdp")
int shim_tag_push(struct xdp_md *ctx)
{
	__u32 zero = 0;
	struct shim_cfg *cfg = bpf_map_lookup_elem(&shim_cfg, &zero);
	void *data, *data_end;
	__u8 *p;

	if (!cfg || bpf_xdp_adjust_head(ctx, -XVR_FE_TAG_LEN))
		goto fail;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	p = data;
	if ((void *)(p + 18) > data_end)
		goto fail;
	/* MACs move to the new start; the tag goes where the EtherType was. */
	__builtin_memmove(p, p + XVR_FE_TAG_LEN, 12);
	*(__be16 *)(p + 12) = bpf_htons(XVR_FE_TAG_PROTO);
	*(__be16 *)(p + 14) = bpf_htons(cfg->tag_ifindex & XVR_FE_TAG_IFINDEX);
	count(SHIM_PUSHED);
	return bpf_redirect(cfg->redirect_ifindex, 0);
fail:
	count(SHIM_PUSH_FAIL);
	return XDP_DROP;
}

SEC("xdp")
int shim_tag_count(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u8 *p = data;

	if ((void *)(p + 18) > data_end || *(__be16 *)(p + 12) != bpf_htons(XVR_FE_TAG_PROTO))
		count(SHIM_OTHER);
	else if (bpf_ntohs(*(__be16 *)(p + 14)) & XVR_FE_TAG_STACK)
		count(SHIM_STACK);
	else
		count(SHIM_FWD);
	return XDP_DROP;
}
