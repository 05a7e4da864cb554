// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The LPM-trie helpers behind rib4 and fib6: exact-prefix queries over a
 * longest-match map, batched fill and walk, and the route vector and
 * distinct-prefix count the bulk paths use.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include "common.h"
#include "fib.h"
#include "fib_int.h"
#include "htab.h"

/* Elements per batch syscall when filling or walking a trie. */
#define TRIE_BATCH	8192

/* ---- tries ---- */

size_t trie_key_size(int family)
{
	return family == AF_INET ? sizeof(struct xvr_lpm4_key) : sizeof(struct xvr_lpm6_key);
}

/*
 * A trie lookup is longest-match, so "is this exact prefix present" needs
 * BPF_MAP_GET_NEXT_KEY's contract instead: for a key not in the map it
 * returns the first key, for the last key it fails with ENOENT. first is
 * the trie's first key (trie_first()), fetched once per operation.
 */
int trie_first(int fd, void *first)
{
	return bpf_map_get_next_key(fd, NULL, first);
}

int trie_has(int fd, const void *key, const void *first, size_t ksz)
{
	__u8 next[sizeof(struct xvr_lpm6_key)];
	int err;

	if (!memcmp(key, first, ksz))
		return 1;
	err = bpf_map_get_next_key(fd, key, next);
	if (err == -ENOENT)
		return 1;
	if (err)
		return err;
	return memcmp(next, first, ksz) != 0;
}

/* The nexthop of exactly key; -ENOENT if that prefix is absent. */
int trie_get(int fd, const void *key, size_t ksz, __u32 *nh)
{
	__u8 first[sizeof(struct xvr_lpm6_key)];
	int err;

	err = bpf_map_lookup_elem(fd, key, nh);
	if (err)
		return err;
	err = trie_first(fd, first);
	if (err)
		return err;
	err = trie_has(fd, key, first, ksz);
	return err < 0 ? err : err ? 0 : -ENOENT;
}

/* Insert or replace; *old is the replaced nexthop or 0. */
int trie_set(int fd, const void *key, __u32 nh, __u32 *old)
{
	int err;

	*old = 0;
	err = bpf_map_update_elem(fd, key, &nh, BPF_NOEXIST);
	if (err != -EEXIST)
		return err;
	/* Present, so the longest match of the key is the key itself. */
	err = bpf_map_lookup_elem(fd, key, old);
	if (err)
		return err;
	return bpf_map_update_elem(fd, key, &nh, BPF_EXIST);
}

void route_to_key(const struct fib_route *r, void *key)
{
	if (r->family == AF_INET) {
		struct xvr_lpm4_key *k = key;

		k->prefixlen = r->plen;
		memcpy(k->addr, r->addr, sizeof(k->addr));
	} else {
		struct xvr_lpm6_key *k = key;

		k->prefixlen = r->plen;
		memcpy(k->addr, r->addr, sizeof(k->addr));
	}
}

static __u32 route_hash(const struct fib_route *r, size_t len)
{
	__u8 key[20] = { r->plen };

	memcpy(key + 4, r->addr, len);
	return htab_hash(key, 4 + len);
}

/* Distinct prefixes of family in routes[0..n) (the input may repeat one). */
long routes_distinct(const struct fib_route *routes, size_t n, int family)
{
	size_t len = family == AF_INET ? 4 : 16, slots = 16, mask;
	long distinct = 0;
	__u32 *set;

	while (slots < 2 * n)
		slots <<= 1;
	set = calloc(slots, sizeof(*set));	/* route index + 1; 0 is empty */
	if (!set)
		return -ENOMEM;
	mask = slots - 1;
	for (size_t i = 0; i < n; i++) {
		const struct fib_route *r = &routes[i];
		size_t h;

		if (r->family != family)
			continue;
		for (h = route_hash(r, len) & mask; set[h]; h = (h + 1) & mask) {
			const struct fib_route *o = &routes[set[h] - 1];

			if (o->plen == r->plen && !memcmp(o->addr, r->addr, len))
				break;
		}
		if (!set[h]) {
			set[h] = i + 1;
			distinct++;
		}
	}
	free(set);
	return distinct;
}

/*
 * Fill an empty trie with routes[order[0..n)], a batch per syscall. The
 * order keeps duplicates in input order, so the later one overwrites.
 */
int trie_fill(int fd, int family, const struct fib_route *routes, const __u32 *order,
	      size_t n)
{
	size_t ksz = trie_key_size(family);
	__u32 *vals;
	__u8 *keys;
	int err = 0;

	keys = malloc(TRIE_BATCH * ksz);
	vals = malloc(TRIE_BATCH * sizeof(*vals));
	if (!keys || !vals) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n && !err; i += TRIE_BATCH) {
		__u32 cnt = n - i < TRIE_BATCH ? n - i : TRIE_BATCH;

		for (__u32 j = 0; j < cnt; j++) {
			route_to_key(&routes[order[i + j]], keys + j * ksz);
			vals[j] = routes[order[i + j]].nh;
		}
		/* BPF_ANY: batches take no BPF_NOEXIST (the kernel refuses it). */
		err = bpf_map_update_batch(fd, keys, vals, &cnt, NULL);
	}
out:
	free(keys);
	free(vals);
	return err;
}

/* Call fn for every prefix of a trie, a batch of entries per syscall. */
int trie_walk(int fd, int family, fib_route_fn fn, void *ctx)
{
	size_t ksz = trie_key_size(family);
	__u8 batch[sizeof(struct xvr_lpm6_key)];
	bool first = true;
	__u32 *vals;
	__u8 *keys;
	int err;

	keys = malloc(TRIE_BATCH * ksz);
	vals = malloc(TRIE_BATCH * sizeof(*vals));
	if (!keys || !vals) {
		err = -ENOMEM;
		goto out;
	}
	for (;;) {
		__u32 cnt = TRIE_BATCH;
		int ret;

		/* The in and out batch tokens are both "the last key returned". */
		err = bpf_map_lookup_batch(fd, first ? NULL : batch, batch, keys, vals, &cnt, NULL);
		if (err && err != -ENOENT)
			break;
		for (__u32 i = 0; i < cnt; i++) {
			struct fib_route r = { .family = family, .nh = vals[i] };
			const struct xvr_lpm4_key *k4 = (const void *)(keys + i * ksz);
			const struct xvr_lpm6_key *k6 = (const void *)(keys + i * ksz);

			if (family == AF_INET) {
				r.plen = k4->prefixlen;
				memcpy(r.addr, k4->addr, sizeof(k4->addr));
			} else {
				r.plen = k6->prefixlen;
				memcpy(r.addr, k6->addr, sizeof(k6->addr));
			}
			ret = fn(&r, ctx);
			if (ret) {
				err = ret;
				goto out;
			}
		}
		if (err == -ENOENT) {
			err = 0;
			break;
		}
		first = false;
	}
out:
	free(keys);
	free(vals);
	return err;
}

int route_vec_push(const struct fib_route *r, void *ctx)
{
	struct route_vec *rv = ctx;

	if (rv->n == rv->cap) {
		size_t cap = rv->cap ? rv->cap * 2 : 1024;
		struct fib_route *v = realloc(rv->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		rv->v = v;
		rv->cap = cap;
	}
	rv->v[rv->n++] = *r;
	return 0;
}
