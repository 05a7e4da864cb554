// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Test-only program for selftests/test_fib.c: runs bpf/fib.h's lookups on
 * the real outer maps of maps.h (so the test also proves that the inner maps
 * user space creates fit their templates).
 *
 * Frame: Ethernet + IPv4 or IPv6 header. The router id is in the first four
 * bytes of the destination MAC (host order); the nexthop id found for the
 * IP destination is written over the first four bytes of the source MAC, so
 * concurrent test runs do not share any global.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <xvr/xvr.h>
#include "maps.h"
#include "fib.h"

#define TEST_ETH_P_IP	0x0800
#define TEST_ETH_P_IPV6	0x86DD

static __always_inline int test_fib_frame(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;
	struct xvr_router *vr;
	__u32 vr_id, nh_id;

	if ((void *)(eth + 1) > data_end)
		return XDP_ABORTED;
	__builtin_memcpy(&vr_id, eth->h_dest, sizeof(vr_id));

	if (eth->h_proto == bpf_htons(TEST_ETH_P_IP)) {
		struct iphdr *iph = (void *)(eth + 1);

		if ((void *)(iph + 1) > data_end)
			return XDP_ABORTED;
		vr = bpf_map_lookup_elem(&xvr_routers, &vr_id);
		nh_id = fib4_lookup(vr_id, vr ? vr->fib4_bank : 0, iph->daddr);
	} else if (eth->h_proto == bpf_htons(TEST_ETH_P_IPV6)) {
		struct ipv6hdr *ip6h = (void *)(eth + 1);

		if ((void *)(ip6h + 1) > data_end)
			return XDP_ABORTED;
		nh_id = fib6_lookup(vr_id, ip6h->daddr.in6_u.u6_addr8);
	} else {
		return XDP_DROP;
	}
	__builtin_memcpy(eth->h_source, &nh_id, sizeof(nh_id));
	return XDP_PASS;
}

SEC("xdp")
int test_fib_lookup(struct xdp_md *ctx)
{
	return test_fib_frame(ctx);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
