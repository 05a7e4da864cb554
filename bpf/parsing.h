/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Frame parsing for the ingress path: Ethernet with up to XVR_MAX_VLANS tags,
 * IPv4 (options flagged), IPv6 (extension headers skipped), UDP/TCP ports and
 * the GRE key. One pass, a bounds check before every dereference, and a
 * drop reason for every malformed frame.
 */
#ifndef XVR_BPF_PARSING_H
#define XVR_BPF_PARSING_H

#define ETH_ALEN	6
#define ETH_HLEN	14
#define ETH_MIN_MTU	68	/* the least MTU of an IPv4 link and of an Ethernet device */
#define ETH_P_IP	0x0800
#define ETH_P_IPV6	0x86DD
#define ETH_P_ARP	0x0806
#define ETH_P_8021Q	0x8100
#define ETH_P_8021AD	0x88A8
#define ETH_P_TEB	0x6558	/* transparent Ethernet bridging, EGRE */
#define VLAN_HLEN	4
#define VLAN_VID_MASK	0x0fff

#define IPPROTO_HOPOPTS_	0
#define IPPROTO_TCP_		6
#define IPPROTO_UDP_		17
#define IPPROTO_ROUTING_	43
#define IPPROTO_FRAGMENT_	44
#define IPPROTO_GRE_		47
#define IPPROTO_AH_		51
#define IPPROTO_DSTOPTS_	60

#define IP_MF		0x2000
#define IP_OFFSET	0x1fff

#define GRE_CSUM	0x8000
#define GRE_KEY		0x2000
#define GRE_SEQ		0x1000
#define GRE_VERSION	0x0007

enum pkt_flags {
	PKT_L4_PORTS = 1 << 0,		/* sport/dport valid */
	PKT_IP_OPTIONS = 1 << 1,	/* IPv4 options present */
	PKT_IPV6_HOPOPTS = 1 << 2,	/* IPv6 hop-by-hop header present */
	PKT_FRAGMENT = 1 << 3,		/* any fragment */
	PKT_GRE_KEY = 1 << 4,		/* gre_key valid */
};

struct vlan_hdr_ {
	__be16 tci;
	__be16 encap_proto;
};

struct gre_base_hdr_ {
	__be16 flags;
	__be16 protocol;
};

struct pkt {
	/* Pointers first: from len on, only scalars (PKT_SCALARS). */
	struct ethhdr *eth;
	struct iphdr *ip4;		/* exactly one of ip4/ip6 set for IP */
	struct ipv6hdr *ip6;
	__u32 len;			/* whole frame */
	__u32 gre_key;
	__u16 l3_proto;			/* host order, after the VLAN tags */
	__u16 l2_len;			/* Ethernet header plus tags */
	__u16 vlan[XVR_MAX_VLANS];	/* outermost first */
	__u16 sport, dport;		/* host order */
	__u16 vlan_prio;		/* PCP and DEI bits of the outer tag */
	__u8 nvlans;
	__u8 l4_proto;
	__u8 flags;
};

/* The scalar part of struct pkt, which may be kept in a map between programs. */
#define PKT_SCALARS_OFF		__builtin_offsetof(struct pkt, len)
#define PKT_SCALARS_LEN		(sizeof(struct pkt) - PKT_SCALARS_OFF)

struct cursor {
	void *pos;
	void *end;
};

/* IPv4 header checksum over a 20-byte header; 0 when it verifies. */
static __always_inline __u16 ipv4_csum_check(const struct iphdr *iph)
{
	const __u16 *w = (const __u16 *)iph;
	__u32 sum = 0;

	for (int i = 0; i < (int)(sizeof(*iph) / 2); i++)
		sum += w[i];
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

static __always_inline int parse_l4_ports(struct cursor *c, struct pkt *p, void *l4_end)
{
	struct udphdr *uh = c->pos;

	/* TCP and UDP both start with the two ports; UDP's header is 8 bytes. */
	if (c->pos + 4 > c->end || c->pos + 4 > l4_end)
		return XVR_DROP_BAD_L4;
	if (p->l4_proto == IPPROTO_UDP_ &&
	    ((void *)(uh + 1) > c->end || (void *)(uh + 1) > l4_end))
		return XVR_DROP_BAD_L4;
	p->sport = bpf_ntohs(uh->source);
	p->dport = bpf_ntohs(uh->dest);
	p->flags |= PKT_L4_PORTS;
	return 0;
}

static __always_inline int parse_gre(struct cursor *c, struct pkt *p, void *l4_end)
{
	struct gre_base_hdr_ *gh = c->pos;
	__u16 gflags;
	__be32 *key;

	if ((void *)(gh + 1) > c->end || (void *)(gh + 1) > l4_end)
		return XVR_DROP_BAD_L4;
	gflags = bpf_ntohs(gh->flags);
	if (gflags & GRE_VERSION)
		return 0;	/* PPTP and friends: plain IP payload to us */
	if (!(gflags & GRE_KEY))
		return 0;
	key = (void *)(gh + 1) + ((gflags & GRE_CSUM) ? 4 : 0);
	if ((void *)(key + 1) > c->end || (void *)(key + 1) > l4_end)
		return XVR_DROP_BAD_L4;
	p->gre_key = bpf_ntohl(*key);
	p->flags |= PKT_GRE_KEY;
	return 0;
}

static __always_inline int parse_l4(struct cursor *c, struct pkt *p, void *l4_end)
{
	switch (p->l4_proto) {
	case IPPROTO_UDP_:
	case IPPROTO_TCP_:
		return parse_l4_ports(c, p, l4_end);
	case IPPROTO_GRE_:
		return parse_gre(c, p, l4_end);
	}
	return 0;
}

static __always_inline int parse_ipv4(struct cursor *c, struct pkt *p)
{
	struct iphdr *iph = c->pos;
	__u32 hlen, tot_len;
	void *l4_end;

	if ((void *)(iph + 1) > c->end)
		return XVR_DROP_BAD_IP;
	if (iph->version != 4 || iph->ihl < 5)
		return XVR_DROP_BAD_IP;
	hlen = iph->ihl * 4;
	tot_len = bpf_ntohs(iph->tot_len);
	if (tot_len < hlen || c->pos + tot_len > c->end)
		return XVR_DROP_BAD_IP;
	if (hlen > sizeof(*iph)) {
		/* Options go to the control plane, which verifies them. */
		p->flags |= PKT_IP_OPTIONS;
	} else if (ipv4_csum_check(iph)) {
		return XVR_DROP_BAD_CSUM;
	}
	p->ip4 = iph;
	p->l4_proto = iph->protocol;
	if (iph->frag_off & bpf_htons(IP_MF | IP_OFFSET)) {
		p->flags |= PKT_FRAGMENT;
		/* Only the first fragment carries the L4 header. */
		if (iph->frag_off & bpf_htons(IP_OFFSET))
			return 0;
	}
	l4_end = c->pos + tot_len;
	c->pos += hlen;
	return parse_l4(c, p, l4_end);
}

static __always_inline bool ipv6_is_exthdr(__u8 nexthdr)
{
	return nexthdr == IPPROTO_HOPOPTS_ || nexthdr == IPPROTO_ROUTING_ ||
	       nexthdr == IPPROTO_DSTOPTS_ || nexthdr == IPPROTO_AH_ ||
	       nexthdr == IPPROTO_FRAGMENT_;
}

static __always_inline int parse_ipv6(struct cursor *c, struct pkt *p)
{
	struct ipv6hdr *ip6h = c->pos;
	void *l4_end;
	__u32 off, end_off;
	__u8 nexthdr;

	if ((void *)(ip6h + 1) > c->end)
		return XVR_DROP_BAD_IP;
	if (ip6h->version != 6)
		return XVR_DROP_BAD_IP;
	l4_end = (void *)(ip6h + 1) + bpf_ntohs(ip6h->payload_len);
	if (l4_end > c->end)
		return XVR_DROP_BAD_IP;
	p->ip6 = ip6h;
	nexthdr = ip6h->nexthdr;

	/*
	 * Walk the extension headers by offset from the end of the fixed
	 * header: one uniform path per header keeps the verifier's state
	 * count small (per-type branches with a moving packet pointer
	 * exceed its instruction budget).
	 */
	end_off = bpf_ntohs(ip6h->payload_len);
	off = 0;
	for (int i = 0; i < XVR_MAX_IPV6_EXTHDRS; i++) {
		struct ipv6_opt_hdr *oh;
		__u32 len;

		if (!ipv6_is_exthdr(nexthdr))
			break;
		/* Bounded for the verifier; no single-page frame gets here. */
		if (off > 0xfff)
			return XVR_DROP_BAD_IP;
		off &= 0xfff;
		oh = (void *)(ip6h + 1) + off;
		/* Every extension header is at least 8 bytes long. */
		if ((void *)oh + 8 > c->end || off + 8 > end_off)
			return XVR_DROP_BAD_IP;
		if (nexthdr == IPPROTO_HOPOPTS_)
			p->flags |= PKT_IPV6_HOPOPTS;
		if (nexthdr == IPPROTO_FRAGMENT_) {
			struct frag_hdr *fh = (void *)oh;

			p->flags |= PKT_FRAGMENT;
			if (fh->frag_off & bpf_htons(0xfff8)) {
				/* Not the first fragment: no L4 header here. */
				p->l4_proto = fh->nexthdr;
				return 0;
			}
			len = 8;
		} else if (nexthdr == IPPROTO_AH_) {
			len = ((__u32)oh->hdrlen + 2) * 4;
		} else {
			len = ((__u32)oh->hdrlen + 1) * 8;
		}
		nexthdr = oh->nexthdr;
		off += len;
		if (off > end_off)
			return XVR_DROP_BAD_IP;
	}
	p->l4_proto = nexthdr;
	if (ipv6_is_exthdr(nexthdr))
		return 0;	/* a longer chain than we walk: routable, not by L4 */
	if (off > 0xfff)
		return XVR_DROP_BAD_IP;
	off &= 0xfff;
	c->pos = (void *)(ip6h + 1) + off;
	return parse_l4(c, p, l4_end);
}

/* Fills p; returns 0 or the xvr_drop_reason for a malformed frame. */
static __always_inline int parse_frame(void *data, void *data_end, struct pkt *p)
{
	struct cursor c = { .pos = data, .end = data_end };
	struct ethhdr *eth = c.pos;
	__u16 proto;

	p->len = c.end - c.pos;
	if ((void *)(eth + 1) > c.end)
		return XVR_DROP_BAD_L2;
	p->eth = eth;
	proto = bpf_ntohs(eth->h_proto);
	c.pos = eth + 1;

	for (int i = 0; i < XVR_MAX_VLANS; i++) {
		struct vlan_hdr_ *vh = c.pos;

		if (proto != ETH_P_8021Q && proto != ETH_P_8021AD)
			break;
		if ((void *)(vh + 1) > c.end)
			return XVR_DROP_BAD_L2;
		p->vlan[i] = bpf_ntohs(vh->tci) & VLAN_VID_MASK;
		if (!i)
			p->vlan_prio = bpf_ntohs(vh->tci) & ~VLAN_VID_MASK;
		p->nvlans = i + 1;
		proto = bpf_ntohs(vh->encap_proto);
		c.pos = vh + 1;
	}
	if (proto == ETH_P_8021Q || proto == ETH_P_8021AD)
		return XVR_DROP_VLAN_DEPTH;
	p->l3_proto = proto;
	p->l2_len = c.pos - (void *)eth;

	switch (proto) {
	case ETH_P_IP:
		return parse_ipv4(&c, p);
	case ETH_P_IPV6:
		return parse_ipv6(&c, p);
	}
	return 0;
}

#endif /* XVR_BPF_PARSING_H */
