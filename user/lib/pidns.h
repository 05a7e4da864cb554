/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A router's PID namespace: owned by the router's user namespace, kept
 * alive by an init of xvr's ('xvr router init NAME', PID 1 there), which
 * runs as the router's root with no capability and does nothing but reap.
 * Engines are born in it (their supervisor enters it before each fork)
 * and 'router exec' runs in it, so a tenant sees and signals its own
 * router's processes and no other.
 *
 * The init is recorded in XVR_RUN_DIR/<node>/pidns/<router>.pid: its host
 * pid, the file locked (flock) for as long as it lives, so a stale file is
 * told apart from a live one; a pidfd taken while the lock is seen held
 * names the init itself, never a process that reused its pid. Killing the
 * init (SIGKILL from the host; from inside, no signal reaches it) ends
 * every process of the namespace.
 */
#ifndef XVR_PIDNS_H
#define XVR_PIDNS_H

#include <stddef.h>

/* Exit status of 'router init' when the router's init runs already. */
#define PIDNS_INIT_EXIT_EXISTS	3

/* XVR_RUN_DIR/<node>/pidns/<router>.pid; -EINVAL, -ENAMETOOLONG or 0. */
int pidns_path(char *buf, size_t len, const char *node, const char *router);
/*
 * Starts the router's init by running exe (an xvr binary) as
 * 'exe -n node router init router'; returns once it runs (0), -EEXIST if
 * one runs already, or -errno.
 */
int pidns_start(const char *exe, const char *node, const char *router);
/* The body of 'router init': the caller is root of the node; 0 once the init runs. */
int pidns_init_run(const char *node, const char *router);
/* A pidfd of the router's live init, or -ENOENT (none, or a stale file). */
int pidns_init_pidfd(const char *node, const char *router);
/* The init's host pid, or -ENOENT. */
int pidns_init_pid(const char *node, const char *router);
/*
 * Makes the router's PID namespace the one the caller's next children are
 * born in (setns; the caller itself stays where it is). -ENOENT without a
 * live init.
 */
int pidns_enter(const char *node, const char *router);
/*
 * Kills the init, and with it every process of the namespace; returns
 * once all of them are gone (0), or -ENOENT if none ran. The pid file goes
 * either way.
 */
int pidns_stop(const char *node, const char *router);

#endif /* XVR_PIDNS_H */
