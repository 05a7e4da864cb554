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

/* The port a frame arrived on, or NULL: the index first, the hash if the index has another. */
static __always_inline struct xvr_port *port_find(__u32 ifindex)
{
	__u32 idx = ifindex % XVR_PORT_IDX;
	struct xvr_port_ent *e = bpf_map_lookup_elem(&xvr_port_idx, &idx);

	if (e && e->ifindex == ifindex)
		return &e->port;
	return bpf_map_lookup_elem(&xvr_ports, &ifindex);
}

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

	/* The nexthop names its link (older ones: found by their device); a
	 * link is only taken if it is still the one at that device. */
	link_id = nh->link_id;
	if (!link_id) {
		idp = bpf_map_lookup_elem(&xvr_vif_by_dev, &dev);
		link_id = idp ? *idp : 0;
	}
	link = bpf_map_lookup_elem(&xvr_vlinks, &link_id);
	if (!link || !(link->flags & XVR_LINK_ACTIVE) || link->vr_id != vr_id ||
	    link->dev != dev)
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

static __always_inline int xdp_forward(struct xdp_md *ctx, __u32 vr_id, __u32 fib4_bank,
				       struct frame *f)
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
		nh_id = fib4_lookup(vr_id, fib4_bank, iph->daddr);
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
	 * Every frame is checked against the device's MTU now, not the one it
	 * had at `port add`: an operator may lower it at any time, and a frame
	 * over it would vanish in the devmap instead of being punted. Every
	 * IP link carries ETH_MIN_MTU bytes (RFC 791's 68; Ethernet devices
	 * refuse a smaller MTU), so a packet that small needs no asking (the
	 * helper looks the device up by ifindex).
	 */
	if (f->b.len - p->l2_len > ETH_MIN_MTU) {
		err = bpf_check_mtu(ctx, nh->ifindex, &mtu_len, ETH_HLEN - (int)p->l2_len, 0);
		if (err == BPF_MTU_CHK_RET_FRAG_NEEDED)
			return punt(ctx, f, XVR_PUNT_MTU);
	}

	/* From here on the frame is changed: no more punts. */
	if (p->ip4)
		ipv4_decrease_ttl(p->ip4);
	else if (p->ip6)
		p->ip6->hop_limit--;

	err = l2_rewrite_prio(ctx, p->l2_len, nh->dmac, nh->smac, nh->vlan, p->vlan_prio,
			      p->l3_proto);
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
	/*
	 * Coarse (bpf/clock.h): staleness is XVR_FE_STALE_NS, 200 ms. The
	 * engine stamps its heartbeat with CLOCK_MONOTONIC, which may be up to
	 * a jiffy ahead of this; fe_alive compares signed, so such a beat is
	 * fresh, and a stopped engine is down within the timeout plus a jiffy.
	 */
	now = clock_coarse_ns();
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
	__u32 fe_id, mtu_len = 0;
	int err;

	if (f->p.l3_proto == ETH_P_ARP)
		return punt(ctx, f, XVR_PUNT_NON_IP);
	fe_id = fe_pick(&f->p, vr_id);
	fe = fe_id ? bpf_map_lookup_elem(&xvr_fes, &fe_id) : NULL;
	if (!fe)
		return drop(&f->b, XVR_DROP_FE_DOWN);
	/*
	 * The engine's veth has an MTU of its own (its tag counts in it); a
	 * frame over it would be lost in the devmap. The router's stack takes
	 * it instead, which forwards it or answers frag-needed / too-big.
	 */
	if (bpf_check_mtu(ctx, fe->dev, &mtu_len, XVR_FE_TAG_LEN + ETH_HLEN - (int)f->p.l2_len,
			  0) == BPF_MTU_CHK_RET_FRAG_NEEDED)
		return punt(ctx, f, XVR_PUNT_MTU);
	err = l2_write(ctx, f->p.l2_len, NULL, NULL, XVR_FE_TAG_PROTO,
		       f->vif ? f->vif->peer & XVR_FE_TAG_IFINDEX : 0, f->p.l3_proto);
	if (err)
		return drop(&f->b, err);
	if (bpf_redirect_map(&xvr_tx_ports, fe->dev, 0) != XDP_REDIRECT)
		return drop(&f->b, XVR_DROP_FE_DOWN);
	book_fwd(&f->b);
	return XDP_REDIRECT;
}

/*
 * What xvr_ingress_frame (or xvr_cpumap) learned of a frame, for
 * router_path on the same CPU in the same program run: the parse's scalars
 * (packet pointers cannot cross a global function's boundary, offsets can)
 * and the port's stats slot, so an inline frame is neither parsed again nor
 * its port looked up twice. Not node state: no xvr_ prefix, never pinned.
 */
struct path_scratch_val {
	__u32 port_slot;	/* XVR_MAX_PORTS: not a port */
	__u8 pkt[PKT_SCALARS_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct path_scratch_val);
} path_scratch SEC(".maps");

/* Keeps the parse p of a frame received on port slot, for router_path. */
static __always_inline void scratch_save(const struct pkt *p, __u32 slot)
{
	struct path_scratch_val *s;
	__u32 zero = 0;

	s = bpf_map_lookup_elem(&path_scratch, &zero);
	if (!s)
		return;
	s->port_slot = slot;
	__builtin_memcpy(s->pkt, (void *)p + PKT_SCALARS_OFF, PKT_SCALARS_LEN);
}

/*
 * The parse scratch_save kept, made whole again: its scalars, and the
 * header pointers at their offsets (the frame is unchanged since; what the
 * full parse checked of the headers holds, the bounds are checked anew for
 * the verifier). 0, or a drop reason if the frame is not what was parsed.
 */
static __always_inline int scratch_load(const struct path_scratch_val *s, void *data,
					void *data_end, struct pkt *p)
{
	__u32 l2_len;
	void *l3;

	__builtin_memcpy((void *)p + PKT_SCALARS_OFF, s->pkt, PKT_SCALARS_LEN);
	l2_len = p->l2_len;
	if (l2_len > ETH_HLEN + XVR_MAX_VLANS * VLAN_HLEN || data + ETH_HLEN > data_end)
		return XVR_DROP_BAD_L2;
	p->eth = data;
	l3 = data + l2_len;
	if (p->l3_proto == ETH_P_IP) {
		if (l3 + sizeof(struct iphdr) > data_end)
			return XVR_DROP_BAD_IP;
		p->ip4 = l3;
	} else if (p->l3_proto == ETH_P_IPV6) {
		if (l3 + sizeof(struct ipv6hdr) > data_end)
			return XVR_DROP_BAD_IP;
		p->ip6 = l3;
	}
	return 0;
}

/*
 * A router's data path for a frame already classified and admitted: on the
 * CPU that received it, or on one of the router's own CPUs after a cpumap
 * handoff. A global function, checked by the verifier once and on its own
 * (its arguments are plain scalars), so the ingress program and xvr_cpumap
 * share it without either paying for the other's states. Packet pointers
 * cannot cross a global function's boundary: the caller parses the frame
 * and leaves the parse in path_scratch (scratch_save), as offsets. Inline,
 * that is xvr_ingress_frame's parse, so the frame is parsed once; after a
 * cpumap handoff, xvr_cpumap parses it on the router's CPU.
 */
__noinline int router_path(struct xdp_md *ctx, __u32 vr_id, __u32 vif_id, __u32 len,
			   __u32 meta_flags)
{
	struct path_scratch_val *s;
	void *data_end, *data;
	__u32 slot, zero = 0;
	struct xvr_router *vr;
	struct frame f = {};
	int reason, act;
	__u64 t0;

	if (!ctx)
		return XDP_ABORTED;
	data_end = (void *)(long)ctx->data_end;
	data = (void *)(long)ctx->data;
	s = bpf_map_lookup_elem(&path_scratch, &zero);
	if (!s)
		return XDP_ABORTED;	/* a per-CPU array's only entry: never */
	slot = s->port_slot;
	if (slot < XVR_MAX_PORTS)
		f.b.port = bpf_map_lookup_elem(&xvr_port_stats, &slot);
	f.b.vr = bpf_map_lookup_elem(&xvr_vr_stats, &vr_id);
	f.b.vr_id = vr_id;
	f.b.len = len;
	f.b.ctx = ctx;
	f.vr_id = vr_id;
	f.punt_admitted = meta_flags & XVR_CPU_META_PUNT_ADMITTED;

	reason = scratch_load(s, data, data_end, &f.p);
	if (reason)
		return drop(&f.b, reason);
	vr = bpf_map_lookup_elem(&xvr_routers, &vr_id);
	if (!vr || !(vr->flags & XVR_ROUTER_ACTIVE))
		return drop(&f.b, XVR_DROP_ROUTER_DOWN);
	if (vif_id) {
		f.vif = bpf_map_lookup_elem(&xvr_vifs, &vif_id);
		/* A rule may only deliver into a VIF of its own router. */
		if (f.vif && (!(f.vif->flags & XVR_VIF_ACTIVE) || f.vif->vr_id != vr_id))
			f.vif = NULL;
	}

	/*
	 * The section the cost sample (bpf/fair.h) times, about once in
	 * XVR_COST_SAMPLE_MEAN frames: whichever CPU runs the router's path,
	 * inline or after a cpumap handoff, measures the same work.
	 */
	t0 = cost_begin(vr_id);
	switch (vr->mode) {
	case XVR_MODE_XDP:
		act = xdp_forward(ctx, vr_id, vr->fib4_bank, &f);
		break;
	case XVR_MODE_NETNS:
		act = netns_deliver(ctx, &f);
		break;
	case XVR_MODE_AFXDP:
		act = afxdp_deliver(ctx, vr_id, &f);
		break;
	default:
		act = drop(&f.b, XVR_DROP_MODE);
	}
	if (t0)
		cost_end(vr_id, t0);
	return act;
}

/*
 * A bound router's frame to one of its CPUs: the flow hash picks the CPU
 * (a flow stays on one CPU, so it is not reordered), the classification
 * rides along in the frame's metadata. Counted as steered here; what the
 * cpumap refuses outright is a cpu-handoff drop.
 */
static __always_inline int cpu_steer(struct xdp_md *ctx, struct frame *f, __u32 group,
				     __u32 vif_id)
{
	struct xvr_cpu_counters *cc;
	struct xvr_cpu_set *set;
	struct xvr_cpu_meta *m;
	__u32 idx, cpu, vr_id = f->vr_id;
	void *map, *data;
	int meta_len;

	set = bpf_map_lookup_elem(&xvr_cpu_sets, &group);
	map = bpf_map_lookup_elem(&xvr_cpu_groups, &group);
	if (!set || !map || !set->count || set->count > XVR_MAX_BOUND_CPUS)
		return drop(&f->b, XVR_DROP_CPU_HANDOFF);
	idx = flow_hash(&f->p) % set->count;
	barrier_var(idx);
	if (idx >= XVR_MAX_BOUND_CPUS)
		return drop(&f->b, XVR_DROP_CPU_HANDOFF);
	cpu = set->cpus[idx];
	/*
	 * Exactly our metadata, whatever the frame brought: a driver's hints,
	 * or a recycled page's stale metadata (live-frames generators reuse
	 * a frame's xdp_frame with its old metasize), would otherwise add up
	 * past the kernel's 32-byte bound and fail the adjustment.
	 */
	meta_len = (long)ctx->data - (long)ctx->data_meta;
	if (bpf_xdp_adjust_meta(ctx, meta_len - (int)sizeof(*m)))
		return drop(&f->b, XVR_DROP_CPU_HANDOFF);
	data = (void *)(long)ctx->data;
	m = (void *)(long)ctx->data_meta;
	if ((void *)(m + 1) > data)
		return drop(&f->b, XVR_DROP_CPU_HANDOFF);
	m->magic = XVR_CPU_META_MAGIC;
	m->vr_id = vr_id;
	m->vif_id = vif_id;
	m->len = f->b.len;
	m->flags = f->punt_admitted ? XVR_CPU_META_PUNT_ADMITTED : 0;
	m->pad = 0;
	if (bpf_redirect_map(map, cpu, 0) != XDP_REDIRECT)
		return drop(&f->b, XVR_DROP_CPU_HANDOFF);
	cc = bpf_map_lookup_elem(&xvr_cpu_stats, &vr_id);
	if (cc) {
		cc->steered_packets++;
		cc->steered_bytes += f->b.len;
	}
	return XDP_REDIRECT;
}

/*
 * xvr_ingress_frame's answer when the router's path is to run inline: the
 * classification packed into the return value, so that xvr_ingress calls
 * router_path itself and the two global functions' stacks are never
 * stacked (three frames deep they pass the verifier's 512 bytes).
 */
#define PATH_NEXT		(1 << 30)
#define PATH_PUNT_ADMITTED	(1 << 29)
#define PATH_VIF_SHIFT		10
#define PATH_VR_MASK		((1 << PATH_VIF_SHIFT) - 1)
#define PATH_VIF_MASK		0xfff
_Static_assert(XVR_MAX_ROUTERS <= PATH_VR_MASK + 1, "router id must fit PATH_VR_MASK");
_Static_assert(XVR_MAX_VIFS <= PATH_VIF_MASK + 1, "VIF id must fit PATH_VIF_MASK");

/*
 * Everything after decapsulation: len is the frame's length as received,
 * link_cls the link it came from (vr_id 0: none), decap_reason why the
 * decapsulation dropped it (0: it did not). A global function, so the
 * verifier checks it once for any link instead of once per outcome of the
 * decapsulation, which would double the states of all that follows.
 * Returns an XDP action, or PATH_NEXT with the classification.
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
	__u32 group;
	int reason;

	if (!ctx)
		return XDP_ABORTED;
	port = port_find(ifindex);
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
			       classify(&f.p, ifindex, cfg, port, &dflt);
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
	} else if (data_limited(vr_id) && !police_frame(vr_id, f.b.len)) {
		return drop(&f.b, XVR_DROP_POLICED);
	} else if (fair_limited(vr_id) && !admit_fair(vr_id)) {
		/* over its fair share while the node is overloaded (xvr fair) */
		return drop(&f.b, XVR_DROP_SHED);
	}
	group = vr->cpu_group;
	if (group)
		return cpu_steer(ctx, &f, group, vif_id);
	scratch_save(&f.p, port->slot);
	return PATH_NEXT | (f.punt_admitted ? PATH_PUNT_ADMITTED : 0) |
	       vif_id << PATH_VIF_SHIFT | vr_id;
}

/*
 * A group-addressed frame (broadcast or multicast destination MAC) on a port
 * and VLAN where VIFs are: like macvlan, every one of them gets a copy. The
 * tags are popped once (all VIFs of a set share them), then devmap
 * broadcast clones the frame to each; xvr_bcast_copy (bpf/xvr_egress.bpf.c)
 * admits and counts each copy for its own router, so no router's copy
 * depends on another's. The port books the frame once: received, then
 * forwarded (or dropped). -1 if the frame is no such frame: nothing was
 * changed or booked, it takes the classifier's way (which also drops what
 * is malformed).
 *
 * A global function, called before the parser: the verifier checks it once
 * on its own, instead of once per state the parser leaves behind.
 */
__noinline int xvr_bcast_frame(struct xdp_md *ctx, __u32 len)
{
	struct xvr_bcast_key key = {};
	struct vlan_hdr_ *vh = NULL;
	struct xvr_port *port;
	struct books b = {};
	struct ethhdr *eth;
	void *data_end, *set;
	__u32 l2_len = ETH_HLEN;
	__u16 proto;
	int err;

	if (!ctx)
		return -1;
	eth = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if ((void *)(eth + 1) > data_end || !(eth->h_dest[0] & 1))
		return -1;
	proto = bpf_ntohs(eth->h_proto);
	for (int i = 0; i < XVR_MAX_VLANS; i++) {
		if (proto != ETH_P_8021Q && proto != ETH_P_8021AD)
			break;
		vh = (void *)eth + l2_len;
		if ((void *)(vh + 1) > data_end)
			return -1;
		if (!i)
			key.vlan = bpf_ntohs(vh->tci) & VLAN_VID_MASK;
		proto = bpf_ntohs(vh->encap_proto);
		l2_len += VLAN_HLEN;
	}
	if (proto == ETH_P_8021Q || proto == ETH_P_8021AD)
		return -1;	/* too deep: the parser drops it */
	key.port = ctx->ingress_ifindex;
	set = bpf_map_lookup_elem(&xvr_bcast, &key);
	if (!set)
		return -1;
	port = port_find(key.port);
	if (port)
		b.port = bpf_map_lookup_elem(&xvr_port_stats, &port->slot);
	b.len = len;
	b.ctx = ctx;
	book_rx(b.port, len);
	if (l2_len != ETH_HLEN) {
		err = l2_rewrite(ctx, l2_len, NULL, NULL, 0, proto);
		if (err)
			return drop(&b, err);
	}
	if (bpf_redirect_map(set, 0, BPF_F_BROADCAST) != XDP_REDIRECT)
		return drop(&b, XVR_DROP_NO_VIF);
	book_fwd(&b);
	return XDP_REDIRECT;
}

SEC("xdp")
int xvr_ingress(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct xvr_cls_val link_cls = {};
	__u32 len = data_end - data;
	int reason, act;

	/* GRE for a virtual link: its inner frame is the link's router's. */
	reason = egre_decap(ctx, len, &link_cls);
	/* A link's inner frames, even group-addressed ones, are its router's. */
	if (!reason && !link_cls.vr_id) {
		act = xvr_bcast_frame(ctx, len);
		if (act >= 0)
			return act;
	}
	act = xvr_ingress_frame(ctx, len, link_cls.vr_id, link_cls.vif, reason);
	if (!(act & PATH_NEXT))
		return act;
	return router_path(ctx, act & PATH_VR_MASK, (act >> PATH_VIF_SHIFT) & PATH_VIF_MASK, len,
			   act & PATH_PUNT_ADMITTED ? XVR_CPU_META_PUNT_ADMITTED : 0);
}

/*
 * A bound router's frame on one of its CPUs (xvr_cpu_groups' entries run
 * this). Received, classified and admitted on the CPU that took it off the
 * port; here it is counted as arrived and runs the router's path. The
 * metadata is removed first: what the path sends on must not carry it.
 */
SEC("xdp/cpumap")
int xvr_cpumap(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	struct xvr_cpu_meta *m = (void *)(long)ctx->data_meta;
	__u32 vr_id, vif_id, len, flags, ifindex, slot;
	struct xvr_cpu_counters *cc;
	struct pkt p = {};
	int act, reason;
	struct xvr_port *port;
	struct books b = {};

	if ((void *)(m + 1) > data || m->magic != XVR_CPU_META_MAGIC) {
		/* Only ingress fills these cpumaps, and always with metadata. */
		ifindex = ctx->ingress_ifindex;
		port = port_find(ifindex);
		if (port) {
			slot = port->slot;
			b.port = bpf_map_lookup_elem(&xvr_port_stats, &slot);
		}
		b.len = (long)ctx->data_end - (long)ctx->data;
		b.ctx = ctx;
		return drop(&b, XVR_DROP_CPU_HANDOFF);
	}
	vr_id = m->vr_id;
	vif_id = m->vif_id;
	len = m->len;
	flags = m->flags;
	if (bpf_xdp_adjust_meta(ctx, (int)sizeof(*m)))
		return XDP_ABORTED;
	cc = bpf_map_lookup_elem(&xvr_cpu_stats, &vr_id);
	if (cc) {
		cc->arrived_packets++;
		cc->arrived_bytes += len;
	}
	/* The port's books, and the parse, for router_path. */
	ifindex = ctx->ingress_ifindex;
	port = port_find(ifindex);
	slot = port ? port->slot : XVR_MAX_PORTS;
	reason = parse_frame((void *)(long)ctx->data, (void *)(long)ctx->data_end, &p);
	if (reason) {
		if (port)
			b.port = bpf_map_lookup_elem(&xvr_port_stats, &slot);
		b.vr = bpf_map_lookup_elem(&xvr_vr_stats, &vr_id);
		b.vr_id = vr_id;
		b.len = len;
		b.ctx = ctx;
		if (cc)
			cc->arrived_dropped++;
		return drop(&b, reason);
	}
	scratch_save(&p, slot);
	act = router_path(ctx, vr_id, vif_id, len, flags);
	if (act == XDP_DROP && cc)
		cc->arrived_dropped++;
	return act;
}
