/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Service lookup: the exact (daddr, dport, proto) first, then the 0.0.0.0
 * wildcard, which only matches packets addressed to one of the host's own
 * addresses (like iptables' --dst-type LOCAL), never routed traffic.
 */
#ifndef FWD_LIB_SVC4_H
#define FWD_LIB_SVC4_H

#include <linux/bpf.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "../fwd_abi.h"
#include "addr4.h"
#include "fib4.h"
#include "maps.h"
#include "parse.h"

#define LOOPBACK_IFINDEX 1

/*
 * svc4_lookup - the mapping a packet arriving on device @ifindex is addressed
 * to. @ctx is the skb or the XDP frame (for the FIB).
 * Returns 0 and sets *@out, or FWD_REASON: NO_MATCH, NOT_LOCAL (only the
 * wildcard matched, for a routed destination), LOOPBACK (a 127/8 destination
 * that arrived on a non-loopback device hit a mapping: never forwarded).
 */
static __always_inline int svc4_lookup(void *ctx, __u32 ifindex, const struct fwd_pkt *pkt,
				       struct fwd_svc4_value **out)
{
	struct fwd_svc4_key key = {
		.host_addr = pkt->daddr,
		.host_port = pkt->dport,
		.proto = pkt->proto,
	};
	struct fwd_svc4_value *svc = bpf_map_lookup_elem(&FWD_MAP_SVC4, &key);
	int wildcard = 0;

	if (!svc) {
		key.host_addr = 0;
		svc = bpf_map_lookup_elem(&FWD_MAP_SVC4, &key);
		if (!svc)
			return FWD_REASON(FWD_CNT_PASS_NO_MATCH);
		wildcard = 1;
	}
	if (ipv4_is_loopback(pkt->daddr) && ifindex != LOOPBACK_IFINDEX)
		return FWD_REASON(FWD_CNT_DROP_LOOPBACK);
	if (wildcard && !fib4_is_local_dst(ctx, pkt, ifindex))
		return FWD_REASON(FWD_CNT_PASS_NOT_LOCAL);
	*out = svc;
	return 0;
}

#endif /* FWD_LIB_SVC4_H */
