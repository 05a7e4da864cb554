/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Rewriting the Ethernet header: MACs, and VLAN tags popped or pushed. */
#ifndef XVR_BPF_L2_H
#define XVR_BPF_L2_H

/*
 * Replace the frame's l2_len bytes of Ethernet header and tags by a new
 * header: dst and src MACs (NULL keeps the frame's own), one 4-byte tag
 * {tag_proto, tag} if tag_proto is set (an 802.1Q tag, or an engine tag of
 * the same shape), and proto. 0 or XVR_DROP_ADJUST.
 */
static __always_inline int l2_write(struct xdp_md *ctx, __u32 l2_len, const __u8 *dmac,
				    const __u8 *smac, __u16 tag_proto, __u16 tag, __u16 proto)
{
	int new_l2 = ETH_HLEN + (tag_proto ? VLAN_HLEN : 0);
	int delta = (int)l2_len - new_l2;
	__u8 macs[2 * ETH_ALEN];
	struct ethhdr *eth;
	void *data_end;

	eth = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if ((void *)(eth + 1) > data_end)
		return XVR_DROP_ADJUST;
	/* The MACs move with the header start; save them first. */
	__builtin_memcpy(macs, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(macs + ETH_ALEN, eth->h_source, ETH_ALEN);

	if (delta && bpf_xdp_adjust_head(ctx, delta))
		return XVR_DROP_ADJUST;
	/* Keep clang from reusing ctx + 4 across the two loads (the verifier
	 * refuses a ctx access through a modified pointer).
	 */
	barrier_var(ctx);
	eth = (void *)(long)ctx->data;
	barrier_var(ctx);
	data_end = (void *)(long)ctx->data_end;
	if ((void *)eth + new_l2 > data_end)
		return XVR_DROP_ADJUST;

	__builtin_memcpy(eth->h_dest, dmac ? dmac : macs, ETH_ALEN);
	__builtin_memcpy(eth->h_source, smac ? smac : macs + ETH_ALEN, ETH_ALEN);
	if (tag_proto) {
		struct vlan_hdr_ *vh = (void *)(eth + 1);

		if ((void *)(vh + 1) > data_end)
			return XVR_DROP_ADJUST;
		eth->h_proto = bpf_htons(tag_proto);
		vh->tci = bpf_htons(tag);
		vh->encap_proto = bpf_htons(proto);
	} else {
		eth->h_proto = bpf_htons(proto);
	}
	return 0;
}

/*
 * New MACs (NULL: keep), the frame's tags replaced by one for VLAN id vlan
 * (0: none) with the priority (PCP) and drop-eligible (DEI) bits prio, which
 * a caller takes from the frame's own outer tag: a rewrite changes the VLAN,
 * not the class of service the sender asked for.
 */
static __always_inline int l2_rewrite_prio(struct xdp_md *ctx, __u32 l2_len, const __u8 *dmac,
					   const __u8 *smac, __u16 vlan, __u16 prio, __u16 proto)
{
	return l2_write(ctx, l2_len, dmac, smac, vlan ? ETH_P_8021Q : 0,
			(vlan & VLAN_VID_MASK) | (prio & ~VLAN_VID_MASK), proto);
}

/* New MACs (NULL: keep), the frame's tags replaced by vlan (0: none), priority 0. */
static __always_inline int l2_rewrite(struct xdp_md *ctx, __u32 l2_len, const __u8 *dmac,
				      const __u8 *smac, __u16 vlan, __u16 proto)
{
	return l2_rewrite_prio(ctx, l2_len, dmac, smac, vlan, 0, proto);
}

#endif /* XVR_BPF_L2_H */
