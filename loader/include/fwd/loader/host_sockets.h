// Which host ports are held by sockets of the host (in the caller's network
// namespace), read from /proc/net/{tcp,udp,tcp6,udp6}. The allocator skips them.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "fwd/types.h"

namespace fwd::loader {

// One socket's local end: an IPv4 address (IPv4-mapped ones from the tcp6/udp6 files too),
// or IPv6. any_addr: bound to 0.0.0.0 or [::].
struct BoundSocket {
    IpAddr addr;
    bool any_addr = false;
    std::uint16_t port = 0;
    Proto proto = Proto::Tcp;
    bool operator==(const BoundSocket&) const = default;
};

// Does `socket` hold `port` on `addr` (a wildcard: on any address of its family)? Sockets hold
// ports of their own family, except a [::] socket: /proc does not show IPV6_V6ONLY, and a
// dual-stack one takes the port on every IPv4 address too, so it counts for both.
[[nodiscard]] bool holds_port(const BoundSocket& socket, IpAddr addr, std::uint16_t port,
                              Proto proto);

// Parses the text of one /proc/net file; malformed lines are skipped.
[[nodiscard]] std::vector<BoundSocket> parse_proc_net(std::string_view text, Proto proto, bool ipv6);

// Does any socket of the host hold `port` on `addr` (0.0.0.0 or ::: on any address of that
// family)?
class HostPortProbe {
public:
    virtual ~HostPortProbe() = default;
    [[nodiscard]] virtual bool in_use(IpAddr addr, std::uint16_t port, Proto proto) = 0;
};

// The real probe: reads /proc/net once, at construction.
class ProcNetProbe final : public HostPortProbe {
public:
    [[nodiscard]] bool in_use(IpAddr addr, std::uint16_t port, Proto proto) override;

private:
    // Read at the first question only: walking /proc/net/tcp costs time proportional to the
    // kernel's whole socket table (tens of ms on a busy host), and most commands never ask.
    void load();

    bool loaded_ = false;
    std::vector<BoundSocket> sockets_;
};

}  // namespace fwd::loader
