/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * ICMPv6 errors about translated flows (destination unreachable, packet too
 * big, time exceeded, parameter problem): the twin of icmp4.h, which explains
 * why and in which direction the quote is translated. Packet Too Big is what
 * IPv6 path MTU discovery runs on (routers never fragment), so it must work.
 *
 * The ICMPv6 checksum covers a pseudo-header with the error's own addresses
 * and the whole message, quote included: every change (the error's address,
 * the quoted address and port, the quoted L4 checksum) is folded into it. The
 * quoted L4 checksum itself covers the quoted addresses and ports. ICMPv6
 * checksums are full ones (the kernel computes them in software), so all are
 * updated by hand; IPv6 has no header checksum, and each change is
 * compensated inside the ICMPv6 sum, so a CHECKSUM_COMPLETE skb's csum stays
 * right.
 *
 * Not translated (passed, NOT_L4): a quote whose IPv6 header is followed by
 * extension headers instead of TCP/UDP (rare: the flows fwd translates carry
 * none), and any ICMPv6 message that is not one of the four errors (NDP, echo,
 * MLD, ...). Errors go through the stack (no fast path): they are rare.
 */
#ifndef FWD_LIB_ICMP6_H
#define FWD_LIB_ICMP6_H

#include <stddef.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include "../fwd_abi.h"
#include "addr6.h"
#include "csum.h"
#include "ct_common.h"
#include "maps.h"
#include "nat.h"
#include "parse.h"
#include "parse6.h"

struct icmp6_hdr {
	__u8 type;
	__u8 code;
	__u16 checksum;
	__be32 rest; /* the MTU of Packet Too Big, the pointer of Parameter Problem */
};
#define ICMP6_DEST_UNREACH 1
#define ICMP6_PACKET_TOO_BIG 2
#define ICMP6_TIME_EXCEEDED 3
#define ICMP6_PARAMETER_PROBLEM 4

/* Ethernet, the error's IPv6 and extension headers, ICMPv6, the quoted IPv6 header and TCP up to its checksum. */
#define ICMP6_MAX_HEADERS                                                                    \
	(ETH_HLEN + sizeof(struct ipv6hdr) + PARSE6_MAX_EXT_BYTES + sizeof(struct icmp6_hdr) + \
	 sizeof(struct ipv6hdr) + offsetof(struct tcphdr, check) + sizeof(__u16))
#define ICMP6_OFF_MASK PARSE6_OFF_MASK
_Static_assert(ICMP6_MAX_HEADERS <= ICMP6_OFF_MASK + 1, "ICMPv6 header offsets fit the mask");

/* An ICMPv6 error and the TCP/UDP packet it quotes. */
struct fwd_icmp6 {
	__u32 icmp_off;       /* the ICMPv6 header */
	__u32 quote_l3_off;   /* the quoted IPv6 header */
	__u32 quote_l4_off;   /* the quoted TCP/UDP header (its ports are always quoted) */
	__u32 quote_csum_off; /* the quoted L4 checksum; 0 when not quoted or UDP without one */
	__be32 saddr[4];      /* the error's own addresses */
	__be32 daddr[4];
	__be32 quote_saddr[4]; /* the quoted tuple */
	__be32 quote_daddr[4];
	__be16 quote_sport;
	__be16 quote_dport;
	__u8 quote_proto;
};

/* What a translation changes: the quote's address and port on one side, the error's on the other. */
struct icmp6_change {
	enum nat_side quote_side;
	__be32 quote_old_addr[4];
	__be32 quote_new_addr[4];
	__be16 quote_old_port;
	__be16 quote_new_port;
	enum nat_side outer_side;
	__be32 outer_old_addr[4];
	__be32 outer_new_addr[4]; /* equal to the old one: the error's address stays */
};

static __always_inline int icmp6_is_error(__u8 type)
{
	return type == ICMP6_DEST_UNREACH || type == ICMP6_PACKET_TOO_BIG ||
	       type == ICMP6_TIME_EXCEEDED || type == ICMP6_PARAMETER_PROBLEM;
}

/*
 * parse_icmp6_error - an ICMPv6 error quoting a TCP or UDP packet, in
 * [@data, @data_end) of a frame @pkt_len bytes long. Returns 0 and fills
 * @msg, or a negative FWD_REASON: those of parse_ipv6_header, NOT_L4 (not
 * ICMPv6, not an error, a quote that is not an IPv6 header directly followed
 * by TCP/UDP ports), MALFORMED (a quoted header that is not IPv6).
 */
static __always_inline int parse_icmp6_error(void *data, void *data_end, __u32 pkt_len,
					     struct fwd_icmp6 *msg)
{
	struct parse6_upper up;
	struct icmp6_hdr *icmp;
	struct ipv6hdr *quote;
	struct ipv6hdr *ip6;
	__be16 *ports;
	__u32 l4_off;
	int ret;

	ret = parse_ipv6_header(data, data_end, pkt_len, &ip6, &up);
	if (ret)
		return ret;
	if (up.nexthdr != IPPROTO_ICMPV6)
		return FWD_REASON(FWD_CNT_PASS_NOT_L4);
	msg->icmp_off = up.off & ICMP6_OFF_MASK;
	icmp = data + msg->icmp_off;
	quote = (void *)(icmp + 1);
	if ((void *)(quote + 1) > data_end || !icmp6_is_error(icmp->type))
		return FWD_REASON(FWD_CNT_PASS_NOT_L4);
	if (quote->version != 6)
		return FWD_REASON(FWD_CNT_PASS_MALFORMED);
	if (quote->nexthdr != IPPROTO_TCP && quote->nexthdr != IPPROTO_UDP)
		return FWD_REASON(FWD_CNT_PASS_NOT_L4);
	msg->quote_l3_off = msg->icmp_off + sizeof(*icmp);
	l4_off = msg->quote_l3_off + sizeof(*quote);
	msg->quote_l4_off = l4_off;
	ports = data + (l4_off & ICMP6_OFF_MASK);
	/* The ports must be inside the IPv6 payload, not in Ethernet padding. */
	if ((void *)(ports + 2) > data_end || l4_off + 4 > up.end)
		return FWD_REASON(FWD_CNT_PASS_NOT_L4);

	addr6_copy(msg->saddr, (__be32 *)&ip6->saddr);
	addr6_copy(msg->daddr, (__be32 *)&ip6->daddr);
	addr6_copy(msg->quote_saddr, (__be32 *)&quote->saddr);
	addr6_copy(msg->quote_daddr, (__be32 *)&quote->daddr);
	msg->quote_proto = quote->nexthdr;
	msg->quote_sport = ports[0];
	msg->quote_dport = ports[1];
	msg->quote_csum_off = 0;
	if (quote->nexthdr == IPPROTO_TCP) {
		__u32 csum_off = l4_off + offsetof(struct tcphdr, check);

		if (data + (csum_off & ICMP6_OFF_MASK) + 2 <= data_end && csum_off + 2 <= up.end)
			msg->quote_csum_off = csum_off;
	} else {
		struct udphdr *udp = data + (l4_off & ICMP6_OFF_MASK);

		if ((void *)(udp + 1) <= data_end && l4_off + sizeof(*udp) <= up.end && udp->check)
			msg->quote_csum_off = l4_off + offsetof(struct udphdr, check);
	}
	return 0;
}

/* The quoted L4 checksum after the quote's address and port change (UDP: 0 is sent as 0xffff). */
static __always_inline __u16 icmp6_quote_l4_check(__u16 check, const struct fwd_icmp6 *msg,
						  const struct icmp6_change *change)
{
	check = csum_replace128(check, change->quote_old_addr, change->quote_new_addr);
	check = csum_replace16(check, change->quote_old_port, change->quote_new_port);
	if (msg->quote_proto == FWD_PROTO_UDP && check == 0)
		check = 0xffff;
	return check;
}

/*
 * icmp6_write - apply @change to the error @msg in [@data, @data_end): the
 * quote's address, port and L4 checksum, the error's own address, and the
 * ICMPv6 checksum over all of them. Every bound is checked before the first
 * write.
 */
static __always_inline int icmp6_write(void *data, void *data_end, const struct fwd_icmp6 *msg,
				       const struct icmp6_change *change)
{
	struct ipv6hdr *outer = data + ETH_HLEN;
	struct icmp6_hdr *icmp = data + (msg->icmp_off & ICMP6_OFF_MASK);
	struct ipv6hdr *quote = data + (msg->quote_l3_off & ICMP6_OFF_MASK);
	__be16 *ports = data + (msg->quote_l4_off & ICMP6_OFF_MASK);
	__u16 *l4_check = data + (msg->quote_csum_off & ICMP6_OFF_MASK);
	__u16 icmp_check;
	__u16 old_check;

	if ((void *)(outer + 1) > data_end || (void *)(icmp + 1) > data_end ||
	    (void *)(quote + 1) > data_end || (void *)(ports + 2) > data_end ||
	    (void *)(l4_check + 1) > data_end)
		return FWD_REASON(FWD_CNT_ERR_REWRITE);

	icmp_check = csum_replace128(icmp->checksum, change->quote_old_addr,
				     change->quote_new_addr);
	addr6_copy(change->quote_side == NAT_DST ? (__be32 *)&quote->daddr
						 : (__be32 *)&quote->saddr,
		   change->quote_new_addr);
	ports[change->quote_side] = change->quote_new_port;
	icmp_check = csum_replace16(icmp_check, change->quote_old_port, change->quote_new_port);
	if (msg->quote_csum_off) {
		old_check = *l4_check;
		*l4_check = icmp6_quote_l4_check(old_check, msg, change);
		icmp_check = csum_replace16(icmp_check, old_check, *l4_check);
	}
	/* The error's own address is in the ICMPv6 pseudo-header. */
	icmp_check = csum_replace128(icmp_check, change->outer_old_addr, change->outer_new_addr);
	addr6_copy(change->outer_side == NAT_DST ? (__be32 *)&outer->daddr
						 : (__be32 *)&outer->saddr,
		   change->outer_new_addr);
	icmp->checksum = icmp_check;
	return 0;
}

/* An ICMPv6 error must not keep a flow alive, nor close it: look, do not refresh. */
static __always_inline struct fwd_ct6_value *icmp6_live_entry(const struct fwd_ct6_key *key)
{
	struct fwd_ct6_value *entry = bpf_map_lookup_elem(&FWD_MAP_CT6, key);

	if (!entry || !ct_alive(entry->flags, entry->last_seen_ns, key->proto, ct_now()))
		return NULL;
	return entry;
}

/*
 * icmp6_change_to_client - the error @msg on its way to a client quotes a
 * client -> container packet of a tracked flow: the change that shows the
 * client its own packet again. Returns 0, or FWD_REASON(NO_MATCH).
 */
static __always_inline int icmp6_change_to_client(const struct fwd_icmp6 *msg,
						  struct icmp6_change *change)
{
	struct fwd_ct6_key key = {
		.container_port = msg->quote_dport,
		.client_port = msg->quote_sport,
		.proto = msg->quote_proto,
	};
	struct fwd_ct6_value *entry;

	/* The error answers the client's packet: it must be addressed to that client. */
	if (!addr6_equal(msg->daddr, msg->quote_saddr))
		return FWD_REASON(FWD_CNT_PASS_NO_MATCH);
	addr6_copy(key.container_addr, msg->quote_daddr);
	addr6_copy(key.client_addr, msg->quote_saddr);
	entry = icmp6_live_entry(&key);
	if (!entry)
		return FWD_REASON(FWD_CNT_PASS_NO_MATCH);
	change->quote_side = NAT_DST;
	addr6_copy(change->quote_old_addr, msg->quote_daddr);
	addr6_copy(change->quote_new_addr, entry->host_addr);
	change->quote_old_port = msg->quote_dport;
	change->quote_new_port = entry->host_port;
	change->outer_side = NAT_SRC;
	addr6_copy(change->outer_old_addr, msg->saddr);
	/* Sent by the container itself: it must come from the published address. */
	addr6_copy(change->outer_new_addr,
		   addr6_equal(msg->saddr, msg->quote_daddr) ? entry->host_addr : msg->saddr);
	return 0;
}

/*
 * icmp6_change_to_container - the error @msg, addressed to the host, quotes a
 * reply fwd sent with a published source: the change that shows the
 * container its own reply and sends the error there. Returns 0, or
 * FWD_REASON(NO_MATCH).
 */
static __always_inline int icmp6_change_to_container(const struct fwd_icmp6 *msg,
						     struct icmp6_change *change)
{
	struct fwd_svc6_key svc_key = {
		.host_port = msg->quote_sport,
		.proto = msg->quote_proto,
	};
	struct fwd_ct6_key key = {
		.client_port = msg->quote_dport,
		.proto = msg->quote_proto,
	};
	struct fwd_svc6_value *svc;
	struct fwd_ct6_value *entry;

	if (!addr6_equal(msg->daddr, msg->quote_saddr))
		return FWD_REASON(FWD_CNT_PASS_NO_MATCH);
	addr6_copy(svc_key.host_addr, msg->quote_saddr);
	svc = bpf_map_lookup_elem(&FWD_MAP_SVC6, &svc_key);
	if (!svc) {
		__builtin_memset(svc_key.host_addr, 0, sizeof(svc_key.host_addr));
		svc = bpf_map_lookup_elem(&FWD_MAP_SVC6, &svc_key);
		if (!svc)
			return FWD_REASON(FWD_CNT_PASS_NO_MATCH);
	}
	addr6_copy(key.container_addr, svc->container_addr);
	addr6_copy(key.client_addr, msg->quote_daddr);
	key.container_port = svc->container_port;
	entry = icmp6_live_entry(&key);
	/* The flow must be the one the quoted reply belonged to. */
	if (!entry || !addr6_equal(entry->host_addr, msg->quote_saddr) ||
	    entry->host_port != msg->quote_sport || entry->mapping_id != svc->mapping_id)
		return FWD_REASON(FWD_CNT_PASS_NO_MATCH);
	change->quote_side = NAT_SRC;
	addr6_copy(change->quote_old_addr, msg->quote_saddr);
	addr6_copy(change->quote_new_addr, key.container_addr);
	change->quote_old_port = msg->quote_sport;
	change->quote_new_port = key.container_port;
	change->outer_side = NAT_DST;
	addr6_copy(change->outer_old_addr, msg->daddr);
	addr6_copy(change->outer_new_addr, key.container_addr);
	return 0;
}

/*
 * icmp6_translate_skb - translate the ICMPv6 error in @skb if it is about a
 * tracked flow: towards the client (@to_client, egress) or the container.
 * Returns 0 when translated, or a negative FWD_REASON for the counters.
 */
static __always_inline int icmp6_translate_skb(struct __sk_buff *skb, int to_client)
{
	struct icmp6_change change;
	struct fwd_icmp6 msg = {};
	int ret;

	parse_linearize(skb, ICMP6_MAX_HEADERS);
	ret = parse_icmp6_error((void *)(long)skb->data, (void *)(long)skb->data_end, skb->len,
				&msg);
	if (ret)
		return ret;
	ret = to_client ? icmp6_change_to_client(&msg, &change)
			: icmp6_change_to_container(&msg, &change);
	if (ret)
		return ret;
	ret = icmp6_write((void *)(long)skb->data, (void *)(long)skb->data_end, &msg, &change);
	if (ret)
		return ret;
	counter_bump(FWD_CNT_ICMP_ERROR_NAT);
	return 0;
}

#endif /* FWD_LIB_ICMP6_H */
