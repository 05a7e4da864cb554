// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * xvr fibsync: keeps an xdp-mode router's BPF FIB equal to the kernel FIB
 * of its namespace, so whatever runs there (BIRD, FRR, 'ip route') routes
 * for the XDP data path. The logic is in lib/fibsync.c; this file is the
 * command, its event loop and its supervision.
 *
 * The loop: one full sync at start (dump, compute, diff against a walk of
 * the BPF FIB); then notifications are read in batches (a batch ends after
 * COALESCE_MS without a message, or BATCH_MAX_MS after its first), applied
 * to the mirror, and only the prefixes they touched are recomputed and
 * written. Links, addresses and socket overruns trigger a full sync, and
 * so does every RESYNC_MS, which also repairs what another command changed
 * in the router's FIB behind fibsync's back.
 */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include "xvr.h"
#include "fib.h"
#include "fibsync.h"
#include "netns.h"
#include "nl.h"
#include "supervise.h"

#define COALESCE_MS	5	/* a quiet socket for this long ends a batch */
#define BATCH_MAX_MS	50	/* a batch never collects for longer */
#define CHECK_MS	1000	/* is the router still there, are its VIFs the same */
#define RESYNC_MS	30000	/* full sync, whatever happened */
#define RETRY_MS	1000	/* after a failed apply */

/* sync results besides 0 and -errno */
#define SYNC_GONE	1	/* the router, its node or its namespace went away */

static int fibsync_help(void)
{
	fprintf(stderr,
		"Usage: xvr fibsync ROUTER [ once | check | show | start | stop ]\n"
		"Mirrors the kernel routes (tables main and local) and neighbours of the\n"
		"router's namespace into its BPF FIB until stopped. 'xvr router add' starts\n"
		"it under supervision for every xdp-mode router; the router's FIB is then\n"
		"fibsync's (once the router has a VIF), and 'xvr route' changes to it are\n"
		"undone at the next sync.\n"
		"  once   one full sync, then exit\n"
		"  check  compare the BPF FIB with the kernel's (routes, nexthops, use\n"
		"         counts); print each difference, exit 1 if there is any\n"
		"  show   the BPF FIB with each nexthop, multipath members expanded\n"
		"  start  run it under supervision (restarted when it dies)\n"
		"  stop   stop the supervised one\n");
	return 0;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

static void supervise_name(char *buf, size_t len, const char *router)
{
	snprintf(buf, len, "fibsync-%s", router);
}

int fibsync_start(const char *node, const char *router)
{
	char exe[PATH_MAX], name[64];
	const char *argv[8];
	ssize_t len;
	int c = 0;

	len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (len < 0)
		return -errno;
	exe[len] = '\0';
	argv[c++] = exe;
	argv[c++] = "-n";
	argv[c++] = node;
	if (xvr_verbose)
		argv[c++] = "-v";
	argv[c++] = "fibsync";
	argv[c++] = router;
	argv[c] = NULL;
	supervise_name(name, sizeof(name), router);
	return supervise_start(node, name, (char *const *)argv);
}

int fibsync_stop(const char *node, const char *router)
{
	char name[64];

	supervise_name(name, sizeof(name), router);
	return supervise_stop(node, name);
}

int fibsync_supervised(const char *node, const char *router)
{
	char name[64];

	supervise_name(name, sizeof(name), router);
	return supervise_pid(node, name);
}

int fibsync_pid(const char *node, const char *router)
{
	char name[64];

	supervise_name(name, sizeof(name), router);
	return supervise_child(node, name);
}

/* ---- the daemon ---- */

struct daemon {
	struct xvr_node n;
	const char *router;
	__u32 vr;
	char ns[128];
	struct stat ns_st;	/* the namespace we watch; a new one of that name is not it */
	__u32 map_id;		/* of the node's routers map, likewise */
	struct nl ev, dump;	/* notifications; dumps and neighbour nudges */
	int sig_fd;
	unsigned long max_routes;	/* the router's bound, as last read */
	unsigned long refused_logged;	/* refusals already in the log */
	long lock_ms_max;		/* longest hold of the node lock */
	struct fibsync *fs;
	bool owned;
};

static __u32 map_id_of(int fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
}

/*
 * 'xvr route' on this router (add, del, flush, load) shows in the route
 * counts of its bookkeeping entry: a cheap hint that the FIB changed behind our back.
 * A replace does not; the periodic full sync repairs that one.
 */
static bool daemon_fib_touched(struct daemon *d)
{
	struct xvr_router_book r;

	if (!d->owned || fibsync_pending(d->fs) ||
	    bpf_map_lookup_elem(d->n.router_book_fd, &d->vr, &r))
		return false;
	return r.routes4 != fibsync_installed_count(d->fs, AF_INET) ||
	       r.routes6 != fibsync_installed_count(d->fs, AF_INET6);
}

static bool daemon_gone(struct daemon *d)
{
	char path[PATH_MAX];
	struct xvr_router r;
	struct stat st;
	__u32 id;
	int fd;

	snprintf(path, sizeof(path), "/run/netns/%s", d->ns);
	if (stat(path, &st) || st.st_ino != d->ns_st.st_ino || st.st_dev != d->ns_st.st_dev)
		return true;
	if (router_get(&d->n, d->vr, &r) || strncmp(r.name, d->router, XVR_NAME_LEN) ||
	    r.mode != XVR_MODE_XDP)
		return true;
	/* 'node down' unpins the maps; ours would live on, unseen by anyone. */
	xvr_node_path(path, sizeof(path), d->n.name, "routers");
	fd = bpf_obj_get(path);
	if (fd < 0)
		return true;
	id = map_id_of(fd);
	close(fd);
	return id != d->map_id;
}

/*
 * The node lock, without blocking signals out: 'xvr router del' holds the
 * lock while it stops us, so a blocking flock would only end in SIGKILL.
 */
static int daemon_lock(struct daemon *d)
{
	char path[PATH_MAX];
	struct stat a, b;

	xvr_node_lock_path(path, sizeof(path), d->n.name);
	for (;;) {
		struct pollfd pfd = { .fd = d->sig_fd, .events = POLLIN };
		int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

		if (fd < 0)
			return -errno;
		if (!flock(fd, LOCK_EX | LOCK_NB)) {
			/* 'node down' unlinks the file: a lock on the old one excludes nobody. */
			if (!fstat(fd, &a) && !stat(path, &b) && a.st_ino == b.st_ino) {
				d->n.lock_fd = fd;
				return 0;
			}
			close(fd);
			continue;
		}
		close(fd);
		if (errno != EWOULDBLOCK)
			return -errno;
		if (d->sig_fd >= 0 && poll(&pfd, 1, 5) > 0)
			return -EINTR;
		if (d->sig_fd < 0)
			usleep(5000);
	}
}

static void daemon_unlock(struct daemon *d)
{
	if (d->n.lock_fd >= 0)
		close(d->n.lock_fd);
	d->n.lock_fd = -1;
}

/* Refusals go to the log once each; the status file tells 'router show'. */
static void daemon_report(struct daemon *d)
{
	struct fibsync_status st = {
		.routes = fibsync_mirror_count(d->fs),
		.refused = fibsync_refused(d->fs),
		.max_routes = d->max_routes,
		.lock_ms_max = d->lock_ms_max,
	};
	int err;

	if (st.refused > d->refused_logged) {
		pr_warn("fibsync %s: max-routes %lu reached: %lu more routes refused, %lu in all\n",
			d->router, d->max_routes, st.refused - d->refused_logged, st.refused);
		d->refused_logged = st.refused;
	}
	err = fibsync_status_write(d->n.name, d->router, &st);
	if (err)
		pr_debug("fibsync %s: status file: %s\n", d->router, strerror(-err));
}

static int daemon_apply(struct daemon *d, bool full, long t0, int msgs, const char *note)
{
	struct fibsync_stats st;
	int err, rounds = 1;
	bool was_full = full;
	long t_lock;

	for (;;) {
		err = daemon_lock(d);
		if (err)
			return err;
		if (daemon_gone(d)) {
			daemon_unlock(d);
			return SYNC_GONE;
		}
		t_lock = now_ms();
		err = fibsync_apply(d->fs, &d->n, full, &st);
		daemon_unlock(d);
		t_lock = now_ms() - t_lock;
		if (t_lock > d->lock_ms_max)
			d->lock_ms_max = t_lock;
		if (err || !st.more)
			break;
		/* The rest of a large change, after whoever waited for the lock. */
		full = false;
		rounds++;
		sched_yield();
	}
	fibsync_nudge(d->fs, &d->dump, now_ms());
	daemon_report(d);
	if (err)
		pr_warn("fibsync %s: %lu errors, first: %s\n", d->router, st.errors,
			strerror(-err));
	pr_info("fibsync %s: %s sync of %d messages in %ld ms (%d node-lock holds, last %ld ms): "
		"%lu routes, +%lu ~%lu -%lu, nexthops +%lu ~%lu -%lu%s%s\n",
		d->router, was_full ? "full" : "incremental", msgs, now_ms() - t0, rounds,
		t_lock, st.routes,
		st.added, st.replaced, st.deleted, st.nh_new, st.nh_updated, st.nh_freed,
		st.bulk ? " (tables rebuilt)" : "", note);
	return err;
}

/* A new max-routes ('xvr router set'): true when it changed (a full sync is due). */
static bool daemon_limit(struct daemon *d)
{
	unsigned long max = fibsync_limit_read(d->n.name, d->router);

	if (max == d->max_routes)
		return false;
	pr_info("fibsync %s: max-routes %lu (was %lu)\n", d->router, max, d->max_routes);
	d->max_routes = max;
	fibsync_set_max_routes(d->fs, max);
	return true;
}

/* Reads the VIFs; the FIB becomes fibsync's once the router has one. */
static int daemon_vifs(struct daemon *d)
{
	int changed = fibsync_read_vifs(d->fs, &d->n), err;

	if (changed < 0)
		return changed;
	if (!d->owned && fibsync_vif_count(d->fs)) {
		err = fibsync_own(d->n.name, d->router);
		if (err)
			pr_warn("fibsync %s: cannot record ownership: %s\n", d->router,
				strerror(-err));
		d->owned = true;
		pr_info("fibsync %s: the router has VIFs; its FIB follows the namespace now\n",
			d->router);
	}
	return changed;
}

static int daemon_dump(struct daemon *d)
{
	int err;

	fibsync_mirror_clear(d->fs);
	err = fibsync_nl_dump_routes(&d->dump, d->fs, AF_INET) ?:
	      fibsync_nl_dump_routes(&d->dump, d->fs, AF_INET6) ?:
	      fibsync_nl_dump_neigh(&d->dump, d->fs);
	if (err)
		pr_warn("fibsync %s: dump of %s: %s\n", d->router, d->ns, strerror(-err));
	return err;
}

static int daemon_sync_full(struct daemon *d, long t0, int msgs)
{
	int err;

	/* Whatever is queued happened before the dump we are about to take. */
	if (d->ev.sock)
		nl_drain(&d->ev);
	err = daemon_vifs(d);
	if (err < 0)
		return err;
	if (!d->owned)
		return 0;
	err = daemon_dump(d);
	if (err)
		return err;
	fibsync_compute(d->fs);
	return daemon_apply(d, true, t0, msgs, "");
}

/* Collects notifications until the socket is quiet, then applies them. */
static int daemon_batch(struct daemon *d)
{
	long t0 = now_ms(), last = t0;
	int hints = 0, msgs = 0, ret, err;

	for (;;) {
		struct pollfd pfd = { .fd = nl_fd(&d->ev), .events = POLLIN };
		long now, wait;

		ret = fibsync_nl_read(&d->ev, d->fs, &hints);
		if (ret < 0)
			return ret;
		if (d->ev.lost && !(hints & FIBSYNC_RESYNC_ALL)) {
			/* Overrun: notifications were lost; only a dump can tell what. */
			pr_info("fibsync %s: netlink overrun, full sync\n", d->router);
			hints |= FIBSYNC_RESYNC_ALL;
		}
		now = now_ms();
		if (ret) {
			msgs += ret;
			last = now;
		}
		wait = COALESCE_MS - (now - last);
		if (now - t0 >= BATCH_MAX_MS || wait <= 0 || poll(&pfd, 1, wait) <= 0)
			break;
	}
	if (hints & FIBSYNC_RESYNC_ALL || !d->owned)
		return daemon_sync_full(d, t0, msgs);
	for (int f = 0; f < 2; f++) {
		if (!(hints & (f ? FIBSYNC_RESYNC_ROUTES6 : FIBSYNC_RESYNC_ROUTES4)))
			continue;
		/* An append, a sibling, a delete that could be any of several routes. */
		pr_debug("fibsync %s: re-dump of IPv%d routes\n", d->router, f ? 6 : 4);
		err = fibsync_nl_dump_routes(&d->dump, d->fs, f ? AF_INET6 : AF_INET);
		if (err)
			return err;
	}
	fibsync_compute(d->fs);
	if (!fibsync_pending(d->fs)) {
		/* Refused routes change nothing to apply, but are counted all the same. */
		if (fibsync_refused(d->fs) != d->refused_logged)
			daemon_report(d);
		return 0;
	}
	return daemon_apply(d, false, t0, msgs,
			    hints & FIBSYNC_RESYNC_ROUTES4 && hints & FIBSYNC_RESYNC_ROUTES6 ?
			    " (re-dumped routes)" : hints & FIBSYNC_RESYNC_ROUTES4 ?
			    " (re-dumped IPv4)" : hints & FIBSYNC_RESYNC_ROUTES6 ?
			    " (re-dumped IPv6)" : "");
}

static int daemon_open(struct daemon *d, const char *router)
{
	struct xvr_router r;
	char path[PATH_MAX];
	int err;

	d->router = router;
	d->sig_fd = -1;
	err = cli_node_open(&d->n, false);
	if (err)
		return err;
	err = router_find(&d->n, router, &d->vr, &r);
	if (err) {
		pr_warn("fibsync: router %s: no such router\n", router);
		return err;
	}
	if (r.mode != XVR_MODE_XDP) {
		pr_warn("fibsync: router %s is in mode %s; only xdp-mode routers have a BPF FIB\n",
			router, mode_name(r.mode));
		return -EINVAL;
	}
	netns_name(d->ns, sizeof(d->ns), d->n.name, router);
	snprintf(path, sizeof(path), "/run/netns/%s", d->ns);
	if (stat(path, &d->ns_st)) {
		err = -errno;
		pr_warn("fibsync: router %s: namespace %s: %s\n", router, d->ns, strerror(-err));
		return err;
	}
	d->map_id = map_id_of(d->n.routers_fd);
	d->owned = fibsync_owned(d->n.name, router);
	d->fs = fibsync_new(d->vr);
	if (!d->fs)
		return -ENOMEM;
	d->max_routes = fibsync_limit_read(d->n.name, router);
	fibsync_set_max_routes(d->fs, d->max_routes);
	err = fibsync_nl_open(&d->dump, d->ns, false);
	if (err) {
		pr_warn("fibsync: router %s: netlink in %s: %s\n", router, d->ns, strerror(-err));
		return err;
	}
	return 0;
}

static void daemon_close(struct daemon *d)
{
	nl_close(&d->ev);
	nl_close(&d->dump);
	if (d->sig_fd >= 0)
		close(d->sig_fd);
	fibsync_free(d->fs);
	xvr_node_close(&d->n);
}

/* Gone for good: supervision must not restart us. */
static void __attribute__((noreturn)) daemon_exit_gone(struct daemon *d)
{
	pr_info("fibsync %s: the router is gone, exiting\n", d->router);
	daemon_close(d);
	exit(getenv(SUPERVISE_ENV) ? SUPERVISE_EXIT_DONE : 0);
}

/* A stop signal ends the process; SIGHUP asks for a full sync (true). */
static bool daemon_signal(struct daemon *d, const sigset_t *set)
{
	struct signalfd_siginfo si;

	if (read(d->sig_fd, &si, sizeof(si)) != sizeof(si))
		return false;
	if (si.ssi_signo == SIGHUP)
		return true;
	pr_info("fibsync %s: %s, exiting\n", d->router, strsignal(si.ssi_signo));
	daemon_close(d);
	/* Die of the signal: a supervisor tells its own stop from a kill. */
	signal(si.ssi_signo, SIG_DFL);
	sigprocmask(SIG_UNBLOCK, set, NULL);
	raise(si.ssi_signo);
	exit(1);
}

static int daemon_run(struct daemon *d)
{
	long next_check, next_resync, retry_at = 0;
	sigset_t set;
	int err;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	d->sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (d->sig_fd < 0)
		return -errno;
	/* Subscribed before the first dump, so no change falls between the two. */
	err = fibsync_nl_open(&d->ev, d->ns, true);
	if (err) {
		pr_warn("fibsync %s: netlink in %s: %s\n", d->router, d->ns, strerror(-err));
		return err;
	}
	pr_info("fibsync %s: watching %s\n", d->router, d->ns);
	err = daemon_sync_full(d, now_ms(), 0);
	next_check = now_ms() + CHECK_MS;
	next_resync = now_ms() + RESYNC_MS;
	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = nl_fd(&d->ev), .events = POLLIN },
			{ .fd = d->sig_fd, .events = POLLIN },
		};
		long now, until;
		bool full = false;

		if (err == SYNC_GONE)
			daemon_exit_gone(d);
		if (err == -EINTR)
			full = daemon_signal(d, &set);
		else if (err < 0 || fibsync_pending(d->fs))
			retry_at = now_ms() + RETRY_MS;
		else
			retry_at = 0;

		now = now_ms();
		until = next_check < next_resync ? next_check : next_resync;
		if (retry_at && retry_at < until)
			until = retry_at;
		if (!full && poll(pfd, 2, until > now ? until - now : 0) < 0 && errno != EINTR)
			return -errno;
		if (pfd[1].revents & POLLIN)
			full |= daemon_signal(d, &set);
		err = 0;
		now = now_ms();
		if (now >= next_check) {
			next_check = now + CHECK_MS;
			if (daemon_gone(d))
				daemon_exit_gone(d);
			if (daemon_vifs(d) > 0 || daemon_fib_touched(d) || daemon_limit(d))
				full = true;
			if (d->owned)
				fibsync_nudge(d->fs, &d->dump, now);
		}
		if (now >= next_resync || (retry_at && now >= retry_at))
			full = true;
		if (full) {
			next_resync = now + RESYNC_MS;
			err = daemon_sync_full(d, now, 0);
		} else if (pfd[0].revents & POLLIN) {
			err = daemon_batch(d);
		}
	}
}

/* ---- once, check ---- */

/* The desired set from a fresh dump; 1 if the router's FIB is not fibsync's. */
static int daemon_load(struct daemon *d)
{
	int err;

	err = daemon_vifs(d);
	if (err < 0)
		return err;
	if (!d->owned) {
		printf("fibsync %s: the router has no VIF; its FIB is left to 'xvr route'\n",
		       d->router);
		return 1;
	}
	err = daemon_dump(d);
	if (err)
		return err;
	fibsync_compute(d->fs);
	return 0;
}

static int fibsync_once(struct daemon *d)
{
	long t0 = now_ms();
	int err;

	err = daemon_load(d);
	if (err)
		return err < 0 ? err : 0;
	err = daemon_apply(d, true, t0, 0, "");
	if (err == SYNC_GONE) {
		pr_warn("fibsync %s: the router went away\n", d->router);
		return -ENOENT;
	}
	if (!err)
		printf("fibsync %s: %lu routes in sync (%ld ms)\n", d->router,
		       fibsync_desired_count(d->fs), now_ms() - t0);
	return err;
}

static int fibsync_check_cmd(struct daemon *d)
{
	int err;

	err = daemon_load(d);
	if (err)
		return err < 0 ? err : 0;
	err = fibsync_check(d->fs, &d->n, 50);
	if (err < 0) {
		pr_warn("fibsync %s: check: %s\n", d->router, strerror(-err));
		return err;
	}
	if (err) {
		printf("fibsync %s: %d differences\n", d->router, err);
		return -EIO;
	}
	printf("fibsync %s: the BPF FIB is the kernel's: %lu routes\n", d->router,
	       fibsync_desired_count(d->fs));
	return 0;
}

/* ---- show ---- */

struct show_ctx {
	struct xvr_node *n;
	struct nexthop *tbl;
};

static void show_nexthop(const struct nexthop *nh)
{
	if (!(nh->flags & XVR_NH_VALID)) {
		print_string("type", " invalid", "invalid");
		return;
	}
	if (nh->flags & (XVR_NH_LOCAL | XVR_NH_BLACKHOLE)) {
		print_string("type", " %s", nh->flags & XVR_NH_LOCAL ? "local" : "blackhole");
		return;
	}
	if ((nh->flags & XVR_NH_UNRESOLVED) && !nh->ifindex) {
		print_string("type", " %s", "punt");
		return;
	}
	nexthop_print_unicast(nh);
}

static int show_route(const struct fib_route *r, void *ctx)
{
	struct show_ctx *c = ctx;
	char buf[INET6_ADDRSTRLEN], pfx[INET6_ADDRSTRLEN + 8];
	const struct nexthop *nh = &c->tbl[r->nh < XVR_MAX_NEXTHOPS ? r->nh : 0];
	struct xvr_nh_group grp;

	snprintf(pfx, sizeof(pfx), "%s/%d", fmt_addr(r->family, r->addr, buf), r->plen);
	print_open_object(NULL);
	print_string("prefix", "%s", pfx);
	print_u64("nexthop", " nexthop %llu", r->nh);
	if ((nh->flags & XVR_NH_VALID) && (nh->flags & XVR_NH_GROUP) &&
	    !bpf_map_lookup_elem(c->n->nh_groups_fd, &r->nh, &grp)) {
		print_string("type", " %s", "group");
		print_open_array("members");
		for (__u32 i = 0; i < grp.count && i < XVR_MAX_ECMP; i++) {
			print_open_object(NULL);
			print_u64("nexthop", "\n    nexthop %llu", grp.members[i]);
			show_nexthop(&c->tbl[grp.members[i] < XVR_MAX_NEXTHOPS ?
					     grp.members[i] : 0]);
			print_close_object();
		}
		print_close_array();
	} else {
		show_nexthop(nh);
	}
	print_text("\n");
	print_close_object();
	return 0;
}

static int fibsync_show(struct daemon *d)
{
	struct show_ctx c = { .n = &d->n };
	int err;

	err = nexthops_read(&d->n, &c.tbl);
	if (err)
		return err;
	print_open_array(NULL);
	err = fib_route_walk(&d->n, d->vr, AF_UNSPEC, show_route, &c);
	print_close_array();
	print_end();
	free(c.tbl);
	return err;
}

int do_fibsync(int argc, char **argv)
{
	struct daemon d = {};
	const char *cmd;
	int err;

	cli_object = "fibsync";
	if (argc > 2)
		return unexpected_arg(argv[2]);
	if (argc < 1 || matches(argv[0], "help"))
		return fibsync_help();
	cmd = argc > 1 ? argv[1] : "run";
	if (strcmp(cmd, "run") && strcmp(cmd, "once") && strcmp(cmd, "check") &&
	    strcmp(cmd, "show") && strcmp(cmd, "start") && strcmp(cmd, "stop"))
		return bad_arg("command", cmd);
	if (cli_dry_run)
		return CLI_DRY_RUN;
	if (!strcmp(cmd, "stop")) {
		err = fibsync_stop(xvr_node_name(cli_node), argv[0]);
		if (err == -ENOENT)
			pr_warn("fibsync %s: not running\n", argv[0]);
		return err;
	}
	xvr_node_init(&d.n, xvr_node_name(cli_node));
	err = daemon_open(&d, argv[0]);
	if (err)
		goto out;
	if (!strcmp(cmd, "start")) {
		err = fibsync_start(d.n.name, argv[0]);
		if (err)
			pr_warn("fibsync %s: cannot start: %s\n", argv[0],
				err == -EEXIST ? "runs already" : strerror(-err));
	} else if (!strcmp(cmd, "show")) {
		err = fibsync_show(&d);
	} else if (!strcmp(cmd, "check")) {
		err = fibsync_check_cmd(&d);
	} else if (!strcmp(cmd, "once")) {
		err = fibsync_once(&d);
	} else {
		err = daemon_run(&d);
	}
out:
	daemon_close(&d);
	return err;
}
