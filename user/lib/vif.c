// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "common.h"
#include "netns.h"
#include "objects.h"
#include "veth.h"
#include "vif.h"
#include "link.h"
#include "bcast.h"

int vif_get(struct xvr_node *n, __u32 id, struct xvr_vif *out)
{
	if (!id || id >= XVR_MAX_VIFS)
		return -ENOENT;
	if (bpf_map_lookup_elem(n->vifs_fd, &id, out))
		return -errno;
	return out->flags & XVR_VIF_ACTIVE ? 0 : -ENOENT;
}

int vif_find(struct xvr_node *n, __u32 vr_id, const char *ifname, __u32 *id,
	     struct xvr_vif *out)
{
	struct xvr_vif v;

	for (__u32 i = 1; i < XVR_MAX_VIFS; i++) {
		if (vif_get(n, i, &v) || v.vr_id != vr_id ||
		    strncmp(v.name, ifname, sizeof(v.name)))
			continue;
		*id = i;
		if (out)
			*out = v;
		return 0;
	}
	return -ENOENT;
}

int vif_on_port(struct xvr_node *n, __u32 vr_id, __u32 port, struct xvr_vif *out)
{
	for (__u32 i = 1; i < XVR_MAX_VIFS; i++)
		if (!vif_get(n, i, out) && out->vr_id == vr_id && out->port == port)
			return 0;
	return -ENOENT;
}

/* v<node tag><router><vif>, all hex: unique on the machine, 11 characters. */
static void dev_name(char *buf, size_t len, const char *node, __u32 vr_id, __u32 id)
{
	snprintf(buf, len, "v%04x%03x%03x", xvr_node_tag(node), vr_id, id);
}

static void link_pin(char *buf, size_t len, const char *node, __u32 ifindex)
{
	char leaf[64];

	snprintf(leaf, sizeof(leaf), "vif_links/%u", ifindex);
	xvr_node_path(buf, len, node, leaf);
}

/* The classifier rule that sends the VIF's frames on its port to it. */
static void vif_rule(const struct xvr_vif *v, bool has_mac, struct xvr_cls_key *key)
{
	memset(key, 0, sizeof(*key));
	key->ifindex = v->port;
	if (has_mac) {
		key->kind = XVR_RULE_MAC;
		memcpy(key->mac, v->mac, 6);
	} else if (v->vlan) {
		key->kind = XVR_RULE_VLAN;
		key->vlan = v->vlan;
	} else {
		key->kind = XVR_RULE_DEFAULT;
	}
}

static __u32 vif_alloc(struct xvr_node *n)
{
	struct xvr_vif v;

	for (__u32 i = 1; i < XVR_MAX_VIFS; i++)
		if (bpf_map_lookup_elem(n->vifs_fd, &i, &v) || !(v.flags & XVR_VIF_ACTIVE))
			return i;
	return 0;
}

int vif_create(struct xvr_node *n, const struct vif_spec *spec, __u32 *out_id)
{
	char ns[128], dev[IF_NAMESIZE], pin[PATH_MAX], path[PATH_MAX];
	LIBBPF_OPTS(bpf_link_create_opts, opts);
	struct bpf_devmap_val dv = {};
	struct xvr_cls_val val = {};
	struct xvr_vif v = {}, zero = {};
	struct xvr_vif_peer_key peer_key = {};
	struct xvr_cls_key key;
	struct xvr_port port;
	int prog_fd = -1, link_fd = -1, idx, err;
	__u32 id, dev_idx;

	if (spec->link) {
		memset(&port, 0, sizeof(port));
		port.mtu = spec->mtu;
	} else if (port_get(n, spec->port, &port)) {
		pr_warn("vif %s: port is not a port of node %s\n", spec->ifname, n->name);
		return -ENODEV;
	}
	if (!vif_find(n, spec->vr_id, spec->ifname, &id, NULL)) {
		pr_warn("vif %s: router %s has it already\n", spec->ifname, spec->router);
		return -EEXIST;
	}
	id = vif_alloc(n);
	if (!id) {
		pr_warn("vif %s: node has %d VIFs already\n", spec->ifname, XVR_MAX_VIFS - 1);
		return -ENOSPC;
	}
	v.vr_id = spec->vr_id;
	v.port = spec->port;
	v.vlan = spec->vlan;
	snprintf(v.name, sizeof(v.name), "%s", spec->ifname);
	if (spec->has_mac) {
		memcpy(v.mac, spec->mac, 6);
	} else {
		/* Locally administered, unique per node: 02:78:76 ("xv"), router, VIF. */
		__u8 mac[6] = { 0x02, 0x78, 0x76, spec->vr_id & 0xff,
				(__u8)((spec->vr_id >> 8) << 4 | id >> 8), id & 0xff };
		/*
		 * A link's interface shares its Ethernet with other nodes, whose
		 * routers and VIFs have the same ids: 06, the node's tag instead.
		 */
		if (spec->link) {
			unsigned int tag = xvr_node_tag(n->name);

			mac[0] = 0x06;
			mac[1] = tag >> 8;
			mac[2] = tag & 0xff;
		}
		memcpy(v.mac, mac, 6);
	}

	/* The rule is checked first: a taken MAC/VLAN/default fails before any change. */
	vif_rule(&v, spec->has_mac, &key);
	if (!spec->link && !bpf_map_lookup_elem(n->classify_fd, &key, &val)) {
		pr_warn("vif %s: port %s already sends that traffic (%s) elsewhere\n",
			spec->ifname, port.name,
			key.kind == XVR_RULE_MAC ? "mac" : key.kind == XVR_RULE_VLAN ? "vlan" :
			"default");
		return -EEXIST;
	}

	netns_name(ns, sizeof(ns), n->name, spec->router);
	dev_name(dev, sizeof(dev), n->name, spec->vr_id, id);
	err = veth_create(&(struct veth_spec){ .name = dev, .peer = v.name, .netns = ns,
					       .mtu = port.mtu ? port.mtu : 1500,
					       .peer_mac = v.mac, .peer_xdp = true });
	if (err) {
		pr_warn("vif %s: cannot create veth %s into %s\n", spec->ifname, dev, ns);
		return err;
	}
	xvr_die_at("vif-add:veth");
	idx = if_index(dev);
	v.dev = idx > 0 ? idx : 0;
	v.flags = XVR_VIF_ACTIVE | (spec->spoof ? XVR_VIF_SPOOF : 0);
	dev_idx = v.dev;
	if (spec->link) {
		v.flags |= XVR_VIF_LINK;
		v.port = dev_idx;
		link_dev_setup(dev);
	}

	/* The peer's ifindex lets fibsync map the namespace's routes to the VIF. */
	idx = netns_ifindex(ns, v.name);
	v.peer = idx > 0 ? idx : 0;
	/* Engines name a VIF by this index in 15 bits of their tag. */
	if (!v.peer || v.peer > XVR_FE_TAG_IFINDEX) {
		pr_warn("vif %s: its index in %s (%u) does not fit an engine tag (1-%u)\n",
			spec->ifname, ns, v.peer, XVR_FE_TAG_IFINDEX);
		err = -ERANGE;
		goto undo;
	}

	dv.ifindex = dev_idx;
	peer_key.vr_id = v.vr_id;
	peer_key.peer = v.peer;
	if (bpf_map_update_elem(n->vifs_fd, &id, &v, BPF_ANY) ||
	    bpf_map_update_elem(n->vif_by_dev_fd, &dev_idx, &id, BPF_ANY) ||
	    bpf_map_update_elem(n->vif_by_peer_fd, &peer_key, &id, BPF_ANY) ||
	    bpf_map_update_elem(n->tx_ports_fd, &dev_idx, &dv, BPF_ANY)) {
		err = -errno;
		pr_warn("vif %s: %s\n", spec->ifname, strerror(-err));
		goto undo;
	}

	xvr_die_at("vif-add:maps");
	xvr_node_path(path, sizeof(path), n->name, "prog_egress");
	prog_fd = bpf_obj_get(path);
	if (prog_fd < 0) {
		err = -errno;
		pr_warn("vif %s: %s: %s\n", spec->ifname, path, strerror(-err));
		goto undo;
	}
	opts.flags = XDP_FLAGS_DRV_MODE;
	link_fd = bpf_link_create(prog_fd, dev_idx, BPF_XDP, &opts);
	if (link_fd < 0) {
		err = -errno;
		pr_warn("vif %s: attach xvr_egress to %s: %s\n", spec->ifname, dev, strerror(-err));
		goto undo;
	}
	link_pin(pin, sizeof(pin), n->name, dev_idx);
	if (bpf_obj_pin(link_fd, pin)) {
		err = -errno;
		pr_warn("vif %s: pin %s: %s\n", spec->ifname, pin, strerror(-err));
		goto undo;
	}

	xvr_die_at("vif-add:link");
	val.vr_id = spec->vr_id;
	val.vif = id;
	if (spec->link) {
		*out_id = id;
		goto out;
	}
	/* Broadcasts and multicasts of its port and VLAN reach it from now on. */
	err = bcast_join(n, &v);
	if (err) {
		unlink(pin);
		goto undo;
	}
	xvr_die_at("vif-add:bcast");
	if (bpf_map_update_elem(n->classify_fd, &key, &val, BPF_NOEXIST)) {
		err = -errno;
		pr_warn("vif %s: classifier rule: %s\n", spec->ifname, strerror(-err));
		unlink(pin);
		goto undo;
	}
	rules_refresh_kinds(n);
	*out_id = id;
	goto out;

undo:
	if (!spec->link)
		bcast_leave(n, &v);
	bpf_map_delete_elem(n->tx_ports_fd, &dev_idx);
	bpf_map_delete_elem(n->vif_by_dev_fd, &dev_idx);
	bpf_map_delete_elem(n->vif_by_peer_fd, &peer_key);
	bpf_map_update_elem(n->vifs_fd, &id, &zero, BPF_ANY);
	veth_del(dev);
out:
	if (link_fd >= 0)
		close(link_fd);
	if (prog_fd >= 0)
		close(prog_fd);
	return err;
}

/* Rules that deliver into VIF id; collected first, since deleting moves the walk. */
static void vif_rules_delete(struct xvr_node *n, __u32 id)
{
	struct xvr_cls_key key, next, *prev = NULL, del[16];
	struct xvr_cls_val val;
	int ndel = 0;

	while (!bpf_map_get_next_key(n->classify_fd, prev, &next)) {
		if (!bpf_map_lookup_elem(n->classify_fd, &next, &val) && val.vif == id &&
		    ndel < (int)ARRAY_SIZE(del))
			del[ndel++] = next;
		key = next;
		prev = &key;
	}
	for (int i = 0; i < ndel; i++)
		bpf_map_delete_elem(n->classify_fd, &del[i]);
	rules_refresh_kinds(n);
}

int vif_destroy(struct xvr_node *n, __u32 id)
{
	char pin[PATH_MAX], dev[IF_NAMESIZE];
	struct xvr_vif_peer_key peer_key = {};
	struct xvr_vif v, zero = {};
	int err;

	err = vif_get(n, id, &v);
	if (err)
		return err;
	peer_key.vr_id = v.vr_id;
	peer_key.peer = v.peer;
	if (v.flags & XVR_VIF_LINK)
		link_forget(n, id);
	/*
	 * Stop new frames first, then take the path apart. Deleting the rule
	 * is the point of no return: a VIF without one is a half-deleted VIF
	 * that `node repair` finishes.
	 */
	vif_rules_delete(n, id);
	xvr_die_at("vif-del:rules");
	if (!(v.flags & XVR_VIF_LINK))
		bcast_leave(n, &v);
	xvr_die_at("vif-del:bcast");
	bpf_map_update_elem(n->vifs_fd, &id, &zero, BPF_ANY);
	xvr_die_at("vif-del:slot");
	bpf_map_delete_elem(n->vif_by_dev_fd, &v.dev);
	bpf_map_delete_elem(n->vif_by_peer_fd, &peer_key);
	bpf_map_delete_elem(n->tx_ports_fd, &v.dev);
	link_pin(pin, sizeof(pin), n->name, v.dev);
	unlink(pin);
	if (!if_indextoname(v.dev, dev))
		return 0;	/* gone with its namespace */
	return veth_del(dev);
}

int vifs_flush_router(struct xvr_node *n, __u32 vr_id)
{
	struct xvr_vif v;
	int cnt = 0;

	for (__u32 i = 1; i < XVR_MAX_VIFS; i++)
		if (!vif_get(n, i, &v) && v.vr_id == vr_id && !vif_destroy(n, i))
			cnt++;
	return cnt;
}
