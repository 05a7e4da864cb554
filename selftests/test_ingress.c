// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Unit tests of xvr_ingress through BPF_PROG_TEST_RUN.
 *
 * Every subtest loads a fresh skeleton (no pinning), fills its maps through
 * the xvr library as `xvr` would, and runs table rows of frames through the
 * program. Each row states the verdict, the output frame and the outcome;
 * the checker then compares *every* counter of every port slot and router
 * before and after the frame, so "exactly one drop/punt reason, booked to
 * the right router and port, nothing else moved" holds for each frame.
 *
 * test_run needs ingress_ifindex to be a device of the caller's netns (with
 * a registered rx queue), and the devmap only takes existing devices, so the
 * test runs in a private netns with three veth pairs, left (and so
 * destroyed) at the end.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <time.h>
#include <stddef.h>
#include <sched.h>
#include <stdlib.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "test_progs.h"
#include "common.h"
#include "node.h"
#include "objects.h"
#include "fib.h"
#include "fair.h"
#include "frames.h"
#include "xvr_ingress.skel.h"

#define IP_MF		0x2000	/* IPv4 more-fragments flag, in frag_off */

/* Rows that fail in a loop beyond this many stop the loop: one bug, one screen. */
#define MAX_LOOP_FAILS	10

/* ---- the private netns ---- */

static struct {
	__u32 a, b;	/* ingress ports (xvr_ports slots SLOT_A, SLOT_B) */
	__u32 e1, e2;	/* egress ports in the devmap */
	__u32 notx;	/* a device that is neither a port nor in the devmap */
	__u32 emtu;	/* egress port in the devmap with MTU EMTU_MTU */
	__u32 elow;	/* egress port whose MTU was lowered below 1280 after `port add` */
} net;

#define SLOT_A		1
#define SLOT_B		2
#define NSLOTS		3	/* slots 0..2 are watched; 0 is never used */
#define EMTU_MTU	1280
#define ELOW_MTU	1000
#define STR(x)		#x
#define XSTR(x)		STR(x)

/* Enters a new netns with veth pairs xvrt-{a,b,c}{0,1}; false: skipped. */
static bool netns_enter(void)
{
	if (!test_netns_enter())
		return false;
	if (test_sh("ip link add xvrt-a0 type veth peer name xvrt-a1") ||
	    test_sh("ip link add xvrt-b0 type veth peer name xvrt-b1") ||
	    test_sh("ip link add xvrt-c0 type veth peer name xvrt-c1") ||
	    test_sh("ip link set xvrt-c1 mtu " XSTR(EMTU_MTU)) ||
	    test_sh("ip link add xvrt-d0 type veth peer name xvrt-d1") ||
	    test_sh("ip link set xvrt-d1 mtu " XSTR(ELOW_MTU))) {
		test__skip("cannot create veth devices with ip(8)");
		return true;	/* entered; the caller leaves */
	}
	net.a = if_nametoindex("xvrt-a0");
	net.b = if_nametoindex("xvrt-b0");
	net.e1 = if_nametoindex("xvrt-a1");
	net.e2 = if_nametoindex("xvrt-b1");
	net.notx = if_nametoindex("xvrt-c0");
	net.emtu = if_nametoindex("xvrt-c1");
	net.elow = if_nametoindex("xvrt-d1");
	return true;
}

enum port_id { PA, PB, PNOTX };

static __u32 port_ifindex(enum port_id p)
{
	return p == PA ? net.a : p == PB ? net.b : net.notx;
}

/* ---- fixture: one loaded skeleton and the node handle over its maps ---- */

struct fx {
	struct xvr_ingress *skel;
	struct xvr_node n;
	int prog_fd;
};

static void fx_close(struct fx *fx)
{
	/* The node's fds belong to the skeleton; only forget them. */
	xvr_ingress__destroy(fx->skel);
	fx->skel = NULL;
}

static bool fx_port(struct fx *fx, __u32 ifindex, __u32 slot, const char *name)
{
	struct xvr_port port = { .slot = slot, .flags = XVR_PORT_ACTIVE, .mtu = 1500 };

	snprintf(port.name, sizeof(port.name), "%s", name);
	return ASSERT_OK(bpf_map_update_elem(fx->n.ports_fd, &ifindex, &port, BPF_ANY),
			 "xvr_ports update");
}

static bool fx_txport(struct fx *fx, __u32 ifindex)
{
	struct bpf_devmap_val val = { .ifindex = ifindex };

	return ASSERT_OK(bpf_map_update_elem(fx->n.tx_ports_fd, &ifindex, &val, BPF_ANY),
			 "xvr_tx_ports update");
}

/* Loads the program; ports A and B; E1, E2 and EMTU in the devmap. */
static bool fx_open(struct fx *fx)
{
	memset(fx, 0, sizeof(*fx));
	fx->skel = xvr_ingress__open_and_load();
	if (!ASSERT_OK_PTR(fx->skel, "xvr_ingress__open_and_load"))
		return false;
	fx->prog_fd = bpf_program__fd(fx->skel->progs.xvr_ingress);
	xvr_node_init(&fx->n, "test");
#define FX_FD(m) fx->n.m##_fd = bpf_map__fd(fx->skel->maps.xvr_##m);
	XVR_MAPS(FX_FD)
#undef FX_FD
	if (!fx_port(fx, net.a, SLOT_A, "xvrt-a0") || !fx_port(fx, net.b, SLOT_B, "xvrt-b0") ||
	    !fx_txport(fx, net.e1) || !fx_txport(fx, net.e2) || !fx_txport(fx, net.emtu) ||
	    !fx_txport(fx, net.elow)) {
		fx_close(fx);
		return false;
	}
	return true;
}

static bool fx_router(struct fx *fx, __u32 vr, __u32 flags, __u32 mode)
{
	struct xvr_router r = { .flags = flags, .mode = mode };
	char name[32];

	snprintf(r.name, sizeof(r.name), "vr%u", vr);
	if (!ASSERT_OK(bpf_map_update_elem(fx->n.routers_fd, &vr, &r, BPF_ANY), "xvr_routers"))
		return false;
	snprintf(name, sizeof(name), "fib_router_init(%u)", vr);
	return ASSERT_OK(fib_router_init(&fx->n, vr), name);
}

/* Nexthop id's MACs: the id is in the destination MAC, so the output tells. */
static void nh_dmac(__u32 id, __u8 mac[6])
{
	const __u8 m[6] = { 0x02, 0x00, 0x00, 0x01, id >> 8, id & 0xff };

	memcpy(mac, m, 6);
}

static const __u8 NH_SMAC[6] = { 0x02, 0x00, 0x00, 0x00, 0xee, 0x01 };

static bool fx_nh(struct fx *fx, __u32 id, __u32 vr, __u32 ifindex, __u16 flags, __u16 vlan)
{
	struct xvr_nexthop nh = {
		.ifindex = ifindex, .vr_id = vr, .flags = flags, .vlan = vlan,
	};

	nh_dmac(id, nh.dmac);
	memcpy(nh.smac, NH_SMAC, 6);
	return ASSERT_OK(bpf_map_update_elem(fx->n.nexthops_fd, &id, &nh, BPF_ANY),
			 "xvr_nexthops update");
}

static bool fx_route(struct fx *fx, __u32 vr, const char *prefix, __u32 nh)
{
	__u8 addr[16] = {};
	int family, plen;
	char name[96];

	snprintf(name, sizeof(name), "route %s -> nh %u in vr %u", prefix, nh, vr);
	if (!ASSERT_OK(parse_prefix(prefix, &family, addr, &plen), name))
		return false;
	return ASSERT_OK(fib_route_add(&fx->n, vr, family, addr, plen, nh, NULL), name);
}

static bool fx_rule(struct fx *fx, struct xvr_cls_key key, __u32 vr)
{
	struct xvr_cls_val val = { .vr_id = vr };

	return ASSERT_OK(bpf_map_update_elem(fx->n.classify_fd, &key, &val, BPF_ANY),
			 "xvr_classify update");
}

/* A prefix rule's trie key; IPv4 is stored v4-mapped (::ffff:a.b.c.d, see xvr.h). */
static bool prefix_key(__u32 ifindex, const char *prefix, struct xvr_cls_prefix_key *key)
{
	__u8 addr[16] = {};
	int family, plen;

	memset(key, 0, sizeof(*key));
	key->ifindex = htonl(ifindex);
	if (!ASSERT_OK(parse_prefix(prefix, &family, addr, &plen), prefix))
		return false;
	if (family == AF_INET) {
		key->addr[10] = key->addr[11] = 0xff;
		memcpy(&key->addr[12], addr, 4);
		key->prefixlen = 32 + 96 + plen;
	} else {
		memcpy(key->addr, addr, 16);
		key->prefixlen = 32 + plen;
	}
	return true;
}

static bool fx_prefix_rule(struct fx *fx, __u32 ifindex, const char *prefix, __u32 vr)
{
	struct xvr_cls_prefix_key key;
	struct xvr_cls_val val = { .vr_id = vr };

	return prefix_key(ifindex, prefix, &key) &&
	       ASSERT_OK(bpf_map_update_elem(fx->n.cls_prefix_fd, &key, &val, BPF_ANY),
			 "xvr_cls_prefix update");
}

static bool fx_prefix_rule_del(struct fx *fx, __u32 ifindex, const char *prefix)
{
	struct xvr_cls_prefix_key key;

	return prefix_key(ifindex, prefix, &key) &&
	       ASSERT_OK(bpf_map_delete_elem(fx->n.cls_prefix_fd, &key), "xvr_cls_prefix delete");
}

static bool fx_config(struct fx *fx, __u32 flags)
{
	struct xvr_config cfg;
	__u32 zero = 0;

	if (!ASSERT_OK(bpf_map_lookup_elem(fx->n.config_fd, &zero, &cfg), "xvr_config lookup"))
		return false;
	cfg.flags = flags;
	return ASSERT_OK(bpf_map_update_elem(fx->n.config_fd, &zero, &cfg, BPF_ANY),
			 "xvr_config update");
}

/* A router forwarding everything (0/0 and ::/0) to nexthop id == vr on E1. */
static bool fx_router_default(struct fx *fx, __u32 vr)
{
	return fx_router(fx, vr, XVR_ROUTER_ACTIVE, XVR_MODE_XDP) &&
	       fx_nh(fx, vr, vr, net.e1, XVR_NH_VALID, 0) && fx_route(fx, vr, "0.0.0.0/0", vr) &&
	       fx_route(fx, vr, "::/0", vr);
}

/* ---- running a frame and checking everything it touched ---- */

enum outcome {
	FWD,		/* XDP_REDIRECT, fwd booked */
	PUNT,		/* XDP_PASS, frame unchanged, punt[reason] */
	DROP,		/* XDP_DROP, drop[reason] */
	MISS,		/* XDP_PASS, frame unchanged, port miss */
	NOT_PORT,	/* XDP_PASS, frame unchanged, nothing booked */
};

struct expect {
	enum outcome what;
	int reason;		/* punt or drop reason */
	__u32 vr;		/* router the frame is booked to, 0: none */
	bool vif;		/* FWD/PUNT into the router's VIF: XDP_REDIRECT */
};

#define NVR_SNAP	16	/* routers 0..15 are watched */

struct snap {
	struct xvr_counters vr[NVR_SNAP];
	struct xvr_counters port[NSLOTS];
};

static int snap_read(struct fx *fx, struct snap *s)
{
	int err;

	for (__u32 i = 0; i < NVR_SNAP; i++) {
		err = counters_read(fx->n.vr_stats_fd, i, &s->vr[i]);
		if (err)
			return err;
	}
	for (__u32 i = 0; i < NSLOTS; i++) {
		err = counters_read(fx->n.port_stats_fd, i, &s->port[i]);
		if (err)
			return err;
	}
	return 0;
}

#define NCOUNTERS (sizeof(struct xvr_counters) / sizeof(__u64))

/* The name of the i-th __u64 of struct xvr_counters, for messages. */
static void counter_name(size_t i, char *buf, size_t len)
{
#define CTR(f) { offsetof(struct xvr_counters, f) / sizeof(__u64), #f }
	static const struct {
		size_t idx;
		const char *name;
	} names[] = {
		CTR(rx_packets), CTR(rx_bytes), CTR(fwd_packets), CTR(fwd_bytes),
		CTR(punt_packets), CTR(punt_bytes), CTR(drop_packets), CTR(drop_bytes),
		CTR(miss_packets), CTR(miss_bytes),
	};
#undef CTR
	const size_t punt0 = offsetof(struct xvr_counters, punt) / sizeof(__u64);
	const size_t drop0 = offsetof(struct xvr_counters, drop) / sizeof(__u64);
	const char *r;

	for (size_t k = 0; k < ARRAY_SIZE(names); k++) {
		if (names[k].idx == i) {
			snprintf(buf, len, "%s", names[k].name);
			return;
		}
	}
	if (i >= punt0 && i < punt0 + XVR_PUNT_MAX) {
		r = punt_reason_name(i - punt0);
		snprintf(buf, len, "punt[%zu %s]", i - punt0, r ? r : "?");
	} else if (i >= drop0 && i < drop0 + XVR_DROP_MAX) {
		r = drop_reason_name(i - drop0);
		snprintf(buf, len, "drop[%zu %s]", i - drop0, r ? r : "?");
	} else {
		snprintf(buf, len, "counter at byte %zu", i * sizeof(__u64));
	}
}

/* after - before == want, field by field; names every field that is off. */
static bool counters_delta_eq(const char *name, const char *block, const struct xvr_counters *before,
			      const struct xvr_counters *after, const struct xvr_counters *want)
{
	const __u64 *b = (const void *)before, *a = (const void *)after, *w = (const void *)want;
	bool ok = true;
	char field[48];

	for (size_t i = 0; i < NCOUNTERS; i++) {
		if (a[i] - b[i] == w[i])
			continue;
		counter_name(i, field, sizeof(field));
		test__fail();
		fprintf(stderr, "%s: FAIL %s %s: got +%llu expected +%llu\n", name, block, field,
			(unsigned long long)(a[i] - b[i]), (unsigned long long)w[i]);
		ok = false;
	}
	return ok;
}

/* The counter movement one frame of len bytes with outcome e causes in a block. */
static void expect_book(struct xvr_counters *c, const struct expect *e, __u32 len, bool port)
{
	memset(c, 0, sizeof(*c));
	if (e->what == NOT_PORT)
		return;
	c->rx_packets = 1;
	c->rx_bytes = len;
	switch (e->what) {
	case FWD:
		c->fwd_packets = 1;
		c->fwd_bytes = len;
		break;
	case PUNT:
		c->punt_packets = 1;
		c->punt_bytes = len;
		c->punt[e->reason] = 1;
		break;
	case DROP:
		c->drop_packets = 1;
		c->drop_bytes = len;
		c->drop[e->reason] = 1;
		break;
	case MISS:
		if (port) {
			c->miss_packets = 1;
			c->miss_bytes = len;
		}
		break;
	case NOT_PORT:
		break;
	}
}

static int run_xdp(struct fx *fx, __u32 ifindex, const void *data, __u32 len, void *out,
		   __u32 *out_len, __u32 *verdict)
{
	struct xdp_md ctx = { .data_end = len, .ingress_ifindex = ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = data, .data_size_in = len,
		    .data_out = out, .data_size_out = FRAME_MAX + 64, .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = 1);
	int err;

	err = bpf_prog_test_run_opts(fx->prog_fd, &opts);
	*out_len = opts.data_size_out;
	*verdict = opts.retval;
	return err;
}

static void hexdiff(const char *name, const __u8 *got, __u32 got_len, const __u8 *want,
		    __u32 want_len)
{
	__u32 n = got_len < want_len ? got_len : want_len, shown = 0;

	for (__u32 i = 0; i < n && shown < 8; i++) {
		if (got[i] == want[i])
			continue;
		fprintf(stderr, "%s:   byte %u: got 0x%02x expected 0x%02x\n", name, i, got[i],
			want[i]);
		shown++;
	}
}

static unsigned int frames_run;

/* got equals want byte for byte; otherwise says where not. */
static bool frame_eq(const char *name, const __u8 *got, __u32 got_len, const struct frame *want)
{
	__u32 ndiff = 0;
	char what[200];

	snprintf(what, sizeof(what), "%s length", name);
	if (!ASSERT_EQ(got_len, want->len, what))
		return false;
	for (__u32 i = 0; i < got_len; i++)
		ndiff += got[i] != want->data[i];
	if (_CHECK(ndiff, name, "%u of %u bytes differ", ndiff, got_len))
		return true;
	hexdiff(name, got, got_len, want->data, want->len);
	return false;
}

static const char *outcome_name(enum outcome o)
{
	static const char *const names[] = { "FWD", "PUNT", "DROP", "MISS", "NOT_PORT" };

	return names[o];
}

/*
 * Runs in through the program on port ifindex and checks the verdict, the
 * output (want for FWD, the input unchanged for PASS verdicts) and every
 * counter. want may be NULL for DROP.
 */
static bool check_frame(struct fx *fx, const char *name, __u32 ifindex, const struct frame *in,
			const struct expect *e, const struct frame *want)
{
	static const __u32 verdicts[] = {
		[FWD] = XDP_REDIRECT, [PUNT] = XDP_PASS, [DROP] = XDP_DROP,
		[MISS] = XDP_PASS, [NOT_PORT] = XDP_PASS,
	};
	__u8 out[FRAME_MAX + 64];
	struct snap before, after;
	struct xvr_counters want_c, zero = {};
	__u32 out_len = 0, verdict = ~0u, slot;
	bool ok = true;
	char what[160];
	int err;

	frames_run++;
	if (!ASSERT_OK(snap_read(fx, &before), "counters_read"))
		return false;
	err = run_xdp(fx, ifindex, in->data, in->len, out, &out_len, &verdict);
	snprintf(what, sizeof(what), "%s: test_run", name);
	if (!ASSERT_OK(err, what))
		return false;
	if (!ASSERT_OK(snap_read(fx, &after), "counters_read"))
		return false;

	snprintf(what, sizeof(what), "%s: verdict (expected %s, reason %d)", name,
		 outcome_name(e->what), e->reason);
	ok &= ASSERT_EQ(verdict, e->vif ? XDP_REDIRECT : verdicts[e->what], what);

	/* A redirected frame must be want; a passed one must be untouched. */
	if (e->what != DROP) {
		bool redirect = e->what == FWD || e->vif;
		const struct frame *ref = redirect ? want : in;

		snprintf(what, sizeof(what), "%s: %s", name,
			 redirect ? "output frame" : "frame unchanged");
		ok &= frame_eq(what, out, out_len, ref);
	}

	slot = ifindex == net.a ? SLOT_A : ifindex == net.b ? SLOT_B : 0;
	for (__u32 i = 0; i < NSLOTS; i++) {
		char block[32];

		snprintf(block, sizeof(block), "port slot %u", i);
		if (i == slot && slot)
			expect_book(&want_c, e, in->len, true);
		else
			want_c = zero;
		ok &= counters_delta_eq(name, block, &before.port[i], &after.port[i], &want_c);
	}
	for (__u32 i = 0; i < NVR_SNAP; i++) {
		char block[32];

		snprintf(block, sizeof(block), "router %u", i);
		if (i == e->vr && e->vr)
			expect_book(&want_c, e, in->len, false);
		else
			want_c = zero;
		ok &= counters_delta_eq(name, block, &before.vr[i], &after.vr[i], &want_c);
	}
	return ok;
}

/* The spec of what leaves for nexthop id: its MACs and VLAN, TTL - 1. */
static struct frame_spec fwd_spec(struct fx *fx, const struct frame_spec *in, __u32 nh_id)
{
	struct frame_spec s = *in;
	struct xvr_nexthop nh = {};
	int in_l2 = ETH_HLEN + 4 * in->nvlans, out_l2;

	ASSERT_OK(bpf_map_lookup_elem(fx->n.nexthops_fd, &nh_id, &nh), "xvr_nexthops lookup");
	memcpy(s.dmac, nh.dmac, 6);
	memcpy(s.smac, nh.smac, 6);
	s.tpid = 0;
	s.nvlans = nh.vlan ? 1 : 0;
	memset(s.tci, 0, sizeof(s.tci));
	/* A tagged frame keeps its outer tag's PCP and DEI bits when retagged. */
	s.tci[0] = nh.vlan ? nh.vlan | (in->nvlans ? in->tci[0] & 0xf000 : 0) : 0;
	s.ttl = (in->ttl ? in->ttl : 64) - 1;
	out_l2 = ETH_HLEN + 4 * s.nvlans;
	/* Padding after the IP packet stays; only the L2 header changes size. */
	if (in->min_len)
		s.min_len = in->min_len - in_l2 + out_l2;
	return s;
}

/* The spec of a frame handed to a VIF: the same frame with its tags removed. */
static struct frame_spec vif_spec(const struct frame_spec *in)
{
	struct frame_spec s = *in;

	s.tpid = 0;
	s.nvlans = 0;
	memset(s.tci, 0, sizeof(s.tci));
	if (in->min_len)
		s.min_len = in->min_len - 4 * in->nvlans;
	return s;
}

/* A frame table row. */
struct row {
	const char *desc;
	enum port_id port;
	struct frame_spec in;
	/* Applied to the built frame (and to the expected output for FWD). */
	void (*mutate)(struct frame *f, int arg);
	int arg;
	enum outcome what;
	int reason;
	__u32 vr;
	__u32 nh;		/* FWD: the nexthop the frame must leave by */
	bool vif;		/* into the router's VIF: unchanged but for its tags */
};

static bool run_row(struct fx *fx, const char *prefix, const struct row *r)
{
	struct expect e = { .what = r->what, .reason = r->reason, .vr = r->vr, .vif = r->vif };
	struct frame in, want;
	struct frame_spec ws;
	char name[200];

	snprintf(name, sizeof(name), "%s: %s", prefix, r->desc);
	if (!ASSERT_OK(frame_build(&in, &r->in), name))
		return false;
	if (r->mutate)
		r->mutate(&in, r->arg);
	if (r->what == FWD || r->vif) {
		if (r->vif)
			ws = vif_spec(&r->in);
		else
			ws = fwd_spec(fx, &r->in, r->nh);
		if (!ASSERT_OK(frame_build(&want, &ws), name))
			return false;
		if (r->mutate)
			r->mutate(&want, r->arg);
	}
	return check_frame(fx, name, port_ifindex(r->port), &in, &e, &want);
}

static void run_rows(struct fx *fx, const char *prefix, const struct row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		run_row(fx, prefix, &rows[i]);
}

/* ---- frame mutators for rows ---- */

static void mut_ttl(struct frame *f, int ttl)
{
	int family = ((f->data[f->l3_off] >> 4) == 6) ? AF_INET6 : AF_INET;

	frame_set_ttl(f, family, ttl);
}

static void mut_ihl(struct frame *f, int ihl)
{
	frame_ip4(f)->ihl = ihl;
	frame_ipv4_fix_csum(f);
}

static void mut_ip_version(struct frame *f, int version)
{
	struct iphdr *iph = frame_ip4(f);

	/* The version nibble sits in the same place in IPv4 and IPv6. */
	if (iph->version == 4) {
		iph->version = version;
		frame_ipv4_fix_csum(f);
	} else {
		frame_ip6(f)->version = version;
	}
}

static void mut_tot_len_delta(struct frame *f, int delta)
{
	struct iphdr *iph = frame_ip4(f);

	iph->tot_len = htons(ntohs(iph->tot_len) + delta);
	frame_ipv4_fix_csum(f);
}

static void mut_tot_len(struct frame *f, int tot_len)
{
	frame_ip4(f)->tot_len = htons(tot_len);
	frame_ipv4_fix_csum(f);
}

/* arg: IHL << 16 | total length */
static void mut_ihl_tot_len(struct frame *f, int arg)
{
	frame_ip4(f)->ihl = arg >> 16;
	mut_tot_len(f, arg & 0xffff);
}

static void mut_payload_len(struct frame *f, int len)
{
	frame_ip6(f)->payload_len = htons(len);
}

static void mut_csum_delta(struct frame *f, int delta)
{
	struct iphdr *iph = frame_ip4(f);

	iph->check = htons(ntohs(iph->check) + delta);
}

/* The IP packet ends arg bytes into its L4 header, and so does the frame. */
static void mut_l4_cut(struct frame *f, int arg)
{
	__u32 end = f->l4_off + arg;

	if ((f->data[f->l3_off] >> 4) == 4)
		mut_tot_len(f, end - f->l3_off);
	else
		mut_payload_len(f, end - f->l3_off - sizeof(struct ipv6hdr));
	f->len = end;
}

/* As mut_l4_cut, but the frame keeps Ethernet padding to 60 bytes. */
static void mut_l4_cut_padded(struct frame *f, int arg)
{
	__u32 end = f->l4_off + arg;

	mut_l4_cut(f, arg);
	if (end < 60) {
		memset(f->data + end, 0, 60 - end);
		f->len = 60;
	}
}

/* ---- subtest: classifier rules and precedence ---- */

#define MAC_VR1	{ 0x02, 0x00, 0x00, 0x00, 0x01, 0x01 }
#define MAC_SPEC { 0x02, 0x00, 0x00, 0x00, 0x06, 0x06 }

#define RULE(...) ((struct xvr_cls_key){ __VA_ARGS__ })

static bool classify_setup(struct fx *fx)
{
	const __u8 mac_vr1[6] = MAC_VR1, mac_spec[6] = MAC_SPEC;
	struct xvr_cls_key k;
	bool ok = true;

	for (__u32 vr = 1; vr <= 7; vr++)
		ok = ok && fx_router_default(fx, vr);
	/*
	 * 8: configured but inactive; 9: never configured; 10: a mode without
	 * a data path; 11: netns mode, but the rule names no VIF; 12: afxdp
	 * mode without any engine.
	 */
	ok = ok && fx_router(fx, 8, 0, XVR_MODE_XDP) && fx_nh(fx, 8, 8, net.e1, XVR_NH_VALID, 0) &&
	     fx_route(fx, 8, "0.0.0.0/0", 8);
	ok = ok && fx_router(fx, 10, XVR_ROUTER_ACTIVE, XVR_MODE_CPU) &&
	     fx_router(fx, 11, XVR_ROUTER_ACTIVE, XVR_MODE_NETNS) &&
	     fx_router(fx, 12, XVR_ROUTER_ACTIVE, XVR_MODE_AFXDP);
	if (!ok)
		return false;

	k = RULE(.kind = XVR_RULE_MAC);
	memcpy(k.mac, mac_vr1, 6);
	ok &= fx_rule(fx, k, 1);
	memcpy(k.mac, mac_spec, 6);
	ok &= fx_rule(fx, k, 1);
	k.ifindex = net.a;
	ok &= fx_rule(fx, k, 6);

	ok &= fx_rule(fx, RULE(.kind = XVR_RULE_VLAN, .vlan = 100), 2);
	ok &= fx_rule(fx, RULE(.kind = XVR_RULE_VLAN, .vlan = 200), 2);
	ok &= fx_rule(fx, RULE(.ifindex = net.a, .kind = XVR_RULE_VLAN, .vlan = 200), 6);

	ok &= fx_rule(fx, RULE(.kind = XVR_RULE_UDP, .port = 4789), 3);
	ok &= fx_rule(fx, RULE(.kind = XVR_RULE_UDP, .port = 5000), 3);
	ok &= fx_rule(fx, RULE(.ifindex = net.a, .kind = XVR_RULE_UDP, .port = 5000), 6);
	ok &= fx_rule(fx, RULE(.kind = XVR_RULE_UDP, .port = 6000), 8);
	ok &= fx_rule(fx, RULE(.kind = XVR_RULE_UDP, .port = 6001), 9);
	ok &= fx_rule(fx, RULE(.kind = XVR_RULE_UDP, .port = 6002), 10);
	ok &= fx_rule(fx, RULE(.kind = XVR_RULE_UDP, .port = 6003), 11);
	ok &= fx_rule(fx, RULE(.kind = XVR_RULE_UDP, .port = 6005), 12);
	ok &= fx_rule(fx, RULE(.kind = XVR_RULE_UDP, .port = 6004), XVR_MAX_ROUTERS + 100);

	ok &= fx_prefix_rule(fx, 0, "10.3.0.0/16", 4);
	ok &= fx_prefix_rule(fx, 0, "172.16.5.0/24", 4);
	ok &= fx_prefix_rule(fx, net.a, "172.16.0.0/12", 6);
	ok &= fx_prefix_rule(fx, 0, "2001:db8:4::/48", 4);
	ok &= fx_prefix_rule(fx, 0, "2001:db9:6::/48", 4);
	ok &= fx_prefix_rule(fx, net.a, "2001:db9::/32", 6);

	ok &= fx_rule(fx, RULE(.ifindex = net.a, .kind = XVR_RULE_DEFAULT), 5);

	ok &= fx_rule(fx, RULE(.kind = XVR_RULE_GRE, .gre_key = 1000), 7);
	ok &= fx_rule(fx, RULE(.kind = XVR_RULE_GRE, .gre_key = 2000), 7);
	ok &= fx_rule(fx, RULE(.ifindex = net.a, .kind = XVR_RULE_GRE, .gre_key = 2000), 6);

	ok &= ASSERT_OK(rules_refresh_kinds(&fx->n), "rules_refresh_kinds");
	return ok;
}

#define V4(...) { .family = AF_INET, __VA_ARGS__ }
#define V6(...) { .family = AF_INET6, __VA_ARGS__ }
#define TAGS1(t) .nvlans = 1, .tci = { t }
#define TAGS2(t1, t2) .nvlans = 2, .tci = { t1, t2 }
#define GRE(f, k) .proto = IPPROTO_GRE, .gre_flags = (f), .gre_key = (k), .payload = 14
#define FWD_VR(v) .what = FWD, .vr = (v), .nh = (v)

static const struct row classify_rows[] = {
	/* The precedence ladder: each row removes the most specific match of the one before. */
	{ "MAC beats VLAN, UDP, prefix and default", PA,
	  V4(.dmac = MAC_VR1, TAGS1(100), .dport = 4789, .dst = "10.3.0.1"), FWD_VR(1) },
	{ "VLAN beats UDP, prefix and default", PA,
	  V4(TAGS1(100), .dport = 4789, .dst = "10.3.0.1"), FWD_VR(2) },
	{ "UDP port beats prefix and default", PA, V4(.dport = 4789, .dst = "10.3.0.1"), FWD_VR(3) },
	{ "prefix beats port default", PA, V4(.dport = 4790, .dst = "10.3.0.1"), FWD_VR(4) },
	{ "port default", PA, V4(.dport = 4790, .dst = "10.9.0.1"), FWD_VR(5) },
	{ "no rule on port B: miss", PB, V4(.dport = 4790, .dst = "10.9.0.1"), .what = MISS },
	{ "IPv6: UDP port", PA, V6(.dport = 4789, .dst = "2001:db8:4::1"), FWD_VR(3) },
	{ "IPv6: prefix beats default", PA, V6(.dst = "2001:db8:4::1"), FWD_VR(4) },
	{ "IPv6: any-port prefix on port B", PB, V6(.dst = "2001:db8:4::1"), FWD_VR(4) },
	{ "IPv6: port default", PA, V6(.dst = "2001:db8:99::1"), FWD_VR(5) },
	{ "IPv6: no rule on port B: miss", PB, V6(.dst = "2001:db8:99::1"), .what = MISS },
	{ "IPv6: VLAN beats prefix", PA, V6(TAGS1(100), .dst = "2001:db8:4::1"), FWD_VR(2) },

	/* Port-specific rules beat any-port rules of the same kind. */
	{ "MAC rule of port A beats any-port MAC rule", PA, V4(.dmac = MAC_SPEC), FWD_VR(6) },
	{ "any-port MAC rule on port B", PB, V4(.dmac = MAC_SPEC), FWD_VR(1) },
	{ "VLAN rule of port A beats any-port VLAN rule", PA, V4(TAGS1(200)), FWD_VR(6) },
	{ "any-port VLAN rule on port B", PB, V4(TAGS1(200)), FWD_VR(2) },
	{ "UDP rule of port A beats any-port UDP rule", PA, V4(.dport = 5000), FWD_VR(6) },
	{ "any-port UDP rule on port B", PB, V4(.dport = 5000), FWD_VR(3) },
	{ "port A's /12 beats the any-port /24", PA, V4(.dst = "172.16.5.1"), FWD_VR(6) },
	{ "any-port /24 on port B", PB, V4(.dst = "172.16.5.1"), FWD_VR(4) },
	{ "port A's /12 does not apply on port B", PB, V4(.dst = "172.17.0.1"), .what = MISS },
	{ "IPv6: port A's /32 beats the any-port /48", PA, V6(.dst = "2001:db9:6::1"), FWD_VR(6) },
	{ "IPv6: any-port /48 on port B", PB, V6(.dst = "2001:db9:6::1"), FWD_VR(4) },

	/* What each kind looks at. */
	{ "VLAN rule matches the outer tag only", PA, V4(TAGS2(300, 100)), FWD_VR(5) },
	{ "VLAN rule matches the VID, not PCP/DEI", PA, V4(TAGS1(0xb000 | 100)), FWD_VR(2) },
	{ "VLAN rule on an 802.1ad outer tag", PA, V4(.tpid = ETH_P_8021AD, TAGS2(100, 300)),
	  FWD_VR(2) },
	{ "UDP rule ignores a TCP destination port", PA,
	  V4(.proto = IPPROTO_TCP, .dport = 4789, .dst = "10.9.0.1"), FWD_VR(5) },
	{ "UDP rule ignores the source port", PA, V4(.sport = 4789, .dport = 4790), FWD_VR(5) },
	{ "UDP rule: first IPv4 fragment has the ports", PA,
	  V4(.ip_frag = IP_MF, .dport = 4789), FWD_VR(3) },
	{ "UDP rule: later IPv4 fragment has no ports", PA,
	  V4(.ip_frag = 185, .dport = 4789), FWD_VR(5) },

	/* GRE keys (virtual links): tried before every other kind. */
	{ "GRE key beats MAC, prefix and default", PA,
	  V4(.dmac = MAC_VR1, .dst = "10.3.0.1", GRE(FRAME_GRE_KEY, 1000)), FWD_VR(7) },
	{ "GRE key rule of port A beats any-port GRE rule", PA, V4(GRE(FRAME_GRE_KEY, 2000)),
	  FWD_VR(6) },
	{ "any-port GRE rule on port B", PB, V4(GRE(FRAME_GRE_KEY, 2000)), FWD_VR(7) },
	{ "GRE key after a GRE checksum", PA, V4(GRE(FRAME_GRE_CSUM | FRAME_GRE_KEY, 1000)),
	  FWD_VR(7) },
	{ "GRE without key: prefix", PA, V4(.dst = "10.3.0.1", GRE(0, 0)), FWD_VR(4) },
	{ "GRE key without rule: prefix", PA, V4(.dst = "10.3.0.1", GRE(FRAME_GRE_KEY, 3000)),
	  FWD_VR(4) },
	{ "GRE version 1 (PPTP): key ignored", PA,
	  V4(.dst = "10.3.0.1", GRE(FRAME_GRE_KEY | 1, 1000)), FWD_VR(4) },

	/* Non-IP frames classify by MAC, VLAN and default; the router punts them. */
	{ "ARP by port default", PA, { .ethertype = ETH_P_ARP }, .what = PUNT,
	  .reason = XVR_PUNT_NON_IP, .vr = 5 },
	{ "ARP by MAC rule", PA, { .ethertype = ETH_P_ARP, .dmac = MAC_VR1 }, .what = PUNT,
	  .reason = XVR_PUNT_NON_IP, .vr = 1 },
	{ "ARP unclassified on port B: miss", PB, { .ethertype = ETH_P_ARP }, .what = MISS },

	/* Routers that cannot take the frame. */
	{ "rule to an inactive router", PA, V4(.dport = 6000), .what = DROP,
	  .reason = XVR_DROP_ROUTER_DOWN },
	{ "rule to an unconfigured router", PA, V4(.dport = 6001), .what = DROP,
	  .reason = XVR_DROP_ROUTER_DOWN },
	{ "rule to a router id beyond XVR_MAX_ROUTERS", PA, V4(.dport = 6004), .what = DROP,
	  .reason = XVR_DROP_ROUTER_DOWN },
	{ "rule to a cpu-mode router: no data path yet", PA, V4(.dport = 6002), .what = DROP,
	  .reason = XVR_DROP_MODE, .vr = 10 },
	{ "rule to an afxdp-mode router without a live engine", PA, V4(.dport = 6005),
	  .what = DROP, .reason = XVR_DROP_FE_DOWN, .vr = 12 },
	{ "rule to a netns-mode router without a VIF", PA, V4(.dport = 6003), .what = DROP,
	  .reason = XVR_DROP_NO_VIF, .vr = 11 },

	{ "not an xvr port: passed, nothing booked", PNOTX, V4(.dport = 4789), .what = NOT_PORT },
};

static void subtest_classify(void)
{
	static const struct row miss_drop_rows[] = {
		{ "miss policy drop: unclassified IPv4", PB, V4(.dst = "10.9.0.1"), .what = DROP,
		  .reason = XVR_DROP_MISS_POLICY },
		{ "miss policy drop: unclassified IPv6", PB, V6(.dst = "2001:db8:99::1"),
		  .what = DROP, .reason = XVR_DROP_MISS_POLICY },
		{ "miss policy drop: unclassified ARP", PB, { .ethertype = ETH_P_ARP },
		  .what = DROP, .reason = XVR_DROP_MISS_POLICY },
		{ "miss policy drop: classified frames still forward", PA, V4(.dst = "10.9.0.1"),
		  FWD_VR(5) },
		{ "miss policy drop: not an xvr port is still left alone", PNOTX, V4(),
		  .what = NOT_PORT },
	};
	static const struct row kinds_rows[] = {
		{ "MAC kind bit clear: MAC rules skipped", PA,
		  V4(.dmac = MAC_VR1, TAGS1(100), .dport = 4789), FWD_VR(2) },
	};
	static const struct row kinds_back_rows[] = {
		{ "MAC kind bit back: MAC rule matches", PA,
		  V4(.dmac = MAC_VR1, TAGS1(100), .dport = 4789), FWD_VR(1) },
	};
	struct xvr_config cfg;
	struct fx fx;
	__u32 zero = 0;

	if (!fx_open(&fx))
		return;
	if (!classify_setup(&fx))
		goto out;
	if (!ASSERT_OK(bpf_map_lookup_elem(fx.n.config_fd, &zero, &cfg), "xvr_config") ||
	    !ASSERT_EQ(cfg.rule_kinds, (1u << XVR_RULE_KIND_MAX) - 1, "rule_kinds: every kind"))
		goto out;

	run_rows(&fx, "classify", classify_rows, ARRAY_SIZE(classify_rows));

	if (fx_config(&fx, XVR_CFG_MISS_DROP))
		run_rows(&fx, "classify", miss_drop_rows, ARRAY_SIZE(miss_drop_rows));
	fx_config(&fx, 0);

	/* rule_kinds gates the lookups: a kind without its bit is not tried. */
	cfg.flags = 0;
	cfg.rule_kinds &= ~(1u << XVR_RULE_MAC);
	if (ASSERT_OK(bpf_map_update_elem(fx.n.config_fd, &zero, &cfg, BPF_ANY), "xvr_config"))
		run_rows(&fx, "classify", kinds_rows, ARRAY_SIZE(kinds_rows));
	if (ASSERT_OK(rules_refresh_kinds(&fx.n), "rules_refresh_kinds"))
		run_rows(&fx, "classify", kinds_back_rows, ARRAY_SIZE(kinds_back_rows));
out:
	fx_close(&fx);
}

/* ---- subtest: IPv4 prefix rules by exact key, one length at a time ---- */

static bool cls4_lens_are(struct fx *fx, __u64 port_lens, __u64 any_lens, const char *what)
{
	struct xvr_config cfg;
	__u32 zero = 0;

	return ASSERT_OK(bpf_map_lookup_elem(fx->n.config_fd, &zero, &cfg), "xvr_config") &&
	       ASSERT_EQ(cfg.cls4_port_lens, port_lens, what) &&
	       ASSERT_EQ(cfg.cls4_any_lens, any_lens, what);
}

static bool cls4_refresh(struct fx *fx, int want_changed, const char *what)
{
	int changed = -1;

	return ASSERT_OK(rules_refresh(&fx->n, &changed), "rules_refresh") &&
	       ASSERT_EQ(changed, want_changed, what);
}

static void subtest_cls_prefix4(void)
{
	/* Lengths + 1, longest first, one per byte (xvr_config). */
	const __u64 port_lens = 12 + 1, any_lens = 33 | 26 << 8 | 25 << 16 | 17 << 24;
	static const struct row rows[] = {
		{ "port A's /12 beats the any-port /25", PA, V4(.dst = "172.16.5.200"), FWD_VR(6) },
		{ "any port: /25 beats /24", PB, V4(.dst = "172.16.5.200"), FWD_VR(7) },
		{ "any port: /24 outside the /25", PB, V4(.dst = "172.16.5.1"), FWD_VR(4) },
		{ "any port: /32 beats /16", PB, V4(.dst = "10.3.0.7"), FWD_VR(2) },
		{ "any port: /16 beside the /32", PB, V4(.dst = "10.3.0.8"), FWD_VR(4) },
		{ "port A's /12 away from the rest", PA, V4(.dst = "172.31.0.1"), FWD_VR(6) },
		{ "no prefix rule: miss", PB, V4(.dst = "10.9.0.1"), .what = MISS },
	};
	static const struct row row_25_lost[] = {
		{ "copy without the /25: the /24 answers", PB, V4(.dst = "172.16.5.200"), FWD_VR(4) },
	};
	static const struct row row_stale[] = {
		{ "copy with an entry of no rule: it answers", PB, V4(.dst = "10.9.0.1"), FWD_VR(3) },
	};
	static const struct row row_covering[] = {
		{ "IPv6 ::/8 takes IPv4 frames, as in the trie", PB, V4(.dst = "10.9.0.1"), FWD_VR(5) },
	};
	struct xvr_cls4_key k25 = { .plen = 25, .addr = htonl(0xac100580) };	/* 172.16.5.128 */
	struct xvr_cls4_key stale = { .plen = 24, .addr = htonl(0x0a090000) };	/* 10.9.0.0 */
	struct xvr_cls_val val = { .vr_id = 3 };
	struct xvr_config cfg;
	__u32 zero = 0;
	char pfx[32];
	struct fx fx;

	if (!fx_open(&fx))
		return;
	if (!classify_setup(&fx) || !fx_prefix_rule(&fx, 0, "172.16.5.128/25", 7) ||
	    !fx_prefix_rule(&fx, 0, "10.3.0.7/32", 2) || !cls4_refresh(&fx, 2, "two more rules"))
		goto out;
	if (cls4_lens_are(&fx, port_lens, any_lens, "lengths listed"))
		run_rows(&fx, "cls4", rows, ARRAY_SIZE(rows));

	/* The trie answers the same. */
	if (ASSERT_OK(bpf_map_lookup_elem(fx.n.config_fd, &zero, &cfg), "xvr_config")) {
		cfg.cls4_port_lens = cfg.cls4_any_lens = XVR_CLS4_TRIE;
		if (ASSERT_OK(bpf_map_update_elem(fx.n.config_fd, &zero, &cfg, BPF_ANY), "trie"))
			run_rows(&fx, "cls4 trie", rows, ARRAY_SIZE(rows));
	}
	if (!cls4_refresh(&fx, 0, "lengths back, no entry changed") ||
	    !cls4_lens_are(&fx, port_lens, any_lens, "lengths back"))
		goto out;

	/* Ingress reads the copy; a refresh (node repair) mends it both ways. */
	if (ASSERT_OK(bpf_map_delete_elem(fx.n.cls_prefix4_fd, &k25), "drop the /25's entry"))
		run_rows(&fx, "cls4", row_25_lost, ARRAY_SIZE(row_25_lost));
	if (ASSERT_OK(bpf_map_update_elem(fx.n.cls_prefix4_fd, &stale, &val, BPF_NOEXIST),
		      "an entry of no rule"))
		run_rows(&fx, "cls4", row_stale, ARRAY_SIZE(row_stale));
	if (cls4_refresh(&fx, 2, "both mended"))
		run_rows(&fx, "cls4 mended", rows, ARRAY_SIZE(rows));

	/* More lengths than a list holds: the trie, with the same answers. */
	for (int len = 17; len <= 23; len++) {
		snprintf(pfx, sizeof(pfx), "192.0.0.0/%d", len);
		fx_prefix_rule(&fx, 0, pfx, 8);
	}
	if (cls4_refresh(&fx, 7, "seven lengths more") &&
	    cls4_lens_are(&fx, XVR_CLS4_TRIE, XVR_CLS4_TRIE, "eleven lengths: trie"))
		run_rows(&fx, "cls4 eleven lengths", rows, ARRAY_SIZE(rows));
	for (int len = 17; len <= 23; len++) {
		snprintf(pfx, sizeof(pfx), "192.0.0.0/%d", len);
		fx_prefix_rule_del(&fx, 0, pfx);
	}
	if (cls4_refresh(&fx, 7, "seven lengths gone"))
		cls4_lens_are(&fx, port_lens, any_lens, "four lengths: listed again");

	/* An IPv6 rule covering ::ffff:0:0/96 matches IPv4 frames too: the trie. */
	if (fx_prefix_rule(&fx, 0, "::/8", 5) && cls4_refresh(&fx, 0, "IPv6 rule") &&
	    cls4_lens_are(&fx, XVR_CLS4_TRIE, XVR_CLS4_TRIE, "covering IPv6 rule: trie"))
		run_rows(&fx, "cls4", row_covering, ARRAY_SIZE(row_covering));
	if (fx_prefix_rule_del(&fx, 0, "::/8") && cls4_refresh(&fx, 0, "IPv6 rule gone") &&
	    cls4_lens_are(&fx, port_lens, any_lens, "listed again"))
		run_rows(&fx, "cls4", rows, ARRAY_SIZE(rows));
out:
	fx_close(&fx);
}

/* ---- subtests: longest-prefix match at every length ---- */

static bool bit_get(const __u8 *a, int i)
{
	return a[i / 8] & (0x80 >> (i % 8));
}

static void bit_set(__u8 *a, int i, bool v)
{
	if (v)
		a[i / 8] |= 0x80 >> (i % 8);
	else
		a[i / 8] &= ~(0x80 >> (i % 8));
}

/* Addresses the program punts before any FIB lookup. */
static bool addr_special(int family, const __u8 *a)
{
	if (family == AF_INET)
		return (a[0] >> 4) == 0xe || (a[0] == 0xff && a[1] == 0xff && a[2] == 0xff &&
					       a[3] == 0xff);
	return a[0] == 0xff || (a[0] == 0xfe && (a[1] & 0xc0) == 0x80);
}

/*
 * Routes base/L for every L in 0..bits, nexthop first_nh + L each (distinct
 * destination MACs). For every L, the first and the last address that
 * match base/L but not base/(L+1) (bit L flipped, the bits below all zero
 * or all one) must leave by nexthop first_nh + L; base itself by /bits.
 */
static void lpm_run(int family, const __u8 *base, __u32 first_nh, bool descending)
{
	const int bits = family == AF_INET ? 32 : 128;
	const int alen = bits / 8;
	const char *fam = family == AF_INET ? "lpm4" : "lpm6";
	int fails = 0;
	struct fx fx;

	if (!fx_open(&fx))
		return;
	if (!fx_router(&fx, 1, XVR_ROUTER_ACTIVE, XVR_MODE_XDP) ||
	    !fx_rule(&fx, RULE(.ifindex = net.a, .kind = XVR_RULE_DEFAULT), 1) ||
	    !ASSERT_OK(rules_refresh_kinds(&fx.n), "rules_refresh_kinds"))
		goto out;
	for (int i = 0; i <= bits; i++) {
		int L = descending ? bits - i : i;
		__u8 pfx[16] = {};
		char text[INET6_ADDRSTRLEN], route[INET6_ADDRSTRLEN + 8];

		for (int b = 0; b < L; b++)
			bit_set(pfx, b, bit_get(base, b));
		inet_ntop(family, pfx, text, sizeof(text));
		snprintf(route, sizeof(route), "%s/%d", text, L);
		if (!fx_nh(&fx, first_nh + L, 1, net.e1, XVR_NH_VALID, 0) ||
		    !fx_route(&fx, 1, route, first_nh + L))
			goto out;
	}

	for (int L = 0; L <= bits && fails < MAX_LOOP_FAILS; L++) {
		for (int hi = 0; hi < 2; hi++) {
			struct expect e = { .what = FWD, .vr = 1 };
			char text[INET6_ADDRSTRLEN], name[160];
			struct frame_spec in = { .family = family, .dst = text }, ws;
			struct frame fin, fwant;
			__u8 a[16] = {};

			if (L == bits && hi)
				break;
			memcpy(a, base, alen);
			if (L < bits) {
				bit_set(a, L, !bit_get(base, L));
				for (int b = L + 1; b < bits; b++)
					bit_set(a, b, hi);
				/* The very last address can be broadcast/multicast: one below it. */
				if (addr_special(family, a) && L + 1 < bits)
					bit_set(a, L + 1, 0);
			}
			inet_ntop(family, a, text, sizeof(text));
			snprintf(name, sizeof(name), "%s%s: /%d %s %s", fam,
				 descending ? " (routes added longest first)" : "", L,
				 L == bits ? "exact" : hi ? "last" : "first", text);
			if (!ASSERT_FALSE(addr_special(family, a), name))
				continue;
			ws = fwd_spec(&fx, &in, first_nh + L);
			if (!ASSERT_OK(frame_build(&fin, &in), name) ||
			    !ASSERT_OK(frame_build(&fwant, &ws), name))
				goto out;
			if (!check_frame(&fx, name, net.a, &fin, &e, &fwant))
				fails++;
		}
	}
out:
	fx_close(&fx);
}

static void subtest_lpm4(void)
{
	/* 165.195.150.225: no probe lands in 224/4; one lands on 255.255.255.255. */
	const __u8 base[4] = { 0xa5, 0xc3, 0x96, 0xe1 };

	lpm_run(AF_INET, base, 1, false);
	lpm_run(AF_INET, base, 1, true);
}

static void subtest_lpm6(void)
{
	const __u8 base[16] = { 0x20, 0x01, 0x0d, 0xb8, 0xa5, 0xc3, 0x96, 0xe1,
				0x5a, 0x3c, 0x0f, 0xf0, 0xc3, 0xa5, 0x1e, 0x87 };

	lpm_run(AF_INET6, base, 101, false);
	lpm_run(AF_INET6, base, 101, true);
}

/* ---- subtest: TTL, hop limit and the IPv4 checksum update ---- */

/*
 * Sets the IP ID so that the header checksum, computed from scratch, comes
 * out as csum: with S the sum of the other words, csum = ~(S + id), so
 * id = ~csum - S in ones' complement arithmetic.
 */
static void ipv4_csum_via_id(struct frame *f, __u16 csum)
{
	struct iphdr *iph = frame_ip4(f);
	__u32 sum;

	iph->id = 0;
	sum = (__u16)~frame_ipv4_csum(f);	/* S */
	sum = (__u16)~csum + (__u16)~sum;	/* ~csum + (-S) */
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	iph->id = htons(sum);
	frame_ipv4_fix_csum(f);
}

/*
 * fin, built from in with TTL (or hop limit) ttl, arriving on port A: at 1
 * or less it is punted (ttl); otherwise it leaves as in rebuilt from
 * scratch with TTL - 1 and a fresh checksum.
 */
static bool check_hop(struct fx *fx, const char *name, const struct frame *fin,
		      const struct frame_spec *in, int ttl)
{
	struct expect e = { .what = FWD, .vr = 1 };
	struct frame_spec ws;
	struct frame fwant;

	if (ttl <= 1) {
		e = (struct expect){ .what = PUNT, .reason = XVR_PUNT_TTL, .vr = 1 };
	} else {
		ws = fwd_spec(fx, in, 1);
		frame_build(&fwant, &ws);
	}
	return check_frame(fx, name, net.a, fin, &e, &fwant);
}

static void subtest_ttl(void)
{
	/*
	 * Header checksums before the update, network order. The update adds
	 * 0x0100; in the little-endian word the program adds 1, so 0xfeff and
	 * 0xffff (raw 0xfffe, 0xffff) take the end-around carry. 0xffff is
	 * the non-canonical zero: a header whose other words sum to 0xffff
	 * verifies with 0x0000 and with 0xffff.
	 */
	static const __u32 csums[] = {
		0x0000, 0x0001, 0x00fe, 0x00ff, 0x0100, 0x0101, 0x7fff, 0x8000,
		0xfefe, 0xfeff, 0xff00, 0xfffe, 0xffff, ~0u /* whatever ID 0 gives */,
	};
	int fails = 0, frames = 0;
	struct fx fx;

	if (!fx_open(&fx))
		return;
	if (!fx_router_default(&fx, 1) ||
	    !fx_rule(&fx, RULE(.ifindex = net.a, .kind = XVR_RULE_DEFAULT), 1) ||
	    !ASSERT_OK(rules_refresh_kinds(&fx.n), "rules_refresh_kinds"))
		goto out;

	for (int ttl = 0; ttl <= 255 && fails < MAX_LOOP_FAILS; ttl++) {
		for (size_t c = 0; c < ARRAY_SIZE(csums); c++) {
			struct frame_spec in = { .family = AF_INET, .ttl = ttl ? ttl : 64,
						 .dst = "203.0.113.9", .payload = 11 };
			struct frame fin;
			char name[96];

			frame_build(&fin, &in);
			if (!ttl)
				mut_ttl(&fin, 0);
			if (csums[c] != ~0u)
				ipv4_csum_via_id(&fin, csums[c] == 0xffff ? 0 : csums[c]);
			if (csums[c] == 0xffff) {
				/* Non-canonical zero; the program's verification accepts it. */
				if (!ASSERT_EQ(ntohs(frame_ip4(&fin)->check), 0, "checksum 0 first"))
					continue;
				frame_ip4(&fin)->check = 0xffff;
			}
			snprintf(name, sizeof(name), "ttl %d, header checksum 0x%04x", ttl,
				 ntohs(frame_ip4(&fin)->check));
			if (csums[c] != ~0u && !ASSERT_EQ(ntohs(frame_ip4(&fin)->check), csums[c], name))
				continue;
			in.ip_id = ntohs(frame_ip4(&fin)->id);
			if (!check_hop(&fx, name, &fin, &in, ttl))
				fails++;
			frames++;
		}
	}

	for (int hop = 0; hop <= 255 && fails < MAX_LOOP_FAILS; hop++) {
		struct frame_spec in = { .family = AF_INET6, .ttl = hop ? hop : 64,
					 .dst = "2001:db8:77::9", .payload = 11 };
		struct frame fin;
		char name[64];

		frame_build(&fin, &in);
		if (!hop)
			mut_ttl(&fin, 0);
		snprintf(name, sizeof(name), "hop limit %d", hop);
		if (!check_hop(&fx, name, &fin, &in, hop))
			fails++;
		frames++;
	}
	if (env.verbose)
		printf("ttl: %d frames\n", frames);
out:
	fx_close(&fx);
}

/* ---- subtest: MAC rewrite and VLAN tags ---- */

static void subtest_vlan(void)
{
	/* Ingress L2 shapes x the three nexthops: untagged, VLAN 300, VLAN 4094. */
	static const struct {
		const char *desc;
		__u16 tpid;
		int nvlans;
		__u16 tci[2];
	} shapes[] = {
		{ "untagged", 0, 0, {} },
		{ "1 tag (100)", 0, 1, { 100 } },
		{ "1 tag with PCP 7", 0, 1, { 0xe000 | 100 } },
		{ "1 tag with PCP 5 and DEI", 0, 1, { 0xa000 | 0x1000 | 100 } },
		{ "2 tags, outer PCP 3 (802.1ad 100, 802.1Q PCP 6 200)", ETH_P_8021AD, 2,
		  { 0x6000 | 100, 0xc000 | 200 } },
		{ "2 tags (802.1ad 100, 802.1Q 200)", ETH_P_8021AD, 2, { 100, 200 } },
		{ "2 tags (802.1Q 100, 802.1Q 200)", 0, 2, { 100, 200 } },
	};
	static const struct {
		const char *desc;
		__u32 nh;
		__u16 vlan;
		const char *dst4, *dst6;
	} nhs[] = {
		{ "untagged out", 1, 0, "10.1.0.1", "2001:db8:1::1" },
		{ "tagged out (300)", 2, 300, "10.2.0.1", "2001:db8:2::1" },
		{ "tagged out (4094)", 3, 4094, "10.3.0.1", "2001:db8:3::1" },
	};
	struct fx fx;
	bool ok;

	if (!fx_open(&fx))
		return;
	ok = fx_router(&fx, 1, XVR_ROUTER_ACTIVE, XVR_MODE_XDP) &&
	     fx_rule(&fx, RULE(.ifindex = net.a, .kind = XVR_RULE_DEFAULT), 1) &&
	     ASSERT_OK(rules_refresh_kinds(&fx.n), "rules_refresh_kinds");
	for (size_t i = 0; ok && i < ARRAY_SIZE(nhs); i++) {
		char p4[32], p6[48];

		snprintf(p4, sizeof(p4), "10.%u.0.0/16", nhs[i].nh);
		snprintf(p6, sizeof(p6), "2001:db8:%u::/48", nhs[i].nh);
		ok = fx_nh(&fx, nhs[i].nh, 1, i == 2 ? net.e2 : net.e1, XVR_NH_VALID,
			   nhs[i].vlan) &&
		     fx_route(&fx, 1, p4, nhs[i].nh) && fx_route(&fx, 1, p6, nhs[i].nh);
	}
	if (!ok)
		goto out;

	for (int family = AF_INET; family <= AF_INET6; family += AF_INET6 - AF_INET) {
		for (size_t s = 0; s < ARRAY_SIZE(shapes); s++) {
			for (size_t h = 0; h < ARRAY_SIZE(nhs); h++) {
				struct frame_spec in = {
					.family = family, .tpid = shapes[s].tpid,
					.nvlans = shapes[s].nvlans,
					.tci = { shapes[s].tci[0], shapes[s].tci[1] },
					.dst = family == AF_INET ? nhs[h].dst4 : nhs[h].dst6,
					.payload = 32,
				}, ws;
				struct expect e = { .what = FWD, .vr = 1 };
				struct frame fin, fwant;
				char name[128];
				__u32 want_len;

				snprintf(name, sizeof(name), "vlan: %s, %s in, %s",
					 family == AF_INET ? "IPv4" : "IPv6", shapes[s].desc,
					 nhs[h].desc);
				ws = fwd_spec(&fx, &in, nhs[h].nh);
				if (!ASSERT_OK(frame_build(&fin, &in), name) ||
				    !ASSERT_OK(frame_build(&fwant, &ws), name))
					continue;
				/* The arithmetic on its own: tags in removed, the nexthop's added. */
				want_len = fin.len - 4 * shapes[s].nvlans + (nhs[h].vlan ? 4 : 0);
				ASSERT_EQ(fwant.len, want_len, name);
				/* The class of service survives a retag (802.1p). */
				if (nhs[h].vlan && shapes[s].nvlans)
					ASSERT_EQ(ws.tci[0] & 0xf000, shapes[s].tci[0] & 0xf000, name);
				check_frame(&fx, name, net.a, &fin, &e, &fwant);
			}
		}
	}
out:
	fx_close(&fx);
}

/* ---- subtest: punts and data-path drops ---- */

enum {
	NH_FWD = 1, NH_UNRES, NH_LOCAL, NH_BLACKHOLE, NH_OTHER_VR, NH_NOTX, NH_INVALID, NH_MTU,
	NH_LOWMTU,
};

#define PUNT1(r) .what = PUNT, .reason = XVR_PUNT_##r, .vr = 1
#define DROP1(r) .what = DROP, .reason = XVR_DROP_##r, .vr = 1

static const struct row punt_rows[] = {
	{ "ARP", PA, { .ethertype = ETH_P_ARP }, PUNT1(NON_IP) },
	{ "ARP, VLAN tagged", PA, { .ethertype = ETH_P_ARP, TAGS1(100) }, PUNT1(NON_IP) },
	{ "LLDP", PA, { .ethertype = ETH_P_LLDP, .payload = 46 }, PUNT1(NON_IP) },
	{ "sanity: a routed frame forwards", PA, V4(.dst = "10.1.0.1"), .what = FWD, .vr = 1,
	  .nh = NH_FWD },

	{ "IPv4 source 127.0.0.1: martian, dropped", PA, V4(.src = "127.0.0.1", .dst = "10.1.0.1"),
	  .what = DROP, .reason = XVR_DROP_MARTIAN, .vr = 1 },
	{ "IPv4 source 224.0.0.9: martian, dropped", PA, V4(.src = "224.0.0.9", .dst = "10.1.0.1"),
	  .what = DROP, .reason = XVR_DROP_MARTIAN, .vr = 1 },
	{ "IPv4 source 0.1.2.3: martian, dropped", PA, V4(.src = "0.1.2.3", .dst = "10.1.0.1"),
	  .what = DROP, .reason = XVR_DROP_MARTIAN, .vr = 1 },
	{ "IPv4 source 255.255.255.255: martian, dropped", PA,
	  V4(.src = "255.255.255.255", .dst = "10.1.0.1"), .what = DROP,
	  .reason = XVR_DROP_MARTIAN, .vr = 1 },
	{ "IPv4 source 169.254.1.1: martian, dropped", PA,
	  V4(.src = "169.254.1.1", .dst = "10.1.0.1"), .what = DROP, .reason = XVR_DROP_MARTIAN,
	  .vr = 1 },
	{ "IPv4 source 100.64.0.1 is not martian: forwarded", PA,
	  V4(.src = "100.64.0.1", .dst = "10.1.0.1"), .what = FWD, .vr = 1, .nh = NH_FWD },
	{ "IPv6 source ::1: martian, dropped", PA, V6(.src = "::1", .dst = "2001:db8:1::1"),
	  .what = DROP, .reason = XVR_DROP_MARTIAN, .vr = 1 },
	{ "IPv6 source ::: martian, dropped", PA, V6(.src = "::", .dst = "2001:db8:1::1"),
	  .what = DROP, .reason = XVR_DROP_MARTIAN, .vr = 1 },
	{ "IPv6 source ff02::1: martian, dropped", PA, V6(.src = "ff02::1", .dst = "2001:db8:1::1"),
	  .what = DROP, .reason = XVR_DROP_MARTIAN, .vr = 1 },
	{ "IPv4 no route", PA, V4(.dst = "192.0.2.77"), PUNT1(NO_ROUTE) },
	{ "IPv4 240.0.0.1 is not multicast: no route", PA, V4(.dst = "240.0.0.1"),
	  PUNT1(NO_ROUTE) },
	{ "IPv6 no route", PA, V6(.dst = "2001:db8:ffff::77"), PUNT1(NO_ROUTE) },
	{ "IPv6 fec0::1 is not link-local: no route", PA, V6(.dst = "fec0::1"), PUNT1(NO_ROUTE) },

	{ "IPv4 unresolved nexthop", PA, V4(.dst = "10.2.0.1"), PUNT1(UNRESOLVED) },
	{ "IPv6 unresolved nexthop", PA, V6(.dst = "2001:db8:2::1"), PUNT1(UNRESOLVED) },
	{ "IPv4 unresolved nexthop, TTL 1: TTL first", PA, V4(.dst = "10.2.0.1", .ttl = 1),
	  PUNT1(TTL) },

	{ "IPv4 local", PA, V4(.dst = "10.3.0.1"), PUNT1(LOCAL) },
	{ "IPv4 local, TTL 1", PA, V4(.dst = "10.3.0.1", .ttl = 1), PUNT1(LOCAL) },
	{ "IPv4 local, TTL 0", PA, V4(.dst = "10.3.0.1"), mut_ttl, 0, PUNT1(LOCAL) },
	{ "IPv6 local", PA, V6(.dst = "2001:db8:3::1"), PUNT1(LOCAL) },
	{ "IPv6 local, hop limit 1", PA, V6(.dst = "2001:db8:3::1", .ttl = 1), PUNT1(LOCAL) },

	{ "IPv4 options (IHL 6)", PA, V4(.dst = "10.1.0.1", .ip_opts = 4), PUNT1(IP_OPTIONS) },
	{ "IPv4 options (IHL 15)", PA, V4(.dst = "10.1.0.1", .ip_opts = 40), PUNT1(IP_OPTIONS) },
	{ "IPv4 options, TTL 1", PA, V4(.dst = "10.1.0.1", .ip_opts = 4, .ttl = 1),
	  PUNT1(IP_OPTIONS) },
	{ "IPv4 options, header checksum wrong: the control plane checks", PA,
	  V4(.dst = "10.1.0.1", .ip_opts = 8), mut_csum_delta, 1, PUNT1(IP_OPTIONS) },
	{ "IPv6 hop-by-hop", PA,
	  V6(.dst = "2001:db8:1::1", .next = 1, .ext = { { IPPROTO_HOPOPTS } }),
	  PUNT1(IP_OPTIONS) },
	{ "IPv6 hop-by-hop then destination options", PA,
	  V6(.dst = "2001:db8:1::1", .next = 2,
	     .ext = { { IPPROTO_HOPOPTS, 1 }, { IPPROTO_DSTOPTS } }),
	  PUNT1(IP_OPTIONS) },

	{ "IPv4 224.0.0.5", PA, V4(.dst = "224.0.0.5"), PUNT1(MCAST) },
	{ "IPv4 239.255.255.250", PA, V4(.dst = "239.255.255.250"), PUNT1(MCAST) },
	{ "IPv4 255.255.255.255", PA, V4(.dst = "255.255.255.255"), PUNT1(MCAST) },
	{ "IPv6 ff02::1", PA, V6(.dst = "ff02::1"), PUNT1(MCAST) },
	{ "IPv6 ff0e::1:3", PA, V6(.dst = "ff0e::1:3"), PUNT1(MCAST) },
	{ "IPv6 link-local destination fe80::1", PA, V6(.dst = "fe80::1"), PUNT1(MCAST) },
	{ "IPv6 link-local destination febf::1", PA, V6(.dst = "febf::1"), PUNT1(MCAST) },
	{ "IPv6 link-local source", PA, V6(.src = "fe80::2", .dst = "2001:db8:1::1"),
	  PUNT1(MCAST) },

	{ "IPv4 blackhole", PA, V4(.dst = "10.4.0.1"), DROP1(BLACKHOLE) },
	{ "IPv4 blackhole, TTL 1", PA, V4(.dst = "10.4.0.1", .ttl = 1), DROP1(BLACKHOLE) },
	{ "IPv6 blackhole", PA, V6(.dst = "2001:db8:4::1"), DROP1(BLACKHOLE) },
	{ "IPv4 nexthop of another router", PA, V4(.dst = "10.5.0.1"), DROP1(BAD_NEXTHOP) },
	{ "IPv6 nexthop of another router", PA, V6(.dst = "2001:db8:5::1"), DROP1(BAD_NEXTHOP) },
	{ "IPv4 nexthop not valid", PA, V4(.dst = "10.7.0.1"), DROP1(BAD_NEXTHOP) },
	{ "IPv4 egress not in the devmap", PA, V4(.dst = "10.6.0.1"), DROP1(NO_TXPORT) },
	{ "IPv6 egress not in the devmap", PA, V6(.dst = "2001:db8:6::1"), DROP1(NO_TXPORT) },

	/* Egress MTU 1280: the IP packet counts, L2 headers on either side do not. */
	{ "IPv4 1280 bytes to MTU 1280", PA, V4(.dst = "10.8.0.1", .payload = EMTU_MTU - 28),
	  .what = FWD, .vr = 1, .nh = NH_MTU },
	{ "IPv4 1281 bytes to MTU 1280", PA, V4(.dst = "10.8.0.1", .payload = EMTU_MTU + 1 - 28),
	  PUNT1(MTU) },
	{ "IPv4 1280 bytes, 2 tags in, to MTU 1280", PA,
	  V4(.dst = "10.8.0.1", TAGS2(7, 8), .payload = EMTU_MTU - 28), .what = FWD, .vr = 1,
	  .nh = NH_MTU },
	{ "IPv4 1281 bytes, 1 tag in, to MTU 1280", PA,
	  V4(.dst = "10.8.0.1", TAGS1(7), .payload = EMTU_MTU + 1 - 28), PUNT1(MTU) },
	{ "IPv6 1280 bytes to MTU 1280", PA, V6(.dst = "2001:db8:8::1", .payload = EMTU_MTU - 48),
	  .what = FWD, .vr = 1, .nh = NH_MTU },
	{ "IPv6 1281 bytes to MTU 1280", PA, V6(.dst = "2001:db8:8::1", .payload = EMTU_MTU + 1 - 48),
	  PUNT1(MTU) },
	/* A port's MTU lowered below 1280 after `port add`: no size skips the check. */
	{ "IPv4 1000 bytes to a port lowered to MTU 1000", PA,
	  V4(.dst = "10.9.0.1", .payload = ELOW_MTU - 28), .what = FWD, .vr = 1, .nh = NH_LOWMTU },
	{ "IPv4 1001 bytes to a port lowered to MTU 1000: punted", PA,
	  V4(.dst = "10.9.0.1", .payload = ELOW_MTU + 1 - 28), PUNT1(MTU) },
	{ "IPv4 1200 bytes, 1 tag in, to a port lowered to MTU 1000: punted", PA,
	  V4(.dst = "10.9.0.1", TAGS1(7), .payload = 1200 - 28), PUNT1(MTU) },
	{ "IPv6 1001 bytes to a port lowered to MTU 1000: punted", PA,
	  V6(.dst = "2001:db8:9::1", .payload = ELOW_MTU + 1 - 48), PUNT1(MTU) },
};

static void subtest_punt(void)
{
	static const struct {
		__u32 id, vr;
		__u16 flags;
	} nhs[] = {
		{ NH_FWD, 1, XVR_NH_VALID },
		{ NH_UNRES, 1, XVR_NH_VALID | XVR_NH_UNRESOLVED },
		{ NH_LOCAL, 1, XVR_NH_VALID | XVR_NH_LOCAL },
		{ NH_BLACKHOLE, 1, XVR_NH_VALID | XVR_NH_BLACKHOLE },
		{ NH_OTHER_VR, 2, XVR_NH_VALID },
		{ NH_NOTX, 1, XVR_NH_VALID },
		{ NH_INVALID, 1, 0 },
		{ NH_MTU, 1, XVR_NH_VALID },
		{ NH_LOWMTU, 1, XVR_NH_VALID },
	};
	struct fx fx;
	bool ok;

	if (!fx_open(&fx))
		return;
	ok = fx_router(&fx, 1, XVR_ROUTER_ACTIVE, XVR_MODE_XDP) &&
	     fx_router(&fx, 2, XVR_ROUTER_ACTIVE, XVR_MODE_XDP) &&
	     fx_rule(&fx, RULE(.ifindex = net.a, .kind = XVR_RULE_DEFAULT), 1) &&
	     ASSERT_OK(rules_refresh_kinds(&fx.n), "rules_refresh_kinds");
	for (size_t i = 0; ok && i < ARRAY_SIZE(nhs); i++) {
		__u32 id = nhs[i].id;
		__u32 dev = id == NH_NOTX ? net.notx : id == NH_MTU ? net.emtu :
			    id == NH_LOWMTU ? net.elow : net.e1;
		char p4[32], p6[48];

		snprintf(p4, sizeof(p4), "10.%u.0.0/16", id);
		snprintf(p6, sizeof(p6), "2001:db8:%u::/48", id);
		ok = fx_nh(&fx, id, nhs[i].vr, dev, nhs[i].flags, 0) && fx_route(&fx, 1, p4, id) &&
		     fx_route(&fx, 1, p6, id);
	}
	if (ok)
		run_rows(&fx, "punt", punt_rows, ARRAY_SIZE(punt_rows));
	fx_close(&fx);
}

/* ---- subtest: the fragments of one datagram take one ECMP member ---- */

static void subtest_frag_hash(void)
{
	enum { NH_GRP = 40, NH_M0 = 41, MEMBERS = 8 };
	struct xvr_nh_group grp = { .count = MEMBERS };
	__u32 grp_id = NH_GRP, seen = 0;
	struct fx fx;
	bool ok;

	if (!fx_open(&fx))
		return;
	ok = fx_router(&fx, 1, XVR_ROUTER_ACTIVE, XVR_MODE_XDP) &&
	     fx_rule(&fx, RULE(.ifindex = net.a, .kind = XVR_RULE_DEFAULT), 1) &&
	     ASSERT_OK(rules_refresh_kinds(&fx.n), "rules_refresh_kinds");
	for (__u32 i = 0; ok && i < MEMBERS; i++) {
		grp.members[i] = NH_M0 + i;
		ok = fx_nh(&fx, NH_M0 + i, 1, net.e1, XVR_NH_VALID, 0);
	}
	ok = ok && fx_nh(&fx, NH_GRP, 1, 0, XVR_NH_VALID | XVR_NH_GROUP, 0) &&
	     ASSERT_OK(bpf_map_update_elem(fx.n.nh_groups_fd, &grp_id, &grp, BPF_ANY),
		       "xvr_nh_groups update") &&
	     fx_route(&fx, 1, "10.50.0.0/16", NH_GRP);
	/* 32 datagrams, each its own source port: first fragment, last fragment, whole. */
	for (__u16 sport = 1000; ok && sport < 1032; sport++) {
		static const __u16 frags[] = { IP_MF, 8, 0 };
		__u8 dmac[3][6];
		char name[96];

		for (int k = 0; k < 3; k++) {
			struct frame_spec s = { .family = AF_INET, .dst = "10.50.0.1", .sport = sport,
						.ip_id = sport, .ip_frag = frags[k], .payload = 64 };
			__u8 out[FRAME_MAX + 64];
			__u32 out_len = 0, verdict = 0;
			struct frame in;

			snprintf(name, sizeof(name), "sport %u, frag_off 0x%04x", sport, frags[k]);
			ok = ASSERT_OK(frame_build(&in, &s), name) &&
			     ASSERT_OK(run_xdp(&fx, net.a, in.data, in.len, out, &out_len, &verdict),
				       name) &&
			     ASSERT_EQ(verdict, XDP_REDIRECT, name);
			if (ok)
				memcpy(dmac[k], out, 6);
		}
		snprintf(name, sizeof(name), "sport %u: both fragments leave by one member", sport);
		ok = ok && ASSERT_EQ(memcmp(dmac[0], dmac[1], 6), 0, name);
		if (ok)
			seen |= 1u << (dmac[2][5] - NH_M0);
	}
	/* Whole datagrams still spread by their ports. */
	if (ok)
		ASSERT_EQ(__builtin_popcount(seen) > 1, 1, "unfragmented flows use several members");
	fx_close(&fx);
}

/* ---- subtest: malformed frames ---- */

#define BAD(r) .what = DROP, .reason = XVR_DROP_##r

static const struct row malformed_rows[] = {
	{ "IPv4 IHL 0", PA, V4(), mut_ihl, 0, BAD(BAD_IP) },
	{ "IPv4 IHL 1", PA, V4(), mut_ihl, 1, BAD(BAD_IP) },
	{ "IPv4 IHL 4", PA, V4(), mut_ihl, 4, BAD(BAD_IP) },
	{ "IPv4 IHL 6, total length 20 (< header)", PA, V4(), mut_ihl_tot_len, 6 << 16 | 20,
	  BAD(BAD_IP) },
	{ "IPv4 IHL 15, total length 59 (< header)", PA, V4(.payload = 40), mut_ihl_tot_len,
	  15 << 16 | 59, BAD(BAD_IP) },
	{ "IPv4 total length 1 beyond the frame", PA, V4(.payload = 10), mut_tot_len_delta, 1,
	  BAD(BAD_IP) },
	{ "IPv4 total length 19", PA, V4(), mut_tot_len, 19, BAD(BAD_IP) },
	{ "IPv4 total length 0", PA, V4(), mut_tot_len, 0, BAD(BAD_IP) },
	{ "IPv4 shorter than the frame (Ethernet padding)", PA, V4(.payload = 2, .min_len = 60),
	  .what = FWD, .vr = 1, .nh = 1 },
	{ "version 5 in an IPv4 EtherType", PA, V4(), mut_ip_version, 5, BAD(BAD_IP) },
	{ "version 6 in an IPv4 EtherType", PA, V4(), mut_ip_version, 6, BAD(BAD_IP) },
	{ "version 0 in an IPv4 EtherType", PA, V4(), mut_ip_version, 0, BAD(BAD_IP) },
	{ "version 4 in an IPv6 EtherType", PA, V6(), mut_ip_version, 4, BAD(BAD_IP) },
	{ "version 7 in an IPv6 EtherType", PA, V6(), mut_ip_version, 7, BAD(BAD_IP) },
	{ "IPv6 payload length 1 beyond the frame", PA, V6(.payload = 10), mut_payload_len,
	  8 + 10 + 1, BAD(BAD_IP) },
	{ "IPv4 header checksum off by one", PA, V4(), mut_csum_delta, 1, BAD(BAD_CSUM) },
	{ "IPv4 header checksum off by 0x100", PA, V4(), mut_csum_delta, 0x100, BAD(BAD_CSUM) },
	{ "three VLAN tags", PA, V4(.nvlans = 3, .tci = { 1, 2, 3 }), BAD(VLAN_DEPTH) },
	{ "three VLAN tags, 802.1ad outer", PA,
	  V4(.tpid = ETH_P_8021AD, .nvlans = 3, .tci = { 1, 2, 3 }), BAD(VLAN_DEPTH) },
	{ "two VLAN tags are fine", PA, V4(TAGS2(1, 2)), .what = FWD, .vr = 1, .nh = 1 },

	/* L4 headers cut short inside a consistent IP packet. */
	{ "IPv4 UDP header of 4 bytes", PA, V4(), mut_l4_cut, 4, BAD(BAD_L4) },
	{ "IPv4 UDP header of 7 bytes", PA, V4(), mut_l4_cut, 7, BAD(BAD_L4) },
	{ "IPv4 UDP header of 0 bytes", PA, V4(), mut_l4_cut, 0, BAD(BAD_L4) },
	{ "IPv4 UDP header of 4 bytes, frame padded to 60", PA, V4(), mut_l4_cut_padded, 4,
	  BAD(BAD_L4) },
	{ "IPv4 UDP header of 8 bytes, no payload", PA, V4(), mut_l4_cut, 8, .what = FWD,
	  .vr = 1, .nh = 1 },
	{ "IPv6 UDP header of 4 bytes", PA, V6(), mut_l4_cut, 4, BAD(BAD_L4) },
	{ "IPv6 UDP header of 4 bytes, frame padded", PA, V6(), mut_l4_cut_padded, 4,
	  BAD(BAD_L4) },
	{ "IPv4 GRE base header of 2 bytes", PA, V4(GRE(FRAME_GRE_KEY, 1)), mut_l4_cut, 2,
	  BAD(BAD_L4) },
	{ "IPv4 GRE key cut", PA, V4(GRE(FRAME_GRE_KEY, 1)), mut_l4_cut, 6, BAD(BAD_L4) },
	{ "IPv4 GRE key after checksum cut", PA, V4(GRE(FRAME_GRE_KEY | FRAME_GRE_CSUM, 1)),
	  mut_l4_cut, 8, BAD(BAD_L4) },
	{ "IPv4 GRE without key, base header only", PA, V4(GRE(0, 0)), mut_l4_cut, 4,
	  .what = FWD, .vr = 1, .nh = 1 },
	{ "IPv4 later fragment: no L4 header to check", PA, V4(.ip_frag = 100), mut_l4_cut, 2,
	  .what = FWD, .vr = 1, .nh = 1 },

	/* IPv6 extension headers: the UDP port behind them classifies (rule 4789 -> vr 2). */
	{ "IPv6 routing header, UDP 4789", PA,
	  V6(.dport = 4789, .next = 1, .ext = { { IPPROTO_ROUTING, 2 } }), FWD_VR(2) },
	{ "IPv6 destination options, UDP 4789", PA,
	  V6(.dport = 4789, .next = 1, .ext = { { IPPROTO_DSTOPTS, 1 } }), FWD_VR(2) },
	{ "IPv6 first fragment, UDP 4789", PA,
	  V6(.dport = 4789, .next = 1,
	     .ext = { { IPPROTO_FRAGMENT, .frag_offset = 0, .frag_more = true } }),
	  FWD_VR(2) },
	{ "IPv6 later fragment: no ports", PA,
	  V6(.dport = 4789, .next = 1, .ext = { { IPPROTO_FRAGMENT, .frag_offset = 185 } }),
	  FWD_VR(1) },
	{ "IPv6 AH, UDP 4789", PA, V6(.dport = 4789, .next = 1, .ext = { { IPPROTO_AH, 4 } }),
	  FWD_VR(2) },
	{ "IPv6 routing, dest opts, fragment, UDP 4789", PA,
	  V6(.dport = 4789, .next = 3,
	     .ext = { { IPPROTO_ROUTING, 2 }, { IPPROTO_DSTOPTS }, { IPPROTO_FRAGMENT } }),
	  FWD_VR(2) },
	{ "IPv6 8 extension headers (the walk's limit), UDP 4789", PA,
	  V6(.dport = 4789, .next = 8,
	     .ext = { { IPPROTO_DSTOPTS }, { IPPROTO_DSTOPTS }, { IPPROTO_DSTOPTS },
		      { IPPROTO_DSTOPTS }, { IPPROTO_DSTOPTS }, { IPPROTO_DSTOPTS },
		      { IPPROTO_DSTOPTS }, { IPPROTO_ROUTING } }),
	  FWD_VR(2) },
	{ "IPv6 9 extension headers: routed, not by port", PA,
	  V6(.dport = 4789, .next = 9,
	     .ext = { { IPPROTO_DSTOPTS }, { IPPROTO_DSTOPTS }, { IPPROTO_DSTOPTS },
		      { IPPROTO_DSTOPTS }, { IPPROTO_DSTOPTS }, { IPPROTO_DSTOPTS },
		      { IPPROTO_DSTOPTS }, { IPPROTO_DSTOPTS }, { IPPROTO_ROUTING } }),
	  FWD_VR(1) },
	{ "IPv6 destination options cut (4 of 8 bytes)", PA,
	  V6(.next = 1, .ext = { { IPPROTO_DSTOPTS } }, .proto = 59), mut_l4_cut, -4,
	  BAD(BAD_IP) },
	{ "IPv6 destination options cut (8 of 16 bytes)", PA,
	  V6(.next = 1, .ext = { { IPPROTO_DSTOPTS, 1 } }, .proto = 59), mut_l4_cut, -8,
	  BAD(BAD_IP) },
	{ "IPv6 destination options longer than the payload, frame padded", PA,
	  V6(.next = 1, .ext = { { IPPROTO_DSTOPTS, 1 } }, .proto = 59), mut_payload_len, 8,
	  BAD(BAD_IP) },
	{ "IPv6 routing header longer than the payload", PA,
	  V6(.next = 1, .ext = { { IPPROTO_ROUTING, 2 } }, .proto = 59), mut_payload_len, 16,
	  BAD(BAD_IP) },
	{ "IPv6 routing then UDP cut after the routing header", PA,
	  V6(.next = 1, .ext = { { IPPROTO_ROUTING, 2 } }), mut_l4_cut, 0, BAD(BAD_L4) },
};

/* The frame, truncated to every length from 0 to its full size. */
static void truncations(struct fx *fx, const char *desc, const struct frame_spec *spec)
{
	int l2 = ETH_HLEN + 4 * spec->nvlans, fails = 0;
	struct frame full, want, cut;
	struct frame_spec ws = fwd_spec(fx, spec, 1);

	if (!ASSERT_OK(frame_build(&full, spec), desc) || !ASSERT_OK(frame_build(&want, &ws), desc))
		return;
	for (__u32 len = 0; len <= full.len && fails < MAX_LOOP_FAILS; len++) {
		struct expect e = { .what = DROP };
		char name[128];

		snprintf(name, sizeof(name), "truncated %s: %u of %u bytes", desc, len, full.len);
		cut = full;
		cut.len = len;
		if (len < ETH_HLEN) {
			/*
			 * Shorter than an Ethernet header: test_run refuses the
			 * frame (-EINVAL) before the program runs, so these
			 * lengths cannot reach xvr_ingress here.
			 */
			__u8 out[FRAME_MAX + 64];
			__u32 out_len, verdict;

			if (!ASSERT_EQ(run_xdp(fx, net.a, cut.data, len, out, &out_len, &verdict),
				       -EINVAL, name))
				fails++;
			continue;
		}
		if (len == full.len)
			e = (struct expect){ .what = FWD, .vr = 1 };
		else if (len < (__u32)l2)
			e.reason = XVR_DROP_BAD_L2;	/* a VLAN tag cut */
		else
			e.reason = XVR_DROP_BAD_IP;	/* header cut, or its length beyond the frame */
		if (!check_frame(fx, name, net.a, &cut, &e, &want))
			fails++;
	}
}

static void subtest_malformed(void)
{
	static const struct {
		const char *desc;
		struct frame_spec spec;
	} full[] = {
		{ "IPv4/UDP", V4(.payload = 6) },
		{ "IPv4/UDP, 1 tag", V4(TAGS1(10), .payload = 6) },
		{ "IPv4/UDP, 2 tags", V4(.tpid = ETH_P_8021AD, TAGS2(10, 20), .payload = 6) },
		{ "IPv4/UDP with options", V4(.payload = 6, .ip_opts = 8) },
		{ "IPv6/UDP", V6(.payload = 6) },
		{ "IPv6/UDP, 2 tags", V6(TAGS2(10, 20), .payload = 6) },
		{ "IPv6/dstopts/UDP", V6(.payload = 6, .next = 1, .ext = { { IPPROTO_DSTOPTS } }) },
	};
	struct frame f;
	struct fx fx;

	if (!fx_open(&fx))
		return;
	if (!fx_router_default(&fx, 1) || !fx_router_default(&fx, 2) ||
	    !fx_rule(&fx, RULE(.ifindex = net.a, .kind = XVR_RULE_DEFAULT), 1) ||
	    !fx_rule(&fx, RULE(.kind = XVR_RULE_UDP, .port = 4789), 2) ||
	    !ASSERT_OK(rules_refresh_kinds(&fx.n), "rules_refresh_kinds"))
		goto out;

	run_rows(&fx, "malformed", malformed_rows, ARRAY_SIZE(malformed_rows));

	/* A zero header checksum is only right when the header sums to 0xffff. */
	{
		struct frame_spec s = V4(.payload = 3);
		struct expect e = { .what = DROP, .reason = XVR_DROP_BAD_CSUM };

		frame_build(&f, &s);
		if (ASSERT_NEQ(frame_ip4(&f)->check, 0, "checksum not 0 already")) {
			frame_ip4(&f)->check = 0;
			check_frame(&fx, "malformed: IPv4 header checksum zeroed", net.a, &f, &e,
				    NULL);
		}
	}

	for (size_t i = 0; i < ARRAY_SIZE(full); i++) {
		/* Options are punted rather than forwarded when whole. */
		if (full[i].spec.ip_opts) {
			struct frame_spec s = full[i].spec;
			int fails = 0;

			frame_build(&f, &s);
			for (__u32 len = ETH_HLEN; len <= f.len && fails < MAX_LOOP_FAILS; len++) {
				struct expect e = { .what = DROP, .reason = XVR_DROP_BAD_IP };
				struct frame cut = f;
				char name[96];

				if (len == f.len)
					e = (struct expect){ .what = PUNT,
							     .reason = XVR_PUNT_IP_OPTIONS, .vr = 1 };
				cut.len = len;
				snprintf(name, sizeof(name), "truncated %s: %u of %u bytes",
					 full[i].desc, len, f.len);
				if (!check_frame(&fx, name, net.a, &cut, &e, NULL))
					fails++;
			}
			continue;
		}
		truncations(&fx, full[i].desc, &full[i].spec);
	}
out:
	fx_close(&fx);
}

/* ---- subtest: VIF delivery (netns routers) and punts into a VIF ---- */

#define MAC_VIF { 0x02, 0x00, 0x00, 0x00, 0x05, 0x05 }
#define INTO_VIF(v) .vr = (v), .vif = true

static const struct row vif_rows[] = {
	/* Router 2, netns mode: its stack forwards, so frames arrive as they came. */
	{ "netns: IPv4 into the VIF", PA, V4(.dport = 7001), .what = FWD, INTO_VIF(2) },
	{ "netns: IPv6 into the VIF", PA, V6(.dport = 7001), .what = FWD, INTO_VIF(2) },
	{ "netns: TTL 1 is the namespace's business", PA, V4(.dport = 7001, .ttl = 1),
	  .what = FWD, INTO_VIF(2) },
	{ "netns: 1 tag popped, MACs kept", PA, V4(TAGS1(5), .dport = 7001), .what = FWD,
	  INTO_VIF(2) },
	{ "netns: 2 tags popped, MACs kept", PA, V6(.tpid = ETH_P_8021AD, TAGS2(5, 6), .dport = 7001),
	  .what = FWD, INTO_VIF(2) },
	{ "netns: Ethernet padding kept", PA, V4(.dport = 7001, .min_len = 64), .what = FWD,
	  INTO_VIF(2) },
	{ "netns: VIF not active", PA, V4(.dport = 7002), .what = DROP,
	  .reason = XVR_DROP_NO_VIF, .vr = 2 },
	{ "netns: VIF of another router", PA, V4(.dport = 7003), .what = DROP,
	  .reason = XVR_DROP_NO_VIF, .vr = 2 },
	{ "netns: VIF device not in the devmap", PA, V4(.dport = 7004), .what = DROP,
	  .reason = XVR_DROP_NO_VIF, .vr = 2 },
	{ "netns: rule without a VIF", PA, V4(.dport = 7005), .what = DROP,
	  .reason = XVR_DROP_NO_VIF, .vr = 2 },
	{ "netns: rule naming an unused VIF id", PA, V4(.dport = 7006), .what = DROP,
	  .reason = XVR_DROP_NO_VIF, .vr = 2 },

	/* Router 1, xdp mode with a VIF: exceptions go into it, forwarding does not. */
	{ "xdp: forwarded frame ignores the VIF", PA, V4(.dport = 7101, .dst = "10.1.0.1"),
	  .what = FWD, .vr = 1, .nh = 1 },
	{ "xdp: no route punted into the VIF", PA, V4(.dport = 7101, .dst = "192.0.2.9"),
	  .what = PUNT, .reason = XVR_PUNT_NO_ROUTE, INTO_VIF(1) },
	{ "xdp: TTL 1 punted into the VIF, tag popped", PA,
	  V4(TAGS1(5), .dport = 7101, .dst = "10.1.0.1", .ttl = 1), .what = PUNT,
	  .reason = XVR_PUNT_TTL, INTO_VIF(1) },
	{ "xdp: IPv6 hop-by-hop punted into the VIF", PA,
	  V6(.dport = 7101, .dst = "2001:db8:1::1", .next = 1, .ext = { { IPPROTO_HOPOPTS } }),
	  .what = PUNT, .reason = XVR_PUNT_IP_OPTIONS, INTO_VIF(1) },
	{ "xdp: ARP punted into the VIF", PA, { .ethertype = ETH_P_ARP, .dmac = MAC_VIF },
	  .what = PUNT, .reason = XVR_PUNT_NON_IP, INTO_VIF(1) },
	{ "xdp: VIF device not in the devmap: the punt is a drop", PA,
	  V4(.dport = 7102, .dst = "192.0.2.9"), .what = DROP, .reason = XVR_DROP_NO_VIF,
	  .vr = 1 },
	{ "xdp: VIF of another router: punted to the port's stack", PA,
	  V4(.dport = 7103, .dst = "192.0.2.9"), .what = PUNT, .reason = XVR_PUNT_NO_ROUTE,
	  .vr = 1 },
};

static bool fx_vif(struct fx *fx, __u32 id, __u32 vr, __u32 flags, __u32 dev)
{
	struct xvr_vif vif = { .flags = flags, .vr_id = vr, .port = net.a, .dev = dev };

	snprintf(vif.name, sizeof(vif.name), "vif%u", id);
	return ASSERT_OK(bpf_map_update_elem(fx->n.vifs_fd, &id, &vif, BPF_ANY), "xvr_vifs update");
}

static bool fx_udp_rule(struct fx *fx, __u16 port, __u32 vr, __u32 vif)
{
	struct xvr_cls_key key = { .kind = XVR_RULE_UDP, .port = port };
	struct xvr_cls_val val = { .vr_id = vr, .vif = vif };

	return ASSERT_OK(bpf_map_update_elem(fx->n.classify_fd, &key, &val, BPF_ANY),
			 "xvr_classify update");
}

static void subtest_vif(void)
{
	const __u8 mac_vif[6] = MAC_VIF;
	struct xvr_cls_key k = { .kind = XVR_RULE_MAC };
	struct xvr_cls_val v = { .vr_id = 1, .vif = 5 };
	struct fx fx;
	bool ok;

	if (!fx_open(&fx))
		return;
	memcpy(k.mac, mac_vif, 6);
	/* VIF devices: E2 is in the devmap, NOTX is not. */
	ok = fx_router(&fx, 1, XVR_ROUTER_ACTIVE, XVR_MODE_XDP) &&
	     fx_router(&fx, 2, XVR_ROUTER_ACTIVE, XVR_MODE_NETNS) &&
	     fx_router(&fx, 3, XVR_ROUTER_ACTIVE, XVR_MODE_NETNS) &&
	     fx_nh(&fx, 1, 1, net.e1, XVR_NH_VALID, 0) && fx_route(&fx, 1, "10.1.0.0/16", 1) &&
	     fx_route(&fx, 1, "2001:db8:1::/48", 1) &&
	     fx_vif(&fx, 1, 2, XVR_VIF_ACTIVE, net.e2) && fx_vif(&fx, 2, 2, 0, net.e2) &&
	     fx_vif(&fx, 3, 3, XVR_VIF_ACTIVE, net.e2) &&
	     fx_vif(&fx, 4, 2, XVR_VIF_ACTIVE, net.notx) &&
	     fx_vif(&fx, 5, 1, XVR_VIF_ACTIVE, net.e2) &&
	     fx_vif(&fx, 6, 1, XVR_VIF_ACTIVE, net.notx) &&
	     fx_udp_rule(&fx, 7001, 2, 1) && fx_udp_rule(&fx, 7002, 2, 2) &&
	     fx_udp_rule(&fx, 7003, 2, 3) && fx_udp_rule(&fx, 7004, 2, 4) &&
	     fx_udp_rule(&fx, 7005, 2, 0) && fx_udp_rule(&fx, 7006, 2, 99) &&
	     fx_udp_rule(&fx, 7101, 1, 5) && fx_udp_rule(&fx, 7102, 1, 6) &&
	     fx_udp_rule(&fx, 7103, 1, 3) &&
	     ASSERT_OK(bpf_map_update_elem(fx.n.classify_fd, &k, &v, BPF_ANY), "MAC rule") &&
	     ASSERT_OK(rules_refresh_kinds(&fx.n), "rules_refresh_kinds");
	if (ok)
		run_rows(&fx, "vif", vif_rows, ARRAY_SIZE(vif_rows));
	fx_close(&fx);
}

/* ---- subtest: counter totals ---- */

static void subtest_counters(void)
{
	/* Frames of growing size on both ports; all to router 1, some punted or dropped. */
	struct xvr_counters got, want_vr = {}, want_a = {}, want_b = {};
	struct fx fx;
	int fails = 0;

	if (!fx_open(&fx))
		return;
	if (!fx_router_default(&fx, 1) ||
	    !fx_rule(&fx, RULE(.kind = XVR_RULE_UDP, .port = 4789), 1) ||
	    !ASSERT_OK(rules_refresh_kinds(&fx.n), "rules_refresh_kinds"))
		goto out;

	for (int i = 0; i < 60 && fails < MAX_LOOP_FAILS; i++) {
		bool on_b = i % 3 == 0, punt = i % 5 == 0, bad = i % 7 == 0;
		struct frame_spec s = { .family = i % 2 ? AF_INET6 : AF_INET, .dport = 4789,
					.payload = 17 * i, .ttl = punt ? 1 : 64 };
		struct xvr_counters *port = on_b ? &want_b : &want_a;
		struct expect e = { .what = FWD, .vr = 1 };
		struct frame f, want;
		struct frame_spec ws;
		char name[64];

		frame_build(&f, &s);
		ws = fwd_spec(&fx, &s, 1);
		frame_build(&want, &ws);
		if (bad) {
			f.len -= 1;	/* IP length now beyond the frame */
			e = (struct expect){ .what = DROP, .reason = XVR_DROP_BAD_IP };
		} else if (punt) {
			e = (struct expect){ .what = PUNT, .reason = XVR_PUNT_TTL, .vr = 1 };
		}
		snprintf(name, sizeof(name), "counters: frame %d (%u bytes)", i, f.len);
		if (!check_frame(&fx, name, on_b ? net.b : net.a, &f, &e, &want))
			fails++;

		port->rx_packets++;
		port->rx_bytes += f.len;
		if (bad) {
			port->drop_packets++;
			port->drop_bytes += f.len;
			port->drop[XVR_DROP_BAD_IP]++;
			continue;
		}
		want_vr.rx_packets++;
		want_vr.rx_bytes += f.len;
		if (punt) {
			port->punt_packets++;
			port->punt_bytes += f.len;
			port->punt[XVR_PUNT_TTL]++;
			want_vr.punt_packets++;
			want_vr.punt_bytes += f.len;
			want_vr.punt[XVR_PUNT_TTL]++;
		} else {
			port->fwd_packets++;
			port->fwd_bytes += f.len;
			want_vr.fwd_packets++;
			want_vr.fwd_bytes += f.len;
		}
	}

	/* Totals from a fresh skeleton: the deltas from zero are the values. */
	{
		struct xvr_counters zero = {};

		if (ASSERT_OK(counters_read(fx.n.vr_stats_fd, 1, &got), "router 1 counters"))
			counters_delta_eq("counters: totals", "router 1", &zero, &got, &want_vr);
		if (ASSERT_OK(counters_read(fx.n.port_stats_fd, SLOT_A, &got), "port A counters"))
			counters_delta_eq("counters: totals", "port A", &zero, &got, &want_a);
		if (ASSERT_OK(counters_read(fx.n.port_stats_fd, SLOT_B, &got), "port B counters"))
			counters_delta_eq("counters: totals", "port B", &zero, &got, &want_b);
	}
	ASSERT_EQ(want_vr.rx_packets, want_vr.fwd_packets + want_vr.punt_packets,
		  "counters: every booked frame forwarded or punted");
out:
	fx_close(&fx);
}

/* ---- subtest: limits (bpf/policer.h) ---- */

#define NS16_PER_S	(1000000000ull << XVR_BUCKET_SHIFT)
#define POLICE_THREADS	2
#define POLICE_FRAMES	400000	/* per thread: one test run, repeated */
#define POLICE_BURST	100000

/* Router vr's limits, written as `xvr limit set` would (1/16 ns units). */
static bool fx_limit(struct fx *fx, __u32 vr, const struct xvr_limit *lim)
{
	return ASSERT_OK(bpf_map_update_elem(fx->n.limits_fd, &vr, lim, BPF_ANY),
			 "xvr_limits update");
}

/* A frame bucket of 1 frame a second that lets burst frames through at once. */
static struct xvr_bucket bucket_1pps(__u64 burst)
{
	return (struct xvr_bucket){ .frame_cost = NS16_PER_S,
				    .tolerance = NS16_PER_S * (burst - 1) };
}

#define V4_TO(port, ...) V4(.dport = (port), __VA_ARGS__)
#define POLICED(v) .what = DROP, .reason = XVR_DROP_POLICED, .vr = (v)
#define PUNT_POLICED(v) .what = DROP, .reason = XVR_DROP_PUNT_POLICED, .vr = (v)

static const struct row policer_rows[] = {
	/* Router 1: 1 pps with a burst of 3; its punt budget 1 pps, burst 2. */
	{ "pps: burst frame 1 of 3", PA, V4_TO(7001), FWD_VR(1) },
	{ "pps: burst frame 2 of 3", PA, V6(.dport = 7001), FWD_VR(1) },
	{ "pps: burst frame 3 of 3", PA, V4_TO(7001), FWD_VR(1) },
	{ "pps: over the burst: policed", PA, V4_TO(7001), POLICED(1) },
	{ "pps: IPv6 over the burst: policed", PA, V6(.dport = 7001), POLICED(1) },
	{ "ARP is not charged to pps: punted", PA, { .ethertype = ETH_P_ARP, .dmac = MAC_VR1 },
	  .what = PUNT, .reason = XVR_PUNT_NON_IP, .vr = 1 },
	{ "ARP: second of the punt burst", PA, { .ethertype = ETH_P_ARP, .dmac = MAC_VR1 },
	  .what = PUNT, .reason = XVR_PUNT_NON_IP, .vr = 1 },
	{ "ARP over the punt budget: punt-policed", PA,
	  { .ethertype = ETH_P_ARP, .dmac = MAC_VR1 }, PUNT_POLICED(1) },
	/* Router 2: no data limit, a punt budget of 1 pps, burst 2. */
	{ "punt budget: TTL 1 punted (1 of 2)", PA, V4_TO(7002, .ttl = 1), .what = PUNT,
	  .reason = XVR_PUNT_TTL, .vr = 2 },
	{ "punt budget: TTL 1 punted (2 of 2)", PA, V6(.dport = 7002, .ttl = 1), .what = PUNT,
	  .reason = XVR_PUNT_TTL, .vr = 2 },
	{ "punt budget: TTL 1 over it: punt-policed", PA, V4_TO(7002, .ttl = 1),
	  PUNT_POLICED(2) },
	{ "punt budget spent: forwarding goes on", PA, V4_TO(7002), FWD_VR(2) },
	{ "punt budget spent: and on", PA, V4_TO(7002), FWD_VR(2) },
	/* Router 3: bytes, room for 4 frames of this size (1 byte a second). */
	{ "bps: frame 1 of 4", PA, V4_TO(7003), FWD_VR(3) },
	{ "bps: frame 2 of 4", PA, V4_TO(7003), FWD_VR(3) },
	{ "bps: frame 3 of 4", PA, V4_TO(7003), FWD_VR(3) },
	{ "bps: frame 4 of 4", PA, V4_TO(7003), FWD_VR(3) },
	{ "bps: over: policed", PA, V4_TO(7003), POLICED(3) },
	/* Router 5: no limits at all, the default punt budget. */
	{ "no limits: forwarded", PA, V4_TO(7005), FWD_VR(5) },
	{ "no limits: TTL 1 within the default punt budget", PA, V4_TO(7005, .ttl = 1),
	  .what = PUNT, .reason = XVR_PUNT_TTL, .vr = 5 },
};

struct police_thread {
	struct fx *fx;
	pthread_barrier_t *start;
	int cpu;
	struct frame in;
	int errors;
};

/*
 * Offers POLICE_FRAMES frames of router 4 from one CPU, in one test run
 * repeated in the kernel: frames follow each other within nanoseconds, as
 * they do in a NAPI poll. Router 4 is in netns mode, whose path does not
 * change the frame, so every repetition sees the same one.
 */
/* Runs frame in times times in one test run on the calling CPU, as port A received it. */
static int police_test_run(struct fx *fx, const struct frame *in, __u32 times)
{
	struct xdp_md ctx = { .data_end = in->len, .ingress_ifindex = net.a };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in->data, .data_size_in = in->len,
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = times);

	return bpf_prog_test_run_opts(fx->prog_fd, &opts);
}

static void *police_run(void *arg)
{
	struct police_thread *t = arg;
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(t->cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		t->errors++;
	/* Both on their CPUs before either starts: the runs overlap. */
	pthread_barrier_wait(t->start);
	if (police_test_run(t->fx, &t->in, POLICE_FRAMES))
		t->errors++;
	return NULL;
}

/*
 * Router 4 (1 pps, burst POLICE_BURST, netns mode) offered frames from two
 * CPUs at once:
 * the shared bucket admits the burst and what the rate adds while they run,
 * not a frame more (a lost update would let each CPU spend the same token),
 * and every other frame is policed.
 */
static void police_two_cpus(struct fx *fx)
{
	const struct frame_spec spec = V4_TO(7004);
	struct police_thread t[POLICE_THREADS] = {};
	pthread_t tid[POLICE_THREADS];
	pthread_barrier_t start;
	struct xvr_counters c, *per;
	int ncpu = libbpf_num_possible_cpus(), cpus_used = 0;
	struct timespec t0, t1;
	double secs;

	if (ncpu < POLICE_THREADS) {
		test__skip("two CPUs needed");
		return;
	}
	pthread_barrier_init(&start, NULL, POLICE_THREADS);
	for (int i = 0; i < POLICE_THREADS; i++) {
		t[i].fx = fx;
		t[i].start = &start;
		t[i].cpu = i;
		if (!ASSERT_OK(frame_build(&t[i].in, &spec), "two CPUs: frame"))
			return;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < POLICE_THREADS; i++)
		if (!ASSERT_OK(pthread_create(&tid[i], NULL, police_run, &t[i]), "pthread_create"))
			return;
	for (int i = 0; i < POLICE_THREADS; i++)
		pthread_join(tid[i], NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	pthread_barrier_destroy(&start);
	secs = t1.tv_sec - t0.tv_sec + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	for (int i = 0; i < POLICE_THREADS; i++)
		ASSERT_EQ(t[i].errors, 0, "two CPUs: test runs and affinity");
	if (!ASSERT_OK(counters_read(fx->n.vr_stats_fd, 4, &c), "router 4 counters"))
		return;
	ASSERT_EQ(c.rx_packets, POLICE_THREADS * POLICE_FRAMES, "two CPUs: every frame booked");
	ASSERT_GE(c.fwd_packets, POLICE_BURST, "two CPUs: the whole burst admitted");
	ASSERT_LE(c.fwd_packets, POLICE_BURST + (__u64)secs + 1,
		  "two CPUs: no more than burst + rate x time admitted");
	ASSERT_EQ(c.drop[XVR_DROP_POLICED], c.rx_packets - c.fwd_packets,
		  "two CPUs: every other frame policed");
	/* Both CPUs really ran frames of the router. */
	per = calloc(ncpu, sizeof(*per));
	if (!ASSERT_OK_PTR(per, "calloc"))
		return;
	if (ASSERT_OK(bpf_map_lookup_elem(fx->n.vr_stats_fd, &(__u32){ 4 }, per), "per-CPU"))
		for (int i = 0; i < ncpu; i++)
			cpus_used += per[i].rx_packets > 0;
	ASSERT_EQ(cpus_used, POLICE_THREADS, "two CPUs: frames booked on both");
	free(per);
}

/* Waits until the coarse clock has moved on (a tick; at most a second). */
static bool coarse_tick_wait(void)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &t0);
	for (int i = 0; i < 100000; i++) {
		clock_gettime(CLOCK_MONOTONIC_COARSE, &t);
		if (t.tv_sec != t0.tv_sec || t.tv_nsec != t0.tv_nsec)
			return true;
		usleep(10);
	}
	return false;
}

/*
 * Router 5 (1 pps, burst 20): a CPU takes frames ahead from the bucket (8
 * at a time, bpf/policer.h), and the ones it has not spent when the coarse
 * clock moves on go back: one frame, a tick, then exactly 19 more of the
 * burst pass and the next is policed. Frames kept or lost across the tick
 * would show here as more or fewer than 19.
 */
static void police_batch(struct fx *fx)
{
	struct xvr_limit lim = { .pps = bucket_1pps(20), .flags = XVR_LIMIT_SET };
	const struct frame_spec spec = V4_TO(7005);
	struct xvr_counters c0, c1;
	struct frame in;
	cpu_set_t set, old;

	if (!ASSERT_OK(frame_build(&in, &spec), "batch: frame") ||
	    !ASSERT_OK(sched_getaffinity(0, sizeof(old), &old), "batch: affinity"))
		return;
	CPU_ZERO(&set);
	CPU_SET(0, &set);
	if (!ASSERT_OK(sched_setaffinity(0, sizeof(set), &set), "batch: on CPU 0"))
		return;
	if (fx_limit(fx, 5, &lim) &&
	    ASSERT_OK(counters_read(fx->n.vr_stats_fd, 5, &c0), "batch: counters") &&
	    ASSERT_OK(police_test_run(fx, &in, 1), "batch: test run") &&
	    ASSERT_TRUE(coarse_tick_wait(), "batch: the coarse clock moved on") &&
	    ASSERT_OK(police_test_run(fx, &in, 19), "batch: test run") &&
	    ASSERT_OK(counters_read(fx->n.vr_stats_fd, 5, &c1), "batch: counters")) {
		ASSERT_EQ(c1.fwd_packets - c0.fwd_packets, 20,
			  "batch: the whole burst of 20 across a tick");
		ASSERT_EQ(c1.drop[XVR_DROP_POLICED] - c0.drop[XVR_DROP_POLICED], 0,
			  "batch: none of it policed");
		if (ASSERT_OK(police_test_run(fx, &in, 1), "batch: test run") &&
		    ASSERT_OK(counters_read(fx->n.vr_stats_fd, 5, &c0), "batch: counters"))
			ASSERT_EQ(c0.drop[XVR_DROP_POLICED] - c1.drop[XVR_DROP_POLICED], 1,
				  "batch: the frame after the burst policed");
	}
	sched_setaffinity(0, sizeof(old), &old);
}

static void subtest_policer(void)
{
	const __u8 mac_vr1[6] = MAC_VR1;
	struct xvr_limit lim1 = { .pps = bucket_1pps(3), .punt = bucket_1pps(2),
				  .flags = XVR_LIMIT_SET };
	struct xvr_limit lim2 = { .punt = bucket_1pps(2), .flags = XVR_LIMIT_SET };
	struct xvr_limit lim3 = { .flags = XVR_LIMIT_SET };
	struct xvr_limit lim4 = { .pps = bucket_1pps(POLICE_BURST), .flags = XVR_LIMIT_SET };
	const struct frame_spec bps_spec = V4_TO(7003);
	struct xvr_cls_key k = RULE(.kind = XVR_RULE_MAC);
	struct xvr_cls_key k4 = RULE(.kind = XVR_RULE_UDP, .port = 7004);
	struct xvr_cls_val v4 = { .vr_id = 4, .vif = 1 };
	struct xvr_vif vif = { .flags = XVR_VIF_ACTIVE, .vr_id = 4, .port = net.a, .dev = net.e1 };
	__u32 vif1 = 1;
	struct frame bps_frame;
	struct fx fx;
	bool ok = true;

	if (!fx_open(&fx))
		return;
	for (__u32 vr = 1; vr <= 5; vr++)
		ok = ok && (vr == 4 || fx_router_default(&fx, vr)) &&
		     (vr == 4 || fx_rule(&fx, RULE(.kind = XVR_RULE_UDP, .port = 7000 + vr), vr));
	/* Router 4: netns mode, its frames into VIF 1 (E1 in the devmap). */
	ok = ok && fx_router(&fx, 4, XVR_ROUTER_ACTIVE, XVR_MODE_NETNS) &&
	     ASSERT_OK(bpf_map_update_elem(fx.n.vifs_fd, &vif1, &vif, BPF_ANY), "xvr_vifs") &&
	     ASSERT_OK(bpf_map_update_elem(fx.n.classify_fd, &k4, &v4, BPF_ANY), "rule to VIF 1");
	memcpy(k.mac, mac_vr1, 6);
	ok = ok && fx_rule(&fx, k, 1) && ASSERT_OK(rules_refresh_kinds(&fx.n), "rules_refresh_kinds");
	/* 1 byte a second, room for 4 frames of bps_frame's length back to back. */
	ok = ok && ASSERT_OK(frame_build(&bps_frame, &bps_spec), "bps frame");
	lim3.bps.byte_cost = NS16_PER_S << XVR_BUCKET_BYTE_SHIFT;
	lim3.bps.tolerance = 3ull * bps_frame.len * NS16_PER_S;
	ok = ok && fx_limit(&fx, 1, &lim1) && fx_limit(&fx, 2, &lim2) && fx_limit(&fx, 3, &lim3) &&
	     fx_limit(&fx, 4, &lim4);
	if (ok) {
		run_rows(&fx, "policer", policer_rows, ARRAY_SIZE(policer_rows));
		police_two_cpus(&fx);
		police_batch(&fx);
	}
	fx_close(&fx);
}

/* ---- fair-share admission on the coarse clock (bpf/fair.h) ---- */

#define ADM_VR		1
#define ADM_PPS		200000	/* a jiffy's worth: 800 frames at HZ=250 */
#define ADM_SECS	1.5
#define ADM_REPEAT	20000	/* frames a test run */
#define ADM_TRIES	3

/* CLOCK_MONOTONIC, what an engine stamps its heartbeat with. */
static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static double mono_s(void)
{
	return mono_ns() / 1e9;
}

/*
 * Router 1 flooded from one CPU (test runs of ADM_REPEAT frames back to
 * back, for ADM_SECS) under an admission rate set the controller's way
 * (fair_rate_set, whose tolerance covers a few jiffies): the bucket, on
 * the coarse clock, admits the rate within 10% over the run (plus at most
 * its burst and a jiffy's worth, the clock's lag), and sheds the rest. A
 * tolerance under a jiffy would admit a fraction of the rate. Another
 * task taking this CPU for longer than the tolerance costs credit, so a
 * run under the rate is tried again (never one over it).
 */
static void subtest_fair_admission(void)
{
	const struct frame_spec spec = V4_TO(7001);
	struct xvr_counters c0, c1;
	struct xvr_fair adm = {};
	struct frame in;
	double secs = 0, lo = 0, hi = 0;
	__u64 admitted = 0, rx = 0, shed = 0, sent = 0, burst;
	struct xvr_cls_key k = RULE(.kind = XVR_RULE_UDP, .port = 7001);
	struct xvr_cls_val v = { .vr_id = ADM_VR, .vif = 1 };
	struct xvr_vif vif = { .flags = XVR_VIF_ACTIVE, .vr_id = ADM_VR, .port = net.a,
			       .dev = net.e1 };
	__u32 vr = ADM_VR, vif1 = 1;
	struct fx fx;

	if (!fx_open(&fx))
		return;
	/* netns mode, into VIF 1: its path leaves the frame as it was, so
	 * every repetition of a test run sees the same one (an xdp-mode
	 * router would count its TTL down). */
	if (!fx_router(&fx, ADM_VR, XVR_ROUTER_ACTIVE, XVR_MODE_NETNS) ||
	    !ASSERT_OK(bpf_map_update_elem(fx.n.vifs_fd, &vif1, &vif, BPF_ANY), "xvr_vifs") ||
	    !ASSERT_OK(bpf_map_update_elem(fx.n.classify_fd, &k, &v, BPF_ANY), "rule to VIF 1") ||
	    !ASSERT_OK(rules_refresh_kinds(&fx.n), "rules_refresh_kinds") ||
	    !ASSERT_OK(frame_build(&in, &spec), "frame") ||
	    !ASSERT_OK(fair_rate_set(&fx.n, ADM_VR, ADM_PPS), "fair_rate_set") ||
	    !ASSERT_OK(bpf_map_lookup_elem(fx.n.fair_fd, &vr, &adm), "xvr_fair lookup"))
		goto out;
	burst = adm.adm.tolerance / adm.adm.frame_cost + 1;
	ASSERT_GE(adm.adm.tolerance, (__u64)XVR_FAIR_BURST_NS << XVR_BUCKET_SHIFT,
		  "the controller's tolerance: at least XVR_FAIR_BURST_NS");
	for (int try = 0; try < ADM_TRIES; try++) {
		struct xdp_md ctx = { .data_end = in.len, .ingress_ifindex = net.a };
		LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in.data, .data_size_in = in.len,
			    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = ADM_REPEAT);
		double t0;

		if (!ASSERT_OK(counters_read(fx.n.vr_stats_fd, ADM_VR, &c0), "counters"))
			goto out;
		sent = 0;
		t0 = mono_s();
		do {
			if (!ASSERT_OK(bpf_prog_test_run_opts(fx.prog_fd, &opts), "test_run"))
				goto out;
			sent += ADM_REPEAT;
		} while ((secs = mono_s() - t0) < ADM_SECS);
		if (!ASSERT_OK(counters_read(fx.n.vr_stats_fd, ADM_VR, &c1), "counters"))
			goto out;
		rx = c1.rx_packets - c0.rx_packets;
		admitted = c1.fwd_packets - c0.fwd_packets;
		shed = c1.drop[XVR_DROP_SHED] - c0.drop[XVR_DROP_SHED];
		lo = 0.9 * ADM_PPS * secs;
		hi = 1.1 * ADM_PPS * secs + burst + ADM_PPS / 100;
		fprintf(stderr, "fair admission: %llu of %llu frames admitted in %.2f s "
			"(%.0f pps, set %u, burst %llu)\n", (unsigned long long)admitted,
			(unsigned long long)rx, secs, admitted / secs, ADM_PPS,
			(unsigned long long)burst);
		if (admitted >= lo)
			break;
	}
	ASSERT_EQ(rx, sent, "every frame booked");
	ASSERT_GE(rx, 3 * admitted, "admission was binding (offered over 3x the rate)");
	_CHECK(admitted < lo || admitted > hi, "admitted within 10% of the rate", "%llu not in %.0f..%.0f",
	       (unsigned long long)admitted, lo, hi);
	ASSERT_EQ(shed, rx - admitted, "every other frame shed");
out:
	fx_close(&fx);
}

/* ---- engine liveness on the coarse clock (fe_pick) ---- */

#define LIVE_VR		13
#define LIVE_FE		1
#define MS		(1000ull * 1000)

/* Engine fe of router vr on E1, its live state in a fresh array (*state_fd). */
static bool fx_engine(struct fx *fx, __u32 vr, __u32 fe_id, int *state_fd)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_MMAPABLE);
	struct xvr_fe fe = { .flags = XVR_FE_ACTIVE, .vr_id = vr, .dev = net.e1, .weight = 1,
			     .cpu = -1 };
	struct xvr_fe_set set = { .dist = XVR_DIST_RR, .count = 1, .fes = { fe_id } };

	*state_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "fe_state", sizeof(__u32),
				   sizeof(struct xvr_fe_state), 1, &opts);
	return ASSERT_GE(*state_fd, 0, "fe_state create") &&
	       ASSERT_OK(bpf_map_update_elem(fx->n.fe_state_fd, &fe_id, state_fd, BPF_ANY),
			 "xvr_fe_state") &&
	       ASSERT_OK(bpf_map_update_elem(fx->n.fes_fd, &fe_id, &fe, BPF_ANY), "xvr_fes") &&
	       ASSERT_OK(bpf_map_update_elem(fx->n.fe_sets_fd, &vr, &set, BPF_ANY),
			 "xvr_fe_sets");
}

/*
 * The engine's heartbeat, stamped with CLOCK_MONOTONIC as the engine does
 * just before each frame, against ingress's coarse clock: a fresh beat, one
 * a jiffy (up to 10 ms) ahead of the coarse clock and one half the timeout
 * old keep the engine up; one the timeout and 20 ms old (more than any
 * jiffy late) and none at all take it down.
 */
static void subtest_fe_liveness(void)
{
	static const struct {
		const char *desc;
		long long age_ns;	/* LLONG_MIN: no beat */
		bool alive;
	} rows[] = {
		{ "a fresh beat: up", 0, true },
		{ "a beat 10 ms ahead of now: up", -10 * (long long)MS, true },
		{ "a beat half the timeout old: up", XVR_FE_STALE_NS / 2, true },
		{ "a beat the timeout and 20 ms old: down", XVR_FE_STALE_NS + 20 * MS, false },
		{ "no beat yet: down", LLONG_MIN, false },
	};
	const struct frame_spec spec = V4_TO(7013);
	struct xvr_fe_state st = {};
	struct frame in;
	struct fx fx;
	int state_fd = -1;
	__u32 zero = 0;

	if (!fx_open(&fx))
		return;
	if (!fx_router(&fx, LIVE_VR, XVR_ROUTER_ACTIVE, XVR_MODE_AFXDP) ||
	    !fx_rule(&fx, RULE(.kind = XVR_RULE_UDP, .port = 7013), LIVE_VR) ||
	    !ASSERT_OK(rules_refresh_kinds(&fx.n), "rules_refresh_kinds") ||
	    !fx_engine(&fx, LIVE_VR, LIVE_FE, &state_fd) ||
	    !ASSERT_OK(frame_build(&in, &spec), "frame"))
		goto out;
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		__u8 out[FRAME_MAX + 64];
		struct xvr_counters c0, c1;
		__u32 out_len, verdict = ~0u;
		char name[160];

		snprintf(name, sizeof(name), "fe liveness: %s", rows[i].desc);
		st.heartbeat_ns = rows[i].age_ns == LLONG_MIN ? 0 :
				  mono_ns() - rows[i].age_ns;
		if (!ASSERT_OK(bpf_map_update_elem(state_fd, &zero, &st, BPF_ANY), name) ||
		    !ASSERT_OK(counters_read(fx.n.vr_stats_fd, LIVE_VR, &c0), name) ||
		    !ASSERT_OK(run_xdp(&fx, net.a, in.data, in.len, out, &out_len, &verdict), name) ||
		    !ASSERT_OK(counters_read(fx.n.vr_stats_fd, LIVE_VR, &c1), name))
			continue;
		ASSERT_EQ(verdict, rows[i].alive ? XDP_REDIRECT : XDP_DROP, name);
		ASSERT_EQ(c1.drop[XVR_DROP_FE_DOWN] - c0.drop[XVR_DROP_FE_DOWN], !rows[i].alive,
			  name);
	}
out:
	if (state_fd >= 0)
		close(state_fd);
	fx_close(&fx);
}

/* ---- core binding: the cpumap handoff (xvr_cpumap) ---- */

#define CPUMAP_GROUP	1
#define CPUMAP_FRAMES	2000	/* live frames, one test run repeated */
/*
 * Metadata a frame brings: all the headroom test_run allows (256 bytes less
 * the xdp_frame), so that ours added on top would not fit unless it
 * replaces what was there.
 */
#define META_FOREIGN	216

/*
 * Router vr bound to target_cpu as `router set cpus` would bind it: a
 * cpumap whose entry for target_cpu runs xvr_cpumap, the group's CPU list,
 * the group index in the router's entry.
 */
static bool fx_bind(struct fx *fx, __u32 vr, __u32 target_cpu)
{
	struct bpf_cpumap_val val = {
		.qsize = XVR_CPUMAP_QSIZE,
		.bpf_prog.fd = bpf_program__fd(fx->skel->progs.xvr_cpumap),
	};
	struct xvr_cpu_set set = { .count = 1, .cpus = { target_cpu } };
	__u32 g = CPUMAP_GROUP;
	struct xvr_router r;
	bool ok;
	int fd;

	fd = bpf_map_create(BPF_MAP_TYPE_CPUMAP, "test_cpumap", sizeof(__u32), sizeof(val),
			    XVR_MAX_BOUND_CPUS, NULL);
	if (!ASSERT_GE(fd, 0, "cpumap create"))
		return false;
	ok = ASSERT_OK(bpf_map_update_elem(fd, &target_cpu, &val, BPF_ANY), "cpumap entry") &&
	     ASSERT_OK(bpf_map_update_elem(fx->n.cpu_sets_fd, &g, &set, BPF_ANY), "xvr_cpu_sets") &&
	     ASSERT_OK(bpf_map_update_elem(fx->n.cpu_groups_fd, &g, &fd, BPF_ANY),
		       "xvr_cpu_groups") &&
	     ASSERT_OK(bpf_map_lookup_elem(fx->n.routers_fd, &vr, &r), "router");
	close(fd);
	r.cpu_group = g;
	return ok && ASSERT_OK(bpf_map_update_elem(fx->n.routers_fd, &vr, &r, BPF_ANY),
			       "router's group");
}

static bool cpu_counters_at(struct fx *fx, __u32 vr, int ncpu, struct xvr_cpu_counters *cc,
			    struct xvr_counters *vc)
{
	return !bpf_map_lookup_elem(fx->n.cpu_stats_fd, &vr, cc) &&
	       !bpf_map_lookup_elem(fx->n.vr_stats_fd, &vr, vc);
}

/* All frames arrived at the target CPU (the cpumap's kthread is asynchronous). */
static bool cpumap_drained(struct fx *fx, __u32 vr, int ncpu, int target, __u64 want,
			   struct xvr_cpu_counters *cc, struct xvr_counters *vc)
{
	for (int i = 0; i < 500; i++) {
		if (cpu_counters_at(fx, vr, ncpu, cc, vc) && cc[target].arrived_packets >= want &&
		    vc[target].fwd_packets + vc[target].drop_packets >= want)
			return true;
		usleep(10000);
	}
	return false;
}

/*
 * Router 1 (xdp mode, default route to E1) bound to CPU 1, frames run from
 * CPU 0: one test run shows the verdict and the books on the receiving CPU
 * (rx and steered, nothing processed there); live frames then really cross
 * the cpumap and run xvr_cpumap on CPU 1, which forwards every one of them
 * and books it there. Router 2, not bound, stays inline.
 */
static void subtest_cpumap(void)
{
	const struct frame_spec spec1 = V4(.dport = 7101), spec2 = V4(.dport = 7102);
	int ncpu = libbpf_num_possible_cpus();
	struct xvr_cpu_counters *cc = NULL;
	struct xvr_counters *vc = NULL, c;
	struct frame in1, in2;
	__u8 out[FRAME_MAX + 64];
	__u32 out_len, verdict;
	cpu_set_t set, old;
	struct fx fx;
	bool ok;

	if (ncpu < 2 || sysconf(_SC_NPROCESSORS_ONLN) < 2) {
		test__skip("two CPUs needed");
		return;
	}
	if (!fx_open(&fx))
		return;
	CPU_ZERO(&set);
	CPU_SET(0, &set);
	sched_getaffinity(0, sizeof(old), &old);
	cc = calloc(ncpu, sizeof(*cc));
	vc = calloc(ncpu, sizeof(*vc));
	ok = ASSERT_OK_PTR(cc, "calloc") && ASSERT_OK_PTR(vc, "calloc") &&
	     ASSERT_OK(sched_setaffinity(0, sizeof(set), &set), "run on CPU 0") &&
	     fx_router_default(&fx, 1) && fx_router_default(&fx, 2) &&
	     fx_rule(&fx, RULE(.kind = XVR_RULE_UDP, .port = 7101), 1) &&
	     fx_rule(&fx, RULE(.kind = XVR_RULE_UDP, .port = 7102), 2) &&
	     ASSERT_OK(rules_refresh_kinds(&fx.n), "rules_refresh_kinds") &&
	     fx_bind(&fx, 1, 1) && ASSERT_OK(frame_build(&in1, &spec1), "frame 1") &&
	     ASSERT_OK(frame_build(&in2, &spec2), "frame 2");
	if (!ok)
		goto out;

	/* One frame, not live: the handoff verdict, the receiving CPU's books. */
	ASSERT_OK(run_xdp(&fx, net.a, in1.data, in1.len, out, &out_len, &verdict), "test run");
	ASSERT_EQ(verdict, XDP_REDIRECT, "bound: handed to the cpumap");
	if (cpu_counters_at(&fx, 1, ncpu, cc, vc)) {
		ASSERT_EQ(vc[0].rx_packets, 1, "bound: received on CPU 0");
		ASSERT_EQ(cc[0].steered_packets, 1, "bound: steered on CPU 0");
		ASSERT_EQ(vc[0].fwd_packets + vc[0].punt_packets + vc[0].drop_packets, 0,
			  "bound: nothing processed on CPU 0");
	}
	/* A frame that comes with metadata of its own (a driver's hints, a
	 * recycled page's stale metadata): replaced by the handoff's, not
	 * added to (a live-frames generator's recycled pages grew it, 24
	 * bytes a pass, until every handoff failed). */
	{
		__u8 with_meta[META_FOREIGN + FRAME_MAX];
		struct xdp_md ctx = { .data = META_FOREIGN, .data_end = META_FOREIGN + in1.len,
				      .ingress_ifindex = net.a };
		LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = with_meta,
			    .data_size_in = META_FOREIGN + in1.len, .ctx_in = &ctx,
			    .ctx_size_in = sizeof(ctx), .repeat = 1);

		memset(with_meta, 0xab, META_FOREIGN);
		memcpy(with_meta + META_FOREIGN, in1.data, in1.len);
		if (ASSERT_OK(bpf_prog_test_run_opts(fx.prog_fd, &opts), "test run with metadata"))
			ASSERT_EQ(opts.retval, XDP_REDIRECT, "foreign metadata filling the headroom: handed off");
		if (cpu_counters_at(&fx, 1, ncpu, cc, vc))
			ASSERT_EQ(cc[0].steered_packets, 2, "foreign metadata: steered");
	}
	/* Unbound router 2: forwarded inline, nothing steered. */
	ASSERT_OK(run_xdp(&fx, net.a, in2.data, in2.len, out, &out_len, &verdict), "test run");
	ASSERT_EQ(verdict, XDP_REDIRECT, "inline: forwarded");
	if (ASSERT_OK(counters_read(fx.n.vr_stats_fd, 2, &c), "router 2"))
		ASSERT_EQ(c.fwd_packets, 1, "inline: forwarded on the receiving CPU");
	if (cpu_counters_at(&fx, 2, ncpu, cc, vc))
		ASSERT_EQ(cc[0].steered_packets, 0, "inline: nothing steered");

	/* Live frames: through the cpumap to xvr_cpumap on CPU 1. */
	{
		struct xdp_md ctx = { .data_end = in1.len, .ingress_ifindex = net.a };
		LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in1.data,
			    .data_size_in = in1.len, .ctx_in = &ctx, .ctx_size_in = sizeof(ctx),
			    .repeat = CPUMAP_FRAMES, .flags = BPF_F_TEST_XDP_LIVE_FRAMES);

		if (!ASSERT_OK(bpf_prog_test_run_opts(fx.prog_fd, &opts), "live test run"))
			goto out;
	}
	ok = cpumap_drained(&fx, 1, ncpu, 1, CPUMAP_FRAMES, cc, vc);
	ASSERT_TRUE(ok, "live: every frame arrived on CPU 1 (within 5 s)");
	ASSERT_EQ(cc[0].steered_packets, 2 + CPUMAP_FRAMES, "live: steered on CPU 0");
	ASSERT_EQ(cc[1].arrived_packets, CPUMAP_FRAMES, "live: arrived on CPU 1");
	ASSERT_EQ(vc[1].fwd_packets, CPUMAP_FRAMES, "live: forwarded on CPU 1, every one");
	ASSERT_EQ(vc[1].drop_packets + vc[1].punt_packets, 0, "live: nothing dropped or punted");
	ASSERT_EQ(vc[1].rx_packets, 0, "live: received on CPU 0 only");
	ASSERT_EQ(vc[0].fwd_packets + vc[0].drop_packets + vc[0].punt_packets, 0,
		  "live: nothing processed on CPU 0");
	ASSERT_EQ(vc[1].fwd_bytes, (__u64)CPUMAP_FRAMES * in1.len,
		  "live: the length as received rode along in the metadata");
out:
	sched_setaffinity(0, sizeof(old), &old);
	free(cc);
	free(vc);
	fx_close(&fx);
}

/* ---- virtual links (EGRE): decapsulation, and encapsulation in xdp mode ---- */

#define EGRE_VR		5
#define EGRE_LINK	7	/* point-to-point, key 100: 192.0.2.1 -> 192.0.2.2 */
#define EGRE_DOWN	8	/* key 102 names it, but it is not active */
#define EGRE_OUT	9	/* link xdp mode encapsulates onto: 198.51.100.1 -> .2 */
#define EGRE_NONEIGH	10	/* remote 198.51.100.3, whose MAC nobody knows */
#define EGRE_LOCAL	"192.0.2.2"
#define EGRE_REMOTE	"192.0.2.1"
#define EGRE_ULOCAL	"198.51.100.1"
#define EGRE_UREMOTE	"198.51.100.2"
#define GRE_SEQ_	0x1000
#define GRE_ROUTING_	0x4000
#define IP_DF_		0x4000

static bool fx_link(struct fx *fx, __u32 id, __u32 flags, const char *local, const char *remote,
		    __u32 key, __u32 dev, __u16 mtu)
{
	struct xvr_link l = { .flags = flags, .vr_id = EGRE_VR, .key = key, .nremotes = 1,
			      .dev = dev, .mtu = mtu, .ttl = 64 };
	struct xvr_link_key lk = { .key = key };
	__u32 one = 1;

	inet_pton(AF_INET, local, &l.local);
	inet_pton(AF_INET, remote, &l.remote[0]);
	lk.local = l.local;
	return ASSERT_OK(bpf_map_update_elem(fx->n.vlinks_fd, &id, &l, BPF_ANY), "xvr_vlinks") &&
	       ASSERT_OK(bpf_map_update_elem(fx->n.vlink_keys_fd, &lk, &id, BPF_ANY),
			 "xvr_vlink_keys") &&
	       ASSERT_OK(bpf_map_update_elem(fx->n.vlink_locals_fd, &l.local, &one, BPF_ANY),
			 "xvr_vlink_locals") &&
	       (!dev || ASSERT_OK(bpf_map_update_elem(fx->n.vif_by_dev_fd, &dev, &id, BPF_ANY),
				  "xvr_vif_by_dev"));
}

/* An EGRE row: an outer frame around an inner IPv4/UDP frame to 10.9.0.1. */
struct egre_row {
	const char *desc;
	const char *src, *dst;	/* outer; NULL: EGRE_REMOTE -> EGRE_LOCAL */
	__u16 gre_flags;	/* 0: key */
	__u32 key;		/* 0: 100 */
	int inner_cut;		/* > 0: only this many bytes of the inner frame */
	__u16 ip_frag;
	int pad;		/* Ethernet padding after the outer packet */
	void (*mutate)(struct frame *f, int arg);	/* on the outer frame */
	int arg;
	enum outcome what;
	int reason;
	__u32 vr;
};

static const struct frame_spec egre_inner = {
	.family = AF_INET, .src = "10.1.0.2", .dst = "10.9.0.1", .payload = 32,
	.dmac = { 0x02, 0, 0, 0, 0x0e, 0x01 },
};

static void mut_gre_flags(struct frame *f, int flags)
{
	__be16 v = htons(flags);

	memcpy(f->data + f->l4_off, &v, 2);
}

static void mut_gre_proto(struct frame *f, int proto)
{
	__be16 v = htons(proto);

	memcpy(f->data + f->l4_off + 2, &v, 2);
}

/* Builds r's outer frame around inner (len bytes of it) into out. */
static bool egre_wrap(struct frame *out, const struct egre_row *r, const struct frame *inner,
		      __u32 len)
{
	__u16 flags = r->gre_flags ? r->gre_flags : FRAME_GRE_KEY;
	struct frame_spec os = {
		.family = AF_INET, .src = r->src ? r->src : EGRE_REMOTE,
		.dst = r->dst ? r->dst : EGRE_LOCAL, .proto = IPPROTO_GRE, .gre_flags = flags,
		.gre_key = r->key ? r->key : 100, .payload = len, .ip_frag = r->ip_frag,
	};
	__u32 off;

	if (frame_build(out, &os))
		return false;
	off = out->l4_off + 4 + (flags & FRAME_GRE_CSUM ? 4 : 0) + (flags & FRAME_GRE_KEY ? 4 : 0);
	memcpy(out->data + off, inner->data, len);
	if (r->pad) {
		memset(out->data + out->len, 0, r->pad);
		out->len += r->pad;
	}
	if (r->mutate)
		r->mutate(out, r->arg);
	return true;
}

static void subtest_egre(void)
{
	static const struct egre_row decap[] = {
		{ "decapsulated and forwarded by the link's router", .what = FWD, .vr = EGRE_VR },
		{ "padding after the outer packet is trimmed", .pad = 6, .what = FWD, .vr = EGRE_VR },
		{ "unknown key", .key = 101, .what = DROP, .reason = XVR_DROP_GRE_KEY },
		{ "no key", .gre_flags = 0x0000, .mutate = mut_gre_flags, .arg = 0,
		  .what = DROP, .reason = XVR_DROP_GRE_KEY },
		{ "wrong remote", .src = "192.0.2.9", .what = DROP, .reason = XVR_DROP_GRE_REMOTE },
		{ "checksum flag", .gre_flags = FRAME_GRE_CSUM | FRAME_GRE_KEY, .what = DROP,
		  .reason = XVR_DROP_GRE_FLAGS },
		{ "sequence flag", .mutate = mut_gre_flags, .arg = FRAME_GRE_KEY | GRE_SEQ_,
		  .what = DROP, .reason = XVR_DROP_GRE_FLAGS },
		{ "routing flag", .mutate = mut_gre_flags, .arg = FRAME_GRE_KEY | GRE_ROUTING_,
		  .what = DROP, .reason = XVR_DROP_GRE_FLAGS },
		{ "version 1", .mutate = mut_gre_flags, .arg = FRAME_GRE_KEY | 1, .what = DROP,
		  .reason = XVR_DROP_GRE_FLAGS },
		{ "IPv4 in GRE, not Ethernet", .mutate = mut_gre_proto, .arg = 0x0800,
		  .what = DROP, .reason = XVR_DROP_GRE_PROTO },
		{ "inner frame shorter than Ethernet", .inner_cut = 10, .what = DROP,
		  .reason = XVR_DROP_GRE_TRUNC },
		{ "outer fragment", .ip_frag = IP_MF, .what = DROP, .reason = XVR_DROP_GRE_TRUNC },
		{ "outer header checksum wrong", .mutate = mut_csum_delta, .arg = 1, .what = DROP,
		  .reason = XVR_DROP_BAD_CSUM },
		{ "link not active", .key = 102, .what = DROP, .reason = XVR_DROP_LINK_DOWN },
		{ "GRE to an address no link has: the host's", .dst = "192.0.2.77", .what = MISS },
	};
	struct fx fx;
	struct frame inner, in, want;
	struct frame_spec ws;
	char name[200];

	if (!fx_open(&fx))
		return;
	if (!fx_router_default(&fx, EGRE_VR) ||
	    !fx_link(&fx, EGRE_LINK, XVR_LINK_ACTIVE, EGRE_LOCAL, EGRE_REMOTE, 100, 0, 1458) ||
	    !fx_link(&fx, EGRE_DOWN, 0, EGRE_LOCAL, EGRE_REMOTE, 102, 0, 1458))
		goto out;
	if (!ASSERT_OK(frame_build(&inner, &egre_inner), "inner frame"))
		goto out;
	ws = fwd_spec(&fx, &egre_inner, EGRE_VR);
	for (size_t i = 0; i < ARRAY_SIZE(decap); i++) {
		const struct egre_row *r = &decap[i];
		struct expect e = { .what = r->what, .reason = r->reason, .vr = r->vr };

		snprintf(name, sizeof(name), "egre decap: %s", r->desc);
		if (!ASSERT_TRUE(egre_wrap(&in, r, &inner, r->inner_cut ? (__u32)r->inner_cut : inner.len),
				 name) ||
		    !ASSERT_OK(frame_build(&want, &ws), name))
			continue;
		check_frame(&fx, name, net.a, &in, &e, &want);
	}
	{
		struct xvr_counters c = {};

		counters_read(fx.n.vlink_stats_fd, EGRE_LINK, &c);
		ASSERT_EQ(c.rx_packets, 2, "egre decap: the link counted what it decapsulated");
		ASSERT_EQ(c.drop[XVR_DROP_GRE_REMOTE], 1, "egre decap: and the wrong remote");
	}
out:
	fx_close(&fx);
}

/*
 * xdp mode onto a link: the route's nexthop is the link; the frame leaves
 * encapsulated by the underlay route (xvrt-a1, 198.51.100.0/24) and its
 * neighbour, which the private netns provides.
 */
static void subtest_egre_encap(void)
{
	struct frame_spec big = egre_inner, os = {
		.family = AF_INET, .src = EGRE_ULOCAL, .dst = EGRE_UREMOTE, .proto = IPPROTO_GRE,
		.gre_flags = FRAME_GRE_KEY, .gre_key = 300, .ip_frag = IP_DF_, .ttl = 64,
		.dmac = { 0x02, 0, 0, 0, 0xaa, 0x02 },
	};
	struct expect fwd = { .what = FWD, .vr = EGRE_VR };
	struct expect mtu = { .what = PUNT, .reason = XVR_PUNT_LINK_MTU, .vr = EGRE_VR };
	struct expect neigh = { .what = DROP, .reason = XVR_DROP_LINK_NEIGH, .vr = EGRE_VR };
	struct frame in, inner_out, want;
	struct frame_spec ws;
	struct fx fx;
	__u32 nh = 9;

	if (test_sh("sysctl -qw net.ipv4.conf.all.forwarding=1") ||
	    test_sh("ip link set xvrt-a0 up") || test_sh("ip link set xvrt-a1 up") ||
	    test_sh("ip addr add " EGRE_ULOCAL "/24 dev xvrt-a1") ||
	    test_sh("ip neigh replace " EGRE_UREMOTE " lladdr 02:00:00:00:aa:02 dev xvrt-a1 nud permanent")) {
		test__skip("cannot set up the underlay with ip(8)");
		return;
	}
	if (!ASSERT_OK(if_mac("xvrt-a1", os.smac), "underlay MAC") || !fx_open(&fx))
		return;
	if (!fx_router(&fx, EGRE_VR, XVR_ROUTER_ACTIVE, XVR_MODE_XDP) ||
	    !fx_link(&fx, EGRE_OUT, XVR_LINK_ACTIVE, EGRE_ULOCAL, EGRE_UREMOTE, 300, net.notx, 1458) ||
	    !fx_nh(&fx, nh, EGRE_VR, net.notx, XVR_NH_VALID | XVR_NH_LINK, 0) ||
	    !fx_route(&fx, EGRE_VR, "10.9.0.0/16", nh) ||
	    !fx_nh(&fx, nh + 1, EGRE_VR, net.b, XVR_NH_VALID | XVR_NH_LINK, 0) ||
	    !fx_route(&fx, EGRE_VR, "10.8.0.0/16", nh + 1) ||
	    !fx_link(&fx, EGRE_NONEIGH, XVR_LINK_ACTIVE, EGRE_ULOCAL, "198.51.100.3", 301, net.b,
		     1458))
		goto out;
	/* router 5 takes everything on port B */
	if (!fx_rule(&fx, (struct xvr_cls_key){ .ifindex = net.b, .kind = XVR_RULE_MAC,
				.mac = { 0x02, 0, 0, 0, 0x0e, 0x01 } }, EGRE_VR))
		goto out;
	rules_refresh_kinds(&fx.n);

	ws = fwd_spec(&fx, &egre_inner, nh);
	if (!ASSERT_OK(frame_build(&in, &egre_inner), "inner") ||
	    !ASSERT_OK(frame_build(&inner_out, &ws), "inner out"))
		goto out;
	os.payload = inner_out.len;
	if (!ASSERT_OK(frame_build(&want, &os), "outer"))
		goto out;
	memcpy(want.data + want.l4_off + 8, inner_out.data, inner_out.len);
	check_frame(&fx, "egre encap: routed onto the link, encapsulated, out of the underlay",
		    net.b, &in, &fwd, &want);

	big.payload = 1458 - 20 - 8 + 1;	/* one byte over the link's MTU */
	if (ASSERT_OK(frame_build(&in, &big), "big"))
		check_frame(&fx, "egre encap: over the link's MTU: punted", net.b, &in, &mtu, NULL);
	big.payload = 1458 - 20 - 8;
	big.dst = "10.8.0.1";
	if (ASSERT_OK(frame_build(&in, &big), "neigh"))
		check_frame(&fx, "egre encap: underlay neighbour unknown: dropped, counted", net.b,
			    &in, &neigh, NULL);
	{
		struct xvr_counters c = {};

		counters_read(fx.n.vlink_stats_fd, EGRE_OUT, &c);
		ASSERT_EQ(c.tx_packets, 1, "egre encap: the link counted what it sent");
		counters_read(fx.n.vlink_stats_fd, EGRE_NONEIGH, &c);
		ASSERT_EQ(c.drop[XVR_DROP_LINK_NEIGH], 1, "egre encap: link-neigh on the link");
	}
out:
	fx_close(&fx);
}

void test_ingress(void)
{
	if (!netns_enter())
		return;
	if (!net.a || !net.b || !net.e1 || !net.e2 || !net.notx || !net.emtu || !net.elow)
		goto out;

	if (test__start_subtest("classify"))
		subtest_classify();
	if (test__start_subtest("cls_prefix4"))
		subtest_cls_prefix4();
	if (test__start_subtest("lpm4"))
		subtest_lpm4();
	if (test__start_subtest("lpm6"))
		subtest_lpm6();
	if (test__start_subtest("ttl"))
		subtest_ttl();
	if (test__start_subtest("frag_hash"))
		subtest_frag_hash();
	if (test__start_subtest("vlan"))
		subtest_vlan();
	if (test__start_subtest("punt"))
		subtest_punt();
	if (test__start_subtest("malformed"))
		subtest_malformed();
	if (test__start_subtest("vif"))
		subtest_vif();
	if (test__start_subtest("counters"))
		subtest_counters();
	if (test__start_subtest("policer"))
		subtest_policer();
	if (test__start_subtest("fair_admission"))
		subtest_fair_admission();
	if (test__start_subtest("fe_liveness"))
		subtest_fe_liveness();
	if (test__start_subtest("cpumap"))
		subtest_cpumap();
	if (test__start_subtest("egre"))
		subtest_egre();
	if (test__start_subtest("egre_encap"))
		subtest_egre_encap();
out:
	test__end_subtest();
	printf("ingress: %u frames run and checked\n", frames_run);
	test_netns_leave();
}
