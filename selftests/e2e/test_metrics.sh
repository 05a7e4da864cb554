#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Metrics: 'xvr stats --format prometheus' and 'xvr exporter' give the
# Prometheus text format (checked by a strict parser: promtool comes only
# with the whole Prometheus server, 96 MB), the same numbers as 'xvr stats',
# per router, port, engine and reason; the exporter answers only /metrics,
# and a client that stalls does not stop it.
set -u
. "$(dirname "$0")/../lib.sh"
t_init metrics
t_need jq curl

NODE=$T_P
H1=${T_P}h1 A=${T_P}a
PORT=$(( 20000 + 0x$T_ID % 20000 ))
URL=http://127.0.0.1:$PORT/metrics
OUT=/tmp/$T_P.metrics
trap 'exec 3>&- 2>/dev/null; rm -f "$OUT".*; t_cleanup' EXIT
t_netns "$H1"
t_veth "$A" "$H1" eth0
ip netns exec "$H1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
ip -n "$H1" addr add 10.1.0.2/24 dev eth0
ip -n "$H1" route add default via 10.1.0.1
ip -n "$H1" neigh add 10.1.0.1 lladdr 02:00:00:0a:01:01 dev eth0
t_node "$NODE" >/dev/null
{
	"$XVR" -n "$NODE" port add "$A"
	"$XVR" -n "$NODE" router add red mode xdp fibsync off
	"$XVR" -n "$NODE" classify add red default port "$A"
	"$XVR" -n "$NODE" route add red 10.3.0.0/16 blackhole
	"$XVR" -n "$NODE" router add 'af' mode afxdp
	"$XVR" -n "$NODE" fe add af
} >/dev/null || t_fail "setup"
ip netns exec "$H1" bash -c 'for i in 1 2 3 4; do printf x >/dev/udp/10.3.0.1/9; done
	for i in 1 2 3; do printf x >/dev/udp/10.4.0.1/9; done' 2>/dev/null

# The text format, strictly: names, labels and escapes, HELP and TYPE once
# per family and before its samples, a family's samples together, no
# series twice, counters non-negative, a newline at the end. Prints
# "name{sorted labels} value" per sample for the checks below.
PARSER='
import re, sys
text = sys.stdin.read()
def die(msg, ln=""):
    print("INVALID: %s: %s" % (msg, ln)); sys.exit(1)
if not text.endswith("\n"): die("no newline at the end")
name_re = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
lbl_re = r"([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\\n]|\\\\[\\\\\"n])*)\""
sample_re = re.compile(r"^(?P<name>%s)(?:\{(?P<labels>(?:%s)(?:,%s)*)?,?\})? (?P<value>[^ ]+)(?: (-?[0-9]+))?$" % (name_re, lbl_re, lbl_re))
types, helps, done, seen, current = {}, {}, set(), set(), None
for ln in text.splitlines():
    if ln.startswith("#"):
        p = ln.split(" ", 3)
        if len(p) >= 3 and p[1] in ("HELP", "TYPE"):
            if not re.fullmatch(name_re, p[2]): die("bad name", ln)
            d = types if p[1] == "TYPE" else helps
            if p[2] in d: die(p[1] + " twice", ln)
            if p[2] in done or p[2] == current and p[1] == "TYPE" and p[2] in seen: die(p[1] + " after samples", ln)
            if p[1] == "TYPE" and (len(p) < 4 or p[3] not in ("counter", "gauge", "histogram", "summary", "untyped")): die("bad type", ln)
            d[p[2]] = p[3] if len(p) > 3 else ""
        continue
    if not ln.strip(): die("empty line")
    m = sample_re.match(ln)
    if not m: die("bad sample", ln)
    name, value = m.group("name"), m.group("value")
    fam = name
    if fam not in types: die("sample without TYPE", ln)
    if fam != current:
        if fam in done: die("family not contiguous", ln)
        if current: done.add(current)
        current = fam
    labels = re.findall(lbl_re, m.group("labels") or "")
    keys = [k for k, _ in labels]
    if len(set(keys)) != len(keys): die("label twice", ln)
    if any(k.startswith("__") for k in keys): die("reserved label", ln)
    try: v = float(value)
    except ValueError: die("bad value", ln)
    if types[fam] == "counter" and (v < 0 or not fam.endswith("_total")): die("bad counter", ln)
    series = name + "{" + ",".join("%s=%s" % kv for kv in sorted(labels)) + "}"
    if series in seen: die("series twice", ln)
    seen.add(series)
    print(series, value)
'
# valid IN OUT: IN parses; its samples into OUT.
valid() { $PY -c "$PARSER" <"$1" >"$2"; }
metric() { awk -v s="$1" '$1 == s { print $2 }' "$2"; }

"$XVR" -n "$NODE" stats --format prometheus >"$OUT.txt"
t_check "stats --format prometheus is valid exposition text" valid "$OUT.txt" "$OUT.cli"
stat() { t_stat "$NODE" "$1" "$2"; }
t_eq "router rx = xvr stats" "$(metric "xvr_router_packets_total{node=$NODE,router=red,verdict=rx}" "$OUT.cli")" "$(stat red rx_packets)"
t_eq "router drops by reason = xvr stats" \
	"$(metric "xvr_router_drops_total{node=$NODE,reason=blackhole,router=red}" "$OUT.cli")" "$(stat red drop.blackhole)"
t_eq "router punts by reason = xvr stats" \
	"$(metric "xvr_router_punts_total{node=$NODE,reason=no-route,router=red}" "$OUT.cli")" "$(stat red 'punt."no-route"')"
t_check "the traffic was counted" test "$(stat red drop.blackhole)" -ge 4
t_eq "port rx = xvr stats" "$(metric "xvr_port_packets_total{node=$NODE,port=$A,verdict=rx}" "$OUT.cli")" \
	"$(t_stat "$NODE" "port $A" rx_packets)"
t_eq "router info with its mode" "$(metric "xvr_router_info{mode=afxdp,node=$NODE,router=af}" "$OUT.cli")" 1
t_eq "the engine is up" "$(metric "xvr_engine_up{engine=1,node=$NODE,router=af}" "$OUT.cli")" 1
t_check "engine counters are there" grep -q "^xvr_engine_wakeups_total{engine=1,node=$NODE,router=af} " "$OUT.cli"

"$XVR" -n "$NODE" exporter listen "127.0.0.1:$PORT" 2>"$OUT.err" &
T_PIDS+=($!)
for _ in $(seq 50); do curl -s -o /dev/null --max-time 1 "$URL" && break; sleep 0.1; done
curl -sf --max-time 5 "$URL" >"$OUT.raw"
t_check "exporter: GET /metrics is valid exposition text" valid "$OUT.raw" "$OUT.http"
t_eq "exporter: the same series as stats --format" "$(cut -d' ' -f1 "$OUT.http" | sort | md5sum)" \
	"$(cut -d' ' -f1 "$OUT.cli" | sort | md5sum)"
t_eq "exporter: the same blackhole count" \
	"$(metric "xvr_router_drops_total{node=$NODE,reason=blackhole,router=red}" "$OUT.http")" "$(stat red drop.blackhole)"
t_check "exporter: the Prometheus content type" \
	sh -c "curl -sI --max-time 5 '$URL' | grep -qi '^content-type: text/plain; version=0.0.4'"
t_eq "exporter: another path is 404" "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$PORT/")" 404
t_eq "exporter: POST is 405" "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -d x "$URL")" 405
# A client that connects and says nothing is dropped after 2 s; meanwhile
# the next one waits, then gets its answer.
exec 3<>"/dev/tcp/127.0.0.1/$PORT"
t_check "exporter: a stalled client does not stop it" curl -sf --max-time 6 -o /dev/null "$URL"
exec 3>&-
t_fails "a bad listen address is refused" "$XVR" -n "$NODE" exporter listen nonsense
t_fails "stats --format takes prometheus only" "$XVR" -n "$NODE" stats --format json
