// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "cgroup.h"

#define CG_PERIOD_US	100000

/* Where the cpu controller is: a v2 hierarchy (true) or v1's cpu mount. */
static const char *cg_root(bool *v2)
{
	static const char *const v2_roots[] = { "/sys/fs/cgroup", "/sys/fs/cgroup/unified" };
	char path[128], buf[256];

	for (size_t i = 0; i < sizeof(v2_roots) / sizeof(v2_roots[0]); i++) {
		FILE *f;

		snprintf(path, sizeof(path), "%s/cgroup.controllers", v2_roots[i]);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(buf, sizeof(buf), f) && strstr(buf, "cpu")) {
			fclose(f);
			*v2 = true;
			return v2_roots[i];
		}
		fclose(f);
	}
	*v2 = false;
	return "/sys/fs/cgroup/cpu";
}

const char *cg_path(const char *name, char *buf, unsigned long len)
{
	bool v2;

	snprintf(buf, len, "%s/%s", cg_root(&v2), name);
	return buf;
}

static int write_file(const char *dir, const char *file, const char *val)
{
	char path[512];
	FILE *f;
	int err = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	if (fputs(val, f) < 0)
		err = -EIO;
	if (fclose(f))
		err = -errno;
	return err;
}

int cg_create(const char *name, unsigned int share)
{
	char dir[512], val[64], *p;
	bool v2;
	const char *root = cg_root(&v2);
	int err;

	snprintf(dir, sizeof(dir), "%s/%s", root, name);
	/* mkdir -p, enabling the cpu controller on the way down in v2 */
	for (p = dir + strlen(root) + 1; ; p++) {
		bool last = !*p;

		if (*p != '/' && !last)
			continue;
		*p = '\0';
		if (mkdir(dir, 0755) && errno != EEXIST)
			return -errno;
		if (v2 && !last)
			write_file(dir, "cgroup.subtree_control", "+cpu");
		if (last)
			break;
		*p = '/';
	}
	if (!share)
		return 0;
	if (v2) {
		snprintf(val, sizeof(val), "%u %u", share * CG_PERIOD_US / 100, CG_PERIOD_US);
		return write_file(dir, "cpu.max", val);
	}
	snprintf(val, sizeof(val), "%u", CG_PERIOD_US);
	err = write_file(dir, "cpu.cfs_period_us", val);
	snprintf(val, sizeof(val), "%u", share * CG_PERIOD_US / 100);
	return err ?: write_file(dir, "cpu.cfs_quota_us", val);
}

int cg_attach(const char *name, int pid)
{
	char dir[512], val[32];

	cg_path(name, dir, sizeof(dir));
	snprintf(val, sizeof(val), "%d", pid ? pid : getpid());
	return write_file(dir, "cgroup.procs", val);
}

int cg_remove(const char *name)
{
	char dir[512];

	cg_path(name, dir, sizeof(dir));
	if (rmdir(dir) && errno != ENOENT)
		return -errno;
	return 0;
}
