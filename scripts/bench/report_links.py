# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""BENCHMARKS.md section of the virtual links (make bench-links), from
bench/results/links.json, which scripts/bench/links-report.py writes from
that target's three parts: per-packet cost (scripts/bench/links.sh),
throughput in interleaved rounds (scripts/bench.sh, points kernel, xvr-2,
link-p2p, link-mp, bridge-vxlan) and convergence
(scripts/bench/links-converge.sh). A run of its own, so its figures carry
their own date and command."""

import json
import os

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
LINK_POINTS = ("kernel", "xvr-2", "link-p2p", "link-mp", "bridge-vxlan")


def mpps(x):
    return "—" if x is None else f"{x / 1e6:.3f}"


def rng(s, fmt="{:.2f}"):
    if not s:
        return "—"
    return (fmt + " ({}–{})").format(s["median"], fmt.format(s["min"]), fmt.format(s["max"]))


def section(res, w, ctx):
    path = os.path.join(ROOT, "bench", "results", "links.json")
    if not os.path.exists(path):
        return
    with open(path) as f:
        lk = json.load(f)
    w("## Virtual links (make bench-links)")
    w("")
    w(f"Run {lk.get('date', '?')}, `{lk.get('command', 'make bench-links')}`, "
      f"load average at its end {lk.get('loadavg', '?')} (a shared 2-CPU machine: "
      "absolute figures move between runs; the ratios are per-round pairs).")
    w("")
    tp = lk.get("throughput")
    if tp:
        w(f"**Throughput**, {tp.get('rounds', '?')} interleaved rounds of "
          f"{tp.get('duration_s', '?')} s per point, {tp.get('frame_size', 64)}-byte "
          "frames, every run accounted (sent = delivered + counted drops). "
          "link-p2p / link-mp: xvr-2 with its route onto an EGRE link out of port B "
          "(multipoint: two remotes, the destination learned behind one); "
          "bridge-vxlan: a Linux namespace router behind bridges, its far side "
          "bridged into VXLAN (the kernel tunnel nearest to EGRE here: no gretap). "
          "The sink counts the inner frames.")
        w("")
        w("| point | delivered Mpps (median) | DUT ns/frame | capacity Mpps | balanced runs |")
        w("| --- | ---: | ---: | ---: | ---: |")
        for p in tp.get("points", []):
            ns = p.get("dut_ns_per_frame_median")
            w(f"| {p['name']} | {mpps(p.get('pps_median'))} | "
              f"{'—' if ns is None else f'{ns:.0f}'} | {mpps(p.get('capacity_pps'))} | "
              f"{p.get('balanced_runs', 0)}/{p.get('repetitions', 0)} |")
        w("")
        w("| ratio (by capacity) | median (min–max over rounds) | target | delivered |")
        w("| --- | --- | --- | --- |")
        for r in tp.get("ratios", []):
            v = r.get("value")
            t = r.get("target")
            rr = r.get("rounds") or {"min": v, "max": v}
            # met only if every round meets it, not met if none does
            met = "" if v is None or t is None else (
                " met" if rr["min"] >= t else " **not met**" if rr["max"] < t else " undecided")
            d = r.get("value_delivered")
            w(f"| {r['name']} | {rng(r.get('rounds')) if r.get('rounds') else ('—' if v is None else f'{v:.2f}')} | "
              f"≥ {t}{met} | {'—' if d is None else f'{d:.2f}'} |")
        w("")
    cost = lk.get("cost")
    if cost:
        w(f"**Per-packet cost** of xvr_ingress (`BPF_PROG_TEST_RUN`, {cost.get('rounds')} "
          f"interleaved rounds of {cost.get('calls')} calls): plain forwarding "
          f"{rng(cost['ns']['fwd'], '{:.1f}')} ns, onto a link "
          f"{rng(cost['ns']['encap'], '{:.1f}')} ns, from a link "
          f"{rng(cost['ns']['decap'], '{:.1f}')} ns; rate against plain forwarding: "
          f"encap {rng(cost.get('encap_vs_fwd'))}, decap {rng(cost.get('decap_vs_fwd'))} "
          "(target ≥ 0.8).")
        w("")
    cv = lk.get("converge")
    if cv:
        w(f"**Convergence** (scripts/bench/links-converge.sh): 4 nodes, each the machine "
          f"of its own namespace, a ring of EGRE links, BIRD OSPF hello "
          f"{cv.get('ospf_hello_s')} s dead {cv.get('ospf_dead_s')} s, a ping every "
          f"{cv.get('ping_interval_s')} s from node 1's host to node 2's; link 1-2 cut "
          f"in the underlay (blackhole routes: the interfaces stay up, OSPF's dead timer "
          f"notices) and restored, {cv.get('rounds')} rounds. No traffic after the cut "
          f"for {rng(cv.get('cut_outage_s'))} s (the dead interval dominates); after the "
          f"restore, replies are back on the link after "
          f"{rng(cv.get('restore_to_short_path_s'))} s (traffic kept flowing the long "
          "way meanwhile).")
        w("")
