#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# make install / uninstall with DESTDIR and PREFIX: binaries that run from
# where they land (xvr finds xvr-router beside it, the BPF programs are in
# the skeletons), plugins, the plugin header alone enough to build a
# plugin, manuals, completion, the node unit pointing at what was
# installed; uninstall leaves no file behind.
set -u
. "$(dirname "$0")/../lib.sh"
t_init install
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
D=$(mktemp -d "/tmp/$T_P.install.XXXXXX")
trap 'rm -rf "$D"; t_cleanup' EXIT
mk() { make -s -C "$ROOT" "$@" >"$D.log" 2>&1 || { cat "$D.log"; return 1; }; }

t_check "make install DESTDIR PREFIX=/usr" mk install DESTDIR="$D/root" PREFIX=/usr
R=$D/root
for f in usr/sbin/xvr:755 usr/sbin/xvr-router:755 usr/lib/xvr/plugins/firewall.so:755 \
	usr/lib/xvr/plugins/nonip.so:755 usr/lib/xvr/bpf/xvr_ingress.bpf.o:644 \
	usr/include/xvr/plugin.h:644 usr/share/man/man8/xvr.8:644 \
	usr/share/man/man8/xvr-router.8:644 usr/share/man/man7/xvr-plugin.7:644 \
	usr/share/bash-completion/completions/xvr:644 \
	usr/lib/systemd/system/xvr-node@.service:644; do
	t_eq "installed ${f%:*}" "$(stat -c %a "$R/${f%:*}" 2>&1)" "${f#*:}"
done
t_check "etc/xvr for node files" test -d "$R/etc/xvr"

t_eq "the installed xvr is this build" "$("$R/usr/sbin/xvr" -V | head -1)" "$("$XVR" -V | head -1)"
t_check "the installed xvr-router runs" "$R/usr/sbin/xvr-router" --help
t_check "a plugin builds against the installed header alone" \
	cc -O2 -Wall -Werror -fPIC -shared -nostdinc -isystem /usr/include \
	-isystem "/usr/include/$(cc -print-multiarch)" -isystem "$(cc -print-file-name=include)" \
	-I "$R/usr/include" "$ROOT/plugins/firewall.c" -o "$D/firewall.so"
t_check "the ingress object is for xdp-loader (XDP_RUN_CONFIG)" \
	sh -c "bpftool btf dump file '$R/usr/lib/xvr/bpf/xvr_ingress.bpf.o' | grep -q \.xdp_run_config"
t_check "the installed manuals lint clean" mandoc -T lint "$R/usr/share/man/man8/xvr.8" \
	"$R/usr/share/man/man8/xvr-router.8" "$R/usr/share/man/man7/xvr-plugin.7"
t_check "the completion loads" bash -c ". '$R/usr/share/bash-completion/completions/xvr' && complete -p xvr"

# The unit runs the installed xvr on /etc/xvr/NODE.conf: that command
# works on a saved node (dry run, nothing changes).
UNIT=$R/usr/lib/systemd/system/xvr-node@.service
t_check "unit: ExecStart is the installed xvr with the node's file" \
	grep -qx 'ExecStart=/usr/sbin/xvr -n %i -b /etc/xvr/%i.conf' "$UNIT"
t_check "unit: ExecStop takes the node down" grep -qx 'ExecStop=/usr/sbin/xvr -n %i node down' "$UNIT"
printf 'node up\nrouter add r1 mode xdp fibsync off\nroute add r1 10.0.0.0/8 blackhole\n' >"$R/etc/xvr/$T_P.conf"
cmd=$(sed -n 's/^ExecStart=//p' "$UNIT" | sed "s|%i|$T_P|g; s|/usr/sbin/|$R/usr/sbin/|; s|/etc/|$R/etc/|")
t_check "unit: its command parses a node file" $cmd --dry-run
t_check "... and changed nothing" test ! -e "/sys/fs/bpf/xvr/$T_P"
rm -f "$R/etc/xvr/$T_P.conf"

t_check "make uninstall" mk uninstall DESTDIR="$R" PREFIX=/usr
t_eq "uninstall leaves no file" "$(find "$R" -type f | wc -l)" 0
t_check "PREFIX=/usr/local: node files under /usr/local/etc" \
	mk install DESTDIR="$D/local" PREFIX=/usr/local
t_check "... and the unit says so" grep -q 'ExecStart=/usr/local/sbin/xvr -n %i -b /usr/local/etc/xvr/%i.conf' \
	"$D/local/usr/local/lib/systemd/system/xvr-node@.service"
