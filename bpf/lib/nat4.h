/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * IPv4 address/port rewriting for both directions, in TC and in XDP.
 *
 * The address, the port and the IPv4 header checksum are written directly
 * into the packet. The L4 checksum is then fixed by the skb helpers (TC) or by
 * hand (XDP, full checksums only). Every bound is checked before the first
 * write; a TC helper failure after that is counted by the caller. The TC
 * variants may move packet data (packet pointers are invalid afterwards).
 */
#ifndef FWD_LIB_NAT4_H
#define FWD_LIB_NAT4_H

#include <stddef.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include "../fwd_abi.h"
#include "parse.h"
#include "csum.h"
#include "nat.h"

/* Largest L4 header offset (Ethernet + IPv4 with options) as a mask the verifier can bound. */
#define NAT4_L4_OFF_MASK 0x7f

struct nat4_change {
	enum nat_side side;
	__be32 old_addr;
	__be32 new_addr;
	__be16 old_port;
	__be16 new_port;
};

static __always_inline struct nat4_change nat4_change_of(const struct fwd_pkt *pkt,
							 enum nat_side side, __be32 addr,
							 __be16 port)
{
	struct nat4_change change = {
		.side = side,
		.old_addr = side == NAT_DST ? pkt->daddr : pkt->saddr,
		.new_addr = addr,
		.old_port = side == NAT_DST ? pkt->dport : pkt->sport,
		.new_port = port,
	};
	return change;
}

/* Write the address, the IPv4 checksum and the port of @change into [@data, @data_end). */
static __always_inline int nat4_write_headers(void *data, void *data_end,
					      const struct fwd_pkt *pkt,
					      const struct nat4_change *change)
{
	struct iphdr *ip = data + ETH_HLEN;
	__be16 *ports = data + (pkt->l4_off & NAT4_L4_OFF_MASK);

	if ((void *)(ip + 1) > data_end || (void *)(ports + 2) > data_end)
		return FWD_REASON(FWD_CNT_ERR_REWRITE);
	if (change->old_addr != change->new_addr) {
		if (change->side == NAT_DST)
			ip->daddr = change->new_addr;
		else
			ip->saddr = change->new_addr;
		ip->check = csum_replace32(ip->check, change->old_addr, change->new_addr);
	}
	if (change->old_port != change->new_port)
		ports[change->side] = change->new_port;
	return 0;
}

/* nat4_rewrite_skb - apply @change to a TC packet. */
static __always_inline int nat4_rewrite_skb(struct __sk_buff *skb, const struct fwd_pkt *pkt,
					    const struct nat4_change *change)
{
	int ret = nat4_write_headers((void *)(long)skb->data, (void *)(long)skb->data_end, pkt,
				     change);

	if (ret)
		return ret;
	if (change->old_addr != change->new_addr) {
		ret = csum4_replace_addr(skb, pkt, change->old_addr, change->new_addr);
		if (ret)
			return ret;
	}
	if (change->old_port != change->new_port)
		return csum_replace_port(skb, pkt, change->old_port, change->new_port);
	return 0;
}

/*
 * nat4_rewrite_xdp - apply @change to an XDP frame whose L4 checksum is a
 * full one (the caller has ruled out a partial one).
 */
static __always_inline int nat4_rewrite_xdp(struct xdp_md *ctx, const struct fwd_pkt *pkt,
					    const struct nat4_change *change)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u16 *l4_check = data + (pkt->l4_csum_off & NAT4_L4_OFF_MASK);
	__u16 check;
	int ret;

	if ((void *)(l4_check + 1) > data_end)
		return FWD_REASON(FWD_CNT_ERR_REWRITE);
	ret = nat4_write_headers(data, data_end, pkt, change);
	if (ret)
		return ret;
	if (pkt->proto == FWD_PROTO_UDP && pkt->udp_csum_zero)
		return 0;
	check = csum_replace32(*l4_check, change->old_addr, change->new_addr);
	check = csum_replace16(check, change->old_port, change->new_port);
	if (pkt->proto == FWD_PROTO_UDP && check == 0)
		check = 0xffff;
	*l4_check = check;
	return 0;
}

#endif /* FWD_LIB_NAT4_H */
