/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * All checksum arithmetic of fwd.
 *
 * The IPv4 header checksum is always a full one and is updated by hand
 * (RFC 1624). L4 checksums in TC go through the skb helpers, which follow the
 * skb's checksum state (CHECKSUM_PARTIAL from containers, CHECKSUM_COMPLETE
 * from NICs); hand arithmetic on such packets is wrong. XDP has no skb: it
 * updates full L4 checksums by hand and leaves partial ones to TC (see
 * csum4_l4_is_partial). The UDP zero-checksum rule ("no checksum" stays 0)
 * lives only here.
 *
 * The skb helpers return 0 or FWD_REASON(FWD_CNT_ERR_REWRITE) and may move
 * packet data: callers reload packet pointers afterwards.
 */
#ifndef FWD_LIB_CSUM_H
#define FWD_LIB_CSUM_H

#include <stddef.h>
#include <linux/bpf.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "../fwd_abi.h"
#include "parse.h"

/* A 32-bit one's-complement sum folded to 16 bits. */
static __always_inline __u16 csum_fold32(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)sum;
}

/*
 * A full checksum after a 16- or 32-bit field changed from @from to @to:
 * HC' = ~(~HC + ~m + m') (RFC 1624). Words are summed in memory order, so the
 * result is right whatever the byte order of the values.
 */
static __always_inline __u16 csum_replace16(__u16 check, __u16 from, __u16 to)
{
	__u32 sum = (__u16)~check + (__u16)~from + (__u32)to;

	return (__u16)~csum_fold32(sum);
}

static __always_inline __u16 csum_replace32(__u16 check, __u32 from, __u32 to)
{
	__u32 sum = (__u16)~check;

	sum += (__u16)~from + (__u16)~(from >> 16);
	sum += (to & 0xffff) + (to >> 16);
	return (__u16)~csum_fold32(sum);
}

/*
 * csum4_l4_is_partial - does @pkt's TCP/UDP checksum field hold only the
 * pseudo-header sum? That is what a local sender leaves for checksum offload
 * (CHECKSUM_PARTIAL: veth peers, containers); XDP cannot see the skb's state,
 * so it recognises the value. A full checksum equal to it by chance (1 in
 * 65536) is only left to TC, which is always right.
 */
static __always_inline int csum4_l4_is_partial(const struct fwd_pkt *pkt)
{
	__u32 sum = (pkt->saddr & 0xffff) + (pkt->saddr >> 16);

	sum += (pkt->daddr & 0xffff) + (pkt->daddr >> 16);
	sum += bpf_htons((__u16)pkt->proto) + bpf_htons(pkt->l4_len);
	return pkt->l4_csum == csum_fold32(sum);
}

/* UDP keeps a zero checksum zero; a computed 0 is written as 0xffff. */
static __always_inline __u64 csum_l4_flags(const struct fwd_pkt *pkt)
{
	return pkt->proto == FWD_PROTO_UDP ? BPF_F_MARK_MANGLED_0 : 0;
}

/* An IPv4 address changed: fix the L4 pseudo-header sum (the IPv4 header is fixed by hand). */
static __always_inline int csum4_replace_addr(struct __sk_buff *skb, const struct fwd_pkt *pkt,
					      __be32 from, __be32 to)
{
	if (bpf_l4_csum_replace(skb, pkt->l4_csum_off, from, to,
				BPF_F_PSEUDO_HDR | csum_l4_flags(pkt) | sizeof(to)))
		return FWD_REASON(FWD_CNT_ERR_REWRITE);
	return 0;
}

/*
 * A TCP/UDP port changed (either family): fix the L4 sum. Without a UDP
 * checksum (IPv4 only) nothing in the packet compensates the change, so a
 * CHECKSUM_COMPLETE skb's csum is moved by the difference instead
 * (bpf_csum_update is a no-op otherwise).
 */
static __always_inline int csum_replace_port(struct __sk_buff *skb, const struct fwd_pkt *pkt,
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

/* A full checksum after a 16-byte IPv6 address changed from @from to @to (hand arithmetic). */
static __always_inline __u16 csum_replace128(__u16 check, const __be32 *from, const __be32 *to)
{
	int i;

#pragma unroll
	for (i = 0; i < 4; i++)
		check = csum_replace32(check, from[i], to[i]);
	return check;
}

/*
 * An IPv6 address changed: fix the L4 pseudo-header sum. IPv6 has no header
 * checksum, so in the packet as a whole the address change and the L4
 * checksum change cancel out: a CHECKSUM_COMPLETE skb's csum must stay as it
 * is. bpf_l4_csum_replace with BPF_F_PSEUDO_HDR moves it by the difference
 * anyway (right for IPv4; BPF_F_IPV6, which turns that off, is Linux 6.16+),
 * so bpf_csum_update moves it back (a no-op on other skbs).
 */
static __always_inline int csum6_replace_addr(struct __sk_buff *skb, const struct fwd_pkt *pkt,
					      const __be32 *from, const __be32 *to)
{
	__be32 old_addr[4] = { from[0], from[1], from[2], from[3] };
	__be32 new_addr[4] = { to[0], to[1], to[2], to[3] };
	__s64 diff = bpf_csum_diff(old_addr, sizeof(old_addr), new_addr, sizeof(new_addr), 0);

	if (diff < 0 || bpf_l4_csum_replace(skb, pkt->l4_csum_off, 0, diff,
					    BPF_F_PSEUDO_HDR | csum_l4_flags(pkt)))
		return FWD_REASON(FWD_CNT_ERR_REWRITE);
	bpf_csum_update(skb, diff);
	return 0;
}

/*
 * A 32-bit word of an IPv6 header changed from @from to @to (the hop limit's):
 * no checksum covers it, so a CHECKSUM_COMPLETE skb's csum moves by the
 * difference (a no-op on other skbs).
 */
static __always_inline void csum6_header_word_changed(struct __sk_buff *skb, __be32 from, __be32 to)
{
	__s64 diff = bpf_csum_diff(&from, sizeof(from), &to, sizeof(to), 0);

	if (diff >= 0)
		bpf_csum_update(skb, diff);
}

#endif /* FWD_LIB_CSUM_H */
