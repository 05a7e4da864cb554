// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * xvr node repair: brings a node back to a consistent state after a command
 * was killed half way. The pinned maps are the record: an object is live
 * when its slot is active, and anything that names a slot that is not
 * (VIFs, engines, rules, nexthops, FIB tables of a router that is no longer
 * or not yet active; a namespace or veth no slot names) is what a killed
 * command left behind. Runs under the node lock; reports each thing it fixes.
 */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/stat.h>
#include <net/if.h>
#include <linux/net_namespace.h>
#include <linux/rtnetlink.h>
#include <bpf/bpf.h>
#include "xvr.h"
#include "cpugroup.h"
#include "fe.h"
#include "fib.h"
#include "fibsync.h"
#include "netns.h"
#include "nl.h"
#include "veth.h"
#include "vif.h"
#include "link.h"
#include "bcast.h"
#include "sandbox.h"
#include "cglimits.h"
#include "pidns.h"

static struct xvr_router routers[XVR_MAX_ROUTERS];
static struct xvr_vif vifs[XVR_MAX_VIFS];
static struct xvr_fe fes[XVR_MAX_FES];

/* An array map into tbl[key], in batches rather than a syscall per slot. */
static void array_read(int fd, void *tbl, size_t size, __u32 max)
{
	__u32 *keys = calloc(max, sizeof(*keys)), count = max, batch;
	char *vals = calloc(max, size);
	LIBBPF_OPTS(bpf_map_batch_opts, opts);

	memset(tbl, 0, size * max);
	if (keys && vals &&
	    (!bpf_map_lookup_batch(fd, NULL, &batch, keys, vals, &count, &opts) ||
	     errno == ENOENT))
		for (__u32 i = 0; i < count; i++)
			if (keys[i] < max)
				memcpy((char *)tbl + keys[i] * size, vals + i * size, size);
	free(keys);
	free(vals);
}

static void routers_read(struct xvr_node *n)
{
	array_read(n->routers_fd, routers, sizeof(routers[0]), XVR_MAX_ROUTERS);
	array_read(n->vifs_fd, vifs, sizeof(vifs[0]), XVR_MAX_VIFS);
	array_read(n->fes_fd, fes, sizeof(fes[0]), XVR_MAX_FES);
}

static bool active(__u32 id)
{
	return id && id < XVR_MAX_ROUTERS && (routers[id].flags & XVR_ROUTER_ACTIVE);
}

static bool name_active(const char *name)
{
	for (__u32 id = 1; id < XVR_MAX_ROUTERS; id++)
		if (active(id) && !strncmp(routers[id].name, name, XVR_NAME_LEN))
			return true;
	return false;
}

/* Router slots that something still names, but that are not active. */
static void slots_referenced(struct xvr_node *n, bool *ref)
{
	struct xvr_cls_prefix_key pk, pnext, *pprev = NULL;
	struct xvr_cls_key k, next, *prev = NULL;
	static const struct xvr_router zero;
	struct xvr_cls_val val;

	for (__u32 id = 1; id < XVR_MAX_ROUTERS; id++)
		ref[id] = !active(id) && memcmp(&routers[id], &zero, sizeof(zero));
	/*
	 * Arrays of maps: every index is a key, an empty one fails the lookup.
	 * fib4 is the first table a router gets and the first it loses; while
	 * it has only the others, its slot still holds its name.
	 */
	for (__u32 id = 1; id < XVR_MAX_ROUTERS; id++)
		if (!ref[id] && !active(id))
			ref[id] = fib_router_present(n, id);
	for (__u32 i = 1; i < XVR_MAX_VIFS; i++)
		if ((vifs[i].flags & XVR_VIF_ACTIVE) && vifs[i].vr_id < XVR_MAX_ROUTERS)
			ref[vifs[i].vr_id] = true;
	for (__u32 i = 1; i < XVR_MAX_FES; i++)
		if ((fes[i].flags & XVR_FE_ACTIVE) && fes[i].vr_id < XVR_MAX_ROUTERS)
			ref[fes[i].vr_id] = true;
	/*
	 * Nexthops are not read (65536 of them cost a third of a second): a
	 * router's are flushed before its slot is zeroed, so a slot that
	 * still has any is not zero and was found above.
	 */
	while (!bpf_map_get_next_key(n->classify_fd, prev, &next)) {
		if (!bpf_map_lookup_elem(n->classify_fd, &next, &val) && val.vr_id < XVR_MAX_ROUTERS)
			ref[val.vr_id] = true;
		k = next;
		prev = &k;
	}
	while (!bpf_map_get_next_key(n->cls_prefix_fd, pprev, &pnext)) {
		if (!bpf_map_lookup_elem(n->cls_prefix_fd, &pnext, &val) &&
		    val.vr_id < XVR_MAX_ROUTERS)
			ref[val.vr_id] = true;
		pk = pnext;
		pprev = &pk;
	}
	ref[0] = false;
	for (__u32 id = 1; id < XVR_MAX_ROUTERS; id++)
		if (active(id))
			ref[id] = false;
}

/*
 * What a router of no slot left as a container: its processes, cgroup,
 * network and user namespaces, host id range and state directory.
 */
static void router_remains_del(struct xvr_node *n, const char *name, const char *ns)
{
	pidns_stop(n->name, name);
	netns_kill_procs(ns);
	router_cg_destroy(n->name, name);
	tenant_destroy(n->name, name, ns);
}

static int repair_slots(struct xvr_node *n)
{
	static bool ref[XVR_MAX_ROUTERS];
	struct router_released rel;
	char name[XVR_NAME_LEN + 1], ns[128];
	int fixed = 0, rules;

	slots_referenced(n, ref);
	for (__u32 id = 1; id < XVR_MAX_ROUTERS; id++) {
		if (!ref[id])
			continue;
		snprintf(name, sizeof(name), "%.*s", XVR_NAME_LEN, routers[id].name);
		if (*name && router_name_ok(name)) {
			fibsync_stop(n->name, name);
			fibsync_forget(n->name, name);
		}
		rules = rules_flush_router(n, id);
		router_release(n, id, &rel);
		memset(&routers[id], 0, sizeof(routers[id]));
		pr_warn("node %s: repair: router slot %u%s%s: removed %d rule(s), %d engine(s), "
			"%d VIF(s), %d nexthop(s)%s\n", n->name, id, *name ? " " : "", name,
			rules > 0 ? rules : 0, rel.fes, rel.vifs, rel.nexthops,
			rel.fib ? ", its FIB tables" : "");
		fixed++;
		if (*name && router_name_ok(name) && !name_active(name)) {
			netns_name(ns, sizeof(ns), n->name, name);
			if (netns_exists(ns))
				pr_warn("node %s: repair: removed namespace %s\n", n->name, ns);
			router_remains_del(n, name, ns);
		}
	}
	return fixed;
}

/*
 * Does a namespace or device name with our prefix belong to another node
 * whose name starts with ours ("a" and "a-b" both make "xvr-a-b-…")?
 */
static bool other_node_owns(const char *node, const char *ns)
{
	struct dirent *de;
	DIR *d = opendir(XVR_PIN_BASE);
	bool owned = false;
	char pfx[128];

	if (!d)
		return false;
	while (!owned && (de = readdir(d))) {
		size_t len = strlen(node);

		if (strncmp(de->d_name, node, len) || de->d_name[len] != '-')
			continue;
		snprintf(pfx, sizeof(pfx), "xvr-%s-", de->d_name);
		owned = !strncmp(ns, pfx, strlen(pfx));
	}
	closedir(d);
	return owned;
}

/* Namespaces xvr-NODE-NAME of no active router: a killed add or del. */
static int repair_namespaces(struct xvr_node *n)
{
	char pfx[128], ns[300];
	struct dirent *de;
	DIR *d = opendir("/run/netns");
	int fixed = 0;

	if (!d)
		return 0;
	snprintf(pfx, sizeof(pfx), "xvr-%s-", n->name);
	while ((de = readdir(d))) {
		const char *rname = de->d_name + strlen(pfx);

		if (strncmp(de->d_name, pfx, strlen(pfx)) || !router_name_ok(rname) ||
		    name_active(rname) || other_node_owns(n->name, de->d_name))
			continue;
		snprintf(ns, sizeof(ns), "%s", de->d_name);
		fibsync_stop(n->name, rname);
		fibsync_forget(n->name, rname);
		router_remains_del(n, rname, ns);
		if (!netns_exists(ns)) {
			pr_warn("node %s: repair: removed namespace %s (no router %s)\n", n->name,
				ns, rname);
			fixed++;
		}
	}
	closedir(d);
	return fixed;
}

/*
 * State directories XVR_STATE_DIR/NODE/NAME (with their host id range) of
 * no active router and no namespace: a 'router add' killed before it made
 * the namespace, or a 'router del' after it removed it.
 */
static int repair_tenants(struct xvr_node *n)
{
	char dir[PATH_MAX], ns[128];
	struct dirent *de;
	int fixed = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/%s", XVR_STATE_DIR, n->name);
	d = opendir(dir);
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		struct stat st;
		char sub[PATH_MAX + 256];

		/* Routers' directories only: the node's own files live there too. */
		snprintf(sub, sizeof(sub), "%s/%s", dir, de->d_name);
		if (!router_name_ok(de->d_name) || name_active(de->d_name) || lstat(sub, &st) ||
		    !S_ISDIR(st.st_mode))
			continue;
		netns_name(ns, sizeof(ns), n->name, de->d_name);
		if (netns_exists(ns))
			continue;	/* repair_namespaces' */
		router_remains_del(n, de->d_name, ns);
		pr_warn("node %s: repair: removed the state and id range of %s (no router)\n",
			n->name, de->d_name);
		fixed++;
	}
	closedir(d);
	return fixed;
}

/*
 * PID namespaces: an active router's whose init died (or a 'router add'
 * killed before it started one) gets a new one; a pid file of no active
 * router (a killed 'router del') goes, with its init if it still runs.
 */
static int repair_pidns(struct xvr_node *n)
{
	char dir[PATH_MAX], name[XVR_NAME_LEN + 1];
	struct dirent *de;
	int fixed = 0;
	DIR *d;

	for (__u32 id = 1; id < XVR_MAX_ROUTERS; id++) {
		if (!active(id))
			continue;
		snprintf(name, sizeof(name), "%.*s", XVR_NAME_LEN, routers[id].name);
		if (!router_name_ok(name) || pidns_init_pid(n->name, name) > 0)
			continue;
		if (!router_pidns_start(n->name, name)) {
			pr_warn("node %s: repair: router %s: started its PID namespace (its init "
				"was gone)\n", n->name, name);
			fixed++;
		}
	}
	snprintf(dir, sizeof(dir), "%s/%s/pidns", XVR_RUN_DIR, n->name);
	d = opendir(dir);
	if (!d)
		return fixed;
	while ((de = readdir(d))) {
		char *dot = strrchr(de->d_name, '.');

		if (!dot || strcmp(dot, ".pid"))
			continue;
		*dot = '\0';
		if (!router_name_ok(de->d_name) || name_active(de->d_name))
			continue;
		pidns_stop(n->name, de->d_name);
		pr_warn("node %s: repair: removed the PID namespace of %s (no router)\n", n->name,
			de->d_name);
		fixed++;
	}
	closedir(d);
	return fixed;
}

/*
 * Judged by the VIF and engine tables: a killed 'vif del' clears the VIF
 * and leaves the reverse maps (vif_by_dev, tx_ports) and the device.
 */
static bool dev_is_vif_or_fe(struct xvr_node *n, __u32 ifindex)
{
	__u32 id;

	if (!ifindex)
		return false;
	if (!bpf_map_lookup_elem(n->vif_by_dev_fd, &ifindex, &id) && id < XVR_MAX_VIFS &&
	    (vifs[id].flags & XVR_VIF_ACTIVE) && vifs[id].dev == ifindex)
		return true;
	return !bpf_map_lookup_elem(n->fe_by_dev_fd, &ifindex, &id) && id < XVR_MAX_FES &&
	       (fes[id].flags & XVR_FE_ACTIVE) && fes[id].dev == ifindex;
}

#define REPAIR_MAX_NS	256

/* The namespaces of our routers, by the id the node's namespace gives each. */
struct our_ns {
	int count;
	__s32 nsid[REPAIR_MAX_NS];
};

static int nsid_answer(const struct nlmsghdr *h, void *ctx)
{
	const struct nlattr *a;

	if (h->nlmsg_type != RTM_NEWNSID)
		return 0;
	mnl_attr_for_each(a, h, sizeof(struct rtgenmsg))
		if (mnl_attr_get_type(a) == NETNSA_NSID && !mnl_attr_validate(a, MNL_TYPE_U32))
			*(__s32 *)ctx = (__s32)mnl_attr_get_u32(a);
	return 0;
}

/* Namespace ns's id in ours, or NETNSA_NSID_NOT_ASSIGNED (no device of ours reaches it). */
static __s32 ns_id(struct nl *nl, const char *ns)
{
	__s32 nsid = NETNSA_NSID_NOT_ASSIGNED;
	struct nlmsghdr *h;
	int fd = netns_open(ns);

	if (fd < 0)
		return nsid;
	h = nl_request(nl, RTM_GETNSID, 0, sizeof(struct rtgenmsg));
	((struct rtgenmsg *)mnl_nlmsg_get_payload(h))->rtgen_family = AF_UNSPEC;
	mnl_attr_put_u32(h, NETNSA_FD, fd);
	nl_ask(nl, h, nsid_answer, &nsid);
	close(fd);
	return nsid;
}

/* Our routers' namespaces (xvr-NODE-…, not another node's) into o. */
static void our_namespaces(struct xvr_node *n, struct nl *nl, struct our_ns *o)
{
	DIR *d = opendir("/run/netns");
	struct dirent *de;
	char pfx[128];
	__s32 id;

	o->count = 0;
	if (!d)
		return;
	snprintf(pfx, sizeof(pfx), "xvr-%s-", n->name);
	while ((de = readdir(d)) && o->count < REPAIR_MAX_NS) {
		if (strncmp(de->d_name, pfx, strlen(pfx)) || other_node_owns(n->name, de->d_name))
			continue;
		id = ns_id(nl, de->d_name);
		if (id != NETNSA_NSID_NOT_ASSIGNED)
			o->nsid[o->count++] = id;
	}
	closedir(d);
}

struct stray_devs {
	struct xvr_node *n;
	const struct our_ns *ours;
	char tag[8];
	int count;
	char name[REPAIR_MAX_NS][IF_NAMESIZE];
};

static int stray_dev(const struct nlmsghdr *h, void *ctx)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(h);
	const struct nlattr *tb[IFLA_MAX + 1] = {};
	struct stray_devs *s = ctx;
	const char *dev;
	__s32 nsid;
	bool ours = false;

	if (h->nlmsg_type != RTM_NEWLINK || s->count == REPAIR_MAX_NS ||
	    nl_attrs(h, sizeof(*ifi), tb, IFLA_MAX, nl_link_policy) || !tb[IFLA_IFNAME] ||
	    !tb[IFLA_LINK_NETNSID] || mnl_attr_validate(tb[IFLA_LINK_NETNSID], MNL_TYPE_U32))
		return 0;
	dev = mnl_attr_get_str(tb[IFLA_IFNAME]);
	nsid = (__s32)mnl_attr_get_u32(tb[IFLA_LINK_NETNSID]);
	for (int i = 0; i < s->ours->count && !ours; i++)
		ours = s->ours->nsid[i] == nsid;
	if (!ours || (*dev != 'v' && *dev != 'f') || strlen(dev) != 11 ||
	    strncmp(dev + 1, s->tag, 4) || dev_is_vif_or_fe(s->n, ifi->ifi_index))
		return 0;
	snprintf(s->name[s->count++], IF_NAMESIZE, "%s", dev);
	return 0;
}

/*
 * Node-side veth ends (v<tag>… for VIFs, f<tag>… for engines) that no VIF
 * or engine names: a 'vif add' killed between the veth and the maps. The
 * tag is a hash of the node's name, so a device counts as ours only when
 * its peer sits in one of our routers' namespaces.
 */
static int repair_devices(struct xvr_node *n)
{
	struct stray_devs *s = calloc(1, sizeof(*s));
	struct our_ns *ours = calloc(1, sizeof(*ours));
	struct nl *nl = nl_alloc();
	int fixed = 0;

	if (!s || !ours || !nl)
		goto out;
	our_namespaces(n, nl, ours);
	s->n = n;
	s->ours = ours;
	snprintf(s->tag, sizeof(s->tag), "%04x", xvr_node_tag(n->name));
	if (ours->count)
		nl_dump(nl, RTM_GETLINK, AF_UNSPEC, sizeof(struct ifinfomsg), stray_dev, s);
	for (int i = 0; i < s->count; i++) {
		if (!veth_del(s->name[i])) {
			pr_warn("node %s: repair: removed device %s (no VIF or engine)\n", n->name,
				s->name[i]);
			fixed++;
		}
	}
out:
	if (nl)
		nl_free(nl);
	free(ours);
	free(s);
	return fixed;
}

/* Map entries keyed by a device that is neither a port nor a VIF/engine end. */
static int repair_tx_ports(struct xvr_node *n)
{
	__u32 key, next, *prev = NULL, del[64];
	struct xvr_port port;
	int ndel = 0, fixed = 0;
	char pin[PATH_MAX], leaf[64];

	while (!bpf_map_get_next_key(n->tx_ports_fd, prev, &next) && ndel < (int)ARRAY_SIZE(del)) {
		if (port_get(n, next, &port) && !dev_is_vif_or_fe(n, next))
			del[ndel++] = next;
		key = next;
		prev = &key;
	}
	for (int i = 0; i < ndel; i++) {
		if (bpf_map_delete_elem(n->tx_ports_fd, &del[i]))
			continue;
		snprintf(leaf, sizeof(leaf), "vif_links/%u", del[i]);
		xvr_node_path(pin, sizeof(pin), n->name, leaf);
		unlink(pin);
		pr_warn("node %s: repair: removed tx_ports entry of ifindex %u\n", n->name, del[i]);
		fixed++;
	}
	return fixed;
}

/*
 * A VIF's classifier rule is written last ('vif add' commits with it) and
 * deleted first: an active VIF without a rule is a killed add or del. A
 * link's VIF has no rule (its frames are classified by their GRE key): its
 * link entry, written last and cleared first, is its commit instead.
 */
static int repair_vifs(struct xvr_node *n)
{
	static bool has_rule[XVR_MAX_VIFS];
	struct xvr_cls_key k, next, *prev = NULL;
	struct xvr_cls_val val;
	struct xvr_link l;
	struct xvr_vif v;
	int fixed = 0;

	memset(has_rule, 0, sizeof(has_rule));
	while (!bpf_map_get_next_key(n->classify_fd, prev, &next)) {
		if (!bpf_map_lookup_elem(n->classify_fd, &next, &val) && val.vif < XVR_MAX_VIFS)
			has_rule[val.vif] = true;
		k = next;
		prev = &k;
	}
	for (__u32 i = 1; i < XVR_MAX_VIFS; i++) {
		v = vifs[i];
		if (!(v.flags & XVR_VIF_ACTIVE) || has_rule[i] || !active(v.vr_id))
			continue;
		if ((v.flags & XVR_VIF_LINK) && !link_get(n, i, &l))
			continue;
		if (v.flags & XVR_VIF_LINK)
			bpf_map_delete_elem(n->vlink_fdb_fd, &i);
		if (!vif_destroy(n, i)) {
			pr_warn("node %s: repair: removed VIF %.*s of router %.*s (%s)\n",
				n->name, (int)sizeof(v.name), v.name, XVR_NAME_LEN,
				routers[v.vr_id].name, v.flags & XVR_VIF_LINK ?
				"a link's, with no link entry" : "no classifier rule");
			fixed++;
		}
	}
	return fixed;
}

/* vif_by_dev and vif_by_peer entries of a VIF that is gone (a killed 'vif del'). */
static int repair_reverse(struct xvr_node *n)
{
	struct xvr_vif_peer_key pk, pnext, *pprev = NULL, pdel[64];
	__u32 key, next, *prev = NULL, del[64], id;
	int ndel = 0, npdel = 0, fixed = 0;

	while (!bpf_map_get_next_key(n->vif_by_dev_fd, prev, &next) && ndel < 64) {
		if (!bpf_map_lookup_elem(n->vif_by_dev_fd, &next, &id) &&
		    (id >= XVR_MAX_VIFS || !(vifs[id].flags & XVR_VIF_ACTIVE) ||
		     vifs[id].dev != next))
			del[ndel++] = next;
		key = next;
		prev = &key;
	}
	while (!bpf_map_get_next_key(n->vif_by_peer_fd, pprev, &pnext) && npdel < 64) {
		if (!bpf_map_lookup_elem(n->vif_by_peer_fd, &pnext, &id) &&
		    (id >= XVR_MAX_VIFS || !(vifs[id].flags & XVR_VIF_ACTIVE) ||
		     vifs[id].peer != pnext.peer || vifs[id].vr_id != pnext.vr_id))
			pdel[npdel++] = pnext;
		pk = pnext;
		pprev = &pk;
	}
	for (int i = 0; i < ndel; i++)
		fixed += !bpf_map_delete_elem(n->vif_by_dev_fd, &del[i]);
	for (int i = 0; i < npdel; i++)
		fixed += !bpf_map_delete_elem(n->vif_by_peer_fd, &pdel[i]);
	if (fixed)
		pr_warn("node %s: repair: removed %d lookup entries of deleted VIFs\n", n->name,
			fixed);
	return fixed;
}

/*
 * Pinned XDP links whose device is gone (the kernel reports ifindex 0 for a
 * severed link): a device removed while its pin stayed. 'node up' cannot
 * update such a link, so it would refuse every upgrade.
 */
static int repair_links(struct xvr_node *n)
{
	static const char *const dirs[] = { "links", "vif_links" };
	char dir[PATH_MAX], path[PATH_MAX + 256];
	int fixed = 0;

	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		struct dirent *de;
		DIR *d;

		xvr_node_path(dir, sizeof(dir), n->name, dirs[i]);
		d = opendir(dir);
		if (!d)
			continue;
		while ((de = readdir(d))) {
			struct bpf_link_info info = {};
			__u32 len = sizeof(info);
			int fd;

			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			fd = bpf_obj_get(path);
			if (fd < 0)
				continue;
			if (!bpf_obj_get_info_by_fd(fd, &info, &len) &&
			    info.type == BPF_LINK_TYPE_XDP && !info.xdp.ifindex && !unlink(path)) {
				pr_warn("node %s: repair: removed %s (its device is gone)\n", n->name,
					path);
				fixed++;
			}
			close(fd);
		}
		closedir(d);
	}
	return fixed;
}

/*
 * Broadcast sets: entries of VIFs that are gone go (a killed 'vif del'), and
 * a complete VIF missing from its set (made before sets existed) joins it.
 */
static int repair_bcast(struct xvr_node *n)
{
	int fixed = bcast_prune(n, vifs), joined = 0;
	char path[PATH_MAX];

	/* Before the first 'node up' of this xvr there is no program to join with. */
	xvr_node_path(path, sizeof(path), n->name, XVR_BCAST_PIN);
	if (access(path, F_OK))
		return fixed > 0 ? fixed : 0;

	if (fixed > 0)
		pr_warn("node %s: repair: removed %d broadcast set entries of deleted VIFs\n",
			n->name, fixed);
	for (__u32 i = 1; i < XVR_MAX_VIFS; i++) {
		const struct xvr_vif *v = &vifs[i];
		char ifname[IF_NAMESIZE];

		/* A VIF whose device is gone (its router's namespace deleted
		 * by hand) cannot join: a devmap refuses a missing ifindex. */
		if ((v->flags & XVR_VIF_ACTIVE) && !(v->flags & XVR_VIF_LINK) &&
		    if_indextoname(v->dev, ifname) &&
		    !bcast_has(n, v) && !bcast_join(n, v)) {
			pr_warn("node %s: repair: VIF %.*s of router slot %u joined its port's "
				"broadcast set\n", n->name, XVR_NAME_LEN, v->name, v->vr_id);
			joined++;
		}
	}
	return (fixed > 0 ? fixed : 0) + joined;
}

/* The port index as xvr_ports says: 'port' or a rule command killed half way left it unpublished. */
static int repair_port_index(struct xvr_node *n)
{
	int fixed = ports_index_sync(n);

	if (fixed > 0)
		pr_warn("node %s: repair: rewrote %d port index entries\n", n->name, fixed);
	return fixed > 0 ? fixed : 0;
}

/* The IPv4 prefix rules' copy as the trie says: a rule command killed half way left it behind. */
static int repair_cls4(struct xvr_node *n)
{
	int changed = 0;

	if (rules_refresh(n, &changed) < 0 || !changed)
		return 0;
	pr_warn("node %s: repair: rewrote %d IPv4 prefix rule entries\n", n->name, changed);
	return changed;
}

int node_repair(struct xvr_node *n)
{
	int fixed;

	routers_read(n);
	fixed = repair_slots(n);
	fixed += repair_vifs(n);
	routers_read(n);	/* what the two above removed */
	fixed += repair_namespaces(n);
	fixed += repair_tenants(n);
	fixed += repair_pidns(n);
	fixed += repair_devices(n);
	fixed += repair_tx_ports(n);
	fixed += repair_port_index(n);
	fixed += repair_cls4(n);
	fixed += repair_reverse(n);
	fixed += repair_links(n);
	fixed += repair_bcast(n);
	/* CPU groups no router names: a 'router set cpus' killed half way. */
	fixed += cpu_groups_gc(n);
	return fixed;
}
