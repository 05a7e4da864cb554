#!/usr/bin/python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""BPF_PROG_TEST_RUN of an XDP program by id, for make bench-micro.

  testrun.py PROG_ID FRAME_FILE INGRESS_IFINDEX CALLS

Prints JSON {retval, ns_per_packet (median), ns_mean, calls}. Each call is
one BPF_PROG_TEST_RUN with repeat 1, so every packet is the original frame:
with repeat N the kernel runs the program N times on one buffer (live
frames recycle their pages likewise), and a program that rewrites the
frame (MACs, TTL) sees its own output from the second run on and takes
another path. The kernel times the run alone (two clock reads included),
not the system call.
"""
import ctypes
import json
import struct
import sys

BPF_PROG_TEST_RUN = 10
BPF_PROG_GET_FD_BY_ID = 13
BPF_F_TEST_XDP_LIVE_FRAMES = 1 << 1
SYS_bpf = 321  # x86_64

libc = ctypes.CDLL(None, use_errno=True)


def bpf(cmd, attr):
    buf = ctypes.create_string_buffer(attr, 128)
    r = libc.syscall(SYS_bpf, cmd, buf, 128)
    if r < 0:
        e = ctypes.get_errno()
        raise OSError(e, f"bpf({cmd}): {__import__('os').strerror(e)}")
    return r, buf.raw


def main():
    prog_id, path, ifindex, calls = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    fd, _ = bpf(BPF_PROG_GET_FD_BY_ID, struct.pack("<I", prog_id))
    data = open(path, "rb").read()
    din = ctypes.create_string_buffer(data, len(data))
    dout = ctypes.create_string_buffer(len(data) + 256)
    ctx = struct.pack("<6I", 0, len(data), 0, ifindex, 0, 0)
    cin = ctypes.create_string_buffer(ctx, len(ctx))
    fmt = "<IIIIQQIIIIQQIII"
    attr = struct.pack(fmt, fd, 0, len(data), len(data) + 256, ctypes.addressof(din),
                       ctypes.addressof(dout), 1, 0, len(ctx), 0,
                       ctypes.addressof(cin), 0, 0, 0, 0)
    buf = ctypes.create_string_buffer(attr, 128)
    durs = []
    retval = None
    for _ in range(calls):
        ctypes.memmove(buf, attr, len(attr))
        if libc.syscall(SYS_bpf, BPF_PROG_TEST_RUN, buf, 128) < 0:
            e = ctypes.get_errno()
            raise OSError(e, f"BPF_PROG_TEST_RUN: {__import__('os').strerror(e)}")
        f = struct.unpack(fmt, buf.raw[:struct.calcsize(fmt)])
        retval = f[1]
        durs.append(f[7])
    durs.sort()
    print(json.dumps({"retval": retval, "ns_per_packet": durs[len(durs) // 2],
                      "ns_mean": sum(durs) / len(durs), "ns_p10": durs[len(durs) // 10],
                      "ns_p90": durs[len(durs) * 9 // 10], "calls": calls}))


if __name__ == "__main__":
    main()
