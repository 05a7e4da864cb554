# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""BENCHMARKS.md section of experiments 2 and 4 of issue 10: weighted,
cost-aware fair sharing (records of kind fair from
scripts/bench/xp-fair.sh). Per weights, each router's CPU share error
against its weight share over the rounds (median, min-max; each round's
shares from its own solo capacities), the node's forwarded rate against
no controller, and the machinery's cost: one router alone with limits and
the controller on, over its solo run of the same round."""

TARGET_ERR = 0.10
TARGET_MACHINERY = 0.95


def spread(s, pct=False):
    if not s:
        return "—"
    if pct:
        return f"{s['median'] * 100:+.0f}% ({s['min'] * 100:+.0f} to {s['max'] * 100:+.0f})"
    return f"{s['median']:.2f} ({s['min']:.2f}–{s['max']:.2f})"


def section(res, w, ctx):
    recs = [p for p in res["points"] if p.get("kind") == "fair"]
    if not recs:
        return
    w("")
    w("## Experiments 2 and 4 of issue 10: fair sharing and what it costs")
    w("")
    w("Three xdp-mode routers on one port, told apart by MAC: v1 dear (a "
      "large table, random destinations), v2 and v3 one route each, offered "
      "together evenly at all the generator sends. Each round first runs "
      "every router alone (its solo capacity C_k), then the mixes; a "
      "router's CPU share in a mix is fwd_k / C_k normalised, with that "
      "round's capacities (v2 and v3, the same router twice, on the median "
      "of both). `/a` marks the controller of the build compared against "
      "(the A of an A/B, in the same rounds). Target: each router within "
      f"±{TARGET_ERR * 100:.0f}% of its weight share.")
    for p in recs:
        if p.get("status") != "measured":
            w("")
            w(f"fair:{p.get('name', '?')}: not measured: {p.get('reason', '')}")
            continue
        w("")
        w(f"{p['rounds']} rounds; v1's cost over v2's (by solo capacity): "
          f"{spread(p.get('cost_ratio_v1_v2'))}.")
        w("")
        w("| weights | rounds | v1 error | v2 error | v3 error | forwarded / no controller |")
        w("| --- | ---: | ---: | ---: | ---: | ---: |")
        for e in p.get("errors", []):
            errs = e["share_error_pooled"]
            w(f"| {e['weights']} | {e['rounds']} | "
              + " | ".join(spread(x, True) for x in errs)
              + f" | {spread(e.get('fwd_total_over_none'))} |")
        if any(e.get("share_error_time") for e in p.get("errors", [])):
            w("")
            w("The same shares by CPU time: forwarded frames at the DUT CPU's "
              "busy time per frame in the round's solo runs; *explained* is "
              "that sum over the mix's own measured busy time.")
            w("")
            w("| weights | v1 error | v2 error | v3 error | explained |")
            w("| --- | ---: | ---: | ---: | ---: |")
            for e in p.get("errors", []):
                errs = e.get("share_error_time") or []
                w(f"| {e['weights']} | "
                  + " | ".join(spread(x, True) for x in errs)
                  + f" | {spread(e.get('cpu_time_explained'))} |")
        rows = p.get("machinery") or []
        if rows:
            w("")
            w("Cost of the machinery (experiment 4): v2 alone at full load with "
              "limits on all three routers that nothing reaches (1 Gpps) and the "
              "controller running, over v2's solo run of the same round "
              f"(target ≥ {TARGET_MACHINERY}).")
            w("")
            w("| config | rounds | over solo, median (min–max) | shed kpps per run |")
            w("| --- | ---: | ---: | --- |")
            for m in rows:
                shed = ", ".join(f"{r['shed_pps'] / 1e3:.0f}" for r in m["runs"])
                w(f"| {m['config']} | {len(m['runs'])} | {spread(m['over_solo'])} | {shed} |")
