/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Every map fwd uses, declared once. Names and sizes come from fwd_abi.h;
 * all maps are pinned by name under the loader's pin dir, so a reload of the
 * programs reuses them (mappings and conntrack survive).
 */
#ifndef FWD_LIB_MAPS_H
#define FWD_LIB_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "../fwd_abi.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct fwd_svc4_key);
	__type(value, struct fwd_svc4_value);
	__uint(max_entries, FWD_MAX_MAPPINGS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} FWD_MAP_SVC4 SEC(".maps");

/* LRU: a full table evicts the oldest flows instead of refusing new ones. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct fwd_ct4_key);
	__type(value, struct fwd_ct4_value);
	__uint(max_entries, FWD_CT_MAX_ENTRIES);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} FWD_MAP_CT4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct fwd_mapping_stats);
	__uint(max_entries, FWD_MAX_MAPPINGS);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} FWD_MAP_STATS SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, FWD_COUNTERS_MAX_ENTRIES);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} FWD_MAP_COUNTERS SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct fwd_config);
	__uint(max_entries, 1);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} FWD_MAP_CONFIG SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct fwd_local4_key);
	__type(value, __u32);
	__uint(max_entries, FWD_LOCAL_MAX_ENTRIES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} FWD_MAP_LOCAL4 SEC(".maps");

/* LRU: sockets come and go without telling us; old entries age out. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct fwd_sock4_key);
	__type(value, struct fwd_sock4_value);
	__uint(max_entries, FWD_SOCK_MAX_ENTRIES);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} FWD_MAP_SOCK4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct fwd_port_key);
	__type(value, __u32);
	__uint(max_entries, FWD_PORTS_MAX_ENTRIES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} FWD_MAP_PORTS SEC(".maps");

/* --allow networks per mapping (see struct fwd_allow4_key). */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__type(key, struct fwd_allow4_key);
	__type(value, __u32);
	__uint(max_entries, FWD_ALLOW_MAX_ENTRIES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} FWD_MAP_ALLOW4 SEC(".maps");

/* IPv6 twins of fwd_svc4, fwd_ct4, fwd_allow4, fwd_local4 and fwd_sock4. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct fwd_svc6_key);
	__type(value, struct fwd_svc6_value);
	__uint(max_entries, FWD_MAX_MAPPINGS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} FWD_MAP_SVC6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct fwd_ct6_key);
	__type(value, struct fwd_ct6_value);
	__uint(max_entries, FWD_CT_MAX_ENTRIES);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} FWD_MAP_CT6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__type(key, struct fwd_allow6_key);
	__type(value, __u32);
	__uint(max_entries, FWD_ALLOW_MAX_ENTRIES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} FWD_MAP_ALLOW6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct fwd_local6_key);
	__type(value, __u32);
	__uint(max_entries, FWD_LOCAL_MAX_ENTRIES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} FWD_MAP_LOCAL6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct fwd_sock6_key);
	__type(value, struct fwd_sock6_value);
	__uint(max_entries, FWD_SOCK_MAX_ENTRIES);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} FWD_MAP_SOCK6 SEC(".maps");

/* Bump one global counter. */
static __always_inline void counter_bump(__u32 id)
{
	__u64 *value = bpf_map_lookup_elem(&FWD_MAP_COUNTERS, &id);

	if (value)
		*value += 1;
}

/* Account one translated packet to a mapping; outbound selects the reply side. */
static __always_inline void stats_account(__u32 mapping_id, __u32 bytes, int outbound)
{
	struct fwd_mapping_stats *stats = bpf_map_lookup_elem(&FWD_MAP_STATS, &mapping_id);

	if (!stats)
		return;
	if (outbound) {
		stats->packets_out += 1;
		stats->bytes_out += bytes;
	} else {
		stats->packets_in += 1;
		stats->bytes_in += bytes;
	}
}

static __always_inline void stats_new_flow(__u32 mapping_id)
{
	struct fwd_mapping_stats *stats = bpf_map_lookup_elem(&FWD_MAP_STATS, &mapping_id);

	if (stats)
		stats->new_flows += 1;
}

#endif /* FWD_LIB_MAPS_H */
