// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * xvr-pfpacket: the benchmark's conventional user-space forwarder, the
 * baseline for afxdp engines (the Europa paper's user-mode Click): one
 * process, two PF_PACKET sockets, one system call per frame each way.
 *
 *   xvr-pfpacket [-c CPU] [-t SEC] -s SRCMAC -d DSTMAC IN OUT
 *
 * recvfrom() on IN, then for IPv4: TTL - 1 with an incremental header
 * checksum update (RFC 1624), destination MAC := DSTMAC, source MAC :=
 * SRCMAC, sendto() on OUT. Frames that are not IPv4 with TTL > 1 are
 * dropped and counted. Runs until SIGINT/SIGTERM (or -t SEC), then prints
 * its counters as JSON on stdout. Run it inside the namespace holding IN
 * and OUT (ip netns exec).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "common.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int open_sock(const char *dev, int *ifindex)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	int fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	int sz = 4 << 20;

	if (fd < 0)
		return -1;
	sll.sll_ifindex = if_nametoindex(dev);
	if (!sll.sll_ifindex) {
		close(fd);
		errno = ENODEV;
		return -1;
	}
	*ifindex = sll.sll_ifindex;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz));
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll))) {
		close(fd);
		return -1;
	}
	return fd;
}

static void usage(void)
{
	fprintf(stderr, "usage: xvr-pfpacket [-c CPU] [-t SEC] -s SRCMAC -d DSTMAC IN OUT\n");
	exit(2);
}

int main(int argc, char **argv)
{
	unsigned char smac[6], dmac[6], buf[2048];
	unsigned long long rx = 0, tx = 0, drop_proto = 0, drop_ttl = 0, tx_err = 0;
	int c, cpu = -1, secs = 0, have_s = 0, have_d = 0, in_idx, out_idx, in, out, err;
	struct sockaddr_ll to = { .sll_family = AF_PACKET, .sll_halen = 6 };
	struct sigaction sa = { .sa_handler = on_signal };

	while ((c = getopt(argc, argv, "c:t:s:d:h")) != -1) {
		switch (c) {
		case 'c': cpu = atoi(optarg); break;
		case 't': secs = atoi(optarg); break;
		case 's': if (parse_mac(optarg, smac)) usage(); have_s = 1; break;
		case 'd': if (parse_mac(optarg, dmac)) usage(); have_d = 1; break;
		default: usage();
		}
	}
	if (argc - optind != 2 || !have_s || !have_d)
		usage();
	if (cpu >= 0 && (err = cpu_pin(cpu)))
		fprintf(stderr, "%s: cpu %d: %s\n", "xvr-pfpacket", cpu, strerror(-err));
	in = open_sock(argv[optind], &in_idx);
	out = open_sock(argv[optind + 1], &out_idx);
	if (in < 0 || out < 0) {
		perror("xvr-pfpacket: socket");
		return 1;
	}
	/* The OUT socket must not read its own frames: receive nothing there. */
	shutdown(out, SHUT_RD);
	to.sll_ifindex = out_idx;
	memcpy(to.sll_addr, dmac, 6);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (secs > 0)
		alarm(secs), sigaction(SIGALRM, &sa, NULL);
	/* Ready: the harness waits for this line before it starts the generator. */
	fprintf(stderr, "xvr-pfpacket: forwarding %s -> %s\n", argv[optind], argv[optind + 1]);

	while (!stop) {
		struct sockaddr_ll from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(in, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("recvfrom");
			break;
		}
		if (from.sll_pkttype == PACKET_OUTGOING)
			continue;	/* our own or the stack's transmissions on IN */
		rx++;
		if (n < 34 || buf[12] != 0x08 || buf[13] != 0x00 || (buf[14] >> 4) != 4) {
			drop_proto++;
			continue;
		}
		if (buf[22] <= 1) {
			drop_ttl++;
			continue;
		}
		/* TTL - 1; checksum + 0x0100 (RFC 1624, one's complement). */
		buf[22]--;
		uint32_t sum = ((uint32_t)buf[24] << 8 | buf[25]) + 0x0100;
		sum = (sum & 0xffff) + (sum >> 16);
		buf[24] = sum >> 8;
		buf[25] = sum & 0xff;
		memcpy(buf, dmac, 6);
		memcpy(buf + 6, smac, 6);
		if (sendto(out, buf, n, 0, (struct sockaddr *)&to, sizeof(to)) == n)
			tx++;
		else
			tx_err++;
	}
	struct tpacket_stats st = { 0 };
	socklen_t sl = sizeof(st);

	getsockopt(in, SOL_PACKET, PACKET_STATISTICS, &st, &sl);
	printf("{\"sock_drops\":%u,\"rx\":%llu,\"tx\":%llu,\"drop_proto\":%llu,\"drop_ttl\":%llu,\"tx_err\":%llu}\n",
	       st.tp_drops, rx, tx, drop_proto, drop_ttl, tx_err);
	return 0;
}
