// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Virtual links. Besides its VIF, a link has an entry in xvr_vlinks, its
 * {local, key} in xvr_vlink_keys (decapsulation), a reference on its local
 * address in xvr_vlink_locals (GRE to that address is xvr's), a per-link
 * learning table in xvr_vlink_fdb, and, in the node's neighbour table, a
 * "managed" entry for each remote's underlay next hop: the kernel keeps
 * those resolved, so bpf_fib_lookup finds the next hop's MAC from the
 * first frame on and after it changes.
 */
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "common.h"
#include "netns.h"
#include "nl.h"
#include "objects.h"
#include "fe.h"
#include "vif.h"
#include "link.h"

int link_get(struct xvr_node *n, __u32 id, struct xvr_link *out)
{
	if (!id || id >= XVR_MAX_VIFS)
		return -ENOENT;
	if (bpf_map_lookup_elem(n->vlinks_fd, &id, out))
		return -errno;
	return out->flags & XVR_LINK_ACTIVE ? 0 : -ENOENT;
}

int link_find(struct xvr_node *n, __u32 vr_id, const char *name, __u32 *id,
	      struct xvr_link *out)
{
	struct xvr_link l;
	struct xvr_vif v;

	/* A link is the VIF of that name, marked as one. */
	if (vif_find(n, vr_id, name, id, &v) || !(v.flags & XVR_VIF_LINK) || link_get(n, *id, &l))
		return -ENOENT;
	if (out)
		*out = l;
	return 0;
}

void link_dev_setup(const char *dev)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/forwarding", dev);
	f = fopen(path, "w");
	if (f) {
		fputs("1", f);
		fclose(f);
	}
}

struct underlay {
	int oif;
	__be32 gw;
};

static int underlay_answer(const struct nlmsghdr *h, void *ctx)
{
	const struct nlattr *tb[RTA_MAX + 1] = {};
	const struct rtmsg *r = mnl_nlmsg_get_payload(h);
	struct underlay *u = ctx;

	if (h->nlmsg_type != RTM_NEWROUTE)
		return 0;
	if (nl_attrs(h, sizeof(*r), tb, RTA_MAX, nl_route_policy))
		return -EINVAL;
	if (r->rtm_type != RTN_UNICAST)
		return -ENETUNREACH;	/* local, blackhole, unreachable… */
	if (tb[RTA_OIF])
		u->oif = mnl_attr_get_u32(tb[RTA_OIF]);
	if (tb[RTA_GATEWAY] && mnl_attr_get_payload_len(tb[RTA_GATEWAY]) == 4)
		memcpy(&u->gw, mnl_attr_get_payload(tb[RTA_GATEWAY]), 4);
	return 0;
}

/* The node's route to addr: its device and next hop (addr itself if on-link). */
static int underlay_route(__be32 addr, int *oif, __be32 *gw)
{
	struct underlay u = { .gw = addr };
	struct nlmsghdr *h;
	struct rtmsg *r;
	struct nl *nl;
	int err;

	nl = nl_alloc();
	if (!nl)
		return -errno;
	h = nl_request(nl, RTM_GETROUTE, 0, sizeof(*r));
	r = mnl_nlmsg_get_payload(h);
	r->rtm_family = AF_INET;
	r->rtm_dst_len = 32;
	mnl_attr_put(h, RTA_DST, 4, &addr);
	err = nl_ask(nl, h, underlay_answer, &u);
	nl_free(nl);
	if (err)
		return err;
	*oif = u.oif;
	*gw = u.gw;
	return u.oif ? 0 : -ENETUNREACH;
}

static bool addr_is_local(__be32 addr)
{
	struct ifaddrs *ifa, *i;
	bool found = false;

	if (getifaddrs(&ifa))
		return false;
	for (i = ifa; i && !found; i = i->ifa_next)
		found = i->ifa_addr && i->ifa_addr->sa_family == AF_INET &&
			((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr == addr;
	freeifaddrs(ifa);
	return found;
}

/*
 * Have the node's stack keep gw on oif resolved (a managed entry, which
 * the kernel refreshes on its own), or stop: the entry is deleted.
 */
static int neigh_manage(__be32 gw, int oif, bool on)
{
	struct nlmsghdr *h;
	struct ndmsg *nd;
	struct nl *nl;
	int err;

	nl = nl_alloc();
	if (!nl)
		return -errno;
	h = nl_request(nl, on ? RTM_NEWNEIGH : RTM_DELNEIGH,
		       on ? NLM_F_CREATE | NLM_F_REPLACE : 0, sizeof(*nd));
	nd = mnl_nlmsg_get_payload(h);
	nd->ndm_family = AF_INET;
	nd->ndm_ifindex = oif;
	nd->ndm_state = NUD_NONE;
	mnl_attr_put(h, NDA_DST, 4, &gw);
	if (on)
		mnl_attr_put_u32(h, NDA_FLAGS_EXT, NTF_EXT_MANAGED);
	err = nl_talk(nl, h);
	if (err && !(err == -ENOENT && !on))
		pr_warn("neighbour %s on %s: %s%s%s%s\n", inet_ntoa((struct in_addr){ gw }),
			if_name(oif, (char[IF_NAMESIZE]){}), strerror(-err), nl->err[0] ? " (" : "",
			nl->err, nl->err[0] ? ")" : "");
	nl_free(nl);
	return err == -ENOENT && !on ? 0 : err;
}

/* Another link of the node reaches its remotes through gw on oif. */
static bool neigh_shared(struct xvr_node *n, __u32 skip, __be32 gw, int oif)
{
	struct xvr_link l;

	for (__u32 i = 1; i < XVR_MAX_VIFS; i++) {
		if (i == skip || link_get(n, i, &l))
			continue;
		for (__u32 r = 0; r < l.nremotes && r < XVR_LINK_MAX_REMOTES; r++) {
			__be32 g;
			int o;

			if (!underlay_route(l.remote[r], &o, &g) && g == gw && o == oif)
				return true;
		}
	}
	return false;
}

/* Stops managing remote's next hop unless another link still needs it. */
static void remote_release(struct xvr_node *n, __u32 id, __be32 remote)
{
	__be32 gw;
	int oif;

	if (!underlay_route(remote, &oif, &gw) && !neigh_shared(n, id, gw, oif))
		neigh_manage(gw, oif, false);
}

/*
 * Checks remote for a link on port (0: any) and has its next hop managed;
 * *mtu is lowered to what the underlay device carries.
 */
static int remote_prepare(struct xvr_node *n, const char *name, __be32 remote, __u32 port,
			  int *mtu)
{
	char addr[INET_ADDRSTRLEN], dev[IF_NAMESIZE];
	struct xvr_port p;
	__be32 gw;
	int oif, err, dev_mtu;

	inet_ntop(AF_INET, &remote, addr, sizeof(addr));
	err = underlay_route(remote, &oif, &gw);
	if (err) {
		pr_warn("link %s: remote %s: node %s has no route to it\n", name, addr, n->name);
		return -ENETUNREACH;
	}
	if (port && (__u32)oif != port) {
		pr_warn("link %s: remote %s: the node reaches it by %s, not by the link's port\n",
			name, addr, if_name(oif, dev));
		return -EINVAL;
	}
	if (port_get(n, oif, &p)) {
		pr_warn("link %s: remote %s: reached by %s, which is not a port of node %s\n",
			name, addr, if_name(oif, dev), n->name);
		return -ENODEV;
	}
	dev_mtu = if_mtu(if_name(oif, dev));
	if (dev_mtu > 0 && dev_mtu - XVR_EGRE_OVERHEAD < *mtu)
		*mtu = dev_mtu - XVR_EGRE_OVERHEAD;
	err = neigh_manage(gw, oif, true);
	if (err)
		pr_warn("link %s: remote %s: cannot have its next hop resolved\n", name, addr);
	return err;
}

static void local_ref(struct xvr_node *n, __be32 local, int delta)
{
	__u32 cnt = 0;

	bpf_map_lookup_elem(n->vlink_locals_fd, &local, &cnt);
	cnt += delta;
	if ((int)cnt <= 0)
		bpf_map_delete_elem(n->vlink_locals_fd, &local);
	else
		bpf_map_update_elem(n->vlink_locals_fd, &local, &cnt, BPF_ANY);
}

/*
 * Multipoint flooding runs at tc ingress of the link's node-side end (see
 * xvr_link_flood); every link gets it, so a remote added later floods too.
 * Engines' node-side ends get it as well: what an engine floods onto a
 * link is passed up there, marked with the link. The clsact qdisc goes
 * with the device. replace swaps whatever program is attached (node up).
 */
int link_flood_attach(struct xvr_node *n, __u32 dev, bool replace)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = dev, .attach_point = BPF_TC_INGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = 1, .priority = 1);
	char path[PATH_MAX];
	int fd, err;

	xvr_node_path(path, sizeof(path), n->name, XVR_FLOOD_PIN);
	fd = bpf_obj_get(path);
	if (fd < 0) {
		err = -errno;
		pr_warn("%s: %s ('xvr node up' installs it)\n", path, strerror(-err));
		return err;
	}
	opts.prog_fd = fd;
	opts.flags = replace ? BPF_TC_F_REPLACE : 0;
	err = bpf_tc_hook_create(&hook);
	if (!err || err == -EEXIST)
		err = bpf_tc_attach(&hook, &opts);
	close(fd);
	return err;
}

int link_flood_refresh(struct xvr_node *n)
{
	int err, done = 0;

	for (__u32 id = 1; id < XVR_MAX_VIFS; id++) {
		struct xvr_link l;

		if (link_get(n, id, &l))
			continue;
		err = link_flood_attach(n, l.dev, true);
		if (err == -ENODEV)
			continue;	/* its device is gone: nothing runs there */
		if (err) {
			pr_warn("link %.*s: attach flooding at tc ingress: %s\n",
				(int)sizeof(l.name), l.name, strerror(-err));
			return err;
		}
		done++;
	}
	for (__u32 id = 1; id < XVR_MAX_FES; id++) {
		struct xvr_fe fe;

		if (fe_get(n, id, &fe))
			continue;
		err = link_flood_attach(n, fe.dev, true);
		if (err == -ENODEV)
			continue;
		if (err) {
			pr_warn("fe %u: attach flooding at tc ingress: %s\n", id, strerror(-err));
			return err;
		}
		done++;
	}
	return done;
}

int link_create(struct xvr_node *n, const struct link_spec *spec, __u32 *out_id)
{
	struct xvr_link_key lk = { .local = spec->local, .key = spec->key };
	struct vif_spec vs = {};
	struct xvr_link l = {};
	int err, mtu = 65535, fdb_fd = -1, prepared = 0;
	char addr[INET_ADDRSTRLEN];
	__u32 id = 0, other;

	if (!vif_find(n, spec->vr_id, spec->name, &other, NULL)) {
		pr_warn("link %s: router %s has an interface of that name\n", spec->name,
			spec->router);
		return -EEXIST;
	}
	inet_ntop(AF_INET, &spec->local, addr, sizeof(addr));
	if (!addr_is_local(spec->local)) {
		pr_warn("link %s: local %s is not an address of node %s\n", spec->name, addr,
			n->name);
		return -EADDRNOTAVAIL;
	}
	if (!bpf_map_lookup_elem(n->vlink_keys_fd, &lk, &other)) {
		pr_warn("link %s: key %u on %s is taken by another link\n", spec->name, spec->key,
			addr);
		return -EEXIST;
	}
	for (int i = 0; i < spec->nremotes; i++) {
		err = remote_prepare(n, spec->name, spec->remote[i], spec->port, &mtu);
		if (err)
			goto undo;
		prepared++;
	}
	if (spec->mtu) {
		if (spec->mtu > mtu) {
			pr_warn("link %s: mtu %u is more than the underlay carries (%d)\n",
				spec->name, spec->mtu, mtu);
			err = -EINVAL;
			goto undo;
		}
		mtu = spec->mtu;
	}
	if (mtu < XVR_MIN_PORT_MTU) {
		pr_warn("link %s: the underlay leaves an MTU of %d, below %d\n", spec->name, mtu,
			XVR_MIN_PORT_MTU);
		err = -EINVAL;
		goto undo;
	}

	vs.vr_id = spec->vr_id;
	vs.router = spec->router;
	vs.ifname = spec->name;
	vs.link = true;
	vs.mtu = mtu;
	err = vif_create(n, &vs, &id);
	if (err)
		goto undo;

	fdb_fd = bpf_map_create(BPF_MAP_TYPE_LRU_HASH, "xvr_fdb", sizeof(struct xvr_fdb_key),
				sizeof(struct xvr_fdb_entry), XVR_LINK_FDB_SIZE, NULL);
	if (fdb_fd < 0 || bpf_map_update_elem(n->vlink_fdb_fd, &id, &fdb_fd, BPF_ANY)) {
		err = -errno;
		pr_warn("link %s: learning table: %s\n", spec->name, strerror(-err));
		goto undo_vif;
	}
	l.flags = XVR_LINK_ACTIVE | (spec->nremotes > 1 ? XVR_LINK_MULTI : 0);
	l.vr_id = spec->vr_id;
	l.key = spec->key;
	l.local = spec->local;
	memcpy(l.remote, spec->remote, sizeof(l.remote));
	l.nremotes = spec->nremotes;
	l.port = spec->port;
	l.mtu = mtu;
	l.ttl = spec->ttl ? spec->ttl : XVR_EGRE_DEFAULT_TTL;
	snprintf(l.name, sizeof(l.name), "%s", spec->name);
	{
		struct xvr_vif v;

		vif_get(n, id, &v);
		l.dev = v.dev;
	}
	err = link_flood_attach(n, l.dev, false);
	if (err) {
		pr_warn("link %s: attach flooding at tc ingress: %s\n", spec->name,
			strerror(-err));
		goto undo_vif;
	}
	if (bpf_map_update_elem(n->vlinks_fd, &id, &l, BPF_ANY) ||
	    bpf_map_update_elem(n->vlink_keys_fd, &lk, &id, BPF_NOEXIST)) {
		err = -errno;
		pr_warn("link %s: %s\n", spec->name, strerror(-err));
		goto undo_vif;
	}
	local_ref(n, spec->local, 1);
	counters_zero(n->vlink_stats_fd, id);
	close(fdb_fd);
	*out_id = id;
	return 0;

undo_vif:
	if (fdb_fd >= 0)
		close(fdb_fd);
	vif_destroy(n, id);	/* and link_forget, which finds no link entry */
	bpf_map_delete_elem(n->vlink_fdb_fd, &id);
undo:
	for (int i = 0; i < prepared; i++)
		remote_release(n, 0, spec->remote[i]);
	return err;
}

void link_forget(struct xvr_node *n, __u32 id)
{
	struct xvr_link l, zero = {};
	struct xvr_link_key lk = {};

	if (link_get(n, id, &l))
		return;
	lk.local = l.local;
	lk.key = l.key;
	/* Decapsulation stops first, then the link goes. */
	bpf_map_delete_elem(n->vlink_keys_fd, &lk);
	bpf_map_update_elem(n->vlinks_fd, &id, &zero, BPF_ANY);
	bpf_map_delete_elem(n->vlink_fdb_fd, &id);
	{
		/* The next link with this id starts with no cached next hop. */
		int ncpus = libbpf_num_possible_cpus();
		void *nh = ncpus > 0 ? calloc(ncpus, sizeof(struct xvr_link_nh)) : NULL;

		if (nh)
			bpf_map_update_elem(n->vlink_nh_fd, &id, nh, BPF_ANY);
		free(nh);
	}
	local_ref(n, l.local, -1);
	for (__u32 i = 0; i < l.nremotes && i < XVR_LINK_MAX_REMOTES; i++)
		remote_release(n, id, l.remote[i]);
}

int link_destroy(struct xvr_node *n, __u32 id)
{
	return vif_destroy(n, id);
}

int link_remote_change(struct xvr_node *n, __u32 id, __be32 addr, bool add)
{
	char buf[INET_ADDRSTRLEN];
	struct xvr_link l;
	int mtu = 65535, err;
	__u32 i;

	err = link_get(n, id, &l);
	if (err)
		return err;
	inet_ntop(AF_INET, &addr, buf, sizeof(buf));
	for (i = 0; i < l.nremotes; i++)
		if (l.remote[i] == addr)
			break;
	if (add) {
		if (i < l.nremotes) {
			pr_warn("link %s: remote %s: it has it already\n", l.name, buf);
			return -EEXIST;
		}
		if (l.nremotes >= XVR_LINK_MAX_REMOTES) {
			pr_warn("link %s: remote %s: a link has at most %d remotes\n", l.name, buf,
				XVR_LINK_MAX_REMOTES);
			return -ENOSPC;
		}
		if (addr == l.local) {
			pr_warn("link %s: remote %s is the link's local address\n", l.name, buf);
			return -EINVAL;
		}
		err = remote_prepare(n, l.name, addr, l.port, &mtu);
		if (err)
			return err;
		if (mtu < l.mtu) {
			pr_warn("link %s: remote %s: its underlay carries less than mtu %u\n",
				l.name, buf, l.mtu);
			remote_release(n, id, addr);
			return -EINVAL;
		}
		l.remote[l.nremotes++] = addr;
	} else {
		if (i == l.nremotes) {
			pr_warn("link %s: remote %s: no such remote\n", l.name, buf);
			return -ENOENT;
		}
		if (l.nremotes == 1) {
			pr_warn("link %s: remote %s is its last; delete the link instead\n",
				l.name, buf);
			return -EINVAL;
		}
		memmove(&l.remote[i], &l.remote[i + 1], (l.nremotes - i - 1) * sizeof(l.remote[0]));
		l.remote[--l.nremotes] = 0;
	}
	l.flags = XVR_LINK_ACTIVE | (l.nremotes > 1 ? XVR_LINK_MULTI : 0);
	if (bpf_map_update_elem(n->vlinks_fd, &id, &l, BPF_ANY)) {
		err = -errno;
		if (add)
			remote_release(n, id, addr);
		return err;
	}
	if (!add)
		remote_release(n, id, addr);
	return 0;
}
