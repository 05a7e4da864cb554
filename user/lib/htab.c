// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The one chained hash table of xvr's user space: the engine's neighbours,
 * nexthops and routes, fibsync's prefixes, neighbours and nexthops. The
 * engine's lookups sit on the per-packet path (a neighbour per forwarded
 * frame, one probe per prefix length for IPv6), so the hash works a word at
 * a time and the table keeps at most one node per bucket on average.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "htab.h"

#define HTAB_MIN_BUCKETS 16

static inline __u32 rotl32(__u32 x, int r)
{
	return (x << r) | (x >> (32 - r));
}

/* Murmur3's 32-bit mixing over whole words, bytewise for a tail. */
__u32 htab_hash(const void *key, size_t len)
{
	const __u8 *p = key;
	__u32 h = 0x9747b28c ^ (__u32)len, k;
	size_t i;

	for (i = 0; i + 4 <= len; i += 4) {
		memcpy(&k, p + i, 4);
		k *= 0xcc9e2d51;
		k = rotl32(k, 15);
		k *= 0x1b873593;
		h ^= k;
		h = rotl32(h, 13);
		h = h * 5 + 0xe6546b64;
	}
	for (; i < len; i++)
		h = (h ^ p[i]) * 0x01000193;
	h ^= h >> 16;
	h *= 0x85ebca6b;
	h ^= h >> 13;
	h *= 0xc2b2ae35;
	h ^= h >> 16;
	return h;
}

void htab_init(struct htab *h, size_t key_off, size_t key_len)
{
	memset(h, 0, sizeof(*h));
	h->key_off = key_off;
	h->key_len = key_len;
}

void htab_free(struct htab *h)
{
	free(h->buckets);
	h->buckets = NULL;
	h->mask = 0;
	h->count = 0;
}

static inline const void *hkey(const struct htab *h, const struct hnode *n)
{
	return (const char *)n + h->key_off;
}

void *htab_find(const struct htab *h, const void *key, __u32 hash)
{
	struct hnode *n;

	if (!h->buckets)
		return NULL;
	for (n = h->buckets[hash & h->mask]; n; n = n->next)
		if (n->hash == hash && !memcmp(hkey(h, n), key, h->key_len))
			return n;
	return NULL;
}

static int htab_grow(struct htab *h)
{
	__u32 size = h->buckets ? (h->mask + 1) * 2 : HTAB_MIN_BUCKETS;
	struct hnode **b = calloc(size, sizeof(*b));

	if (!b)
		return -ENOMEM;
	for (__u32 i = 0; h->buckets && i <= h->mask; i++) {
		struct hnode *n = h->buckets[i], *next;

		for (; n; n = next) {
			next = n->next;
			n->next = b[n->hash & (size - 1)];
			b[n->hash & (size - 1)] = n;
		}
	}
	free(h->buckets);
	h->buckets = b;
	h->mask = size - 1;
	return 0;
}

int htab_add(struct htab *h, struct hnode *n, __u32 hash)
{
	if (!h->buckets || h->count > h->mask) {
		int err = htab_grow(h);

		/* A full table still works, only slower; fail only without any. */
		if (err && !h->buckets)
			return err;
	}
	n->hash = hash;
	n->next = h->buckets[hash & h->mask];
	h->buckets[hash & h->mask] = n;
	h->count++;
	return 0;
}

void htab_del(struct htab *h, struct hnode *n)
{
	struct hnode **pp;

	if (!h->buckets)
		return;
	for (pp = &h->buckets[n->hash & h->mask]; *pp; pp = &(*pp)->next) {
		if (*pp == n) {
			*pp = n->next;
			h->count--;
			return;
		}
	}
}

void htab_each(struct htab *h, void (*fn)(struct hnode *n, void *arg), void *arg)
{
	for (__u32 i = 0; h->buckets && i <= h->mask; i++) {
		struct hnode *n = h->buckets[i], *next;

		for (; n; n = next) {
			next = n->next;
			fn(n, arg);
		}
	}
}
