# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""BENCHMARKS.md section of experiment 2 (scripts/bench/xp-size.sh):
delivered rate against frame size, per mode, at maximal offered load."""

import os

from benchplot import gnuplot, records


def mpps(x):
    return "—" if x is None else f"{x / 1e6:.3f}"


def gbps(pps, size):
    return None if pps is None else pps * size * 8 / 1e9


def plot(recs, outdir):
    """Two PNGs (Mpps and Gbit/s against frame size); their file names."""
    series = []
    for p in recs:
        rows = [(s["frame_size"], s["pps_median"]) for s in p["steps"]
                if s.get("pps_median") is not None]
        if rows:
            dat = os.path.join(outdir, f"size-{p['mode']}.dat")
            with open(dat, "w") as f:
                for z, pps in rows:
                    f.write(f"{z} {pps / 1e6} {gbps(pps, z)}\n")
            series.append((p["mode"], dat))
    if not series:
        return []
    out = []
    for col, ylabel, fname in ((2, "delivered Mpps", "size-mpps.png"),
                               (3, "delivered Gbit/s (frames with FCS)", "size-gbps.png")):
        cmds = ["set terminal png size 760,400",
                f"set output '{os.path.join(outdir, fname)}'",
                "set logscale x 2", "set xlabel 'frame size, bytes (with FCS)'",
                f"set ylabel '{ylabel}'", "set grid", "set key outside right",
                "plot " + ", ".join(f"'{d}' using 1:{col} with linespoints title '{m}'"
                                    for m, d in series)]
        if gnuplot(cmds):
            out.append(fname)
    return out


def section(res, w, ctx):
    recs, measured = records(res, "size")
    if not recs:
        return
    w("## Experiment 2: frame sizes")
    w("")
    w("Each mode's DUT is set up once and offered maximal load at every frame "
      "size (bytes with FCS; 4 fewer on the veth), "
      f"{measured[0]['repetitions'] if measured else '?'} accounted run(s) of "
      f"{measured[0]['duration_s'] if measured else '?'} s per size; the "
      "median delivered rate over balanced runs (min–max). Gbit/s counts the "
      "frames' bytes with FCS, without preamble and gap (veth has neither).")
    w("")
    for f in plot(measured, ctx["outdir"]):
        w(f"![frame size]({ctx['rel']}/{f})")
        w("")
    sizes = sorted({s["frame_size"] for p in measured for s in p["steps"]})
    w("| mode | " + " | ".join(f"{z} B, Mpps" for z in sizes) + " |")
    w("| --- | " + " | ".join("---:" for _ in sizes) + " |")
    for p in recs:
        if p.get("status") != "measured":
            w(f"| {p['mode']} | not measured: {p.get('reason', '')} |" +
              " |" * (len(sizes) - 1))
            continue
        by = {s["frame_size"]: s for s in p["steps"]}
        cells = []
        for z in sizes:
            s = by.get(z)
            if not s or s.get("pps_median") is None:
                cells.append("no balanced run" if s else "—")
                continue
            c = f"{mpps(s['pps_median'])} ({mpps(s['pps_min'])}–{mpps(s['pps_max'])})"
            c += f", {gbps(s['pps_median'], z):.2f} Gbit/s"
            if s["balanced_runs"] < s["repetitions"]:
                c += f", {s['repetitions'] - s['balanced_runs']} run(s) FAILED books"
            cells.append(c)
        w(f"| {p['mode']} | " + " | ".join(cells) + " |")
    w("")
