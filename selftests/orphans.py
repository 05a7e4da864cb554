#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""orphans.py NODE [nexthops]: what a node's maps, namespaces and devices hold
that no active router owns. Prints each orphan; exits 1 if there is any.
Reads with bpftool, ip and /proc, not with xvr, so xvr's view is not judged by
itself. With 'nexthops' the 65536-entry nexthop table is read too (slow)."""
import json, re, subprocess, sys
node, deep = sys.argv[1], sys.argv[2:3] == ["nexthops"]
pin = f"/sys/fs/bpf/xvr/{node}"
maps = ["routers", "router_book", "fib4", "fib4_l1", "fib4_runs", "rib4", "fib6", "vifs", "classify", "fes", "ports",
        "port_idx", "tx_ports", "cpu_groups", "cpu_sets", "cls_prefix", "cls_prefix4"]
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
books = {e["key"]: e["value"] for e in dump("router_book")}
for k, v in routers.items():
    if k not in active and (v["name"] or v["mode"] or any(books.get(k, {}).values())):
        bad.append(f"router slot {k} not active but holds {v} {books.get(k)}")
# fib4, fib4_l1 and fib4_runs hold two banks per router: key = router id * 2 + bank.
for m, per in (("fib4", 2), ("fib4_l1", 2), ("fib4_runs", 2), ("rib4", 1), ("fib6", 1)):
    for e in dump(m):
        if u32(e["key"]) // per not in active:
            bad.append(f"{m} table of router slot {u32(e['key']) // per}")
# Runs records describe one bank's groups: never without that bank's groups.
banks = {u32(e["key"]) for e in dump("fib4")}
for e in dump("fib4_runs"):
    if u32(e["key"]) not in banks:
        bad.append(f"fib4_runs of bank {u32(e['key'])} without its groups")
vifs = {e["key"]: e["value"] for e in dump("vifs") if e["value"]["flags"] & 1}
for k, v in vifs.items():
    if v["vr_id"] not in active:
        bad.append(f"VIF {k} ({v['name']}) of router slot {v['vr_id']}")
rules = set()
for e in dump("classify"):
    rules.add(e["value"]["vif"])
    if e["value"]["vr_id"] not in active:
        bad.append(f"classifier rule {e['key']} to router slot {e['value']['vr_id']}")
# Prefix rules: the trie is their record; cls_prefix4 holds exactly its IPv4
# ones (v4-mapped, ::ffff:0:0/96) by {ifindex (host order), length, masked address}.
v4 = {}
for e in dump("cls_prefix"):
    k, v = e["key"], e["value"]
    if v["vr_id"] not in active:
        bad.append(f"prefix rule {k} to router slot {v['vr_id']}")
    a = bytes(k["addr"])
    if k["prefixlen"] >= 128 and a[:12] == bytes(10) + b"\xff\xff":
        plen = k["prefixlen"] - 128
        addr = int.from_bytes(a[12:], "big") & ((0xffffffff << (32 - plen)) & 0xffffffff)
        ifindex = int.from_bytes(k["ifindex"].to_bytes(4, "little"), "big")
        v4[(ifindex, plen, addr)] = (v["vr_id"], v["vif"])
copy = {}
for e in dump("cls_prefix4"):
    k, v = e["key"], e["value"]
    addr = int.from_bytes(k["addr"].to_bytes(4, "little"), "big")
    copy[(k["ifindex"], k["plen"], addr)] = (v["vr_id"], v["vif"])
for k in v4.keys() | copy.keys():
    if v4.get(k) != copy.get(k):
        bad.append(f"IPv4 prefix rule {k}: {v4.get(k)} in the trie, {copy.get(k)} in its copy")
for k, v in vifs.items():
    if k not in rules:
        bad.append(f"VIF {k} ({v['name']}) without its classifier rule")
fes = {e["key"]: e["value"] for e in dump("fes") if e["value"]["flags"] & 1}
for k, v in fes.items():
    if v["vr_id"] not in active:
        bad.append(f"engine {k} of router slot {v['vr_id']}")
port_vals = {e["key"]: e["value"] for e in dump("ports")}
ports = {k for k, v in port_vals.items() if v.get("flags", 1)}
# The port index (xvr.h): a published entry is the port at its ifindex, whole.
for e in dump("port_idx"):
    v = e["value"]
    if v["ifindex"] and (v["ifindex"] % len(dumps["port_idx"]) != e["key"] or
                         port_vals.get(v["ifindex"]) != v["port"]):
        bad.append(f"port index entry {e['key']}: ifindex {v['ifindex']} is not that port as it is")
devs = {v["dev"] for v in vifs.values()} | {v["dev"] for v in fes.values()}
for e in dump("tx_ports"):
    k = u32(e["key"])
    if k not in ports and k not in devs:
        bad.append(f"tx_ports entry {k}: neither a port nor a VIF or engine")
# Broadcast sets: {port, vlan} -> devmap of the node-side ends of the port
# VIFs there. Each member an active port VIF of that port and VLAN, each such
# VIF a member, no set empty.
def bcast_key(k):
    if isinstance(k, dict):
        return k["port"], k["vlan"]
    b = bytes(int(x, 16) for x in k)
    return int.from_bytes(b[:4], "little"), int.from_bytes(b[4:6], "little")
members = set()
for e in json.loads(subprocess.run(["bpftool", "-j", "map", "dump", "pinned", f"{pin}/bcast"],
                                   text=True, capture_output=True, check=True).stdout):
    e = e.get("formatted", e)
    port, vlan = bcast_key(e["key"])
    inner = e["value"] if isinstance(e["value"], int) else u32(e["value"])
    devs_in = json.loads(subprocess.run(["bpftool", "-j", "map", "dump", "id", str(inner)],
                                        text=True, capture_output=True, check=True).stdout)
    if not devs_in:
        bad.append(f"broadcast set of port {port} vlan {vlan} is empty")
    for d in devs_in:
        dev = u32(d.get("formatted", d)["key"])
        members.add(dev)
        if not any(v["dev"] == dev and v["port"] == port and v["vlan"] == vlan and not v["flags"] & 4
                   for v in vifs.values()):
            bad.append(f"broadcast set of port {port} vlan {vlan}: device {dev} is no VIF there")
for k, v in vifs.items():
    if not v["flags"] & 4 and v["dev"] not in members:
        bad.append(f"VIF {k} ({v['name']}) not in its port's broadcast set")
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
# PID namespaces: each active router's init runs, and no other init of this
# node does (read from /proc, whatever the pid files say).
import os
inits = {}
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        argv = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")[:-1]
    except OSError:
        continue
    a = [x.decode(errors="replace") for x in argv[1:]]
    if a[:2] == ["-n", node] and a[2:4] == ["router", "init"] and len(a) == 5:
        inits.setdefault(a[4], []).append(int(pid))
for nm, pids in inits.items():
    if nm not in names:
        bad.append(f"PID namespace init {pids} of {nm}: no such router")
    elif len(pids) > 1:
        bad.append(f"router {nm}: {len(pids)} PID namespace inits {pids}")
for nm in names:
    if nm not in inits:
        bad.append(f"router {nm}: no PID namespace init")
piddir = f"/run/xvr/{node}/pidns"
for f in os.listdir(piddir) if os.path.isdir(piddir) else []:
    if f.endswith(".pid") and f[:-4] not in names:
        bad.append(f"pid file {piddir}/{f}: no such router")
if deep:
    for e in dump("nexthops"):
        v = e["value"]
        if v["flags"] & 1 and v["vr_id"] not in active:
            bad.append(f"nexthop {e['key']} of router slot {v['vr_id']}")
for b in bad:
    print("    orphan:", b)
sys.exit(1 if bad else 0)
