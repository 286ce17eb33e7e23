/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The IPv6 twin of fib4.h: is a destination local (the :: wildcard only
 * matches those), and where does a translated packet go next (the redirect
 * fast path).
 */
#ifndef FWD_LIB_FIB6_H
#define FWD_LIB_FIB6_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "../fwd_abi.h"
#include "addr6.h"
#include "csum.h"
#include "fib.h"
#include "parse.h"

/*
 * fib6_is_local_dst - does the kernel deliver @pkt, which arrived on
 * @ifindex, locally? As fib4_is_local_dst: a FIB lookup that answers "not
 * forwarded". The helper answers that for every link-local or multicast
 * address before it looks at a route, so multicast and link-local
 * destinations (the FIB cannot tell whose they are) and frames sent to a link
 * broadcast/multicast address are excluded, and a link-local source is not
 * handed to it. Needs IPv6 forwarding on the ingress device. @ctx is the skb.
 */
static __always_inline int fib6_is_local_dst(void *ctx, const struct fwd_pkt *pkt, __u32 ifindex)
{
	struct bpf_fib_lookup params = {
		.family = AF_INET6,
		.l4_protocol = pkt->proto,
		.sport = pkt->sport,
		.dport = pkt->dport,
		.ifindex = ifindex,
	};

	if (addr6_is_multicast(pkt->daddr6) || addr6_is_link_local(pkt->daddr6) ||
	    pkt->link_multicast)
		return 0;
	if (!addr6_is_link_local(pkt->saddr6))
		addr6_copy(params.ipv6_src, pkt->saddr6);
	addr6_copy(params.ipv6_dst, pkt->daddr6);
	return bpf_fib_lookup(ctx, &params, sizeof(params), 0) == BPF_FIB_LKUP_RET_NOT_FWDED;
}

/*
 * fib6_next_hop - where would the stack forward @pkt once it carries
 * @saddr -> @daddr? As fib4_next_hop: fills @fib and returns the lookup result
 * when the packet can go straight to a device, else -1 (no route, local, hop
 * limit about to expire, too big for the next hop: the stack decides).
 */
static __always_inline int fib6_next_hop(struct __sk_buff *skb, const struct fwd_pkt *pkt,
					 const __be32 *saddr, const __be32 *daddr,
					 struct bpf_fib_lookup *fib)
{
	int ret;

	if (pkt->ttl <= 1 || !fib_fast_path_enabled())
		return -1;
	__builtin_memset(fib, 0, sizeof(*fib));
	fib->family = AF_INET6;
	fib->flowinfo = pkt->flowinfo6;
	fib->l4_protocol = pkt->proto;
	/* The length of the IPv6 packet (header, extension headers, L4); none for GSO (fib4.h). */
	fib->tot_len = skb->gso_size ? 0 : pkt->l4_len + (pkt->l4_off - ETH_HLEN);
	addr6_copy(fib->ipv6_src, saddr);
	addr6_copy(fib->ipv6_dst, daddr);
	fib->ifindex = skb->ifindex;
	ret = bpf_fib_lookup(skb, fib, sizeof(*fib), 0);
	if (ret == BPF_FIB_LKUP_RET_SUCCESS || ret == BPF_FIB_LKUP_RET_NO_NEIGH)
		return ret;
	return -1;
}

/*
 * fib6_redirect - forward a translated packet to the next hop fib6_next_hop
 * found for it, as the stack would: hop limit decremented (IPv6 has no header
 * checksum, but a CHECKSUM_COMPLETE csum covers it), Ethernet addresses of the
 * egress device and the neighbour.
 * Returns the TC verdict.
 */
static __always_inline int fib6_redirect(struct __sk_buff *skb, const struct bpf_fib_lookup *fib,
					 int lookup)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ipv6hdr *ip6 = data + ETH_HLEN;
	__be32 *hop_limit_word = (__be32 *)&ip6->payload_len; /* with next header and hop limit */
	__be32 old_word;

	if ((void *)(ip6 + 1) > data_end)
		return TC_ACT_OK;
	old_word = *hop_limit_word;
	ip6->hop_limit -= 1;
	csum6_header_word_changed(skb, old_word, *hop_limit_word);
	return fib_send(skb, fib, lookup);
}

#endif /* FWD_LIB_FIB6_H */
