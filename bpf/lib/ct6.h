/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * IPv6 conntrack, the twin of ct4.h: one LRU entry per translated flow in
 * fwd_ct6, keyed on the reply tuple (container -> client), created by the
 * first forward packet and refreshed by later ones (ct_common.h).
 */
#ifndef FWD_LIB_CT6_H
#define FWD_LIB_CT6_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "../fwd_abi.h"
#include "addr6.h"
#include "ct_common.h"
#include "maps.h"
#include "parse.h"

/* The key of the flow @pkt opens through @svc (zero padding: keys compare raw bytes). */
static __always_inline struct fwd_ct6_key ct6_reply_key(const struct fwd_pkt *pkt,
							 const struct fwd_svc6_value *svc)
{
	struct fwd_ct6_key key = {
		.container_port = svc->container_port,
		.client_port = pkt->sport,
		.proto = pkt->proto,
	};

	addr6_copy(key.container_addr, svc->container_addr);
	addr6_copy(key.client_addr, pkt->saddr6);
	return key;
}

/* An entry that is still alive at @now, touched by @pkt (or NULL). */
static __always_inline struct fwd_ct6_value *ct6_live(struct fwd_ct6_value *entry,
						      const struct fwd_pkt *pkt, __u64 now)
{
	if (!entry || !ct_alive(entry->flags, entry->last_seen_ns, pkt->proto, now))
		return NULL;
	ct_touch(&entry->flags, &entry->last_seen_ns, pkt, now);
	return entry;
}

/*
 * ct6_refresh_forward - the entry of the flow the forward packet @pkt of @svc
 * belongs to, refreshed; NULL when the flow is not tracked (for this mapping)
 * or its entry has aged out (the caller then tracks it as a new flow).
 */
static __always_inline struct fwd_ct6_value *ct6_refresh_forward(const struct fwd_pkt *pkt,
								 const struct fwd_svc6_value *svc,
								 __u64 now)
{
	struct fwd_ct6_key key = ct6_reply_key(pkt, svc);
	struct fwd_ct6_value *entry = bpf_map_lookup_elem(&FWD_MAP_CT6, &key);

	if (!entry || !addr6_equal(entry->host_addr, pkt->daddr6) ||
	    entry->host_port != pkt->dport || entry->mapping_id != svc->mapping_id)
		return NULL;
	return ct6_live(entry, pkt, now);
}

/*
 * ct6_create - track a new flow of @svc whose forward packets go to device
 * @container_ifindex (0: through the stack), replacing an entry the same
 * client port may have left through another mapping. Returns 0 or
 * FWD_REASON(FWD_CNT_CT_CREATE_FAILED). Does not touch the packet.
 */
static __always_inline int ct6_create(const struct fwd_pkt *pkt, const struct fwd_svc6_value *svc,
				      __u64 now, __u32 container_ifindex)
{
	struct fwd_ct6_key key = ct6_reply_key(pkt, svc);
	struct fwd_ct6_value fresh = {
		.host_port = pkt->dport,
		.mapping_id = svc->mapping_id,
		.container_ifindex = container_ifindex,
		.last_seen_ns = now,
	};

	addr6_copy(fresh.host_addr, pkt->daddr6);
	if (bpf_map_update_elem(&FWD_MAP_CT6, &key, &fresh, BPF_ANY))
		return FWD_REASON(FWD_CNT_CT_CREATE_FAILED);
	return 0;
}

/*
 * ct6_lookup_reply - the live flow a container -> client packet answers,
 * refreshed, or NULL (no entry, or it outlived its lifetime).
 */
static __always_inline struct fwd_ct6_value *ct6_lookup_reply(const struct fwd_pkt *pkt,
							      __u64 now)
{
	struct fwd_ct6_key key = {
		.container_port = pkt->sport,
		.client_port = pkt->dport,
		.proto = pkt->proto,
	};

	addr6_copy(key.container_addr, pkt->saddr6);
	addr6_copy(key.client_addr, pkt->daddr6);
	return ct6_live(bpf_map_lookup_elem(&FWD_MAP_CT6, &key), pkt, now);
}

#endif /* FWD_LIB_CT6_H */
