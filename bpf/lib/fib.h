/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What the redirect fast path of both families (fib4.h, fib6.h) shares: the
 * switch, and sending a translated packet to the next hop the FIB found.
 */
#ifndef FWD_LIB_FIB_H
#define FWD_LIB_FIB_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include "../fwd_abi.h"
#include "addr6.h"
#include "maps.h"

#ifndef AF_INET
#define AF_INET 2
#endif
#ifndef AF_INET6
#define AF_INET6 10
#endif

/* Is the redirect fast path on? (`fwdctl attach --no-fast-path` turns it off.) */
static __always_inline int fib_fast_path_enabled(void)
{
	__u32 key = 0;
	struct fwd_config *config = bpf_map_lookup_elem(&FWD_MAP_CONFIG, &key);

	return config && !(config->flags & FWD_CONFIG_NO_FAST_PATH);
}

/*
 * fib_send - send a translated packet, its TTL or hop limit already
 * decremented, to the next hop of @fib: with the Ethernet addresses the FIB
 * found (BPF_FIB_LKUP_RET_SUCCESS), or through the neighbour subsystem, which
 * resolves the next hop first (_NO_NEIGH). The FIB names the next hop in
 * ipv4_dst or ipv6_dst as its family says (an IPv4 route may have an IPv6
 * gateway). Returns the TC verdict.
 */
static __always_inline int fib_send(struct __sk_buff *skb, const struct bpf_fib_lookup *fib,
				    int lookup)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;

	counter_bump(FWD_CNT_REDIRECT);
	skb->tc_index = FWD_TC_INDEX_REDIRECTED;
	if (lookup == BPF_FIB_LKUP_RET_NO_NEIGH) {
		struct bpf_redir_neigh nh = { .nh_family = fib->family };

		if (fib->family == AF_INET6)
			addr6_copy(nh.ipv6_nh, fib->ipv6_dst);
		else
			nh.ipv4_nh = fib->ipv4_dst;
		return bpf_redirect_neigh(fib->ifindex, &nh, sizeof(nh), 0);
	}
	if ((void *)(eth + 1) > data_end)
		return TC_ACT_OK;
	__builtin_memcpy(eth->h_dest, fib->dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, fib->smac, ETH_ALEN);
	return bpf_redirect(fib->ifindex, 0);
}

#endif /* FWD_LIB_FIB_H */
