// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* xvr classify: which frames belong to which virtual router. */
#include <arpa/inet.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <bpf/bpf.h>
#include "xvr.h"

static int classify_help(void)
{
	fprintf(stderr,
		"Usage: xvr classify add ROUTER RULE [port DEV]\n"
		"       xvr classify del ROUTER RULE [port DEV]\n"
		"       xvr classify list [ROUTER]\n"
		"RULE := { mac ADDR | vlan ID | udp-port N | prefix PREFIX | gre-key N | default }\n"
		"Rules are tried most specific first: gre-key, mac, vlan, udp-port, prefix,\n"
		"default; each on its port before any port. 'default' needs a port.\n");
	return 0;
}

/* A parsed rule: exact kinds fill key, the prefix kind fills pkey. */
struct rule {
	bool prefix;
	struct xvr_cls_key key;
	struct xvr_cls_prefix_key pkey;
	const char *port_name;
};

static int rule_parse(int argc, char **argv, struct rule *r)
{
	unsigned int seen = 0;	/* keywords given, for arg_once */
	__u32 v;

	memset(r, 0, sizeof(*r));
	if (argc < 1) {
		classify_help();
		return -EINVAL;
	}
	if (matches(argv[0], "mac")) {
		NEXT_ARG();
		r->key.kind = XVR_RULE_MAC;
		if (parse_mac(argv[0], r->key.mac))
			return bad_arg("MAC address", argv[0]);
	} else if (matches(argv[0], "vlan")) {
		NEXT_ARG();
		r->key.kind = XVR_RULE_VLAN;
		if (parse_u32(argv[0], &v, 4094) || !v)
			return bad_arg("VLAN id (1-4094)", argv[0]);
		r->key.vlan = v;
	} else if (matches(argv[0], "udp-port")) {
		NEXT_ARG();
		r->key.kind = XVR_RULE_UDP;
		if (parse_u32(argv[0], &v, 65535) || !v)
			return bad_arg("UDP port (1-65535)", argv[0]);
		r->key.port = v;
	} else if (matches(argv[0], "gre-key")) {
		NEXT_ARG();
		r->key.kind = XVR_RULE_GRE;
		if (parse_u32(argv[0], &v, 0xffffffffu))
			return bad_arg("GRE key", argv[0]);
		r->key.gre_key = v;
	} else if (matches(argv[0], "prefix")) {
		int family, plen;
		__u8 addr[16];
		char why[96];

		NEXT_ARG();
		if (prefix_problem(argv[0], why, sizeof(why))) {
			pr_warn("classify: invalid prefix '%s': %s\n", argv[0], why);
			return -EINVAL;
		}
		parse_prefix(argv[0], &family, addr, &plen);
		r->prefix = true;
		if (family == AF_INET) {
			r->pkey.addr[10] = r->pkey.addr[11] = 0xff;
			memcpy(&r->pkey.addr[12], addr, 4);
			plen += 96;
		} else {
			memcpy(r->pkey.addr, addr, 16);
		}
		r->pkey.prefixlen = 32 + plen;
	} else if (matches(argv[0], "default")) {
		r->key.kind = XVR_RULE_DEFAULT;
	} else {
		return bad_arg("rule", argv[0]);
	}
	SHIFT_ARG();
	while (argc > 0) {
		if (arg_once(&seen, argv[0]))
			return -EINVAL;
		if (matches(argv[0], "port")) {
			NEXT_ARG();
			r->port_name = argv[0];
		} else {
			return unexpected_arg(argv[0]);
		}
		SHIFT_ARG();
	}
	if (r->key.kind == XVR_RULE_DEFAULT && !r->port_name && !r->prefix) {
		pr_warn("classify: a default rule needs 'port DEV'\n");
		return -EINVAL;
	}
	return 0;
}

/* Resolves the rule's port against the node's ports. */
static int rule_bind_port(struct xvr_node *n, struct rule *r)
{
	struct xvr_port port;
	int ifindex;

	if (!r->port_name)
		return 0;
	ifindex = if_index(r->port_name);
	if (ifindex < 0 || port_get(n, ifindex, &port)) {
		pr_warn("classify: %s is not a port of node %s\n", r->port_name, n->name);
		return -ENODEV;
	}
	r->key.ifindex = ifindex;
	r->pkey.ifindex = htonl(ifindex);
	return 0;
}

static int rule_update(struct rule *r, struct xvr_node *n, struct xvr_cls_val *val, bool add)
{
	int fd = r->prefix ? n->cls_prefix_fd : n->classify_fd;
	void *key = r->prefix ? (void *)&r->pkey : (void *)&r->key;

	if (add)
		return bpf_map_update_elem(fd, key, val, BPF_NOEXIST) ? -errno : 0;
	return bpf_map_delete_elem(fd, key) ? -errno : 0;
}

static int rule_lookup(struct rule *r, struct xvr_node *n, struct xvr_cls_val *val)
{
	int fd = r->prefix ? n->cls_prefix_fd : n->classify_fd;
	void *key = r->prefix ? (void *)&r->pkey : (void *)&r->key;

	/* An LPM lookup would match a covering rule; walk for the exact key. */
	if (r->prefix) {
		struct xvr_cls_prefix_key k, next, *prev = NULL;

		while (!bpf_map_get_next_key(fd, prev, &next)) {
			if (!memcmp(&next, &r->pkey, sizeof(next)))
				return bpf_map_lookup_elem(fd, &next, val) ? -errno : 0;
			k = next;
			prev = &k;
		}
		return -ENOENT;
	}
	return bpf_map_lookup_elem(fd, key, val) ? -errno : 0;
}

static int classify_change(int argc, char **argv, bool add)
{
	struct xvr_cls_val val = {}, old;
	struct xvr_router owner;
	struct xvr_node n;
	struct rule r;
	const char *router;
	__u32 id;
	int err;

	if (argc < 2) {
		classify_help();
		return -EINVAL;
	}
	router = argv[0];
	err = rule_parse(argc - 1, argv + 1, &r);
	if (err)
		return err;
	err = cli_node_open(&n, true);
	if (err)
		return err;
	err = router_find(&n, router, &id, NULL);
	if (err) {
		pr_warn("classify: router %s: no such router\n", router);
		goto out;
	}
	err = rule_bind_port(&n, &r);
	if (err)
		goto out;
	if (!rule_lookup(&r, &n, &old)) {
		if (add) {
			router_get(&n, old.vr_id, &owner);
			pr_warn("classify: rule exists (router %s)\n", owner.name);
			err = -EEXIST;
			goto out;
		}
		if (old.vr_id != id) {
			router_get(&n, old.vr_id, &owner);
			pr_warn("classify: rule belongs to router %s, not %s\n", owner.name, router);
			err = -EPERM;
			goto out;
		}
	} else if (!add) {
		pr_warn("classify: router %s: no such rule\n", router);
		err = -ENOENT;
		goto out;
	}
	val.vr_id = id;
	err = rule_update(&r, &n, &val, add);
	if (err) {
		pr_warn("classify: router %s: %s\n", router, strerror(-err));
		goto out;
	}
	err = rules_refresh_kinds(&n);
out:
	xvr_node_close(&n);
	return err;
}

static int classify_add(int argc, char **argv)
{
	return classify_change(argc, argv, true);
}

static int classify_del(int argc, char **argv)
{
	return classify_change(argc, argv, false);
}

static const char *const kind_names[XVR_RULE_KIND_MAX] = {
	[XVR_RULE_MAC] = "mac",
	[XVR_RULE_VLAN] = "vlan",
	[XVR_RULE_UDP] = "udp-port",
	[XVR_RULE_PREFIX] = "prefix",
	[XVR_RULE_DEFAULT] = "default",
	[XVR_RULE_GRE] = "gre-key",
};

const char *rule_kind_name(__u8 kind)
{
	return kind < XVR_RULE_KIND_MAX && kind_names[kind] ? kind_names[kind] : NULL;
}

void rules_walk(struct xvr_node *n, rule_walk_cb cb, void *ctx)
{
	static const __u8 v4mapped[12] = { [10] = 0xff, [11] = 0xff };
	struct xvr_cls_prefix_key pkey, pnext, *pprev = NULL;
	struct xvr_cls_key key, next, *prev = NULL;
	char buf[INET6_ADDRSTRLEN + 8], addr[INET6_ADDRSTRLEN];
	struct xvr_cls_val val;
	int plen;

	while (!bpf_map_get_next_key(n->classify_fd, prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(n->classify_fd, &key, &val))
			continue;
		switch (key.kind) {
		case XVR_RULE_MAC:
			fmt_mac(key.mac, buf);
			break;
		case XVR_RULE_VLAN:
			snprintf(buf, sizeof(buf), "%u", key.vlan);
			break;
		case XVR_RULE_UDP:
			snprintf(buf, sizeof(buf), "%u", key.port);
			break;
		case XVR_RULE_GRE:
			snprintf(buf, sizeof(buf), "%u", key.gre_key);
			break;
		default:
			buf[0] = '\0';
		}
		cb(n, key.kind, buf[0] ? buf : NULL, key.ifindex, &val, ctx);
	}
	while (!bpf_map_get_next_key(n->cls_prefix_fd, pprev, &pnext)) {
		pkey = pnext;
		pprev = &pkey;
		if (bpf_map_lookup_elem(n->cls_prefix_fd, &pkey, &val))
			continue;
		plen = pkey.prefixlen - 32;
		if (plen >= 96 && !memcmp(pkey.addr, v4mapped, 12))
			snprintf(buf, sizeof(buf), "%s/%d",
				 fmt_addr(AF_INET, &pkey.addr[12], addr), plen - 96);
		else
			snprintf(buf, sizeof(buf), "%s/%d", fmt_addr(AF_INET6, pkey.addr, addr),
				 plen);
		cb(n, XVR_RULE_PREFIX, buf, ntohl(pkey.ifindex), &val, ctx);
	}
}

static void rule_print(struct xvr_node *n, __u8 kind, const char *value, __u32 ifindex,
		       const struct xvr_cls_val *val, void *ctx)
{
	__u32 only = *(__u32 *)ctx;
	char ifname[IF_NAMESIZE];
	struct xvr_router r = {};

	if (only && val->vr_id != only)
		return;
	router_get(n, val->vr_id, &r);
	print_open_object(NULL);
	print_string("router", "%-16s", r.name);
	print_string("kind", " %s", rule_kind_name(kind) ?: "?");
	if (value)
		print_string("value", " %s", value);
	else
		print_string("value", NULL, NULL);
	print_string("port", " port %s\n", ifindex ? if_name(ifindex, ifname) : "any");
	print_close_object();
}

static int classify_list(int argc, char **argv)
{
	struct xvr_node n;
	__u32 only;
	int err;

	err = cli_list_open(argc, argv, &n, &only);
	if (err)
		return err;
	rules_walk(&n, rule_print, &only);
	return cli_list_close(&n);
}

int do_classify(int argc, char **argv)
{
	static const struct cmd cmds[] = {
		{ "add", classify_add },
		{ "del", classify_del },
		{ "list", classify_list },
		{ "show", classify_list },
		{ NULL, NULL },
	};

	return cmd_dispatch("classify", cmds, argc, argv, classify_help);
}
