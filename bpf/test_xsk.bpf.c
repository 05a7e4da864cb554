// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Test-only stand-in for xvr's per-engine XSK program: every frame arriving
 * on the engine's veth end goes to the AF_XDP socket in XSKMAP slot 0.
 * selftests/e2e/test_engine.sh pins `xsks` where xvr-router looks for it
 * (/sys/fs/bpf/xvr/<node>/fe/<id>/xsks), so the engine can be tested before
 * and apart from `xvr fe add`.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Written by xvr-router (slot 0 = its socket), read here. */
struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} xsks SEC(".maps");

SEC("xdp")
int test_xsk(struct xdp_md *ctx)
{
	/* No socket yet (engine down): drop, as the real program would. */
	return bpf_redirect_map(&xsks, 0, XDP_DROP);
}
