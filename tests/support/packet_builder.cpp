#include "support/packet_builder.h"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "support/checksum.h"

namespace fwd::test {
namespace {

constexpr uint16_t kFlagDf = 0x4000;
constexpr uint16_t kFlagMf = 0x2000;
constexpr uint16_t kFragOffsetMask = 0x1fff;
constexpr size_t kMaxIpOptions = 40;
constexpr uint8_t kTcpFin = 0x01;
constexpr uint8_t kTcpSyn = 0x02;
constexpr uint8_t kTcpRst = 0x04;
constexpr uint8_t kTcpPsh = 0x08;
constexpr uint8_t kTcpAck = 0x10;
constexpr uint8_t kIpOptEnd = 0;

[[noreturn]] void die(const std::string& what) {
    std::fprintf(stderr, "PacketBuilder: %s\n", what.c_str());
    std::abort();
}

void put8(Bytes& out, uint8_t value) {
    out.push_back(value);
}

void put16(Bytes& out, uint16_t value) {
    out.push_back(static_cast<uint8_t>(value >> 8));
    out.push_back(static_cast<uint8_t>(value & 0xff));
}

void put32(Bytes& out, uint32_t value) {
    put16(out, static_cast<uint16_t>(value >> 16));
    put16(out, static_cast<uint16_t>(value & 0xffff));
}

void set16(Bytes& out, size_t offset, uint16_t value) {
    out[offset] = static_cast<uint8_t>(value >> 8);
    out[offset + 1] = static_cast<uint8_t>(value & 0xff);
}

void append(Bytes& out, std::span<const uint8_t> bytes) {
    out.insert(out.end(), bytes.begin(), bytes.end());
}

uint16_t get16(std::span<const uint8_t> bytes, size_t offset) {
    return static_cast<uint16_t>((bytes[offset] << 8) | bytes[offset + 1]);
}

uint32_t get32(std::span<const uint8_t> bytes, size_t offset) {
    return (static_cast<uint32_t>(get16(bytes, offset)) << 16) | get16(bytes, offset + 2);
}

std::array<uint8_t, 6> parse_mac(std::string_view text) {
    std::array<uint8_t, 6> mac{};
    unsigned int parts[6] = {};
    const std::string copy(text);
    if (std::sscanf(copy.c_str(), "%x:%x:%x:%x:%x:%x", &parts[0], &parts[1], &parts[2], &parts[3],
                    &parts[4], &parts[5]) != 6) {
        die(fmt::format("bad MAC address '{}'", text));
    }
    for (size_t i = 0; i < mac.size(); ++i) {
        mac[i] = static_cast<uint8_t>(parts[i]);
    }
    return mac;
}

std::string mac_string(const std::array<uint8_t, 6>& mac) {
    return fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", mac[0], mac[1], mac[2], mac[3],
                       mac[4], mac[5]);
}

std::string addr_string(const std::array<uint8_t, 4>& addr) {
    return fmt::format("{}.{}.{}.{}", addr[0], addr[1], addr[2], addr[3]);
}

std::string addr_string(const std::array<uint8_t, 16>& addr) {
    char text[INET6_ADDRSTRLEN] = {};
    inet_ntop(AF_INET6, addr.data(), text, sizeof(text));
    return text;
}

std::string tcp_flags_string(uint8_t flags) {
    static constexpr std::pair<uint8_t, const char*> kNames[] = {
        {kTcpFin, "FIN"}, {kTcpSyn, "SYN"}, {kTcpRst, "RST"},
        {kTcpPsh, "PSH"}, {kTcpAck, "ACK"}, {0x20, "URG"},
    };
    std::string out;
    for (const auto& [bit, name] : kNames) {
        if ((flags & bit) != 0) {
            out += out.empty() ? "" : "|";
            out += name;
        }
    }
    return fmt::format("0x{:02x}({})", flags, out.empty() ? "none" : out);
}

std::string hex_bytes(std::span<const uint8_t> bytes) {
    std::string out;
    for (const uint8_t byte : bytes) {
        out += fmt::format("{:02x}", byte);
    }
    return out.empty() ? "-" : out;
}

std::string hex16(uint16_t value) {
    return fmt::format("0x{:04x}", value);
}

}  // namespace

std::array<uint8_t, 4> ipv4_bytes(std::string_view addr) {
    std::array<uint8_t, 4> bytes{};
    const std::string copy(addr);
    if (inet_pton(AF_INET, copy.c_str(), bytes.data()) != 1) {
        die(fmt::format("bad IPv4 address '{}'", addr));
    }
    return bytes;
}

std::array<uint8_t, 16> ipv6_bytes(std::string_view addr) {
    std::array<uint8_t, 16> bytes{};
    const std::string copy(addr);
    if (inet_pton(AF_INET6, copy.c_str(), bytes.data()) != 1) {
        die(fmt::format("bad IPv6 address '{}'", addr));
    }
    return bytes;
}

std::array<__be32, 4> ipv6_be(std::string_view addr) {
    const auto bytes = ipv6_bytes(addr);  // already in network order
    std::array<__be32, 4> words{};
    std::memcpy(words.data(), bytes.data(), bytes.size());
    return words;
}

bool is_ipv6(std::string_view addr) {
    return addr.find(':') != std::string_view::npos;
}

std::string ipv6_string(const __be32 (&addr)[4]) {
    std::array<uint8_t, 16> bytes{};
    std::memcpy(bytes.data(), addr, bytes.size());
    return addr_string(bytes);
}

__be32 ipv4_be(std::string_view addr) {
    const auto bytes = ipv4_bytes(addr);  // already in network order
    __be32 value = 0;
    std::memcpy(&value, bytes.data(), sizeof(value));
    return value;
}

__be16 port_be(uint16_t port) {
    const std::array<uint8_t, 2> bytes = {static_cast<uint8_t>(port >> 8),
                                          static_cast<uint8_t>(port & 0xff)};
    __be16 value = 0;
    std::memcpy(&value, bytes.data(), sizeof(value));
    return value;
}

std::string ipv4_string(__be32 addr) {
    std::array<uint8_t, 4> bytes{};
    std::memcpy(bytes.data(), &addr, sizeof(addr));
    return addr_string(bytes);
}

uint16_t port_host(__be16 port) {
    std::array<uint8_t, 2> bytes{};
    std::memcpy(bytes.data(), &port, sizeof(port));
    return get16(bytes, 0);
}

// ---------------------------------------------------------------------------------------------
// PacketBuilder

PacketBuilder& PacketBuilder::eth(std::string_view src_mac, std::string_view dst_mac) {
    has_eth_ = true;
    src_mac_ = parse_mac(src_mac);
    dst_mac_ = parse_mac(dst_mac);
    return *this;
}

PacketBuilder& PacketBuilder::vlan(uint16_t vid) {
    vlan_ = static_cast<uint16_t>(vid & 0x0fff);
    return *this;
}

PacketBuilder& PacketBuilder::ethertype(uint16_t type) {
    ethertype_ = type;
    return *this;
}

PacketBuilder& PacketBuilder::arp_request(std::string_view sender, std::string_view target) {
    l3_ = L3::Arp;
    arp_.clear();
    put16(arp_, 1);             // hardware type: Ethernet
    put16(arp_, kEthTypeIpv4);  // protocol type
    put8(arp_, 6);
    put8(arp_, 4);
    put16(arp_, 1);  // request
    append(arp_, src_mac_);
    append(arp_, ipv4_bytes(sender));
    append(arp_, std::array<uint8_t, 6>{});
    append(arp_, ipv4_bytes(target));
    return *this;
}

PacketBuilder& PacketBuilder::ipv4(std::string_view src, std::string_view dst) {
    l3_ = L3::Ipv4;
    src_addr_ = {};
    dst_addr_ = {};
    const auto src_bytes = ipv4_bytes(src);
    const auto dst_bytes = ipv4_bytes(dst);
    std::copy(src_bytes.begin(), src_bytes.end(), src_addr_.begin());
    std::copy(dst_bytes.begin(), dst_bytes.end(), dst_addr_.begin());
    return *this;
}

PacketBuilder& PacketBuilder::ipv6(std::string_view src, std::string_view dst) {
    l3_ = L3::Ipv6;
    src_addr_ = ipv6_bytes(src);
    dst_addr_ = ipv6_bytes(dst);
    return *this;
}

PacketBuilder& PacketBuilder::ttl(uint8_t ttl) {
    ttl_ = ttl;
    return *this;
}

PacketBuilder& PacketBuilder::tos(uint8_t tos) {
    tos_ = tos;
    return *this;
}

PacketBuilder& PacketBuilder::ip_id(uint16_t id) {
    ip_id_ = id;
    return *this;
}

PacketBuilder& PacketBuilder::dont_fragment() {
    frag_field_ |= kFlagDf;
    return *this;
}

PacketBuilder& PacketBuilder::fragment(bool more_fragments, uint16_t offset_units) {
    frag_field_ = static_cast<uint16_t>((frag_field_ & kFlagDf) | (more_fragments ? kFlagMf : 0) |
                                        (offset_units & kFragOffsetMask));
    return *this;
}

PacketBuilder& PacketBuilder::ip_options(std::vector<uint8_t> options) {
    while (options.size() % 4 != 0) {
        options.push_back(kIpOptEnd);
    }
    if (options.size() > kMaxIpOptions) {
        die(fmt::format("{} bytes of IPv4 options exceed {}", options.size(), kMaxIpOptions));
    }
    ip_options_ = std::move(options);
    return *this;
}

PacketBuilder& PacketBuilder::bad_ihl(uint8_t ihl) {
    ihl_ = static_cast<uint8_t>(ihl & 0x0f);
    return *this;
}

PacketBuilder& PacketBuilder::ip_version(uint8_t version) {
    ip_version_ = static_cast<uint8_t>(version & 0x0f);
    return *this;
}

PacketBuilder& PacketBuilder::tot_len(uint16_t tot_len) {
    tot_len_ = tot_len;
    return *this;
}

PacketBuilder& PacketBuilder::ip_checksum(uint16_t check) {
    ip_checksum_ = check;
    return *this;
}

PacketBuilder& PacketBuilder::ip_proto(uint8_t proto) {
    ip_proto_ = proto;
    return *this;
}

// An options header (hop-by-hop, destination options) of `units` 8-byte units, its options all
// Pad1 (zero bytes).
PacketBuilder& PacketBuilder::hop_by_hop(uint8_t units) {
    std::vector<uint8_t> body(units * 8u - 1u, 0);
    body[0] = static_cast<uint8_t>(units - 1);
    return ipv6_ext(kIpv6HopByHop, std::move(body));
}

PacketBuilder& PacketBuilder::dest_options(uint8_t units) {
    hop_by_hop(units);
    ipv6_ext_.back().type = kIpv6DestOptions;
    return *this;
}

PacketBuilder& PacketBuilder::routing(uint8_t segments_left) {
    constexpr uint8_t kSegmentRouting = 4;
    std::vector<uint8_t> body = {2, kSegmentRouting, segments_left, 0, 0, 0, 0};
    append(body, std::array<uint8_t, 16>{0xfd, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x77});
    return ipv6_ext(kIpv6Routing, std::move(body));
}

PacketBuilder& PacketBuilder::ipv6_fragment(bool more_fragments, uint16_t offset_units,
                                            uint32_t id) {
    Bytes body = {0};
    put16(body, static_cast<uint16_t>((offset_units << 3) | (more_fragments ? 1 : 0)));
    put32(body, id);
    return ipv6_ext(kIpv6Fragment, std::move(body));
}

PacketBuilder& PacketBuilder::ipv6_ext(uint8_t type, std::vector<uint8_t> body) {
    Bytes header = {0};
    append(header, body);
    ipv6_ext_.push_back({type, std::move(header)});
    return *this;
}

PacketBuilder& PacketBuilder::tcp(uint16_t sport, uint16_t dport) {
    l4_ = L4::Tcp;
    sport_ = sport;
    dport_ = dport;
    return *this;
}

PacketBuilder& PacketBuilder::syn() {
    tcp_flags_ |= kTcpSyn;
    return *this;
}

PacketBuilder& PacketBuilder::ack() {
    tcp_flags_ |= kTcpAck;
    return *this;
}

PacketBuilder& PacketBuilder::fin() {
    tcp_flags_ |= kTcpFin;
    return *this;
}

PacketBuilder& PacketBuilder::rst() {
    tcp_flags_ |= kTcpRst;
    return *this;
}

PacketBuilder& PacketBuilder::psh() {
    tcp_flags_ |= kTcpPsh;
    return *this;
}

PacketBuilder& PacketBuilder::seq(uint32_t seq) {
    seq_ = seq;
    return *this;
}

PacketBuilder& PacketBuilder::ack_seq(uint32_t ack_seq) {
    ack_seq_ = ack_seq;
    return *this;
}

PacketBuilder& PacketBuilder::window(uint16_t window) {
    window_ = window;
    return *this;
}

PacketBuilder& PacketBuilder::tcp_doff(uint8_t doff) {
    tcp_doff_ = static_cast<uint8_t>(doff & 0x0f);
    return *this;
}

PacketBuilder& PacketBuilder::udp(uint16_t sport, uint16_t dport) {
    l4_ = L4::Udp;
    sport_ = sport;
    dport_ = dport;
    return *this;
}

PacketBuilder& PacketBuilder::udp_len(uint16_t len) {
    udp_len_ = len;
    return *this;
}

PacketBuilder& PacketBuilder::zero_udp_checksum() {
    zero_udp_checksum_ = true;
    return *this;
}

PacketBuilder& PacketBuilder::icmp_error(uint8_t type, uint8_t code,
                                         std::span<const uint8_t> quote, uint32_t rest) {
    l4_ = L4::Icmp;
    icmp_error_ = true;
    icmp_type_ = type;
    icmp_code_ = code;
    icmp_rest_ = rest;
    payload_.assign(quote.begin(), quote.end());
    return *this;
}

PacketBuilder& PacketBuilder::icmp_echo(uint16_t id, uint16_t sequence) {
    l4_ = L4::Icmp;
    icmp_id_ = id;
    icmp_seq_ = sequence;
    return *this;
}

PacketBuilder& PacketBuilder::l4_checksum(uint16_t check) {
    l4_checksum_ = check;
    return *this;
}

PacketBuilder& PacketBuilder::payload(std::string_view text) {
    payload_.assign(text.begin(), text.end());
    return *this;
}

PacketBuilder& PacketBuilder::payload(std::span<const uint8_t> bytes) {
    payload_.assign(bytes.begin(), bytes.end());
    return *this;
}

PacketBuilder& PacketBuilder::pad_to(size_t frame_len) {
    pad_to_ = frame_len;
    return *this;
}

PacketBuilder& PacketBuilder::truncate(size_t frame_len) {
    truncate_ = frame_len;
    return *this;
}

uint8_t PacketBuilder::l4_proto() const {
    if (ip_proto_) {
        return *ip_proto_;
    }
    switch (l4_) {
        case L4::Tcp:
            return kIpProtoTcp;
        case L4::Udp:
            return kIpProtoUdp;
        case L4::Icmp:
            return l3_ == L3::Ipv6 ? kIpProtoIcmpv6 : kIpProtoIcmp;
        case L4::None:
            break;
    }
    return 0xff;  // reserved: an L3 packet with an unparsed payload
}

// The L4 header and payload with the checksum field still zero; build_l3 fills it in.
Bytes PacketBuilder::build_l4() const {
    Bytes out;
    switch (l4_) {
        case L4::Tcp:
            put16(out, sport_);
            put16(out, dport_);
            put32(out, seq_);
            put32(out, ack_seq_);
            put8(out, static_cast<uint8_t>(tcp_doff_.value_or(kTcpHeaderLen / 4) << 4));
            put8(out, tcp_flags_);
            put16(out, window_);
            put16(out, 0);  // checksum
            put16(out, 0);  // urgent pointer
            break;
        case L4::Udp:
            put16(out, sport_);
            put16(out, dport_);
            put16(out, udp_len_.value_or(static_cast<uint16_t>(kUdpHeaderLen + payload_.size())));
            put16(out, 0);  // checksum
            break;
        case L4::Icmp:
            put8(out, l3_ == L3::Ipv6 && !icmp_error_ ? kIcmp6EchoRequest : icmp_type_);
            put8(out, icmp_code_);
            put16(out, 0);  // checksum
            if (icmp_error_) {
                put32(out, icmp_rest_);
            } else {
                put16(out, icmp_id_);
                put16(out, icmp_seq_);
            }
            break;
        case L4::None:
            break;
    }
    append(out, payload_);
    return out;
}

Bytes PacketBuilder::build_l3(const Bytes& l4_in) const {
    Bytes l4 = l4_in;
    const size_t csum_offset = l4_ == L4::Tcp ? 16 : l4_ == L4::Udp ? 6 : 2;
    auto l4_checksum = [&](uint16_t pseudo_computed) -> uint16_t {
        if (l4_checksum_) {
            return *l4_checksum_;
        }
        if (l4_ == L4::Udp) {
            return zero_udp_checksum_ ? uint16_t{0} : udp_wire_checksum(pseudo_computed);
        }
        return pseudo_computed;
    };

    Bytes out;
    if (l3_ == L3::Ipv4) {
        if (l4_ == L4::Icmp) {
            set16(l4, csum_offset, l4_checksum(internet_checksum(l4)));
        } else if (l4_ != L4::None) {
            const std::span<const uint8_t, 4> src(src_addr_.data(), 4);
            const std::span<const uint8_t, 4> dst(dst_addr_.data(), 4);
            set16(l4, csum_offset,
                  l4_checksum(ipv4_l4_checksum(src, dst, l4_proto(), l4, csum_offset)));
        }
        const size_t header_len = kIpv4HeaderLen + ip_options_.size();
        const auto ihl = ihl_.value_or(static_cast<uint8_t>(header_len / 4));
        put8(out, static_cast<uint8_t>((ip_version_ << 4) | ihl));
        put8(out, tos_);
        put16(out, tot_len_.value_or(static_cast<uint16_t>(header_len + l4.size())));
        put16(out, ip_id_);
        put16(out, frag_field_);
        put8(out, ttl_);
        put8(out, l4_proto());
        put16(out, 0);  // checksum
        append(out, std::span<const uint8_t>(src_addr_.data(), 4));
        append(out, std::span<const uint8_t>(dst_addr_.data(), 4));
        append(out, ip_options_);
        set16(out, 10, ip_checksum_.value_or(ipv4_header_checksum(out)));
    } else if (l3_ == L3::Ipv6) {
        if (l4_ != L4::None) {
            set16(l4, csum_offset,
                  l4_checksum(ipv6_l4_checksum(src_addr_, dst_addr_, l4_proto(), l4, csum_offset)));
        }
        // Each extension header names the next one; the last names the upper layer.
        Bytes ext;
        for (size_t i = 0; i < ipv6_ext_.size(); ++i) {
            Bytes header = ipv6_ext_[i].header;
            header[0] = i + 1 < ipv6_ext_.size() ? ipv6_ext_[i + 1].type : l4_proto();
            append(ext, header);
        }
        put32(out, 0x60000000u | (static_cast<uint32_t>(tos_) << 20));  // version 6, no flow label
        put16(out, tot_len_.value_or(static_cast<uint16_t>(ext.size() + l4.size())));
        put8(out, ipv6_ext_.empty() ? l4_proto() : ipv6_ext_.front().type);
        put8(out, ttl_);
        append(out, src_addr_);
        append(out, dst_addr_);
        append(out, ext);
    } else if (l3_ == L3::Arp) {
        append(out, arp_);
        return out;
    }
    append(out, l4);
    return out;
}

Bytes PacketBuilder::build() const {
    Bytes frame;
    if (has_eth_) {
        append(frame, dst_mac_);
        append(frame, src_mac_);
        if (vlan_) {
            put16(frame, kEthTypeVlan);
            put16(frame, *vlan_);
        }
        uint16_t type = kEthTypeIpv4;
        if (l3_ == L3::Ipv6) {
            type = kEthTypeIpv6;
        } else if (l3_ == L3::Arp) {
            type = kEthTypeArp;
        }
        put16(frame, ethertype_.value_or(type));
    }
    append(frame, build_l3(build_l4()));
    if (frame.size() < pad_to_) {
        frame.resize(pad_to_, 0);
    }
    if (truncate_ && *truncate_ < frame.size()) {
        frame.resize(*truncate_);
    }
    return frame;
}

Bytes ip_packet_of(std::span<const uint8_t> frame, size_t len) {
    const auto ip = frame.subspan(kEthHeaderLen);
    const auto quoted = ip.first(std::min(len, ip.size()));
    return {quoted.begin(), quoted.end()};
}

// ---------------------------------------------------------------------------------------------
// Decoding

// The TCP or UDP header of `l4` (protocol `proto`) and the payload after it, into `pkt`.
static void decode_l4(uint8_t proto, std::span<const uint8_t> l4, DecodedPacket& pkt) {
    if (proto == kIpProtoTcp && l4.size() >= kTcpHeaderLen) {
        TcpFields tcp;
        tcp.sport = get16(l4, 0);
        tcp.dport = get16(l4, 2);
        tcp.seq = get32(l4, 4);
        tcp.ack_seq = get32(l4, 8);
        tcp.doff = static_cast<uint8_t>(l4[12] >> 4);
        tcp.flags = l4[13];
        tcp.window = get16(l4, 14);
        tcp.check = get16(l4, 16);
        tcp.urg_ptr = get16(l4, 18);
        pkt.tcp = tcp;
        l4 = l4.subspan(kTcpHeaderLen);
    } else if (proto == kIpProtoUdp && l4.size() >= kUdpHeaderLen) {
        UdpFields udp;
        udp.sport = get16(l4, 0);
        udp.dport = get16(l4, 2);
        udp.len = get16(l4, 4);
        udp.check = get16(l4, 6);
        pkt.udp = udp;
        l4 = l4.subspan(kUdpHeaderLen);
    } else if (proto == kIpProtoTcp || proto == kIpProtoUdp) {
        pkt.note = fmt::format("L4 header truncated at {} bytes", l4.size());
    }
    pkt.payload.assign(l4.begin(), l4.end());
}

// The IPv6 packet in `rest` (after the Ethernet header) and its extension headers, into `pkt`.
static void decode_ipv6(std::span<const uint8_t> rest, DecodedPacket& pkt) {
    if (rest.size() < kIpv6HeaderLen) {
        pkt.note = fmt::format("IPv6 header truncated at {} bytes", rest.size());
        pkt.payload.assign(rest.begin(), rest.end());
        return;
    }
    Ipv6Fields ip;
    const uint32_t first = get32(rest, 0);
    ip.version = static_cast<uint8_t>(first >> 28);
    ip.traffic_class = static_cast<uint8_t>(first >> 20);
    ip.flow_label = first & 0xfffff;
    ip.payload_len = get16(rest, 4);
    ip.next_header = rest[6];
    ip.hop_limit = rest[7];
    std::copy_n(rest.begin() + 8, 16, ip.saddr.begin());
    std::copy_n(rest.begin() + 24, 16, ip.daddr.begin());
    size_t ip_end = rest.size();
    if (kIpv6HeaderLen + ip.payload_len <= rest.size()) {
        ip_end = kIpv6HeaderLen + ip.payload_len;
        pkt.trailer = rest.size() - ip_end;
    } else {
        pkt.note = fmt::format("payload_len {} vs {} bytes after the IPv6 header", ip.payload_len,
                               rest.size() - kIpv6HeaderLen);
    }
    size_t offset = kIpv6HeaderLen;
    uint8_t next = ip.next_header;
    bool later_fragment = false;
    while ((next == kIpv6HopByHop || next == kIpv6Routing || next == kIpv6DestOptions ||
            next == kIpv6Fragment) &&
           offset + 8 <= ip_end) {
        ip.ext_types.push_back(next);
        later_fragment =
            later_fragment || (next == kIpv6Fragment && (get16(rest, offset + 2) >> 3) != 0);
        const size_t len = next == kIpv6Fragment ? 8 : (rest[offset + 1] + 1u) * 8u;
        next = rest[offset];
        offset += len;
    }
    pkt.ipv6 = ip;
    const auto l4 = rest.subspan(std::min(offset, ip_end), ip_end - std::min(offset, ip_end));
    if (later_fragment) {
        pkt.payload.assign(l4.begin(), l4.end());
        return;
    }
    decode_l4(next, l4, pkt);
}

DecodedPacket decode(std::span<const uint8_t> frame) {
    DecodedPacket pkt;
    pkt.size = frame.size();
    if (frame.size() < kEthHeaderLen) {
        pkt.note = "shorter than an Ethernet header";
        pkt.payload.assign(frame.begin(), frame.end());
        return pkt;
    }
    EthFields eth;
    std::copy_n(frame.begin(), 6, eth.dst.begin());
    std::copy_n(frame.begin() + 6, 6, eth.src.begin());
    size_t offset = 12;
    eth.ethertype = get16(frame, offset);
    if (eth.ethertype == kEthTypeVlan && frame.size() >= offset + 6) {
        eth.vlan_tci = get16(frame, offset + 2);
        eth.ethertype = get16(frame, offset + 4);
        offset += 4;
    }
    offset += 2;
    pkt.eth = eth;
    auto rest = frame.subspan(offset);
    if (eth.ethertype == kEthTypeIpv6) {
        decode_ipv6(rest, pkt);
        return pkt;
    }
    if (eth.ethertype != kEthTypeIpv4) {
        pkt.note = fmt::format("ethertype 0x{:04x}: L3 not decoded", eth.ethertype);
        pkt.payload.assign(rest.begin(), rest.end());
        return pkt;
    }
    if (rest.size() < kIpv4HeaderLen) {
        pkt.note = fmt::format("IPv4 header truncated at {} bytes", rest.size());
        pkt.payload.assign(rest.begin(), rest.end());
        return pkt;
    }
    Ipv4Fields ip;
    ip.version = static_cast<uint8_t>(rest[0] >> 4);
    ip.ihl = static_cast<uint8_t>(rest[0] & 0x0f);
    ip.tos = rest[1];
    ip.tot_len = get16(rest, 2);
    ip.id = get16(rest, 4);
    ip.frag_field = get16(rest, 6);
    ip.ttl = rest[8];
    ip.protocol = rest[9];
    ip.check = get16(rest, 10);
    std::copy_n(rest.begin() + 12, 4, ip.saddr.begin());
    std::copy_n(rest.begin() + 16, 4, ip.daddr.begin());
    const size_t ihl_bytes = ip.ihl * 4u;
    if (ihl_bytes > kIpv4HeaderLen) {
        const size_t end = std::min(ihl_bytes, rest.size());
        ip.options.assign(rest.begin() + kIpv4HeaderLen, rest.begin() + static_cast<long>(end));
    }
    pkt.ipv4 = ip;
    if (ihl_bytes < kIpv4HeaderLen || ihl_bytes > rest.size()) {
        pkt.note = fmt::format("IHL {} does not fit the {} bytes after eth", ip.ihl, rest.size());
        pkt.payload.assign(rest.begin() + kIpv4HeaderLen, rest.end());
        return pkt;
    }
    // The IP packet ends at tot_len when that fits; what follows is Ethernet padding.
    size_t ip_end = rest.size();
    if (ip.tot_len >= ihl_bytes && ip.tot_len <= rest.size()) {
        ip_end = ip.tot_len;
        pkt.trailer = rest.size() - ip.tot_len;
    } else {
        pkt.note = fmt::format("tot_len {} vs {} bytes after eth", ip.tot_len, rest.size());
    }
    auto l4 = rest.subspan(ihl_bytes, ip_end - ihl_bytes);
    const bool fragment = (ip.frag_field & 0x3fff) != 0;
    if (fragment && (ip.frag_field & kFragOffsetMask) != 0) {
        pkt.payload.assign(l4.begin(), l4.end());
        return pkt;
    }
    decode_l4(ip.protocol, l4, pkt);
    return pkt;
}

std::vector<DecodedField> DecodedPacket::fields() const {
    std::vector<DecodedField> out;
    auto add = [&out](std::string name, std::string value) {
        out.push_back({std::move(name), std::move(value)});
    };
    add("frame.size", std::to_string(size));
    if (eth) {
        add("eth.dst", mac_string(eth->dst));
        add("eth.src", mac_string(eth->src));
        if (eth->vlan_tci) {
            add("eth.vlan_tci", hex16(*eth->vlan_tci));
        }
        add("eth.type", hex16(eth->ethertype));
    }
    if (ipv4) {
        add("ip.version", std::to_string(ipv4->version));
        add("ip.ihl", std::to_string(ipv4->ihl));
        add("ip.tos", fmt::format("0x{:02x}", ipv4->tos));
        add("ip.tot_len", std::to_string(ipv4->tot_len));
        add("ip.id", hex16(ipv4->id));
        add("ip.frag", fmt::format("{}{}offset {}", (ipv4->frag_field & kFlagDf) ? "DF " : "",
                                   (ipv4->frag_field & kFlagMf) ? "MF " : "",
                                   ipv4->frag_field & kFragOffsetMask));
        add("ip.ttl", std::to_string(ipv4->ttl));
        add("ip.protocol", std::to_string(ipv4->protocol));
        add("ip.check", hex16(ipv4->check));
        add("ip.saddr", addr_string(ipv4->saddr));
        add("ip.daddr", addr_string(ipv4->daddr));
        if (!ipv4->options.empty()) {
            add("ip.options", hex_bytes(ipv4->options));
        }
    }
    if (ipv6) {
        add("ip6.version", std::to_string(ipv6->version));
        add("ip6.traffic_class", fmt::format("0x{:02x}", ipv6->traffic_class));
        add("ip6.flow_label", fmt::format("0x{:05x}", ipv6->flow_label));
        add("ip6.payload_len", std::to_string(ipv6->payload_len));
        add("ip6.next_header", std::to_string(ipv6->next_header));
        add("ip6.hop_limit", std::to_string(ipv6->hop_limit));
        add("ip6.saddr", addr_string(ipv6->saddr));
        add("ip6.daddr", addr_string(ipv6->daddr));
        if (!ipv6->ext_types.empty()) {
            add("ip6.ext_headers", hex_bytes(ipv6->ext_types));
        }
    }
    if (tcp) {
        add("tcp.sport", std::to_string(tcp->sport));
        add("tcp.dport", std::to_string(tcp->dport));
        add("tcp.seq", std::to_string(tcp->seq));
        add("tcp.ack_seq", std::to_string(tcp->ack_seq));
        add("tcp.doff", std::to_string(tcp->doff));
        add("tcp.flags", tcp_flags_string(tcp->flags));
        add("tcp.window", std::to_string(tcp->window));
        add("tcp.check", hex16(tcp->check));
        add("tcp.urg_ptr", std::to_string(tcp->urg_ptr));
    }
    if (udp) {
        add("udp.sport", std::to_string(udp->sport));
        add("udp.dport", std::to_string(udp->dport));
        add("udp.len", std::to_string(udp->len));
        add("udp.check", hex16(udp->check));
    }
    add("payload", fmt::format("{} bytes: {}", payload.size(), hex_bytes(payload)));
    if (trailer != 0) {
        add("trailer", fmt::format("{} bytes", trailer));
    }
    if (!note.empty()) {
        add("note", note);
    }
    return out;
}

std::string DecodedPacket::to_string() const {
    std::string out;
    for (const auto& field : fields()) {
        out += fmt::format("  {} = {}\n", field.name, field.value);
    }
    return out;
}

std::string describe_diff(std::span<const uint8_t> expected, std::span<const uint8_t> actual) {
    if (std::equal(expected.begin(), expected.end(), actual.begin(), actual.end())) {
        return {};
    }
    const auto want = decode(expected).fields();
    const auto got = decode(actual).fields();
    auto find = [](const std::vector<DecodedField>& fields, const std::string& name) {
        const auto it = std::find_if(fields.begin(), fields.end(),
                                     [&](const DecodedField& f) { return f.name == name; });
        return it == fields.end() ? std::string("<absent>") : it->value;
    };
    std::string out = "field differences (expected -> actual):\n";
    for (const auto& field : want) {
        const auto other = find(got, field.name);
        if (other != field.value) {
            out += fmt::format("  {}: {} -> {}\n", field.name, field.value, other);
        }
    }
    for (const auto& field : got) {
        if (find(want, field.name) == "<absent>") {
            out += fmt::format("  {}: <absent> -> {}\n", field.name, field.value);
        }
    }
    out += fmt::format("bytes: expected {}, actual {}; differing offsets:", expected.size(),
                       actual.size());
    size_t shown = 0;
    const size_t common = std::min(expected.size(), actual.size());
    for (size_t i = 0; i < common && shown < 16; ++i) {
        if (expected[i] != actual[i]) {
            out += fmt::format(" {}({:02x}->{:02x})", i, expected[i], actual[i]);
            ++shown;
        }
    }
    if (expected.size() != actual.size()) {
        out += fmt::format(" [length differs from offset {}]", common);
    }
    out += "\n";
    return out;
}

}  // namespace fwd::test
