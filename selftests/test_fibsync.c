// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * fibsync's mapping rules, without a namespace or maps: rtnetlink messages
 * built here are fed to the mirror, and the desired BPF nexthop of each
 * prefix is compared with what the rules in user/lib/fibsync.c say.
 *
 * The router has VIF 1 (peer ifindex 11, port 101, untagged) and VIF 2
 * (peer 12, port 102, VLAN 7); ifindex 13 is an interface of the namespace
 * that is no VIF (a tunnel, say).
 */
#include <stdlib.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/neighbour.h>
#include "test_progs.h"
#include "common.h"
#include "fibsync.h"

struct msg {
	union {
		struct nlmsghdr h;
		__u8 buf[2048];
	};
};

static void *msg_tail(struct msg *m)
{
	return m->buf + NLMSG_ALIGN(m->h.nlmsg_len);
}

static void msg_attr(struct msg *m, int type, const void *data, int len)
{
	struct rtattr *a = msg_tail(m);

	a->rta_type = type;
	a->rta_len = RTA_LENGTH(len);
	memcpy(RTA_DATA(a), data, len);
	m->h.nlmsg_len = NLMSG_ALIGN(m->h.nlmsg_len) + RTA_ALIGN(a->rta_len);
}

/* One path of a route: out of oif, via gw (NULL: a device route), with weight. */
struct path {
	__u32 oif;
	const char *gw;
	int weight;
};

struct route {
	const char *dst;	/* "10.0.0.0/8" */
	__u32 table;		/* 0: main */
	__u8 type;		/* 0: unicast */
	__u32 metric;
	__u8 tos;
	struct path p[4];	/* a zero oif ends the list; two or more: multipath */
};

static int npaths(const struct route *r)
{
	int n = 0;

	while (n < 4 && r->p[n].oif)
		n++;
	return n;
}

static int feed_route(struct fibsync *fs, __u16 type, __u16 flags, const struct route *r)
{
	struct msg m = {};
	struct rtmsg *rtm = NLMSG_DATA(&m.h);
	__u8 dst[16], gw[16];
	int family, plen, n = npaths(r), gfam;

	if (parse_prefix(r->dst, &family, dst, &plen))
		return -EINVAL;
	m.h.nlmsg_len = NLMSG_LENGTH(sizeof(*rtm));
	m.h.nlmsg_type = type;
	m.h.nlmsg_flags = flags;
	rtm->rtm_family = family;
	rtm->rtm_dst_len = plen;
	rtm->rtm_tos = r->tos;
	rtm->rtm_table = r->table ? r->table : RT_TABLE_MAIN;
	rtm->rtm_type = r->type ? r->type : RTN_UNICAST;
	msg_attr(&m, RTA_DST, dst, family == AF_INET ? 4 : 16);
	msg_attr(&m, RTA_PRIORITY, &r->metric, 4);
	if (n == 1) {
		msg_attr(&m, RTA_OIF, &r->p[0].oif, 4);
		if (r->p[0].gw && !parse_addr(r->p[0].gw, &gfam, gw)) {
			if (gfam == family) {
				msg_attr(&m, RTA_GATEWAY, gw, gfam == AF_INET ? 4 : 16);
			} else {
				/* Another family's gateway comes as RTA_VIA. */
				__u8 via[2 + 16];

				*(__u16 *)via = gfam;
				memcpy(via + 2, gw, 16);
				msg_attr(&m, RTA_VIA, via, 2 + (gfam == AF_INET ? 4 : 16));
			}
		}
	} else if (n > 1) {
		struct rtattr *mp = msg_tail(&m);
		int start = NLMSG_ALIGN(m.h.nlmsg_len);

		mp->rta_type = RTA_MULTIPATH;
		m.h.nlmsg_len = start + RTA_LENGTH(0);
		for (int i = 0; i < n; i++) {
			struct rtnexthop *nh = msg_tail(&m);
			int nh_start = NLMSG_ALIGN(m.h.nlmsg_len);

			memset(nh, 0, sizeof(*nh));
			nh->rtnh_ifindex = r->p[i].oif;
			nh->rtnh_hops = r->p[i].weight ? r->p[i].weight - 1 : 0;
			m.h.nlmsg_len = nh_start + RTNH_LENGTH(0);
			if (r->p[i].gw && !parse_addr(r->p[i].gw, &gfam, gw))
				msg_attr(&m, RTA_GATEWAY, gw, gfam == AF_INET ? 4 : 16);
			nh->rtnh_len = m.h.nlmsg_len - nh_start;
		}
		mp->rta_len = m.h.nlmsg_len - start;
	}
	return fibsync_msg(fs, &m.h, false);
}

static int feed_neigh(struct fibsync *fs, __u16 type, __u32 ifindex, const char *addr,
		      __u16 state, const char *mac)
{
	struct msg m = {};
	struct ndmsg *nd = NLMSG_DATA(&m.h);
	__u8 a[16], ll[6];
	int family;

	if (parse_addr(addr, &family, a))
		return -EINVAL;
	m.h.nlmsg_len = NLMSG_LENGTH(sizeof(*nd));
	m.h.nlmsg_type = type;
	nd->ndm_family = family;
	nd->ndm_ifindex = ifindex;
	nd->ndm_state = state;
	msg_attr(&m, NDA_DST, a, family == AF_INET ? 4 : 16);
	if (mac && !parse_mac(mac, ll))
		msg_attr(&m, NDA_LLADDR, ll, 6);
	return fibsync_msg(fs, &m.h, false);
}

/* What the desired BPF entry of prefix is; kind as a word, for messages. */
struct got {
	int err;
	struct nexthop nh;
	struct nexthop m[XVR_MAX_ECMP];
	int nm;
};

static struct got want(struct fibsync *fs, const char *prefix)
{
	struct got g = {};
	__u8 addr[16];
	int family, plen;

	fibsync_compute(fs);
	if (parse_prefix(prefix, &family, addr, &plen))
		g.err = -EINVAL;
	else
		g.err = fibsync_desired_get(fs, family, addr, plen, &g.nh, g.m, &g.nm);
	return g;
}

static bool is_kind(struct nexthop nh, __u16 flag)
{
	return (nh.flags & XVR_NH_VALID) && (nh.flags & flag);
}

static bool is_punt(struct nexthop nh)
{
	return is_kind(nh, XVR_NH_UNRESOLVED) && !nh.ifindex && !nh.family;
}

static bool gw_is(struct nexthop nh, const char *addr)
{
	__u8 a[16] = {};
	int family;

	return !parse_addr(addr, &family, a) && nh.family == family && !memcmp(nh.gw, a, 16);
}

static const char *MAC_H2 = "02:00:00:00:00:02";

static struct fibsync *setup(void)
{
	__u32 ids[2] = { 1, 2 };
	struct xvr_vif v[2] = {
		{ .flags = XVR_VIF_ACTIVE, .vr_id = 5, .port = 101, .peer = 11,
		  .mac = { 2, 0x78, 0x76, 5, 0, 1 } },
		{ .flags = XVR_VIF_ACTIVE, .vr_id = 5, .port = 102, .peer = 12, .vlan = 7,
		  .mac = { 2, 0x78, 0x76, 5, 0, 2 } },
	};
	struct fibsync *fs = fibsync_new(5);

	if (fs)
		fibsync_set_vifs(fs, ids, v, 2);
	return fs;
}

static void connected_and_neighbours(void)
{
	struct fibsync *fs = setup();
	struct route conn = { .dst = "10.1.0.0/24", .p = { { 11 } } };
	struct route via = { .dst = "10.99.0.0/16", .p = { { 11, "10.1.0.2" } } };
	struct route more = { .dst = "10.1.0.0/28", .p = { { 12, "10.2.0.9" } } };
	struct route host = { .dst = "10.1.0.2/32", .type = RTN_BLACKHOLE };
	struct got g;

	if (!ASSERT_OK_PTR(fs, "fibsync_new"))
		return;
	ASSERT_OK(feed_route(fs, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, &conn), "connected");
	g = want(fs, "10.1.0.0/24");
	ASSERT_OK(g.err, "connected prefix installed");
	ASSERT_TRUE(is_kind(g.nh, XVR_NH_UNRESOLVED) && g.nh.ifindex == 101 && !g.nh.family,
		    "connected: unresolved on VIF 1's port, no gateway");
	ASSERT_EQ(g.nh.smac[5], 1, "source MAC is the VIF's");

	ASSERT_OK(feed_route(fs, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, &via), "via");
	g = want(fs, "10.99.0.0/16");
	ASSERT_TRUE(is_kind(g.nh, XVR_NH_UNRESOLVED) && gw_is(g.nh, "10.1.0.2"),
		    "gateway without neighbour: unresolved");
	ASSERT_EQ(want(fs, "10.1.0.2/32").err, -ENOENT, "no host route without neighbour");

	ASSERT_OK(feed_neigh(fs, RTM_NEWNEIGH, 11, "10.1.0.2", NUD_REACHABLE, MAC_H2), "neigh");
	g = want(fs, "10.99.0.0/16");
	ASSERT_TRUE(!(g.nh.flags & XVR_NH_UNRESOLVED) && g.nh.dmac[5] == 2,
		    "reachable neighbour: resolved with its MAC");
	g = want(fs, "10.1.0.2/32");
	ASSERT_OK(g.err, "host route for the neighbour in the connected subnet");
	ASSERT_TRUE(g.nh.ifindex == 101 && g.nh.dmac[5] == 2, "host route: its MAC, its VIF");

	ASSERT_OK(feed_route(fs, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, &more), "more");
	ASSERT_EQ(want(fs, "10.1.0.2/32").err, -ENOENT,
		  "no host route where a gateway route is the longest match");
	ASSERT_OK(feed_route(fs, RTM_DELROUTE, 0, &more), "del more");
	ASSERT_OK(want(fs, "10.1.0.2/32").err, "host route back");

	ASSERT_OK(feed_route(fs, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, &host), "host");
	ASSERT_TRUE(is_kind(want(fs, "10.1.0.2/32").nh, XVR_NH_BLACKHOLE),
		    "the kernel's own route for the host wins");
	ASSERT_OK(feed_route(fs, RTM_DELROUTE, 0, &host), "del host");

	ASSERT_OK(feed_neigh(fs, RTM_NEWNEIGH, 11, "10.1.0.2", NUD_STALE, MAC_H2), "stale");
	ASSERT_FALSE(want(fs, "10.99.0.0/16").nh.flags & XVR_NH_UNRESOLVED, "stale is usable");
	ASSERT_OK(feed_neigh(fs, RTM_NEWNEIGH, 11, "10.1.0.2", NUD_FAILED, NULL), "failed");
	ASSERT_TRUE(want(fs, "10.99.0.0/16").nh.flags & XVR_NH_UNRESOLVED, "failed: unresolved");
	ASSERT_EQ(want(fs, "10.1.0.2/32").err, -ENOENT, "failed: host route gone");
	ASSERT_OK(feed_neigh(fs, RTM_NEWNEIGH, 11, "10.1.0.2", NUD_PERMANENT, MAC_H2), "perm");
	ASSERT_OK(feed_neigh(fs, RTM_DELNEIGH, 11, "10.1.0.2", 0, NULL), "del neigh");
	ASSERT_TRUE(want(fs, "10.99.0.0/16").nh.flags & XVR_NH_UNRESOLVED, "deleted: unresolved");
	ASSERT_OK(feed_neigh(fs, RTM_NEWNEIGH, 13, "10.1.0.2", NUD_REACHABLE, MAC_H2), "other if");
	ASSERT_TRUE(want(fs, "10.99.0.0/16").nh.flags & XVR_NH_UNRESOLVED,
		    "a neighbour on another interface does not resolve it");
	fibsync_free(fs);
}

static void kinds(void)
{
	struct fibsync *fs = setup();
	static const struct route rs[] = {
		{ .dst = "10.1.0.1/32", .table = RT_TABLE_LOCAL, .type = RTN_LOCAL,
		  .p = { { 11 } } },
		{ .dst = "10.1.0.255/32", .table = RT_TABLE_LOCAL, .type = RTN_BROADCAST,
		  .p = { { 11 } } },
		{ .dst = "224.0.0.0/4", .table = RT_TABLE_LOCAL, .type = RTN_MULTICAST,
		  .p = { { 11 } } },
		{ .dst = "10.97.0.0/16", .type = RTN_BLACKHOLE },
		{ .dst = "10.96.0.0/16", .type = RTN_UNREACHABLE },
		{ .dst = "10.95.0.0/16", .type = RTN_PROHIBIT },
		{ .dst = "10.94.0.0/16", .p = { { 13, "10.3.0.2" } } },
		{ .dst = "10.93.0.0/16", .tos = 0x10, .p = { { 11, "10.1.0.2" } } },
		{ .dst = "10.92.0.0/16", .p = { { 11, "10.1.0.2" }, { 13, "10.3.0.2" } } },
		{ .dst = "fe80::/64", .metric = 256, .p = { { 11 } } },
		{ .dst = "2001:db8::/64", .metric = 256, .p = { { 12 } } },
		{ .dst = "2001:db8:9::/48", .metric = 1024, .p = { { 12, "fe80::1" } } },
		{ .dst = "10.91.0.0/16", .p = { { 12, "2001:db8::7" } } },
		{ .dst = "0.0.0.0/0", .p = { { 11, "10.1.0.2" } } },
	};
	struct got g;

	if (!ASSERT_OK_PTR(fs, "fibsync_new"))
		return;
	for (size_t i = 0; i < ARRAY_SIZE(rs); i++)
		ASSERT_OK(feed_route(fs, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, &rs[i]),
			  rs[i].dst);
	ASSERT_TRUE(is_kind(want(fs, "10.1.0.1/32").nh, XVR_NH_LOCAL), "local address: local");
	ASSERT_TRUE(is_kind(want(fs, "10.1.0.255/32").nh, XVR_NH_LOCAL), "broadcast: local");
	ASSERT_EQ(want(fs, "224.0.0.0/4").err, -ENOENT, "multicast left to ingress");
	ASSERT_TRUE(is_kind(want(fs, "10.97.0.0/16").nh, XVR_NH_BLACKHOLE), "blackhole");
	ASSERT_TRUE(is_punt(want(fs, "10.96.0.0/16").nh), "unreachable: punt");
	ASSERT_TRUE(is_punt(want(fs, "10.95.0.0/16").nh), "prohibit: punt");
	ASSERT_TRUE(is_punt(want(fs, "10.94.0.0/16").nh), "out of a non-VIF: punt");
	ASSERT_TRUE(is_punt(want(fs, "10.93.0.0/16").nh), "TOS route: punt");
	ASSERT_TRUE(is_punt(want(fs, "10.92.0.0/16").nh), "multipath with a non-VIF path: punt");
	ASSERT_EQ(want(fs, "fe80::/64").err, -ENOENT, "IPv6 link-local left out");
	g = want(fs, "2001:db8::/64");
	ASSERT_TRUE(g.nh.ifindex == 102 && g.nh.vlan == 7 && (g.nh.flags & XVR_NH_UNRESOLVED),
		    "IPv6 connected on the VLAN VIF");
	ASSERT_TRUE(gw_is(want(fs, "2001:db8:9::/48").nh, "fe80::1"), "link-local gateway kept");
	ASSERT_TRUE(gw_is(want(fs, "10.91.0.0/16").nh, "2001:db8::7"),
		    "IPv4 route via an IPv6 gateway");
	ASSERT_TRUE(gw_is(want(fs, "0.0.0.0/0").nh, "10.1.0.2"), "default route");
	fibsync_free(fs);
}

static void multipath_metrics_updates(void)
{
	struct fibsync *fs = setup();
	struct route ecmp = { .dst = "10.98.0.0/16",
			      .p = { { 11, "10.1.0.2", 1 }, { 12, "10.2.0.2", 3 } } };
	struct route hi = { .dst = "10.50.0.0/16", .metric = 100, .p = { { 11, "10.1.0.2" } } };
	struct route lo = { .dst = "10.50.0.0/16", .metric = 50, .p = { { 12, "10.2.0.2" } } };
	struct route alias = { .dst = "10.50.0.0/16", .metric = 50, .p = { { 11, "10.1.0.3" } } };
	struct route six = { .dst = "2001:db8:5::/48", .metric = 1024,
			     .p = { { 11, "2001:db8::2" }, { 12, "2001:db8::3" } } };
	struct got g;

	if (!ASSERT_OK_PTR(fs, "fibsync_new"))
		return;
	ASSERT_OK(feed_route(fs, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, &ecmp), "ecmp");
	g = want(fs, "10.98.0.0/16");
	ASSERT_TRUE(is_kind(g.nh, XVR_NH_GROUP), "multipath: a group");
	ASSERT_EQ(g.nm, 4, "weights 1 and 3: four members");
	ASSERT_TRUE(g.m[0].ifindex == 101 && g.m[1].ifindex == 102 && g.m[3].vlan == 7,
		    "members in path order, repeated by weight");

	ASSERT_OK(feed_route(fs, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, &hi), "metric 100");
	ASSERT_OK(feed_route(fs, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, &lo), "metric 50");
	ASSERT_EQ(want(fs, "10.50.0.0/16").nh.ifindex, 102, "the lower metric wins");
	ASSERT_EQ(feed_route(fs, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, &lo), 0,
		  "a replayed add changes nothing");
	ASSERT_EQ(feed_route(fs, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_APPEND, &alias),
		  FIBSYNC_RESYNC_ROUTES4, "an alias appended to a taken slot asks for a re-dump");
	ASSERT_EQ(feed_route(fs, RTM_NEWROUTE, NLM_F_CREATE, &alias), FIBSYNC_RESYNC_ROUTES4,
		  "so does a prepend");
	ASSERT_OK(feed_route(fs, RTM_NEWROUTE, NLM_F_REPLACE, &alias), "replace");
	g = want(fs, "10.50.0.0/16");
	ASSERT_TRUE(g.nh.ifindex == 101 && gw_is(g.nh, "10.1.0.3"), "a replace takes effect");
	ASSERT_OK(feed_route(fs, RTM_DELROUTE, 0, &alias), "del metric 50");
	ASSERT_TRUE(gw_is(want(fs, "10.50.0.0/16").nh, "10.1.0.2"), "metric 100 takes over");
	ASSERT_OK(feed_route(fs, RTM_DELROUTE, 0, &hi), "del metric 100");
	ASSERT_EQ(want(fs, "10.50.0.0/16").err, -ENOENT, "gone with its last route");

	ASSERT_OK(feed_route(fs, RTM_NEWROUTE, NLM_F_CREATE, &six), "ipv6 multipath");
	ASSERT_EQ(want(fs, "2001:db8:5::/48").nm, 2, "IPv6 multipath: two members");
	ASSERT_EQ(feed_route(fs, RTM_DELROUTE, 0, &(struct route){ .dst = "2001:db8:5::/48",
		  .metric = 1024, .p = { { 11, "2001:db8::2" } } }), FIBSYNC_RESYNC_ROUTES6,
		  "deleting one IPv6 sibling asks for a re-dump");
	fibsync_free(fs);
}

static void local_table_first(void)
{
	struct fibsync *fs = setup();
	struct route anyip = { .dst = "10.0.0.0/8", .table = RT_TABLE_LOCAL, .type = RTN_LOCAL,
			       .p = { { 1 } } };
	struct route inside = { .dst = "10.99.0.0/16", .p = { { 11, "10.1.0.2" } } };

	if (!ASSERT_OK_PTR(fs, "fibsync_new"))
		return;
	ASSERT_OK(feed_route(fs, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, &inside), "inside");
	ASSERT_FALSE(want(fs, "10.99.0.0/16").nh.flags & XVR_NH_LOCAL, "before: forwarded");
	ASSERT_OK(feed_route(fs, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, &anyip), "local /8");
	ASSERT_TRUE(is_kind(want(fs, "10.99.0.0/16").nh, XVR_NH_LOCAL),
		    "a local /8 covers a longer main route (table local is looked up first)");
	ASSERT_OK(feed_route(fs, RTM_DELROUTE, 0, &anyip), "del local /8");
	ASSERT_FALSE(want(fs, "10.99.0.0/16").nh.flags & XVR_NH_LOCAL, "after: forwarded again");
	fibsync_free(fs);
}

void test_fibsync(void)
{
	if (test__start_subtest("connected_and_neighbours"))
		connected_and_neighbours();
	if (test__start_subtest("kinds"))
		kinds();
	if (test__start_subtest("multipath_metrics_updates"))
		multipath_metrics_updates();
	if (test__start_subtest("local_table_first"))
		local_table_first();
}
