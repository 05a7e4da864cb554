// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The engine learns its router's forwarding state the way a routing
 * daemon's FIB agent would: a dump of links, neighbours and routes at
 * start, then the kernel's multicast notifications. Whatever the tenant's
 * control plane (ip, bird, frr) puts into the namespace's main and local
 * tables is what the engine forwards by.
 *
 * Two cases need a fresh dump: ENOBUFS (the kernel dropped notifications
 * because we fell behind) and a link going down or away, because IPv4
 * flushes the routes through a downed link without announcing it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include "common.h"
#include "engine.h"
#include "nl.h"

#define NL_RCVBUF	(8u << 20)
#define NL_DUMP_TRIES	5
/* Event receives per nl_poll: a burst of route changes must not stall the data path. */
#define NL_POLL_BUDGET	64

static const int nl_groups[] = {
	RTNLGRP_LINK, RTNLGRP_NEIGH, RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE,
};

int fe_nl_open(struct fe_nl *nl)
{
	int err;

	memset(nl, 0, sizeof(*nl));
	err = nl_open(&nl->req, NULL, NULL, 0, NL_RCVBUF);
	if (err)
		return err;
	err = nl_open(&nl->ev, NULL, nl_groups, ARRAY_SIZE(nl_groups), NL_RCVBUF);
	if (err)
		nl_close(&nl->req);
	return err;
}

void fe_nl_close(struct fe_nl *nl)
{
	nl_close(&nl->req);
	nl_close(&nl->ev);
}

/* ---- messages to rib updates ---- */

static void nl_link(struct engine *e, const struct nlmsghdr *nlh)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[IFLA_MAX + 1];
	const struct fe_link *old;
	struct fe_link l = {};

	if (nl_attrs(nlh, sizeof(*ifi), tb, IFLA_MAX, nl_link_policy))
		return;
	old = rib_link(&e->rib, ifi->ifi_index);
	if (nlh->nlmsg_type == RTM_DELLINK) {
		rib_link_del(&e->rib, ifi->ifi_index);
		/* Routes through it vanished without notifications. */
		e->nl.resync = true;
		return;
	}
	l.ifindex = ifi->ifi_index;
	l.flags = ifi->ifi_flags;
	if (tb[IFLA_IFNAME])
		snprintf(l.name, sizeof(l.name), "%s", mnl_attr_get_str(tb[IFLA_IFNAME]));
	else if (old)
		memcpy(l.name, old->name, sizeof(l.name));
	if (tb[IFLA_ADDRESS] && mnl_attr_get_payload_len(tb[IFLA_ADDRESS]) == 6)
		memcpy(l.mac, mnl_attr_get_payload(tb[IFLA_ADDRESS]), 6);
	else if (old)
		memcpy(l.mac, old->mac, 6);
	if (tb[IFLA_MTU])
		l.mtu = mnl_attr_get_u32(tb[IFLA_MTU]);
	else if (old)
		l.mtu = old->mtu;
	if (old && (old->flags & IFF_UP) && !(l.flags & IFF_UP))
		e->nl.resync = true;
	rib_link_set(&e->rib, &l);
}

static void nl_neigh(struct engine *e, const struct nlmsghdr *nlh)
{
	const struct ndmsg *ndm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[NDA_MAX + 1];
	const __u8 *mac = NULL;
	size_t alen;

	if (nl_attrs(nlh, sizeof(*ndm), tb, NDA_MAX, nl_neigh_policy))
		return;
	if (ndm->ndm_family != AF_INET && ndm->ndm_family != AF_INET6)
		return;
	if (ndm->ndm_flags & NTF_PROXY)
		return;
	alen = ndm->ndm_family == AF_INET ? 4 : 16;
	if (!tb[NDA_DST] || mnl_attr_get_payload_len(tb[NDA_DST]) != alen)
		return;
	/* Entries the kernel would send to: confirmed, stale (it re-probes), static. */
	if (nlh->nlmsg_type == RTM_NEWNEIGH && tb[NDA_LLADDR] &&
	    mnl_attr_get_payload_len(tb[NDA_LLADDR]) == 6 &&
	    (ndm->ndm_state & (NUD_PERMANENT | NUD_NOARP | NUD_REACHABLE | NUD_STALE |
			       NUD_DELAY | NUD_PROBE)))
		mac = mnl_attr_get_payload(tb[NDA_LLADDR]);
	rib_neigh_set(&e->rib, ndm->ndm_family, ndm->ndm_ifindex,
		      mnl_attr_get_payload(tb[NDA_DST]), mac, ndm->ndm_state);
}

static int parse_gw(const struct nlattr *tb[], int family, struct fe_path *p)
{
	int gw_family, ret = nl_route_gw(tb, family, &gw_family, p->gw);

	if (ret > 0)
		p->family = gw_family;
	return ret < 0 ? ret : 0;
}

static int parse_multipath(const struct nlattr *mp, int family, struct fe_nh_key *k)
{
	const struct rtnexthop *nh = mnl_attr_get_payload(mp);
	int len = mnl_attr_get_payload_len(mp);

	for (; RTNH_OK(nh, len); len -= NLMSG_ALIGN(nh->rtnh_len), nh = RTNH_NEXT(nh)) {
		const struct nlattr *tb[RTA_MAX + 1];
		struct fe_path *p;

		if (k->npaths == FE_MAX_PATHS)
			return -E2BIG;
		p = &k->paths[k->npaths];
		p->oif = nh->rtnh_ifindex;
		if (nl_attrs_buf(RTNH_DATA(nh), nh->rtnh_len - sizeof(*nh), tb, RTA_MAX,
				 nl_route_policy) ||
		    parse_gw(tb, family, p))
			return -EINVAL;
		if (!p->oif)
			return -EINVAL;
		k->npaths++;
	}
	return k->npaths ? 0 : -EINVAL;
}

static void nl_route(struct engine *e, const struct nlmsghdr *nlh)
{
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[RTA_MAX + 1];
	struct fe_route_msg m;
	size_t alen;
	int err;

	if (nl_attrs(nlh, sizeof(*rtm), tb, RTA_MAX, nl_route_policy))
		return;
	if (rtm->rtm_family != AF_INET && rtm->rtm_family != AF_INET6)
		return;
	memset(&m, 0, sizeof(m));
	m.family = rtm->rtm_family;
	m.plen = rtm->rtm_dst_len;
	m.table = tb[RTA_TABLE] ? mnl_attr_get_u32(tb[RTA_TABLE]) : rtm->rtm_table;
	if (tb[RTA_PRIORITY])
		m.prio = mnl_attr_get_u32(tb[RTA_PRIORITY]);

	/*
	 * Policy routing tables, TOS routes and source-specific routes are
	 * the kernel's to apply; the engine knows the main and local tables.
	 */
	if ((m.table != RT_TABLE_MAIN && m.table != RT_TABLE_LOCAL) || rtm->rtm_tos ||
	    rtm->rtm_src_len || (rtm->rtm_flags & RTM_F_CLONED)) {
		e->rib.routes_ignored++;
		return;
	}
	alen = m.family == AF_INET ? 4 : 16;
	if (tb[RTA_DST]) {
		if (mnl_attr_get_payload_len(tb[RTA_DST]) != alen)
			return;
		memcpy(m.addr, mnl_attr_get_payload(tb[RTA_DST]), alen);
	}

	switch (rtm->rtm_type) {
	case RTN_UNICAST:
		m.nh.type = FE_NH_FORWARD;
		if (tb[RTA_NH_ID]) {
			/* Nexthop objects: the kernel resolves them, so its stack forwards. */
			m.nh.type = FE_NH_STACK;
		} else if (tb[RTA_MULTIPATH]) {
			if (parse_multipath(tb[RTA_MULTIPATH], m.family, &m.nh))
				m.nh.type = FE_NH_STACK;
		} else if (tb[RTA_OIF]) {
			m.nh.paths[0].oif = mnl_attr_get_u32(tb[RTA_OIF]);
			m.nh.npaths = 1;
			if (parse_gw(tb, m.family, &m.nh.paths[0]))
				return;
		} else {
			m.nh.type = FE_NH_STACK;
		}
		break;
	case RTN_LOCAL:
		m.nh.type = FE_NH_LOCAL;
		break;
	case RTN_BLACKHOLE:
		m.nh.type = FE_NH_BLACKHOLE;
		break;
	default:
		/* unreachable, prohibit, broadcast, anycast, multicast, throw: the kernel's. */
		m.nh.type = FE_NH_STACK;
		break;
	}
	if (m.nh.type != FE_NH_FORWARD) {
		m.nh.npaths = 0;
		memset(m.nh.paths, 0, sizeof(m.nh.paths));
	}
	if (nlh->nlmsg_type == RTM_NEWROUTE)
		err = rib_route_add(&e->rib, &m, nlh->nlmsg_flags & NLM_F_APPEND);
	else
		err = rib_route_del(&e->rib, &m);
	if (err) {
		char buf[INET6_ADDRSTRLEN];

		pr_warn("route %s/%d: %s\n", fmt_addr(m.family, m.addr, buf), m.plen,
			strerror(-err));
	}
}

static int nl_handle(const struct nlmsghdr *nlh, void *arg)
{
	struct engine *e = arg;

	switch (nlh->nlmsg_type) {
	case RTM_NEWLINK:
	case RTM_DELLINK:
		nl_link(e, nlh);
		break;
	case RTM_NEWNEIGH:
	case RTM_DELNEIGH:
		nl_neigh(e, nlh);
		break;
	case RTM_NEWROUTE:
	case RTM_DELROUTE:
		nl_route(e, nlh);
		break;
	}
	/* Long dumps (full tables) keep the heartbeat going. */
	if (!(++e->nl.msgs & 4095) && e->beat)
		e->beat(e);
	return 0;
}

/* ---- dumps ---- */

int nl_dump_all(struct engine *e)
{
	static const struct {
		int type, family;
	} dumps[] = {
		{ RTM_GETLINK, AF_UNSPEC },
		{ RTM_GETNEIGH, AF_INET },
		{ RTM_GETNEIGH, AF_INET6 },
		{ RTM_GETROUTE, AF_INET },
		{ RTM_GETROUTE, AF_INET6 },
	};
	int err = 0;

	for (int attempt = 0; attempt < NL_DUMP_TRIES; attempt++) {
		err = rib_reset(&e->rib);
		if (err)
			return err;
		for (size_t i = 0; i < ARRAY_SIZE(dumps) && !err; i++)
			err = nl_dump(&e->nl.req, dumps[i].type, dumps[i].family,
				      sizeof(struct rtgenmsg), nl_handle, e);
		if (err != -EAGAIN)
			break;
	}
	e->nl.resync = false;
	return err;
}

static int nl_resync(struct engine *e)
{
	int err;

	/* What is queued is older than the dump we are about to take. */
	nl_drain(&e->nl.ev);
	e->nl.resyncs++;
	err = nl_dump_all(e);
	if (err)
		pr_warn("netlink: re-dump failed: %s\n", strerror(-err));
	return err;
}

int nl_poll(struct engine *e)
{
	struct fe_nl *nl = &e->nl;
	int n = nl_read(&nl->ev, NL_POLL_BUDGET, nl_handle, e);

	if (n < 0)
		return n;
	nl->events += n;
	return nl->resync || nl->ev.lost ? nl_resync(e) : 0;
}
