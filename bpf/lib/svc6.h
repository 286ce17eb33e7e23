/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * IPv6 service lookup (see svc4.h): the exact (daddr, dport, proto) first,
 * then the :: wildcard, which only matches packets addressed to one of the
 * host's own addresses, never routed traffic.
 */
#ifndef FWD_LIB_SVC6_H
#define FWD_LIB_SVC6_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "../fwd_abi.h"
#include "addr6.h"
#include "fib6.h"
#include "maps.h"
#include "parse.h"
#include "svc4.h"

/*
 * svc6_lookup - the mapping an IPv6 packet arriving on device @ifindex is
 * addressed to. Returns 0 and sets *@out, or FWD_REASON: NO_MATCH, NOT_LOCAL
 * (only the wildcard matched, for a destination that is not the host's),
 * LOOPBACK (a ::1 destination that arrived on a non-loopback device hit a
 * mapping: never forwarded).
 */
static __always_inline int svc6_lookup(struct __sk_buff *skb, __u32 ifindex,
				       const struct fwd_pkt *pkt, struct fwd_svc6_value **out)
{
	struct fwd_svc6_key key = {
		.host_port = pkt->dport,
		.proto = pkt->proto,
	};
	struct fwd_svc6_value *svc;
	int wildcard = 0;

	addr6_copy(key.host_addr, pkt->daddr6);
	svc = bpf_map_lookup_elem(&FWD_MAP_SVC6, &key);
	if (!svc) {
		__builtin_memset(key.host_addr, 0, sizeof(key.host_addr));
		svc = bpf_map_lookup_elem(&FWD_MAP_SVC6, &key);
		if (!svc)
			return FWD_REASON(FWD_CNT_PASS_NO_MATCH);
		wildcard = 1;
	}
	if (addr6_is_loopback(pkt->daddr6) && ifindex != LOOPBACK_IFINDEX)
		return FWD_REASON(FWD_CNT_DROP_LOOPBACK);
	if (wildcard && !fib6_is_local_dst(skb, pkt, ifindex))
		return FWD_REASON(FWD_CNT_PASS_NOT_LOCAL);
	*out = svc;
	return 0;
}

#endif /* FWD_LIB_SVC6_H */
