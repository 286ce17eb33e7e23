// Parsing of the address and port specs fwdctl takes on its command line.
// Every function validates fully and returns InvalidInput with a one-line,
// user-facing message (no "fwdctl: error:" prefix) on bad input.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "fwd/result.h"
#include "fwd/loader/datapath.h"
#include "fwd/types.h"

namespace fwd::ctl {

// An inclusive port range; first == last for a single port.
struct PortRange {
    std::uint16_t first = 0;
    std::uint16_t last = 0;

    [[nodiscard]] std::uint32_t size() const { return std::uint32_t{last} - first + 1; }
    bool operator==(const PortRange&) const = default;
};

// HOST = [ADDR:]PORT[-END][/PROTO], ADDR an IPv4 address or [IPv6]; PROTO defaults to tcp.
// Port 0 (alone, not in a range) means "allocate one from the pool".
struct HostSpec {
    // Unset when HOST names no address: the wildcard (0.0.0.0 or ::) of the container's
    // family for `add`, either wildcard for `del`.
    std::optional<IpAddr> addr;
    PortRange ports;
    Proto proto = Proto::Tcp;

    [[nodiscard]] bool wants_allocation() const { return ports.first == 0; }
    // The address to publish on for a container of `family`.
    [[nodiscard]] IpAddr addr_for(Family family) const {
        return addr.value_or(IpAddr::any(family));
    }
    bool operator==(const HostSpec&) const = default;
};

// CONTAINER = ADDR:PORT[-END], ADDR an IPv4 address or [IPv6]; ADDR is required and must be
// a unicast address (not 0.0.0.0/::, broadcast, multicast or IPv4-mapped IPv6).
struct ContainerSpec {
    IpAddr addr;
    PortRange ports;
    bool operator==(const ContainerSpec&) const = default;
};

// Dotted quad, exactly four decimal octets 0..255 (no leading '+', no hex/octal forms,
// leading zeros rejected as ambiguous). IPv6 text is refused as not an IPv4 address.
[[nodiscard]] Result<Ipv4Addr> parse_ipv4(std::string_view text);

// An IPv6 address without brackets, in any RFC 4291 text form ("fd00::2", "::ffff:1.2.3.4").
// Zone ids ("fe80::1%eth0") are refused: a mapping is not tied to one interface.
[[nodiscard]] Result<Ipv6Addr> parse_ipv6(std::string_view text);

// Either family, without brackets: IPv6 when the text holds a ':'.
[[nodiscard]] Result<IpAddr> parse_ip(std::string_view text);

// --allow: "ADDR/LEN" (LEN 0-32 for IPv4, 0-128 for IPv6, host bits zero) or a bare ADDR
// (a /32 or /128). IPv6 without brackets: "fd00::/8".
[[nodiscard]] Result<IpCidr> parse_cidr(std::string_view text);

// Every --allow value, parsed, sorted and without duplicates.
[[nodiscard]] Result<std::vector<IpCidr>> parse_allow_list(const std::vector<std::string>& texts);

// "tcp" or "udp", any case. "sctp" is refused as not supported.
[[nodiscard]] Result<Proto> parse_proto(std::string_view text);

// attach --mode: "tc" or "xdp".
[[nodiscard]] Result<loader::AttachMode> parse_attach_mode(std::string_view text);

// A switch such as attach --fast-path: "on" or "off".
[[nodiscard]] Result<bool> parse_on_off(std::string_view text);

// attach --max-mappings / --max-flows: a decimal count within the ABI header's bounds.
[[nodiscard]] Result<std::uint32_t> parse_max_mappings(std::string_view text);
[[nodiscard]] Result<std::uint32_t> parse_max_flows(std::string_view text);

// "N" or "N-M" with 1 <= N <= M <= 65535 (decimal digits only).
[[nodiscard]] Result<PortRange> parse_port_range(std::string_view text);

[[nodiscard]] Result<HostSpec> parse_host_spec(std::string_view text);
[[nodiscard]] Result<ContainerSpec> parse_container_spec(std::string_view text);

// The host-port pool, "A-B" with 1 <= A <= B <= 65535.
[[nodiscard]] Result<PortRange> parse_pool_range(std::string_view text);

// Checks that a host spec and a container spec pair up for `add`: addresses of one family
// (fwd does not translate between IPv4 and IPv6), equal range sizes (port by port), and host
// port 0 (allocate) only with a single container port.
[[nodiscard]] Result<void> check_spec_pair(const HostSpec& host, const ContainerSpec& container);

}  // namespace fwd::ctl
