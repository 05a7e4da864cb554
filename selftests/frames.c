// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Frame builder for the packet tests; see frames.h. */
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <linux/tcp.h>
#include "frames.h"

const __u8 FRAME_DMAC[6] = { 0x02, 0x00, 0x00, 0x00, 0xaa, 0x01 };
const __u8 FRAME_SMAC[6] = { 0x02, 0x00, 0x00, 0x00, 0xcc, 0x01 };

/* Not in the UAPI headers: a VLAN tag, a GRE base header, an ARP body. */
struct frame_vlan {
	__be16 tci;
	__be16 encap_proto;
} __attribute__((packed));

struct frame_gre {
	__be16 flags;
	__be16 protocol;
} __attribute__((packed));

struct frame_arp {
	__be16 htype, ptype;
	__u8 hlen, plen;
	__be16 oper;
	__u8 sha[6];
	__u8 spa[4];
	__u8 tha[6];
	__u8 tpa[4];
} __attribute__((packed));

struct frame_frag6 {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off;	/* offset << 3 | M */
	__be32 identification;
} __attribute__((packed));

__u32 csum_partial(const void *buf, size_t len, __u32 sum)
{
	const __u8 *p = buf;

	/* Words in memory order: the sum is then in network order too. */
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (__u32)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (__u32)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

__u16 csum_fold(__u32 sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

struct iphdr *frame_ip4(struct frame *f)
{
	return (struct iphdr *)(f->data + f->l3_off);
}

struct ipv6hdr *frame_ip6(struct frame *f)
{
	return (struct ipv6hdr *)(f->data + f->l3_off);
}

__u16 frame_ipv4_csum(const struct frame *f)
{
	const struct iphdr *iph = (const void *)(f->data + f->l3_off);
	size_t hlen = iph->ihl < 5 ? 20 : iph->ihl * 4u;
	struct iphdr tmp;
	__u32 sum;

	/* The sum over the header with its checksum field taken as zero. */
	memcpy(&tmp, iph, sizeof(tmp));
	tmp.check = 0;
	sum = csum_partial(&tmp, sizeof(tmp), 0);
	sum = csum_partial((const __u8 *)iph + sizeof(tmp), hlen - sizeof(tmp), sum);
	return csum_fold(sum);	/* host order */
}

void frame_ipv4_fix_csum(struct frame *f)
{
	frame_ip4(f)->check = htons(frame_ipv4_csum(f));
}

void frame_set_ttl(struct frame *f, int family, __u8 ttl)
{
	if (family == AF_INET) {
		frame_ip4(f)->ttl = ttl;
		frame_ipv4_fix_csum(f);
	} else {
		frame_ip6(f)->hop_limit = ttl;
	}
}

static int ext_len(const struct frame_ext *e)
{
	switch (e->type) {
	case IPPROTO_FRAGMENT:
		return 8;
	case IPPROTO_AH:
		return (e->hdrlen + 2) * 4;
	default:
		return (e->hdrlen + 1) * 8;
	}
}

/* Writes extension header e at p; nexthdr is what follows it. */
static void ext_write(__u8 *p, const struct frame_ext *e, __u8 nexthdr)
{
	int len = ext_len(e);

	memset(p, 0, len);
	p[0] = nexthdr;
	if (e->type == IPPROTO_FRAGMENT) {
		struct frame_frag6 *fh = (void *)p;

		fh->frag_off = htons(e->frag_offset << 3 | (e->frag_more ? 1 : 0));
		fh->identification = htonl(0x12345678);
		return;
	}
	p[1] = e->hdrlen;
	if (e->type == IPPROTO_ROUTING) {
		p[2] = 4;	/* segment routing header */
		p[3] = 0;	/* segments left: already at the last one */
	} else if (e->type == IPPROTO_AH) {
		p[4 + 4 - 1] = 0x42;	/* SPI 0x42, sequence and ICV zero */
	} else {
		/* Hop-by-hop and destination options: one PadN filling the rest. */
		p[2] = 1;
		p[3] = len - 4;
	}
}

static void pattern(__u8 *p, int len)
{
	for (int i = 0; i < len; i++)
		p[i] = (__u8)i;
}

int frame_build(struct frame *f, const struct frame_spec *s)
{
	static const __u8 zero_mac[6];
	__u8 saddr[16], daddr[16];
	__u8 proto = s->proto ? s->proto : IPPROTO_UDP;
	int ttl = s->ttl ? s->ttl : 64;
	struct ethhdr *eth;
	__u16 l3_proto;
	__u8 *p;
	int l4_len, ext_total = 0;

	memset(f, 0, sizeof(*f));
	if (s->nvlans > FRAME_MAX_VLANS || s->next > FRAME_MAX_EXT || s->ip_opts % 4 ||
	    s->ip_opts > 40 || s->payload < 0 || s->payload > 1600)
		return -EINVAL;

	l3_proto = s->family == AF_INET ? ETH_P_IP : s->family == AF_INET6 ? ETH_P_IPV6
									     : s->ethertype;
	eth = (struct ethhdr *)f->data;
	memcpy(eth->h_dest, memcmp(s->dmac, zero_mac, 6) ? s->dmac : FRAME_DMAC, 6);
	memcpy(eth->h_source, memcmp(s->smac, zero_mac, 6) ? s->smac : FRAME_SMAC, 6);
	p = (__u8 *)(eth + 1);
	for (int i = 0; i < s->nvlans; i++) {
		struct frame_vlan *vh = (void *)p;
		__u16 tpid = i == 0 && s->tpid ? s->tpid : ETH_P_8021Q;

		/* Each tag's TPID sits in the header before it. */
		if (i == 0)
			eth->h_proto = htons(tpid);
		else
			((struct frame_vlan *)(p - sizeof(*vh)))->encap_proto = htons(tpid);
		vh->tci = htons(s->tci[i]);
		p += sizeof(*vh);
	}
	if (s->nvlans)
		((struct frame_vlan *)(p - sizeof(struct frame_vlan)))->encap_proto = htons(l3_proto);
	else
		eth->h_proto = htons(l3_proto);
	f->l3_off = p - f->data;

	if (!s->family) {
		if (s->ethertype == ETH_P_ARP) {
			struct frame_arp *arp = (void *)p;

			arp->htype = htons(1);
			arp->ptype = htons(ETH_P_IP);
			arp->hlen = 6;
			arp->plen = 4;
			arp->oper = htons(1);
			memcpy(arp->sha, eth->h_source, 6);
			inet_pton(AF_INET, "192.0.2.1", arp->spa);
			inet_pton(AF_INET, "192.0.2.254", arp->tpa);
			p += sizeof(*arp);
		}
		pattern(p, s->payload);
		p += s->payload;
		f->l4_off = p - f->data;
		goto pad;
	}

	if (inet_pton(s->family, s->src ? s->src : s->family == AF_INET ? "192.0.2.1"
									    : "2001:db8:ffff::1",
		      saddr) != 1 ||
	    inet_pton(s->family, s->dst ? s->dst : s->family == AF_INET ? "198.51.100.1"
									    : "2001:db8:eeee::1",
		      daddr) != 1)
		return -EINVAL;

	switch (proto) {
	case IPPROTO_UDP:
		l4_len = sizeof(struct udphdr);
		break;
	case IPPROTO_TCP:
		l4_len = sizeof(struct tcphdr);
		break;
	case IPPROTO_GRE:
		l4_len = sizeof(struct frame_gre) + (s->gre_flags & FRAME_GRE_CSUM ? 4 : 0) +
			 (s->gre_flags & FRAME_GRE_KEY ? 4 : 0);
		break;
	default:
		l4_len = 0;
	}
	l4_len += s->payload;
	for (int i = 0; i < s->next; i++)
		ext_total += ext_len(&s->ext[i]);

	if (s->family == AF_INET) {
		struct iphdr *iph = (void *)p;
		int hlen = sizeof(*iph) + s->ip_opts;

		iph->version = 4;
		iph->ihl = hlen / 4;
		iph->tot_len = htons(hlen + l4_len);
		iph->id = htons(s->ip_id);
		iph->frag_off = htons(s->ip_frag);
		iph->ttl = ttl;
		iph->protocol = proto;
		memcpy(&iph->saddr, saddr, 4);
		memcpy(&iph->daddr, daddr, 4);
		/* Options: NOPs, then end of list. */
		memset(p + sizeof(*iph), 1, s->ip_opts);
		if (s->ip_opts)
			p[hlen - 1] = 0;
		p += hlen;
	} else {
		struct ipv6hdr *ip6h = (void *)p;
		__u8 nexthdr = s->next ? s->ext[0].type : proto;

		ip6h->version = 6;
		ip6h->payload_len = htons(ext_total + l4_len);
		ip6h->nexthdr = nexthdr;
		ip6h->hop_limit = ttl;
		memcpy(&ip6h->saddr, saddr, 16);
		memcpy(&ip6h->daddr, daddr, 16);
		p += sizeof(*ip6h);
		for (int i = 0; i < s->next; i++) {
			ext_write(p, &s->ext[i], i + 1 < s->next ? s->ext[i + 1].type : proto);
			p += ext_len(&s->ext[i]);
		}
	}
	if (p + l4_len > f->data + FRAME_MAX)
		return -EINVAL;
	f->l4_off = p - f->data;

	if (proto == IPPROTO_UDP || proto == IPPROTO_TCP) {
		__u8 *l4 = p;
		__u16 *check;
		__u32 sum;

		if (proto == IPPROTO_UDP) {
			struct udphdr *uh = (void *)l4;

			uh->source = htons(s->sport ? s->sport : 40000);
			uh->dest = htons(s->dport ? s->dport : 7);
			uh->len = htons(l4_len);
			check = &uh->check;
			p += sizeof(*uh);
		} else {
			struct tcphdr *th = (void *)l4;

			th->source = htons(s->sport ? s->sport : 40000);
			th->dest = htons(s->dport ? s->dport : 7);
			th->seq = htonl(1);
			th->doff = 5;
			th->ack = 1;
			th->window = htons(65535);
			check = &th->check;
			p += sizeof(*th);
		}
		pattern(p, s->payload);
		p += s->payload;

		/* Pseudo header, then the segment (RFC 768, RFC 8200 8.1). */
		sum = csum_partial(saddr, s->family == AF_INET ? 4 : 16, 0);
		sum = csum_partial(daddr, s->family == AF_INET ? 4 : 16, sum);
		sum += proto + l4_len;
		sum = csum_partial(l4, l4_len, sum);
		*check = htons(csum_fold(sum));
		if (proto == IPPROTO_UDP && !*check)
			*check = 0xffff;
	} else if (proto == IPPROTO_GRE) {
		struct frame_gre *gh = (void *)p;
		__u8 *opt = p + sizeof(*gh), *l4 = p;

		gh->flags = htons(s->gre_flags);
		gh->protocol = htons(ETH_P_TEB);
		if (s->gre_flags & FRAME_GRE_CSUM)
			opt += 4;
		if (s->gre_flags & FRAME_GRE_KEY) {
			__be32 key = htonl(s->gre_key);

			memcpy(opt, &key, 4);
			opt += 4;
		}
		pattern(opt, s->payload);
		p = opt + s->payload;
		if (s->gre_flags & FRAME_GRE_CSUM) {
			__be16 c = htons(csum_fold(csum_partial(l4, l4_len, 0)));

			memcpy(l4 + sizeof(*gh), &c, 2);
		}
	} else {
		pattern(p, s->payload);
		p += s->payload;
	}
	if (s->family == AF_INET) {
		f->len = p - f->data;
		frame_ipv4_fix_csum(f);
	}

pad:
	f->len = p - f->data;
	if ((int)f->len < s->min_len) {
		if (s->min_len > FRAME_MAX)
			return -EINVAL;
		f->len = s->min_len;	/* zeros: the struct was cleared */
	}
	return 0;
}
