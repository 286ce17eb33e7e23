// Host-port allocation for `publish` (-p without a host port, -P) and `add` with port 0.
#pragma once

#include <cstdint>

#include "fwd/ctl/spec.h"
#include "fwd/ctl/state.h"
#include "fwd/loader/host_sockets.h"
#include "fwd/result.h"

namespace fwd::ctl {

// How two mappings on the same port and protocol may share it. `add` follows the data
// plane (an exact address and the wildcard may coexist: the exact one wins); `publish`
// follows Docker (0.0.0.0 overlaps every address, so both conflict).
enum class Overlap { ExactKeyOnly, WildcardOverlaps };

// The mapping already holding (addr, port, proto), or nullptr.
[[nodiscard]] const Mapping* port_owner(const State& state, IpAddr addr, std::uint16_t port,
                                        Proto proto, Overlap overlap);

class PortAllocator {
public:
    PortAllocator(PortRange pool, loader::HostPortProbe& probe) : pool_(pool), probe_(probe) {}

    // A free port for (addr, proto): from `range`, or from the pool when range is {0,0}.
    // Pool allocations continue after the last one for (addr, proto), wrapping around, and
    // record where they ended in state.cursors. Skips ports that mappings in `state` hold
    // (any address: a port free everywhere avoids surprises) and ports host sockets hold.
    [[nodiscard]] Result<std::uint16_t> allocate(State& state, IpAddr addr, Proto proto,
                                                 PortRange range);

private:
    [[nodiscard]] bool is_free(const State& state, IpAddr addr, std::uint16_t port, Proto proto);

    PortRange pool_;
    loader::HostPortProbe& probe_;
};

}  // namespace fwd::ctl
