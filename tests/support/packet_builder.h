// Test packets: a fluent builder for Ethernet/IPv4/IPv6/TCP/UDP frames with correct checksums
// (from the independent oracle in checksum.h), knobs to make them malformed, and a decoder that
// turns two frames into a readable field-by-field diff.
//
//     auto syn = PacketBuilder().eth().ipv4("10.0.0.9", "10.0.0.1").tcp(40000, 80).syn()
//                    .payload("hello").build();
//
// Addresses are dotted strings and ports host-order numbers; the builder writes network order.
// Without an override every length and checksum is consistent. Overrides change only the named
// field (a bad IHL keeps the real header layout, a tot_len override keeps the checksums valid).
#pragma once

#include <linux/types.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace fwd::test {

using Bytes = std::vector<uint8_t>;

inline constexpr uint16_t kEthTypeIpv4 = 0x0800;
inline constexpr uint16_t kEthTypeArp = 0x0806;
inline constexpr uint16_t kEthTypeVlan = 0x8100;
inline constexpr uint16_t kEthTypeIpv6 = 0x86dd;
inline constexpr uint8_t kIpProtoIcmp = 1;
inline constexpr uint8_t kIpProtoTcp = 6;
inline constexpr uint8_t kIpProtoUdp = 17;
inline constexpr uint8_t kIpProtoIcmpv6 = 58;
// IPv6 next-header values of extension headers.
inline constexpr uint8_t kIpv6HopByHop = 0;
inline constexpr uint8_t kIpv6Routing = 43;
inline constexpr uint8_t kIpv6Fragment = 44;
inline constexpr uint8_t kIpv6Esp = 50;
inline constexpr uint8_t kIpv6Ah = 51;
inline constexpr uint8_t kIpv6NoNextHeader = 59;
inline constexpr uint8_t kIpv6DestOptions = 60;
inline constexpr size_t kEthHeaderLen = 14;
inline constexpr size_t kIpv4HeaderLen = 20;
inline constexpr size_t kIpv6HeaderLen = 40;
inline constexpr size_t kTcpHeaderLen = 20;
inline constexpr size_t kUdpHeaderLen = 8;
inline constexpr uint8_t kIcmpDestUnreach = 3;
inline constexpr uint8_t kIcmpPortUnreach = 3;   // code of kIcmpDestUnreach
inline constexpr uint8_t kIcmpFragNeeded = 4;    // code of kIcmpDestUnreach
inline constexpr uint8_t kIcmpTimeExceeded = 11;
inline constexpr uint8_t kIcmp6DestUnreach = 1;
inline constexpr uint8_t kIcmp6PortUnreach = 4;  // code of kIcmp6DestUnreach
inline constexpr uint8_t kIcmp6PacketTooBig = 2;
inline constexpr uint8_t kIcmp6TimeExceeded = 3;
inline constexpr uint8_t kIcmp6ParameterProblem = 4;
inline constexpr uint8_t kIcmp6EchoRequest = 128;
inline constexpr uint8_t kIcmp6NeighborSolicitation = 135;

// Dotted-quad text to the four address bytes; aborts on a malformed literal (a test bug).
[[nodiscard]] std::array<uint8_t, 4> ipv4_bytes(std::string_view addr);
// The address as a network-order __be32, the form map keys and values hold.
[[nodiscard]] __be32 ipv4_be(std::string_view addr);
// IPv6 text to the sixteen address bytes, and as the four network-order words of the ABI structs;
// abort on a malformed literal.
[[nodiscard]] std::array<uint8_t, 16> ipv6_bytes(std::string_view addr);
[[nodiscard]] std::array<__be32, 4> ipv6_be(std::string_view addr);
// Whether an address literal is IPv6 (it has a colon).
[[nodiscard]] bool is_ipv6(std::string_view addr);
// A host-order port as the network-order __be16 that map keys and values hold.
[[nodiscard]] __be16 port_be(uint16_t port);
// The inverse conversions, for printing map contents.
[[nodiscard]] std::string ipv4_string(__be32 addr);
[[nodiscard]] std::string ipv6_string(const __be32 (&addr)[4]);
[[nodiscard]] uint16_t port_host(__be16 port);

class PacketBuilder {
public:
    // Ethernet header. Without eth() the frame starts at the L3 header.
    PacketBuilder& eth(std::string_view src_mac = "02:00:00:00:00:09",
                       std::string_view dst_mac = "02:00:00:00:00:01");
    // An 802.1Q tag between the MAC addresses and the ethertype.
    PacketBuilder& vlan(uint16_t vid);
    // Overrides the ethertype that the L3 choice implies.
    PacketBuilder& ethertype(uint16_t type);
    // An ARP request (28 bytes) as the L3 payload; ethertype ARP.
    PacketBuilder& arp_request(std::string_view sender, std::string_view target);

    PacketBuilder& ipv4(std::string_view src, std::string_view dst);
    PacketBuilder& ipv6(std::string_view src, std::string_view dst);
    PacketBuilder& ttl(uint8_t ttl);  // also the IPv6 hop limit
    PacketBuilder& tos(uint8_t tos);
    PacketBuilder& ip_id(uint16_t id);
    PacketBuilder& dont_fragment();
    // Sets MF and the fragment offset (in 8-byte units).
    PacketBuilder& fragment(bool more_fragments, uint16_t offset_units);
    // IPv4 options, padded with End-of-Options to a multiple of 4 bytes (at most 40).
    PacketBuilder& ip_options(std::vector<uint8_t> options);
    // Writes this IHL value; the real header (20 bytes + options) is still laid out.
    PacketBuilder& bad_ihl(uint8_t ihl);
    PacketBuilder& ip_version(uint8_t version);
    PacketBuilder& tot_len(uint16_t tot_len);
    PacketBuilder& ip_checksum(uint16_t check);
    // Overrides the IPv4 protocol / IPv6 next-header field the L4 choice implies (with IPv6
    // extension headers: the last one's next-header field).
    PacketBuilder& ip_proto(uint8_t proto);

    // IPv6 extension headers, in the order of the calls, between the IPv6 header and L4; the
    // next-header chain and the payload length follow them.
    // Hop-by-hop / destination options of `units` 8-byte units, filled with Pad1 options.
    PacketBuilder& hop_by_hop(uint8_t units = 1);
    PacketBuilder& dest_options(uint8_t units = 1);
    // A routing header (type 4, segment routing) with one segment and `segments_left`.
    PacketBuilder& routing(uint8_t segments_left);
    // A fragment header (offset in 8-byte units, M flag, identification).
    PacketBuilder& ipv6_fragment(bool more_fragments, uint16_t offset_units, uint32_t id = 7);
    // Any header of type `type`: `body` after its next-header byte, laid out as given.
    PacketBuilder& ipv6_ext(uint8_t type, std::vector<uint8_t> body);

    PacketBuilder& tcp(uint16_t sport, uint16_t dport);
    PacketBuilder& syn();
    PacketBuilder& ack();
    PacketBuilder& fin();
    PacketBuilder& rst();
    PacketBuilder& psh();
    PacketBuilder& seq(uint32_t seq);
    PacketBuilder& ack_seq(uint32_t ack_seq);
    PacketBuilder& window(uint16_t window);
    // Writes this data-offset value; the 20-byte header is still laid out.
    PacketBuilder& tcp_doff(uint8_t doff);

    PacketBuilder& udp(uint16_t sport, uint16_t dport);
    PacketBuilder& udp_len(uint16_t len);
    // Sends the UDP datagram without a checksum (field 0).
    PacketBuilder& zero_udp_checksum();

    PacketBuilder& icmp_echo(uint16_t id, uint16_t sequence);  // over IPv6: ICMPv6 echo
    // An ICMP error (destination unreachable, time exceeded, ...) quoting `quote` (the start of
    // an IPv4 packet); `rest` is the second header word (the next-hop MTU for "fragmentation
    // needed"). Over IPv6 an ICMPv6 message of that type (Packet Too Big: `rest` is the MTU), its
    // checksum over the IPv6 pseudo-header; any ICMPv6 message is `type`, `code`, `rest` and a
    // body.
    PacketBuilder& icmp_error(uint8_t type, uint8_t code, std::span<const uint8_t> quote,
                              uint32_t rest = 0);

    // Writes this TCP/UDP/ICMP checksum instead of the computed one.
    PacketBuilder& l4_checksum(uint16_t check);

    PacketBuilder& payload(std::string_view text);
    PacketBuilder& payload(std::span<const uint8_t> bytes);
    // Appends zero bytes after the IP packet until the frame is this long (Ethernet padding).
    PacketBuilder& pad_to(size_t frame_len);
    // Cuts the finished frame to its first n bytes (lengths and checksums stay as built).
    PacketBuilder& truncate(size_t frame_len);

    [[nodiscard]] Bytes build() const;

private:
    enum class L3 { None, Ipv4, Ipv6, Arp };
    enum class L4 { None, Tcp, Udp, Icmp };
    struct Ipv6Ext {
        uint8_t type;
        Bytes header;  // byte 0 (next header) is filled in by build_l3
    };

    [[nodiscard]] Bytes build_l4() const;
    [[nodiscard]] Bytes build_l3(const Bytes& l4) const;
    [[nodiscard]] uint8_t l4_proto() const;

    bool has_eth_ = false;
    std::array<uint8_t, 6> src_mac_{};
    std::array<uint8_t, 6> dst_mac_{};
    std::optional<uint16_t> vlan_;
    std::optional<uint16_t> ethertype_;

    L3 l3_ = L3::None;
    std::array<uint8_t, 16> src_addr_{};  // IPv4 uses the first 4 bytes
    std::array<uint8_t, 16> dst_addr_{};
    uint8_t ttl_ = 64;
    uint8_t tos_ = 0;
    uint16_t ip_id_ = 0x1234;
    uint16_t frag_field_ = 0;  // flags (DF 0x4000, MF 0x2000) | offset
    Bytes ip_options_;
    std::optional<uint8_t> ihl_;
    uint8_t ip_version_ = 4;
    std::optional<uint16_t> tot_len_;
    std::optional<uint16_t> ip_checksum_;
    std::optional<uint8_t> ip_proto_;
    std::vector<Ipv6Ext> ipv6_ext_;

    L4 l4_ = L4::None;
    uint16_t sport_ = 0;
    uint16_t dport_ = 0;
    uint8_t tcp_flags_ = 0;
    uint32_t seq_ = 1000;
    uint32_t ack_seq_ = 0;
    uint16_t window_ = 64240;
    std::optional<uint8_t> tcp_doff_;
    std::optional<uint16_t> udp_len_;
    bool zero_udp_checksum_ = false;
    uint16_t icmp_id_ = 0;
    uint16_t icmp_seq_ = 0;
    uint8_t icmp_type_ = 8;  // echo request
    uint8_t icmp_code_ = 0;
    uint32_t icmp_rest_ = 0;  // the second header word of an error
    bool icmp_error_ = false;
    std::optional<uint16_t> l4_checksum_;

    Bytes arp_;
    Bytes payload_;
    size_t pad_to_ = 0;
    std::optional<size_t> truncate_;
};

struct EthFields {
    std::array<uint8_t, 6> dst{};
    std::array<uint8_t, 6> src{};
    std::optional<uint16_t> vlan_tci;
    uint16_t ethertype = 0;
};

struct Ipv4Fields {
    uint8_t version = 0;
    uint8_t ihl = 0;
    uint8_t tos = 0;
    uint16_t tot_len = 0;
    uint16_t id = 0;
    uint16_t frag_field = 0;  // flags and offset as on the wire
    uint8_t ttl = 0;
    uint8_t protocol = 0;
    uint16_t check = 0;
    std::array<uint8_t, 4> saddr{};
    std::array<uint8_t, 4> daddr{};
    Bytes options;
};

struct Ipv6Fields {
    uint8_t version = 0;
    uint8_t traffic_class = 0;
    uint32_t flow_label = 0;
    uint16_t payload_len = 0;
    uint8_t next_header = 0;
    uint8_t hop_limit = 0;
    std::array<uint8_t, 16> saddr{};
    std::array<uint8_t, 16> daddr{};
    std::vector<uint8_t> ext_types;  // the extension headers walked, in order
};

struct TcpFields {
    uint16_t sport = 0;
    uint16_t dport = 0;
    uint32_t seq = 0;
    uint32_t ack_seq = 0;
    uint8_t doff = 0;
    uint8_t flags = 0;
    uint16_t window = 0;
    uint16_t check = 0;
    uint16_t urg_ptr = 0;
};

struct UdpFields {
    uint16_t sport = 0;
    uint16_t dport = 0;
    uint16_t len = 0;
    uint16_t check = 0;
};

struct DecodedField {
    std::string name;
    std::string value;
};

// A frame decoded as far as its bytes allow; `note` says where and why decoding stopped.
struct DecodedPacket {
    size_t size = 0;
    std::optional<EthFields> eth;
    std::optional<Ipv4Fields> ipv4;
    std::optional<Ipv6Fields> ipv6;
    std::optional<TcpFields> tcp;
    std::optional<UdpFields> udp;
    Bytes payload;       // the L4 payload inside tot_len, or the undecoded rest
    size_t trailer = 0;  // bytes after the IP packet's length (Ethernet padding)
    std::string note;

    // Every decoded field as name/value text, in header order ("ip.daddr" = "10.0.0.1").
    [[nodiscard]] std::vector<DecodedField> fields() const;
    [[nodiscard]] std::string to_string() const;
};

// The IP packet of an Ethernet frame (its Ethernet header dropped), cut to its first `len` bytes:
// what an ICMP or ICMPv6 error quotes.
[[nodiscard]] Bytes ip_packet_of(std::span<const uint8_t> frame, size_t len = SIZE_MAX);

// Decodes an Ethernet frame (or, without an Ethernet header, nothing useful: pass frames).
[[nodiscard]] DecodedPacket decode(std::span<const uint8_t> frame);

// The fields that differ, then the differing byte offsets; empty when the frames are equal.
[[nodiscard]] std::string describe_diff(std::span<const uint8_t> expected,
                                        std::span<const uint8_t> actual);

}  // namespace fwd::test
