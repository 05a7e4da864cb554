// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * nonip: forwarding of a protocol that is not IP, to show that an xvr
 * router's data plane is the tenant's to define (Europa's point).
 *
 * XNP, the "xvr network protocol", rides directly on Ethernet with
 * EtherType 0x88B6, IEEE 802's Local Experimental EtherType 2 (0x88B5, the
 * first, is xvr's own engine tag). Its header, all fields big-endian:
 *
 *   0      1      2             4                 8                 12
 *   +------+------+-------------+-----------------+-----------------+
 *   | ver  | hops | payload len | destination id  | source id       |
 *   +------+------+-------------+-----------------+-----------------+
 *
 * ver is 1. A router decrements hops and drops the frame when it reaches
 * 0 (so a frame arriving with hops <= 1 goes no further). The destination
 * id picks the output interface and the next hop's MAC from a static
 * table; no entry, no forwarding. Frames of other EtherTypes go through
 * the engine's IP router (ctx->route()).
 *
 * Configuration (--plugin-config), entries separated by ';' or newlines,
 * "@FILE" reads them from FILE:
 *
 *   ID IFNAME MAC          e.g. "100 e1 02:00:00:00:02:02; 200 e0 02:00:00:00:01:02"
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <xvr/plugin.h>

#define ETH_P_XNP	0x88B6
#define XNP_VERSION	1
#define XNP_MAX_ROUTES	65536

struct xnp_hdr {
	__u8 ver;
	__u8 hops;
	__be16 payload_len;
	__be32 dst;
	__be32 src;
} __attribute__((packed));

struct xnp_route {
	__u32 id;
	__u32 ifindex;
	__u8 mac[6];
};

struct xnp {
	struct xnp_route *routes;	/* sorted by id */
	unsigned int nroutes;
	__u64 fwd, no_route, expired, bad;
};

static const struct xnp_route *xnp_lookup(const struct xnp *x, __u32 id)
{
	unsigned int lo = 0, hi = x->nroutes;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (x->routes[mid].id == id)
			return &x->routes[mid];
		if (x->routes[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static void xnp_forward(struct xvr_plugin_ctx *ctx, struct xnp *x, struct xvr_pkt *p)
{
	struct ethhdr *eth = (struct ethhdr *)p->data;
	struct xnp_hdr *h = (struct xnp_hdr *)(eth + 1);
	const struct xnp_route *r;

	if (p->len < sizeof(*eth) + sizeof(*h) || h->ver != XNP_VERSION ||
	    ntohs(h->payload_len) > p->len - sizeof(*eth) - sizeof(*h)) {
		x->bad++;
		return xvr_pkt_drop(p);
	}
	if (h->hops <= 1) {
		x->expired++;
		return xvr_pkt_drop(p);
	}
	r = xnp_lookup(x, ntohl(h->dst));
	if (!r || ctx->ifmac(ctx, r->ifindex, eth->h_source)) {
		x->no_route++;
		return xvr_pkt_drop(p);
	}
	h->hops--;
	memcpy(eth->h_dest, r->mac, ETH_ALEN);
	x->fwd++;
	xvr_pkt_forward(p, r->ifindex);
}

static void xnp_process(struct xvr_plugin_ctx *ctx, struct xvr_pkt *pkts, unsigned int n)
{
	struct xnp *x = ctx->priv;

	for (unsigned int i = 0; i < n; i++) {
		struct xvr_pkt *p = &pkts[i];
		const struct ethhdr *eth = (const struct ethhdr *)p->data;

		if (p->len >= ETH_HLEN && eth->h_proto == htons(ETH_P_XNP))
			xnp_forward(ctx, x, p);
		else
			ctx->route(ctx, p);
	}
}

/* ---- configuration ---- */

static int route_cmp(const void *a, const void *b)
{
	const struct xnp_route *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

static int parse_entry(struct xvr_plugin_ctx *ctx, struct xnp *x, char *line)
{
	char ifname[32], mac[32], tail[2];
	unsigned int m[6];
	unsigned long id;
	struct xnp_route *r;
	int ifindex, n;

	n = sscanf(line, "%lu %31s %31s %1s", &id, ifname, mac, tail);
	if (n <= 0)
		return 0;	/* blank line */
	if (n != 3 || id > 0xffffffffUL ||
	    sscanf(mac, "%2x:%2x:%2x:%2x:%2x:%2x%1s", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5],
		   tail) != 6) {
		ctx->log(ctx, "cannot parse '%s' (want: ID IFNAME MAC)", line);
		return -EINVAL;
	}
	ifindex = ctx->ifindex(ctx, ifname);
	if (ifindex < 0) {
		ctx->log(ctx, "'%s': no interface %s in the router's namespace", line, ifname);
		return -ENODEV;
	}
	if (x->nroutes == XNP_MAX_ROUTES)
		return -E2BIG;
	r = &x->routes[x->nroutes++];
	r->id = id;
	r->ifindex = ifindex;
	for (int i = 0; i < 6; i++)
		r->mac[i] = m[i];
	return 0;
}

static char *read_file(struct xvr_plugin_ctx *ctx, const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0;

	if (!f) {
		ctx->log(ctx, "table file %s: %m", path);
		return NULL;
	}
	if (getdelim(&buf, &len, '\0', f) < 0) {
		free(buf);
		buf = strdup("");
	}
	fclose(f);
	return buf;
}

static int xnp_init(struct xvr_plugin_ctx *ctx, const char *config)
{
	struct xnp *x = calloc(1, sizeof(*x));
	char *text, *line, *save = NULL;
	int err = 0;

	if (!x)
		return -ENOMEM;
	x->routes = calloc(XNP_MAX_ROUTES, sizeof(*x->routes));
	text = config[0] == '@' ? read_file(ctx, config + 1) : strdup(config);
	if (!x->routes || !text) {
		free(text);
		free(x->routes);
		free(x);
		return text ? -ENOMEM : -ENOENT;
	}
	for (line = strtok_r(text, ";\n", &save); line && !err; line = strtok_r(NULL, ";\n", &save))
		err = parse_entry(ctx, x, line);
	free(text);
	if (err) {
		free(x->routes);
		free(x);
		return err;
	}
	qsort(x->routes, x->nroutes, sizeof(*x->routes), route_cmp);
	for (unsigned int i = 1; i < x->nroutes; i++) {
		if (x->routes[i].id == x->routes[i - 1].id) {
			ctx->log(ctx, "destination %u listed twice", x->routes[i].id);
			free(x->routes);
			free(x);
			return -EINVAL;
		}
	}
	ctx->priv = x;
	ctx->log(ctx, "XNP (EtherType %#x): %u destinations", ETH_P_XNP, x->nroutes);
	return 0;
}

static void xnp_fini(struct xvr_plugin_ctx *ctx)
{
	struct xnp *x = ctx->priv;

	if (!x)
		return;
	ctx->log(ctx, "XNP forwarded %llu, no route %llu, hops expired %llu, malformed %llu",
		 (unsigned long long)x->fwd, (unsigned long long)x->no_route,
		 (unsigned long long)x->expired, (unsigned long long)x->bad);
	free(x->routes);
	free(x);
	ctx->priv = NULL;
}

__attribute__((visibility("default"))) const struct xvr_plugin xvr_plugin = {
	.abi_version = XVR_PLUGIN_ABI_VERSION,
	.name = "nonip",
	.init = xnp_init,
	.process = xnp_process,
	.fini = xnp_fini,
};
