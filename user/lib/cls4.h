/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The IPv4 prefix rules' exact-match copy that ingress reads (xvr_cls_prefix4). */
#ifndef XVR_CLS4_H
#define XVR_CLS4_H

#include "node.h"

struct cls4_index {
	struct xvr_cls4_key *keys;	/* every IPv4 rule's key, sorted */
	int n;
	int changed;			/* entries written or deleted */
};

/*
 * Two steps, so that a frame classified meanwhile meets the old rules or
 * the new: cls4_stage() writes the entries that are missing or differ and
 * sets cfg's length lists; the caller publishes cfg; cls4_prune() then
 * deletes the entries of rules that are gone. cls4_index_free() after both.
 */
int cls4_stage(struct xvr_node *n, struct xvr_config *cfg, struct cls4_index *ix);
int cls4_prune(struct xvr_node *n, struct cls4_index *ix);
void cls4_index_free(struct cls4_index *ix);

#endif /* XVR_CLS4_H */
