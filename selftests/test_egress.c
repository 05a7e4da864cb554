// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Unit tests of xvr_egress through BPF_PROG_TEST_RUN: what a router's
 * namespace sends out of a VIF, and what an engine sends behind its tag.
 *
 * One skeleton (no pinning) whose maps are filled as `xvr vif` and `xvr fe`
 * would; each table row runs one frame in on a VIF's or an engine's
 * node-side device and states the verdict, the drop reason and the frame
 * that leaves. The checker compares every counter of routers 0..NVR-1
 * before and after: the router the frame belongs to books it as sent (tx)
 * or as dropped with exactly that reason, and nothing else moves.
 *
 * test_run needs ingress_ifindex to be a device of the caller's netns and
 * the devmap only takes existing devices: the test runs in a private netns
 * of veth pairs, destroyed with it at the end.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stddef.h>
#include <stdlib.h>
#include <unistd.h>
#include <net/if.h>
#include <linux/if_ether.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "test_progs.h"
#include "common.h"
#include "node.h"
#include "objects.h"
#include "frames.h"
#include "xvr_egress.skel.h"

/* Devices: the port, three VIFs of router 1, one of router 2, router 1's engine. */
enum dev_id { D_PORT, D_OTHER_PORT, D_VIF1, D_VIF2, D_VIF3, D_VIF4, D_FE, NDEVS };

static const char *const dev_names[NDEVS] = {
	"xvre-p", "xvre-q", "xvre-v1", "xvre-v2", "xvre-v3", "xvre-v4", "xvre-f",
};

static struct {
	__u32 ifindex[NDEVS];	/* the node-side ends (<name>0) */
} net;

#define NVR		4	/* routers 0..3 are watched */
#define VR_A		1
#define VR_B		2
#define FE_ID		1

/* In-namespace indexes (engine tags name VIFs by these). */
#define PEER_VIF1	11
#define PEER_VIF2	12
#define PEER_VIF3	13
#define PEER_VIF4	14
#define VLAN_VIF2	20

#define MAC(x)		{ 0x02, 0x00, 0x00, 0x00, 0x0e, (x) }
#define MAC_VIF1	MAC(0x01)	/* VIF1: untagged */
#define MAC_VIF2	MAC(0x02)	/* VIF2: vlan 20 */
#define MAC_VIF3	MAC(0x03)	/* VIF3: spoof on */
#define MAC_VIF4	MAC(0x04)	/* router B's VIF on the same port */
#define MAC_RULE_PORT	MAC(0x11)	/* classify A mac … port PORT */
#define MAC_RULE_ANY	MAC(0x12)	/* classify A mac … (any port) */
#define MAC_RULE_B	MAC(0x13)	/* classify B mac … port PORT */
#define MAC_RULE_OTHER	MAC(0x14)	/* classify A mac … port OTHER_PORT */
#define MAC_FOREIGN	{ 0x02, 0x66, 0x66, 0x66, 0x66, 0x66 }
#define MAC_BCAST	{ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }
#define MACP(m)		((const __u8[6])m)

/* A private netns with a veth pair per device; false: skipped. */
static bool netns_enter(void)
{
	char cmd[128];

	if (!test_netns_enter())
		return false;
	for (int i = 0; i < NDEVS; i++) {
		snprintf(cmd, sizeof(cmd), "ip link add %s0 type veth peer name %s1", dev_names[i],
			 dev_names[i]);
		if (!ASSERT_OK(test_sh(cmd), cmd))
			return true;	/* entered; the caller leaves */
		snprintf(cmd, sizeof(cmd), "%s0", dev_names[i]);
		net.ifindex[i] = if_nametoindex(cmd);
	}
	return true;
}

/* ---- fixture ---- */

struct fx {
	struct xvr_egress *skel;
	struct xvr_node n;
	int prog_fd;
	int skb_fd;	/* xvr_egress_skb, the same checks as a tc program */
};

static bool fx_vif(struct fx *fx, __u32 id, __u32 vr, enum dev_id dev, __u32 peer,
		   const __u8 *mac, __u16 vlan, __u32 flags)
{
	struct xvr_vif v = {
		.flags = XVR_VIF_ACTIVE | flags, .vr_id = vr, .port = net.ifindex[D_PORT],
		.dev = net.ifindex[dev], .peer = peer, .vlan = vlan,
	};
	struct xvr_vif_peer_key pk = { .vr_id = vr, .peer = peer };
	struct bpf_devmap_val dv = { .ifindex = v.dev };

	memcpy(v.mac, mac, 6);
	snprintf(v.name, sizeof(v.name), "e%u", id);
	return ASSERT_OK(bpf_map_update_elem(fx->n.vifs_fd, &id, &v, BPF_ANY), "xvr_vifs") &&
	       ASSERT_OK(bpf_map_update_elem(fx->n.vif_by_dev_fd, &v.dev, &id, BPF_ANY),
			 "xvr_vif_by_dev") &&
	       ASSERT_OK(bpf_map_update_elem(fx->n.vif_by_peer_fd, &pk, &id, BPF_ANY),
			 "xvr_vif_by_peer") &&
	       ASSERT_OK(bpf_map_update_elem(fx->n.tx_ports_fd, &v.dev, &dv, BPF_ANY),
			 "xvr_tx_ports (VIF)");
}

static bool fx_mac_rule(struct fx *fx, const __u8 *mac, __u32 ifindex, __u32 vr)
{
	struct xvr_cls_key key = { .ifindex = ifindex, .kind = XVR_RULE_MAC };
	struct xvr_cls_val val = { .vr_id = vr };

	memcpy(key.mac, mac, 6);
	return ASSERT_OK(bpf_map_update_elem(fx->n.classify_fd, &key, &val, BPF_ANY),
			 "xvr_classify");
}

static bool fx_open(struct fx *fx)
{
	__u32 port = net.ifindex[D_PORT], other = net.ifindex[D_OTHER_PORT];
	__u32 fe_dev = net.ifindex[D_FE], fe_id = FE_ID;
	struct xvr_fe fe = { .flags = XVR_FE_ACTIVE, .vr_id = VR_A, .dev = fe_dev, .weight = 1 };
	struct bpf_devmap_val dv = { .ifindex = port };

	memset(fx, 0, sizeof(*fx));
	fx->skel = xvr_egress__open_and_load();
	if (!ASSERT_OK_PTR(fx->skel, "xvr_egress__open_and_load"))
		return false;
	fx->prog_fd = bpf_program__fd(fx->skel->progs.xvr_egress);
	fx->skb_fd = bpf_program__fd(fx->skel->progs.xvr_egress_skb);
	xvr_node_init(&fx->n, "test");
#define FX_FD(m) fx->n.m##_fd = bpf_map__fd(fx->skel->maps.xvr_##m);
	XVR_MAPS(FX_FD)
#undef FX_FD
	return ASSERT_OK(bpf_map_update_elem(fx->n.tx_ports_fd, &port, &dv, BPF_ANY),
			 "xvr_tx_ports (port)") &&
	       fx_vif(fx, 1, VR_A, D_VIF1, PEER_VIF1, MACP(MAC_VIF1), 0, 0) &&
	       fx_vif(fx, 2, VR_A, D_VIF2, PEER_VIF2, MACP(MAC_VIF2), VLAN_VIF2, 0) &&
	       fx_vif(fx, 3, VR_A, D_VIF3, PEER_VIF3, MACP(MAC_VIF3), 0, XVR_VIF_SPOOF) &&
	       fx_vif(fx, 4, VR_B, D_VIF4, PEER_VIF4, MACP(MAC_VIF4), 0, 0) &&
	       fx_mac_rule(fx, MACP(MAC_RULE_PORT), port, VR_A) &&
	       fx_mac_rule(fx, MACP(MAC_RULE_ANY), 0, VR_A) &&
	       fx_mac_rule(fx, MACP(MAC_RULE_B), port, VR_B) &&
	       fx_mac_rule(fx, MACP(MAC_RULE_OTHER), other, VR_A) &&
	       ASSERT_OK(bpf_map_update_elem(fx->n.fes_fd, &fe_id, &fe, BPF_ANY), "xvr_fes") &&
	       ASSERT_OK(bpf_map_update_elem(fx->n.fe_by_dev_fd, &fe_dev, &fe_id, BPF_ANY),
			 "xvr_fe_by_dev");
}

/* ---- rows ---- */

struct row {
	const char *desc;
	enum dev_id from;	/* the device the frame comes in on */
	__u16 fe_tag;		/* D_FE: the tag's ifindex field (with XVR_FE_TAG_STACK) */
	bool no_tag;		/* D_FE: no engine tag at all */
	struct frame_spec in;	/* the frame (behind the engine tag, for D_FE) */
	__u32 verdict;		/* XDP_REDIRECT, XDP_DROP or XDP_PASS */
	int reason;		/* XDP_DROP: the drop reason */
	__u16 out_vlan;		/* XDP_REDIRECT: the VIF's tag on the output */
	__u32 vr;		/* the router that books it, 0: none */
};

#define V4(...)		{ .family = AF_INET, .payload = 18, __VA_ARGS__ }
#define ARP(...)	{ .ethertype = ETH_P_ARP, __VA_ARGS__ }
#define SRC(m)		.smac = m
#define TAGGED(vid)	.nvlans = 1, .tci = { (vid) }
#define QINQ(vid)	.tpid = ETH_P_8021AD, .nvlans = 2, .tci = { (vid), 7 }
#define SENT		.verdict = XDP_REDIRECT
#define DROPPED(r)	.verdict = XDP_DROP, .reason = (r)
#define STACK		XVR_FE_TAG_STACK

static const struct row rows[] = {
	/* A router's stack sending out of its VIF. */
	{ "vif: IPv4 from the VIF's MAC", D_VIF1, .in = V4(SRC(MAC_VIF1)), SENT, .vr = VR_A },
	{ "vif: ARP from the VIF's MAC", D_VIF1, .in = ARP(SRC(MAC_VIF1)), SENT, .vr = VR_A },
	{ "vif: VLAN VIF, untagged: xvr adds its tag", D_VIF2, .in = V4(SRC(MAC_VIF2)), SENT,
	  .out_vlan = VLAN_VIF2, .vr = VR_A },
	{ "vif: the router's mac rule on the port", D_VIF1, .in = V4(SRC(MAC_RULE_PORT)), SENT,
	  .vr = VR_A },
	{ "vif: the router's mac rule on any port", D_VIF1, .in = V4(SRC(MAC_RULE_ANY)), SENT,
	  .vr = VR_A },
	{ "vif: 802.1Q tag of its own", D_VIF1, .in = V4(SRC(MAC_VIF1), TAGGED(30)),
	  DROPPED(XVR_DROP_EGR_VLAN), .vr = VR_A },
	{ "vif: 802.1ad outer tag of its own", D_VIF1, .in = V4(SRC(MAC_VIF1), QINQ(30)),
	  DROPPED(XVR_DROP_EGR_VLAN), .vr = VR_A },
	{ "vif: VLAN VIF, the tenant's own tag (its VIF's vid)", D_VIF2,
	  .in = V4(SRC(MAC_VIF2), TAGGED(VLAN_VIF2)), DROPPED(XVR_DROP_EGR_VLAN), .vr = VR_A },
	{ "vif: tagged ARP", D_VIF1, .in = ARP(SRC(MAC_VIF1), TAGGED(30)),
	  DROPPED(XVR_DROP_EGR_VLAN), .vr = VR_A },
	{ "vif: foreign source MAC", D_VIF1, .in = V4(SRC(MAC_FOREIGN)),
	  DROPPED(XVR_DROP_EGR_SRC_MAC), .vr = VR_A },
	{ "vif: broadcast source MAC", D_VIF1, .in = ARP(SRC(MAC_BCAST)),
	  DROPPED(XVR_DROP_EGR_SRC_MAC), .vr = VR_A },
	{ "vif: another router's VIF MAC on the port", D_VIF1, .in = V4(SRC(MAC_VIF4)),
	  DROPPED(XVR_DROP_EGR_SRC_MAC), .vr = VR_A },
	{ "vif: another router's mac rule on the port", D_VIF1, .in = V4(SRC(MAC_RULE_B)),
	  DROPPED(XVR_DROP_EGR_SRC_MAC), .vr = VR_A },
	{ "vif: the router's mac rule on another port", D_VIF1, .in = V4(SRC(MAC_RULE_OTHER)),
	  DROPPED(XVR_DROP_EGR_SRC_MAC), .vr = VR_A },
	{ "vif: VIF1's MAC out of VIF2", D_VIF2, .in = V4(SRC(MAC_VIF1)),
	  DROPPED(XVR_DROP_EGR_SRC_MAC), .vr = VR_A },
	{ "vif: router B's VIF, router A's MAC", D_VIF4, .in = V4(SRC(MAC_VIF1)),
	  DROPPED(XVR_DROP_EGR_SRC_MAC), .vr = VR_B },
	{ "vif: spoof on: foreign source MAC leaves", D_VIF3, .in = V4(SRC(MAC_FOREIGN)), SENT,
	  .vr = VR_A },
	{ "vif: spoof on: a tag of its own is still dropped", D_VIF3,
	  .in = V4(SRC(MAC_FOREIGN), TAGGED(30)), DROPPED(XVR_DROP_EGR_VLAN), .vr = VR_A },
	/* The port's MTU (1500) as it is now, not as it was when the VIF was made. */
	{ "vif: 1500-byte packet fits the port's MTU", D_VIF1,
	  .in = { .family = AF_INET, SRC(MAC_VIF1), .payload = 1500 - 28 }, SENT, .vr = VR_A },
	{ "vif: 1501-byte packet over the port's MTU: tx-mtu", D_VIF1,
	  .in = { .family = AF_INET, SRC(MAC_VIF1), .payload = 1501 - 28 },
	  DROPPED(XVR_DROP_TX_MTU), .vr = VR_A },
	{ "fe: 1501-byte packet over the port's MTU: tx-mtu", D_FE, PEER_VIF1,
	  .in = { .family = AF_INET, SRC(MAC_VIF1), .payload = 1501 - 28 },
	  DROPPED(XVR_DROP_TX_MTU), .vr = VR_A },
	{ "not a VIF: passed, nothing booked", D_PORT, .in = V4(SRC(MAC_FOREIGN)),
	  .verdict = XDP_PASS },

	/* An engine's frames: its tag names the VIF. */
	{ "fe: out of VIF1", D_FE, PEER_VIF1, .in = V4(SRC(MAC_VIF1)), SENT, .vr = VR_A },
	{ "fe: out of the VLAN VIF", D_FE, PEER_VIF2, .in = V4(SRC(MAC_VIF2)), SENT,
	  .out_vlan = VLAN_VIF2, .vr = VR_A },
	{ "fe: the router's mac rule", D_FE, PEER_VIF1, .in = V4(SRC(MAC_RULE_PORT)), SENT,
	  .vr = VR_A },
	{ "fe: 802.1Q tag inside", D_FE, PEER_VIF1, .in = V4(SRC(MAC_VIF1), TAGGED(30)),
	  DROPPED(XVR_DROP_EGR_VLAN), .vr = VR_A },
	{ "fe: 802.1ad tag inside", D_FE, PEER_VIF1, .in = V4(SRC(MAC_VIF1), QINQ(30)),
	  DROPPED(XVR_DROP_EGR_VLAN), .vr = VR_A },
	{ "fe: foreign source MAC", D_FE, PEER_VIF1, .in = V4(SRC(MAC_FOREIGN)),
	  DROPPED(XVR_DROP_EGR_SRC_MAC), .vr = VR_A },
	{ "fe: another router's mac rule", D_FE, PEER_VIF1, .in = V4(SRC(MAC_RULE_B)),
	  DROPPED(XVR_DROP_EGR_SRC_MAC), .vr = VR_A },
	{ "fe: spoof on VIF: foreign source leaves", D_FE, PEER_VIF3, .in = V4(SRC(MAC_FOREIGN)),
	  SENT, .vr = VR_A },
	{ "fe: to the stack keeps the sender's MAC", D_FE, PEER_VIF1 | STACK,
	  .in = V4(SRC(MAC_FOREIGN)), SENT, .vr = VR_A },
	{ "fe: to the stack with a tag inside", D_FE, PEER_VIF1 | STACK,
	  .in = ARP(SRC(MAC_FOREIGN), TAGGED(30)), DROPPED(XVR_DROP_EGR_VLAN), .vr = VR_A },
	{ "fe: another router's VIF", D_FE, PEER_VIF4, .in = V4(SRC(MAC_VIF4)),
	  DROPPED(XVR_DROP_FE_TAG), .vr = VR_A },
	{ "fe: no tag", D_FE, .no_tag = true, .in = V4(SRC(MAC_VIF1)), DROPPED(XVR_DROP_FE_TAG),
	  .vr = VR_A },
};

/* Inserts the engine tag {XVR_FE_TAG_PROTO, ifv} after the MACs. */
static void fe_tag_insert(struct frame *f, __u16 ifv)
{
	memmove(f->data + 2 * ETH_ALEN + XVR_FE_TAG_LEN, f->data + 2 * ETH_ALEN,
		f->len - 2 * ETH_ALEN);
	f->data[12] = XVR_FE_TAG_PROTO >> 8;
	f->data[13] = XVR_FE_TAG_PROTO & 0xff;
	f->data[14] = ifv >> 8;
	f->data[15] = ifv & 0xff;
	f->len += XVR_FE_TAG_LEN;
}

#define NCOUNTERS (sizeof(struct xvr_counters) / sizeof(__u64))

/* after - before == want for every counter of the block; names what is off. */
static bool delta_eq(const char *name, __u32 vr, const struct xvr_counters *before,
		     const struct xvr_counters *after, const struct xvr_counters *want)
{
	const __u64 *b = (const void *)before, *a = (const void *)after, *w = (const void *)want;
	const size_t drop0 = offsetof(struct xvr_counters, drop) / sizeof(__u64);
	bool ok = true;

	for (size_t i = 0; i < NCOUNTERS; i++) {
		const char *r = i >= drop0 && i < drop0 + XVR_DROP_MAX ?
					drop_reason_name(i - drop0) : NULL;

		if (a[i] - b[i] == w[i])
			continue;
		test__fail();
		fprintf(stderr, "%s: FAIL router %u counter %zu%s%s: got +%llu expected +%llu\n",
			name, vr, i, r ? " drop " : "", r ? r : "",
			(unsigned long long)(a[i] - b[i]), (unsigned long long)w[i]);
		ok = false;
	}
	return ok;
}

static bool read_all(struct fx *fx, struct xvr_counters c[NVR])
{
	for (__u32 i = 0; i < NVR; i++)
		if (!ASSERT_OK(counters_read(fx->n.vr_stats_fd, i, &c[i]), "counters_read"))
			return false;
	return true;
}

static unsigned int frames_run;

#define TC_ACT_OK	0
#define TC_ACT_SHOT	2
#define TC_ACT_REDIRECT	7

/* The tc program's verdict for the XDP program's. */
static __u32 tc_verdict(__u32 xdp)
{
	return xdp == XDP_REDIRECT ? TC_ACT_REDIRECT : xdp == XDP_DROP ? TC_ACT_SHOT : TC_ACT_OK;
}

/*
 * One row through xvr_egress, or (skb) through xvr_egress_skb on an skb
 * that came in on the same device: the same verdict, output and counters.
 */
static void run_row(struct fx *fx, const struct row *r, bool skb)
{
	struct frame in, want;
	struct frame_spec ws = r->in;
	struct xvr_counters before[NVR], after[NVR], expect, zero = {};
	__u8 out[FRAME_MAX + 64];
	struct xdp_md ctx = { .ingress_ifindex = net.ifindex[r->from] };
	struct __sk_buff skb_ctx = { .ifindex = net.ifindex[r->from] };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_out = out, .data_size_out = sizeof(out),
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = 1);
	char what[200];

	if (!ASSERT_OK(frame_build(&in, &r->in), r->desc))
		return;
	if (r->from == D_FE && !r->no_tag)
		fe_tag_insert(&in, r->fe_tag);
	ctx.data_end = in.len;
	opts.data_in = in.data;
	opts.data_size_in = in.len;
	if (skb) {
		opts.ctx_in = &skb_ctx;
		opts.ctx_size_in = sizeof(skb_ctx);
	}
	if (!read_all(fx, before))
		return;
	frames_run++;
	snprintf(what, sizeof(what), "%s%s: test_run", skb ? "skb: " : "", r->desc);
	if (!ASSERT_OK(bpf_prog_test_run_opts(skb ? fx->skb_fd : fx->prog_fd, &opts), what) ||
	    !read_all(fx, after))
		return;

	snprintf(what, sizeof(what), "%s%s: verdict", skb ? "skb: " : "", r->desc);
	ASSERT_EQ(opts.retval, skb ? tc_verdict(r->verdict) : r->verdict, what);

	/* What leaves: the frame without the engine's tag, with the VIF's. */
	if (r->verdict == XDP_REDIRECT) {
		if (r->out_vlan) {
			ws.nvlans = 1;
			ws.tci[0] = r->out_vlan;
		}
		if (ASSERT_OK(frame_build(&want, &ws), "expected frame")) {
			snprintf(what, sizeof(what), "%s: output frame", r->desc);
			if (ASSERT_EQ(opts.data_size_out, want.len, what))
				ASSERT_MEMEQ(out, want.data, want.len, what);
		}
	}

	memset(&expect, 0, sizeof(expect));
	if (r->verdict == XDP_REDIRECT) {
		expect.tx_packets = 1;
		expect.tx_bytes = in.len;
	} else if (r->verdict == XDP_DROP) {
		expect.drop_packets = 1;
		expect.drop_bytes = in.len;
		expect.drop[r->reason] = 1;
	}
	for (__u32 i = 0; i < NVR; i++)
		delta_eq(r->desc, i, &before[i], &after[i],
			 i == r->vr && i ? &expect : &zero);
}

static void subtest_rows(void)
{
	struct fx fx;

	if (!fx_open(&fx))
		goto out;
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++)
		run_row(&fx, &rows[i], false);
out:
	xvr_egress__destroy(fx.skel);
}

/* The VIF rows through xvr_egress_skb (engines' frames are XDP's only). */
static void subtest_skb_rows(void)
{
	struct fx fx;

	if (!fx_open(&fx))
		goto out;
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++)
		if (rows[i].from != D_FE)
			run_row(&fx, &rows[i], true);
out:
	xvr_egress__destroy(fx.skel);
}

/*
 * Each reason is one router's business: router B's VIF leaking router A's
 * frames moves B's counters only, and a burst of refused frames balances
 * (dropped by reason = sent to the program).
 */
static void subtest_balance(void)
{
	static const struct frame_spec bad[] = {
		V4(SRC(MAC_FOREIGN)), V4(SRC(MAC_VIF1), TAGGED(5)), V4(SRC(MAC_VIF1)),
	};
	struct xvr_counters before[NVR], after[NVR];
	__u8 out[FRAME_MAX + 64];
	struct frame f;
	struct fx fx;
	const int n = 100;
	__u64 sent = 0;

	if (!fx_open(&fx))
		goto out;
	if (!read_all(&fx, before))
		goto out;
	for (int i = 0; i < n; i++) {
		const struct frame_spec *s = &bad[i % ARRAY_SIZE(bad)];
		struct xdp_md ctx = { .ingress_ifindex = net.ifindex[D_VIF1] };
		LIBBPF_OPTS(bpf_test_run_opts, opts, .data_out = out,
			    .data_size_out = sizeof(out), .ctx_in = &ctx, .ctx_size_in = sizeof(ctx),
			    .repeat = 1);

		if (!ASSERT_OK(frame_build(&f, s), "frame_build"))
			goto out;
		ctx.data_end = f.len;
		opts.data_in = f.data;
		opts.data_size_in = f.len;
		if (!ASSERT_OK(bpf_prog_test_run_opts(fx.prog_fd, &opts), "test_run"))
			goto out;
		sent++;
	}
	if (!read_all(&fx, after))
		goto out;
	ASSERT_EQ(after[VR_A].tx_packets - before[VR_A].tx_packets +
			  after[VR_A].drop_packets - before[VR_A].drop_packets,
		  sent, "router A: sent = tx + dropped");
	ASSERT_EQ(after[VR_A].drop[XVR_DROP_EGR_SRC_MAC] - before[VR_A].drop[XVR_DROP_EGR_SRC_MAC],
		  (n + 2) / 3, "router A: egress-src-mac");
	ASSERT_EQ(after[VR_A].drop[XVR_DROP_EGR_VLAN] - before[VR_A].drop[XVR_DROP_EGR_VLAN],
		  (n + 1) / 3, "router A: egress-vlan");
	ASSERT_EQ(after[VR_A].tx_packets - before[VR_A].tx_packets, n / 3, "router A: tx");
	ASSERT_EQ(after[VR_B].drop_packets + after[VR_B].tx_packets,
		  before[VR_B].drop_packets + before[VR_B].tx_packets, "router B untouched");
out:
	xvr_egress__destroy(fx.skel);
}

void test_egress(void)
{
	if (!netns_enter())
		return;
	for (int i = 0; i < NDEVS; i++)
		if (!net.ifindex[i])
			goto out;
	if (test__start_subtest("rows"))
		subtest_rows();
	if (test__start_subtest("balance"))
		subtest_balance();
	if (test__start_subtest("skb_rows"))
		subtest_skb_rows();
out:
	test__end_subtest();
	printf("egress: %u frames run and checked\n", frames_run);
	test_netns_leave();
}
