/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Groups for xvr's processes, each in the cpu, memory and pids controllers:
 * cgroup v2 where a controller lives in the unified hierarchy, else its v1
 * mount (the same limits by other file names: cpu.max or cpu.cfs_quota_us,
 * memory.max or memory.limit_in_bytes, pids.max in both).
 */
#ifndef XVR_CGROUP_H
#define XVR_CGROUP_H

#include <stdbool.h>
#include <stddef.h>

/* Creates group NAME ("xvr/<node>/…") limited to share% of one CPU (0: no limit). */
int cg_create(const char *name, unsigned int share);
/* Moves pid (0: the caller) into group NAME, in every controller. */
int cg_attach(const char *name, int pid);
/* Removes group NAME (empty, no children) from every controller. */
int cg_remove(const char *name);
/* Removes group NAME and every (empty) group below it, in every controller. */
int cg_remove_tree(const char *name);
/* The directory of group NAME in the cpu controller, for messages and tests. */
const char *cg_path(const char *name, char *buf, unsigned long len);
const char *cg_ctrl_path(const char *ctrl, const char *name, char *buf, unsigned long len);
/* Whether controller ctrl is in a v2 hierarchy. */
bool cg_v2(const char *ctrl);
int cg_write(const char *ctrl, const char *name, const char *file, const char *val);
/* The first line of a file of the group, without its newline. */
int cg_read(const char *ctrl, const char *name, const char *file, char *buf, size_t len);
/* SIGKILLs every process in the group and below until none is left. */
int cg_kill(const char *name);

#endif
