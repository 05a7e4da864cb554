# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Experiment 3: FIB size. Sourced by scripts/bench.sh; the point fib:N
# runs one xdp-mode router with an N-prefix synthetic table
# (scripts/gen-table.py: the prefix lengths of today's IPv4 default-free
# zone) and FIB_DSTS random destinations across it (each inside a prefix
# picked uniformly), REPS accounted runs at maximal load. fib:2 is the
# 2-route setup (one route to the sink, one back), one destination.
# Table generation, loading (`xvr route load`, with its peak RSS) and
# teardown are timed and recorded.

. "$ROOT/scripts/bench/scale-lib.sh"

FIB_DSTS=${FIB_DSTS:-$NDSTS}
FIB_LOAD_TIMEOUT=${FIB_LOAD_TIMEOUT:-180}	# seconds for one `xvr route load`

# xp_fib N
xp_fib() {
	local n=$1 name=fib-$1 desc reason="" t0 t_gen=0 t_setup t_load=0 t_down rss=null extra
	local table="" gen_args=() dst
	[[ "$n" =~ ^[0-9]+$ ]] && [ "$n" -ge 2 ] || die "fib:$n: want a prefix count >= 2"
	if [ "$n" = 2 ]; then
		desc="xvr, one router in xdp mode, the 2-route setup (one route to the sink, one back to the generator), one destination"
	else
		desc="xvr, one router in xdp mode, $n-prefix synthetic table (scripts/gen-table.py, DFZ-like prefix lengths, loaded with xvr route load), $FIB_DSTS random destinations across it, used in turn"
	fi
	if ! reason=$(xvr_ready); then
		scale_not_measured "$name" fib xdp "$n" "$desc" "$reason"
		return 0
	fi
	log "$name: xdp mode, $n prefixes, $REPS x ${DURATION}s"
	topo_up ""
	if [ "$n" != 2 ]; then
		t0=$(scale_now)
		table=$TMP/fib-table.txt
		if ! $PY "$ROOT/scripts/gen-table.py" -n "$n" --via $GW_SINK \
			--lladdr $MAC_S --dev "${P}b" -o "$table" \
			--dst-file "$TMP/fib-dsts.txt" --dst-count "$FIB_DSTS" >"$TMP/xvr.log" 2>&1; then
			reason="gen-table.py failed: $(tail -1 "$TMP/xvr.log")"
		fi
		t_gen=$(scale_since "$t0")
		gen_args=(-f "$TMP/fib-dsts.txt")
	fi
	t0=$(scale_now)
	if [ -z "$reason" ] && ! xvr_setup "" >"$TMP/xvr.log" 2>&1; then
		reason="xvr setup failed: $(tail -1 "$TMP/xvr.log")"
	fi
	t_setup=$(scale_since "$t0")
	if [ -z "$reason" ] && [ -n "$table" ]; then
		t0=$(scale_now)
		if ! /usr/bin/time -f '%M' -o "$TMP/fib-rss" timeout "$FIB_LOAD_TIMEOUT" \
			"$XVR" -n "$NODE" route load bench "$table" >"$TMP/xvr.log" 2>&1; then
			reason="xvr route load of $n prefixes failed or took over ${FIB_LOAD_TIMEOUT}s: $(grep -v '^Command' "$TMP/xvr.log" | tail -1)"
		fi
		t_load=$(scale_since "$t0")
		rss=$(tail -1 "$TMP/fib-rss" 2>/dev/null | grep -E '^[0-9]+$' || echo null)
		log "$name: table generated in ${t_gen}s, loaded in ${t_load}s (xvr route load peak RSS ${rss} KiB)"
		# The data path's choice for one destination, as a check.
		if [ -z "$reason" ]; then
			dst=$(head -1 "$TMP/fib-dsts.txt")
			"$XVR" -n "$NODE" route get bench "$dst" >"$TMP/xvr.log" 2>&1 ||
				reason="no route for destination $dst after the load: $(tail -1 "$TMP/xvr.log")"
		fi
	fi
	[ -z "$reason" ] && scale_runs "$name" -- "${gen_args[@]}"
	t0=$(scale_now)
	xvr_teardown >/dev/null 2>&1
	topo_down ""
	t_down=$(scale_since "$t0")
	extra=$(jq -n --argjson n "$n" --argjson d "$([ "$n" = 2 ] && echo 1 || echo "$FIB_DSTS")" \
		--argjson g "$t_gen" --argjson s "$t_setup" --argjson l "$t_load" \
		--argjson td "$t_down" --argjson rss "$rss" '
		{prefixes: $n, destinations: $d, table_gen_s: $g, setup_s: (($g + $s + $l) * 100 | round / 100),
		 router_setup_s: $s, load_s: $l, load_max_rss_kib: $rss, teardown_s: $td}')
	if [ -n "$reason" ]; then
		scale_not_measured "$name" fib xdp "$n" "$desc" "$reason" "$extra"
	else
		scale_record "$name" fib xdp "$n" "$desc" "$extra"
	fi
	return 0
}
