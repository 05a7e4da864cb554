// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Routers' PID namespaces and their inits. The init is made in two steps:
 * 'router init' (root of the node) locks the pid file, enters the router's
 * network and user namespaces as the router's root, makes the PID
 * namespace there (so the router's user namespace owns it) and forks its
 * PID 1; that one drops what is left and reaps until it is killed.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include "common.h"
#include "netns.h"
#include "node.h"
#include "objects.h"
#include "pidns.h"
#include "sandbox.h"
#include "supervise.h"

#define PIDNS_STOP_MS	10000	/* the namespace's last process gone */

int pidns_path(char *buf, size_t len, const char *node, const char *router)
{
	int n;

	if (!xvr_node_name_ok(node) || !router_name_ok(router))
		return -EINVAL;
	n = snprintf(buf, len, "%s/%s/pidns/%s.pid", XVR_RUN_DIR, node, router);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int sys_pidfd_open(pid_t pid)
{
	return syscall(SYS_pidfd_open, pid, 0);
}

static int sys_pidfd_send_signal(int pidfd, int sig)
{
	return syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

/* Held (by the live init): 1; free (stale or no init): 0; -errno. */
static int lock_held(int fd)
{
	if (!flock(fd, LOCK_SH | LOCK_NB)) {
		flock(fd, LOCK_UN);
		return 0;
	}
	return errno == EWOULDBLOCK ? 1 : -errno;
}

static int pid_read(int fd)
{
	char buf[32];
	ssize_t len = pread(fd, buf, sizeof(buf) - 1, 0);
	int pid;

	if (len <= 0)
		return -ENOENT;
	buf[len] = '\0';
	return sscanf(buf, "%d", &pid) == 1 && pid > 0 ? pid : -ENOENT;
}

int pidns_init_pidfd(const char *node, const char *router)
{
	char path[PATH_MAX];
	int fd, pid, pidfd, err;

	err = pidns_path(path, sizeof(path), node, router);
	if (err)
		return err;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ENOENT : -errno;
	err = lock_held(fd);
	pid = err > 0 ? pid_read(fd) : -ENOENT;
	if (pid < 0) {
		close(fd);
		return err < 0 ? err : -ENOENT;
	}
	pidfd = sys_pidfd_open(pid);
	/*
	 * Still locked after the pidfd was taken, and the same pid: the init
	 * was alive when we took it, so the pidfd is the init's.
	 */
	if (pidfd >= 0 && (lock_held(fd) != 1 || pid_read(fd) != pid)) {
		close(pidfd);
		pidfd = -1;
		errno = ESRCH;
	}
	err = pidfd < 0 ? (errno == ESRCH ? -ENOENT : -errno) : pidfd;
	close(fd);
	return err;
}

int pidns_init_pid(const char *node, const char *router)
{
	char path[PATH_MAX];
	int fd, pid = -ENOENT;

	if (pidns_path(path, sizeof(path), node, router))
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -ENOENT;
	if (lock_held(fd) == 1)
		pid = pid_read(fd);
	close(fd);
	return pid;
}

int pidns_enter(const char *node, const char *router)
{
	int pidfd = pidns_init_pidfd(node, router), err = 0;

	if (pidfd < 0)
		return pidfd;
	if (setns(pidfd, CLONE_NEWPID))
		err = -errno;
	close(pidfd);
	return err;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

int pidns_stop(const char *node, const char *router)
{
	struct pollfd pfd = { .events = POLLIN };
	char path[PATH_MAX];
	long deadline;
	int err;

	err = pidns_path(path, sizeof(path), node, router);
	if (err)
		return err;
	pfd.fd = pidns_init_pidfd(node, router);
	if (pfd.fd >= 0) {
		/*
		 * The pidfd turns readable once the init has exited, and the
		 * init exits only after every other process of its namespace.
		 */
		if (sys_pidfd_send_signal(pfd.fd, SIGKILL) && errno != ESRCH)
			pr_warn("router %s: kill its PID namespace's init: %s\n", router,
				strerror(errno));
		deadline = now_ms() + PIDNS_STOP_MS;
		while (poll(&pfd, 1, 100) == 0 && now_ms() < deadline)
			;
		if (!(pfd.revents & POLLIN))
			pr_warn("router %s: its PID namespace did not end in %d ms\n", router,
				PIDNS_STOP_MS);
		close(pfd.fd);
	}
	unlink(path);
	/* The node's pidns directory goes with its last router. */
	*strrchr(path, '/') = '\0';
	rmdir(path);
	return pfd.fd >= 0 ? 0 : -ENOENT;
}

/*
 * PID 1 of the router's namespace. No signal handler: from inside the
 * namespace no signal reaches it (the kernel drops those PID 1 does not
 * handle), and the host ends it with SIGKILL. Not dumpable: a tenant, root
 * in the same user namespace, can neither ptrace it nor open its /proc
 * entries (its root and fds are the node's).
 */
static void __attribute__((noreturn)) init_main(int lock_fd, int ready_fd)
{
	sigset_t set;
	char c = 0;
	int fd;

	fd = open("/dev/null", O_RDWR);
	if (fd < 0 || dup2(fd, STDIN_FILENO) < 0 || dup2(fd, STDOUT_FILENO) < 0 ||
	    dup2(fd, STDERR_FILENO) < 0)
		_exit(1);
	for (int i = STDERR_FILENO + 1; i < 1024; i++)
		if (i != lock_fd && i != ready_fd)
			close(i);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	if (chdir("/") || sigprocmask(SIG_BLOCK, &set, NULL) ||
	    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) || tenant_caps_drop() || tenant_seccomp())
		_exit(1);
	if (write(ready_fd, &c, 1) != 1)
		_exit(1);
	close(ready_fd);
	for (;;) {
		siginfo_t si;

		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		sigwaitinfo(&set, &si);
	}
}

int pidns_init_run(const char *node, const char *router)
{
	char path[PATH_MAX], dir[PATH_MAX], ns[128], buf[32];
	int lock_fd, ready[2] = { -1, -1 }, err, len;
	pid_t pid;
	char c;

	err = pidns_path(path, sizeof(path), node, router);
	if (err)
		return err;
	snprintf(dir, sizeof(dir), "%s/%s", XVR_RUN_DIR, node);
	if ((mkdir(XVR_RUN_DIR, 0755) && errno != EEXIST) || (mkdir(dir, 0755) && errno != EEXIST))
		return -errno;
	snprintf(dir, sizeof(dir), "%s/%s/pidns", XVR_RUN_DIR, node);
	if (mkdir(dir, 0700) && errno != EEXIST)
		return -errno;
	lock_fd = supervise_pidfile_lock(path);
	if (lock_fd < 0)
		return lock_fd;
	if (ftruncate(lock_fd, 0))
		goto fail_errno;
	/* Not the node's netns: its /proc/1/net would show the node's interfaces. */
	netns_name(ns, sizeof(ns), node, router);
	err = tenant_enter(node, router, ns, NULL, NULL, "");
	if (err)
		goto fail;
	/* Made as the router's root: the router's user namespace owns it. */
	if (unshare(CLONE_NEWPID) || pipe2(ready, O_CLOEXEC))
		goto fail_errno;
	pid = fork_split(&ready[0], &ready[1], 1);
	if (pid < 0) {
		errno = -pid;
		goto fail_errno;
	}
	if (!pid)
		init_main(lock_fd, ready[1]);
	ready[1] = -1;
	len = snprintf(buf, sizeof(buf), "%d\n", (int)pid);
	if (pwrite(lock_fd, buf, len, 0) != len)
		goto fail_errno;
	if (read(ready[0], &c, 1) != 1) {
		err = -ECHILD;
		pr_warn("router %s: its init failed to start\n", router);
		goto fail;
	}
	close(ready[0]);
	close(lock_fd);
	return 0;
fail_errno:
	err = -errno;
	pr_warn("router %s: PID namespace: %s\n", router, strerror(-err));
fail:
	for (int i = 0; i < 2; i++)
		if (ready[i] >= 0)
			close(ready[i]);
	unlink(path);
	close(lock_fd);
	return err;
}

int pidns_start(const char *exe, const char *node, const char *router)
{
	const char *argv[] = { exe, "-n", node, "router", "init", router, NULL };
	int status;
	pid_t pid;

	if (!router_name_ok(router) || !xvr_node_name_ok(node))
		return -EINVAL;
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid) {
		/* Nothing of the caller's (node lock, maps) stays open in the init. */
		close_range(STDERR_FILENO + 1, ~0U, 0);
		setsid();
		execv(exe, (char *const *)argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	return WIFEXITED(status) && WEXITSTATUS(status) == PIDNS_INIT_EXIT_EXISTS ? -EEXIST : -EIO;
}
