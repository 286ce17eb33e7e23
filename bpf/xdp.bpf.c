// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * fwd XDP program (`fwdctl attach --mode xdp`): the forward translation of
 * tracked flows, done before the kernel builds an skb.
 *
 * It always runs next to the TC programs, which stay authoritative. XDP
 * translates only a packet of a flow TC already tracks and whose L4 checksum
 * is complete, and leaves everything else unchanged to TC: the first packet
 * of a flow (host-socket check, conntrack insert), checksums left for
 * offload by a local sender, everything that is not a mapped packet (TC
 * counts those, so XDP does not count them twice). A translated frame carries
 * a mark in its XDP metadata, so TC ingress sends it on by the fast path
 * without a second lookup.
 *
 * IPv4 only: an IPv6 frame (or anything else) fails parse_xdp and passes to
 * TC unchanged, unmarked and uncounted; TC's IPv6 path (lib/parse6.h and the
 * *6.h twins) does all of its work. tests/bpf/tc_nat6_test.cpp holds to that.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "fwd_abi.h"
#include "lib/maps.h"
#include "lib/parse.h"
#include "lib/csum.h"
#include "lib/nat4.h"
#include "lib/ct4.h"
#include "lib/svc4.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Tell TC the frame is translated; without room for metadata TC simply finds no mark. */
static __always_inline void xdp_mark_translated(struct xdp_md *ctx)
{
	__u32 *mark;

	if (bpf_xdp_adjust_meta(ctx, -(int)sizeof(*mark)))
		return;
	mark = (void *)(long)ctx->data_meta;
	if ((void *)(mark + 1) > (void *)(long)ctx->data)
		return;
	*mark = FWD_XDP_META_TRANSLATED;
}

/* Returns 1 when the frame was translated, 0 when TC is to look at it. */
static __always_inline int xdp_dnat4(struct xdp_md *ctx)
{
	struct fwd_svc4_value *svc = NULL;
	struct fwd_svc4_value target;
	struct nat4_change change;
	struct fwd_pkt pkt = {};
	__u32 len = ctx->data_end - ctx->data;

	if (parse_xdp(ctx, &pkt) || svc4_lookup(ctx, ctx->ingress_ifindex, &pkt, &svc))
		return 0;
	target = *svc;
	if (!ct4_refresh_forward(&pkt, &target, ct_now()) || csum4_l4_is_partial(&pkt)) {
		counter_bump(FWD_CNT_XDP_TO_TC);
		return 0;
	}
	change = nat4_change_of(&pkt, NAT_DST, target.container_addr, target.container_port);
	if (nat4_rewrite_xdp(ctx, &pkt, &change)) {
		counter_bump(FWD_CNT_ERR_REWRITE);
		return 0;
	}
	counter_bump(FWD_CNT_NAT_IN);
	counter_bump(FWD_CNT_XDP_NAT_IN);
	if (pkt.has_ip_options)
		counter_bump(FWD_CNT_IP_OPTIONS);
	stats_account(target.mapping_id, len, 0);
	return 1;
}

/*
 * xdp.frags: the program copes with multi-buffer frames (it parses the first buffer; a frame
 * whose headers claim more than that is left to TC), so it also attaches to devices with a
 * jumbo MTU, where drivers refuse single-buffer programs.
 */
SEC("xdp.frags")
int fwd_xdp_ingress(struct xdp_md *ctx)
{
	if (xdp_dnat4(ctx))
		xdp_mark_translated(ctx);
	return XDP_PASS;
}
