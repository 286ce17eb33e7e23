/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* What the NAT code of both families shares: which side of a packet changes. */
#ifndef FWD_LIB_NAT_H
#define FWD_LIB_NAT_H

#include <stddef.h>
#include <linux/tcp.h>
#include <linux/udp.h>

/* The L4 port field offsets are the same for TCP and UDP (source, then dest). */
_Static_assert(offsetof(struct tcphdr, source) == offsetof(struct udphdr, source), "sport");
_Static_assert(offsetof(struct tcphdr, dest) == offsetof(struct udphdr, dest), "dport");

/* Also the index of the port in the L4 header's (source, dest) pair. */
enum nat_side { NAT_SRC = 0, NAT_DST = 1 };

#endif /* FWD_LIB_NAT_H */
