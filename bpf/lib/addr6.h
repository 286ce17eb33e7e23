/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* IPv6 addresses as four big-endian words (fwd_abi.h): classes, comparison, copying. */
#ifndef FWD_LIB_ADDR6_H
#define FWD_LIB_ADDR6_H

#include <linux/types.h>
#include <bpf/bpf_endian.h>

#define ADDR6_SIZE 16

static __always_inline int addr6_equal(const __be32 *a, const __be32 *b)
{
	return a[0] == b[0] && a[1] == b[1] && a[2] == b[2] && a[3] == b[3];
}

static __always_inline void addr6_copy(__be32 *to, const __be32 *from)
{
	to[0] = from[0];
	to[1] = from[1];
	to[2] = from[2];
	to[3] = from[3];
}

/* :: */
static __always_inline int addr6_is_any(const __be32 *addr)
{
	return (addr[0] | addr[1] | addr[2] | addr[3]) == 0;
}

/* ::ffff:a.b.c.d, an IPv4 address as a dual-stack socket names it. */
static __always_inline int addr6_is_v4_mapped(const __be32 *addr)
{
	return (addr[0] | addr[1]) == 0 && addr[2] == bpf_htonl(0xffff);
}

static __always_inline void addr6_set_v4_mapped(__be32 *addr, __be32 v4)
{
	addr[0] = 0;
	addr[1] = 0;
	addr[2] = bpf_htonl(0xffff);
	addr[3] = v4;
}

/* ::1 */
static __always_inline int addr6_is_loopback(const __be32 *addr)
{
	return (addr[0] | addr[1] | addr[2]) == 0 && addr[3] == bpf_htonl(1);
}

/* ff00::/8 */
static __always_inline int addr6_is_multicast(const __be32 *addr)
{
	return (bpf_ntohl(addr[0]) >> 24) == 0xff;
}

/* fe80::/10 */
static __always_inline int addr6_is_link_local(const __be32 *addr)
{
	return (bpf_ntohl(addr[0]) & 0xffc00000) == 0xfe800000;
}

#endif /* FWD_LIB_ADDR6_H */
