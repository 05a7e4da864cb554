// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * xvr-router: one forwarding engine (FE) of an afxdp-mode virtual router.
 *
 * Europa's user-mode forwarding on AF_XDP: the UMEM is the router's shared
 * packet pool, the fill/rx/tx/completion rings are the polled packet
 * states. A frame is received into a pool buffer, rewritten in place and
 * transmitted from that same buffer; the buffer returns to the fill ring
 * when its transmission completes. No copy between RX and TX, no system
 * call per packet: one sendto() per batch (copy-mode TX needs it), poll()
 * only when idle.
 *
 * The engine runs in the router's namespace on its own veth end (--dev),
 * whose XDP program (xvr's, pinned per engine) redirects every frame into
 * XSKMAP slot 0. Frames carry xvr's FE tag (xvr.h): ingress says which VIF
 * a frame arrived on, the engine says which VIF it leaves by, or that the
 * router's own kernel should get it through that VIF.
 *
 * Started as root by the node's supervisor; takes what needs privileges
 * (XSK, pinned maps, netlink), then drops to a tenant's capabilities before
 * it runs any tenant code (the plugin).
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/mman.h>
#include <grp.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include "sandbox.h"
#include <sys/socket.h>
#include <linux/if_ether.h>
#include <linux/if_xdp.h>
#include <bpf/bpf.h>
#include <xdp/xsk.h>
#include "common.h"
#include "netns.h"
#include "engine.h"

#define FE_POOL_MIN		2
#define FE_POOL_MAX		16384
#define FE_POOL_DEFAULT		4096
#define FE_BATCH_DEFAULT	64
#define FE_BATCH_MAX		1024
#define FE_IDLE_US_DEFAULT	50
#define FE_BEAT_NS		(25ull * 1000 * 1000)	/* heartbeat and counters */
#define FE_NL_NS		(1ull * 1000 * 1000)	/* netlink events while busy */
#define FE_SLEEP_MAX_MS		(int)(FE_BEAT_NS / 1000000)	/* an idle poll sleeps a beat at most */
/* A sched_yield() that took longer ran someone else: the core is shared. */
#define FE_YIELD_SHARED_NS	(5ull * 1000)
/*
 * sendto() calls per kick: copy-mode TX sends at most 32 frames per call,
 * unless the socket's XDP_MAX_TX_SKB_BUDGET (Linux 6.17) raises that; then
 * FE_TX_BUDGET, a veth ring's worth, so one call sends what a pass queued.
 */
#define FE_KICKS_MAX		8
#define FE_TX_BUDGET		256
#ifndef XDP_MAX_TX_SKB_BUDGET
#define XDP_MAX_TX_SKB_BUDGET	9
#endif
#define FE_PIN_ROOT		"/sys/fs/bpf/xvr"
/* A predecessor's socket can hold the queue for a moment after it exits. */
#define FE_BIND_TRIES		60
#define FE_BIND_WAIT_US		50000

struct fe_opts {
	const char *node;
	const char *router;
	const char *dev;
	const char *plugin;
	const char *plugin_config;
	__u32 fe_id;
	__u32 pool;
	__u32 batch;
	__u32 frame_size;
	__u32 idle_us;
	int cpu;
	bool set_user;
	uid_t uid;
	gid_t gid;
	int plugin_fd;		/* the plugin, read while privileged (plugin_open) */
	const char *userns;
};

/* One engine: the AF_XDP socket and its pool around the engine proper. */
struct fe {
	struct engine e;
	struct fe_opts o;

	void *area;
	size_t area_len;
	__u64 frame_mask;	/* base of a buffer = addr & frame_mask */
	__u32 ring_size;
	__u32 tx_budget;	/* frames one sendto() may send (XDP_MAX_TX_SKB_BUDGET) */
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	struct xsk_ring_prod fq, tx;
	struct xsk_ring_cons cq, rx;
	int xsk_fd;

	__u64 *free;		/* buffers owned by us and idle (base addresses) */
	__u32 nfree;
	__u32 in_flight;	/* on the TX or completion ring */

	struct xvr_fe_state *state;	/* mmapped, shared with ingress */
	struct xvr_fe_state base;	/* counters of earlier runs */

	struct xvr_pkt *pkts;
	__u64 *pkt_base;
	struct xdp_desc *txd;
	__u64 next_beat;
};

static volatile sig_atomic_t stop_requested, dump_requested;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		dump_requested = 1;
	else
		stop_requested = 1;
}

/* ---- pool and rings ---- */

static inline void buf_free(struct fe *f, __u64 base)
{
	/* Never more than the pool: a stray address from the kernel must not overrun the stack. */
	if (f->nfree < f->o.pool && base < f->area_len)
		f->free[f->nfree++] = base;
}

/* Keep the kernel supplied with every buffer we are not using. */
static void fill_refill(struct fe *f)
{
	__u32 n, idx;

	if (!f->nfree)
		return;
	n = xsk_prod_nb_free(&f->fq, f->nfree);
	if (n > f->nfree)
		n = f->nfree;
	if (!n || xsk_ring_prod__reserve(&f->fq, n, &idx) != n)
		return;
	for (__u32 i = 0; i < n; i++)
		*xsk_ring_prod__fill_addr(&f->fq, idx + i) = f->free[--f->nfree];
	xsk_ring_prod__submit(&f->fq, n);
}

static bool tx_ring_busy(struct fe *f)
{
	return xsk_prod_nb_free(&f->tx, f->ring_size) < f->ring_size;
}

/* Copy-mode TX runs in sendto(); the kernel says when it needs one. */
static void tx_kick(struct fe *f)
{
	for (int i = 0; i < FE_KICKS_MAX && tx_ring_busy(f); i++) {
		if (!xsk_ring_prod__needs_wakeup(&f->tx))
			return;
		f->e.c.wakeups++;
		if (sendto(f->xsk_fd, NULL, 0, MSG_DONTWAIT, NULL, 0) >= 0)
			continue;
		/* EAGAIN: budget used up, more to send; the rest: retry on the next pass. */
		if (errno != EAGAIN)
			return;
	}
}

static bool tx_complete(struct fe *f)
{
	__u32 idx, n = xsk_ring_cons__peek(&f->cq, f->ring_size, &idx);

	for (__u32 i = 0; i < n; i++) {
		__u64 addr = *xsk_ring_cons__comp_addr(&f->cq, idx + i);

		buf_free(f, addr & f->frame_mask);
	}
	if (n) {
		xsk_ring_cons__release(&f->cq, n);
		f->in_flight -= n;
	}
	return n;
}

/* ---- one batch ---- */

static void count_verdict(struct fe *f, const struct xvr_pkt *p)
{
	struct fe_counters *c = &f->e.c;
	__u16 reason = p->reason < XVR_REASON_MAX ? p->reason : 0;

	if (p->verdict == XVR_VERDICT_FORWARD) {
		c->fwd_packets++;
	} else if (p->verdict == XVR_VERDICT_STACK) {
		c->stack_packets++;
		c->stack[reason]++;
	} else {
		c->drop_packets++;
		c->drop[reason]++;
	}
}

static void drop_invalid(struct fe *f, __u64 base, __u64 *counter)
{
	(*counter)++;
	f->e.c.drop_packets++;
	buf_free(f, base);
}

/*
 * A verdict becomes a TX descriptor only if it is well formed: a known
 * verdict, an interface of the router's namespace, a frame inside its own
 * buffer with room for the tag. Returns true when p goes out.
 */
static bool pkt_finish(struct fe *f, struct xvr_pkt *p, __u64 base, struct xdp_desc *d)
{
	uintptr_t lo = (uintptr_t)f->area + base + XVR_FE_TAG_LEN;
	uintptr_t hi = (uintptr_t)f->area + base + f->o.frame_size;
	uintptr_t data = (uintptr_t)p->data;
	__u16 tag;
	__u8 *t;

	if (p->verdict == XVR_VERDICT_DROP) {
		count_verdict(f, p);
		buf_free(f, base);
		return false;
	}
	if (p->verdict == XVR_VERDICT_STACK && !p->out_ifindex) {
		/* Arrived on no VIF (ifindex 0): no interface to hand it to the stack by. */
		drop_invalid(f, base, &f->e.c.no_punt_vif);
		return false;
	}
	if ((p->verdict != XVR_VERDICT_FORWARD && p->verdict != XVR_VERDICT_STACK) ||
	    !fe_out_ok(&f->e, p->out_ifindex) || data < lo || data > hi ||
	    p->len < ETH_HLEN || p->len > hi - data) {
		drop_invalid(f, base, &f->e.c.plugin_invalid);
		return false;
	}
	count_verdict(f, p);

	/* Write the tag back in front of the EtherType: MACs move 4 bytes down. */
	t = p->data - XVR_FE_TAG_LEN;
	memmove(t, p->data, 2 * ETH_ALEN);
	tag = p->out_ifindex | (p->verdict == XVR_VERDICT_STACK ? XVR_FE_TAG_STACK : 0);
	t[12] = XVR_FE_TAG_PROTO >> 8;
	t[13] = XVR_FE_TAG_PROTO & 0xff;
	t[14] = tag >> 8;
	t[15] = tag & 0xff;
	d->addr = t - (__u8 *)f->area;
	d->len = p->len + XVR_FE_TAG_LEN;
	d->options = 0;
	return true;
}

static __u32 rx_batch(struct fe *f)
{
	struct fe_counters *c = &f->e.c;
	__u32 idx, n, npkts = 0, ntx = 0;

	n = xsk_ring_cons__peek(&f->rx, f->o.batch, &idx);
	if (!n) {
		/* Zero-copy drivers may want a kick to refill from the fill ring. */
		if (xsk_ring_prod__needs_wakeup(&f->fq)) {
			c->wakeups++;
			recvfrom(f->xsk_fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
		}
		return 0;
	}

	for (__u32 i = 0; i < n; i++) {
		const struct xdp_desc *d = xsk_ring_cons__rx_desc(&f->rx, idx + i);
		__u64 base = d->addr & f->frame_mask;
		__u8 *data = (__u8 *)f->area + d->addr;
		struct xvr_pkt *p = &f->pkts[npkts];
		__u16 tag;

		c->rx_packets++;
		c->rx_bytes += d->len;
		if (base >= f->area_len || d->addr + d->len > base + f->o.frame_size) {
			/* Not a buffer of ours; never happens short of a kernel bug. */
			c->short_frame++;
			c->drop_packets++;
			continue;
		}
		if (d->len < ETH_HLEN + XVR_FE_TAG_LEN) {
			drop_invalid(f, base, &c->short_frame);
			continue;
		}
		tag = (__u16)data[14] << 8 | data[15];
		if (data[12] != (XVR_FE_TAG_PROTO >> 8) || data[13] != (XVR_FE_TAG_PROTO & 0xff) ||
		    (tag & XVR_FE_TAG_STACK)) {
			drop_invalid(f, base, &c->bad_tag);
			continue;
		}
		/* Strip the tag: the MACs move up over it, the real EtherType is next. */
		memmove(data + XVR_FE_TAG_LEN, data, 2 * ETH_ALEN);
		p->data = data + XVR_FE_TAG_LEN;
		p->len = d->len - XVR_FE_TAG_LEN;
		p->headroom = d->addr - base;
		p->tailroom = base + f->o.frame_size - (d->addr + d->len);
		p->in_ifindex = tag & XVR_FE_TAG_IFINDEX;
		p->out_ifindex = 0;
		p->verdict = XVR_VERDICT_UNSET;
		p->reason = XVR_REASON_NONE;
		p->user = 0;
		f->pkt_base[npkts++] = base;
	}
	xsk_ring_cons__release(&f->rx, n);

	if (npkts) {
		if (f->e.plugin)
			f->e.plugin->process(&f->e.pctx, f->pkts, npkts);
		else
			for (__u32 i = 0; i < npkts; i++)
				fe_route_pkt(&f->e, &f->pkts[i]);
	}
	for (__u32 i = 0; i < npkts; i++)
		if (pkt_finish(f, &f->pkts[i], f->pkt_base[i], &f->txd[ntx]))
			ntx++;

	if (ntx) {
		/* The ring has a slot for every buffer of the pool: this cannot fail. */
		if (xsk_ring_prod__reserve(&f->tx, ntx, &idx) != ntx) {
			c->tx_ring_full++;
			c->drop_packets += ntx;
			for (__u32 i = 0; i < ntx; i++)
				buf_free(f, f->txd[i].addr & f->frame_mask);
			return n;
		}
		for (__u32 i = 0; i < ntx; i++) {
			*xsk_ring_prod__tx_desc(&f->tx, idx + i) = f->txd[i];
			c->tx_bytes += f->txd[i].len;
		}
		xsk_ring_prod__submit(&f->tx, ntx);
		c->tx_packets += ntx;
		f->in_flight += ntx;
		tx_kick(f);
	}
	return n;
}

/* ---- heartbeat and counters ---- */

static void fe_beat(struct engine *e)
{
	struct fe *f = (struct fe *)e;
	struct xvr_fe_state *st = f->state, *b = &f->base;
	struct xdp_statistics xs = {};
	socklen_t len = sizeof(xs);
	const struct fe_counters *c = &e->c;

	if (getsockopt(f->xsk_fd, SOL_XDP, XDP_STATISTICS, &xs, &len))
		memset(&xs, 0, sizeof(xs));
	st->rx_packets = b->rx_packets + c->rx_packets;
	st->rx_bytes = b->rx_bytes + c->rx_bytes;
	st->tx_packets = b->tx_packets + c->tx_packets;
	st->tx_bytes = b->tx_bytes + c->tx_bytes;
	st->drop_packets = b->drop_packets + c->drop_packets;
	st->rx_ring_full = b->rx_ring_full + xs.rx_ring_full;
	st->rx_dropped = b->rx_dropped + xs.rx_dropped;
	st->tx_invalid = b->tx_invalid + xs.tx_invalid_descs;
	st->fill_empty = b->fill_empty + xs.rx_fill_ring_empty_descs;
	st->tx_ring_full = b->tx_ring_full + c->tx_ring_full;
	st->wakeups = b->wakeups + c->wakeups;
	st->idle_sleeps = b->idle_sleeps + c->idle_sleeps;
	/* Last, so a reader that sees a fresh beat sees these counters. */
	__atomic_store_n(&st->heartbeat_ns, fe_now_ns(), __ATOMIC_RELEASE);
	f->next_beat = fe_now_ns() + FE_BEAT_NS;
}

static const char *const reason_names[XVR_REASON_MAX] = {
	[XVR_REASON_NON_IP] = "non-ip",	      [XVR_REASON_TTL] = "ttl",
	[XVR_REASON_NO_ROUTE] = "no-route",   [XVR_REASON_UNRESOLVED] = "unresolved",
	[XVR_REASON_LOCAL] = "local",	      [XVR_REASON_IP_OPTIONS] = "ip-options",
	[XVR_REASON_MCAST] = "mcast",	      [XVR_REASON_MTU] = "mtu",
	[XVR_REASON_ROUTE_STACK] = "route-stack", [XVR_REASON_NO_OUTPUT] = "no-output",
	[XVR_REASON_BAD_L2] = "bad-l2",	      [XVR_REASON_BAD_IP] = "bad-ip",
	[XVR_REASON_BAD_CSUM] = "bad-csum",   [XVR_REASON_BLACKHOLE] = "blackhole",
	[XVR_REASON_PLUGIN] = "plugin",
};

static void print_reasons(const char *what, const __u64 *v)
{
	for (int i = 0; i < XVR_REASON_MAX; i++)
		if (v[i])
			fprintf(stderr, " %s.%s=%llu", what, reason_names[i] ?: "other",
				(unsigned long long)v[i]);
}

/* One line of this run's counters; on exit and on SIGUSR1. */
static void fe_report(struct fe *f)
{
	const struct fe_counters *c = &f->e.c;

	fprintf(stderr,
		"xvr-router %s/%s fe %u: rx=%llu tx=%llu fwd=%llu stack=%llu drop=%llu "
		"bad_tag=%llu short=%llu invalid=%llu no_punt_vif=%llu wakeups=%llu "
		"idle_sleeps=%llu nl_events=%llu nl_resyncs=%llu routes4=%u routes6=%u",
		f->o.node, f->o.router, f->o.fe_id, (unsigned long long)c->rx_packets,
		(unsigned long long)c->tx_packets, (unsigned long long)c->fwd_packets,
		(unsigned long long)c->stack_packets, (unsigned long long)c->drop_packets,
		(unsigned long long)c->bad_tag, (unsigned long long)c->short_frame,
		(unsigned long long)c->plugin_invalid, (unsigned long long)c->no_punt_vif,
		(unsigned long long)c->wakeups, (unsigned long long)c->idle_sleeps,
		(unsigned long long)f->e.nl.events, (unsigned long long)f->e.nl.resyncs,
		f->e.rib.rt4.count, f->e.rib.rt6.count);
	print_reasons("stack", c->stack);
	print_reasons("drop", c->drop);
	fputc('\n', stderr);
}

/* ---- the loop ---- */

static int fe_loop(struct fe *f)
{
	struct pollfd pfd[2] = {
		{ .fd = f->xsk_fd, .events = POLLIN },
		{ .fd = nl_fd(&f->e.nl.ev), .events = POLLIN },
	};
	__u64 idle_ns = (__u64)f->o.idle_us * 1000, idle_since = 0, next_nl = 0, now = 0;
	int sleep_ms = 1;
	bool shared = false;

	fe_beat(&f->e);
	while (!stop_requested) {
		bool work = tx_complete(f);

		work |= rx_batch(f) > 0;
		fill_refill(f);
		if (tx_ring_busy(f))
			tx_kick(f);

		/*
		 * An empty pass while polling: give the CPU to whatever else is
		 * runnable on it. If that took long, something else ran: the
		 * core is shared (with the NAPI threads that feed this engine,
		 * say), and polling on would only take their time, so sleep
		 * until the socket wakes us instead.
		 */
		if (!work && idle_since) {
			__u64 before = now;

			sched_yield();
			now = fe_now_ns();
			shared = now - before > FE_YIELD_SHARED_NS;
		} else {
			now = fe_now_ns();
		}
		if (now >= f->next_beat)
			fe_beat(&f->e);
		if (now >= next_nl) {
			nl_poll(&f->e);
			next_nl = now + FE_NL_NS;
		}
		if (dump_requested) {
			dump_requested = 0;
			fe_report(f);
		}
		if (work) {
			idle_since = 0;
			sleep_ms = 1;
			shared = false;
			continue;
		}

		/* Idle: keep polling a little (the next packet is likely close), then sleep. */
		if (!idle_since)
			idle_since = now;
		if (now - idle_since < idle_ns && !shared)
			continue;
		{
			/* Completions do not wake poll(); while some are due, nap briefly. */
			int timeout = f->in_flight ? 1 : sleep_ms;
			__u64 to_beat = f->next_beat > now ? f->next_beat - now : 0;

			if ((__u64)timeout * 1000000 > to_beat)
				timeout = (int)((to_beat + 999999) / 1000000);
			f->e.c.idle_sleeps++;
			f->e.c.wakeups++;
			if (poll(pfd, 2, timeout) > 0 && (pfd[1].revents & POLLIN)) {
				nl_poll(&f->e);
				next_nl = fe_now_ns() + FE_NL_NS;
			}
			if (sleep_ms < FE_SLEEP_MAX_MS)
				sleep_ms = sleep_ms * 2 > FE_SLEEP_MAX_MS ? FE_SLEEP_MAX_MS : sleep_ms * 2;
		}
	}
	return 0;
}

/* ---- setup ---- */

static __u32 roundup_pow2(__u32 v)
{
	__u32 p = 1;

	while (p < v)
		p <<= 1;
	return p;
}

/*
 * Undo xsk_umem__create() after a failed xsk_socket__create(): libxdp keeps
 * the fill and completion rings mapped for the next socket, and a mapping
 * would keep the socket, and with it the registered pool, alive.
 */
static void umem_discard(struct fe *f)
{
	struct xdp_mmap_offsets off;
	socklen_t len = sizeof(off);

	if (!getsockopt(xsk_umem__fd(f->umem), SOL_XDP, XDP_MMAP_OFFSETS, &off, &len)) {
		munmap((char *)f->fq.ring - off.fr.desc,
		       off.fr.desc + f->ring_size * sizeof(__u64));
		munmap((char *)f->cq.ring - off.cr.desc,
		       off.cr.desc + f->ring_size * sizeof(__u64));
	}
	xsk_umem__delete(f->umem);
	f->umem = NULL;
}

/*
 * Fewer, larger transmissions: each sendto() costs a system call and a
 * wake-up of the host end's NAPI, for at most 32 frames by default. The
 * kernel takes 32 up to the TX ring's size; older kernels do not know the
 * option (ENOPROTOOPT) and keep 32.
 */
static void tx_budget_set(struct fe *f)
{
	unsigned int budget = FE_TX_BUDGET < f->ring_size ? FE_TX_BUDGET : f->ring_size;

	if (budget <= 32)
		return;
	if (setsockopt(f->xsk_fd, SOL_XDP, XDP_MAX_TX_SKB_BUDGET, &budget, sizeof(budget)))
		pr_debug("engine %u: TX budget %u: %s (32 frames per sendto)\n", f->o.fe_id,
			 budget, strerror(errno));
	else
		f->tx_budget = budget;
}

static int xsk_setup(struct fe *f)
{
	struct xsk_umem_config ucfg = {
		.fill_size = f->ring_size,
		.comp_size = f->ring_size,
		.frame_size = f->o.frame_size,
		.frame_headroom = 0,
		.flags = 0,
	};
	struct xsk_socket_config scfg = {
		.rx_size = f->ring_size,
		.tx_size = f->ring_size,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.xdp_flags = 0,
		/* veth has no zero-copy; need_wakeup keeps idle engines off the CPU. */
		.bind_flags = XDP_COPY | XDP_USE_NEED_WAKEUP,
	};
	int err;

	f->area_len = (size_t)f->o.pool * f->o.frame_size;
	f->area = mmap(NULL, f->area_len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (f->area == MAP_FAILED) {
		f->area = NULL;
		return -errno;
	}
	for (int attempt = 0;; attempt++) {
		err = xsk_umem__create(&f->umem, f->area, f->area_len, &f->fq, &f->cq, &ucfg);
		if (err) {
			f->umem = NULL;
			pr_warn("engine %u: packet pool of %u frames: %s\n", f->o.fe_id,
				f->o.pool, strerror(-err));
			return err;
		}
		err = xsk_socket__create(&f->xsk, f->o.dev, 0, f->umem, &f->rx, &f->tx, &scfg);
		if (!err)
			break;
		f->xsk = NULL;
		umem_discard(f);
		/*
		 * The kernel releases a closed socket's hold on the queue
		 * after a grace period: a restarted engine can find its
		 * predecessor still there for a moment.
		 */
		if (err != -EBUSY || attempt == FE_BIND_TRIES) {
			pr_warn("engine %u: AF_XDP socket on %s queue 0: %s\n", f->o.fe_id,
				f->o.dev, strerror(-err));
			return err;
		}
		usleep(FE_BIND_WAIT_US);
	}
	f->xsk_fd = xsk_socket__fd(f->xsk);
	tx_budget_set(f);

	/* Every buffer starts on the fill ring; the pool is the only budget. */
	for (__u32 i = 0; i < f->o.pool; i++)
		buf_free(f, (__u64)i * f->o.frame_size);
	fill_refill(f);
	return 0;
}

static int pin_path(char *buf, size_t len, const struct fe_opts *o, const char *name)
{
	int n = snprintf(buf, len, "%s/%s/fe/%u/%s", FE_PIN_ROOT, o->node, o->fe_id, name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int state_map_open(struct fe *f)
{
	struct bpf_map_info info = {};
	__u32 info_len = sizeof(info);
	char path[512];
	size_t len;
	void *m;
	int fd, err;

	err = pin_path(path, sizeof(path), &f->o, "state");
	if (err)
		return err;
	fd = bpf_obj_get(path);
	if (fd < 0) {
		err = -errno;
		pr_warn("engine %u: state map %s: %s\n", f->o.fe_id, path, strerror(-err));
		return err;
	}
	err = bpf_obj_get_info_by_fd(fd, &info, &info_len);
	if (err) {
		err = -errno;
		goto out;
	}
	if (info.type != BPF_MAP_TYPE_ARRAY || !(info.map_flags & BPF_F_MMAPABLE) ||
	    info.value_size < sizeof(struct xvr_fe_state) || info.max_entries < 1) {
		pr_warn("engine %u: %s is not a mmapable array of struct xvr_fe_state "
			"(type %u flags %#x value %u bytes, need %zu)\n",
			f->o.fe_id, path, info.type, info.map_flags, info.value_size,
			sizeof(struct xvr_fe_state));
		err = -EINVAL;
		goto out;
	}
	len = (sizeof(struct xvr_fe_state) + getpagesize() - 1) & ~((size_t)getpagesize() - 1);
	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		err = -errno;
		pr_warn("engine %u: mmap %s: %s\n", f->o.fe_id, path, strerror(-err));
		goto out;
	}
	f->state = m;
	/* A restarted engine continues its predecessor's counters. */
	f->base = *f->state;
out:
	close(fd);
	return err;
}

static int xskmap_register(struct fe *f)
{
	char path[512];
	int fd, err;

	err = pin_path(path, sizeof(path), &f->o, "xsks");
	if (err)
		return err;
	fd = bpf_obj_get(path);
	if (fd < 0) {
		err = -errno;
		pr_warn("engine %u: XSKMAP %s: %s\n", f->o.fe_id, path, strerror(-err));
		return err;
	}
	err = xsk_socket__update_xskmap(f->xsk, fd);
	if (err)
		pr_warn("engine %u: socket into %s slot 0: %s\n", f->o.fe_id, path,
			strerror(-err));
	close(fd);
	return err;
}

static void fe_free(struct fe *f)
{
	if (f->o.plugin_fd >= 0)
		close(f->o.plugin_fd);
	if (f->state) {
		/* Tell ingress at once, rather than after XVR_FE_STALE_NS. */
		__atomic_store_n(&f->state->heartbeat_ns, 0, __ATOMIC_RELEASE);
		munmap(f->state, getpagesize());
	}
	if (f->xsk)
		xsk_socket__delete(f->xsk);
	if (f->umem)
		xsk_umem__delete(f->umem);
	if (f->area)
		munmap(f->area, f->area_len);
	fe_nl_close(&f->e.nl);
	rib_fini(&f->e.rib);
	free(f->free);
	free(f->pkts);
	free(f->pkt_base);
	free(f->txd);
}

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: xvr-router [-v] -n NODE -r ROUTER --fe ID --dev IFNAME [options]\n"
		"  -n, --node NODE       node name (default $XVR_NODE or 'default')\n"
		"  -r, --router ROUTER   router; its namespace is xvr-NODE-ROUTER\n"
		"      --fe ID           engine id (pins under %s/NODE/fe/ID/)\n"
		"      --dev IFNAME      the engine's interface in the router's namespace\n"
		"      --pool FRAMES     packet pool (UMEM) buffers, %u..%u (default %u)\n"
		"      --frame-size N    buffer size, 2048 or 4096 (default 4096)\n"
		"      --batch N         descriptors per batch, 1..%u (default %u)\n"
		"      --plugin FILE.so  tenant plugin (include/xvr/plugin.h)\n"
		"      --plugin-config S the plugin's configuration string\n"
		"      --cpu CPU         pin the engine to CPU\n"
		"      --idle-us N       keep polling N us after the last packet before\n"
		"                        sleeping (default %u)\n"
		"      --user UID[:GID]  after setup, also become this user (no capabilities\n"
		"                        at all) before loading the plugin\n"
		"      --userns FILE     after setup, join this user namespace (a router's)\n"
		"                        as its root, drop every capability and take the\n"
		"                        tenant's seccomp filter before loading the plugin\n"
		"  -v, --verbose         more messages (repeat for libbpf debug)\n",
		FE_PIN_ROOT, FE_POOL_MIN, FE_POOL_MAX, FE_POOL_DEFAULT, FE_BATCH_MAX,
		FE_BATCH_DEFAULT, FE_IDLE_US_DEFAULT);
}

static int parse_opts(int argc, char **argv, struct fe_opts *o)
{
	enum { O_FE = 256, O_DEV, O_POOL, O_BATCH, O_PLUGIN, O_PCONF, O_CPU, O_IDLE, O_FSIZE,
	       O_USER, O_USERNS };
	static const struct option lopts[] = {
		{ "node", required_argument, NULL, 'n' },
		{ "router", required_argument, NULL, 'r' },
		{ "fe", required_argument, NULL, O_FE },
		{ "dev", required_argument, NULL, O_DEV },
		{ "pool", required_argument, NULL, O_POOL },
		{ "batch", required_argument, NULL, O_BATCH },
		{ "plugin", required_argument, NULL, O_PLUGIN },
		{ "plugin-config", required_argument, NULL, O_PCONF },
		{ "cpu", required_argument, NULL, O_CPU },
		{ "idle-us", required_argument, NULL, O_IDLE },
		{ "frame-size", required_argument, NULL, O_FSIZE },
		{ "user", required_argument, NULL, O_USER },
		{ "userns", required_argument, NULL, O_USERNS },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	__u32 v;
	int c;

	*o = (struct fe_opts){
		.plugin_fd = -1,
		.node = getenv("XVR_NODE") ?: "default",
		.pool = FE_POOL_DEFAULT,
		.batch = FE_BATCH_DEFAULT,
		.frame_size = 4096,
		.idle_us = FE_IDLE_US_DEFAULT,
		.cpu = -1,
	};
	while ((c = getopt_long(argc, argv, "n:r:vh", lopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			o->node = optarg;
			break;
		case 'r':
			o->router = optarg;
			break;
		case 'v':
			xvr_verbose++;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case O_FE:
			if (parse_u32(optarg, &o->fe_id, XVR_MAX_FES - 1) || !o->fe_id)
				goto bad;
			break;
		case O_DEV:
			o->dev = optarg;
			break;
		case O_POOL:
			if (parse_u32(optarg, &o->pool, FE_POOL_MAX) || o->pool < FE_POOL_MIN)
				goto bad;
			break;
		case O_BATCH:
			if (parse_u32(optarg, &o->batch, FE_BATCH_MAX) || !o->batch)
				goto bad;
			break;
		case O_PLUGIN:
			o->plugin = optarg;
			break;
		case O_PCONF:
			o->plugin_config = optarg;
			break;
		case O_CPU:
			if (parse_u32(optarg, &v, CPU_SETSIZE - 1))
				goto bad;
			o->cpu = v;
			break;
		case O_IDLE:
			if (parse_u32(optarg, &o->idle_us, 10 * 1000 * 1000))
				goto bad;
			break;
		case O_FSIZE:
			if (parse_u32(optarg, &o->frame_size, 4096) ||
			    (o->frame_size != 2048 && o->frame_size != 4096))
				goto bad;
			break;
		case O_USER: {
			char *colon = strchr(optarg, ':');
			__u32 uid, gid;

			if (colon)
				*colon = '\0';
			if (parse_u32(optarg, &uid, 0x7fffffff) || !uid ||
			    (colon && parse_u32(colon + 1, &gid, 0x7fffffff))) {
				if (colon)
					*colon = ':';
				goto bad;
			}
			o->uid = uid;
			o->gid = colon ? gid : uid;
			o->set_user = true;
			break;
		}
		case O_USERNS:
			o->userns = optarg;
			break;
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (o->userns && o->set_user) {
		fprintf(stderr, "xvr-router: --user and --userns exclude each other\n");
		return -EINVAL;
	}
	if (optind != argc || !o->router || !o->fe_id || !o->dev) {
		usage(stderr);
		return -EINVAL;
	}
	if (strlen(o->dev) >= IF_NAMESIZE || strchr(o->node, '/') || strchr(o->router, '/')) {
		fprintf(stderr, "xvr-router: bad node, router or device name\n");
		return -EINVAL;
	}
	return 0;
bad:
	fprintf(stderr, "xvr-router: bad value '%s' for --%s\n", optarg,
		lopts[c == 'n' ? 0 : c == 'r' ? 1 : c - O_FE + 2].name);
	return -EINVAL;
}

/*
 * Everything that needs the node's privileges happens here, before any
 * tenant code runs: namespace, XSK and UMEM, pinned maps, netlink.
 */
static int fe_setup(struct fe *f)
{
	char ns[256];
	int err;

	if (f->o.cpu >= 0 && (err = cpu_pin(f->o.cpu))) {
		pr_warn("engine %u: cpu %d: %s\n", f->o.fe_id, f->o.cpu, strerror(-err));
		return err;
	}
	netns_name(ns, sizeof(ns), f->o.node, f->o.router);
	err = netns_enter(ns);
	if (err) {
		pr_warn("engine %u: router namespace %s: %s\n", f->o.fe_id, ns, strerror(-err));
		return err;
	}
	f->e.dev_ifindex = if_nametoindex(f->o.dev);
	if (!f->e.dev_ifindex) {
		pr_warn("engine %u: no interface %s in %s\n", f->o.fe_id, f->o.dev, ns);
		return -ENODEV;
	}

	f->ring_size = roundup_pow2(f->o.pool);
	f->frame_mask = ~(__u64)(f->o.frame_size - 1);
	f->free = calloc(f->o.pool, sizeof(*f->free));
	f->pkts = calloc(f->o.batch, sizeof(*f->pkts));
	f->pkt_base = calloc(f->o.batch, sizeof(*f->pkt_base));
	f->txd = calloc(f->o.batch, sizeof(*f->txd));
	if (!f->free || !f->pkts || !f->pkt_base || !f->txd)
		return -ENOMEM;

	/* The FIB first, so the first packets find their routes. */
	err = rib_init(&f->e.rib);
	if (err)
		return err;
	err = fe_nl_open(&f->e.nl);
	if (err) {
		pr_warn("engine %u: netlink: %s\n", f->o.fe_id, strerror(-err));
		return err;
	}
	err = nl_dump_all(&f->e);
	if (err) {
		pr_warn("engine %u: reading routes of %s: %s\n", f->o.fe_id, ns, strerror(-err));
		return err;
	}
	if (f->e.rib.links_ignored)
		pr_warn("engine %u: %u interfaces of %s have an ifindex above %u, which the FE "
			"tag cannot carry: the engine cannot use them\n",
			f->o.fe_id, f->e.rib.links_ignored, ns, FE_MAX_LINK);
	err = xsk_setup(f);
	if (err)
		return err;
	err = state_map_open(f);
	if (err)
		return err;
	/* Read now, loaded only once the engine is unprivileged. */
	if (f->o.plugin) {
		f->o.plugin_fd = plugin_open(f->o.plugin);
		if (f->o.plugin_fd < 0)
			return f->o.plugin_fd;
	}
	/* Last: from here on frames arrive. */
	return xskmap_register(f);
}

/*
 * The router's own user namespace, as its root: the engine's host uid is
 * the router's (no other router's engine or tenant shares it), with no
 * capability left, and the tenant's seccomp filter for the plugin's sake.
 */
static int engine_enter_router(struct fe *f)
{
	int fd, err;

	fd = open(f->o.userns, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		pr_warn("engine %u: user namespace %s: %s\n", f->o.fe_id, f->o.userns,
			strerror(-err));
		return err;
	}
	/*
	 * The filesystem view of 'router exec' (its /proc the router's PID
	 * namespace's, which the supervisor bore us into), made as root of
	 * the node: everything of the node's is open already.
	 */
	err = tenant_mounts(f->o.node, f->o.router, NULL, 0);
	if (!err)
		err = tenant_join(fd);
	close(fd);
	if (!err)
		err = tenant_caps_drop();
	if (!err)
		err = tenant_seccomp();
	if (err)
		pr_warn("engine %u: entering the router's user namespace: %s\n", f->o.fe_id,
			strerror(-err));
	return err;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct fe f = { .xsk_fd = -1 };
	int err;

	err = parse_opts(argc, argv, &f.o);
	if (err)
		return 2;
	xvr_libbpf_logging();
	f.e.node = f.o.node;
	f.e.router = f.o.router;
	f.e.dev = f.o.dev;
	f.e.fe_id = f.o.fe_id;
	f.e.frame_size = f.o.frame_size;
	f.e.beat = NULL;

	err = fe_setup(&f);
	if (err)
		goto out;
	f.e.beat = fe_beat;

	if (f.o.userns) {
		err = engine_enter_router(&f);
		if (err)
			goto out;
		goto dropped;
	}
	err = caps_drop_to_tenant();
	if (err) {
		pr_warn("engine %u: dropping capabilities: %s\n", f.o.fe_id, strerror(-err));
		goto out;
	}
	/*
	 * The tenant's capabilities still include file access as root in the
	 * node's mount namespace; with --user the plugin gets none of it. A
	 * switch away from uid 0 clears every capability.
	 */
	if (f.o.set_user && (setgroups(0, NULL) || setresgid(f.o.gid, f.o.gid, f.o.gid) ||
			     setresuid(f.o.uid, f.o.uid, f.o.uid))) {
		err = -errno;
		pr_warn("engine %u: becoming uid %u: %s\n", f.o.fe_id, f.o.uid, strerror(-err));
		goto out;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		err = -errno;
		pr_warn("engine %u: no_new_privs: %s\n", f.o.fe_id, strerror(-err));
		goto out;
	}
dropped:
	if (f.o.plugin) {
		err = plugin_load(&f.e, f.o.plugin, f.o.plugin_fd, f.o.plugin_config);
		f.o.plugin_fd = -1;
		if (err)
			goto out;
	}

	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	pr_info("engine %u: %s/%s on %s: pool %u x %u, batch %u, %u frames per sendto, %u IPv4 and %u IPv6 routes\n",
		f.o.fe_id, f.o.node, f.o.router, f.o.dev, f.o.pool, f.o.frame_size, f.o.batch,
		f.tx_budget ? f.tx_budget : 32,
		f.e.rib.rt4.count, f.e.rib.rt6.count);

	err = fe_loop(&f);
	fe_beat(&f.e);
	fe_report(&f);
	plugin_unload(&f.e);
out:
	fe_free(&f);
	return err ? 1 : 0;
}
