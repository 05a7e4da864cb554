// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Tenant containers: id ranges, the user namespace that owns a router's
 * network namespace, its state directory, and the seccomp filter its
 * processes run under.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include "common.h"
#include "netns.h"
#include "node.h"
#include "sandbox.h"

#define NETNS_RUN_DIR	"/run/netns"

/* The router's writable directories, with the mode they get. */
static const struct {
	const char *leaf;
	mode_t mode;
} tenant_dirs[] = {
	{ "run", 0755 }, { "tmp", 01777 }, { "var", 0755 }, { "var/tmp", 01777 },
	{ "shm", 01777 },
};

static const struct {
	const char *leaf, *target;
} var_links[] = { { "var/run", "/run" }, { "var/lock", "/run/lock" } };

int tenant_dir(char *buf, size_t len, const char *node, const char *router, const char *leaf)
{
	int n = snprintf(buf, len, "%s/%s/%s%s%s", XVR_STATE_DIR, node, router,
			 leaf ? "/" : "", leaf ? leaf : "");

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int tenant_userns_path(char *buf, size_t len, const char *node, const char *router)
{
	int n = snprintf(buf, len, "%s/%s/userns/%s", XVR_RUN_DIR, node, router);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static void slot_path(char *buf, size_t len, unsigned int slot)
{
	snprintf(buf, len, "%s/ids/%u", XVR_STATE_DIR, slot);
}

static int mkdir_mode(const char *path, mode_t mode)
{
	if (mkdir(path, mode) && errno != EEXIST)
		return -errno;
	return 0;
}

/* The first free slot, claimed for node/router: its number, or -errno. */
static int slot_claim(const char *node, const char *router)
{
	char path[PATH_MAX], owner[128];
	int len = snprintf(owner, sizeof(owner), "%s %s\n", node, router);

	for (unsigned int slot = 0; slot < TENANT_SLOTS; slot++) {
		int fd;

		slot_path(path, sizeof(path), slot);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0) {
			if (errno == EEXIST)
				continue;
			return -errno;
		}
		if (write(fd, owner, len) != len) {
			int err = -errno ?: -EIO;

			close(fd);
			unlink(path);
			return err;
		}
		close(fd);
		return slot;
	}
	return -ENOSPC;
}

int tenant_id_base(const char *node, const char *router, __u32 *base)
{
	char path[PATH_MAX];
	unsigned int slot;
	FILE *f;
	int ok;

	if (tenant_dir(path, sizeof(path), node, router, "ids"))
		return -ENAMETOOLONG;
	f = fopen(path, "r");
	if (!f)
		return -errno;
	ok = fscanf(f, "%u %u", base, &slot) == 2;
	fclose(f);
	return ok ? 0 : -EINVAL;
}

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), err = 0;
	ssize_t len = strlen(s);

	if (fd < 0)
		return -errno;
	if (write(fd, s, len) != len)
		err = -errno ?: -EIO;
	close(fd);
	return err;
}

static int link_up(const char *ifname)
{
	struct ifreq ifr = {};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), err = 0;

	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFFLAGS, &ifr))
		err = -errno;
	ifr.ifr_flags |= IFF_UP;
	if (!err && ioctl(fd, SIOCSIFFLAGS, &ifr))
		err = -errno;
	close(fd);
	return err;
}

/*
 * /run/netns as iproute2 keeps it: a shared mount, so a namespace unmounted
 * here is unmounted in every mount namespace that copied it.
 */
static int netns_dir_prepare(void)
{
	int err = mkdir_mode(NETNS_RUN_DIR, 0755);

	if (err)
		return err;
	if (!mount("", NETNS_RUN_DIR, "none", MS_SHARED | MS_REC, NULL))
		return 0;
	if (errno != EINVAL ||
	    mount(NETNS_RUN_DIR, NETNS_RUN_DIR, "none", MS_BIND | MS_REC, NULL) ||
	    mount("", NETNS_RUN_DIR, "none", MS_SHARED | MS_REC, NULL))
		return -errno;
	return 0;
}

/* Bind-mounts /proc/PID/ns/WHICH onto path (created empty). */
static int ns_bind(int pid, const char *which, const char *path)
{
	char src[64];
	int fd;

	fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
	if (fd < 0)
		return -errno;
	close(fd);
	snprintf(src, sizeof(src), "/proc/%d/ns/%s", pid, which);
	if (mount(src, path, "none", MS_BIND, NULL)) {
		int err = -errno;

		unlink(path);
		return err;
	}
	return 0;
}

static void ns_unbind(const char *path)
{
	umount2(path, MNT_DETACH);
	unlink(path);
}

/*
 * The child: a new user namespace, which the parent maps, then a network
 * namespace inside it. One byte on a pipe at each step; it waits for the
 * parent to name both namespaces (EOF) before it exits.
 */
static void ns_child(int to_parent, int from_parent)
{
	char c = 0;

	if (unshare(CLONE_NEWUSER) || write(to_parent, &c, 1) != 1 ||
	    read(from_parent, &c, 1) != 1 || unshare(CLONE_NEWNET) || link_up("lo"))
		_exit(1);
	if (write(to_parent, &c, 1) != 1)
		_exit(1);
	while (read(from_parent, &c, 1) > 0)
		;
	_exit(0);
}

static int ns_create(const char *node, const char *router, const char *ns, __u32 base)
{
	char path[PATH_MAX], map[64], netns[PATH_MAX];
	int up[2] = { -1, -1 }, down[2] = { -1, -1 }, err, status;
	bool named_net = false;
	pid_t pid;
	char c;

	snprintf(netns, sizeof(netns), "%s/%s", NETNS_RUN_DIR, ns);
	snprintf(path, sizeof(path), "%s/%s", XVR_RUN_DIR, node);
	err = mkdir_mode(XVR_RUN_DIR, 0755) ?: mkdir_mode(path, 0755);
	snprintf(path, sizeof(path), "%s/%s/userns", XVR_RUN_DIR, node);
	err = err ?: mkdir_mode(path, 0700) ?: netns_dir_prepare();
	if (err)
		return err;
	if (pipe2(up, O_CLOEXEC) || pipe2(down, O_CLOEXEC))
		goto fail_errno;
	pid = fork_split((int[]){ up[0], down[1] }, (int[]){ up[1], down[0] }, 2);
	if (pid < 0) {
		errno = -pid;
		goto fail_errno;
	}
	if (!pid)
		ns_child(up[1], down[0]);
	up[1] = down[0] = -1;
	err = -EIO;
	if (read(up[0], &c, 1) != 1)
		goto out;
	/* Root of the initial namespace writes the maps: setgroups stays allowed. */
	snprintf(map, sizeof(map), "0 %u %u\n", base, TENANT_ID_SIZE);
	snprintf(path, sizeof(path), "/proc/%d/uid_map", pid);
	err = write_str(path, map);
	snprintf(path, sizeof(path), "/proc/%d/gid_map", pid);
	if (!err)
		err = write_str(path, map);
	if (err)
		goto out;
	err = -EIO;
	if (write(down[1], &c, 1) != 1 || read(up[0], &c, 1) != 1)
		goto out;
	err = ns_bind(pid, "net", netns);
	if (err)
		goto out;
	named_net = true;
	tenant_userns_path(path, sizeof(path), node, router);
	err = ns_bind(pid, "user", path);
out:
	close(down[1]);
	down[1] = -1;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!err && (!WIFEXITED(status) || WEXITSTATUS(status)))
		err = -EIO;
	if (err && named_net)
		ns_unbind(netns);
	close(up[0]);
	return err;
fail_errno:
	err = -errno;
	for (int i = 0; i < 2; i++) {
		if (up[i] >= 0)
			close(up[i]);
		if (down[i] >= 0)
			close(down[i]);
	}
	return err;
}

static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (type == FTW_DP ? rmdir(path) : unlink(path))
		return errno == ENOENT ? 0 : -errno;
	return 0;
}

/* rm -rf that neither follows symlinks nor leaves the file system. */
static int rm_tree(const char *path)
{
	if (nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) && errno != ENOENT)
		return -errno ?: -EIO;
	return 0;
}

static int state_create(const char *node, const char *router, __u32 base, int slot)
{
	char path[PATH_MAX], rec[64];
	int fd, len, err;

	snprintf(path, sizeof(path), "%s/%s", XVR_STATE_DIR, node);
	err = mkdir_mode(path, 0700);
	if (err)
		return err;
	tenant_dir(path, sizeof(path), node, router, NULL);
	if (mkdir(path, 0700))
		return -errno;
	tenant_dir(path, sizeof(path), node, router, "ids");
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	len = snprintf(rec, sizeof(rec), "%u %d\n", base, slot);
	if (write(fd, rec, len) != len)
		err = -errno ?: -EIO;
	close(fd);
	for (size_t i = 0; !err && i < ARRAY_SIZE(tenant_dirs); i++) {
		tenant_dir(path, sizeof(path), node, router, tenant_dirs[i].leaf);
		/* Explicit chmod: the umask would take the sticky bit's company. */
		if (mkdir(path, 0700) || chown(path, base, base) ||
		    chmod(path, tenant_dirs[i].mode))
			err = -errno;
	}
	/* As in Debian's /var: daemons still name /var/run and /var/lock. */
	for (size_t i = 0; !err && i < ARRAY_SIZE(var_links); i++) {
		tenant_dir(path, sizeof(path), node, router, var_links[i].leaf);
		if (symlink(var_links[i].target, path) ||
		    lchown(path, base, base))
			err = -errno;
	}
	return err;
}

int tenant_create(const char *node, const char *router, const char *ns)
{
	char path[PATH_MAX];
	int slot, err;
	__u32 base;

	if (tenant_dir(path, sizeof(path), node, router, "var/tmp"))
		return -ENAMETOOLONG;
	/* Leftovers of a router that was never removed are not the new one's. */
	tenant_destroy(node, router, NULL);
	err = mkdir_mode(XVR_STATE_DIR, 0755);
	snprintf(path, sizeof(path), "%s/ids", XVR_STATE_DIR);
	err = err ?: mkdir_mode(path, 0700);
	if (err) {
		pr_warn("router %s: %s: %s\n", router, path, strerror(-err));
		return err;
	}
	slot = slot_claim(node, router);
	if (slot < 0) {
		pr_warn("router %s: no free id range: %s\n", router, strerror(-slot));
		return slot;
	}
	base = TENANT_ID_FIRST + slot * TENANT_ID_SIZE;
	err = state_create(node, router, base, slot);
	if (err) {
		pr_warn("router %s: state directory: %s\n", router, strerror(-err));
		goto undo;
	}
	err = ns_create(node, router, ns, base);
	if (err) {
		pr_warn("router %s: namespaces: %s\n", router, strerror(-err));
		goto undo;
	}
	return 0;
undo:
	tenant_destroy(node, router, NULL);
	return err;
}

int tenant_destroy(const char *node, const char *router, const char *ns)
{
	char path[PATH_MAX];
	__u32 base;
	int err = 0;

	if (ns) {
		snprintf(path, sizeof(path), "%s/%s", NETNS_RUN_DIR, ns);
		ns_unbind(path);
	}
	if (!tenant_userns_path(path, sizeof(path), node, router)) {
		ns_unbind(path);
		/* With the node's last router (the supervisors may still use the rest). */
		*strrchr(path, '/') = '\0';
		rmdir(path);
		*strrchr(path, '/') = '\0';
		rmdir(path);
	}
	if (!tenant_id_base(node, router, &base) && base >= TENANT_ID_FIRST &&
	    (base - TENANT_ID_FIRST) % TENANT_ID_SIZE == 0) {
		slot_path(path, sizeof(path), (base - TENANT_ID_FIRST) / TENANT_ID_SIZE);
		unlink(path);
	}
	if (!tenant_dir(path, sizeof(path), node, router, NULL))
		err = rm_tree(path);
	/* The node's directory goes with its last router. */
	snprintf(path, sizeof(path), "%s/%s", XVR_STATE_DIR, node);
	rmdir(path);
	return err;
}

int tenant_userns_open(const char *node, const char *router)
{
	char path[PATH_MAX];
	int fd;

	tenant_userns_path(path, sizeof(path), node, router);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int tenant_enter(const char *node, const char *router, const char *ns,
		 int (*as_root)(void *ctx), void *ctx, const char *pfx)
{
	int userns, err;

	userns = tenant_userns_open(node, router);
	if (userns < 0) {
		pr_warn("%srouter %s: its user namespace: %s\n", pfx, router, strerror(-userns));
		return userns;
	}
	err = netns_enter(ns);
	if (err)
		pr_warn("%srouter %s: enter %s: %s\n", pfx, router, ns, strerror(-err));
	if (!err && as_root)
		err = as_root(ctx);
	if (!err) {
		err = tenant_join(userns);
		if (err)
			pr_warn("%srouter %s: join its user namespace: %s\n", pfx, router,
				strerror(-err));
	}
	close(userns);
	return err;
}

int tenant_join(int userns_fd)
{
	int err = 0;

	if (setns(userns_fd, CLONE_NEWUSER))
		err = -errno;
	/* Our host uid 0 has no name inside: become the router's root. */
	if (!err && (setgroups(0, NULL) || setresgid(0, 0, 0) || setresuid(0, 0, 0)))
		err = -errno;
	return err;
}

/* The ABI this build speaks; a syscall of any other is refused whole. */
#if defined(__x86_64__)
#define TENANT_AUDIT_ARCH	AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define TENANT_AUDIT_ARCH	AUDIT_ARCH_AARCH64
#else
#error "tenant_seccomp: no audit arch for this build's ABI"
#endif
int tenant_caps_drop(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = {};

	for (int cap = 0; cap <= CAP_LAST_CAP + 8; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) && errno != EINVAL)
			return -errno;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) ||
	    syscall(SYS_capset, &hdr, data))
		return -errno;
	return 0;
}

#define DENY(nr)						\
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1),	\
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM)

int tenant_seccomp(void)
{
	static struct sock_filter filter[] = {
		/* Another ABI has other numbers: refuse all of it. */
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, TENANT_AUDIT_ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000 /* __X32_SYSCALL_BIT */, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		DENY(__NR_bpf),
		DENY(__NR_perf_event_open),
		DENY(__NR_kexec_load),
		DENY(__NR_kexec_file_load),
		DENY(__NR_init_module),
		DENY(__NR_finit_module),
		DENY(__NR_delete_module),
		DENY(__NR_keyctl),
		DENY(__NR_add_key),
		DENY(__NR_request_key),
		DENY(__NR_userfaultfd),
#ifdef __NR_iopl
		DENY(__NR_iopl),
		DENY(__NR_ioperm),
#endif
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = ARRAY_SIZE(filter), .filter = filter };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog))
		return -errno;
	return 0;
}

/* The router's own writable directories, host source and place in its view. */
static const struct {
	const char *leaf, *dst;
} own_mounts[] = { { "run", "/run" }, { "tmp", "/tmp" }, { "var", "/var" }, { "shm", "/dev/shm" } };

static int open_beneath(int dfd, const char *name, int flags)
{
	struct open_how how = {
		.flags = flags | O_PATH | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	long fd = syscall(SYS_openat2, dfd, name, &how, sizeof(how));

	return fd < 0 ? -errno : (int)fd;
}

/*
 * A missing bind target below one of the router's own directories is
 * created there, one component at a time, refusing symlinks: those
 * directories are the tenant's, and we are root of the node.
 */
static int target_create(const char *dst, bool dir, uid_t owner)
{
	char rest[PATH_MAX], *comp, *next, *save;
	int dfd = -ENOENT, fd;

	for (size_t i = 0; i < ARRAY_SIZE(own_mounts); i++) {
		size_t len = strlen(own_mounts[i].dst);

		if (!strncmp(dst, own_mounts[i].dst, len) && dst[len] == '/') {
			dfd = open(own_mounts[i].dst, O_PATH | O_DIRECTORY | O_CLOEXEC);
			snprintf(rest, sizeof(rest), "%s", dst + len + 1);
			break;
		}
	}
	if (dfd < 0)
		return dfd == -ENOENT ? -ENOENT : -errno;
	for (comp = strtok_r(rest, "/", &save); comp; comp = next) {
		bool last;

		next = strtok_r(NULL, "/", &save);
		last = !next;
		if (!strcmp(comp, "..") || !strcmp(comp, ".")) {
			close(dfd);
			return -EINVAL;
		}
		/* What we create belongs to the router's root, like the rest there. */
		if (last && !dir) {
			fd = openat(dfd, comp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
				    0644);
			if (fd >= 0) {
				if (fchown(fd, owner, owner))
					pr_debug("exec: chown %s: %s\n", dst, strerror(errno));
				close(fd);
			}
		} else if (!mkdirat(dfd, comp, 0755) &&
			   fchownat(dfd, comp, owner, owner, AT_SYMLINK_NOFOLLOW)) {
			pr_debug("exec: chown %s: %s\n", dst, strerror(errno));
		}
		fd = open_beneath(dfd, comp, last && !dir ? 0 : O_DIRECTORY);
		close(dfd);
		if (fd < 0)
			return fd;
		dfd = fd;
	}
	return dfd;
}

/*
 * Binds src_fd (an O_PATH descriptor opened before any mount hid its path)
 * onto dst itself, never onto a symlink the tenant left there.
 */
static int bind_fd(int src_fd, const char *dst, uid_t owner)
{
	char src[64], target[64];
	struct stat st;
	int fd, err = 0;

	fd = open(dst, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && !fstat(src_fd, &st))
		fd = target_create(dst, S_ISDIR(st.st_mode), owner);
	else if (fd < 0)
		fd = -errno;
	if (fd < 0) {
		err = fd;
		pr_warn("exec: bind target %s: %s\n", dst, strerror(-err));
		return err;
	}
	snprintf(src, sizeof(src), "/proc/self/fd/%d", src_fd);
	snprintf(target, sizeof(target), "/proc/self/fd/%d", fd);
	if (mount(src, target, NULL, MS_BIND, NULL)) {
		err = -errno;
		pr_warn("exec: bind onto %s: %s\n", dst, strerror(-err));
	}
	close(fd);
	return err;
}

static int set_writable(const char *path, bool rw)
{
	struct mount_attr attr = {
		.attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (rw ? 0 : MOUNT_ATTR_RDONLY),
		.attr_clr = rw ? MOUNT_ATTR_RDONLY : 0,
	};

	if (mount_setattr(AT_FDCWD, path, AT_RECURSIVE, &attr, sizeof(attr))) {
		pr_warn("exec: mount attributes of %s: %s\n", path, strerror(errno));
		return -errno;
	}
	return 0;
}

/*
 * Every router's namespaces are bind mounts (/run/netns/…, the userns
 * files under XVR_RUN_DIR): a copy of them here would keep another
 * router's namespaces alive as long as this mount namespace lives (an
 * engine's, for days). Detached from the copy, with propagation private
 * so no later one arrives.
 */
static void ns_mounts_detach(void)
{
	char line[4096], point[PATH_MAX];
	int detached = 1;

	/* All of /run/netns at once (a mount of its own where iproute2 or we made it). */
	umount2(NETNS_RUN_DIR, MNT_DETACH);
	/* The table changes under a reader as it goes: read again until none is left. */
	for (int pass = 0; detached && pass < 8; pass++) {
		FILE *f = fopen("/proc/self/mountinfo", "re");

		if (!f)
			return;
		detached = 0;
		while (fgets(line, sizeof(line), f)) {
			if (sscanf(line, "%*s %*s %*s %*s %4095s", point) != 1)
				continue;
			if ((!strncmp(point, NETNS_RUN_DIR "/", strlen(NETNS_RUN_DIR) + 1) ||
			     !strncmp(point, XVR_RUN_DIR "/", strlen(XVR_RUN_DIR) + 1)) &&
			    !umount2(point, MNT_DETACH))
				detached++;
		}
		fclose(f);
	}
}

int tenant_mounts(const char *node, const char *router, const struct tenant_bind *binds,
		  int nbinds)
{
	struct mount_attr ro = { .attr_set = MOUNT_ATTR_RDONLY };
	int own_fd[ARRAY_SIZE(own_mounts)], bind_fds[nbinds > 0 ? nbinds : 1];
	const char *what = "/";
	char path[PATH_MAX];
	int err = 0;
	__u32 base;

	err = tenant_id_base(node, router, &base);
	if (err) {
		pr_warn("exec: router %s has no id range: %s\n", router, strerror(-err));
		return err;
	}

	/*
	 * Sources first (in the new namespace: a bind takes only its own mounts),
	 * as the router's /var hides /var/lib/xvr and its /run the host's. With
	 * the mounts, a cgroup namespace rooted at the router's group (a cgroup2
	 * the tenant mounts shows nothing above it) and SysV IPC of its own.
	 */
	if (unshare(CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWIPC) ||
	    mount("", "/", NULL, MS_PRIVATE | MS_REC, NULL))
		goto fail;
	ns_mounts_detach();
	for (size_t i = 0; i < ARRAY_SIZE(own_mounts); i++) {
		tenant_dir(path, sizeof(path), node, router, own_mounts[i].leaf);
		own_fd[i] = open(path, O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC);
		if (own_fd[i] < 0) {
			what = path;
			goto fail;
		}
	}
	for (int i = 0; i < nbinds; i++) {
		bind_fds[i] = open(binds[i].src, O_PATH | O_CLOEXEC);
		if (bind_fds[i] < 0) {
			err = -errno;
			pr_warn("exec: bind %s: %s\n", binds[i].src, strerror(-err));
			return err;
		}
	}
	/* Not recursive: what is mounted below the router's own directories stays out. */
	for (size_t i = 0; !err && i < ARRAY_SIZE(own_mounts); i++)
		err = bind_fd(own_fd[i], own_mounts[i].dst, 0);
	if (err)
		return err;
	/* The old /sys carries bpffs and cgroupfs below it: all of it goes. */
	what = "/sys";
	if (umount2("/sys", MNT_DETACH) || mount("sysfs", "/sys", "sysfs", 0, NULL))
		goto fail;
	what = "/proc";
	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL))
		goto fail;
	for (int i = 0; !err && i < nbinds; i++)
		err = bind_fd(bind_fds[i], binds[i].dst, base);
	if (err)
		return err;
	what = "/ (read-only)";
	if (mount_setattr(AT_FDCWD, "/", AT_RECURSIVE, &ro, sizeof(ro)))
		goto fail;
	for (size_t i = 0; !err && i < ARRAY_SIZE(own_mounts); i++)
		err = set_writable(own_mounts[i].dst, true);
	err = err ?: set_writable("/proc", true) ?: set_writable("/sys", true);
	for (int i = 0; !err && i < nbinds; i++)
		err = set_writable(binds[i].dst, binds[i].rw);
	if (!err && chdir("/"))
		err = -errno;
	return err;
fail:
	err = -errno;
	pr_warn("exec: router %s: mount %s: %s\n", router, what, strerror(-err));
	return err;
}
