// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * FIB library tests: the IPv4 DIR-16-8-8 table against a reference
 * longest-prefix match, and the map-level API with the BPF lookups of
 * bpf/fib.h run through BPF_PROG_TEST_RUN (selftests/bpf/test_fib.bpf.c) on the maps
 * the library builds. Everything uses a freshly loaded test object; nothing
 * under /sys/fs/bpf is touched.
 */
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "test_progs.h"
#include "common.h"
#include "node.h"
#include "fib.h"
#include "test_fib.skel.h"

/* ---- deterministic random numbers (xorshift64*) ---- */

static __u64 rng_state = 0x9e3779b97f4a7c15ull;

static __u64 rnd64(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static __u32 rnd(__u32 n)
{
	return n ? rnd64() % n : 0;
}

/* A test's fixed seed, or $XVR_TEST_SEED to explore (printed so a failure can be replayed). */
static void rnd_seed(__u64 seed)
{
	const char *env = getenv("XVR_TEST_SEED");

	if (env && *env) {
		seed = strtoull(env, NULL, 0);
		printf("    seed %llu\n", (unsigned long long)seed);
	}
	rng_state = seed ? seed : 1;
}

static double now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- prefixes as byte strings ---- */

static int family_bits(int family)
{
	return family == AF_INET ? 32 : 128;
}

static void mask_prefix(__u8 *addr, int plen, int bits)
{
	for (int i = 0; i < bits / 8; i++) {
		int keep = plen - i * 8;

		if (keep <= 0)
			addr[i] = 0;
		else if (keep < 8)
			addr[i] &= 0xff << (8 - keep);
	}
}

static __u32 get4(const __u8 *addr)
{
	__u32 a;

	memcpy(&a, addr, 4);
	return ntohl(a);
}

static void put4(__u8 *addr, __u32 host)
{
	__u32 a = htonl(host);

	memcpy(addr, &a, 4);
}

static __u32 mask4(int plen)
{
	return plen ? ~0u << (32 - plen) : 0;
}

/*
 * ---- reference: the route set in a hash table (exact match), longest
 * match by probing every length from the longest down ----
 */

struct ref {
	int family, bits;
	struct fib_route *r;	/* dense: the routes present */
	size_t n, cap;
	__u32 *slot;		/* open addressing, index + 1 into r, 0 empty */
	size_t mask;
};

static size_t ref_hash(const __u8 *addr, int plen)
{
	__u64 h = 1469598103934665603ull;

	for (int i = 0; i < 16; i++)
		h = (h ^ addr[i]) * 1099511628211ull;
	h = (h ^ plen) * 1099511628211ull;
	return h ^ (h >> 29);
}

static int ref_init(struct ref *ref, int family, size_t cap)
{
	size_t slots = 16;

	while (slots < cap * 2)
		slots <<= 1;
	memset(ref, 0, sizeof(*ref));
	ref->family = family;
	ref->bits = family_bits(family);
	ref->cap = cap;
	ref->r = calloc(cap, sizeof(*ref->r));
	ref->slot = calloc(slots, sizeof(*ref->slot));
	ref->mask = slots - 1;
	return ref->r && ref->slot ? 0 : -ENOMEM;
}

static void ref_free(struct ref *ref)
{
	free(ref->r);
	free(ref->slot);
	memset(ref, 0, sizeof(*ref));
}

/* The slot holding addr/plen, or the empty slot where it would go. */
static size_t ref_find(const struct ref *ref, const __u8 *addr, int plen)
{
	size_t i = ref_hash(addr, plen) & ref->mask;

	for (;; i = (i + 1) & ref->mask) {
		const struct fib_route *r;

		if (!ref->slot[i])
			return i;
		r = &ref->r[ref->slot[i] - 1];
		if (r->plen == plen && !memcmp(r->addr, addr, 16))
			return i;
	}
}

static __u32 ref_get(const struct ref *ref, const __u8 *addr, int plen)
{
	size_t i = ref_find(ref, addr, plen);

	return ref->slot[i] ? ref->r[ref->slot[i] - 1].nh : 0;
}

/* Insert or replace; returns the old nexthop or 0. */
static __u32 ref_set(struct ref *ref, const __u8 *addr, int plen, __u32 nh)
{
	size_t i = ref_find(ref, addr, plen);
	struct fib_route *r;
	__u32 old;

	if (ref->slot[i]) {
		r = &ref->r[ref->slot[i] - 1];
		old = r->nh;
		r->nh = nh;
		return old;
	}
	if (ref->n == ref->cap)
		abort();
	r = &ref->r[ref->n];
	memset(r, 0, sizeof(*r));
	r->family = ref->family;
	memcpy(r->addr, addr, ref->bits / 8);
	r->plen = plen;
	r->nh = nh;
	ref->slot[i] = ++ref->n;
	return 0;
}

/* Remove (linear probing with backward shift); returns the old nexthop or 0. */
static __u32 ref_del(struct ref *ref, const __u8 *addr, int plen)
{
	size_t i = ref_find(ref, addr, plen), j, k, idx;
	__u32 old;

	if (!ref->slot[i])
		return 0;
	idx = ref->slot[i] - 1;
	old = ref->r[idx].nh;
	ref->slot[i] = 0;
	for (j = (i + 1) & ref->mask; ref->slot[j]; j = (j + 1) & ref->mask) {
		const struct fib_route *r = &ref->r[ref->slot[j] - 1];

		k = ref_hash(r->addr, r->plen) & ref->mask;
		if ((j > i && (k <= i || k > j)) || (j < i && k <= i && k > j)) {
			ref->slot[i] = ref->slot[j];
			ref->slot[j] = 0;
			i = j;
		}
	}
	/* Keep r dense: the last route moves into the hole. */
	if (idx != --ref->n) {
		ref->r[idx] = ref->r[ref->n];
		ref->slot[ref_find(ref, ref->r[idx].addr, ref->r[idx].plen)] = idx + 1;
	}
	return old;
}

/* Longest match of a full address; *plen gets the matching length. */
static __u32 ref_lookup_len(const struct ref *ref, const __u8 *addr, int *plen)
{
	__u8 a[16];

	for (int l = ref->bits; l >= 0; l--) {
		__u32 nh;

		memset(a, 0, sizeof(a));
		memcpy(a, addr, ref->bits / 8);
		mask_prefix(a, l, ref->bits);
		nh = ref_get(ref, a, l);
		if (nh) {
			if (plen)
				*plen = l;
			return nh;
		}
	}
	return 0;
}

static __u32 ref_lookup(const struct ref *ref, const __u8 *addr)
{
	return ref_lookup_len(ref, addr, NULL);
}

static __u32 ref_lookup4(const struct ref *ref, __u32 host)
{
	__u8 a[16] = {};

	put4(a, host);
	return ref_lookup(ref, a);
}

/* The route strictly shorter than addr/plen that covers it. */
static __u32 ref_parent(const struct ref *ref, const __u8 *addr, int plen, int *pplen)
{
	__u8 a[16] = {};

	*pplen = 0;
	if (!plen)
		return 0;
	memcpy(a, addr, ref->bits / 8);
	mask_prefix(a, plen - 1, ref->bits);
	for (int l = plen - 1; l >= 0; l--) {
		__u32 nh;

		mask_prefix(a, l, ref->bits);
		nh = ref_get(ref, a, l);
		if (nh) {
			*pplen = l;
			return nh;
		}
	}
	return 0;
}

/* ---- random route sets that look like real tables ---- */

/* Share (per mille) of each IPv4 length, roughly a BGP table's shape. */
static int gen_plen4(void)
{
	__u32 x = rnd(1000);

	if (x < 2)
		return rnd(8);			/* /0../7 */
	if (x < 10)
		return 8;
	if (x < 40)
		return 9 + rnd(7);		/* /9../15 */
	if (x < 90)
		return 16;
	if (x < 200)
		return 17 + rnd(5);		/* /17../21 */
	if (x < 280)
		return 22;
	if (x < 380)
		return 23;
	if (x < 880)
		return 24;
	if (x < 940)
		return 25 + rnd(7);		/* /25../31 */
	return 32;
}

static int gen_plen6(void)
{
	__u32 x = rnd(1000);

	if (x < 3)
		return rnd(16);
	if (x < 100)
		return 32;
	if (x < 350)
		return 29 + rnd(19);		/* /29../47 */
	if (x < 800)
		return 48;
	if (x < 930)
		return 49 + rnd(16);		/* /49../64 */
	if (x < 960)
		return 65 + rnd(63);		/* /65../127 */
	return 128;
}

/*
 * Draw a prefix: addresses cluster in a pool of blocks (/16s for IPv4, /32s
 * under 2000::/3 for IPv6) the way allocations do, so the number of DIR
 * groups is like a real table's rather than one per prefix.
 */
static void gen_prefix(int family, __u32 pool, __u8 *addr, int *plen)
{
	/* Block b of the pool at a scattered but fixed place (a 32-bit mix of b). */
	__u32 block = rnd(pool) * 0x9e3779b1u;

	memset(addr, 0, 16);
	if (family == AF_INET) {
		*plen = gen_plen4();
		put4(addr, (block & 0xffff0000) | (rnd64() & 0xffff));
	} else {
		__u64 lo = rnd64(), hi = rnd64();

		*plen = gen_plen6();
		block = 0x20000000 | (block & 0x1fffffff);
		put4(addr, block);
		memcpy(addr + 4, &hi, 4);
		memcpy(addr + 8, &lo, 8);
	}
	mask_prefix(addr, *plen, family_bits(family));
}

/* Fill ref with n distinct random prefixes, nexthops 1..nh_max. */
static void gen_table(struct ref *ref, size_t n, __u32 nh_max)
{
	__u32 pool = n / 6 > 50000 ? 50000 : n / 6 + 16;
	__u8 addr[16];
	int plen;

	while (ref->n < n) {
		gen_prefix(ref->family, pool, addr, &plen);
		if (!ref_get(ref, addr, plen))
			ref_set(ref, addr, plen, 1 + rnd(nh_max));
	}
}

/* An address inside route i or just outside it, or anywhere. */
static void pick_addr(const struct ref *ref, __u8 *addr)
{
	const struct fib_route *r;
	int bits = ref->bits;

	if (!ref->n || rnd(4) == 0) {
		__u64 a = rnd64(), b = rnd64();

		memcpy(addr, &a, 8);
		memcpy(addr + 8, &b, 8);
		if (bits == 32)
			memset(addr + 4, 0, 12);
		return;
	}
	r = &ref->r[rnd(ref->n)];
	memcpy(addr, r->addr, 16);
	/* Random host bits, then maybe step one past either end. */
	for (int i = r->plen; i < bits; i++)
		if (rnd(2))
			addr[i / 8] |= 0x80 >> (i % 8);
	if (bits == 32) {
		__u32 a = get4(addr), first = get4(r->addr), last = first | ~mask4(r->plen);

		switch (rnd(6)) {
		case 0: a = first; break;
		case 1: a = last; break;
		case 2: a = first - 1; break;
		case 3: a = last + 1; break;
		}
		put4(addr, a);
	}
}

/* ---- checks against the reference ---- */

/* Compare every boundary of every route and n random addresses; returns mismatches. */
static long check_table4(const struct fib4_table *t, const struct ref *ref, size_t n)
{
	long bad = 0;

	for (size_t i = 0; i < ref->n + n; i++) {
		__u32 addrs[4], cnt = 0;

		if (i < ref->n) {
			__u32 first = get4(ref->r[i].addr), last = first | ~mask4(ref->r[i].plen);

			addrs[cnt++] = first;
			addrs[cnt++] = last;
			addrs[cnt++] = first - 1;
			addrs[cnt++] = last + 1;
		} else {
			__u8 a[16];

			pick_addr(ref, a);
			addrs[cnt++] = get4(a);
		}
		for (__u32 j = 0; j < cnt; j++) {
			__u32 want = ref_lookup4(ref, addrs[j]), got = fib4_lookup(t, addrs[j]);

			if (want != got && bad++ < 5)
				fprintf(stderr, "  %u.%u.%u.%u: table %u, reference %u\n",
					addrs[j] >> 24, (addrs[j] >> 16) & 0xff,
					(addrs[j] >> 8) & 0xff, addrs[j] & 0xff, got, want);
		}
	}
	return bad;
}

/* ---- in-memory DIR table tests ---- */

static void fib4_every_length(void)
{
	struct fib4_table t;
	struct ref ref;
	int order[33];

	/* One prefix of each length alone in a table, probed at and around its ends. */
	for (int l = 0; l <= 32; l++) {
		__u32 p = (__u32)rnd64() & mask4(l), last = p | ~mask4(l);
		__u32 probes[] = { p, last, p - 1, last + 1, p + rnd(~mask4(l) + 1ull), 0,
				   0xffffffff };
		char name[32];

		if (!ASSERT_OK(fib4_table_alloc(&t, 2), "alloc"))
			return;
		snprintf(name, sizeof(name), "insert /%d", l);
		ASSERT_OK(fib4_insert(&t, p, l, 100 + l), name);
		for (size_t i = 0; i < ARRAY_SIZE(probes); i++) {
			__u32 want = (probes[i] & mask4(l)) == p ? 100 + l : 0;

			snprintf(name, sizeof(name), "/%d probe %zu", l, i);
			ASSERT_EQ(fib4_lookup(&t, probes[i]), want, name);
		}
		snprintf(name, sizeof(name), "groups for /%d", l);
		ASSERT_EQ(t.groups_used, l > 24 ? 2 : l > 16 ? 1 : 0, name);
		ASSERT_OK(fib4_remove(&t, p, l, 0, 0), "remove");
		for (size_t i = 0; i < ARRAY_SIZE(probes); i++)
			ASSERT_EQ(fib4_lookup(&t, probes[i]), 0, "empty after remove");
		fib4_table_free(&t);
	}

	/* All 33 nested prefixes of one address, inserted and removed in random order. */
	if (!ASSERT_OK(fib4_table_alloc(&t, 4), "alloc") || ref_init(&ref, AF_INET, 64)) {
		fib4_table_free(&t);
		return;
	}
	__u32 base = (__u32)rnd64();

	for (int i = 0; i < 33; i++)
		order[i] = i;
	for (int i = 32; i > 0; i--) {
		int j = rnd(i + 1), x = order[i];

		order[i] = order[j];
		order[j] = x;
	}
	for (int i = 0; i < 33; i++) {
		__u8 a[16] = {};
		int l = order[i];

		put4(a, base & mask4(l));
		ref_set(&ref, a, l, 1 + l);
		ASSERT_OK(fib4_insert(&t, base & mask4(l), l, 1 + l), "nested insert");
		ASSERT_EQ(check_table4(&t, &ref, 200), 0, "nested after insert");
	}
	ASSERT_EQ(t.groups_used, 2, "nested groups");
	for (int i = 0; i < 33; i++) {
		__u8 a[16] = {};
		int l = order[(i * 7) % 33], pl;
		__u32 pnh;

		put4(a, base & mask4(l));
		pnh = ref_parent(&ref, a, l, &pl);
		ref_del(&ref, a, l);
		ASSERT_OK(fib4_remove(&t, base & mask4(l), l, pnh, pl), "nested remove");
		ASSERT_EQ(check_table4(&t, &ref, 200), 0, "nested after remove");
	}
	ASSERT_EQ(fib4_lookup(&t, base), 0, "nested all removed");
	ref_free(&ref);
	fib4_table_free(&t);
}

static void fib4_random_tables(void)
{
	static const size_t sizes[] = { 100, 5000, 50000 };

	for (size_t s = 0; s < ARRAY_SIZE(sizes); s++) {
		struct fib4_table built = {}, inserted = {};
		struct ref ref;
		__u8 a[16] = {};
		long needed;

		if (ref_init(&ref, AF_INET, sizes[s] + 8))
			return;
		gen_table(&ref, sizes[s], 1000);
		/* Always include the very short ones. */
		ref_set(&ref, a, 0, 7);
		put4(a, 0x80000000);
		ref_set(&ref, a, 1, 8);

		needed = fib4_groups_needed(ref.r, ref.n);
		ASSERT_GE(needed, 1, "groups needed");
		/* Built in order, with exactly the groups it needs. */
		if (ASSERT_OK(fib4_table_alloc(&built, needed), "alloc built")) {
			ASSERT_OK(fib4_build(&built, ref.r, ref.n), "build");
			ASSERT_EQ(built.groups_used, needed, "build used what it needed");
			ASSERT_EQ(check_table4(&built, &ref, 100000), 0, "built table");
		}
		/* Inserted in the reference's (random) order: same answers. */
		if (ASSERT_OK(fib4_table_alloc(&inserted, needed), "alloc inserted")) {
			for (size_t i = 0; i < ref.n; i++)
				if (fib4_insert(&inserted, get4(ref.r[i].addr), ref.r[i].plen,
						ref.r[i].nh)) {
					ASSERT_TRUE(false, "random-order insert");
					break;
				}
			ASSERT_EQ(inserted.groups_used, needed, "insert used what it needed");
			ASSERT_EQ(check_table4(&inserted, &ref, 100000), 0, "inserted table");
		}
		fib4_table_free(&built);
		fib4_table_free(&inserted);
		ref_free(&ref);
	}
}

static void fib4_churn(void)
{
	struct fib4_table t;
	struct ref ref;
	long needed;

	if (ref_init(&ref, AF_INET, 20000))
		return;
	gen_table(&ref, 5000, 100);
	needed = fib4_groups_needed(ref.r, ref.n);
	/* Churn adds groups and never returns them; leave room for that. */
	if (!ASSERT_OK(fib4_table_alloc(&t, needed + 20000), "alloc"))
		goto out;
	ASSERT_OK(fib4_build(&t, ref.r, ref.n), "build");
	for (int batch = 0; batch < 60; batch++) {
		for (int op = 0; op < 300; op++) {
			__u32 x = rnd(10), nh, pnh;
			__u8 a[16];
			int plen, pl;

			if (x < 4 || !ref.n) {
				gen_prefix(AF_INET, 1000, a, &plen);
				nh = 1 + rnd(100);
				ref_set(&ref, a, plen, nh);
				if (fib4_insert(&t, get4(a), plen, nh)) {
					ASSERT_TRUE(false, "churn insert");
					goto out;
				}
			} else if (x < 6) {
				const struct fib_route *r = &ref.r[rnd(ref.n)];

				nh = 1 + rnd(100);
				memcpy(a, r->addr, 16);
				plen = r->plen;
				ref_set(&ref, a, plen, nh);
				if (fib4_insert(&t, get4(a), plen, nh)) {
					ASSERT_TRUE(false, "churn replace");
					goto out;
				}
			} else {
				const struct fib_route *r = &ref.r[rnd(ref.n)];

				memcpy(a, r->addr, 16);
				plen = r->plen;
				pnh = ref_parent(&ref, a, plen, &pl);
				ref_del(&ref, a, plen);
				if (fib4_remove(&t, get4(a), plen, pnh, pl)) {
					ASSERT_TRUE(false, "churn remove");
					goto out;
				}
			}
		}
		if (!ASSERT_EQ(check_table4(&t, &ref, 5000), 0, "after churn batch"))
			break;
	}
out:
	fib4_table_free(&t);
	ref_free(&ref);
}

static void fib4_enospc(void)
{
	struct fib4_table t;
	struct fib_route rs[3] = {
		{ AF_INET, { 10, 0, 0, 0 }, 17, 1 },
		{ AF_INET, { 10, 1, 0, 0 }, 25, 2 },
		{ AF_INET, { 10, 1, 0, 128 }, 25, 3 },
	};

	if (!ASSERT_OK(fib4_table_alloc(&t, 3), "alloc"))
		return;
	ASSERT_OK(fib4_insert(&t, 0x0a000000, 17, 1), "/17 takes one group");
	ASSERT_OK(fib4_insert(&t, 0x0a010000, 25, 2), "/25 takes two groups");
	ASSERT_EQ(t.groups_used, 3, "all groups used");
	ASSERT_OK(fib4_insert(&t, 0x0a010080, 25, 3), "/25 in a used /24 takes none");
	ASSERT_OK(fib4_insert(&t, 0x0a000000, 16, 4), "/16 takes none");
	ASSERT_OK(fib4_insert(&t, 0x0a010000, 24, 5), "/24 under a used /16 takes none");
	ASSERT_EQ(fib4_insert(&t, 0x0a020000, 17, 6), -ENOSPC, "/17 in a new /16");
	ASSERT_EQ(fib4_insert(&t, 0x0a000100, 25, 6), -ENOSPC, "/25 in a new /24");
	ASSERT_EQ(t.groups_used, 3, "failed inserts took nothing");
	ASSERT_EQ(fib4_lookup(&t, 0x0a020001), 0, "failed /17 not there");
	ASSERT_EQ(fib4_lookup(&t, 0x0a000101), 1, "failed /25 not there, /17 still");
	ASSERT_EQ(fib4_lookup(&t, 0x0a008001), 4, "/16");
	ASSERT_EQ(fib4_lookup(&t, 0x0a010001), 2, "first /25");
	ASSERT_EQ(fib4_lookup(&t, 0x0a010081), 3, "second /25");
	ASSERT_EQ(fib4_lookup(&t, 0x0a010101), 0, "outside /24 and /25s");
	ASSERT_EQ(fib4_lookup(&t, 0x0a0100ff), 3, "last of second /25");
	fib4_table_free(&t);

	/* fib4_groups_needed is exact: one group fewer fails. */
	ASSERT_EQ(fib4_groups_needed(rs, 3), 3, "needed");
	if (!ASSERT_OK(fib4_table_alloc(&t, 2), "alloc 2"))
		return;
	ASSERT_EQ(fib4_build(&t, rs, 3), -ENOSPC, "build one group short");
	fib4_table_free(&t);
	if (!ASSERT_OK(fib4_table_alloc(&t, 3), "alloc 3"))
		return;
	ASSERT_OK(fib4_build(&t, rs, 3), "build with exactly enough");
	fib4_table_free(&t);

	/* Malformed input. */
	if (!ASSERT_OK(fib4_table_alloc(&t, 1), "alloc 1"))
		return;
	ASSERT_EQ(fib4_insert(&t, 0x0a000001, 24, 1), -EINVAL, "host bits");
	ASSERT_EQ(fib4_insert(&t, 0x0a000000, 33, 1), -EINVAL, "/33");
	ASSERT_EQ(fib4_insert(&t, 0x0a000000, 8, 0), -EINVAL, "nexthop 0");
	ASSERT_EQ(fib4_insert(&t, 0x0a000000, 8, XVR_MAX_NEXTHOPS), -EINVAL, "nexthop too big");
	ASSERT_EQ(fib4_remove(&t, 0x0a000000, 8, 1, 8), -EINVAL, "parent not shorter");
	fib4_table_free(&t);
}

/* ---- the map-level API and the BPF lookups ---- */

struct fib_env {
	struct test_fib *skel;
	struct xvr_node node;
	int prog_fd;
};

static int env_open(struct fib_env *e)
{
	memset(e, 0, sizeof(*e));
	e->skel = test_fib__open_and_load();
	if (!ASSERT_OK_PTR(e->skel, "load test_fib"))
		return -1;
	e->prog_fd = bpf_program__fd(e->skel->progs.test_fib_lookup);
#define FIB_NODE_FD(m) e->node.m##_fd = -1;
	XVR_MAPS(FIB_NODE_FD)
#undef FIB_NODE_FD
	e->node.lock_fd = -1;
	e->node.fib4_fd = bpf_map__fd(e->skel->maps.xvr_fib4);
	e->node.fib4_l1_fd = bpf_map__fd(e->skel->maps.xvr_fib4_l1);
	e->node.fib4_runs_fd = bpf_map__fd(e->skel->maps.xvr_fib4_runs);
	e->node.router_book_fd = bpf_map__fd(e->skel->maps.xvr_router_book);
	e->node.fib6_fd = bpf_map__fd(e->skel->maps.xvr_fib6);
	e->node.rib4_fd = bpf_map__fd(e->skel->maps.xvr_rib4);
	e->node.routers_fd = bpf_map__fd(e->skel->maps.xvr_routers);
	return 0;
}

static void env_close(struct fib_env *e)
{
	test_fib__destroy(e->skel);
	e->skel = NULL;
}

struct test_frame {
	struct ethhdr eth;
	union {
		struct iphdr ip;
		struct ipv6hdr ip6;
	};
} __attribute__((packed));

/* What XDP's fib4_lookup/fib6_lookup answer for addr in router vr. */
static int bpf_lookup(int prog_fd, __u32 vr, int family, const __u8 *addr, __u32 *nh)
{
	struct test_frame in = {}, out;
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = &in, .data_out = &out,
		    .data_size_out = sizeof(out));
	int err;

	memcpy(in.eth.h_dest, &vr, sizeof(vr));
	if (family == AF_INET) {
		in.eth.h_proto = htons(ETH_P_IP);
		in.ip.version = 4;
		in.ip.ihl = 5;
		memcpy(&in.ip.daddr, addr, 4);
		opts.data_size_in = sizeof(in.eth) + sizeof(in.ip);
	} else {
		in.eth.h_proto = htons(ETH_P_IPV6);
		in.ip6.version = 6;
		memcpy(&in.ip6.daddr, addr, 16);
		opts.data_size_in = sizeof(in.eth) + sizeof(in.ip6);
	}
	err = bpf_prog_test_run_opts(prog_fd, &opts);
	if (err)
		return err;
	if (opts.retval != 2 /* XDP_PASS */)
		return -EPROTO;
	memcpy(nh, out.eth.h_source, sizeof(*nh));
	return 0;
}

/*
 * Compare the BPF lookup with the reference at the ends of routes (all of
 * them, or a sample of that many) and at n random addresses.
 */
static long check_bpf_sample(struct fib_env *e, __u32 vr, const struct ref *ref, size_t sample,
			     size_t n)
{
	size_t routes = sample && sample < ref->n ? sample : ref->n;
	long bad = 0;
	char buf[64];

	for (size_t i = 0; i < routes + n; i++) {
		size_t ri = routes < ref->n ? rnd(ref->n) : i;
		__u8 addrs[4][16];
		int cnt = 0;

		if (i < routes && ref->family == AF_INET) {
			__u32 first = get4(ref->r[ri].addr), last = first | ~mask4(ref->r[ri].plen);

			put4(addrs[cnt++], first);
			put4(addrs[cnt++], last);
			put4(addrs[cnt++], first - 1);
			put4(addrs[cnt++], last + 1);
		} else if (i < routes) {
			const struct fib_route *r = &ref->r[ri];

			memcpy(addrs[cnt++], r->addr, 16);
			memcpy(addrs[cnt], r->addr, 16);
			for (int b = r->plen; b < 128; b++)
				addrs[cnt][b / 8] |= 0x80 >> (b % 8);
			cnt++;
		} else {
			pick_addr(ref, addrs[cnt++]);
		}
		for (int j = 0; j < cnt; j++) {
			__u32 want = ref_lookup(ref, addrs[j]), got = 0;
			int err = bpf_lookup(e->prog_fd, vr, ref->family, addrs[j], &got);

			if ((err || want != got) && bad++ < 5) {
				inet_ntop(ref->family, addrs[j], buf, sizeof(buf));
				fprintf(stderr, "  vr %u %s: bpf %u (err %d), reference %u\n", vr,
					buf, got, err, want);
			}
		}
	}
	return bad;
}

static long check_bpf(struct fib_env *e, __u32 vr, const struct ref *ref, size_t n)
{
	return check_bpf_sample(e, vr, ref, 0, n);
}

struct walk_ctx {
	const struct ref *ref;
	int family;
	size_t seen;
	long bad;
};

static int walk_check(const struct fib_route *r, void *ctx)
{
	struct walk_ctx *w = ctx;

	w->seen++;
	if (r->family != w->family || ref_get(w->ref, r->addr, r->plen) != r->nh)
		w->bad++;
	return 0;
}

static void check_walk(struct fib_env *e, __u32 vr, const struct ref *ref)
{
	struct walk_ctx w = { .ref = ref, .family = ref->family };

	ASSERT_OK(fib_route_walk(&e->node, vr, ref->family, walk_check, &w), "walk");
	ASSERT_EQ(w.seen, ref->n, "walk saw every route");
	ASSERT_EQ(w.bad, 0, "walk matches reference");
}

static __u32 router_field(struct fib_env *e, __u32 vr, int family)
{
	struct xvr_router_book r = {};

	bpf_map_lookup_elem(e->node.router_book_fd, &vr, &r);
	return family == AF_INET ? r.routes4 : r.routes6;
}

/* Add, replace, get, delete through the library; BPF must agree with the reference throughout. */
static void fib_map_ops(int family)
{
	const __u32 vr = 7, other = 8;
	struct fib_env e;
	struct ref ref;
	__u8 a[16] = {}, base[16];
	__u32 old, nh;
	int bits = family_bits(family), l;

	if (env_open(&e))
		return;
	if (ref_init(&ref, family, 4000))
		goto out;
	if (!ASSERT_OK(fib_router_init(&e.node, vr), "router init") ||
	    !ASSERT_OK(fib_router_init(&e.node, other), "other router init"))
		goto out;
	ASSERT_EQ(fib_router_init(&e.node, vr), -EEXIST, "init twice");

	/* Every length, nested around one address, incl. /0 and the host route. */
	pick_addr(&ref, base);
	for (l = 0; l <= bits; l++) {
		memcpy(a, base, 16);
		mask_prefix(a, l, bits);
		ref_set(&ref, a, l, 1 + l);
		ASSERT_OK(fib_route_add(&e.node, vr, family, a, l, 1 + l, &old), "add nested");
		ASSERT_EQ(old, 0, "nested add is new");
	}
	ASSERT_EQ(check_bpf(&e, vr, &ref, 500), 0, "bpf: nested prefixes");
	/* Then a random table on top; small initial tables grow as we go. */
	gen_table(&ref, 2000, 500);
	for (size_t i = bits + 1; i < ref.n; i++)
		if (fib_route_add(&e.node, vr, family, ref.r[i].addr, ref.r[i].plen, ref.r[i].nh,
				  &old) || old) {
			ASSERT_TRUE(false, "add random");
			break;
		}
	ASSERT_EQ(check_bpf(&e, vr, &ref, 20000), 0, "bpf: random table");
	ASSERT_EQ(router_field(&e, vr, family), ref.n, "routes counted");
	check_walk(&e, vr, &ref);

	/* Another router sees none of it. */
	ASSERT_OK(bpf_lookup(e.prog_fd, other, family, base, &nh), "other router lookup");
	ASSERT_EQ(nh, 0, "other router is empty");
	ASSERT_OK(bpf_lookup(e.prog_fd, 99, family, base, &nh), "router without FIB");
	ASSERT_EQ(nh, 0, "router without FIB misses");

	/* Exact get: present, absent with a covering route, absent entirely. */
	for (int i = 0; i < 200; i++) {
		const struct fib_route *r = &ref.r[rnd(ref.n)];

		if (fib_route_get(&e.node, vr, family, r->addr, r->plen, &nh) || nh != r->nh) {
			ASSERT_TRUE(false, "get present");
			break;
		}
	}
	memcpy(a, base, 16);
	mask_prefix(a, bits - 1, bits);
	a[bits / 8 - 1] ^= 1;	/* the sibling host route: covered, not present */
	if (!ref_get(&ref, a, bits))
		ASSERT_EQ(fib_route_get(&e.node, vr, family, a, bits, &nh), -ENOENT,
			  "get covered but absent");
	ASSERT_OK(fib_lookup(&e.node, vr, family, a, &nh), "lookup covered");
	ASSERT_EQ(nh, ref_lookup(&ref, a), "lookup picks the covering route");
	/*
	 * One bit longer than a present route: covered by it, so a longest
	 * match finds it, but the exact prefix is absent for get and delete.
	 */
	for (int i = 0, tried = 0; i < 200 && tried < 2000; tried++) {
		const struct fib_route *r = &ref.r[rnd(ref.n)];

		if (r->plen == bits || ref_get(&ref, r->addr, r->plen + 1))
			continue;
		i++;
		if (fib_route_get(&e.node, vr, family, r->addr, r->plen + 1, &nh) != -ENOENT ||
		    fib_route_del(&e.node, vr, family, r->addr, r->plen + 1, &old) != -ENOENT) {
			ASSERT_TRUE(false, "get/delete of an absent, covered prefix");
			break;
		}
	}
	ASSERT_EQ(router_field(&e, vr, family), ref.n, "failed deletes changed nothing");
	a[bits / 8 - 1] |= 1;
	ASSERT_EQ(fib_route_add(&e.node, vr, family, a, bits - 1, 5, &old), -EINVAL,
		  "host bits refused");
	ASSERT_EQ(fib_route_add(&e.node, vr, family, base, bits + 1, 5, &old), -EINVAL,
		  "length refused");
	ASSERT_EQ(fib_route_add(&e.node, vr, family, ref.r[0].addr, ref.r[0].plen, 0, &old),
		  -EINVAL, "nexthop 0 refused");

	/* Replace: the old nexthop comes back, the count does not move. */
	for (int i = 0; i < 300; i++) {
		const struct fib_route *r = &ref.r[rnd(ref.n)];
		__u32 want = ref_set(&ref, r->addr, r->plen, 1000 + i);

		if (fib_route_add(&e.node, vr, family, r->addr, r->plen, 1000 + i, &old) ||
		    old != want) {
			ASSERT_TRUE(false, "replace");
			break;
		}
	}
	ASSERT_EQ(router_field(&e, vr, family), ref.n, "replace keeps the count");
	ASSERT_EQ(check_bpf(&e, vr, &ref, 5000), 0, "bpf: after replace");

	/* Delete half, including the nested chain's middle and both ends. */
	for (l = 0; l <= bits; l += bits / 4) {
		__u32 want;

		memcpy(a, base, 16);
		mask_prefix(a, l, bits);
		want = ref_del(&ref, a, l);
		ASSERT_OK(fib_route_del(&e.node, vr, family, a, l, &old), "delete nested");
		ASSERT_EQ(old, want, "delete returns the nexthop");
		ASSERT_EQ(fib_route_get(&e.node, vr, family, a, l, &nh), -ENOENT, "gone");
	}
	while (ref.n > 1000) {
		struct fib_route r = ref.r[rnd(ref.n)];
		__u32 want = ref_del(&ref, r.addr, r.plen);

		if (fib_route_del(&e.node, vr, family, r.addr, r.plen, &old) || old != want) {
			ASSERT_TRUE(false, "delete random");
			break;
		}
	}
	ASSERT_EQ(router_field(&e, vr, family), ref.n, "deletes counted");
	ASSERT_EQ(check_bpf(&e, vr, &ref, 20000), 0, "bpf: after deletes");
	check_walk(&e, vr, &ref);

	ASSERT_OK(fib_router_fini(&e.node, vr), "router fini");
	ASSERT_OK(bpf_lookup(e.prog_fd, vr, family, base, &nh), "lookup after fini");
	ASSERT_EQ(nh, 0, "no routes after fini");
	ASSERT_EQ(fib_route_add(&e.node, vr, family, base, bits, 1, &old), -ENOENT,
		  "add after fini");
out:
	ref_free(&ref);
	env_close(&e);
}

struct old_ctx {
	struct ref *v4, *v6;
	size_t seen;
	long bad;
};

static int old_check(const struct fib_route *r, void *ctx)
{
	struct old_ctx *o = ctx;
	struct ref *ref = r->family == AF_INET ? o->v4 : o->v6;

	o->seen++;
	if (ref_get(ref, r->addr, r->plen) != r->nh)
		o->bad++;
	return 0;
}

/* Both families into one array for fib_routes_replace. */
static struct fib_route *join_routes(const struct ref *a, const struct ref *b, size_t *n)
{
	struct fib_route *v = malloc((a->n + b->n + 1) * sizeof(*v));

	if (!v)
		return NULL;
	memcpy(v, a->r, a->n * sizeof(*v));
	memcpy(v + a->n, b->r, b->n * sizeof(*v));
	*n = a->n + b->n;
	return v;
}

static void fib_replace(void)
{
	const __u32 vr = 3;
	struct ref v4[2], v6[2];
	struct fib_route *routes = NULL, dup[2];
	struct fib_env e;
	struct old_ctx o;
	size_t n;

	if (env_open(&e))
		return;
	for (int i = 0; i < 2; i++) {
		ref_init(&v4[i], AF_INET, 6000);
		ref_init(&v6[i], AF_INET6, 6000);
		gen_table(&v4[i], 5000, 300);
		gen_table(&v6[i], 3000, 300);
	}
	if (!ASSERT_OK(fib_router_init(&e.node, vr), "router init"))
		goto out;
	/* Live routes before the first load, so the callback has an old set to report. */
	for (size_t i = 0; i < 50; i++)
		fib_route_add(&e.node, vr, AF_INET, v4[1].r[i].addr, v4[1].r[i].plen, v4[1].r[i].nh,
			      NULL);

	for (int round = 0; round < 2; round++) {
		routes = join_routes(&v4[round], &v6[round], &n);
		memset(&o, 0, sizeof(o));
		o.v4 = &v4[!round];
		o.v6 = &v6[!round];
		if (!ASSERT_OK(fib_routes_replace(&e.node, vr, routes, n, old_check, &o), "replace"))
			goto out;
		ASSERT_EQ(o.seen, round ? v4[0].n + v6[0].n : 50, "old set reported");
		ASSERT_EQ(o.bad, 0, "old set as it was");
		ASSERT_EQ(check_bpf(&e, vr, &v4[round], 20000), 0, "bpf v4 after replace");
		ASSERT_EQ(check_bpf(&e, vr, &v6[round], 20000), 0, "bpf v6 after replace");
		ASSERT_EQ(router_field(&e, vr, AF_INET), v4[round].n, "routes4");
		ASSERT_EQ(router_field(&e, vr, AF_INET6), v6[round].n, "routes6");
		check_walk(&e, vr, &v4[round]);
		check_walk(&e, vr, &v6[round]);
		free(routes);
		routes = NULL;
	}

	/* The tables stay usable for single changes after a bulk load. */
	for (int i = 0; i < 100; i++) {
		__u8 a[16];
		int plen;

		gen_prefix(AF_INET, 100, a, &plen);
		ref_set(&v4[1], a, plen, 77);
		if (fib_route_add(&e.node, vr, AF_INET, a, plen, 77, NULL)) {
			ASSERT_TRUE(false, "add after replace");
			break;
		}
	}
	ASSERT_EQ(check_bpf(&e, vr, &v4[1], 5000), 0, "bpf v4 after adds");

	/* A duplicate in the input: the later one wins and counts once. */
	memset(dup, 0, sizeof(dup));
	dup[0].family = dup[1].family = AF_INET;
	put4(dup[0].addr, 0xc0a80000);
	put4(dup[1].addr, 0xc0a80000);
	dup[0].plen = dup[1].plen = 16;
	dup[0].nh = 1;
	dup[1].nh = 2;
	ASSERT_OK(fib_routes_replace(&e.node, vr, dup, 2, NULL, NULL), "replace with duplicate");
	ASSERT_EQ(router_field(&e, vr, AF_INET), 1, "duplicate counted once");
	{
		__u32 nh = 0;

		ASSERT_OK(fib_route_get(&e.node, vr, AF_INET, dup[0].addr, 16, &nh), "get dup");
		ASSERT_EQ(nh, 2, "later duplicate wins in rib4");
		ASSERT_OK(bpf_lookup(e.prog_fd, vr, AF_INET, dup[0].addr, &nh), "bpf duplicate");
		ASSERT_EQ(nh, 2, "later duplicate wins in fib4");
	}
	/* A malformed route rejects the whole load and changes nothing. */
	dup[1].addr[3] = 1;
	ASSERT_EQ(fib_routes_replace(&e.node, vr, dup, 2, NULL, NULL), -EINVAL, "bad route");
	ASSERT_EQ(router_field(&e, vr, AF_INET), 1, "nothing changed");
out:
	free(routes);
	for (int i = 0; i < 2; i++) {
		ref_free(&v4[i]);
		ref_free(&v6[i]);
	}
	env_close(&e);
}

/*
 * XDP reads while we write. In each of LIVE_BLOCKS /16s (20.k.0.0/16) the
 * reader looks up three addresses while the writer, working on the same
 * block, makes the table allocate groups under them and toggles a route
 * over one of them:
 *   20.k.255.1    under 20.k.0.0/16 only; the writer adds 20.k.0.0/17,
 *                 which turns the /16's level-1 entry into a link to a new
 *                 group (the address is its last entry, the last filled)
 *   20.k.254.255  under 20.k.254.0/24; the writer adds 20.k.254.0/25, which
 *                 turns the /24's level-2 entry into a link to a new group
 *   20.k.253.1    under the /16, and 20.k.253.0/24 comes and goes: either
 *                 answer is right, nothing else is
 * Every pass ends with a bulk replace back to the stable set, which swaps
 * the table under the reader and gives the next pass fresh level-1 entries.
 * A writer that linked a group before filling it fails here.
 */
#define LIVE_BLOCKS 256

struct live_ctx {
	struct fib_env *e;
	__u32 vr;
	volatile int target;		/* the block the writer is working on */
	volatile bool stop;
	long lookups, bad;
};

static void *live_reader(void *arg)
{
	struct live_ctx *c = arg;

	while (!c->stop) {
		int k = c->target;
		__u8 a[3][16] = {};
		__u32 nh[3] = {};

		put4(a[0], 0x1400ff01 | k << 16);
		put4(a[1], 0x1400feff | k << 16);
		put4(a[2], 0x1400fd01 | k << 16);
		for (int i = 0; i < 3; i++) {
			if (bpf_lookup(c->e->prog_fd, c->vr, AF_INET, a[i], &nh[i]))
				c->bad++;
			c->lookups++;
		}
		if (nh[0] != 100 + (__u32)k || nh[1] != 1000 + (__u32)k ||
		    (nh[2] != 100 + (__u32)k && nh[2] != 5000)) {
			if (c->bad++ < 5)
				fprintf(stderr, "  block %d: %u %u %u\n", k, nh[0], nh[1], nh[2]);
		}
	}
	return NULL;
}

static void fib_live(void)
{
	struct fib_route stable[2 * LIVE_BLOCKS] = {};
	struct live_ctx c = {};
	struct fib_env e;
	pthread_t reader;
	int passes = 0;
	double t0;

	if (env_open(&e))
		return;
	c.e = &e;
	c.vr = 5;
	if (!ASSERT_OK(fib_router_init(&e.node, c.vr), "router init"))
		goto out;
	for (int k = 0; k < LIVE_BLOCKS; k++) {
		stable[2 * k] = (struct fib_route){ .family = AF_INET, .plen = 16, .nh = 100 + k };
		put4(stable[2 * k].addr, 0x14000000 | k << 16);
		stable[2 * k + 1] = (struct fib_route){ .family = AF_INET, .plen = 24, .nh = 1000 + k };
		put4(stable[2 * k + 1].addr, 0x1400fe00 | k << 16);
	}
	if (!ASSERT_OK(fib_routes_replace(&e.node, c.vr, stable, ARRAY_SIZE(stable), NULL, NULL),
		       "stable routes"))
		goto out;
	if (pthread_create(&reader, NULL, live_reader, &c)) {
		test__skip("no thread");
		goto out;
	}
	t0 = now_sec();
	while (now_sec() - t0 < 2.0) {
		for (int k = 0; k < LIVE_BLOCKS; k++) {
			__u8 a[16] = {};

			c.target = k;
			put4(a, 0x14000000 | k << 16);
			fib_route_add(&e.node, c.vr, AF_INET, a, 17, 7, NULL);
			put4(a, 0x1400fe00 | k << 16);
			fib_route_add(&e.node, c.vr, AF_INET, a, 25, 8, NULL);
			put4(a, 0x1400fd00 | k << 16);
			for (int i = 0; i < 4; i++) {
				fib_route_add(&e.node, c.vr, AF_INET, a, 24, 5000, NULL);
				fib_route_del(&e.node, c.vr, AF_INET, a, 24, NULL);
			}
		}
		ASSERT_OK(fib_routes_replace(&e.node, c.vr, stable, ARRAY_SIZE(stable), NULL, NULL),
			  "back to the stable routes");
		passes++;
	}
	c.stop = true;
	pthread_join(reader, NULL);
	printf("    live: %d passes over %d blocks, %ld concurrent lookups, %ld wrong\n", passes,
	       LIVE_BLOCKS, c.lookups, c.bad);
	ASSERT_GE(c.lookups, 1000, "reader ran");
	ASSERT_EQ(c.bad, 0, "no lookup saw a wrong or missing route");
out:
	env_close(&e);
}

/* An fd of the inner map of router vr's live IPv4 bank in outer map outer_fd. */
static int live_bank_fd(struct fib_env *e, int outer_fd, __u32 vr)
{
	struct xvr_router r = {};
	__u32 slot, id;

	if (bpf_map_lookup_elem(e->node.routers_fd, &vr, &r))
		return -1;
	slot = XVR_FIB4_SLOT(vr, r.fib4_bank);
	if (bpf_map_lookup_elem(outer_fd, &slot, &id))
		return -1;
	return bpf_map_get_fd_by_id(id);
}

/* The group a /16 links to in router vr's live level 1, or 0. */
static __u32 l1_group(struct fib_env *e, __u32 vr, __u32 top16)
{
	int fd = live_bank_fd(e, e->node.fib4_l1_fd, vr);
	struct xvr_fib4_line line = {};
	__u32 idx = top16 / XVR_FIB4_LINE, entry;

	if (fd < 0)
		return 0;
	bpf_map_lookup_elem(fd, &idx, &line);
	close(fd);
	entry = line.e[top16 % XVR_FIB4_LINE];
	return entry & XVR_FIB_EXT ? entry & XVR_FIB_NH_MASK : 0;
}

/* BPF answers as the reference for x.y.*.1 and x.y.*.129 of every /16 in tops. */
static long check_groups(struct fib_env *e, __u32 vr, const struct ref *ref, const __u32 *tops,
			 int n)
{
	long bad = 0;

	for (int t = 0; t < n; t++)
		for (__u32 i = 0; i < 512; i++) {
			__u32 host = tops[t] << 16 | (i / 2) << 8 | (i % 2 ? 129 : 1), got = 0;
			__u8 a[16] = {};

			put4(a, host);
			if ((bpf_lookup(e->prog_fd, vr, AF_INET, a, &got) ||
			     got != ref_lookup(ref, a)) && bad++ < 5)
				fprintf(stderr, "  %08x: bpf %u, reference %u\n", host, got,
					ref_lookup(ref, a));
		}
	return bad;
}

/*
 * The runs records (xvr_fib4_runs): a built group of at most XVR_FIB4_RUNS
 * runs has one and BPF answers from it (a record changed behind the
 * library's back changes the answer); a group of more runs, or one created
 * after the build, is read from the groups; an in-place change to a group
 * sets its record aside first, and the next build writes it again.
 */
static void fib_runs(void)
{
	/* 10.1: XVR_FIB4_RUNS runs (the /16, /24s at odd indices between its
	 * runs, a /24 at 255); 10.2: one run more (a /24 at 254); 10.3: a /25
	 * below a /24 (a link in a record); 10.4: a /17 and nothing (2 runs).
	 */
	const __u32 vr = 9, tops[] = { 0x0a01, 0x0a02, 0x0a03, 0x0a04, 0x0a05 };
	struct fib_route rs[64] = {};
	struct xvr_fib4_runs rec;
	struct ref ref;
	struct fib_env e;
	__u32 g1, g2, g3, nh, n = 0, key;
	__u8 a[16] = {};
	int fd = -1;

#define RUNS_ROUTE(host, len, hop)                                                          \
	do {                                                                                \
		rs[n] = (struct fib_route){ .family = AF_INET, .plen = (len), .nh = (hop) }; \
		put4(rs[n].addr, (host));                                                   \
		ref_set(&ref, rs[n].addr, (len), (hop));                                    \
		n++;                                                                        \
	} while (0)

	if (env_open(&e))
		return;
	if (ref_init(&ref, AF_INET, 64))
		goto out;
	if (!ASSERT_OK(fib_router_init(&e.node, vr), "router init"))
		goto out;
	for (int t = 0; t < 2; t++) {
		RUNS_ROUTE(tops[t] << 16, 16, 1 + t);
		for (__u32 k = 0; k < (XVR_FIB4_RUNS - 2) / 2; k++)
			RUNS_ROUTE(tops[t] << 16 | (2 * k + 1) << 8, 24, 10 + k);
		RUNS_ROUTE(tops[t] << 16 | 255 << 8, 24, 100);
	}
	RUNS_ROUTE(0x0a02fe00, 24, 101);	/* one run more for 10.2 */
	RUNS_ROUTE(0x0a030700, 24, 40);
	RUNS_ROUTE(0x0a030700, 25, 41);
	RUNS_ROUTE(0x0a040000, 17, 50);
	if (!ASSERT_OK(fib_routes_replace(&e.node, vr, rs, n, NULL, NULL), "replace"))
		goto out;
	ASSERT_EQ(check_groups(&e, vr, &ref, tops, 5), 0, "bpf: built groups");

	g1 = l1_group(&e, vr, 0x0a01);
	g2 = l1_group(&e, vr, 0x0a02);
	g3 = l1_group(&e, vr, 0x0a03);
	ASSERT_TRUE(g1 && g2 && g3 && l1_group(&e, vr, 0x0a04), "the /16s have groups");
	fd = live_bank_fd(&e, e.node.fib4_runs_fd, vr);
	if (!ASSERT_GE(fd, 0, "live bank has runs records"))
		goto out;
	ASSERT_OK(bpf_map_lookup_elem(fd, &g1, &rec), "record of 10.1");
	ASSERT_EQ(rec.n, XVR_FIB4_RUNS, "10.1: as many runs as a record holds");
	ASSERT_EQ(rec.start[XVR_FIB4_RUNS - 1], 255, "10.1: the last run starts at 255");
	ASSERT_OK(bpf_map_lookup_elem(fd, &g2, &rec), "record of 10.2");
	ASSERT_EQ(rec.n, 0, "10.2: one run too many, no record");
	ASSERT_OK(bpf_map_lookup_elem(fd, &g3, &rec), "record of 10.3");
	ASSERT_EQ(rec.n, 3, "10.3: 3 runs");
	ASSERT_TRUE(rec.e[1] & XVR_FIB_EXT, "10.3: the /24's run links to the /25's group");

	/* A record changed behind the library's back: BPF answers from it. */
	ASSERT_OK(bpf_map_lookup_elem(fd, &g1, &rec), "record of 10.1");
	rec.e[1] = XVR_FIB_ENTRY(77, 24);
	ASSERT_OK(bpf_map_update_elem(fd, &g1, &rec, BPF_EXIST), "change the record");
	put4(a, 0x0a010101);
	ASSERT_OK(bpf_lookup(e.prog_fd, vr, AF_INET, a, &nh), "lookup 10.1.1.1");
	ASSERT_EQ(nh, 77, "10.1.1.1 answered from the record");

	/* An in-place change to the group sets the record aside first. */
	RUNS_ROUTE(0x0a01c800, 24, 60);
	ASSERT_OK(fib_route_add(&e.node, vr, AF_INET, rs[n - 1].addr, 24, 60, NULL),
		  "add 10.1.200/24");
	ASSERT_OK(bpf_map_lookup_elem(fd, &g1, &rec), "record of 10.1");
	ASSERT_EQ(rec.n, 0, "10.1: record set aside");
	RUNS_ROUTE(0x0a030780, 25, 42);
	ASSERT_OK(fib_route_add(&e.node, vr, AF_INET, rs[n - 1].addr, 25, 42, NULL),
		  "add 10.3.7.128/25");
	ASSERT_OK(bpf_map_lookup_elem(fd, &g3, &rec), "record of 10.3");
	ASSERT_EQ(rec.n, 3, "10.3: a change below level 2 keeps the record");
	/* A /16 without a group yet: its group is newer than the records. */
	RUNS_ROUTE(0x0a050500, 24, 70);
	ASSERT_OK(fib_route_add(&e.node, vr, AF_INET, rs[n - 1].addr, 24, 70, NULL),
		  "add 10.5.5/24");
	key = l1_group(&e, vr, 0x0a05);
	ASSERT_EQ(bpf_map_lookup_elem(fd, &key, &rec), -ENOENT, "10.5's group has no record");
	ASSERT_EQ(check_groups(&e, vr, &ref, tops, 5), 0, "bpf: after in-place changes");
	close(fd);
	fd = -1;

	/* The next build writes every record again, from the changed table. */
	ASSERT_OK(fib_routes_replace(&e.node, vr, rs, n, NULL, NULL), "rebuild");
	fd = live_bank_fd(&e, e.node.fib4_runs_fd, vr);
	g1 = l1_group(&e, vr, 0x0a01);
	if (ASSERT_GE(fd, 0, "rebuilt bank has runs records")) {
		ASSERT_OK(bpf_map_lookup_elem(fd, &g1, &rec), "record of 10.1");
		ASSERT_EQ(rec.n, 0, "10.1 now has 2 runs too many");
		key = l1_group(&e, vr, 0x0a05);
		ASSERT_OK(bpf_map_lookup_elem(fd, &key, &rec), "record of 10.5");
		ASSERT_EQ(rec.n, 3, "10.5: 3 runs");
	}
	ASSERT_EQ(check_groups(&e, vr, &ref, tops, 5), 0, "bpf: after the rebuild");
out:
	if (fd >= 0)
		close(fd);
	ref_free(&ref);
	env_close(&e);
#undef RUNS_ROUTE
}

/*
 * Records set aside add up, and once a quarter of those written are, the
 * next change builds the table anew, which writes them all again.
 */
static void fib_runs_renew(void)
{
	const __u32 vr = 10, groups = 100;
	struct fib_route rs[100] = {};
	struct xvr_router r = {};
	struct fib_stats st;
	struct fib_env e;
	struct ref ref;
	__u32 bank, i;
	__u8 a[16] = {};

	if (env_open(&e))
		return;
	if (ref_init(&ref, AF_INET, 200))
		goto out;
	if (!ASSERT_OK(fib_router_init(&e.node, vr), "router init"))
		goto out;
	for (i = 0; i < groups; i++) {
		rs[i] = (struct fib_route){ .family = AF_INET, .plen = 24, .nh = 1 + i };
		put4(rs[i].addr, 0x0b000000 | i << 16);
		ref_set(&ref, rs[i].addr, 24, 1 + i);
	}
	if (!ASSERT_OK(fib_routes_replace(&e.node, vr, rs, groups, NULL, NULL), "replace"))
		goto out;
	ASSERT_OK(fib_router_stats(&e.node, vr, &st), "stats");
	ASSERT_EQ(st.runs_written, groups, "a record for each group");
	ASSERT_EQ(st.runs_aside, 0, "none set aside");
	bpf_map_lookup_elem(e.node.routers_fd, &vr, &r);
	bank = r.fib4_bank;
	/* 25 groups changed: 25 set aside, not yet more than a quarter. */
	for (i = 0; i < groups / 4; i++) {
		put4(a, 0x0b000000 | i << 16 | 7 << 8);
		ref_set(&ref, a, 24, 500 + i);
		ASSERT_OK(fib_route_add(&e.node, vr, AF_INET, a, 24, 500 + i, NULL), "add");
	}
	/* The same group again: already aside, not counted twice. */
	put4(a, 0x0b000000 | 9 << 8);
	ref_set(&ref, a, 24, 600);
	ASSERT_OK(fib_route_add(&e.node, vr, AF_INET, a, 24, 600, NULL),
		  "add again into 11.0/16");
	ASSERT_OK(fib_router_stats(&e.node, vr, &st), "stats");
	ASSERT_EQ(st.runs_aside, groups / 4, "a quarter set aside");
	bpf_map_lookup_elem(e.node.routers_fd, &vr, &r);
	ASSERT_EQ(r.fib4_bank, bank, "same bank");
	/* One more: built anew, every record written again, none aside. */
	put4(a, 0x0b000000 | (groups / 4) << 16 | 7 << 8);
	ref_set(&ref, a, 24, 700);
	ASSERT_OK(fib_route_add(&e.node, vr, AF_INET, a, 24, 700, NULL), "add");
	bpf_map_lookup_elem(e.node.routers_fd, &vr, &r);
	ASSERT_NEQ(r.fib4_bank, bank, "built anew: the bank flipped");
	ASSERT_OK(fib_router_stats(&e.node, vr, &st), "stats");
	ASSERT_EQ(st.runs_written, groups, "every record written again");
	ASSERT_EQ(st.runs_aside, 0, "none aside");
	ASSERT_EQ(check_bpf(&e, vr, &ref, 2000), 0, "bpf: after the renewal");
	/* Deletions wear records out as well. */
	bank = r.fib4_bank;
	for (i = 0; i <= groups / 4; i++) {
		__u32 old;

		put4(a, 0x0b000000 | i << 16);
		if (!ASSERT_OK(fib_route_del(&e.node, vr, AF_INET, a, 24, &old), "del"))
			break;
		ref_del(&ref, a, 24);
	}
	bpf_map_lookup_elem(e.node.routers_fd, &vr, &r);
	ASSERT_NEQ(r.fib4_bank, bank, "deletions: built anew");
	ASSERT_EQ(check_bpf(&e, vr, &ref, 2000), 0, "bpf: after the deletions");
out:
	ref_free(&ref);
	env_close(&e);
}

/* Replace with a table of n prefixes of family, timed; checked by sampling BPF lookups. */
static void fib_replace_timed(int family, size_t n, double bound)
{
	const __u32 vr = 11;
	struct fib_env e;
	struct ref ref = {}, none = {};
	struct fib_route *routes;
	struct fib_stats st;
	double t0, t1;
	size_t cnt;

	if (env_open(&e))
		return;
	if (ref_init(&ref, family, n) || ref_init(&none, family == AF_INET ? AF_INET6 : AF_INET, 1))
		goto out;
	t0 = now_sec();
	gen_table(&ref, n, 60000);
	t1 = now_sec();
	printf("    generated %zu %s prefixes in %.2f s\n", n, family == AF_INET ? "IPv4" : "IPv6",
	       t1 - t0);
	routes = join_routes(&ref, &none, &cnt);
	if (!ASSERT_OK_PTR(routes, "routes") || !ASSERT_OK(fib_router_init(&e.node, vr), "init"))
		goto out_free;

	t0 = now_sec();
	ASSERT_OK(fib_routes_replace(&e.node, vr, routes, cnt, NULL, NULL), "replace");
	t1 = now_sec();
	fib_router_stats(&e.node, vr, &st);
	printf("    fib_routes_replace of %zu %s prefixes: %.3f s (groups %u used of %u)\n", n,
	       family == AF_INET ? "IPv4" : "IPv6", t1 - t0, st.groups_used, st.groups_max);
	ASSERT_LE((long long)((t1 - t0) * 1000), (long long)(bound * 1000), "replace time (ms)");
	ASSERT_EQ(family == AF_INET ? st.routes4 : st.routes6, n, "all routes counted");

	/* Replace again over a full table: the old set is walked for the caller too. */
	{
		struct old_ctx o = { .v4 = &ref, .v6 = &ref };

		t0 = now_sec();
		ASSERT_OK(fib_routes_replace(&e.node, vr, routes, cnt, old_check, &o),
			  "replace over a full table");
		t1 = now_sec();
		printf("    again over the full table, old set walked: %.3f s\n", t1 - t0);
		ASSERT_EQ(o.seen, n, "old set walked");
		ASSERT_EQ(o.bad, 0, "old set as it was");
	}
	/* Every route's ends for the usual sizes, a sample of 100k for the big ones. */
	ASSERT_EQ(check_bpf_sample(&e, vr, &ref, 100000, 20000), 0, "bpf: routes' ends");
out_free:
	free(routes);
out:
	ref_free(&ref);
	ref_free(&none);
	env_close(&e);
}

static void fib4_build_timed(size_t n)
{
	struct fib4_table t;
	struct ref ref;
	long needed;
	double t0, t1;

	if (ref_init(&ref, AF_INET, n))
		return;
	gen_table(&ref, n, 60000);
	t0 = now_sec();
	needed = fib4_groups_needed(ref.r, ref.n);
	if (ASSERT_OK(fib4_table_alloc(&t, fib4_groups_headroom(needed)), "alloc")) {
		ASSERT_OK(fib4_build(&t, ref.r, ref.n), "build");
		t1 = now_sec();
		printf("    in-memory fib4_build of %zu prefixes: %.3f s, %ld groups (%.0f MiB)\n",
		       n, t1 - t0, needed,
		       fib4_table_entries(t.groups_max) * 4.0 / (1 << 20));
		ASSERT_EQ(check_table4(&t, &ref, 100000), 0, "built table");
		fib4_table_free(&t);
	}
	ref_free(&ref);
}

/* The DIR-16-8-8 algorithm alone (user/lib/fib4.c), on tables in memory. */
void test_fib4_table(void)
{
	rnd_seed(4);
	if (test__start_subtest("every_length"))
		fib4_every_length();
	if (test__start_subtest("random_tables"))
		fib4_random_tables();
	if (test__start_subtest("churn"))
		fib4_churn();
	if (test__start_subtest("enospc"))
		fib4_enospc();
}

/* The same in BPF maps (user/lib/fib.c): routes, bulk replace, live lookups. */
void test_fib4(void)
{
	rnd_seed(4);
	if (test__start_subtest("bpf_map_ops"))
		fib_map_ops(AF_INET);
	if (test__start_subtest("replace"))
		fib_replace();
	if (test__start_subtest("live"))
		fib_live();
	if (test__start_subtest("runs"))
		fib_runs();
	if (test__start_subtest("runs_renew"))
		fib_runs_renew();
	if (test__start_subtest("replace_170k"))
		fib_replace_timed(AF_INET, 170000, 10.0);
}

void test_fib6(void)
{
	rnd_seed(6);
	if (test__start_subtest("bpf_map_ops"))
		fib_map_ops(AF_INET6);
}

/* Large tables: slower, so a test of their own. */
void test_fib_scale(void)
{
	rnd_seed(42);
	if (test__start_subtest("build_1m"))
		fib4_build_timed(1000000);
	if (test__start_subtest("replace_1m_v4"))
		fib_replace_timed(AF_INET, 1000000, 30.0);
	if (test__start_subtest("replace_200k_v6"))
		fib_replace_timed(AF_INET6, 200000, 30.0);
}
