// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * xvr-pfmmap: the stronger user-space baseline for afxdp engines, a
 * PF_PACKET forwarder on PACKET_MMAP rings, as a user-space router would be
 * written today without AF_XDP:
 *
 *   xvr-pfmmap [-c CPU] [-t SEC] [-B BLOCKS] [-F FRAMES] -s SRCMAC -d DSTMAC IN OUT
 *
 * IN has a TPACKET_V3 receive ring: the kernel fills whole blocks of frames
 * and hands a block over when it is full or its timer (1 ms) retires it, so
 * one poll() wakes the forwarder for a batch. OUT has a TPACKET_V2 transmit
 * ring (V2: a V3 TX ring takes the same fixed-size frames and adds nothing)
 * with PACKET_QDISC_BYPASS; the forwarder copies each frame of a block into
 * the next free TX slot, rewrites it like xvr-pfpacket (TTL - 1 with an
 * incremental checksum update, destination MAC := DSTMAC, source MAC :=
 * SRCMAC) and, after the block, sends all of them with one sendto().
 *
 * Frames that are not IPv4 with TTL > 1 are dropped and counted; so is a
 * frame that finds the TX ring full after a flush (tx_full). Runs until
 * SIGINT/SIGTERM (or -t SEC), then prints its counters as JSON on stdout
 * (the socket's drops, rx, tx, drop_proto, drop_ttl, tx_err: frames the
 * kernel refused, tx_full, sends: sendto calls, send_err: failed ones).
 * Run it inside the namespace holding IN and OUT (ip netns exec).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common.h"

#define FRAME_SIZE	2048
#define RX_BLOCK_SIZE	(1 << 17)	/* 64 frames of 2 KiB per block */
#define RX_BLOCK_TOV_MS	1

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

struct counters {
	unsigned long long rx, tx, drop_proto, drop_ttl, tx_err, tx_full, sends, send_err;
};

struct tx_ring {
	int fd;
	unsigned char *map;
	unsigned int nr, head, pending;
};

/* A count in [lo, hi]. */
static int parse_count(const char *s, __u32 lo, __u32 hi, __u32 *out)
{
	if (parse_u32(s, out, hi) || *out < lo)
		return -1;
	return 0;
}

/* A PF_PACKET socket on DEV with a ring of VERSION; PROTO 0 receives nothing. */
static int ring_sock(const char *dev, int version, __be16 proto, int *ifindex)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = proto };
	int fd = socket(AF_PACKET, SOCK_RAW, proto);

	if (fd < 0)
		return -1;
	sll.sll_ifindex = if_nametoindex(dev);
	if (!sll.sll_ifindex) {
		fprintf(stderr, "xvr-pfmmap: %s: no such device\n", dev);
		close(fd);
		return -1;
	}
	*ifindex = sll.sll_ifindex;
	/* The version must be set before the ring is, and the ring before bind. */
	if (setsockopt(fd, SOL_PACKET, PACKET_VERSION, &version, sizeof(version))) {
		perror("xvr-pfmmap: PACKET_VERSION");
		close(fd);
		return -1;
	}
	if (proto && bind(fd, (struct sockaddr *)&sll, sizeof(sll))) {
		perror("xvr-pfmmap: bind");
		close(fd);
		return -1;
	}
	return fd;
}

/* Hands the TX ring's pending frames to the kernel: one system call. */
static void tx_flush(struct tx_ring *tx, struct counters *c, int wait)
{
	if (!tx->pending)
		return;
	c->sends++;
	/*
	 * Without MSG_DONTWAIT the kernel sends every frame marked
	 * SEND_REQUEST before it returns; with the qdisc bypassed, a veth
	 * transmits synchronously, so their slots are free again on return.
	 * ENOBUFS: the device dropped a frame (and counted it).
	 */
	if (sendto(tx->fd, NULL, 0, wait ? 0 : MSG_DONTWAIT, NULL, 0) < 0 &&
	    errno != ENOBUFS && errno != EAGAIN && errno != EINTR)
		c->send_err++;
	tx->pending = 0;
}

static struct tpacket2_hdr *tx_slot(struct tx_ring *tx, unsigned int i)
{
	return (struct tpacket2_hdr *)(tx->map + (size_t)i * FRAME_SIZE);
}

/* One received frame: checked, rewritten into the next TX slot. */
static void forward(struct tx_ring *tx, const unsigned char *pkt, unsigned int len,
		    const unsigned char *smac, const unsigned char *dmac, struct counters *c)
{
	const unsigned int room = FRAME_SIZE - (TPACKET2_HDRLEN - sizeof(struct sockaddr_ll));
	struct tpacket2_hdr *h;
	unsigned char *out;
	uint32_t sum;

	c->rx++;
	if (len < 34 || pkt[12] != 0x08 || pkt[13] != 0x00 || (pkt[14] >> 4) != 4 ||
	    len > room) {
		c->drop_proto++;
		return;
	}
	if (pkt[22] <= 1) {
		c->drop_ttl++;
		return;
	}
	h = tx_slot(tx, tx->head);
	if (h->tp_status != TP_STATUS_AVAILABLE) {
		/* Ring full: send what is queued and wait for it. */
		tx_flush(tx, c, 1);
		if (h->tp_status == TP_STATUS_WRONG_FORMAT) {
			c->tx_err++;
			h->tp_status = TP_STATUS_AVAILABLE;
		}
		if (h->tp_status != TP_STATUS_AVAILABLE) {
			c->tx_full++;
			return;
		}
	}
	out = (unsigned char *)h + TPACKET2_HDRLEN - sizeof(struct sockaddr_ll);
	memcpy(out, dmac, 6);
	memcpy(out + 6, smac, 6);
	memcpy(out + 12, pkt + 12, len - 12);
	/* TTL - 1; checksum + 0x0100 (RFC 1624, one's complement). */
	out[22]--;
	sum = ((uint32_t)out[24] << 8 | out[25]) + 0x0100;
	sum = (sum & 0xffff) + (sum >> 16);
	out[24] = sum >> 8;
	out[25] = sum & 0xff;
	h->tp_len = len;
	__atomic_store_n(&h->tp_status, TP_STATUS_SEND_REQUEST, __ATOMIC_RELEASE);
	tx->head = (tx->head + 1) % tx->nr;
	tx->pending++;
	c->tx++;
}

struct rx_ring {
	unsigned char *map;
	unsigned int nr, next;	/* blocks, the next one to read */
};

/*
 * The next block, if the kernel has handed it over: each frame forwarded
 * into the TX ring, the block given back, one sendto() for its frames.
 * Returns whether there was one.
 */
static bool rx_block(struct rx_ring *rx, struct tx_ring *tx, const unsigned char *smac,
		     const unsigned char *dmac, struct counters *c)
{
	struct tpacket_block_desc *bd =
		(struct tpacket_block_desc *)(rx->map + (size_t)rx->next * RX_BLOCK_SIZE);
	struct tpacket3_hdr *h;
	unsigned int n;

	if (!(__atomic_load_n(&bd->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER))
		return false;
	n = bd->hdr.bh1.num_pkts;
	h = (struct tpacket3_hdr *)((unsigned char *)bd + bd->hdr.bh1.offset_to_first_pkt);
	for (unsigned int i = 0; i < n; i++) {
		forward(tx, (unsigned char *)h + h->tp_mac, h->tp_snaplen, smac, dmac, c);
		h = (struct tpacket3_hdr *)((unsigned char *)h + h->tp_next_offset);
	}
	__atomic_store_n(&bd->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
	rx->next = (rx->next + 1) % rx->nr;
	tx_flush(tx, c, 0);
	return true;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: xvr-pfmmap [-c CPU] [-t SEC] [-B BLOCKS] [-F FRAMES] -s SRCMAC -d DSTMAC IN OUT\n"
		"  -B BLOCKS  RX ring blocks of 128 KiB (64 frames), 2-1024, default 64\n"
		"  -F FRAMES  TX ring frames, a power of two 64-65536, default 4096\n");
	exit(2);
}

int main(int argc, char **argv)
{
	unsigned int rx_blocks = 64, tx_frames = 4096;
	unsigned char smac[6], dmac[6];
	int c, cpu = -1, secs = 0, have_s = 0, have_d = 0, in_idx, out_idx, in, one = 1, err;
	struct sigaction sa = { .sa_handler = on_signal };
	struct tx_ring tx = { 0 };
	struct rx_ring rx = { 0 };
	struct tpacket_req3 rreq = { 0 };
	struct tpacket_req treq = { 0 };
	struct counters cnt = { 0 };

	while ((c = getopt(argc, argv, "c:t:s:d:B:F:h")) != -1) {
		switch (c) {
		case 'c': cpu = atoi(optarg); break;
		case 't': secs = atoi(optarg); break;
		case 's':
			if (parse_mac(optarg, smac)) {
				fprintf(stderr, "xvr-pfmmap: -s %s: not a MAC address\n", optarg);
				return 2;
			}
			have_s = 1;
			break;
		case 'd':
			if (parse_mac(optarg, dmac)) {
				fprintf(stderr, "xvr-pfmmap: -d %s: not a MAC address\n", optarg);
				return 2;
			}
			have_d = 1;
			break;
		case 'B':
			if (parse_count(optarg, 2, 1024, &rx_blocks)) {
				fprintf(stderr, "xvr-pfmmap: -B %s: not a block count 2-1024\n", optarg);
				return 2;
			}
			break;
		case 'F':
			if (parse_count(optarg, 64, 65536, &tx_frames) || (tx_frames & (tx_frames - 1))) {
				fprintf(stderr, "xvr-pfmmap: -F %s: not a power of two 64-65536\n", optarg);
				return 2;
			}
			break;
		default: usage();
		}
	}
	if (argc - optind != 2 || !have_s || !have_d)
		usage();
	if (cpu >= 0 && (err = cpu_pin(cpu)))
		fprintf(stderr, "%s: cpu %d: %s\n", "xvr-pfmmap", cpu, strerror(-err));

	/* IN: TPACKET_V3 receive ring, our own transmissions left out. */
	in = ring_sock(argv[optind], TPACKET_V3, htons(ETH_P_ALL), &in_idx);
	if (in < 0)
		return 1;
	setsockopt(in, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));
	rreq.tp_block_size = RX_BLOCK_SIZE;
	rreq.tp_block_nr = rx_blocks;
	rreq.tp_frame_size = FRAME_SIZE;
	rreq.tp_frame_nr = rx_blocks * (RX_BLOCK_SIZE / FRAME_SIZE);
	rreq.tp_retire_blk_tov = RX_BLOCK_TOV_MS;
	if (setsockopt(in, SOL_PACKET, PACKET_RX_RING, &rreq, sizeof(rreq))) {
		perror("xvr-pfmmap: PACKET_RX_RING");
		return 1;
	}
	rx.nr = rx_blocks;
	rx.map = mmap(NULL, (size_t)RX_BLOCK_SIZE * rx_blocks, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_LOCKED, in, 0);
	if (rx.map == MAP_FAILED) {
		perror("xvr-pfmmap: mmap RX ring");
		return 1;
	}

	/* OUT: TPACKET_V2 transmit ring; protocol 0, so it receives nothing. */
	tx.fd = ring_sock(argv[optind + 1], TPACKET_V2, 0, &out_idx);
	if (tx.fd < 0)
		return 1;
	if (setsockopt(tx.fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one)))
		perror("xvr-pfmmap: PACKET_QDISC_BYPASS");
	treq.tp_block_size = FRAME_SIZE * 64;
	treq.tp_frame_size = FRAME_SIZE;
	treq.tp_frame_nr = tx_frames;
	treq.tp_block_nr = tx_frames / 64;
	if (tx_frames < 64 || setsockopt(tx.fd, SOL_PACKET, PACKET_TX_RING, &treq, sizeof(treq))) {
		perror("xvr-pfmmap: PACKET_TX_RING");
		return 1;
	}
	tx.nr = tx_frames;
	tx.map = mmap(NULL, (size_t)FRAME_SIZE * tx_frames, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_LOCKED, tx.fd, 0);
	if (tx.map == MAP_FAILED) {
		perror("xvr-pfmmap: mmap TX ring");
		return 1;
	}
	/* sendto() without an address sends on the device bound. */
	{
		struct sockaddr_ll b = { .sll_family = AF_PACKET, .sll_ifindex = out_idx };

		if (bind(tx.fd, (struct sockaddr *)&b, sizeof(b))) {
			perror("xvr-pfmmap: bind OUT");
			return 1;
		}
	}

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (secs > 0)
		alarm(secs), sigaction(SIGALRM, &sa, NULL);
	/* Ready: the harness waits for this line before it starts the generator. */
	fprintf(stderr, "xvr-pfmmap: forwarding %s -> %s\n", argv[optind], argv[optind + 1]);

	while (!stop) {
		struct pollfd pfd = { .fd = in, .events = POLLIN | POLLERR };

		if (rx_block(&rx, &tx, smac, dmac, &cnt))
			continue;
		/* Nothing to read: what is queued goes out before we sleep. */
		tx_flush(&tx, &cnt, 0);
		if (poll(&pfd, 1, 100) < 0 && errno != EINTR) {
			perror("poll");
			break;
		}
	}
	/* Blocks handed over before the signal are forwarded, not left behind. */
	while (rx_block(&rx, &tx, smac, dmac, &cnt))
		;
	tx_flush(&tx, &cnt, 1);

	struct tpacket_stats_v3 st = { 0 };
	socklen_t sl = sizeof(st);

	getsockopt(in, SOL_PACKET, PACKET_STATISTICS, &st, &sl);
	printf("{\"sock_drops\":%u,\"rx\":%llu,\"tx\":%llu,\"drop_proto\":%llu,\"drop_ttl\":%llu,"
	       "\"tx_err\":%llu,\"tx_full\":%llu,\"sends\":%llu,\"send_err\":%llu}\n",
	       st.tp_drops, cnt.rx, cnt.tx, cnt.drop_proto, cnt.drop_ttl, cnt.tx_err,
	       cnt.tx_full, cnt.sends, cnt.send_err);
	return 0;
}
