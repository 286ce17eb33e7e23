#include "fwd/types.h"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <tuple>

namespace fwd {

std::string to_string(Proto proto) {
    switch (proto) {
        case Proto::Tcp:
            return "tcp";
        case Proto::Udp:
            return "udp";
    }
    // Only reachable through a corrupt cast; say what it was rather than abort a `list`.
    return fmt::format("proto-{}", static_cast<unsigned>(proto));
}

std::string Ipv4Addr::to_string() const {
    return fmt::format("{}.{}.{}.{}", value_ >> 24, (value_ >> 16) & 0xffU, (value_ >> 8) & 0xffU,
                       value_ & 0xffU);
}

std::string Ipv6Addr::to_string() const {
    char text[INET6_ADDRSTRLEN] = {};
    // inet_ntop writes RFC 5952's canonical form; it cannot fail for AF_INET6 and this buffer.
    inet_ntop(AF_INET6, bytes_.data(), text, sizeof(text));
    return text;
}

std::string IpAddr::to_string() const { return is_v4() ? v4().to_string() : v6().to_string(); }

std::string IpAddr::to_endpoint_string() const {
    return is_v4() ? v4().to_string() : "[" + v6().to_string() + "]";
}

std::string to_string(Family family) { return family == Family::V4 ? "IPv4" : "IPv6"; }

std::string IpCidr::to_string() const {
    return fmt::format("{}/{}", addr.to_string(), prefix_len);
}

std::string host_key_string(const Mapping& mapping) {
    return fmt::format("{}:{}/{}", mapping.host_addr.to_endpoint_string(), mapping.host_port,
                       to_string(mapping.proto));
}

std::string to_string(const Mapping& mapping) {
    std::string line = fmt::format("{} -> {}:{}", host_key_string(mapping),
                                   mapping.container_addr.to_endpoint_string(), mapping.container_port);
    for (std::size_t i = 0; i < mapping.allow.size(); ++i)
        line += (i == 0 ? " allow " : ",") + mapping.allow[i].to_string();
    return line;
}

bool list_order(const Mapping& a, const Mapping& b) {
    // Proto's values are the IP protocol numbers, so tcp (6) sorts before udp (17).
    auto key = [](const Mapping& m) {
        return std::tuple{m.host_addr, m.host_port, static_cast<unsigned>(m.proto),
                          m.container_addr, m.container_port};
    };
    return key(a) < key(b);
}

}  // namespace fwd
