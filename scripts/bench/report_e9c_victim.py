# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""BENCHMARKS.md section of experiment 3 of issue 10 (Trellis, Table 4):
a victim router's loss and one-way latency while its neighbour is flooded
or burns CPU in its namespace (records of kind victim from
scripts/bench/xp-victim.sh). Per configuration, over the rounds: loss,
p50, p99 and p99 over the same round's unloaded (alone) p99."""

from statistics import median

from benchplot import records

TARGET_P99 = 1.2


def span(xs, fmt):
    xs = [x for x in xs if x is not None]
    if not xs:
        return "—"
    if len(xs) == 1:
        return fmt(xs[0])
    return f"{fmt(median(xs))} ({fmt(min(xs))}–{fmt(max(xs))})"


def verdict(c):
    loss = [x for x in c.get("loss", []) if x is not None]
    p99 = [x for x in c.get("p99_over_alone", []) if x is not None]
    if not loss or not p99:
        return "—"
    if max(loss) == 0 and max(p99) <= TARGET_P99:
        return "met"
    if min(loss) > 0 and min(p99) > TARGET_P99:
        return "**not met**"
    return "undecided"


def section(res, w, ctx):
    recs, _ = records(res, "victim")
    if not recs:
        return
    w("")
    w("## Experiment 3 of issue 10: a victim beside a flooded or busy neighbour")
    w("")
    w("Two xdp-mode routers on port A, told apart by MAC: v1, the neighbour, "
      "routes to port B; v2, the victim, to a third port C with a sink of its "
      "own, so its frames are counted and their one-way latency histogrammed "
      "apart. The victim is offered a tenth of the node's capacity. "
      "Configurations run interleaved in rounds: *alone* (the victim's "
      "traffic only), *flood* (v1 offered all the generator sends beside it), "
      "*flood-fair* (the same under the fair-sharing controller, weights "
      "1:1), *flood-limit* (v1 limited to half the capacity), *burn* (the "
      "victim's traffic only while v1's namespace runs a busy loop on the "
      "DUT's CPU, within its cgroup's CPU limit). Figures: median (min–max) "
      f"over the rounds. Target: loss 0 and p99 ≤ {TARGET_P99}× the same "
      "round's unloaded p99.")
    for p in recs:
        w("")
        if p.get("status") != "measured":
            w(f"`{p['name']}`: not measured ({p.get('reason', 'no record')}).")
            continue
        w(f"`{p['name']}`: capacity {p['capacity_pps'] / 1e6:.3f} Mpps, the "
          f"victim offered {p['victim_rate_pps'] / 1e3:.0f} kpps.")
        w("")
        w("| config | victim's loss | p50, us | p99, us | p99 / alone | target |")
        w("| --- | ---: | ---: | ---: | ---: | --- |")
        for c in p.get("configs", []):
            pct = span([x * 100 for x in c.get("loss", []) if x is not None],
                       lambda v: f"{v:.2f}%")
            us = lambda v: f"{v / 1000:.0f}"
            w(f"| {c['config']} | {pct} | {span(c.get('p50_ns', []), us)} | "
              f"{span(c.get('p99_ns', []), us)} | "
              f"{span(c.get('p99_over_alone', []), lambda v: f'{v:.2f}')} | "
              f"{'' if c['config'] == 'alone' else verdict(c)} |")
    w("")
