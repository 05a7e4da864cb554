#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# A short fuzzing campaign (make fuzz runs the long one): every input of
# selftests/fuzz/corpus (seeds and regressions) through the host-built
# parser and classifier under ASan/UBSan and through xvr_ingress and
# xvr_egress with their invariants, then about 10 s of fresh mutations for
# each fuzzer. fuzz_progs makes its own private netns, gone when it exits.
set -u
. "$(dirname "$0")/../lib.sh"
t_init fuzz

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CORPUS=$ROOT/selftests/fuzz/corpus
PARSE=$ROOT/build/fuzz/fuzz_parse
PROGS=$ROOT/build/fuzz/fuzz_progs
OUT=$(mktemp -d /tmp/${T_P}fuzz.XXXXXX)
trap 'rm -rf "$OUT"; t_cleanup' EXIT
SECS=${FUZZ_CHECK_SECS:-10}

[ -x "$PARSE" ] || { t_fail "$PARSE missing (make; libclang-rt-14-dev from scripts/setup.sh)"; exit 1; }
[ -x "$PROGS" ] || { t_fail "$PROGS missing (make)"; exit 1; }
n=$(find "$CORPUS" -type f | wc -l)
if [ "$n" -ge 100 ]; then t_ok "corpus: $n inputs"; else t_fail "corpus: only $n inputs"; fi

t_check "fuzz_parse: the corpus replays clean" \
	"$PARSE" -runs=0 -artifact_prefix="$OUT/" "$CORPUS"
t_check "fuzz_progs: the corpus replays clean through ingress and egress" \
	"$PROGS" -r -o "$OUT" "$CORPUS"
mkdir -p "$OUT/work"
t_check "fuzz_parse: ${SECS} s of mutations" \
	"$PARSE" -max_total_time="$SECS" -max_len=1600 -artifact_prefix="$OUT/" "$OUT/work" "$CORPUS"
t_check "fuzz_progs: ${SECS} s of mutations" "$PROGS" -t "$SECS" -o "$OUT" "$CORPUS"
# Not a fuzzer that cannot fail: the mutations reached the redirect checks.
if "$PROGS" -n 5000 -s 7 -o "$OUT" "$CORPUS" 2>&1 | grep -qE ' [1-9][0-9]* live redirects'; then
	t_ok "fuzz_progs: mutated frames were redirected and checked"
else
	t_fail "fuzz_progs: no live redirect seen"
fi
for c in "$OUT"/crash-*; do
	[ -e "$c" ] && t_fail "crash input kept: $c ($(base64 -w0 <"$c"))"
done
