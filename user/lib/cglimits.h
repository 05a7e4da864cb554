/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A router's resource limits: one cgroup per router,
 * xvr/<node>/routers/<router>, in the cpu, memory and pids controllers.
 * 'router exec' puts the tenant's processes in its leaf "tenant", each
 * engine has a leaf of its own (fe<ID>, with the engine's CPU share), so
 * the router's limits bound all of them together. The cgroup files are
 * the record: the limits are read back from them.
 */
#ifndef XVR_CGLIMITS_H
#define XVR_CGLIMITS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

struct router_limits {
	unsigned int cpu;	/* % of one CPU; 0: unlimited */
	__u64 memory;		/* bytes; 0: unlimited */
	unsigned int pids;	/* processes and threads; 0: unlimited */
};

/* What a node gives a new router until 'node set router-defaults' says otherwise. */
#define ROUTER_LIMITS_BUILTIN	{ .cpu = 0, .memory = 1ull << 30, .pids = 1024 }
#define LIMIT_MEMORY_MIN	(4ull << 20)
#define LIMIT_PIDS_MAX		4194304u

/* "xvr/<node>/routers/<router>[/<leaf>]" */
void router_cg_name(char *buf, size_t len, const char *node, const char *router,
		    const char *leaf);
/* Creates the router's group and its tenant leaf with limits l. */
int router_cg_create(const char *node, const char *router, const struct router_limits *l);
/* Sets all three limits, or none: on a refusal the old ones are put back. */
int router_cg_apply(const char *node, const char *router, const struct router_limits *l);
int router_cg_read(const char *node, const char *router, struct router_limits *l);
/* Moves pid (0: the caller) into the router's tenant leaf. */
int router_cg_join(const char *node, const char *router, int pid);
/* Kills every process left in the router's group, then removes it. */
int router_cg_destroy(const char *node, const char *router);

/*
 * One keyword of a limit and its value ("cpu PCT|max", "memory BYTES[K|M|G]|max",
 * "pids N|max") into l: 1 if key is a limit keyword and val parsed, 0 if key
 * is no limit keyword, -EINVAL if val is bad.
 */
int limit_parse(const char *key, const char *val, struct router_limits *l);
enum { LIMIT_CPU, LIMIT_MEMORY, LIMIT_PIDS, LIMIT_KINDS };
/* Index of a limit keyword (prefixes match), or -1. */
int limit_keyword(const char *key);
/* What a bad value of each was meant to be, for messages. */
extern const char *const limit_what[LIMIT_KINDS];
/* The limits of src whose set[] is true, into dst. */
void limits_merge(struct router_limits *dst, const struct router_limits *src,
		  const bool set[LIMIT_KINDS]);
/* " cpu PCT memory BYTES pids N" (JSON: cpu, memory, pids; 0 is unlimited). */
void limits_print(const struct router_limits *l);

/* The node's defaults for new routers (built-in ones if never set). */
int router_defaults_read(const char *node, struct router_limits *l);
int router_defaults_write(const char *node, const struct router_limits *l);
int router_defaults_remove(const char *node);

#endif
