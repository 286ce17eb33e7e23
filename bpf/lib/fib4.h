/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Routing questions fwd asks the kernel's FIB: is a destination local (the
 * 0.0.0.0 wildcard only matches those), and where does a translated packet go
 * next (the redirect fast path).
 */
#ifndef FWD_LIB_FIB4_H
#define FWD_LIB_FIB4_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "../fwd_abi.h"
#include "csum.h"
#include "fib.h"
#include "maps.h"
#include "parse.h"

/*
 * fib4_is_local_dst - does the kernel deliver @pkt, which arrived on
 * @ifindex, locally? A FIB lookup that answers "not forwarded" means a local,
 * broadcast or multicast route. Multicast, limited broadcast and frames sent
 * to a link broadcast/multicast address (a subnet-directed broadcast) are
 * excluded. Needs forwarding enabled on the ingress device (fwd's DNAT needs
 * it anyway). @ctx is the skb or the XDP frame.
 */
static __always_inline int fib4_is_local_dst(void *ctx, const struct fwd_pkt *pkt, __u32 ifindex)
{
	struct bpf_fib_lookup params = {
		.family = AF_INET,
		.l4_protocol = pkt->proto,
		.sport = pkt->sport,
		.dport = pkt->dport,
		.ipv4_src = pkt->saddr,
		.ipv4_dst = pkt->daddr,
		.ifindex = ifindex,
	};
	__u32 dst = bpf_ntohl(pkt->daddr);

	if ((dst >> 28) == 0xe || dst == 0xffffffff || pkt->link_multicast)
		return 0;
	return bpf_fib_lookup(ctx, &params, sizeof(params), 0) == BPF_FIB_LKUP_RET_NOT_FWDED;
}

/*
 * fib4_next_hop - where would the stack forward @pkt once it carries
 * @saddr -> @daddr? Fills @fib and returns the lookup result when the packet
 * can go straight to a device (BPF_FIB_LKUP_RET_SUCCESS, or _NO_NEIGH: the
 * neighbour still needs resolving), else -1 and the stack decides: no route,
 * a local destination, forwarding off, TTL about to expire, too big for the
 * next hop (the stack sends the ICMP error).
 */
static __always_inline int fib4_next_hop(struct __sk_buff *skb, const struct fwd_pkt *pkt,
					 __be32 saddr, __be32 daddr, struct bpf_fib_lookup *fib)
{
	int ret;

	if (pkt->ttl <= 1 || !fib_fast_path_enabled())
		return -1;
	__builtin_memset(fib, 0, sizeof(*fib));
	fib->family = AF_INET;
	fib->tos = pkt->tos;
	fib->l4_protocol = pkt->proto;
	/*
	 * With a length the FIB checks it against the route's MTU. A GSO packet is longer than
	 * its segments: without one the helper checks the skb against the device MTU, segment
	 * by segment.
	 */
	fib->tot_len = skb->gso_size ? 0 : pkt->l4_len + (pkt->l4_off - ETH_HLEN);
	fib->ipv4_src = saddr;
	fib->ipv4_dst = daddr;
	fib->ifindex = skb->ifindex;
	ret = bpf_fib_lookup(skb, fib, sizeof(*fib), 0);
	if (ret == BPF_FIB_LKUP_RET_SUCCESS || ret == BPF_FIB_LKUP_RET_NO_NEIGH)
		return ret;
	return -1;
}

/*
 * fib4_redirect - forward a translated packet to the next hop fib4_next_hop
 * found for it, as the stack would: TTL decremented, Ethernet addresses of the
 * egress device and the neighbour. Returns the TC verdict.
 */
static __always_inline int fib4_redirect(struct __sk_buff *skb, const struct bpf_fib_lookup *fib,
					 int lookup)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct iphdr *ip = data + ETH_HLEN;
	__u16 *ttl_word = (__u16 *)&ip->ttl; /* TTL and protocol share one checksum word */
	__u16 old_word;

	if ((void *)(ip + 1) > data_end)
		return TC_ACT_OK;
	old_word = *ttl_word;
	ip->ttl -= 1;
	ip->check = csum_replace16(ip->check, old_word, *ttl_word);
	return fib_send(skb, fib, lookup);
}

#endif /* FWD_LIB_FIB4_H */
