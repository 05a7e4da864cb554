// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Broadcast sets. The outer map (xvr_bcast) is a hash of maps; each inner
 * map is a DEVMAP_HASH keyed by the node-side ifindex of a VIF, whose entry
 * runs xvr_bcast_copy on each copy (struct bpf_devmap_val's program), so
 * that every router counts and admits its own copy.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include "common.h"
#include "bcast.h"

static void bcast_key(const struct xvr_vif *v, struct xvr_bcast_key *key)
{
	*key = (struct xvr_bcast_key){ .port = v->port, .vlan = v->vlan };
}

/* The fd of key's set, or -ENOENT. */
static int set_fd(struct xvr_node *n, const struct xvr_bcast_key *key)
{
	__u32 id;
	int fd;

	if (bpf_map_lookup_elem(n->bcast_fd, key, &id))
		return -errno;
	fd = bpf_map_get_fd_by_id(id);
	return fd < 0 ? -errno : fd;
}

static int prog_fd_get(struct xvr_node *n)
{
	char path[PATH_MAX];
	int fd;

	xvr_node_path(path, sizeof(path), n->name, XVR_BCAST_PIN);
	fd = bpf_obj_get(path);
	if (fd < 0) {
		fd = -errno;
		pr_warn("node %s: %s: %s ('xvr node up' loads it)\n", n->name, path,
			strerror(-fd));
	}
	return fd;
}

int bcast_join(struct xvr_node *n, const struct xvr_vif *v)
{
	struct bpf_devmap_val dv = { .ifindex = v->dev };
	struct xvr_bcast_key key;
	int fd, prog_fd, err = 0;
	bool created = false;

	bcast_key(v, &key);
	prog_fd = prog_fd_get(n);
	if (prog_fd < 0)
		return prog_fd;
	fd = set_fd(n, &key);
	if (fd == -ENOENT) {
		fd = bpf_map_create(BPF_MAP_TYPE_DEVMAP_HASH, "xvr_bcast_set", sizeof(__u32),
				    sizeof(struct bpf_devmap_val), XVR_BCAST_VIFS, NULL);
		if (fd < 0) {
			err = -errno;
			goto out;
		}
		created = true;
	} else if (fd < 0) {
		err = fd;
		goto out;
	}
	dv.bpf_prog.fd = prog_fd;
	if (bpf_map_update_elem(fd, &v->dev, &dv, BPF_ANY)) {
		err = -errno;
		goto out;
	}
	/* A new set goes in only with its first VIF: no set is ever empty. */
	if (created && bpf_map_update_elem(n->bcast_fd, &key, &fd, BPF_NOEXIST))
		err = -errno;
out:
	if (err)
		pr_warn("vif %s: broadcast set of its port: %s\n", v->name, strerror(-err));
	if (fd >= 0)
		close(fd);
	close(prog_fd);
	return err;
}

int bcast_leave(struct xvr_node *n, const struct xvr_vif *v)
{
	struct xvr_bcast_key key;
	__u32 next;
	int fd, err = 0;

	bcast_key(v, &key);
	fd = set_fd(n, &key);
	if (fd < 0)
		return fd == -ENOENT ? 0 : fd;	/* no set: nothing to leave, not in it */
	if (bpf_map_delete_elem(fd, &v->dev) && errno != ENOENT)
		err = -errno;
	if (!err && bpf_map_get_next_key(fd, NULL, &next) && errno == ENOENT &&
	    bpf_map_delete_elem(n->bcast_fd, &key) && errno != ENOENT)
		err = -errno;
	close(fd);
	return err;
}

int bcast_has(struct xvr_node *n, const struct xvr_vif *v)
{
	struct bpf_devmap_val dv;
	struct xvr_bcast_key key;
	int fd, ret;

	bcast_key(v, &key);
	fd = set_fd(n, &key);
	if (fd < 0)
		return fd == -ENOENT ? 0 : fd;	/* no set: nothing to leave, not in it */
	ret = bpf_map_lookup_elem(fd, &v->dev, &dv) ? (errno == ENOENT ? 0 : -errno) : 1;
	close(fd);
	return ret;
}

int bcast_reprogram(struct xvr_node *n, int prog_fd)
{
	struct xvr_bcast_key key, *prev = NULL;
	int cnt = 0, err = 0;

	while (!bpf_map_get_next_key(n->bcast_fd, prev, &key)) {
		__u32 dev, *dprev = NULL;
		int fd = set_fd(n, &key);

		prev = &key;
		if (fd < 0)
			continue;	/* gone since the walk saw it */
		while (!bpf_map_get_next_key(fd, dprev, &dev)) {
			struct bpf_devmap_val dv = { .ifindex = dev, .bpf_prog.fd = prog_fd };

			if (bpf_map_update_elem(fd, &dev, &dv, BPF_EXIST))
				err = -errno;
			else
				cnt++;
			dprev = &dev;
		}
		close(fd);
	}
	return err ? err : cnt;
}

/* Whether the set key may hold dev: an active port VIF there has it as its end. */
static bool member_ok(const struct xvr_vif *vifs, const struct xvr_bcast_key *key, __u32 dev)
{
	for (__u32 i = 1; i < XVR_MAX_VIFS; i++) {
		const struct xvr_vif *v = &vifs[i];

		if ((v->flags & XVR_VIF_ACTIVE) && !(v->flags & XVR_VIF_LINK) && v->dev == dev)
			return v->port == key->port && v->vlan == key->vlan;
	}
	return false;
}

int bcast_prune(struct xvr_node *n, const struct xvr_vif *vifs)
{
	struct xvr_bcast_key key, next, *prev = NULL, empty[64];
	int removed = 0, nempty = 0;

	while (!bpf_map_get_next_key(n->bcast_fd, prev, &next)) {
		__u32 dev, *dprev = NULL, stale[64];
		int fd = set_fd(n, &next), nstale = 0;

		key = next;
		prev = &key;
		if (fd < 0)
			continue;
		while (!bpf_map_get_next_key(fd, dprev, &dev) && nstale < (int)ARRAY_SIZE(stale)) {
			if (!member_ok(vifs, &key, dev))
				stale[nstale++] = dev;
			dprev = &dev;
		}
		for (int i = 0; i < nstale; i++)
			removed += !bpf_map_delete_elem(fd, &stale[i]);
		if (bpf_map_get_next_key(fd, NULL, &dev) && errno == ENOENT &&
		    nempty < (int)ARRAY_SIZE(empty))
			empty[nempty++] = key;
		close(fd);
	}
	for (int i = 0; i < nempty; i++)
		bpf_map_delete_elem(n->bcast_fd, &empty[i]);
	return removed;
}
