/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fwd shared ABI: the only definition of map keys/values, counter ids,
 * reason codes, map names and sizes. Included by the BPF programs (C) and by
 * the C++ loader. Fields typed __be16/__be32 are in network byte order; all
 * other multi-byte fields are in host byte order.
 *
 * IPv6 is an addition to this file: it gets its own fwd_svc6/fwd_ct6 maps and
 * key/value structs beside the IPv4 ones; mapping ids, the stats map and the
 * counter map are shared by both families.
 */
#ifndef FWD_ABI_H
#define FWD_ABI_H

#include <linux/types.h>

#ifdef __cplusplus
#define FWD_ASSERT_SIZE(type, size) static_assert(sizeof(type) == (size), #type " size")
#else
#define FWD_ASSERT_SIZE(type, size) _Static_assert(sizeof(type) == (size), #type " size")
#endif

/* Bumped whenever a struct, map type or map size below changes meaning. */
#define FWD_ABI_VERSION 2

/* Map identifiers; also the file names of the pins under the pin dir. */
#define FWD_MAP_SVC4 fwd_svc4
#define FWD_MAP_CT4 fwd_ct4
#define FWD_MAP_STATS fwd_stats
#define FWD_MAP_COUNTERS fwd_counters
#define FWD_MAP_CONFIG fwd_config
#define FWD_MAP_LOCAL4 fwd_local4
#define FWD_MAP_SOCK4 fwd_sock4
#define FWD_MAP_PORTS fwd_ports
#define FWD_MAP_ALLOW4 fwd_allow4
#define FWD_MAP_SVC6 fwd_svc6
#define FWD_MAP_CT6 fwd_ct6
#define FWD_MAP_LOCAL6 fwd_local6
#define FWD_MAP_SOCK6 fwd_sock6
#define FWD_MAP_ALLOW6 fwd_allow6

#define FWD_STRINGIFY_(x) #x
#define FWD_STRINGIFY(x) FWD_STRINGIFY_(x)

/*
 * Map sizes. FWD_MAX_MAPPINGS (fwd_svc4, fwd_svc6, fwd_stats, fwd_ports) and
 * FWD_CT_MAX_ENTRIES (fwd_ct4, fwd_ct6: each family has that many flows) are the defaults; `fwdctl attach --max-mappings/--max-flows` may choose other
 * sizes within the _MIN.._MAX bounds, which the loader sets before it creates the maps. A
 * pinned map keeps the size it was created with. Mapping ids index fwd_stats, so they run
 * 1..max_mappings-1.
 */
#define FWD_MAX_MAPPINGS 65536
#define FWD_MAX_MAPPINGS_MIN 16
#define FWD_MAX_MAPPINGS_MAX 1048576
#define FWD_CT_MAX_ENTRIES 262144
#define FWD_CT_MAX_ENTRIES_MIN 1024
#define FWD_CT_MAX_ENTRIES_MAX 16777216
#define FWD_LOCAL_MAX_ENTRIES 4096  /* host addresses, for the socket hooks' wildcard */
#define FWD_SOCK_MAX_ENTRIES 65536  /* translated sockets, for recvmsg/getpeername */
#define FWD_PORTS_MAX_ENTRIES FWD_MAX_MAPPINGS
#define FWD_ALLOW_MAX_ENTRIES 65536 /* --allow networks, all mappings together */

/* Conntrack entries older than this are treated as gone for new lookups. */
#define FWD_CT_TCP_LIFETIME_NS (6ULL * 3600 * 1000000000ULL)
#define FWD_CT_UDP_LIFETIME_NS (120ULL * 1000000000ULL)
/* A TCP flow that saw a FIN or RST ages out this long after its last packet (as Cilium's close). */
#define FWD_CT_CLOSE_LIFETIME_NS (10ULL * 1000000000ULL)
/* Refresh last_seen at most this often, to keep writes off the hot path. */
#define FWD_CT_REFRESH_NS (1000000000ULL)

/* IP protocol numbers as stored in keys (same values as IPPROTO_*). */
#define FWD_PROTO_TCP 6
#define FWD_PROTO_UDP 17

/* Service key: what a packet is addressed to. host_addr 0 is the wildcard. */
struct fwd_svc4_key {
	__be32 host_addr;
	__be16 host_port;
	__u8 proto;
	__u8 pad[1]; /* must be zero: keys compare raw bytes */
};
FWD_ASSERT_SIZE(struct fwd_svc4_key, 8);

/* Service value: where it goes. mapping_id indexes fwd_stats. */
struct fwd_svc4_value {
	__be32 container_addr;
	__be16 container_port;
	__u16 flags; /* FWD_SVC_FLAG_* */
	__u32 mapping_id;
};
FWD_ASSERT_SIZE(struct fwd_svc4_value, 12);

/* fwd_svc4_value.flags: new flows only from sources in fwd_allow4 under this mapping id. */
#define FWD_SVC_FLAG_ALLOW_LIST (1U << 0)

/*
 * Allow-list key (LPM trie): a mapping id, then a client network. prefixlen
 * counts the id's 32 bits too, so an entry matches only its own mapping; the
 * id's byte order does not matter as it is always matched whole.
 */
struct fwd_allow4_key {
	__u32 prefixlen; /* 32 + the network's prefix length */
	__u32 mapping_id;
	__be32 addr;
};
FWD_ASSERT_SIZE(struct fwd_allow4_key, 12);
#define FWD_ALLOW4_ID_BITS 32

/*
 * Conntrack key: the reply tuple as it leaves the container, so the reply
 * path finds its entry with one lookup.
 */
struct fwd_ct4_key {
	__be32 container_addr;
	__be32 client_addr;
	__be16 container_port;
	__be16 client_port;
	__u8 proto;
	__u8 pad[3]; /* must be zero */
};
FWD_ASSERT_SIZE(struct fwd_ct4_key, 16);

/* Conntrack value: what the client originally addressed. */
struct fwd_ct4_value {
	__be32 host_addr; /* the concrete address the client used, never 0 */
	__be16 host_port;
	__u16 flags; /* FWD_CT_FLAG_* */
	__u32 mapping_id;
	/*
	 * The device the flow's forward packets are redirected to (0: they go through the
	 * stack). A reply takes the fast path only when it arrives on that device, so a packet
	 * spoofing a container's address elsewhere is never translated and sent on.
	 */
	__u32 container_ifindex;
	__u64 last_seen_ns; /* bpf_ktime_get_coarse_ns() of the last packet (CLOCK_MONOTONIC_COARSE) */
};
FWD_ASSERT_SIZE(struct fwd_ct4_value, 24);

/* fwd_ct4_value.flags: a TCP FIN or RST was seen; a new SYN on the tuple clears it. */
#define FWD_CT_FLAG_CLOSING (1U << 0)

/*
 * IPv6 twins of the structs above. An address is four big-endian 32-bit words
 * (struct in6_addr's s6_addr32, and bpf_sock_addr's user_ip6), so the BPF side
 * compares and checksums it a word at a time. The wildcard is all zero (::).
 * A mapping is of one family: IPv6 host addresses map to IPv6 containers.
 */
struct fwd_svc6_key {
	__be32 host_addr[4];
	__be16 host_port;
	__u8 proto;
	__u8 pad[1]; /* must be zero */
};
FWD_ASSERT_SIZE(struct fwd_svc6_key, 20);

struct fwd_svc6_value {
	__be32 container_addr[4];
	__be16 container_port;
	__u16 flags; /* FWD_SVC_FLAG_* */
	__u32 mapping_id;
};
FWD_ASSERT_SIZE(struct fwd_svc6_value, 24);

/* As fwd_allow4_key: prefixlen is FWD_ALLOW4_ID_BITS + the network's prefix length (0..128). */
struct fwd_allow6_key {
	__u32 prefixlen;
	__u32 mapping_id;
	__be32 addr[4];
};
FWD_ASSERT_SIZE(struct fwd_allow6_key, 24);

struct fwd_ct6_key {
	__be32 container_addr[4];
	__be32 client_addr[4];
	__be16 container_port;
	__be16 client_port;
	__u8 proto;
	__u8 pad[3]; /* must be zero */
};
FWD_ASSERT_SIZE(struct fwd_ct6_key, 40);

struct fwd_ct6_value {
	__be32 host_addr[4]; /* the concrete address the client used, never :: */
	__be16 host_port;
	__u16 flags; /* FWD_CT_FLAG_* */
	__u32 mapping_id;
	__u32 container_ifindex; /* as in fwd_ct4_value */
	__u32 pad; /* must be zero */
	__u64 last_seen_ns;
};
FWD_ASSERT_SIZE(struct fwd_ct6_value, 40);

/* Per-mapping counters, one slot per mapping id in a per-CPU array. */
struct fwd_mapping_stats {
	__u64 packets_in;  /* client -> container, translated */
	__u64 bytes_in;
	__u64 packets_out; /* container -> client, reverse translated */
	__u64 bytes_out;
	__u64 new_flows;   /* conntrack entries created */
};
FWD_ASSERT_SIZE(struct fwd_mapping_stats, 40);

/*
 * Global counters: one slot per id in a per-CPU array of __u64. BPF helpers
 * return 0 or FWD_REASON(id) of the counter the entry function bumps.
 */
enum fwd_counter_id {
	FWD_CNT_PASS_NOT_IP = 0,      /* neither IPv4 nor IPv6 (ARP, ...) */
	FWD_CNT_PASS_NOT_L4,          /* IP but neither TCP nor UDP (ICMP, NDP, ...) */
	FWD_CNT_PASS_NO_MATCH,        /* no mapping and no conntrack entry */
	FWD_CNT_PASS_FRAGMENT,        /* IP fragment: passed untranslated */
	FWD_CNT_PASS_TRUNCATED,       /* header shorter than it claims */
	FWD_CNT_PASS_MALFORMED,       /* ihl < 5, bad total length, ... */
	FWD_CNT_PASS_NOT_LOCAL,       /* wildcard hit, but dst is not a host address */
	FWD_CNT_DROP_LOOPBACK,        /* loopback-bound mapping hit from outside */
	FWD_CNT_ERR_REWRITE,          /* a checksum/store helper failed */
	FWD_CNT_CT_CREATE_FAILED,     /* conntrack insert failed */
	FWD_CNT_NAT_IN,               /* forward translations (client -> container) */
	FWD_CNT_NAT_OUT,              /* reply translations (container -> client) */
	FWD_CNT_CT_CREATED,           /* new conntrack entries */
	FWD_CNT_IP_OPTIONS,           /* translated packets that carried IP options */
	FWD_CNT_PASS_HOST_SOCKET,     /* a mapped port, but the packet belongs to a host connection */
	FWD_CNT_SOCK_XLATE,           /* connect/sendmsg sent straight to a container */
	FWD_CNT_SOCK_REVXLATE,        /* recvmsg/getpeername shown the published address */
	FWD_CNT_BIND_REFUSED,         /* a host bind() on a published port refused */
	FWD_CNT_REDIRECT,             /* translated packets sent straight to the next hop */
	FWD_CNT_XDP_NAT_IN,           /* forward translations done in XDP (also in NAT_IN) */
	FWD_CNT_XDP_TO_TC,            /* mapped packets XDP left to TC: new flow, offloaded checksum */
	FWD_CNT_ICMP_ERROR_NAT,       /* ICMP errors about a tracked flow, translated like the flow */
	FWD_CNT_DROP_NOT_ALLOWED,     /* a new flow from a source outside the mapping's --allow list */
	FWD_CNT_PASS_EXT_HEADERS,     /* IPv6 extension headers fwd does not walk (ESP, AH, too many) */
	FWD_CNT_NAT6_IN,              /* IPv6 forward translations (also in NAT_IN) */
	FWD_CNT_NAT6_OUT,             /* IPv6 reply translations (also in NAT_OUT) */
	FWD_CNT_MAX,
};

/* The counter map has room to grow, so adding a counter keeps the pinned map's shape. */
#define FWD_COUNTERS_MAX_ENTRIES 64
FWD_ASSERT_SIZE(char[FWD_COUNTERS_MAX_ENTRIES >= FWD_CNT_MAX ? 1 : -1], 1);

/* A reason is the negated counter id minus one, so that 0 stays "success". */
#define FWD_REASON(counter_id) (-(int)(counter_id) - 1)
#define FWD_REASON_COUNTER(reason) ((__u32)(-(reason) - 1))

/*
 * Socket hooks (cgroup connect4/sendmsg4/recvmsg4/getpeername4/bind4).
 * fwd_local4: the host's own IPv4 addresses (loopback is implied), filled by
 * fwdctl; a socket in another namespace is translated only towards these.
 */
struct fwd_local4_key {
	__be32 addr;
};
FWD_ASSERT_SIZE(struct fwd_local4_key, 4);

/* fwd_sock4: a translated socket's container end -> what the program asked for. */
struct fwd_sock4_key {
	__u64 cookie; /* bpf_get_socket_cookie() */
	__be32 container_addr;
	__be16 container_port;
	__u8 proto;
	__u8 pad[1]; /* must be zero */
};
FWD_ASSERT_SIZE(struct fwd_sock4_key, 16);

struct fwd_sock4_value {
	__be32 host_addr;
	__be16 host_port;
	__u8 pad[2]; /* must be zero */
};
FWD_ASSERT_SIZE(struct fwd_sock4_value, 8);

/* IPv6 twins for the connect6/sendmsg6/recvmsg6/getpeername6 hooks. */
struct fwd_local6_key {
	__be32 addr[4];
};
FWD_ASSERT_SIZE(struct fwd_local6_key, 16);

struct fwd_sock6_key {
	__u64 cookie;
	__be32 container_addr[4];
	__be16 container_port;
	__u8 proto;
	__u8 pad[5]; /* must be zero */
};
FWD_ASSERT_SIZE(struct fwd_sock6_key, 32);

struct fwd_sock6_value {
	__be32 host_addr[4];
	__be16 host_port;
	__u8 pad[2]; /* must be zero */
};
FWD_ASSERT_SIZE(struct fwd_sock6_value, 20);

/* fwd_ports: (port, proto) published on some address; refuses wildcard binds. */
struct fwd_port_key {
	__be16 port;
	__u8 proto;
	__u8 pad[1]; /* must be zero */
};
FWD_ASSERT_SIZE(struct fwd_port_key, 4);

/* Config map: one slot, written by the loader at every load. */
struct fwd_config {
	__u32 abi_version;
	__u32 flags; /* FWD_CONFIG_* */
	__u64 host_netns_cookie; /* the namespace `fwdctl attach` ran in */
};
FWD_ASSERT_SIZE(struct fwd_config, 16);

/* Translated packets go through the stack (routing, netfilter) instead of straight to the next hop. */
#define FWD_CONFIG_NO_FAST_PATH (1U << 0)

/*
 * skb->tc_index of a packet fwd's ingress redirected to another device's egress: fwd's egress
 * program there lets it pass without a lookup (it is translated already). tc_index is only
 * used by the dsmark/tcindex schedulers, gone since Linux 6.3.
 */
#define FWD_TC_INDEX_REDIRECTED 0xf3d

/* XDP metadata mark: the XDP program translated this frame (TC only forwards it). */
#define FWD_XDP_META_TRANSLATED 0xf3d0f3d0U

/* tc filter handle and priority that fwd owns on every attached interface. */
#define FWD_TC_HANDLE 0xf3d
#define FWD_TC_PRIORITY 0xf3d

#endif /* FWD_ABI_H */
