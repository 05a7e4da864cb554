// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "cgroup.h"

#define CG_PERIOD_US	100000

/* Every group exists in each of these; a process joins it in each. */
static const char *const cg_ctrls[] = { "cpu", "memory", "pids" };

/* Whether the v2 hierarchy at root offers ctrl (a word of cgroup.controllers). */
static bool v2_has(const char *root, const char *ctrl)
{
	char path[128], buf[512], *tok, *save;
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "%s/cgroup.controllers", root);
	f = fopen(path, "r");
	if (!f)
		return false;
	if (fgets(buf, sizeof(buf), f))
		for (tok = strtok_r(buf, " \n", &save); tok && !found;
		     tok = strtok_r(NULL, " \n", &save))
			found = !strcmp(tok, ctrl);
	fclose(f);
	return found;
}

/* Where controller ctrl is: a v2 hierarchy (true) or v1's mount of it. */
static const char *cg_root(const char *ctrl, bool *v2, char *buf, size_t len)
{
	static const char *const v2_roots[] = { "/sys/fs/cgroup", "/sys/fs/cgroup/unified" };

	for (size_t i = 0; i < sizeof(v2_roots) / sizeof(v2_roots[0]); i++) {
		if (v2_has(v2_roots[i], ctrl)) {
			*v2 = true;
			return v2_roots[i];
		}
	}
	*v2 = false;
	snprintf(buf, len, "/sys/fs/cgroup/%s", ctrl);
	return buf;
}

bool cg_v2(const char *ctrl)
{
	char buf[64];
	bool v2;

	cg_root(ctrl, &v2, buf, sizeof(buf));
	return v2;
}

const char *cg_path(const char *name, char *buf, unsigned long len)
{
	return cg_ctrl_path("cpu", name, buf, len);
}

const char *cg_ctrl_path(const char *ctrl, const char *name, char *buf, unsigned long len)
{
	char rbuf[64];
	bool v2;

	snprintf(buf, len, "%s/%s", cg_root(ctrl, &v2, rbuf, sizeof(rbuf)), name);
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

/* mkdir -p of name under ctrl's root, enabling ctrl on the way down in v2. */
static int cg_mkdir(const char *ctrl, const char *name)
{
	char dir[512], rbuf[64], enable[32], *p;
	bool v2;
	const char *root = cg_root(ctrl, &v2, rbuf, sizeof(rbuf));

	if (access(root, F_OK))
		return -errno;
	snprintf(dir, sizeof(dir), "%s/%s", root, name);
	snprintf(enable, sizeof(enable), "+%s", ctrl);
	for (p = dir + strlen(root) + 1; ; p++) {
		bool last = !*p;

		if (*p != '/' && !last)
			continue;
		*p = '\0';
		if (mkdir(dir, 0755) && errno != EEXIST)
			return -errno;
		if (v2 && !last)
			write_file(dir, "cgroup.subtree_control", enable);
		if (last)
			break;
		*p = '/';
	}
	return 0;
}

int cg_create(const char *name, unsigned int share)
{
	char dir[512], val[64];
	int err = 0;

	for (size_t i = 0; !err && i < sizeof(cg_ctrls) / sizeof(cg_ctrls[0]); i++)
		err = cg_mkdir(cg_ctrls[i], name);
	if (err || !share)
		return err;
	cg_path(name, dir, sizeof(dir));
	if (cg_v2("cpu")) {
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
	int err = 0;

	snprintf(val, sizeof(val), "%d", pid ? pid : getpid());
	for (size_t i = 0; !err && i < sizeof(cg_ctrls) / sizeof(cg_ctrls[0]); i++) {
		cg_ctrl_path(cg_ctrls[i], name, dir, sizeof(dir));
		err = write_file(dir, "cgroup.procs", val);
	}
	return err;
}

int cg_remove(const char *name)
{
	char dir[512];
	int err = 0;

	for (size_t i = 0; i < sizeof(cg_ctrls) / sizeof(cg_ctrls[0]); i++) {
		cg_ctrl_path(cg_ctrls[i], name, dir, sizeof(dir));
		if (rmdir(dir) && errno != ENOENT && !err)
			err = -errno;
	}
	return err;
}

/* rmdir of dir after the groups below it, depth first. */
static int rmdir_tree(const char *dir)
{
	char path[768];
	struct dirent *de;
	DIR *d = opendir(dir);

	while (d && (de = readdir(d))) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		rmdir_tree(path);
	}
	if (d)
		closedir(d);
	return rmdir(dir) && errno != ENOENT ? -errno : 0;
}

int cg_remove_tree(const char *name)
{
	char dir[512];
	int err = 0, e;

	for (size_t i = 0; i < sizeof(cg_ctrls) / sizeof(cg_ctrls[0]); i++) {
		e = rmdir_tree(cg_ctrl_path(cg_ctrls[i], name, dir, sizeof(dir)));
		err = err ?: e;
	}
	return err;
}

int cg_write(const char *ctrl, const char *name, const char *file, const char *val)
{
	char dir[512];

	return write_file(cg_ctrl_path(ctrl, name, dir, sizeof(dir)), file, val);
}

int cg_read(const char *ctrl, const char *name, const char *file, char *buf, size_t len)
{
	char path[512];
	FILE *f;
	int err = 0;

	cg_ctrl_path(ctrl, name, path, sizeof(path));
	strncat(path, "/", sizeof(path) - strlen(path) - 1);
	strncat(path, file, sizeof(path) - strlen(path) - 1);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	if (!fgets(buf, len, f))
		err = -EIO;
	else
		buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
	return err;
}

/* SIGKILLs every process of dir and the groups below it; returns how many. */
static int kill_tree(const char *dir)
{
	char path[768], line[32];
	struct dirent *de;
	int cnt = 0;
	FILE *f;
	DIR *d;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (atoi(line) > 1 && !kill(atoi(line), SIGKILL))
			cnt++;
	if (f)
		fclose(f);
	d = opendir(dir);
	while (d && (de = readdir(d))) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		cnt += kill_tree(path);
	}
	if (d)
		closedir(d);
	return cnt;
}

int cg_kill(const char *name)
{
	char dir[512];
	int cnt = 0;

	/* Killed processes leave their group a moment later: until it is empty. */
	for (int round = 0; round < 100; round++) {
		cnt = kill_tree(cg_ctrl_path("pids", name, dir, sizeof(dir)));
		if (!cnt)
			break;
		usleep(10000);
	}
	return cnt ? -EBUSY : 0;
}
