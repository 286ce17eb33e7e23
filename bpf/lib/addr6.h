/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* IPv6 addresses as four big-endian words (the ABI's form): classes and copies. */
#ifndef FWD_LIB_ADDR6_H
#define FWD_LIB_ADDR6_H

#include <linux/types.h>
#include <bpf/bpf_endian.h>

static __always_inline int ipv6_is_any(const __be32 addr[4])
{
	return !(addr[0] | addr[1] | addr[2] | addr[3]);
}

/* ::1 */
static __always_inline int ipv6_is_loopback(const __be32 addr[4])
{
	return !(addr[0] | addr[1] | addr[2]) && addr[3] == bpf_htonl(1);
}

/* ::ffff:a.b.c.d, an IPv4 address as a dual-stack socket names it. */
static __always_inline int ipv6_is_v4_mapped(const __be32 addr[4])
{
	return !(addr[0] | addr[1]) && addr[2] == bpf_htonl(0xffff);
}

static __always_inline void ipv6_set_v4_mapped(__be32 addr[4], __be32 v4)
{
	addr[0] = 0;
	addr[1] = 0;
	addr[2] = bpf_htonl(0xffff);
	addr[3] = v4;
}

static __always_inline void ipv6_copy(__be32 dst[4], const __be32 src[4])
{
	dst[0] = src[0];
	dst[1] = src[1];
	dst[2] = src[2];
	dst[3] = src[3];
}

#endif /* FWD_LIB_ADDR6_H */
