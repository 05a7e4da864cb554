// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * fibsync and the router's namespace: rtnetlink dumps and notifications
 * into the mirror, neighbour nudges, and the marker that the router's FIB
 * is fibsync's.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/neighbour.h>
#include <bpf/bpf.h>
#include "common.h"
#include "fib.h"
#include "htab.h"
#include "netns.h"
#include "nl.h"
#include "node.h"
#include "objects.h"
#include "fibsync.h"
#include "fibsync_int.h"

/* ---- netlink ---- */

int fibsync_nl_open(struct nl *nl, const char *netns, bool events)
{
	static const int groups[] = {
		RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR, RTNLGRP_IPV4_ROUTE,
		RTNLGRP_IPV6_ROUTE, RTNLGRP_NEIGH, RTNLGRP_NEXTHOP,
	};

	/* Room for a routing daemon's burst; an overrun costs a full resync. */
	return events ? nl_open(nl, netns, groups, ARRAY_SIZE(groups), 32 << 20) :
			nl_open(nl, netns, NULL, 0, 4 << 20);
}

static int dump_cb(const struct nlmsghdr *h, void *fs)
{
	int ret = fibsync_msg(fs, h, true);

	return ret < 0 ? ret : 0;
}

/* A dump the kernel flags as interrupted (the table changed under it) is redone. */
#define NL_DUMP_TRIES 5

int fibsync_nl_dump_routes(struct nl *nl, struct fibsync *fs, int family)
{
	int err = -EAGAIN;

	for (int i = 0; i < NL_DUMP_TRIES && err == -EAGAIN; i++) {
		fibsync_mirror_clear_routes(fs, family);
		err = nl_dump(nl, RTM_GETROUTE, family, sizeof(struct rtmsg), dump_cb, fs);
	}
	return err == -EAGAIN ? 0 : err;
}

int fibsync_nl_dump_neigh(struct nl *nl, struct fibsync *fs)
{
	int err = -EAGAIN;

	for (int i = 0; i < NL_DUMP_TRIES && err == -EAGAIN; i++) {
		mirror_clear_neigh(fs);
		err = nl_dump(nl, RTM_GETNEIGH, AF_UNSPEC, sizeof(struct ndmsg), dump_cb, fs);
	}
	return err == -EAGAIN ? 0 : err;
}

struct read_ctx {
	struct fibsync *fs;
	int hints;
};

static int read_cb(const struct nlmsghdr *h, void *arg)
{
	struct read_ctx *c = arg;
	int ret = fibsync_msg(c->fs, h, false);

	/* Out of memory: start over. */
	c->hints |= ret < 0 ? FIBSYNC_RESYNC_ALL : ret;
	return 0;
}

int fibsync_nl_read(struct nl *nl, struct fibsync *fs, int *hints)
{
	struct read_ctx c = { fs, 0 };
	int count = nl_read(nl, 0, read_cb, &c);

	*hints |= c.hints;
	return count;
}

/* ---- ownership marker ---- */

/* /run/xvr/NODE/fibsync-ROUTER.SUFFIX */
static void run_path(char *buf, size_t len, const char *node, const char *router,
		     const char *suffix)
{
	snprintf(buf, len, "%s/%s/fibsync-%s.%s", XVR_RUN_DIR, node, router, suffix);
}

static int run_dir(const char *node)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", XVR_RUN_DIR, node);
	if ((mkdir(XVR_RUN_DIR, 0700) && errno != EEXIST) || (mkdir(path, 0700) && errno != EEXIST))
		return -errno;
	return 0;
}

bool fibsync_owned(const char *node, const char *router)
{
	char path[PATH_MAX];

	run_path(path, sizeof(path), node, router, "owned");
	return !access(path, F_OK);
}

int fibsync_own(const char *node, const char *router)
{
	char path[PATH_MAX];
	int fd, err = run_dir(node);

	if (err)
		return err;
	run_path(path, sizeof(path), node, router, "owned");
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

void fibsync_forget(const char *node, const char *router)
{
	static const char *const suffixes[] = { "owned", "max-routes", "status" };
	char path[PATH_MAX];

	for (size_t i = 0; i < ARRAY_SIZE(suffixes); i++) {
		run_path(path, sizeof(path), node, router, suffixes[i]);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/%s", XVR_RUN_DIR, node);
	rmdir(path);	/* only once nothing else of the node's is there */
}

unsigned long fibsync_limit_read(const char *node, const char *router)
{
	unsigned long max = FIBSYNC_MAX_ROUTES;
	char path[PATH_MAX];
	FILE *f;

	run_path(path, sizeof(path), node, router, "max-routes");
	f = fopen(path, "re");
	if (!f)
		return max;
	if (fscanf(f, "%lu", &max) != 1)
		max = FIBSYNC_MAX_ROUTES;
	fclose(f);
	return max;
}

int fibsync_limit_write(const char *node, const char *router, unsigned long max)
{
	char path[PATH_MAX], text[32];
	int err = run_dir(node);

	if (err)
		return err;
	run_path(path, sizeof(path), node, router, "max-routes");
	snprintf(text, sizeof(text), "%lu\n", max);
	return file_replace(path, text, strlen(text), 0666);
}

int fibsync_status_write(const char *node, const char *router, const struct fibsync_status *st)
{
	char path[PATH_MAX], text[160];
	int err = run_dir(node);

	if (err)
		return err;
	run_path(path, sizeof(path), node, router, "status");
	snprintf(text, sizeof(text), "%lu %lu %lu %lu\n", st->routes, st->refused,
		 st->max_routes, st->lock_ms_max);
	return file_replace(path, text, strlen(text), 0666);
}

int fibsync_status_read(const char *node, const char *router, struct fibsync_status *st)
{
	char path[PATH_MAX];
	int err = 0;
	FILE *f;

	memset(st, 0, sizeof(*st));
	run_path(path, sizeof(path), node, router, "status");
	f = fopen(path, "re");
	if (!f)
		return -errno;
	if (fscanf(f, "%lu %lu %lu %lu", &st->routes, &st->refused, &st->max_routes,
		   &st->lock_ms_max) != 4)
		err = -EINVAL;
	fclose(f);
	return err;
}

/* ---- keeping gateways resolved ---- */

#define NUDGE_UNRESOLVED_MS	1000
#define NUDGE_STALE_MS		30000

static int nudge_send(struct nl *nl, int family, __u32 ifindex, const __u8 *addr)
{
	struct nlmsghdr *h = nl_request(nl, RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE,
					sizeof(struct ndmsg));
	struct ndmsg *nd = mnl_nlmsg_get_payload(h);

	nd->ndm_family = family;
	nd->ndm_ifindex = ifindex;
	nd->ndm_state = NUD_NONE;
	nd->ndm_flags = NTF_USE;
	mnl_attr_put(h, NDA_DST, fam_bytes(family), addr);
	return nl_send(nl, h);
}

/*
 * The kernel resolves a neighbour when it sends to it, but once XDP
 * forwards, the kernel sends nothing: an ECMP member the kernel's own hash
 * does not pick would stay unresolved (its flows punted for good), and a
 * host that changed its MAC would never be noticed. NTF_USE does what a
 * sent packet would: unresolved gateways in use are resolved, stale ones
 * re-validated now and then.
 */
int fibsync_nudge(struct fibsync *fs, struct nl *nl, long now_ms)
{
	struct hnode *e, *nx;
	int sent = 0;
	size_t i;

	htab_for_each(&fs->nhs, i, e, nx) {
		struct nhobj *o = (struct nhobj *)e;
		const struct xvr_vif *v;
		struct neigh *ne;
		long every;

		if (o->key.kind != NHK_VIF || !o->key.family || !o->refs)
			continue;
		v = vif_by_id(fs, o->key.vif);
		if (!v)
			continue;
		ne = neigh_find(fs, v->peer, o->key.family, o->key.addr);
		if (!ne || !ne->usable)
			every = NUDGE_UNRESOLVED_MS;
		else if (ne->state & NUD_STALE)
			every = NUDGE_STALE_MS;
		else
			continue;
		if (o->nudged && now_ms - o->nudged < every)
			continue;
		o->nudged = now_ms;
		if (!nudge_send(nl, o->key.family, v->peer, o->key.addr))
			sent++;
	}
	return sent;
}
