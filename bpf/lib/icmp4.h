/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * ICMP errors about translated flows (destination unreachable, e.g.
 * fragmentation needed or port unreachable; time exceeded; parameter problem).
 *
 * An error quotes the start of the packet that caused it. The packet's sender
 * finds its socket, and path MTU discovery its route, by the quoted addresses
 * and ports, so the quote must show them as that sender used them: fwd
 * translates the quote the way the quoted packet itself was translated, and
 * the error's own address on the container's side with it.
 *
 * - Towards a client (egress): the quote is a translated client -> container
 *   packet that the container, a router behind the host, or the host itself
 *   (fragmentation needed on the container link) could not deliver. Its
 *   destination becomes the published address and port again; an error the
 *   container sent itself gets the published address as its source.
 * - Towards a container (ingress): the quote is a reply fwd sent out with the
 *   published source, which a router on the client's side could not deliver.
 *   It gets the container's source back, and the error goes to the container.
 *
 * ICMP checksums are always full ones (the kernel computes them in software),
 * so every checksum is updated by hand; each checksummed region keeps its sum,
 * so a CHECKSUM_COMPLETE skb's csum stays right. The quoted L4 checksum is
 * kept consistent when it is quoted at all (receivers do not check it).
 * Errors go through the stack (no fast path): they are rare.
 */
#ifndef FWD_LIB_ICMP4_H
#define FWD_LIB_ICMP4_H

#include <stddef.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "../fwd_abi.h"
#include "csum.h"
#include "ct4.h"
#include "maps.h"
#include "nat4.h"
#include "parse.h"

/* linux/icmp.h pulls in libc socket headers that do not build for BPF: the few bits fwd needs. */
struct icmp4_hdr {
	__u8 type;
	__u8 code;
	__u16 checksum;
	__be32 rest; /* the next-hop MTU for "fragmentation needed", unused otherwise */
};
#define ICMP4_DEST_UNREACH 3
#define ICMP4_TIME_EXCEEDED 11
#define ICMP4_PARAMETERPROB 12

/* Ethernet, the error's IPv4 header with options, ICMP, the quoted IPv4 header and TCP up to its checksum. */
#define ICMP4_MAX_HEADERS (ETH_HLEN + 60 + sizeof(struct icmp4_hdr) + 60 + \
			   offsetof(struct tcphdr, check) + sizeof(__u16))
/* Offsets within ICMP4_MAX_HEADERS, as a mask the verifier can bound. */
#define ICMP4_OFF_MASK 0xff
_Static_assert(ICMP4_MAX_HEADERS <= ICMP4_OFF_MASK + 1, "ICMP header offsets fit the mask");

/* An ICMP error and the TCP/UDP packet it quotes. */
struct fwd_icmp4 {
	__u32 icmp_off;       /* the ICMP header */
	__u32 quote_l3_off;   /* the quoted IPv4 header */
	__u32 quote_l4_off;   /* the quoted TCP/UDP header (its ports are always quoted) */
	__u32 quote_csum_off; /* the quoted L4 checksum; 0 when not quoted or UDP without one */
	__be32 saddr;         /* the error's own addresses */
	__be32 daddr;
	struct fwd_pkt quote; /* the quoted tuple: saddr, daddr, sport, dport, proto */
};

/* What a translation changes: the quote's address and port on one side, the error's on the other. */
struct icmp4_change {
	enum nat_side quote_side;
	__be32 quote_old_addr;
	__be32 quote_new_addr;
	__be16 quote_old_port;
	__be16 quote_new_port;
	enum nat_side outer_side;
	__be32 outer_old_addr;
	__be32 outer_new_addr; /* equal to the old one: the error's address stays */
};

static __always_inline int icmp4_is_error(__u8 type)
{
	return type == ICMP4_DEST_UNREACH || type == ICMP4_TIME_EXCEEDED ||
	       type == ICMP4_PARAMETERPROB;
}

/*
 * parse_icmp4_error - an ICMP error quoting a TCP or UDP packet, in
 * [@data, @data_end) of a frame @pkt_len bytes long. Returns 0 and fills
 * @msg, or a negative FWD_REASON: those of parse_ipv4_header, NOT_L4 (not ICMP,
 * not an error, a quote that is not an unfragmented TCP/UDP header with its
 * ports), MALFORMED (a quoted IPv4 header with ihl < 5).
 */
static __always_inline int parse_icmp4_error(void *data, void *data_end, __u32 pkt_len,
					     struct fwd_icmp4 *msg)
{
	struct icmp4_hdr *icmp;
	struct iphdr *quote;
	struct iphdr *ip;
	__be16 *ports;
	__u32 l4_off;
	int ret;

	ret = parse_ipv4_header(data, data_end, pkt_len, &ip);
	if (ret)
		return ret;
	if (ip->protocol != IPPROTO_ICMP)
		return FWD_REASON(FWD_CNT_PASS_NOT_L4);
	msg->icmp_off = ETH_HLEN + ip->ihl * 4;
	icmp = data + (msg->icmp_off & ICMP4_OFF_MASK);
	quote = (void *)(icmp + 1);
	if ((void *)(quote + 1) > data_end || !icmp4_is_error(icmp->type))
		return FWD_REASON(FWD_CNT_PASS_NOT_L4);
	if (quote->version != 4 || quote->ihl < 5)
		return FWD_REASON(FWD_CNT_PASS_MALFORMED);
	/* A later fragment quotes no ports. */
	if ((quote->frag_off & bpf_htons(0x1fff)) ||
	    (quote->protocol != IPPROTO_TCP && quote->protocol != IPPROTO_UDP))
		return FWD_REASON(FWD_CNT_PASS_NOT_L4);
	msg->quote_l3_off = msg->icmp_off + sizeof(*icmp);
	l4_off = msg->quote_l3_off + quote->ihl * 4;
	msg->quote_l4_off = l4_off;
	ports = data + (l4_off & ICMP4_OFF_MASK);
	if ((void *)(ports + 2) > data_end)
		return FWD_REASON(FWD_CNT_PASS_NOT_L4);

	msg->saddr = ip->saddr;
	msg->daddr = ip->daddr;
	msg->quote.proto = quote->protocol;
	msg->quote.saddr = quote->saddr;
	msg->quote.daddr = quote->daddr;
	msg->quote.sport = ports[0];
	msg->quote.dport = ports[1];
	msg->quote_csum_off = 0;
	if (quote->protocol == IPPROTO_TCP) {
		if (data + (l4_off & ICMP4_OFF_MASK) + offsetof(struct tcphdr, check) + 2 <= data_end)
			msg->quote_csum_off = l4_off + offsetof(struct tcphdr, check);
	} else {
		struct udphdr *udp = data + (l4_off & ICMP4_OFF_MASK);

		if ((void *)(udp + 1) <= data_end && udp->check)
			msg->quote_csum_off = l4_off + offsetof(struct udphdr, check);
	}
	return 0;
}

/* parse_icmp4_error on a TC packet, pulling the quote into the linear area first. */
static __always_inline int parse_icmp4_skb(struct __sk_buff *skb, struct fwd_icmp4 *msg)
{
	parse_linearize(skb, ICMP4_MAX_HEADERS);
	return parse_icmp4_error((void *)(long)skb->data, (void *)(long)skb->data_end, skb->len,
				 msg);
}

/* The quoted L4 checksum after the quote's address and port change (UDP: 0 is sent as 0xffff). */
static __always_inline __u16 icmp4_quote_l4_check(__u16 check, const struct fwd_icmp4 *msg,
						  const struct icmp4_change *change)
{
	check = csum_replace32(check, change->quote_old_addr, change->quote_new_addr);
	check = csum_replace16(check, change->quote_old_port, change->quote_new_port);
	if (msg->quote.proto == FWD_PROTO_UDP && check == 0)
		check = 0xffff;
	return check;
}

/*
 * icmp4_write - apply @change to the error @msg in [@data, @data_end): the
 * quote's address (with the quoted IPv4 checksum), port and L4 checksum, the
 * ICMP checksum over all of them, then the error's own address (with its IPv4
 * checksum). Every bound is checked before the first write.
 */
static __always_inline int icmp4_write(void *data, void *data_end, const struct fwd_icmp4 *msg,
				       const struct icmp4_change *change)
{
	struct iphdr *outer = data + ETH_HLEN;
	struct icmp4_hdr *icmp = data + (msg->icmp_off & ICMP4_OFF_MASK);
	struct iphdr *quote = data + (msg->quote_l3_off & ICMP4_OFF_MASK);
	__be16 *ports = data + (msg->quote_l4_off & ICMP4_OFF_MASK);
	__u16 *l4_check = data + (msg->quote_csum_off & ICMP4_OFF_MASK);
	__u16 icmp_check;
	__u16 old_check;

	if ((void *)(outer + 1) > data_end || (void *)(icmp + 1) > data_end ||
	    (void *)(quote + 1) > data_end || (void *)(ports + 2) > data_end ||
	    (void *)(l4_check + 1) > data_end)
		return FWD_REASON(FWD_CNT_ERR_REWRITE);

	icmp_check = icmp->checksum;
	old_check = quote->check;
	if (change->quote_side == NAT_DST)
		quote->daddr = change->quote_new_addr;
	else
		quote->saddr = change->quote_new_addr;
	quote->check = csum_replace32(quote->check, change->quote_old_addr, change->quote_new_addr);
	icmp_check = csum_replace32(icmp_check, change->quote_old_addr, change->quote_new_addr);
	icmp_check = csum_replace16(icmp_check, old_check, quote->check);

	ports[change->quote_side] = change->quote_new_port;
	icmp_check = csum_replace16(icmp_check, change->quote_old_port, change->quote_new_port);
	if (msg->quote_csum_off) {
		old_check = *l4_check;
		*l4_check = icmp4_quote_l4_check(old_check, msg, change);
		icmp_check = csum_replace16(icmp_check, old_check, *l4_check);
	}
	icmp->checksum = icmp_check;

	if (change->outer_old_addr != change->outer_new_addr) {
		if (change->outer_side == NAT_DST)
			outer->daddr = change->outer_new_addr;
		else
			outer->saddr = change->outer_new_addr;
		outer->check = csum_replace32(outer->check, change->outer_old_addr,
					      change->outer_new_addr);
	}
	return 0;
}

/* An ICMP error must not keep a flow alive, nor close it: look, do not refresh. */
static __always_inline struct fwd_ct4_value *icmp4_live_entry(const struct fwd_ct4_key *key)
{
	struct fwd_ct4_value *entry = bpf_map_lookup_elem(&FWD_MAP_CT4, key);

	if (!entry || !ct_alive(entry->flags, entry->last_seen_ns, key->proto, ct_now()))
		return NULL;
	return entry;
}

/*
 * icmp4_change_to_client - the error @msg on its way to a client quotes a
 * client -> container packet of a tracked flow: the change that shows the
 * client its own packet again. Returns 0, or FWD_REASON(NO_MATCH).
 */
static __always_inline int icmp4_change_to_client(const struct fwd_icmp4 *msg,
						  struct icmp4_change *change)
{
	struct fwd_ct4_key key = {
		.container_addr = msg->quote.daddr,
		.client_addr = msg->quote.saddr,
		.container_port = msg->quote.dport,
		.client_port = msg->quote.sport,
		.proto = msg->quote.proto,
	};
	struct fwd_ct4_value *entry;

	/* The error answers the client's packet: it must be addressed to that client. */
	if (msg->daddr != msg->quote.saddr)
		return FWD_REASON(FWD_CNT_PASS_NO_MATCH);
	entry = icmp4_live_entry(&key);
	if (!entry)
		return FWD_REASON(FWD_CNT_PASS_NO_MATCH);
	change->quote_side = NAT_DST;
	change->quote_old_addr = msg->quote.daddr;
	change->quote_new_addr = entry->host_addr;
	change->quote_old_port = msg->quote.dport;
	change->quote_new_port = entry->host_port;
	change->outer_side = NAT_SRC;
	change->outer_old_addr = msg->saddr;
	/* Sent by the container itself: it must come from the published address. */
	change->outer_new_addr = msg->saddr == msg->quote.daddr ? entry->host_addr : msg->saddr;
	return 0;
}

/*
 * icmp4_change_to_container - the error @msg, addressed to the host, quotes a
 * reply fwd sent with a published source: the change that shows the
 * container its own reply and sends the error there. Returns 0, or
 * FWD_REASON(NO_MATCH).
 */
static __always_inline int icmp4_change_to_container(const struct fwd_icmp4 *msg,
						     struct icmp4_change *change)
{
	struct fwd_svc4_key svc_key = {
		.host_addr = msg->quote.saddr,
		.host_port = msg->quote.sport,
		.proto = msg->quote.proto,
	};
	struct fwd_svc4_value *svc;
	struct fwd_ct4_value *entry;
	struct fwd_ct4_key key = {};

	if (msg->daddr != msg->quote.saddr)
		return FWD_REASON(FWD_CNT_PASS_NO_MATCH);
	svc = bpf_map_lookup_elem(&FWD_MAP_SVC4, &svc_key);
	if (!svc) {
		svc_key.host_addr = 0;
		svc = bpf_map_lookup_elem(&FWD_MAP_SVC4, &svc_key);
		if (!svc)
			return FWD_REASON(FWD_CNT_PASS_NO_MATCH);
	}
	key.container_addr = svc->container_addr;
	key.client_addr = msg->quote.daddr;
	key.container_port = svc->container_port;
	key.client_port = msg->quote.dport;
	key.proto = msg->quote.proto;
	entry = icmp4_live_entry(&key);
	/* The flow must be the one the quoted reply belonged to. */
	if (!entry || entry->host_addr != msg->quote.saddr || entry->host_port != msg->quote.sport ||
	    entry->mapping_id != svc->mapping_id)
		return FWD_REASON(FWD_CNT_PASS_NO_MATCH);
	change->quote_side = NAT_SRC;
	change->quote_old_addr = msg->quote.saddr;
	change->quote_new_addr = key.container_addr;
	change->quote_old_port = msg->quote.sport;
	change->quote_new_port = key.container_port;
	change->outer_side = NAT_DST;
	change->outer_old_addr = msg->daddr;
	change->outer_new_addr = key.container_addr;
	return 0;
}

/*
 * icmp4_translate_skb - translate the ICMP error in @skb if it is about a
 * tracked flow: towards the client (@to_client, egress) or the container.
 * Returns 0 when translated, or a negative FWD_REASON for the counters.
 */
static __always_inline int icmp4_translate_skb(struct __sk_buff *skb, int to_client)
{
	struct icmp4_change change;
	struct fwd_icmp4 msg = {};
	int ret;

	ret = parse_icmp4_skb(skb, &msg);
	if (ret)
		return ret;
	ret = to_client ? icmp4_change_to_client(&msg, &change)
			: icmp4_change_to_container(&msg, &change);
	if (ret)
		return ret;
	ret = icmp4_write((void *)(long)skb->data, (void *)(long)skb->data_end, &msg, &change);
	if (ret)
		return ret;
	counter_bump(FWD_CNT_ICMP_ERROR_NAT);
	return 0;
}

#endif /* FWD_LIB_ICMP4_H */
