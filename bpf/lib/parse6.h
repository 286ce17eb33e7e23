/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * One parse pass over Ethernet + IPv6 (+ extension headers) + TCP/UDP that
 * fills struct fwd_pkt, the IPv6 twin of parse.h. Every access is
 * bounds-checked right before it; nothing is written.
 *
 * Extension headers: hop-by-hop options, destination options and a routing
 * header with no segments left are skipped (they change nothing fwd reads).
 * A routing header with segments left means the packet's final destination is
 * another one, so it passes (EXT_HEADERS). Any fragment header passes
 * (FRAGMENT), atomic ones included: reassembly is the stack's, and one rule
 * for every fragment is the simple, safe one. ESP, AH, the other extension
 * headers, more than PARSE6_MAX_EXT_HEADERS of them or more than
 * PARSE6_MAX_EXT_BYTES in all pass (EXT_HEADERS).
 */
#ifndef FWD_LIB_PARSE6_H
#define FWD_LIB_PARSE6_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "../fwd_abi.h"
#include "parse.h"

#define PARSE6_MAX_EXT_HEADERS 6
#define PARSE6_MAX_EXT_BYTES 256
/* Every offset up to the end of the extension headers, as a mask the verifier can bound. */
#define PARSE6_OFF_MASK 0x1ff
_Static_assert(ETH_HLEN + sizeof(struct ipv6hdr) + PARSE6_MAX_EXT_BYTES + 8 <= PARSE6_OFF_MASK + 1,
	       "IPv6 header offsets fit the mask");
/* Headers fwd reads: Ethernet, IPv6, the longest extension headers, TCP without options. */
#define PARSE6_MAX_HEADERS \
	(ETH_HLEN + sizeof(struct ipv6hdr) + PARSE6_MAX_EXT_BYTES + sizeof(struct tcphdr))

/* Next-header values of extension headers fwd does not walk (linux/in6.h has most, not all). */
#define PARSE6_NEXTHDR_MOBILITY 135
#define PARSE6_NEXTHDR_HIP 139
#define PARSE6_NEXTHDR_SHIM6 140
#define PARSE6_NEXTHDR_EXPERIMENT1 253
#define PARSE6_NEXTHDR_EXPERIMENT2 254

/* Where an IPv6 packet's headers end: its upper-layer protocol and its offset. */
struct parse6_upper {
	__u8 nexthdr;
	__u8 has_ext_headers;
	__u32 off; /* from the start of the frame */
	__u32 end; /* the end of the IPv6 payload (Ethernet padding excluded) */
};

/* Extension headers parse6_walk skips: each is next header, length in 8 bytes - 1, data. */
static __always_inline int parse6_is_skipped(__u8 nexthdr)
{
	return nexthdr == IPPROTO_HOPOPTS || nexthdr == IPPROTO_DSTOPTS ||
	       nexthdr == IPPROTO_ROUTING;
}

/* Extension headers that pass the packet: fwd does not walk past them. */
static __always_inline int parse6_is_opaque(__u8 nexthdr)
{
	return nexthdr == IPPROTO_ESP || nexthdr == IPPROTO_AH ||
	       nexthdr == PARSE6_NEXTHDR_MOBILITY || nexthdr == PARSE6_NEXTHDR_HIP ||
	       nexthdr == PARSE6_NEXTHDR_SHIM6 || nexthdr == PARSE6_NEXTHDR_EXPERIMENT1 ||
	       nexthdr == PARSE6_NEXTHDR_EXPERIMENT2;
}

/*
 * parse6_walk - skip the extension headers from @up->off (where a header of
 * type @up->nexthdr starts) to the upper-layer header, within [@data,
 * @data_end) and the payload end @up->end. Returns 0 and updates @up, or a
 * negative FWD_REASON: FRAGMENT, EXT_HEADERS (see the top of this file),
 * TRUNCATED (an extension header past the frame or the payload length).
 */
static __always_inline int parse6_walk(void *data, void *data_end, struct parse6_upper *up)
{
	__u32 limit = ETH_HLEN + sizeof(struct ipv6hdr) + PARSE6_MAX_EXT_BYTES;
	struct ipv6_opt_hdr *ext;
	__u8 *bytes;
	int i;

#pragma unroll
	for (i = 0; i < PARSE6_MAX_EXT_HEADERS; i++) {
		if (up->nexthdr == IPPROTO_FRAGMENT)
			return FWD_REASON(FWD_CNT_PASS_FRAGMENT);
		if (parse6_is_opaque(up->nexthdr))
			return FWD_REASON(FWD_CNT_PASS_EXT_HEADERS);
		if (!parse6_is_skipped(up->nexthdr))
			return 0;
		ext = data + (up->off & PARSE6_OFF_MASK);
		bytes = (void *)ext;
		if ((void *)(bytes + 8) > data_end || up->off + 8 > up->end)
			return FWD_REASON(FWD_CNT_PASS_TRUNCATED);
		/* Segments left: the packet is on its way to the next address of the route. */
		if (up->nexthdr == IPPROTO_ROUTING && bytes[3] != 0)
			return FWD_REASON(FWD_CNT_PASS_EXT_HEADERS);
		up->nexthdr = ext->nexthdr;
		up->off += (ext->hdrlen + 1) * 8;
		up->has_ext_headers = 1;
		if (up->off > limit)
			return FWD_REASON(FWD_CNT_PASS_EXT_HEADERS);
		if (up->off > up->end)
			return FWD_REASON(FWD_CNT_PASS_TRUNCATED);
	}
	if (up->nexthdr == IPPROTO_FRAGMENT)
		return FWD_REASON(FWD_CNT_PASS_FRAGMENT);
	if (parse6_is_opaque(up->nexthdr) || parse6_is_skipped(up->nexthdr))
		return FWD_REASON(FWD_CNT_PASS_EXT_HEADERS);
	return 0;
}

/*
 * parse_ipv6_header - the IPv6 header of the Ethernet frame in [@data,
 * @data_end), @pkt_len bytes long, and where its upper-layer header starts.
 * Returns 0 and sets *@out and @up, or a negative FWD_REASON: NOT_IP (not
 * IPv6), TRUNCATED (the header, an extension header or the payload length
 * runs past the packet), MALFORMED (version not 6, or a payload length of 0:
 * a jumbogram), and those of parse6_walk.
 */
static __always_inline int parse_ipv6_header(void *data, void *data_end, __u32 pkt_len,
					     struct ipv6hdr **out, struct parse6_upper *up)
{
	struct ethhdr *eth = data;
	struct ipv6hdr *ip6;
	__u32 payload_len;

	if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IPV6))
		return FWD_REASON(FWD_CNT_PASS_NOT_IP);
	ip6 = (void *)(eth + 1);
	if ((void *)(ip6 + 1) > data_end)
		return FWD_REASON(FWD_CNT_PASS_TRUNCATED);
	payload_len = bpf_ntohs(ip6->payload_len);
	if (ip6->version != 6 || payload_len == 0)
		return FWD_REASON(FWD_CNT_PASS_MALFORMED);
	if (ETH_HLEN + sizeof(*ip6) + payload_len > pkt_len)
		return FWD_REASON(FWD_CNT_PASS_TRUNCATED);
	up->nexthdr = ip6->nexthdr;
	up->has_ext_headers = 0;
	up->off = ETH_HLEN + sizeof(*ip6);
	up->end = ETH_HLEN + sizeof(*ip6) + payload_len;
	*out = ip6;
	return parse6_walk(data, data_end, up);
}

/*
 * parse_ipv6_l4 - parse eth/IPv6/TCP|UDP in [@data, @data_end) of a packet
 * @pkt_len bytes long. Returns 0 and fills @pkt, or a negative FWD_REASON:
 * those of parse_ipv6_header, NOT_L4 (neither TCP nor UDP: ICMPv6, no next
 * header, ...), those of parse_l4, and MALFORMED for UDP without a checksum
 * (illegal over IPv6, RFC 8200 8.1: such a datagram is not translated).
 */
static __always_inline int parse_ipv6_l4(void *data, void *data_end, __u32 pkt_len,
					 struct fwd_pkt *pkt)
{
	struct ethhdr *eth = data;
	struct parse6_upper up;
	struct ipv6hdr *ip6;
	int ret;

	ret = parse_ipv6_header(data, data_end, pkt_len, &ip6, &up);
	if (ret)
		return ret;
	if (up.nexthdr != IPPROTO_TCP && up.nexthdr != IPPROTO_UDP)
		return FWD_REASON(FWD_CNT_PASS_NOT_L4);

	pkt->l3_off = ETH_HLEN;
	pkt->l4_off = up.off & PARSE6_OFF_MASK;
	pkt->has_ip_options = up.has_ext_headers;
	__builtin_memcpy(pkt->saddr6, &ip6->saddr, sizeof(pkt->saddr6));
	__builtin_memcpy(pkt->daddr6, &ip6->daddr, sizeof(pkt->daddr6));
	pkt->flowinfo6 = *(__be32 *)ip6 & bpf_htonl(0x0fffffff);
	pkt->ttl = ip6->hop_limit;
	pkt->tos = (bpf_ntohl(pkt->flowinfo6) >> 20) & 0xff;
	pkt->link_multicast = eth->h_dest[0] & 1;
	ret = parse_l4(data + pkt->l4_off, data_end, up.nexthdr, up.end - up.off, pkt);
	if (ret)
		return ret;
	if (pkt->udp_csum_zero)
		return FWD_REASON(FWD_CNT_PASS_MALFORMED);
	return 0;
}

/* parse6_skb - parse_ipv6_l4 on a TC packet, pulling its headers in first. */
static __always_inline int parse6_skb(struct __sk_buff *skb, struct fwd_pkt *pkt)
{
	parse_linearize(skb, PARSE6_MAX_HEADERS);
	return parse_ipv6_l4((void *)(long)skb->data, (void *)(long)skb->data_end, skb->len, pkt);
}

#endif /* FWD_LIB_PARSE6_H */
