// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "common.h"
#include "netns.h"
#include "objects.h"
#include "cgroup.h"
#include "veth.h"
#include "cglimits.h"
#include "fe.h"
#include "link.h"
#include "xvr_xsk.skel.h"

void fe_ifname(char *buf, size_t len, __u32 id)
{
	snprintf(buf, len, "fe%u", id);
}

void fe_cgroup(char *buf, size_t len, const char *node, const char *router, __u32 id)
{
	char leaf[16];

	snprintf(leaf, sizeof(leaf), "fe%u", id);
	router_cg_name(buf, len, node, router, leaf);
}

/* f<node tag><router><engine>, all hex: unique on the machine, 11 characters. */
static void dev_name(char *buf, size_t len, const char *node, __u32 vr_id, __u32 id)
{
	snprintf(buf, len, "f%04x%03x%03x", xvr_node_tag(node), vr_id, id);
}

static void fe_pin(char *buf, size_t len, const char *node, __u32 id, const char *leaf)
{
	char sub[64];

	snprintf(sub, sizeof(sub), "fe/%u%s%s", id, leaf ? "/" : "", leaf ? leaf : "");
	xvr_node_path(buf, len, node, sub);
}

int fe_get(struct xvr_node *n, __u32 id, struct xvr_fe *out)
{
	if (!id || id >= XVR_MAX_FES)
		return -ENOENT;
	if (bpf_map_lookup_elem(n->fes_fd, &id, out))
		return -errno;
	return out->flags & XVR_FE_ACTIVE ? 0 : -ENOENT;
}

int fe_list_router(struct xvr_node *n, __u32 vr_id, __u32 ids[XVR_MAX_ROUTER_FES])
{
	struct xvr_fe fe;
	int cnt = 0;

	for (__u32 id = 1; id < XVR_MAX_FES && cnt < XVR_MAX_ROUTER_FES; id++)
		if (!fe_get(n, id, &fe) && fe.vr_id == vr_id)
			ids[cnt++] = id;
	return cnt;
}

/*
 * Smooth weighted round-robin (each step the engine furthest behind its
 * share goes next), over weights scaled to fit XVR_WRR_SLOTS: engines are
 * interleaved rather than sent bursts.
 */
static __u32 wrr_build(const unsigned int *weight, int n, __u8 *out)
{
	unsigned int total = 0, scaled[XVR_MAX_ROUTER_FES], sum = 0;
	int current[XVR_MAX_ROUTER_FES] = {};

	for (int i = 0; i < n; i++)
		total += weight[i];
	for (int i = 0; i < n; i++) {
		scaled[i] = total > XVR_WRR_SLOTS ? weight[i] * XVR_WRR_SLOTS / total : weight[i];
		if (!scaled[i])
			scaled[i] = 1;
		sum += scaled[i];
	}
	while (sum > XVR_WRR_SLOTS) {	/* rounding up the zeros may overshoot */
		int big = 0;

		for (int i = 1; i < n; i++)
			if (scaled[i] > scaled[big])
				big = i;
		scaled[big]--;
		sum--;
	}
	for (unsigned int s = 0; s < sum; s++) {
		int best = 0;

		for (int i = 0; i < n; i++) {
			current[i] += scaled[i];
			if (current[i] > current[best])
				best = i;
		}
		current[best] -= sum;
		out[s] = best;
	}
	return sum;
}

int fe_set_rebuild(struct xvr_node *n, __u32 vr_id, int dist)
{
	unsigned int weight[XVR_MAX_ROUTER_FES];
	__u32 ids[XVR_MAX_ROUTER_FES];
	struct xvr_fe_set set = {}, old = {};
	struct xvr_fe fe;
	int cnt;

	bpf_map_lookup_elem(n->fe_sets_fd, &vr_id, &old);
	set.dist = dist >= 0 ? (__u32)dist : old.dist;
	cnt = fe_list_router(n, vr_id, ids);
	for (int i = 0; i < cnt; i++) {
		set.fes[i] = ids[i];
		weight[i] = !fe_get(n, ids[i], &fe) && fe.weight ? fe.weight : 1;
	}
	set.count = cnt;
	if (cnt)
		set.wrr_len = wrr_build(weight, cnt, set.wrr);
	/* One value update: ingress sees the old set or the new one. */
	if (bpf_map_update_elem(n->fe_sets_fd, &vr_id, &set, BPF_ANY))
		return -errno;
	return 0;
}

static __u32 fe_alloc(struct xvr_node *n)
{
	struct xvr_fe fe;

	for (__u32 id = 1; id < XVR_MAX_FES; id++)
		if (fe_get(n, id, &fe) == -ENOENT)
			return id;
	return 0;
}

struct xsk_attach {
	int prog_fd;
	const char *ifname;
};

/* An XDP link needs the device in the caller's namespace: this runs in the router's. */
static int xsk_attach_here(void *arg)
{
	LIBBPF_OPTS(bpf_link_create_opts, opts, .flags = XDP_FLAGS_DRV_MODE);
	const struct xsk_attach *a = arg;
	int idx = if_index(a->ifname), link_fd;

	if (idx < 0)
		return idx;
	link_fd = bpf_link_create(a->prog_fd, idx, BPF_XDP, &opts);
	return link_fd < 0 ? -errno : link_fd;
}

/* Loads this engine's own XSK program and map; attaches it inside the namespace. */
static int xsk_install(struct xvr_node *n, __u32 id, const char *ns, const char *ifname)
{
	char pin[PATH_MAX], dir[PATH_MAX];
	struct xsk_attach a = { .ifname = ifname };
	struct xvr_xsk *skel;
	int link_fd = -1, err;

	xvr_node_path(dir, sizeof(dir), n->name, "fe");
	if (mkdir(dir, 0700) && errno != EEXIST)
		return -errno;
	fe_pin(dir, sizeof(dir), n->name, id, NULL);
	if (mkdir(dir, 0700) && errno != EEXIST)
		return -errno;
	skel = xvr_xsk__open_and_load();
	if (!skel)
		return -errno;
	fe_pin(pin, sizeof(pin), n->name, id, "xsks");
	err = bpf_map__pin(skel->maps.xsks, pin);
	if (err)
		goto out;
	a.prog_fd = bpf_program__fd(skel->progs.xvr_xsk);
	link_fd = netns_call(ns, xsk_attach_here, &a);
	if (link_fd < 0) {
		err = link_fd;
		goto out;
	}
	fe_pin(pin, sizeof(pin), n->name, id, "xsk_link");
	if (bpf_obj_pin(link_fd, pin))
		err = -errno;
out:
	if (link_fd >= 0)
		close(link_fd);
	xvr_xsk__destroy(skel);
	return err;
}

static int state_install(struct xvr_node *n, __u32 id)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_MMAPABLE);
	char pin[PATH_MAX];
	int fd, err = 0;

	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "fe_state", sizeof(__u32),
			    sizeof(struct xvr_fe_state), 1, &opts);
	if (fd < 0)
		return -errno;
	fe_pin(pin, sizeof(pin), n->name, id, "state");
	if (bpf_obj_pin(fd, pin) || bpf_map_update_elem(n->fe_state_fd, &id, &fd, BPF_ANY))
		err = -errno;
	close(fd);
	return err;
}

static int egress_attach(struct xvr_node *n, __u32 dev)
{
	LIBBPF_OPTS(bpf_link_create_opts, opts, .flags = XDP_FLAGS_DRV_MODE);
	char path[PATH_MAX], leaf[64];
	int prog_fd, link_fd, err = 0;

	xvr_node_path(path, sizeof(path), n->name, "prog_egress");
	prog_fd = bpf_obj_get(path);
	if (prog_fd < 0)
		return -errno;
	link_fd = bpf_link_create(prog_fd, dev, BPF_XDP, &opts);
	close(prog_fd);
	if (link_fd < 0)
		return -errno;
	/* With the VIFs' links, so 'node up' swaps it with theirs. */
	snprintf(leaf, sizeof(leaf), "vif_links/%u", dev);
	xvr_node_path(path, sizeof(path), n->name, leaf);
	if (bpf_obj_pin(link_fd, path))
		err = -errno;
	close(link_fd);
	return err;
}

int fe_create(struct xvr_node *n, const struct fe_spec *spec, __u32 *out_id)
{
	char ns[128], dev[IF_NAMESIZE], peer[IF_NAMESIZE], cg[128];
	struct bpf_devmap_val dv = {};
	struct xvr_fe fe = {};
	__u32 ids[XVR_MAX_ROUTER_FES], id;
	int idx, err;

	if (fe_list_router(n, spec->vr_id, ids) >= XVR_MAX_ROUTER_FES) {
		pr_warn("fe: router %s has %d engines already\n", spec->router,
			XVR_MAX_ROUTER_FES);
		return -ENOSPC;
	}
	id = fe_alloc(n);
	if (!id) {
		pr_warn("fe: node has %d engines already\n", XVR_MAX_FES - 1);
		return -ENOSPC;
	}
	netns_name(ns, sizeof(ns), n->name, spec->router);
	dev_name(dev, sizeof(dev), n->name, spec->vr_id, id);
	fe_ifname(peer, sizeof(peer), id);
	/* The tag adds 4 bytes to every frame in both directions. */
	err = veth_create(&(struct veth_spec){ .name = dev, .peer = peer, .netns = ns,
					       .mtu = 1504, .peer_quiet = true });
	if (err) {
		pr_warn("fe %u: cannot create veth %s into %s\n", id, dev, ns);
		goto undo;
	}
	idx = if_index(dev);
	fe.dev = idx > 0 ? idx : 0;
	idx = netns_ifindex(ns, peer);
	fe.peer = idx > 0 ? idx : 0;
	fe.vr_id = spec->vr_id;
	fe.cpu = spec->cpu;
	fe.share = spec->share;
	fe.weight = spec->weight ? spec->weight : 1;

	err = xsk_install(n, id, ns, peer);
	if (err) {
		pr_warn("fe %u: XSK program on %s: %s\n", id, peer, strerror(-err));
		goto undo;
	}
	err = state_install(n, id);
	if (err) {
		pr_warn("fe %u: state map: %s\n", id, strerror(-err));
		goto undo;
	}
	fe_cgroup(cg, sizeof(cg), n->name, spec->router, id);
	err = cg_create(cg, spec->share);
	if (err) {
		pr_warn("fe %u: cgroup %s: %s\n", id, cg, strerror(-err));
		goto undo;
	}
	dv.ifindex = fe.dev;
	fe.flags = XVR_FE_ACTIVE;
	if (bpf_map_update_elem(n->tx_ports_fd, &fe.dev, &dv, BPF_ANY) ||
	    bpf_map_update_elem(n->fe_by_dev_fd, &fe.dev, &id, BPF_ANY) ||
	    bpf_map_update_elem(n->fes_fd, &id, &fe, BPF_ANY)) {
		err = -errno;
		goto undo;
	}
	err = egress_attach(n, fe.dev);
	if (err) {
		pr_warn("fe %u: attach xvr_egress to %s: %s\n", id, dev, strerror(-err));
		goto undo;
	}
	/* What the engine floods onto a multipoint link leaves from there. */
	err = link_flood_attach(n, fe.dev, false);
	if (err) {
		pr_warn("fe %u: attach flooding at tc ingress of %s: %s\n", id, dev,
			strerror(-err));
		goto undo;
	}
	/* Ingress only picks it once its heartbeat starts. */
	err = fe_set_rebuild(n, spec->vr_id, -1);
	if (err)
		goto undo;
	*out_id = id;
	return 0;
undo:
	/* fe_destroy undoes whatever exists of it, by name and id. */
	fe.flags = XVR_FE_ACTIVE;
	fe.vr_id = spec->vr_id;
	bpf_map_update_elem(n->fes_fd, &id, &fe, BPF_ANY);
	fe_destroy(n, id);
	return err;
}

int fe_destroy(struct xvr_node *n, __u32 id)
{
	char pin[PATH_MAX], dev[IF_NAMESIZE], cg[128], leaf[64];
	struct xvr_fe fe, zero = {};
	static const char *const leaves[] = { "xsk_link", "xsks", "state" };
	struct xvr_router r;
	int err;

	err = fe_get(n, id, &fe);
	if (err)
		return err;
	/* Out of the router's set first, so ingress stops sending to it. */
	bpf_map_update_elem(n->fes_fd, &id, &zero, BPF_ANY);
	fe_set_rebuild(n, fe.vr_id, -1);
	bpf_map_delete_elem(n->fe_by_dev_fd, &fe.dev);
	bpf_map_delete_elem(n->tx_ports_fd, &fe.dev);
	bpf_map_delete_elem(n->fe_state_fd, &id);
	snprintf(leaf, sizeof(leaf), "vif_links/%u", fe.dev);
	xvr_node_path(pin, sizeof(pin), n->name, leaf);
	unlink(pin);
	for (size_t i = 0; i < ARRAY_SIZE(leaves); i++) {
		fe_pin(pin, sizeof(pin), n->name, id, leaves[i]);
		unlink(pin);
	}
	fe_pin(pin, sizeof(pin), n->name, id, NULL);
	rmdir(pin);
	/* Not router_get: a router being removed is inactive, its name still there. */
	if (!bpf_map_lookup_elem(n->routers_fd, &fe.vr_id, &r) && r.name[0]) {
		fe_cgroup(cg, sizeof(cg), n->name, r.name, id);
		cg_remove(cg);
	}
	dev_name(dev, sizeof(dev), n->name, fe.vr_id, id);
	return veth_del(dev);
}

int fe_state_read(struct xvr_node *n, __u32 id, struct xvr_fe_state *out)
{
	__u32 inner_id, zero = 0;
	int fd, err = 0;

	memset(out, 0, sizeof(*out));
	if (bpf_map_lookup_elem(n->fe_state_fd, &id, &inner_id))
		return -errno;
	fd = bpf_map_get_fd_by_id(inner_id);
	if (fd < 0)
		return -errno;
	if (bpf_map_lookup_elem(fd, &zero, out))
		err = -errno;
	close(fd);
	return err;
}

long fe_heartbeat_age_ms(const struct xvr_fe_state *st)
{
	struct timespec ts;
	__u64 now;

	if (!st->heartbeat_ns)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
	return now > st->heartbeat_ns ? (long)((now - st->heartbeat_ns) / 1000000) : 0;
}

int fe_cpu_free(struct xvr_node *n, unsigned int *free, int ncpus)
{
	struct xvr_fe fe;

	for (int c = 0; c < ncpus; c++)
		free[c] = 100;
	for (__u32 id = 1; id < XVR_MAX_FES; id++) {
		unsigned int use;

		if (fe_get(n, id, &fe) || fe.cpu < 0 || fe.cpu >= ncpus)
			continue;
		use = fe.share ? fe.share : 100;
		free[fe.cpu] = free[fe.cpu] > use ? free[fe.cpu] - use : 0;
	}
	return 0;
}

/* The engine's own state map, by its pin; -errno. */
static int state_pin_open(const char *node, __u32 id)
{
	char pin[PATH_MAX];
	int fd;

	fe_pin(pin, sizeof(pin), node, id, "state");
	fd = bpf_obj_get(pin);
	return fd < 0 ? -errno : fd;
}

enum supervise_health fe_health(const char *node, __u32 id, __u32 dev, long started_ms)
{
	struct xvr_fe_state st = {};
	struct xvr_fe fe = {};
	char path[PATH_MAX];
	__u32 zero = 0;
	long beat_ms, now = supervise_now_ms();
	int fd, err;

	/* Only "no such pin or entry" is gone; any other failure says nothing. */
	xvr_node_path(path, sizeof(path), node, "fes");
	fd = bpf_obj_get(path);
	if (fd < 0)
		return errno == ENOENT ? SUPERVISE_GONE : SUPERVISE_OK;
	err = bpf_map_lookup_elem(fd, &id, &fe) ? -errno : 0;
	close(fd);
	if (err)
		return SUPERVISE_OK;
	if (!(fe.flags & XVR_FE_ACTIVE) || fe.dev != dev)
		return SUPERVISE_GONE;
	fd = state_pin_open(node, id);
	if (fd < 0)
		return fd == -ENOENT ? SUPERVISE_GONE : SUPERVISE_OK;
	err = bpf_map_lookup_elem(fd, &zero, &st) ? -errno : 0;
	close(fd);
	if (err)
		return SUPERVISE_OK;
	/* A beat from before this run (its predecessor's) does not count. */
	beat_ms = (long)(st.heartbeat_ns / 1000000);
	if (st.heartbeat_ns && beat_ms >= started_ms)
		return now - beat_ms > FE_HUNG_MS ? SUPERVISE_HUNG : SUPERVISE_OK;
	return now - started_ms > FE_START_GRACE_MS ? SUPERVISE_HUNG : SUPERVISE_OK;
}

void fe_restarts_set(const char *node, __u32 id, unsigned long restarts)
{
	size_t len = (sizeof(struct xvr_fe_state) + getpagesize() - 1) & ~((size_t)getpagesize() - 1);
	struct xvr_fe_state *st;
	int fd = state_pin_open(node, id);

	if (fd < 0)
		return;
	/* In place, this field alone: the engine writes the others. */
	st = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (st == MAP_FAILED)
		return;
	__atomic_store_n(&st->restarts, restarts, __ATOMIC_RELAXED);
	munmap(st, len);
}
