// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Baseline for benchmarks: the XDP forwarder a user would write instead of
 * xvr's FIB, the kind of the kernel's samples/bpf/xdp_fwd and xdp-tools'
 * xdp-forward, made per tenant: the ingress port names a kernel routing
 * table (fibfwd_tables), looked up with bpf_fib_lookup() and
 * BPF_FIB_LOOKUP_TBID, so the kernel's trie, nexthops and neighbour table
 * do the work. IPv4 and IPv6: TTL / hop limit decrement, MACs from the
 * neighbour entry, devmap redirect. Anything the lookup does not resolve
 * goes to the stack (XDP_PASS), as in xdp_fwd. xvr's xdp mode is measured
 * against it (scripts/bench.sh, points fibfwd-2 and fibfwd-170k).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define AF_INET		2
#define AF_INET6	10
#define ETH_P_IP	0x0800
#define ETH_P_IPV6	0x86DD
#define ETH_ALEN	6

/* Written by xvr-sink fibfwd (ingress ifindex -> table id), read here. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u32);
} fibfwd_tables SEC(".maps");

/* Written by xvr-sink fibfwd (egress ports by ifindex), read here. */
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u32);
} fibfwd_ports SEC(".maps");

/* RFC 1624 incremental update for the TTL byte going down by one. */
static __always_inline void ipv4_ttl_dec(struct iphdr *iph)
{
	__u32 sum = (__u32)iph->check + (__u32)bpf_htons(0x0100);

	iph->check = (__sum16)(sum + (sum >= 0xffff));
	iph->ttl--;
}

static __always_inline int fibfwd(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct bpf_fib_lookup fib = {};
	struct ethhdr *eth = data;
	struct ipv6hdr *ip6 = NULL;
	struct iphdr *iph = NULL;
	__u32 ifindex = ctx->ingress_ifindex;
	__u32 *tbid;
	int rc;

	if ((void *)(eth + 1) > data_end)
		return XDP_PASS;
	tbid = bpf_map_lookup_elem(&fibfwd_tables, &ifindex);
	if (!tbid)
		return XDP_PASS;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		iph = (void *)(eth + 1);
		if ((void *)(iph + 1) > data_end || iph->ttl <= 1)
			return XDP_PASS;
		fib.family = AF_INET;
		fib.tos = iph->tos;
		fib.l4_protocol = iph->protocol;
		fib.tot_len = bpf_ntohs(iph->tot_len);
		fib.ipv4_src = iph->saddr;
		fib.ipv4_dst = iph->daddr;
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		ip6 = (void *)(eth + 1);
		if ((void *)(ip6 + 1) > data_end || ip6->hop_limit <= 1)
			return XDP_PASS;
		fib.family = AF_INET6;
		fib.flowinfo = *(__be32 *)ip6 & bpf_htonl(0x0fffffff);
		fib.l4_protocol = ip6->nexthdr;
		fib.tot_len = bpf_ntohs(ip6->payload_len);
		__builtin_memcpy(fib.ipv6_src, &ip6->saddr, sizeof(fib.ipv6_src));
		__builtin_memcpy(fib.ipv6_dst, &ip6->daddr, sizeof(fib.ipv6_dst));
	} else {
		return XDP_PASS;
	}
	fib.ifindex = ifindex;
	fib.tbid = *tbid;
	rc = bpf_fib_lookup(ctx, &fib, sizeof(fib),
			    BPF_FIB_LOOKUP_DIRECT | BPF_FIB_LOOKUP_TBID);
	if (rc != BPF_FIB_LKUP_RET_SUCCESS)
		return XDP_PASS;
	/* Only ports the devmap holds: anything else is the stack's. */
	if (!bpf_map_lookup_elem(&fibfwd_ports, &fib.ifindex))
		return XDP_PASS;
	if (iph)
		ipv4_ttl_dec(iph);
	else if (ip6)
		ip6->hop_limit--;
	__builtin_memcpy(eth->h_dest, fib.dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, fib.smac, ETH_ALEN);
	return bpf_redirect_map(&fibfwd_ports, fib.ifindex, 0);
}

SEC("xdp")
int xvr_fibfwd(struct xdp_md *ctx)
{
	return fibfwd(ctx);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
