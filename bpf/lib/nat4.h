/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * IPv4 address/port rewriting for both directions. All checks happen before
 * the first write; a helper failure after that is counted by the caller.
 * Both helpers may move packet data (packet pointers are invalid afterwards).
 */
#ifndef FWD_LIB_NAT4_H
#define FWD_LIB_NAT4_H

#include <stddef.h>
#include <linux/bpf.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include "../fwd_abi.h"
#include "parse.h"
#include "csum.h"

/* The L4 port field offsets are the same for TCP and UDP (source, then dest). */
_Static_assert(offsetof(struct tcphdr, source) == offsetof(struct udphdr, source), "sport");
_Static_assert(offsetof(struct tcphdr, dest) == offsetof(struct udphdr, dest), "dport");

static __always_inline int nat4_rewrite(struct __sk_buff *skb, const struct fwd_pkt *pkt,
					__u32 addr_off, __be32 old_addr, __be32 new_addr,
					__u32 port_off, __be16 old_port, __be16 new_port)
{
	int ret;

	if (old_addr != new_addr) {
		ret = csum4_replace_addr(skb, pkt, old_addr, new_addr);
		if (ret)
			return ret;
		if (bpf_skb_store_bytes(skb, addr_off, &new_addr, sizeof(new_addr), 0))
			return FWD_REASON(FWD_CNT_ERR_REWRITE);
	}
	if (old_port != new_port) {
		ret = csum4_replace_port(skb, pkt, old_port, new_port);
		if (ret)
			return ret;
		if (bpf_skb_store_bytes(skb, port_off, &new_port, sizeof(new_port), 0))
			return FWD_REASON(FWD_CNT_ERR_REWRITE);
	}
	return 0;
}

/* nat4_rewrite_dst - client -> container: set destination address and port. */
static __always_inline int nat4_rewrite_dst(struct __sk_buff *skb, const struct fwd_pkt *pkt,
					    __be32 addr, __be16 port)
{
	return nat4_rewrite(skb, pkt, pkt->l3_off + offsetof(struct iphdr, daddr), pkt->daddr, addr,
			    pkt->l4_off + offsetof(struct tcphdr, dest), pkt->dport, port);
}

/* nat4_rewrite_src - container -> client: restore the published source address and port. */
static __always_inline int nat4_rewrite_src(struct __sk_buff *skb, const struct fwd_pkt *pkt,
					    __be32 addr, __be16 port)
{
	return nat4_rewrite(skb, pkt, pkt->l3_off + offsetof(struct iphdr, saddr), pkt->saddr, addr,
			    pkt->l4_off + offsetof(struct tcphdr, source), pkt->sport, port);
}

#endif /* FWD_LIB_NAT4_H */
