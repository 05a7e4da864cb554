/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Virtual links: Ethernet in GRE (EGRE, protocol 0x6558) with a 32-bit key.
 * This kernel has no gretap device; these helpers are the whole of it.
 *  - egre_decap: at ingress, GRE to one of the node's link addresses is
 *    checked (flags, key, remote, protocol, length) and its inner frame
 *    takes the place of the outer one, classified to the link's router.
 *  - egre_remote / egre_encap: towards a link, the remote (point-to-point:
 *    the one; multipoint: where the MAC was learned) and the outer
 *    Ethernet/IPv4/GRE headers. The outer next hop comes from the node's
 *    own routing and neighbour tables (bpf_fib_lookup), never a fixed MAC.
 * Included after maps.h, parsing.h and stats.h.
 */
#ifndef XVR_BPF_EGRE_H
#define XVR_BPF_EGRE_H

#include "clock.h"

#define AF_INET_	2
#define IP_DF		0x4000

struct egre_hdr {
	struct ethhdr eth;
	struct iphdr ip;
	struct gre_base_hdr_ gre;
	__be32 key;
} __attribute__((packed));

/* Counts a link's drop in its own block as well; returns reason. */
static __always_inline int link_book_drop(__u32 link_id, __u32 len, int reason)
{
	struct books lb = { .len = len };

	lb.vr = bpf_map_lookup_elem(&xvr_vlink_stats, &link_id);
	book_drop(&lb, reason);
	return reason;
}

static __always_inline void link_book(__u32 link_id, __u32 len, bool tx)
{
	struct xvr_counters *c = bpf_map_lookup_elem(&xvr_vlink_stats, &link_id);

	if (!c)
		return;
	if (tx) {
		c->tx_packets++;
		c->tx_bytes += len;
	} else {
		c->rx_packets++;
		c->rx_bytes += len;
	}
}

static __always_inline bool link_has_remote(const struct xvr_link *link, __be32 addr)
{
	for (int i = 0; i < XVR_LINK_MAX_REMOTES; i++) {
		if (i >= link->nremotes)
			break;
		if (link->remote[i] == addr)
			return true;
	}
	return false;
}

/* Multipoint: remember that mac sits behind remote (refreshed once a second). */
static __always_inline void egre_learn(__u32 link_id, const __u8 *mac, __be32 remote)
{
	struct xvr_fdb_key key = {};
	struct xvr_fdb_entry *e, ne = { .remote = remote };
	void *fdb;
	__u64 now;

	if (mac[0] & 1)
		return;		/* a multicast source is no station */
	fdb = bpf_map_lookup_elem(&xvr_vlink_fdb, &link_id);
	if (!fdb)
		return;
	__builtin_memcpy(key.mac, mac, ETH_ALEN);
	/* Coarse (bpf/clock.h): refresh and aging are in seconds. */
	now = clock_coarse_ns();
	e = bpf_map_lookup_elem(fdb, &key);
	if (e && e->remote == remote && (__s64)(now - e->seen_ns) < 1000000000ll)
		return;
	ne.seen_ns = now;
	bpf_map_update_elem(fdb, &key, &ne, BPF_ANY);
}

/*
 * The remote a frame to dmac goes to. Point-to-point: the one remote.
 * Multipoint: the learned one, if still fresh and still a remote of the
 * link; 0 (flood) for broadcast, multicast and unknown unicast.
 */
static __always_inline __be32 egre_remote(const struct xvr_link *link, __u32 link_id,
					  const __u8 *dmac)
{
	struct xvr_fdb_key key = {};
	struct xvr_fdb_entry *e;
	void *fdb;

	if (!(link->flags & XVR_LINK_MULTI))
		return link->remote[0];
	if (dmac[0] & 1)
		return 0;
	fdb = bpf_map_lookup_elem(&xvr_vlink_fdb, &link_id);
	if (!fdb)
		return 0;
	__builtin_memcpy(key.mac, dmac, ETH_ALEN);
	e = bpf_map_lookup_elem(fdb, &key);
	/* Signed: an entry stamped by a program on the precise clock (before
	 * an upgrade) may be up to a jiffy ahead of the coarse one. */
	if (!e || (__s64)(clock_coarse_ns() - e->seen_ns) > (__s64)XVR_LINK_FDB_AGE_NS ||
	    !link_has_remote(link, e->remote))
		return 0;
	return e->remote;
}

/* The outer headers for link to remote, tot_len the outer IP packet's length. */
static __always_inline void egre_fill(struct egre_hdr *h, const struct xvr_link *link,
				      __be32 remote, const __u8 *dmac, const __u8 *smac,
				      __u16 tot_len)
{
	struct iphdr *ip = (void *)h + ETH_HLEN;

	__builtin_memcpy(h->eth.h_dest, dmac, ETH_ALEN);
	__builtin_memcpy(h->eth.h_source, smac, ETH_ALEN);
	h->eth.h_proto = bpf_htons(ETH_P_IP);
	ip->version = 4;
	ip->ihl = 5;
	ip->tos = 0;
	ip->tot_len = bpf_htons(tot_len);
	ip->id = 0;
	ip->frag_off = bpf_htons(IP_DF);
	ip->ttl = link->ttl;
	ip->protocol = IPPROTO_GRE_;
	ip->check = 0;
	ip->saddr = link->local;
	ip->daddr = remote;
	ip->check = ipv4_csum_check(ip);
	h->gre.flags = bpf_htons(GRE_KEY);
	h->gre.protocol = bpf_htons(ETH_P_TEB);
	h->key = bpf_htonl(link->key);
}

/*
 * The node's route and neighbour for remote: 0 or a drop reason; nh filled.
 * A fresh answer for the same remote is taken from the link's cache.
 */
static __always_inline int egre_route(void *ctx, __u32 link_id, const struct xvr_link *link,
				      __be32 remote, __u16 tot_len, struct xvr_link_nh *nh)
{
	struct xvr_link_nh *cached = bpf_map_lookup_elem(&xvr_vlink_nh, &link_id);
	struct bpf_fib_lookup fib = {};
	__u64 now = clock_coarse_ns();	/* the cache lives 100 ms */
	int rc;

	if (cached && cached->remote == remote && now < cached->expires_ns) {
		*nh = *cached;
		return tot_len > nh->mtu ? XVR_DROP_TX_MTU : 0;
	}
	fib.family = AF_INET_;
	fib.l4_protocol = IPPROTO_GRE_;
	fib.tot_len = tot_len;	/* the helper returns the MTU in its place */
	/* An input lookup as if the frame came in on the link's node-side end
	 * (xvr enables forwarding there: the helper insists on it). */
	fib.ifindex = link->dev;
	fib.ipv4_src = link->local;
	fib.ipv4_dst = remote;
	rc = bpf_fib_lookup(ctx, &fib, sizeof(fib), 0);
	switch (rc) {
	case BPF_FIB_LKUP_RET_SUCCESS:
		break;
	case BPF_FIB_LKUP_RET_NO_NEIGH:
		return XVR_DROP_LINK_NEIGH;
	case BPF_FIB_LKUP_RET_FRAG_NEEDED:
		return XVR_DROP_TX_MTU;
	default:
		return XVR_DROP_LINK_DOWN;	/* no unicast route to the remote */
	}
	if (link->port && fib.ifindex != link->port)
		return XVR_DROP_NO_TXPORT;
	nh->remote = remote;
	nh->ifindex = fib.ifindex;
	nh->expires_ns = now + XVR_LINK_NH_CACHE_NS;
	__builtin_memcpy(nh->dmac, fib.dmac, ETH_ALEN);
	__builtin_memcpy(nh->smac, fib.smac, ETH_ALEN);
	nh->mtu = fib.mtu_result;
	if (cached)
		*cached = *nh;
	return 0;
}

/*
 * Puts the outer headers in front of the inner Ethernet frame at data, to
 * remote. Returns the underlay port to redirect to, or a negative drop
 * reason: the route or its neighbour is missing (the node's stack keeps
 * the link's neighbours resolved, see 'xvr link'), or the result is too
 * large for the underlay. The frame is unchanged unless this succeeds.
 */
static __always_inline int egre_encap(struct xdp_md *ctx, __u32 link_id,
				      const struct xvr_link *link, __be32 remote)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct xvr_link_nh nh;
	struct egre_hdr *h;
	__u32 inner_len = data_end - data;
	__u16 tot_len;
	int rc;

	tot_len = inner_len + sizeof(struct iphdr) + sizeof(struct gre_base_hdr_) + 4;
	rc = egre_route(ctx, link_id, link, remote, tot_len, &nh);
	if (rc)
		return -rc;

	if (bpf_xdp_adjust_head(ctx, -(int)sizeof(*h)))
		return -XVR_DROP_ADJUST;
	barrier_var(ctx);
	data = (void *)(long)ctx->data;
	barrier_var(ctx);
	data_end = (void *)(long)ctx->data_end;
	h = data;
	if ((void *)(h + 1) > data_end)
		return -XVR_DROP_ADJUST;

	egre_fill(h, link, remote, nh.dmac, nh.smac, tot_len);
	return nh.ifindex;
}

/*
 * Decapsulation, before the frame is parsed: an untagged IPv4 GRE frame to
 * one of the node's link addresses is xvr's, anything else is not (0 with
 * out->vr_id 0: it takes the normal path, GRE for the host included). An
 * xvr frame is either dropped (the reason is returned: malformed outer
 * header, unsupported flags, unknown key, foreign remote, not Ethernet,
 * cut short) or replaced by its inner frame: 0 with out naming the link's
 * router and VIF. Decapsulating first lets one parse serve both kinds.
 */
static __always_inline int egre_decap(struct xdp_md *ctx, __u32 len, struct xvr_cls_val *out)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct xvr_link_key lk = {};
	struct gre_base_hdr_ *gh;
	struct ethhdr *eth = data;
	struct xvr_link *link;
	struct ethhdr *inner;
	struct iphdr *iph;
	__u32 *id, link_id, hlen, tot_len, outer_len, inner_len;
	__be32 *key, saddr;
	__u16 gflags;

	iph = (void *)(eth + 1);
	if ((void *)(iph + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP) ||
	    iph->protocol != IPPROTO_GRE_)
		return 0;
	if (!bpf_map_lookup_elem(&xvr_vlink_locals, &iph->daddr))
		return 0;
	if (iph->version != 4 || iph->ihl < 5)
		return XVR_DROP_BAD_IP;
	hlen = iph->ihl * 4;
	tot_len = bpf_ntohs(iph->tot_len);
	if (tot_len < hlen || (void *)iph + tot_len > data_end)
		return XVR_DROP_BAD_IP;
	if (hlen == sizeof(*iph) && ipv4_csum_check(iph))
		return XVR_DROP_BAD_CSUM;
	/* The sender sets DF; a fragment cannot be decapsulated alone. */
	if (iph->frag_off & bpf_htons(IP_MF | IP_OFFSET))
		return XVR_DROP_GRE_TRUNC;
	gh = (void *)iph + hlen;
	if ((void *)(gh + 1) > data_end || tot_len < hlen + sizeof(*gh))
		return XVR_DROP_BAD_L4;
	gflags = bpf_ntohs(gh->flags);
	/* Only the key: no checksum, routing, sequence, recursion or version. */
	if (gflags & ~GRE_KEY)
		return XVR_DROP_GRE_FLAGS;
	if (!(gflags & GRE_KEY))
		return XVR_DROP_GRE_KEY;
	key = (void *)(gh + 1);
	if ((void *)(key + 1) > data_end || tot_len < hlen + sizeof(*gh) + sizeof(*key))
		return XVR_DROP_BAD_L4;
	lk.local = iph->daddr;
	lk.key = bpf_ntohl(*key);
	id = bpf_map_lookup_elem(&xvr_vlink_keys, &lk);
	if (!id)
		return XVR_DROP_GRE_KEY;
	link_id = *id;
	link = bpf_map_lookup_elem(&xvr_vlinks, &link_id);
	if (!link || !(link->flags & XVR_LINK_ACTIVE))
		return XVR_DROP_LINK_DOWN;
	saddr = iph->saddr;
	if (!link_has_remote(link, saddr))
		return link_book_drop(link_id, len, XVR_DROP_GRE_REMOTE);
	if (gh->protocol != bpf_htons(ETH_P_TEB))
		return link_book_drop(link_id, len, XVR_DROP_GRE_PROTO);

	outer_len = ETH_HLEN + hlen + sizeof(*gh) + sizeof(*key);
	inner_len = tot_len - hlen - sizeof(*gh) - sizeof(*key);
	inner = (void *)(key + 1);
	if (inner_len < ETH_HLEN || (void *)(inner + 1) > data_end)
		return link_book_drop(link_id, len, XVR_DROP_GRE_TRUNC);
	if (link->flags & XVR_LINK_MULTI)
		egre_learn(link_id, inner->h_source, saddr);

	if (bpf_xdp_adjust_head(ctx, (int)outer_len))
		return link_book_drop(link_id, len, XVR_DROP_ADJUST);
	/* Ethernet padding after the outer packet is not the inner frame's. */
	if (len - outer_len > inner_len &&
	    bpf_xdp_adjust_tail(ctx, -(int)(len - outer_len - inner_len)))
		return link_book_drop(link_id, len, XVR_DROP_ADJUST);
	link_book(link_id, inner_len, false);
	out->vr_id = link->vr_id;
	out->vif = link_id;
	return 0;
}

#endif /* XVR_BPF_EGRE_H */
