/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Host build of the data path's shared parsing and classification code
 * (bpf/parsing.h, bpf/classify.h) for fuzz_parse: the BPF helpers, macros
 * and kernel header structs those files use, mapped to host equivalents.
 * The structs are spelled out here (not taken from <linux/ip.h> and
 * friends) because parsing.h defines the ETH_* and IPPROTO_* names itself,
 * as the BPF side's vmlinux.h world has none of them.
 *
 * Maps are two small tables that fuzz_parse.c fills; bpf_map_lookup_elem()
 * goes to fuzz_map_lookup() there.
 */
#ifndef XVR_FUZZ_HOST_SHIM_H
#define XVR_FUZZ_HOST_SHIM_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <linux/types.h>
#include <xvr/xvr.h>

#ifndef __noinline
#define __noinline		__attribute__((noinline))
#endif
#ifndef __always_inline
#define __always_inline		inline __attribute__((always_inline))
#endif
#define barrier_var(v)		__asm__ __volatile__("" : "+r"(v))

/* <arpa/inet.h> would bring its own struct in6_addr; swap by hand. */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define bpf_ntohs(x)		((__u16)__builtin_bswap16(x))
#define bpf_ntohl(x)		((__u32)__builtin_bswap32(x))
#else
#define bpf_ntohs(x)		((__u16)(x))
#define bpf_ntohl(x)		((__u32)(x))
#endif
#define bpf_htons(x)		bpf_ntohs(x)
#define bpf_htonl(x)		bpf_ntohl(x)

struct ethhdr {
	__u8 h_dest[6];
	__u8 h_source[6];
	__be16 h_proto;
} __attribute__((packed));

struct iphdr {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	__u8 ihl : 4, version : 4;
#else
	__u8 version : 4, ihl : 4;
#endif
	__u8 tos;
	__be16 tot_len;
	__be16 id;
	__be16 frag_off;
	__u8 ttl;
	__u8 protocol;
	__sum16 check;
	__be32 saddr;
	__be32 daddr;
};

struct in6_addr {
	union {
		__u8 u6_addr8[16];
		__be16 u6_addr16[8];
		__be32 u6_addr32[4];
	} in6_u;
};

struct ipv6hdr {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	__u8 priority : 4, version : 4;
#else
	__u8 version : 4, priority : 4;
#endif
	__u8 flow_lbl[3];
	__be16 payload_len;
	__u8 nexthdr;
	__u8 hop_limit;
	struct in6_addr saddr;
	struct in6_addr daddr;
};

struct ipv6_opt_hdr {
	__u8 nexthdr;
	__u8 hdrlen;
};

struct frag_hdr {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off;
	__be32 identification;
};

struct udphdr {
	__be16 source;
	__be16 dest;
	__be16 len;
	__sum16 check;
};

/* The classifier's maps: only their identity matters to the code. */
struct fuzz_map {
	int kind;
};
extern struct fuzz_map xvr_classify, xvr_cls_prefix, xvr_cls_prefix4;

void *fuzz_map_lookup(struct fuzz_map *map, const void *key);
#define bpf_map_lookup_elem(map, key)	fuzz_map_lookup((map), (key))

#endif /* XVR_FUZZ_HOST_SHIM_H */
