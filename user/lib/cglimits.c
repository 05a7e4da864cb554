// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "common.h"
#include "cgroup.h"
#include "cglimits.h"
#include "print.h"
#include "sandbox.h"

#define CG_PERIOD_US	100000
#define TENANT_LEAF	"tenant"

void router_cg_name(char *buf, size_t len, const char *node, const char *router,
		    const char *leaf)
{
	snprintf(buf, len, "xvr/%s/routers/%s%s%s", node, router, leaf ? "/" : "",
		 leaf ? leaf : "");
}

static int cpu_write(const char *cg, unsigned int pct)
{
	char val[64];
	int err;

	if (cg_v2("cpu")) {
		if (pct)
			snprintf(val, sizeof(val), "%llu %u",
				 (unsigned long long)pct * CG_PERIOD_US / 100, CG_PERIOD_US);
		else
			snprintf(val, sizeof(val), "max %u", CG_PERIOD_US);
		return cg_write("cpu", cg, "cpu.max", val);
	}
	snprintf(val, sizeof(val), "%u", CG_PERIOD_US);
	err = cg_write("cpu", cg, "cpu.cfs_period_us", val);
	if (pct)
		snprintf(val, sizeof(val), "%llu", (unsigned long long)pct * CG_PERIOD_US / 100);
	else
		snprintf(val, sizeof(val), "-1");
	return err ?: cg_write("cpu", cg, "cpu.cfs_quota_us", val);
}

static int memory_write(const char *cg, __u64 bytes)
{
	char val[32];
	bool v2 = cg_v2("memory");

	if (bytes)
		snprintf(val, sizeof(val), "%llu", (unsigned long long)bytes);
	else
		snprintf(val, sizeof(val), v2 ? "max" : "-1");
	return cg_write("memory", cg, v2 ? "memory.max" : "memory.limit_in_bytes", val);
}

static int pids_write(const char *cg, unsigned int pids)
{
	char val[32];

	if (pids)
		snprintf(val, sizeof(val), "%u", pids);
	else
		snprintf(val, sizeof(val), "max");
	return cg_write("pids", cg, "pids.max", val);
}

static int limits_write(const char *cg, const struct router_limits *l)
{
	int err = cpu_write(cg, l->cpu);

	if (err) {
		pr_warn("cpu %u: %s\n", l->cpu, strerror(-err));
		return err;
	}
	err = memory_write(cg, l->memory);
	if (err) {
		pr_warn("memory %llu: %s\n", (unsigned long long)l->memory, strerror(-err));
		return err;
	}
	err = pids_write(cg, l->pids);
	if (err)
		pr_warn("pids %u: %s\n", l->pids, strerror(-err));
	return err;
}

int router_cg_read(const char *node, const char *router, struct router_limits *l)
{
	char cg[256], buf[64];
	long long quota, period = CG_PERIOD_US;
	unsigned long long mem;
	int err;

	router_cg_name(cg, sizeof(cg), node, router, NULL);
	memset(l, 0, sizeof(*l));
	if (cg_v2("cpu")) {
		err = cg_read("cpu", cg, "cpu.max", buf, sizeof(buf));
		if (!err && sscanf(buf, "%lld %lld", &quota, &period) != 2)
			quota = -1;
	} else {
		err = cg_read("cpu", cg, "cpu.cfs_quota_us", buf, sizeof(buf));
		quota = err ? -1 : atoll(buf);
		if (!err && !cg_read("cpu", cg, "cpu.cfs_period_us", buf, sizeof(buf)))
			period = atoll(buf);
	}
	if (err)
		return err;
	if (quota > 0 && period > 0)
		l->cpu = quota * 100 / period;
	err = cg_read("memory", cg, cg_v2("memory") ? "memory.max" : "memory.limit_in_bytes",
		      buf, sizeof(buf));
	if (err)
		return err;
	mem = strtoull(buf, NULL, 10);
	/* v1 says "unlimited" with the largest page-aligned long. */
	l->memory = strcmp(buf, "max") && mem < (1ull << 62) ? mem : 0;
	err = cg_read("pids", cg, "pids.max", buf, sizeof(buf));
	if (err)
		return err;
	l->pids = strcmp(buf, "max") ? strtoul(buf, NULL, 10) : 0;
	return 0;
}

int router_cg_apply(const char *node, const char *router, const struct router_limits *l)
{
	struct router_limits old;
	char cg[256];
	int err;

	router_cg_name(cg, sizeof(cg), node, router, NULL);
	err = router_cg_read(node, router, &old);
	if (err)
		return err;
	err = limits_write(cg, l);
	if (err)
		limits_write(cg, &old);
	return err;
}

int router_cg_create(const char *node, const char *router, const struct router_limits *l)
{
	char cg[256];
	int err;

	router_cg_name(cg, sizeof(cg), node, router, TENANT_LEAF);
	err = cg_create(cg, 0);
	if (err)
		return err;
	router_cg_name(cg, sizeof(cg), node, router, NULL);
	return limits_write(cg, l);
}

int router_cg_join(const char *node, const char *router, int pid)
{
	char cg[256];

	router_cg_name(cg, sizeof(cg), node, router, TENANT_LEAF);
	return cg_attach(cg, pid);
}

int router_cg_destroy(const char *node, const char *router)
{
	char cg[256];
	int err;

	router_cg_name(cg, sizeof(cg), node, router, NULL);
	err = cg_kill(cg);
	/* The tenant's leaf, and any engine's an engine left behind. */
	return cg_remove_tree(cg) ?: err;
}

static int parse_limit_u64(const char *s, __u64 max, __u64 *out, bool suffixes)
{
	unsigned long long v, mult = 1;
	char *end;

	if (!strcmp(s, "max")) {
		*out = 0;
		return 0;
	}
	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	if (suffixes && *end) {
		switch (*end++) {
		case 'k': case 'K': mult = 1ull << 10; break;
		case 'm': case 'M': mult = 1ull << 20; break;
		case 'g': case 'G': mult = 1ull << 30; break;
		default: return -EINVAL;
		}
	}
	if (*end || !v || v > max / mult)
		return -EINVAL;
	*out = v * mult;
	return 0;
}

static const char *const limit_keys[LIMIT_KINDS] = { "cpu", "memory", "pids" };
const char *const limit_what[LIMIT_KINDS] = {
	"cpu (percent of one CPU, up to 100 per CPU, or max)",
	"memory (bytes, K/M/G suffix, at least 4M, or max)",
	"pids (1..4194304 or max)",
};

int limit_keyword(const char *key)
{
	for (int i = 0; i < LIMIT_KINDS; i++)
		if (matches(key, limit_keys[i]))
			return i;
	return -1;
}

void limits_merge(struct router_limits *dst, const struct router_limits *src,
		  const bool set[LIMIT_KINDS])
{
	if (set[LIMIT_CPU])
		dst->cpu = src->cpu;
	if (set[LIMIT_MEMORY])
		dst->memory = src->memory;
	if (set[LIMIT_PIDS])
		dst->pids = src->pids;
}

static void limit_print(const char *key, __u64 val)
{
	char text[32];

	if (print_json) {
		print_u64(key, NULL, val);
		return;
	}
	if (val)
		snprintf(text, sizeof(text), "%llu", (unsigned long long)val);
	else
		snprintf(text, sizeof(text), "max");
	print_text(" %s %s", key, text);
}

void limits_print(const struct router_limits *l)
{
	limit_print("cpu", l->cpu);
	limit_print("memory", l->memory);
	limit_print("pids", l->pids);
}

int limit_parse(const char *key, const char *val, struct router_limits *l)
{
	long ncpus = sysconf(_SC_NPROCESSORS_CONF);
	__u64 v;

	if (matches(key, "cpu")) {
		if (parse_limit_u64(val, (ncpus > 0 ? ncpus : 1) * 100, &v, false))
			return -EINVAL;
		l->cpu = v;
	} else if (matches(key, "memory")) {
		if (parse_limit_u64(val, 1ull << 50, &v, true) || (v && v < LIMIT_MEMORY_MIN))
			return -EINVAL;
		l->memory = v;
	} else if (matches(key, "pids")) {
		if (parse_limit_u64(val, LIMIT_PIDS_MAX, &v, false))
			return -EINVAL;
		l->pids = v;
	} else {
		return 0;
	}
	return 1;
}

static void defaults_path(char *buf, size_t len, const char *node)
{
	snprintf(buf, len, "%s/%s/router-defaults", XVR_STATE_DIR, node);
}

int router_defaults_read(const char *node, struct router_limits *l)
{
	struct router_limits builtin = ROUTER_LIMITS_BUILTIN;
	unsigned long long mem;
	char path[PATH_MAX];
	FILE *f;

	*l = builtin;
	defaults_path(path, sizeof(path), node);
	f = fopen(path, "r");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	if (fscanf(f, "cpu %u memory %llu pids %u", &l->cpu, &mem, &l->pids) == 3)
		l->memory = mem;
	else
		*l = builtin;
	fclose(f);
	return 0;
}

int router_defaults_write(const char *node, const struct router_limits *l)
{
	char path[PATH_MAX], text[96];
	int len;

	snprintf(path, sizeof(path), "%s", XVR_STATE_DIR);
	if (mkdir(path, 0755) && errno != EEXIST)
		return -errno;
	snprintf(path, sizeof(path), "%s/%s", XVR_STATE_DIR, node);
	if (mkdir(path, 0700) && errno != EEXIST)
		return -errno;
	defaults_path(path, sizeof(path), node);
	len = snprintf(text, sizeof(text), "cpu %u memory %llu pids %u\n", l->cpu,
		       (unsigned long long)l->memory, l->pids);
	/* A reader sees the old defaults or the new ones, never half. */
	return file_replace(path, text, len, 0666);
}

int router_defaults_remove(const char *node)
{
	char path[PATH_MAX];

	defaults_path(path, sizeof(path), node);
	if (unlink(path) && errno != ENOENT)
		return -errno;
	snprintf(path, sizeof(path), "%s/%s", XVR_STATE_DIR, node);
	rmdir(path);
	return 0;
}
