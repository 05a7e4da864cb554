/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* fuzz_progs' inputs: the corpus, a pool of inputs, and their mutations. */
#ifndef XVR_FUZZ_MUTATE_H
#define XVR_FUZZ_MUTATE_H

#include <linux/types.h>

#define FUZZ_MAX_INPUT	1600
#define MAX_POOL	4096

/* Two control bytes (device, program) and a frame. */
struct input {
	__u32 len;
	__u8 data[FUZZ_MAX_INPUT];
};

extern struct input *pool;	/* MAX_POOL inputs */
extern unsigned int npool;
extern __u64 rng_state;		/* the seed, never 0 */

__u64 rnd(void);
void pool_add(const __u8 *data, __u32 len);
/* Every file of dir into the pool; -1 when dir cannot be read. */
int load_dir(const char *dir);
/* One to four mutations; IPv4's header checksum fixed half of the time. */
void mutate(struct input *in);
/* The input as dir/crash-<hash>. */
int write_crash(const char *dir, const struct input *in);

#endif
