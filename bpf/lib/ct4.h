/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * IPv4 conntrack: one LRU entry per translated flow, keyed on the reply tuple
 * (container -> client), created by the first forward packet and refreshed by
 * later ones. The reply path needs exactly one lookup.
 */
#ifndef FWD_LIB_CT4_H
#define FWD_LIB_CT4_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "../fwd_abi.h"
#include "maps.h"
#include "parse.h"
#include "ct_common.h"

static __always_inline struct fwd_ct4_key ct4_reply_key(const struct fwd_pkt *pkt,
							 const struct fwd_svc4_value *svc)
{
	struct fwd_ct4_key key = {
		.container_addr = svc->container_addr,
		.client_addr = pkt->saddr,
		.container_port = svc->container_port,
		.client_port = pkt->sport,
		.proto = pkt->proto,
	};
	return key;
}

/*
 * ct4_refresh_forward - the entry of the flow the forward packet @pkt of @svc
 * belongs to, refreshed; NULL when the flow is not tracked (for this mapping)
 * or its entry has aged out.
 */
static __always_inline struct fwd_ct4_value *ct4_refresh_forward(const struct fwd_pkt *pkt,
								 const struct fwd_svc4_value *svc,
								 __u64 now)
{
	struct fwd_ct4_key key = ct4_reply_key(pkt, svc);
	struct fwd_ct4_value *entry = bpf_map_lookup_elem(&FWD_MAP_CT4, &key);

	if (!entry || entry->host_addr != pkt->daddr || entry->host_port != pkt->dport ||
	    entry->mapping_id != svc->mapping_id)
		return NULL;
	/* Aged out: the caller tracks the packet as a new flow, replacing the entry. */
	if (!ct_alive(entry->flags, entry->last_seen_ns, pkt->proto, now))
		return NULL;
	ct_touch(&entry->flags, &entry->last_seen_ns, pkt, now);
	return entry;
}

/*
 * ct4_create - track a new flow of @svc whose forward packets go to device
 * @container_ifindex (0: through the stack), replacing an entry the same
 * client port may have left through another mapping. Returns 0 or
 * FWD_REASON(FWD_CNT_CT_CREATE_FAILED). Does not touch the packet.
 */
static __always_inline int ct4_create(const struct fwd_pkt *pkt, const struct fwd_svc4_value *svc,
				      __u64 now, __u32 container_ifindex)
{
	struct fwd_ct4_key key = ct4_reply_key(pkt, svc);
	struct fwd_ct4_value fresh = {
		.host_addr = pkt->daddr,
		.host_port = pkt->dport,
		.mapping_id = svc->mapping_id,
		.container_ifindex = container_ifindex,
		.last_seen_ns = now,
	};

	if (bpf_map_update_elem(&FWD_MAP_CT4, &key, &fresh, BPF_ANY))
		return FWD_REASON(FWD_CNT_CT_CREATE_FAILED);
	return 0;
}

/*
 * ct4_lookup_reply - find the flow a container -> client packet answers.
 * Returns the entry or NULL (no entry, or it outlived its lifetime: the
 * protocol's, or the closing one after a FIN or RST).
 */
static __always_inline struct fwd_ct4_value *ct4_lookup_reply(const struct fwd_pkt *pkt,
							      __u64 now)
{
	struct fwd_ct4_key key = {
		.container_addr = pkt->saddr,
		.client_addr = pkt->daddr,
		.container_port = pkt->sport,
		.client_port = pkt->dport,
		.proto = pkt->proto,
	};
	struct fwd_ct4_value *entry = bpf_map_lookup_elem(&FWD_MAP_CT4, &key);

	if (!entry || !ct_alive(entry->flags, entry->last_seen_ns, pkt->proto, now))
		return NULL;
	ct_touch(&entry->flags, &entry->last_seen_ns, pkt, now);
	return entry;
}

#endif /* FWD_LIB_CT4_H */
