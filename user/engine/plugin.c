// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Loading a tenant's plugin and the services the engine offers it
 * (include/xvr/plugin.h). The file is read while the engine still holds
 * the node's privileges (plugin_open), into a sealed memfd; by the time it
 * is loaded from there (plugin_load) the engine has given them up: the
 * plugin's code, constructors included, runs with what the tenant may do
 * in its own namespace and nothing more.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "common.h"
#include "engine.h"

__u64 fe_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static struct engine *engine_of(struct xvr_plugin_ctx *ctx)
{
	return ctx->engine;
}

static void svc_route(struct xvr_plugin_ctx *ctx, struct xvr_pkt *pkt)
{
	fe_route_pkt(engine_of(ctx), pkt);
}

static int svc_ifindex(struct xvr_plugin_ctx *ctx, const char *name)
{
	return name ? rib_link_by_name(&engine_of(ctx)->rib, name) : -ENODEV;
}

static int svc_ifmac(struct xvr_plugin_ctx *ctx, __u32 ifindex, __u8 mac[6])
{
	const struct fe_link *l = rib_link(&engine_of(ctx)->rib, ifindex);

	if (!l)
		return -ENODEV;
	memcpy(mac, l->mac, 6);
	return 0;
}

static int svc_ifname(struct xvr_plugin_ctx *ctx, __u32 ifindex, char *buf)
{
	const struct fe_link *l = rib_link(&engine_of(ctx)->rib, ifindex);

	if (!l)
		return -ENODEV;
	memcpy(buf, l->name, IF_NAMESIZE);
	return 0;
}

static void svc_log(struct xvr_plugin_ctx *ctx, const char *fmt, ...)
{
	struct engine *e = engine_of(ctx);
	va_list ap;

	fprintf(stderr, "xvr-router %s/%s fe %u: %s: ", e->node, e->router, e->fe_id,
		e->plugin && e->plugin->name ? e->plugin->name : "plugin");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static __u64 svc_now_ns(struct xvr_plugin_ctx *ctx)
{
	return fe_now_ns();
}

#define PLUGIN_MAX_BYTES	(64u << 20)

/* Copies all of in to out; -errno. */
static int copy_all(int in, int out, off_t size)
{
	char buf[64 * 1024];

	for (off_t done = 0; done < size;) {
		ssize_t n = read(in, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;	/* shrank meanwhile */
		for (ssize_t w = 0, k; w < n; w += k) {
			k = write(out, buf + w, n - w);
			if (k < 0)
				return -errno;
		}
		done += n;
	}
	return 0;
}

int plugin_open(const char *path)
{
	struct stat st;
	int fd, mfd = -1, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		pr_warn("plugin %s: %s\n", path, strerror(-err));
		return err;
	}
	if (fstat(fd, &st)) {
		err = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > PLUGIN_MAX_BYTES) {
		pr_warn("plugin %s: not a regular file of at most %u MiB\n", path,
			PLUGIN_MAX_BYTES >> 20);
		err = -EINVAL;
		goto out;
	}
	/* A copy, sealed: what is loaded later is what was read now. */
	mfd = memfd_create("xvr-plugin", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	err = mfd < 0 ? -errno : copy_all(fd, mfd, st.st_size);
	if (!err && fcntl(mfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL))
		err = -errno;
out:
	close(fd);
	if (err) {
		pr_warn("plugin %s: cannot read it: %s\n", path, strerror(-err));
		if (mfd >= 0)
			close(mfd);
		return err;
	}
	return mfd;
}

int plugin_load(struct engine *e, const char *path, int fd, const char *config)
{
	const struct xvr_plugin *pl;
	char fd_path[64];
	void *dl;
	int err;

	/* The memfd is readable by anyone who holds it: no file rights needed. */
	snprintf(fd_path, sizeof(fd_path), "/proc/self/fd/%d", fd);
	dl = dlopen(fd_path, RTLD_NOW | RTLD_LOCAL);
	close(fd);
	if (!dl) {
		pr_warn("plugin %s: cannot load: %s\n", path, dlerror());
		return -ENOENT;
	}
	pl = dlsym(dl, XVR_PLUGIN_SYMBOL);
	if (!pl) {
		pr_warn("plugin %s: no '%s' symbol: not an xvr plugin\n", path, XVR_PLUGIN_SYMBOL);
		dlclose(dl);
		return -ENOEXEC;
	}
	if (pl->abi_version != XVR_PLUGIN_ABI_VERSION) {
		pr_warn("plugin %s: built for plugin ABI version %u, this engine speaks version %u; "
			"rebuild it against this xvr's include/xvr/plugin.h\n",
			path, pl->abi_version, XVR_PLUGIN_ABI_VERSION);
		dlclose(dl);
		return -EPROTO;
	}
	if (!pl->process) {
		pr_warn("plugin %s: no process() function\n", path);
		dlclose(dl);
		return -EINVAL;
	}

	e->pctx = (struct xvr_plugin_ctx){
		.abi_version = XVR_PLUGIN_ABI_VERSION,
		.fe_id = e->fe_id,
		.node = e->node,
		.router = e->router,
		.dev = e->dev,
		.dev_ifindex = e->dev_ifindex,
		.frame_size = e->frame_size,
		.route = svc_route,
		.ifindex = svc_ifindex,
		.ifmac = svc_ifmac,
		.ifname = svc_ifname,
		.log = svc_log,
		.now_ns = svc_now_ns,
		.engine = e,
	};
	e->plugin = pl;
	e->plugin_dl = dl;
	if (pl->init) {
		err = pl->init(&e->pctx, config ? config : "");
		if (err) {
			pr_warn("plugin %s (%s): init failed: %s\n", path,
				pl->name ? pl->name : "?", strerror(err < 0 ? -err : err));
			e->plugin = NULL;
			e->plugin_dl = NULL;
			dlclose(dl);
			return err < 0 ? err : -EINVAL;
		}
	}
	pr_info("plugin %s loaded (%s, ABI %u)\n", path, pl->name ? pl->name : "?",
		pl->abi_version);
	return 0;
}

void plugin_unload(struct engine *e)
{
	if (!e->plugin)
		return;
	if (e->plugin->fini)
		e->plugin->fini(&e->pctx);
	e->plugin = NULL;
	dlclose(e->plugin_dl);
	e->plugin_dl = NULL;
}
