// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * xvr_egress: attached to the node-side end of every VIF and every
 * forwarding engine's veth.
 *  - From a VIF: what the router's namespace sends (forwarded packets in
 *    netns mode; ARP, ICMP, routing protocol traffic in any mode) leaves
 *    through the VIF's port with the VIF's VLAN tag restored.
 *  - From an engine: the frame's tag names a VIF of the engine's router by
 *    its in-namespace ifindex; anything else is dropped and counted. The tag
 *    is replaced by the VIF's VLAN tag and the frame leaves by its port, or,
 *    flagged for the stack, enters the router's namespace through that VIF.
 *
 * Anti-spoofing, on both paths, for every frame bound for a port: a tenant
 * never sends its own 802.1Q/802.1ad tag (the VIF's tag is xvr's to add;
 * a tenant's own would hop into another router's VLAN), and its source MAC
 * must be one of its router's MACs on that port: the VIF's MAC (which the
 * namespace end of the VIF is created with), or a `classify ROUTER mac M`
 * rule of the router on that port or on any port. A VIF made with `spoof on`
 * skips the MAC check. An engine's frames for the router's own stack keep
 * the sender's MAC (they are punts) but may not carry a tag either.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <xvr/xvr.h>

#include "maps.h"
#include "parsing.h"
#include "stats.h"
#include "l2.h"
#include "egre.h"
#include "policer.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

static __always_inline bool is_vlan_proto(__u16 proto)
{
	return proto == ETH_P_8021Q || proto == ETH_P_8021AD;
}

static __always_inline bool mac_eq(const __u8 *a, const __u8 *b)
{
	return *(const __u32 *)a == *(const __u32 *)b &&
	       *(const __u16 *)(a + 4) == *(const __u16 *)(b + 4);
}

/* A classifier rule `mac` on ifindex (0: any port) that names router vr_id. */
static __always_inline bool mac_rule_of(const __u8 *mac, __u32 ifindex, __u32 vr_id)
{
	struct xvr_cls_key key = { .ifindex = ifindex, .kind = XVR_RULE_MAC };
	struct xvr_cls_val *val;

	__builtin_memcpy(key.mac, mac, ETH_ALEN);
	val = bpf_map_lookup_elem(&xvr_classify, &key);
	return val && val->vr_id == vr_id;
}

/*
 * May src leave by vif's port? The VIF's own MAC is the common case and
 * costs one compare; only other sources look for the router's rules.
 */
static __always_inline bool src_mac_ok(const struct xvr_vif *vif, const __u8 *src)
{
	if ((vif->flags & XVR_VIF_SPOOF) || mac_eq(src, vif->mac))
		return true;
	return mac_rule_of(src, vif->port, vif->vr_id) || mac_rule_of(src, 0, vif->vr_id);
}

/* An IP frame's header must fit and its length must fit the frame. */
static __always_inline bool fe_frame_ok(void *l3, void *data_end, __u16 proto)
{
	if (proto == ETH_P_IP) {
		struct iphdr *iph = l3;

		return (void *)(iph + 1) <= data_end &&
		       l3 + bpf_ntohs(iph->tot_len) <= data_end && iph->ihl >= 5;
	}
	if (proto == ETH_P_IPV6) {
		struct ipv6hdr *ip6h = l3;

		return (void *)(ip6h + 1) <= data_end &&
		       (void *)(ip6h + 1) + bpf_ntohs(ip6h->payload_len) <= data_end;
	}
	return l3 <= data_end;
}

/*
 * An engine's frame for every remote of a multipoint link goes up the
 * engine's node-side end with the link's id in front of it (XDP metadata,
 * which only this program writes), for xvr_link_flood there.
 */
static __always_inline int engine_flood_pass(struct xdp_md *ctx, __u32 link_id, struct books *b)
{
	void *data, *meta;

	if (bpf_xdp_adjust_meta(ctx, -(int)sizeof(__u32)))
		return drop(b, link_book_drop(link_id, b->len, XVR_DROP_ADJUST));
	data = (void *)(long)ctx->data;
	meta = (void *)(long)ctx->data_meta;
	if (meta + sizeof(__u32) > data)
		return drop(b, link_book_drop(link_id, b->len, XVR_DROP_ADJUST));
	*(__u32 *)meta = link_id;
	return XDP_PASS;
}

/*
 * What the router's stack sends into a virtual link: encapsulated to the
 * remote and out of the underlay port. Multipoint frames for every remote
 * (broadcast, multicast, unknown unicast) continue to the link's tc
 * program, which sends a copy to each.
 */
static __always_inline int link_out(struct xdp_md *ctx, __u32 link_id, struct books *b)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;
	struct xvr_link *link;
	__be32 remote;
	int rc;

	link = bpf_map_lookup_elem(&xvr_vlinks, &link_id);
	if (!link || !(link->flags & XVR_LINK_ACTIVE))
		return drop(b, link_book_drop(link_id, b->len, XVR_DROP_LINK_DOWN));
	if ((void *)(eth + 1) > data_end)
		return drop(b, XVR_DROP_BAD_L2);
	remote = egre_remote(link, link_id, eth->h_dest);
	/* Flooding happens at tc ingress of the device the frame came in on
	 * (xvr_link_flood): the link's own end knows its link; an engine's
	 * end is told which link in the frame's metadata. */
	if (!remote) {
		if (ctx->ingress_ifindex == link->dev)
			return XDP_PASS;
		return engine_flood_pass(ctx, link_id, b);
	}
	rc = egre_encap(ctx, link_id, link, remote);
	if (rc < 0)
		return drop(b, link_book_drop(link_id, b->len, -rc));
	if (bpf_redirect_map(&xvr_tx_ports, rc, 0) != XDP_REDIRECT)
		return drop(b, link_book_drop(link_id, b->len, XVR_DROP_NO_TXPORT));
	link_book(link_id, b->len, true);
	if (b->vr) {
		b->vr->tx_packets++;
		b->vr->tx_bytes += b->len;
	}
	return XDP_REDIRECT;
}

/* A frame an engine sent: check its tag, then out by the VIF (or into it). */
static __always_inline int engine_out(struct xdp_md *ctx, __u32 fe_id)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct xvr_vif_peer_key key = {};
	struct ethhdr *eth = data;
	struct vlan_hdr_ *tag;
	__u32 mtu_len = 0, *vif_id;
	struct books b = {};
	struct xvr_vif *vif;
	struct xvr_fe *fe;
	__u16 ifv, proto;
	int err;

	fe = bpf_map_lookup_elem(&xvr_fes, &fe_id);
	if (!fe || !(fe->flags & XVR_FE_ACTIVE))
		return XDP_DROP;
	key.vr_id = fe->vr_id;
	b.vr = bpf_map_lookup_elem(&xvr_vr_stats, &key.vr_id);
	b.len = data_end - data;
	b.vr_id = key.vr_id;
	b.ctx = ctx;

	tag = (void *)(eth + 1);
	if ((void *)(tag + 1) > data_end)
		return drop(&b, XVR_DROP_FE_BAD_LEN);
	if (eth->h_proto != bpf_htons(XVR_FE_TAG_PROTO))
		return drop(&b, XVR_DROP_FE_TAG);
	ifv = bpf_ntohs(tag->tci);
	proto = bpf_ntohs(tag->encap_proto);
	if (is_vlan_proto(proto))
		return drop(&b, XVR_DROP_EGR_VLAN);
	if (!fe_frame_ok(tag + 1, data_end, proto))
		return drop(&b, XVR_DROP_FE_BAD_LEN);

	/* Only a VIF of the engine's own router can be named. */
	key.peer = ifv & XVR_FE_TAG_IFINDEX;
	vif_id = bpf_map_lookup_elem(&xvr_vif_by_peer, &key);
	vif = vif_id ? bpf_map_lookup_elem(&xvr_vifs, vif_id) : NULL;
	if (!vif || !(vif->flags & XVR_VIF_ACTIVE) || vif->vr_id != key.vr_id)
		return drop(&b, XVR_DROP_FE_TAG);

	if (ifv & XVR_FE_TAG_STACK) {
		err = l2_write(ctx, ETH_HLEN + XVR_FE_TAG_LEN, NULL, NULL, 0, 0, proto);
		if (err)
			return drop(&b, err);
		if (bpf_redirect_map(&xvr_tx_ports, vif->dev, 0) != XDP_REDIRECT)
			return drop(&b, XVR_DROP_NO_VIF);
	} else if (vif->flags & XVR_VIF_LINK) {
		/* Onto a virtual link: untagged, then encapsulated to its remote. */
		err = l2_write(ctx, ETH_HLEN + XVR_FE_TAG_LEN, NULL, NULL, 0, 0, proto);
		if (err)
			return drop(&b, err);
		return link_out(ctx, *vif_id, &b);
	} else {
		if (!src_mac_ok(vif, eth->h_source))
			return drop(&b, XVR_DROP_EGR_SRC_MAC);
		/* The MTU counts the packet: neither tag counts. */
		err = bpf_check_mtu(ctx, vif->port, &mtu_len, -XVR_FE_TAG_LEN, 0);
		if (err == BPF_MTU_CHK_RET_FRAG_NEEDED)
			return drop(&b, XVR_DROP_TX_MTU);
		err = l2_rewrite(ctx, ETH_HLEN + XVR_FE_TAG_LEN, NULL, NULL, vif->vlan, proto);
		if (err)
			return drop(&b, err);
		if (bpf_redirect_map(&xvr_tx_ports, vif->port, 0) != XDP_REDIRECT)
			return drop(&b, XVR_DROP_NO_TXPORT);
	}
	trace_frame(ctx, b.vr_id, XVR_TRACE_TX, 0);
	if (b.vr) {
		b.vr->tx_packets++;
		b.vr->tx_bytes += b.len;
	}
	return XDP_REDIRECT;
}

/* The books of a frame of router vr_id's VIF: its router's counters. */
static __always_inline void vif_books(struct books *b, __u32 vr_id, __u32 len,
				      struct xdp_md *ctx)
{
	b->vr = bpf_map_lookup_elem(&xvr_vr_stats, &vr_id);
	b->len = len;
	b->vr_id = vr_id;
	b->ctx = ctx;
}

static __always_inline int egress(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	__u32 dev = ctx->ingress_ifindex, *vif_id, vr_id, mtu_len = 0;
	struct ethhdr *eth = data;
	struct books b = {};
	struct xvr_vif *vif;
	int err;

	vif_id = bpf_map_lookup_elem(&xvr_fe_by_dev, &dev);
	if (vif_id)
		return engine_out(ctx, *vif_id);
	vif_id = bpf_map_lookup_elem(&xvr_vif_by_dev, &dev);
	if (!vif_id)
		return XDP_PASS;	/* not a VIF (yet): leave it alone */
	vif = bpf_map_lookup_elem(&xvr_vifs, vif_id);
	if (!vif)
		return XDP_DROP;
	vr_id = vif->vr_id;
	vif_books(&b, vr_id, data_end - data, ctx);
	if (!(vif->flags & XVR_VIF_ACTIVE) || vif->dev != dev)
		return drop(&b, XVR_DROP_VIF_DOWN);
	if ((void *)(eth + 1) > data_end)
		return drop(&b, XVR_DROP_BAD_L2);
	/*
	 * A link carries the tenant's own Ethernet to its own remote routers,
	 * classified there by the link's key: nothing in it can reach another
	 * router, so the port checks below are for port VIFs only.
	 */
	if (vif->flags & XVR_VIF_LINK)
		return link_out(ctx, *vif_id, &b);
	if (is_vlan_proto(bpf_ntohs(eth->h_proto)))
		return drop(&b, XVR_DROP_EGR_VLAN);
	if (!src_mac_ok(vif, eth->h_source))
		return drop(&b, XVR_DROP_EGR_SRC_MAC);

	/*
	 * The VIF got its port's MTU when it was made; the port's may have
	 * been lowered since. Counted here, not lost in the devmap.
	 */
	if (bpf_check_mtu(ctx, vif->port, &mtu_len, 0, 0) == BPF_MTU_CHK_RET_FRAG_NEEDED)
		return drop(&b, XVR_DROP_TX_MTU);
	if (vif->vlan) {
		err = l2_rewrite(ctx, ETH_HLEN, NULL, NULL, vif->vlan, bpf_ntohs(eth->h_proto));
		if (err)
			return drop(&b, err);
	}
	if (bpf_redirect_map(&xvr_tx_ports, vif->port, 0) != XDP_REDIRECT)
		return drop(&b, XVR_DROP_NO_TXPORT);
	trace_frame(ctx, b.vr_id, XVR_TRACE_TX, 0);
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

#define TC_ACT_OK	0
#define TC_ACT_SHOT	2

/*
 * xvr_egress_skb: the checks and forwarding of egress() for a port VIF, as
 * a tc program at ingress of the VIF's node-side end. A frame the router's
 * namespace sends arrives there as an skb; XDP on it (veth's XDP on an skb)
 * turns it into an xdp_buff, and redirects it as an xdp_frame, after the
 * skb is built and before the port rebuilds one. Here the skb goes on as it
 * is. Engines' ends and link VIFs are XDP's (TC_ACT_OK: left alone).
 */
static __always_inline int egress_skb(struct __sk_buff *skb)
{
	__u32 dev = skb->ifindex, *vif_id, mtu_len = 0;
	struct books b = {};
	struct xvr_vif *vif;
	struct ethhdr *eth;
	void *data, *data_end;
	struct {
		__u8 macs[2 * ETH_ALEN];
		__be16 tpid, tci, proto;
	} hdr;

	if (bpf_map_lookup_elem(&xvr_fe_by_dev, &dev))
		return TC_ACT_OK;
	vif_id = bpf_map_lookup_elem(&xvr_vif_by_dev, &dev);
	if (!vif_id)
		return TC_ACT_OK;
	vif = bpf_map_lookup_elem(&xvr_vifs, vif_id);
	if (!vif)
		return TC_ACT_SHOT;
	b.vr = bpf_map_lookup_elem(&xvr_vr_stats, &vif->vr_id);
	b.len = skb->len;
	b.vr_id = vif->vr_id;
	if (!(vif->flags & XVR_VIF_ACTIVE) || vif->dev != dev) {
		book_drop(&b, XVR_DROP_VIF_DOWN);
		return TC_ACT_SHOT;
	}
	if (vif->flags & XVR_VIF_LINK)
		return TC_ACT_OK;
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	eth = data;
	if ((void *)(eth + 1) > data_end) {
		book_drop(&b, XVR_DROP_BAD_L2);
		return TC_ACT_SHOT;
	}
	/* A tag the namespace's VLAN device left to offload is a tag too. */
	if (skb->vlan_present || is_vlan_proto(bpf_ntohs(eth->h_proto))) {
		book_drop(&b, XVR_DROP_EGR_VLAN);
		return TC_ACT_SHOT;
	}
	if (!src_mac_ok(vif, eth->h_source)) {
		book_drop(&b, XVR_DROP_EGR_SRC_MAC);
		return TC_ACT_SHOT;
	}
	if (bpf_check_mtu(skb, vif->port, &mtu_len, 0, 0) == BPF_MTU_CHK_RET_FRAG_NEEDED) {
		book_drop(&b, XVR_DROP_TX_MTU);
		return TC_ACT_SHOT;
	}
	if (vif->vlan) {
		/*
		 * The tag in the frame, as xvr_egress writes it, not left to
		 * offload; for any protocol (bpf_skb_adjust_room takes IP only).
		 */
		__builtin_memcpy(hdr.macs, eth, sizeof(hdr.macs));
		hdr.tpid = bpf_htons(ETH_P_8021Q);
		hdr.tci = bpf_htons(vif->vlan & VLAN_VID_MASK);
		hdr.proto = eth->h_proto;
		if (bpf_skb_change_head(skb, sizeof(struct vlan_hdr_), 0) ||
		    bpf_skb_store_bytes(skb, 0, &hdr, sizeof(hdr), 0)) {
			book_drop(&b, XVR_DROP_ADJUST);
			return TC_ACT_SHOT;
		}
	}
	if (b.vr) {
		b.vr->tx_packets++;
		b.vr->tx_bytes += b.len;
	}
	return bpf_redirect(vif->port, 0);
}

SEC("tc")
int xvr_egress_skb(struct __sk_buff *skb)
{
	return egress_skb(skb);
}

/*
 * Multipoint flooding, at tc ingress of a link's node-side end: what
 * xvr_egress passed on (broadcast, multicast, unknown unicast of a
 * multipoint link) leaves once per remote. XDP cannot do this: it has no
 * way to copy a frame, and a devmap broadcast sends the same bytes to each
 * device while every remote needs its own outer header, all through the
 * same underlay port. Here the outer headers are pushed once, rewritten
 * per remote, and each copy is bpf_clone_redirect()ed out of the port.
 */
static __always_inline int link_flood(struct __sk_buff *skb, __u32 id,
				      const struct xvr_link *link)
{
	struct xvr_link_nh nh;
	/* Two bytes ahead put the outer IPv4 header on a 4-byte boundary:
	 * the verifier refuses unaligned stack access. */
	struct {
		__u16 pad;
		struct egre_hdr h;
	} __attribute__((aligned(4))) out;
	__u32 inner_len = skb->len;
	__u16 tot_len;
	int reason;

	if (inner_len < ETH_HLEN || inner_len > 0xffff - sizeof(out.h)) {
		link_book_drop(id, inner_len, XVR_DROP_BAD_L2);
		return TC_ACT_SHOT;
	}
	tot_len = inner_len + sizeof(out.h) - ETH_HLEN;
	if (bpf_skb_change_head(skb, sizeof(out.h), 0)) {
		link_book_drop(id, inner_len, XVR_DROP_ADJUST);
		return TC_ACT_SHOT;
	}
	for (int i = 0; i < XVR_LINK_MAX_REMOTES; i++) {
		__be32 remote;

		if (i >= link->nremotes)
			break;
		remote = link->remote[i];
		reason = egre_route(skb, id, link, remote, tot_len, &nh);
		if (!reason) {
			egre_fill(&out.h, link, remote, nh.dmac, nh.smac, tot_len);
			if (bpf_skb_store_bytes(skb, 0, &out.h, sizeof(out.h), 0) ||
			    bpf_clone_redirect(skb, nh.ifindex, 0))
				reason = XVR_DROP_NO_TXPORT;
		}
		if (reason) {
			link_book_drop(id, inner_len, reason);
			continue;
		}
		link_book(id, inner_len, true);
	}
	return TC_ACT_SHOT;	/* every copy is out; the frame itself goes nowhere */
}

/*
 * An engine's end: the link comes from the metadata engine_flood_pass
 * wrote, and must be a link of the engine's own router. A frame without
 * it was not passed up by xvr_egress and is left alone.
 */
static __always_inline int engine_flood(struct __sk_buff *skb, __u32 fe_id)
{
	void *data = (void *)(long)skb->data;
	__u32 *meta = (void *)(long)skb->data_meta, id;
	struct xvr_link *link;
	struct xvr_fe *fe;

	if ((void *)(meta + 1) > data)
		return TC_ACT_OK;
	id = *meta;
	fe = bpf_map_lookup_elem(&xvr_fes, &fe_id);
	if (!fe || !(fe->flags & XVR_FE_ACTIVE))
		return TC_ACT_SHOT;
	link = bpf_map_lookup_elem(&xvr_vlinks, &id);
	if (!link || !(link->flags & XVR_LINK_ACTIVE) || link->vr_id != fe->vr_id) {
		link_book_drop(id, skb->len, XVR_DROP_LINK_DOWN);
		return TC_ACT_SHOT;
	}
	return link_flood(skb, id, link);
}

SEC("tc")
int xvr_link_flood(struct __sk_buff *skb)
{
	__u32 dev = skb->ifindex, *idp, id;
	struct xvr_link *link;

	idp = bpf_map_lookup_elem(&xvr_fe_by_dev, &dev);
	if (idp)
		return engine_flood(skb, *idp);
	idp = bpf_map_lookup_elem(&xvr_vif_by_dev, &dev);
	if (!idp)
		return TC_ACT_SHOT;
	id = *idp;
	link = bpf_map_lookup_elem(&xvr_vlinks, &id);
	if (!link || !(link->flags & XVR_LINK_ACTIVE) || link->dev != dev)
		return TC_ACT_SHOT;
	return link_flood(skb, id, link);
}

/*
 * xvr_bcast_copy: the devmap program of every entry of the broadcast sets
 * (xvr_bcast), run on each copy of a broadcast or multicast frame just
 * before it enters its VIF (ingress_ifindex is the port it came in by,
 * egress_ifindex the VIF's node-side end). The copy is its router's alone:
 * admitted by that router's limits (ARP and every copy for a router that
 * does not forward in its namespace by its punt budget, as ingress does)
 * and counted in its counters: received, then forwarded (netns mode, its
 * stack forwards) or punted (xdp and afxdp modes, the copy is for the
 * router's control plane) or dropped.
 */
SEC("xdp/devmap")
int xvr_bcast_copy(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	__u32 dev = ctx->egress_ifindex, *vif_id, vr_id;
	struct ethhdr *eth = data;
	struct xvr_router *vr;
	struct books b = {};
	struct xvr_vif *vif;
	__u16 proto;

	vif_id = bpf_map_lookup_elem(&xvr_vif_by_dev, &dev);
	vif = vif_id ? bpf_map_lookup_elem(&xvr_vifs, vif_id) : NULL;
	/*
	 * `vif del` takes the VIF out of its set before it frees the slot: only
	 * a copy in flight during that finds none, and has no router to count.
	 */
	if (!vif)
		return XDP_DROP;
	vr_id = vif->vr_id;
	vif_books(&b, vr_id, data_end - data, ctx);
	book_rx(b.vr, b.len);
	if (!(vif->flags & XVR_VIF_ACTIVE) || vif->dev != dev || vif->port != ctx->ingress_ifindex)
		return drop(&b, XVR_DROP_VIF_DOWN);
	vr = bpf_map_lookup_elem(&xvr_routers, &vr_id);
	if (!vr || !(vr->flags & XVR_ROUTER_ACTIVE))
		return drop(&b, XVR_DROP_ROUTER_DOWN);
	if ((void *)(eth + 1) > data_end)
		return drop(&b, XVR_DROP_BAD_L2);
	proto = bpf_ntohs(eth->h_proto);
	if (proto == ETH_P_ARP || vr->mode != XVR_MODE_NETNS) {
		if (!police_punt(vr_id))
			return drop(&b, XVR_DROP_PUNT_POLICED);
	} else if (!police_frame(vr_id, b.len)) {
		return drop(&b, XVR_DROP_POLICED);
	}
	if (vr->mode == XVR_MODE_NETNS)
		book_fwd(&b);
	else
		book_punt(&b, proto == ETH_P_IP || proto == ETH_P_IPV6 ? XVR_PUNT_MCAST :
									XVR_PUNT_NON_IP);
	return XDP_PASS;
}
