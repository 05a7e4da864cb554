# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""BENCHMARKS.md section of experiment 1 (scripts/bench/xp-sweep.sh):
offered load against delivered rate per mode, RFC 2544 style, with the
no-drop rate and the behaviour past the peak."""

import os
import tempfile

from benchplot import gnuplot, records

# Baselines are drawn dashed, xvr's modes solid; a mode keeps its colour
# in both plots and from run to run.
BASELINES = ("kernel", "bridge", "macvlan", "pfpacket", "redirect")
COLOURS = {"kernel": "#000000", "bridge": "#8c564b", "macvlan": "#9467bd",
           "pfpacket": "#7f7f7f", "redirect": "#bcbd22", "xdp": "#1f77b4",
           "netns": "#2ca02c", "afxdp": "#d62728", "afxdp-3": "#ff7f0e"}
SPARE = ("#17becf", "#e377c2", "#8c8c00", "#005f5f", "#aa4400")


def mpps(x):
    return "—" if x is None else f"{x / 1e6:.3f}"


def pct(x):
    return "—" if x is None else f"{x:.0f}%"


def ok_runs(step):
    return [r for r in step.get("runs", []) if r.get("balanced")]


def points(rec):
    """(offered, delivered median, min, max) of every step with a balanced
    run, the maximal-load runs and no-drop probes included, by offered."""
    out = []
    for s in rec.get("steps", []):
        if s.get("delivered_pps_median") is None or s.get("offered_pps_median") is None:
            continue
        out.append((s["offered_pps_median"], s["delivered_pps_median"],
                    s["delivered_pps_min"], s["delivered_pps_max"]))
    return sorted(out)


def load_points(rec):
    """(offered % of capacity, delivered % of capacity, min %, max %) of the
    load steps (not the maximal-load runs, not the no-drop probes)."""
    cap = rec.get("capacity_pps")
    if not cap:
        return []
    out = []
    for s in rec.get("steps", []):
        if s.get("load_pct") is None or s.get("delivered_pps_median") is None:
            continue
        out.append((100 * s["offered_pps_median"] / cap,
                    100 * s["delivered_pps_median"] / cap,
                    100 * s["delivered_pps_min"] / cap,
                    100 * s["delivered_pps_max"] / cap))
    return sorted(out)


def gnuplot_term(cmds):
    """Runs gnuplot on cmds, whose first line sets the terminal: pngcairo
    (dashed lines), or png if this gnuplot has no cairo."""
    return any(gnuplot([cmds[0].replace("TERM", term)] + cmds[1:])
               for term in ("pngcairo", "png"))


def style(mode, i):
    dash = 2 if mode in BASELINES else 1
    base = mode.split("@")[0]
    colour = COLOURS.get(base, SPARE[i % len(SPARE)])
    return f"lc rgb '{colour}' dt {dash} lw 2 pt {i % 12 + 1}"


def plot(recs, outdir):
    """The two PNGs; their file names (None where gnuplot failed or there
    was nothing to draw)."""
    with tempfile.TemporaryDirectory() as tmp:
        return plot_in(recs, outdir, tmp)


def plot_in(recs, outdir, tmp):
    abs_series, rel_series = [], []
    lo, hi = None, None
    for p in recs:
        pts = points(p)
        if pts:
            dat = os.path.join(tmp, f"sweep-{p['mode']}.dat")
            with open(dat, "w") as f:
                for x, y, ymin, ymax in pts:
                    f.write(f"{x / 1e6} {y / 1e6} {ymin / 1e6} {ymax / 1e6}\n")
            abs_series.append((p["mode"], dat))
            xs = [v for q in pts for v in (q[0], q[2])]
            lo = min(xs + ([lo] if lo else []))
            hi = max(xs + ([hi] if hi else []))
        lpts = load_points(p)
        if lpts:
            dat = os.path.join(tmp, f"sweep-{p['mode']}-pct.dat")
            with open(dat, "w") as f:
                for row in lpts:
                    f.write(" ".join(f"{v}" for v in row) + "\n")
            rel_series.append((p["mode"], dat))
    abs_png = rel_png = None
    if abs_series:
        lo_m, hi_m = lo / 1e6 / 1.5, hi / 1e6 * 1.5
        plots = [f"'{d}' using 1:2:3:4 with yerrorlines {style(m, i)} title '{m}'"
                 for i, (m, d) in enumerate(abs_series)]
        plots.append("x with lines lc rgb 'gray' dt 3 title 'delivered = offered'")
        if gnuplot_term(["set terminal TERM size 900,560", "set termoption noenhanced",
                    f"set output '{os.path.join(outdir, 'sweep-mpps.png')}'",
                    "set logscale xy", f"set xrange [{lo_m}:{hi_m}]",
                    f"set yrange [{lo_m}:{hi_m}]",
                    "set xlabel 'offered Mpps (achieved by the generator)'",
                    "set ylabel 'delivered Mpps'", "set grid",
                    "set key top left box opaque",
                    "set title '64-byte frames; dashed: baselines, solid: xvr' "
                    if all(p.get("frame_size", 64) == 64 for p in recs) else
                    "set title 'dashed: baselines, solid: xvr'",
                    "plot " + ", ".join(plots)]):
            abs_png = "sweep-mpps.png"
    if rel_series:
        plots = [f"'{d}' using 1:2:3:4 with yerrorlines {style(m, i)} title '{m}'"
                 for i, (m, d) in enumerate(rel_series)]
        plots.append("x with lines lc rgb 'gray' dt 3 title 'delivered = offered'")
        if gnuplot_term(["set terminal TERM size 900,560", "set termoption noenhanced",
                    f"set output '{os.path.join(outdir, 'sweep-pct.png')}'",
                    "set xrange [0:*]", "set yrange [0:*]",
                    "set xlabel 'offered load, % of capacity (delivered at maximal load)'",
                    "set ylabel 'delivered, % of capacity'", "set grid",
                    "set key top left box opaque",
                    "plot " + ", ".join(plots)]):
            rel_png = "sweep-pct.png"
    return abs_png, rel_png


def section(res, w, ctx):
    recs, measured = records(res, "sweep")
    if not recs:
        return
    w("## Experiment 1: offered load vs delivered rate")
    w("")
    if measured:
        m0 = measured[0]
        w("RFC 2544-style sweeps (scripts/bench/xp-sweep.sh, points "
          "`sweep:MODE`). With each mode's DUT up: its *capacity* is the "
          "delivered rate at maximal offered load (xvr-pktgen unlimited; "
          f"median of {m0.get('capacity_runs', m0['repetitions'])} run(s)); "
          "then the generator's rate limit "
          "steps the offered load through "
          f"{', '.join(str(x) for x in m0.get('loads_pct', []))} % of that "
          "capacity; then the no-drop rate (loss ≤ 0.1%) is searched by "
          "bisection between the highest step without loss and the next one. "
          f"{m0['repetitions']} accounted run(s) of {m0['duration_s']} s per "
          "step and per probe, every one balanced or reported FAILED; figures "
          "are medians over balanced runs, bars min–max. The offered rate "
          "shown is what the generator achieved (a few percent under the "
          "requested rate, and at most what it can send), not what was "
          "requested. A DUT whose delivered rate at some step exceeds its "
          "capacity delivers less under maximal load than at a lower "
          "offered rate: it collapses past its peak.")
        w("")
    unbalanced = sum(p.get("total_runs", 0) - p.get("balanced_runs", 0) for p in measured)
    abs_png, rel_png = plot(measured, ctx["outdir"])
    if abs_png:
        w(f"![offered vs delivered Mpps per mode]({ctx['rel']}/{abs_png})")
        w("")
        w("Log–log; every step, probe and the maximal-load runs (the "
          "rightmost point of each curve); grey: delivered = offered.")
        w("")
    if rel_png:
        w(f"![offered vs delivered in % of capacity]({ctx['rel']}/{rel_png})")
        w("")
        w("The load steps only, both axes in % of the mode's capacity; a "
          "curve that bends down past 100% collapses under overload, one "
          "that stays above 100% delivers more at that load than at maximal "
          "load.")
        w("")
    if measured:
        w("| mode | capacity Mpps (offered) | peak Mpps | no-drop Mpps | "
          "delivered 150% / 100% | max load / peak | balanced runs |")
        w("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        for p in measured:
            ndr = mpps(p.get("ndr_pps"))
            if p.get("ndr_note"):
                ndr = f"≥ {ndr}"
            elif p.get("ndr_pps") is not None and not p.get("ndr_searched"):
                ndr = f"≥ {ndr} (steps only)"
            if p.get("lossy_below_ndr"):
                ndr += f" ({p['lossy_below_ndr']} lossy step(s) below)"
            ratio = p.get("overload_ratio")
            ratio_s = "—" if ratio is None else f"{ratio:.2f}"
            if ratio is not None and ratio < 0.95:
                ratio_s += " (drops past the peak)"
            mlp = p.get("max_load_over_peak")
            bal = f"{p['balanced_runs']}/{p['total_runs']}"
            if p["balanced_runs"] < p["total_runs"]:
                bal += " **FAILED runs**"
            w(f"| {p['mode']} | {mpps(p['capacity_pps'])} "
              f"({mpps(p.get('max_offered_pps'))}) | {mpps(p.get('peak_pps'))} | "
              f"{ndr} | {ratio_s} | {'—' if mlp is None else f'{mlp:.2f}'} | {bal} |")
        w("")
        w("*Delivered 150% / 100%*: delivered at 150% of capacity over "
          "delivered at 100% (≥ 0.95: held its peak). *Max load / peak*: "
          "delivered at maximal load (the capacity) over the highest "
          "delivered rate of any step; below 1 the DUT delivers less when "
          "offered everything the generator can send.")
        w("")
        # Delivered per step, one column per mode.
        loads = sorted({s["load_pct"] for p in measured for s in p.get("steps", [])
                        if s.get("load_pct") is not None})
        w("Delivered Mpps per step (median; loss in %; offered Mpps the "
          "generator achieved):")
        w("")
        w("| load | " + " | ".join(p["mode"] for p in measured) + " |")
        w("| ---: | " + " | ".join("---:" for _ in measured) + " |")
        for ld in loads + ["max"]:
            cells = []
            for p in measured:
                st = [s for s in p.get("steps", [])
                      if (s.get("max_load") if ld == "max" else s.get("load_pct") == ld)]
                s = st[0] if st else None
                if s is None:
                    cells.append("—")
                elif s.get("delivered_pps_median") is None:
                    cells.append("no balanced run")
                else:
                    loss = s.get("loss_pct_median")
                    mark = " ‡" if any(r.get("bottleneck") == "interference"
                                       for r in ok_runs(s)) else ""
                    cells.append(f"{mpps(s['delivered_pps_median'])} "
                                 f"({'—' if loss is None else f'{loss:.2f}'}%; "
                                 f"{mpps(s['offered_pps_median'])}){mark}")
            w(f"| {ld if ld == 'max' else f'{ld}%'} | " + " | ".join(cells) + " |")
        w("")
        if any(r.get("bottleneck") == "interference"
               for p in measured for s in p.get("steps", []) for r in ok_runs(s)):
            w("‡ a run of this step lost frames while something other than "
              "the DUT and the sink took over 10% of the DUT's CPU "
              "(bottleneck `interference`): the machine was not quiet.")
            w("")
    if unbalanced:
        w(f"{unbalanced} run(s) did not balance their books: FAILED, left "
          "out of every figure and median above.")
        w("")
    for p in recs:
        if p.get("status") != "measured":
            w(f"* sweep of {p.get('mode', p['name'])}: not measured: "
              f"{p.get('reason', 'no reason given')}")
    if len(measured) < len(recs):
        w("")
