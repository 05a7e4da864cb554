/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * CPU shares for xvr's processes: cgroup v2's cpu.max where the cpu
 * controller lives in the unified hierarchy, else the v1 cpu controller's
 * cfs quota (the same limit by another name).
 */
#ifndef XVR_CGROUP_H
#define XVR_CGROUP_H

/* Creates group NAME ("xvr/<node>/<leaf>") limited to share% of one CPU (0: no limit). */
int cg_create(const char *name, unsigned int share);
/* Moves pid (0: the caller) into group NAME. */
int cg_attach(const char *name, int pid);
int cg_remove(const char *name);
/* The directory of group NAME, for messages and tests. */
const char *cg_path(const char *name, char *buf, unsigned long len);

#endif
