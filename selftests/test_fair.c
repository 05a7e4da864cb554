// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The fair-sharing controller's arithmetic (lib/fair.c): max-min fair
 * shares of CPU time by weight, turned into admission rates by cost.
 */
#include <math.h>
#include "test_progs.h"
#include "fair.h"

#define MAXR	4

struct fair_case {
	const char *name;
	double capacity;		/* CPU ns per second */
	int n;
	double weight[MAXR], demand[MAXR], cost[MAXR];
	double shed_ns, arrival[MAXR];	/* a shed frame's cost; what arrives (0: demand) */
	/* expected */
	bool saturated;			/* fair_allocate returns a level >= 0 */
	double cpu[MAXR];		/* CPU ns per second each gets */
	double rate[MAXR];		/* admission rate, pps (0: none) */
	bool capped[MAXR];
};

static const struct fair_case cases[] = {
	{ "all fit: no admission", 1e9, 2, { 1, 1 }, { 1e6, 1e6 }, { 100, 200 },
	  0, {}, false, { 1e8, 2e8 }, { 0, 0 }, { false, false } },
	{ "equal weights, equal costs: halves", 1e9, 2, { 1, 1 }, { 1e7, 1e7 }, { 100, 100 },
	  0, {}, true, { 5e8, 5e8 }, { 5e6, 5e6 }, { true, true } },
	{ "2:1 weights: two thirds and one third", 9e8, 2, { 2, 1 }, { 1e7, 1e7 }, { 100, 100 },
	  0, {}, true, { 6e8, 3e8 }, { 6e6, 3e6 }, { true, true } },
	/* the cost-aware point: CPU time is shared, so the dearer one gets fewer frames */
	{ "unequal costs share time, not frames", 1e9, 2, { 1, 1 }, { 1e7, 1e7 }, { 100, 140 },
	  0, {}, true, { 5e8, 5e8 }, { 5e6, 5e8 / 140 }, { true, true } },
	{ "a small one gets all it asks, the rest is split", 1e9, 3, { 1, 1, 1 },
	  { 1e6, 1e7, 1e7 }, { 100, 100, 100 }, 0, {}, true, { 1e8, 4.5e8, 4.5e8 },
	  { 0, 4.5e6, 4.5e6 }, { false, true, true } },
	{ "served in rounds: the middle one fits after the first", 1.2e9, 3, { 1, 1, 1 },
	  { 1e6, 3.5e6, 1e7 }, { 100, 100, 100 }, 0, {}, true, { 1e8, 3.5e8, 7.5e8 },
	  { 0, 0, 7.5e6 }, { false, false, true } },
	{ "weights with a small heavy one", 1e9, 3, { 4, 1, 1 }, { 1e6, 1e7, 1e7 },
	  { 100, 100, 100 }, 0, {}, true, { 1e8, 4.5e8, 4.5e8 }, { 0, 4.5e6, 4.5e6 },
	  { false, true, true } },
	{ "2:1:1 with one 1.5x dearer", 1e9, 3, { 2, 1, 1 }, { 1e7, 1e7, 1e7 },
	  { 150, 100, 100 }, 0, {}, true, { 5e8, 2.5e8, 2.5e8 }, { 5e8 / 150, 2.5e6, 2.5e6 },
	  { true, true, true } },
	{ "no demand: no rate", 1e9, 2, { 1, 1 }, { 0, 1e8 },
	  { 100, 100 }, 0, {}, true, { 0, 1e9 }, { 0, 1e7 }, { false, true } },
	{ "unknown cost: left alone", 1e9, 2, { 1, 1 }, { 1e8, 1e8 }, { 0, 100 },
	  0, {}, true, { 0, 1e9 }, { 0, 1e7 }, { false, true } },
	/*
	 * Shed frames cost: 16 Mpps asked, 8 arrive, at 100 ns; 50 ns a shed
	 * frame. The fixed point: rate r with 4e8 + 100 r + 50 (8e6 - r) = 1e9.
	 */
	{ "shed frames' cost comes off the capacity", 1e9, 2, { 1, 1 }, { 1.6e7, 4e6 },
	  { 100, 100 }, 50, { 8e6, 2e6 }, true, { 4e8, 4e8 }, { 4e6, 0 }, { true, false } },
	/* arrivals within the rates: nothing is refused, nothing taken off */
	{ "capped but nothing refused: the whole capacity", 1e9, 2, { 1, 1 }, { 1e7, 1e7 },
	  { 100, 100 }, 50, { 5e6, 5e6 }, true, { 5e8, 5e8 }, { 5e6, 5e6 }, { true, true } },
	/* shedding as dear as forwarding: never below half the capacity */
	{ "dear shedding: half the capacity at least", 1e9, 1, { 1 }, { 1e8 }, { 100 }, 100,
	  { 2e7 }, true, { 5e8 }, { 5e6 }, { true } },
	{ "nothing at all", 1e9, 0, {}, {}, {}, 0, {}, false, {}, {}, {} },
};

static bool near(double a, double b)
{
	return fabs(a - b) <= 1e-6 * fmax(1, fmax(fabs(a), fabs(b)));
}

void test_fair(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct fair_case *t = &cases[i];
		struct fair_claim c[MAXR] = {};
		double level, sum = 0;

		if (!test__start_subtest(t->name))
			continue;
		for (int j = 0; j < t->n; j++)
			c[j] = (struct fair_claim){ .weight = t->weight[j], .demand_pps = t->demand[j],
						    .cost_ns = t->cost[j],
						    .arrival_pps = t->arrival[j] };
		level = fair_allocate(c, t->n, t->capacity, t->shed_ns);
		ASSERT_EQ(level >= 0, t->saturated, "saturated");
		for (int j = 0; j < t->n; j++) {
			_CHECK(!near(c[j].cpu_ns, t->cpu[j]), "cpu", "router %d: %.1f, want %.1f",
			       j, c[j].cpu_ns, t->cpu[j]);
			_CHECK(!near(c[j].rate_pps, t->rate[j]), "rate",
			       "router %d: %.1f pps, want %.1f", j, c[j].rate_pps, t->rate[j]);
			ASSERT_EQ(c[j].capped, t->capped[j], "capped");
			sum += c[j].cpu_ns;
		}
		/* never more than the capacity; all of it once saturated */
		_CHECK(sum > t->capacity * (1 + 1e-9), "capacity", "%.1f > %.1f", sum, t->capacity);
		if (t->saturated && !t->shed_ns)
			_CHECK(!near(sum, t->capacity), "work-conserving", "%.1f of %.1f", sum,
			       t->capacity);
		test__end_subtest();
	}
}
