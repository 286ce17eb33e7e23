// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * fwd TC programs, attached to every interface that carries published traffic.
 * IPv4 and IPv6 frames take twin paths (lib/svc4.h and lib/svc6.h, ...) with the same
 * rules; everything else passes.
 *
 * Ingress (client -> host:port): parse eth/IP/TCP|UDP (IPv6: past the
 * extension headers fwd walks, lib/parse6.h), look the destination up in
 * fwd_svc4/fwd_svc6 (exact address, then the 0.0.0.0 or :: wildcard for local
 * destinations), refresh the flow's conntrack entry keyed on the reply tuple
 * or create it (unless a connected host socket owns the tuple: then it is the
 * host's own traffic), rewrite destination address and port. The client's
 * source is kept.
 *
 * Replies (container -> client) get their source rewritten back to the
 * address and port the client used: on ingress of the container-side device
 * when they can go straight out (fast path), else on egress after routing.
 *
 * Fast path (default): a translated packet whose next hop the FIB knows is
 * redirected straight to that device, TTL or hop limit decremented, skipping
 * the stack's second routing pass and netfilter, in both directions.
 * Otherwise (or with `attach --no-fast-path`) it goes through the stack.
 * Either way the rewrites happen outside netfilter's view of the flow, so
 * netfilter sees either no packet of the flow or the container's tuple in
 * both directions (symmetric).
 *
 * ICMP and ICMPv6 errors about a tracked flow are translated like the flow
 * (lib/icmp4.h, lib/icmp6.h), so path MTU discovery and "port unreachable"
 * work through fwd.
 *
 * Everything else passes unchanged; counters say why.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "fwd_abi.h"
#include "lib/maps.h"
#include "lib/parse.h"
#include "lib/parse6.h"
#include "lib/csum.h"
#include "lib/nat4.h"
#include "lib/nat6.h"
#include "lib/ct4.h"
#include "lib/ct6.h"
#include "lib/sock4.h"
#include "lib/sock6.h"
#include "lib/svc4.h"
#include "lib/svc6.h"
#include "lib/fib4.h"
#include "lib/fib6.h"
#include "lib/icmp4.h"
#include "lib/icmp6.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Turn a helper's result (a TC verdict, or a negative reason) into a counter bump and a verdict. */
static __always_inline int tc_verdict(int result)
{
	if (result < 0) {
		counter_bump(FWD_REASON_COUNTER(result));
		return result == FWD_REASON(FWD_CNT_DROP_LOOPBACK) ||
				       result == FWD_REASON(FWD_CNT_DROP_NOT_ALLOWED)
			       ? TC_ACT_SHOT
			       : TC_ACT_OK;
	}
	return result;
}

/*
 * Forward or hand to the stack: straight to the next hop when the FIB knows
 * it (fast path), else TC_ACT_OK. @lookup is fib4_next_hop's or
 * fib6_next_hop's answer for the packet of family @ipv6.
 */
static __always_inline int tc_forward(struct __sk_buff *skb, const struct bpf_fib_lookup *fib,
				      int lookup, int ipv6)
{
	if (lookup < 0)
		return TC_ACT_OK;
	return ipv6 ? fib6_redirect(skb, fib, lookup) : fib4_redirect(skb, fib, lookup);
}

/*
 * The end of every translation: @ret is the rewrite's result. A translated
 * packet of mapping @mapping_id, @len bytes long, is counted (forward or
 * @outbound, and per family) and forwarded.
 */
static __always_inline int tc_translated(struct __sk_buff *skb, const struct fwd_pkt *pkt, int ret,
					 __u32 mapping_id, __u32 len, int outbound,
					 const struct bpf_fib_lookup *fib, int lookup, int ipv6)
{
	if (ret)
		return ret;
	counter_bump(outbound ? FWD_CNT_NAT_OUT : FWD_CNT_NAT_IN);
	if (ipv6)
		counter_bump(outbound ? FWD_CNT_NAT6_OUT : FWD_CNT_NAT6_IN);
	if (pkt->has_ip_options)
		counter_bump(FWD_CNT_IP_OPTIONS);
	stats_account(mapping_id, len, outbound);
	return tc_forward(skb, fib, lookup, ipv6);
}

/*
 * May the packet's source open a new flow through @svc? Only the first packet
 * of a flow asks: a changed allow-list flushes the mapping's flows.
 */
static __always_inline int tc_source_allowed(const struct fwd_pkt *pkt,
					     const struct fwd_svc4_value *svc)
{
	struct fwd_allow4_key key = {
		.prefixlen = FWD_ALLOW4_ID_BITS + 32,
		.mapping_id = svc->mapping_id,
		.addr = pkt->saddr,
	};

	return !(svc->flags & FWD_SVC_FLAG_ALLOW_LIST) ||
	       bpf_map_lookup_elem(&FWD_MAP_ALLOW4, &key) != NULL;
}

static __always_inline int tc_source_allowed6(const struct fwd_pkt *pkt,
					      const struct fwd_svc6_value *svc)
{
	struct fwd_allow6_key key = {
		.prefixlen = FWD_ALLOW4_ID_BITS + 128,
		.mapping_id = svc->mapping_id,
	};

	addr6_copy(key.addr, pkt->saddr6);
	return !(svc->flags & FWD_SVC_FLAG_ALLOW_LIST) ||
	       bpf_map_lookup_elem(&FWD_MAP_ALLOW6, &key) != NULL;
}

/*
 * May a new flow be tracked? Not if its source is not @allowed (dropped), nor
 * if it is the reply traffic of a host connection.
 */
static __always_inline int tc_new_flow_admitted(struct __sk_buff *skb, const struct fwd_pkt *pkt,
						int allowed, int ipv6)
{
	if (!allowed)
		return FWD_REASON(FWD_CNT_DROP_NOT_ALLOWED);
	if (ipv6 ? sock6_owned_by_host(skb, pkt) : sock4_owned_by_host(skb, pkt))
		return FWD_REASON(FWD_CNT_PASS_HOST_SOCKET);
	return 0;
}

/* A new flow of mapping @mapping_id was inserted (@ret 0) or not: count it. */
static __always_inline int tc_flow_created(int ret, __u32 mapping_id)
{
	if (ret)
		return ret;
	counter_bump(FWD_CNT_CT_CREATED);
	stats_new_flow(mapping_id);
	return 0;
}

/* A new flow: track it, unless tc_new_flow_admitted says no. */
static __always_inline int tc_track_new_flow(struct __sk_buff *skb, const struct fwd_pkt *pkt,
					     const struct fwd_svc4_value *svc, __u64 now,
					     __u32 container_ifindex)
{
	int ret = tc_new_flow_admitted(skb, pkt, tc_source_allowed(pkt, svc), 0);

	if (ret)
		return ret;
	return tc_flow_created(ct4_create(pkt, svc, now, container_ifindex), svc->mapping_id);
}

static __always_inline int tc_track_new_flow6(struct __sk_buff *skb, const struct fwd_pkt *pkt,
					      const struct fwd_svc6_value *svc, __u64 now,
					      __u32 container_ifindex)
{
	int ret = tc_new_flow_admitted(skb, pkt, tc_source_allowed6(pkt, svc), 1);

	if (ret)
		return ret;
	return tc_flow_created(ct6_create(pkt, svc, now, container_ifindex), svc->mapping_id);
}

/* Client -> container: DNAT through the mapping @svc, then forward. */
static __always_inline int tc_dnat4(struct __sk_buff *skb, const struct fwd_pkt *pkt,
				    const struct fwd_svc4_value *svc)
{
	/* Copy the value: the map entry may change under us once we write. */
	struct fwd_svc4_value target = *svc;
	struct nat4_change change =
		nat4_change_of(pkt, NAT_DST, target.container_addr, target.container_port);
	struct fwd_ct4_value *entry;
	struct bpf_fib_lookup fib;
	__u32 container_ifindex;
	__u32 len = skb->len;
	__u64 now = ct_now();
	int lookup;
	int ret;

	lookup = fib4_next_hop(skb, pkt, pkt->saddr, target.container_addr, &fib);
	container_ifindex = lookup < 0 ? 0 : fib.ifindex;
	entry = ct4_refresh_forward(pkt, &target, now);
	if (entry) {
		if (entry->container_ifindex != container_ifindex)
			entry->container_ifindex = container_ifindex; /* the route changed */
	} else {
		ret = tc_track_new_flow(skb, pkt, &target, now, container_ifindex);
		if (ret)
			return ret;
	}
	return tc_translated(skb, pkt, nat4_rewrite_skb(skb, pkt, &change), target.mapping_id, len,
			     0, &fib, lookup, 0);
}

/* Client -> container over IPv6: as tc_dnat4. */
static __always_inline int tc_dnat6(struct __sk_buff *skb, const struct fwd_pkt *pkt,
				    const struct fwd_svc6_value *svc)
{
	struct fwd_svc6_value target = *svc;
	struct nat6_change change =
		nat6_change_of(pkt, NAT_DST, target.container_addr, target.container_port);
	struct fwd_ct6_value *entry;
	struct bpf_fib_lookup fib;
	__u32 container_ifindex;
	__u32 len = skb->len;
	__u64 now = ct_now();
	int lookup;
	int ret;

	lookup = fib6_next_hop(skb, pkt, pkt->saddr6, target.container_addr, &fib);
	container_ifindex = lookup < 0 ? 0 : fib.ifindex;
	entry = ct6_refresh_forward(pkt, &target, now);
	if (entry) {
		if (entry->container_ifindex != container_ifindex)
			entry->container_ifindex = container_ifindex; /* the route changed */
	} else {
		ret = tc_track_new_flow6(skb, pkt, &target, now, container_ifindex);
		if (ret)
			return ret;
	}
	return tc_translated(skb, pkt, nat6_rewrite_skb(skb, pkt, &change), target.mapping_id, len,
			     0, &fib, lookup, 1);
}

/*
 * Container -> client: the reply of a tracked flow gets its published source
 * back. @fast: called from ingress, where only a reply that arrives on the
 * device the flow's forward packets were sent to and can go straight out is
 * translated; the rest is left to the egress program after routing (the stack
 * would drop a local source arriving here).
 */
static __always_inline int tc_revnat4(struct __sk_buff *skb, const struct fwd_pkt *pkt, int fast)
{
	struct fwd_ct4_value *entry = ct4_lookup_reply(pkt, ct_now());
	struct bpf_fib_lookup fib;
	struct nat4_change change;
	__u32 len = skb->len;
	__u32 mapping_id;
	int lookup = -1;

	/* On ingress, only where the flow's forward packets went (no spoofed container source). */
	if (!entry || (fast && entry->container_ifindex != skb->ifindex))
		return FWD_REASON(FWD_CNT_PASS_NO_MATCH);
	change = nat4_change_of(pkt, NAT_SRC, entry->host_addr, entry->host_port);
	mapping_id = entry->mapping_id;
	if (fast) {
		lookup = fib4_next_hop(skb, pkt, change.new_addr, pkt->daddr, &fib);
		if (lookup < 0)
			return FWD_REASON(FWD_CNT_PASS_NO_MATCH);
	}
	return tc_translated(skb, pkt, nat4_rewrite_skb(skb, pkt, &change), mapping_id, len, 1,
			     &fib, lookup, 0);
}

/* Container -> client over IPv6: as tc_revnat4. */
static __always_inline int tc_revnat6(struct __sk_buff *skb, const struct fwd_pkt *pkt, int fast)
{
	struct fwd_ct6_value *entry = ct6_lookup_reply(pkt, ct_now());
	struct bpf_fib_lookup fib;
	struct nat6_change change;
	__u32 len = skb->len;
	__u32 mapping_id;
	int lookup = -1;

	if (!entry || (fast && entry->container_ifindex != skb->ifindex))
		return FWD_REASON(FWD_CNT_PASS_NO_MATCH);
	change = nat6_change_of(pkt, NAT_SRC, entry->host_addr, entry->host_port);
	mapping_id = entry->mapping_id;
	if (fast) {
		lookup = fib6_next_hop(skb, pkt, change.new_addr, pkt->daddr6, &fib);
		if (lookup < 0)
			return FWD_REASON(FWD_CNT_PASS_NO_MATCH);
	}
	return tc_translated(skb, pkt, nat6_rewrite_skb(skb, pkt, &change), mapping_id, len, 1,
			     &fib, lookup, 1);
}

/*
 * An ICMP (@ipv6: ICMPv6) error about a tracked flow, translated like the
 * flow; through the stack either way.
 */
static __always_inline int tc_icmp(struct __sk_buff *skb, int to_client, int ipv6)
{
	int ret = ipv6 ? icmp6_translate_skb(skb, to_client) : icmp4_translate_skb(skb, to_client);

	return ret ? ret : TC_ACT_OK;
}

/*
 * Did fwd's XDP program already translate this packet (`attach --mode xdp`)?
 * Only IPv4 ones: the XDP program leaves IPv6 to TC.
 */
static __always_inline int tc_translated_by_xdp(struct __sk_buff *skb)
{
	__u32 *mark = (void *)(long)skb->data_meta;

	if ((void *)(mark + 1) > (void *)(long)skb->data)
		return 0;
	return *mark == FWD_XDP_META_TRANSLATED;
}

static __always_inline int tc_ingress4(struct __sk_buff *skb)
{
	struct fwd_svc4_value *svc = NULL;
	struct bpf_fib_lookup fib;
	struct fwd_pkt pkt = {};
	int ret;

	ret = parse_skb(skb, &pkt);
	if (ret == FWD_REASON(FWD_CNT_PASS_NOT_L4))
		return tc_icmp(skb, 0, 0);
	if (ret)
		return ret;
	if (tc_translated_by_xdp(skb))
		return tc_forward(skb, &fib, fib4_next_hop(skb, &pkt, pkt.saddr, pkt.daddr, &fib), 0);
	ret = svc4_lookup(skb, skb->ifindex, &pkt, &svc);
	if (ret == FWD_REASON(FWD_CNT_PASS_NO_MATCH) && fib_fast_path_enabled())
		return tc_revnat4(skb, &pkt, 1);
	if (ret)
		return ret;
	return tc_dnat4(skb, &pkt, svc);
}

static __always_inline int tc_ingress6(struct __sk_buff *skb)
{
	struct fwd_svc6_value *svc = NULL;
	struct fwd_pkt pkt = {};
	int ret;

	ret = parse6_skb(skb, &pkt);
	if (ret == FWD_REASON(FWD_CNT_PASS_NOT_L4))
		return tc_icmp(skb, 0, 1);
	if (ret)
		return ret;
	ret = svc6_lookup(skb, skb->ifindex, &pkt, &svc);
	if (ret == FWD_REASON(FWD_CNT_PASS_NO_MATCH) && fib_fast_path_enabled())
		return tc_revnat6(skb, &pkt, 1);
	if (ret)
		return ret;
	return tc_dnat6(skb, &pkt, svc);
}

static __always_inline int tc_egress4(struct __sk_buff *skb)
{
	struct fwd_pkt pkt = {};
	int ret;

	ret = parse_skb(skb, &pkt);
	if (ret == FWD_REASON(FWD_CNT_PASS_NOT_L4))
		return tc_icmp(skb, 1, 0);
	if (ret)
		return ret;
	return tc_revnat4(skb, &pkt, 0);
}

static __always_inline int tc_egress6(struct __sk_buff *skb)
{
	struct fwd_pkt pkt = {};
	int ret;

	ret = parse6_skb(skb, &pkt);
	if (ret == FWD_REASON(FWD_CNT_PASS_NOT_L4))
		return tc_icmp(skb, 1, 1);
	if (ret)
		return ret;
	return tc_revnat6(skb, &pkt, 0);
}

/*
 * Is the frame IPv6, by its Ethernet header? (Not skb->protocol: a frame a
 * packet socket sends may carry none.) Everything else takes the IPv4 path,
 * which counts what is not IPv4.
 */
static __always_inline int tc_is_ipv6(struct __sk_buff *skb)
{
	struct ethhdr *eth = (void *)(long)skb->data;

	if ((void *)(eth + 1) > (void *)(long)skb->data_end)
		return 0;
	return eth->h_proto == bpf_htons(ETH_P_IPV6);
}

SEC("tc")
int fwd_tc_ingress(struct __sk_buff *skb)
{
	return tc_verdict(tc_is_ipv6(skb) ? tc_ingress6(skb) : tc_ingress4(skb));
}

SEC("tc")
int fwd_tc_egress(struct __sk_buff *skb)
{
	/* Redirected here by fwd's ingress: translated already, and counted there. */
	if (skb->tc_index == FWD_TC_INDEX_REDIRECTED) {
		skb->tc_index = 0;
		return TC_ACT_OK;
	}
	return tc_verdict(tc_is_ipv6(skb) ? tc_egress6(skb) : tc_egress4(skb));
}
