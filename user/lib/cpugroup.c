// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Core binding. A bound router's frames are classified on the CPU that
 * received them and handed through a cpumap to one of the router's CPUs,
 * where xvr_cpumap runs the router's path. No cpumap queue may be shared by
 * two routers with different sets, so there is one cpumap per distinct set
 * (a group, xvr_cpu_groups[g]); routers with the same set share it. The
 * reference count is the routers whose entry names the group: read from
 * xvr_routers, never stored, so a killed command cannot leave it wrong.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "common.h"
#include "cpugroup.h"
#include "objects.h"

__u64 cpus_online(void)
{
	char buf[256];
	__u64 mask = 0;
	FILE *f = fopen("/sys/devices/system/cpu/online", "r");
	char *p, *tok, *save = NULL;

	if (!f)
		return 1;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	buf[strcspn(buf, "\n")] = 0;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		unsigned long a, b;

		a = strtoul(tok, &p, 10);
		b = *p == '-' ? strtoul(p + 1, NULL, 10) : a;
		for (unsigned long c = a; c <= b && c < XVR_MAX_BOUND_CPUS; c++)
			mask |= 1ull << c;
	}
	return mask;
}

static int cpu_num(const char *s, const char *end, unsigned long *v)
{
	char *p;

	if (s == end || *s < '0' || *s > '9' || end - s > 5)
		return -EINVAL;
	*v = strtoul(s, &p, 10);
	return p == end ? 0 : -EINVAL;
}

int cpu_list_parse(const char *s, __u64 *mask, const char **bad)
{
	static char tok[64];
	__u64 online = cpus_online(), m = 0;
	const char *p = s;

	*bad = s;
	if (!strcmp(s, "any")) {
		*mask = 0;
		return 0;
	}
	if (!*s)
		return -EINVAL;
	while (*p) {
		const char *end = strchr(p, ','), *dash;
		unsigned long a, b;

		if (!end)
			end = p + strlen(p);
		snprintf(tok, sizeof(tok), "%.*s", (int)(end - p), p);
		*bad = tok;
		dash = memchr(p, '-', end - p);
		if (dash ? cpu_num(p, dash, &a) || cpu_num(dash + 1, end, &b) :
			   cpu_num(p, end, &a))
			return -EINVAL;
		if (!dash)
			b = a;
		if (b < a)
			return -EINVAL;
		for (unsigned long c = a; c <= b; c++) {
			if (c >= XVR_MAX_BOUND_CPUS || !(online & (1ull << c))) {
				snprintf(tok, sizeof(tok), "%lu", c);
				return -ENODEV;
			}
			m |= 1ull << c;
		}
		p = *end ? end + 1 : end;
		if (*end && !*p) {
			*bad = s;	/* a trailing comma */
			return -EINVAL;
		}
	}
	*mask = m;
	return 0;
}

const char *cpu_list_format(__u64 mask, char *buf, size_t len)
{
	size_t off = 0;

	if (!mask) {
		snprintf(buf, len, "any");
		return buf;
	}
	buf[0] = 0;
	for (int c = 0; c < XVR_MAX_BOUND_CPUS && off < len; c++) {
		int e = c;

		if (!(mask & (1ull << c)))
			continue;
		while (e + 1 < XVR_MAX_BOUND_CPUS && (mask & (1ull << (e + 1))))
			e++;
		off += snprintf(buf + off, len - off, e > c ? "%s%d-%d" : "%s%d", off ? "," : "",
				c, e);
		c = e;
	}
	return buf;
}

/* The group of the routers other than id bound to mask, 0 if none; refs[] counts per group. */
static __u32 groups_scan(struct xvr_node *n, __u32 id, __u64 mask, int refs[XVR_MAX_CPU_GROUPS])
{
	struct xvr_router r;
	__u32 same = 0;

	memset(refs, 0, sizeof(int) * XVR_MAX_CPU_GROUPS);
	for (__u32 i = 1; i < XVR_MAX_ROUTERS; i++) {
		if (bpf_map_lookup_elem(n->routers_fd, &i, &r) || !r.cpu_group ||
		    r.cpu_group >= XVR_MAX_CPU_GROUPS || i == id)
			continue;
		refs[r.cpu_group]++;
		if (mask && (r.flags & XVR_ROUTER_ACTIVE) && cpu_bound(n, i) == mask)
			same = r.cpu_group;
	}
	return same;
}

static bool group_exists(struct xvr_node *n, __u32 g)
{
	__u32 inner_id;

	return !bpf_map_lookup_elem(n->cpu_groups_fd, &g, &inner_id);
}

static int prog_cpumap_fd(struct xvr_node *n)
{
	char path[PATH_MAX];
	int fd;

	xvr_node_path(path, sizeof(path), n->name, XVR_CPUMAP_PIN);
	fd = bpf_obj_get(path);
	return fd < 0 ? -errno : fd;
}

/* Every CPU of mask in the cpumap map_fd, running prog_fd. */
static int group_fill(int map_fd, __u64 mask, int prog_fd)
{
	struct bpf_cpumap_val val = { .qsize = XVR_CPUMAP_QSIZE, .bpf_prog.fd = prog_fd };

	for (__u32 c = 0; c < XVR_MAX_BOUND_CPUS; c++)
		if ((mask & (1ull << c)) && bpf_map_update_elem(map_fd, &c, &val, BPF_ANY))
			return -errno;
	return 0;
}

static int group_create(struct xvr_node *n, __u64 mask, const int refs[], __u32 *out)
{
	struct xvr_cpu_set set = {};
	int map_fd = -1, prog_fd, err;
	__u32 g;

	for (g = 1; g < XVR_MAX_CPU_GROUPS; g++)
		if (!refs[g] && !group_exists(n, g))
			break;
	if (g == XVR_MAX_CPU_GROUPS)
		return -ENOSPC;
	prog_fd = prog_cpumap_fd(n);
	if (prog_fd < 0)
		return prog_fd;
	map_fd = bpf_map_create(BPF_MAP_TYPE_CPUMAP, "xvr_cpumap", sizeof(__u32),
				sizeof(struct bpf_cpumap_val), XVR_MAX_BOUND_CPUS, NULL);
	if (map_fd < 0) {
		err = -errno;
		goto out;
	}
	err = group_fill(map_fd, mask, prog_fd);
	if (err)
		goto out;
	for (__u32 c = 0; c < XVR_MAX_BOUND_CPUS; c++)
		if (mask & (1ull << c))
			set.cpus[set.count++] = c;
	/* The set first: ingress reads it only once the group's map is there. */
	if (bpf_map_update_elem(n->cpu_sets_fd, &g, &set, BPF_ANY) ||
	    bpf_map_update_elem(n->cpu_groups_fd, &g, &map_fd, BPF_ANY)) {
		err = -errno;
		goto out;
	}
	*out = g;
out:
	if (map_fd >= 0)
		close(map_fd);
	close(prog_fd);
	return err;
}

static void group_free(struct xvr_node *n, __u32 g)
{
	struct xvr_cpu_set zero = {};

	bpf_map_delete_elem(n->cpu_groups_fd, &g);
	bpf_map_update_elem(n->cpu_sets_fd, &g, &zero, BPF_ANY);
}

__u64 cpu_bound(struct xvr_node *n, __u32 id)
{
	struct xvr_router_book b;

	return bpf_map_lookup_elem(n->router_book_fd, &id, &b) ? 0 : b.cpus;
}

static int cpu_bound_set(struct xvr_node *n, __u32 id, __u64 mask)
{
	struct xvr_router_book b;

	if (bpf_map_lookup_elem(n->router_book_fd, &id, &b))
		return -errno;
	b.cpus = mask;
	return bpf_map_update_elem(n->router_book_fd, &id, &b, BPF_EXIST) ? -errno : 0;
}

int cpu_bind(struct xvr_node *n, __u32 id, __u64 mask)
{
	int refs[XVR_MAX_CPU_GROUPS];
	struct xvr_router r;
	__u32 g = 0, old;
	int err;

	if (bpf_map_lookup_elem(n->routers_fd, &id, &r))
		return -errno;
	old = r.cpu_group < XVR_MAX_CPU_GROUPS ? r.cpu_group : 0;
	if (cpu_bound(n, id) == mask && (!mask || group_exists(n, old)))
		return 0;
	g = groups_scan(n, id, mask, refs);
	if (mask && !g) {
		/* A new group beside the old one: the router moves in one update. */
		err = group_create(n, mask, refs, &g);
		if (err)
			return err;
		xvr_die_at("router-set:cpus-group");
	}
	r.cpu_group = g;
	if (bpf_map_update_elem(n->routers_fd, &id, &r, BPF_ANY)) {
		err = -errno;
		if (g && !refs[g])
			group_free(n, g);
		return err;
	}
	xvr_die_at("router-set:cpus");
	/*
	 * The set is recorded after the router moved: killed in between, the
	 * same 'router set cpus' finds the record differing and binds again.
	 */
	err = cpu_bound_set(n, id, mask);
	if (err)
		return err;
	if (old && old != g && !refs[old])
		group_free(n, old);
	return 0;
}

int cpu_groups_reprog(struct xvr_node *n, int prog_fd)
{
	struct xvr_cpu_set set;
	int err = 0;

	for (__u32 g = 1; g < XVR_MAX_CPU_GROUPS; g++) {
		__u32 inner_id;
		__u64 mask = 0;
		int fd;

		if (bpf_map_lookup_elem(n->cpu_groups_fd, &g, &inner_id) ||
		    bpf_map_lookup_elem(n->cpu_sets_fd, &g, &set))
			continue;
		fd = bpf_map_get_fd_by_id(inner_id);
		if (fd < 0) {
			err = -errno;
			continue;
		}
		for (__u32 i = 0; i < set.count && i < XVR_MAX_BOUND_CPUS; i++)
			mask |= 1ull << set.cpus[i];
		err = group_fill(fd, mask, prog_fd) ?: err;
		close(fd);
	}
	return err;
}

int cpu_groups_gc(struct xvr_node *n)
{
	int refs[XVR_MAX_CPU_GROUPS], cnt = 0;

	groups_scan(n, 0, 0, refs);
	for (__u32 g = 1; g < XVR_MAX_CPU_GROUPS; g++)
		if (!refs[g] && group_exists(n, g)) {
			group_free(n, g);
			cnt++;
		}
	return cnt;
}

int cpu_counters_read(struct xvr_node *n, __u32 id, struct xvr_cpu_counters *per, int ncpu)
{
	if (ncpu != libbpf_num_possible_cpus())
		return -EINVAL;
	return bpf_map_lookup_elem(n->cpu_stats_fd, &id, per) ? -errno : 0;
}

int cpu_counters_zero(struct xvr_node *n, __u32 id)
{
	return percpu_zero(n->cpu_stats_fd, id, sizeof(struct xvr_cpu_counters));
}

__u64 cpu_handoff_lost(struct xvr_node *n, __u32 id)
{
	int ncpu = libbpf_num_possible_cpus();
	struct xvr_cpu_counters *per;
	__u64 steered = 0, arrived = 0;

	if (ncpu <= 0)
		return 0;
	per = calloc(ncpu, sizeof(*per));
	if (!per)
		return 0;
	if (!cpu_counters_read(n, id, per, ncpu))
		for (int c = 0; c < ncpu; c++) {
			steered += per[c].steered_packets;
			arrived += per[c].arrived_packets;
		}
	free(per);
	return steered > arrived ? steered - arrived : 0;
}
