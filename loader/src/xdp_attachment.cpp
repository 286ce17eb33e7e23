#include "xdp_attachment.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "bpf_error.h"
#include "program_identity.h"
#include "unique_fd.h"

namespace fwd::loader {
namespace {

constexpr const char* kProgramName = "fwd_xdp_ingress";

// What is attached, whoever it belongs to.
struct Attached {
    std::uint32_t prog_id = 0;
    XdpMode mode = XdpMode::None;
    bool ours = false;
};

std::uint32_t mode_flag(XdpMode mode) {
    return mode == XdpMode::Native ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE;
}

Result<Attached> attached(int ifindex) {
    bpf_xdp_query_opts opts{};
    opts.sz = sizeof(opts);
    const int ret = bpf_xdp_query(ifindex, 0, &opts);
    if (ret < 0) return libbpf_error(ret, "XDP query");
    Attached result;
    if (opts.drv_prog_id != 0) {
        result = {opts.drv_prog_id, XdpMode::Native, false};
    } else if (opts.skb_prog_id != 0) {
        result = {opts.skb_prog_id, XdpMode::Generic, false};
    } else if (opts.prog_id != 0) {
        return Attached{opts.prog_id, XdpMode::None, false};  // offloaded to the NIC: not ours
    } else {
        return result;
    }
    auto ours = program_has_name(result.prog_id, kProgramName);
    if (!ours) return ours.error();
    result.ours = *ours;
    return result;
}

// Replaces our program `current` with prog_fd only if it is still the one attached.
Result<void> replace(int ifindex, int prog_fd, const Attached& current) {
    UniqueFd old_fd(bpf_prog_get_fd_by_id(current.prog_id));
    if (!old_fd.valid()) return errno_error("open attached XDP program");
    bpf_xdp_attach_opts opts{};
    opts.sz = sizeof(opts);
    opts.old_prog_fd = old_fd.get();
    const int ret =
        bpf_xdp_attach(ifindex, prog_fd, mode_flag(current.mode) | XDP_FLAGS_REPLACE, &opts);
    if (ret < 0) return libbpf_error(ret, "XDP replace");
    return {};
}

}  // namespace

Result<XdpMode> xdp_attach(int ifindex, int prog_fd) {
    auto current = attached(ifindex);
    if (!current) return current.error();
    if (current->prog_id != 0 && !current->ours)
        return make_error(ErrorCode::Exists, "another XDP program (id " +
                                                 std::to_string(current->prog_id) +
                                                 ") is attached; fwd does not replace it");
    if (current->ours) {
        if (auto ok = replace(ifindex, prog_fd, *current); !ok) return ok.error();
        return current->mode;
    }
    const int native = bpf_xdp_attach(ifindex, prog_fd, XDP_FLAGS_DRV_MODE | XDP_FLAGS_UPDATE_IF_NOEXIST,
                                      nullptr);
    if (native == 0) return XdpMode::Native;
    const int generic = bpf_xdp_attach(ifindex, prog_fd, XDP_FLAGS_SKB_MODE | XDP_FLAGS_UPDATE_IF_NOEXIST,
                                       nullptr);
    if (generic < 0) return libbpf_error(generic, "XDP attach (native: " +
                                                      std::string(std::strerror(-native)) + ")");
    return XdpMode::Generic;
}

Result<void> xdp_detach(int ifindex) {
    auto current = attached(ifindex);
    if (!current) return current.error();
    if (!current->ours) return {};
    UniqueFd old_fd(bpf_prog_get_fd_by_id(current->prog_id));
    if (!old_fd.valid()) return errno_error("open attached XDP program");
    bpf_xdp_attach_opts opts{};
    opts.sz = sizeof(opts);
    opts.old_prog_fd = old_fd.get();
    const int ret = bpf_xdp_detach(ifindex, mode_flag(current->mode) | XDP_FLAGS_REPLACE, &opts);
    if (ret < 0 && ret != -ENOENT) return libbpf_error(ret, "XDP detach");
    return {};
}

Result<XdpState> xdp_query(int ifindex) {
    auto current = attached(ifindex);
    if (!current) return current.error();
    if (!current->ours) return XdpState{};
    return XdpState{current->prog_id, current->mode};
}

}  // namespace fwd::loader
