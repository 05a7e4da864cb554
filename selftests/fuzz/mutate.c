// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * fuzz_progs' inputs: the corpus read into a pool, and mutations aimed at
 * what the parser looks at (EtherTypes, lengths, protocol numbers, flags),
 * from a seeded generator so that a run is reproducible from its seed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include "mutate.h"

struct input *pool;
unsigned int npool;
__u64 rng_state;

__u64 rnd(void)
{
	/* xorshift64*: reproducible from the seed */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

void pool_add(const __u8 *data, __u32 len)
{
	if (npool >= MAX_POOL)
		return;
	pool[npool].len = len > FUZZ_MAX_INPUT ? FUZZ_MAX_INPUT : len;
	memcpy(pool[npool].data, data, pool[npool].len);
	npool++;
}

int load_dir(const char *dir)
{
	struct dirent *e;
	char path[PATH_MAX];
	__u8 buf[FUZZ_MAX_INPUT];
	DIR *d = opendir(dir);

	if (!d) {
		fprintf(stderr, "fuzz_progs: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	while ((e = readdir(d))) {
		ssize_t n;
		int fd;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		fd = open(path, O_RDONLY);
		if (fd < 0)
			continue;
		n = read(fd, buf, sizeof(buf));
		close(fd);
		if (n > 0)
			pool_add(buf, n);
	}
	closedir(d);
	return 0;
}

/* The frame's IPv4 header (after up to two tags), for the checksum fix-up. */
static __u8 *ip4_of(__u8 *f, __u32 len)
{
	__u32 off = 12;

	for (int i = 0; i < 3 && off + 2 <= len; i++) {
		__u16 proto = f[off] << 8 | f[off + 1];

		if (proto == ETH_P_IP)
			return off + 22 <= len ? f + off + 2 : NULL;
		if (proto != ETH_P_8021Q && proto != ETH_P_8021AD)
			return NULL;
		off += 4;
	}
	return NULL;
}

/*
 * Most mutations of an IPv4 header fail its checksum, and the parser stops
 * there; fixing it half of the time lets the fuzzer reach what follows.
 */
static void ip4_fix(__u8 *f, __u32 len)
{
	__u8 *ip = ip4_of(f, len);
	__u32 sum = 0;

	if (!ip)
		return;
	ip[10] = ip[11] = 0;
	for (int i = 0; i < 20; i += 2)
		sum += ip[i] << 8 | ip[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	ip[10] = ~sum >> 8;
	ip[11] = ~sum & 0xff;
}

static const __u16 interesting16[] = {
	0x0000, 0xffff, 0x8100, 0x88a8, 0x0800, 0x86dd, 0x0806, 0x6558, 0x88b5,
	0x2000, 0xa000, 0x12b5, 0x1388, 0x0014, 0x0028, 0x05dc, 0x8000, 0x0001,
};
static const __u8 interesting8[] = { 0, 1, 0x45, 0x46, 0x4f, 0x60, 6, 17, 47, 44, 43, 60, 0, 0x7f, 0x80, 0xff };

void mutate(struct input *in)
{
	int n = 1 + rnd() % 4;
	__u32 at;

	for (int i = 0; i < n; i++) {
		__u32 len = in->len;

		at = len ? rnd() % len : 0;
		switch (rnd() % 9) {
		case 0:	/* flip a bit */
			if (len)
				in->data[at] ^= 1 << (rnd() % 8);
			break;
		case 1:	/* an interesting byte */
			if (len)
				in->data[at] = interesting8[rnd() % sizeof(interesting8)];
			break;
		case 2: { /* an interesting 16-bit word */
			__u16 v = interesting16[rnd() % (sizeof(interesting16) / 2)];

			if (at + 1 < len) {
				in->data[at] = v >> 8;
				in->data[at + 1] = v & 0xff;
			}
			break;
		}
		case 3:	/* truncate */
			in->len = at;
			break;
		case 4: { /* insert bytes */
			__u32 k = 1 + rnd() % 8;

			if (len + k <= FUZZ_MAX_INPUT) {
				memmove(in->data + at + k, in->data + at, len - at);
				for (__u32 j = 0; j < k; j++)
					in->data[at + j] = rnd();
				in->len += k;
			}
			break;
		}
		case 5: { /* delete bytes */
			__u32 k = 1 + rnd() % 8;

			if (at + k <= len) {
				memmove(in->data + at, in->data + at + k, len - at - k);
				in->len -= k;
			}
			break;
		}
		case 6: { /* splice the tail of another input */
			const struct input *o = &pool[rnd() % npool];
			__u32 from = o->len ? rnd() % o->len : 0;
			__u32 k = o->len - from;

			if (at + k > FUZZ_MAX_INPUT)
				k = FUZZ_MAX_INPUT - at;
			memcpy(in->data + at, o->data + from, k);
			in->len = at + k;
			break;
		}
		case 7:	/* a random byte */
			if (len)
				in->data[at] = rnd();
			break;
		default: /* another device, the other program */
			if (len >= 2)
				in->data[rnd() % 2] = rnd();
			break;
		}
	}
	if (in->len > 2 && rnd() % 2)
		ip4_fix(in->data + 2, in->len - 2);
}

int write_crash(const char *dir, const struct input *in)
{
	char path[PATH_MAX];
	__u64 h = 1469598103934665603ull;	/* FNV-1a of the input names it */
	FILE *f;

	for (__u32 i = 0; i < in->len; i++)
		h = (h ^ in->data[i]) * 1099511628211ull;
	snprintf(path, sizeof(path), "%s/crash-%016llx", dir, (unsigned long long)h);
	f = fopen(path, "w");
	if (!f || fwrite(in->data, 1, in->len, f) != in->len) {
		fprintf(stderr, "fuzz_progs: cannot write %s\n", path);
		if (f)
			fclose(f);
		return -1;
	}
	fclose(f);
	fprintf(stderr, "fuzz_progs: input written to %s\n", path);
	return 0;
}

