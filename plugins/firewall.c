// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * firewall: a stateless packet filter in front of xvr-router's built-in
 * router. Rules are tried in order, the first that matches decides; a frame
 * no rule matches is allowed (unless `default drop`). Allowed frames go
 * through ctx->route(), the engine's IPv4/IPv6 forwarding.
 *
 * Configuration (--plugin-config), rules separated by ';' or newlines,
 * '#' starts a comment, "@FILE" reads the rules from FILE:
 *
 *   ACTION [proto P] [src PREFIX] [dst PREFIX] [sport N[-M]] [dport N[-M]] [in IFNAME]
 *   default allow|drop
 *
 * ACTION is allow or drop; P is tcp, udp, icmp, icmpv6 or a number, and may
 * stand alone ("drop udp dport 9999"). A rule with an address, protocol or
 * port matches only IP packets of that family; ports match only TCP and
 * UDP first fragments. Examples:
 *
 *   drop udp dport 9999; drop src 10.1.1.0/24; allow tcp dport 22 in e0
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <xvr/plugin.h>

#define FW_MAX_RULES	4096
#define FW_MAX_EXTHDRS	8

enum fw_action { FW_ALLOW = 1, FW_DROP = 2 };

struct fw_prefix {
	bool set;
	__u8 addr[16];
	__u8 plen;
};

struct fw_rule {
	enum fw_action action;
	int family;		/* 0: any frame; AF_INET/AF_INET6: IP of that family */
	bool ip_only;		/* has IP criteria: never matches a non-IP frame */
	int proto;		/* -1: any */
	struct fw_prefix src, dst;
	bool sport_set, dport_set;
	__u16 sport_lo, sport_hi, dport_lo, dport_hi;
	__u32 in_ifindex;	/* 0: any */
	__u64 hits;
	char text[96];
};

struct fw {
	struct fw_rule *rules;
	unsigned int nrules;
	enum fw_action dflt;
	__u64 default_hits;
};

/* What of a frame the rules look at. */
struct fw_pkt {
	int family;		/* 0: not IP */
	const __u8 *saddr, *daddr;
	int proto;		/* -1: unknown (non-first fragment, too many headers) */
	bool have_ports;
	__u16 sport, dport;
};

static bool prefix_match(const struct fw_prefix *p, const __u8 *addr)
{
	unsigned int full = p->plen / 8, rest = p->plen % 8;

	if (memcmp(p->addr, addr, full))
		return false;
	return !rest || !((p->addr[full] ^ addr[full]) & (0xff << (8 - rest)));
}

static void parse_ports(struct fw_pkt *k, const __u8 *l4, const __u8 *end)
{
	if ((k->proto == IPPROTO_TCP || k->proto == IPPROTO_UDP) && l4 + 4 <= end) {
		k->have_ports = true;
		k->sport = l4[0] << 8 | l4[1];
		k->dport = l4[2] << 8 | l4[3];
	}
}

static void fw_parse(const struct xvr_pkt *p, struct fw_pkt *k)
{
	const __u8 *end = p->data + p->len;
	const struct ethhdr *eth = (const void *)p->data;

	memset(k, 0, sizeof(*k));
	k->proto = -1;
	if (p->len < ETH_HLEN)
		return;
	if (eth->h_proto == htons(ETH_P_IP)) {
		const struct iphdr *iph = (const void *)(eth + 1);

		if ((const __u8 *)(iph + 1) > end || iph->ihl < 5)
			return;
		k->family = AF_INET;
		k->saddr = (const __u8 *)&iph->saddr;
		k->daddr = (const __u8 *)&iph->daddr;
		/* Non-first fragments carry no L4 header: protocol known, ports not. */
		k->proto = iph->protocol;
		if (!(ntohs(iph->frag_off) & 0x1fff))
			parse_ports(k, (const __u8 *)iph + iph->ihl * 4, end);
	} else if (eth->h_proto == htons(ETH_P_IPV6)) {
		const struct ipv6hdr *ip6 = (const void *)(eth + 1);
		const __u8 *h = (const __u8 *)(ip6 + 1);
		int nh = ip6->nexthdr;

		if ((const __u8 *)(ip6 + 1) > end)
			return;
		k->family = AF_INET6;
		k->saddr = ip6->saddr.s6_addr;
		k->daddr = ip6->daddr.s6_addr;
		for (int i = 0; i < FW_MAX_EXTHDRS; i++) {
			if (nh == IPPROTO_HOPOPTS || nh == IPPROTO_ROUTING || nh == IPPROTO_DSTOPTS) {
				if (h + 2 > end)
					return;
				nh = h[0];
				h += (h[1] + 1) * 8;
			} else if (nh == IPPROTO_FRAGMENT) {
				if (h + 8 > end)
					return;
				if ((h[2] << 8 | h[3]) & 0xfff8) {
					k->proto = h[0];
					return;
				}
				nh = h[0];
				h += 8;
			} else {
				k->proto = nh;
				parse_ports(k, h, end);
				return;
			}
		}
	}
}

static bool rule_match(const struct fw_rule *r, const struct xvr_pkt *p, const struct fw_pkt *k)
{
	if (r->in_ifindex && r->in_ifindex != p->in_ifindex)
		return false;
	if (!r->ip_only)
		return true;
	if (!k->family || (r->family && r->family != k->family))
		return false;
	if (r->proto >= 0 && r->proto != k->proto)
		return false;
	if (r->src.set && !prefix_match(&r->src, k->saddr))
		return false;
	if (r->dst.set && !prefix_match(&r->dst, k->daddr))
		return false;
	if ((r->sport_set || r->dport_set) && !k->have_ports)
		return false;
	if (r->sport_set && (k->sport < r->sport_lo || k->sport > r->sport_hi))
		return false;
	if (r->dport_set && (k->dport < r->dport_lo || k->dport > r->dport_hi))
		return false;
	return true;
}

static void fw_process(struct xvr_plugin_ctx *ctx, struct xvr_pkt *pkts, unsigned int n)
{
	struct fw *fw = ctx->priv;

	for (unsigned int i = 0; i < n; i++) {
		struct xvr_pkt *p = &pkts[i];
		enum fw_action act = fw->dflt;
		struct fw_pkt k;
		unsigned int r;

		fw_parse(p, &k);
		for (r = 0; r < fw->nrules; r++) {
			if (rule_match(&fw->rules[r], p, &k)) {
				fw->rules[r].hits++;
				act = fw->rules[r].action;
				break;
			}
		}
		if (r == fw->nrules)
			fw->default_hits++;
		if (act == FW_DROP)
			xvr_pkt_drop(p);
		else
			ctx->route(ctx, p);
	}
}

/* ---- configuration ---- */

static int parse_prefix(const char *s, struct fw_prefix *p, int *family)
{
	char buf[64], *slash;
	long plen;
	int fam;

	snprintf(buf, sizeof(buf), "%s", s);
	slash = strchr(buf, '/');
	if (slash)
		*slash++ = '\0';
	memset(p, 0, sizeof(*p));
	if (inet_pton(AF_INET, buf, p->addr) == 1)
		fam = AF_INET;
	else if (inet_pton(AF_INET6, buf, p->addr) == 1)
		fam = AF_INET6;
	else
		return -EINVAL;
	plen = fam == AF_INET ? 32 : 128;
	if (slash) {
		char *end;

		plen = strtol(slash, &end, 10);
		if (*end || !*slash || plen < 0 || plen > (fam == AF_INET ? 32 : 128))
			return -EINVAL;
	}
	if (*family && *family != fam)
		return -EINVAL;	/* src and dst of different families */
	*family = fam;
	p->plen = plen;
	p->set = true;
	return 0;
}

static int parse_ports_arg(const char *s, __u16 *lo, __u16 *hi)
{
	unsigned long a, b;
	char *end;

	a = strtoul(s, &end, 10);
	b = a;
	if (*end == '-')
		b = strtoul(end + 1, &end, 10);
	if (*end || end == s || a > 65535 || b > 65535 || a > b)
		return -EINVAL;
	*lo = a;
	*hi = b;
	return 0;
}

static int proto_by_name(const char *s)
{
	static const struct {
		const char *name;
		int proto;
	} names[] = {
		{ "tcp", IPPROTO_TCP }, { "udp", IPPROTO_UDP }, { "icmp", IPPROTO_ICMP },
		{ "icmpv6", IPPROTO_ICMPV6 }, { "ipv6-icmp", IPPROTO_ICMPV6 },
		{ "gre", IPPROTO_GRE }, { "sctp", IPPROTO_SCTP },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(s, names[i].name))
			return names[i].proto;
	return -1;
}

/* A name or a number 0..255; -1 if neither. */
static int parse_proto(const char *s)
{
	int proto = proto_by_name(s);
	char *end;
	long v;

	if (proto >= 0)
		return proto;
	v = strtol(s, &end, 10);
	return *s && !*end && v >= 0 && v <= 255 ? (int)v : -1;
}

static int parse_rule(struct xvr_plugin_ctx *ctx, struct fw *fw, char *line)
{
	char *words[32], *save = NULL, *w;
	struct fw_rule r = { .proto = -1 };
	int n = 0;

	snprintf(r.text, sizeof(r.text), "%s", line);
	for (w = strtok_r(line, " \t\r", &save); w; w = strtok_r(NULL, " \t\r", &save)) {
		if (n == 32)
			return -E2BIG;
		words[n++] = w;
	}
	if (!n)
		return 0;
	if (!strcmp(words[0], "default")) {
		if (n != 2 || (strcmp(words[1], "allow") && strcmp(words[1], "drop")))
			goto bad;
		fw->dflt = strcmp(words[1], "allow") ? FW_DROP : FW_ALLOW;
		return 0;
	}
	if (!strcmp(words[0], "allow") || !strcmp(words[0], "accept"))
		r.action = FW_ALLOW;
	else if (!strcmp(words[0], "drop") || !strcmp(words[0], "deny"))
		r.action = FW_DROP;
	else
		goto bad;
	for (int i = 1; i < n; i++) {
		const char *kw = words[i], *arg = i + 1 < n ? words[i + 1] : NULL;

		if (proto_by_name(kw) >= 0) {
			r.proto = proto_by_name(kw);	/* "drop udp …" */
			r.ip_only = true;
			continue;
		}
		if (!arg)
			goto bad;
		i++;
		if (!strcmp(kw, "proto")) {
			r.proto = parse_proto(arg);
			if (r.proto < 0)
				goto bad;
		} else if (!strcmp(kw, "src")) {
			if (parse_prefix(arg, &r.src, &r.family))
				goto bad;
		} else if (!strcmp(kw, "dst")) {
			if (parse_prefix(arg, &r.dst, &r.family))
				goto bad;
		} else if (!strcmp(kw, "sport")) {
			if (parse_ports_arg(arg, &r.sport_lo, &r.sport_hi))
				goto bad;
			r.sport_set = true;
		} else if (!strcmp(kw, "dport")) {
			if (parse_ports_arg(arg, &r.dport_lo, &r.dport_hi))
				goto bad;
			r.dport_set = true;
		} else if (!strcmp(kw, "in")) {
			int ifindex = ctx->ifindex(ctx, arg);

			if (ifindex < 0) {
				ctx->log(ctx, "rule '%s': no interface %s", r.text, arg);
				return -ENODEV;
			}
			r.in_ifindex = ifindex;
			continue;
		} else {
			goto bad;
		}
		r.ip_only = true;
	}
	if (fw->nrules == FW_MAX_RULES)
		return -E2BIG;
	fw->rules[fw->nrules++] = r;
	return 0;
bad:
	ctx->log(ctx, "cannot parse rule '%s'", r.text);
	return -EINVAL;
}

static char *read_file(struct xvr_plugin_ctx *ctx, const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0;

	if (!f) {
		ctx->log(ctx, "rules file %s: %m", path);
		return NULL;
	}
	if (getdelim(&buf, &len, '\0', f) < 0) {
		free(buf);
		buf = strdup("");
	}
	fclose(f);
	return buf;
}

static int fw_init(struct xvr_plugin_ctx *ctx, const char *config)
{
	struct fw *fw = calloc(1, sizeof(*fw));
	char *text, *line, *save = NULL;
	int err = 0;

	if (!fw)
		return -ENOMEM;
	fw->dflt = FW_ALLOW;
	fw->rules = calloc(FW_MAX_RULES, sizeof(*fw->rules));
	text = config[0] == '@' ? read_file(ctx, config + 1) : strdup(config);
	if (!fw->rules || !text) {
		free(text);
		free(fw->rules);
		free(fw);
		return text ? -ENOMEM : -ENOENT;
	}
	for (line = strtok_r(text, ";\n", &save); line && !err; line = strtok_r(NULL, ";\n", &save)) {
		char *hash = strchr(line, '#');

		if (hash)
			*hash = '\0';
		err = parse_rule(ctx, fw, line);
	}
	free(text);
	if (err) {
		free(fw->rules);
		free(fw);
		return err;
	}
	ctx->priv = fw;
	ctx->log(ctx, "%u rules, default %s", fw->nrules, fw->dflt == FW_DROP ? "drop" : "allow");
	return 0;
}

static void fw_fini(struct xvr_plugin_ctx *ctx)
{
	struct fw *fw = ctx->priv;

	if (!fw)
		return;
	for (unsigned int i = 0; i < fw->nrules; i++)
		ctx->log(ctx, "rule %u '%s': %llu hits", i + 1, fw->rules[i].text,
			 (unsigned long long)fw->rules[i].hits);
	ctx->log(ctx, "default %s: %llu hits", fw->dflt == FW_DROP ? "drop" : "allow",
		 (unsigned long long)fw->default_hits);
	free(fw->rules);
	free(fw);
	ctx->priv = NULL;
}

__attribute__((visibility("default"))) const struct xvr_plugin xvr_plugin = {
	.abi_version = XVR_PLUGIN_ABI_VERSION,
	.name = "firewall",
	.init = fw_init,
	.process = fw_process,
	.fini = fw_fini,
};
