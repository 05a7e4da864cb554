/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Supervised background processes (fibsync, forwarding engines): a small
 * daemon per process that starts it, restarts it when it dies, and stops it
 * on request.
 *
 * Everything lives in XVR_RUN_DIR/<node>/: <name>.pid holds the
 * supervisor's pid and its current child's, and stays locked (flock) for
 * as long as the supervisor runs, so a stale file is told apart from a live
 * one without trusting pids; <name>.log gets the stdout and stderr of the
 * supervisor and of every run of the child.
 *
 * Restarts: after any exit or signal the child is started again, 200 ms
 * later, the delay doubling up to 5 s while it keeps dying within 10 s of
 * its start. Only SUPERVISE_EXIT_DONE ends supervision (the child's object
 * is gone), and supervise_stop(). The child runs with XVR_SUPERVISED set to
 * the name, and gets SIGTERM should the supervisor die.
 */
#ifndef XVR_SUPERVISE_H
#define XVR_SUPERVISE_H

/* Exit status of a supervised child that is done for good: not restarted. */
#define SUPERVISE_EXIT_DONE	64
/* Environment variable the supervisor sets for its child: the name. */
#define SUPERVISE_ENV		"XVR_SUPERVISED"

/*
 * Starts supervising argv (argv[0] a path; no shell) as name on node.
 * Returns 0 once the supervisor runs (its pidfile written), -EEXIST if one
 * for name runs already, or -errno. The supervisor keeps no descriptor of
 * the caller's (node lock, maps) and leaves the caller's session.
 */
int supervise_start(const char *node, const char *name, char *const argv[]);
/*
 * Stops it: SIGTERM to the supervisor, which stops the child (SIGTERM,
 * SIGKILL after 2 s) and exits. Returns once both are gone (0), or
 * -ENOENT if nothing ran. The pid and log files are removed.
 */
int supervise_stop(const char *node, const char *name);
/*
 * The command line it was started with, NUL-separated, into buf: returns
 * its length, or -ENOENT (never started), -E2BIG, -errno.
 */
int supervise_argv(const char *node, const char *name, char *buf, size_t len);
/* The supervisor's pid, or -ENOENT if it does not run. */
int supervise_pid(const char *node, const char *name);
/* The pid of the child running now, or -ENOENT (also between restarts). */
int supervise_child(const char *node, const char *name);

#endif /* XVR_SUPERVISE_H */
