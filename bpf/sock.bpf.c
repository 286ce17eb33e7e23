// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * fwd socket programs, attached to a cgroup (default: the cgroup v2 root).
 *
 * Traffic a host process sends to a published port never crosses a TC ingress
 * hook, so it is translated where the socket addresses it: connect4 (TCP and
 * connected UDP) and sendmsg4 (unconnected UDP) send it straight to the
 * container; recvmsg4 and getpeername4 show the published address back, from
 * fwd_sock4 (keyed by socket cookie). No packet is ever rewritten, no SNAT.
 *
 * Scope: in the namespace `fwdctl attach` ran in (the host), every mapping
 * applies, including 127.0.0.0/8 ones, and the 0.0.0.0 wildcard for loopback
 * and the host's own addresses (fwd_local4). In any other namespace (the
 * containers) only a destination that is one of the host's addresses is
 * translated (hairpin); 127.0.0.1-bound mappings never are.
 *
 * bind4 refuses a host bind() to a published port with EADDRINUSE, so a host
 * program cannot silently lose that port's traffic to the container.
 *
 * The IPv6 hooks (connect6, sendmsg6, recvmsg6, getpeername6, bind6) do the
 * same for IPv6 mappings, with ::1 as loopback and fwd_local6 as the host's
 * addresses; a dual-stack socket's IPv4-mapped destination (::ffff:a.b.c.d)
 * is looked up among the IPv4 mappings and stays IPv4-mapped.
 */
#include <linux/bpf.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include "fwd_abi.h"
#include "lib/addr4.h"
#include "lib/addr6.h"
#include "lib/maps.h"

#ifndef EADDRINUSE
#define EADDRINUSE 98
#endif

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Set by the loader: bpf_set_retval exists (Linux 5.18+); else a refused bind is EPERM. */
const volatile __u32 use_set_retval = 1;

#define SOCK_ALLOW 1
#define SOCK_REFUSE 0

static __always_inline int sock_in_host_netns(struct bpf_sock_addr *ctx)
{
	__u32 key = 0;
	struct fwd_config *config = bpf_map_lookup_elem(&FWD_MAP_CONFIG, &key);

	return config && config->host_netns_cookie == bpf_get_netns_cookie(ctx);
}

static __always_inline int sock4_is_host_addr(__be32 addr)
{
	struct fwd_local4_key key = { .addr = addr };

	return bpf_map_lookup_elem(&FWD_MAP_LOCAL4, &key) != NULL;
}

/* The socket's protocol as a key byte, or 0 for anything but TCP/UDP. */
static __always_inline __u8 sock_proto(struct bpf_sock_addr *ctx)
{
	if (ctx->protocol == IPPROTO_TCP)
		return FWD_PROTO_TCP;
	if (ctx->protocol == IPPROTO_UDP)
		return FWD_PROTO_UDP;
	return 0;
}

/*
 * sock4_lookup - the mapping the socket's destination @dst and ctx->user_port
 * name, within the scope described at the top, or NULL.
 */
static __always_inline struct fwd_svc4_value *sock4_lookup(struct bpf_sock_addr *ctx, __be32 dst,
							   __u8 proto)
{
	struct fwd_svc4_key key = {
		.host_addr = dst,
		.host_port = (__be16)ctx->user_port,
		.proto = proto,
	};
	struct fwd_svc4_value *svc;
	int local;

	if (sock_in_host_netns(ctx)) {
		local = ipv4_is_loopback(dst) || sock4_is_host_addr(dst);
	} else {
		if (ipv4_is_loopback(dst) || !sock4_is_host_addr(dst))
			return NULL;
		local = 1;
	}
	svc = bpf_map_lookup_elem(&FWD_MAP_SVC4, &key);
	if (svc || !local)
		return svc;
	key.host_addr = 0;
	return bpf_map_lookup_elem(&FWD_MAP_SVC4, &key);
}

/* Point the socket at the container and remember what it asked for. */
static __always_inline void sock4_translate(struct bpf_sock_addr *ctx)
{
	__u8 proto = sock_proto(ctx);
	struct fwd_svc4_value *svc;
	struct fwd_sock4_key key = {};
	struct fwd_sock4_value value = {};

	if (!proto)
		return;
	svc = sock4_lookup(ctx, ctx->user_ip4, proto);
	if (!svc)
		return;
	key.cookie = bpf_get_socket_cookie(ctx);
	key.container_addr = svc->container_addr;
	key.container_port = svc->container_port;
	key.proto = proto;
	value.host_addr = ctx->user_ip4;
	value.host_port = (__be16)ctx->user_port;
	/* Without the entry replies would show the container: better not translate. */
	if (bpf_map_update_elem(&FWD_MAP_SOCK4, &key, &value, BPF_ANY))
		return;
	ctx->user_ip4 = svc->container_addr;
	ctx->user_port = (__u32)svc->container_port;
	counter_bump(FWD_CNT_SOCK_XLATE);
}

/* Show the published address where the socket would see the container's. */
static __always_inline void sock4_reverse(struct bpf_sock_addr *ctx)
{
	struct fwd_sock4_key key = {};
	struct fwd_sock4_value *value;

	key.proto = sock_proto(ctx);
	if (!key.proto)
		return;
	key.cookie = bpf_get_socket_cookie(ctx);
	key.container_addr = ctx->user_ip4;
	key.container_port = (__be16)ctx->user_port;
	value = bpf_map_lookup_elem(&FWD_MAP_SOCK4, &key);
	if (!value)
		return;
	ctx->user_ip4 = value->host_addr;
	ctx->user_port = (__u32)value->host_port;
	counter_bump(FWD_CNT_SOCK_REVXLATE);
}

/* Is (addr, port, proto) published, so that a host bind() there would lose traffic? */
static __always_inline int sock4_port_published(__be32 addr, __be16 port, __u8 proto)
{
	struct fwd_svc4_key svc_key = { .host_addr = addr, .host_port = port, .proto = proto };
	struct fwd_port_key port_key = { .port = port, .proto = proto };

	if (addr == 0)
		return bpf_map_lookup_elem(&FWD_MAP_PORTS, &port_key) != NULL;
	if (bpf_map_lookup_elem(&FWD_MAP_SVC4, &svc_key))
		return 1;
	svc_key.host_addr = 0;
	return bpf_map_lookup_elem(&FWD_MAP_SVC4, &svc_key) != NULL;
}

SEC("cgroup/connect4")
int fwd_connect4(struct bpf_sock_addr *ctx)
{
	sock4_translate(ctx);
	return SOCK_ALLOW;
}

SEC("cgroup/sendmsg4")
int fwd_sendmsg4(struct bpf_sock_addr *ctx)
{
	sock4_translate(ctx);
	return SOCK_ALLOW;
}

SEC("cgroup/recvmsg4")
int fwd_recvmsg4(struct bpf_sock_addr *ctx)
{
	sock4_reverse(ctx);
	return SOCK_ALLOW;
}

SEC("cgroup/getpeername4")
int fwd_getpeername4(struct bpf_sock_addr *ctx)
{
	sock4_reverse(ctx);
	return SOCK_ALLOW;
}

/* A host bind() to a published port fails with EADDRINUSE (EPERM without bpf_set_retval). */
static __always_inline int sock_refuse_bind(void)
{
	counter_bump(FWD_CNT_BIND_REFUSED);
	if (use_set_retval)
		bpf_set_retval(-EADDRINUSE);
	return SOCK_REFUSE;
}

SEC("cgroup/bind4")
int fwd_bind4(struct bpf_sock_addr *ctx)
{
	__u8 proto = sock_proto(ctx);
	__be16 port = (__be16)ctx->user_port;

	if (!proto || port == 0 || !sock_in_host_netns(ctx))
		return SOCK_ALLOW;
	if (!sock4_port_published(ctx->user_ip4, port, proto))
		return SOCK_ALLOW;
	return sock_refuse_bind();
}

/* ---- IPv6 sockets ---- */

/* The socket's address (ctx->user_ip6) as ABI words; 4-byte reads, as the verifier wants. */
static __always_inline void sock6_read_addr(const struct bpf_sock_addr *ctx, __be32 addr[4])
{
	addr[0] = ctx->user_ip6[0];
	addr[1] = ctx->user_ip6[1];
	addr[2] = ctx->user_ip6[2];
	addr[3] = ctx->user_ip6[3];
}

static __always_inline void sock6_write_addr(struct bpf_sock_addr *ctx, const __be32 addr[4])
{
	ctx->user_ip6[0] = addr[0];
	ctx->user_ip6[1] = addr[1];
	ctx->user_ip6[2] = addr[2];
	ctx->user_ip6[3] = addr[3];
}

static __always_inline int sock6_is_host_addr(const __be32 addr[4])
{
	struct fwd_local6_key key = {};

	addr6_copy(key.addr, addr);
	return bpf_map_lookup_elem(&FWD_MAP_LOCAL6, &key) != NULL;
}

/* sock4_lookup's IPv6 twin: ::1 is loopback, fwd_local6 the host's addresses, :: the wildcard. */
static __always_inline struct fwd_svc6_value *sock6_lookup(struct bpf_sock_addr *ctx,
							   const __be32 dst[4], __u8 proto)
{
	struct fwd_svc6_key key = {
		.host_port = (__be16)ctx->user_port,
		.proto = proto,
	};
	struct fwd_svc6_value *svc;
	int local;

	if (sock_in_host_netns(ctx)) {
		local = addr6_is_loopback(dst) || sock6_is_host_addr(dst);
	} else {
		if (addr6_is_loopback(dst) || !sock6_is_host_addr(dst))
			return NULL;
		local = 1;
	}
	addr6_copy(key.host_addr, dst);
	svc = bpf_map_lookup_elem(&FWD_MAP_SVC6, &key);
	if (svc || !local)
		return svc;
	__builtin_memset(key.host_addr, 0, sizeof(key.host_addr));
	return bpf_map_lookup_elem(&FWD_MAP_SVC6, &key);
}

/*
 * sock6_target - where a socket addressed to @dst (and ctx->user_port) is sent
 * instead: an IPv6 mapping's container, or for an IPv4-mapped @dst an IPv4
 * mapping's container as ::ffff:a.b.c.d. Returns 1 and fills @addr/@port, or 0.
 */
static __always_inline int sock6_target(struct bpf_sock_addr *ctx, const __be32 dst[4], __u8 proto,
					__be32 addr[4], __be16 *port)
{
	if (addr6_is_v4_mapped(dst)) {
		struct fwd_svc4_value *svc4 = sock4_lookup(ctx, dst[3], proto);

		if (!svc4)
			return 0;
		addr6_set_v4_mapped(addr, svc4->container_addr);
		*port = svc4->container_port;
		return 1;
	}
	struct fwd_svc6_value *svc6 = sock6_lookup(ctx, dst, proto);

	if (!svc6)
		return 0;
	addr6_copy(addr, svc6->container_addr);
	*port = svc6->container_port;
	return 1;
}

static __always_inline void sock6_translate(struct bpf_sock_addr *ctx)
{
	struct fwd_sock6_key key = {};
	struct fwd_sock6_value value = {};
	__be32 dst[4];

	key.proto = sock_proto(ctx);
	if (!key.proto)
		return;
	sock6_read_addr(ctx, dst);
	if (!sock6_target(ctx, dst, key.proto, key.container_addr, &key.container_port))
		return;
	key.cookie = bpf_get_socket_cookie(ctx);
	addr6_copy(value.host_addr, dst);
	value.host_port = (__be16)ctx->user_port;
	/* Without the entry replies would show the container: better not translate. */
	if (bpf_map_update_elem(&FWD_MAP_SOCK6, &key, &value, BPF_ANY))
		return;
	sock6_write_addr(ctx, key.container_addr);
	ctx->user_port = (__u32)key.container_port;
	counter_bump(FWD_CNT_SOCK_XLATE);
}

static __always_inline void sock6_reverse(struct bpf_sock_addr *ctx)
{
	struct fwd_sock6_key key = {};
	struct fwd_sock6_value *value;

	key.proto = sock_proto(ctx);
	if (!key.proto)
		return;
	key.cookie = bpf_get_socket_cookie(ctx);
	sock6_read_addr(ctx, key.container_addr);
	key.container_port = (__be16)ctx->user_port;
	value = bpf_map_lookup_elem(&FWD_MAP_SOCK6, &key);
	if (!value)
		return;
	sock6_write_addr(ctx, value->host_addr);
	ctx->user_port = (__u32)value->host_port;
	counter_bump(FWD_CNT_SOCK_REVXLATE);
}

/* sock4_port_published's IPv6 twin; an IPv4-mapped address asks the IPv4 mappings. */
static __always_inline int sock6_port_published(const __be32 addr[4], __be16 port, __u8 proto)
{
	struct fwd_svc6_key svc_key = { .host_port = port, .proto = proto };

	if (addr6_is_v4_mapped(addr))
		return sock4_port_published(addr[3], port, proto);
	if (addr6_is_any(addr))
		return sock4_port_published(0, port, proto);
	addr6_copy(svc_key.host_addr, addr);
	if (bpf_map_lookup_elem(&FWD_MAP_SVC6, &svc_key))
		return 1;
	__builtin_memset(svc_key.host_addr, 0, sizeof(svc_key.host_addr));
	return bpf_map_lookup_elem(&FWD_MAP_SVC6, &svc_key) != NULL;
}

SEC("cgroup/connect6")
int fwd_connect6(struct bpf_sock_addr *ctx)
{
	sock6_translate(ctx);
	return SOCK_ALLOW;
}

SEC("cgroup/sendmsg6")
int fwd_sendmsg6(struct bpf_sock_addr *ctx)
{
	sock6_translate(ctx);
	return SOCK_ALLOW;
}

SEC("cgroup/recvmsg6")
int fwd_recvmsg6(struct bpf_sock_addr *ctx)
{
	sock6_reverse(ctx);
	return SOCK_ALLOW;
}

SEC("cgroup/getpeername6")
int fwd_getpeername6(struct bpf_sock_addr *ctx)
{
	sock6_reverse(ctx);
	return SOCK_ALLOW;
}

SEC("cgroup/bind6")
int fwd_bind6(struct bpf_sock_addr *ctx)
{
	__u8 proto = sock_proto(ctx);
	__be16 port = (__be16)ctx->user_port;
	__be32 addr[4];

	if (!proto || port == 0 || !sock_in_host_netns(ctx))
		return SOCK_ALLOW;
	sock6_read_addr(ctx, addr);
	if (!sock6_port_published(addr, port, proto))
		return SOCK_ALLOW;
	return sock_refuse_bind();
}
