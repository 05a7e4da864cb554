#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The manuals and the completion agree with the CLI: mandoc -T lint is clean
# on xvr(8), xvr-router(8) and xvr-plugin(7); every command of the man
# page's synopsis is one 'xvr OBJECT help' lists and the other way round;
# every example in it parses (--dry-run); bash completion offers each
# object's commands as its help lists them.
set -u
. "$(dirname "$0")/../lib.sh"
t_init man
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MAN=$ROOT/docs/man
OUT=/tmp/$T_P.man
trap 'rm -f "$OUT".*; t_cleanup' EXIT
OBJECTS="node port router vif link fe classify route fibsync stats top limit trace exporter doctor batch version"

t_check "mandoc is installed (scripts/setup.sh)" command -v mandoc
for page in xvr.8 xvr-router.8 xvr-plugin.7; do
	out=$(mandoc -T lint "$MAN/$page" 2>&1)
	t_eq "mandoc -T lint $page" "$out" ""
done
mandoc -T ascii -O width=200 "$MAN/xvr.8" | sed 's/.\x08//g' >"$OUT.txt"

# "xvr OBJECT COMMAND" (or "xvr OBJECT" where the next word is no
# command) of each line of stdin that starts with xvr and a known object.
commands() {
	local re="^[[:space:]]*(Usage:)?[[:space:]]*xvr (${OBJECTS// /|})( |$)"
	grep -E "$re" | sed -E 's/^[[:space:]]*(Usage:)?[[:space:]]*//' |
		awk '{ c = ($3 ~ /^[a-z]+$/) ? " " $3 : ""; print $1 " " $2 c }' | sort -u
}
sed -n '/^OBJECTS AND COMMANDS/,/^FILES/p' "$OUT.txt" | commands >"$OUT.man"
for o in $OBJECTS; do "$XVR" $o help 2>&1; done | commands >"$OUT.help"
t_ge "the man page lists the commands" "$(wc -l <"$OUT.man")" 35
missing=$(comm -13 "$OUT.man" "$OUT.help" | tr '\n' ';')
t_eq "every command 'xvr OBJECT help' lists is in xvr(8)" "$missing" ""
extra=$(comm -23 "$OUT.man" "$OUT.help" | tr '\n' ';')
t_eq "every command of xvr(8) is one 'xvr OBJECT help' lists" "$extra" ""

# The examples parse: --dry-run stops each once its words are read. The
# plugin path is where 'make install' puts it, here the build's; the
# example ports are this machine's lo.
PLUGIN=$(cd "$(dirname "$XVR")" && pwd)/plugins/firewall.so
n=0
while read -r line; do
	line=${line//\/usr\/lib\/xvr\/plugins\/firewall.so/$PLUGIN}
	line=${line//eth[12]/lo}
	eval "set -- ${line#xvr }"
	if "$XVR" -n "$T_P" --dry-run "$@" >/dev/null 2>"$OUT.err"; then
		n=$((n + 1))
	else
		t_fail "xvr(8) example does not parse: $line: $(cat "$OUT.err")"
	fi
done < <(sed -n '/^EXAMPLES/,/^SEE ALSO/p' "$OUT.txt" | grep -E '^[[:space:]]+xvr ' | sed 's/^[[:space:]]*//')
t_ge "every example of xvr(8) parses" "$n" 15
t_check "--dry-run changed nothing" test ! -e "/sys/fs/bpf/xvr/$T_P"
t_fails "--dry-run still refuses a bad word" "$XVR" -n "$T_P" --dry-run route add r 10.0.0.0/33 blackhole

# Completion: each object's commands are those its help lists.
. "$ROOT/docs/completion/xvr"
complete_words() {
	COMP_WORDS=("$@"); COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 )); COMPREPLY=()
	_xvr
	printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' '
}
for o in node port router vif fe classify route; do
	want=$(awk -v o="$o" '$2 == o && NF == 3 { print $3 }' "$OUT.help" | sort | tr '\n' ' ')
	t_eq "completion: xvr $o <TAB>" "$(complete_words xvr "$o" "")" "$want"
done
t_eq "completion: objects by prefix" "$(complete_words xvr ro)" "route router "
t_eq "completion: route keywords" "$(complete_words xvr route add r 10.0.0.0/8 "")" \
	"blackhole dev lladdr local via vlan "
t_eq "completion: mode values" "$(complete_words xvr router add r mode "")" "afxdp generic native netns xdp "
