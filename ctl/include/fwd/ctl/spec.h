// Parsing of the address and port specs fwdctl takes on its command line.
// Every function validates fully and returns InvalidInput with a one-line,
// user-facing message (no "fwdctl: error:" prefix) on bad input.
#pragma once

#include <cstdint>
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

// HOST = [ADDR:]PORT[-END][/PROTO]. ADDR defaults to 0.0.0.0, PROTO to tcp.
// Port 0 (alone, not in a range) means "allocate one from the pool".
struct HostSpec {
    Ipv4Addr addr;
    PortRange ports;
    Proto proto = Proto::Tcp;

    [[nodiscard]] bool wants_allocation() const { return ports.first == 0; }
    bool operator==(const HostSpec&) const = default;
};

// CONTAINER = ADDR:PORT[-END]; ADDR is required and must be a unicast address.
struct ContainerSpec {
    Ipv4Addr addr;
    PortRange ports;
    bool operator==(const ContainerSpec&) const = default;
};

// Dotted quad, exactly four decimal octets 0..255 (no leading '+', no hex/octal forms,
// leading zeros rejected as ambiguous). "[...]" IPv6 forms are rejected as not supported yet.
[[nodiscard]] Result<Ipv4Addr> parse_ipv4(std::string_view text);

// --allow: "ADDR/LEN" (0 <= LEN <= 32, host bits zero) or a bare ADDR (a /32).
[[nodiscard]] Result<IpCidr> parse_ipv4_cidr(std::string_view text);

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

// Checks that a host spec and a container spec pair up for `add`: equal range sizes
// (port by port), and host port 0 (allocate) only with a single container port.
[[nodiscard]] Result<void> check_spec_pair(const HostSpec& host, const ContainerSpec& container);

}  // namespace fwd::ctl
