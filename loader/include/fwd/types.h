// Domain types shared by the loader and fwdctl. Values are in host byte order;
// conversion to the ABI's network order happens only in loader/abi_convert.cpp.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <string>
#include <variant>
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

// An IPv6 address, its 16 bytes in network order.
class Ipv6Addr {
public:
    using Bytes = std::array<std::uint8_t, 16>;

    constexpr Ipv6Addr() = default;
    constexpr explicit Ipv6Addr(const Bytes& bytes) : bytes_(bytes) {}

    [[nodiscard]] constexpr const Bytes& bytes() const { return bytes_; }
    [[nodiscard]] constexpr bool is_any() const { return bytes_ == Bytes{}; }
    [[nodiscard]] constexpr bool is_loopback() const { return bytes_ == Bytes{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}; }
    // ::ffff:a.b.c.d, an IPv4 address as a dual-stack socket sees it.
    [[nodiscard]] constexpr bool is_v4_mapped() const {
        for (std::size_t i = 0; i < 10; ++i)
            if (bytes_[i] != 0) return false;
        return bytes_[10] == 0xff && bytes_[11] == 0xff;
    }
    // Usable as a DNAT destination: not ::, not multicast (ff00::/8), not IPv4-mapped.
    [[nodiscard]] constexpr bool is_unicast() const {
        return !is_any() && bytes_[0] != 0xff && !is_v4_mapped();
    }
    [[nodiscard]] std::string to_string() const;  // RFC 5952: "fd00::2"

    constexpr auto operator<=>(const Ipv6Addr&) const = default;  // NOLINT(modernize-use-nullptr): clang-tidy 14 bug

private:
    Bytes bytes_{};
};

enum class Family : std::uint8_t { V4, V6 };

// An IPv4 or IPv6 address. Orders IPv4 before IPv6, as `list` prints them.
class IpAddr {
public:
    constexpr IpAddr() = default;  // 0.0.0.0
    constexpr IpAddr(Ipv4Addr v4) : addr_(v4) {}  // NOLINT(google-explicit-constructor): an IPv4 address is an address
    constexpr IpAddr(Ipv6Addr v6) : addr_(v6) {}  // NOLINT(google-explicit-constructor)

    // The unspecified address of a family: 0.0.0.0 or ::.
    [[nodiscard]] static constexpr IpAddr any(Family family) {
        return family == Family::V4 ? IpAddr(Ipv4Addr{}) : IpAddr(Ipv6Addr{});
    }

    [[nodiscard]] constexpr Family family() const {
        return addr_.index() == 0 ? Family::V4 : Family::V6;
    }
    [[nodiscard]] constexpr bool is_v4() const { return addr_.index() == 0; }
    [[nodiscard]] constexpr bool is_v6() const { return addr_.index() == 1; }
    // The address of its family; calling the other one is a bug (std::bad_variant_access).
    [[nodiscard]] constexpr Ipv4Addr v4() const { return std::get<Ipv4Addr>(addr_); }
    [[nodiscard]] constexpr Ipv6Addr v6() const { return std::get<Ipv6Addr>(addr_); }

    [[nodiscard]] constexpr bool is_any() const {
        return is_v4() ? v4().is_any() : v6().is_any();
    }
    [[nodiscard]] constexpr bool is_loopback() const {
        return is_v4() ? v4().is_loopback() : v6().is_loopback();
    }
    [[nodiscard]] constexpr bool is_unicast() const {
        return is_v4() ? v4().is_unicast() : v6().is_unicast();
    }
    [[nodiscard]] std::string to_string() const;  // "172.17.0.2", "fd00::2"
    // The address as it stands before ":PORT": IPv6 in brackets ("[fd00::2]").
    [[nodiscard]] std::string to_endpoint_string() const;

    auto operator<=>(const IpAddr&) const = default;  // NOLINT(modernize-use-nullptr): clang-tidy 14 bug
    bool operator==(const IpAddr&) const = default;

private:
    std::variant<Ipv4Addr, Ipv6Addr> addr_;
};

[[nodiscard]] std::string to_string(Family family);  // "IPv4" / "IPv6"

// A network, "10.0.0.0/8" or "fd00::/64"; a single address is a /32 or /128. Host bits are
// always zero.
struct IpCidr {
    IpAddr addr;
    std::uint8_t prefix_len = 32;

    [[nodiscard]] std::string to_string() const;
    auto operator<=>(const IpCidr&) const = default;  // NOLINT(modernize-use-nullptr): clang-tidy 14 bug
    bool operator==(const IpCidr&) const = default;
};

// One published port: (host address, host port, protocol) -> (container address, port).
// Both addresses are of one family.
struct Mapping {
    IpAddr host_addr;
    std::uint16_t host_port = 0;
    Proto proto = Proto::Tcp;
    IpAddr container_addr;
    std::uint16_t container_port = 0;
    std::uint32_t id = 0;  // stable index of this mapping's counters in the data plane
    std::string name;      // owner (container name), empty when added without --name
    // Client sources allowed to open new flows (`--allow`), sorted and unique; empty: any.
    // Networks of the other family allow none of this mapping's clients.
    std::vector<IpCidr> allow;

    // The service key: two mappings with equal keys cannot coexist.
    [[nodiscard]] bool same_key(const Mapping& other) const {
        return host_addr == other.host_addr && host_port == other.host_port &&
               proto == other.proto;
    }
    bool operator==(const Mapping&) const = default;
};

// "0.0.0.0:80/tcp -> 172.17.0.2:8080" or "[::]:80/tcp -> [fd00::2]:8080", the form `add` and
// `list` print; a mapping with an allow-list ends in " allow 10.0.0.0/8,192.168.1.7/32".
[[nodiscard]] std::string to_string(const Mapping& mapping);
// "0.0.0.0:80/tcp" or "[::]:80/tcp", the host side alone.
[[nodiscard]] std::string host_key_string(const Mapping& mapping);

// Orders mappings the way `list` prints them: host address, port, protocol.
[[nodiscard]] bool list_order(const Mapping& a, const Mapping& b);

}  // namespace fwd
