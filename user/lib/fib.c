// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Per-router FIBs in BPF maps (the DIR-16-8-8 algorithm itself is fib4.c).
 *
 * IPv4 forwarding uses a DIR-16-8-8 table (DPDK rte_lpm's algorithm) held in
 * an mmapped BPF array that XDP reads while we write it; the authoritative
 * IPv4 route set is the rib4 LPM trie next to it, which answers "which
 * prefixes exist" (the table only knows which nexthop each address gets).
 * IPv6 uses one LPM trie, read by XDP directly.
 *
 * Every entry of the table is written with a single 32-bit store, a new
 * group is initialised with its covering entry before the link to it is
 * published with a release store, and rebuilds are swapped in through the
 * outer map. A concurrent lookup therefore sees, for every address, either
 * the route before or the route after a change.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include "common.h"
#include "node.h"
#include "fib.h"
#include "fib_int.h"
#include "htab.h"

/* Groups of a new router's table: a few /17../32 routes before a rebuild. */
#define FIB4_INIT_GROUPS 16
/* Elements per batch syscall when filling or walking a trie. */
#define TRIE_BATCH	8192

/* ---- BTF for the inner maps, so bpftool prints named fields ---- */

struct fib_btf {
	int fd;
	__u32 u32_id, lpm4_id, lpm6_id;
};

/* Built and loaded once per process; NULL if the kernel refuses it. */
static const struct fib_btf *fib_btf_get(void)
{
	static struct fib_btf fb;
	static int state;	/* 0 untried, 1 loaded, -1 unavailable */
	int u32_int, u32_id, u8_int, u8_id, arr4, arr16, s4, s6;
	struct btf *btf;

	if (state)
		return state > 0 ? &fb : NULL;
	state = -1;
	btf = btf__new_empty();
	if (!btf)
		return NULL;
	u32_int = btf__add_int(btf, "unsigned int", 4, 0);
	u32_id = btf__add_typedef(btf, "__u32", u32_int);
	u8_int = btf__add_int(btf, "unsigned char", 1, 0);
	u8_id = btf__add_typedef(btf, "__u8", u8_int);
	arr4 = btf__add_array(btf, u32_int, u8_id, 4);
	arr16 = btf__add_array(btf, u32_int, u8_id, 16);
	if (u32_int < 0 || u32_id < 0 || u8_int < 0 || u8_id < 0 || arr4 < 0 || arr16 < 0)
		goto fail;
	s4 = btf__add_struct(btf, "xvr_lpm4_key", sizeof(struct xvr_lpm4_key));
	if (s4 < 0 || btf__add_field(btf, "prefixlen", u32_id, 0, 0) ||
	    btf__add_field(btf, "addr", arr4, 32, 0))
		goto fail;
	s6 = btf__add_struct(btf, "xvr_lpm6_key", sizeof(struct xvr_lpm6_key));
	if (s6 < 0 || btf__add_field(btf, "prefixlen", u32_id, 0, 0) ||
	    btf__add_field(btf, "addr", arr16, 32, 0))
		goto fail;
	if (btf__load_into_kernel(btf))
		goto fail;
	/* The fd lives as long as the btf object, which we keep for the process. */
	fb.fd = btf__fd(btf);
	fb.u32_id = u32_id;
	fb.lpm4_id = s4;
	fb.lpm6_id = s6;
	state = 1;
	return &fb;
fail:
	pr_debug("fib: no BTF for inner maps\n");
	btf__free(btf);
	return NULL;
}

/* Create a map with BTF when the kernel takes it, else without. */
static int map_create_btf(enum bpf_map_type type, const char *name, __u32 key_size,
			  __u32 value_size, __u32 max_entries, __u32 flags, __u32 key_type_id)
{
	const struct fib_btf *fb = fib_btf_get();
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = flags);
	int fd;

	if (fb) {
		opts.btf_fd = fb->fd;
		opts.btf_key_type_id = key_type_id;
		opts.btf_value_type_id = fb->u32_id;
		fd = bpf_map_create(type, name, key_size, value_size, max_entries, &opts);
		if (fd >= 0)
			return fd;
		opts.btf_fd = 0;
		opts.btf_key_type_id = 0;
		opts.btf_value_type_id = 0;
	}
	return bpf_map_create(type, name, key_size, value_size, max_entries, &opts);
}

/* ---- the per-router inner maps ---- */

static int fib4_map_create(__u32 vr, __u32 groups)
{
	const struct fib_btf *fb = fib_btf_get();
	char name[BPF_OBJ_NAME_LEN];

	if (groups > FIB4_GROUPS_LIMIT)
		return -E2BIG;
	snprintf(name, sizeof(name), "fib4_vr%u", vr);
	return map_create_btf(BPF_MAP_TYPE_ARRAY, name, sizeof(__u32), sizeof(__u32),
			      fib4_table_entries(groups), BPF_F_MMAPABLE | BPF_F_INNER_MAP,
			      fb ? fb->u32_id : 0);
}

/* rib4 (family AF_INET) or fib6 (AF_INET6); flags match the templates in bpf/maps.h. */
static int trie_create(int family, __u32 vr)
{
	const struct fib_btf *fb = fib_btf_get();
	char name[BPF_OBJ_NAME_LEN];

	if (family == AF_INET) {
		snprintf(name, sizeof(name), "rib4_vr%u", vr);
		return map_create_btf(BPF_MAP_TYPE_LPM_TRIE, name, sizeof(struct xvr_lpm4_key),
				      sizeof(__u32), XVR_MAX_ROUTES4, BPF_F_NO_PREALLOC,
				      fb ? fb->lpm4_id : 0);
	}
	snprintf(name, sizeof(name), "fib6_vr%u", vr);
	return map_create_btf(BPF_MAP_TYPE_LPM_TRIE, name, sizeof(struct xvr_lpm6_key),
			      sizeof(__u32), XVR_MAX_ROUTES6, BPF_F_NO_PREALLOC,
			      fb ? fb->lpm6_id : 0);
}

/* An fd of the inner map in outer slot vr; -ENOENT if the slot is empty. */
static int slot_fd(int outer_fd, __u32 vr)
{
	__u32 id;
	int err;

	err = bpf_map_lookup_elem(outer_fd, &vr, &id);
	if (err)
		return err;
	return bpf_map_get_fd_by_id(id);
}

/*
 * A mapped IPv4 table. Building a new table maps all of it (every page gets
 * written anyway); changing a live one maps only the pages it touches, one
 * window per page, and the whole table only if a change touches more than
 * FIB4_MAX_WINDOWS pages (a short prefix over many groups).
 */
#define FIB4_MAX_WINDOWS 256

struct fib4_map {
	int fd;
	size_t len;		/* bytes of the table, page-rounded */
	size_t page;
	void *whole;		/* the whole table, if mapped */
	void **windows;		/* by page number, while !whole */
	size_t *mapped;		/* page numbers in windows[] */
	size_t nmapped;
	int err;		/* first mapping failure */
	__u32 scratch;		/* stands in for an entry that could not be mapped */
	struct fib4_table t;
};

static void *fib4_map_whole(struct fib4_map *m)
{
	void *p = mmap(NULL, m->len, PROT_READ | PROT_WRITE, MAP_SHARED, m->fd, 0);

	if (p == MAP_FAILED) {
		if (!m->err)
			m->err = -errno;
		return NULL;
	}
	m->whole = p;
	m->t.ent = p;
	return p;
}

static __u32 *fib4_map_window(const struct fib4_table *t, size_t i)
{
	struct fib4_map *m = (struct fib4_map *)((char *)t - offsetof(struct fib4_map, t));
	size_t off = i * t->stride * sizeof(__u32), pg = off / m->page;
	void *p;

	if (m->whole)
		return (__u32 *)((char *)m->whole + off);
	if (off >= m->len)
		goto fail;
	if (!m->windows[pg]) {
		if (m->nmapped == FIB4_MAX_WINDOWS)
			return fib4_map_whole(m) ? (__u32 *)((char *)m->whole + off) : &m->scratch;
		p = mmap(NULL, m->page, PROT_READ | PROT_WRITE, MAP_SHARED, m->fd, pg * m->page);
		if (p == MAP_FAILED) {
			if (!m->err)
				m->err = -errno;
			goto fail;
		}
		m->windows[pg] = p;
		m->mapped[m->nmapped++] = pg;
	}
	return (__u32 *)((char *)m->windows[pg] + off % m->page);
fail:
	if (!m->err)
		m->err = -EFAULT;
	m->scratch = 0;
	return &m->scratch;
}

/*
 * Map an IPv4 table (all of it, or windowed for small changes) and read
 * its group counter.
 */
static int fib4_map_attach(int fd, struct fib4_map *m, bool whole)
{
	struct bpf_map_info info = {};
	__u32 info_len = sizeof(info), elem;
	int err;

	memset(m, 0, sizeof(*m));
	m->fd = fd;
	m->page = sysconf(_SC_PAGESIZE);
	err = bpf_obj_get_info_by_fd(fd, &info, &info_len);
	if (err)
		return err;
	if (info.type != BPF_MAP_TYPE_ARRAY || info.value_size != sizeof(__u32) ||
	    !(info.map_flags & BPF_F_MMAPABLE) || info.max_entries < fib4_table_entries(0) ||
	    (info.max_entries - FIB4_L1) % FIB4_GS)
		return -EINVAL;
	/* Array elements are value_size rounded up to 8 bytes apart. */
	elem = (info.value_size + 7) & ~7u;
	m->len = ((size_t)info.max_entries * elem + m->page - 1) & ~(m->page - 1);
	m->t.stride = elem / sizeof(__u32);
	m->t.groups_max = (info.max_entries - FIB4_L1) / FIB4_GS - 1;
	if (m->t.groups_max > FIB4_GROUPS_LIMIT)
		m->t.groups_max = FIB4_GROUPS_LIMIT;
	if (whole) {
		if (!fib4_map_whole(m))
			return m->err;
	} else {
		m->windows = calloc(m->len / m->page, sizeof(*m->windows));
		m->mapped = calloc(FIB4_MAX_WINDOWS, sizeof(*m->mapped));
		if (!m->windows || !m->mapped)
			return -ENOMEM;
		m->t.window = fib4_map_window;
	}
	m->t.groups_used = fib4_read(fib4_slot(&m->t, fib4_group_base(0)));
	if (m->err)
		return m->err;
	if (m->t.groups_used > m->t.groups_max) {
		pr_warn("fib4 map id %u: group counter %u beyond %u groups\n", info.id,
			m->t.groups_used, m->t.groups_max);
		return -EUCLEAN;
	}
	return 0;
}

static void fib4_map_detach(struct fib4_map *m)
{
	for (size_t i = 0; i < m->nmapped; i++)
		munmap(m->windows[m->mapped[i]], m->page);
	if (m->whole)
		munmap(m->whole, m->len);
	free(m->windows);
	free(m->mapped);
	m->windows = NULL;
	m->mapped = NULL;
	m->nmapped = 0;
	m->whole = NULL;
	m->t.ent = NULL;
}

static void fib4_map_close(struct fib4_map *m)
{
	fib4_map_detach(m);
	if (m->fd >= 0)
		close(m->fd);
	m->fd = -1;
}

/* A new, filled IPv4 table for routes (by_addr: routes_by_addr()); nothing reads it yet. */
static int fib4_map_build(__u32 vr, const struct fib_route *routes, size_t n,
			  const __u32 *by_addr, size_t n4, struct fib4_map *m)
{
	long needed = fib4_groups_needed(routes, n);
	__u64 groups;
	int fd, err;

	memset(m, 0, sizeof(*m));
	m->fd = -1;
	if (needed < 0)
		return needed;
	if (needed > FIB4_GROUPS_LIMIT)
		return -E2BIG;
	groups = fib4_groups_headroom(needed);
	if (groups > FIB4_GROUPS_LIMIT)
		groups = FIB4_GROUPS_LIMIT;
	fd = fib4_map_create(vr, groups);
	if (fd < 0)
		return fd;
	err = fib4_map_attach(fd, m, true);
	if (!err)
		err = fib4_build_sorted(&m->t, routes, by_addr, n4);
	if (err)
		fib4_map_close(m);
	return err;
}

/* ---- routers map bookkeeping (informational: the maps themselves are the truth) ---- */

static void router_account(struct xvr_node *n, __u32 vr, bool absolute, long routes4,
			   long routes6, const struct fib4_table *t)
{
	struct xvr_router r;
	int err;

	if (n->routers_fd < 0)
		return;
	err = bpf_map_lookup_elem(n->routers_fd, &vr, &r);
	if (err)
		goto out;
	if (absolute) {
		r.routes4 = routes4;
		r.routes6 = routes6;
	} else {
		r.routes4 = (long)r.routes4 + routes4 < 0 ? 0 : r.routes4 + routes4;
		r.routes6 = (long)r.routes6 + routes6 < 0 ? 0 : r.routes6 + routes6;
	}
	if (t) {
		r.fib4_groups_used = t->groups_used;
		r.fib4_groups_max = t->groups_max;
	}
	err = bpf_map_update_elem(n->routers_fd, &vr, &r, BPF_EXIST);
out:
	if (err)
		pr_warn("router %u: cannot update FIB counters: %s\n", vr, strerror(-err));
}

/* ---- tries ---- */

static size_t trie_key_size(int family)
{
	return family == AF_INET ? sizeof(struct xvr_lpm4_key) : sizeof(struct xvr_lpm6_key);
}

/*
 * A trie lookup is longest-match, so "is this exact prefix present" needs
 * BPF_MAP_GET_NEXT_KEY's contract instead: for a key not in the map it
 * returns the first key, for the last key it fails with ENOENT. first is
 * the trie's first key (trie_first()), fetched once per operation.
 */
static int trie_first(int fd, void *first)
{
	return bpf_map_get_next_key(fd, NULL, first);
}

static int trie_has(int fd, const void *key, const void *first, size_t ksz)
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
static int trie_get(int fd, const void *key, size_t ksz, __u32 *nh)
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
static int trie_set(int fd, const void *key, __u32 nh, __u32 *old)
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

static void route_to_key(const struct fib_route *r, void *key)
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
static long routes_distinct(const struct fib_route *routes, size_t n, int family)
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
static int trie_fill(int fd, int family, const struct fib_route *routes, const __u32 *order,
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
static int trie_walk(int fd, int family, fib_route_fn fn, void *ctx)
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

struct route_vec {
	struct fib_route *v;
	size_t n, cap;
};

static int route_vec_push(const struct fib_route *r, void *ctx)
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

/* ---- map-level operations ---- */

static double now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static bool vr_ok(__u32 vr)
{
	return vr && vr < XVR_MAX_ROUTERS;
}

static int prefix_check(int family, const __u8 *addr, int plen, struct fib_route *r)
{
	memset(r, 0, sizeof(*r));
	r->family = family;
	r->plen = plen;
	r->nh = 1;
	if (family == AF_INET)
		memcpy(r->addr, addr, 4);
	else if (family == AF_INET6)
		memcpy(r->addr, addr, 16);
	else
		return -EAFNOSUPPORT;
	return route_ok(r) ? 0 : -EINVAL;
}

int fib_router_init(struct xvr_node *n, __u32 vr)
{
	int outer[3] = { n->fib4_fd, n->rib4_fd, n->fib6_fd };
	int inner[3] = { -1, -1, -1 };
	struct fib4_table t = { .groups_max = FIB4_INIT_GROUPS };
	int err = 0, i;
	__u32 id;

	if (!vr_ok(vr))
		return -EINVAL;
	for (i = 0; i < 3; i++) {
		err = bpf_map_lookup_elem(outer[i], &vr, &id);
		if (!err)
			return -EEXIST;
		if (err != -ENOENT)
			return err;
	}
	/* A new array is zeroed: an empty table whose group counter is 0. */
	inner[0] = fib4_map_create(vr, FIB4_INIT_GROUPS);
	inner[1] = trie_create(AF_INET, vr);
	inner[2] = trie_create(AF_INET6, vr);
	for (i = 0; i < 3; i++) {
		if (inner[i] < 0) {
			err = inner[i];
			goto out;
		}
	}
	for (i = 0; i < 3; i++) {
		err = bpf_map_update_elem(outer[i], &vr, &inner[i], BPF_ANY);
		if (err) {
			while (i--)
				bpf_map_delete_elem(outer[i], &vr);
			goto out;
		}
	}
	router_account(n, vr, true, 0, 0, &t);
out:
	for (i = 0; i < 3; i++)
		if (inner[i] >= 0)
			close(inner[i]);
	return err;
}

int fib_router_fini(struct xvr_node *n, __u32 vr)
{
	int outer[3] = { n->fib4_fd, n->rib4_fd, n->fib6_fd };
	struct fib4_table none = {};
	int err, ret = 0;

	if (!vr_ok(vr))
		return -EINVAL;
	for (int i = 0; i < 3; i++) {
		err = bpf_map_delete_elem(outer[i], &vr);
		if (err && err != -ENOENT && !ret)
			ret = err;
	}
	if (!ret)
		router_account(n, vr, true, 0, 0, &none);
	return ret;
}

/*
 * Rebuild router vr's IPv4 table from rib4 with room to grow and swap it
 * in. XDP keeps reading the old table until the swap, then the new one;
 * both hold every route they share.
 */
static int fib4_rebuild(struct xvr_node *n, __u32 vr, int rib_fd)
{
	struct route_vec rv = {};
	struct fib4_map m;
	int err;

	__u32 *by_addr = NULL;
	size_t n4;

	err = trie_walk(rib_fd, AF_INET, route_vec_push, &rv);
	if (!err)
		err = routes_by_addr(rv.v, rv.n, AF_INET, &by_addr, &n4);
	if (!err)
		err = fib4_map_build(vr, rv.v, rv.n, by_addr, n4, &m);
	free(by_addr);
	if (!err) {
		err = bpf_map_update_elem(n->fib4_fd, &vr, &m.fd, BPF_ANY);
		if (!err) {
			pr_debug("router %u: fib4 rebuilt, %u of %u groups\n", vr, m.t.groups_used,
				 m.t.groups_max);
			router_account(n, vr, false, 0, 0, &m.t);
		}
		fib4_map_close(&m);
	}
	free(rv.v);
	return err;
}

/* Insert into the live IPv4 table, growing it if it is out of groups. */
static int fib4_live_insert(struct xvr_node *n, __u32 vr, int rib_fd, __u32 addr, int plen,
			    __u32 nh)
{
	struct fib4_map m;
	int fd, err;

	fd = slot_fd(n->fib4_fd, vr);
	if (fd < 0)
		return fd;
	err = fib4_map_attach(fd, &m, false);
	if (!err) {
		__u32 used = m.t.groups_used;

		err = fib4_insert(&m.t, addr, plen, nh);
		if (!err && m.t.groups_used != used)
			router_account(n, vr, false, 0, 0, &m.t);
	}
	/* A page that failed to map may have left the change half done. */
	if (m.err)
		err = -EUCLEAN;
	fib4_map_close(&m);
	/* rib4 already holds the route, so the rebuilt table includes it. */
	if (err == -ENOSPC || err == -EUCLEAN)
		err = fib4_rebuild(n, vr, rib_fd);
	return err;
}

static int route4_add(struct xvr_node *n, __u32 vr, const __u8 *addr, int plen, __u32 nh,
		      __u32 *old_nh)
{
	struct xvr_lpm4_key key = { .prefixlen = plen };
	__u32 a, old = 0;
	int rib, err;

	memcpy(key.addr, addr, sizeof(key.addr));
	memcpy(&a, addr, sizeof(a));
	rib = slot_fd(n->rib4_fd, vr);
	if (rib < 0)
		return rib;
	/* rib4 first: a rebuild on the way reads it, and a crash leaves a route to re-add. */
	err = trie_set(rib, &key, nh, &old);
	if (err)
		goto out;
	err = fib4_live_insert(n, vr, rib, ntohl(a), plen, nh);
	if (err) {
		/* Undo so that a rejected add changes nothing. */
		if (old)
			bpf_map_update_elem(rib, &key, &old, BPF_EXIST);
		else
			bpf_map_delete_elem(rib, &key);
		goto out;
	}
	if (!old)
		router_account(n, vr, false, 1, 0, NULL);
	*old_nh = old;
out:
	close(rib);
	return err;
}

/* The longest route strictly shorter than key that covers it; *pnh 0 if none. */
static int rib4_parent(int rib, const struct xvr_lpm4_key *key, const void *first, __u32 *pnh,
		       int *pplen)
{
	struct xvr_lpm4_key k = *key;
	__u32 a, nh;
	int err;

	*pnh = 0;
	*pplen = 0;
	if (!key->prefixlen)
		return 0;
	memcpy(&a, key->addr, sizeof(a));
	a = ntohl(a);
	/* One longest-match lookup says whether there is a parent at all ... */
	k.prefixlen = key->prefixlen - 1;
	err = bpf_map_lookup_elem(rib, &k, &nh);
	if (err)
		return err == -ENOENT ? 0 : err;
	/* ... and exact probes, longest first, find its length. */
	for (int m = key->prefixlen - 1; m >= 0; m--) {
		__u32 am = htonl(a & prefix_mask4(m));

		k.prefixlen = m;
		memcpy(k.addr, &am, sizeof(am));
		err = trie_has(rib, &k, first, sizeof(k));
		if (err < 0)
			return err;
		if (err) {
			*pplen = m;
			/* Present, so its longest match is itself. */
			return bpf_map_lookup_elem(rib, &k, pnh);
		}
	}
	return 0;
}

static int route4_del(struct xvr_node *n, __u32 vr, const __u8 *addr, int plen, __u32 *old_nh)
{
	struct xvr_lpm4_key key = { .prefixlen = plen }, first;
	__u32 a, nh, pnh;
	struct fib4_map m;
	int rib, fd, err, pplen;

	memcpy(key.addr, addr, sizeof(key.addr));
	memcpy(&a, addr, sizeof(a));
	rib = slot_fd(n->rib4_fd, vr);
	if (rib < 0)
		return rib;
	err = bpf_map_lookup_elem(rib, &key, &nh);
	if (!err)
		err = trie_first(rib, &first);
	if (!err) {
		err = trie_has(rib, &key, &first, sizeof(key));
		if (err >= 0)
			err = err ? 0 : -ENOENT;
	}
	if (!err)
		err = rib4_parent(rib, &key, &first, &pnh, &pplen);
	if (err)
		goto out;

	fd = slot_fd(n->fib4_fd, vr);
	if (fd < 0) {
		err = fd;
		goto out;
	}
	err = fib4_map_attach(fd, &m, false);
	if (err) {
		fib4_map_close(&m);
		goto out;
	}
	/*
	 * Table first: until rib4 forgets the route a failure can be retried.
	 * Putting the route back cannot run out of groups, its links remain.
	 */
	fib4_remove(&m.t, ntohl(a), plen, pnh, pplen);
	err = bpf_map_delete_elem(rib, &key);
	if (err)
		fib4_insert(&m.t, ntohl(a), plen, nh);
	/* A page that failed to map may have left the change half done: redo from rib4. */
	if (m.err && fib4_rebuild(n, vr, rib))
		pr_warn("router %u: fib4 may be inconsistent with rib4\n", vr);
	fib4_map_close(&m);
	if (!err) {
		router_account(n, vr, false, -1, 0, NULL);
		*old_nh = nh;
	}
out:
	close(rib);
	return err;
}

static int route6_add(struct xvr_node *n, __u32 vr, const __u8 *addr, int plen, __u32 nh,
		      __u32 *old_nh)
{
	struct xvr_lpm6_key key = { .prefixlen = plen };
	__u32 old;
	int fd, err;

	memcpy(key.addr, addr, sizeof(key.addr));
	fd = slot_fd(n->fib6_fd, vr);
	if (fd < 0)
		return fd;
	err = trie_set(fd, &key, nh, &old);
	close(fd);
	if (err)
		return err;
	if (!old)
		router_account(n, vr, false, 0, 1, NULL);
	*old_nh = old;
	return 0;
}

static int route6_del(struct xvr_node *n, __u32 vr, const __u8 *addr, int plen, __u32 *old_nh)
{
	struct xvr_lpm6_key key = { .prefixlen = plen };
	__u32 nh;
	int fd, err;

	memcpy(key.addr, addr, sizeof(key.addr));
	fd = slot_fd(n->fib6_fd, vr);
	if (fd < 0)
		return fd;
	/*
	 * Longest match first, then an exact delete: if the delete finds the
	 * prefix, the lookup before it returned that prefix's own nexthop.
	 */
	err = bpf_map_lookup_elem(fd, &key, &nh);
	if (!err)
		err = bpf_map_delete_elem(fd, &key);
	close(fd);
	if (err)
		return err;
	router_account(n, vr, false, 0, -1, NULL);
	*old_nh = nh;
	return 0;
}

int fib_route_add(struct xvr_node *n, __u32 vr, int family, const __u8 *addr, int plen,
		  __u32 nh, __u32 *old_nh)
{
	struct fib_route r;
	__u32 old = 0;
	int err;

	if (!vr_ok(vr) || !nh_ok(nh))
		return -EINVAL;
	err = prefix_check(family, addr, plen, &r);
	if (err)
		return err;
	if (family == AF_INET)
		err = route4_add(n, vr, addr, plen, nh, &old);
	else
		err = route6_add(n, vr, addr, plen, nh, &old);
	if (!err && old_nh)
		*old_nh = old;
	return err;
}

int fib_route_del(struct xvr_node *n, __u32 vr, int family, const __u8 *addr, int plen,
		  __u32 *old_nh)
{
	struct fib_route r;
	__u32 old = 0;
	int err;

	if (!vr_ok(vr))
		return -EINVAL;
	err = prefix_check(family, addr, plen, &r);
	if (err)
		return err;
	if (family == AF_INET)
		err = route4_del(n, vr, addr, plen, &old);
	else
		err = route6_del(n, vr, addr, plen, &old);
	if (!err && old_nh)
		*old_nh = old;
	return err;
}

int fib_route_get(struct xvr_node *n, __u32 vr, int family, const __u8 *addr, int plen,
		  __u32 *nh)
{
	__u8 key[sizeof(struct xvr_lpm6_key)];
	struct fib_route r;
	int fd, err;

	if (!vr_ok(vr))
		return -EINVAL;
	err = prefix_check(family, addr, plen, &r);
	if (err)
		return err;
	fd = slot_fd(family == AF_INET ? n->rib4_fd : n->fib6_fd, vr);
	if (fd < 0)
		return fd;
	route_to_key(&r, key);
	err = trie_get(fd, key, trie_key_size(family), nh);
	close(fd);
	return err;
}

int fib_lookup(struct xvr_node *n, __u32 vr, int family, const __u8 *addr, __u32 *nh)
{
	struct xvr_lpm6_key key6 = { .prefixlen = 128 };
	struct fib4_map m;
	__u32 a;
	int fd, err;

	if (!vr_ok(vr))
		return -EINVAL;
	if (family != AF_INET && family != AF_INET6)
		return -EAFNOSUPPORT;
	fd = slot_fd(family == AF_INET ? n->fib4_fd : n->fib6_fd, vr);
	if (fd < 0)
		return fd;
	if (family == AF_INET6) {
		memcpy(key6.addr, addr, sizeof(key6.addr));
		err = bpf_map_lookup_elem(fd, &key6, nh);
		close(fd);
		return err;
	}
	/* The table XDP reads, not rib4: this is what forwarding does. */
	err = fib4_map_attach(fd, &m, false);
	if (!err) {
		memcpy(&a, addr, sizeof(a));
		*nh = fib4_lookup(&m.t, ntohl(a));
		err = *nh ? 0 : -ENOENT;
	}
	fib4_map_close(&m);
	return err;
}

int fib_route_walk(struct xvr_node *n, __u32 vr, int family, fib_route_fn fn, void *ctx)
{
	int families[2] = { AF_INET, AF_INET6 };
	int fd, err = 0;

	if (!vr_ok(vr))
		return -EINVAL;
	if (family != AF_UNSPEC && family != AF_INET && family != AF_INET6)
		return -EAFNOSUPPORT;
	for (int i = 0; i < 2 && !err; i++) {
		if (family != AF_UNSPEC && family != families[i])
			continue;
		fd = slot_fd(families[i] == AF_INET ? n->rib4_fd : n->fib6_fd, vr);
		if (fd < 0)
			return fd;
		err = trie_walk(fd, families[i], fn, ctx);
		close(fd);
	}
	return err;
}

/* The tries of a bulk load, filled on a second thread while this one builds fib4. */
struct trie_job {
	int fd4, fd6;
	const struct fib_route *routes;
	const __u32 *order4, *order6;
	size_t n4, n6;
	int err;
};

static void *trie_job_run(void *arg)
{
	struct trie_job *j = arg;

	j->err = trie_fill(j->fd4, AF_INET, j->routes, j->order4, j->n4);
	if (!j->err)
		j->err = trie_fill(j->fd6, AF_INET6, j->routes, j->order6, j->n6);
	return NULL;
}

int fib_routes_replace(struct xvr_node *n, __u32 vr, const struct fib_route *routes,
		       size_t count, fib_route_fn old_fn, void *ctx)
{
	/*
	 * rib4 and fib4 describe the same set; between their two swaps one is
	 * old and one new, which only a rebuild could notice, and rebuilds
	 * (like every change) run under the node lock we hold.
	 */
	int outer[3] = { n->fib4_fd, n->rib4_fd, n->fib6_fd };
	int old[3] = { -1, -1, -1 }, new[3] = { -1, -1, -1 };
	struct fib4_map m = { .fd = -1 };
	struct trie_job job = { .routes = routes };
	__u32 *order4 = NULL, *order6 = NULL;
	long routes4, routes6;
	int i, swapped = 0, err = 0;
	bool threaded = false;
	pthread_t thread;
	double t[3];

	if (!vr_ok(vr))
		return -EINVAL;
	for (size_t j = 0; j < count; j++)
		if (!route_ok(&routes[j]))
			return -EINVAL;

	t[0] = now_sec();
	for (i = 0; i < 3; i++) {
		old[i] = slot_fd(outer[i], vr);
		if (old[i] < 0) {
			err = old[i];
			goto out;
		}
	}
	new[1] = trie_create(AF_INET, vr);
	new[2] = trie_create(AF_INET6, vr);
	if (new[1] < 0 || new[2] < 0) {
		err = new[1] < 0 ? new[1] : new[2];
		goto out;
	}
	routes4 = routes_distinct(routes, count, AF_INET);
	routes6 = routes_distinct(routes, count, AF_INET6);
	if (routes4 < 0 || routes6 < 0) {
		err = -ENOMEM;
		goto out;
	}
	err = routes_by_addr(routes, count, AF_INET, &order4, &job.n4);
	if (!err)
		err = routes_by_addr(routes, count, AF_INET6, &order6, &job.n6);
	if (err)
		goto out;

	/* The tries cost syscalls, fib4 memory writes: on two CPUs they overlap. */
	job.fd4 = new[1];
	job.fd6 = new[2];
	job.order4 = order4;
	job.order6 = order6;
	threaded = !pthread_create(&thread, NULL, trie_job_run, &job);
	if (!threaded)
		trie_job_run(&job);
	t[1] = now_sec();
	err = fib4_map_build(vr, routes, count, order4, job.n4, &m);
	if (threaded)
		pthread_join(thread, NULL);
	t[2] = now_sec();
	if (!err)
		err = job.err;
	if (err)
		goto out;
	pr_debug("router %u: load of %ld+%ld routes: prepare %.3f s, build %.3f s (%u groups)\n",
		 vr, routes4, routes6, t[1] - t[0], t[2] - t[1], m.t.groups_used);
	new[0] = m.fd;
	m.fd = -1;

	for (swapped = 0; swapped < 3; swapped++) {
		err = bpf_map_update_elem(outer[swapped], &vr, &new[swapped], BPF_ANY);
		if (err)
			break;
	}
	if (err) {
		/* Put back what we replaced; the old maps are still alive (we hold them). */
		while (swapped--)
			bpf_map_update_elem(outer[swapped], &vr, &old[swapped], BPF_ANY);
		goto out;
	}
	router_account(n, vr, true, routes4, routes6, &m.t);

	if (old_fn) {
		trie_walk(old[1], AF_INET, old_fn, ctx);
		trie_walk(old[2], AF_INET6, old_fn, ctx);
	}
out:
	free(order4);
	free(order6);
	fib4_map_close(&m);
	for (i = 0; i < 3; i++) {
		if (old[i] >= 0)
			close(old[i]);
		if (new[i] >= 0)
			close(new[i]);
	}
	return err;
}

int fib_router_stats(struct xvr_node *n, __u32 vr, struct fib_stats *st)
{
	struct xvr_router r;
	struct fib4_map m;
	int fd, err;

	if (!vr_ok(vr))
		return -EINVAL;
	memset(st, 0, sizeof(*st));
	if (n->routers_fd >= 0 && !bpf_map_lookup_elem(n->routers_fd, &vr, &r)) {
		st->routes4 = r.routes4;
		st->routes6 = r.routes6;
	}
	/* Group occupancy from the table itself, which is always current. */
	fd = slot_fd(n->fib4_fd, vr);
	if (fd < 0)
		return fd;
	err = fib4_map_attach(fd, &m, false);
	if (!err) {
		st->groups_used = m.t.groups_used;
		st->groups_max = m.t.groups_max;
	}
	fib4_map_close(&m);
	return err;
}
