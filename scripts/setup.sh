#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Installs the Debian packages xvr builds, tests and benchmarks with, and
# mounts bpffs. Idempotent: a second run installs nothing and changes nothing.
set -euo pipefail

PKGS=(
	# build
	clang llvm make gcc libc6-dev pkg-config libbpf-dev libxdp-dev bpftool
	libelf-dev zlib1g-dev libcap-dev
	# libFuzzer and the sanitizers for clang-14 (make fuzz, selftests/fuzz)
	libclang-rt-14-dev
	# run and attach
	iproute2 xdp-tools ethtool procps psmisc util-linux
	# tests and benchmarks
	iputils-ping traceroute netsniff-ng iperf3 tshark python3 python3-scapy
	bird2 jq bc gnuplot-nox curl
	# netlink (user/lib/nl.c)
	libmnl-dev
	# routing daemons run inside routers (router exec), never on the host
	frr
	# manual pages (make check lints them)
	mandoc
)

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done

# Routing daemons xvr runs inside routers' namespaces, never on the host:
# "package:unit" of each whose Debian package enables a host service.
HOST_DAEMONS=(
	bird2:bird.service
	frr:frr.service
)

# While installing, a policy-rc.d that answers 101 keeps maintainer scripts
# from starting any service (invoke-rc.d and deb-systemd-invoke honour it).
# One already there (a container's) is left alone.
policy=/usr/sbin/policy-rc.d
if [ ${#missing[@]} -gt 0 ] && [ ! -e "$policy" ]; then
	printf '#!/bin/sh\n# scripts/setup.sh (xvr): no services start during install\nexit 101\n' >"$policy"
	chmod 755 "$policy"
	trap 'rm -f "$policy"' EXIT
fi

if [ ${#missing[@]} -gt 0 ]; then
	echo "setup: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	# tshark asks whether non-root users may capture; answer for it.
	echo "wireshark-common wireshark-common/install-setuid boolean false" |
		debconf-set-selections
	# Installing bird2 and frr must not start their daemons on the host: a
	# policy-rc.d that refuses every start, for the install only (a machine
	# that has one already, as containers do, keeps its own).
	policy=
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		policy=/usr/sbin/policy-rc.d
		printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy"
		trap 'rm -f "$policy"' EXIT
	fi
	apt-get update -q
	apt-get install -y -q --no-install-recommends "${missing[@]}"
	[ -n "$policy" ] && rm -f "$policy"
	# systemd would still start the enabled units at the next boot.
	if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
		systemctl disable --now bird.service frr.service 2>/dev/null || true
	fi
fi

# Installing enabled them for the next boot all the same: disable, and stop
# any that runs (only where systemd is the init). No-ops once done.
for d in "${HOST_DAEMONS[@]}"; do
	pkg=${d%%:*} unit=${d#*:}
	dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || continue
	if [ "$(systemctl is-enabled "$unit" 2>/dev/null)" = enabled ]; then
		echo "setup: disabling $unit (xvr runs $pkg inside routers, not on the host)"
		systemctl disable -q "$unit"
	fi
	if [ -d /run/systemd/system ] && systemctl -q is-active "$unit"; then
		systemctl stop "$unit"
	fi
done

if ! mountpoint -q /sys/fs/bpf; then
	mount -t bpf bpf /sys/fs/bpf
fi
