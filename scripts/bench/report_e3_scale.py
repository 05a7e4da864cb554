# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""BENCHMARKS.md sections of experiments 3-5 (issue 5): FIB size, number of
virtual routers, VIFs per router (records of kind fib, routers, vifs from
scripts/bench/xp-fib.sh, xp-routers.sh, xp-vifs.sh). A table and a scaling
curve (gnuplot PNG, aggregate delivered Mpps against the count, log x) each;
runs whose books did not balance are left out of the figures and counted."""

import os

from benchplot import gnuplot, records

EXPERIMENTS = [
    ("fib", 3, "FIB size", "prefixes in the FIB",
     "One xdp-mode router; N-prefix synthetic table with the prefix lengths "
     "of today's IPv4 default-free zone (scripts/gen-table.py), random "
     "destinations across it (each inside a prefix picked uniformly, used in "
     "turn by the generator); N = 2 is the 2-route setup with one "
     "destination. Setup: table generation + node and router + `xvr route "
     "load`."),
    ("routers", 4, "number of virtual routers", "virtual routers",
     "N routers on the same two ports, each with its own FIB (its own route "
     "for its /24 to the sink) and a classifier rule (its /24, on port A); "
     "the generator's destination list spreads the frames evenly over all N "
     "routers. Aggregate delivered rate. For comparison: Trellis fell from "
     "525 to 70 kpps at 512 containers; NAPI-macvlan stayed flat to 32. "
     "Setup: node, ports and N routers with their namespaces, rules and "
     "routes (one `xvr` command each); teardown: `xvr node down`."),
    ("vifs", 5, "virtual interfaces per router", "VIFs of the router",
     "One xdp-mode router with N VIFs, N/2 on each port, each with its own "
     "MAC (a veth into the router's namespace and a MAC classifier rule); "
     "its destinations are split over N/2 neighbours on port B, one per VIF "
     "there, and the generator's destination list spreads the frames over "
     "them. In xdp mode a nexthop names a port, not a VIF, so the frames "
     "leave port B with the router's MAC there."),
]


def mpps(v):
    return "—" if v is None else f"{v / 1e6:.3f}"


def secs(v):
    return "—" if v is None else f"{v:.1f}"


def plot(recs, kind, xlabel, outdir):
    """PNG of the measured records (one line per mode); its file name or
    None."""
    series = {}
    for p in recs:
        if p.get("status") == "measured" and p.get("pps_median") is not None:
            series.setdefault(p.get("mode", "xdp"), []).append(p)
    if not series:
        return None
    png = f"scale-{kind}.png"
    cmds = ["set terminal png size 700,380",
            f"set output '{os.path.join(outdir, png)}'",
            "set logscale x 10", "set grid", "set key bottom left",
            f'set xlabel "{xlabel} (log scale)"',
            "set ylabel 'aggregate delivered Mpps'", "set yrange [0:*]"]
    plots = []
    data = []
    for i, (mode, ps) in enumerate(sorted(series.items())):
        ps.sort(key=lambda p: p["x"])
        rows = "\n".join(f"{p['x']} {p['pps_median'] / 1e6} {p['pps_min'] / 1e6} "
                         f"{p['pps_max'] / 1e6}" for p in ps)
        data.append(rows + "\ne")
        plots.append(f"'-' using 1:2:3:4 with yerrorlines title '{mode} mode "
                     f"(median, min-max of balanced runs)'")
    cmds.append("plot " + ", ".join(plots))
    script = "\n".join(cmds) + "\n" + "\n".join(data) + "\n"
    return png if gnuplot(script) else None


def section(res, w, ctx):
    for kind, num, title, xlabel, what in EXPERIMENTS:
        recs = sorted([p for p in res.get("points", []) if p.get("kind") == kind],
                      key=lambda p: (p.get("mode", ""), p.get("x", 0)))
        if not recs:
            continue
        w(f"## Scaling: {title} (experiment {num})")
        w("")
        w(what + " Maximal offered load, every run accounted; medians over "
          "the runs whose books balanced.")
        w("")
        png = plot(recs, kind, xlabel, ctx["outdir"])
        if png:
            w(f"![aggregate delivered rate vs {xlabel}]({ctx['rel']}/{png})")
            w("")
        failed = sum(p.get("repetitions", 0) - p.get("balanced_runs", 0)
                     for p in recs if p.get("status") == "measured")
        extra_h = " load s | load peak RSS MiB |" if kind == "fib" else ""
        w(f"| {xlabel} | mode | delivered Mpps, median (min–max) | balanced runs | "
          f"DUT ns/frame | setup s | teardown s |{extra_h}")
        w("| ---: | --- | ---: | ---: | ---: | ---: | ---: |" +
          (" ---: | ---: |" if kind == "fib" else ""))
        for p in recs:
            ex = ""
            if kind == "fib":
                rss = p.get("load_max_rss_kib")
                ex = (f" {secs(p.get('load_s'))} | "
                      f"{'—' if rss is None else f'{rss / 1024:.0f}'} |")
            if p.get("status") != "measured":
                w(f"| {p.get('x')} | {p.get('mode')} | not measured: "
                  f"{p.get('reason', '')} | | | {secs(p.get('setup_s'))} | "
                  f"{secs(p.get('teardown_s'))} |{ex}")
                continue
            ns = p.get("dut_ns_per_frame_median")
            w(f"| {p['x']} | {p.get('mode')} | {mpps(p.get('pps_median'))} "
              f"({mpps(p.get('pps_min'))}–{mpps(p.get('pps_max'))}) | "
              f"{p.get('balanced_runs')}/{p.get('repetitions')} | "
              f"{'—' if ns is None else f'{ns:.0f}'} | {secs(p.get('setup_s'))} | "
              f"{secs(p.get('teardown_s'))} |{ex}")
        w("")
        if failed:
            w(f"{failed} run(s) whose books did not balance are FAILED and left "
              "out of the medians and the figure.")
            w("")
        nm = [p for p in recs if p.get("status") != "measured"]
        for p in nm:
            w(f"* `{p['name']}` not measured: {p.get('reason', '')}")
        if nm:
            w("")
