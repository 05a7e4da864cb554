// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Traffic sink: attached to the receiving end of a benchmark path, counts
 * every frame and drops it. The counts are exact (per-CPU, no sampling), so
 * a benchmark can balance sent = delivered + counted drops.
 *
 * Frames that carry xvr-pktgen's payload (bpf/tools/xvr_pktgen.bpf.c; trafgen
 * configs written by scripts/bench.sh carry it too) are counted apart from
 * stray frames, and their sequence numbers and timestamps give reordering,
 * loss and one-way latency (both ends read the same CLOCK_MONOTONIC).
 *
 * One-way latency goes into a log-linear histogram: values below 16 ns one
 * bucket per nanosecond, above that 16 buckets per power of two (HDR
 * histogram style, 2^4 sub-buckets), so a bucket is at most 1/16 (6.25%)
 * of its lower bound wide. 512 buckets reach 2^35 ns; samples are capped at
 * SINK_LAT_MAX_NS (10 s, bucket 495). Frames without a usable timestamp (0,
 * ahead of the clock, older than the cap) are counted apart.
 *
 * With sink_pass_untagged set at load time (xvr-sink -u attach), frames
 * without the tag go to the stack (XDP_PASS / TC_ACT_OK) instead of being
 * dropped: a latency benchmark pings through the DUT beside the generated
 * load. They are counted in "passed", never as delivered.
 *
 * A frame in EGRE (GRE with key, transparent Ethernet) or VXLAN (UDP 4789)
 * over IPv4 is judged by its inner frame: the virtual-link and bridge-vxlan
 * points deliver the generator's frames encapsulated.
 *
 * Written by this program, read by user/tools/sink.c.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define TC_ACT_SHOT		2
#define ETH_P_IP		0x0800
#define ETH_P_IPV6		0x86DD
#define IPPROTO_UDP_NR		17
#define IPPROTO_GRE_NR		47
#define GRE_KEY_FLAG		0x2000
#define ETH_P_TEB		0x6558
#define VXLAN_PORT		4789
#define VXLAN_HLEN		8
#define PKTGEN_MAGIC		0x78767270	/* "xvrp" */
/* A frame further back than this starts a new sequence: a new run. */
#define SINK_REORDER_WINDOW	65536
#define SINK_LAT_MAX_NS		(10ull * 1000 * 1000 * 1000) /* sanity cap */
#define TC_ACT_OK		0
/* Latency histogram: 2^SINK_LAT_SUB_BITS sub-buckets per power of two. */
#define SINK_LAT_SUB_BITS	4
#define SINK_LAT_SUB		(1 << SINK_LAT_SUB_BITS)
#define SINK_LAT_BUCKETS	512

struct pktgen_payload {
	__be32 magic;
	__be32 seq;
	__u64 ts_ns;
} __attribute__((packed));

/* Keep in sync with struct sink_stats in user/tools/sink.c. */
struct sink_stats {
	__u64 packets;		/* every frame */
	__u64 bytes;
	__u64 tagged_packets;	/* frames with the pktgen payload */
	__u64 tagged_bytes;
	__u64 seq_reorder;	/* tagged frames older than one seen before */
	__u64 seq_gap;		/* sequence numbers skipped (lost upstream) */
	__u64 lat_samples;
	__u64 lat_sum_ns;
	__u64 lat_max_ns;
	__u32 last_seq;
	__u32 pad;
	__u64 lat_min_ns;	/* 0: no sample yet */
	__u64 lat_no_ts;	/* tagged frames with timestamp 0 (trafgen) */
	__u64 lat_future;	/* timestamp ahead of the sink's clock */
	__u64 lat_stale;	/* older than SINK_LAT_MAX_NS */
	__u64 passed;		/* untagged frames passed to the stack */
	__u64 match_packets;	/* tagged frames to sink_match_daddr/sink_match_mask */
	__u64 lat_hist[SINK_LAT_BUCKETS];
};

/* Load-time setting: hand untagged frames to the stack instead of dropping. */
const volatile __u32 sink_pass_untagged;
/*
 * Load-time setting: tagged IPv4 frames whose destination is in this prefix
 * (network byte order) are also counted in match_packets, so one sink tells
 * two flows apart (the isolation benchmark's victim router). Mask 0: off.
 */
const volatile __be32 sink_match_daddr;
const volatile __be32 sink_match_mask;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sink_stats);
} sink_stats SEC(".maps");

/* The inner Ethernet frame of an EGRE or VXLAN frame over IPv4, else data. */
static __always_inline void *sink_decap(void *data, void *data_end)
{
	struct ethhdr *eth = data;
	struct iphdr *iph = (void *)(eth + 1);

	if ((void *)(iph + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP) ||
	    iph->ihl != 5)
		return data;
	if (iph->protocol == IPPROTO_GRE_NR) {
		__be16 *gre = (void *)(iph + 1);	/* flags, protocol, 32-bit key */

		if ((void *)(gre + 4) > data_end || gre[0] != bpf_htons(GRE_KEY_FLAG) ||
		    gre[1] != bpf_htons(ETH_P_TEB))
			return data;
		return gre + 4;
	}
	if (iph->protocol == IPPROTO_UDP_NR) {
		struct udphdr *udph = (void *)(iph + 1);

		if ((void *)(udph + 1) + VXLAN_HLEN > data_end ||
		    udph->dest != bpf_htons(VXLAN_PORT))
			return data;
		return (void *)(udph + 1) + VXLAN_HLEN;
	}
	return data;
}

/* The pktgen payload of a UDP frame, or NULL. No VLANs, no IPv6 ext headers. */
static __always_inline struct pktgen_payload *sink_payload(void *data,
							   void *data_end, bool *match)
{
	struct ethhdr *eth;

	data = sink_decap(data, data_end);
	eth = data;
	struct pktgen_payload *pl;
	struct udphdr *udph;

	if ((void *)(eth + 1) > data_end)
		return NULL;

	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *iph = (void *)(eth + 1);

		if ((void *)(iph + 1) > data_end)
			return NULL;
		if (iph->protocol != IPPROTO_UDP_NR || iph->ihl < 5)
			return NULL;
		*match = sink_match_mask &&
			 (iph->daddr & sink_match_mask) == sink_match_daddr;
		udph = (void *)iph + iph->ihl * 4;
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6h = (void *)(eth + 1);

		if ((void *)(ip6h + 1) > data_end)
			return NULL;
		if (ip6h->nexthdr != IPPROTO_UDP_NR)
			return NULL;
		udph = (void *)(ip6h + 1);
	} else {
		return NULL;
	}

	pl = (void *)(udph + 1);
	if ((void *)(pl + 1) > data_end)
		return NULL;
	if (pl->magic != bpf_htonl(PKTGEN_MAGIC))
		return NULL;
	return pl;
}

/* floor(log2(v)) for v > 0, 0 for v == 0. */
static __always_inline __u32 sink_log2(__u64 v)
{
	__u32 r = 0;

	if (v >> 32) { v >>= 32; r += 32; }
	if (v >> 16) { v >>= 16; r += 16; }
	if (v >> 8) { v >>= 8; r += 8; }
	if (v >> 4) { v >>= 4; r += 4; }
	if (v >> 2) { v >>= 2; r += 2; }
	if (v >> 1) r += 1;
	return r;
}

/*
 * Histogram bucket of a latency in ns: v itself below 2^SINK_LAT_SUB_BITS,
 * else (msb - SUB_BITS + 1) * SUB + the SUB_BITS bits below the msb.
 * user/tools/sink.c inverts this (lat_bucket_lo).
 */
static __always_inline __u32 sink_lat_bucket(__u64 v)
{
	__u32 msb = sink_log2(v), idx;

	if (msb < SINK_LAT_SUB_BITS)
		return v;
	idx = (msb - SINK_LAT_SUB_BITS + 1) * SINK_LAT_SUB +
	      ((v >> (msb - SINK_LAT_SUB_BITS)) & (SINK_LAT_SUB - 1));
	return idx < SINK_LAT_BUCKETS ? idx : SINK_LAT_BUCKETS - 1;
}

static __always_inline void sink_lat(struct sink_stats *st, __u64 ts)
{
	__u64 now, lat;

	if (!ts) {
		st->lat_no_ts++;
		return;
	}
	now = bpf_ktime_get_ns();
	if (now < ts) {
		st->lat_future++;
		return;
	}
	lat = now - ts;
	if (lat >= SINK_LAT_MAX_NS) {
		st->lat_stale++;
		return;
	}
	st->lat_samples++;
	st->lat_sum_ns += lat;
	if (lat > st->lat_max_ns)
		st->lat_max_ns = lat;
	if (!st->lat_min_ns || lat < st->lat_min_ns)
		st->lat_min_ns = lat;
	st->lat_hist[sink_lat_bucket(lat) & (SINK_LAT_BUCKETS - 1)]++;
}

static __always_inline void sink_track(struct sink_stats *st,
				       struct pktgen_payload *pl)
{
	__u32 seq = bpf_ntohl(pl->seq);
	__u64 ts = pl->ts_ns;

	/* trafgen frames carry seq 0 and ts 0: counted, not tracked. */
	if (seq) {
		__s32 delta = (__s32)(seq - st->last_seq);

		if (!st->last_seq || delta < -SINK_REORDER_WINDOW) {
			/* first frame, or a new generator run restarted at 1 */
			st->last_seq = seq;
		} else if (delta <= 0) {
			st->seq_reorder++;
		} else {
			st->seq_gap += delta - 1;
			st->last_seq = seq;
		}
	}
	sink_lat(st, ts);
}

/* Counts the frame; true if it carries the tag (or the sink drops all). */
static __always_inline bool sink_count(void *data, void *data_end)
{
	struct pktgen_payload *pl;
	struct sink_stats *st;
	__u64 len = data_end - data;
	bool match = false;
	__u32 key = 0;

	st = bpf_map_lookup_elem(&sink_stats, &key);
	if (!st)
		return true;	/* cannot happen: index 0 of an array */

	st->packets++;
	st->bytes += len;
	pl = sink_payload(data, data_end, &match);
	if (pl) {
		st->tagged_packets++;
		st->tagged_bytes += len;
		if (match)
			st->match_packets++;
		sink_track(st, pl);
		return true;
	}
	if (!sink_pass_untagged)
		return true;
	st->passed++;
	return false;
}

SEC("xdp")
int xvr_sink(struct xdp_md *ctx)
{
	if (sink_count((void *)(long)ctx->data, (void *)(long)ctx->data_end))
		return XDP_DROP;
	return XDP_PASS;
}

/*
 * The same sink at tc ingress, for skb traffic (a kernel router's output):
 * native XDP on a veth sees an skb only after copying it into a page, which
 * costs the sink a microsecond per frame.
 */
SEC("tc")
int xvr_sink_tc(struct __sk_buff *skb)
{
	/*
	 * A forwarded skb may keep its payload in fragments; the tag is in
	 * the payload. Pulling only frames shorter than a page keeps this cheap.
	 */
	if (skb->data_end - skb->data < skb->len)
		bpf_skb_pull_data(skb, skb->len < 4096 ? skb->len : 4096);
	/* The verifier refuses ctx + offset kept across the call: reload. */
	barrier_var(skb);
	if (sink_count((void *)(long)skb->data, (void *)(long)skb->data_end))
		return TC_ACT_SHOT;
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
