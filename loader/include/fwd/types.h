// Domain types shared by the loader and fwdctl. Values are in host byte order;
// conversion to the ABI's network order happens only in loader/abi_convert.cpp.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <vector>

namespace fwd {

enum class Proto : std::uint8_t { Tcp = 6, Udp = 17 };

[[nodiscard]] std::string to_string(Proto proto);  // "tcp" / "udp"

// An IPv4 address; value() is a.b.c.d as (a << 24) | (b << 16) | (c << 8) | d.
class Ipv4Addr {
public:
    constexpr Ipv4Addr() = default;
    constexpr explicit Ipv4Addr(std::uint32_t value) : value_(value) {}
    static constexpr Ipv4Addr from_octets(std::uint8_t a, std::uint8_t b, std::uint8_t c,
                                          std::uint8_t d) {
        return Ipv4Addr((std::uint32_t{a} << 24) | (std::uint32_t{b} << 16) |
                        (std::uint32_t{c} << 8) | std::uint32_t{d});
    }

    [[nodiscard]] constexpr std::uint32_t value() const { return value_; }
    [[nodiscard]] constexpr bool is_any() const { return value_ == 0; }
    [[nodiscard]] constexpr bool is_loopback() const { return (value_ >> 24) == 127; }
    // Usable as a DNAT destination: not "any", limited broadcast or 224.0.0.0/4.
    [[nodiscard]] constexpr bool is_unicast() const {
        return value_ != 0 && value_ != 0xffffffffU && (value_ >> 28) != 0xeU;
    }
    [[nodiscard]] std::string to_string() const;

    constexpr auto operator<=>(const Ipv4Addr&) const = default;  // NOLINT(modernize-use-nullptr): clang-tidy 14 bug

private:
    std::uint32_t value_ = 0;
};

// An IPv4 network, "10.0.0.0/8"; a single address is a /32. Host bits are always zero.
struct Ipv4Cidr {
    Ipv4Addr addr;
    std::uint8_t prefix_len = 32;

    [[nodiscard]] std::string to_string() const;
    constexpr auto operator<=>(const Ipv4Cidr&) const = default;  // NOLINT(modernize-use-nullptr): clang-tidy 14 bug
};

// One published port: (host address, host port, protocol) -> (container address, port).
struct Mapping {
    Ipv4Addr host_addr;
    std::uint16_t host_port = 0;
    Proto proto = Proto::Tcp;
    Ipv4Addr container_addr;
    std::uint16_t container_port = 0;
    std::uint32_t id = 0;  // stable index of this mapping's counters in the data plane
    std::string name;      // owner (container name), empty when added without --name
    // Client sources allowed to open new flows (`--allow`), sorted and unique; empty: any.
    std::vector<Ipv4Cidr> allow;

    // The service key: two mappings with equal keys cannot coexist.
    [[nodiscard]] bool same_key(const Mapping& other) const {
        return host_addr == other.host_addr && host_port == other.host_port &&
               proto == other.proto;
    }
    bool operator==(const Mapping&) const = default;
};

// "0.0.0.0:80/tcp -> 172.17.0.2:8080", the form `add` and `list` print; a mapping with an
// allow-list ends in " allow 10.0.0.0/8,192.168.1.7/32".
[[nodiscard]] std::string to_string(const Mapping& mapping);
// "0.0.0.0:80/tcp", the host side alone.
[[nodiscard]] std::string host_key_string(const Mapping& mapping);

// Orders mappings the way `list` prints them: host address, port, protocol.
[[nodiscard]] bool list_order(const Mapping& a, const Mapping& b);

}  // namespace fwd
