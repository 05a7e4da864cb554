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

#define NL_BUF_LEN	(256u << 10)
#define NL_RCVBUF	(8u << 20)
#define NL_DUMP_TRIES	5
/* Event receives per nl_poll: a burst of route changes must not stall the data path. */
#define NL_POLL_BUDGET	64

static const int nl_groups[] = {
	RTNLGRP_LINK, RTNLGRP_NEIGH, RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE,
};

int nl_open(struct fe_nl *nl)
{
	struct sockaddr_nl local = { .nl_family = AF_NETLINK };
	int size = NL_RCVBUF;

	memset(nl, 0, sizeof(*nl));
	nl->req_fd = nl->ev_fd = -1;
	nl->buf_len = NL_BUF_LEN;
	nl->buf = malloc(nl->buf_len);
	if (!nl->buf)
		return -ENOMEM;
	nl->req_fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	nl->ev_fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
	if (nl->req_fd < 0 || nl->ev_fd < 0)
		goto err;
	/* Broadcasts skip sockets without a port id: bind before joining groups. */
	if (bind(nl->ev_fd, (struct sockaddr *)&local, sizeof(local)))
		goto err;
	for (size_t i = 0; i < ARRAY_SIZE(nl_groups); i++)
		if (setsockopt(nl->ev_fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &nl_groups[i],
			       sizeof(nl_groups[i])))
			goto err;
	/* FORCE needs CAP_NET_ADMIN, which the engine has at this point; else take what we get. */
	for (int fd = nl->req_fd, i = 0; i < 2; fd = nl->ev_fd, i++)
		if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)))
			setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	nl->seq = 1;
	return 0;
err:
	{
		int err = -errno;

		nl_close(nl);
		return err;
	}
}

void nl_close(struct fe_nl *nl)
{
	if (nl->req_fd >= 0)
		close(nl->req_fd);
	if (nl->ev_fd >= 0)
		close(nl->ev_fd);
	free(nl->buf);
	nl->req_fd = nl->ev_fd = -1;
	nl->buf = NULL;
}

/* ---- messages to rib updates ---- */

static void parse_attrs(struct rtattr *tb[], int max, struct rtattr *rta, int len)
{
	memset(tb, 0, sizeof(*tb) * (max + 1));
	for (; RTA_OK(rta, len); rta = RTA_NEXT(rta, len))
		if (rta->rta_type <= max)
			tb[rta->rta_type] = rta;
}

static void nl_link(struct engine *e, struct nlmsghdr *nlh)
{
	struct ifinfomsg *ifi = NLMSG_DATA(nlh);
	struct rtattr *tb[IFLA_MAX + 1];
	const struct fe_link *old;
	struct fe_link l = {};

	if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*ifi)))
		return;
	old = rib_link(&e->rib, ifi->ifi_index);
	if (nlh->nlmsg_type == RTM_DELLINK) {
		rib_link_del(&e->rib, ifi->ifi_index);
		/* Routes through it vanished without notifications. */
		e->nl.resync = true;
		return;
	}
	parse_attrs(tb, IFLA_MAX, IFLA_RTA(ifi), IFLA_PAYLOAD(nlh));
	l.ifindex = ifi->ifi_index;
	l.flags = ifi->ifi_flags;
	if (tb[IFLA_IFNAME])
		snprintf(l.name, sizeof(l.name), "%s", (char *)RTA_DATA(tb[IFLA_IFNAME]));
	else if (old)
		memcpy(l.name, old->name, sizeof(l.name));
	if (tb[IFLA_ADDRESS] && RTA_PAYLOAD(tb[IFLA_ADDRESS]) == 6)
		memcpy(l.mac, RTA_DATA(tb[IFLA_ADDRESS]), 6);
	else if (old)
		memcpy(l.mac, old->mac, 6);
	if (tb[IFLA_MTU] && RTA_PAYLOAD(tb[IFLA_MTU]) >= 4)
		memcpy(&l.mtu, RTA_DATA(tb[IFLA_MTU]), 4);
	else if (old)
		l.mtu = old->mtu;
	if (old && (old->flags & IFF_UP) && !(l.flags & IFF_UP))
		e->nl.resync = true;
	rib_link_set(&e->rib, &l);
}

static void nl_neigh(struct engine *e, struct nlmsghdr *nlh)
{
	struct ndmsg *ndm = NLMSG_DATA(nlh);
	struct rtattr *tb[NDA_MAX + 1];
	const __u8 *mac = NULL;
	size_t alen;

	if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*ndm)))
		return;
	if (ndm->ndm_family != AF_INET && ndm->ndm_family != AF_INET6)
		return;
	if (ndm->ndm_flags & NTF_PROXY)
		return;
	parse_attrs(tb, NDA_MAX, (struct rtattr *)((char *)ndm + NLMSG_ALIGN(sizeof(*ndm))),
		    nlh->nlmsg_len - NLMSG_LENGTH(sizeof(*ndm)));
	alen = ndm->ndm_family == AF_INET ? 4 : 16;
	if (!tb[NDA_DST] || RTA_PAYLOAD(tb[NDA_DST]) != alen)
		return;
	/* Entries the kernel would send to: confirmed, stale (it re-probes), static. */
	if (nlh->nlmsg_type == RTM_NEWNEIGH && tb[NDA_LLADDR] &&
	    RTA_PAYLOAD(tb[NDA_LLADDR]) == 6 &&
	    (ndm->ndm_state & (NUD_PERMANENT | NUD_NOARP | NUD_REACHABLE | NUD_STALE |
			       NUD_DELAY | NUD_PROBE)))
		mac = RTA_DATA(tb[NDA_LLADDR]);
	rib_neigh_set(&e->rib, ndm->ndm_family, ndm->ndm_ifindex, RTA_DATA(tb[NDA_DST]), mac,
		      ndm->ndm_state);
}

static int parse_gw(struct rtattr *tb[], int family, struct fe_path *p)
{
	if (tb[RTA_GATEWAY]) {
		size_t alen = family == AF_INET ? 4 : 16;

		if (RTA_PAYLOAD(tb[RTA_GATEWAY]) != alen)
			return -EINVAL;
		p->family = family;
		memcpy(p->gw, RTA_DATA(tb[RTA_GATEWAY]), alen);
	} else if (tb[RTA_VIA]) {
		/* An IPv4 route through an IPv6 neighbour (RFC 5549), or the reverse. */
		struct rtvia *via = RTA_DATA(tb[RTA_VIA]);
		size_t alen;

		if (RTA_PAYLOAD(tb[RTA_VIA]) < sizeof(*via))
			return -EINVAL;
		alen = via->rtvia_family == AF_INET ? 4 : via->rtvia_family == AF_INET6 ? 16 : 0;
		if (!alen || RTA_PAYLOAD(tb[RTA_VIA]) < sizeof(*via) + alen)
			return -EINVAL;
		p->family = via->rtvia_family;
		memcpy(p->gw, via->rtvia_addr, alen);
	}
	return 0;
}

static int parse_multipath(struct rtattr *mp, int family, struct fe_nh_key *k)
{
	struct rtnexthop *nh = RTA_DATA(mp);
	int len = RTA_PAYLOAD(mp);

	for (; RTNH_OK(nh, len); len -= NLMSG_ALIGN(nh->rtnh_len), nh = RTNH_NEXT(nh)) {
		struct rtattr *tb[RTA_MAX + 1];
		struct fe_path *p;

		if (k->npaths == FE_MAX_PATHS)
			return -E2BIG;
		p = &k->paths[k->npaths];
		p->oif = nh->rtnh_ifindex;
		parse_attrs(tb, RTA_MAX, RTNH_DATA(nh), nh->rtnh_len - sizeof(*nh));
		if (parse_gw(tb, family, p))
			return -EINVAL;
		if (!p->oif)
			return -EINVAL;
		k->npaths++;
	}
	return k->npaths ? 0 : -EINVAL;
}

static void nl_route(struct engine *e, struct nlmsghdr *nlh)
{
	struct rtmsg *rtm = NLMSG_DATA(nlh);
	struct rtattr *tb[RTA_MAX + 1];
	struct fe_route_msg m;
	size_t alen;
	int err;

	if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*rtm)))
		return;
	if (rtm->rtm_family != AF_INET && rtm->rtm_family != AF_INET6)
		return;
	parse_attrs(tb, RTA_MAX, RTM_RTA(rtm), RTM_PAYLOAD(nlh));
	memset(&m, 0, sizeof(m));
	m.family = rtm->rtm_family;
	m.plen = rtm->rtm_dst_len;
	m.table = rtm->rtm_table;
	if (tb[RTA_TABLE] && RTA_PAYLOAD(tb[RTA_TABLE]) >= 4)
		memcpy(&m.table, RTA_DATA(tb[RTA_TABLE]), 4);
	if (tb[RTA_PRIORITY] && RTA_PAYLOAD(tb[RTA_PRIORITY]) >= 4)
		memcpy(&m.prio, RTA_DATA(tb[RTA_PRIORITY]), 4);

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
		if (RTA_PAYLOAD(tb[RTA_DST]) != alen)
			return;
		memcpy(m.addr, RTA_DATA(tb[RTA_DST]), alen);
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
		} else if (tb[RTA_OIF] && RTA_PAYLOAD(tb[RTA_OIF]) >= 4) {
			memcpy(&m.nh.paths[0].oif, RTA_DATA(tb[RTA_OIF]), 4);
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

static void nl_handle(struct engine *e, struct nlmsghdr *nlh)
{
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
}

/* ---- dumps ---- */

static ssize_t nl_recv(struct fe_nl *nl, int fd, int flags)
{
	struct sockaddr_nl sa;
	struct iovec iov = { nl->buf, nl->buf_len };
	struct msghdr msg = { .msg_name = &sa, .msg_namelen = sizeof(sa), .msg_iov = &iov,
			      .msg_iovlen = 1 };
	ssize_t n;

	do
		n = recvmsg(fd, &msg, flags);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (msg.msg_flags & MSG_TRUNC)
		return -ENOBUFS;	/* a message was cut: as good as lost */
	if (sa.nl_pid != 0)
		return 0;		/* not from the kernel */
	return n;
}

static int nl_dump(struct engine *e, int type, int family)
{
	struct fe_nl *nl = &e->nl;
	struct {
		struct nlmsghdr nlh;
		struct rtgenmsg g;
	} req = {
		.nlh = {
			.nlmsg_len = NLMSG_LENGTH(sizeof(struct rtgenmsg)),
			.nlmsg_type = type,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
			.nlmsg_seq = ++nl->seq,
		},
		.g = { .rtgen_family = family },
	};
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	bool intr = false;
	__u64 msgs = 0;

	if (sendto(nl->req_fd, &req, req.nlh.nlmsg_len, 0, (struct sockaddr *)&kernel,
		   sizeof(kernel)) < 0)
		return -errno;
	for (;;) {
		ssize_t n = nl_recv(nl, nl->req_fd, 0);
		struct nlmsghdr *nlh;
		int len = (int)n;

		if (n < 0)
			return (int)n;
		for (nlh = (struct nlmsghdr *)nl->buf; NLMSG_OK(nlh, len);
		     nlh = NLMSG_NEXT(nlh, len)) {
			if (nlh->nlmsg_seq != req.nlh.nlmsg_seq)
				continue;
			/* The table changed under the dump: read on to the end, then start over. */
			if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
				intr = true;
			if (nlh->nlmsg_type == NLMSG_DONE)
				return intr ? -EAGAIN : 0;
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *err = NLMSG_DATA(nlh);

				return err->error ?: -EPROTO;
			}
			nl_handle(e, nlh);
			/* Long dumps (full tables) keep the heartbeat going. */
			if (!(++msgs & 4095) && e->beat)
				e->beat(e);
		}
	}
}

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
			err = nl_dump(e, dumps[i].type, dumps[i].family);
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
	for (int i = 0; i < 100000; i++) {
		ssize_t n = nl_recv(&e->nl, e->nl.ev_fd, MSG_DONTWAIT);

		if (n < 0 && n != -ENOBUFS)
			break;
	}
	e->nl.resyncs++;
	err = nl_dump_all(e);
	if (err)
		pr_warn("netlink: re-dump failed: %s\n", strerror(-err));
	return err;
}

int nl_poll(struct engine *e)
{
	struct fe_nl *nl = &e->nl;

	for (int i = 0; i < NL_POLL_BUDGET; i++) {
		ssize_t n = nl_recv(nl, nl->ev_fd, MSG_DONTWAIT);
		struct nlmsghdr *nlh;
		int len = (int)n;

		if (n == -EAGAIN)
			break;
		if (n == -ENOBUFS) {
			nl->resync = true;
			continue;
		}
		if (n < 0)
			return (int)n;
		for (nlh = (struct nlmsghdr *)nl->buf; NLMSG_OK(nlh, len);
		     nlh = NLMSG_NEXT(nlh, len)) {
			nl->events++;
			nl_handle(e, nlh);
		}
	}
	return nl->resync ? nl_resync(e) : 0;
}
