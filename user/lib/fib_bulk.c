// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * A router's whole route set replaced at once (fib_routes_replace): new
 * tries filled on a second thread while this one builds a new IPv4 table,
 * then swapped in, fib4 by its bank and the tries through their outer maps.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include "common.h"
#include "node.h"
#include "fib.h"
#include "fib_int.h"

static double now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}
/* The tries of a bulk load, filled on a second thread while this one builds fib4. */
struct trie_job {
	int fd4, fd6;
	const struct fib_route *routes;
	const __u32 *order4, *order6;
	size_t n4, n6;
	int err;
};

static void *trie_job_run(void *arg)
{
	struct trie_job *j = arg;

	j->err = trie_fill(j->fd4, AF_INET, j->routes, j->order4, j->n4);
	if (!j->err)
		j->err = trie_fill(j->fd6, AF_INET6, j->routes, j->order6, j->n6);
	return NULL;
}

int fib_routes_replace(struct xvr_node *n, __u32 vr, const struct fib_route *routes,
		       size_t count, fib_route_fn old_fn, void *ctx)
{
	/*
	 * rib4 and fib4 describe the same set; between their two swaps one is
	 * old and one new, which only a rebuild could notice, and rebuilds
	 * (like every change) run under the node lock we hold. Index 0 of
	 * old/new is fib4, swapped by its bank (fib4_install).
	 */
	int outer[3] = { -1, n->rib4_fd, n->fib6_fd };
	int old[3] = { -1, -1, -1 }, new[3] = { -1, -1, -1 };
	struct fib4_map m = { .fd = -1, .l1_fd = -1, .runs_fd = -1 };
	__u32 old_bank = 0;
	struct trie_job job = { .routes = routes };
	__u32 *order4 = NULL, *order6 = NULL;
	long routes4, routes6;
	int i, swapped = 0, err = 0;
	bool threaded = false;
	pthread_t thread;
	double t[3];

	if (!vr_ok(vr))
		return -EINVAL;
	for (size_t j = 0; j < count; j++)
		if (!route_ok(&routes[j]))
			return -EINVAL;

	t[0] = now_sec();
	old[0] = slot_fd(n->fib4_fd, XVR_FIB4_SLOT(vr, fib4_bank(n, vr)));
	if (old[0] < 0) {
		err = old[0];
		goto out;
	}
	for (i = 1; i < 3; i++) {
		old[i] = slot_fd(outer[i], vr);
		if (old[i] < 0) {
			err = old[i];
			goto out;
		}
	}
	new[1] = trie_create(AF_INET, vr);
	new[2] = trie_create(AF_INET6, vr);
	if (new[1] < 0 || new[2] < 0) {
		err = new[1] < 0 ? new[1] : new[2];
		goto out;
	}
	routes4 = routes_distinct(routes, count, AF_INET);
	routes6 = routes_distinct(routes, count, AF_INET6);
	if (routes4 < 0 || routes6 < 0) {
		err = -ENOMEM;
		goto out;
	}
	err = routes_by_addr(routes, count, AF_INET, &order4, &job.n4);
	if (!err)
		err = routes_by_addr(routes, count, AF_INET6, &order6, &job.n6);
	if (err)
		goto out;

	/* The tries cost syscalls, fib4 memory writes: on two CPUs they overlap. */
	job.fd4 = new[1];
	job.fd6 = new[2];
	job.order4 = order4;
	job.order6 = order6;
	threaded = !pthread_create(&thread, NULL, trie_job_run, &job);
	if (!threaded)
		trie_job_run(&job);
	t[1] = now_sec();
	err = fib4_map_build(vr, routes, count, order4, job.n4, &m);
	if (threaded)
		pthread_join(thread, NULL);
	t[2] = now_sec();
	if (!err)
		err = job.err;
	if (err)
		goto out;
	pr_debug("router %u: load of %ld+%ld routes: prepare %.3f s, build %.3f s (%u groups)\n",
		 vr, routes4, routes6, t[1] - t[0], t[2] - t[1], m.t.groups_used);

	err = fib4_install(n, vr, &m, &old_bank);
	if (err)
		goto out;
	for (swapped = 1; swapped < 3; swapped++) {
		err = bpf_map_update_elem(outer[swapped], &vr, &new[swapped], BPF_ANY);
		if (err)
			break;
	}
	if (err) {
		/* Put back what we replaced; the old maps are still alive (we hold them). */
		while (--swapped > 0)
			bpf_map_update_elem(outer[swapped], &vr, &old[swapped], BPF_ANY);
		fib4_bank_set(n, vr, old_bank);
		goto out;
	}
	router_account(n, vr, true, routes4, routes6, &m.t);
	fib4_retire(n, vr, old_bank);

	if (old_fn) {
		trie_walk(old[1], AF_INET, old_fn, ctx);
		trie_walk(old[2], AF_INET6, old_fn, ctx);
	}
out:
	free(order4);
	free(order6);
	fib4_map_close(&m);
	for (i = 0; i < 3; i++) {
		if (old[i] >= 0)
			close(old[i]);
		if (new[i] >= 0)
			close(new[i]);
	}
	return err;
}
