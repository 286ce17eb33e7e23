// fwd's cls_bpf filters on an interface's clsact qdisc (libbpf 1.1 has no tcx).
// fwd owns one handle/priority per direction and touches nothing else.
#pragma once

#include <cstdint>
#include <string>

#include "fwd/result.h"

namespace fwd::loader {

enum class TcDirection { Ingress, Egress };

struct TcPrograms {
    int ingress_fd = -1;
    int egress_fd = -1;
};

struct TcState {
    std::uint32_t ingress_prog_id = 0;
    std::uint32_t egress_prog_id = 0;
};

[[nodiscard]] Result<int> interface_index(const std::string& ifname);

// Creates clsact if needed (reports whether it did) and attaches or atomically
// replaces fwd's filters. Refuses to replace a filter at fwd's handle that is not fwd's.
[[nodiscard]] Result<bool> tc_attach(int ifindex, const TcPrograms& programs);
// Removes fwd's filters (only if they are fwd's programs), then clsact if asked.
[[nodiscard]] Result<void> tc_detach(int ifindex, bool remove_clsact);
// Program ids of fwd's filters, 0 where absent.
[[nodiscard]] Result<TcState> tc_query(int ifindex);

}  // namespace fwd::loader
