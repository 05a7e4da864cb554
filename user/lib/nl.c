// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include "common.h"
#include "netns.h"
#include "nl.h"

struct nl_open_args {
	struct nl *nl;
	int flags;
};

/* A socket stays in the namespace it was created in. */
static int nl_socket_here(void *arg)
{
	struct nl_open_args *a = arg;

	a->nl->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC | a->flags);
	return a->nl->sock ? 0 : -errno;
}

int nl_open(struct nl *nl, const char *netns, const int *groups, int ngroups, int rcvbuf)
{
	struct nl_open_args a = { nl, ngroups ? SOCK_NONBLOCK : 0 };
	int fd, one = 1, err;

	nl->sock = NULL;
	nl->seq = 0;
	nl->lost = false;
	nl->err[0] = 0;
	err = netns ? netns_call(netns, nl_socket_here, &a) : nl_socket_here(&a);
	if (err)
		return err;
	fd = mnl_socket_get_fd(nl->sock);
	/* FORCE needs CAP_NET_ADMIN; without it, take what the limit allows. */
	if (rcvbuf && setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	/* Error texts from the kernel; older kernels ignore it. */
	mnl_socket_setsockopt(nl->sock, NETLINK_EXT_ACK, &one, sizeof(one));
	/* Broadcasts skip sockets without a port id: bind before joining groups. */
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID))
		goto err;
	for (int i = 0; i < ngroups; i++)
		if (mnl_socket_setsockopt(nl->sock, NETLINK_ADD_MEMBERSHIP, (void *)&groups[i],
					  sizeof(groups[i])) && errno != EINVAL)
			goto err;
	nl->portid = mnl_socket_get_portid(nl->sock);
	return 0;
err:
	err = -errno;
	nl_close(nl);
	return err;
}

void nl_close(struct nl *nl)
{
	if (nl->sock)
		mnl_socket_close(nl->sock);
	nl->sock = NULL;
}

int nl_fd(const struct nl *nl)
{
	return nl->sock ? mnl_socket_get_fd(nl->sock) : -1;
}

struct nlmsghdr *nl_request(struct nl *nl, __u16 type, __u16 flags, size_t hdrlen)
{
	struct nlmsghdr *h = mnl_nlmsg_put_header(nl->buf);

	h->nlmsg_type = type;
	h->nlmsg_flags = NLM_F_REQUEST | flags;
	h->nlmsg_seq = ++nl->seq;
	if (hdrlen)
		mnl_nlmsg_put_extra_header(h, hdrlen);
	return h;
}

int nl_send(struct nl *nl, struct nlmsghdr *h)
{
	return mnl_socket_sendto(nl->sock, h, h->nlmsg_len) < 0 ? -errno : 0;
}

/*
 * One receive into nl->buf: its length, 0 when the message was not the
 * kernel's (dropped), -ENOBUFS when messages were lost (queue overrun or
 * a message cut short), -EAGAIN when nothing is queued (non-blocking).
 */
static ssize_t nl_recv(struct nl *nl, int flags)
{
	struct sockaddr_nl sa;
	struct iovec iov = { nl->buf, sizeof(nl->buf) };
	struct msghdr m = { .msg_name = &sa, .msg_namelen = sizeof(sa), .msg_iov = &iov,
			    .msg_iovlen = 1 };
	ssize_t n;

	do
		n = recvmsg(nl_fd(nl), &m, flags);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	if (m.msg_flags & MSG_TRUNC)
		return -ENOBUFS;
	if (sa.nl_pid != 0)
		return 0;
	return n;
}

/* The error an NLMSG_ERROR carries, its extended-ack text kept in nl->err. */
static int nl_error(struct nl *nl, const struct nlmsghdr *h)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(h);
	size_t len = mnl_nlmsg_get_payload_len(h), off = sizeof(*e);
	const struct nlattr *attr;	/* mnl_attr_for_each_payload's cursor */
	const void *tlvs;

	if (len < sizeof(*e))
		return -EPROTO;
	/* Without NLM_F_CAPPED the request comes back whole before the attributes. */
	if (!(h->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - sizeof(e->msg);
	if (!(h->nlmsg_flags & NLM_F_ACK_TLVS) || off > len)
		return e->error;
	tlvs = (const char *)e + off;
	mnl_attr_for_each_payload(tlvs, len - off) {
		if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
		    !mnl_attr_validate(attr, MNL_TYPE_NUL_STRING))
			snprintf(nl->err, sizeof(nl->err), "%s", mnl_attr_get_str(attr));
	}
	return e->error;
}

/*
 * Read the answers to request seq until it is done: each message to cb
 * (if any). A dump ends with NLMSG_DONE, a request with its ack.
 */
static int nl_answers(struct nl *nl, __u32 seq, nl_msg_cb cb, void *ctx)
{
	bool intr = false;
	int err = 0;

	for (;;) {
		ssize_t n = nl_recv(nl, 0);
		const struct nlmsghdr *h = (const struct nlmsghdr *)nl->buf;
		int len = (int)n;

		if (n == -ENOBUFS) {
			/* Our answer may be what was lost: say so rather than wait. */
			nl->lost = true;
			return -ENOBUFS;
		}
		if (n < 0)
			return (int)n;
		for (; mnl_nlmsg_ok(h, len); h = mnl_nlmsg_next(h, &len)) {
			if (h->nlmsg_seq != seq || h->nlmsg_pid != nl->portid)
				continue;
			if (h->nlmsg_flags & NLM_F_DUMP_INTR)
				intr = true;
			if (h->nlmsg_type == NLMSG_DONE)
				return err ?: intr ? -EAGAIN : 0;
			if (h->nlmsg_type == NLMSG_ERROR)
				return err ?: nl_error(nl, h);
			/* After a callback's error, read on to the end: the socket stays clean. */
			if (!err && cb)
				err = cb(h, ctx);
		}
	}
}

int nl_ask(struct nl *nl, struct nlmsghdr *h, nl_msg_cb cb, void *ctx)
{
	int err;

	h->nlmsg_flags |= NLM_F_ACK;
	nl->err[0] = 0;
	err = nl_send(nl, h);
	return err ?: nl_answers(nl, h->nlmsg_seq, cb, ctx);
}

int nl_talk(struct nl *nl, struct nlmsghdr *h)
{
	return nl_ask(nl, h, NULL, NULL);
}

struct nl *nl_alloc(void)
{
	struct nl *nl = malloc(sizeof(*nl));
	int err;

	if (!nl)
		return NULL;
	err = nl_open(nl, NULL, NULL, 0, 0);
	if (err) {
		free(nl);
		errno = -err;
		return NULL;
	}
	return nl;
}

void nl_free(struct nl *nl)
{
	nl_close(nl);
	free(nl);
}

int nl_dump(struct nl *nl, __u16 type, __u8 family, size_t hdrlen, nl_msg_cb cb, void *ctx)
{
	struct nlmsghdr *h = nl_request(nl, type, NLM_F_DUMP, hdrlen);
	int err;

	if (hdrlen)
		*(__u8 *)mnl_nlmsg_get_payload(h) = family;
	err = nl_send(nl, h);
	return err ?: nl_answers(nl, h->nlmsg_seq, cb, ctx);
}

int nl_read(struct nl *nl, int budget, nl_msg_cb cb, void *ctx)
{
	int count = 0;

	for (int i = 0; !budget || i < budget; i++) {
		ssize_t n = nl_recv(nl, MSG_DONTWAIT);
		const struct nlmsghdr *h = (const struct nlmsghdr *)nl->buf;
		int len = (int)n;

		if (n == -EAGAIN)
			break;
		if (n == -ENOBUFS) {
			nl->lost = true;
			continue;
		}
		if (n < 0)
			return (int)n;
		for (; mnl_nlmsg_ok(h, len); h = mnl_nlmsg_next(h, &len), count++)
			cb(h, ctx);
	}
	return count;
}

void nl_drain(struct nl *nl)
{
	ssize_t n;

	do
		n = nl_recv(nl, MSG_DONTWAIT);
	while (n >= 0 || n == -ENOBUFS);
	nl->lost = false;
}

static int attr_check(const struct nlattr *a, const struct nl_policy *pol)
{
	switch (pol->type) {
	case MNL_TYPE_UNSPEC:
	case MNL_TYPE_BINARY:
		return mnl_attr_get_payload_len(a) >= pol->min_len ? 0 : -EINVAL;
	default:
		return mnl_attr_validate(a, pol->type) ? -EINVAL : 0;
	}
}

int nl_attrs_buf(const void *buf, size_t len, const struct nlattr **tb, int max,
		 const struct nl_policy *pol)
{
	const struct nlattr *attr;	/* mnl_attr_for_each_payload's cursor */
	const char *end = (const char *)buf + len;

	memset(tb, 0, sizeof(*tb) * (max + 1));
	mnl_attr_for_each_payload(buf, len) {
		__u16 type = mnl_attr_get_type(attr);

		if (type > max)
			continue;
		if (attr_check(attr, &pol[type]))
			return -EINVAL;
		tb[type] = attr;
	}
	/* An attribute that claims more than is left is a message cut short. */
	return end - (const char *)attr >= (long)sizeof(struct nlattr) ? -EINVAL : 0;
}

int nl_attrs(const struct nlmsghdr *h, size_t hdrlen, const struct nlattr **tb, int max,
	     const struct nl_policy *pol)
{
	if (h->nlmsg_len < MNL_NLMSG_HDRLEN + MNL_ALIGN(hdrlen))
		return -EINVAL;
	return nl_attrs_buf((const char *)h + MNL_NLMSG_HDRLEN + MNL_ALIGN(hdrlen),
			    h->nlmsg_len - MNL_NLMSG_HDRLEN - MNL_ALIGN(hdrlen), tb, max, pol);
}

const struct nl_policy nl_route_policy[RTA_MAX + 1] = {
	[RTA_DST] = { MNL_TYPE_BINARY },
	[RTA_TABLE] = { MNL_TYPE_U32 },
	[RTA_PRIORITY] = { MNL_TYPE_U32 },
	[RTA_OIF] = { MNL_TYPE_U32 },
	[RTA_GATEWAY] = { MNL_TYPE_BINARY },
	[RTA_VIA] = { MNL_TYPE_BINARY, sizeof(struct rtvia) },
	[RTA_MULTIPATH] = { MNL_TYPE_BINARY },
	[RTA_NH_ID] = { MNL_TYPE_U32 },
};

const struct nl_policy nl_neigh_policy[NDA_MAX + 1] = {
	[NDA_DST] = { MNL_TYPE_BINARY },
	[NDA_LLADDR] = { MNL_TYPE_BINARY },
};

const struct nl_policy nl_link_policy[IFLA_MAX + 1] = {
	[IFLA_IFNAME] = { MNL_TYPE_NUL_STRING },
	[IFLA_ADDRESS] = { MNL_TYPE_BINARY },
	[IFLA_MTU] = { MNL_TYPE_U32 },
};

int nl_route_gw(const struct nlattr *tb[], int family, int *gw_family, __u8 gw[16])
{
	size_t alen = family == AF_INET ? 4 : 16;

	if (tb[RTA_GATEWAY]) {
		if (mnl_attr_get_payload_len(tb[RTA_GATEWAY]) != alen)
			return -EINVAL;
		*gw_family = family;
		memset(gw, 0, 16);
		memcpy(gw, mnl_attr_get_payload(tb[RTA_GATEWAY]), alen);
		return 1;
	}
	if (tb[RTA_VIA]) {
		const struct rtvia *via = mnl_attr_get_payload(tb[RTA_VIA]);

		alen = via->rtvia_family == AF_INET ? 4 : via->rtvia_family == AF_INET6 ? 16 : 0;
		if (!alen || mnl_attr_get_payload_len(tb[RTA_VIA]) != sizeof(*via) + alen)
			return -EINVAL;
		*gw_family = via->rtvia_family;
		memset(gw, 0, 16);
		memcpy(gw, via->rtvia_addr, alen);
		return 1;
	}
	return 0;
}
