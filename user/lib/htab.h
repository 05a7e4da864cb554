/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Chained hash of nodes embedding struct hnode first, their key at a fixed
 * offset. Keys are compared bytewise, so callers zero the padding in keys.
 * The buckets are allocated on the first add and double as the table fills.
 */
#ifndef XVR_HTAB_H
#define XVR_HTAB_H

#include <stddef.h>
#include <linux/types.h>

struct hnode {
	struct hnode *next;
	__u32 hash;
};

struct htab {
	struct hnode **buckets;
	__u32 mask;		/* buckets - 1, a power of two minus one */
	__u32 count;
	__u32 key_off;		/* key offset from the node */
	__u32 key_len;
};

__u32 htab_hash(const void *key, size_t len);
void htab_init(struct htab *h, size_t key_off, size_t key_len);
void htab_free(struct htab *h);	/* the table only; nodes are the caller's */
/* The node whose key equals key (hash: htab_hash of it), or NULL. */
void *htab_find(const struct htab *h, const void *key, __u32 hash);
/* -ENOMEM only when no bucket could be allocated; a table that cannot grow gets slower. */
int htab_add(struct htab *h, struct hnode *n, __u32 hash);
void htab_del(struct htab *h, struct hnode *n);
/* Call fn on every node; fn may delete the node it gets. */
void htab_each(struct htab *h, void (*fn)(struct hnode *n, void *arg), void *arg);

/* Every node e (bucket index i, next nx); the body may delete e, never add. */
#define htab_for_each(h, i, e, nx)						\
	for ((i) = 0; (h)->buckets && (i) <= (h)->mask; (i)++)			\
		for ((e) = (h)->buckets[i]; (e) && ((nx) = (e)->next, 1); (e) = (nx))

#endif /* XVR_HTAB_H */
