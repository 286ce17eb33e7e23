// fwd-docker-proxy: what dockerd runs for each published port when daemon.json names it as
// "userland-proxy-path". Instead of proxying, it installs the port's mapping into fwd's maps,
// holds it while it runs, and removes exactly that mapping when it is stopped.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "fwd/result.h"
#include "fwd/types.h"

namespace fwd::ctl {

// The one port dockerd asks for.
struct ProxyRequest {
    Proto proto = Proto::Tcp;
    IpAddr host_ip;
    std::uint16_t host_port = 0;
    IpAddr container_ip;  // of host_ip's family
    std::uint16_t container_port = 0;
    bool operator==(const ProxyRequest&) const = default;
};

// Docker's flags, Go style (`-flag value`, `-flag=value`, one or two dashes): -proto tcp|udp,
// -host-ip, -host-port, -container-ip, -container-port, all required. Other flags (newer
// dockerd versions add some, e.g. -use-listen-fd) are ignored: a bare one is a switch, and
// `-flag=value` carries its value. Addresses are IPv4 or IPv6 (without brackets), both of one
// family: dockerd runs one proxy per family, with the same port. sctp is refused as not
// supported.
[[nodiscard]] Result<ProxyRequest> parse_proxy_args(const std::vector<std::string>& args);

// The owner name of the mapping a proxy process installs: unique per process, so removing it
// removes that mapping and no other.
[[nodiscard]] std::string proxy_mapping_name(long pid);

}  // namespace fwd::ctl
