#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The whole test suite (make check): BPF and library unit tests in
# build/test_progs, then every end-to-end namespace test. Prints one line
# per test and a closing 'N passed, N failed, N skipped'.
set -u
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
	echo "make check needs root (BPF, namespaces)" >&2
	exit 2
fi
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf

pass=0 fail=0 skip=0 failed=()
start=$(date +%s)

# test_progs: one result per test (subtests are printed by it).
out=$(mktemp)
build/test_progs 2>&1 | tee "$out"
p=$(grep -cE '^#[0-9]+ [a-z0-9_]+: OK$' "$out")
f=$(grep -cE '^#[0-9]+ [a-z0-9_]+: FAIL$' "$out")
s=$(grep -c '^#SKIP' "$out")
pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
[ "$f" -gt 0 ] && failed+=(test_progs)
rm -f "$out"

for t in selftests/e2e/test_*.sh; do
	[ -n "${TESTS:-}" ] && [[ "$t" != *"$TESTS"* ]] && continue
	echo "== $t"
	out=$(mktemp)
	timeout 600 bash "$t" 2>&1 | tee "$out"
	rc=${PIPESTATUS[0]}
	p=$(grep -c '^ok - ' "$out")
	f=$(grep -c '^FAIL - ' "$out")
	s=$(grep -c '^SKIP - ' "$out")
	# A script that died without reporting a failure still failed.
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "FAIL - $t exited $rc"
		f=1
	fi
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
	[ "$f" -gt 0 ] && failed+=("$t")
	rm -f "$out"
done

echo
echo "make check: $(( $(date +%s) - start )) s"
[ ${#failed[@]} -gt 0 ] && echo "failed: ${failed[*]}"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
