// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The per-router FIB maps themselves: BTF synthesised for the inner maps
 * (so bpftool prints named fields), their creation, and the mmap windows
 * through which the IPv4 table (fib4_map, declared in fib_int.h) is read
 * and written in place. What goes into them is fib.c's and fib4.c's.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include "common.h"
#include "fib.h"
#include "fib_int.h"

/* ---- BTF for the inner maps, so bpftool prints named fields ---- */

struct fib_btf {
	int fd;
	__u32 u32_id, lpm4_id, lpm6_id, line_id, runs_id;
};

/* Built and loaded once per process; NULL if the kernel refuses it. */
static const struct fib_btf *fib_btf_get(void)
{
	static struct fib_btf fb;
	static int state;	/* 0 untried, 1 loaded, -1 unavailable */
	int u32_int, u32_id, u8_int, u8_id, arr4, arr16, arr_line, s4, s6, sl;
	int arr_re, arr_rs, arr_pad, sr;
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
	arr_re = btf__add_array(btf, u32_int, u32_id, XVR_FIB4_RUNS);
	arr_rs = btf__add_array(btf, u32_int, u8_id, XVR_FIB4_RUNS);
	arr_pad = btf__add_array(btf, u32_int, u8_id,
				 sizeof(((struct xvr_fib4_runs *)0)->pad));
	sr = btf__add_struct(btf, "xvr_fib4_runs", sizeof(struct xvr_fib4_runs));
	if (arr_re < 0 || arr_rs < 0 || arr_pad < 0 || sr < 0 ||
	    btf__add_field(btf, "e", arr_re, offsetof(struct xvr_fib4_runs, e) * 8, 0) ||
	    btf__add_field(btf, "start", arr_rs, offsetof(struct xvr_fib4_runs, start) * 8, 0) ||
	    btf__add_field(btf, "n", u8_id, offsetof(struct xvr_fib4_runs, n) * 8, 0) ||
	    btf__add_field(btf, "pad", arr_pad, offsetof(struct xvr_fib4_runs, pad) * 8, 0))
		goto fail;
	if (btf__load_into_kernel(btf))
		goto fail;
	/* The fd lives as long as the btf object, which we keep for the process. */
	fb.fd = btf__fd(btf);
	fb.u32_id = u32_id;
	fb.lpm4_id = s4;
	fb.lpm6_id = s6;
	fb.line_id = sl;
	fb.runs_id = sr;
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
int fib4_map_create(__u32 vr, __u32 groups)
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
int fib4_l1_create(__u32 vr)
{
	const struct fib_btf *fb = fib_btf_get();
	char name[BPF_OBJ_NAME_LEN];

	snprintf(name, sizeof(name), "fib4l1_vr%u", vr);
	return map_create_btf(BPF_MAP_TYPE_ARRAY, name, sizeof(__u32),
			      sizeof(struct xvr_fib4_line), XVR_FIB4_L1_LINES, BPF_F_MMAPABLE,
			      fb ? fb->u32_id : 0, fb ? fb->line_id : 0);
}

/* The runs records of a table with groups groups (group 0 included: it never has one). */
int fib4_runs_create(__u32 vr, __u32 groups)
{
	const struct fib_btf *fb = fib_btf_get();
	char name[BPF_OBJ_NAME_LEN];

	snprintf(name, sizeof(name), "fib4r_vr%u", vr);
	return map_create_btf(BPF_MAP_TYPE_ARRAY, name, sizeof(__u32),
			      sizeof(struct xvr_fib4_runs), groups + 1,
			      BPF_F_MMAPABLE | BPF_F_INNER_MAP, fb ? fb->u32_id : 0,
			      fb ? fb->runs_id : 0);
}

/* rib4 (family AF_INET) or fib6 (AF_INET6); flags match the templates in bpf/maps.h. */
int trie_create(int family, __u32 vr)
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
int slot_fd(int outer_fd, __u32 vr)
{
	__u32 id;
	int err;

	err = bpf_map_lookup_elem(outer_fd, &vr, &id);
	if (err)
		return err;
	return bpf_map_get_fd_by_id(id);
}

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

/* The mapped table whose struct fib4_table t is. */
static struct fib4_map *fib4_map_of(const struct fib4_table *t)
{
	return (struct fib4_map *)((char *)t - offsetof(struct fib4_map, t));
}

/* Entry i of the table (fib_int.h's index space: level 1, then the groups). */
static __u32 *fib4_map_window(const struct fib4_table *t, size_t i)
{
	struct fib4_map *m = fib4_map_of(t);
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
int fib4_map_attach(int l1_fd, int fd, struct fib4_map *m, bool whole)
{
	struct bpf_map_info info = {};
	__u32 info_len = sizeof(info), elem;
	int err;

	memset(m, 0, sizeof(*m));
	m->l1_fd = l1_fd;
	m->fd = fd;
	m->runs_fd = -1;
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

/*
 * Invalidate group g's runs record before the group changes: one map
 * update, whose copy rewrites the record's entries and starts with the
 * same bytes, so a reader sees the old record or n = 0. A failure is kept
 * in m->err (the caller then rebuilds the table).
 */
static void fib4_map_touch(const struct fib4_table *t, __u32 g)
{
	struct fib4_map *m = fib4_map_of(t);
	struct xvr_fib4_runs r, r0 = {};
	int err;

	if (m->runs_fd < 0 || !g || g >= m->runs_count)
		return;
	err = bpf_map_lookup_elem(m->runs_fd, &g, &r);
	if (!err && !r.n)
		return;
	r.n = 0;
	if (!err)
		err = bpf_map_update_elem(m->runs_fd, &g, &r, BPF_EXIST);
	/* The counts in record 0, which decide when to build anew. */
	r0.e[XVR_FIB4_RUNS_WRITTEN] = m->runs_written;
	r0.e[XVR_FIB4_RUNS_ASIDE] = m->runs_aside + 1;
	g = 0;
	if (!err)
		err = bpf_map_update_elem(m->runs_fd, &g, &r0, BPF_EXIST);
	if (!err)
		m->runs_aside++;
	if (err && !m->err)
		m->err = err;
}

/* Give m the runs records in runs_fd (taken) for its in-place changes. */
int fib4_map_runs(struct fib4_map *m, int runs_fd)
{
	struct bpf_map_info info = {};
	__u32 info_len = sizeof(info), zero = 0;
	struct xvr_fib4_runs r0;
	int err;

	err = bpf_obj_get_info_by_fd(runs_fd, &info, &info_len);
	if (!err && (info.type != BPF_MAP_TYPE_ARRAY ||
		     info.value_size != sizeof(struct xvr_fib4_runs)))
		err = -EINVAL;
	if (!err)
		err = bpf_map_lookup_elem(runs_fd, &zero, &r0);
	if (err) {
		close(runs_fd);
		return err;
	}
	m->runs_fd = runs_fd;
	m->runs_count = info.max_entries;
	m->runs_written = r0.e[XVR_FIB4_RUNS_WRITTEN];
	m->runs_aside = r0.e[XVR_FIB4_RUNS_ASIDE];
	m->t.touch = fib4_map_touch;
	return 0;
}

/*
 * Write the runs record of every group of m's newly built table into a new
 * map, and give it to m. Groups created later have no record.
 */
static int fib4_map_runs_build(__u32 vr, struct fib4_map *m)
{
	size_t len = ((size_t)(m->t.groups_used + 1) * sizeof(struct xvr_fib4_runs) + m->page -
		      1) & ~(m->page - 1);
	struct xvr_fib4_runs *r;
	int fd;

	fd = fib4_runs_create(vr, m->t.groups_used);
	if (fd < 0)
		return fd;
	r = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (r == MAP_FAILED) {
		close(fd);
		return -errno;
	}
	for (__u32 g = 1; g <= m->t.groups_used; g++)
		r[0].e[XVR_FIB4_RUNS_WRITTEN] += fib4_group_runs(&m->t, g, &r[g]);
	munmap(r, len);
	return fib4_map_runs(m, fd);
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

void fib4_map_close(struct fib4_map *m)
{
	fib4_map_detach(m);
	if (m->fd >= 0)
		close(m->fd);
	if (m->l1_fd >= 0)
		close(m->l1_fd);
	if (m->runs_fd >= 0)
		close(m->runs_fd);
	m->fd = -1;
	m->l1_fd = -1;
	m->runs_fd = -1;
}

/* A new, filled IPv4 table for routes (by_addr: routes_by_addr()); nothing reads it yet. */
int fib4_map_build(__u32 vr, const struct fib_route *routes, size_t n,
		   const __u32 *by_addr, size_t n4, struct fib4_map *m)
{
	long needed = fib4_groups_needed(routes, n);
	int fd, l1_fd, err;
	__u64 groups;

	memset(m, 0, sizeof(*m));
	m->fd = -1;
	m->l1_fd = -1;
	m->runs_fd = -1;
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
	if (!err)
		err = fib4_map_runs_build(vr, m);
	if (err)
		fib4_map_close(m);
	return err;
}
