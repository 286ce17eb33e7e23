#include "support/checksum.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <vector>

namespace fwd::test {
namespace {

constexpr size_t kEthHeaderLen = 14;
constexpr size_t kIpv4MinHeaderLen = 20;
constexpr size_t kIpv4CsumOffset = 10;
constexpr size_t kTcpHeaderLen = 20;
constexpr size_t kTcpCsumOffset = 16;
constexpr size_t kUdpHeaderLen = 8;
constexpr size_t kUdpCsumOffset = 6;
constexpr uint8_t kProtoTcp = 6;
constexpr uint8_t kProtoUdp = 17;
constexpr uint8_t kProtoIcmp = 1;
constexpr size_t kIcmpHeaderLen = 8;
constexpr size_t kIcmpCsumOffset = 2;
constexpr uint8_t kIcmpDestUnreach = 3;
constexpr uint8_t kIcmpTimeExceeded = 11;
constexpr uint8_t kIcmpParameterProblem = 12;
constexpr size_t kIpv6HeaderLen = 40;
constexpr uint8_t kProtoIcmpv6 = 58;
constexpr uint8_t kNextHopByHop = 0;
constexpr uint8_t kNextRouting = 43;
constexpr uint8_t kNextFragment = 44;
constexpr uint8_t kNextDestOptions = 60;

uint16_t read_be16(std::span<const uint8_t> bytes, size_t offset) {
    return static_cast<uint16_t>((bytes[offset] << 8) | bytes[offset + 1]);
}

// Sum of `bytes` with the 16-bit word at `skip_offset` counted as zero.
uint32_t sum_skipping(std::span<const uint8_t> bytes, size_t skip_offset, uint32_t initial) {
    std::vector<uint8_t> copy(bytes.begin(), bytes.end());
    if (skip_offset + 1 < copy.size()) {
        copy[skip_offset] = 0;
        copy[skip_offset + 1] = 0;
    }
    return ones_complement_sum(copy, initial);
}

// The ICMP checksum over the whole message and, for an error, the quoted IPv4 header's.
ChecksumVerdict verify_icmp_checksums(std::span<const uint8_t> icmp, uint16_t ip_checksum) {
    if (icmp.size() < kIcmpHeaderLen) {
        return {false, fmt::format("ICMP message of {} bytes is truncated", icmp.size())};
    }
    const uint16_t actual = read_be16(icmp, kIcmpCsumOffset);
    std::vector<uint8_t> zeroed(icmp.begin(), icmp.end());
    zeroed[kIcmpCsumOffset] = 0;
    zeroed[kIcmpCsumOffset + 1] = 0;
    const uint16_t expected = internet_checksum(zeroed);
    if (expected != actual) {
        return {false, fmt::format("ICMP checksum 0x{:04x}, recomputed 0x{:04x}", actual, expected)};
    }
    const uint8_t type = icmp[0];
    const bool error = type == kIcmpDestUnreach || type == kIcmpTimeExceeded ||
                       type == kIcmpParameterProblem;
    const auto quote = icmp.subspan(kIcmpHeaderLen);
    if (!error || quote.size() < kIpv4MinHeaderLen) {
        return {true, fmt::format("IPv4 0x{:04x} and ICMP 0x{:04x} checksums ok", ip_checksum,
                                  actual)};
    }
    const size_t quote_ihl = (quote[0] & 0x0fu) * 4u;
    if (quote_ihl < kIpv4MinHeaderLen || quote_ihl > quote.size()) {
        return {false, fmt::format("quoted IPv4 header (ihl {} bytes) does not fit the {} quoted "
                                   "bytes",
                                   quote_ihl, quote.size())};
    }
    const uint16_t quote_expected = ipv4_header_checksum(quote.first(quote_ihl));
    const uint16_t quote_actual = read_be16(quote, kIpv4CsumOffset);
    if (quote_expected != quote_actual) {
        return {false, fmt::format("quoted IPv4 header checksum 0x{:04x}, recomputed 0x{:04x}",
                                   quote_actual, quote_expected)};
    }
    return {true, fmt::format("IPv4 0x{:04x}, ICMP 0x{:04x} and quoted IPv4 0x{:04x} checksums ok",
                              ip_checksum, actual, quote_actual)};
}

// The TCP/UDP/ICMPv6 checksum of `l4` under the IPv6 pseudo-header of `ip6` (its addresses).
ChecksumVerdict verify_ipv6_l4(std::span<const uint8_t> ip6, uint8_t proto,
                               std::span<const uint8_t> l4, const std::string& what) {
    const std::span<const uint8_t, 16> saddr(ip6.data() + 8, 16);
    const std::span<const uint8_t, 16> daddr(ip6.data() + 24, 16);
    const size_t csum_offset = proto == kProtoTcp   ? kTcpCsumOffset
                               : proto == kProtoUdp ? kUdpCsumOffset
                                                    : kIcmpCsumOffset;
    const size_t min_len = proto == kProtoTcp   ? kTcpHeaderLen
                           : proto == kProtoUdp ? kUdpHeaderLen
                                                : kIcmpHeaderLen;
    if (l4.size() < min_len) {
        return {false,
                fmt::format("{}: {} bytes of protocol {} are truncated", what, l4.size(), proto)};
    }
    if (proto == kProtoUdp) {
        const uint16_t udp_len = read_be16(l4, 4);
        if (udp_len < kUdpHeaderLen || udp_len > l4.size()) {
            return {false, fmt::format("{}: UDP length {} does not fit {} bytes", what, udp_len,
                                       l4.size())};
        }
        l4 = l4.first(udp_len);
    }
    const uint16_t actual = read_be16(l4, csum_offset);
    const uint16_t computed = ipv6_l4_checksum(saddr, daddr, proto, l4, csum_offset);
    if (proto == kProtoUdp && actual == 0) {
        return {false, fmt::format("{}: UDP checksum 0 is illegal over IPv6", what)};
    }
    const uint16_t expected = proto == kProtoUdp ? udp_wire_checksum(computed) : computed;
    if (expected != actual) {
        return {false, fmt::format("{}: protocol {} checksum 0x{:04x}, recomputed 0x{:04x}", what,
                                   proto, actual, expected)};
    }
    return {true, fmt::format("{}: protocol {} checksum 0x{:04x} ok", what, proto, actual)};
}

// The quoted packet of an ICMPv6 error, when it is a whole IPv6 TCP/UDP packet.
ChecksumVerdict verify_icmpv6_quote(std::span<const uint8_t> icmp) {
    const auto quote = icmp.subspan(kIcmpHeaderLen);
    const uint8_t type = icmp[0];
    if (type < 1 || type > 4 || quote.size() < kIpv6HeaderLen ||
        (quote[6] != kProtoTcp && quote[6] != kProtoUdp) ||
        kIpv6HeaderLen + read_be16(quote, 4) != quote.size()) {
        return {true, "no whole quoted packet"};
    }
    return verify_ipv6_l4(quote, quote[6], quote.subspan(kIpv6HeaderLen), "quoted packet");
}

}  // namespace

uint16_t ones_complement_sum(std::span<const uint8_t> bytes, uint32_t initial) {
    uint64_t sum = initial;
    size_t i = 0;
    for (; i + 1 < bytes.size(); i += 2) {
        sum += static_cast<uint32_t>((bytes[i] << 8) | bytes[i + 1]);
    }
    if (i < bytes.size()) {
        sum += static_cast<uint32_t>(bytes[i] << 8);
    }
    while (sum > 0xffff) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return static_cast<uint16_t>(sum);
}

uint16_t internet_checksum(std::span<const uint8_t> bytes) {
    return static_cast<uint16_t>(~ones_complement_sum(bytes));
}

uint16_t ipv4_header_checksum(std::span<const uint8_t> header) {
    return static_cast<uint16_t>(~sum_skipping(header, kIpv4CsumOffset, 0));
}

uint16_t ipv4_l4_checksum(std::span<const uint8_t, 4> saddr, std::span<const uint8_t, 4> daddr,
                          uint8_t proto, std::span<const uint8_t> l4, size_t csum_offset) {
    const auto len = static_cast<uint16_t>(l4.size());
    const std::array<uint8_t, 12> pseudo = {
        saddr[0],
        saddr[1],
        saddr[2],
        saddr[3],
        daddr[0],
        daddr[1],
        daddr[2],
        daddr[3],
        0,
        proto,
        static_cast<uint8_t>(len >> 8),
        static_cast<uint8_t>(len & 0xff),
    };
    const uint16_t pseudo_sum = ones_complement_sum(pseudo);
    return static_cast<uint16_t>(~sum_skipping(l4, csum_offset, pseudo_sum));
}

uint16_t ipv6_l4_checksum(std::span<const uint8_t, 16> saddr, std::span<const uint8_t, 16> daddr,
                          uint8_t next_header, std::span<const uint8_t> l4, size_t csum_offset) {
    std::array<uint8_t, 40> pseudo{};
    std::copy(saddr.begin(), saddr.end(), pseudo.begin());
    std::copy(daddr.begin(), daddr.end(), pseudo.begin() + 16);
    const auto len = static_cast<uint32_t>(l4.size());
    pseudo[32] = static_cast<uint8_t>(len >> 24);
    pseudo[33] = static_cast<uint8_t>(len >> 16);
    pseudo[34] = static_cast<uint8_t>(len >> 8);
    pseudo[35] = static_cast<uint8_t>(len);
    pseudo[39] = next_header;
    const uint16_t pseudo_sum = ones_complement_sum(pseudo);
    return static_cast<uint16_t>(~sum_skipping(l4, csum_offset, pseudo_sum));
}

ChecksumVerdict verify_ipv4_checksums(std::span<const uint8_t> frame) {
    if (frame.size() < kEthHeaderLen + kIpv4MinHeaderLen) {
        return {false, fmt::format("frame of {} bytes is too short for eth+IPv4", frame.size())};
    }
    if (read_be16(frame, 12) != 0x0800) {
        return {false, fmt::format("ethertype 0x{:04x} is not IPv4", read_be16(frame, 12))};
    }
    const auto ip = frame.subspan(kEthHeaderLen);
    const size_t ihl_bytes = (ip[0] & 0x0fu) * 4u;
    const uint16_t tot_len = read_be16(ip, 2);
    if ((ip[0] >> 4) != 4 || ihl_bytes < kIpv4MinHeaderLen || tot_len < ihl_bytes ||
        tot_len > ip.size()) {
        return {false, fmt::format("unparseable IPv4 header (version/ihl 0x{:02x}, tot_len {}, "
                                   "{} bytes after eth)",
                                   ip[0], tot_len, ip.size())};
    }
    const auto header = ip.first(ihl_bytes);
    const uint16_t ip_expected = ipv4_header_checksum(header);
    const uint16_t ip_actual = read_be16(header, kIpv4CsumOffset);
    if (ip_expected != ip_actual) {
        return {false, fmt::format("IPv4 header checksum 0x{:04x}, recomputed 0x{:04x}", ip_actual,
                                   ip_expected)};
    }
    const uint8_t proto = ip[9];
    const bool fragment = (read_be16(ip, 6) & 0x3fff) != 0;
    if (!fragment && proto == kProtoIcmp) {
        return verify_icmp_checksums(ip.subspan(ihl_bytes, tot_len - ihl_bytes), ip_actual);
    }
    if (fragment || (proto != kProtoTcp && proto != kProtoUdp)) {
        return {true, fmt::format("IPv4 header checksum 0x{:04x} ok (no L4 check: proto {}{})",
                                  ip_actual, proto, fragment ? ", fragment" : "")};
    }
    auto l4 = ip.subspan(ihl_bytes, tot_len - ihl_bytes);
    const std::span<const uint8_t, 4> saddr(ip.data() + 12, 4);
    const std::span<const uint8_t, 4> daddr(ip.data() + 16, 4);
    if (proto == kProtoTcp) {
        if (l4.size() < kTcpHeaderLen) {
            return {false, fmt::format("TCP segment of {} bytes is truncated", l4.size())};
        }
        const uint16_t expected = ipv4_l4_checksum(saddr, daddr, proto, l4, kTcpCsumOffset);
        const uint16_t actual = read_be16(l4, kTcpCsumOffset);
        if (expected != actual) {
            return {false,
                    fmt::format("TCP checksum 0x{:04x}, recomputed 0x{:04x}", actual, expected)};
        }
        return {true,
                fmt::format("IPv4 0x{:04x} and TCP 0x{:04x} checksums ok", ip_actual, actual)};
    }
    if (l4.size() < kUdpHeaderLen) {
        return {false, fmt::format("UDP datagram of {} bytes is truncated", l4.size())};
    }
    const uint16_t udp_len = read_be16(l4, 4);
    if (udp_len < kUdpHeaderLen || udp_len > l4.size()) {
        return {false, fmt::format("UDP length {} does not fit the IPv4 payload of {} bytes",
                                   udp_len, l4.size())};
    }
    l4 = l4.first(udp_len);
    const uint16_t actual = read_be16(l4, kUdpCsumOffset);
    if (actual == 0) {
        return {true, fmt::format("IPv4 0x{:04x} ok; UDP checksum 0 (none)", ip_actual)};
    }
    const uint16_t computed = ipv4_l4_checksum(saddr, daddr, proto, l4, kUdpCsumOffset);
    if (udp_wire_checksum(computed) != actual) {
        return {false, fmt::format("UDP checksum 0x{:04x}, recomputed 0x{:04x} (on the wire "
                                   "0x{:04x})",
                                   actual, computed, udp_wire_checksum(computed))};
    }
    return {true, fmt::format("IPv4 0x{:04x} and UDP 0x{:04x} checksums ok", ip_actual, actual)};
}

ChecksumVerdict verify_ipv6_checksums(std::span<const uint8_t> frame) {
    if (frame.size() < kEthHeaderLen + kIpv6HeaderLen || read_be16(frame, 12) != 0x86dd) {
        return {false, fmt::format("frame of {} bytes is not eth+IPv6", frame.size())};
    }
    const auto ip6 = frame.subspan(kEthHeaderLen);
    const size_t end = kIpv6HeaderLen + read_be16(ip6, 4);
    if ((ip6[0] >> 4) != 6 || end > ip6.size()) {
        return {false, fmt::format("unparseable IPv6 header (version {}, payload_len {}, {} bytes "
                                   "after eth)",
                                   ip6[0] >> 4, end - kIpv6HeaderLen, ip6.size())};
    }
    size_t offset = kIpv6HeaderLen;
    uint8_t next = ip6[6];
    while (next == kNextHopByHop || next == kNextRouting || next == kNextDestOptions) {
        if (offset + 8 > end) {
            return {false, "extension header truncated"};
        }
        const size_t len = (ip6[offset + 1] + 1u) * 8u;
        next = ip6[offset];
        offset += len;
    }
    if (offset > end) {
        return {false, "extension headers run past payload_len"};
    }
    if (next != kProtoTcp && next != kProtoUdp && next != kProtoIcmpv6) {
        return {true, fmt::format("no L4 check: next header {}{}", next,
                                  next == kNextFragment ? " (fragment)" : "")};
    }
    const auto l4 = ip6.subspan(offset, end - offset);
    auto verdict = verify_ipv6_l4(ip6, next, l4, "IPv6");
    if (!verdict.ok || next != kProtoIcmpv6) {
        return verdict;
    }
    const auto quote = verify_icmpv6_quote(l4);
    if (!quote.ok) {
        return quote;
    }
    return {true, verdict.detail + "; " + quote.detail};
}

uint16_t computed_udp_checksum(std::span<const uint8_t> frame) {
    const auto ip = frame.subspan(kEthHeaderLen);
    if (read_be16(frame, 12) == 0x86dd) {
        return ipv6_l4_checksum(std::span<const uint8_t, 16>(ip.data() + 8, 16),
                                std::span<const uint8_t, 16>(ip.data() + 24, 16), kProtoUdp,
                                ip.subspan(kIpv6HeaderLen), kUdpCsumOffset);
    }
    const size_t ihl_bytes = (ip[0] & 0x0fu) * 4u;
    return ipv4_l4_checksum(std::span<const uint8_t, 4>(ip.data() + 12, 4),
                            std::span<const uint8_t, 4>(ip.data() + 16, 4), kProtoUdp,
                            ip.subspan(ihl_bytes), kUdpCsumOffset);
}

ChecksumVerdict verify_checksums(std::span<const uint8_t> frame) {
    if (frame.size() >= kEthHeaderLen && read_be16(frame, 12) == 0x86dd) {
        return verify_ipv6_checksums(frame);
    }
    return verify_ipv4_checksums(frame);
}

}  // namespace fwd::test
