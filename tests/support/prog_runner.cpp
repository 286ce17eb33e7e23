#include "support/prog_runner.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ostream>

#ifndef BPF_F_TEST_SKB_CHECKSUM_COMPLETE
#define BPF_F_TEST_SKB_CHECKSUM_COMPLETE (1U << 2)  // UAPI value; older headers lack it
#endif

namespace fwd::test {
namespace {

// Room for what a program might add (none of ours grows packets); test_run refuses with ENOSPC
// rather than truncating silently when the buffer is too small.
constexpr size_t kOutputSlack = 4096;

// The filter a TcIngressHook adds; test-only values, distinct from fwd's own handle.
constexpr __u32 kHandle = 0x7e57;
constexpr __u32 kPriority = 0x7e57;

}  // namespace

void PrintTo(SkbChecksum csum, std::ostream* os) {
    *os << (csum == SkbChecksum::Complete ? "CHECKSUM_COMPLETE" : "CHECKSUM_NONE");
}

std::string ProgRun::error_message() const {
    return err == 0 ? std::string("ok")
                    : fmt::format("BPF_PROG_TEST_RUN failed: {} ({})", std::strerror(err), err);
}

std::string XdpRun::error_message() const {
    return err == 0
               ? std::string("ok")
               : fmt::format("BPF_PROG_TEST_RUN (XDP) failed: {} ({})", std::strerror(err), err);
}

__sk_buff ProgRunner::tc_ctx(int ifindex) {
    __sk_buff ctx{};
    ctx.ifindex = static_cast<__u32>(ifindex);
    return ctx;
}

ProgRun ProgRunner::run(std::span<const uint8_t> packet, const __sk_buff& ctx, uint32_t repeat,
                        SkbChecksum csum) const {
    ProgRun result;
    result.data.resize(packet.size() + kOutputSlack);
    __sk_buff ctx_in = ctx;

    LIBBPF_OPTS(bpf_test_run_opts, opts);
    opts.data_in = packet.data();
    opts.data_size_in = static_cast<__u32>(packet.size());
    opts.data_out = result.data.data();
    opts.data_size_out = static_cast<__u32>(result.data.size());
    opts.ctx_in = &ctx_in;
    opts.ctx_size_in = sizeof(ctx_in);
    opts.ctx_out = &result.ctx;
    opts.ctx_size_out = sizeof(result.ctx);
    opts.repeat = static_cast<int>(repeat);
    opts.flags = csum == SkbChecksum::Complete ? BPF_F_TEST_SKB_CHECKSUM_COMPLETE : 0U;

    if (bpf_prog_test_run_opts(prog_fd_, &opts) != 0) {
        result.err = errno;
        result.data.clear();
        return result;
    }
    result.retval = opts.retval;
    result.duration_ns = opts.duration;
    result.data.resize(opts.data_size_out);
    return result;
}

xdp_md ProgRunner::xdp_ctx(int ingress_ifindex, size_t frame_size) {
    xdp_md ctx{};
    ctx.data = 0;  // no metadata in front of the frame
    ctx.data_end = static_cast<__u32>(frame_size);
    ctx.ingress_ifindex = static_cast<__u32>(ingress_ifindex);
    ctx.rx_queue_index = 0;
    return ctx;
}

XdpRun ProgRunner::run_xdp(std::span<const uint8_t> frame, const xdp_md& ctx) const {
    XdpRun result;
    // The output is the metadata followed by the frame.
    std::vector<uint8_t> out(frame.size() + kOutputSlack);
    xdp_md ctx_in = ctx;

    LIBBPF_OPTS(bpf_test_run_opts, opts);
    opts.data_in = frame.data();
    opts.data_size_in = static_cast<__u32>(frame.size());
    opts.data_out = out.data();
    opts.data_size_out = static_cast<__u32>(out.size());
    opts.ctx_in = &ctx_in;
    opts.ctx_size_in = sizeof(ctx_in);
    opts.ctx_out = &result.ctx;
    opts.ctx_size_out = sizeof(result.ctx);
    opts.repeat = 1;

    if (bpf_prog_test_run_opts(prog_fd_, &opts) != 0) {
        result.err = errno;
        return result;
    }
    result.retval = opts.retval;
    // ctx.data is where the frame starts after the metadata (ctx.data_meta is always 0 here).
    const size_t meta_len = std::min<size_t>(result.ctx.data, opts.data_size_out);
    result.meta.assign(out.begin(), out.begin() + static_cast<long>(meta_len));
    result.data.assign(out.begin() + static_cast<long>(meta_len),
                       out.begin() + static_cast<long>(opts.data_size_out));
    return result;
}

int ProgRunner::run_xdp_live(std::span<const uint8_t> frame, const xdp_md& ctx) const {
    xdp_md ctx_in = ctx;
    LIBBPF_OPTS(bpf_test_run_opts, opts);
    opts.data_in = frame.data();
    opts.data_size_in = static_cast<__u32>(frame.size());
    opts.ctx_in = &ctx_in;
    opts.ctx_size_in = sizeof(ctx_in);
    opts.repeat = 1;
    opts.flags = BPF_F_TEST_XDP_LIVE_FRAMES;
    return bpf_prog_test_run_opts(prog_fd_, &opts) != 0 ? errno : 0;
}

std::unique_ptr<TcIngressHook> TcIngressHook::attach(int ifindex, int prog_fd, std::string* error) {
    LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
    int err = bpf_tc_hook_create(&hook);
    if (err != 0 && err != -EEXIST) {
        *error = fmt::format("bpf_tc_hook_create(ifindex {}): {}", ifindex, std::strerror(-err));
        return nullptr;
    }
    // Built before attaching, so a failed attach still removes the qdisc it created.
    std::unique_ptr<TcIngressHook> owner(new TcIngressHook(ifindex, err == 0));
    LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = prog_fd, .handle = kHandle, .priority = kPriority);
    err = bpf_tc_attach(&hook, &opts);
    if (err != 0) {
        *error = fmt::format("bpf_tc_attach(ifindex {}): {}", ifindex, std::strerror(-err));
        return nullptr;
    }
    return owner;
}

TcIngressHook::~TcIngressHook() {
    LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex_, .attach_point = BPF_TC_INGRESS);
    if (created_qdisc_) {
        // Both attach points name the clsact qdisc itself; its filters go with it.
        hook.attach_point = static_cast<bpf_tc_attach_point>(BPF_TC_INGRESS | BPF_TC_EGRESS);
        bpf_tc_hook_destroy(&hook);
        return;
    }
    LIBBPF_OPTS(bpf_tc_opts, opts, .handle = kHandle, .priority = kPriority);
    bpf_tc_detach(&hook, &opts);
}

int unpin_all_maps(bpf_object* obj) {
    bpf_map* map = nullptr;
    bpf_object__for_each_map(map, obj) {
        const int err = bpf_map__set_pin_path(map, nullptr);
        if (err != 0) {
            return err;
        }
    }
    return 0;
}

}  // namespace fwd::test
