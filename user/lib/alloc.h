/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Placing forwarding engines on cores the way PdP's SliceAlloc does: a
 * request of R core-percent gets one whole free core for each full 100
 * and, for the remainder, the core whose free capacity fits it most
 * tightly (best fit), so large free holes stay for large requests.
 */
#ifndef XVR_ALLOC_H
#define XVR_ALLOC_H

#define SLICE_CORE	100	/* a whole core, in percent */

struct slice {
	int cpu;
	unsigned int share;	/* percent of that core, 1..100 */
};

/*
 * free[i] is core i's free capacity in percent (0..100). On success fills
 * out[0..n) and returns n (all or nothing); -ENOSPC if the request does
 * not fit, -EINVAL for a request of 0 or more slices than max_out.
 */
int slice_alloc(const unsigned int *free, int ncpus, unsigned int request,
		struct slice *out, int max_out);

#endif
