#!/usr/bin/python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Counters and packet accounting for scripts/bench.sh.

  acct.py snapshot [--dev ROLE=NS:DEV]... [--xvr-node NODE] [--snmp-ns NS]
      prints a JSON snapshot: interface stats (ip -s -j link), per-queue veth
      counters (ethtool -S), xvr's per-CPU counters (bpftool), the DUT
      namespace's IP MIB, softnet drops and per-CPU times.

  acct.py account --before F --after F --gen pktgen|trafgen --sent N
                  --sink-json S --elapsed SEC [--dut-cpu N]
      balances one run: sent = delivered + every counted drop. Prints JSON.

  acct.py quiet [--max-busy PCT] [--timeout SEC]
      waits until no CPU is busier than PCT (other benchmarks, builds, tests
      skew the figures); exits 1 if the machine stayed busy.

  acct.py report RESULTS.json BENCHMARKS.md
      writes the benchmark page from the results file.

Roles: gen (generator's veth end), dut_in, dut_out (the DUT's ports), sink
(the sink's veth end). Traffic goes gen -> dut_in, dut_out -> sink.

veth reports some drops on both ends of a pair: a frame the peer's ring
refused is in the sender's tx_dropped and the receiver's rx_dropped. The
accounting therefore starts from the per-queue counters (ethtool -S), which
each device reports once, and derives the rest from the totals.
"""

import argparse
import concurrent.futures
import glob
import importlib.util
import json
import os
import re
import subprocess
import sys
import time

TOLERANCE = 0.001  # books must balance within 0.1% of sent

# IP MIB counters of frames the kernel received for forwarding and dropped.
SNMP_DROPS = ("InHdrErrors", "InAddrErrors", "InUnknownProtos", "InDiscards",
              "OutDiscards", "OutNoRoutes", "FragFails", "InTruncatedPkts",
              "InCsumErrors")


def run(cmd):
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def in_ns(ns, cmd):
    return (["ip", "netns", "exec", ns] + cmd) if ns else cmd


def link_stats(ns, dev):
    out = json.loads(run(["ip"] + (["-n", ns] if ns else []) +
                         ["-s", "-j", "link", "show", "dev", dev]))
    s = out[0]["stats64"]
    return {"rx_" + k: v for k, v in s["rx"].items()} | \
           {"tx_" + k: v for k, v in s["tx"].items()}


def ethtool_stats(ns, dev):
    stats = {}
    for line in run(in_ns(ns, ["ethtool", "-S", dev])).splitlines():
        m = re.match(r"\s+(\S+):\s+(\d+)$", line)
        if m:
            stats[m.group(1)] = int(m.group(2))
    return stats


# The counters of the node's per-CPU maps that account() reads: scalars,
# summed over every key and CPU.
XVR_FIELDS = ("rx_packets", "fwd_packets", "drop_packets", "punt_packets",
              "miss_packets", "steered_packets", "arrived_packets",
              "arrived_dropped")
XVR_FIELD_RE = re.compile(r'"(' + "|".join(XVR_FIELDS) + r')":\s*(\d+)')


def xvr_counters(node):
    """Per-CPU struct xvr_counters maps, each summed over keys and CPUs.

    Read from bpftool's formatted dump by pattern, not parsed whole: a
    map of 1024 routers dumps 8 MB of JSON, and parsing and walking it
    took most of a second a snapshot."""
    res = {}
    for m in ("vr_stats", "port_stats", "cpu_stats"):
        path = f"/sys/fs/bpf/xvr/{node}/{m}"
        try:
            dump = run(["bpftool", "-j", "map", "dump", "pinned", path])
        except subprocess.CalledProcessError as e:
            res[m] = {"error": str(e)}
            continue
        tot = {}
        for mt in XVR_FIELD_RE.finditer(dump):
            tot[mt.group(1)] = tot.get(mt.group(1), 0) + int(mt.group(2))
        res[m] = {"all": tot} if any(tot.values()) else {}
    return res


def snmp(ns):
    lines = run(in_ns(ns, ["cat", "/proc/net/snmp"])).splitlines()
    res = {}
    for hdr, val in zip(lines[::2], lines[1::2]):
        proto, names = hdr.split(":", 1)
        _, vals = val.split(":", 1)
        if proto == "Ip":
            res = dict(zip(names.split(), map(int, vals.split())))
    return res


def softnet():
    dropped = squeezed = 0
    with open("/proc/net/softnet_stat") as f:
        for line in f:
            cols = [int(c, 16) for c in line.split()]
            dropped += cols[1]
            squeezed += cols[2]
    return {"dropped": dropped, "time_squeeze": squeezed}


def cpu_times():
    res = {}
    with open("/proc/stat") as f:
        for line in f:
            m = re.match(r"(cpu\d+)\s+(.*)", line)
            if m:
                res[m.group(1)] = [int(x) for x in m.group(2).split()]
    return res


def napi_runtime(devs):
    """Nanoseconds on CPU of the napi/DEV-* kthreads, by device."""
    res = {d: 0 for d in devs}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/comm") as f:
                comm = f.read().strip()
            for d in devs:
                if comm.startswith(f"napi/{d}-"):
                    # schedstat: ns on CPU, ns waiting, timeslices
                    with open(f"/proc/{pid}/schedstat") as f:
                        res[d] += int(f.read().split()[0])
        except OSError:
            continue
    return res


def pid_runtime(pids):
    """Nanoseconds on CPU of every thread of each process, by PID."""
    res = {}
    for pid in pids:
        tot = 0
        try:
            for tid in os.listdir(f"/proc/{pid}/task"):
                try:
                    with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                        tot += int(f.read().split()[0])
                except OSError:
                    pass
        except OSError:
            pass
        res[str(pid)] = tot
    return res


def cmd_snapshot(args):
    snap = {"t": time.monotonic(), "devs": {}, "softnet": softnet(),
            "cpu": cpu_times(), "napi": napi_runtime(args.napi or []),
            "pids": pid_runtime(args.pid or [])}
    # The counters come from a dozen programs (ip, ethtool, bpftool), each
    # a fork and exec, and `ip netns exec` a mount namespace too: one after
    # the other they took a second, twice a run. Nothing moves between
    # them (the snapshots bracket a run, the generator stopped), so they
    # run at once.
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        devs = {}
        for spec in args.dev or []:
            role, where = spec.split("=", 1)
            ns, dev = where.split(":", 1)
            devs[role] = (ns, dev, pool.submit(link_stats, ns, dev),
                          pool.submit(ethtool_stats, ns, dev))
        xvr = pool.submit(xvr_counters, args.xvr_node) if args.xvr_node else None
        snm = pool.submit(snmp, args.snmp_ns) if args.snmp_ns is not None else None
        for role, (ns, dev, link, eth) in devs.items():
            snap["devs"][role] = {"ns": ns, "dev": dev, "link": link.result(),
                                  "ethtool": eth.result()}
        if xvr:
            snap["xvr"] = xvr.result()
        if snm:
            snap["snmp"] = snm.result()
    json.dump(snap, sys.stdout)
    print()


def delta(after, before):
    if isinstance(after, str):
        return after
    if isinstance(after, dict):
        return {k: delta(v, before.get(k, 0 if not isinstance(v, (dict, list))
                                       else type(v)()))
                for k, v in after.items()}
    if isinstance(after, list):
        return [a - (before[i] if i < len(before) else 0)
                for i, a in enumerate(after)]
    return after - before


def queues(eth, suffix):
    """Sum of a per-queue veth counter (rx_queue_N_<suffix> or tx_...)."""
    pat = re.compile(r"^(rx|tx)_queue_\d+_" + re.escape(suffix) + "$")
    return sum(v for k, v in eth.items() if pat.match(k))


def cpu_busy(d_cpu, cpu):
    t = d_cpu.get(f"cpu{cpu}")
    if not t or sum(t) == 0:
        return None
    idle = t[3] + (t[4] if len(t) > 4 else 0)
    return 1.0 - idle / sum(t)


def account(before, after, gen, sent, sink, elapsed, dut_cpu, sink_cpu,
            dut_napi_devs=None, extra_drops=None):
    d = delta(after, before)
    devs = d["devs"]
    link = {r: devs[r]["link"] for r in devs}
    eth = {r: devs[r]["ethtool"] for r in devs}
    delivered = sink["tagged_packets"]

    def xmit_err(r):  # XDP frames r sent that its peer's ring refused
        return queues(eth[r], "xdp_xmit_errors")

    def xdp_tx_err(r):  # r's own XDP_TX failures (mirrored on the peer)
        return queues(eth[r], "xdp_tx_errors")

    # Each drop term is counted on one device only.
    drops = {}
    # Into the DUT: the dut_in ring refused XDP frames from the generator.
    drops["dut_in_ring_full"] = xmit_err("gen")
    # Generator end, skb path (trafgen): dut_in's ring was full. trafgen
    # retries such frames and counts only what the device took, so for
    # trafgen they are back-pressure, not loss.
    gen_skb = link["gen"]["tx_dropped"] - xmit_err("gen") - xdp_tx_err("gen")
    if gen == "pktgen":
        drops["gen_tx_dropped"] = gen_skb
    drops["dut_in_rx"] = queues(eth["dut_in"], "drops") + xdp_tx_err("dut_in")
    drops["dut_in_xdp_drop"] = queues(eth["dut_in"], "xdp_drops")
    drops["dut_in_core_rx"] = (link["dut_in"]["rx_dropped"] -
                               queues(eth["dut_in"], "drops") -
                               xmit_err("gen") - xdp_tx_err("gen"))
    # Out of the DUT into the sink.
    drops["sink_ring_full"] = xmit_err("dut_out")
    drops["dut_out_tx_skb"] = (link["dut_out"]["tx_dropped"] -
                               xmit_err("dut_out") - xdp_tx_err("dut_out"))
    drops["sink_rx"] = queues(eth["sink"], "drops") + xdp_tx_err("sink")
    drops["sink_core_rx"] = (link["sink"]["rx_dropped"] -
                             queues(eth["sink"], "drops") -
                             xmit_err("dut_out") - xdp_tx_err("dut_out"))
    if "snmp" in d:
        for k in SNMP_DROPS:
            drops["ip_" + k] = d["snmp"].get(k, 0)
    drops["softnet_dropped"] = d["softnet"]["dropped"]
    # Devices inside the DUT beyond its two ports (VIFs, macvlans, bridge
    # ports, engine veths): roles "x-NAME". Each drop once: what a device
    # failed to send (skb path, incl. a full peer ring) and what its own
    # receive queues dropped.
    for r in devs:
        if r.startswith("x-"):
            drops[r + "_tx_dropped"] = (link[r]["tx_dropped"] -
                                        xmit_err(r) - xdp_tx_err(r))
            drops[r + "_xmit_err"] = xmit_err(r)
            drops[r + "_rx"] = queues(eth[r], "drops") + xdp_tx_err(r)
            drops[r + "_xdp_drop"] = queues(eth[r], "xdp_drops")
    for k, v in (extra_drops or {}).items():
        drops[k] = v

    not_forwarded = {}
    xvr = d.get("xvr")
    xvr_info = None
    if xvr and isinstance(xvr.get("vr_stats"), dict) and "error" not in xvr["vr_stats"]:
        vr = [v for v in xvr["vr_stats"].values()]
        ports = [v for v in xvr.get("port_stats", {}).values()
                 if isinstance(v, dict)]
        tot = lambda rows, f: sum(r.get(f, 0) for r in rows)
        # Punted frames leave the fast path for the VR's namespace; the sink
        # never sees them. Drops are already in dut_in_xdp_drop (XDP_DROP).
        not_forwarded["xvr_punt"] = tot(vr, "punt_packets")
        not_forwarded["xvr_unclassified"] = tot(ports, "miss_packets")
        # Information only: routers and ports both count a router's drops.
        # Bound routers (router set cpus): what the cpumap queues lost, and
        # what the cpumap program dropped (XDP_DROP there is no device's).
        cs = [v for v in xvr.get("cpu_stats", {}).values() if isinstance(v, dict)]
        if cs:
            drops["xvr_cpumap_lost"] = tot(cs, "steered_packets") - tot(cs, "arrived_packets")
            drops["xvr_cpumap_xdp_drop"] = tot(cs, "arrived_dropped")
        xvr_info = {"rx": tot(vr, "rx_packets"), "fwd": tot(vr, "fwd_packets"),
                    "drop": tot(vr, "drop_packets"),
                    "port_drop": tot(ports, "drop_packets"),
                    "punt": not_forwarded["xvr_punt"]}

    counted = sum(drops.values()) + sum(not_forwarded.values())
    residual = sent - delivered - counted
    balanced = sent > 0 and abs(residual) <= TOLERANCE * sent
    # Busy shares are of the generator's run time, not of the snapshot
    # window (which adds the drain pause and the snapshots themselves; the
    # harness runs on the generator's CPU so they do not land here).
    window_ns = d["t"] * 1e9
    run_ns = elapsed * 1e9
    dut_busy = cpu_busy(d["cpu"], dut_cpu)
    if dut_busy is not None and run_ns > 0:
        dut_busy = min(dut_busy * window_ns / run_ns, 1.0)
    napi = d.get("napi", {})
    ns_of = lambda role: napi.get(devs[role]["dev"], 0)
    dut_frames = queues(eth["dut_in"], "xdp_packets")  # NAPI-processed, XDP or skb
    sink_frames = queues(eth["sink"], "xdp_packets")
    # CPU time of the DUT's NAPI threads (its two ports) and of the sink's.
    dut_run = ns_of("dut_in") + ns_of("dut_out")
    if dut_napi_devs:
        dut_run = sum(napi.get(dv, 0) for dv in dut_napi_devs)
    # User-space parts of the DUT (engines, forwarders) run on its CPU too.
    dut_run += sum(d.get("pids", {}).values())
    sink_run = ns_of("sink")
    dut_napi = dut_run / run_ns if napi and run_ns > 0 else None
    dut_ns = dut_run / dut_frames if napi and dut_frames else None
    sink_ns = sink_run / sink_frames if napi and sink_frames else None
    # Threads that run on the DUT's CPU: the DUT's, and the sink's if it
    # shares that CPU. The rest of dut_busy is somebody else.
    mine = dut_run + (sink_run if sink_cpu == dut_cpu else 0)
    cpu_threads = mine / run_ns if napi and run_ns > 0 else None
    others = (dut_busy - cpu_threads
              if dut_busy is not None and cpu_threads is not None else 0)

    # What limited the run? The DUT's figures are its capacity only if its
    # CPU was saturated by our threads. A full input ring alone does not say
    # so: a preempted or slow-to-wake NAPI thread overflows a 256-entry ring
    # too.
    dut_loss = (drops["dut_in_ring_full"] + drops.get("gen_tx_dropped", 0) +
                drops["dut_in_rx"] + (gen_skb if gen == "trafgen" else 0))
    sink_loss = drops["sink_ring_full"] + drops["dut_out_tx_skb"] + drops["sink_rx"]
    saturated = (cpu_threads >= 0.90 if cpu_threads is not None
                 else dut_busy is not None and dut_busy >= 0.95)
    if saturated and dut_loss > TOLERANCE * sent:
        bottleneck = "dut"
    elif dut_loss <= TOLERANCE * sent and sink_loss <= TOLERANCE * sent:
        bottleneck = "generator"  # everything offered got through
    elif others > 0.10:
        bottleneck = "interference"
    elif sink_loss > TOLERANCE * sent:
        bottleneck = "sink"
    else:
        bottleneck = "dut-unsaturated"

    notes = []
    if others > 0.10:
        notes.append(f"work outside our threads (other tasks, interrupts, "
                     f"softirqs) used {100 * others:.0f}% of the DUT's CPU "
                     "during the run")
    if sink["packets"] != sink["tagged_packets"]:
        notes.append(f"{sink['packets'] - sink['tagged_packets']} stray "
                     "frames at the sink (not counted as delivered)")

    offered = sent + (gen_skb if gen == "trafgen" else 0)
    return {
        "sent": sent,
        "delivered": delivered,
        "drops": {k: v for k, v in drops.items() if v},
        "not_forwarded": {k: v for k, v in not_forwarded.items() if v},
        "counted_drops": counted,
        "residual": residual,
        "balanced": balanced,
        "elapsed_s": elapsed,
        "pps": delivered / elapsed if elapsed > 0 else 0,
        "offered_pps": offered / elapsed if elapsed > 0 else 0,
        "gen_backpressure": gen_skb if gen == "trafgen" else 0,
        "dut_cpu_busy": dut_busy,
        "dut_napi_cpu": dut_napi,
        "dut_cpu_ours": cpu_threads,
        "dut_frames": dut_frames,
        # DUT CPU time per frame it took in: the cost of forwarding one
        # frame. In a saturated run 1e9 / it is the DUT's capacity with a
        # CPU of its own; in others wakeups of an idle thread inflate it.
        "dut_ns_per_frame": dut_ns,
        "sink_ns_per_frame": sink_ns,
        "saturated": saturated,
        "bottleneck": bottleneck,
        "stray_at_sink": sink["packets"] - sink["tagged_packets"],
        "xvr": xvr_info,
        "latency_avg_ns": sink.get("lat_avg_ns"),
        "seq_reorder": sink.get("seq_reorder"),
        "reorder_pct": (100.0 * sink.get("seq_reorder", 0) / delivered
                        if delivered else None),
        "notes": notes,
    }


def cmd_quiet(args):
    """Waits until every CPU is idle enough over a window of --window s
    (at HZ=250, 0.3 s is 75 ticks a CPU: a 10% threshold is 7 of them);
    prints the last busy figure."""
    deadline = time.monotonic() + args.timeout
    while True:
        a = cpu_times()
        time.sleep(args.window)
        b = cpu_times()
        d = delta(b, a)
        busy = max(cpu_busy(d, int(c[3:])) or 0 for c in d)
        if busy * 100 <= args.max_busy or time.monotonic() >= deadline:
            print(f"{busy * 100:.0f}")
            sys.exit(0 if busy * 100 <= args.max_busy else 1)


def cmd_account(args):
    with open(args.before) as f:
        before = json.load(f)
    with open(args.after) as f:
        after = json.load(f)
    with open(args.sink_json) as f:
        sink = json.load(f)
    extra = {}
    for e in args.extra_drop or []:
        k, v = e.split("=", 1)
        extra[k] = int(v)
    res = account(before, after, args.gen, args.sent, sink, args.elapsed,
                  args.dut_cpu, args.sink_cpu, args.dut_napi, extra)
    json.dump(res, sys.stdout)
    print()


# ---------------------------------------------------------------- report

def mpps(x):
    return "—" if x is None else f"{x / 1e6:.3f}"


def ratio_rows(res):
    """The ratio table's rows: (label, value and range, target, verdict, delivered)."""
    rows = []
    by_name = {p["name"]: p for p in res["points"]}
    for r in res["ratios"]:
        rng = r.get("rounds")
        if r.get("by") == "ndr":
            r = dict(r, value=r.get("value_ndr"))
            r["name"] += ", by no-drop rate"
            rng = r.get("rounds_ndr")
        vd = r.get("value_delivered")
        vd_s = "—" if vd is None else f"{vd:.2f}"
        label = f"{r['name']} ({r['numerator']} / {r['denominator']})"
        tgt = (f"{r['target']}–{r['target_max']}" if r.get("target_max") is not None
               else f"≥ {r['target']}")
        if r["value"] is None:
            missing = [n for n in (r["numerator"], r["denominator"])
                       if not by_name.get(n, {}).get("capacity_pps")]
            rows.append((label, f"not measured ({', '.join(missing)})", tgt, "", vd_s))
            continue
        ok = ratio_verdict(r, rng)
        est = [n for n in (r["numerator"], r["denominator"])
               if not by_name.get(n, {}).get("capacity_from_saturated")]
        if est:
            ok += (f" (estimate: {', '.join(est)} never saturated, so its "
                   "cost includes idle wakeups and its capacity is understated)")
        val = f"{r['value']:.2f}"
        if rng:
            val += f" ({rng['min']:.2f}–{rng['max']:.2f}, {rng['pairs']} pairs)"
        rows.append((label, val, tgt, ok, vd_s))
    return rows


README_BEGIN = "<!-- bench ratios: written by scripts/bench/acct.py report --readme -->"
README_END = "<!-- end of bench ratios -->"


def readme_ratios(res, path):
    """Rewrites the README's ratio table (between its two markers) from res."""
    with open(path) as f:
        text = f.read()
    a, b = text.find(README_BEGIN), text.find(README_END)
    if a < 0 or b < a:
        sys.exit(f"{path}: no ratio table markers ({README_BEGIN!r} ... {README_END!r})")
    meta = res["meta"]
    lines = [README_BEGIN, "",
             f"From the run of {meta['date'][:10]} (`{meta['results_file']}`, "
             f"{meta.get('frame_size', 64)}-byte frames"
             + (f", {meta['elapsed_s'] / 60:.0f} minutes" if meta.get("elapsed_s") else "")
             + "; capacity = 1 / the DUT's CPU time per frame; a ratio is the median "
             "of its per-round ratios, with their min–max and the number of pairs):", "",
             "| ratio | measured | target | |", "| --- | ---: | ---: | --- |"]
    for label, val, tgt, ok, _ in ratio_rows(res):
        lines.append(f"| {label} | {val} | {tgt} | {ok} |")
    lines += ["", ""]
    with open(path, "w") as f:
        f.write(text[:a] + "\n".join(lines) + text[b:])


def ratio_verdict(r, rng):
    """met / not met / undecided: by the whole per-round range if there is one."""
    lo, hi = (rng["min"], rng["max"]) if rng else (r["value"], r["value"])
    t, tmax = r["target"], r.get("target_max")
    if tmax is not None:
        if lo >= t and hi <= tmax:
            return "met"
        if hi < t or lo > tmax:
            return "**not met**"
    else:
        if lo >= t:
            return "met"
        if hi < t:
            return "**not met**"
    return "undecided (range straddles the target)"


def prog_cost_section(res, w):
    """Each BPF program's own cost per run under the point's load."""
    rows = []
    for p in res["points"]:
        if p.get("kind") is not None:
            continue
        per = {}
        for run in p.get("runs", []):
            for name, s in (run.get("bpf_progs") or {}).items():
                per.setdefault(name, []).append(s["ns_per_run"])
        for name, v in sorted(per.items()):
            v.sort()
            rows.append((p["name"], name, v[(len(v) - 1) // 2], v[0], v[-1], len(v)))
    if not rows:
        return
    w("## BPF programs' own cost under load")
    w("")
    if res.get("meta", {}).get("bpf_stats") == "probe":
        how = ("run_time_ns / run_cnt, all instances of a program summed, in "
               "a probe at maximal load after the point's run in some of the "
               "rounds (the statistics cost two clock reads per program run, "
               "so they are off in the measured runs and on only in the "
               "probes)")
    else:
        how = ("run_time_ns / run_cnt over each run, all instances of a "
               "program summed, on in every run")
    w("The kernel's per-program statistics (`kernel.bpf_stats_enabled`, "
      f"{how}): a change in xvr's programs shows here apart from the noise "
      "in the rest of the path. Median over the point's runs (min–max).")
    w("")
    col = "probes" if res.get("meta", {}).get("bpf_stats") == "probe" else "runs"
    w(f"| point | program | ns per run | {col} |")
    w("| --- | --- | ---: | ---: |")
    for pt, name, med, lo, hi, n in rows:
        w(f"| {pt} | {name} | {med:.0f} ({lo:.0f}–{hi:.0f}) | {n} |")
    w("")


def extra_sections(res, w):
    prog_cost_section(res, w)
    pts = {p["name"]: p for p in res["points"]}
    ndr = [p for p in res["points"] if p.get("ndr_pps") is not None]
    if ndr:
        w("## No-drop rates")
        w("")
        w("Highest offered rate (xvr-pktgen `-r`) at which ≤ 0.1% of the "
          "frames were lost, by binary search with 1 s probes (each probe "
          "counted by the sink, not a full accounting).")
        w("")
        w("| point | no-drop rate, Mpps | delivered at maximal load, Mpps |")
        w("| --- | ---: | ---: |")
        for p in ndr:
            w(f"| {p['name']} | {mpps(p['ndr_pps'])} | {mpps(p.get('pps_median'))} |")
        w("")
    reo = [p for p in res["points"] if re.match(r"afxdp-\d-", p["name"])]
    if reo:
        w("## afxdp: reordering of one flow with several engines")
        w("")
        w("One UDP flow, offered at a fixed rate below the engines' capacity; "
          "the sink counts frames whose generator sequence number is below "
          "one it has already seen. `weighted`: engine 1 has weight 2, the "
          "others 1. All engines on the DUT's CPU.")
        w("")
        w("| point | offered Mpps | delivered Mpps | reordered % of delivered | books |")
        w("| --- | ---: | ---: | ---: | --- |")
        for p in reo:
            if p.get("status") != "measured":
                w(f"| {p['name']} | not measured: {p.get('reason', '')} | | | |")
                continue
            rp = p.get("reorder_pct_median")
            w(f"| {p['name']} | {mpps(p.get('offered_rate_pps'))} | "
              f"{mpps(p.get('pps_median'))} | {'—' if rp is None else f'{rp:.2f}'} | "
              f"{p['balanced_runs']}/{p['repetitions']} balanced |")
        w("")
    pool = sorted([p for p in res["points"] if p["name"].startswith("afxdp-pool-")],
                  key=lambda p: int(p["name"].rsplit("-", 1)[1]))
    if pool:
        w("## afxdp: packet pool size (Europa, Fig. 8)")
        w("")
        w("One engine, pool (UMEM) of N frames, offered at a fixed rate.")
        w("")
        if res["meta"].get("plots", {}).get("pool"):
            w(f"![delivered rate vs pool size]({res['meta']['plots']['pool']})")
            w("")
        w("| pool frames | offered Mpps | delivered Mpps | loss % | books |")
        w("| ---: | ---: | ---: | ---: | --- |")
        for p in pool:
            n = p["name"].rsplit("-", 1)[1]
            if p.get("status") != "measured":
                w(f"| {n} | not measured: {p.get('reason', '')} | | | |")
                continue
            runs = [r for r in p["runs"] if r["balanced"]]
            loss = (100 * sum(r["sent"] - r["delivered"] for r in runs) /
                    max(1, sum(r["sent"] for r in runs))) if runs else None
            w(f"| {n} | {mpps(p.get('offered_rate_pps'))} | {mpps(p.get('pps_median'))} | "
              f"{'—' if loss is None else f'{loss:.2f}'} | "
              f"{p['balanced_runs']}/{p['repetitions']} balanced |")
        w("")
    sized = [p for p in res["points"] if "@" in p["name"]]
    if sized:
        base = sorted({p["name"].split("@")[0] for p in sized})
        w("## Frame sizes")
        w("")
        w("Maximal offered load; size with FCS. 64-byte figures are the main "
          "points above. Mpps delivered / DUT capacity, and Gbit/s delivered "
          "(frame bytes with FCS).")
        w("")
        w("| point | " + " | ".join(["64"] + sorted({p['name'].split('@')[1] for p in sized}, key=int)) + " |")
        sizes = ["64"] + sorted({p['name'].split('@')[1] for p in sized}, key=int)
        w("| --- |" + " ---: |" * len(sizes))
        for b in base:
            cells = []
            for z in sizes:
                p = pts.get(b if z == "64" else f"{b}@{z}")
                if not p or p.get("status") != "measured" or p.get("pps_median") is None:
                    cells.append("not measured")
                    continue
                gbps = p["pps_median"] * int(z) * 8 / 1e9
                cells.append(f"{mpps(p['pps_median'])} / {mpps(p.get('capacity_pps'))} "
                             f"({gbps:.2f} Gb/s)")
            w(f"| {b} | " + " | ".join(cells) + " |")
        w("")
    idle = pts.get("afxdp-idle")
    w("## afxdp: idle engine")
    w("")
    if idle and idle.get("status") == "measured":
        ok = "met" if idle["idle_cpu_pct"] < 1 else "**not met**"
        w(f"One engine, no traffic: {idle['idle_cpu_pct']:.2f}% of a core "
          f"({idle['idle_ticks']} ticks of 1/{idle['hz']} s in "
          f"{idle['idle_seconds']:.1f} s, utime + stime from /proc/PID/stat); "
          f"target < 1%: {ok}.")
    else:
        w("not measured" + (f": {idle.get('reason')}" if idle else ""))
    w("")
    micro = res.get("micro")
    w("## Per-program cost (make bench-micro)")
    w("")
    if micro and micro.get("cases"):
        w(f"`BPF_PROG_TEST_RUN`, {micro.get('repeat')} repetitions per case, "
          f"run {micro.get('date')} ({micro.get('command')}). Instructions: "
          "the loaded program's xlated count and JITed bytes (bpftool).")
        w("")
        w("| case | program | verdict | ns/packet | xlated insns | jited bytes |")
        w("| --- | --- | --- | ---: | ---: | ---: |")
        for c in micro["cases"]:
            ns = c.get("ns_per_packet")
            w(f"| {c['case']} | {c['prog']} | {c.get('verdict', '—')} | "
              f"{'—' if ns is None else f'{ns:.1f}'} | {c.get('xlated_insns', '—')} | "
              f"{c.get('jited_bytes', '—')} |")
    else:
        w("not measured (run `make bench-micro`)")
    w("")


def experiment_sections(res, w, args):
    """The experiments' own sections: scripts/bench/report_KIND.py each
    render the records of their kind (section(res, w, ctx)), plots
    included; ctx["outdir"] is the results directory, ctx["rel"] the same
    directory relative to BENCHMARKS.md (for image links)."""
    here = os.path.dirname(os.path.abspath(__file__))
    if here not in sys.path:
        sys.path.insert(0, here)  # their shared module, benchplot
    outdir = os.path.dirname(os.path.abspath(args.results))
    ctx = {"outdir": outdir,
           "rel": os.path.relpath(outdir, os.path.dirname(os.path.abspath(args.output)))}
    for path in sorted(glob.glob(os.path.join(here, "report_*.py"))):
        name = os.path.basename(path)[:-3]
        spec = importlib.util.spec_from_file_location(name, path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        mod.section(res, w, ctx)


def cmd_report(args):
    with open(args.results) as f:
        res = json.load(f)
    meta = res["meta"]
    out = []
    w = out.append
    w("<!-- SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) -->")
    w("# xvr benchmarks")
    w("")
    w("Generated by `make bench` (scripts/bench.sh) from "
      f"`{meta['results_file']}`; do not edit by hand.")
    w("")
    w("## Method")
    w("")
    w("Two veth pairs: the generator's end in one namespace, the device "
      "under test (DUT) with two ports, the sink's end in another namespace.")
    w("")
    w("```")
    w("  [gen netns] g0 ──veth── A [DUT] B ──veth── s0 [sink netns]")
    w("```")
    w("")
    w(f"* **CPUs.** The generator has CPU {meta['gen_cpu']} to itself; CPU "
      f"{meta['dut_cpu']} runs the DUT's two NAPI threads (threaded NAPI, "
      "pinned). The sink's NAPI thread runs on the DUT's CPU for the XDP "
      "points (on the generator's it would take half that CPU and leave the "
      "generator far below the DUT's capacity) and on the generator's CPU "
      "for the kernel point (for skbs part of the stack's work runs in "
      "softirq context on whichever thread enables bottom halves, so the "
      "split below does not hold there). All these threads are SCHED_FIFO, "
      "the sink above the others so its ring never overflows, all above "
      "anything else on the machine.")
    w("* **Two figures per point.** *Delivered* is what reached the sink, "
      "per second. With the sink on the DUT's CPU that CPU saturates at "
      "1 / (DUT cost + sink cost) per frame, so delivered understates the "
      "DUT and pulls ratios towards 1. *Capacity* is 1 / (DUT cost), the DUT "
      "cost being its NAPI threads' CPU time (schedstat) per frame they took "
      "in: the rate the DUT forwards at with a CPU of its own. It comes from "
      "saturated runs; a DUT that never saturated gets an estimate from its "
      "other runs, which understates it (an idle thread's wakeups are "
      "counted in its cost). The ratios use capacity; delivered ratios are "
      "shown beside them.")
    w("* **Generators.** Every point uses `build/xvr-pktgen` "
      "(`BPF_PROG_TEST_RUN` with live frames, XDP_TX out of g0) unless its "
      "description says trafgen. Its frames do reach a Linux stack here: "
      "the DUT port's veth NAPI (GRO on) builds skbs from them, so the "
      "kernel, netns, macvlan, bridge and PF_PACKET points share this "
      "generator, which offers several times what any of them forwards "
      "(they saturate). `L3GEN=trafgen` measures them with trafgen instead, "
      "which then limits them (0.5–1.3 Mpps). Runs are at maximal offered "
      "load unless a rate is shown.")
    w("* **Priorities along a path.** A SCHED_FIFO NAPI thread that always "
      "has work never yields to one of its own priority, so devices after "
      "the DUT's input port (VIFs, bridge veths) get rising priorities "
      "along the path, downstream above upstream, and the sink above all. "
      "afxdp points run every DUT thread SCHED_OTHER (an engine sits in a "
      "cgroup with cpu.max, where SCHED_FIFO is refused) and apply the same "
      "order with CFS weights: port A's NAPI thread nice 19, the engine "
      "nice -20 and its cgroup the largest cpu.shares; the NAPI thread of "
      "the engine veth's host end, which only the engine feeds, is "
      "SCHED_FIFO 50 so that it drains that veth's ring as soon as the "
      "engine sends. Under overload A then runs short and the excess "
      "is lost at A's ring, before the DUT spent anything on it; with equal "
      "weights A took its fair share of the CPU for frames the engine's ring "
      "then refused, and the engine delivered a third less. The engines "
      "run with `idle 0` (they sleep as soon as their ring is empty, "
      "instead of polling on for 50 us and taking the CPU from the threads "
      "that feed them), and only the host end of an engine's veth has a "
      "NAPI thread: the router end's NAPI (XDP, the copy into the UMEM) "
      "runs in port A's thread.")
    w("* **Linux-stack points' sink.** For the kernel, netns, macvlan, "
      "bridge, pfpacket and afxdp points the sink's NAPI thread runs on the "
      "generator's CPU, so the DUT's CPU holds the DUT alone.")
    w("* **Sink.** `build/xvr-sink attach` counts every frame exactly "
      "(per-CPU) and drops it; only frames carrying the generator's payload "
      "tag count as delivered.")
    w(f"* **Runs.** {meta['duration_s']} s each, {meta['repetitions']} "
      f"repetition(s), {meta['frame_size']}-byte frames (with FCS; "
      f"{meta['frame_size'] - 4} on the veth), UDP/IPv4. The figure is the "
      "median delivered rate over balanced runs.")
    w("* **Books.** Every run must balance: sent = delivered + every counted "
      "drop (veth per-queue and interface counters of all four ends, the DUT "
      "namespace's IP MIB, softnet drops, xvr's punts). A run off by more "
      "than 0.1% is marked FAILED and not used.")
    w("* **Bottleneck.** Each run says what limited it: `dut` (our threads "
      "kept the DUT's CPU ≥90% busy and its input ring overflowed: "
      "saturated); `generator` (nothing was lost: the offered load was "
      "below capacity); `interference` (frames were lost while work outside "
      "our threads took more than 10% of the DUT's CPU); `sink` (the sink's ring "
      "overflowed); `dut-unsaturated` (the input ring overflowed although "
      "the CPU was not saturated: threads preempted or slow to wake).")
    w("")
    w("Points:")
    w("")
    for p in res["points"]:
        if p.get("kind") in (None, "idle"):
            w(f"* `{p['name']}`: {p['description']}")
    w("")
    w("## Command")
    w("")
    w("```")
    w(meta["command"])
    w("```")
    w("")
    w("`QUICK=1` runs each point once for 2 s; `POINTS`, `DURATION`, `REPS`, "
      "`SIZE`, `PREFIXES`, `NDSTS` select what and how long (see the head of "
      "scripts/bench.sh); `L3GEN` (pktgen|trafgen) the Linux-stack points' "
      "generator, `NDR_POINTS` which points get a no-drop search, `AF_RATE` "
      "the afxdp sweep's offered rate, `POOLS` the pool sizes. "
      "`make bench-micro` runs only the per-program costs; "
      "`scripts/bench-compare A.json B.json` compares two runs. "
      "By hand, one point looks like this (the redirect "
      "baseline; names as in the picture above):")
    w("")
    w("```")
    w("xvr-sink -N sinkns attach s0 /sys/fs/bpf/xvr-bench/x/sink   # count + drop")
    w("xvr-sink redirect A B /sys/fs/bpf/xvr-bench/x/redirect      # the DUT")
    w("xvr-pktgen -N genns -d <MAC of A> -c 0 -t 5 -j g0          # offer load")
    w("xvr-sink -j read /sys/fs/bpf/xvr-bench/x/sink               # delivered")
    w("xvr-sink detach /sys/fs/bpf/xvr-bench/x/sink                # and redirect")
    w("```")
    w("")
    w(f"Machine: {meta['cpu_model']}, {meta['cpus']} CPUs, kernel "
      f"{meta['kernel']}; run {meta['date']}, load average "
      f"{meta.get('loadavg_at_start', '?')} at the start"
      + (f"; the suite took {meta['elapsed_s'] / 60:.1f} minutes"
         if meta.get("elapsed_s") is not None else "")
      + ". Other work on the "
      "machine moves these figures (per-frame costs varied by up to ~1.8x "
      "between runs on a shared machine); the ratios move much less.")
    w("")
    w("## Results")
    w("")
    w("| point | delivered Mpps, median (min–max) | balanced runs | "
      "bottleneck | DUT ns/frame | sink ns/frame | DUT capacity, Mpps | "
      "DUT CPU busy (our threads) |")
    w("| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: |")
    for p in res["points"]:
        if p.get("kind") is not None:
            continue
        if p.get("status") != "measured":
            w(f"| {p['name']} | not measured: {p.get('reason', '')} | | | | | | |")
            continue
        busy = [r["dut_cpu_busy"] for r in p["runs"] if r.get("dut_cpu_busy") is not None]
        ours = [r["dut_cpu_ours"] for r in p["runs"] if r.get("dut_cpu_ours") is not None]
        busy_s = f"{100 * min(busy):.0f}–{100 * max(busy):.0f}%" if busy else "—"
        if ours:
            busy_s += f" ({100 * min(ours):.0f}–{100 * max(ours):.0f}%)"
        bn = sorted({r["bottleneck"] for r in p["runs"] if r["balanced"]})
        ns = p.get("dut_ns_per_frame_median")
        sns = p.get("sink_ns_per_frame_median")
        cap = mpps(p.get("capacity_pps"))
        if p.get("capacity_pps") and not p.get("capacity_from_saturated"):
            cap += " (estimate: never saturated)"
        w(f"| {p['name']} | {mpps(p['pps_median'])} ({mpps(p['pps_min'])}–"
          f"{mpps(p['pps_max'])}) | {p['balanced_runs']}/{p['repetitions']} | "
          f"{', '.join(bn) or '—'} | {'—' if ns is None else f'{ns:.0f}'} | "
          f"{'—' if sns is None else f'{sns:.0f}'} | {cap} | {busy_s} |")
    w("")
    if meta.get("plots", {}).get("rates"):
        w(f"![delivered rate and capacity per point]({meta['plots']['rates']})")
        w("")
    w("## Ratios")
    w("")
    w("Capacity ratios unless marked *by no-drop rate* (the highest offered "
      "rate with ≤ 0.1% loss, binary search with xvr-pktgen's rate limit). "
      "Where the points ran in rounds (every standard point once per round, "
      "each set up afresh), a ratio is the median of its per-round ratios, "
      "with their min–max and the number of pairs; it is *met* only if the "
      "whole range meets the target, *not met* if none of it does, and "
      "*undecided* if the range straddles the target.")
    w("")
    w("| ratio | by capacity | target | | delivered |")
    w("| --- | ---: | ---: | --- | ---: |")
    for row in ratio_rows(res):
        w("| " + " | ".join(row) + " |")
    w("")
    extra_sections(res, w)
    experiment_sections(res, w, args)
    w("## Packet accounting, per run")
    w("")
    w("sent = delivered + counted drops + residual; |residual| ≤ 0.1% of sent "
      "or the run is FAILED.")
    w("")
    w("| point | run | sent | delivered | counted drops (where) | residual | "
      "offered Mpps | delivered Mpps | bottleneck | books |")
    w("| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | --- | --- |")
    for p in res["points"]:
        if p.get("kind") is not None:
            continue
        for i, r in enumerate(p.get("runs", []), 1):
            where = ", ".join(f"{k} {v}" for k, v in
                              list(r["drops"].items()) +
                              list(r["not_forwarded"].items())) or "none"
            w(f"| {p['name']} | {i} | {r['sent']} | {r['delivered']} | "
              f"{r['counted_drops']} ({where}) | {r['residual']} | "
              f"{mpps(r['offered_pps'])} | {mpps(r['pps'])} | {r['bottleneck']} | "
              f"{'ok' if r['balanced'] else '**FAILED**'} |")
    w("")
    notes = [n for p in res["points"] for n in p.get("notes", [])]
    notes += [f"{p['name']} run {i}: {n}" for p in res["points"]
              for i, r in enumerate(p.get("runs", []), 1)
              for n in r.get("notes", [])]
    if notes or meta.get("notes"):
        w("## Notes")
        w("")
        for n in meta.get("notes", []) + notes:
            w(f"* {n}")
        w("")
    with open(args.output, "w") as f:
        f.write("\n".join(out))
    if args.readme:
        readme_ratios(res, args.readme)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("snapshot")
    s.add_argument("--dev", action="append")
    s.add_argument("--xvr-node")
    s.add_argument("--snmp-ns")
    s.add_argument("--napi", action="append",
                   help="device whose napi/DEV-* kthreads' CPU time to record")
    s.add_argument("--pid", action="append",
                   help="process whose threads' CPU time to record (DUT)")
    a = sub.add_parser("account")
    a.add_argument("--dut-napi", action="append",
                   help="device whose NAPI threads are the DUT's (default: its two ports)")
    a.add_argument("--extra-drop", action="append", help="NAME=N counted drop")
    a.add_argument("--before", required=True)
    a.add_argument("--after", required=True)
    a.add_argument("--gen", choices=("pktgen", "trafgen"), required=True)
    a.add_argument("--sent", type=int, required=True)
    a.add_argument("--sink-json", required=True)
    a.add_argument("--elapsed", type=float, required=True)
    a.add_argument("--dut-cpu", type=int, default=1)
    a.add_argument("--sink-cpu", type=int, default=1)
    q = sub.add_parser("quiet")
    q.add_argument("--max-busy", type=float, default=10)
    q.add_argument("--timeout", type=float, default=60)
    q.add_argument("--window", type=float, default=0.3)
    r = sub.add_parser("report")
    r.add_argument("results")
    r.add_argument("output")
    r.add_argument("--readme", help="also rewrite this README's ratio table")
    args = ap.parse_args()
    {"snapshot": cmd_snapshot, "account": cmd_account, "quiet": cmd_quiet,
     "report": cmd_report}[args.cmd](args)


if __name__ == "__main__":
    main()
