// Docker's `run` port syntax: -p/--publish specs, --expose, --env, and the
// port argument of `docker port`. Parsing follows Docker's own rules
// (go-connections nat.ParsePortSpec); errors are InvalidInput with one line.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fwd/ctl/spec.h"
#include "fwd/result.h"
#include "fwd/types.h"

namespace fwd::ctl {

// A container port as Docker names it: "8080/tcp".
struct ContainerPort {
    std::uint16_t port = 0;
    Proto proto = Proto::Tcp;

    bool operator==(const ContainerPort&) const = default;
    auto operator<=>(const ContainerPort&) const = default;  // NOLINT(modernize-use-nullptr): clang-tidy 14 bug
};
[[nodiscard]] std::string to_string(const ContainerPort& port);  // "8080/tcp"

// One binding a -p spec asks for, per container port of the spec.
struct PublishRequest {
    ContainerPort container;
    // Unset when the spec has no HOSTIP: every family the container has (0.0.0.0 and [::]).
    std::optional<IpAddr> host_addr;
    PortRange host_ports;     // {0,0}: any port from the pool; first==last: that port;
                              // first<last (single container port only): any port in that range
    bool operator==(const PublishRequest&) const = default;
};

// `-p [[HOSTIP:][HOSTPORT[-END]]:]CTRPORT[-END][/PROTO]`, one request per container port.
// Split as Docker splits it: HOSTIP is everything before the last two ':'-separated parts.
// An empty HOSTPORT, or 0, asks for a pool port; a host range with one container port asks
// for a port in that range; otherwise host and container ranges pair up port by port.
// Protocol is case-insensitive; sctp is understood and refused as not supported.
// HOSTIP is IPv4 or IPv6, bracketed or not ("[::1]:80:8080", "::1:80:8080"); Docker strips
// brackets even around IPv4. Zone ids and IPv4-mapped IPv6 are refused.
[[nodiscard]] Result<std::vector<PublishRequest>> parse_publish_spec(std::string_view spec);

// `--expose PORT[-END][/PROTO]`: the container ports it exposes, one per port of the range.
[[nodiscard]] Result<std::vector<ContainerPort>> parse_expose_spec(std::string_view spec);

// `--env K=V`: K non-empty, made of [A-Za-z0-9_] and not starting with a digit; V may be empty
// but holds no control character except tab (link-env prints one variable per line).
// Error messages never show V.
struct EnvVar {
    std::string key;
    std::string value;
    bool operator==(const EnvVar&) const = default;
};
[[nodiscard]] Result<EnvVar> parse_env(std::string_view text);

// `port NAME PORT[/PROTO]`: the proto defaults to tcp (as `docker port` does) and must be
// lower-case, since `docker port` looks it up verbatim.
[[nodiscard]] Result<ContainerPort> parse_port_query(std::string_view text);

// `--link SERVER[:ALIAS]`: the alias defaults to the server's name; both must be valid names.
struct LinkSpec {
    std::string server;
    std::string alias;
    bool operator==(const LinkSpec&) const = default;
};
[[nodiscard]] Result<LinkSpec> parse_link(std::string_view text);

// Docker's container-name rule: [a-zA-Z0-9][a-zA-Z0-9_.-]*, here at most 128 characters.
[[nodiscard]] Result<void> validate_name(std::string_view name);

}  // namespace fwd::ctl
