// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <time.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/capability.h>
#include "common.h"
#include "netns.h"

void netns_name(char *buf, size_t len, const char *node, const char *router)
{
	snprintf(buf, len, "xvr-%s-%s", node, router);
}

int netns_exists(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "/run/netns/%s", name);
	return !access(path, F_OK);
}

int netns_open(const char *name)
{
	char path[PATH_MAX];
	int fd;

	if (strchr(name, '/'))
		snprintf(path, sizeof(path), "%s", name);
	else
		snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int netns_enter(const char *name)
{
	int fd = netns_open(name), err = 0;

	if (fd < 0)
		return fd;
	if (setns(fd, CLONE_NEWNET))
		err = -errno;
	close(fd);
	return err;
}

int netns_call(const char *name, int (*fn)(void *arg), void *arg)
{
	int self, ret;

	self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return -errno;
	ret = netns_enter(name);
	if (ret) {
		close(self);
		return ret;
	}
	ret = fn(arg);
	if (setns(self, CLONE_NEWNET)) {
		/* Cannot happen short of a kernel bug; going on in the tenant's is worse. */
		pr_warn("netns %s: cannot return to our own namespace: %s\n", name,
			strerror(errno));
		abort();
	}
	close(self);
	return ret;
}

static int ifindex_here(void *ifname)
{
	return if_index(ifname);
}

int netns_ifindex(const char *name, const char *ifname)
{
	return netns_call(name, ifindex_here, (void *)ifname);
}

struct sysctl_write {
	const char *path, *value;
};

static int sysctl_write_here(void *arg)
{
	const struct sysctl_write *w = arg;
	int fd, err = 0;
	size_t len = strlen(w->value);

	/* /proc/sys/net shows the namespace of whoever opens it. */
	fd = open(w->path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, w->value, len) != (ssize_t)len)
		err = errno ? -errno : -EIO;
	close(fd);
	return err;
}

int netns_sysctl(const char *name, const char *path, const char *value)
{
	struct sysctl_write w = { path, value };

	return name ? netns_call(name, sysctl_write_here, &w) : sysctl_write_here(&w);
}

/* Capabilities a tenant's processes keep inside their router's namespace. */
static const int tenant_caps[] = {
	CAP_NET_ADMIN, CAP_NET_RAW, CAP_NET_BIND_SERVICE, CAP_CHOWN, CAP_DAC_OVERRIDE,
	CAP_FOWNER, CAP_FSETID, CAP_KILL, CAP_SETGID, CAP_SETUID, CAP_SETPCAP,
};

static int cap_last(void)
{
	int last = CAP_LAST_CAP;
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "r");

	if (f) {
		if (fscanf(f, "%d", &last) != 1)
			last = CAP_LAST_CAP;
		fclose(f);
	}
	return last;
}

/*
 * Leave only tenant_caps: out of the bounding set (so no exec regains the
 * rest, root or not) and out of the current sets.
 */
int caps_drop_to_tenant(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = {};
	int last = cap_last();

	for (int cap = 0; cap <= last; cap++) {
		bool keep = false;

		for (size_t i = 0; i < ARRAY_SIZE(tenant_caps); i++)
			keep |= tenant_caps[i] == cap;
		if (!keep && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) && errno != EINVAL)
			return -errno;
	}
	for (size_t i = 0; i < ARRAY_SIZE(tenant_caps); i++) {
		int cap = tenant_caps[i];

		data[cap / 32].effective |= 1u << (cap % 32);
		data[cap / 32].permitted |= 1u << (cap % 32);
		data[cap / 32].inheritable |= 1u << (cap % 32);
	}
	if (syscall(SYS_capset, &hdr, data))
		return -errno;
	return 0;
}


/* Signals every process whose network namespace is ns's; returns how many. */
static int netns_signal(const struct stat *ns, int sig)
{
	struct dirent *de;
	DIR *d = opendir("/proc");
	int cnt = 0;

	while (d && (de = readdir(d))) {
		char path[64];
		struct stat st;
		int pid = atoi(de->d_name);

		if (pid <= 1 || pid == getpid())
			continue;
		snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
		if (stat(path, &st) || st.st_ino != ns->st_ino || st.st_dev != ns->st_dev)
			continue;
		if (!kill(pid, sig))
			cnt++;
	}
	if (d)
		closedir(d);
	return cnt;
}

int netns_kill_procs(const char *name)
{
	struct timespec ts = { 0, 50 * 1000 * 1000 };
	char path[256];
	struct stat ns;
	int left;

	snprintf(path, sizeof(path), "/run/netns/%s", name);
	if (stat(path, &ns))
		return 0;
	left = netns_signal(&ns, SIGTERM);
	/* A routing daemon gets two seconds to withdraw and go. */
	for (int i = 0; left && i < 40; i++) {
		nanosleep(&ts, NULL);
		left = netns_signal(&ns, 0);
	}
	if (left)
		netns_signal(&ns, SIGKILL);
	return left;
}
