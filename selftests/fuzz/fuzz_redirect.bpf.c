// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * For fuzz_progs: where a frame run through BPF_PROG_TEST_RUN with live
 * frames was redirected. The xdp_redirect tracepoints fire inside the
 * test run, with the devmap key (xvr's tx_ports are keyed by ifindex);
 * only redirects through the fuzzer's own devmap (tx_map_id) are recorded,
 * as other XDP programs on the machine hit the same tracepoints.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

const volatile __u32 tx_map_id;

__u64 redirects;	/* redirects through tx_map_id, ok or not */
__u32 last_index;	/* the last one's devmap key */
__s32 last_err;

static __always_inline void record(__u32 map_id, __u32 index, int err)
{
	if (map_id != tx_map_id)
		return;
	last_index = index;
	last_err = err;
	__sync_fetch_and_add(&redirects, 1);
}

SEC("tp_btf/xdp_redirect")
int BPF_PROG(fuzz_redirect, const struct net_device *dev, const struct bpf_prog *xdp,
	     const void *tgt, int err, enum bpf_map_type map_type, __u32 map_id, __u32 index)
{
	record(map_id, index, err);
	return 0;
}

SEC("tp_btf/xdp_redirect_err")
int BPF_PROG(fuzz_redirect_err, const struct net_device *dev, const struct bpf_prog *xdp,
	     const void *tgt, int err, enum bpf_map_type map_type, __u32 map_id, __u32 index)
{
	record(map_id, index, err);
	return 0;
}
