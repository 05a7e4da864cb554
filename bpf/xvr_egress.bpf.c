// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * xvr_egress: attached to the node-side end of every VIF. What a router's
 * namespace sends out of a VIF (forwarded packets in netns mode; ARP, ICMP,
 * routing protocol traffic in any mode) leaves through the VIF's port, with
 * the VIF's VLAN tag restored, in the same NAPI poll.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <xvr/xvr.h>

#include "maps.h"
#include "parsing.h"
#include "stats.h"
#include "l2.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

static __always_inline int egress(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	__u32 dev = ctx->ingress_ifindex, *vif_id, vr_id;
	struct ethhdr *eth = data;
	struct books b = {};
	struct xvr_vif *vif;
	int err;

	vif_id = bpf_map_lookup_elem(&xvr_vif_by_dev, &dev);
	if (!vif_id)
		return XDP_PASS;	/* not a VIF (yet): leave it alone */
	vif = bpf_map_lookup_elem(&xvr_vifs, vif_id);
	if (!vif)
		return XDP_DROP;
	vr_id = vif->vr_id;
	b.vr = bpf_map_lookup_elem(&xvr_vr_stats, &vr_id);
	b.len = data_end - data;
	if (!(vif->flags & XVR_VIF_ACTIVE) || vif->dev != dev)
		return drop(&b, XVR_DROP_VIF_DOWN);
	if ((void *)(eth + 1) > data_end)
		return drop(&b, XVR_DROP_BAD_L2);

	if (vif->vlan) {
		err = l2_rewrite(ctx, ETH_HLEN, NULL, NULL, vif->vlan, bpf_ntohs(eth->h_proto));
		if (err)
			return drop(&b, err);
	}
	if (bpf_redirect_map(&xvr_tx_ports, vif->port, 0) != XDP_REDIRECT)
		return drop(&b, XVR_DROP_NO_TXPORT);
	if (b.vr) {
		b.vr->tx_packets++;
		b.vr->tx_bytes += b.len;
	}
	return XDP_REDIRECT;
}

SEC("xdp")
int xvr_egress(struct xdp_md *ctx)
{
	return egress(ctx);
}
