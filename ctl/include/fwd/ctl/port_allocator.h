// Host-port allocation for `publish` (-p without a host port, -P) and `add` with port 0.
#pragma once

#include <cstdint>
#include <vector>

#include "fwd/ctl/spec.h"
#include "fwd/ctl/state.h"
#include "fwd/loader/host_sockets.h"
#include "fwd/result.h"

namespace fwd::ctl {

// How two mappings on the same port and protocol may share it. `add` follows the data
// plane (an exact address and the wildcard may coexist: the exact one wins); `publish`
// follows Docker (0.0.0.0 overlaps every IPv4 address, :: every IPv6 address, so both
// conflict). Families never overlap: 0.0.0.0:80 and [::]:80 are two separate ports.
enum class Overlap { ExactKeyOnly, WildcardOverlaps };

// The mapping already holding (addr, port, proto), or nullptr.
[[nodiscard]] const Mapping* port_owner(const State& state, IpAddr addr, std::uint16_t port,
                                        Proto proto, Overlap overlap);

class PortAllocator {
public:
    PortAllocator(PortRange pool, loader::HostPortProbe& probe) : pool_(pool), probe_(probe) {}

    // One port free for (addr, proto) on every address of `addrs` (a dual-stack publish wants
    // the same port on 0.0.0.0 and [::]): from `range`, or from the pool when range is {0,0}.
    // Pool allocations continue after the last one for (addrs.front(), proto), wrapping
    // around, and record where they ended in state.cursors for every address. Skips ports
    // that mappings in `state` hold (on any address of either family: a port free everywhere
    // avoids surprises and keeps it free for the other family) and ports host sockets hold
    // on any of `addrs`.
    [[nodiscard]] Result<std::uint16_t> allocate(State& state, const std::vector<IpAddr>& addrs,
                                                 Proto proto, PortRange range);

private:
    [[nodiscard]] bool is_free(const State& state, const std::vector<IpAddr>& addrs,
                               std::uint16_t port, Proto proto);

    PortRange pool_;
    loader::HostPortProbe& probe_;
};

}  // namespace fwd::ctl
