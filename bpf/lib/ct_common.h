/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What the conntrack of both families (ct4.h, ct6.h) shares: the clock, the
 * lifetimes and what a packet does to a live entry. Only an entry's flags and
 * last_seen_ns are involved, which fwd_ct4_value and fwd_ct6_value both have.
 */
#ifndef FWD_LIB_CT_COMMON_H
#define FWD_LIB_CT_COMMON_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "../fwd_abi.h"
#include "parse.h"

/* The conntrack clock: coarse (tick resolution) is plenty for lifetimes and much cheaper. */
static __always_inline __u64 ct_now(void)
{
	return bpf_ktime_get_coarse_ns();
}

/* Nanoseconds since @then; 0 if @then is ahead (an entry stamped by a finer clock). */
static __always_inline __u64 ct_age(__u64 now, __u64 then)
{
	return (__s64)(now - then) > 0 ? now - then : 0;
}

/* How long an entry lives after its last packet: short once its TCP connection is closing. */
static __always_inline __u64 ct_lifetime_ns(__u16 flags, __u8 proto)
{
	if (flags & FWD_CT_FLAG_CLOSING)
		return FWD_CT_CLOSE_LIFETIME_NS;
	return proto == FWD_PROTO_TCP ? FWD_CT_TCP_LIFETIME_NS : FWD_CT_UDP_LIFETIME_NS;
}

/* Is an entry with @flags, last seen at @last_seen_ns, still alive at @now? */
static __always_inline int ct_alive(__u16 flags, __u64 last_seen_ns, __u8 proto, __u64 now)
{
	return ct_age(now, last_seen_ns) <= ct_lifetime_ns(flags, proto);
}

/*
 * ct_touch - a packet @pkt of a live flow: a TCP FIN or RST marks it closing,
 * a new SYN reopens it; last_seen is refreshed at most every FWD_CT_REFRESH_NS
 * (keeping writes off the hot path). Writes only what changes.
 */
static __always_inline void ct_touch(__u16 *flags, __u64 *last_seen_ns, const struct fwd_pkt *pkt,
				     __u64 now)
{
	if (pkt->tcp_fin_rst && !(*flags & FWD_CT_FLAG_CLOSING))
		*flags |= FWD_CT_FLAG_CLOSING;
	else if (pkt->tcp_syn && (*flags & FWD_CT_FLAG_CLOSING))
		*flags &= ~FWD_CT_FLAG_CLOSING;
	if (ct_age(now, *last_seen_ns) > FWD_CT_REFRESH_NS)
		*last_seen_ns = now;
}

#endif /* FWD_LIB_CT_COMMON_H */
