// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* user/lib/nl.c: attribute validation against policies, gateways, and a live dump and error. */
#include <net/if.h>
#include <sys/socket.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include "test_progs.h"
#include "nl.h"

/* A route message built with libmnl, plus raw bytes where a row wants them malformed. */
struct attr_case {
	const char *name;
	int type;		/* RTA_* */
	int len;		/* payload bytes */
	int claim;		/* nla_len to write instead of the real one; 0: real */
	int want;		/* nl_attrs' return */
};

static const struct attr_case attr_cases[] = {
	{ "oif u32", RTA_OIF, 4, 0, 0 },
	{ "oif two bytes", RTA_OIF, 2, 0, -EINVAL },
	{ "oif eight bytes", RTA_OIF, 8, 0, -EINVAL },
	{ "table u32", RTA_TABLE, 4, 0, 0 },
	{ "via shorter than struct rtvia", RTA_VIA, 1, 0, -EINVAL },
	{ "via family only", RTA_VIA, 2, 0, 0 },
	{ "dst of any length (checked by family later)", RTA_DST, 3, 0, 0 },
	{ "unknown type past RTA_MAX skipped", RTA_MAX + 1, 4, 0, 0 },
	{ "attribute claims more than the message", RTA_OIF, 4, 64, -EINVAL },
	{ "attribute claims less than its header", RTA_OIF, 4, 2, -EINVAL },
};

static int route_msg_with(char *buf, const struct attr_case *c)
{
	struct nlmsghdr *h = mnl_nlmsg_put_header(buf);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(h, sizeof(*rtm));
	__u8 data[16] = { 1, 2, 3, 4 };
	struct nlattr *a;

	h->nlmsg_type = RTM_NEWROUTE;
	rtm->rtm_family = AF_INET;
	mnl_attr_put_u32(h, RTA_PRIORITY, 7);
	a = (struct nlattr *)mnl_nlmsg_get_payload_tail(h);
	mnl_attr_put(h, c->type, c->len, data);
	if (c->claim)
		a->nla_len = c->claim;
	return 0;
}

static void test_attrs(void)
{
	char buf[512];

	for (size_t i = 0; i < sizeof(attr_cases) / sizeof(attr_cases[0]); i++) {
		const struct attr_case *c = &attr_cases[i];
		const struct nlattr *tb[RTA_MAX + 1];
		int ret;

		memset(buf, 0, sizeof(buf));
		route_msg_with(buf, c);
		ret = nl_attrs((struct nlmsghdr *)buf, sizeof(struct rtmsg), tb, RTA_MAX,
			       nl_route_policy);
		if (!ASSERT_EQ(ret, c->want, c->name) || ret)
			continue;
		/* Accepted: the attribute before it is there and intact. */
		ASSERT_TRUE(tb[RTA_PRIORITY] && mnl_attr_get_u32(tb[RTA_PRIORITY]) == 7, c->name);
		if (c->type <= RTA_MAX)
			ASSERT_TRUE(tb[c->type] != NULL, c->name);
	}

	/* A message shorter than its family header. */
	{
		const struct nlattr *tb[RTA_MAX + 1];
		struct nlmsghdr *h = mnl_nlmsg_put_header(buf);

		h->nlmsg_len = MNL_NLMSG_HDRLEN + 4;
		ASSERT_EQ(nl_attrs(h, sizeof(struct rtmsg), tb, RTA_MAX, nl_route_policy), -EINVAL,
			  "short family header");
	}

	/* A link name must be terminated inside its attribute. */
	{
		const struct nlattr *tb[IFLA_MAX + 1];
		struct nlmsghdr *h = mnl_nlmsg_put_header(buf);

		mnl_nlmsg_put_extra_header(h, sizeof(struct ifinfomsg));
		mnl_attr_put(h, IFLA_IFNAME, 4, "eth0");
		ASSERT_EQ(nl_attrs(h, sizeof(struct ifinfomsg), tb, IFLA_MAX, nl_link_policy),
			  -EINVAL, "unterminated IFLA_IFNAME");
		h = mnl_nlmsg_put_header(buf);
		mnl_nlmsg_put_extra_header(h, sizeof(struct ifinfomsg));
		mnl_attr_put_strz(h, IFLA_IFNAME, "eth0");
		ASSERT_OK(nl_attrs(h, sizeof(struct ifinfomsg), tb, IFLA_MAX, nl_link_policy),
			  "terminated IFLA_IFNAME");
	}
}

struct gw_case {
	const char *name;
	int family;		/* the route's */
	int type;		/* RTA_GATEWAY or RTA_VIA; 0: none */
	int via_family;
	int len;		/* address bytes */
	int want, want_family;
};

static const struct gw_case gw_cases[] = {
	{ "no gateway", AF_INET, 0, 0, 0, 0, 0 },
	{ "IPv4 gateway", AF_INET, RTA_GATEWAY, 0, 4, 1, AF_INET },
	{ "IPv6 gateway", AF_INET6, RTA_GATEWAY, 0, 16, 1, AF_INET6 },
	{ "IPv6-sized gateway on IPv4", AF_INET, RTA_GATEWAY, 0, 16, -EINVAL, 0 },
	{ "IPv4 via IPv6 (RFC 5549)", AF_INET, RTA_VIA, AF_INET6, 16, 1, AF_INET6 },
	{ "via with a short address", AF_INET, RTA_VIA, AF_INET6, 4, -EINVAL, 0 },
	{ "via of an unknown family", AF_INET, RTA_VIA, 99, 4, -EINVAL, 0 },
};

static void test_gateways(void)
{
	for (size_t i = 0; i < sizeof(gw_cases) / sizeof(gw_cases[0]); i++) {
		const struct gw_case *c = &gw_cases[i];
		char buf[256] = {};
		struct nlmsghdr *h = mnl_nlmsg_put_header(buf);
		const struct nlattr *tb[RTA_MAX + 1];
		__u8 addr[18] = {}, gw[16];
		int gw_family = 0, ret;

		mnl_nlmsg_put_extra_header(h, sizeof(struct rtmsg));
		for (int b = 0; b < 16; b++)
			addr[2 + b] = 0xa0 + b;
		memset(gw, 0xff, sizeof(gw));	/* whatever was there before */
		if (c->type == RTA_GATEWAY) {
			mnl_attr_put(h, RTA_GATEWAY, c->len, addr + 2);
		} else if (c->type == RTA_VIA) {
			*(__u16 *)addr = c->via_family;
			mnl_attr_put(h, RTA_VIA, 2 + c->len, addr);
		}
		if (!ASSERT_OK(nl_attrs(h, sizeof(struct rtmsg), tb, RTA_MAX, nl_route_policy),
			       c->name))
			continue;
		ret = nl_route_gw(tb, c->family, &gw_family, gw);
		if (!ASSERT_EQ(ret, c->want, c->name) || ret <= 0)
			continue;
		ASSERT_EQ(gw_family, c->want_family, c->name);
		ASSERT_MEMEQ(gw, addr + 2, gw_family == AF_INET ? 4 : 16, c->name);
		if (gw_family == AF_INET)
			ASSERT_TRUE(!gw[4] && !memcmp(gw + 4, gw + 5, 11), "IPv4 gateway zero-padded");
	}
}

static int count_link(const struct nlmsghdr *h, void *ctx)
{
	const struct nlattr *tb[IFLA_MAX + 1];
	int *lo = ctx;

	if (h->nlmsg_type == RTM_NEWLINK &&
	    !nl_attrs(h, sizeof(struct ifinfomsg), tb, IFLA_MAX, nl_link_policy) &&
	    tb[IFLA_IFNAME] && !strcmp(mnl_attr_get_str(tb[IFLA_IFNAME]), "lo"))
		(*lo)++;
	return 0;
}

static int stop_at_first(const struct nlmsghdr *h, void *ctx)
{
	(*(int *)ctx)++;
	return -ECANCELED;
}

/* Against this namespace's kernel, reading only: a dump, a refused request. */
static void test_live(void)
{
	static struct nl nl;
	struct nlmsghdr *h;
	int lo = 0, calls = 0;

	if (!ASSERT_OK(nl_open(&nl, NULL, NULL, 0, 0), "nl_open"))
		return;
	ASSERT_OK(nl_dump(&nl, RTM_GETLINK, AF_UNSPEC, sizeof(struct rtgenmsg), count_link, &lo),
		  "dump links");
	ASSERT_EQ(lo, 1, "lo seen once");
	/* A callback's error ends the dump with it, and the socket is left clean. */
	ASSERT_EQ(nl_dump(&nl, RTM_GETLINK, AF_UNSPEC, sizeof(struct rtgenmsg), stop_at_first,
			  &calls), -ECANCELED, "callback error");
	ASSERT_EQ(calls, 1, "no callback after the error");
	lo = 0;
	ASSERT_OK(nl_dump(&nl, RTM_GETLINK, AF_UNSPEC, sizeof(struct rtgenmsg), count_link, &lo),
		  "dump after an aborted one");
	ASSERT_EQ(lo, 1, "lo seen once again");
	h = nl_request(&nl, RTM_DELLINK, 0, sizeof(struct ifinfomsg));
	mnl_attr_put_strz(h, IFLA_IFNAME, "xvr-no-such-if");
	ASSERT_EQ(nl_talk(&nl, h), -ENODEV, "delete of a missing link");
	ASSERT_FALSE(nl.lost, "nothing lost");
	nl_close(&nl);
}

void test_nl(void)
{
	if (test__start_subtest("attrs"))
		test_attrs();
	if (test__start_subtest("gateways"))
		test_gateways();
	if (test__start_subtest("live"))
		test_live();
}
