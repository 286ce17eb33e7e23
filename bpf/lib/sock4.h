/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Host connections that happen to use a mapped port. A host process whose
 * connection got the mapped port as its ephemeral source port receives its
 * replies on that port; those packets belong to the host, not the container.
 * (iptables DNAT never sees them: they match an existing conntrack entry.)
 */
#ifndef FWD_LIB_SOCK4_H
#define FWD_LIB_SOCK4_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "../fwd_abi.h"
#include "parse.h"

/*
 * sock_owned_by_host - does a connected socket of the host own the tuple
 * @tuple (@tuple_size bytes: its ipv4 or ipv6 member) of @pkt?
 * TCP: an established, closing or time-wait socket (a listener does not
 * count: the mapping takes new connections; nor does a time-wait one for a
 * new SYN). UDP: a connected socket (an unconnected one bound to the port does
 * not count). Does not touch the packet. Shared by both families.
 */
static __always_inline int sock_owned_by_host(struct __sk_buff *skb, struct bpf_sock_tuple *tuple,
					      __u32 tuple_size, const struct fwd_pkt *pkt)
{
	struct bpf_sock *sk;
	int owned;

	if (pkt->proto == FWD_PROTO_TCP) {
		sk = bpf_skc_lookup_tcp(skb, tuple, tuple_size, BPF_F_CURRENT_NETNS, 0);
		if (!sk)
			return 0;
		/* A SYN is a new connection, never the host's: a TIME_WAIT socket left by an
		 * earlier host connection on this tuple gives way, as netfilter's conntrack does. */
		owned = sk->state != BPF_TCP_LISTEN &&
			!(sk->state == BPF_TCP_TIME_WAIT && pkt->tcp_syn);
	} else {
		sk = bpf_sk_lookup_udp(skb, tuple, tuple_size, BPF_F_CURRENT_NETNS, 0);
		if (!sk)
			return 0;
		owned = sk->dst_port != 0;
	}
	bpf_sk_release(sk);
	return owned;
}

/* sock4_owned_by_host - sock_owned_by_host for the IPv4 packet @pkt. */
static __always_inline int sock4_owned_by_host(struct __sk_buff *skb, const struct fwd_pkt *pkt)
{
	struct bpf_sock_tuple tuple = {};

	tuple.ipv4.saddr = pkt->saddr;
	tuple.ipv4.daddr = pkt->daddr;
	tuple.ipv4.sport = pkt->sport;
	tuple.ipv4.dport = pkt->dport;
	return sock_owned_by_host(skb, &tuple, sizeof(tuple.ipv4), pkt);
}

#endif /* FWD_LIB_SOCK4_H */
