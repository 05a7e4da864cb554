// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Traffic generator: run by BPF_PROG_TEST_RUN with BPF_F_TEST_XDP_LIVE_FRAMES
 * on the sending veth. Every frame returns XDP_TX, which the test-run code
 * turns into a redirect out of ingress_ifindex, i.e. into the veth's peer.
 *
 * Live-frame pages are recycled through a page pool and keep whatever the
 * receivers wrote into them (a router rewrites MACs, TTL, checksum), so the
 * program rewrites every header byte of every frame from a template instead
 * of patching only the fields it varies.
 *
 * Pacing happens here too: each BPF_PROG_TEST_RUN call sets up and tears
 * down a page pool, which took ~25 ms per call on the 6.18 test machine
 * however few frames it sent, so user space cannot pace with many small
 * calls. It makes one long call
 * and, at a set rate, the program returns XDP_DROP (recycled, not sent, not
 * counted) for every frame that is not yet due.
 *
 * user/tools/pktgen.c fills the template and the load-time settings, and
 * reads pktgen_stats; the payload layout is shared with bpf/tools/xvr_sink.bpf.c.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define ETH_P_IP		0x0800
#define ETH_P_IPV6		0x86DD
#define PKTGEN_MAGIC		0x78767270	/* "xvrp" */
#define PKTGEN_HDR4_LEN		42	/* Ethernet + IPv4 (no options) + UDP */
#define PKTGEN_HDR6_LEN		62	/* Ethernet + IPv6 + UDP */
#define PKTGEN_TMPL_LEN		64

/* UDP payload of every generated frame; the sink reads it. */
struct pktgen_payload {
	__be32 magic;
	__be32 seq;		/* per-CPU frame number + 1; 0 = "no sequence" */
	__u64 ts_ns;		/* bpf_ktime_get_ns() when the frame was written */
} __attribute__((packed));

/* Per-CPU generator state and counters (user space reads and sums them). */
struct pktgen_stats {
	__u64 seq;		/* frames written on this CPU */
	__u64 tx_packets;	/* frames the program returned XDP_TX for */
	__u64 tx_bytes;
	__u64 idle;		/* frames dropped because none was due */
	__u64 start_ns;		/* pacing: when this CPU's first frame went */
	__u64 next_fp;		/* pacing: next due, ns since start << 10 */
};

struct pktgen_dst {
	__u8 addr[16];		/* IPv4 in the first four bytes */
	__u8 mac[6];		/* destination MAC, if has_mac */
	__u8 has_mac;
	__u8 pad;
};

/* Written by the program, read by xvr-pktgen at the end of a run. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pktgen_stats);
} pktgen_stats SEC(".maps");

/* Destination addresses, written by xvr-pktgen before the run (-f FILE). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);		/* resized by user space before load */
	__type(key, __u32);
	__type(value, struct pktgen_dst);
} pktgen_dsts SEC(".maps");

/* Load-time settings. */
const volatile __u32 pktgen_family = 4;		/* 4 or 6 */
const volatile __u32 pktgen_nr_flows = 1;	/* UDP source ports sport..+n-1 */
const volatile __u32 pktgen_nr_dsts;		/* 0: keep the template's */
const volatile __u16 pktgen_sport = 9;		/* host order */
const volatile __u64 pktgen_gap_fp;		/* ns between frames << 10; 0: no pacing */
const volatile __u64 pktgen_limit;		/* frames per CPU; 0: no limit */

#define PKTGEN_FP_SHIFT		10
/* Credit kept after a stall (the thread was preempted): 1 ms, not a burst. */
#define PKTGEN_MAX_LAG_FP	(1000000ull << PKTGEN_FP_SHIFT)

/*
 * The header template, in .bss rather than .rodata: the compiler may fold
 * reads of a const array to its (zero) initializer. The checksum bases are
 * one's-complement sums, in memory order, of everything the checksum covers
 * except the fields the program varies (those are zero in the base).
 */
struct pktgen_template {
	__u8 hdr[PKTGEN_TMPL_LEN];
	__u32 ip4_csum_base;	/* IPv4 header without daddr */
	__u32 udp6_csum_base;	/* pseudo-header + UDP, without daddr/sport/seq/ts */
} pktgen_tmpl;

static __always_inline __u16 csum_fold(__u64 sum)
{
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)sum;
}

/* Sum of the 16-bit words of a 32-bit memory word, in memory order. */
static __always_inline __u64 csum_word(__u32 w)
{
	return (w & 0xffff) + (w >> 16);
}

/* Returns the one's-complement sum of what it wrote but the magic. */
static __always_inline __u64 pktgen_payload_fill(struct pktgen_payload *pl,
						 __u64 seq)
{
	__be32 seq_be = bpf_htonl((__u32)seq + 1);
	__u64 ts = bpf_ktime_get_ns();

	pl->magic = bpf_htonl(PKTGEN_MAGIC);
	pl->seq = seq_be;
	pl->ts_ns = ts;
	return csum_word(seq_be) + csum_word((__u32)ts) + csum_word(ts >> 32);
}

static __always_inline int pktgen_fill4(void *data, void *data_end, __u64 seq)
{
	struct pktgen_payload *pl = data + PKTGEN_HDR4_LEN;
	struct iphdr *iph = data + sizeof(struct ethhdr);
	struct udphdr *udph = (void *)(iph + 1);
	__u64 sum;

	if ((void *)(pl + 1) > data_end)
		return -1;

	__builtin_memcpy(data, pktgen_tmpl.hdr, PKTGEN_HDR4_LEN);
	if (pktgen_nr_dsts) {
		__u32 idx = seq % pktgen_nr_dsts;
		struct pktgen_dst *dst;

		dst = bpf_map_lookup_elem(&pktgen_dsts, &idx);
		if (dst) {
			__builtin_memcpy(&iph->daddr, dst->addr, 4);
			if (dst->has_mac)
				__builtin_memcpy(data, dst->mac, 6);
		}
	}
	sum = pktgen_tmpl.ip4_csum_base + csum_word(iph->daddr);
	iph->check = ~csum_fold(sum);

	if (pktgen_nr_flows > 1)
		udph->source = bpf_htons(pktgen_sport + seq % pktgen_nr_flows);
	/* IPv4 UDP checksum 0 means "none"; the template holds 0. */
	pktgen_payload_fill(pl, seq);
	return 0;
}

static __always_inline int pktgen_fill6(void *data, void *data_end, __u64 seq)
{
	struct pktgen_payload *pl = data + PKTGEN_HDR6_LEN;
	struct ipv6hdr *ip6h = data + sizeof(struct ethhdr);
	struct udphdr *udph = (void *)(ip6h + 1);
	__u32 *daddr = (__u32 *)&ip6h->daddr;
	__u64 sum;
	__u16 csum;

	if ((void *)(pl + 1) > data_end)
		return -1;

	__builtin_memcpy(data, pktgen_tmpl.hdr, PKTGEN_HDR6_LEN);
	if (pktgen_nr_dsts) {
		__u32 idx = seq % pktgen_nr_dsts;
		struct pktgen_dst *dst;

		dst = bpf_map_lookup_elem(&pktgen_dsts, &idx);
		if (dst) {
			__builtin_memcpy(daddr, dst->addr, 16);
			if (dst->has_mac)
				__builtin_memcpy(data, dst->mac, 6);
		}
	}
	if (pktgen_nr_flows > 1)
		udph->source = bpf_htons(pktgen_sport + seq % pktgen_nr_flows);
	sum = pktgen_payload_fill(pl, seq);

	/* UDP over IPv6 must carry a checksum (RFC 8200 8.1). */
	sum += pktgen_tmpl.udp6_csum_base;
	sum += csum_word(daddr[0]) + csum_word(daddr[1]) +
	       csum_word(daddr[2]) + csum_word(daddr[3]);
	sum += udph->source;
	csum = ~csum_fold(sum);
	udph->check = csum ? csum : 0xffff;
	return 0;
}

/* True when the next frame is due; moves the schedule one frame on. */
static __always_inline bool pktgen_due(struct pktgen_stats *st)
{
	__u64 now = bpf_ktime_get_ns(), now_fp;

	if (!st->start_ns)
		st->start_ns = now;
	now_fp = (now - st->start_ns) << PKTGEN_FP_SHIFT;
	if (now_fp < st->next_fp)
		return false;
	if (now_fp - st->next_fp > PKTGEN_MAX_LAG_FP)
		st->next_fp = now_fp - PKTGEN_MAX_LAG_FP;
	st->next_fp += pktgen_gap_fp;
	return true;
}

static __always_inline int pktgen_frame(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct pktgen_stats *st;
	__u32 key = 0;
	int err;

	st = bpf_map_lookup_elem(&pktgen_stats, &key);
	if (!st)
		return XDP_ABORTED;

	if ((pktgen_limit && st->tx_packets >= pktgen_limit) ||
	    (pktgen_gap_fp && !pktgen_due(st))) {
		st->idle++;
		return XDP_DROP;
	}

	if (pktgen_family == 6)
		err = pktgen_fill6(data, data_end, st->seq);
	else
		err = pktgen_fill4(data, data_end, st->seq);
	if (err)
		return XDP_ABORTED;	/* user space sizes frames; cannot happen */

	st->seq++;
	st->tx_packets++;
	st->tx_bytes += data_end - data;
	return XDP_TX;
}

SEC("xdp")
int xvr_pktgen(struct xdp_md *ctx)
{
	return pktgen_frame(ctx);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
