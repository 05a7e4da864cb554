# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""BENCHMARKS.md section of experiment 6 (scripts/bench/xp-lat.sh): one-way
latency percentiles and CDFs, and ping round-trip times, per mode at 10%,
50% and 90% of its capacity (and at maximal load)."""

import os

from benchplot import gnuplot, records


def us(ns):
    if ns is None:
        return "—"
    v = ns / 1000
    return f"{v:.1f}" if v < 100 else f"{v:.0f}"


def mpps(x):
    return "—" if x is None else f"{x / 1e6:.3f}"


def load_label(load):
    return "max" if load.get("load_pct") is None else f"{load['load_pct']}%"


def all_loads(p):
    """The record's loads, then its maximal-load run (load_pct None)."""
    out = list(p.get("loads") or [])
    if p.get("max_load"):
        out.append(p["max_load"])
    return out


def usable(load):
    return (load.get("balanced") and load.get("histogram")
            and (load.get("one_way") or {}).get("samples"))


def cdf_file(load, path):
    """Writes 'upper bound (us) F 1-F' per histogram bucket; False if empty."""
    hist = load.get("histogram") or []
    n = sum(c for _, _, c in hist)
    if not n:
        return False
    acc = 0
    with open(path, "w") as f:
        f.write(f"{hist[0][0] / 1000} 0 1\n")
        for lo, hi, c in hist:
            acc += c
            # 1-F reaches 0 at the last bucket; a log axis drops that point.
            f.write(f"{hi / 1000} {acc / n} {(n - acc) / n}\n")
    return True


def plot(recs, outdir):
    """One PNG per load level: CDF and complementary CDF of one-way latency,
    a curve per mode. Returns [(label, file name)]."""
    levels = []
    for p in recs:
        for ld in all_loads(p):
            lab = load_label(ld)
            if lab not in levels:
                levels.append(lab)
    levels.sort(key=lambda s: 1e9 if s == "max" else int(s[:-1]))
    out = []
    for lab in levels:
        series = []
        for p in recs:
            for ld in all_loads(p):
                if load_label(ld) != lab or not usable(ld):
                    continue
                dat = os.path.join(outdir, f"lat-{p['mode']}-{lab.rstrip('%')}.dat")
                if cdf_file(ld, dat):
                    series.append((p["mode"], dat))
        if not series:
            continue
        fname = f"lat-cdf-{lab.rstrip('%')}.png"
        title = ("maximal load" if lab == "max" else f"{lab} of capacity")
        cmds = ["set terminal png size 1000,400",
                f"set output '{os.path.join(outdir, fname)}'",
                "set multiplot layout 1,2 title 'one-way latency, " + title + "'",
                "set logscale x", "set xlabel 'one-way latency, us'",
                "set grid", "set key bottom right",
                "set ylabel 'fraction of frames'", "set yrange [0:1]",
                "plot " + ", ".join(f"'{d}' using 1:2 with lines lw 2 title '{m}'"
                                    for m, d in series),
                "set logscale y", "set yrange [1e-6:1]", "set format y '%g'", "set key top right",
                "set ylabel 'fraction of frames slower (1 - CDF)'",
                "plot " + ", ".join(f"'{d}' using 1:($3 > 0 ? $3 : 1/0) with lines lw 2 title '{m}'"
                                    for m, d in series),
                "unset multiplot"]
        if gnuplot(cmds):
            out.append((title, fname))
    return out


def ping_cell(ping):
    if not ping:
        return "—"
    if ping.get("status") == "not measured":
        return "not measured"
    if not ping.get("samples"):
        return f"no replies (0/{ping.get('transmitted', 0)})"
    c = f"{ping['min_us']:.0f} / {ping['avg_us']:.0f} / {ping['p99_us']:.0f}"
    if ping.get("lost"):
        c += f" ({ping['lost']}/{ping['transmitted']} lost)"
    return c


def section(res, w, ctx):
    recs, measured = records(res, "lat")
    if not recs:
        return
    m0 = measured[0] if measured else {}
    w("## Experiment 6: latency")
    w("")
    w("Each mode's DUT is set up once. One accounted run at maximal load gives "
      "its capacity (the delivered rate); then one accounted run of "
      f"{m0.get('duration_s', '?')} s at each load, a percentage of that "
      "capacity (xvr-pktgen's rate limit). The offered rate is what the "
      "generator achieved. One run per load, not three: each run's "
      "percentiles come from every frame it delivered (tens of thousands "
      "to a million samples), and three runs per load for every mode would "
      "not fit the suite's 30 minutes.")
    w("")
    w("* **One-way latency.** xvr-pktgen writes `bpf_ktime_get_ns()` into "
      "every frame when it builds it; the sink (XDP on its veth end) "
      "subtracts that from its own clock on arrival (one machine, one clock) "
      "and adds the difference to a per-CPU log-linear histogram: 16 buckets "
      "per power of two, so a bucket is at most 6.25% of its value wide. "
      "Percentiles are the upper bound of the bucket holding them (never above "
      "the exact maximum); min and max are exact. It covers the generator's "
      "transmission, the DUT and the sink's wake-up and reception, for every "
      "delivered frame (not sampled). Frames without a usable timestamp (0, "
      "ahead of the clock, older than 10 s) are counted apart and left out.")
    w("* **Ping.** During each run `ping -i "
      f"{m0.get('ping_interval_s', 0.01)}` from the generator's namespace "
      "(198.18.0.1) through the DUT to the sink's (198.19.0.1), the echo "
      "replies back through the DUT; SCHED_FIFO above the generator on its "
      "CPU, so a probe does not wait for it. Its RTT (min / avg / p99 of the "
      "individual replies, us) crosses the DUT twice, plus both namespaces' "
      "stacks. The sink hands untagged frames (the echo requests) to its "
      "namespace's stack (`xvr-sink --pass-untagged`); they are neither "
      "delivered frames nor drops, and the runs' books count only the "
      "generator's frames (a lost probe could add one to the counted drops; "
      "probe losses are shown).")
    by_cpu = {}
    for p in measured:
        by_cpu.setdefault(p.get("sink_cpu"), []).append(p["mode"])
    if len(by_cpu) > 1 or None not in by_cpu:
        w("* **Sink placement** follows the standard points (see above): " +
          "; ".join(f"on CPU {c} for {', '.join(ms)}" for c, ms in sorted(
              by_cpu.items(), key=lambda kv: str(kv[0]))) + ".")
    shared = [p["mode"] for p in measured
              if p.get("gen_cpu") is not None and p.get("sink_cpu") == p["gen_cpu"]]
    rt_run, rt_per = m0.get("sched_rt_runtime_us"), m0.get("sched_rt_period_us")
    if m0.get("gen_sched_loads") == "SCHED_OTHER":
        w("* **Generator scheduling.** In the load runs the generator is "
          "SCHED_OTHER: a SCHED_FIFO busy-poller would use up its CPU's "
          "real-time budget (kernel.sched_rt_runtime_us) and the kernel would "
          "then stop every real-time thread on that CPU, the sink's included "
          "where it shares it, for the rest of each period: a stall of tens "
          "of ms that is not the DUT's. The maximal-load run (capacity) keeps "
          "the standard points' SCHED_FIFO generator.")
    elif rt_run is not None and rt_per and 0 <= rt_run < rt_per:
        stall = (rt_per - rt_run) / 1000
        w(f"* **RT throttling.** The kernel lets SCHED_FIFO threads use "
          f"{rt_run / 1000:.0f} ms of every {rt_per / 1000:.0f} ms on a CPU "
          f"(kernel.sched_rt_runtime_us), then stops them all for {stall:.0f} ms. "
          "The generator busy-polls at any rate, so its CPU hits that limit "
          "every period; frames and probes in flight then wait up to "
          f"{stall:.0f} ms" +
          (f" where the sink shares that CPU ({', '.join(shared)}): their "
           f"maxima and ping tails near {stall:.0f} ms are this stall, not "
           "the DUT; their p99.9 and below are not (too few frames are in "
           "flight at that moment)" if shared else "") + ".")
    w("")
    bad = sum(1 for p in measured for ld in all_loads(p) if not ld.get("balanced"))
    for title, f in plot(measured, ctx["outdir"]):
        w(f"![one-way latency CDF, {title}]({ctx['rel']}/{f})")
        w("")
    if bad:
        w(f"{bad} run(s) did not balance their books: FAILED, left out of the "
          "figures, marked in the table.")
        w("")
    w("| mode | load | offered, Mpps | delivered, Mpps | one-way p50, us | "
      "p99, us | p99.9, us | max, us | ping RTT min / avg / p99, us | books |")
    w("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |")
    reasons = {}
    for p in recs:
        if p.get("status") != "measured":
            w(f"| {p.get('mode', p['name'])} | not measured: {p.get('reason', '')} "
              "| | | | | | | | |")
            continue
        for ld in all_loads(p):
            ow = ld.get("one_way") or {}
            run = ld.get("run") or {}
            ping = ld.get("ping") or {}
            if ping.get("status") == "not measured":
                reasons[p["mode"]] = ping.get("reason", "")
            books = "balance" if ld.get("balanced") else \
                f"FAILED (residual {run.get('residual')})"
            lab = load_label(ld)
            if lab == "max":
                lab = f"max ({mpps(p.get('capacity_pps'))} Mpps)"
            if ow.get("samples"):
                lat = [us(ow.get(k)) for k in ("p50_ns", "p99_ns", "p999_ns", "max_ns")]
            else:
                lat = ["no samples"] + ["—"] * 3
            unusable = sum(ow.get(k) or 0 for k in
                           ("no_timestamp", "future_timestamp", "stale_timestamp"))
            if unusable:
                lat[0] += f" ({unusable} unusable timestamps)"
            w(f"| {p['mode']} | {lab} | {mpps(ld.get('offered_pps'))} | "
              f"{mpps(ld.get('delivered_pps'))} | " + " | ".join(lat) +
              f" | {ping_cell(ping)} | {books} |")
    w("")
    for mode, r in reasons.items():
        w(f"Ping of {mode} not measured: {r}.")
        w("")
