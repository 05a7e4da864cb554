/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * xvr-router internals: the engine's view of its router's namespace (links,
 * neighbours, routes, learnt over netlink), the built-in IPv4/IPv6 router
 * and the plugin host. The AF_XDP data path is in user/engine/main.c.
 *
 * Everything here runs on the engine's one thread: the data path and the
 * netlink updates interleave, never overlap, so no structure needs a lock.
 */
#ifndef XVR_ENGINE_H
#define XVR_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <net/if.h>
#include <linux/types.h>
#include <xvr/xvr.h>
#include <xvr/plugin.h>
#include "fib.h"
#include "htab.h"
#include "nl.h"

/* ---- the namespace's state (rib.c) ---- */

#define FE_MAX_PATHS	8	/* paths of one multipath route */
#define FE_MAX_ALTS	8	/* routes of one prefix (tables, metrics) */
#define FE_MAX_NH	65535	/* nexthop ids 1..FE_MAX_NH fit the DIR table */
#define FE_MAX_LINK	XVR_FE_TAG_IFINDEX	/* the tag names 15-bit ifindexes */

struct fe_link {
	bool present;
	__u32 ifindex;
	__u32 flags;		/* IFF_* */
	__u32 mtu;
	__u8 mac[6];
	char name[IF_NAMESIZE];
};

struct fe_neigh_key {
	__u32 ifindex;
	__u32 family;
	__u8 addr[16];
};

struct fe_neigh {
	struct hnode node;
	struct fe_neigh_key key;
	__u8 mac[6];
	__u16 state;		/* NUD_* */
};

enum fe_nh_type {
	FE_NH_FORWARD = 1,	/* out of a path's interface */
	FE_NH_LOCAL = 2,	/* the router's own address: stack */
	FE_NH_STACK = 3,	/* unreachable, prohibit, broadcast, …: stack */
	FE_NH_BLACKHOLE = 4,	/* drop */
};

struct fe_path {
	__u32 oif;
	__u32 family;		/* of gw; 0: connected (the destination is the neighbour) */
	__u8 gw[16];
};

struct fe_nh_key {
	__u32 type;		/* enum fe_nh_type */
	__u32 npaths;
	struct fe_path paths[FE_MAX_PATHS];
};

struct fe_nh {
	struct hnode node;
	struct fe_nh_key key;
	__u32 id;
	__u32 refcnt;
};

/* A route as netlink describes it, before it is interned. */
struct fe_route_msg {
	int family;
	__u8 addr[16];
	int plen;
	__u32 table;
	__u32 prio;
	struct fe_nh_key nh;
};

struct fe_route_alt {
	__u32 table;
	__u32 prio;
	__u32 nh;
};

struct fe_route {
	struct hnode node;
	__u8 addr[16];		/* the key: prefix, host bits zero */
	__u32 plen;
	__u32 nalts;
	struct fe_route_alt alts[FE_MAX_ALTS];
	__u32 best;		/* nexthop id of the preferred alt */
};

/* One family's routes, a hash per prefix length (IPv6 lookups walk them longest first). */
struct fe_rtable {
	int family;
	int max_plen;
	struct htab by_plen[129];
	__u8 plens[129];	/* lengths in use, longest first */
	int nplens;
	__u32 count;
};

struct fe_rib {
	struct fe_link *links;	/* [0..FE_MAX_LINK] */
	struct htab neighs;
	struct htab nh_by_key;
	struct fe_nh **nhs;	/* by id, [0..FE_MAX_NH] */
	__u32 nh_next;		/* where the search for a free id starts */
	struct fe_rtable rt4, rt6;
	struct fib4_table fib4;	/* IPv4 LPM: DIR-16-8-8, nexthop ids */
	__u32 routes_ignored;	/* other tables, TOS, source routes */
	__u32 links_ignored;	/* ifindex beyond what the tag can carry */
};

int rib_init(struct fe_rib *r);
void rib_fini(struct fe_rib *r);
/* Forget everything (before a re-dump). */
int rib_reset(struct fe_rib *r);

void rib_link_set(struct fe_rib *r, const struct fe_link *l);
void rib_link_del(struct fe_rib *r, __u32 ifindex);
static inline const struct fe_link *rib_link(const struct fe_rib *r, __u32 ifindex)
{
	if (ifindex == 0 || ifindex > FE_MAX_LINK || !r->links[ifindex].present)
		return NULL;
	return &r->links[ifindex];
}
int rib_link_by_name(const struct fe_rib *r, const char *name);

/* mac NULL deletes. */
int rib_neigh_set(struct fe_rib *r, int family, __u32 ifindex, const __u8 *addr,
		  const __u8 *mac, __u16 state);
const struct fe_neigh *rib_neigh(const struct fe_rib *r, int family, __u32 ifindex,
				 const __u8 *addr);

/* Add or replace the route (family, addr/plen, table, prio). */
int rib_route_add(struct fe_rib *r, const struct fe_route_msg *m, bool append);
/* Remove it, or only the given paths of it when it has more. */
int rib_route_del(struct fe_rib *r, const struct fe_route_msg *m);

/* Nexthop id for a destination (network order), 0 for none. */
static inline __u32 rib_lookup4(const struct fe_rib *r, __u32 daddr_be)
{
	return fib4_lookup(&r->fib4, __builtin_bswap32(daddr_be));
}
__u32 rib_lookup6(const struct fe_rib *r, const __u8 daddr[16]);
static inline const struct fe_nh *rib_nh(const struct fe_rib *r, __u32 id)
{
	return id && id <= FE_MAX_NH ? r->nhs[id] : NULL;
}

/* ---- netlink (netlink.c) ---- */

struct fe_nl {
	struct nl req;		/* dumps */
	struct nl ev;		/* link, neighbour and route events */
	bool resync;		/* links changed: dump again */
	__u64 msgs;
	__u64 events;
	__u64 resyncs;
};

struct engine;
int fe_nl_open(struct fe_nl *nl);
void fe_nl_close(struct fe_nl *nl);
/* Dump links, neighbours and routes into a reset rib. */
int nl_dump_all(struct engine *e);
/* Apply pending events without blocking; re-dumps when they were lost. */
int nl_poll(struct engine *e);

/* ---- the engine ---- */

struct fe_counters {
	__u64 rx_packets, rx_bytes;
	__u64 tx_packets, tx_bytes;
	__u64 fwd_packets, stack_packets, drop_packets;
	__u64 bad_tag;		/* not 0x88b5, or the stack flag set on input */
	__u64 short_frame;	/* shorter than the tagged Ethernet header */
	__u64 plugin_invalid;	/* verdict, interface or bounds refused */
	__u64 no_punt_vif;	/* to the stack, but no interface to go by */
	__u64 tx_ring_full;
	__u64 wakeups, idle_sleeps;
	__u64 stack[XVR_REASON_MAX];
	__u64 drop[XVR_REASON_MAX];
};

struct engine {
	const char *node;
	const char *router;
	const char *dev;
	__u32 fe_id;
	__u32 dev_ifindex;
	__u32 frame_size;
	struct fe_rib rib;
	struct fe_nl nl;
	struct fe_counters c;
	/* The plugin, when one is loaded (plugin.c). */
	const struct xvr_plugin *plugin;
	void *plugin_dl;
	struct xvr_plugin_ctx pctx;
	/* Heartbeat hook: dumps of big tables call it so the engine stays live. */
	void (*beat)(struct engine *e);
};

/* forward.c: the built-in router on one untagged frame. */
void fe_route_pkt(struct engine *e, struct xvr_pkt *p);

/* plugin.c */
/*
 * Opens the plugin file at path while the engine still has the node's
 * rights, and returns a sealed in-memory copy (a memfd) that plugin_load()
 * can load once they are gone: the tenant's uid needs no access to the file
 * or its directories. -errno, with a message.
 */
int plugin_open(const char *path);
/* Loads the plugin from fd (plugin_open's), named path in messages; closes fd. */
int plugin_load(struct engine *e, const char *path, int fd, const char *config);
void plugin_unload(struct engine *e);
/* An interface a verdict may name: known, up to 15 bits, not ours, not loopback. */
bool fe_out_ok(const struct engine *e, __u32 ifindex);

__u64 fe_now_ns(void);

#endif /* XVR_ENGINE_H */
