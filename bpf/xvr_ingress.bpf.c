// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * xvr_ingress: attached to every port. Parses, classifies the frame to a
 * virtual router, counts it, and runs the router's data path. In xdp mode the
 * router's FIB lives in BPF maps and the frame leaves by devmap redirect in
 * the same NAPI poll; whatever the fast path does not handle is punted
 * unchanged to the router's control plane.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <xdp/xdp_helpers.h>
#include <xvr/xvr.h>

#include "maps.h"
#include "parsing.h"
#include "classify.h"
#include "fib.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Lets xdp-loader (libxdp) run xvr_ingress, continuing on XDP_PASS. */
struct {
	__uint(priority, 20);
	__uint(XDP_PASS, 1);
} XDP_RUN_CONFIG(xvr_ingress);

/* The two counter blocks a frame is booked in: its router and its port. */
struct books {
	struct xvr_counters *vr;
	struct xvr_counters *port;
	__u32 len;
};

static __always_inline void book_rx(struct xvr_counters *c, __u32 len)
{
	if (c) {
		c->rx_packets++;
		c->rx_bytes += len;
	}
}

static __always_inline int drop(struct books *b, enum xvr_drop_reason reason)
{
	struct xvr_counters *cs[2] = { b->vr, b->port };

	for (int i = 0; i < 2; i++) {
		struct xvr_counters *c = cs[i];

		if (!c)
			continue;
		c->drop_packets++;
		c->drop_bytes += b->len;
		if (reason < XVR_DROP_MAX)
			c->drop[reason]++;
	}
	return XDP_DROP;
}

/*
 * Exceptions go to the tenant. Until a router has its own namespace the
 * frame continues unchanged into the port's stack.
 */
static __always_inline int punt(struct books *b, enum xvr_punt_reason reason)
{
	struct xvr_counters *cs[2] = { b->vr, b->port };

	for (int i = 0; i < 2; i++) {
		struct xvr_counters *c = cs[i];

		if (!c)
			continue;
		c->punt_packets++;
		c->punt_bytes += b->len;
		if (reason < XVR_PUNT_MAX)
			c->punt[reason]++;
	}
	return XDP_PASS;
}

static __always_inline void book_fwd(struct books *b)
{
	if (b->vr) {
		b->vr->fwd_packets++;
		b->vr->fwd_bytes += b->len;
	}
	if (b->port) {
		b->port->fwd_packets++;
		b->port->fwd_bytes += b->len;
	}
}

/* TTL decrement with the incremental checksum update of RFC 1624. */
static __always_inline void ipv4_decrease_ttl(struct iphdr *iph)
{
	__u32 check = (__u32)iph->check;

	check += (__u32)bpf_htons(0x0100);
	iph->check = (__sum16)(check + (check >= 0xFFFF));
	iph->ttl--;
}

/*
 * Rewrite the L2 header for the nexthop: pop the ingress VLAN tags, push the
 * nexthop's tag if it has one, set both MACs. 0 or a drop reason.
 */
static __always_inline int rewrite_l2(struct xdp_md *ctx, const struct pkt *p,
				      const struct xvr_nexthop *nh)
{
	int new_l2 = ETH_HLEN + (nh->vlan ? VLAN_HLEN : 0);
	int delta = (int)p->l2_len - new_l2;
	struct ethhdr *eth;
	void *data_end;

	if (delta && bpf_xdp_adjust_head(ctx, delta))
		return XVR_DROP_ADJUST;
	eth = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if ((void *)eth + ETH_HLEN + VLAN_HLEN > data_end)
		return XVR_DROP_ADJUST;

	__builtin_memcpy(eth->h_dest, nh->dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, nh->smac, ETH_ALEN);
	if (nh->vlan) {
		struct vlan_hdr_ *vh = (void *)(eth + 1);

		eth->h_proto = bpf_htons(ETH_P_8021Q);
		vh->tci = bpf_htons(nh->vlan & VLAN_VID_MASK);
		vh->encap_proto = bpf_htons(p->l3_proto);
	} else {
		eth->h_proto = bpf_htons(p->l3_proto);
	}
	return 0;
}

static __always_inline bool ipv6_is_linklocal(const struct in6_addr *a)
{
	return a->in6_u.u6_addr8[0] == 0xfe && (a->in6_u.u6_addr8[1] & 0xc0) == 0x80;
}

/* The xdp-mode data path: FIB, nexthop, TTL, MACs, redirect. */
static __always_inline int xdp_forward(struct xdp_md *ctx, struct pkt *p, __u32 vr_id,
				       struct books *b)
{
	struct xvr_nexthop *nh;
	__u32 mtu_len = 0;
	__u32 nh_id;
	int err;

	if (p->ip4) {
		struct iphdr *iph = p->ip4;
		__u32 daddr = bpf_ntohl(iph->daddr);

		if (p->flags & PKT_IP_OPTIONS)
			return punt(b, XVR_PUNT_IP_OPTIONS);
		/* 224/4 multicast, 255.255.255.255 broadcast */
		if ((daddr >> 28) == 0xe || daddr == 0xffffffff)
			return punt(b, XVR_PUNT_MCAST);
		nh_id = fib4_lookup(vr_id, iph->daddr);
		if (!nh_id)
			return punt(b, XVR_PUNT_NO_ROUTE);
	} else if (p->ip6) {
		struct ipv6hdr *ip6h = p->ip6;

		if (p->flags & PKT_IPV6_HOPOPTS)
			return punt(b, XVR_PUNT_IP_OPTIONS);
		if (ip6h->daddr.in6_u.u6_addr8[0] == 0xff ||
		    ipv6_is_linklocal(&ip6h->daddr) || ipv6_is_linklocal(&ip6h->saddr))
			return punt(b, XVR_PUNT_MCAST);
		nh_id = fib6_lookup(vr_id, ip6h->daddr.in6_u.u6_addr8);
		if (!nh_id)
			return punt(b, XVR_PUNT_NO_ROUTE);
	} else {
		return punt(b, XVR_PUNT_NON_IP);
	}

	nh = bpf_map_lookup_elem(&xvr_nexthops, &nh_id);
	if (!nh || !(nh->flags & XVR_NH_VALID) || nh->vr_id != vr_id)
		return drop(b, XVR_DROP_BAD_NEXTHOP);
	/* A packet for the router itself is local even when its TTL is 1. */
	if (nh->flags & XVR_NH_LOCAL)
		return punt(b, XVR_PUNT_LOCAL);
	if (nh->flags & XVR_NH_BLACKHOLE)
		return drop(b, XVR_DROP_BLACKHOLE);
	if ((p->ip4 && p->ip4->ttl <= 1) || (p->ip6 && p->ip6->hop_limit <= 1))
		return punt(b, XVR_PUNT_TTL);
	if (nh->flags & XVR_NH_UNRESOLVED)
		return punt(b, XVR_PUNT_UNRESOLVED);

	/*
	 * Too big for the egress port: the control plane sends the ICMP error.
	 * The MTU counts the IP packet, so VLAN tags on either side do not.
	 */
	err = bpf_check_mtu(ctx, nh->ifindex, &mtu_len, ETH_HLEN - (int)p->l2_len, 0);
	if (err == BPF_MTU_CHK_RET_FRAG_NEEDED)
		return punt(b, XVR_PUNT_MTU);

	/* From here on the frame is changed: no more punts. */
	if (p->ip4)
		ipv4_decrease_ttl(p->ip4);
	else if (p->ip6)
		p->ip6->hop_limit--;

	err = rewrite_l2(ctx, p, nh);
	if (err)
		return drop(b, err);

	if (bpf_redirect_map(&xvr_tx_ports, nh->ifindex, 0) != XDP_REDIRECT)
		return drop(b, XVR_DROP_NO_TXPORT);
	book_fwd(b);
	return XDP_REDIRECT;
}

static __always_inline int ingress(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	__u32 ifindex = ctx->ingress_ifindex, zero = 0, vr_id;
	struct books b = {};
	struct xvr_config *cfg;
	struct xvr_router *vr;
	struct xvr_port *port;
	struct xvr_cls_val *cls;
	struct pkt p = {};
	int reason;

	port = bpf_map_lookup_elem(&xvr_ports, &ifindex);
	cfg = bpf_map_lookup_elem(&xvr_config, &zero);
	if (!port || !cfg)
		return XDP_PASS;	/* not an xvr port (yet): leave it alone */
	b.port = bpf_map_lookup_elem(&xvr_port_stats, &port->slot);
	b.len = data_end - data;
	book_rx(b.port, b.len);

	reason = parse_frame(data, data_end, &p);
	if (reason)
		return drop(&b, reason);

	cls = classify(&p, ifindex, cfg->rule_kinds);
	if (!cls) {
		if (cfg->flags & XVR_CFG_MISS_DROP)
			return drop(&b, XVR_DROP_MISS_POLICY);
		if (b.port) {
			b.port->miss_packets++;
			b.port->miss_bytes += b.len;
		}
		return XDP_PASS;
	}

	vr_id = cls->vr_id;
	vr = bpf_map_lookup_elem(&xvr_routers, &vr_id);
	if (!vr || !(vr->flags & XVR_ROUTER_ACTIVE))
		return drop(&b, XVR_DROP_ROUTER_DOWN);
	b.vr = bpf_map_lookup_elem(&xvr_vr_stats, &vr_id);
	book_rx(b.vr, b.len);

	switch (vr->mode) {
	case XVR_MODE_XDP:
		return xdp_forward(ctx, &p, vr_id, &b);
	}
	return drop(&b, XVR_DROP_MODE);
}

SEC("xdp")
int xvr_ingress(struct xdp_md *ctx)
{
	return ingress(ctx);
}
