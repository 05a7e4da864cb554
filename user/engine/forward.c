// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The engine's built-in router: what Linux's IPv4/IPv6 forwarding does for
 * an ordinary transit packet, and nothing more. Every packet it cannot
 * forward as is goes, unchanged, to the router's own kernel stack through
 * the interface it arrived on, so the tenant's kernel answers exactly as a
 * netns router would: ICMP time exceeded and unreachables, ARP/ND for an
 * unresolved next hop (and then forwarding that packet itself), local
 * delivery, options, fragmentation or packet-too-big.
 *
 * The frame is rewritten only once the forwarding decision is final, so a
 * punted frame is the frame that arrived.
 */
#include <string.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include "engine.h"

#define IPV4_MIN_HLEN	20
#define IPV6_HLEN	40

static inline void verdict_stack(struct xvr_pkt *p, __u16 reason)
{
	p->verdict = XVR_VERDICT_STACK;
	p->out_ifindex = p->in_ifindex;
	p->reason = reason;
}

static inline void verdict_drop(struct xvr_pkt *p, __u16 reason)
{
	p->verdict = XVR_VERDICT_DROP;
	p->out_ifindex = 0;
	p->reason = reason;
}

bool fe_out_ok(const struct engine *e, __u32 ifindex)
{
	const struct fe_link *l = rib_link(&e->rib, ifindex);

	return l && ifindex != e->dev_ifindex && !(l->flags & IFF_LOOPBACK);
}

/* One's complement sum of the IPv4 header; 0 when the checksum is right. */
static inline __u16 ip4_csum_fold(const void *hdr, unsigned int ihl)
{
	const __u16 *w = hdr;
	__u32 sum = 0;

	for (unsigned int i = 0; i < ihl * 2; i++)
		sum += w[i];
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/* Spreads the flows of a multipath route; only addresses and protocol, so fragments stay together. */
static inline __u32 flow_hash(const void *saddr, const void *daddr, size_t alen, __u8 proto)
{
	__u32 words[9] = {};

	memcpy(words, saddr, alen);
	memcpy((__u8 *)words + 16, daddr, alen);
	words[8] = proto;
	return htab_hash(words, sizeof(words));
}

struct fwd_out {
	const struct fe_link *link;
	const __u8 *dmac;
};

/*
 * Where a frame for daddr leaves by nexthop nh: its interface and the
 * neighbour's MAC. 0, or the reason it goes to the stack (or is dropped,
 * for XVR_REASON_BLACKHOLE).
 */
static int nh_resolve(const struct engine *e, __u32 nh_id, int family, const __u8 *daddr,
		      __u32 (*hash)(const void *), const void *hash_arg, struct fwd_out *out)
{
	const struct fe_nh *nh = rib_nh(&e->rib, nh_id);
	const struct fe_neigh *neigh;
	const struct fe_path *path;

	if (!nh)
		return XVR_REASON_NO_ROUTE;
	switch (nh->key.type) {
	case FE_NH_FORWARD:
		break;
	case FE_NH_LOCAL:
		return XVR_REASON_LOCAL;
	case FE_NH_BLACKHOLE:
		return XVR_REASON_BLACKHOLE;
	default:
		return XVR_REASON_ROUTE_STACK;
	}
	path = &nh->key.paths[0];
	if (nh->key.npaths > 1)
		path = &nh->key.paths[hash(hash_arg) % nh->key.npaths];
	if (!fe_out_ok(e, path->oif))
		return XVR_REASON_NO_OUTPUT;
	out->link = rib_link(&e->rib, path->oif);
	if (!(out->link->flags & IFF_UP))
		return XVR_REASON_NO_OUTPUT;
	if (path->family)
		neigh = rib_neigh(&e->rib, path->family, path->oif, path->gw);
	else
		neigh = rib_neigh(&e->rib, family, path->oif, daddr);
	if (!neigh)
		return XVR_REASON_UNRESOLVED;
	out->dmac = neigh->mac;
	return 0;
}

static inline void set_macs(struct ethhdr *eth, const struct fwd_out *out)
{
	memcpy(eth->h_dest, out->dmac, ETH_ALEN);
	memcpy(eth->h_source, out->link->mac, ETH_ALEN);
}

/* Martians, multicast and broadcast, link-local: never forwarded, the kernel decides. */
static inline bool ip4_special(__u32 a)
{
	return (a & 0xf0000000) == 0xe0000000 ||	/* multicast, 224/4 */
	       a == 0xffffffff ||			/* limited broadcast */
	       (a & 0xff000000) == 0 ||			/* 0/8 */
	       (a & 0xff000000) == 0x7f000000 ||	/* loopback */
	       (a & 0xffff0000) == 0xa9fe0000;		/* link-local 169.254/16 */
}

static __u32 hash4(const void *arg)
{
	const struct iphdr *iph = arg;

	return flow_hash(&iph->saddr, &iph->daddr, 4, iph->protocol);
}

static void route4(struct engine *e, struct xvr_pkt *p)
{
	struct ethhdr *eth = (struct ethhdr *)p->data;
	struct iphdr *iph = (struct iphdr *)(eth + 1);
	struct fwd_out out;
	unsigned int hlen, tot;
	__u32 check;
	int reason;

	if (p->len < ETH_HLEN + IPV4_MIN_HLEN || iph->version != 4 || iph->ihl < 5)
		return verdict_drop(p, XVR_REASON_BAD_IP);
	hlen = iph->ihl * 4;
	tot = ntohs(iph->tot_len);
	if (p->len < ETH_HLEN + hlen || tot < hlen || tot > p->len - ETH_HLEN)
		return verdict_drop(p, XVR_REASON_BAD_IP);
	if (ip4_csum_fold(iph, iph->ihl))
		return verdict_drop(p, XVR_REASON_BAD_CSUM);
	if (hlen > IPV4_MIN_HLEN)
		return verdict_stack(p, XVR_REASON_IP_OPTIONS);
	if (ip4_special(ntohl(iph->daddr)) || ip4_special(ntohl(iph->saddr)))
		return verdict_stack(p, XVR_REASON_MCAST);

	/* Local delivery before TTL: a TTL-1 packet for the router is the router's. */
	reason = nh_resolve(e, rib_lookup4(&e->rib, iph->daddr), AF_INET, (__u8 *)&iph->daddr,
			    hash4, iph, &out);
	if (reason == XVR_REASON_BLACKHOLE)
		return verdict_drop(p, reason);
	if (reason == XVR_REASON_LOCAL || reason == XVR_REASON_NO_ROUTE ||
	    reason == XVR_REASON_ROUTE_STACK)
		return verdict_stack(p, reason);
	if (iph->ttl <= 1)
		return verdict_stack(p, XVR_REASON_TTL);
	if (reason)
		return verdict_stack(p, reason);
	if (tot > out.link->mtu)
		return verdict_stack(p, XVR_REASON_MTU);

	/* RFC 1624 incremental update, as the kernel's ip_decrease_ttl(). */
	check = iph->check;
	check += htons(0x0100);
	iph->check = (__u16)(check + (check >= 0xffff));
	iph->ttl--;
	set_macs(eth, &out);
	p->verdict = XVR_VERDICT_FORWARD;
	p->out_ifindex = out.link->ifindex;
	p->reason = XVR_REASON_NONE;
}

static inline bool ip6_special(const struct in6_addr *a)
{
	return a->s6_addr[0] == 0xff ||					/* multicast */
	       (a->s6_addr[0] == 0xfe && (a->s6_addr[1] & 0xc0) == 0x80) ||	/* fe80::/10 */
	       IN6_IS_ADDR_UNSPECIFIED(a) || IN6_IS_ADDR_LOOPBACK(a);
}

static __u32 hash6(const void *arg)
{
	const struct ipv6hdr *ip6 = arg;

	return flow_hash(&ip6->saddr, &ip6->daddr, 16, ip6->nexthdr);
}

static void route6(struct engine *e, struct xvr_pkt *p)
{
	struct ethhdr *eth = (struct ethhdr *)p->data;
	struct ipv6hdr *ip6 = (struct ipv6hdr *)(eth + 1);
	struct fwd_out out;
	unsigned int plen;
	int reason;

	if (p->len < ETH_HLEN + IPV6_HLEN || ip6->version != 6)
		return verdict_drop(p, XVR_REASON_BAD_IP);
	if (ip6->nexthdr == IPPROTO_HOPOPTS)
		return verdict_stack(p, XVR_REASON_IP_OPTIONS);
	plen = ntohs(ip6->payload_len);
	if (IPV6_HLEN + plen > p->len - ETH_HLEN)
		return verdict_drop(p, XVR_REASON_BAD_IP);
	if (ip6_special((struct in6_addr *)&ip6->daddr) ||
	    ip6_special((struct in6_addr *)&ip6->saddr))
		return verdict_stack(p, XVR_REASON_MCAST);

	reason = nh_resolve(e, rib_lookup6(&e->rib, ip6->daddr.s6_addr), AF_INET6,
			    ip6->daddr.s6_addr, hash6, ip6, &out);
	if (reason == XVR_REASON_BLACKHOLE)
		return verdict_drop(p, reason);
	if (reason == XVR_REASON_LOCAL || reason == XVR_REASON_NO_ROUTE ||
	    reason == XVR_REASON_ROUTE_STACK)
		return verdict_stack(p, reason);
	if (ip6->hop_limit <= 1)
		return verdict_stack(p, XVR_REASON_TTL);
	if (reason)
		return verdict_stack(p, reason);
	if (IPV6_HLEN + plen > out.link->mtu)
		return verdict_stack(p, XVR_REASON_MTU);

	ip6->hop_limit--;
	set_macs(eth, &out);
	p->verdict = XVR_VERDICT_FORWARD;
	p->out_ifindex = out.link->ifindex;
	p->reason = XVR_REASON_NONE;
}

void fe_route_pkt(struct engine *e, struct xvr_pkt *p)
{
	const struct ethhdr *eth = (const struct ethhdr *)p->data;

	if (!p->data || p->len < ETH_HLEN)
		return verdict_drop(p, XVR_REASON_BAD_L2);
	/* A router forwards unicast frames; group addresses are the stack's. */
	if (eth->h_dest[0] & 1)
		return verdict_stack(p, XVR_REASON_MCAST);
	switch (ntohs(eth->h_proto)) {
	case ETH_P_IP:
		return route4(e, p);
	case ETH_P_IPV6:
		return route6(e, p);
	default:
		return verdict_stack(p, XVR_REASON_NON_IP);
	}
}
