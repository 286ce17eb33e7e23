/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * All checksum arithmetic of fwd. The TC build uses the skb helpers, which
 * follow the skb's checksum state (CHECKSUM_PARTIAL from containers,
 * CHECKSUM_COMPLETE from NICs); hand arithmetic on such packets is wrong.
 * The UDP zero-checksum rule ("no checksum" stays 0) lives only here.
 *
 * Each helper returns 0 or FWD_REASON(FWD_CNT_ERR_REWRITE) and may move
 * packet data: callers reload packet pointers afterwards.
 */
#ifndef FWD_LIB_CSUM_H
#define FWD_LIB_CSUM_H

#include <stddef.h>
#include <linux/bpf.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include "../fwd_abi.h"
#include "parse.h"

/* UDP keeps a zero checksum zero; a computed 0 is written as 0xffff. */
static __always_inline __u64 csum_l4_flags(const struct fwd_pkt *pkt)
{
	return pkt->proto == FWD_PROTO_UDP ? BPF_F_MARK_MANGLED_0 : 0;
}

/* An IPv4 address changed: fix the IP header and the L4 pseudo-header sums. */
static __always_inline int csum4_replace_addr(struct __sk_buff *skb, const struct fwd_pkt *pkt,
					      __be32 from, __be32 to)
{
	if (bpf_l3_csum_replace(skb, pkt->l3_off + offsetof(struct iphdr, check), from, to,
				sizeof(to)))
		return FWD_REASON(FWD_CNT_ERR_REWRITE);
	if (bpf_l4_csum_replace(skb, pkt->l4_csum_off, from, to,
				BPF_F_PSEUDO_HDR | csum_l4_flags(pkt) | sizeof(to)))
		return FWD_REASON(FWD_CNT_ERR_REWRITE);
	return 0;
}

/*
 * A TCP/UDP port changed: fix the L4 sum. Without a UDP checksum nothing in
 * the packet compensates the change, so a CHECKSUM_COMPLETE skb's csum is
 * moved by the difference instead (bpf_csum_update is a no-op otherwise).
 */
static __always_inline int csum4_replace_port(struct __sk_buff *skb, const struct fwd_pkt *pkt,
					      __be16 from, __be16 to)
{
	if (pkt->proto == FWD_PROTO_UDP && pkt->udp_csum_zero) {
		__be32 old_word = from;
		__be32 new_word = to;

		bpf_csum_update(skb, bpf_csum_diff(&old_word, sizeof(old_word), &new_word,
						   sizeof(new_word), 0));
		return 0;
	}
	if (bpf_l4_csum_replace(skb, pkt->l4_csum_off, from, to, csum_l4_flags(pkt) | sizeof(to)))
		return FWD_REASON(FWD_CNT_ERR_REWRITE);
	return 0;
}

#endif /* FWD_LIB_CSUM_H */
