/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * IPv6 address/port rewriting for both directions, in TC (the XDP program is
 * IPv4 only). The address (16 bytes) and the port are written directly into
 * the packet; IPv6 has no header checksum; the L4 checksum is then fixed by
 * the skb helpers (csum.h), which follow the skb's checksum state. Every
 * bound is checked before the first write. May move packet data (packet
 * pointers are invalid afterwards).
 */
#ifndef FWD_LIB_NAT6_H
#define FWD_LIB_NAT6_H

#include <stddef.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include "../fwd_abi.h"
#include "addr6.h"
#include "csum.h"
#include "nat.h"
#include "parse.h"
#include "parse6.h"

struct nat6_change {
	enum nat_side side;
	__be32 old_addr[4];
	__be32 new_addr[4];
	__be16 old_port;
	__be16 new_port;
};

static __always_inline struct nat6_change nat6_change_of(const struct fwd_pkt *pkt,
							 enum nat_side side, const __be32 *addr,
							 __be16 port)
{
	struct nat6_change change = {
		.side = side,
		.old_port = side == NAT_DST ? pkt->dport : pkt->sport,
		.new_port = port,
	};

	addr6_copy(change.old_addr, side == NAT_DST ? pkt->daddr6 : pkt->saddr6);
	addr6_copy(change.new_addr, addr);
	return change;
}

/* Write the address and the port of @change into the TC packet @skb. */
static __always_inline int nat6_write_headers(struct __sk_buff *skb, const struct fwd_pkt *pkt,
					      const struct nat6_change *change)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ipv6hdr *ip6 = data + ETH_HLEN;
	__be16 *ports = data + (pkt->l4_off & PARSE6_OFF_MASK);

	if ((void *)(ip6 + 1) > data_end || (void *)(ports + 2) > data_end)
		return FWD_REASON(FWD_CNT_ERR_REWRITE);
	if (change->side == NAT_DST)
		addr6_copy((__be32 *)&ip6->daddr, change->new_addr);
	else
		addr6_copy((__be32 *)&ip6->saddr, change->new_addr);
	ports[change->side] = change->new_port;
	return 0;
}

/* nat6_rewrite_skb - apply @change to a TC packet. */
static __always_inline int nat6_rewrite_skb(struct __sk_buff *skb, const struct fwd_pkt *pkt,
					    const struct nat6_change *change)
{
	int ret = nat6_write_headers(skb, pkt, change);

	if (ret)
		return ret;
	if (!addr6_equal(change->old_addr, change->new_addr)) {
		ret = csum6_replace_addr(skb, pkt, change->old_addr, change->new_addr);
		if (ret)
			return ret;
	}
	if (change->old_port != change->new_port)
		return csum_replace_port(skb, pkt, change->old_port, change->new_port);
	return 0;
}

#endif /* FWD_LIB_NAT6_H */
