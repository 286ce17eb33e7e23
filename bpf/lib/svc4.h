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
#include "maps.h"
#include "parse.h"

#ifndef PACKET_BROADCAST
#define PACKET_BROADCAST 1
#define PACKET_MULTICAST 2
#endif
#ifndef AF_INET
#define AF_INET 2
#endif
#define LOOPBACK_IFINDEX 1

/*
 * fib4_is_local_dst - does the kernel deliver @pkt's destination locally?
 * A FIB lookup that answers "not forwarded" means a local, broadcast or
 * multicast route. Multicast, limited broadcast and frames sent to a link
 * broadcast/multicast address (a subnet-directed broadcast) are excluded.
 * Needs forwarding enabled on the ingress device (fwd's DNAT needs it anyway).
 */
static __always_inline int fib4_is_local_dst(struct __sk_buff *skb, const struct fwd_pkt *pkt)
{
	struct bpf_fib_lookup params = {
		.family = AF_INET,
		.l4_protocol = pkt->proto,
		.sport = pkt->sport,
		.dport = pkt->dport,
		.ipv4_src = pkt->saddr,
		.ipv4_dst = pkt->daddr,
		.ifindex = skb->ifindex,
	};
	__u32 dst = bpf_ntohl(pkt->daddr);

	if ((dst >> 28) == 0xe || dst == 0xffffffff)
		return 0;
	if (skb->pkt_type == PACKET_BROADCAST || skb->pkt_type == PACKET_MULTICAST)
		return 0;
	return bpf_fib_lookup(skb, &params, sizeof(params), 0) == BPF_FIB_LKUP_RET_NOT_FWDED;
}

/*
 * svc4_lookup - the mapping a packet arriving on this device is addressed to.
 * Returns 0 and sets *@out, or FWD_REASON: NO_MATCH, NOT_LOCAL (only the
 * wildcard matched, for a routed destination), LOOPBACK (a 127/8 destination
 * that arrived on a non-loopback device hit a mapping: never forwarded).
 */
static __always_inline int svc4_lookup(struct __sk_buff *skb, const struct fwd_pkt *pkt,
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
	if (ipv4_is_loopback(pkt->daddr) && skb->ifindex != LOOPBACK_IFINDEX)
		return FWD_REASON(FWD_CNT_DROP_LOOPBACK);
	if (wildcard && !fib4_is_local_dst(skb, pkt))
		return FWD_REASON(FWD_CNT_PASS_NOT_LOCAL);
	*out = svc;
	return 0;
}

#endif /* FWD_LIB_SVC4_H */
