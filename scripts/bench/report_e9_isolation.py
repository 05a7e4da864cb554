# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""BENCHMARKS.md section of experiment 9 (issue 10): performance isolation,
the NAPI-macvlan paper's Table 1 (records of kind isolation from
scripts/bench/xp-isolation.sh). A table of the victim router's
delivered/offered per mode and configuration, where the flooded router's
excess was dropped, and a bar chart (gnuplot PNG) with the spread of the
runs; runs whose books did not balance are left out and counted."""

import os

from benchplot import gnuplot, records

TARGET = 0.95

# Drop places of acct.py, in words.
PLACES = {
    "dut_in_ring_full": "port A's ring, before XDP",
    "dut_in_xdp_drop": "XDP_DROP at port A (policed)",
    "sink_ring_full": "the sink's ring",
    "softnet_dropped": "backlog",
}


def place(key):
    if key in PLACES:
        return PLACES[key]
    if key.startswith("x-"):
        return "router interface " + key[2:]
    if key.startswith("ip_"):
        return "IP stack (" + key[3:] + ")"
    return key


def ratio(c):
    if c.get("vr2_ratio_median") is None:
        return "—"
    return (f"{c['vr2_ratio_median']:.3f} ({c['vr2_ratio_min']:.3f}–"
            f"{c['vr2_ratio_max']:.3f})")


def where(c):
    drops = c.get("drops_median") or {}
    tot = sum(drops.values())
    if not tot:
        return "none"
    top = sorted(drops.items(), key=lambda kv: -kv[1])[:2]
    return ", ".join(f"{place(k)} {100 * v / tot:.0f}%" for k, v in top)


def alone_pairs(measured, other):
    """Rows of VR1 alone against VR1 alone in config other, run by run
    interleaved: mode, medians, the ratio's median (min-max), pairs."""
    rows = []
    for p in measured:
        by = {c["config"]: c for c in p["configs"]}
        a, b = by.get("alone"), by.get(other)
        if not a or not b:
            continue
        ra = [r for r in a["run_records"] if r.get("balanced")]
        rb = [r for r in b["run_records"] if r.get("balanced")]
        ratios = sorted(y["pps"] / x["pps"] for x, y in zip(ra, rb) if x["pps"])
        if not ratios:
            continue
        med = ratios[(len(ratios) - 1) // 2]
        rows.append(f"| {p['mode']} | {a['pps_median'] / 1e6:.3f} | "
                    f"{b['pps_median'] / 1e6:.3f} | {med:.3f} ({ratios[0]:.3f}–"
                    f"{ratios[-1]:.3f}) | {len(ratios)} |")
    return rows


def machinery(measured, w):
    """Experiment 4: VR1 alone, limits on both routers that nothing
    reaches against no limits; and VR1 bound to a CPU through the cpumap
    against inline."""
    rows = alone_pairs(measured, "alone-limited")
    if rows:
        w("")
        w("Cost of the admission machinery (experiment 4): VR1 alone at full "
          "load, with limits on both routers that nothing reaches (1 Gpps) "
          "against none, runs interleaved; ratio of delivered rates per pair "
          "(target ≥ 0.95).")
        w("")
        w("| mode | no limits, Mpps | limits, nothing over, Mpps | ratio, median (min–max) | pairs |")
        w("| --- | ---: | ---: | ---: | ---: |")
        for r in rows:
            w(r)
    rows = alone_pairs(measured, "alone-bound")
    if rows:
        w("")
        w("Cost of core binding (experiment 4): VR1 alone at full load, bound "
          "(`xvr router set VR1 cpus N`, the port's NAPI CPU) against inline, "
          "runs interleaved; ratio of delivered rates per pair. On two CPUs "
          "the cpumap thread shares its CPU with the NAPI thread, so this is "
          "the handoff's cost without any gain from a CPU of its own.")
        w("")
        w("| mode | inline, Mpps | bound, Mpps | ratio, median (min–max) | pairs |")
        w("| --- | ---: | ---: | ---: | ---: |")
        for r in rows:
            w(r)


def plot(measured, outdir):
    rows = []
    for p in measured:
        for c in p["configs"]:
            if c.get("vr2_ratio_median") is not None:
                rows.append((f"{p['mode']} {c['config']}", c["vr2_ratio_median"],
                             c["vr2_ratio_min"], c["vr2_ratio_max"]))
    if not rows:
        return None
    png = "isolation.png"
    data = "\n".join(f'"{n}" {m} {lo} {hi}' for n, m, lo, hi in rows)
    script = [
        "set terminal png size 760,380",
        f"set output '{os.path.join(outdir, png)}'",
        "set style fill solid 0.7 border -1", "set boxwidth 0.6",
        "set yrange [0:1.1]", "set grid ytics",
        "set ylabel 'victim router: delivered / offered'",
        "set xtics rotate by -25",
        f"set arrow from graph 0, first {TARGET} to graph 1, first {TARGET} nohead dt 2",
        "plot '-' using 0:2:xtic(1) with boxes title 'median', "
        "'-' using 0:2:3:4 with yerrorbars title 'min-max' lc rgb 'black'",
        data, "e", data, "e"]
    return png if gnuplot(script) else None


def section(res, w, ctx):
    recs, measured = records(res, "isolation")
    if not recs:
        return
    w("")
    w("## Experiment 9: performance isolation (NAPI-macvlan, Table 1)")
    w("")
    w("Two routers on the same two ports, told apart by the destination MAC "
      "on port A. VR1 is offered everything the generator sends (several "
      "times what the node forwards); VR2, the victim, a steady share of the "
      "node's capacity (measured first with VR1 alone). One generator sends "
      "to a destination list in turn, so VR2's offered frames are known "
      "exactly; the sink counts VR2's frames apart by destination. "
      "Configurations run interleaved: *nolimit* (equal weights, no limits) "
      "*limit* (`xvr limit set VR1 pps N`, N a share of the capacity; "
      "xvr modes only) and *bound* (`xvr router set VR1 cpus 1`, `VR2 cpus 0`: "
      "each router's path on a CPU of its own through a cpumap; the "
      "generator shares CPU 0 with VR2, there being no third CPU). Figures: VR2 delivered/offered, median (min–max) "
      f"of the balanced runs; target for xvr ≥ {TARGET}.")
    w("")
    w("| mode | config | capacity Mpps | VR1 offered (× capacity) | VR1 limit | "
      "VR2 offered kpps | VR2 delivered/offered | balanced runs | where the drops were |")
    w("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for p in recs:
        if p.get("status") == "measured":
            p = dict(p, configs=[c for c in p["configs"]
                                 if not c["config"].startswith("alone")])
        if p.get("status") != "measured":
            w(f"| {p['mode']} | — | — | — | — | — | not measured: "
              f"{p.get('reason', '')} | — | — |")
            continue
        cap = p.get("capacity_pps") or 0
        for c in p["configs"]:
            vr1 = c.get("vr1_offered_pps_median")
            times = f" ({vr1 / cap:.1f}×)" if vr1 and cap else ""
            lim = (f"{p['vr1_limit_pps'] / 1e3:.0f} kpps" if c["config"] == "limit"
                   else "—")
            v2 = c.get("vr2_offered_pps_median")
            w(f"| {p['mode']} | {c['config']} | {cap / 1e6:.3f} | "
              f"{(vr1 or 0) / 1e6:.3f}{times} | {lim} | "
              f"{(v2 or 0) / 1e3:.0f} | {ratio(c)} | "
              f"{c['balanced_runs']}/{c['runs']} | {where(c)} |")
    machinery(measured, w)
    png = plot(measured, ctx["outdir"])
    if png:
        w("")
        w(f"![victim router, delivered/offered]({ctx['rel']}/{png})")
