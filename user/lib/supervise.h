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
 * its start. A child that is stopped (SIGSTOP, SIGTSTP, …: it would hold its
 * work forever) is killed and restarted the same way, and so is one that a
 * probe (below) finds hung. Only SUPERVISE_EXIT_DONE (the child's object is
 * gone), a probe that says so, and supervise_stop() end supervision. The
 * child runs with XVR_SUPERVISED set to the name, and gets SIGTERM should
 * the supervisor die.
 */
#ifndef XVR_SUPERVISE_H
#define XVR_SUPERVISE_H

/* Exit status of a supervised child that is done for good: not restarted. */
#define SUPERVISE_EXIT_DONE	64
/* Environment variable the supervisor sets for its child: the name. */
#define SUPERVISE_ENV		"XVR_SUPERVISED"

/* What a probe finds. */
enum supervise_health {
	SUPERVISE_OK = 0,
	SUPERVISE_HUNG = 1,	/* alive but not working: kill it, start it again */
	SUPERVISE_GONE = 2,	/* its object is gone: stop it, supervise no more */
};

/*
 * A check of the child's health, run by the supervisor every interval_ms
 * while the child runs. The supervisor is a fork of the caller: check runs
 * the caller's code, with none of its descriptors, on arg (copied into the
 * supervisor when it starts). started_ms is when this run of the child
 * began (CLOCK_MONOTONIC). restarted, if set, is called before each
 * restart with how many there were so far (to publish the count).
 */
struct supervise_probe {
	enum supervise_health (*check)(const void *arg, long started_ms);
	void (*restarted)(const void *arg, unsigned long restarts);
	const void *arg;
	long interval_ms;
};

/*
 * Starts supervising argv (argv[0] a path; no shell) as name on node.
 * Returns 0 once the supervisor runs (its pidfile written), -EEXIST if one
 * for name runs already, or -errno. The supervisor keeps no descriptor of
 * the caller's (node lock, maps) and leaves the caller's session.
 */
int supervise_start(const char *node, const char *name, char *const argv[]);
/* The same, with a probe of the child's health (NULL: none). */
int supervise_start_probe(const char *node, const char *name, char *const argv[],
			  const struct supervise_probe *probe);
/*
 * The same, each run of the child born in router's PID namespace on node
 * (pidns.h; NULL: the supervisor's own): the supervisor enters it again
 * before each start, so a run after the router's init was restarted is
 * born in the new namespace. Without a live init the start fails, and is
 * retried with the usual back-off.
 */
int supervise_start_in(const char *node, const char *name, char *const argv[],
		       const struct supervise_probe *probe, const char *pidns_router);
/* CLOCK_MONOTONIC in milliseconds, the clock of started_ms. */
long supervise_now_ms(void);
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
/*
 * Opens path (created 0600) and locks it (flock, exclusive) for a process
 * that lives as long as it holds it: the fd, -EEXIST while a live one
 * holds it (a reader's brief shared lock is waited out), or -errno.
 */
int supervise_pidfile_lock(const char *path);
/* The supervisor's pid, or -ENOENT if it does not run. */
int supervise_pid(const char *node, const char *name);
/* The pid of the child running now, or -ENOENT (also between restarts). */
int supervise_child(const char *node, const char *name);

#endif /* XVR_SUPERVISE_H */
