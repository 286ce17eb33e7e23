// Reference Internet checksums for test oracles: full RFC 1071 recomputation over the bytes of
// a packet. Deliberately independent of the data path (no incremental updates, no csum.h, no
// kernel helpers), so a test that verifies a translated packet with these routines checks the
// BPF code against a second implementation.
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace fwd::test {

// One's-complement sum of big-endian 16-bit words, folded to 16 bits but NOT complemented.
// An odd trailing byte is padded with zero (RFC 1071 4.1). `initial` chains partial sums.
[[nodiscard]] uint16_t ones_complement_sum(std::span<const uint8_t> bytes, uint32_t initial = 0);

// The checksum of `bytes`: the complement of their one's-complement sum.
[[nodiscard]] uint16_t internet_checksum(std::span<const uint8_t> bytes);

// Checksum of an IPv4 header (all IHL*4 bytes, options included), computed as if the checksum
// field (bytes 10-11) were zero. `header` must be the whole header.
[[nodiscard]] uint16_t ipv4_header_checksum(std::span<const uint8_t> header);

// TCP/UDP checksum over the IPv4 pseudo-header (saddr, daddr, zero, proto, L4 length) and
// `l4` (header + payload), computed as if the checksum field at `csum_offset` in `l4` were
// zero. Addresses are the 4 raw bytes as they appear in the packet. This is the raw RFC 1071
// value: for UDP a result of 0 is transmitted as 0xffff (see udp_wire_checksum).
[[nodiscard]] uint16_t ipv4_l4_checksum(std::span<const uint8_t, 4> saddr,
                                        std::span<const uint8_t, 4> daddr, uint8_t proto,
                                        std::span<const uint8_t> l4, size_t csum_offset);

// The same over the IPv6 pseudo-header (RFC 8200 8.1).
[[nodiscard]] uint16_t ipv6_l4_checksum(std::span<const uint8_t, 16> saddr,
                                        std::span<const uint8_t, 16> daddr, uint8_t next_header,
                                        std::span<const uint8_t> l4, size_t csum_offset);

// RFC 768: a computed UDP checksum of 0 goes on the wire as 0xffff (0 means "none").
[[nodiscard]] constexpr uint16_t udp_wire_checksum(uint16_t computed) {
    return computed == 0 ? uint16_t{0xffff} : computed;
}

struct ChecksumVerdict {
    bool ok = false;
    std::string detail;  // what was checked, or what was wrong
};

// Parses an Ethernet/IPv4 frame independently of the data path and checks the IPv4 header
// checksum and, for unfragmented TCP/UDP, the L4 checksum (ICMP: the message checksum and, for
// an error, the quoted IPv4 header's checksum) (UDP: 0 = none is valid, and 0xffff
// is valid when the sum computes to 0). The L4 length is tot_len - IHL*4 (UDP: the UDP length
// field), so Ethernet padding after tot_len is ignored. Fails on anything it cannot parse.
[[nodiscard]] ChecksumVerdict verify_ipv4_checksums(std::span<const uint8_t> frame);

// The same for an Ethernet/IPv6 frame: walks hop-by-hop, routing and destination options headers
// (a fragment header: no L4 check) to TCP, UDP or ICMPv6 and checks that checksum over the IPv6
// pseudo-header (RFC 8200 8.1; the upper-layer length is what follows the extension headers
// within payload_len). UDP checksum 0 is invalid over IPv6. For an ICMPv6 error that quotes a
// whole IPv6 TCP/UDP packet, the quoted packet's L4 checksum is checked too.
[[nodiscard]] ChecksumVerdict verify_ipv6_checksums(std::span<const uint8_t> frame);

// The UDP checksum RFC 1071 computes for an Ethernet/IPv4 or /IPv6 frame (IPv6 without extension
// headers), before RFC 768's 0 -> 0xffff: what the checksum field must hold unless that is 0.
[[nodiscard]] uint16_t computed_udp_checksum(std::span<const uint8_t> frame);

// verify_ipv4_checksums or verify_ipv6_checksums by the frame's ethertype.
[[nodiscard]] ChecksumVerdict verify_checksums(std::span<const uint8_t> frame);

}  // namespace fwd::test
