/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The ABI between xvr's BPF programs and user space: map keys and values,
 * counter layouts, drop and punt reasons, limits. Both sides include this
 * file, so it uses only __u32/__be32-style types and no kernel headers when
 * built against vmlinux.h.
 */
#ifndef XVR_XVR_H
#define XVR_XVR_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Limits. Router ids are 1..XVR_MAX_ROUTERS-1; id 0 means "no router". */
#define XVR_MAX_ROUTERS		1024
#define XVR_MAX_PORTS		256
#define XVR_MIN_PORT_MTU	1280	/* IPv6's minimum link MTU */
#define XVR_MAX_NEXTHOPS	65536	/* nexthop id 0 means "no nexthop" */
#define XVR_MAX_VIFS		4096	/* VIF id 0 means "no VIF" */
#define XVR_MAX_ECMP		16	/* paths of one multipath nexthop */
#define XVR_MAX_RULES		65536	/* classifier rules, exact-match kinds */
#define XVR_MAX_PREFIX_RULES	16384	/* classifier rules, prefix kind */
#define XVR_NAME_LEN		16
#define XVR_MAX_VLANS		2	/* deeper VLAN stacks are dropped */
#define XVR_MAX_IPV6_EXTHDRS	8	/* extension headers walked to find L4 */

/* Routes held per router; the IPv4 DIR table and tries are sized for this. */
#define XVR_MAX_ROUTES4		(2u << 20)
#define XVR_MAX_ROUTES6		(512u << 10)

/*
 * IPv4 FIB: DIR-16-8-8 table per router, in two maps the data path reads:
 *   level 1   xvr_fib4_l1[slot]: 65536 entries indexed by the top 16 bits,
 *             packed 16 to a line (struct xvr_fib4_line), so the table is
 *             256 KiB and every inner map has the same size, which lets the
 *             verifier inline the lookup
 *   groups    xvr_fib4[slot]: group g (level 2 or 3) at g * 256 + i,
 *             indexed by the next 8 bits
 *   runs      xvr_fib4_runs[slot]: the same groups, compacted (struct
 *             xvr_fib4_runs); read first where valid
 * slot is XVR_FIB4_SLOT(router id, bank); the router's entry names its live
 * bank (xvr_router.fib4_bank). A rebuild fills the idle bank, then flips
 * the bank, so level 1 and its groups always change together.
 * An entry is 0 (no route), a route (nexthop id + depth) or, with
 * XVR_FIB_EXT, a link to a group. A lookup reads at most three entries.
 * Group 0 is reserved: nothing links to it, and user space keeps the number
 * of groups in use in its entry 0. The kernel lays ARRAY elements out
 * 8 bytes apart even for a 4-byte value, so in the mmapped groups map
 * entry i is the __u32 at byte offset 8 * i; level-1 lines are 64 bytes
 * apart, entries 4.
 */
#define XVR_FIB4_L1_BITS	16
#define XVR_FIB4_L1_SIZE	(1u << XVR_FIB4_L1_BITS)
#define XVR_FIB4_LINE_BITS	4
#define XVR_FIB4_LINE		(1u << XVR_FIB4_LINE_BITS)	/* entries per line */
#define XVR_FIB4_L1_LINES	(XVR_FIB4_L1_SIZE / XVR_FIB4_LINE)
#define XVR_FIB4_GROUP_SIZE	256
#define XVR_FIB4_MIN_GROUPS	1	/* a map cannot have zero groups */
#define XVR_FIB4_BANKS		2
#define XVR_FIB4_SLOT(vr, bank)	((vr) * XVR_FIB4_BANKS + ((bank) & 1))

struct xvr_fib4_line {
	__u32 e[XVR_FIB4_LINE];
};

/*
 * A group's entries as runs of equal entries, 256 bytes per group
 * (xvr_fib4_runs[slot], record g for group g), so that a frame reads two
 * cache lines of a dense array (the start bytes, which fill the first
 * line with n, and the run's entry) instead of a line of a group's 2 KiB
 * (256 entries, 8 bytes apart): a large table's working set is about an
 * eighth. Run i covers the group's indices start[i] up to the next run's
 * start; start[0] is 0 and starts ascend. Slots past the last run repeat
 * its entry with start 0xff, so a search for the last start <= index over
 * all XVR_FIB4_RUNS slots finds the right entry. n = 0: the record is not
 * valid and the group itself is read. User space writes a record once,
 * when it builds a bank, for every group with at most XVR_FIB4_RUNS runs,
 * and sets its n to 0 before it changes the group in place; it never
 * writes a record of the live bank otherwise. Group 0 has no record:
 * record 0 keeps user space's counts, e[XVR_FIB4_RUNS_WRITTEN] the records
 * written by the build and e[XVR_FIB4_RUNS_ASIDE] those set aside since.
 */
#define XVR_FIB4_RUNS		48
#define XVR_FIB4_RUNS_WRITTEN	0
#define XVR_FIB4_RUNS_ASIDE	1

struct xvr_fib4_runs {
	__u8 start[XVR_FIB4_RUNS];
	__u8 n;
	__u8 pad[3];
	__u32 e[XVR_FIB4_RUNS];
	__u32 pad2[3];
};

#define XVR_FIB_EXT		(1u << 31)	/* low 24 bits: group index */
#define XVR_FIB_DEPTH_SHIFT	24		/* bits 24..29: prefix length */
#define XVR_FIB_DEPTH_MASK	0x3fu
#define XVR_FIB_NH_MASK		0xffffffu	/* bits 0..23: nexthop id */
#define XVR_FIB_ENTRY(nh, depth) \
	(((__u32)(depth) << XVR_FIB_DEPTH_SHIFT) | ((__u32)(nh) & XVR_FIB_NH_MASK))

/* Keys of the per-router tries (rib4, fib6) and of the prefix classifier. */
struct xvr_lpm4_key {
	__u32 prefixlen;
	__u8 addr[4];
};

struct xvr_lpm6_key {
	__u32 prefixlen;
	__u8 addr[16];
};

/* Value of rib4 and fib6: the nexthop id (entry without depth bits). */

/* Node-wide settings (xvr_config[0]). */
enum xvr_config_flags {
	XVR_CFG_MISS_DROP = 1u << 0,	/* unclassified frames: drop, not pass */
};

/*
 * The prefix lengths of the node's IPv4 prefix rules, for xvr_cls_prefix4:
 * one byte per length (length + 1, longest in the lowest byte, 0 ends the
 * list), at most XVR_CLS4_LENS of them. XVR_CLS4_TRIE: IPv4 frames take
 * the trie (more lengths than that, or an IPv6 rule covering
 * ::ffff:0:0/96, which IPv4 frames match too).
 */
#define XVR_CLS4_LENS	8
#define XVR_CLS4_TRIE	(~0ULL)

struct xvr_config {
	__u32 flags;
	__u32 rule_kinds;	/* bit per xvr_rule_kind with rules present */
	__u64 cls4_port_lens;	/* rules of one port */
	__u64 cls4_any_lens;	/* rules of any port */
};

/* Ports: xvr_ports[ifindex]. */
enum xvr_port_flags {
	XVR_PORT_ACTIVE = 1u << 0,
	XVR_PORT_GENERIC = 1u << 1,	/* attached in generic (skb) mode */
};

struct xvr_port {
	__u32 slot;		/* index into xvr_port_stats */
	__u32 flags;
	__u8 mac[6];
	__u16 mtu;
	char name[XVR_NAME_LEN];
	/*
	 * The port's default rule, copied here by user space from xvr_classify
	 * (its {XVR_RULE_DEFAULT, ifindex} entry; 0 if none), so a frame the
	 * port default takes costs no classifier lookup.
	 */
	__u32 default_vr;
	__u32 default_vif;
};

/*
 * xvr_port_idx[ifindex % XVR_PORT_IDX]: a direct-mapped copy of xvr_ports,
 * so that ingress finds a frame's port with one array read instead of a
 * hash lookup. User space keeps it (ports_index_sync); an entry whose
 * ifindex is not the frame's (0: empty, or being rewritten; another port's:
 * two ports share the index) sends ingress to xvr_ports. An entry's port
 * changes only while its ifindex is 0, so a reader that sees its own
 * ifindex reads a port that was whole when it was published.
 */
#define XVR_PORT_IDX		256

struct xvr_port_ent {
	__u32 ifindex;
	__u32 pad;
	struct xvr_port port;
};

/* Routers: xvr_routers[vr_id]. */
enum xvr_mode {
	XVR_MODE_NONE = 0,
	XVR_MODE_XDP = 1,
	XVR_MODE_NETNS = 2,
	XVR_MODE_AFXDP = 3,
	XVR_MODE_CPU = 4,
};

enum xvr_router_flags {
	XVR_ROUTER_ACTIVE = 1u << 0,
};

struct xvr_router {
	__u32 flags;
	__u32 mode;		/* enum xvr_mode */
	char name[XVR_NAME_LEN];
	__u32 fib4_bank;	/* live bank of the IPv4 table (XVR_FIB4_SLOT) */
	/*
	 * Core binding (`router set NAME cpus LIST`): the router's frames are
	 * classified and admitted on the CPU that received them, then handed
	 * through cpumap group cpu_group (0: none, the router runs inline) to
	 * one of its CPUs. The set as configured is in xvr_router_book.
	 */
	__u32 cpu_group;
};

/*
 * Control-plane bookkeeping of a router: xvr_router_book[vr_id], written and
 * read by user space only (no BPF program references the map), so keeping
 * count never rewrites an entry the data path reads.
 */
struct xvr_router_book {
	__u32 routes4;
	__u32 routes6;
	__u32 fib4_groups_used;	/* IPv4 DIR table occupancy, live bank */
	__u32 fib4_groups_max;
	__u64 cpus;		/* `router set cpus`: the set, bit per CPU; 0: unbound */
};

/*
 * CPU groups: one cpumap per distinct CPU set, xvr_cpu_groups[group], so no
 * cpumap queue is shared by two routers with different sets. Group 0 is
 * never used. xvr_cpu_sets[group] lists the set's CPUs for the flow hash.
 * Created by `router set cpus` and freed with the last router using them
 * (the count lives in user space: the routers naming the group).
 */
#define XVR_MAX_CPU_GROUPS	64
#define XVR_MAX_BOUND_CPUS	64	/* CPUs a set may name: 0..63 */
#define XVR_CPUMAP_QSIZE	2048	/* frames queued per target CPU */

struct xvr_cpu_set {
	__u32 count;		/* CPUs in cpus[] */
	__u8 cpus[XVR_MAX_BOUND_CPUS];
	__u32 pad;
};

/*
 * What the receiving CPU hands to the target CPU with the frame, in its XDP
 * metadata (bpf_xdp_adjust_meta): the classification, so the cpumap program
 * need not classify again.
 */
#define XVR_CPU_META_MAGIC	0x78637075	/* "xcpu" */

enum xvr_cpu_meta_flags {
	XVR_CPU_META_PUNT_ADMITTED = 1u << 0,	/* charged to the punt budget already */
};

struct xvr_cpu_meta {
	__u32 magic;
	__u32 vr_id;
	__u32 vif_id;
	__u32 len;		/* the frame's length as the port received it */
	__u32 flags;		/* enum xvr_cpu_meta_flags */
	__u32 pad;
};

/*
 * Per router and CPU (xvr_cpu_stats[vr_id]): frames handed to a cpumap on
 * the receiving CPU, and frames the cpumap program took on the target CPU.
 * Summed over CPUs, steered - arrived is what the cpumap queues lost (or
 * hold in flight, for microseconds). arrived_dropped is there for the
 * books of a benchmark: the device never sees a cpumap program's XDP_DROP.
 */
struct xvr_cpu_counters {
	__u64 steered_packets;
	__u64 steered_bytes;
	__u64 arrived_packets;
	__u64 arrived_bytes;
	__u64 arrived_dropped;	/* of those, dropped by the router's path there (XDP_DROP) */
};

/*
 * Virtual interfaces: xvr_vifs[vif_id]. A VIF is a veth pair: one end in the
 * router's namespace, the other (dev) in the node's, where xvr_egress runs.
 * Frames of the VIF arrive on a port (untagged, or tagged with vlan) and the
 * router's own frames leave through that port.
 */
enum xvr_vif_flags {
	XVR_VIF_ACTIVE = 1u << 0,
	XVR_VIF_SPOOF = 1u << 1,	/* `spoof on`: any source MAC may leave by it */
	XVR_VIF_LINK = 1u << 2,		/* a virtual link's interface (struct xvr_link) */
};

struct xvr_vif {
	__u32 flags;
	__u32 vr_id;
	__u32 port;		/* ifindex of the port */
	__u32 dev;		/* ifindex of the node-side veth end */
	__u32 peer;		/* ifindex of the end inside the router's namespace */
	__u16 vlan;		/* tag on the port side, 0 = untagged */
	__u8 mac[6];		/* the VIF's (the router's) MAC on the port */
	char name[XVR_NAME_LEN];	/* interface name inside the namespace */
};

/*
 * Broadcast and multicast delivery, like macvlan's: xvr_bcast[{port, vlan}]
 * is a devmap (DEVMAP_HASH, key and ifindex the node-side end of a VIF) of
 * every VIF on that port and VLAN, whatever classifies its unicast. A frame
 * with a group destination MAC arriving there is cloned to each (devmap
 * broadcast); the devmap program xvr_bcast_copy runs on each copy and admits
 * and counts it for that VIF's router alone. User space keeps the sets on
 * `vif add`/`vif del`; a set has at least one VIF or does not exist.
 */
#define XVR_BCAST_VIFS		1024	/* VIFs sharing one port and VLAN */
struct xvr_bcast_key {
	__u32 port;		/* ifindex of the port */
	__u16 vlan;		/* outer VLAN id of the frame, 0 = untagged */
	__u16 pad;
};
/*
 * Forwarding engines (AF_XDP, xvr-router): xvr_fes[fe_id]. An engine owns a
 * veth pair: the node-side end (dev, xvr_egress attached) and the engine's
 * end inside the router's namespace (peer), where xvr_xsk redirects every
 * frame into the engine's AF_XDP socket. Ingress spreads an afxdp router's
 * frames over its live engines by the router's distribution policy.
 */
#define XVR_MAX_FES		1024	/* fe id 0 means "no engine" */
#define XVR_MAX_ROUTER_FES	8	/* engines per router */
#define XVR_WRR_SLOTS		64	/* weighted round-robin schedule length */
#define XVR_FE_STALE_NS		(200ull * 1000 * 1000)	/* no heartbeat: down */

enum xvr_fe_flags {
	XVR_FE_ACTIVE = 1u << 0,	/* configured */
};

struct xvr_fe {
	__u32 flags;
	__u32 vr_id;
	__u32 dev;		/* node-side veth end */
	__u32 peer;		/* engine's end, inside the router's namespace */
	__u32 weight;		/* for dist weighted, 1..100 */
	__s32 cpu;		/* -1: any */
	__u32 share;		/* percent of a CPU (cgroup cpu.max), 0: unlimited */
	__u32 pad;
};

enum xvr_dist {
	XVR_DIST_RR = 0,	/* round-robin over live engines */
	XVR_DIST_WEIGHTED = 1,	/* weighted round-robin (PdP's proportional) */
	XVR_DIST_FLOWHASH = 2,	/* 5-tuple hash: a flow stays on one engine */
};

/*
 * The router's engines for ingress: xvr_fe_sets[vr_id]. fes[0..count) are
 * fe ids; wrr[] is the weighted schedule (indexes into fes[]).
 */
struct xvr_fe_set {
	__u32 dist;		/* enum xvr_dist */
	__u32 count;
	__u32 fes[XVR_MAX_ROUTER_FES];
	__u8 wrr[XVR_WRR_SLOTS];
	__u32 wrr_len;
};

/*
 * One engine's live state, a one-element mmapable array handed to that
 * engine alone (xvr_fe_state[fe_id] is the map). The engine writes it in
 * place, no system call; ingress reads heartbeat_ns (CLOCK_MONOTONIC)
 * against the coarse clock (the same base, up to a jiffy behind, so a beat
 * may look up to a jiffy ahead: compared signed) and treats an engine
 * whose beat is XVR_FE_STALE_NS old as down.
 */
struct xvr_fe_state {
	__u64 heartbeat_ns;
	__u64 rx_packets;
	__u64 rx_bytes;
	__u64 tx_packets;
	__u64 tx_bytes;
	__u64 drop_packets;	/* the engine's own drops (plugin verdicts, bad frames) */
	__u64 rx_ring_full;	/* XDP_STATISTICS of the socket */
	__u64 rx_dropped;
	__u64 tx_invalid;
	__u64 fill_empty;	/* fill ring had no frames for the kernel */
	__u64 tx_ring_full;
	__u64 wakeups;		/* sendto/poll calls made */
	__u64 idle_sleeps;
	__u64 restarts;		/* written by the supervisor side */
};

/*
 * Frames between ingress and an engine carry a tag after the MACs: an
 * 802.3 local experimental EtherType, an interface index *inside the
 * router's namespace* (the VIF's peer), and the frame's real EtherType:
 *   dst[6] src[6] 0x88b5 ifindex(be16) proto(be16) payload…
 * Towards the engine, ifindex is the VIF the frame arrived on (0 if none).
 * From the engine, it is the VIF to send by; with XVR_FE_TAG_STACK set the
 * frame is handed to the router's own stack through that VIF instead (how
 * an engine punts ARP, TTL expiry, packets for the router, …). xvr_egress
 * finds the VIF by {engine's router, ifindex}, so an engine can only name
 * its own router's VIFs; it strips the tag and restores the VIF's VLAN.
 */
#define XVR_FE_TAG_PROTO	0x88B5
#define XVR_FE_TAG_LEN		4
#define XVR_FE_TAG_STACK	0x8000	/* flag in the ifindex field */
#define XVR_FE_TAG_IFINDEX	0x7fff

/* Key of xvr_vif_by_peer: a VIF by its router and its in-namespace ifindex. */
struct xvr_vif_peer_key {
	__u32 vr_id;
	__u32 peer;
};

/* Nexthops: xvr_nexthops[nh_id], owned by one router. */
enum xvr_nh_flags {
	XVR_NH_VALID = 1u << 0,
	XVR_NH_LOCAL = 1u << 1,		/* the router's own address: punt */
	XVR_NH_UNRESOLVED = 1u << 2,	/* no link-layer address yet: punt */
	XVR_NH_BLACKHOLE = 1u << 3,	/* drop, counted */
	XVR_NH_GROUP = 1u << 4,		/* multipath: members in xvr_nh_groups[id] */
	XVR_NH_LINK = 1u << 5,		/* nexthop is a virtual link: ifindex is its dev */
};

/*
 * A multipath nexthop's paths: xvr_nh_groups[nh_id] for a nexthop with
 * XVR_NH_GROUP. A flow hash over addresses, protocol and ports picks one
 * member, so a flow keeps its path. Members are plain nexthops of the same
 * router (never groups themselves).
 */
struct xvr_nh_group {
	__u32 count;		/* 1..XVR_MAX_ECMP */
	__u32 members[XVR_MAX_ECMP];
};

struct xvr_nexthop {
	__u32 ifindex;		/* egress port */
	__u16 vr_id;		/* owner; a lookup from another router is refused */
	__u16 flags;		/* enum xvr_nh_flags */
	__u8 dmac[6];
	__u8 smac[6];
	union {
		__u16 vlan;	/* egress VLAN id, 0 = untagged */
		__u16 link_id;	/* XVR_NH_LINK: the link's id, so encapsulation
				 * needs no lookup by device (0: look it up) */
	};
	__u16 pad;
};

/*
 * A nexthop's control-plane bookkeeping: xvr_nh_book[nh_id], written and
 * read by user space only, so counting references never rewrites the
 * entry ingress reads.
 */
struct xvr_nh_book {
	__u32 refcnt;		/* routes (and groups) using it */
	__u8 family;		/* AF_INET / AF_INET6 of the gateway, 0 = none */
	__u8 pad[3];
	__u8 gw[16];		/* gateway address, for listings and fibsync */
};

/* Classifier rules. Most specific kind first; the ingress tries them in this order. */
enum xvr_rule_kind {
	XVR_RULE_MAC = 0,	/* destination MAC */
	XVR_RULE_VLAN = 1,	/* outer VLAN id */
	XVR_RULE_UDP = 2,	/* UDP destination port */
	XVR_RULE_PREFIX = 3,	/* destination prefix (xvr_cls_prefix) */
	XVR_RULE_DEFAULT = 4,	/* port default */
	XVR_RULE_GRE = 5,	/* GRE key (virtual links) */
	XVR_RULE_KIND_MAX,
};

/* Exact-match kinds; ifindex 0 matches any port. Unused fields are zero. */
struct xvr_cls_key {
	__u32 ifindex;
	__u8 kind;		/* enum xvr_rule_kind */
	__u8 pad;
	__u16 vlan;		/* XVR_RULE_VLAN: host order */
	__u16 port;		/* XVR_RULE_UDP: host order */
	__u8 mac[6];		/* XVR_RULE_MAC */
	__u32 gre_key;		/* XVR_RULE_GRE: host order */
};

/*
 * Prefix kind: the trie key is {ifindex, IPv6 address}; IPv4 prefixes are
 * stored v4-mapped (::ffff:0:0/96). prefixlen counts the 32 ifindex bits, so a
 * lookup tries the port's own rules first and then ifindex 0 (any port).
 */
struct xvr_cls_prefix_key {
	__u32 prefixlen;
	__u32 ifindex;		/* big-endian, so it forms the prefix's top bits */
	__u8 addr[16];
};

/*
 * IPv4 prefix rules again, by exact {port, length, masked address}: a copy
 * of xvr_cls_prefix's IPv4 rules that user space keeps (rules_refresh_kinds),
 * so that an IPv4 frame costs one hash lookup per length present, not a
 * walk down the trie.
 */
struct xvr_cls4_key {
	__u32 ifindex;		/* host order; 0: any port */
	__u32 plen;
	__u32 addr;		/* network order, bits past plen zero */
};

struct xvr_cls_val {
	__u32 vr_id;
	__u32 vif;		/* virtual interface, 0 = none */
};

/*
 * Why a frame was dropped. Append-only: a retired value is never reused.
 * Every XDP_DROP increments exactly one of these.
 */
enum xvr_drop_reason {
	XVR_DROP_UNSPEC = 0,
	XVR_DROP_BAD_L2 = 1,		/* truncated Ethernet or VLAN header */
	XVR_DROP_VLAN_DEPTH = 2,	/* more than XVR_MAX_VLANS tags */
	XVR_DROP_BAD_IP = 3,		/* truncated or inconsistent IP header */
	XVR_DROP_BAD_CSUM = 4,		/* IPv4 header checksum wrong */
	XVR_DROP_MISS_POLICY = 5,	/* unclassified, node policy drop */
	XVR_DROP_ROUTER_DOWN = 6,	/* classified to a missing router */
	XVR_DROP_BLACKHOLE = 7,		/* blackhole route */
	XVR_DROP_NO_TXPORT = 8,		/* nexthop port not in the devmap */
	XVR_DROP_BAD_NEXTHOP = 9,	/* nexthop missing or of another router */
	XVR_DROP_ADJUST = 10,		/* header push/pop failed */
	XVR_DROP_MODE = 11,		/* router mode has no data path yet */
	XVR_DROP_BAD_L4 = 12,		/* UDP/TCP/GRE header cut short */
	XVR_DROP_NO_VIF = 13,		/* netns router without a VIF for the frame */
	XVR_DROP_VIF_DOWN = 14,		/* egress from a veth that is no active VIF */
	XVR_DROP_FE_DOWN = 15,		/* afxdp router without a live engine */
	XVR_DROP_FE_TAG = 16,		/* engine frame: no tag, or a VIF not its router's */
	XVR_DROP_FE_BAD_LEN = 17,	/* engine frame shorter than its headers or over the MTU */
	XVR_DROP_EGR_VLAN = 18,		/* tenant frame carries its own 802.1Q/802.1ad tag */
	XVR_DROP_EGR_SRC_MAC = 19,	/* tenant frame with a source MAC not its router's */
	XVR_DROP_POLICED = 20,		/* over the router's configured limit */
	XVR_DROP_SHED = 21,		/* over the router's fair share under overload */
	XVR_DROP_PUNT_POLICED = 22,	/* over the router's control-plane punt budget */
	XVR_DROP_GRE_KEY = 23,		/* EGRE frame with a key no link has */
	XVR_DROP_GRE_REMOTE = 24,	/* EGRE frame from an address not the link's remote */
	XVR_DROP_GRE_FLAGS = 25,	/* GRE checksum, sequence, routing or version set */
	XVR_DROP_GRE_PROTO = 26,	/* GRE for a link, but not transparent Ethernet */
	XVR_DROP_GRE_TRUNC = 27,	/* EGRE frame whose inner Ethernet is cut short */
	XVR_DROP_LINK_NEIGH = 28,	/* link's underlay next hop unresolved */
	XVR_DROP_LINK_DOWN = 29,	/* frame for a link that is gone or not ready */
	XVR_DROP_MARTIAN = 30,		/* martian source address */
	XVR_DROP_TX_MTU = 31,		/* larger than the egress device's MTU, cannot punt */
	XVR_DROP_CPU_HANDOFF = 32,	/* a bound router's frame its cpumap did not take */
	/* 33..39: reserved for the next features; append above XVR_DROP_MAX. */
	XVR_DROP_MAX = 40,
};

/* Why a frame was handed to the router's control plane instead of forwarded. */
enum xvr_punt_reason {
	XVR_PUNT_UNSPEC = 0,
	XVR_PUNT_NON_IP = 1,		/* ARP and every other EtherType */
	XVR_PUNT_TTL = 2,		/* TTL or hop limit <= 1 */
	XVR_PUNT_NO_ROUTE = 3,
	XVR_PUNT_UNRESOLVED = 4,	/* nexthop without link-layer address */
	XVR_PUNT_LOCAL = 5,		/* addressed to the router */
	XVR_PUNT_IP_OPTIONS = 6,	/* IPv4 options or IPv6 hop-by-hop */
	XVR_PUNT_MCAST = 7,		/* multicast, broadcast, link-local */
	XVR_PUNT_MTU = 8,		/* larger than the egress MTU */
	XVR_PUNT_LINK_MTU = 9,		/* larger than a virtual link's MTU */
	/* 10..15: reserved for the next features. */
	XVR_PUNT_MAX = 16,
};

/* Per-CPU counters, one block per router (xvr_vr_stats) and per port (xvr_port_stats). */
struct xvr_counters {
	__u64 rx_packets;
	__u64 rx_bytes;
	__u64 fwd_packets;
	__u64 fwd_bytes;
	__u64 punt_packets;
	__u64 punt_bytes;
	__u64 drop_packets;
	__u64 drop_bytes;
	__u64 miss_packets;	/* ports only: unclassified, passed to the host */
	__u64 miss_bytes;
	__u64 tx_packets;	/* routers: sent by the router's own stack */
	__u64 tx_bytes;
	__u64 punt[XVR_PUNT_MAX];
	__u64 drop[XVR_DROP_MAX];
};

/*
 * Per-router limits: xvr_limits[vr_id], written by `xvr limit`, checked by
 * ingress right after classification. Each limit is a token bucket in the
 * form of GCRA (the virtual-scheduling algorithm of ITU-T I.371): one word,
 * the theoretical arrival time (tat) of the next conforming frame. A frame
 * conforms if tat is at most tolerance ahead of now; it then moves tat on by
 * its cost. Over-limit frames only read the word, so a flood costs no
 * writes, and a conforming frame updates it with one compare-and-swap, so
 * the bucket is exact with the router's frames arriving on several CPUs at
 * once (per-CPU buckets would need a refill protocol between CPUs and let a
 * router burst on each of them). A CPU that finds a frame bucket with room
 * may take a few frames' worth at once and spend them within the coarse
 * clock's tick (bpf/policer.h): still frames the bucket granted.
 *
 * Times are in 1/16 ns (XVR_BUCKET_SHIFT) so that a frame's cost at a few
 * Mpps keeps its fraction: 2^60 ns of uptime still fit.
 */
#define XVR_BUCKET_SHIFT	4
#define XVR_BUCKET_BYTE_SHIFT	12	/* byte_cost: 1/16 ns << 12 per byte */
#define XVR_LIMIT_MAX_PPS	1000000000ull
#define XVR_LIMIT_MAX_BPS	1000000000000ull	/* 1 Tbit/s */
#define XVR_LIMIT_FRAME_BYTES	1518	/* bps: a burst of N frames is N of these */
#define XVR_LIMIT_MIN_BPS	(8ull * XVR_LIMIT_FRAME_BYTES)	/* one frame a second */
#define XVR_LIMIT_MAX_BURST	1000000
#define XVR_LIMIT_MAX_BURST_S	60	/* and no more than this many seconds of the rate */
#define XVR_LIMIT_MIN_BURST	32	/* default burst: 20 ms of the rate, at least this */
#define XVR_LIMIT_MAX_PUNT_PPS	1000000
/* Punts without a configured budget: a small bucket all the same. */
#define XVR_PUNT_DEFAULT_PPS	10000
#define XVR_PUNT_DEFAULT_BURST	1000

struct xvr_bucket {
	__u64 tat;		/* written by ingress (compare-and-swap) */
	__u64 frame_cost;	/* 1/16 ns per frame; 0 with byte_cost 0: no limit */
	__u64 byte_cost;	/* 1/16 ns per byte, << XVR_BUCKET_BYTE_SHIFT */
	__u64 tolerance;	/* 1/16 ns: how far tat may run ahead (the burst) */
};

enum xvr_limit_flags {
	XVR_LIMIT_SET = 1u << 0,	/* `xvr limit set` configured this router */
};

struct xvr_limit {
	struct xvr_bucket pps;	/* frames of the router (all but control frames) */
	struct xvr_bucket bps;	/* their bytes */
	struct xvr_bucket punt;	/* frames for the router's namespace; 0 cost: default */
	/* As configured, for listings; ingress reads only the buckets. */
	__u64 rate_pps;
	__u64 rate_bps;
	__u32 burst;
	__u32 punt_pps;
	__u32 flags;
	__u32 pad;
};

/*
 * Fair sharing under overload (docs/fair-sharing.md): xvr_fair[vr_id].
 * weight is the router's claim on the forwarding CPUs when they saturate
 * (`xvr router set R weight W`; 0 reads as the default 1). adm is the
 * router's admission bucket, a GCRA bucket like a limit's (see above), whose
 * rate the fair-sharing controller (`xvr fair`) sets from measured demand
 * and cost; frame_cost 0: no admission, nothing shed. Ingress checks it
 * right after the router's limits; a refused frame is dropped as
 * XVR_DROP_SHED. Unlike a limit's, adm runs on the coarse clock (the last
 * tick's time): its tolerance must cover at least a jiffy, or the bucket
 * loses credit at every tick (bpf/fair.h). The controller gives it
 * XVR_FAIR_BURST_NS of the rate, and no less than XVR_FAIR_TOL_JIFFIES
 * jiffies (the coarse clock's resolution) nor XVR_LIMIT_MIN_BURST frames.
 */
#define XVR_WEIGHT_DEFAULT	1
#define XVR_WEIGHT_MAX		1000
#define XVR_FAIR_BURST_NS	(20ull * 1000 * 1000)
#define XVR_FAIR_TOL_JIFFIES	3

struct xvr_fair {
	struct xvr_bucket adm;	/* written by `xvr fair` (costs), ingress (tat) */
	__u64 rate_pps;		/* adm's rate as set, for listings; 0: none */
	__u32 weight;		/* 1..XVR_WEIGHT_MAX, 0: XVR_WEIGHT_DEFAULT */
	__u32 pad;
};

/*
 * Sampled per-router processing cost, per CPU: xvr_cost[vr_id]. Ingress
 * times about one frame in XVR_COST_SAMPLE_MEAN of each router (a random
 * gap, so no traffic pattern lines up with it) with bpf_ktime_get_ns around
 * the router's path (FIB, rewrite, redirect; or delivery to the namespace
 * or engine): ns is the sum of those times, samples their count. gap is the
 * data path's own countdown to the next sample.
 */
#define XVR_COST_SAMPLE_MEAN	32	/* gaps are uniform in 1..2*MEAN-1 */

struct xvr_cost {
	__u64 ns;
	__u64 samples;
	__u32 gap;
	__u32 pad;
};

/*
 * Virtual links (EGRE): a tenant's Ethernet carried in GRE (protocol
 * 0x6558) with a 32-bit key between nodes. A link is a VIF with
 * XVR_VIF_LINK: its veth end in the router's namespace is the link's
 * interface, its node-side end (dev) runs xvr_egress, which encapsulates
 * what the tenant sends. The link's id is its VIF id. With one remote the
 * link is point-to-point ("shortbridge"); with several it is multipoint
 * ("bridge"): unicast to the remote where the destination MAC was learned,
 * everything else to every remote.
 */
#define XVR_LINK_MAX_REMOTES	8
#define XVR_LINK_FDB_SIZE	1024	/* MACs learned per multipoint link */
#define XVR_LINK_FDB_AGE_NS	(300ull * 1000 * 1000 * 1000)
/* Outer IPv4 (20) and GRE with key (8), plus the inner Ethernet header (14):
 * the link's MTU is the underlay's minus this. */
#define XVR_EGRE_OVERHEAD	42
#define XVR_EGRE_DEFAULT_TTL	64

enum xvr_link_flags {
	XVR_LINK_ACTIVE = 1u << 0,
	XVR_LINK_MULTI = 1u << 1,	/* more than one remote: learn and flood */
};

/* xvr_vlinks[link id]. Addresses in network order, key in host order. */
struct xvr_link {
	__u32 flags;
	__u32 vr_id;
	__u32 key;
	__be32 local;			/* the node's underlay address */
	__be32 remote[XVR_LINK_MAX_REMOTES];
	__u32 nremotes;
	__u32 dev;			/* node-side veth end (the VIF's dev) */
	__u32 port;			/* underlay port the route must use; 0 = any */
	__u16 mtu;			/* IP MTU of the link's interface */
	__u8 ttl;			/* outer TTL */
	__u8 pad;
	char name[XVR_NAME_LEN];
};

/* xvr_vlink_keys: the link a GRE frame is for, by its outer destination and key. */
struct xvr_link_key {
	__be32 local;
	__u32 key;
};

/* A learned MAC of a multipoint link: behind which remote, last seen when. */
struct xvr_fdb_key {
	__u8 mac[6];
	__u16 pad;
};

struct xvr_fdb_entry {
	__be32 remote;
	__u32 pad;
	__u64 seen_ns;
};

/*
 * Packet trace (xvr trace). While a trace runs, each program's global
 * trace_cfg (in its .bss, written by xvr trace) has on = 1 and the filters;
 * every frame booked with a verdict that passes them is copied, its first
 * XVR_TRACE_SNAP bytes, into the xvr_trace ring buffer. Off, a frame costs
 * one load of trace_cfg.on.
 */
#define XVR_TRACE_SNAP		256
#define XVR_TRACE_RING_SIZE	(1u << 20)

enum xvr_trace_verdict {
	XVR_TRACE_FWD = 1,	/* forwarded (or delivered, netns/afxdp) */
	XVR_TRACE_PUNT = 2,	/* reason: enum xvr_punt_reason */
	XVR_TRACE_DROP = 3,	/* reason: enum xvr_drop_reason */
	XVR_TRACE_PASS = 4,	/* unclassified, passed to the port's host stack */
	XVR_TRACE_TX = 5,	/* egress: sent out by a router's stack or engine */
	XVR_TRACE_VERDICT_MAX,
};

struct xvr_trace_cfg {
	__u32 on;
	__u32 vr_id;		/* 0: any router (and unclassified frames) */
	__u32 ifindex;		/* 0: any device the frame arrived on */
	__u32 verdict;		/* 0: any; else only this verdict */
	__u32 reason;		/* with verdict punt or drop: only this reason + 1; 0 any */
};

struct xvr_trace_rec {
	__u64 ts_ns;		/* bpf_ktime_get_ns() */
	__u32 ifindex;		/* the device the frame arrived on */
	__u32 vr_id;		/* 0: not classified to a router */
	__u16 verdict;		/* enum xvr_trace_verdict */
	__u16 reason;
	__u16 len;		/* the frame's length at the verdict */
	__u16 caplen;		/* bytes in data[] */
	__u8 data[XVR_TRACE_SNAP];
};

/*
 * A link's underlay next hop as bpf_fib_lookup last gave it, per CPU
 * (xvr_vlink_nh[link id]): reused for XVR_LINK_NH_CACHE_NS, so a route or
 * neighbour change reaches the link within that time and the lookup costs
 * once per interval, not per frame.
 */
#define XVR_LINK_NH_CACHE_NS	(100ull * 1000 * 1000)

struct xvr_link_nh {
	__be32 remote;
	__u32 ifindex;
	__u64 expires_ns;
	__u8 dmac[6];
	__u8 smac[6];
	__u16 mtu;
	__u16 pad;
};

/*
 * Layout version of the pinned state: every map key and value above. Bump
 * it with any change to them; 'xvr node up' refuses pins of another
 * version (map reuse alone compares only sizes). Pinned by user space as
 * the one-entry array <pin root>/abi.
 */
#define XVR_ABI_VERSION		3

#endif /* XVR_XVR_H */
