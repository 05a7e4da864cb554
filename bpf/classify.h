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
static __always_inline struct xvr_cls_val *cls_prefix4_scope(__u32 addr, __u32 ifindex, __u64 lens)
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
 * The IPv4 prefix rule for addr (host order) on port ifindex, the port's
 * own rules first, lengths as xvr_config lists them, longest first; as
 * vr_id | vif << 32, or 0. A global function: the verifier checks it once,
 * not once for every way the parser reached it.
 */
__noinline __u64 xvr_cls_prefix4_find(__u32 addr, __u32 ifindex, __u64 port_lens,
				      __u64 any_lens)
{
	struct xvr_cls_val *val;

	val = cls_prefix4_scope(addr, ifindex, port_lens);
	if (!val)
		val = cls_prefix4_scope(addr, 0, any_lens);
	return val ? val->vr_id | (__u64)val->vif << 32 : 0;
}

static __always_inline struct xvr_cls_val *cls_prefix(const struct pkt *p, __u32 ifindex,
						      const struct xvr_config *cfg,
						      struct xvr_cls_val *out)
{
	struct xvr_cls_prefix_key key = { .prefixlen = 32 + 128 };
	__u64 port_lens = cfg->cls4_port_lens;
	struct xvr_cls_val *val;

	if (p->ip4 && port_lens != XVR_CLS4_TRIE) {
		__u64 found = xvr_cls_prefix4_find(bpf_ntohl(p->ip4->daddr), ifindex, port_lens,
						   cfg->cls4_any_lens);

		if (!found)
			return NULL;
		out->vr_id = (__u32)found;
		out->vif = found >> 32;
		return out;
	}
	if (p->ip4) {
		/* v4-mapped: ::ffff:a.b.c.d */
		key.addr[10] = 0xff;
		key.addr[11] = 0xff;
		__builtin_memcpy(&key.addr[12], &p->ip4->daddr, 4);
	} else if (p->ip6) {
		__builtin_memcpy(key.addr, &p->ip6->daddr, 16);
	} else {
		return NULL;
	}
	key.ifindex = bpf_htonl(ifindex);
	val = bpf_map_lookup_elem(&xvr_cls_prefix, &key);
	if (val)
		return val;
	key.ifindex = 0;
	return bpf_map_lookup_elem(&xvr_cls_prefix, &key);
}

/*
 * The router (and VIF) for the frame, or NULL. The port default lives in
 * the port's own entry; out holds it when that is the answer.
 */
static __always_inline struct xvr_cls_val *classify(const struct pkt *p, __u32 ifindex,
						    const struct xvr_config *cfg,
						    const struct xvr_port *port,
						    struct xvr_cls_val *out)
{
	__u32 kinds = cfg->rule_kinds;
	struct xvr_cls_key key = {};
	struct xvr_cls_val *val;

	if ((kinds & (1u << XVR_RULE_GRE)) && (p->flags & PKT_GRE_KEY)) {
		key.kind = XVR_RULE_GRE;
		key.gre_key = p->gre_key;
		val = cls_exact(&key, ifindex);
		if (val)
			return val;
		key.gre_key = 0;
	}
	if (kinds & (1u << XVR_RULE_MAC)) {
		key.kind = XVR_RULE_MAC;
		__builtin_memcpy(key.mac, p->eth->h_dest, ETH_ALEN);
		val = cls_exact(&key, ifindex);
		if (val)
			return val;
		__builtin_memset(key.mac, 0, ETH_ALEN);
	}
	if ((kinds & (1u << XVR_RULE_VLAN)) && p->nvlans) {
		key.kind = XVR_RULE_VLAN;
		key.vlan = p->vlan[0];
		val = cls_exact(&key, ifindex);
		if (val)
			return val;
		key.vlan = 0;
	}
	if ((kinds & (1u << XVR_RULE_UDP)) && p->l4_proto == IPPROTO_UDP_ &&
	    (p->flags & PKT_L4_PORTS)) {
		key.kind = XVR_RULE_UDP;
		key.port = p->dport;
		val = cls_exact(&key, ifindex);
		if (val)
			return val;
		key.port = 0;
	}
	if (kinds & (1u << XVR_RULE_PREFIX)) {
		val = cls_prefix(p, ifindex, cfg, out);
		if (val)
			return val;
	}
	if (port->default_vr) {
		out->vr_id = port->default_vr;
		out->vif = port->default_vif;
		return out;
	}
	return NULL;
}

#endif /* XVR_BPF_CLASSIFY_H */
