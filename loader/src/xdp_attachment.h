// fwd's XDP program on an interface, attached through netlink like the tc filters, so it
// stays when fwdctl exits. fwd replaces only its own program and never another one.
#pragma once

#include <cstdint>

#include "fwd/loader/datapath.h"
#include "fwd/result.h"

namespace fwd::loader {

struct XdpState {
    std::uint32_t prog_id = 0;  // 0: no XDP program of fwd's
    XdpMode mode = XdpMode::None;
};

// Attaches, or atomically replaces fwd's program in the mode it runs in. A new attach tries
// native (driver) XDP first and falls back to generic. Refuses when another program is there.
[[nodiscard]] Result<XdpMode> xdp_attach(int ifindex, int prog_fd);
// Removes fwd's program, if it is there.
[[nodiscard]] Result<void> xdp_detach(int ifindex);
[[nodiscard]] Result<XdpState> xdp_query(int ifindex);

}  // namespace fwd::loader
