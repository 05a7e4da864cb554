// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include "common.h"
#include "node.h"
#include "netns.h"

const char *xvr_node_name(const char *opt)
{
	const char *env;

	if (opt)
		return opt;
	env = getenv("XVR_NODE");
	return env && *env ? env : "default";
}

int xvr_node_path(char *buf, size_t len, const char *node, const char *leaf)
{
	int n = snprintf(buf, len, "%s/%s%s%s", XVR_PIN_BASE, node, leaf ? "/" : "",
			 leaf ? leaf : "");

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

unsigned int xvr_node_tag(const char *name)
{
	unsigned int h = 2166136261u;	/* FNV-1a */

	for (; *name; name++)
		h = (h ^ (unsigned char)*name) * 16777619u;
	return (h ^ (h >> 16)) & 0xffff;
}

bool xvr_node_name_ok(const char *name)
{
	return name_ok(name, 32);
}

void xvr_node_init(struct xvr_node *n, const char *name)
{
	memset(n, 0, sizeof(*n));
	snprintf(n->name, sizeof(n->name), "%s", name);
	n->lock_fd = -1;
#define XVR_NODE_FD(m) n->m##_fd = -1;
	XVR_MAPS(XVR_NODE_FD)
#undef XVR_NODE_FD
}

int xvr_node_open(struct xvr_node *n, const char *name)
{
	char path[PATH_MAX];
	int err;

	xvr_node_init(n, name);
	if (!xvr_node_name_ok(name)) {
		pr_warn("node %s: invalid name (1-32 of [A-Za-z0-9_-])\n", name);
		return -EINVAL;
	}
	err = xvr_node_path(n->root, sizeof(n->root), name, NULL);
	if (err)
		return err;

#define XVR_NODE_OPEN(m)							\
	xvr_node_path(path, sizeof(path), name, #m);				\
	n->m##_fd = bpf_obj_get(path);						\
	if (n->m##_fd < 0) {							\
		err = -errno;							\
		if (err == -ENOENT)						\
			pr_warn("node %s: not up (no %s; run 'xvr node up')\n", name, path); \
		else								\
			pr_warn("node %s: %s: %s\n", name, path, strerror(-err)); \
		xvr_node_close(n);						\
		return err;							\
	}
	XVR_MAPS(XVR_NODE_OPEN)
#undef XVR_NODE_OPEN
	return 0;
}

void xvr_node_close(struct xvr_node *n)
{
#define XVR_NODE_CLOSE(m) if (n->m##_fd >= 0) { close(n->m##_fd); n->m##_fd = -1; }
	XVR_MAPS(XVR_NODE_CLOSE)
#undef XVR_NODE_CLOSE
	if (n->lock_fd >= 0) {
		close(n->lock_fd);
		n->lock_fd = -1;
	}
}

void xvr_node_lock_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s.lock", XVR_RUN_DIR, name);
}

int xvr_node_lock(struct xvr_node *n)
{
	char path[PATH_MAX];

	if (n->lock_fd >= 0)
		return 0;
	if (mkdir(XVR_RUN_DIR, 0700) && errno != EEXIST)
		return -errno;
	xvr_node_lock_path(path, sizeof(path), n->name);
	/*
	 * 'node down' unlinks the file while holding it: a waiter that then
	 * gets the old file's lock must lock the file now at the path instead.
	 */
	for (;;) {
		struct stat held, now;

		n->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (n->lock_fd < 0)
			return -errno;
		if (flock(n->lock_fd, LOCK_EX) < 0)
			return -errno;
		if (!fstat(n->lock_fd, &held) && !stat(path, &now) && held.st_ino == now.st_ino &&
		    held.st_dev == now.st_dev)
			return 0;
		close(n->lock_fd);
		n->lock_fd = -1;
	}
}

/* XVR_RUN_DIR/<node>.netns holds the name of the node's network namespace. */
static void netns_record(char *buf, size_t len, const char *node)
{
	snprintf(buf, len, "%s/%s.netns", XVR_RUN_DIR, node);
}

int xvr_node_netns(const char *node, char *buf, size_t len)
{
	char path[PATH_MAX];
	FILE *f;
	int err = 0;

	netns_record(path, sizeof(path), node);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	if (!fgets(buf, len, f))
		err = -EINVAL;
	fclose(f);
	buf[strcspn(buf, "\n")] = 0;
	return err ?: (*buf ? 0 : -EINVAL);
}

int xvr_node_netns_set(const char *node, const char *ns)
{
	char path[PATH_MAX];
	FILE *f;

	netns_record(path, sizeof(path), node);
	if (!ns)
		return unlink(path) && errno != ENOENT ? -errno : 0;
	if (mkdir(XVR_RUN_DIR, 0700) && errno != EEXIST)
		return -errno;
	f = fopen(path, "w");
	if (!f)
		return -errno;
	fprintf(f, "%s\n", ns);
	return fclose(f) ? -errno : 0;
}

int xvr_node_enter(const char *node)
{
	char ns[256];
	int err;

	if (xvr_node_netns(node, ns, sizeof(ns)))
		return 0;	/* the node runs in the namespace xvr was started in */
	err = netns_enter(ns);
	if (err)
		pr_warn("node %s: cannot enter its namespace %s: %s\n", node, ns, strerror(-err));
	return err;
}

int xvr_node_abi(const char *node, __u32 *version)
{
	char path[PATH_MAX];
	__u32 zero = 0;
	int fd, err = 0;

	xvr_node_path(path, sizeof(path), node, "abi");
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	if (bpf_map_lookup_elem(fd, &zero, version))
		err = -errno;
	close(fd);
	return err;
}

int xvr_node_abi_pin(const char *node)
{
	char path[PATH_MAX];
	__u32 zero = 0, version = XVR_ABI_VERSION;
	int fd, err = 0;

	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "xvr_abi", sizeof(zero), sizeof(version), 1, NULL);
	if (fd < 0)
		return -errno;
	xvr_node_path(path, sizeof(path), node, "abi");
	if (bpf_map_update_elem(fd, &zero, &version, BPF_ANY) || bpf_obj_pin(fd, path))
		err = -errno;
	close(fd);
	return err;
}
