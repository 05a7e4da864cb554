// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdbool.h>
#include "alloc.h"

int slice_alloc(const unsigned int *free, int ncpus, unsigned int request,
		struct slice *out, int max_out)
{
	unsigned int whole = request / SLICE_CORE, rest = request % SLICE_CORE;
	int n = 0, best = -1;
	bool taken[1024] = {};

	if (!request || ncpus <= 0 || ncpus > (int)(sizeof(taken) / sizeof(taken[0])))
		return -EINVAL;
	if ((int)(whole + (rest ? 1 : 0)) > max_out)
		return -EINVAL;

	/* Whole cores: the lowest-numbered entirely free ones. */
	for (int cpu = 0; cpu < ncpus && (unsigned int)n < whole; cpu++) {
		if (free[cpu] < SLICE_CORE)
			continue;
		taken[cpu] = true;
		out[n++] = (struct slice){ .cpu = cpu, .share = SLICE_CORE };
	}
	if ((unsigned int)n < whole)
		return -ENOSPC;
	if (!rest)
		return n;

	/* The remainder: the tightest core that still fits it. */
	for (int cpu = 0; cpu < ncpus; cpu++) {
		if (taken[cpu] || free[cpu] < rest)
			continue;
		if (best < 0 || free[cpu] < free[best])
			best = cpu;
	}
	if (best < 0)
		return -ENOSPC;
	out[n++] = (struct slice){ .cpu = best, .share = rest };
	return n;
}
