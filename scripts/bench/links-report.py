#!/usr/bin/python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""make bench-links, last step: its three parts into bench/results/links.json
(read by report_links.py, which a full run's report includes), and that
section of BENCHMARKS.md replaced (or put before the packet accounting);
the rest of the file, a full run's, stays as it is.

  links-report.py COST.json RESULTS.json CONVERGE.json
"""
import datetime
import json
import os
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
KEEP = ("name", "pps_median", "pps_min", "pps_max", "capacity_pps",
        "dut_ns_per_frame_median", "balanced_runs", "repetitions")


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def main():
    cost, res, conv = (load(p) for p in sys.argv[1:4])
    out = {"date": datetime.datetime.now().isoformat(timespec="seconds"),
           "command": "make bench-links", "loadavg": open("/proc/loadavg").read().split()[:3],
           "cost": cost, "converge": conv, "throughput": None}
    if res:
        pts = [{k: p.get(k) for k in KEEP} for p in res["points"] if p.get("kind") is None]
        rat = [r for r in res["ratios"] if "issue 11" in r["name"]
               or r["name"] == "xdp mode / kernel forwarding"]
        rat = [r for r in rat if r.get("value") is not None]
        m = res["meta"]
        out["throughput"] = {"points": pts, "ratios": rat, "duration_s": m.get("duration_s"),
                             "frame_size": m.get("frame_size"),
                             "rounds": max((p.get("repetitions") or 0) for p in res["points"])}
    out["loadavg"] = " ".join(out["loadavg"])
    dst = os.path.join(ROOT, "bench", "results", "links.json")
    with open(dst, "w") as f:
        json.dump(out, f, indent=1)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import report_links
    lines = []
    report_links.section(None, lines.append, {})
    md = os.path.join(ROOT, "BENCHMARKS.md")
    text = open(md).read().split("\n")
    head = "## Virtual links (make bench-links)"
    if head in text:
        i = text.index(head)
        j = next((k for k in range(i + 1, len(text)) if text[k].startswith("## ")), len(text))
    else:
        acct = "## Packet accounting, per run"
        i = j = text.index(acct) if acct in text else len(text)
    text[i:j] = lines
    with open(md, "w") as f:
        f.write("\n".join(text))
    print(f"bench-links: {dst}, and its section of BENCHMARKS.md")

if __name__ == "__main__":
    main()
