// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * xvr trace: frames as the data path judged them, one line each or into a
 * pcapng file whose packet comments carry router, verdict and reason. Like
 * xdpdump or pwru, but for xvr's own verdicts: the programs copy each
 * booked frame into the xvr_trace ring buffer while trace_cfg.on is set in
 * their .bss (bpf/trace.h), which this command sets and always clears.
 */
#include <fcntl.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "xvr.h"

#define TRACE_VAR	"trace_cfg"
#define TRACE_PROGS	2

static const char *const prog_pins[TRACE_PROGS] = { "prog_ingress", "prog_egress" };

static const char *const verdict_names[XVR_TRACE_VERDICT_MAX] = {
	[XVR_TRACE_FWD] = "fwd", [XVR_TRACE_PUNT] = "punt", [XVR_TRACE_DROP] = "drop",
	[XVR_TRACE_PASS] = "pass", [XVR_TRACE_TX] = "tx",
};

static int trace_help(void)
{
	fprintf(stderr,
		"Usage: xvr trace [ROUTER] [port DEV] [reason R] [count N] [-w FILE.pcapng]\n"
		"Prints each frame the data path judges, with its router, verdict and\n"
		"reason, until ctrl-c or N frames. R is a drop or punt reason (as 'xvr\n"
		"stats' names them) or a verdict: fwd, punt, drop, pass, tx. -w writes\n"
		"pcapng (the first %d bytes of each frame; the verdict in its comment).\n",
		XVR_TRACE_SNAP);
	return 0;
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

/* Where in the program's .bss map trace_cfg lives: its fd and offset. */
struct trace_var {
	int map_fd;
	__u32 off;
	__u32 value_size;
};

/*
 * Finds the .bss map of the pinned program and trace_cfg's offset in it,
 * by the map's own BTF (DATASEC), so no layout is assumed.
 */
static int trace_var_find(const char *pin, struct trace_var *tv)
{
	__u32 ids[64], len, nr = ARRAY_SIZE(ids);
	struct bpf_prog_info pinfo = {};
	int prog_fd, err = -ENOENT;

	tv->map_fd = -1;
	prog_fd = bpf_obj_get(pin);
	if (prog_fd < 0)
		return -errno;
	len = sizeof(pinfo);
	pinfo.nr_map_ids = nr;
	pinfo.map_ids = (__u64)(unsigned long)ids;
	if (bpf_obj_get_info_by_fd(prog_fd, &pinfo, &len)) {
		err = -errno;
		goto out;
	}
	for (__u32 i = 0; i < pinfo.nr_map_ids && i < nr && tv->map_fd < 0; i++) {
		struct bpf_map_info info = {};
		const struct btf_var_secinfo *vs;
		const struct btf_type *sec;
		struct btf *btf;
		int fd = bpf_map_get_fd_by_id(ids[i]);
		const char *dot;

		len = sizeof(info);
		if (fd < 0)
			continue;
		if (bpf_obj_get_info_by_fd(fd, &info, &len) || !info.btf_id ||
		    !(dot = strrchr(info.name, '.')) || strcmp(dot, ".bss")) {
			close(fd);
			continue;
		}
		btf = btf__load_from_kernel_by_id(info.btf_id);
		sec = btf ? btf__type_by_id(btf, info.btf_value_type_id) : NULL;
		for (int k = 0; sec && btf_is_datasec(sec) && k < btf_vlen(sec); k++) {
			vs = btf_var_secinfos(sec) + k;
			if (strcmp(btf__name_by_offset(btf, btf__type_by_id(btf, vs->type)->name_off),
				   TRACE_VAR) ||
			    vs->offset + sizeof(struct xvr_trace_cfg) > info.value_size)
				continue;
			tv->map_fd = fd;
			tv->off = vs->offset;
			tv->value_size = info.value_size;
		}
		btf__free(btf);
		if (tv->map_fd < 0)
			close(fd);
	}
	err = tv->map_fd < 0 ? -ENOENT : 0;
out:
	close(prog_fd);
	return err;
}

static int trace_var_set(const struct trace_var *tv, const struct xvr_trace_cfg *cfg)
{
	__u8 *val = calloc(1, tv->value_size);
	__u32 zero = 0;
	int err = 0;

	if (!val)
		return -ENOMEM;
	if (bpf_map_lookup_elem(tv->map_fd, &zero, val) ||
	    (memcpy(val + tv->off, cfg, sizeof(*cfg)),
	     bpf_map_update_elem(tv->map_fd, &zero, val, BPF_ANY)))
		err = -errno;
	free(val);
	return err;
}

/* ---- output ---- */

struct tracer {
	struct xvr_node n;
	FILE *pcap;
	__u64 count, max;
	__s64 mono_to_real_ns;
	__u64 per_verdict[XVR_TRACE_VERDICT_MAX];
};

static const char *reason_name(const struct xvr_trace_rec *r)
{
	if (r->verdict == XVR_TRACE_DROP)
		return drop_reason_name(r->reason);
	if (r->verdict == XVR_TRACE_PUNT)
		return punt_reason_name(r->reason);
	return NULL;
}

/* "router red drop blackhole port eth1" (router "-" when unclassified). */
static void verdict_text(struct tracer *t, const struct xvr_trace_rec *r, char *buf, size_t len)
{
	char ifname[IF_NAMESIZE];
	struct xvr_router vr = {};
	const char *reason = reason_name(r);

	if (!r->vr_id || router_get(&t->n, r->vr_id, &vr))
		snprintf(vr.name, sizeof(vr.name), "%s", r->vr_id ? "?" : "-");
	snprintf(buf, len, "router %s %s%s%s dev %s", vr.name,
		 r->verdict < XVR_TRACE_VERDICT_MAX && verdict_names[r->verdict] ?
			 verdict_names[r->verdict] : "?",
		 reason ? " " : "", reason ?: "", if_name(r->ifindex, ifname));
}

/* A one-line summary of the frame's headers, as far as caplen reaches. */
static void frame_text(const __u8 *d, __u32 caplen, char *buf, size_t len)
{
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], sm[18], dm[18];
	__u32 off = 12, l4 = 0;
	__u16 proto;
	__u8 ipproto = 0;
	int n = 0;

	buf[0] = '\0';
	if (caplen < 14)
		return;
	n += snprintf(buf + n, len - n, "%s > %s", fmt_mac(d + 6, sm), fmt_mac(d, dm));
	proto = d[off] << 8 | d[off + 1];
	for (int i = 0; i < 2 && (proto == 0x8100 || proto == 0x88a8) && off + 6 <= caplen; i++) {
		n += snprintf(buf + n, len - n, " vlan %u", (d[off + 2] << 8 | d[off + 3]) & 0xfff);
		off += 4;
		proto = d[off] << 8 | d[off + 1];
	}
	off += 2;
	if (proto == 0x0800 && off + 20 <= caplen) {
		ipproto = d[off + 9];
		l4 = off + (d[off] & 0xf) * 4;
		n += snprintf(buf + n, len - n, " IPv4 %s > %s ttl %u", fmt_addr(AF_INET, d + off + 12, src),
			      fmt_addr(AF_INET, d + off + 16, dst), d[off + 8]);
	} else if (proto == 0x86dd && off + 40 <= caplen) {
		ipproto = d[off + 6];
		l4 = off + 40;
		n += snprintf(buf + n, len - n, " IPv6 %s > %s hlim %u",
			      fmt_addr(AF_INET6, d + off + 8, src),
			      fmt_addr(AF_INET6, d + off + 24, dst), d[off + 7]);
	} else if (proto == 0x0806) {
		n += snprintf(buf + n, len - n, " ARP");
	} else {
		n += snprintf(buf + n, len - n, " ethertype 0x%04x", proto);
	}
	if ((ipproto == 6 || ipproto == 17) && l4 + 4 <= caplen)
		snprintf(buf + n, len - n, " %s %u > %u", ipproto == 6 ? "tcp" : "udp",
			 d[l4] << 8 | d[l4 + 1], d[l4 + 2] << 8 | d[l4 + 3]);
	else if (ipproto)
		snprintf(buf + n, len - n, " proto %u", ipproto);
}

/* pcapng (https://www.ietf.org/archive/id/draft-ietf-opsawg-pcapng): blocks are 32-bit aligned. */
static void pcap_block(FILE *f, __u32 type, const void *body, __u32 blen, const void *data,
		       __u32 dlen, const char *comment)
{
	static const __u8 pad[4];
	__u32 clen = comment ? strlen(comment) : 0;
	__u32 dpad = (4 - dlen % 4) % 4, cpad = (4 - clen % 4) % 4;
	__u32 total = 12 + blen + dlen + dpad + (clen ? 4 + clen + cpad + 4 : 0);
	__u16 opt[2];

	fwrite(&type, 4, 1, f);
	fwrite(&total, 4, 1, f);
	fwrite(body, 1, blen, f);
	fwrite(data, 1, dlen, f);
	fwrite(pad, 1, dpad, f);
	if (clen) {
		opt[0] = 1;	/* opt_comment */
		opt[1] = clen;
		fwrite(opt, 2, 2, f);
		fwrite(comment, 1, clen, f);
		fwrite(pad, 1, cpad, f);
		memset(opt, 0, sizeof(opt));	/* opt_endofopt */
		fwrite(opt, 2, 2, f);
	}
	fwrite(&total, 4, 1, f);
}

static void pcap_header(FILE *f)
{
	/* Section header: byte-order magic, version 1.0, section length unknown. */
	struct { __u32 magic; __u16 major, minor; __s64 len; } shb = { 0x1A2B3C4D, 1, 0, -1 };
	/* Interface: Ethernet, snap length; timestamps in microseconds (default). */
	struct { __u16 linktype, reserved; __u32 snaplen; } idb = { 1, 0, XVR_TRACE_SNAP };

	pcap_block(f, 0x0A0D0D0A, &shb, sizeof(shb), NULL, 0, NULL);
	pcap_block(f, 0x00000001, &idb, sizeof(idb), NULL, 0, NULL);
}

static void pcap_packet(FILE *f, __u64 real_ns, const struct xvr_trace_rec *r, const char *comment)
{
	__u64 us = real_ns / 1000;
	struct { __u32 ifid, ts_hi, ts_lo, caplen, len; } epb = {
		0, (__u32)(us >> 32), (__u32)us, r->caplen, r->len,
	};

	pcap_block(f, 0x00000006, &epb, sizeof(epb), r->data, r->caplen, comment);
}

static int on_frame(void *ctx, void *data, size_t size)
{
	const struct xvr_trace_rec *r = data;
	struct tracer *t = ctx;
	char verdict[128], frame[256], ifname[IF_NAMESIZE];
	__u64 real_ns;
	time_t sec;
	struct tm tm;

	if (size < sizeof(*r) || (t->max && t->count >= t->max))
		return 0;
	t->count++;
	if (r->verdict < XVR_TRACE_VERDICT_MAX)
		t->per_verdict[r->verdict]++;
	real_ns = r->ts_ns + t->mono_to_real_ns;
	verdict_text(t, r, verdict, sizeof(verdict));
	if (t->pcap) {
		pcap_packet(t->pcap, real_ns, r, verdict);
	} else {
		const char *reason = reason_name(r);
		struct xvr_router vr = {};

		router_get(&t->n, r->vr_id, &vr);
		frame_text(r->data, r->caplen, frame, sizeof(frame));
		sec = real_ns / 1000000000ull;
		localtime_r(&sec, &tm);
		print_open_object(NULL);
		print_text("%02d:%02d:%02d.%06llu ", tm.tm_hour, tm.tm_min, tm.tm_sec,
			   (unsigned long long)(real_ns % 1000000000ull / 1000));
		print_u64("ts_ns", NULL, real_ns);
		print_string("dev", NULL, if_name(r->ifindex, ifname));
		print_string("router", NULL, vr.name);
		print_string("verdict", NULL, r->verdict < XVR_TRACE_VERDICT_MAX ?
			     verdict_names[r->verdict] : "?");
		print_string("reason", NULL, reason);
		print_u64("len", NULL, r->len);
		print_text("%s len %u: %s\n", verdict, r->len, frame);
		print_string("frame", NULL, frame);
		print_close_object();
		if (print_json)
			print_end();
	}
	return 0;
}

/* A reason name, or a verdict name; fills the filter's verdict and reason. */
static int reason_parse(const char *s, struct xvr_trace_cfg *cfg)
{
	for (__u32 v = 1; v < XVR_TRACE_VERDICT_MAX; v++)
		if (!strcmp(s, verdict_names[v])) {
			cfg->verdict = v;
			return 0;
		}
	/* "unspec" names both kinds; every other reason name is unique. */
	for (__u32 i = 1; i < XVR_DROP_MAX; i++)
		if (drop_reason_name(i) && !strcmp(s, drop_reason_name(i))) {
			cfg->verdict = XVR_TRACE_DROP;
			cfg->reason = i + 1;
			return 0;
		}
	for (__u32 i = 1; i < XVR_PUNT_MAX; i++)
		if (punt_reason_name(i) && !strcmp(s, punt_reason_name(i))) {
			cfg->verdict = XVR_TRACE_PUNT;
			cfg->reason = i + 1;
			return 0;
		}
	return -EINVAL;
}

/* One trace at a time per node: the programs have one trace_cfg each. */
static int trace_lock(const char *node, char *path, size_t len)
{
	int fd;

	mkdir(XVR_RUN_DIR, 0700);
	snprintf(path, len, "%s/%s.trace.lock", XVR_RUN_DIR, node);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		close(fd);
		return -EBUSY;
	}
	return fd;
}

int do_trace(int argc, char **argv)
{
	struct xvr_trace_cfg cfg = { .on = 1 }, off = {};
	struct trace_var tv[TRACE_PROGS] = { { -1 }, { -1 } };
	const char *router = NULL, *port = NULL, *file = NULL;
	struct ring_buffer *rb = NULL;
	struct tracer t = {};
	char path[PATH_MAX], lock_path[PATH_MAX];
	struct timespec mono, real;
	int err, ring_fd = -1, lock_fd = -1;
	__u32 v;

	cli_object = "trace";
	for (; argc > 0; argc--, argv++) {
		if (!strcmp(argv[0], "help")) {
			return trace_help();
		} else if (!strcmp(argv[0], "-w")) {
			NEXT_ARG();
			file = argv[0];
		} else if (matches(argv[0], "port")) {
			NEXT_ARG();
			port = argv[0];
		} else if (matches(argv[0], "reason")) {
			NEXT_ARG();
			if (reason_parse(argv[0], &cfg))
				return bad_arg("reason (a drop or punt reason, or fwd, punt, drop, "
					       "pass, tx)", argv[0]);
		} else if (matches(argv[0], "count")) {
			NEXT_ARG();
			if (parse_u32(argv[0], &v, 0xffffffffu) || !v)
				return bad_arg("count", argv[0]);
			t.max = v;
		} else if (!router && argv[0][0] != '-') {
			router = argv[0];
		} else {
			return unexpected_arg(argv[0]);
		}
	}
	if (port) {
		int idx = if_index(port);

		if (idx < 0) {
			pr_warn("trace: port %s: no such device\n", port);
			return -ENODEV;
		}
		cfg.ifindex = idx;
	}
	err = cli_node_open(&t.n, false);
	if (err)
		return err;
	if (router && router_find(&t.n, router, &cfg.vr_id, NULL)) {
		pr_warn("trace: router %s: no such router\n", router);
		err = -ENOENT;
		goto out;
	}
	for (int i = 0; i < TRACE_PROGS; i++) {
		xvr_node_path(path, sizeof(path), t.n.name, prog_pins[i]);
		err = trace_var_find(path, &tv[i]);
		if (err) {
			pr_warn("trace: %s: no %s (a node from before 'xvr trace'? run 'xvr node up'): %s\n",
				path, TRACE_VAR, strerror(-err));
			goto out;
		}
	}
	xvr_node_path(path, sizeof(path), t.n.name, "trace");
	ring_fd = bpf_obj_get(path);
	if (ring_fd < 0) {
		err = -errno;
		pr_warn("trace: %s: %s (run 'xvr node up')\n", path, strerror(-err));
		goto out;
	}
	lock_fd = trace_lock(t.n.name, lock_path, sizeof(lock_path));
	if (lock_fd < 0) {
		err = lock_fd;
		pr_warn("trace: node %s: %s\n", t.n.name,
			err == -EBUSY ? "another trace runs" : strerror(-err));
		goto out;
	}
	if (file) {
		t.pcap = fopen(file, "we");
		if (!t.pcap) {
			err = -errno;
			pr_warn("trace: %s: %s\n", file, strerror(-err));
			goto out;
		}
		pcap_header(t.pcap);
	}
	rb = ring_buffer__new(ring_fd, on_frame, &t, NULL);
	if (!rb) {
		err = -errno;
		pr_warn("trace: ring buffer: %s\n", strerror(-err));
		goto out;
	}
	/* Frames from an earlier trace that stopped mid-way are not ours. */
	while (ring_buffer__consume(rb) > 0)
		;
	t.count = 0;
	memset(t.per_verdict, 0, sizeof(t.per_verdict));
	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &real);
	t.mono_to_real_ns = (real.tv_sec - mono.tv_sec) * 1000000000ll + real.tv_nsec - mono.tv_nsec;

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, on_signal);
	for (int i = 0; i < TRACE_PROGS && !err; i++)
		err = trace_var_set(&tv[i], &cfg);
	if (err) {
		pr_warn("trace: cannot switch the trace on: %s\n", strerror(-err));
		goto off;
	}
	pr_warn("trace: node %s: tracing%s%s (ctrl-c stops)\n", t.n.name,
		router ? " router " : "", router ?: "");
	while (!stop && (!t.max || t.count < t.max)) {
		int n = ring_buffer__poll(rb, 100);

		if (n < 0 && n != -EINTR) {
			err = n;
			break;
		}
	}
off:
	for (int i = 0; i < TRACE_PROGS; i++)
		trace_var_set(&tv[i], &off);
	/* What was in flight when the switch went off. */
	if (!t.max || t.count < t.max)
		ring_buffer__consume(rb);
	if (t.pcap)
		fflush(t.pcap);
	pr_warn("trace: %llu frame(s): fwd %llu punt %llu drop %llu pass %llu tx %llu\n",
		(unsigned long long)t.count, (unsigned long long)t.per_verdict[XVR_TRACE_FWD],
		(unsigned long long)t.per_verdict[XVR_TRACE_PUNT],
		(unsigned long long)t.per_verdict[XVR_TRACE_DROP],
		(unsigned long long)t.per_verdict[XVR_TRACE_PASS],
		(unsigned long long)t.per_verdict[XVR_TRACE_TX]);
out:
	ring_buffer__free(rb);
	if (t.pcap && fclose(t.pcap) && !err)
		err = -errno;
	for (int i = 0; i < TRACE_PROGS; i++)
		if (tv[i].map_fd >= 0)
			close(tv[i].map_fd);
	if (ring_fd >= 0)
		close(ring_fd);
	if (lock_fd >= 0) {
		unlink(lock_path);
		close(lock_fd);
	}
	xvr_node_close(&t.n);
	return err;
}
