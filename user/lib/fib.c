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
#include <sys/syscall.h>
#include <linux/membarrier.h>
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
	__u32 u32_id, lpm4_id, lpm6_id, line_id;
};

/* Built and loaded once per process; NULL if the kernel refuses it. */
static const struct fib_btf *fib_btf_get(void)
{
	static struct fib_btf fb;
	static int state;	/* 0 untried, 1 loaded, -1 unavailable */
	int u32_int, u32_id, u8_int, u8_id, arr4, arr16, arr_line, s4, s6, sl;
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
	arr_line = btf__add_array(btf, u32_int, u32_id, XVR_FIB4_LINE);
	if (u32_int < 0 || u32_id < 0 || u8_int < 0 || u8_id < 0 || arr4 < 0 || arr16 < 0 ||
	    arr_line < 0)
		goto fail;
	s4 = btf__add_struct(btf, "xvr_lpm4_key", sizeof(struct xvr_lpm4_key));
	if (s4 < 0 || btf__add_field(btf, "prefixlen", u32_id, 0, 0) ||
	    btf__add_field(btf, "addr", arr4, 32, 0))
		goto fail;
	s6 = btf__add_struct(btf, "xvr_lpm6_key", sizeof(struct xvr_lpm6_key));
	if (s6 < 0 || btf__add_field(btf, "prefixlen", u32_id, 0, 0) ||
	    btf__add_field(btf, "addr", arr16, 32, 0))
		goto fail;
	sl = btf__add_struct(btf, "xvr_fib4_line", sizeof(struct xvr_fib4_line));
	if (sl < 0 || btf__add_field(btf, "e", arr_line, 0, 0))
		goto fail;
	if (btf__load_into_kernel(btf))
		goto fail;
	/* The fd lives as long as the btf object, which we keep for the process. */
	fb.fd = btf__fd(btf);
	fb.u32_id = u32_id;
	fb.lpm4_id = s4;
	fb.lpm6_id = s6;
	fb.line_id = sl;
	state = 1;
	return &fb;
fail:
	pr_debug("fib: no BTF for inner maps\n");
	btf__free(btf);
	return NULL;
}

/* Create a map with BTF when the kernel takes it, else without. */
static int map_create_btf(enum bpf_map_type type, const char *name, __u32 key_size,
			  __u32 value_size, __u32 max_entries, __u32 flags, __u32 key_type_id,
			  __u32 value_type_id)
{
	const struct fib_btf *fb = fib_btf_get();
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = flags);
	int fd;

	if (fb) {
		opts.btf_fd = fb->fd;
		opts.btf_key_type_id = key_type_id;
		opts.btf_value_type_id = value_type_id ? value_type_id : fb->u32_id;
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

/* Group entries of a groups map with room for groups allocatable groups. */
static size_t fib4_group_entries(__u32 groups)
{
	return fib4_table_entries(groups) - FIB4_L1;
}

/* The groups map (levels 2 and 3) of a table; flags match bpf/maps.h. */
static int fib4_map_create(__u32 vr, __u32 groups)
{
	const struct fib_btf *fb = fib_btf_get();
	char name[BPF_OBJ_NAME_LEN];

	if (groups > FIB4_GROUPS_LIMIT)
		return -E2BIG;
	snprintf(name, sizeof(name), "fib4g_vr%u", vr);
	return map_create_btf(BPF_MAP_TYPE_ARRAY, name, sizeof(__u32), sizeof(__u32),
			      fib4_group_entries(groups), BPF_F_MMAPABLE | BPF_F_INNER_MAP,
			      fb ? fb->u32_id : 0, 0);
}

/* The level-1 map of a table: one fixed size for all, so XDP's lookup is inlined. */
static int fib4_l1_create(__u32 vr)
{
	const struct fib_btf *fb = fib_btf_get();
	char name[BPF_OBJ_NAME_LEN];

	snprintf(name, sizeof(name), "fib4l1_vr%u", vr);
	return map_create_btf(BPF_MAP_TYPE_ARRAY, name, sizeof(__u32),
			      sizeof(struct xvr_fib4_line), XVR_FIB4_L1_LINES, BPF_F_MMAPABLE,
			      fb ? fb->u32_id : 0, fb ? fb->line_id : 0);
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
				      fb ? fb->lpm4_id : 0, 0);
	}
	snprintf(name, sizeof(name), "fib6_vr%u", vr);
	return map_create_btf(BPF_MAP_TYPE_LPM_TRIE, name, sizeof(struct xvr_lpm6_key),
			      sizeof(__u32), XVR_MAX_ROUTES6, BPF_F_NO_PREALLOC,
			      fb ? fb->lpm6_id : 0, 0);
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
 * A mapped IPv4 table: its level-1 map (256 KiB, always mapped whole) and
 * its groups map. Building a new table maps all of it (every page gets
 * written anyway); changing a live one maps only the group pages it
 * touches, one window per page, and the whole groups map only if a change
 * touches more than FIB4_MAX_WINDOWS pages (a short prefix over many
 * groups).
 */
#define FIB4_MAX_WINDOWS 256

struct fib4_map {
	int l1_fd;
	__u32 *l1;		/* the 65536 level-1 entries, 4 bytes apart */
	size_t l1_len;
	int fd;			/* the groups map */
	size_t len;		/* bytes of the groups map, page-rounded */
	size_t page;
	void *whole;		/* the whole groups map, if mapped */
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
	m->t.grp = p;
	return p;
}

/* Entry i of the table (fib_int.h's index space: level 1, then the groups). */
static __u32 *fib4_map_window(const struct fib4_table *t, size_t i)
{
	struct fib4_map *m = (struct fib4_map *)((char *)t - offsetof(struct fib4_map, t));
	size_t off, pg;
	void *p;

	if (i < FIB4_L1)
		return &m->l1[i];
	off = (i - FIB4_L1) * t->stride * sizeof(__u32);
	pg = off / m->page;
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

static int fib4_l1_attach(int fd, struct fib4_map *m)
{
	struct bpf_map_info info = {};
	__u32 info_len = sizeof(info);
	void *p;
	int err;

	err = bpf_obj_get_info_by_fd(fd, &info, &info_len);
	if (err)
		return err;
	if (info.type != BPF_MAP_TYPE_ARRAY || info.value_size != sizeof(struct xvr_fib4_line) ||
	    !(info.map_flags & BPF_F_MMAPABLE) || info.max_entries != XVR_FIB4_L1_LINES)
		return -EINVAL;
	m->l1_len = ((size_t)XVR_FIB4_L1_LINES * sizeof(struct xvr_fib4_line) + m->page - 1) &
		    ~(m->page - 1);
	p = mmap(NULL, m->l1_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	m->l1 = p;
	m->t.l1 = p;
	return 0;
}

/*
 * Map an IPv4 table, level 1 (l1_fd) and groups (fd), the groups all or
 * windowed for small changes, and read its group counter. Takes both fds.
 */
static int fib4_map_attach(int l1_fd, int fd, struct fib4_map *m, bool whole)
{
	struct bpf_map_info info = {};
	__u32 info_len = sizeof(info), elem;
	int err;

	memset(m, 0, sizeof(*m));
	m->l1_fd = l1_fd;
	m->fd = fd;
	m->page = sysconf(_SC_PAGESIZE);
	err = fib4_l1_attach(l1_fd, m);
	if (err)
		return err;
	err = bpf_obj_get_info_by_fd(fd, &info, &info_len);
	if (err)
		return err;
	if (info.type != BPF_MAP_TYPE_ARRAY || info.value_size != sizeof(__u32) ||
	    !(info.map_flags & BPF_F_MMAPABLE) || info.max_entries < fib4_group_entries(0) ||
	    info.max_entries % FIB4_GS)
		return -EINVAL;
	/* Array elements are value_size rounded up to 8 bytes apart. */
	elem = (info.value_size + 7) & ~7u;
	m->len = ((size_t)info.max_entries * elem + m->page - 1) & ~(m->page - 1);
	m->t.stride = elem / sizeof(__u32);
	m->t.groups_max = info.max_entries / FIB4_GS - 1;
	if (m->t.groups_max > FIB4_GROUPS_LIMIT)
		m->t.groups_max = FIB4_GROUPS_LIMIT;
	m->t.window = fib4_map_window;
	if (whole) {
		if (!fib4_map_whole(m))
			return m->err;
	} else {
		m->windows = calloc(m->len / m->page, sizeof(*m->windows));
		m->mapped = calloc(FIB4_MAX_WINDOWS, sizeof(*m->mapped));
		if (!m->windows || !m->mapped)
			return -ENOMEM;
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
	if (m->l1)
		munmap(m->l1, m->l1_len);
	free(m->windows);
	free(m->mapped);
	m->windows = NULL;
	m->mapped = NULL;
	m->nmapped = 0;
	m->whole = NULL;
	m->l1 = NULL;
	m->t.l1 = NULL;
	m->t.grp = NULL;
}

static void fib4_map_close(struct fib4_map *m)
{
	fib4_map_detach(m);
	if (m->fd >= 0)
		close(m->fd);
	if (m->l1_fd >= 0)
		close(m->l1_fd);
	m->fd = -1;
	m->l1_fd = -1;
}

/* A new, filled IPv4 table for routes (by_addr: routes_by_addr()); nothing reads it yet. */
static int fib4_map_build(__u32 vr, const struct fib_route *routes, size_t n,
			  const __u32 *by_addr, size_t n4, struct fib4_map *m)
{
	long needed = fib4_groups_needed(routes, n);
	int fd, l1_fd, err;
	__u64 groups;

	memset(m, 0, sizeof(*m));
	m->fd = -1;
	m->l1_fd = -1;
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
	l1_fd = fib4_l1_create(vr);
	if (l1_fd < 0) {
		close(fd);
		return l1_fd;
	}
	err = fib4_map_attach(l1_fd, fd, m, true);
	if (!err)
		err = fib4_build_sorted(&m->t, routes, by_addr, n4);
	if (err)
		fib4_map_close(m);
	return err;
}

/* ---- router bookkeeping (informational: the maps themselves are the truth) ---- */

static void router_account(struct xvr_node *n, __u32 vr, bool absolute, long routes4,
			   long routes6, const struct fib4_table *t)
{
	struct xvr_router_book r;
	int err;

	if (n->router_book_fd < 0)
		return;
	err = bpf_map_lookup_elem(n->router_book_fd, &vr, &r);
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
	err = bpf_map_update_elem(n->router_book_fd, &vr, &r, BPF_EXIST);
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

/* The router's live IPv4 bank, as the data path reads it. */
static __u32 fib4_bank(struct xvr_node *n, __u32 vr)
{
	struct xvr_router r;

	if (n->routers_fd < 0 || bpf_map_lookup_elem(n->routers_fd, &vr, &r))
		return 0;
	return r.fib4_bank & 1;
}

/* One store of the router's entry; every other field is written back unchanged. */
static int fib4_bank_set(struct xvr_node *n, __u32 vr, __u32 bank)
{
	struct xvr_router r;
	int err;

	err = bpf_map_lookup_elem(n->routers_fd, &vr, &r);
	if (err)
		return err;
	r.fib4_bank = bank;
	return bpf_map_update_elem(n->routers_fd, &vr, &r, BPF_EXIST);
}

/* Map router vr's live IPv4 table. fib4_map_close() releases it, also after a failure. */
static int fib4_open(struct xvr_node *n, __u32 vr, struct fib4_map *m, bool whole)
{
	__u32 slot = XVR_FIB4_SLOT(vr, fib4_bank(n, vr));
	int l1_fd, fd;

	memset(m, 0, sizeof(*m));
	m->fd = -1;
	m->l1_fd = -1;
	l1_fd = slot_fd(n->fib4_l1_fd, slot);
	if (l1_fd < 0)
		return l1_fd;
	fd = slot_fd(n->fib4_fd, slot);
	if (fd < 0) {
		close(l1_fd);
		return fd;
	}
	return fib4_map_attach(l1_fd, fd, m, whole);
}

/*
 * Make m router vr's live IPv4 table: its two maps go into the idle bank,
 * then the router's entry flips to that bank, so XDP switches level 1 and
 * groups together. *old_bank is the bank left behind (fib4_retire()).
 */
static int fib4_install(struct xvr_node *n, __u32 vr, const struct fib4_map *m,
			__u32 *old_bank)
{
	__u32 bank = fib4_bank(n, vr), slot = XVR_FIB4_SLOT(vr, bank ^ 1);
	int err;

	err = bpf_map_update_elem(n->fib4_fd, &slot, &m->fd, BPF_ANY);
	if (!err)
		err = bpf_map_update_elem(n->fib4_l1_fd, &slot, &m->l1_fd, BPF_ANY);
	if (!err)
		err = fib4_bank_set(n, vr, bank ^ 1);
	if (err) {
		bpf_map_delete_elem(n->fib4_fd, &slot);
		bpf_map_delete_elem(n->fib4_l1_fd, &slot);
		return err;
	}
	*old_bank = bank;
	return 0;
}

/*
 * Empty a bank the router no longer reads, once no XDP program can still be
 * reading it: a program that loaded the old bank number runs inside an RCU
 * read-side section, and membarrier(MEMBARRIER_CMD_GLOBAL) returns after a
 * grace period. Without it the old tables stay until the next swap replaces
 * them (memory, not correctness).
 */
static void fib4_retire(struct xvr_node *n, __u32 vr, __u32 bank)
{
	__u32 slot = XVR_FIB4_SLOT(vr, bank);

	if (syscall(__NR_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0)) {
		pr_debug("router %u: membarrier: %s; old fib4 bank kept\n", vr, strerror(errno));
		return;
	}
	bpf_map_delete_elem(n->fib4_l1_fd, &slot);
	bpf_map_delete_elem(n->fib4_fd, &slot);
}

/* The outer slots a router's tables occupy: fib4 and fib4_l1 in both banks, rib4, fib6. */
#define FIB_SLOTS 6

static void fib_slots(struct xvr_node *n, __u32 vr, int *outer, __u32 *key)
{
	int fds[FIB_SLOTS] = { n->fib4_fd, n->fib4_l1_fd, n->rib4_fd, n->fib6_fd,
			       n->fib4_fd, n->fib4_l1_fd };
	__u32 keys[FIB_SLOTS] = { XVR_FIB4_SLOT(vr, 0), XVR_FIB4_SLOT(vr, 0), vr, vr,
				  XVR_FIB4_SLOT(vr, 1), XVR_FIB4_SLOT(vr, 1) };

	memcpy(outer, fds, sizeof(fds));
	memcpy(key, keys, sizeof(keys));
}

int fib_router_init(struct xvr_node *n, __u32 vr)
{
	int outer[FIB_SLOTS], inner[4] = { -1, -1, -1, -1 };
	struct fib4_table t = { .groups_max = FIB4_INIT_GROUPS };
	__u32 key[FIB_SLOTS], id;
	int err = 0, i;

	if (!vr_ok(vr))
		return -EINVAL;
	fib_slots(n, vr, outer, key);
	for (i = 0; i < FIB_SLOTS; i++) {
		err = bpf_map_lookup_elem(outer[i], &key[i], &id);
		if (!err)
			return -EEXIST;
		if (err != -ENOENT)
			return err;
	}
	/* New arrays are zeroed: an empty table whose group counter is 0. */
	inner[0] = fib4_map_create(vr, FIB4_INIT_GROUPS);
	inner[1] = fib4_l1_create(vr);
	inner[2] = trie_create(AF_INET, vr);
	inner[3] = trie_create(AF_INET6, vr);
	for (i = 0; i < 4; i++) {
		if (inner[i] < 0) {
			err = inner[i];
			goto out;
		}
	}
	/* Bank 0 first, then the entry naming it: nothing reads the slots before. */
	for (i = 0; i < 4; i++) {
		err = bpf_map_update_elem(outer[i], &key[i], &inner[i], BPF_ANY);
		if (err)
			break;
	}
	if (!err && n->routers_fd >= 0)
		err = fib4_bank_set(n, vr, 0);
	if (err) {
		while (i--)
			bpf_map_delete_elem(outer[i], &key[i]);
		goto out;
	}
	router_account(n, vr, true, 0, 0, &t);
out:
	for (i = 0; i < 4; i++)
		if (inner[i] >= 0)
			close(inner[i]);
	return err;
}

int fib_router_fini(struct xvr_node *n, __u32 vr)
{
	struct fib4_table none = {};
	int outer[FIB_SLOTS], err, ret = 0;
	__u32 key[FIB_SLOTS];

	if (!vr_ok(vr))
		return -EINVAL;
	fib_slots(n, vr, outer, key);
	for (int i = 0; i < FIB_SLOTS; i++) {
		err = bpf_map_delete_elem(outer[i], &key[i]);
		if (err && err != -ENOENT && !ret)
			ret = err;
	}
	if (!ret)
		router_account(n, vr, true, 0, 0, &none);
	return ret;
}

bool fib_router_present(struct xvr_node *n, __u32 vr)
{
	int outer[FIB_SLOTS];
	__u32 key[FIB_SLOTS], id;

	if (!vr_ok(vr))
		return false;
	fib_slots(n, vr, outer, key);
	for (int i = 0; i < FIB_SLOTS; i++)
		if (!bpf_map_lookup_elem(outer[i], &key[i], &id))
			return true;
	return false;
}

/*
 * Rebuild router vr's IPv4 table from rib4 with room to grow and swap it
 * in. XDP keeps reading the old table until the bank flips, then the new
 * one; both hold every route they share.
 */
static int fib4_rebuild(struct xvr_node *n, __u32 vr, int rib_fd)
{
	struct route_vec rv = {};
	__u32 *by_addr = NULL, old_bank;
	struct fib4_map m;
	size_t n4;
	int err;

	err = trie_walk(rib_fd, AF_INET, route_vec_push, &rv);
	if (!err)
		err = routes_by_addr(rv.v, rv.n, AF_INET, &by_addr, &n4);
	if (!err)
		err = fib4_map_build(vr, rv.v, rv.n, by_addr, n4, &m);
	free(by_addr);
	if (!err) {
		err = fib4_install(n, vr, &m, &old_bank);
		if (!err) {
			pr_debug("router %u: fib4 rebuilt, %u of %u groups\n", vr, m.t.groups_used,
				 m.t.groups_max);
			router_account(n, vr, false, 0, 0, &m.t);
			fib4_retire(n, vr, old_bank);
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
	int err;

	err = fib4_open(n, vr, &m, false);
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
	int rib, err, pplen;

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

	err = fib4_open(n, vr, &m, false);
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
	if (family == AF_INET6) {
		fd = slot_fd(n->fib6_fd, vr);
		if (fd < 0)
			return fd;
		memcpy(key6.addr, addr, sizeof(key6.addr));
		err = bpf_map_lookup_elem(fd, &key6, nh);
		close(fd);
		return err;
	}
	/* The table XDP reads, not rib4: this is what forwarding does. */
	err = fib4_open(n, vr, &m, false);
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
	 * (like every change) run under the node lock we hold. Index 0 of
	 * old/new is fib4, swapped by its bank (fib4_install).
	 */
	int outer[3] = { -1, n->rib4_fd, n->fib6_fd };
	int old[3] = { -1, -1, -1 }, new[3] = { -1, -1, -1 };
	struct fib4_map m = { .fd = -1, .l1_fd = -1 };
	__u32 old_bank = 0;
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
	old[0] = slot_fd(n->fib4_fd, XVR_FIB4_SLOT(vr, fib4_bank(n, vr)));
	if (old[0] < 0) {
		err = old[0];
		goto out;
	}
	for (i = 1; i < 3; i++) {
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

	err = fib4_install(n, vr, &m, &old_bank);
	if (err)
		goto out;
	for (swapped = 1; swapped < 3; swapped++) {
		err = bpf_map_update_elem(outer[swapped], &vr, &new[swapped], BPF_ANY);
		if (err)
			break;
	}
	if (err) {
		/* Put back what we replaced; the old maps are still alive (we hold them). */
		while (--swapped > 0)
			bpf_map_update_elem(outer[swapped], &vr, &old[swapped], BPF_ANY);
		fib4_bank_set(n, vr, old_bank);
		goto out;
	}
	router_account(n, vr, true, routes4, routes6, &m.t);
	fib4_retire(n, vr, old_bank);

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
	struct xvr_router_book r;
	struct fib4_map m;
	int err;

	if (!vr_ok(vr))
		return -EINVAL;
	memset(st, 0, sizeof(*st));
	if (n->router_book_fd >= 0 && !bpf_map_lookup_elem(n->router_book_fd, &vr, &r)) {
		st->routes4 = r.routes4;
		st->routes6 = r.routes6;
	}
	/* Group occupancy from the table itself, which is always current. */
	err = fib4_open(n, vr, &m, false);
	if (!err) {
		st->groups_used = m.t.groups_used;
		st->groups_max = m.t.groups_max;
	}
	fib4_map_close(&m);
	return err;
}
