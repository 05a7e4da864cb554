/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Broadcast sets: for each port and VLAN with VIFs, a devmap of those VIFs
 * (xvr_bcast, include/xvr/xvr.h), so that broadcast and multicast frames
 * reach every router there. Kept by `vif add`/`vif del`.
 */
#ifndef XVR_BCAST_H
#define XVR_BCAST_H

#include <xvr/xvr.h>
#include "node.h"

#define XVR_BCAST_PIN	"prog_bcast"	/* xvr_bcast_copy, under the pin root */

/* Puts VIF v (its node-side end) into the set of its port and VLAN. */
int bcast_join(struct xvr_node *n, const struct xvr_vif *v);
/* Takes v out of its set; the set goes with its last VIF. Missing is fine. */
int bcast_leave(struct xvr_node *n, const struct xvr_vif *v);
/* Whether v's node-side end is in its set: 1, 0, or -errno. */
int bcast_has(struct xvr_node *n, const struct xvr_vif *v);
/*
 * Every entry of every set to program prog_fd (after `node up` replaced
 * xvr_bcast_copy). Returns how many entries, or -errno.
 */
int bcast_reprogram(struct xvr_node *n, int prog_fd);
/*
 * Set entries whose device is no active port VIF of that port and VLAN (a
 * killed `vif del` or `router del`) go, and sets left empty with them.
 * vifs is the whole VIF table (XVR_MAX_VIFS entries). Returns how many.
 */
int bcast_prune(struct xvr_node *n, const struct xvr_vif *vifs);

#endif
