#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""orphans.py NODE [nexthops]: what a node's maps, namespaces and devices hold
that no active router owns. Prints each orphan; exits 1 if there is any.
Reads with bpftool and ip, not with xvr, so xvr's view is not judged by
itself. With 'nexthops' the 65536-entry nexthop table is read too (slow)."""
import json, re, subprocess, sys
node, deep = sys.argv[1], sys.argv[2:3] == ["nexthops"]
pin = f"/sys/fs/bpf/xvr/{node}"
maps = ["routers", "fib4", "rib4", "fib6", "vifs", "classify", "fes", "ports", "tx_ports",
        "cpu_groups", "cpu_sets"]
maps += ["nexthops"] if deep else []
# One bpftool for every map: 'batch' reads its commands from stdin.
cmds = "".join(f"map dump pinned {pin}/{m}\n" for m in maps)
res = json.loads(subprocess.run(["bpftool", "-j", "batch", "file", "-"], input=cmds, text=True,
                                capture_output=True, check=True).stdout)
dumps = {m: r["output"] for m, r in zip(maps, res)}
def dump(m):
    return [e.get("formatted", e) for e in dumps[m]]
def u32(k):
    return k if isinstance(k, int) else int.from_bytes(bytes(int(b, 16) for b in k[:4]), "little")
bad = []
routers = {e["key"]: e["value"] for e in dump("routers")}
active = {k for k, v in routers.items() if v["flags"] & 1}
names = {routers[k]["name"] for k in active}
for k, v in routers.items():
    if k not in active and any(v[f] for f in ("name", "mode", "fib4_groups_max", "routes4", "routes6")):
        bad.append(f"router slot {k} not active but holds {v}")
for m in ("fib4", "rib4", "fib6"):
    for e in dump(m):
        if u32(e["key"]) not in active:
            bad.append(f"{m} table of router slot {u32(e['key'])}")
vifs = {e["key"]: e["value"] for e in dump("vifs") if e["value"]["flags"] & 1}
for k, v in vifs.items():
    if v["vr_id"] not in active:
        bad.append(f"VIF {k} ({v['name']}) of router slot {v['vr_id']}")
rules = set()
for e in dump("classify"):
    rules.add(e["value"]["vif"])
    if e["value"]["vr_id"] not in active:
        bad.append(f"classifier rule {e['key']} to router slot {e['value']['vr_id']}")
for k, v in vifs.items():
    if k not in rules:
        bad.append(f"VIF {k} ({v['name']}) without its classifier rule")
fes = {e["key"]: e["value"] for e in dump("fes") if e["value"]["flags"] & 1}
for k, v in fes.items():
    if v["vr_id"] not in active:
        bad.append(f"engine {k} of router slot {v['vr_id']}")
ports = {e["key"] for e in dump("ports") if e["value"].get("flags", 1)}
devs = {v["dev"] for v in vifs.values()} | {v["dev"] for v in fes.values()}
for e in dump("tx_ports"):
    k = u32(e["key"])
    if k not in ports and k not in devs:
        bad.append(f"tx_ports entry {k}: neither a port nor a VIF or engine")
# CPU groups: each one named by a router, each router's group there.
groups = {u32(e["key"]) for e in dump("cpu_groups")}
named = {v.get("cpu_group", 0) for k, v in routers.items() if k in active} - {0}
for g in groups - named:
    bad.append(f"cpu group {g}: no router bound to it")
for g in named - groups:
    bad.append(f"cpu group {g}: named by a router, but no cpumap")
for e in dump("cpu_sets"):
    g = u32(e["key"])
    if g not in groups and e["value"]["count"]:
        bad.append(f"cpu set {g} of no group")
pfx = f"xvr-{node}-"
nss = [l.split()[0] for l in subprocess.check_output(["ip", "netns", "list"], text=True).splitlines()]
for ns in nss:
    if ns.startswith(pfx) and ns[len(pfx):] not in names:
        bad.append(f"namespace {ns}: no such router")
for nm in names:
    if pfx + nm not in nss:
        bad.append(f"router {nm}: no namespace")
for l in subprocess.run(["ip", "-o", "link", "show"], text=True, capture_output=True).stdout.splitlines():
    m = re.match(r"(\d+): ([^@:]+)", l)
    ln = re.search(r"link-netns (\S+?)\\", l + "\\")
    if m and ln and ln.group(1).startswith(pfx) and int(m.group(1)) not in devs:
        bad.append(f"device {m.group(2)} into {ln.group(1)}: no VIF or engine")
if deep:
    for e in dump("nexthops"):
        v = e["value"]
        if v["flags"] & 1 and v["vr_id"] not in active:
            bad.append(f"nexthop {e['key']} of router slot {v['vr_id']}")
for b in bad:
    print("    orphan:", b)
sys.exit(1 if bad else 0)
