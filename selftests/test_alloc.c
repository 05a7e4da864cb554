// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* SliceAlloc: whole cores per full unit, best fit for the remainder. */
#include <stdlib.h>
#include "test_progs.h"
#include "alloc.h"

struct alloc_case {
	const char *name;
	int ncpus;
	unsigned int free[8];
	unsigned int request;
	int want_n;		/* or a negative errno */
	struct slice want[4];
};

static const struct alloc_case cases[] = {
	{ "one whole core", 2, { 100, 100 }, 100, 1, { { 0, 100 } } },
	{ "whole cores skip partly used ones", 4, { 40, 100, 100, 100 }, 200, 2,
	  { { 1, 100 }, { 2, 100 } } },
	{ "remainder by best fit, not first fit", 4, { 100, 100, 60, 100 }, 150, 2,
	  { { 0, 100 }, { 2, 50 } } },
	{ "best fit among partial cores", 4, { 90, 30, 55, 70 }, 50, 1, { { 2, 50 } } },
	{ "remainder may fill a core exactly", 3, { 25, 70, 100 }, 25, 1, { { 0, 25 } } },
	{ "remainder never lands on a core taken whole", 2, { 100, 20 }, 150, -ENOSPC },
	{ "tie: lowest core", 3, { 50, 50, 50 }, 40, 1, { { 0, 40 } } },
	{ "2.5 cores on 3 free cores", 3, { 100, 100, 100 }, 250, 3,
	  { { 0, 100 }, { 1, 100 }, { 2, 50 } } },
	{ "too many whole cores", 2, { 100, 60 }, 200, -ENOSPC },
	{ "no core fits the remainder", 2, { 30, 20 }, 40, -ENOSPC },
	{ "nothing free", 2, { 0, 0 }, 1, -ENOSPC },
	{ "zero request", 2, { 100, 100 }, 0, -EINVAL },
	{ "more slices than room", 8, { 100, 100, 100, 100, 100, 100 }, 500, -EINVAL },
};

/* Free capacity left after applying out[0..n). */
static void apply(unsigned int *free, const struct slice *s, int n, int sign)
{
	for (int i = 0; i < n; i++)
		free[s[i].cpu] += sign * (int)s[i].share;
}

void test_alloc(void)
{
	if (test__start_subtest("cases")) {
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			const struct alloc_case *c = &cases[i];
			struct slice out[4] = {};
			int n = slice_alloc(c->free, c->ncpus, c->request, out, 4);

			if (!ASSERT_EQ(n, c->want_n, c->name))
				continue;
			for (int j = 0; j < n; j++) {
				ASSERT_EQ(out[j].cpu, c->want[j].cpu, c->name);
				ASSERT_EQ(out[j].share, c->want[j].share, c->name);
			}
		}
	}

	/*
	 * Random allocations and releases against the invariants: capacity
	 * never exceeds a core, a refused request leaves nothing changed and
	 * truly did not fit, and releasing returns exactly what was taken.
	 */
	if (test__start_subtest("random")) {
		struct { struct slice s[4]; int n; } held[64] = {};
		unsigned int free[4] = { 100, 100, 100, 100 };
		int bad = 0;

		srand(42);
		for (int round = 0; round < 20000; round++) {
			int k = rand() % 64;

			if (held[k].n) {
				apply(free, held[k].s, held[k].n, +1);
				held[k].n = 0;
				continue;
			}
			unsigned int req = 1 + rand() % 250, before[4];
			int n;

			for (int i = 0; i < 4; i++)
				before[i] = free[i];
			n = slice_alloc(free, 4, req, held[k].s, 4);
			if (n > 0) {
				unsigned int sum = 0;

				for (int i = 0; i < n; i++)
					sum += held[k].s[i].share;
				bad += sum != req;
				apply(free, held[k].s, n, -1);
				held[k].n = n;
				for (int i = 0; i < 4; i++)
					bad += free[i] > 100;
			} else {
				unsigned int whole_free = 0, fits = 0;

				for (int i = 0; i < 4; i++) {
					bad += free[i] != before[i];
					whole_free += free[i] == 100;
				}
				/* Refused: fewer free cores than whole units, or no room left for the rest. */
				if (whole_free >= req / 100) {
					int spare = whole_free - req / 100;

					for (int i = 0; i < 4; i++)
						fits += free[i] < 100 && free[i] >= req % 100;
					/* It fit after all: no remainder, or a core for it. */
					bad += !(req % 100) || fits || spare;
				}
			}
		}
		for (int k = 0; k < 64; k++)
			apply(free, held[k].s, held[k].n, +1);
		ASSERT_EQ(bad, 0, "invariants over 20000 rounds");
		for (int i = 0; i < 4; i++)
			ASSERT_EQ(free[i], 100, "all capacity returned");
	}
}
