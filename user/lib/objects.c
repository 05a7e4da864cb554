// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "cls4.h"
#include "common.h"
#include "objects.h"

static const char *const mode_names[] = {
	[XVR_MODE_NONE] = "none",
	[XVR_MODE_XDP] = "xdp",
	[XVR_MODE_NETNS] = "netns",
	[XVR_MODE_AFXDP] = "afxdp",
	[XVR_MODE_CPU] = "cpu",
};

const char *mode_name(__u32 mode)
{
	return mode < ARRAY_SIZE(mode_names) ? mode_names[mode] : "?";
}

int mode_parse(const char *s, __u32 *mode)
{
	for (__u32 i = 1; i < ARRAY_SIZE(mode_names); i++)
		if (!strcmp(s, mode_names[i])) {
			*mode = i;
			return 0;
		}
	return -EINVAL;
}

bool router_name_ok(const char *name)
{
	return name_ok(name, XVR_NAME_LEN - 1);
}

int router_get(struct xvr_node *n, __u32 id, struct xvr_router *out)
{
	if (!id || id >= XVR_MAX_ROUTERS)
		return -ENOENT;
	if (bpf_map_lookup_elem(n->routers_fd, &id, out))
		return -errno;
	return out->flags & XVR_ROUTER_ACTIVE ? 0 : -ENOENT;
}

int router_find(struct xvr_node *n, const char *name, __u32 *id, struct xvr_router *out)
{
	static struct xvr_router tbl[XVR_MAX_ROUTERS];
	__u32 keys[XVR_MAX_ROUTERS], count = XVR_MAX_ROUTERS, batch;
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	int err;

	/* One batch read instead of a syscall per slot. */
	err = bpf_map_lookup_batch(n->routers_fd, NULL, &batch, keys, tbl, &count, &opts);
	if (err && errno != ENOENT)
		return -errno;
	for (__u32 i = 0; i < count; i++) {
		if (!(tbl[i].flags & XVR_ROUTER_ACTIVE) || !keys[i])
			continue;
		if (!strncmp(tbl[i].name, name, XVR_NAME_LEN)) {
			*id = keys[i];
			if (out)
				*out = tbl[i];
			return 0;
		}
	}
	return -ENOENT;
}

int port_get(struct xvr_node *n, __u32 ifindex, struct xvr_port *out)
{
	if (bpf_map_lookup_elem(n->ports_fd, &ifindex, out))
		return -errno;
	return 0;
}

/* Index entry idx rewritten to e, its ifindex last (xvr.h: its port changes only unpublished). */
static int port_index_write(struct xvr_node *n, __u32 idx, const struct xvr_port_ent *have,
			    const struct xvr_port_ent *e)
{
	struct xvr_port_ent tmp = *have;

	if (have->ifindex) {
		tmp.ifindex = 0;
		if (bpf_map_update_elem(n->port_idx_fd, &idx, &tmp, BPF_ANY))
			return -errno;
	}
	tmp = *e;
	tmp.ifindex = 0;
	if (bpf_map_update_elem(n->port_idx_fd, &idx, &tmp, BPF_ANY) ||
	    (e->ifindex && bpf_map_update_elem(n->port_idx_fd, &idx, e, BPF_ANY)))
		return -errno;
	return 0;
}

void port_index_unpublish(struct xvr_node *n, __u32 ifindex)
{
	__u32 idx = ifindex % XVR_PORT_IDX;
	struct xvr_port_ent e;

	if (!bpf_map_lookup_elem(n->port_idx_fd, &idx, &e) && e.ifindex == ifindex) {
		e.ifindex = 0;
		bpf_map_update_elem(n->port_idx_fd, &idx, &e, BPF_ANY);
	}
}

int ports_index_sync(struct xvr_node *n)
{
	struct xvr_port_ent *have, *want;
	__u32 key, next, *prev = NULL;
	int changed = 0, err = 0;

	have = calloc(XVR_PORT_IDX, sizeof(*have));
	want = calloc(XVR_PORT_IDX, sizeof(*want));
	if (!have || !want) {
		err = -ENOMEM;
		goto out;
	}
	for (__u32 i = 0; i < XVR_PORT_IDX; i++)
		if (bpf_map_lookup_elem(n->port_idx_fd, &i, &have[i])) {
			err = -errno;
			goto out;
		}
	/* Each index: the port already there if it still maps to it, else the lowest ifindex. */
	while (!bpf_map_get_next_key(n->ports_fd, prev, &next)) {
		__u32 i = next % XVR_PORT_IDX;
		struct xvr_port port;

		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(n->ports_fd, &key, &port))
			continue;
		if (want[i].ifindex && want[i].ifindex == have[i].ifindex)
			continue;
		if (!want[i].ifindex || key == have[i].ifindex || key < want[i].ifindex) {
			memset(&want[i], 0, sizeof(want[i]));
			want[i].ifindex = key;
			want[i].port = port;
		}
	}
	for (__u32 i = 0; i < XVR_PORT_IDX && !err; i++) {
		if (!memcmp(&have[i], &want[i], sizeof(want[i])))
			continue;
		err = port_index_write(n, i, &have[i], &want[i]);
		changed++;
	}
out:
	free(have);
	free(want);
	return err ?: changed;
}

static void nexthop_split(const struct nexthop *nh, struct xvr_nexthop *dp,
			  struct xvr_nh_book *book)
{
	memset(dp, 0, sizeof(*dp));
	memset(book, 0, sizeof(*book));
	dp->ifindex = nh->ifindex;
	dp->vr_id = nh->vr_id;
	dp->flags = nh->flags;
	memcpy(dp->dmac, nh->dmac, sizeof(dp->dmac));
	memcpy(dp->smac, nh->smac, sizeof(dp->smac));
	dp->vlan = nh->vlan;
	book->refcnt = nh->refcnt;
	book->family = nh->family;
	memcpy(book->gw, nh->gw, sizeof(book->gw));
}

static void nexthop_join(const struct xvr_nexthop *dp, const struct xvr_nh_book *book,
			 struct nexthop *nh)
{
	memset(nh, 0, sizeof(*nh));
	nh->ifindex = dp->ifindex;
	nh->vr_id = dp->vr_id;
	nh->flags = dp->flags;
	memcpy(nh->dmac, dp->dmac, sizeof(nh->dmac));
	memcpy(nh->smac, dp->smac, sizeof(nh->smac));
	nh->vlan = dp->vlan;
	nh->refcnt = book->refcnt;
	nh->family = book->family;
	memcpy(nh->gw, book->gw, sizeof(nh->gw));
}

int nexthop_load(struct xvr_node *n, __u32 id, struct nexthop *out)
{
	struct xvr_nh_book book;
	struct xvr_nexthop dp;

	if (!id || id >= XVR_MAX_NEXTHOPS)
		return -EINVAL;
	if (bpf_map_lookup_elem(n->nexthops_fd, &id, &dp) ||
	    bpf_map_lookup_elem(n->nh_book_fd, &id, &book))
		return -errno;
	nexthop_join(&dp, &book, out);
	return 0;
}

static int nexthop_store_dp(struct xvr_node *n, __u32 id, const struct xvr_nexthop *dp)
{
	struct xvr_nexthop cur;

	if (!bpf_map_lookup_elem(n->nexthops_fd, &id, &cur) && !memcmp(&cur, dp, sizeof(cur)))
		return 0;
	return bpf_map_update_elem(n->nexthops_fd, &id, dp, BPF_ANY) ? -errno : 0;
}

int nexthop_store(struct xvr_node *n, __u32 id, const struct nexthop *nh)
{
	struct xvr_nh_book book;
	struct xvr_nexthop dp;
	int err;

	if (!id || id >= XVR_MAX_NEXTHOPS)
		return -EINVAL;
	nexthop_split(nh, &dp, &book);
	if (!(dp.flags & XVR_NH_VALID)) {
		err = nexthop_store_dp(n, id, &dp);
		if (err)
			return err;
	}
	if (bpf_map_update_elem(n->nh_book_fd, &id, &book, BPF_ANY))
		return -errno;
	if (dp.flags & XVR_NH_VALID)
		return nexthop_store_dp(n, id, &dp);
	return 0;
}

/* One batch read of an array map of XVR_MAX_NEXTHOPS entries into vals[id]. */
static int nexthop_map_read(int fd, void *vals, size_t vsz)
{
	__u32 *keys = calloc(XVR_MAX_NEXTHOPS, sizeof(*keys));
	__u32 count = XVR_MAX_NEXTHOPS, batch;
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	char *buf = calloc(XVR_MAX_NEXTHOPS, vsz);
	int err = 0;

	if (!keys || !buf) {
		err = -ENOMEM;
		goto out;
	}
	if (bpf_map_lookup_batch(fd, NULL, &batch, keys, buf, &count, &opts) && errno != ENOENT) {
		err = -errno;
		goto out;
	}
	for (__u32 i = 0; i < count; i++)
		if (keys[i] < XVR_MAX_NEXTHOPS)
			memcpy((char *)vals + keys[i] * vsz, buf + i * vsz, vsz);
out:
	free(keys);
	free(buf);
	return err;
}

int nexthops_read(struct xvr_node *n, struct nexthop **out)
{
	struct xvr_nexthop *dp = calloc(XVR_MAX_NEXTHOPS, sizeof(*dp));
	struct xvr_nh_book *book = calloc(XVR_MAX_NEXTHOPS, sizeof(*book));
	struct nexthop *tbl = calloc(XVR_MAX_NEXTHOPS, sizeof(*tbl));
	int err = 0;

	if (!dp || !book || !tbl) {
		err = -ENOMEM;
		goto out;
	}
	err = nexthop_map_read(n->nexthops_fd, dp, sizeof(*dp));
	if (!err)
		err = nexthop_map_read(n->nh_book_fd, book, sizeof(*book));
	if (err)
		goto out;
	for (__u32 i = 0; i < XVR_MAX_NEXTHOPS; i++)
		nexthop_join(&dp[i], &book[i], &tbl[i]);
	*out = tbl;
	tbl = NULL;
out:
	free(dp);
	free(book);
	free(tbl);
	return err;
}

static bool nexthop_same(const struct nexthop *a, const struct nexthop *b)
{
	/* A group is its member list, which this struct does not hold. */
	if ((a->flags | b->flags) & XVR_NH_GROUP)
		return false;
	return a->vr_id == b->vr_id && a->ifindex == b->ifindex &&
	       (a->flags & ~XVR_NH_VALID) == (b->flags & ~XVR_NH_VALID) &&
	       a->vlan == b->vlan && a->family == b->family &&
	       !memcmp(a->dmac, b->dmac, 6) && !memcmp(a->smac, b->smac, 6) &&
	       !memcmp(a->gw, b->gw, 16);
}

__u32 nexthop_match(const struct nexthop *tbl, const struct nexthop *want)
{
	for (__u32 i = 1; i < XVR_MAX_NEXTHOPS; i++)
		if ((tbl[i].flags & XVR_NH_VALID) && nexthop_same(&tbl[i], want))
			return i;
	return 0;
}

static __u32 nexthop_free_slot(const struct nexthop *tbl, __u32 from)
{
	for (__u32 i = from ? from : 1; i < XVR_MAX_NEXTHOPS; i++)
		if (!(tbl[i].flags & XVR_NH_VALID))
			return i;
	return 0;
}

__u32 nexthop_take(struct nexthop *tbl, __u32 *next, __u32 vr_id)
{
	__u32 id = nexthop_free_slot(tbl, *next);

	if (!id)
		id = nexthop_free_slot(tbl, 1);
	if (!id)
		return 0;
	memset(&tbl[id], 0, sizeof(tbl[id]));
	tbl[id].flags = XVR_NH_VALID;
	tbl[id].vr_id = vr_id;
	*next = id + 1;
	return id;
}

int nexthop_ref(struct xvr_node *n, __u32 id, int delta)
{
	struct nexthop nh;
	int err;

	err = nexthop_load(n, id, &nh);
	if (err)
		return err;
	if (!(nh.flags & XVR_NH_VALID))
		return -ENOENT;
	if (delta < 0 && nh.refcnt < (__u32)-delta)
		nh.refcnt = 0;
	else
		nh.refcnt += delta;
	/* Unreferenced: no FIB entry points here any more, so clear it. */
	if (!nh.refcnt)
		memset(&nh, 0, sizeof(nh));
	return nexthop_store(n, id, &nh);
}

/* Copies each port's default rule into its xvr_ports entry, where ingress reads it. */
static int ports_sync_defaults(struct xvr_node *n)
{
	__u32 key, next, *prev = NULL;
	int err = 0, sync, changed = 0;

	while (!bpf_map_get_next_key(n->ports_fd, prev, &next)) {
		struct xvr_cls_key ck = { .ifindex = next, .kind = XVR_RULE_DEFAULT };
		struct xvr_cls_val val = {};
		struct xvr_port port;

		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(n->ports_fd, &key, &port))
			continue;
		bpf_map_lookup_elem(n->classify_fd, &ck, &val);
		if (port.default_vr == val.vr_id && port.default_vif == val.vif)
			continue;
		port.default_vr = val.vr_id;
		port.default_vif = val.vif;
		port_index_unpublish(n, key);
		if (bpf_map_update_elem(n->ports_fd, &key, &port, BPF_EXIST))
			err = -errno;
		changed++;
		xvr_die_at("port-default:unpublished");
	}
	/* Every classifier command comes here; the index moves only with a default. */
	sync = changed ? ports_index_sync(n) : 0;
	return err ?: (sync < 0 ? sync : 0);
}

int rules_refresh(struct xvr_node *n, int *changed)
{
	struct xvr_cls_key key, next, *prev = NULL;
	struct xvr_cls_prefix_key pkey;
	struct cls4_index ix;
	struct xvr_config cfg;
	__u32 zero = 0, kinds = 0;
	int err;

	while (!bpf_map_get_next_key(n->classify_fd, prev, &next)) {
		if (next.kind < XVR_RULE_KIND_MAX)
			kinds |= 1u << next.kind;
		key = next;
		prev = &key;
	}
	if (!bpf_map_get_next_key(n->cls_prefix_fd, NULL, &pkey))
		kinds |= 1u << XVR_RULE_PREFIX;
	if (bpf_map_lookup_elem(n->config_fd, &zero, &cfg))
		return -errno;
	cfg.rule_kinds = kinds;
	xvr_die_at("rules:prefix4");
	err = cls4_stage(n, &cfg, &ix);
	if (!err && bpf_map_update_elem(n->config_fd, &zero, &cfg, BPF_ANY))
		err = -errno;
	if (!err)
		err = cls4_prune(n, &ix);
	if (changed)
		*changed = ix.changed;
	cls4_index_free(&ix);
	return err ?: ports_sync_defaults(n);
}

int rules_refresh_kinds(struct xvr_node *n)
{
	return rules_refresh(n, NULL);
}

/* Deleting while iterating restarts the walk; collect first, then delete. */
int rules_flush_router(struct xvr_node *n, __u32 vr_id)
{
	struct xvr_cls_key key, next, *prev = NULL, *del = NULL;
	struct xvr_cls_prefix_key pkey, pnext, *pprev = NULL, *pdel = NULL;
	struct xvr_cls_val val;
	int cnt = 0, ndel = 0, npdel = 0;

	del = calloc(XVR_MAX_RULES, sizeof(*del));
	pdel = calloc(XVR_MAX_PREFIX_RULES, sizeof(*pdel));
	if (!del || !pdel) {
		free(del);
		free(pdel);
		return -ENOMEM;
	}
	while (!bpf_map_get_next_key(n->classify_fd, prev, &next)) {
		if (!bpf_map_lookup_elem(n->classify_fd, &next, &val) && val.vr_id == vr_id &&
		    ndel < XVR_MAX_RULES)
			del[ndel++] = next;
		key = next;
		prev = &key;
	}
	while (!bpf_map_get_next_key(n->cls_prefix_fd, pprev, &pnext)) {
		if (!bpf_map_lookup_elem(n->cls_prefix_fd, &pnext, &val) &&
		    val.vr_id == vr_id && npdel < XVR_MAX_PREFIX_RULES)
			pdel[npdel++] = pnext;
		pkey = pnext;
		pprev = &pkey;
	}
	for (int i = 0; i < ndel; i++)
		cnt += !bpf_map_delete_elem(n->classify_fd, &del[i]);
	for (int i = 0; i < npdel; i++)
		cnt += !bpf_map_delete_elem(n->cls_prefix_fd, &pdel[i]);
	free(del);
	free(pdel);
	rules_refresh_kinds(n);
	return cnt;
}

int counters_read(int map_fd, __u32 key, struct xvr_counters *sum)
{
	int ncpu = libbpf_num_possible_cpus();
	struct xvr_counters *per;
	__u64 *s = (__u64 *)sum;

	if (ncpu < 0)
		return ncpu;
	per = calloc(ncpu, sizeof(*per));
	if (!per)
		return -ENOMEM;
	if (bpf_map_lookup_elem(map_fd, &key, per)) {
		free(per);
		return -errno;
	}
	memset(sum, 0, sizeof(*sum));
	for (int c = 0; c < ncpu; c++) {
		__u64 *v = (__u64 *)&per[c];

		for (size_t i = 0; i < sizeof(*sum) / sizeof(__u64); i++)
			s[i] += v[i];
	}
	free(per);
	return 0;
}

int percpu_zero(int map_fd, __u32 key, size_t value_size)
{
	int ncpu = libbpf_num_possible_cpus();
	void *per;
	int err = 0;

	if (ncpu < 0)
		return ncpu;
	per = calloc(ncpu, value_size);
	if (!per)
		return -ENOMEM;
	if (bpf_map_update_elem(map_fd, &key, per, BPF_ANY))
		err = -errno;
	free(per);
	return err;
}

int counters_zero(int map_fd, __u32 key)
{
	return percpu_zero(map_fd, key, sizeof(struct xvr_counters));
}

static const char *const drop_names[XVR_DROP_MAX] = {
	[XVR_DROP_UNSPEC] = "unspec",
	[XVR_DROP_BAD_L2] = "bad-l2",
	[XVR_DROP_VLAN_DEPTH] = "vlan-depth",
	[XVR_DROP_BAD_IP] = "bad-ip",
	[XVR_DROP_BAD_CSUM] = "bad-csum",
	[XVR_DROP_MISS_POLICY] = "miss-policy",
	[XVR_DROP_ROUTER_DOWN] = "router-down",
	[XVR_DROP_BLACKHOLE] = "blackhole",
	[XVR_DROP_NO_TXPORT] = "no-txport",
	[XVR_DROP_BAD_NEXTHOP] = "bad-nexthop",
	[XVR_DROP_ADJUST] = "adjust",
	[XVR_DROP_MODE] = "mode",
	[XVR_DROP_BAD_L4] = "bad-l4",
	[XVR_DROP_NO_VIF] = "no-vif",
	[XVR_DROP_VIF_DOWN] = "vif-down",
	[XVR_DROP_FE_DOWN] = "fe-down",
	[XVR_DROP_FE_TAG] = "fe-tag",
	[XVR_DROP_FE_BAD_LEN] = "fe-bad-len",
	[XVR_DROP_EGR_VLAN] = "egress-vlan",
	[XVR_DROP_EGR_SRC_MAC] = "egress-src-mac",
	[XVR_DROP_POLICED] = "policed",
	[XVR_DROP_SHED] = "shed",
	[XVR_DROP_PUNT_POLICED] = "punt-policed",
	[XVR_DROP_GRE_KEY] = "gre-key",
	[XVR_DROP_GRE_REMOTE] = "gre-remote",
	[XVR_DROP_GRE_FLAGS] = "gre-flags",
	[XVR_DROP_GRE_PROTO] = "gre-proto",
	[XVR_DROP_GRE_TRUNC] = "gre-trunc",
	[XVR_DROP_LINK_NEIGH] = "link-neigh",
	[XVR_DROP_LINK_DOWN] = "link-down",
	[XVR_DROP_MARTIAN] = "martian",
	[XVR_DROP_TX_MTU] = "tx-mtu",
	[XVR_DROP_CPU_HANDOFF] = "cpu-handoff",
};

static const char *const punt_names[XVR_PUNT_MAX] = {
	[XVR_PUNT_UNSPEC] = "unspec",
	[XVR_PUNT_NON_IP] = "non-ip",
	[XVR_PUNT_TTL] = "ttl",
	[XVR_PUNT_NO_ROUTE] = "no-route",
	[XVR_PUNT_UNRESOLVED] = "unresolved",
	[XVR_PUNT_LOCAL] = "local",
	[XVR_PUNT_IP_OPTIONS] = "ip-options",
	[XVR_PUNT_MCAST] = "mcast",
	[XVR_PUNT_MTU] = "mtu",
	[XVR_PUNT_LINK_MTU] = "link-mtu",
};

const char *drop_reason_name(unsigned int reason)
{
	return reason < XVR_DROP_MAX && drop_names[reason] ? drop_names[reason] : NULL;
}

const char *punt_reason_name(unsigned int reason)
{
	return reason < XVR_PUNT_MAX && punt_names[reason] ? punt_names[reason] : NULL;
}
