#include "fwd/ctl/port_allocator.h"

#include <fmt/format.h>

#include <algorithm>

namespace fwd::ctl {
namespace {

AllocationCursor& cursor_for(State& state, IpAddr addr, Proto proto) {
    auto it = std::find_if(state.cursors.begin(), state.cursors.end(),
                           [&](const AllocationCursor& c) { return c.addr == addr && c.proto == proto; });
    if (it != state.cursors.end()) return *it;
    state.cursors.push_back({addr, proto, 0});
    return state.cursors.back();
}

// Every address of a dual-stack allocation, as "0.0.0.0 and ::".
std::string join_addrs(const std::vector<IpAddr>& addrs) {
    std::string text;
    for (const auto& addr : addrs) text += (text.empty() ? "" : " and ") + addr.to_string();
    return text;
}

}  // namespace

const Mapping* port_owner(const State& state, IpAddr addr, std::uint16_t port, Proto proto,
                          Overlap overlap) {
    auto it = std::find_if(state.mappings.begin(), state.mappings.end(), [&](const Mapping& m) {
        if (m.host_port != port || m.proto != proto) return false;
        if (m.host_addr == addr) return true;
        return overlap == Overlap::WildcardOverlaps && m.host_addr.family() == addr.family() &&
               (m.host_addr.is_any() || addr.is_any());
    });
    return it == state.mappings.end() ? nullptr : &*it;
}

bool PortAllocator::is_free(const State& state, const std::vector<IpAddr>& addrs,
                            std::uint16_t port, Proto proto) {
    const bool mapped = std::any_of(state.mappings.begin(), state.mappings.end(), [&](const Mapping& m) {
        return m.host_port == port && m.proto == proto;
    });
    return !mapped && std::none_of(addrs.begin(), addrs.end(), [&](IpAddr addr) {
        return probe_.in_use(addr, port, proto);
    });
}

Result<std::uint16_t> PortAllocator::allocate(State& state, const std::vector<IpAddr>& addrs,
                                              Proto proto, PortRange range) {
    const bool from_pool = range.first == 0;
    const PortRange scan = from_pool ? pool_ : range;
    const std::uint32_t size = scan.size();
    std::uint32_t start = 0;  // offset into scan where the search begins
    if (from_pool) {
        const auto last = cursor_for(state, addrs.front(), proto).last;
        if (last >= scan.first && last < scan.last) start = last - scan.first + 1u;
    }
    for (std::uint32_t i = 0; i < size; ++i) {
        const auto port = static_cast<std::uint16_t>(scan.first + (start + i) % size);
        if (!is_free(state, addrs, port, proto)) continue;
        if (from_pool)
            for (const auto& addr : addrs) cursor_for(state, addr, proto).last = port;
        return port;
    }
    return make_error(ErrorCode::Full,
                      fmt::format("no free host port in {}-{} for {}/{}{}", scan.first, scan.last,
                                  join_addrs(addrs), to_string(proto),
                                  from_pool ? " (the pool is exhausted)" : ""));
}

}  // namespace fwd::ctl
