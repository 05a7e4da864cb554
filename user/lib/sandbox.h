/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A router as a container: a user namespace whose ids 0..65535 map to a
 * host range of its own, the router's network namespace owned by it, and
 * a state directory on the node for what its processes keep between runs.
 *
 * Host ranges: slot k is ids TENANT_ID_FIRST + k * TENANT_ID_SIZE onwards,
 * far above any host user. A slot is claimed by creating
 * XVR_STATE_DIR/ids/<k> with O_EXCL (atomic across every node of the
 * machine) and recorded in the router's state directory,
 * XVR_STATE_DIR/<node>/<router>/, whose run, tmp, var and shm belong to the
 * router's root and become its /run, /tmp, /var and /dev/shm under
 * 'router exec'. The user namespace stays reachable as a bind-mounted ns
 * file, XVR_RUN_DIR/<node>/userns/<router>; the network namespace is an
 * 'ip netns' name, /run/netns/xvr-<node>-<router>.
 */
#ifndef XVR_SANDBOX_H
#define XVR_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#define XVR_STATE_DIR	"/var/lib/xvr"
#define TENANT_ID_FIRST	0x40000000u
#define TENANT_ID_SIZE	65536u
#define TENANT_SLOTS	16383u	/* up to 0x7fff0000: ids stay positive */

/* XVR_STATE_DIR/<node>/<router>[/<leaf>]; -ENAMETOOLONG or 0. */
int tenant_dir(char *buf, size_t len, const char *node, const char *router, const char *leaf);
/* XVR_RUN_DIR/<node>/userns/<router>. */
int tenant_userns_path(char *buf, size_t len, const char *node, const char *router);
/*
 * Claims an id range, makes the state directory, the user namespace and
 * the network namespace ns (owned by it, lo up) and names both. Undoes
 * what it did on failure.
 */
int tenant_create(const char *node, const char *router, const char *ns);
/* Removes all of it, whatever exists; the router's processes are gone. */
int tenant_destroy(const char *node, const char *router, const char *ns);
/* First host id of the router's range; -ENOENT for a router without one. */
int tenant_id_base(const char *node, const char *router, __u32 *base);
/* An operator's file or directory handed into 'router exec'. */
struct tenant_bind {
	const char *src, *dst;	/* host path; path in the router's view */
	bool rw;
};

/*
 * The filesystem view of 'router exec', built as root of the initial
 * namespaces in a new mount namespace, after entering the router's network
 * and PID namespaces: the host's root read-only, the router's own /run,
 * /tmp, /var and /dev/shm writable, a sysfs of its network namespace (no
 * bpffs, no cgroupfs), its own /proc, and the operator's binds (read-only
 * unless rw; a DST missing below the router's own directories is created,
 * elsewhere it must exist). Also a cgroup namespace (the caller has joined
 * the router's group) and an IPC namespace. The tenant cannot change any
 * of it: the mount namespace is not its user namespace's.
 */
int tenant_mounts(const char *node, const char *router, const struct tenant_bind *binds,
		  int nbinds);
/*
 * Joins the router's user namespace and becomes its root (a host id of
 * the router's range): full capabilities over the router's own
 * namespaces, none over anything else. The caller must be single-threaded.
 */
int tenant_join(int userns_fd);
/* The router's user namespace (before anything hides XVR_RUN_DIR); fd or -errno. */
int tenant_userns_open(const char *node, const char *router);
/*
 * Enters the router's namespaces as its processes live in them: its
 * network namespace ns (as the node's root), then as_root(ctx) if given
 * (e.g. mounts, which need the node's root), then its user namespace as
 * its root. Says what failed, each message beginning with pfx.
 */
int tenant_enter(const char *node, const char *router, const char *ns,
		 int (*as_root)(void *ctx), void *ctx, const char *pfx);
/* Every capability gone: bounding set, ambient, permitted, effective. */
int tenant_caps_drop(void);
/*
 * no_new_privs, then a seccomp filter: EPERM for bpf, perf_event_open,
 * kexec, module loading and the key syscalls, and for any syscall of
 * another ABI (i386, x32).
 */
int tenant_seccomp(void);

#endif
