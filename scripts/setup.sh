#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Installs the Debian packages xvr builds, tests and benchmarks with, and
# mounts bpffs. Idempotent: a second run installs nothing and changes nothing.
set -euo pipefail

PKGS=(
	# build
	clang llvm make gcc libc6-dev pkg-config libbpf-dev libxdp-dev bpftool
	libelf-dev zlib1g-dev libcap-dev
	# run and attach
	iproute2 xdp-tools ethtool procps psmisc util-linux
	# tests and benchmarks
	iputils-ping traceroute netsniff-ng iperf3 tshark python3 python3-scapy
	bird2 jq bc gnuplot-nox
	# netlink (user/lib/nl.c)
	libmnl-dev
	# routing daemons run inside routers (router exec), never on the host
	frr
)

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done

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

if ! mountpoint -q /sys/fs/bpf; then
	mount -t bpf bpf /sys/fs/bpf
fi
