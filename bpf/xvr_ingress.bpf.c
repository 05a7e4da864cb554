// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * xvr_ingress: attached to every port. Parses, classifies the frame to a
 * virtual router, counts it, and runs the router's data path:
 *   xdp   - the router's FIB lives in BPF maps; the frame leaves by devmap
 *           redirect in the same NAPI poll. What the fast path does not
 *           handle is punted unchanged into the router's namespace (its VIF).
 *   netns - the frame goes straight into the router's VIF, whose namespace
 *           stack forwards it; no bridge, no backlog queue in between.
 *   afxdp - the frame goes, tagged with its VIF, to one of the router's
 *           live forwarding engines (AF_XDP processes), picked by the
 *           router's distribution policy.
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
#include "stats.h"
#include "l2.h"
#include "policer.h"
#include "fair.h"
#include "egre.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Lets xdp-loader (libxdp) run xvr_ingress, continuing on XDP_PASS. */
struct {
	__uint(priority, 20);
	__uint(XDP_PASS, 1);
} XDP_RUN_CONFIG(xvr_ingress);

/*
 * A classified frame: where it is booked, its router and, if it has one,
 * its VIF.
 */
struct frame {
	struct books b;
	struct pkt p;
	struct xvr_vif *vif;
	__u32 vr_id;
	bool punt_admitted;	/* a control frame, charged to the punt budget already */
};

/*
 * Hand the frame to the router's namespace through its VIF, VLAN tags
 * removed (the namespace sees its VIF untagged). Without a VIF the frame
 * continues into the port's own stack.
 */
static __always_inline int to_vif(struct xdp_md *ctx, struct frame *f)
{
	int err;

	if (!f->vif)
		return XDP_PASS;
	if (f->p.nvlans) {
		err = l2_rewrite(ctx, f->p.l2_len, NULL, NULL, 0, f->p.l3_proto);
		if (err)
			return XDP_ABORTED;
	}
	if (bpf_redirect_map(&xvr_tx_ports, f->vif->dev, 0) != XDP_REDIRECT)
		return XDP_ABORTED;
	return XDP_REDIRECT;
}

/*
 * Exceptions go to the tenant: counted by reason, delivered unchanged, within
 * the router's punt budget (its control plane must not drown in them).
 */
static __always_inline int punt(struct xdp_md *ctx, struct frame *f, enum xvr_punt_reason reason)
{
	int act;

	if (!f->punt_admitted && !police_punt(f->vr_id))
		return drop(&f->b, XVR_DROP_PUNT_POLICED);
	act = to_vif(ctx, f);

	if (act == XDP_ABORTED)
		return drop(&f->b, XVR_DROP_NO_VIF);
	book_punt(&f->b, reason);
	return act;
}

/* TTL decrement with the incremental checksum update of RFC 1624. */
static __always_inline void ipv4_decrease_ttl(struct iphdr *iph)
{
	__u32 check = (__u32)iph->check;

	check += (__u32)bpf_htons(0x0100);
	iph->check = (__sum16)(check + (check >= 0xFFFF));
	iph->ttl--;
}

static __always_inline bool ipv6_is_linklocal(const struct in6_addr *a)
{
	return a->in6_u.u6_addr8[0] == 0xfe && (a->in6_u.u6_addr8[1] & 0xc0) == 0x80;
}

/*
 * Mixes the flow's addresses, protocol and ports; the same flow, the same
 * hash. Ports only when the frame is no fragment: later fragments carry
 * none, and every fragment of a datagram must take the same ECMP member
 * and the same engine.
 */
static __always_inline __u32 flow_hash(const struct pkt *p)
{
	__u32 h = p->l4_proto;

	if (!(p->flags & PKT_FRAGMENT))
		h ^= (__u32)p->sport << 16 | p->dport;

	if (p->ip4) {
		h ^= p->ip4->saddr * 0x9e3779b1u;
		h ^= p->ip4->daddr * 0x85ebca6bu;
	} else if (p->ip6) {
		for (int i = 0; i < 4; i++) {
			h ^= p->ip6->saddr.in6_u.u6_addr32[i] * 0x9e3779b1u;
			h ^= p->ip6->daddr.in6_u.u6_addr32[i] * 0x85ebca6bu;
			h = (h << 13) | (h >> 19);
		}
	}
	/* murmur3's finaliser: every input bit reaches every output bit */
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

/* A multipath nexthop's member for this flow, or NULL. */
static __always_inline struct xvr_nexthop *nh_group_pick(const struct pkt *p, __u32 nh_id,
							 __u32 vr_id)
{
	struct xvr_nh_group *grp = bpf_map_lookup_elem(&xvr_nh_groups, &nh_id);
	struct xvr_nexthop *nh;
	__u32 idx, member;

	if (!grp || !grp->count || grp->count > XVR_MAX_ECMP)
		return NULL;
	idx = flow_hash(p) % grp->count;
	/* clang knows idx < count <= XVR_MAX_ECMP; the verifier must be told. */
	barrier_var(idx);
	if (idx >= XVR_MAX_ECMP)
		return NULL;
	member = grp->members[idx];
	nh = bpf_map_lookup_elem(&xvr_nexthops, &member);
	if (!nh || !(nh->flags & XVR_NH_VALID) || nh->vr_id != vr_id ||
	    (nh->flags & XVR_NH_GROUP))
		return NULL;
	return nh;
}

/*
 * xdp mode onto a virtual link: the packet is routed, rewritten for the
 * link's far side and encapsulated in this same pass. Too large for the
 * link, or for a multipoint MAC not learned yet, it goes to the router's
 * stack, which answers with the link's MTU or floods through the link.
 */
static __always_inline int link_forward(struct xdp_md *ctx, __u32 vr_id, struct frame *f,
					const struct xvr_nexthop *nh)
{
	struct pkt *p = &f->p;
	__u32 dev = nh->ifindex, link_id, ip_len;
	struct xvr_link *link;
	__u32 *idp;
	__be32 remote;
	int rc;

	idp = bpf_map_lookup_elem(&xvr_vif_by_dev, &dev);
	link_id = idp ? *idp : 0;
	link = bpf_map_lookup_elem(&xvr_vlinks, &link_id);
	if (!link || !(link->flags & XVR_LINK_ACTIVE) || link->vr_id != vr_id)
		return drop(&f->b, XVR_DROP_LINK_DOWN);
	if (p->ip4)
		ip_len = bpf_ntohs(p->ip4->tot_len);
	else if (p->ip6)
		ip_len = sizeof(*p->ip6) + bpf_ntohs(p->ip6->payload_len);
	else
		return drop(&f->b, XVR_DROP_BAD_IP);	/* xdp_forward routes IP only */
	if (ip_len > link->mtu)
		return punt(ctx, f, XVR_PUNT_LINK_MTU);
	remote = egre_remote(link, link_id, nh->dmac);
	if (!remote)
		return punt(ctx, f, XVR_PUNT_UNRESOLVED);

	if (p->ip4)
		ipv4_decrease_ttl(p->ip4);
	else if (p->ip6)
		p->ip6->hop_limit--;
	rc = l2_rewrite(ctx, p->l2_len, nh->dmac, nh->smac, 0, p->l3_proto);
	if (rc)
		return drop(&f->b, link_book_drop(link_id, f->b.len, rc));
	rc = egre_encap(ctx, link_id, link, remote);
	if (rc < 0)
		return drop(&f->b, link_book_drop(link_id, f->b.len, -rc));
	if (bpf_redirect_map(&xvr_tx_ports, rc, 0) != XDP_REDIRECT)
		return drop(&f->b, link_book_drop(link_id, f->b.len, XVR_DROP_NO_TXPORT));
	link_book(link_id, f->b.len, true);
	book_fwd(&f->b);
	return XDP_REDIRECT;
}

/* The xdp-mode data path: FIB, nexthop, TTL, MACs, redirect. */
/*
 * Source addresses no router forwards (RFC 1812 5.3.7, RFC 4291): the same
 * rules xvr-router applies to the frames it forwards.
 */
static __always_inline bool ip4_martian_src(__u32 saddr)
{
	return (saddr >> 28) == 0xe ||			/* multicast, 224/4 */
	       saddr == 0xffffffff ||			/* limited broadcast */
	       (saddr >> 24) == 0 ||			/* 0/8 */
	       (saddr >> 24) == 0x7f ||			/* loopback */
	       (saddr >> 16) == 0xa9fe;			/* link-local, 169.254/16 */
}

static __always_inline bool ip6_martian_src(const struct in6_addr *a)
{
	__u32 any = a->in6_u.u6_addr32[0] | a->in6_u.u6_addr32[1] | a->in6_u.u6_addr32[2];

	return a->in6_u.u6_addr8[0] == 0xff ||		/* multicast */
	       (!any && (!a->in6_u.u6_addr32[3] ||	/* :: */
			 a->in6_u.u6_addr32[3] == bpf_htonl(1)));	/* ::1 */
}

static __always_inline int xdp_forward(struct xdp_md *ctx, __u32 vr_id, struct frame *f)
{
	struct pkt *p = &f->p;
	struct xvr_nexthop *nh;
	__u32 mtu_len = 0;
	__u32 nh_id;
	int err;

	if (p->ip4) {
		struct iphdr *iph = p->ip4;
		__u32 daddr = bpf_ntohl(iph->daddr);

		if (ip4_martian_src(bpf_ntohl(iph->saddr)))
			return drop(&f->b, XVR_DROP_MARTIAN);
		if (p->flags & PKT_IP_OPTIONS)
			return punt(ctx, f, XVR_PUNT_IP_OPTIONS);
		/* 224/4 multicast, 255.255.255.255 broadcast */
		if ((daddr >> 28) == 0xe || daddr == 0xffffffff)
			return punt(ctx, f, XVR_PUNT_MCAST);
		nh_id = fib4_lookup(vr_id, iph->daddr);
		if (!nh_id)
			return punt(ctx, f, XVR_PUNT_NO_ROUTE);
	} else if (p->ip6) {
		struct ipv6hdr *ip6h = p->ip6;

		if (ip6_martian_src(&ip6h->saddr))
			return drop(&f->b, XVR_DROP_MARTIAN);
		if (p->flags & PKT_IPV6_HOPOPTS)
			return punt(ctx, f, XVR_PUNT_IP_OPTIONS);
		if (ip6h->daddr.in6_u.u6_addr8[0] == 0xff ||
		    ipv6_is_linklocal(&ip6h->daddr) || ipv6_is_linklocal(&ip6h->saddr))
			return punt(ctx, f, XVR_PUNT_MCAST);
		nh_id = fib6_lookup(vr_id, ip6h->daddr.in6_u.u6_addr8);
		if (!nh_id)
			return punt(ctx, f, XVR_PUNT_NO_ROUTE);
	} else {
		return punt(ctx, f, XVR_PUNT_NON_IP);
	}

	nh = bpf_map_lookup_elem(&xvr_nexthops, &nh_id);
	if (!nh || !(nh->flags & XVR_NH_VALID) || nh->vr_id != vr_id)
		return drop(&f->b, XVR_DROP_BAD_NEXTHOP);
	if (nh->flags & XVR_NH_GROUP) {
		nh = nh_group_pick(p, nh_id, vr_id);
		if (!nh)
			return drop(&f->b, XVR_DROP_BAD_NEXTHOP);
	}
	/* A packet for the router itself is local even when its TTL is 1. */
	if (nh->flags & XVR_NH_LOCAL)
		return punt(ctx, f, XVR_PUNT_LOCAL);
	if (nh->flags & XVR_NH_BLACKHOLE)
		return drop(&f->b, XVR_DROP_BLACKHOLE);
	if ((p->ip4 && p->ip4->ttl <= 1) || (p->ip6 && p->ip6->hop_limit <= 1))
		return punt(ctx, f, XVR_PUNT_TTL);
	if (nh->flags & XVR_NH_UNRESOLVED)
		return punt(ctx, f, XVR_PUNT_UNRESOLVED);
	if (nh->flags & XVR_NH_LINK)
		return link_forward(ctx, vr_id, f, nh);

	/*
	 * Too big for the egress port: the control plane sends the ICMP error.
	 * The MTU counts the IP packet, so VLAN tags on either side do not.
	 * Ports have an MTU of at least XVR_MIN_PORT_MTU, so smaller packets
	 * need no check (it is a helper call on every frame otherwise).
	 */
	if ((p->ip4 && bpf_ntohs(p->ip4->tot_len) > XVR_MIN_PORT_MTU) ||
	    (p->ip6 && sizeof(*p->ip6) + bpf_ntohs(p->ip6->payload_len) > XVR_MIN_PORT_MTU)) {
		err = bpf_check_mtu(ctx, nh->ifindex, &mtu_len, ETH_HLEN - (int)p->l2_len, 0);
		if (err == BPF_MTU_CHK_RET_FRAG_NEEDED)
			return punt(ctx, f, XVR_PUNT_MTU);
	}

	/* From here on the frame is changed: no more punts. */
	if (p->ip4)
		ipv4_decrease_ttl(p->ip4);
	else if (p->ip6)
		p->ip6->hop_limit--;

	err = l2_rewrite(ctx, p->l2_len, nh->dmac, nh->smac, nh->vlan, p->l3_proto);
	if (err)
		return drop(&f->b, err);

	if (bpf_redirect_map(&xvr_tx_ports, nh->ifindex, 0) != XDP_REDIRECT)
		return drop(&f->b, XVR_DROP_NO_TXPORT);
	book_fwd(&f->b);
	return XDP_REDIRECT;
}

/* netns mode: the namespace's own stack forwards; deliver into its VIF. */
static __always_inline int netns_deliver(struct xdp_md *ctx, struct frame *f)
{
	int act;

	if (!f->vif)
		return drop(&f->b, XVR_DROP_NO_VIF);
	act = to_vif(ctx, f);
	if (act != XDP_REDIRECT)
		return drop(&f->b, XVR_DROP_NO_VIF);
	book_fwd(&f->b);
	return act;
}

/* Configured for this router, and its heartbeat is fresh. */
static __always_inline bool fe_alive(__u32 fe_id, __u32 vr_id, __u64 now)
{
	struct xvr_fe *fe = bpf_map_lookup_elem(&xvr_fes, &fe_id);
	struct xvr_fe_state *st;
	__u32 zero = 0;
	void *inner;

	if (!fe || !(fe->flags & XVR_FE_ACTIVE) || fe->vr_id != vr_id)
		return false;
	inner = bpf_map_lookup_elem(&xvr_fe_state, &fe_id);
	if (!inner)
		return false;
	st = bpf_map_lookup_elem(inner, &zero);
	return st && st->heartbeat_ns && (__s64)(now - st->heartbeat_ns) < (__s64)XVR_FE_STALE_NS;
}

/*
 * The engine for this frame: the policy's choice, or the next live engine
 * after it when that one is down. 0 if none is alive.
 */
static __always_inline __u32 fe_pick(const struct pkt *p, __u32 vr_id)
{
	struct xvr_fe_set *set = bpf_map_lookup_elem(&xvr_fe_sets, &vr_id);
	__u32 count, start = 0, *pos;
	__u64 now;

	if (!set)
		return 0;
	count = set->count;
	if (!count || count > XVR_MAX_ROUTER_FES)
		return 0;
	switch (set->dist) {
	case XVR_DIST_FLOWHASH:
		start = flow_hash(p) % count;
		break;
	case XVR_DIST_WEIGHTED:
		pos = bpf_map_lookup_elem(&xvr_rr, &vr_id);
		if (pos && set->wrr_len && set->wrr_len <= XVR_WRR_SLOTS) {
			__u32 slot = (*pos)++ % set->wrr_len;

			barrier_var(slot);
			if (slot < XVR_WRR_SLOTS)
				start = set->wrr[slot];
		}
		break;
	default:
		pos = bpf_map_lookup_elem(&xvr_rr, &vr_id);
		if (pos)
			start = (*pos)++ % count;
		break;
	}
	now = bpf_ktime_get_ns();
	for (__u32 i = 0; i < XVR_MAX_ROUTER_FES; i++) {
		__u32 idx = (start + i) % count, fe_id;

		if (i >= count)
			break;
		barrier_var(idx);
		if (idx >= XVR_MAX_ROUTER_FES)
			return 0;
		fe_id = set->fes[idx];
		if (fe_alive(fe_id, vr_id, now))
			return fe_id;
	}
	return 0;
}

/*
 * afxdp mode: every frame but ARP to an engine, tagged with its VIF (the
 * engine's data plane may speak any protocol); ARP to the router's stack.
 */
static __always_inline int afxdp_deliver(struct xdp_md *ctx, __u32 vr_id, struct frame *f)
{
	struct xvr_fe *fe;
	__u32 fe_id;
	int err;

	if (f->p.l3_proto == ETH_P_ARP)
		return punt(ctx, f, XVR_PUNT_NON_IP);
	fe_id = fe_pick(&f->p, vr_id);
	fe = fe_id ? bpf_map_lookup_elem(&xvr_fes, &fe_id) : NULL;
	if (!fe)
		return drop(&f->b, XVR_DROP_FE_DOWN);
	err = l2_write(ctx, f->p.l2_len, NULL, NULL, XVR_FE_TAG_PROTO,
		       f->vif ? f->vif->peer & XVR_FE_TAG_IFINDEX : 0, f->p.l3_proto);
	if (err)
		return drop(&f->b, err);
	if (bpf_redirect_map(&xvr_tx_ports, fe->dev, 0) != XDP_REDIRECT)
		return drop(&f->b, XVR_DROP_FE_DOWN);
	book_fwd(&f->b);
	return XDP_REDIRECT;
}

/* The router's own path, by its mode: everything after admission. */
static __noinline int router_path(struct xdp_md *ctx, struct frame *f, __u32 mode)
{
	switch (mode) {
	case XVR_MODE_XDP:
		return xdp_forward(ctx, f->vr_id, f);
	case XVR_MODE_NETNS:
		return netns_deliver(ctx, f);
	case XVR_MODE_AFXDP:
		return afxdp_deliver(ctx, f->vr_id, f);
	}
	return drop(&f->b, XVR_DROP_MODE);
}

/*
 * An admitted frame through its router's path, timed for the cost sample
 * (bpf/fair.h) about once in XVR_COST_SAMPLE_MEAN frames. The one place a
 * router's path runs, so that whatever runs it (this program, or a cpumap
 * program on the router's own CPUs) measures the same section.
 */
static __always_inline int router_run(struct xdp_md *ctx, struct frame *f, __u32 mode)
{
	__u64 t0 = cost_begin(f->vr_id);
	int act = router_path(ctx, f, mode);

	if (t0)
		cost_end(f->vr_id, t0);
	return act;
}

/*
 * Everything after decapsulation: len is the frame's length as received,
 * link_cls the link it came from (vr_id 0: none), decap_reason why the
 * decapsulation dropped it (0: it did not). A global function, so the
 * verifier checks it once for any link instead of once per outcome of the
 * decapsulation, which would double the states of all that follows.
 */
__noinline int xvr_ingress_frame(struct xdp_md *ctx, __u32 len, __u32 link_vr, __u32 link_vif,
				 int decap_reason)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	__u32 ifindex = ctx->ingress_ifindex, zero = 0, vr_id, vif_id;
	struct xvr_cls_val *cls, dflt, link_cls = { .vr_id = link_vr, .vif = link_vif };
	struct frame f = {};
	struct xvr_config *cfg;
	struct xvr_router *vr;
	struct xvr_port *port;
	int reason;

	if (!ctx)
		return XDP_ABORTED;
	port = bpf_map_lookup_elem(&xvr_ports, &ifindex);
	cfg = bpf_map_lookup_elem(&xvr_config, &zero);
	if (!port || !cfg)
		return XDP_PASS;	/* not an xvr port (yet): leave it alone */
	f.b.port = bpf_map_lookup_elem(&xvr_port_stats, &port->slot);
	f.b.len = len;
	f.b.ctx = ctx;
	book_rx(f.b.port, f.b.len);
	if (decap_reason)
		return drop(&f.b, decap_reason);

	reason = parse_frame(data, data_end, &f.p);
	if (reason)
		return drop(&f.b, reason);

	cls = link_cls.vr_id ? &link_cls :
			       classify(&f.p, ifindex, cfg->rule_kinds, port, &dflt);
	if (!cls) {
		if (cfg->flags & XVR_CFG_MISS_DROP)
			return drop(&f.b, XVR_DROP_MISS_POLICY);
		if (f.b.port) {
			f.b.port->miss_packets++;
			f.b.port->miss_bytes += f.b.len;
		}
		trace_frame(ctx, 0, XVR_TRACE_PASS, 0);
		return XDP_PASS;
	}

	vr_id = cls->vr_id;
	vif_id = cls->vif;
	vr = bpf_map_lookup_elem(&xvr_routers, &vr_id);
	if (!vr || !(vr->flags & XVR_ROUTER_ACTIVE))
		return drop(&f.b, XVR_DROP_ROUTER_DOWN);
	f.b.vr = bpf_map_lookup_elem(&xvr_vr_stats, &vr_id);
	f.b.vr_id = vr_id;
	book_rx(f.b.vr, f.b.len);
	/*
	 * Admission, before any work for the router. ARP is its control
	 * plane's: it meets the punt budget instead of the data limits, so
	 * that a router flooded with its own data still resolves neighbours.
	 */
	f.vr_id = vr_id;
	if (f.p.l3_proto == ETH_P_ARP) {
		if (!police_punt(vr_id))
			return drop(&f.b, XVR_DROP_PUNT_POLICED);
		f.punt_admitted = true;
	} else if (!police_frame(vr_id, f.b.len)) {
		return drop(&f.b, XVR_DROP_POLICED);
	} else if (!admit_fair(vr_id)) {
		/* over its fair share while the node is overloaded (xvr fair) */
		return drop(&f.b, XVR_DROP_SHED);
	}
	if (vif_id) {
		f.vif = bpf_map_lookup_elem(&xvr_vifs, &vif_id);
		/* A rule may only deliver into a VIF of its own router. */
		if (f.vif && (!(f.vif->flags & XVR_VIF_ACTIVE) || f.vif->vr_id != vr_id))
			f.vif = NULL;
	}

	return router_run(ctx, &f, vr->mode);
}

SEC("xdp")
int xvr_ingress(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct xvr_cls_val link_cls = {};
	__u32 len = data_end - data;
	int reason;

	/* GRE for a virtual link: its inner frame is the link's router's. */
	reason = egre_decap(ctx, len, &link_cls);
	return xvr_ingress_frame(ctx, len, link_cls.vr_id, link_cls.vif, reason);
}
