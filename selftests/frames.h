/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Test frames built from packed header structs: Ethernet, up to four VLAN
 * tags, IPv4 (with options) or IPv6 (with extension headers), UDP, TCP or
 * GRE, or an ARP request. Lengths and every checksum are computed from
 * scratch, so a frame built from a spec is also the reference a data path's
 * output is compared with.
 */
#ifndef XVR_SELFTESTS_FRAMES_H
#define XVR_SELFTESTS_FRAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <netinet/in.h>
#include <linux/types.h>

#define FRAME_MAX	2048
#define FRAME_MAX_VLANS	4
#define FRAME_MAX_EXT	12

struct frame {
	__u8 data[FRAME_MAX];
	__u32 len;
	__u16 l3_off;		/* IP (or ARP) header */
	__u16 l4_off;		/* UDP/TCP/GRE header, after IPv6 extension headers */
};

/* One IPv6 extension header. */
struct frame_ext {
	__u8 type;		/* IPPROTO_HOPOPTS, _ROUTING, _DSTOPTS, _FRAGMENT, _AH */
	__u8 hdrlen;		/* the header's length field (not for _FRAGMENT) */
	__u16 frag_offset;	/* _FRAGMENT: offset in 8-byte units */
	bool frag_more;		/* _FRAGMENT: M flag */
};

/* GRE flag bits (RFC 2890), network order once swapped. */
#define FRAME_GRE_CSUM	0x8000
#define FRAME_GRE_KEY	0x2000

/*
 * What to build. Zero fields take the default named in the comment, so a
 * table row only spells out what it is about.
 */
struct frame_spec {
	__u8 dmac[6];		/* zero: FRAME_DMAC */
	__u8 smac[6];		/* zero: FRAME_SMAC */
	__u16 tpid;		/* outer tag's TPID; 0: 0x8100 (inner tags are 0x8100) */
	int nvlans;
	__u16 tci[FRAME_MAX_VLANS];	/* outermost first; PCP/DEI bits allowed */
	__u16 ethertype;	/* family 0: this EtherType, ARP body for ETH_P_ARP */
	int family;		/* AF_INET, AF_INET6 or 0 (not IP) */
	const char *src, *dst;	/* text addresses; NULL: 192.0.2.1 / 2001:db8:ffff::1 */
	int ttl;		/* TTL or hop limit; 0: 64 (TTL 0 is set after building) */
	__u8 proto;		/* 0: IPPROTO_UDP; also IPPROTO_TCP, IPPROTO_GRE, other */
	__u16 sport, dport;	/* 0: 40000 / 7 */
	int payload;		/* L4 payload bytes (a counting pattern) */
	int ip_opts;		/* IPv4 option bytes, a multiple of 4, at most 40 */
	__u16 ip_id;
	__u16 ip_frag;		/* IPv4 frag_off field, host order (IP_MF | offset) */
	int next;
	struct frame_ext ext[FRAME_MAX_EXT];
	__u16 gre_flags;	/* FRAME_GRE_CSUM | FRAME_GRE_KEY | version bits */
	__u32 gre_key;
	int min_len;		/* pad the frame with zeros to at least this */
};

extern const __u8 FRAME_DMAC[6], FRAME_SMAC[6];

/* 0, or -EINVAL for a spec that cannot be built (bad address, too long). */
int frame_build(struct frame *f, const struct frame_spec *s);

/* Ones' complement sum helpers (RFC 1071). */
__u32 csum_partial(const void *buf, size_t len, __u32 sum);
__u16 csum_fold(__u32 sum);

/* Header checksum of the IPv4 header at l3_off, computed over IHL words (>= 5). */
__u16 frame_ipv4_csum(const struct frame *f);
/* Rewrites the IPv4 header checksum from scratch. */
void frame_ipv4_fix_csum(struct frame *f);

struct iphdr *frame_ip4(struct frame *f);
struct ipv6hdr *frame_ip6(struct frame *f);

/* Sets the TTL (IPv4, checksum rewritten) or the hop limit (IPv6). */
void frame_set_ttl(struct frame *f, int family, __u8 ttl);

#endif
