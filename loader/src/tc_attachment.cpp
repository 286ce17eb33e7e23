#include "tc_attachment.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fwd_abi.h>
#include <net/if.h>

#include <cerrno>

#include "bpf_error.h"
#include "program_identity.h"

namespace fwd::loader {
namespace {

bpf_tc_attach_point attach_point(TcDirection direction) {
    return direction == TcDirection::Ingress ? BPF_TC_INGRESS : BPF_TC_EGRESS;
}

const char* program_name(TcDirection direction) {
    return direction == TcDirection::Ingress ? "fwd_tc_ingress" : "fwd_tc_egress";
}

bpf_tc_hook make_hook(int ifindex, bpf_tc_attach_point point) {
    bpf_tc_hook hook{};
    hook.sz = sizeof(hook);
    hook.ifindex = ifindex;
    hook.attach_point = point;
    return hook;
}

bpf_tc_opts owned_filter() {
    bpf_tc_opts opts{};
    opts.sz = sizeof(opts);
    opts.handle = FWD_TC_HANDLE;
    opts.priority = FWD_TC_PRIORITY;
    return opts;
}

// The id of the program at fwd's handle, 0 when there is no filter there.
Result<std::uint32_t> query_filter(int ifindex, TcDirection direction) {
    auto hook = make_hook(ifindex, attach_point(direction));
    auto opts = owned_filter();
    const int ret = bpf_tc_query(&hook, &opts);
    if (ret == -ENOENT || ret == -EINVAL) return std::uint32_t{0};  // no qdisc or filter
    if (ret < 0) return libbpf_error(ret, "tc query");
    return std::uint32_t{opts.prog_id};
}

Result<void> attach_one(int ifindex, TcDirection direction, int prog_fd) {
    auto existing = query_filter(ifindex, direction);
    if (!existing) return existing.error();
    if (*existing != 0) {
        auto ours = program_has_name(*existing, program_name(direction));
        if (!ours) return ours.error();
        if (!*ours)
            return make_error(ErrorCode::Exists,
                              "tc filter handle " + std::to_string(FWD_TC_HANDLE) +
                                  " is used by another program");
    }
    auto hook = make_hook(ifindex, attach_point(direction));
    auto opts = owned_filter();
    opts.prog_fd = prog_fd;
    opts.flags = BPF_TC_F_REPLACE;
    const int ret = bpf_tc_attach(&hook, &opts);
    if (ret < 0) return libbpf_error(ret, std::string("tc attach ") + program_name(direction));
    return {};
}

Result<void> detach_one(int ifindex, TcDirection direction) {
    auto existing = query_filter(ifindex, direction);
    if (!existing) return existing.error();
    if (*existing == 0) return {};
    auto ours = program_has_name(*existing, program_name(direction));
    if (!ours) return ours.error();
    if (!*ours) return {};
    auto hook = make_hook(ifindex, attach_point(direction));
    auto opts = owned_filter();
    const int ret = bpf_tc_detach(&hook, &opts);
    if (ret < 0 && ret != -ENOENT)
        return libbpf_error(ret, std::string("tc detach ") + program_name(direction));
    return {};
}

Result<void> destroy_clsact(int ifindex) {
    auto hook = make_hook(ifindex, static_cast<bpf_tc_attach_point>(BPF_TC_INGRESS | BPF_TC_EGRESS));
    const int ret = bpf_tc_hook_destroy(&hook);
    if (ret < 0 && ret != -ENOENT && ret != -EINVAL) return libbpf_error(ret, "remove clsact");
    return {};
}

}  // namespace

Result<int> interface_index(const std::string& ifname) {
    const unsigned index = if_nametoindex(ifname.c_str());
    if (index == 0) return make_error(ErrorCode::NotFound, "no such interface: " + ifname, ENODEV);
    return static_cast<int>(index);
}

Result<bool> tc_attach(int ifindex, const TcPrograms& programs) {
    auto hook = make_hook(ifindex, BPF_TC_INGRESS);
    const int created = bpf_tc_hook_create(&hook);
    if (created < 0 && created != -EEXIST) return libbpf_error(created, "create clsact qdisc");
    const bool created_clsact = created == 0;

    // Egress first: replies are translated before the first new flow is.
    auto egress = attach_one(ifindex, TcDirection::Egress, programs.egress_fd);
    auto ingress = egress ? attach_one(ifindex, TcDirection::Ingress, programs.ingress_fd)
                          : Result<void>(egress.error());
    if (!ingress) {
        if (created_clsact) (void)destroy_clsact(ifindex);
        return ingress.error();
    }
    return created_clsact;
}

Result<void> tc_detach(int ifindex, bool remove_clsact) {
    auto ingress = detach_one(ifindex, TcDirection::Ingress);
    if (!ingress) return ingress;
    auto egress = detach_one(ifindex, TcDirection::Egress);
    if (!egress) return egress;
    if (remove_clsact) return destroy_clsact(ifindex);
    return {};
}

Result<TcState> tc_query(int ifindex) {
    auto ingress = query_filter(ifindex, TcDirection::Ingress);
    if (!ingress) return ingress.error();
    auto egress = query_filter(ifindex, TcDirection::Egress);
    if (!egress) return egress.error();
    return TcState{*ingress, *egress};
}

}  // namespace fwd::loader
