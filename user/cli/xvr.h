/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* What the CLI's object files share: argument cursor, node handle, dispatch. */
#ifndef XVR_CLI_H
#define XVR_CLI_H

#include <errno.h>
#include <string.h>
#include "common.h"
#include "node.h"
#include "print.h"
#include "objects.h"

/* The -n option or $XVR_NODE, resolved by main. */
extern const char *cli_node;

/*
 * Argument cursor: every do_<object>() gets the words after the object name.
 * NEXT_ARG() moves on and fails with a message naming what is missing.
 */
#define NEXT_ARG()								\
	do {									\
		argc--, argv++;							\
		if (argc <= 0) {						\
			pr_warn("%s: missing argument after '%s'\n", cli_object, argv[-1]); \
			return -EINVAL;						\
		}								\
	} while (0)
#define NEXT_ARG_OK() (argc - 1 > 0)
#define SHIFT_ARG() (argc--, argv++)

extern const char *cli_object;	/* for messages: "router", "route", … */

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
};

/* Runs the command whose name argv[0] is a prefix of; "help" when argc is 0. */
int cmd_dispatch(const char *object, const struct cmd *cmds, int argc, char **argv,
		 int (*help)(void));
int bad_arg(const char *what, const char *arg);
/* "OBJECT: unexpected argument 'ARG'": the one message for a word too many. */
int unexpected_arg(const char *arg);
/*
 * For commands of exactly want words, when argc != want: names the first
 * word too many, or prints the usage when words are missing. -EINVAL.
 */
int cli_nargs(int argc, char **argv, int want, int (*help)(void));
/*
 * For option loops: fails, naming it, when arg is a keyword (id, mode,
 * port, mac, …) that *seen says was given already. *seen starts at 0.
 */
int arg_once(unsigned int *seen, const char *arg);

/* Opens (and for mutations locks) the current node; prints on failure. */
int cli_node_open(struct xvr_node *n, bool lock);
/*
 * Listings. cli_list_open() serves 'OBJECT list [ROUTER]': it opens the
 * node, resolves the optional router into *only (0: all routers; only
 * NULL: the listing takes no argument) and opens the array of rows. It
 * prints on failure; the node is closed then. cli_list_close() closes the
 * array and the node and returns 0.
 */
int cli_list_open(int argc, char **argv, struct xvr_node *n, __u32 *only);
/* For 'OBJECT show' that takes no argument: opens the node read-only. */
int cli_show_open(int argc, char **argv, struct xvr_node *n);
/* Ends what a show printed and closes the node; returns 0. */
int cli_show_close(struct xvr_node *n);
int cli_list_close(struct xvr_node *n);
/* A row of a listing: what id is, if it exists and belongs to only (0: any). */
typedef void (*cli_row_fn)(struct xvr_node *n, __u32 id, __u32 only);
/*
 * The start of a row of router vr_id's object named name (JSON key key):
 * false if only (0: any) is another router; else opens the row and prints
 * router, name and id.
 */
bool cli_row_open(struct xvr_node *n, __u32 vr_id, __u32 only, const char *key,
		  const char *name, __u32 id);
/* A whole listing by id: row() for each id in [1, end), between open and close. */
int cli_list(int argc, char **argv, bool by_router, __u32 end, cli_row_fn row);

/* Removes router id and all it owns (rules, VIFs, FIB, nexthops, namespace). */
int router_destroy(struct xvr_node *n, __u32 id);
/* Starts the router's PID namespace (its init), saying why not. */
int router_pidns_start(const char *node, const char *router);
/* What router_release removed. */
struct router_released {
	int fes, vifs, nexthops;
	bool fib;
};
/* Router slot id's engines, VIFs, FIB, nexthops and the slot; not its rules. */
int router_release(struct xvr_node *n, __u32 id, struct router_released *rel);
/*
 * Removes what killed commands left behind (user/cli/repair.c); the node
 * is locked. Reports each fix on stderr, returns how many.
 */
int node_repair(struct xvr_node *n);

int do_node(int argc, char **argv);
int do_port(int argc, char **argv);
int do_router(int argc, char **argv);
int do_classify(int argc, char **argv);
/*
 * Every classifier rule of the node, exact kinds first, then prefixes: cb
 * gets its kind, its value as 'classify add' takes it (NULL for default),
 * its port (0: any) and the router (and VIF) it maps to.
 */
typedef void (*rule_walk_cb)(struct xvr_node *n, __u8 kind, const char *value, __u32 ifindex,
			     const struct xvr_cls_val *val, void *ctx);
void rules_walk(struct xvr_node *n, rule_walk_cb cb, void *ctx);
/* The keyword of a rule kind ('mac', 'prefix', …), NULL for an unknown one. */
const char *rule_kind_name(__u8 kind);
int do_route(int argc, char **argv);
/*
 * A forwarding nexthop's fields as 'route list' and 'fibsync show' print
 * them: type unicast, via, lladdr, dev, vlan (user/cli/route.c).
 */
struct nexthop;
void nexthop_print_unicast(const struct nexthop *nh);
int do_fibsync(int argc, char **argv);
/* fibsync of an xdp-mode router under supervision (user/cli/fibsync.c). */
int fibsync_start(const char *node, const char *router);
int fibsync_stop(const char *node, const char *router);
/* The running fibsync's pid, or -ENOENT. */
int fibsync_pid(const char *node, const char *router);
int do_vif(int argc, char **argv);
int do_fe(int argc, char **argv);
int do_stats(int argc, char **argv);
int do_link(int argc, char **argv);
/* For 'xvr stats link ROUTER NAME': the link's id; prints on failure. */
int link_stats_find(struct xvr_node *n, const char *router, const char *name, __u32 *id);
int do_top(int argc, char **argv);
int do_limit(int argc, char **argv);
int do_fair(int argc, char **argv);
/* Removes the router's limits (back to no limit, the default punt budget). */
int limit_clear(struct xvr_node *n, __u32 id);
int do_version(int argc, char **argv);
int do_batch(int argc, char **argv);
int do_trace(int argc, char **argv);
int do_exporter(int argc, char **argv);
int do_doctor(int argc, char **argv);
/* 'xvr stats --format prometheus' (user/cli/metrics.c). */
int stats_prometheus(void);

/*
 * Batches (user/cli/config.c). cli_run() runs one command, the words after
 * the global options, as main does: a batch line goes the same way.
 */
int cli_run(int argc, char **argv);
int cli_batch(const char *file, bool force);
/* 'xvr node save': the node as the commands that rebuild it. */
int node_save(int argc, char **argv);
/*
 * --dry-run: cli_node_open() returns CLI_DRY_RUN (> 0) instead of opening,
 * so a command stops once its words are parsed; cli_run() counts that as
 * success.
 */
extern bool cli_dry_run;
#define CLI_DRY_RUN	1
/* The supervisor of the router's fibsync, or -ENOENT if none runs. */
int fibsync_supervised(const char *node, const char *router);
/* The router's limits as one line (text) or a "limit" object (JSON). */
void limit_print_brief(struct xvr_node *n, __u32 id);

#endif
