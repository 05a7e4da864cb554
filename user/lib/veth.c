// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <linux/veth.h>
#include "common.h"
#include "netns.h"
#include "nl.h"
#include "veth.h"

/* Prints "veth NAME: what: error (the kernel's words)"; returns err. */
static int veth_err(const char *name, const char *what, const struct nl *nl, int err)
{
	pr_warn("veth %s: %s: %s%s%s%s\n", name, what, strerror(-err), nl && nl->err[0] ? " (" : "",
		nl && nl->err[0] ? nl->err : "", nl && nl->err[0] ? ")" : "");
	return err;
}

/* Set a link of nl's namespace up, by name. */
static int link_up(struct nl *nl, const char *name)
{
	struct nlmsghdr *h = nl_request(nl, RTM_NEWLINK, 0, sizeof(struct ifinfomsg));
	struct ifinfomsg *ifi = mnl_nlmsg_get_payload(h);

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	mnl_attr_put_strz(h, IFLA_IFNAME, name);
	return nl_talk(nl, h);
}

/* One legacy ethtool feature switch (ETHTOOL_SGRO, ETHTOOL_STXCSUM …) of a link here. */
static int ethtool_set(const char *name, __u32 cmd, __u32 on)
{
	struct ethtool_value ev = { .cmd = cmd, .data = on };

	return if_ethtool(name, &ev);
}

static int no_ipv6(const char *name, const char *netns)
{
	char path[128];

	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", name);
	return netns_sysctl(netns, path, "1");
}

/* Inside the peer's namespace: its settings, then up. */
static int peer_setup_here(void *arg)
{
	const struct veth_spec *s = arg;
	struct nl *nl;
	int err;

	if (s->peer_quiet) {
		err = no_ipv6(s->peer, NULL);
		if (err)
			return veth_err(s->peer, "disable IPv6", NULL, err);
	}
	if (s->peer_xdp) {
		err = ethtool_set(s->peer, ETHTOOL_SGRO, 1);
		if (err)
			return veth_err(s->peer, "GRO on", NULL, err);
		err = ethtool_set(s->peer, ETHTOOL_STXCSUM, 0);
		if (err)
			return veth_err(s->peer, "tx checksum offload off", NULL, err);
	}
	nl = nl_alloc();
	if (!nl)
		return veth_err(s->peer, "netlink", NULL, -errno);
	err = link_up(nl, s->peer);
	if (err)
		veth_err(s->peer, "set up", nl, err);
	nl_free(nl);
	return err;
}

static int veth_add(struct nl *nl, const struct veth_spec *s, int ns_fd)
{
	struct nlmsghdr *h = nl_request(nl, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL,
					sizeof(struct ifinfomsg));
	struct nlattr *info, *data, *peer;
	struct ifinfomsg *pi;

	mnl_attr_put_strz(h, IFLA_IFNAME, s->name);
	mnl_attr_put_u32(h, IFLA_MTU, s->mtu);
	info = mnl_attr_nest_start(h, IFLA_LINKINFO);
	mnl_attr_put_strz(h, IFLA_INFO_KIND, "veth");
	data = mnl_attr_nest_start(h, IFLA_INFO_DATA);
	/* The peer's attributes follow its own ifinfomsg. */
	peer = mnl_attr_nest_start(h, VETH_INFO_PEER);
	pi = mnl_nlmsg_put_extra_header(h, sizeof(*pi));
	pi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(h, IFLA_IFNAME, s->peer);
	mnl_attr_put_u32(h, IFLA_MTU, s->mtu);
	if (s->peer_mac)
		mnl_attr_put(h, IFLA_ADDRESS, 6, s->peer_mac);
	mnl_attr_put_u32(h, IFLA_NET_NS_FD, ns_fd);
	mnl_attr_nest_end(h, peer);
	mnl_attr_nest_end(h, data);
	mnl_attr_nest_end(h, info);
	return nl_talk(nl, h);
}

int veth_create(const struct veth_spec *s)
{
	struct nl *nl;
	int ns_fd, err;

	ns_fd = netns_open(s->netns);
	if (ns_fd < 0)
		return veth_err(s->name, s->netns, NULL, ns_fd);
	nl = nl_alloc();
	if (!nl) {
		close(ns_fd);
		return veth_err(s->name, "netlink", NULL, -errno);
	}
	err = veth_add(nl, s, ns_fd);
	close(ns_fd);
	if (err) {
		char what[96];

		snprintf(what, sizeof(what), "create with peer %s in %s", s->peer, s->netns);
		veth_err(s->name, what, nl, err);
		goto out;
	}
	/* The node's end must not talk on its own (IPv6 router solicitations …). */
	err = no_ipv6(s->name, NULL);
	if (err) {
		veth_err(s->name, "disable IPv6", NULL, err);
		goto undo;
	}
	err = netns_call(s->netns, peer_setup_here, (void *)s);
	if (err)
		goto undo;
	err = link_up(nl, s->name);
	if (err) {
		veth_err(s->name, "set up", nl, err);
		goto undo;
	}
	goto out;
undo:
	veth_del(s->name);
out:
	nl_free(nl);
	return err;
}

int veth_del(const char *name)
{
	struct nl *nl = nl_alloc();
	struct nlmsghdr *h;
	int err;

	if (!nl)
		return veth_err(name, "netlink", NULL, -errno);
	h = nl_request(nl, RTM_DELLINK, 0, sizeof(struct ifinfomsg));
	mnl_attr_put_strz(h, IFLA_IFNAME, name);
	err = nl_talk(nl, h);
	if (err == -ENODEV)
		err = 0;	/* gone with its namespace */
	else if (err)
		veth_err(name, "delete", nl, err);
	nl_free(nl);
	return err;
}
