/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * rtnetlink on libmnl, the one way xvr talks to the kernel's routing and
 * link state: fibsync's mirror, the engine's RIB and the creation of VIF
 * and engine veths all go through here.
 *
 * What every user would otherwise get wrong on its own is done once:
 *   - only messages from the kernel are read (a tenant's process may send
 *     to our port id);
 *   - a truncated message (MSG_TRUNC) and a receive-queue overrun
 *     (ENOBUFS) both mean notifications were lost: nl->lost is set and
 *     only a fresh dump can tell what changed;
 *   - a dump the kernel marks as interrupted (NLM_F_DUMP_INTR) is read to
 *     its end and reported as -EAGAIN, so the caller dumps again;
 *   - attributes are checked against a policy (type, length) before any
 *     parser reads them.
 *
 * Functions return 0 (or a count) or a negative errno.
 */
#ifndef XVR_NL_H
#define XVR_NL_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include <libmnl/libmnl.h>

/* Room for any single message the kernel sends, dumps included. */
#define NL_BUF_LEN	(64u << 10)

struct nl {
	struct mnl_socket *sock;
	__u32 portid;
	__u32 seq;
	bool lost;		/* notifications were lost since the last nl_drain */
	char err[128];		/* the kernel's extended ack text of the last nl_talk */
	char buf[NL_BUF_LEN];
};

/*
 * Open a NETLINK_ROUTE socket in namespace netns (an 'ip netns' name or a
 * path; NULL: the caller's), the calling thread ending up where it began.
 * With groups it is subscribed to them and non-blocking: notifications are
 * read with nl_read until none are queued. A group this kernel does not
 * have (EINVAL, e.g. RTNLGRP_NEXTHOP before 5.3) is skipped. rcvbuf: the
 * receive buffer to ask for (forced when we may), 0 for the default.
 */
int nl_open(struct nl *nl, const char *netns, const int *groups, int ngroups, int rcvbuf);
void nl_close(struct nl *nl);
/*
 * A struct nl is too big for most stacks: nl_alloc() opens one in the
 * caller's namespace, without groups, on the heap (NULL and errno if it
 * cannot); nl_free() closes and frees it.
 */
struct nl *nl_alloc(void);
void nl_free(struct nl *nl);
int nl_fd(const struct nl *nl);

/* Called per message; a negative return ends a dump with that error. */
typedef int (*nl_msg_cb)(const struct nlmsghdr *h, void *ctx);

/* A request header in nl->buf, with its family header of hdrlen bytes zeroed. */
struct nlmsghdr *nl_request(struct nl *nl, __u16 type, __u16 flags, size_t hdrlen);

/*
 * Send h and wait for the kernel's answer: 0 or its error, whose text (if
 * the kernel gave one) is in nl->err.
 */
int nl_talk(struct nl *nl, struct nlmsghdr *h);
/* The same for a request the kernel answers (RTM_GETROUTE …): each answer to cb. */
int nl_ask(struct nl *nl, struct nlmsghdr *h, nl_msg_cb cb, void *ctx);
/* Send h without waiting for anything. */
int nl_send(struct nl *nl, struct nlmsghdr *h);


/*
 * Dump type for family; hdrlen is the family header the request carries
 * (struct rtgenmsg, rtmsg, ndmsg …; its first byte is the family).
 * -EAGAIN: the kernel's table changed during the dump; dump again.
 */
int nl_dump(struct nl *nl, __u16 type, __u8 family, size_t hdrlen, nl_msg_cb cb, void *ctx);

/*
 * Read queued notifications (at most budget receives; 0: until none are
 * left), each passed to cb. Returns how many messages were read. Lost
 * ones set nl->lost.
 */
int nl_read(struct nl *nl, int budget, nl_msg_cb cb, void *ctx);
/* Discard what is queued (it predates the dump that follows) and clear nl->lost. */
void nl_drain(struct nl *nl);

/*
 * Attribute policy, indexed by attribute type: a libmnl type (fixed-size
 * integers must have their size, strings must be terminated) and, for
 * MNL_TYPE_BINARY or UNSPEC, a minimum payload length.
 */
struct nl_policy {
	enum mnl_attr_data_type type;
	__u16 min_len;
};

/*
 * Attributes after a family header of hdrlen bytes into tb[0..max]
 * (unknown types are skipped, repeated ones keep the last). -EINVAL if
 * the message is short or an attribute does not meet its policy.
 */
int nl_attrs(const struct nlmsghdr *h, size_t hdrlen, const struct nlattr **tb, int max,
	     const struct nl_policy *pol);
/* The same over a nested payload (a multipath member's attributes). */
int nl_attrs_buf(const void *buf, size_t len, const struct nlattr **tb, int max,
		 const struct nl_policy *pol);

/* Policies of the rtnetlink messages xvr reads: routes, neighbours, links. */
extern const struct nl_policy nl_route_policy[];	/* RTA_MAX + 1 */
extern const struct nl_policy nl_neigh_policy[];	/* NDA_MAX + 1 */
extern const struct nl_policy nl_link_policy[];		/* IFLA_MAX + 1 */

/*
 * A route's (or multipath member's) gateway: RTA_GATEWAY of the route's
 * family, or RTA_VIA of either (an IPv4 route through an IPv6 neighbour,
 * RFC 5549). 1 with *gw_family and gw set (all 16 bytes, an IPv4 address
 * zero-padded), 0 if there is none, -EINVAL if its length does not fit.
 */
int nl_route_gw(const struct nlattr *tb[], int family, int *gw_family, __u8 gw[16]);

#endif /* XVR_NL_H */
