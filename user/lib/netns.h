/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Router namespaces: entering them, running code and writing sysctls inside. */
#ifndef XVR_NETNS_H
#define XVR_NETNS_H

#include <stddef.h>

/* "xvr-<node>-<router>", an 'ip netns' name. */
void netns_name(char *buf, size_t len, const char *node, const char *router);
/*
 * Ends every process in the namespace: SIGTERM, then SIGKILL after 2 s.
 * A namespace outlives its name while a process holds it.
 */
int netns_kill_procs(const char *name);
int netns_exists(const char *name);
/* Enter the namespace, an 'ip netns' name or a path (this thread); 0 or -errno. */
int netns_enter(const char *name);
/* The namespace's file (an 'ip netns' name or a path), O_RDONLY; fd or -errno. */
int netns_open(const char *name);
/*
 * Run fn(arg) with this thread in namespace name and return what it
 * returns (or -errno if the namespace cannot be entered); the thread is
 * back in its own namespace afterwards.
 */
int netns_call(const char *name, int (*fn)(void *arg), void *arg);
/* ifindex of ifname inside namespace name, or -errno; the caller stays put. */
int netns_ifindex(const char *name, const char *ifname);
/* Write value to /proc/sys/... path as seen in namespace name (NULL: ours). */
int netns_sysctl(const char *name, const char *path, const char *value);

/*
 * Keep only the capabilities a tenant's router processes need (network
 * administration of their namespace, raw sockets, low ports, file and
 * identity basics); drop the rest from the bounding set too, so no exec
 * regains them. CAP_SYS_ADMIN, CAP_BPF, CAP_PERFMON, … are gone.
 */
int caps_drop_to_tenant(void);

#endif
