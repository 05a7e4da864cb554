/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Frame to virtual router. Rules are tried most specific first (GRE key,
 * destination MAC, outer VLAN id, UDP destination port, destination prefix,
 * port default), each kind on the ingress port before any port. Kinds with
 * no rules on the node are skipped without a lookup. IPv4 prefix rules are
 * looked up by exact key, one length at a time (xvr_cls_prefix4), unless
 * the node has too many lengths for that; IPv6 ones in the trie.
 */
#ifndef XVR_BPF_CLASSIFY_H
#define XVR_BPF_CLASSIFY_H

/*
 * What the rules read of a frame, copied out of it: packet pointers cannot
 * cross into a global function.
 */
struct cls_in {
	__u64 port_lens;	/* xvr_config's IPv4 prefix lengths */
	__u64 any_lens;
	__u32 ifindex;
	__u32 kinds;		/* xvr_config.rule_kinds */
	__u32 gre_key;
	__u16 vlan;		/* outer tag, if nvlans */
	__u16 dport;
	__u8 pkt_flags;		/* struct pkt's flags */
	__u8 nvlans;
	__u8 l4_proto;
	__u8 family;		/* 4, 6 or 0 */
	__u8 dmac[ETH_ALEN];
	__u8 pad[2];
	__u8 daddr[16];		/* IPv4: the first 4 bytes */
};

static __always_inline struct xvr_cls_val *cls_exact(struct xvr_cls_key *key, __u32 ifindex)
{
	struct xvr_cls_val *val;

	key->ifindex = ifindex;
	val = bpf_map_lookup_elem(&xvr_classify, key);
	if (val)
		return val;
	key->ifindex = 0;
	return bpf_map_lookup_elem(&xvr_classify, key);
}

/* An IPv4 prefix rule of one scope (ifindex, or 0 for any port): one exact lookup per length. */
static __always_inline struct xvr_cls_val *cls_prefix4(__u32 addr, __u32 ifindex, __u64 lens)
{
	struct xvr_cls4_key key = { .ifindex = ifindex };
	struct xvr_cls_val *val;

	for (int i = 0; i < XVR_CLS4_LENS; i++) {
		__u32 len1 = (lens >> (8 * i)) & 0xff;	/* length + 1 */

		if (!len1 || len1 > 33)
			break;
		key.plen = len1 - 1;
		key.addr = bpf_htonl(len1 > 1 ? addr & (~0u << (33 - len1)) : 0);
		val = bpf_map_lookup_elem(&xvr_cls_prefix4, &key);
		if (val)
			return val;
	}
	return NULL;
}

/*
 * A prefix rule: for IPv4, the port's own rules by exact key, then any
 * port's, lengths as xvr_config lists them, longest first; else (IPv6, or
 * IPv4 when the node has too many lengths) the trie, port's own first.
 */
static __always_inline struct xvr_cls_val *cls_prefix(const struct cls_in *in)
{
	struct xvr_cls_prefix_key key = { .prefixlen = 32 + 128 };
	struct xvr_cls_val *val;

	if (in->family == 4 && in->port_lens != XVR_CLS4_TRIE) {
		__u32 addr;

		__builtin_memcpy(&addr, in->daddr, 4);
		addr = bpf_ntohl(addr);
		val = cls_prefix4(addr, in->ifindex, in->port_lens);
		return val ?: cls_prefix4(addr, 0, in->any_lens);
	}
	if (in->family == 4) {
		/* v4-mapped: ::ffff:a.b.c.d */
		key.addr[10] = 0xff;
		key.addr[11] = 0xff;
		__builtin_memcpy(&key.addr[12], in->daddr, 4);
	} else if (in->family == 6) {
		__builtin_memcpy(key.addr, in->daddr, 16);
	} else {
		return NULL;
	}
	key.ifindex = bpf_htonl(in->ifindex);
	val = bpf_map_lookup_elem(&xvr_cls_prefix, &key);
	if (val)
		return val;
	key.ifindex = 0;
	return bpf_map_lookup_elem(&xvr_cls_prefix, &key);
}

/*
 * The rule for the frame: vr_id | vif << 32, or 0 (no rule; the port
 * default is the caller's). A global function: the verifier checks the
 * rules once, not once for every state the parser leaves behind.
 */
__noinline __u64 xvr_classify_rules(const struct cls_in *in)
{
	struct xvr_cls_key key = {};
	struct xvr_cls_val *val;
	__u32 kinds;

	if (!in)
		return 0;
	kinds = in->kinds;
	if ((kinds & (1u << XVR_RULE_GRE)) && (in->pkt_flags & PKT_GRE_KEY)) {
		key.kind = XVR_RULE_GRE;
		key.gre_key = in->gre_key;
		val = cls_exact(&key, in->ifindex);
		if (val)
			goto found;
		key.gre_key = 0;
	}
	if (kinds & (1u << XVR_RULE_MAC)) {
		key.kind = XVR_RULE_MAC;
		__builtin_memcpy(key.mac, in->dmac, ETH_ALEN);
		val = cls_exact(&key, in->ifindex);
		if (val)
			goto found;
		__builtin_memset(key.mac, 0, ETH_ALEN);
	}
	if ((kinds & (1u << XVR_RULE_VLAN)) && in->nvlans) {
		key.kind = XVR_RULE_VLAN;
		key.vlan = in->vlan;
		val = cls_exact(&key, in->ifindex);
		if (val)
			goto found;
		key.vlan = 0;
	}
	if ((kinds & (1u << XVR_RULE_UDP)) && in->l4_proto == IPPROTO_UDP_ &&
	    (in->pkt_flags & PKT_L4_PORTS)) {
		key.kind = XVR_RULE_UDP;
		key.port = in->dport;
		val = cls_exact(&key, in->ifindex);
		if (val)
			goto found;
	}
	if (!(kinds & (1u << XVR_RULE_PREFIX)))
		return 0;
	val = cls_prefix(in);
	if (!val)
		return 0;
found:
	return val->vr_id | (__u64)val->vif << 32;
}

/*
 * The router (and VIF) for the frame, or NULL; the answer is in out. The
 * port default lives in the port's own entry: a node whose only rules are
 * port defaults pays no call.
 */
static __always_inline struct xvr_cls_val *classify(const struct pkt *p, __u32 ifindex,
						    const struct xvr_config *cfg,
						    const struct xvr_port *port,
						    struct xvr_cls_val *out)
{
	__u32 kinds = cfg->rule_kinds;
	__u64 found = 0;

	/*
	 * MAC rules, the common kind, without the call when no GRE key rule
	 * comes first: one exact lookup, the answer copied into out.
	 */
	if ((kinds & (1u << XVR_RULE_MAC)) &&
	    !((kinds & (1u << XVR_RULE_GRE)) && (p->flags & PKT_GRE_KEY))) {
		struct xvr_cls_key key = { .kind = XVR_RULE_MAC };
		struct xvr_cls_val *val;

		__builtin_memcpy(key.mac, p->eth->h_dest, ETH_ALEN);
		val = cls_exact(&key, ifindex);
		if (val) {
			found = val->vr_id | (__u64)val->vif << 32;
			goto found;
		}
		kinds &= ~(1u << XVR_RULE_MAC);
	}
	if (kinds & ~(1u << XVR_RULE_DEFAULT)) {
		struct cls_in in = {
			.port_lens = cfg->cls4_port_lens,
			.any_lens = cfg->cls4_any_lens,
			.ifindex = ifindex,
			.kinds = kinds,
			.gre_key = p->gre_key,
			.vlan = p->vlan[0],
			.dport = p->dport,
			.pkt_flags = p->flags,
			.nvlans = p->nvlans,
			.l4_proto = p->l4_proto,
		};

		if (kinds & (1u << XVR_RULE_MAC))
			__builtin_memcpy(in.dmac, p->eth->h_dest, ETH_ALEN);
		if (p->ip4) {
			in.family = 4;
			__builtin_memcpy(in.daddr, &p->ip4->daddr, 4);
		} else if (p->ip6) {
			in.family = 6;
			__builtin_memcpy(in.daddr, &p->ip6->daddr, 16);
		}
		found = xvr_classify_rules(&in);
	}
found:
	if (found) {
		out->vr_id = (__u32)found;
		out->vif = found >> 32;
		return out;
	}
	if (port->default_vr) {
		out->vr_id = port->default_vr;
		out->vif = port->default_vif;
		return out;
	}
	return NULL;
}

#endif /* XVR_BPF_CLASSIFY_H */
