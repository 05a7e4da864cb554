// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Baseline for benchmarks: the least an XDP forwarder can do. Every frame is
 * redirected, untouched, to the one port in redirect_port. xvr's xdp mode is
 * measured against it (scripts/bench.sh), so it must stay this small.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

/* Written by xvr-sink redirect (slot 0 = egress ifindex), read here. */
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} redirect_port SEC(".maps");

SEC("xdp")
int xvr_redirect(struct xdp_md *ctx)
{
	/*
	 * The flags' low bits are the verdict when slot 0 is empty: XDP_DROP,
	 * which veth counts (rx_queue_N_xdp_drops), rather than XDP_ABORTED.
	 */
	return bpf_redirect_map(&redirect_port, 0, XDP_DROP);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
