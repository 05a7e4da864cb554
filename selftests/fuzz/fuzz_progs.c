// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Mutation fuzzer for xvr_ingress and xvr_egress through BPF_PROG_TEST_RUN.
 *
 *   fuzz_progs [-s SEED] [-t SECS] [-n RUNS] [-o CRASHDIR] [-r] CORPUS_DIR...
 *
 * Both programs are loaded sharing one set of maps, filled as the CLI would
 * for three routers in a private netns of veth pairs: router 1 (xdp mode:
 * routes to both ports, an ECMP group, local, blackhole, unresolved and a
 * foreign nexthop), router 2 (netns mode, one VIF tagged), router 3 (afxdp
 * mode, one engine with a fresh heartbeat), router 4 (down), and classifier
 * rules of every kind, one of them naming another router's VIF.
 *
 * An input is two control bytes and a frame (as in fuzz_parse.c): byte 0
 * picks the device the frame arrives on, bit 0 of byte 1 the program
 * (0: xvr_ingress, 1: xvr_egress). Each input runs twice: once plainly,
 * giving the verdict and the output frame, and once with live frames, where
 * the xdp_redirect tracepoints (fuzz_redirect.bpf.c) tell the device the
 * frame was redirected to. After each run:
 *   - counters balance: the port and the router that booked the frame as
 *     received booked it once as forwarded, punted, dropped (with exactly
 *     one reason) or missed, and no other block moved;
 *   - the verdict agrees with the books (a drop has a reason, a redirect is
 *     forwarded or punted);
 *   - a redirect goes to a device of the router that booked it: ingress to
 *     its VIFs, engines or the ports its nexthops name; egress from a VIF to
 *     that VIF's port, from an engine to its router's VIF or that VIF's port;
 *   - egress never lets out a tagged frame (other than the VIF's own tag) or
 *     a source MAC that is not the router's, unless the VIF may spoof.
 * A violation writes the input to CRASHDIR (crash-<hash>) and exits 1; -r
 * runs each corpus input once, unmutated (the regression mode of make check).
 */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <sched.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <net/if.h>
#include <linux/if_ether.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "cls4.h"
#include "common.h"
#include "node.h"
#include "fib.h"
#include "objects.h"
#include "xvr_ingress.skel.h"
#include "xvr_egress.skel.h"
#include "fuzz_redirect.skel.h"
#include "mutate.h"


/* Devices, the node-side ends of veth pairs named xvrz-<name>0/1. */
enum dev { D_PA, D_PB, D_V1, D_V5, D_V2, D_V4, D_V3, D_F3, D_X, NDEVS };
static const char *const dev_names[NDEVS] = { "pa", "pb", "v1", "v5", "v2", "v4", "v3", "f3", "x" };
static __u32 ifx[NDEVS];

#define NVR	5	/* routers 0..4 are watched */
#define NSLOT	2	/* port stats slots: A 0, B 1 */

/*
 * Per router, the devices ingress may redirect its frames to (bit per enum
 * dev); egress is held to the VIF's own port (run_one).
 */
#define B(d)	(1u << (d))
static const __u32 allowed[NVR] = {
	[1] = B(D_PA) | B(D_PB) | B(D_V1) | B(D_V5),
	[2] = B(D_V2) | B(D_V4),
	[3] = B(D_V3) | B(D_F3),
};

/* VIFs: id, router, device, its port, peer index, vlan, flags. */
static const struct {
	__u32 id, vr;
	enum dev dev, port;
	__u32 peer;
	__u16 vlan;
	__u32 flags;
} vifs[] = {
	{ 1, 1, D_V1, D_PA, 11, 0, 0 },
	{ 5, 1, D_V5, D_PB, 15, 0, XVR_VIF_SPOOF },
	{ 2, 2, D_V2, D_PB, 12, 0, 0 },
	{ 4, 2, D_V4, D_PA, 14, 20, 0 },
	{ 3, 3, D_V3, D_PA, 13, 0, 0 },
};
#define NVIFS	(sizeof(vifs) / sizeof(vifs[0]))

static const __u8 NH_SMAC[6] = { 0x02, 0x00, 0x00, 0x00, 0xee, 0x01 };
static const __u8 MAC_RULE1[6] = { 0x02, 0, 0, 0, 0, 0x11 };	/* router 1, any port */
static const __u8 MAC_RULE2[6] = { 0x02, 0, 0, 0, 0, 0x22 };	/* router 2, port A */
static const __u8 MAC_CROSS[6] = { 0x02, 0, 0, 0, 0, 0x77 };	/* router 1, router 2's VIF */

static void vif_mac(__u32 id, __u8 mac[6])
{
	const __u8 m[6] = { 0x02, 0x00, 0x00, 0x00, 0x0e, id };

	memcpy(mac, m, 6);
}

static struct {
	struct xvr_ingress *ing;
	struct xvr_egress *egr;
	struct fuzz_redirect *tr;
	struct xvr_node n;
	int fe_state_fd;
	struct xvr_fe_state *fe_state;	/* mmapped heartbeat */
} fx = { .fe_state_fd = -1 };

static int sh(const char *fmt, const char *a, const char *b)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), fmt, a, b);
	strncat(cmd, " >/dev/null 2>&1", sizeof(cmd) - strlen(cmd) - 1);
	return system(cmd) ? -1 : 0;
}

/* A private netns (gone with the process) holding every device up. */
static int net_setup(void)
{
	char a[32], b[32];

	if (unshare(CLONE_NEWNET)) {
		fprintf(stderr, "fuzz_progs: unshare(CLONE_NEWNET): %s\n", strerror(errno));
		return -1;
	}
	for (int i = 0; i < NDEVS; i++) {
		snprintf(a, sizeof(a), "xvrz-%s0", dev_names[i]);
		snprintf(b, sizeof(b), "xvrz-%s1", dev_names[i]);
		if (sh("ip link add %s type veth peer name %s", a, b) ||
		    sh("ip link set %s up && ip link set %s up", a, b)) {
			fprintf(stderr, "fuzz_progs: cannot create veth %s\n", a);
			return -1;
		}
		ifx[i] = if_nametoindex(a);
	}
	return 0;
}

#define TRY(expr, what)								\
	do {									\
		int ___e = (expr);						\
		if (___e) {							\
			fprintf(stderr, "fuzz_progs: %s: %s\n", what,		\
				strerror(___e < 0 ? -___e : errno));		\
			return -1;						\
		}								\
	} while (0)

/* Loads egress over ingress's maps, and the redirect tracer. */
static int load_progs(void)
{
	struct bpf_map_info info = {};
	__u32 info_len = sizeof(info);
	struct bpf_map *m;

	fx.ing = xvr_ingress__open_and_load();
	fx.egr = xvr_egress__open();
	if (!fx.ing || !fx.egr) {
		fprintf(stderr, "fuzz_progs: cannot load xvr_ingress/xvr_egress\n");
		return -1;
	}
	bpf_object__for_each_map(m, fx.egr->obj) {
		struct bpf_map *shared;

		if (strchr(bpf_map__name(m), '.'))
			continue;	/* .bss, .rodata: each program's own */
		shared = bpf_object__find_map_by_name(fx.ing->obj, bpf_map__name(m));
		if (shared)
			TRY(bpf_map__reuse_fd(m, bpf_map__fd(shared)), bpf_map__name(m));
	}
	TRY(xvr_egress__load(fx.egr), "xvr_egress load");
	xvr_node_init(&fx.n, "fuzz");
#define FX_FD(m) fx.n.m##_fd = bpf_map__fd(fx.ing->maps.xvr_##m);
	XVR_MAPS(FX_FD)
#undef FX_FD
	TRY(bpf_obj_get_info_by_fd(fx.n.tx_ports_fd, &info, &info_len), "tx_ports info");
	fx.tr = fuzz_redirect__open();
	if (!fx.tr)
		return -1;
	fx.tr->rodata->tx_map_id = info.id;
	TRY(fuzz_redirect__load(fx.tr), "fuzz_redirect load");
	TRY(fuzz_redirect__attach(fx.tr), "fuzz_redirect attach");
	return 0;
}

static int upd(int fd, const void *k, const void *v, const char *what)
{
	if (bpf_map_update_elem(fd, k, v, BPF_ANY)) {
		fprintf(stderr, "fuzz_progs: %s: %s\n", what, strerror(errno));
		return -1;
	}
	return 0;
}

static int route(__u32 vr, const char *prefix, __u32 nh)
{
	__u8 addr[16] = {};
	int family, plen;

	if (parse_prefix(prefix, &family, addr, &plen))
		return -1;
	return fib_route_add(&fx.n, vr, family, addr, plen, nh, NULL);
}

static int nexthop(__u32 id, __u32 vr, enum dev port, __u16 flags)
{
	struct xvr_nexthop nh = { .ifindex = ifx[port], .vr_id = vr, .flags = flags,
				  .dmac = { 0x02, 0, 0, 1, 0, id } };

	memcpy(nh.smac, NH_SMAC, 6);
	return upd(fx.n.nexthops_fd, &id, &nh, "nexthop");
}

static int cls(struct xvr_cls_key key, __u32 vr, __u32 vif)
{
	struct xvr_cls_val val = { .vr_id = vr, .vif = vif };

	return upd(fx.n.classify_fd, &key, &val, "classify");
}

/* The engine's heartbeat, fresh as of now (bpf_ktime_get_ns's clock). */
static void fe_beat(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	fx.fe_state->heartbeat_ns = ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static int fill_maps(void)
{
	struct xvr_config cfg = { .rule_kinds = (1u << XVR_RULE_KIND_MAX) - 1 };
	struct xvr_cls_prefix_key pk = { .prefixlen = 32 + 96 + 16, .ifindex = 0,
					 .addr = { [10] = 0xff, [11] = 0xff, [12] = 10, [13] = 9 } };
	struct xvr_fe fe = { .flags = XVR_FE_ACTIVE, .vr_id = 3, .dev = ifx[D_F3], .weight = 1 };
	struct xvr_fe_set set = { .dist = XVR_DIST_FLOWHASH, .count = 1, .fes = { 1 } };
	struct xvr_nh_group grp = { .count = 2, .members = { 1, 2 } };
	struct xvr_cls_val pv = { .vr_id = 1, .vif = 1 };
	__u32 zero = 0, one = 1, grp_id = 3;
	struct cls4_index ix;
	int err;

	TRY(upd(fx.n.config_fd, &zero, &cfg, "config"), "config");
	for (int p = D_PA; p <= D_PB; p++) {
		struct xvr_port port = { .slot = p, .flags = XVR_PORT_ACTIVE, .mtu = 1500 };

		if (p == D_PB) {
			port.default_vr = 2;	/* port B's default: router 2's VIF */
			port.default_vif = 2;
		}
		snprintf(port.name, sizeof(port.name), "xvrz-%s0", dev_names[p]);
		TRY(upd(fx.n.ports_fd, &ifx[p], &port, "port"), "port");
	}
	for (int d = 0; d < NDEVS; d++) {
		struct bpf_devmap_val dv = { .ifindex = ifx[d] };

		if (d != D_X)
			TRY(upd(fx.n.tx_ports_fd, &ifx[d], &dv, "tx_ports"), "tx_ports");
	}
	for (__u32 vr = 1; vr < NVR; vr++) {
		struct xvr_router r = { .flags = vr == 4 ? 0 : XVR_ROUTER_ACTIVE,
					.mode = vr == 2 ? XVR_MODE_NETNS :
						vr == 3 ? XVR_MODE_AFXDP : XVR_MODE_XDP };

		snprintf(r.name, sizeof(r.name), "vr%u", vr);
		TRY(upd(fx.n.routers_fd, &vr, &r, "router"), "router");
		TRY(fib_router_init(&fx.n, vr), "fib_router_init");
	}
	for (size_t i = 0; i < NVIFS; i++) {
		struct xvr_vif v = { .flags = XVR_VIF_ACTIVE | vifs[i].flags, .vr_id = vifs[i].vr,
				     .port = ifx[vifs[i].port], .dev = ifx[vifs[i].dev],
				     .peer = vifs[i].peer, .vlan = vifs[i].vlan };
		struct xvr_vif_peer_key k = { .vr_id = v.vr_id, .peer = v.peer };

		vif_mac(vifs[i].id, v.mac);
		snprintf(v.name, sizeof(v.name), "e%u", vifs[i].id);
		TRY(upd(fx.n.vifs_fd, &vifs[i].id, &v, "vif") ||
		    upd(fx.n.vif_by_dev_fd, &v.dev, &vifs[i].id, "vif_by_dev") ||
		    upd(fx.n.vif_by_peer_fd, &k, &vifs[i].id, "vif_by_peer"), "vif");
	}
	/* Router 1's nexthops: 1 port A, 2 port B, 3 group {1,2}, 4 local, … */
	TRY(nexthop(1, 1, D_PA, XVR_NH_VALID) || nexthop(2, 1, D_PB, XVR_NH_VALID) ||
	    nexthop(3, 1, D_PA, XVR_NH_VALID | XVR_NH_GROUP) ||
	    nexthop(4, 1, D_PA, XVR_NH_VALID | XVR_NH_LOCAL) ||
	    nexthop(5, 1, D_PA, XVR_NH_VALID | XVR_NH_BLACKHOLE) ||
	    nexthop(6, 1, D_PB, XVR_NH_VALID | XVR_NH_UNRESOLVED) ||
	    nexthop(7, 2, D_PB, XVR_NH_VALID), "nexthops");
	TRY(upd(fx.n.nh_groups_fd, &grp_id, &grp, "nh_groups"), "nh_groups");
	TRY(route(1, "10.1.0.0/16", 1) || route(1, "10.2.0.0/16", 2) ||
	    route(1, "10.3.0.0/16", 3) || route(1, "10.1.0.1/32", 4) ||
	    route(1, "10.4.0.0/16", 5) || route(1, "10.5.0.0/16", 6) ||
	    route(1, "10.6.0.0/16", 7) || route(1, "2001:db8:1::/48", 1) ||
	    route(1, "2001:db8::/32", 2), "routes");
	/* Rules of every kind; the cross rule names router 2's VIF for router 1. */
	TRY(cls((struct xvr_cls_key){ .kind = XVR_RULE_MAC, .mac = { 2, 0, 0, 0, 0, 0x11 } }, 1, 1) ||
	    cls((struct xvr_cls_key){ .ifindex = ifx[D_PA], .kind = XVR_RULE_MAC,
				      .mac = { 2, 0, 0, 0, 0, 0x22 } }, 2, 4) ||
	    cls((struct xvr_cls_key){ .kind = XVR_RULE_MAC, .mac = { 2, 0, 0, 0, 0, 0x77 } }, 1, 2) ||
	    cls((struct xvr_cls_key){ .ifindex = ifx[D_PA], .kind = XVR_RULE_VLAN, .vlan = 20 }, 2, 4) ||
	    cls((struct xvr_cls_key){ .kind = XVR_RULE_VLAN, .vlan = 100 }, 1, 1) ||
	    cls((struct xvr_cls_key){ .kind = XVR_RULE_UDP, .port = 4789 }, 3, 3) ||
	    cls((struct xvr_cls_key){ .kind = XVR_RULE_UDP, .port = 5000 }, 1, 5) ||
	    cls((struct xvr_cls_key){ .kind = XVR_RULE_GRE, .gre_key = 100 }, 4, 0), "rules");
	TRY(upd(fx.n.cls_prefix_fd, &pk, &pv, "cls_prefix"), "cls_prefix");
	pk.addr[13] = 1;	/* 10.1/16 too: router 1's routes reach it */
	TRY(upd(fx.n.cls_prefix_fd, &pk, &pv, "cls_prefix"), "cls_prefix");
	memset(&pk, 0, sizeof(pk));
	pk.prefixlen = 32 + 32;
	memcpy(pk.addr, (__u8[]){ 0x20, 0x01, 0x0d, 0xb8 }, 4);
	TRY(upd(fx.n.cls_prefix_fd, &pk, &pv, "cls_prefix"), "cls_prefix");
	/* The IPv4 rules' exact-match copy and lengths, as every rule command leaves them. */
	err = cls4_stage(&fx.n, &cfg, &ix);
	cls4_index_free(&ix);
	TRY(err ?: upd(fx.n.config_fd, &zero, &cfg, "config"), "cls_prefix4");
	/* Router 3's engine, alive. */
	TRY(upd(fx.n.fes_fd, &one, &fe, "fes") || upd(fx.n.fe_by_dev_fd, &fe.dev, &one, "fe_by_dev") ||
	    upd(fx.n.fe_sets_fd, &(__u32){ 3 }, &set, "fe_sets"), "engine");
	LIBBPF_OPTS(bpf_map_create_opts, mo, .map_flags = BPF_F_MMAPABLE);
	fx.fe_state_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "fuzz_fe", 4,
					sizeof(struct xvr_fe_state), 1, &mo);
	TRY(fx.fe_state_fd < 0 ? -errno : 0, "fe state map");
	fx.fe_state = mmap(NULL, sysconf(_SC_PAGESIZE), PROT_READ | PROT_WRITE, MAP_SHARED,
			   fx.fe_state_fd, 0);
	TRY(fx.fe_state == MAP_FAILED ? -errno : 0, "fe state mmap");
	fe_beat();
	TRY(upd(fx.n.fe_state_fd, &one, &fx.fe_state_fd, "fe_state"), "fe_state");
	return 0;
}

/* ---- one input through one program, and the invariants ---- */

struct snap {
	struct xvr_counters vr[NVR], port[NSLOT];
};

static int snap_read(struct snap *s)
{
	for (__u32 i = 0; i < NVR; i++)
		if (counters_read(fx.n.vr_stats_fd, i, &s->vr[i]))
			return -1;
	for (__u32 i = 0; i < NSLOT; i++)
		if (counters_read(fx.n.port_stats_fd, i, &s->port[i]))
			return -1;
	return 0;
}

/* after - before, field by field. */
static void delta(const struct xvr_counters *b, const struct xvr_counters *a,
		  struct xvr_counters *d)
{
	const __u64 *pb = (const void *)b, *pa = (const void *)a;
	__u64 *pd = (void *)d;

	for (size_t i = 0; i < sizeof(*d) / sizeof(__u64); i++)
		pd[i] = pa[i] - pb[i];
}

static char why[256];	/* the broken invariant */

/* The last plain run's outcome: reason is a drop reason, or XVR_DROP_MAX + a punt reason. */
static struct {
	__u32 verdict, vr, reason;
} last;
#define FAIL(...) ({ snprintf(why, sizeof(why), __VA_ARGS__); -1; })

/* A block that booked one frame: exactly one outcome, reasons add up. */
static int block_check(const char *name, const struct xvr_counters *d, bool ingress)
{
	__u64 drops = 0, punts = 0, outcomes;

	for (int r = 0; r < XVR_DROP_MAX; r++)
		drops += d->drop[r];
	for (int r = 0; r < XVR_PUNT_MAX; r++)
		punts += d->punt[r];
	if (drops != d->drop_packets || punts != d->punt_packets)
		return FAIL("%s: drops %llu by reason of %llu, punts %llu of %llu", name,
			    (unsigned long long)drops, (unsigned long long)d->drop_packets,
			    (unsigned long long)punts, (unsigned long long)d->punt_packets);
	outcomes = d->fwd_packets + d->punt_packets + d->drop_packets + d->tx_packets +
		   d->miss_packets;
	if (ingress && d->rx_packets != outcomes)
		return FAIL("%s: rx %llu, but %llu outcomes", name,
			    (unsigned long long)d->rx_packets, (unsigned long long)outcomes);
	if (outcomes > 1 || d->rx_packets > 1)
		return FAIL("%s: one frame, %llu outcomes", name, (unsigned long long)outcomes);
	return 0;
}

static bool is_zero(const struct xvr_counters *d)
{
	static const struct xvr_counters z;

	return !memcmp(d, &z, sizeof(z));
}

static int dev_of(__u32 ifindex)
{
	for (int d = 0; d < NDEVS; d++)
		if (ifx[d] == ifindex)
			return d;
	return -1;
}

/* What may leave on a port from a router's VIF: its tag, its MAC. */
static int egress_frame_check(int vi, const __u8 *out, __u32 len)
{
	__u16 proto = len >= 14 ? out[12] << 8 | out[13] : 0;
	__u8 mac[6];

	if (len < 14)
		return FAIL("egress: %u-byte frame left", len);
	if (vifs[vi].vlan) {
		if (proto != ETH_P_8021Q || len < 18 || ((out[14] << 8 | out[15]) & 0xfff) != vifs[vi].vlan)
			return FAIL("egress: VIF %u's tag missing", vifs[vi].id);
		proto = out[16] << 8 | out[17];
	}
	if (proto == ETH_P_8021Q || proto == ETH_P_8021AD)
		return FAIL("egress: a tenant's own tag left through VIF %u", vifs[vi].id);
	if (vifs[vi].flags & XVR_VIF_SPOOF)
		return 0;
	vif_mac(vifs[vi].id, mac);
	/* A MAC rule of the router's own is its MAC, whichever VIF the rule names. */
	if (!memcmp(out + 6, mac, 6) ||
	    (vifs[vi].vr == 1 && (!memcmp(out + 6, MAC_RULE1, 6) || !memcmp(out + 6, MAC_CROSS, 6))) ||
	    (vifs[vi].vr == 2 && vifs[vi].port == D_PA && !memcmp(out + 6, MAC_RULE2, 6)))
		return 0;
	return FAIL("egress: foreign source MAC left through VIF %u", vifs[vi].id);
}

static int vif_index(enum dev d)
{
	for (size_t i = 0; i < NVIFS; i++)
		if (vifs[i].dev == d)
			return i;
	return -1;
}

/*
 * One run; live: with live frames (the destination from the tracer), else
 * plain (verdict and output frame). 0 when every invariant holds.
 */
static int run_one(bool egress, enum dev from, const __u8 *frame, __u32 len, bool live)
{
	__u8 out[FUZZ_MAX_INPUT + 256];
	struct xdp_md ctx = { .data_end = len, .ingress_ifindex = ifx[from] };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = len,
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = 1);
	int prog = bpf_program__fd(egress ? fx.egr->progs.xvr_egress : fx.ing->progs.xvr_ingress);
	struct snap before, after;
	struct xvr_counters d, sum = {};
	__u64 redirects = fx.tr->bss->redirects;
	int vr = 0, target, vi, err;

	if (live) {
		opts.flags = BPF_F_TEST_XDP_LIVE_FRAMES;
	} else {
		opts.data_out = out;
		opts.data_size_out = sizeof(out);
	}
	if (snap_read(&before))
		return FAIL("counters unreadable");
	err = bpf_prog_test_run_opts(prog, &opts);
	if (err)
		return len < ETH_HLEN ? 0 : FAIL("test_run: %s", strerror(-err));
	if (snap_read(&after))
		return FAIL("counters unreadable");

	/* Books: the routers', then the ports'. */
	for (int i = 0; i < NVR; i++) {
		char name[16];

		delta(&before.vr[i], &after.vr[i], &d);
		if (is_zero(&d))
			continue;
		snprintf(name, sizeof(name), "router %d", i);
		if (vr || !i)
			return FAIL("router %d booked the frame besides router %d", i, vr);
		if (block_check(name, &d, !egress))
			return -1;
		vr = i;
		sum = d;
	}
	for (int i = 0; i < NSLOT; i++) {
		delta(&before.port[i], &after.port[i], &d);
		if (is_zero(&d))
			continue;
		if (egress || ifx[i] != ctx.ingress_ifindex)
			return FAIL("port %d booked a frame that came from %s", i, dev_names[from]);
		if (block_check("port", &d, true))
			return -1;
		if (!d.rx_packets)
			return FAIL("port booked no rx");
		if (vr && (sum.fwd_packets != d.fwd_packets || sum.punt_packets != d.punt_packets ||
			   sum.drop_packets != d.drop_packets))
			return FAIL("port and router %d book the frame differently", vr);
		if (!vr)
			sum = d;
	}
	if (!live) {
		last.verdict = opts.retval;
		last.vr = vr;
		last.reason = 0;
		for (int r = 0; r < XVR_DROP_MAX; r++)
			if (sum.drop[r])
				last.reason = r;
		for (int r = 0; r < XVR_PUNT_MAX; r++)
			if (sum.punt[r])
				last.reason = XVR_DROP_MAX + r;
	}
	if (!egress && (from == D_PA || from == D_PB) && !sum.rx_packets)
		return FAIL("a frame on a port was not booked");

	if (live) {
		if (fx.tr->bss->redirects == redirects)
			return sum.fwd_packets || sum.tx_packets ?
				       FAIL("forwarded, but no redirect seen") : 0;
		if (fx.tr->bss->redirects - redirects > 1)
			return FAIL("one frame, %llu redirects",
				    (unsigned long long)(fx.tr->bss->redirects - redirects));
		target = dev_of(fx.tr->bss->last_index);
		if (target < 0 || !vr || (!egress && !(allowed[vr] & B(target))))
			return FAIL("%s redirected from %s to ifindex %u (%s), router %d",
				    egress ? "egress" : "ingress", dev_names[from],
				    fx.tr->bss->last_index, target < 0 ? "?" : dev_names[target], vr);
		if (!egress)
			return 0;
		vi = from == D_F3 ? vif_index(D_V3) : vif_index(from);
		if (vi < 0 || vifs[vi].vr != (__u32)vr ||
		    (target != (int)vifs[vi].port && !(from == D_F3 && target == D_V3)))
			return FAIL("egress from %s left on %s", dev_names[from], dev_names[target]);
		return 0;
	}

	switch (opts.retval) {
	case XDP_DROP:
		if (!sum.drop_packets)
			return FAIL("dropped without a reason");
		break;
	case XDP_REDIRECT:
		if (!sum.fwd_packets && !sum.punt_packets && !sum.tx_packets)
			return FAIL("redirected, but booked as neither forwarded nor punted");
		if (egress) {
			vi = from == D_F3 ? vif_index(D_V3) : vif_index(from);
			/* An engine's frame to its router's stack is not on a port. */
			if (vi >= 0 && !(from == D_F3 && (frame[14] & 0x80)) &&
			    egress_frame_check(vi, out, opts.data_size_out))
				return -1;
		} else if (vr == 1 && sum.fwd_packets &&
			   (opts.data_size_out < 14 || memcmp(out + 6, NH_SMAC, 6))) {
			return FAIL("forwarded by router 1 without its nexthop's MAC");
		}
		break;
	case XDP_PASS:
		if (sum.fwd_packets || sum.drop_packets || sum.tx_packets)
			return FAIL("passed, but booked forwarded or dropped");
		break;
	default:
		return FAIL("verdict %u", opts.retval);
	}
	if (sum.drop_packets && opts.retval != XDP_DROP)
		return FAIL("booked a drop, verdict %u", opts.retval);
	return 0;
}

/* The input's two runs; 0 when both hold. */
static int run_input(const __u8 *in, __u32 size)
{
	bool egress;
	enum dev from;

	if (size < 2)
		return 0;
	from = in[0] % NDEVS;
	egress = in[1] & 1;
	return run_one(egress, from, in + 2, size - 2, false) ?:
	       run_one(egress, from, in + 2, size - 2, true);
}

/* ---- what the mutations found ---- */

/* A new outcome (program, device, verdict, router, reason) keeps its input. */
static bool outcome_new(const struct input *in)
{
	static __u8 seen[2][NDEVS][8][NVR][XVR_DROP_MAX + XVR_PUNT_MAX];

	if (in->len < 2 || seen[in->data[1] & 1][in->data[0] % NDEVS][last.verdict & 7][last.vr]
			       [last.reason])
		return false;
	seen[in->data[1] & 1][in->data[0] % NDEVS][last.verdict & 7][last.vr][last.reason] = 1;
	return true;
}

/* libbpf's notes on sections it skips (.xdp_run_config) are no news here. */
static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_WARN && !strstr(fmt, "skipping unrecognized") ?
		       vfprintf(stderr, fmt, ap) : 0;
}

int main(int argc, char **argv)
{
	const char *crash_dir = ".";
	__u64 seed = time(NULL), runs = 0, max_runs = 0;
	double secs = 10;
	bool replay = false;
	struct timespec t0, now;
	struct input cur;
	int opt;

	while ((opt = getopt(argc, argv, "s:t:n:o:r")) != -1) {
		switch (opt) {
		case 's': seed = strtoull(optarg, NULL, 0); break;
		case 't': secs = atof(optarg); break;
		case 'n': max_runs = strtoull(optarg, NULL, 0); break;
		case 'o': crash_dir = optarg; break;
		case 'r': replay = true; break;
		default:
			fprintf(stderr, "usage: %s [-s SEED] [-t SECS] [-n RUNS] [-o CRASHDIR] [-r] CORPUS_DIR...\n",
				argv[0]);
			return 2;
		}
	}
	libbpf_set_print(quiet);
	pool = calloc(MAX_POOL, sizeof(*pool));
	if (!pool || optind >= argc)
		return 2;
	for (int i = optind; i < argc; i++)
		if (load_dir(argv[i]))
			return 1;
	if (!npool) {
		fprintf(stderr, "fuzz_progs: empty corpus\n");
		return 1;
	}
	if (net_setup() || load_progs() || fill_maps())
		return 1;
	rng_state = seed ?: 1;
	printf("fuzz_progs: seed %llu, %u corpus inputs, %s\n", (unsigned long long)seed, npool,
	       replay ? "replay" : "mutating");

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (unsigned int i = 0;; i++) {
		if (replay) {
			if (i >= npool)
				break;
			cur = pool[i];
		} else {
			cur = pool[rnd() % npool];
			mutate(&cur);
		}
		if ((runs & 255) == 0) {
			fe_beat();
			clock_gettime(CLOCK_MONOTONIC, &now);
			if (!replay && now.tv_sec - t0.tv_sec + (now.tv_nsec - t0.tv_nsec) / 1e9 >= secs)
				break;
		}
		if (max_runs && runs >= max_runs)
			break;
		runs++;
		if (run_input(cur.data, cur.len)) {
			fprintf(stderr, "fuzz_progs: INVARIANT BROKEN after %llu runs: %s\n",
				(unsigned long long)runs, why);
			write_crash(crash_dir, &cur);
			return 1;
		}
		if (!replay && outcome_new(&cur))
			pool_add(cur.data, cur.len);
	}
	clock_gettime(CLOCK_MONOTONIC, &now);
	printf("fuzz_progs: %llu inputs (each plain and live) in %.1f s, %llu live redirects, "
	       "%u in the pool, no invariant broken\n", (unsigned long long)runs,
	       now.tv_sec - t0.tv_sec + (now.tv_nsec - t0.tv_nsec) / 1e9,
	       (unsigned long long)fx.tr->bss->redirects, npool);
	return 0;
}
