/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* IPv4 address classes shared by the TC and socket programs. */
#ifndef FWD_LIB_ADDR4_H
#define FWD_LIB_ADDR4_H

#include <linux/types.h>
#include <bpf/bpf_endian.h>

static __always_inline int ipv4_is_loopback(__be32 addr)
{
	return (bpf_ntohl(addr) >> 24) == 127;
}

#endif /* FWD_LIB_ADDR4_H */
