// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * xvr_xsk: on a forwarding engine's veth end, inside the router's
 * namespace. Every frame goes to the engine's AF_XDP socket; one object is
 * loaded per engine, so each engine has an XSKMAP of its own and no engine
 * can take another's frames. Without a socket (the engine is restarting)
 * frames are dropped here; ingress stops sending once the heartbeat stops.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* The engine's socket at key 0. Written by xvr-router at start, read here. */
struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} xsks SEC(".maps");

SEC("xdp")
int xvr_xsk(struct xdp_md *ctx)
{
	return bpf_redirect_map(&xsks, 0, XDP_DROP);
}
