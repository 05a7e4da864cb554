// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Per-router FIBs in BPF maps: the map-level operations (routers' tables
 * created and removed, banks installed and retired, routes added, removed
 * and looked up). The DIR-16-8-8 algorithm is fib4.c, the maps and their
 * mmap windows fib_maps.c, the trie helpers fib_trie.c, the bulk replace
 * fib_bulk.c.
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
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <linux/membarrier.h>
#include <bpf/bpf.h>
#include "common.h"
#include "node.h"
#include "fib.h"
#include "fib_int.h"

/* Groups of a new router's table: a few /17../32 routes before a rebuild. */
#define FIB4_INIT_GROUPS 16

/* ---- router bookkeeping (informational: the maps themselves are the truth) ---- */

void router_account(struct xvr_node *n, __u32 vr, bool absolute, long routes4,
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

/* ---- map-level operations ---- */
bool vr_ok(__u32 vr)
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
__u32 fib4_bank(struct xvr_node *n, __u32 vr)
{
	struct xvr_router r;

	if (n->routers_fd < 0 || bpf_map_lookup_elem(n->routers_fd, &vr, &r))
		return 0;
	return r.fib4_bank & 1;
}

/* One store of the router's entry; every other field is written back unchanged. */
int fib4_bank_set(struct xvr_node *n, __u32 vr, __u32 bank)
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
	int l1_fd, fd, err;

	memset(m, 0, sizeof(*m));
	m->fd = -1;
	m->l1_fd = -1;
	m->runs_fd = -1;
	l1_fd = slot_fd(n->fib4_l1_fd, slot);
	if (l1_fd < 0)
		return l1_fd;
	fd = slot_fd(n->fib4_fd, slot);
	if (fd < 0) {
		close(l1_fd);
		return fd;
	}
	err = fib4_map_attach(l1_fd, fd, m, whole);
	if (err)
		return err;
	/* A table that was never built (a new router's) has no runs records. */
	fd = slot_fd(n->fib4_runs_fd, slot);
	if (fd == -ENOENT)
		return 0;
	return fd < 0 ? fd : fib4_map_runs(m, fd);
}

/*
 * Make m router vr's live IPv4 table: its maps go into the idle bank, then
 * the router's entry flips to that bank, so XDP switches level 1, groups
 * and runs records together. A runs map left in the idle bank by an older
 * table is replaced or removed before the flip: its records describe other
 * groups. *old_bank is the bank left behind (fib4_retire()).
 */
int fib4_install(struct xvr_node *n, __u32 vr, const struct fib4_map *m,
		 __u32 *old_bank)
{
	__u32 bank = fib4_bank(n, vr), slot = XVR_FIB4_SLOT(vr, bank ^ 1);
	int err;

	if (m->runs_fd >= 0)
		err = bpf_map_update_elem(n->fib4_runs_fd, &slot, &m->runs_fd, BPF_ANY);
	else if ((err = bpf_map_delete_elem(n->fib4_runs_fd, &slot)) == -ENOENT)
		err = 0;
	if (!err)
		err = bpf_map_update_elem(n->fib4_fd, &slot, &m->fd, BPF_ANY);
	if (!err)
		err = bpf_map_update_elem(n->fib4_l1_fd, &slot, &m->l1_fd, BPF_ANY);
	if (!err)
		err = fib4_bank_set(n, vr, bank ^ 1);
	if (err) {
		bpf_map_delete_elem(n->fib4_fd, &slot);
		bpf_map_delete_elem(n->fib4_l1_fd, &slot);
		bpf_map_delete_elem(n->fib4_runs_fd, &slot);
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
void fib4_retire(struct xvr_node *n, __u32 vr, __u32 bank)
{
	__u32 slot = XVR_FIB4_SLOT(vr, bank);

	if (syscall(__NR_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0)) {
		pr_debug("router %u: membarrier: %s; old fib4 bank kept\n", vr, strerror(errno));
		return;
	}
	bpf_map_delete_elem(n->fib4_l1_fd, &slot);
	bpf_map_delete_elem(n->fib4_fd, &slot);
	bpf_map_delete_elem(n->fib4_runs_fd, &slot);
}

/*
 * The outer slots a router's tables occupy: fib4 and fib4_l1 in both
 * banks, rib4, fib6, then fib4_runs in both banks (empty until a build).
 */
#define FIB_SLOTS 8

static void fib_slots(struct xvr_node *n, __u32 vr, int *outer, __u32 *key)
{
	int fds[FIB_SLOTS] = { n->fib4_fd, n->fib4_l1_fd, n->rib4_fd, n->fib6_fd,
			       n->fib4_fd, n->fib4_l1_fd, n->fib4_runs_fd, n->fib4_runs_fd };
	__u32 keys[FIB_SLOTS] = { XVR_FIB4_SLOT(vr, 0), XVR_FIB4_SLOT(vr, 0), vr, vr,
				  XVR_FIB4_SLOT(vr, 1), XVR_FIB4_SLOT(vr, 1),
				  XVR_FIB4_SLOT(vr, 0), XVR_FIB4_SLOT(vr, 1) };

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

/*
 * Whether a live table's runs records have worn out enough to build it
 * anew: a quarter of those written set aside, and at least
 * FIB4_RUNS_ASIDE_MIN. A build costs about the table's size in work, so
 * spread over the changes that wore it out it stays a small share of each.
 */
#define FIB4_RUNS_ASIDE_MIN 16

static bool fib4_runs_worn(const struct fib4_map *m)
{
	return m->runs_fd >= 0 && m->runs_aside >= FIB4_RUNS_ASIDE_MIN &&
	       m->runs_aside > m->runs_written / 4;
}

/* After a change: build the table anew if its runs records wore out (see above). */
static void fib4_runs_renew(struct xvr_node *n, __u32 vr, int rib_fd, const struct fib4_map *m)
{
	int err;

	if (m->err || !fib4_runs_worn(m))
		return;
	err = fib4_rebuild(n, vr, rib_fd);
	if (err)
		pr_debug("router %u: fib4 runs records not renewed: %s\n", vr, strerror(-err));
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
		if (!err)
			fib4_runs_renew(n, vr, rib_fd, &m);
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
	else if (!err)
		fib4_runs_renew(n, vr, rib, &m);
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
		st->runs_written = m.runs_written;
		st->runs_aside = m.runs_aside;
	}
	fib4_map_close(&m);
	return err;
}
