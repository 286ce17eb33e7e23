/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Host connections that happen to use a mapped port, for IPv6 (see sock4.h). */
#ifndef FWD_LIB_SOCK6_H
#define FWD_LIB_SOCK6_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "../fwd_abi.h"
#include "addr6.h"
#include "parse.h"
#include "sock4.h"

/* sock6_owned_by_host - sock_owned_by_host for the IPv6 packet @pkt. */
static __always_inline int sock6_owned_by_host(struct __sk_buff *skb, const struct fwd_pkt *pkt)
{
	struct bpf_sock_tuple tuple = {};

	addr6_copy(tuple.ipv6.saddr, pkt->saddr6);
	addr6_copy(tuple.ipv6.daddr, pkt->daddr6);
	tuple.ipv6.sport = pkt->sport;
	tuple.ipv6.dport = pkt->dport;
	return sock_owned_by_host(skb, &tuple, sizeof(tuple.ipv6), pkt);
}

#endif /* FWD_LIB_SOCK6_H */
