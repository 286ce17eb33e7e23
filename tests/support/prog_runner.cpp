#include "support/prog_runner.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fmt/format.h>

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
