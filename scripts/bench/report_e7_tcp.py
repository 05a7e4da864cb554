# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Experiment 7 (issue 5): TCP throughput per mode and reordering with
several afxdp engines, from the records of kind "tcp" (scripts/bench/xp-tcp.sh)."""

import os

from benchplot import gnuplot, records


def _fmt(v, nd=2):
    return "-" if v is None else f"{v:.{nd}f}"


def _bars(path, rows, ylabel, title):
    """A bar chart of (label, value) rows, via gnuplot; True if drawn."""
    dat = path[:-4] + ".dat"
    with open(dat, "w") as f:
        for label, v in rows:
            f.write(f'"{label}" {v}\n')
    ok = gnuplot(f"""
set terminal png size 760,360
set output "{path}"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.8
set ylabel "{ylabel}"
set title "{title}"
set yrange [0:*]
set xtics rotate by -30
set grid ytics
unset key
plot "{dat}" using 2:xtic(1)
""")
    os.unlink(dat)
    return ok


def section(res, w, ctx):
    recs = [p for p in res.get("points", []) if p.get("kind") == "tcp"]
    if not recs:
        return
    w("")
    w("## Experiment 7: TCP")
    w("")
    r0 = next((r for r in recs if r.get("status") == "measured"), recs[0])
    w("One TCP flow (iperf3) from the generator's namespace (198.18.0.1) to "
      "the sink's (198.19.0.1) through the DUT, ACKs back through it; "
      "client, server and both ends' NAPI threads on the generator's CPU, "
      "the DUT on its own. "
      f"{r0.get('repetitions', '?')} run(s) of {r0.get('duration_s', '?')} s "
      "per mode (the afxdp-N-DIST variants: their own count); Gbit/s is "
      "iperf3's received rate, retransmits its sender's count. The senders "
      f"run with {r0.get('sender_offloads', 'default offloads')}: a frame "
      "that crosses XDP on a veth loses its pending checksum, so a sender "
      "relying on checksum offload would put bad segments on the wire. "
      "Reordering: one more run of "
      f"{r0.get('capture_duration_s', '?')} s, its data direction captured "
      "where it leaves the sender and where it arrives at the sink's port "
      "(GRO off there, so a captured frame is a segment as it arrived). A "
      "segment arrived out of order if it starts below the highest byte "
      "already received; *reordered* counts those the sender sent once, "
      "i.e. not retransmissions of a segment lost in between. tshark's "
      "tcp.analysis.out_of_order (receiver's capture only) is listed "
      "beside it: it also flags such retransmissions when they follow the "
      "loss closely, so a lossy run shows some of it without reordering.")
    w("")
    w("| mode | Gbit/s median (min-max) | runs | retransmits per run | segments captured | reordered | reordered % | tshark out of order (%) | retransmissions in capture |")
    w("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in recs:
        if r.get("status") != "measured":
            w(f"| {r.get('mode', r['name'])} | not measured: {r.get('reason', '')} | | | | | | | |")
            continue
        rt = r.get("retransmits") or []
        rt = ", ".join("-" if x is None else str(x) for x in rt)
        cap = r.get("capture_error")
        w(f"| {r['mode']} | {_fmt(r.get('gbps_median'))} "
          f"({_fmt(r.get('gbps_min'))}-{_fmt(r.get('gbps_max'))}) | "
          f"{r.get('ok_runs', 0)}/{r.get('repetitions', 0)} | {rt} | "
          + (f"capture failed: {cap} | | | | |" if cap else
             "not captured | | | | |" if r.get("packets_captured") is None else
             f"{r.get('packets_captured', '-')} | {r.get('reordered', '-')} | "
             f"{_fmt(r.get('reorder_pct'))} | {r.get('out_of_order', '-')} "
             f"({_fmt(r.get('out_of_order_pct'))}) | "
             f"{r.get('capture_retransmissions', '-')} |"))
    failed = sum(r.get("repetitions", 0) - r.get("ok_runs", 0)
                 for r in recs if r.get("status") == "measured")
    if failed:
        w("")
        w(f"{failed} iperf3 run(s) did not complete; they are left out of "
          "the figures above.")
    lossy = [f"{r['mode']} ({(r.get('capture_drops') or {}).get('sender')})"
             for r in recs if r.get("status") == "measured"
             and ((r.get("capture_drops") or {}).get("sender") or 0) > 0]
    if lossy:
        w("")
        w("The sender's capture lost frames in: " + ", ".join(lossy) +
          "; a retransmission whose first copy it missed counts as reordered "
          "there, so those figures are upper bounds.")
    thr = [(r["mode"], r["gbps_median"]) for r in recs
           if r.get("status") == "measured" and r.get("gbps_median") is not None]
    reo = [(r["mode"], r["reorder_pct"]) for r in recs
           if r.get("status") == "measured" and r.get("reorder_pct") is not None
           and not r.get("capture_error")]
    figs = []
    if thr and _bars(os.path.join(ctx["outdir"], "tcp_gbps.png"), thr,
                     "Gbit/s (median)", "TCP throughput, one flow"):
        figs.append(("TCP throughput per mode", "tcp_gbps.png"))
    if reo and _bars(os.path.join(ctx["outdir"], "tcp_reorder.png"), reo,
                     "reordered segments, %", "TCP reordering at the receiver"):
        figs.append(("TCP reordering per mode and distribution", "tcp_reorder.png"))
    for alt, f in figs:
        w("")
        w(f"![{alt}]({ctx['rel']}/{f})")
    w("")
