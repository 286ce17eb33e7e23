// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * fwd TC programs, attached to every interface that carries published traffic.
 *
 * Ingress (client -> host:port): parse eth/IPv4/TCP|UDP, look the destination
 * up in fwd_svc4 (exact address, then the 0.0.0.0 wildcard for local
 * destinations), refresh the flow's conntrack entry keyed on the reply tuple
 * or create it (unless a connected host socket owns the tuple: then it is the
 * host's own traffic), rewrite destination address and port, and hand the
 * packet to the stack, which routes it to the container. The client's source
 * is kept.
 *
 * Egress (container -> client, after routing): a packet whose tuple is a
 * tracked reply gets its source rewritten back to the address and port the
 * client used. Both rewrites happen outside netfilter's view of the flow, so
 * netfilter sees the container's tuple in both directions (symmetric).
 *
 * Everything else passes unchanged; counters say why.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include "fwd_abi.h"
#include "lib/maps.h"
#include "lib/parse.h"
#include "lib/csum.h"
#include "lib/nat4.h"
#include "lib/ct4.h"
#include "lib/sock4.h"
#include "lib/svc4.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Turn a helper's result into a counter bump and a verdict. */
static __always_inline int tc_verdict(int reason)
{
	if (reason < 0) {
		counter_bump(FWD_REASON_COUNTER(reason));
		return reason == FWD_REASON(FWD_CNT_DROP_LOOPBACK) ? TC_ACT_SHOT : TC_ACT_OK;
	}
	return TC_ACT_OK;
}

static __always_inline int tc_ingress_nat4(struct __sk_buff *skb)
{
	struct fwd_svc4_value *svc = NULL;
	struct fwd_pkt pkt = {};
	__u32 len = skb->len;
	__be32 container_addr;
	__be16 container_port;
	__u32 mapping_id;
	__u64 now;
	int ret;

	parse_linearize(skb);
	ret = parse_ipv4_l4(skb, &pkt);
	if (ret)
		return ret;
	ret = svc4_lookup(skb, &pkt, &svc);
	if (ret)
		return ret;
	/* Copy the value: the map entry may change under us once we write. */
	container_addr = svc->container_addr;
	container_port = svc->container_port;
	mapping_id = svc->mapping_id;

	now = bpf_ktime_get_ns();
	if (!ct4_refresh_forward(&pkt, svc, now)) {
		/* A new flow, unless it is the reply traffic of a host connection. */
		if (sock4_owned_by_host(skb, &pkt))
			return FWD_REASON(FWD_CNT_PASS_HOST_SOCKET);
		ret = ct4_create(&pkt, svc, now);
		if (ret)
			return ret;
		counter_bump(FWD_CNT_CT_CREATED);
		stats_new_flow(mapping_id);
	}
	ret = nat4_rewrite_dst(skb, &pkt, container_addr, container_port);
	if (ret)
		return ret;
	counter_bump(FWD_CNT_NAT_IN);
	if (pkt.has_ip_options)
		counter_bump(FWD_CNT_IP_OPTIONS);
	stats_account(mapping_id, len, 0);
	return 0;
}

static __always_inline int tc_egress_revnat4(struct __sk_buff *skb)
{
	struct fwd_ct4_value *entry;
	struct fwd_pkt pkt = {};
	__u32 len = skb->len;
	__be32 host_addr;
	__be16 host_port;
	__u32 mapping_id;
	int ret;

	parse_linearize(skb);
	ret = parse_ipv4_l4(skb, &pkt);
	if (ret)
		return ret;
	entry = ct4_lookup_reply(&pkt, bpf_ktime_get_ns());
	if (!entry)
		return FWD_REASON(FWD_CNT_PASS_NO_MATCH);
	host_addr = entry->host_addr;
	host_port = entry->host_port;
	mapping_id = entry->mapping_id;

	ret = nat4_rewrite_src(skb, &pkt, host_addr, host_port);
	if (ret)
		return ret;
	counter_bump(FWD_CNT_NAT_OUT);
	if (pkt.has_ip_options)
		counter_bump(FWD_CNT_IP_OPTIONS);
	stats_account(mapping_id, len, 1);
	return 0;
}

SEC("tc")
int fwd_tc_ingress(struct __sk_buff *skb)
{
	return tc_verdict(tc_ingress_nat4(skb));
}

SEC("tc")
int fwd_tc_egress(struct __sk_buff *skb)
{
	return tc_verdict(tc_egress_revnat4(skb));
}
