// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * libFuzzer target for the data path's frame parser and classifier
 * (bpf/parsing.h, bpf/classify.h built for the host through host_shim.h).
 *
 * Input: byte 0 picks the ingress port (bit 0), whether that port has a
 * default router (bit 1) and whether the harness writes a correct IPv4
 * header checksum into the frame (bit 2: a mutated header rarely has one,
 * and the parser stops there); byte 1 is the node's rule-kind mask; the
 * rest is the frame, copied into a heap buffer of exactly its size so that
 * AddressSanitizer reports any read past its end. Invariants checked on
 * every input (abort() on a violation, which libFuzzer reports as a crash):
 *   - parse_frame returns 0 or one of the parser's drop reasons;
 *   - on success every header pointer it sets lies inside the frame, the
 *     L2 length matches the tags, at most one of ip4/ip6 is set and agrees
 *     with the EtherType, L4 flags agree with the L4 protocol, and IPv4's
 *     ports and GRE key are the bytes at the header's end;
 *   - classify returns NULL, the port default, or a rule that matches the
 *     frame on this port (or any port) and whose kind is enabled;
 *   - it answers the same whether IPv4 prefix rules are looked up by exact
 *     key, one length at a time (xvr_cls_prefix4), or in the trie.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "host_shim.h"
#include "parsing.h"
#include "classify.h"

#define PORT_A		1
#define PORT_B		2
#define VR_DEFAULT	99

struct fuzz_map xvr_classify = { 1 }, xvr_cls_prefix = { 2 }, xvr_cls_prefix4 = { 3 };

/* Exact rules: the router id names the rule (its index + 1). */
static struct {
	struct xvr_cls_key key;
	struct xvr_cls_val val;
} exact[] = {
	{ { .ifindex = 0, .kind = XVR_RULE_GRE, .gre_key = 100 } },
	{ { .ifindex = PORT_A, .kind = XVR_RULE_GRE, .gre_key = 200 } },
	{ { .ifindex = PORT_A, .kind = XVR_RULE_MAC, .mac = { 2, 0, 0, 0, 0, 0x11 } } },
	{ { .ifindex = 0, .kind = XVR_RULE_MAC, .mac = { 2, 0, 0, 0, 0, 0x12 } } },
	{ { .ifindex = 0, .kind = XVR_RULE_VLAN, .vlan = 100 } },
	{ { .ifindex = PORT_B, .kind = XVR_RULE_VLAN, .vlan = 200 } },
	{ { .ifindex = 0, .kind = XVR_RULE_UDP, .port = 4789 } },
	{ { .ifindex = PORT_A, .kind = XVR_RULE_UDP, .port = 5000 } },
};
#define NEXACT	(sizeof(exact) / sizeof(exact[0]))

/* Prefix rules, v4-mapped for IPv4; router id NEXACT + index + 1. */
static struct {
	__u32 ifindex;
	__u8 addr[16];
	__u32 plen;		/* of the address */
	struct xvr_cls_val val;
} prefixes[] = {
	{ 0, { [10] = 0xff, [11] = 0xff, [12] = 10 }, 96 + 8 },
	{ PORT_A, { [10] = 0xff, [11] = 0xff, [12] = 10, [13] = 1 }, 96 + 16 },
	{ 0, { [10] = 0xff, [11] = 0xff, [12] = 10, [13] = 2 }, 96 + 24 },
	{ PORT_B, { [10] = 0xff, [11] = 0xff }, 96 },
	{ 0, { 0x20, 0x01, 0x0d, 0xb8 }, 32 },
};
/* Their IPv4 lengths as rules_refresh_kinds lists them (length + 1, longest first). */
#define PORT_LENS	(16 + 1 | (0 + 1) << 8)
#define ANY_LENS	(24 + 1 | (8 + 1) << 8)
#define NPREFIX	(sizeof(prefixes) / sizeof(prefixes[0]))

static bool prefix_match(const __u8 *a, const __u8 *b, __u32 plen)
{
	for (__u32 i = 0; i < plen; i++) {
		__u8 m = 0x80 >> (i % 8);

		if ((a[i / 8] & m) != (b[i / 8] & m))
			return false;
	}
	return true;
}

void *fuzz_map_lookup(struct fuzz_map *map, const void *key)
{
	if (map == &xvr_classify) {
		for (size_t i = 0; i < NEXACT; i++)
			if (!memcmp(&exact[i].key, key, sizeof(exact[i].key)))
				return &exact[i].val;
		return NULL;
	}
	if (map == &xvr_cls_prefix) {
		const struct xvr_cls_prefix_key *k = key;
		struct xvr_cls_val *best = NULL;
		__u32 best_len = 0;

		/* Longest prefix over {ifindex, address}, as the LPM trie does. */
		for (size_t i = 0; i < NPREFIX; i++) {
			__u32 len = 32 + prefixes[i].plen;

			if (prefixes[i].ifindex ? bpf_htonl(prefixes[i].ifindex) != k->ifindex :
						  k->ifindex != 0)
				continue;
			if (len > k->prefixlen || len < best_len ||
			    !prefix_match(prefixes[i].addr, k->addr, prefixes[i].plen))
				continue;
			best = &prefixes[i].val;
			best_len = len;
		}
		return best;
	}
	if (map == &xvr_cls_prefix4) {
		const struct xvr_cls4_key *k = key;

		/* The IPv4 rules above, by exact {port, length, masked address}. */
		for (size_t i = 0; i < NPREFIX; i++) {
			if (prefixes[i].plen >= 96 && prefixes[i].addr[10] == 0xff &&
			    prefixes[i].ifindex == k->ifindex && prefixes[i].plen - 96 == k->plen &&
			    !memcmp(&prefixes[i].addr[12], &k->addr, 4))
				return &prefixes[i].val;
		}
		return NULL;
	}
	abort();
}

#define CHECK(cond)							\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "fuzz_parse: invariant broken: %s (line %d)\n", \
				#cond, __LINE__);			\
			abort();					\
		}							\
	} while (0)

static bool inside(const void *start, size_t need, const __u8 *data, size_t len)
{
	return (const __u8 *)start >= data && (const __u8 *)start + need <= data + len;
}

static void check_parsed(const struct pkt *p, const __u8 *data, size_t len)
{
	CHECK(p->eth == (void *)data);
	CHECK(p->len == len);
	CHECK(p->nvlans <= XVR_MAX_VLANS);
	CHECK(p->l2_len == ETH_HLEN + VLAN_HLEN * p->nvlans && p->l2_len <= len);
	for (int i = 0; i < p->nvlans; i++)
		CHECK(p->vlan[i] <= VLAN_VID_MASK);
	CHECK(!(p->ip4 && p->ip6));
	if (p->ip4) {
		const __u8 *l4 = (const __u8 *)p->ip4 + p->ip4->ihl * 4;

		CHECK(p->l3_proto == ETH_P_IP && (void *)p->ip4 == data + p->l2_len);
		CHECK(inside(p->ip4, bpf_ntohs(p->ip4->tot_len), data, len));
		CHECK(p->ip4->ihl >= 5 && p->ip4->version == 4);
		if (p->flags & PKT_L4_PORTS) {
			CHECK(inside(l4, 4, data, len));
			CHECK(p->sport == (l4[0] << 8 | l4[1]) && p->dport == (l4[2] << 8 | l4[3]));
		}
		if (p->flags & PKT_GRE_KEY) {
			const __u8 *k = l4 + ((l4[0] & 0x80) ? 8 : 4);

			CHECK(inside(k, 4, data, len));
			CHECK(p->gre_key == ((__u32)k[0] << 24 | k[1] << 16 | k[2] << 8 | k[3]));
		}
	} else if (p->ip6) {
		CHECK(p->l3_proto == ETH_P_IPV6 && (void *)p->ip6 == data + p->l2_len);
		CHECK(inside(p->ip6, sizeof(*p->ip6) + bpf_ntohs(p->ip6->payload_len), data, len));
	} else {
		CHECK(!(p->flags & (PKT_L4_PORTS | PKT_GRE_KEY | PKT_IP_OPTIONS | PKT_FRAGMENT)));
	}
	if (p->flags & PKT_L4_PORTS)
		CHECK(p->l4_proto == IPPROTO_TCP_ || p->l4_proto == IPPROTO_UDP_);
	if (p->flags & PKT_GRE_KEY)
		CHECK(p->l4_proto == IPPROTO_GRE_);
	if (p->flags & PKT_IP_OPTIONS)
		CHECK(p->ip4 && p->ip4->ihl > 5);
	if (p->flags & PKT_IPV6_HOPOPTS)
		CHECK(p->ip6);
}

/* The rule classify answered with must match the frame on this port. */
static void check_class(const struct pkt *p, __u32 ifindex, __u32 kinds,
			const struct xvr_port *port, const struct xvr_cls_val *val)
{
	__u32 id;

	if (!val) {
		CHECK(!port->default_vr);
		return;
	}
	id = val->vr_id;
	if (id == VR_DEFAULT) {
		CHECK(port->default_vr == VR_DEFAULT);
		return;
	}
	CHECK(id >= 1 && id <= NEXACT + NPREFIX);
	if (id <= NEXACT) {
		const struct xvr_cls_key *k = &exact[id - 1].key;

		CHECK(kinds & (1u << k->kind));
		CHECK(!k->ifindex || k->ifindex == ifindex);
		switch (k->kind) {
		case XVR_RULE_GRE:
			CHECK((p->flags & PKT_GRE_KEY) && p->gre_key == k->gre_key);
			break;
		case XVR_RULE_MAC:
			CHECK(!memcmp(p->eth->h_dest, k->mac, ETH_ALEN));
			break;
		case XVR_RULE_VLAN:
			CHECK(p->nvlans && p->vlan[0] == k->vlan);
			break;
		case XVR_RULE_UDP:
			CHECK(p->l4_proto == IPPROTO_UDP_ && (p->flags & PKT_L4_PORTS) &&
			      p->dport == k->port);
			break;
		default:
			CHECK(0);
		}
		return;
	}
	{
		__u8 daddr[16] = { [10] = 0xff, [11] = 0xff };
		__u32 i = id - NEXACT - 1;

		CHECK(kinds & (1u << XVR_RULE_PREFIX));
		CHECK(!prefixes[i].ifindex || prefixes[i].ifindex == ifindex);
		CHECK(p->ip4 || p->ip6);
		if (p->ip4)
			memcpy(&daddr[12], &p->ip4->daddr, 4);
		else
			memcpy(daddr, &p->ip6->daddr, 16);
		CHECK(prefix_match(prefixes[i].addr, daddr, prefixes[i].plen));
	}
}

/* A correct header checksum for the frame's IPv4 header, if it has one. */
static void ip4_csum_fix(__u8 *f, size_t len)
{
	size_t off = 12;

	for (int i = 0; i <= XVR_MAX_VLANS && off + 2 <= len; i++, off += 4) {
		__u16 proto = f[off] << 8 | f[off + 1];
		struct iphdr *iph;

		if (proto == ETH_P_8021Q || proto == ETH_P_8021AD)
			continue;
		if (proto != ETH_P_IP || off + 2 + sizeof(*iph) > len)
			return;
		iph = (struct iphdr *)(f + off + 2);
		iph->check = 0;
		iph->check = ipv4_csum_check(iph);
		return;
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	for (size_t i = 0; i < NEXACT; i++)
		exact[i].val.vr_id = i + 1;
	for (size_t i = 0; i < NPREFIX; i++)
		prefixes[i].val.vr_id = NEXACT + i + 1;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t size)
{
	struct xvr_config cfg = { .cls4_port_lens = PORT_LENS, .cls4_any_lens = ANY_LENS };
	struct xvr_config trie = { .cls4_port_lens = XVR_CLS4_TRIE };
	struct xvr_port port = {};
	struct xvr_cls_val dflt = {}, dflt2 = {}, *val, *val2;
	struct pkt p = {};
	__u32 ifindex, kinds;
	__u8 *frame;
	size_t len;
	int reason;

	if (size < 2)
		return 0;
	ifindex = (in[0] & 1) ? PORT_B : PORT_A;
	if (in[0] & 2)
		port.default_vr = VR_DEFAULT;
	kinds = in[1];
	len = size - 2;
	/* Exactly the frame's size, so a read past its end is ASan's to see. */
	frame = malloc(len ? len : 1);
	if (!frame)
		abort();
	memcpy(frame, in + 2, len);
	if (in[0] & 4)
		ip4_csum_fix(frame, len);

	reason = parse_frame(frame, frame + len, &p);
	if (reason) {
		CHECK(reason == XVR_DROP_BAD_L2 || reason == XVR_DROP_VLAN_DEPTH ||
		      reason == XVR_DROP_BAD_IP || reason == XVR_DROP_BAD_CSUM ||
		      reason == XVR_DROP_BAD_L4);
	} else {
		check_parsed(&p, frame, len);
		cfg.rule_kinds = trie.rule_kinds = kinds;
		val = classify(&p, ifindex, &cfg, &port, &dflt);
		check_class(&p, ifindex, kinds, &port, val);
		/* IPv4's exact lookups, one length at a time, answer as the trie does. */
		val2 = classify(&p, ifindex, &trie, &port, &dflt2);
		CHECK(!val == !val2);
		CHECK(!val || (val->vr_id == val2->vr_id && val->vif == val2->vif));
	}
	free(frame);
	return 0;
}
