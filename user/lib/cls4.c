// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The IPv4 prefix rules' exact-match copy (xvr_cls_prefix4) and the length
 * lists in xvr_config that tell ingress which lengths to try. The trie
 * (xvr_cls_prefix) stays the record of every prefix rule; this is derived
 * from it after every rule change, so a command killed between the two is
 * mended by the next rule command or by `node repair`.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include "cls4.h"
#include "fib_int.h"

static const __u8 v4_mapped[12] = { [10] = 0xff, [11] = 0xff };

static bool bits_match(const __u8 *a, const __u8 *b, __u32 bits)
{
	__u32 bytes = bits / 8, rest = bits % 8;

	if (memcmp(a, b, bytes))
		return false;
	return !rest || !((a[bytes] ^ b[bytes]) & (0xff00 >> rest));
}

/*
 * The exact key of an IPv4 rule of the trie. false for an IPv6 rule; *covers
 * is set when that rule also takes IPv4 frames (it covers ::ffff:0:0/96).
 */
static bool cls4_key_of(const struct xvr_cls_prefix_key *k, struct xvr_cls4_key *out,
			bool *covers)
{
	__u32 plen, addr;

	if (k->prefixlen < 32 + 96) {
		if (k->prefixlen < 32 || bits_match(k->addr, v4_mapped, k->prefixlen - 32))
			*covers = true;
		return false;
	}
	if (memcmp(k->addr, v4_mapped, sizeof(v4_mapped)))
		return false;
	plen = k->prefixlen - 32 - 96;
	memcpy(&addr, &k->addr[12], 4);
	addr = ntohl(addr);
	addr &= prefix_mask4(plen);
	memset(out, 0, sizeof(*out));
	out->ifindex = ntohl(k->ifindex);
	out->plen = plen;
	out->addr = htonl(addr);
	return true;
}

static int key_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct xvr_cls4_key));
}

/* Lengths present (bit per length) as a list ingress walks, or XVR_CLS4_TRIE. */
static __u64 lens_list(__u64 present)
{
	__u64 list = 0;
	int n = 0;

	for (int len = 32; len >= 0; len--) {
		if (!(present >> len & 1))
			continue;
		if (n == XVR_CLS4_LENS)
			return XVR_CLS4_TRIE;
		list |= (__u64)(len + 1) << (8 * n++);
	}
	return list;
}

int cls4_stage(struct xvr_node *n, struct xvr_config *cfg, struct cls4_index *ix)
{
	struct xvr_cls_prefix_key k, next, *prev = NULL;
	__u64 present[2] = {};
	struct xvr_cls_val val, cur;
	bool covers = false;

	memset(ix, 0, sizeof(*ix));
	ix->keys = calloc(XVR_MAX_PREFIX_RULES, sizeof(*ix->keys));
	if (!ix->keys)
		return -ENOMEM;
	while (!bpf_map_get_next_key(n->cls_prefix_fd, prev, &next)) {
		struct xvr_cls4_key key;

		k = next;
		prev = &k;
		if (!cls4_key_of(&next, &key, &covers) || ix->n == XVR_MAX_PREFIX_RULES ||
		    bpf_map_lookup_elem(n->cls_prefix_fd, &next, &val))
			continue;
		ix->keys[ix->n++] = key;
		present[!key.ifindex] |= 1ULL << key.plen;
		if (!bpf_map_lookup_elem(n->cls_prefix4_fd, &key, &cur) &&
		    !memcmp(&cur, &val, sizeof(val)))
			continue;
		if (bpf_map_update_elem(n->cls_prefix4_fd, &key, &val, BPF_ANY))
			return -errno;
		ix->changed++;
	}
	qsort(ix->keys, ix->n, sizeof(*ix->keys), key_cmp);
	cfg->cls4_port_lens = lens_list(present[0]);
	cfg->cls4_any_lens = lens_list(present[1]);
	if (covers || cfg->cls4_port_lens == XVR_CLS4_TRIE || cfg->cls4_any_lens == XVR_CLS4_TRIE)
		cfg->cls4_port_lens = cfg->cls4_any_lens = XVR_CLS4_TRIE;
	return 0;
}

/* Deleting while iterating restarts the walk; collect first, then delete. */
int cls4_prune(struct xvr_node *n, struct cls4_index *ix)
{
	struct xvr_cls4_key k, next, *prev = NULL, *stale;
	int nstale = 0, err = 0;

	stale = calloc(XVR_MAX_PREFIX_RULES, sizeof(*stale));
	if (!stale)
		return -ENOMEM;
	while (!bpf_map_get_next_key(n->cls_prefix4_fd, prev, &next)) {
		if (!bsearch(&next, ix->keys, ix->n, sizeof(*ix->keys), key_cmp) &&
		    nstale < XVR_MAX_PREFIX_RULES)
			stale[nstale++] = next;
		k = next;
		prev = &k;
	}
	for (int i = 0; i < nstale; i++)
		if (bpf_map_delete_elem(n->cls_prefix4_fd, &stale[i]) && errno != ENOENT)
			err = -errno;
	ix->changed += nstale;
	free(stale);
	return err;
}

void cls4_index_free(struct cls4_index *ix)
{
	free(ix->keys);
	ix->keys = NULL;
}
