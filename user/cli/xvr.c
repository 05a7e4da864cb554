// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* xvr: loader and command line of the xvr virtual router platform. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "xvr.h"

const char *cli_node;
const char *cli_object = "xvr";

static int help(void)
{
	fprintf(stderr,
		"Usage: xvr [OPTIONS] OBJECT COMMAND [ARGS]\n"
		"       xvr OBJECT help\n"
		"       xvr { -V | version }\n"
		"       xvr [-force] [--dry-run] { -b FILE | batch FILE }\n"
		"OBJECT := { node | port | router | vif | link | fe | classify | route | fibsync | stats |\n"
		"            top | limit | trace | exporter | doctor | batch | version }\n"
		"OPTIONS := { -j[son] | -p[retty] | -v[erbose] | -n NODE | -force | --dry-run }\n"
		"  -n NODE   act on node NODE (default: $XVR_NODE or 'default');\n"
		"            its objects are pinned under " XVR_PIN_BASE "/NODE/\n");
	return 0;
}

static int do_help(int argc, char **argv)
{
	return help();
}

int bad_arg(const char *what, const char *arg)
{
	pr_warn("%s: invalid %s '%s'\n", cli_object, what, arg);
	return -EINVAL;
}

int unexpected_arg(const char *arg)
{
	pr_warn("%s: unexpected argument '%s'\n", cli_object, arg);
	return -EINVAL;
}

int cli_nargs(int argc, char **argv, int want, int (*help_fn)(void))
{
	if (argc > want)
		return unexpected_arg(argv[want]);
	help_fn();
	return -EINVAL;
}

int arg_once(unsigned int *seen, const char *arg)
{
	/* Every keyword that takes a value, in any command. */
	static const char *const kws[] = {
		"id", "mode", "fibsync", "port", "mac", "vlan", "cpu", "share", "weight", "pool",
		"batch", "idle", "plugin", "args", "capacity", "interval", "dist",
	};

	for (unsigned int i = 0; i < ARRAY_SIZE(kws); i++) {
		if (!matches(arg, kws[i]))
			continue;
		if (*seen & (1u << i)) {
			pr_warn("%s: '%s' given twice\n", cli_object, kws[i]);
			return -EINVAL;
		}
		*seen |= 1u << i;
		return 0;
	}
	return 0;
}

int cmd_dispatch(const char *object, const struct cmd *cmds, int argc, char **argv,
		 int (*help_fn)(void))
{
	cli_object = object;
	if (argc < 1 || matches(argv[0], "help"))
		return help_fn();
	/* An exact name wins ("route" is also a prefix of "router"). */
	for (const struct cmd *c = cmds; c->name; c++)
		if (!strcmp(argv[0], c->name))
			return c->fn(argc - 1, argv + 1);
	for (const struct cmd *c = cmds; c->name; c++)
		if (matches(argv[0], c->name))
			return c->fn(argc - 1, argv + 1);
	if (!strcmp(object, "xvr"))
		pr_warn("xvr: unknown object '%s' (try 'xvr help')\n", argv[0]);
	else
		pr_warn("%s: unknown command '%s' (try 'xvr %s help')\n", object, argv[0], object);
	return -EINVAL;
}

int cli_node_open(struct xvr_node *n, bool lock)
{
	int lock_fd, err;

	/* --dry-run: the command's words were parsed; act on nothing. */
	if (cli_dry_run) {
		xvr_node_init(n, cli_node);
		return CLI_DRY_RUN;
	}

	if (!lock)
		return xvr_node_open(n, cli_node);
	/*
	 * The lock comes before the pins: a command queued behind 'node down'
	 * opens what is pinned once it runs (nothing, so it fails cleanly),
	 * never maps that were unpinned while it waited.
	 */
	if (!xvr_node_name_ok(cli_node))
		return xvr_node_open(n, cli_node);	/* names the bad name */
	xvr_node_init(n, cli_node);
	err = xvr_node_lock(n);
	if (err) {
		pr_warn("node %s: cannot take lock: %s\n", n->name, strerror(-err));
		return err;
	}
	lock_fd = n->lock_fd;
	err = xvr_node_open(n, cli_node);	/* resets the handle */
	n->lock_fd = lock_fd;
	if (err) {
		/*
		 * Not up: the lock file taking the lock created goes again,
		 * unlinked while held as 'node down' does (a waiter then locks
		 * the file at the path anew), so that commands on nodes that
		 * are not up leave nothing behind.
		 */
		if (err == -ENOENT) {
			char path[PATH_MAX];

			xvr_node_lock_path(path, sizeof(path), n->name);
			unlink(path);
		}
		xvr_node_close(n);
		return err;
	}
	xvr_die_at("lock");
	return 0;
}

int cli_show_open(int argc, char **argv, struct xvr_node *n)
{
	if (argc)
		return unexpected_arg(argv[0]);
	return cli_node_open(n, false);
}

int cli_show_close(struct xvr_node *n)
{
	print_end();
	xvr_node_close(n);
	return 0;
}

int cli_list_open(int argc, char **argv, struct xvr_node *n, __u32 *only)
{
	int err;

	if (only)
		*only = 0;
	err = only && argc > 1 ? unexpected_arg(argv[1]) :
	      cli_show_open(only ? 0 : argc, argv, n);
	if (err)
		return err;
	if (argc == 1 && router_find(n, argv[0], only, NULL)) {
		pr_warn("%s: router %s: no such router\n", cli_object, argv[0]);
		xvr_node_close(n);
		return -ENOENT;
	}
	print_open_array(NULL);
	return 0;
}

int cli_list_close(struct xvr_node *n)
{
	print_close_array();
	return cli_show_close(n);
}

bool cli_row_open(struct xvr_node *n, __u32 vr_id, __u32 only, const char *key,
		  const char *name, __u32 id)
{
	struct xvr_router r = {};

	if (only && vr_id != only)
		return false;
	router_get(n, vr_id, &r);
	print_open_object(NULL);
	print_string("router", "%-16s", r.name);
	print_string(key, " %-16s", name);
	print_u64("id", " id %-4llu", id);
	return true;
}

int cli_list(int argc, char **argv, bool by_router, __u32 end, cli_row_fn row)
{
	struct xvr_node n;
	__u32 only = 0;
	int err;

	err = cli_list_open(argc, argv, &n, by_router ? &only : NULL);
	if (err)
		return err;
	for (__u32 id = 1; id < end; id++)
		row(&n, id, only);
	return cli_list_close(&n);
}

static const struct cmd objects[] = {
	{ "node", do_node },
	{ "port", do_port },
	{ "router", do_router },
	{ "vif", do_vif },
	{ "link", do_link },
	{ "fe", do_fe },
	{ "classify", do_classify },
	{ "route", do_route },
	{ "fibsync", do_fibsync },
	{ "stats", do_stats },
	{ "top", do_top },
	{ "limit", do_limit },
	{ "fair", do_fair },
	{ "version", do_version },
	{ "batch", do_batch },
	{ "trace", do_trace },
	{ "exporter", do_exporter },
	{ "doctor", do_doctor },
	{ "help", do_help },
	{ NULL, NULL },
};

int cli_run(int argc, char **argv)
{
	int err = cmd_dispatch("xvr", objects, argc, argv, help);

	return err == CLI_DRY_RUN ? 0 : err;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "pretty", no_argument, NULL, 'p' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "node", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "batch", required_argument, NULL, 'b' },
		{ "force", no_argument, NULL, 'f' },
		{ "dry-run", no_argument, NULL, 'D' },
		{ NULL, 0, NULL, 0 },
	};
	const char *node_opt = NULL;
	const char *batch = NULL;
	bool version = false, force = false;
	int opt, err;

	setvbuf(stdout, NULL, _IOLBF, 0);
	/* iproute2 spells them with one dash: -force, -batch. */
	for (int i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-force"))
			argv[i] = "--force";
		else if (!strcmp(argv[i], "-dry-run"))
			argv[i] = "--dry-run";
		else if (!strcmp(argv[i], "-batch"))
			argv[i] = "-b";
		if (!strcmp(argv[i], "-b") || !strcmp(argv[i], "-n"))
			i++;	/* skip the option's value */
	}
	/* '+': stop at the first non-option so "route add … -j" stays an argument */
	while ((opt = getopt_long(argc, argv, "+jpvn:hVb:", opts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			print_json = true;
			break;
		case 'p':
			print_json = true;
			print_pretty = true;
			break;
		case 'v':
			xvr_verbose++;
			break;
		case 'n':
			node_opt = optarg;
			break;
		case 'h':
			return help();
		case 'V':
			version = true;
			break;
		case 'b':
			batch = optarg;
			break;
		case 'f':
			force = true;
			break;
		case 'D':
			cli_dry_run = true;
			break;
		default:
			help();
			return 2;
		}
	}
	cli_node = xvr_node_name(node_opt);
	xvr_libbpf_logging();
	/* A node in a namespace of its own is reached there, whatever runs us. */
	if (xvr_node_name_ok(cli_node) && xvr_node_enter(cli_node))
		return 1;
	argc -= optind;
	argv += optind;
	if (version)
		return do_version(argc, argv) ? 1 : 0;
	if (batch) {
		if (argc)
			return unexpected_arg(argv[0]) ? 1 : 0;
		return cli_batch(batch, force) ? 1 : 0;
	}
	if (argc < 1) {
		help();
		return 2;
	}
	err = cli_run(argc, argv);
	return err ? 1 : 0;
}
