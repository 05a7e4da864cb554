// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * xvr limit: a router's admission limits (frames and bits per second, with
 * a burst) and its punt budget, checked by ingress right after
 * classification (bpf/policer.h). Frames over a limit are dropped there,
 * counted as policed; frames over the punt budget as punt-policed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <bpf/bpf.h>
#include "xvr.h"

#define NS_PER_S	1000000000ull

static int limit_help(void)
{
	fprintf(stderr,
		"Usage: xvr limit set ROUTER [pps N] [bps N] [burst N] [punt N]\n"
		"       xvr limit del ROUTER\n"
		"       xvr limit list [ROUTER]\n"
		"pps: frames per second (1..%llu); bps: bits per second (%llu..%llu);\n"
		"burst: frames let through back to back above the rate (1..%d and at most\n"
		"%d s of the rate; default 20 ms of it, at least %d; for bps, frames of\n"
		"%d bytes); punt: frames per second into the router's namespace\n"
		"(1..%d, default %d).\n"
		"ARP is charged to the punt budget, not to pps/bps. 'set' replaces the\n"
		"router's limits; what it does not name is unlimited (punt: default).\n",
		XVR_LIMIT_MAX_PPS, XVR_LIMIT_MIN_BPS, XVR_LIMIT_MAX_BPS, XVR_LIMIT_MAX_BURST,
		XVR_LIMIT_MAX_BURST_S, XVR_LIMIT_MIN_BURST, XVR_LIMIT_FRAME_BYTES, XVR_LIMIT_MAX_PUNT_PPS,
		XVR_PUNT_DEFAULT_PPS);
	return 0;
}

/* A decimal count in [min, max], the whole token; else -EINVAL. */
static int parse_count(const char *s, __u64 *v, __u64 min, __u64 max)
{
	unsigned long long x;
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	x = strtoull(s, &end, 10);
	if (errno || *end || x < min || x > max)
		return -EINVAL;
	*v = x;
	return 0;
}

static __u64 burst_default(__u64 frames_per_s)
{
	__u64 b = frames_per_s / 50;	/* 20 ms */

	if (b < XVR_LIMIT_MIN_BURST)
		b = XVR_LIMIT_MIN_BURST;
	return b > XVR_LIMIT_MAX_BURST ? XVR_LIMIT_MAX_BURST : b;
}

/* A frame bucket at pps with room for burst frames back to back. */
static void bucket_frames(struct xvr_bucket *b, __u64 pps, __u64 burst)
{
	b->frame_cost = (NS_PER_S << XVR_BUCKET_SHIFT) / pps;
	b->tolerance = b->frame_cost * (burst - 1);
}

/* A byte bucket at bps with room for burst full-size frames back to back. */
static void bucket_bytes(struct xvr_bucket *b, __u64 bps, __u64 burst)
{
	b->byte_cost = ((8 * NS_PER_S) << (XVR_BUCKET_SHIFT + XVR_BUCKET_BYTE_SHIFT)) / bps;
	b->tolerance = ((burst - 1) * XVR_LIMIT_FRAME_BYTES * b->byte_cost) >>
		       XVR_BUCKET_BYTE_SHIFT;
}

int limit_clear(struct xvr_node *n, __u32 id)
{
	struct xvr_limit zero = {};

	return bpf_map_update_elem(n->limits_fd, &id, &zero, BPF_ANY) ? -errno : 0;
}

static int limit_set(int argc, char **argv)
{
	__u64 pps = 0, bps = 0, burst = 0, punt = 0, *slot;
	const char *router, *what;
	struct xvr_limit lim = {};
	struct xvr_node n;
	__u32 id;
	int err;

	if (argc < 1) {
		limit_help();
		return -EINVAL;
	}
	router = argv[0];
	SHIFT_ARG();
	if (!argc) {
		pr_warn("limit %s: nothing to set (pps, bps, burst or punt)\n", router);
		return -EINVAL;
	}
	while (argc > 0) {
		__u64 min = 1, max;

		what = argv[0];
		if (!strcmp(what, "pps")) {
			slot = &pps, max = XVR_LIMIT_MAX_PPS;
		} else if (!strcmp(what, "bps")) {
			slot = &bps, min = XVR_LIMIT_MIN_BPS, max = XVR_LIMIT_MAX_BPS;
		} else if (!strcmp(what, "burst")) {
			slot = &burst, max = XVR_LIMIT_MAX_BURST;
		} else if (!strcmp(what, "punt")) {
			slot = &punt, max = XVR_LIMIT_MAX_PUNT_PPS;
		} else {
			return bad_arg("keyword (pps, bps, burst or punt)", what);
		}
		NEXT_ARG();
		if (*slot) {
			pr_warn("limit %s: %s given twice\n", router, what);
			return -EINVAL;
		}
		if (parse_count(argv[0], slot, min, max)) {
			pr_warn("limit %s: invalid %s '%s' (%llu..%llu%s)\n", router, what, argv[0],
				(unsigned long long)min, (unsigned long long)max,
				min == XVR_LIMIT_MIN_BPS ? ": at least one full-size frame a second" : "");
			return -EINVAL;
		}
		SHIFT_ARG();
	}
	if (burst && !pps && !bps) {
		pr_warn("limit %s: burst without pps or bps\n", router);
		return -EINVAL;
	}
	/* A burst is a few moments of the rate, not minutes of it. */
	if (burst && ((pps && burst > XVR_LIMIT_MAX_BURST_S * pps) ||
		      (bps && burst * 8 * XVR_LIMIT_FRAME_BYTES > XVR_LIMIT_MAX_BURST_S * bps))) {
		pr_warn("limit %s: invalid burst '%llu': more than %d s of the rate\n", router,
			(unsigned long long)burst, XVR_LIMIT_MAX_BURST_S);
		return -EINVAL;
	}

	if (pps) {
		bucket_frames(&lim.pps, pps, burst ?: burst_default(pps));
		lim.rate_pps = pps;
	}
	if (bps) {
		__u64 fps = bps / (8 * XVR_LIMIT_FRAME_BYTES);

		bucket_bytes(&lim.bps, bps, burst ?: burst_default(fps));
		lim.rate_bps = bps;
	}
	if (pps || bps)
		lim.burst = burst ?: burst_default(pps ?: bps / (8 * XVR_LIMIT_FRAME_BYTES));
	if (punt) {
		bucket_frames(&lim.punt, punt, burst_default(punt * 5));	/* 100 ms */
		lim.punt_pps = punt;
	}
	lim.flags = XVR_LIMIT_SET;

	err = cli_node_open(&n, true);
	if (err)
		return err;
	err = router_find(&n, router, &id, NULL);
	if (err) {
		pr_warn("limit %s: no such router\n", router);
		goto out;
	}
	if (bpf_map_update_elem(n.limits_fd, &id, &lim, BPF_ANY)) {
		err = -errno;
		pr_warn("limit %s: %s\n", router, strerror(-err));
	}
out:
	xvr_node_close(&n);
	return err;
}

static int limit_del(int argc, char **argv)
{
	struct xvr_node n;
	__u32 id;
	int err;

	if (argc != 1) {
		limit_help();
		return -EINVAL;
	}
	err = cli_node_open(&n, true);
	if (err)
		return err;
	err = router_find(&n, argv[0], &id, NULL);
	if (err)
		pr_warn("limit %s: no such router\n", argv[0]);
	else
		err = limit_clear(&n, id);
	xvr_node_close(&n);
	return err;
}

static void limit_print(struct xvr_node *n, __u32 id, const struct xvr_router *r,
			const struct xvr_limit *lim)
{
	struct xvr_counters c = {};

	counters_read(n->vr_stats_fd, id, &c);
	print_open_object(NULL);
	print_string("router", "%-16s", r->name);
	print_u64("pps", " pps %llu", lim->rate_pps);
	print_u64("bps", " bps %llu", lim->rate_bps);
	print_u64("burst", " burst %llu", lim->burst);
	print_u64("punt", " punt %llu", lim->punt_pps ?: XVR_PUNT_DEFAULT_PPS);
	print_bool("punt_default", NULL, !lim->punt_pps);
	if (!lim->punt_pps)
		print_text(" (default)");
	print_u64("policed", "  policed %llu", c.drop[XVR_DROP_POLICED]);
	print_u64("punt_policed", " punt-policed %llu\n", c.drop[XVR_DROP_PUNT_POLICED]);
	print_close_object();
}

void limit_print_brief(struct xvr_node *n, __u32 id)
{
	struct xvr_limit lim = {};

	bpf_map_lookup_elem(n->limits_fd, &id, &lim);
	print_open_object("limit");
	print_text("  limit");
	if (lim.rate_pps || lim.rate_bps) {
		print_u64("pps", " pps %llu", lim.rate_pps);
		print_u64("bps", " bps %llu", lim.rate_bps);
		print_u64("burst", " burst %llu", lim.burst);
	} else {
		print_u64("pps", " none", 0);
		print_u64("bps", NULL, 0);
	}
	print_u64("punt", " punt %llu/s", lim.punt_pps ?: XVR_PUNT_DEFAULT_PPS);
	print_text("\n");
	print_close_object();
}

static void limit_row(struct xvr_node *n, __u32 id, __u32 only)
{
	struct xvr_limit lim;
	struct xvr_router r;

	if ((only && id != only) || router_get(n, id, &r) ||
	    bpf_map_lookup_elem(n->limits_fd, &id, &lim))
		return;
	/* All routers: the ones with limits; one router: it, limits or not. */
	if (only || (lim.flags & XVR_LIMIT_SET))
		limit_print(n, id, &r, &lim);
}

static int limit_list(int argc, char **argv)
{
	return cli_list(argc, argv, true, XVR_MAX_ROUTERS, limit_row);
}

int do_limit(int argc, char **argv)
{
	static const struct cmd cmds[] = {
		{ "set", limit_set },
		{ "del", limit_del },
		{ "list", limit_list },
		{ NULL, NULL },
	};

	return cmd_dispatch("limit", cmds, argc, argv, limit_help);
}
