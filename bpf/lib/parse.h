/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * One parse pass over Ethernet + IPv4 + TCP/UDP that fills struct fwd_pkt
 * (IPv6: parse6.h, which shares the TCP/UDP part, parse_l4).
 * Every access is bounds-checked right before it; nothing is written.
 */
#ifndef FWD_LIB_PARSE_H
#define FWD_LIB_PARSE_H

#include <stddef.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "../fwd_abi.h"

/* Headers fwd reads: Ethernet, IPv4 with the longest options, TCP without options. */
#define PARSE_MAX_HEADERS (ETH_HLEN + 60 + sizeof(struct tcphdr))

/* A parsed TCP/UDP packet of either family; the addresses are those of its family. */
struct fwd_pkt {
	__u32 l3_off;    /* offset of the IP header from skb->data */
	__u32 l4_off;    /* offset of the TCP/UDP header */
	__u32 l4_csum_off; /* offset of the TCP/UDP checksum field */
	__u8 proto;      /* FWD_PROTO_TCP or FWD_PROTO_UDP */
	__u8 has_ip_options; /* IPv4 options, or IPv6 extension headers */
	__u8 tcp_syn;    /* TCP SYN without ACK: a new connection */
	__u8 udp_csum_zero; /* UDP datagram sent without a checksum */
	__u8 link_multicast; /* sent to an Ethernet broadcast/multicast address */
	__u8 ttl;        /* IPv4 TTL, IPv6 hop limit */
	__u8 tos;        /* IPv4 TOS, IPv6 traffic class */
	__u8 tcp_fin_rst; /* TCP FIN or RST: the connection is closing */
	__u16 l4_len;    /* TCP/UDP header plus payload, from the IP header's length */
	__be16 l4_csum;  /* the TCP/UDP checksum field as received */
	union {
		struct { /* IPv4 */
			__be32 saddr;
			__be32 daddr;
		};
		struct { /* IPv6 */
			__be32 saddr6[4];
			__be32 daddr6[4];
			__be32 flowinfo6; /* traffic class and flow label, as in the header */
		};
	};
	__be16 sport;
	__be16 dport;
};

/*
 * parse_linearize - make the first @max bytes fwd reads directly accessible.
 * GRO'd or paged skbs may hold headers outside the linear area. Pulls at most
 * @max bytes, and only when needed. Invalidates packet pointers.
 */
static __always_inline void parse_linearize(struct __sk_buff *skb, __u32 max)
{
	__u32 linear = skb->data_end - skb->data;
	__u32 want = skb->len < max ? skb->len : max;

	if (linear < want)
		bpf_skb_pull_data(skb, want);
}

/*
 * parse_l4 - the TCP or UDP (@proto) header at @l4, inside [.., @data_end),
 * of an L4 packet @l4_len bytes long by its IP header. pkt->l4_off must be
 * set. Fills @pkt's L4 fields; returns 0 or a negative FWD_REASON: TRUNCATED
 * (header past the frame or the IP length), MALFORMED (TCP data offset < 5,
 * UDP length outside [8, @l4_len]).
 */
static __always_inline int parse_l4(void *l4, void *data_end, __u8 proto, __u32 l4_len,
				    struct fwd_pkt *pkt)
{
	pkt->proto = proto;
	pkt->l4_len = l4_len;
	pkt->tcp_syn = 0;
	pkt->tcp_fin_rst = 0;
	pkt->udp_csum_zero = 0;

	if (proto == IPPROTO_TCP) {
		struct tcphdr *tcp = l4;

		if ((void *)(tcp + 1) > data_end || l4_len < sizeof(*tcp))
			return FWD_REASON(FWD_CNT_PASS_TRUNCATED);
		if (tcp->doff < 5)
			return FWD_REASON(FWD_CNT_PASS_MALFORMED);
		pkt->sport = tcp->source;
		pkt->dport = tcp->dest;
		pkt->tcp_syn = tcp->syn && !tcp->ack;
		pkt->tcp_fin_rst = tcp->fin || tcp->rst;
		pkt->l4_csum = tcp->check;
		pkt->l4_csum_off = pkt->l4_off + offsetof(struct tcphdr, check);
	} else {
		struct udphdr *udp = l4;

		if ((void *)(udp + 1) > data_end || l4_len < sizeof(*udp))
			return FWD_REASON(FWD_CNT_PASS_TRUNCATED);
		if (bpf_ntohs(udp->len) < sizeof(*udp) || bpf_ntohs(udp->len) > l4_len)
			return FWD_REASON(FWD_CNT_PASS_MALFORMED);
		pkt->sport = udp->source;
		pkt->dport = udp->dest;
		pkt->udp_csum_zero = udp->check == 0;
		pkt->l4_csum = udp->check;
		pkt->l4_csum_off = pkt->l4_off + offsetof(struct udphdr, check);
	}
	return 0;
}

/*
 * parse_ipv4_header - the IPv4 header of the Ethernet frame in
 * [@data, @data_end), @pkt_len bytes long (the skb or XDP frame length).
 * Returns 0 and sets *@out, or a negative FWD_REASON: NOT_IP (not IPv4),
 * TRUNCATED (the header or the total length runs past the packet), MALFORMED
 * (ihl < 5, total length below the header), FRAGMENT (first or later:
 * translating only some pieces would break the datagram).
 */
static __always_inline int parse_ipv4_header(void *data, void *data_end, __u32 pkt_len,
					     struct iphdr **out)
{
	struct ethhdr *eth = data;
	struct iphdr *ip;
	__u16 tot_len;

	if ((void *)(eth + 1) > data_end)
		return FWD_REASON(FWD_CNT_PASS_NOT_IP);
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return FWD_REASON(FWD_CNT_PASS_NOT_IP);

	ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end)
		return FWD_REASON(FWD_CNT_PASS_TRUNCATED);
	if (ip->version != 4 || ip->ihl < 5)
		return FWD_REASON(FWD_CNT_PASS_MALFORMED);
	tot_len = bpf_ntohs(ip->tot_len);
	if (tot_len < ip->ihl * 4)
		return FWD_REASON(FWD_CNT_PASS_MALFORMED);
	if (ETH_HLEN + (__u32)tot_len > pkt_len)
		return FWD_REASON(FWD_CNT_PASS_TRUNCATED);
	if (ip->frag_off & bpf_htons(0x3fff))
		return FWD_REASON(FWD_CNT_PASS_FRAGMENT);
	*out = ip;
	return 0;
}

/*
 * parse_ipv4_l4 - parse eth/IPv4/TCP|UDP in [@data, @data_end) of a packet
 * @pkt_len bytes long. Returns 0 and fills @pkt, or a negative FWD_REASON:
 * those of parse_ipv4_header, NOT_L4 (neither TCP nor UDP), or TRUNCATED and
 * MALFORMED for the TCP/UDP header.
 */
static __always_inline int parse_ipv4_l4(void *data, void *data_end, __u32 pkt_len,
					 struct fwd_pkt *pkt)
{
	struct ethhdr *eth = data;
	struct iphdr *ip;
	__u32 ihl_bytes;
	__u16 tot_len;
	int ret;

	ret = parse_ipv4_header(data, data_end, pkt_len, &ip);
	if (ret)
		return ret;
	if (ip->protocol != IPPROTO_TCP && ip->protocol != IPPROTO_UDP)
		return FWD_REASON(FWD_CNT_PASS_NOT_L4);
	ihl_bytes = ip->ihl * 4;
	tot_len = bpf_ntohs(ip->tot_len);

	pkt->l3_off = ETH_HLEN;
	pkt->l4_off = ETH_HLEN + ihl_bytes;
	pkt->has_ip_options = ihl_bytes > sizeof(struct iphdr);
	pkt->saddr = ip->saddr;
	pkt->daddr = ip->daddr;
	pkt->ttl = ip->ttl;
	pkt->tos = ip->tos;
	pkt->link_multicast = eth->h_dest[0] & 1;
	return parse_l4((void *)ip + ihl_bytes, data_end, ip->protocol, tot_len - ihl_bytes, pkt);
}

/* parse_skb - parse_ipv4_l4 on a TC packet, pulling its headers in first. */
static __always_inline int parse_skb(struct __sk_buff *skb, struct fwd_pkt *pkt)
{
	parse_linearize(skb, PARSE_MAX_HEADERS);
	return parse_ipv4_l4((void *)(long)skb->data, (void *)(long)skb->data_end, skb->len, pkt);
}

/* parse_xdp - parse_ipv4_l4 on an XDP frame (always linear: no xdp.frags). */
static __always_inline int parse_xdp(struct xdp_md *ctx, struct fwd_pkt *pkt)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;

	return parse_ipv4_l4(data, data_end, (__u32)(data_end - data), pkt);
}

#endif /* FWD_LIB_PARSE_H */
