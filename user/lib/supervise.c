// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Supervisors: double fork, setsid, a locked pidfile, and a loop that
 * restarts the child with back-off. Signals are taken synchronously
 * (blocked, then sigtimedwait), so no handler races the loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "common.h"
#include "node.h"
#include "pidns.h"
#include "supervise.h"

#define BACKOFF_MIN_MS		200
#define BACKOFF_MAX_MS		5000
#define BACKOFF_RESET_MS	10000	/* a run this long was not a crash loop */
#define CHILD_STOP_MS		2000	/* SIGTERM, then SIGKILL */
#define STOP_WAIT_MS		5000	/* supervise_stop: then SIGKILL the supervisor */
#define LOG_MAX_BYTES		(1 << 20)	/* truncated at a restart beyond this */

static int sup_path(char *buf, size_t len, const char *node, const char *name, const char *ext)
{
	int n;

	if (!xvr_node_name_ok(node) || !name[0] || strchr(name, '/'))
		return -EINVAL;
	n = ext ? snprintf(buf, len, "%s/%s/%s.%s", XVR_RUN_DIR, node, name, ext) :
		  snprintf(buf, len, "%s/%s", XVR_RUN_DIR, node);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* A supervised process's directory and files. */
struct sup_files {
	char dir[PATH_MAX], pid[PATH_MAX], log[PATH_MAX], argv[PATH_MAX];
};

static int sup_files(struct sup_files *f, const char *node, const char *name)
{
	return sup_path(f->dir, sizeof(f->dir), node, name, NULL) ?:
	       sup_path(f->pid, sizeof(f->pid), node, name, "pid") ?:
	       sup_path(f->log, sizeof(f->log), node, name, "log") ?:
	       sup_path(f->argv, sizeof(f->argv), node, name, "argv");
}

/* The supervisor's file name.ext, read-only: its fd or -errno. */
static int sup_open(const char *node, const char *name, const char *ext)
{
	char path[PATH_MAX];
	int fd, err;

	err = sup_path(path, sizeof(path), node, name, ext);
	if (err)
		return err;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

long supervise_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* Reads "SUPERVISOR CHILD" from a pidfile that is locked (alive); -ENOENT otherwise. */
static int pidfile_read(const char *node, const char *name, int *sup, int *child)
{
	char buf[64];
	ssize_t len;
	int fd, err;

	fd = sup_open(node, name, "pid");
	if (fd < 0)
		return fd;
	/* Lockable means nobody holds it: the supervisor is gone. */
	if (!flock(fd, LOCK_SH | LOCK_NB)) {
		close(fd);
		return -ENOENT;
	}
	if (errno != EWOULDBLOCK) {
		err = -errno;
		close(fd);
		return err;
	}
	len = pread(fd, buf, sizeof(buf) - 1, 0);
	close(fd);
	if (len <= 0)
		return -ENOENT;
	buf[len] = '\0';
	if (sscanf(buf, "%d %d", sup, child) != 2 || *sup <= 0)
		return -ENOENT;
	return 0;
}

int supervise_pid(const char *node, const char *name)
{
	int sup, child, err = pidfile_read(node, name, &sup, &child);

	return err ? err : sup;
}

int supervise_child(const char *node, const char *name)
{
	int sup, child, err = pidfile_read(node, name, &sup, &child);

	if (err)
		return err;
	return child > 0 ? child : -ENOENT;
}

/* Fixed width, one write: a reader never sees half a line. */
static void pidfile_write(int fd, pid_t sup, pid_t child)
{
	char buf[32];
	int len = snprintf(buf, sizeof(buf), "%10d %10d\n", (int)sup, (int)child);

	if (pwrite(fd, buf, len, 0) != len)
		fprintf(stderr, "supervise: cannot write pidfile: %s\n", strerror(errno));
}

/*
 * A supervisor that is stopping unlinks its file while holding the lock,
 * so after locking make sure the path still names the file we hold.
 */
int supervise_pidfile_lock(const char *path)
{
	struct stat a, b;

	for (int tries = 0; tries < 50; tries++) {
		int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

		if (fd < 0)
			return -errno;
		if (flock(fd, LOCK_EX | LOCK_NB)) {
			int err = errno;

			close(fd);
			if (err != EWOULDBLOCK)
				return -err;
			/* Held: a live supervisor, or a reader's brief shared lock. */
			if (tries >= 10)
				return -EEXIST;
			sleep_ms(10);
			continue;
		}
		if (!fstat(fd, &a) && !stat(path, &b) && a.st_ino == b.st_ino &&
		    a.st_dev == b.st_dev)
			return fd;
		close(fd);
	}
	return -EAGAIN;
}

static void log_line(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void log_line(const char *name, const char *fmt, ...)
{
	char when[32];
	time_t t = time(NULL);
	struct tm tm;
	va_list ap;

	localtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	fprintf(stderr, "%s supervise %s[%d]: ", when, name, (int)getpid());
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

/* Where the child is born: the supervisor's PID namespace, or a router's. */
struct spawn_ns {
	const char *node, *router;
};

static pid_t spawn(char *const argv[], const sigset_t *orig, const char *name,
		   const struct spawn_ns *ns)
{
	pid_t parent = getpid(), pid, ppid;
	int err;

	if (ns->router) {
		err = pidns_enter(ns->node, ns->router);
		if (err) {
			log_line(name, "router %s's PID namespace: %s\n", ns->router,
				 strerror(-err));
			errno = -err;
			return -1;
		}
	}
	fflush(NULL);
	pid = fork();
	if (pid)
		return pid;
	/* The child must not outlive a supervisor killed with SIGKILL. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	/* Born in a router's namespace, it sees its living parent as pid 0. */
	ppid = getppid();
	if (ppid != parent && !(ns->router && ppid == 0))
		_exit(1);
	signal(SIGPIPE, SIG_DFL);
	sigprocmask(SIG_SETMASK, orig, NULL);
	setenv(SUPERVISE_ENV, name, 1);
	execv(argv[0], argv);
	fprintf(stderr, "supervise %s: exec %s: %s\n", name, argv[0], strerror(errno));
	_exit(127);
}

/* Waits for a stop signal or SIGCHLD of child for up to ms; returns the signal or 0. */
static int wait_signal(const sigset_t *set, long ms)
{
	struct timespec ts;
	siginfo_t si;
	int sig;

	if (ms < 0)
		return sigwaitinfo(set, &si) < 0 ? 0 : si.si_signo;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	sig = sigtimedwait(set, &si, &ts);
	return sig < 0 ? 0 : sig;
}

static bool is_stop_signal(int sig)
{
	return sig == SIGTERM || sig == SIGINT || sig == SIGQUIT;
}

/* SIGTERM, then SIGKILL after CHILD_STOP_MS; reaps it. */
static void child_stop(pid_t child, const sigset_t *set)
{
	long deadline = supervise_now_ms() + CHILD_STOP_MS;
	int status;

	kill(child, SIGTERM);
	while (waitpid(child, &status, WNOHANG) == 0) {
		long left = deadline - supervise_now_ms();

		if (left <= 0) {
			kill(child, SIGKILL);
			waitpid(child, &status, 0);
			return;
		}
		wait_signal(set, left < 50 ? left : 50);
	}
}

/* SIGKILL, then reaps it; a stop signal meanwhile is returned (0: none). */
static int child_kill(pid_t child, const sigset_t *set, int *status)
{
	int sig;

	kill(child, SIGKILL);
	/* A task in a v1 freezer dies only when thawed: keep answering signals. */
	while (waitpid(child, status, WNOHANG) == 0) {
		sig = wait_signal(set, 100);
		if (is_stop_signal(sig)) {
			waitpid(child, status, WNOHANG);
			return sig;
		}
	}
	return 0;
}

static void describe(char *buf, size_t len, int status)
{
	if (WIFEXITED(status))
		snprintf(buf, len, "exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by signal %d (%s)", WTERMSIG(status),
			 strsignal(WTERMSIG(status)));
	else
		snprintf(buf, len, "ended (status %#x)", status);
}

/*
 * Waits for the child's end, or a reason to end it: a stop signal (returns
 * it), a stop of the child or a hung probe (killed: *status is its end), a
 * probe saying its object is gone (stopped; returns SIGTERM).
 */
static int child_watch(const char *name, pid_t child, long started, const sigset_t *set,
		       const struct supervise_probe *probe, int *status)
{
	long next_probe = started + (probe ? probe->interval_ms : 0);
	int sig;

	for (;;) {
		long wait = -1;

		if (probe) {
			wait = next_probe - supervise_now_ms();
			if (wait < 0)
				wait = 0;
		}
		sig = wait ? wait_signal(set, wait) : 0;
		if (is_stop_signal(sig)) {
			child_stop(child, set);
			return sig;
		}
		if (sig == SIGHUP)
			kill(child, SIGHUP);	/* the child's to interpret */
		/* WUNTRACED: a stopped child holds its work forever; end it. */
		if (waitpid(child, status, WNOHANG | WUNTRACED) == child) {
			if (!WIFSTOPPED(*status))
				return 0;
			log_line(name, "stopped by signal %d (%s): killing it\n", WSTOPSIG(*status),
				 strsignal(WSTOPSIG(*status)));
			return child_kill(child, set, status);
		}
		if (!probe || supervise_now_ms() < next_probe)
			continue;
		next_probe = supervise_now_ms() + probe->interval_ms;
		switch (probe->check(probe->arg, started)) {
		case SUPERVISE_HUNG:
			log_line(name, "hung (its probe failed): killing it\n");
			return child_kill(child, set, status);
		case SUPERVISE_GONE:
			log_line(name, "its object is gone: stopping it\n");
			child_stop(child, set);
			return SIGTERM;
		case SUPERVISE_OK:
			break;
		}
	}
}

/* The supervisor itself: never returns. */
static void __attribute__((noreturn))
supervisor(const char *name, const char *pidpath, int pidfd, char *const argv[],
	   const sigset_t *set, const sigset_t *orig, const struct supervise_probe *probe,
	   const struct spawn_ns *ns)
{
	unsigned long restarts = 0;
	long backoff = 0;
	char what[96];
	struct stat st;
	int status;

	for (;;) {
		long started, ran;
		pid_t child;
		int sig;

		if (!fstat(STDERR_FILENO, &st) && st.st_size > LOG_MAX_BYTES &&
		    !ftruncate(STDERR_FILENO, 0))
			log_line(name, "log truncated at %d bytes\n", LOG_MAX_BYTES);
		child = spawn(argv, orig, name, ns);
		started = supervise_now_ms();
		if (child < 0) {
			log_line(name, "fork: %s\n", strerror(errno));
			status = 1 << 8;
			goto restart;
		}
		pidfile_write(pidfd, getpid(), child);
		if (child_watch(name, child, started, set, probe, &status)) {
			log_line(name, "stopped\n");
			goto out;
		}
restart:
		pidfile_write(pidfd, getpid(), 0);
		describe(what, sizeof(what), status);
		if (WIFEXITED(status) && WEXITSTATUS(status) == SUPERVISE_EXIT_DONE) {
			log_line(name, "%s: done, not restarted\n", what);
			goto out;
		}
		ran = supervise_now_ms() - started;
		if (!backoff || ran >= BACKOFF_RESET_MS)
			backoff = BACKOFF_MIN_MS;
		else if ((backoff *= 2) > BACKOFF_MAX_MS)
			backoff = BACKOFF_MAX_MS;
		log_line(name, "%s after %ld ms; restart in %ld ms\n", what, ran, backoff);
		for (long deadline = supervise_now_ms() + backoff, left;
		     (left = deadline - supervise_now_ms()) > 0;) {
			sig = wait_signal(set, left);
			if (is_stop_signal(sig)) {
				log_line(name, "stopped\n");
				goto out;
			}
		}
		if (probe && probe->restarted)
			probe->restarted(probe->arg, ++restarts);
	}
out:
	/* Unlinked while still locked: a new supervisor never locks a dying file. */
	unlink(pidpath);
	close(pidfd);
	exit(0);
}

/* <name>.argv: the command line, NUL-separated, for 'xvr node save'. */
static void argv_record(const char *path, char *const argv[])
{
	FILE *f = fopen(path, "we");

	if (!f)
		return;
	for (int i = 0; argv[i]; i++)
		fwrite(argv[i], 1, strlen(argv[i]) + 1, f);
	fclose(f);
}

int supervise_argv(const char *node, const char *name, char *buf, size_t len)
{
	ssize_t n;
	int fd, err;

	fd = sup_open(node, name, "argv");
	if (fd < 0)
		return fd;
	n = read(fd, buf, len);
	err = n < 0 ? -errno : (size_t)n == len ? -E2BIG : (int)n;
	close(fd);
	return err;
}

/* What the supervisor says to its starter through the pipe. */
struct start_msg {
	int err;
	int pid;
};

int supervise_start(const char *node, const char *name, char *const argv[])
{
	return supervise_start_probe(node, name, argv, NULL);
}

int supervise_start_probe(const char *node, const char *name, char *const argv[],
			  const struct supervise_probe *probe)
{
	return supervise_start_in(node, name, argv, probe, NULL);
}

int supervise_start_in(const char *node, const char *name, char *const argv[],
		       const struct supervise_probe *probe, const char *pidns_router)
{
	const struct spawn_ns ns = { .node = node, .router = pidns_router };
	struct sup_files f;
	struct start_msg msg = { .err = -ECHILD };
	int pipefd[2], err;
	pid_t pid;

	err = sup_files(&f, node, name);
	if (err)
		return err;
	if (!argv || !argv[0] || argv[0][0] != '/')
		return -EINVAL;
	if ((mkdir(XVR_RUN_DIR, 0700) && errno != EEXIST) || (mkdir(f.dir, 0700) && errno != EEXIST))
		return -errno;
	if (supervise_pid(node, name) > 0)
		return -EEXIST;
	argv_record(f.argv, argv);
	if (pipe2(pipefd, O_CLOEXEC))
		return -errno;
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		err = -errno;
		close(pipefd[0]);
		close(pipefd[1]);
		return err;
	}
	if (!pid) {
		sigset_t set, orig;
		int fd, wfd = pipefd[1];

		/* The intermediate child: a new session, then fork the supervisor. */
		if (setsid() < 0)
			_exit(1);
		pid = fork();
		if (pid)
			_exit(pid < 0);
		/*
		 * Nothing of the caller's stays open: a node lock or a map fd
		 * held here would outlive the command that took it.
		 */
		if (wfd > 3)
			close_range(3, wfd - 1, 0);
		close_range(wfd + 1, ~0U, 0);
		if (chdir("/"))
			_exit(1);
		umask(077);
		fd = open("/dev/null", O_RDONLY);
		if (fd >= 0 && fd != STDIN_FILENO) {
			dup2(fd, STDIN_FILENO);
			close(fd);
		}
		fd = open(f.log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (fd >= 0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
			if (fd > STDERR_FILENO)
				close(fd);
		}
		/* Whatever the caller did with these, the supervisor starts clean. */
		for (int s = 1; s < NSIG; s++)
			if (s != SIGKILL && s != SIGSTOP)
				signal(s, SIG_DFL);
		sigemptyset(&set);
		sigaddset(&set, SIGTERM);
		sigaddset(&set, SIGINT);
		sigaddset(&set, SIGQUIT);
		sigaddset(&set, SIGHUP);
		sigaddset(&set, SIGCHLD);
		sigprocmask(SIG_BLOCK, &set, &orig);
		signal(SIGPIPE, SIG_IGN);
		msg.err = fd = supervise_pidfile_lock(f.pid);
		if (fd >= 0) {
			msg.err = 0;
			msg.pid = getpid();
			pidfile_write(fd, getpid(), 0);
			log_line(name, "supervising %s\n", argv[0]);
		}
		if (write(wfd, &msg, sizeof(msg)) != sizeof(msg) || fd < 0)
			_exit(1);
		close(wfd);
		supervisor(name, f.pid, fd, argv, &set, &orig, probe, &ns);
	}
	close(pipefd[1]);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	if (read(pipefd[0], &msg, sizeof(msg)) != sizeof(msg))
		msg.err = -ECHILD;
	close(pipefd[0]);
	return msg.err;
}

/* Gone, or a zombie: it runs no more, and only its parent (init) can reap it. */
static bool exited(pid_t pid)
{
	char path[64], buf[256], *p;
	bool ret = true;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return true;
	if (fgets(buf, sizeof(buf), f)) {
		p = strrchr(buf, ')');
		ret = p && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X');
	}
	fclose(f);
	return ret;
}

int supervise_stop(const char *node, const char *name)
{
	struct sup_files f;
	int sup, child, err;
	long deadline;

	err = sup_files(&f, node, name);
	if (err)
		return err;
	err = pidfile_read(node, name, &sup, &child);
	if (!err) {
		kill(sup, SIGTERM);
		deadline = supervise_now_ms() + STOP_WAIT_MS;
		while (!pidfile_read(node, name, &sup, &child) && supervise_now_ms() < deadline)
			sleep_ms(10);
		if (pidfile_read(node, name, &sup, &child)) {
			/* Unlocked at exit; gone (or a zombie for init to reap) just after. */
			deadline = supervise_now_ms() + 1000;
			while (!exited(sup) && supervise_now_ms() < deadline)
				sleep_ms(5);
		} else {
			/* Stuck: kill it; PR_SET_PDEATHSIG sends the child SIGTERM. */
			kill(sup, SIGKILL);
			if (child > 0) {
				deadline = supervise_now_ms() + CHILD_STOP_MS;
				while (!kill(child, 0) && supervise_now_ms() < deadline)
					sleep_ms(10);
				kill(child, SIGKILL);
			}
		}
	}
	/* A supervisor started meanwhile keeps its files. */
	if (pidfile_read(node, name, &sup, &child) == -ENOENT) {
		unlink(f.pid);
		unlink(f.log);
		unlink(f.argv);
	}
	rmdir(f.dir);	/* only once nothing else of the node's is there */
	return err;
}
