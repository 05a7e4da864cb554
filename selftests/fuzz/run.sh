#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# make fuzz: both fuzzers side by side for FUZZ_SECS (default 600) each,
# from the seed and regression corpus in selftests/fuzz/corpus. What they
# learn stays in build/fuzz/; a crash lands there as crash-* and fails the
# run: copy it to selftests/fuzz/corpus/regress-<what> once fixed.
set -u
cd "$(dirname "$0")/../.."
SECS=${FUZZ_SECS:-600}
OUT=build/fuzz
CORPUS=selftests/fuzz/corpus

[ "$(id -u)" = 0 ] || { echo "make fuzz needs root (BPF, namespaces)" >&2; exit 2; }
mkdir -p "$OUT/parse-corpus"
rm -f "$OUT"/crash-*

echo "fuzz: fuzz_parse and fuzz_progs, $SECS s each"
build/fuzz/fuzz_parse -max_total_time="$SECS" -max_len=1600 -print_final_stats=1 \
	-artifact_prefix="$OUT/" "$OUT/parse-corpus" "$CORPUS" >"$OUT/fuzz_parse.log" 2>&1 &
parse=$!
build/fuzz/fuzz_progs -t "$SECS" -o "$OUT" "$CORPUS" 2>&1 | tee "$OUT/fuzz_progs.log"
progs=${PIPESTATUS[0]}
wait $parse
parse=$?
grep -E '^(Done|stat::number_of_executed_units)|ERROR|invariant' "$OUT/fuzz_parse.log"

ls "$OUT"/crash-* 2>/dev/null
if [ "$parse" -ne 0 ] || [ "$progs" -ne 0 ]; then
	echo "fuzz: FAILED (fuzz_parse $parse, fuzz_progs $progs); inputs in $OUT/crash-*"
	exit 1
fi
echo "fuzz: no crash, no invariant broken"
