#include "abi_convert.h"

#include <arpa/inet.h>

#include <array>
#include <cstring>

namespace fwd::loader {
namespace {

__be32 to_be32(Ipv4Addr addr) { return htonl(addr.value()); }
__be16 to_be16(std::uint16_t port) { return htons(port); }
Ipv4Addr addr_from_be32(__be32 addr) { return Ipv4Addr(ntohl(addr)); }
std::uint16_t port_from_be16(__be16 port) { return ntohs(port); }

// The ABI's four big-endian words hold the address bytes in order.
void to_words(Ipv6Addr addr, __be32 (&words)[4]) {
    static_assert(sizeof(words) == sizeof(Ipv6Addr::Bytes));
    std::memcpy(words, addr.bytes().data(), sizeof(words));
}
Ipv6Addr addr_from_words(const __be32 (&words)[4]) {
    Ipv6Addr::Bytes bytes{};
    std::memcpy(bytes.data(), words, sizeof(words));
    return Ipv6Addr(bytes);
}
Proto proto_of(__u8 proto) { return proto == FWD_PROTO_UDP ? Proto::Udp : Proto::Tcp; }

constexpr std::array<const char*, FWD_CNT_MAX> kCounterNames = {
    "pass_not_ip",    "pass_not_l4",      "pass_no_match",       "pass_fragment",
    "pass_truncated", "pass_malformed",   "pass_not_local",      "drop_loopback",
    "err_rewrite",    "err_ct_create",    "nat_in",              "nat_out",
    "ct_created",     "ip_options",       "pass_host_socket",    "sock_xlate",
    "sock_revxlate",  "bind_refused",     "redirect",            "xdp_nat_in",
    "xdp_to_tc",      "icmp_error_nat",   "drop_not_allowed",    "pass_ext_headers",
    "nat6_in",        "nat6_out",
};

}  // namespace

fwd_svc4_key make_svc4_key(const Mapping& mapping) {
    fwd_svc4_key key{};
    key.host_addr = to_be32(mapping.host_addr.v4());
    key.host_port = to_be16(mapping.host_port);
    key.proto = static_cast<__u8>(mapping.proto);
    return key;
}

fwd_svc4_value make_svc4_value(const Mapping& mapping) {
    fwd_svc4_value value{};
    value.container_addr = to_be32(mapping.container_addr.v4());
    value.container_port = to_be16(mapping.container_port);
    value.mapping_id = mapping.id;
    value.flags = mapping.allow.empty() ? 0 : FWD_SVC_FLAG_ALLOW_LIST;
    return value;
}

fwd_allow4_key make_allow4_key(std::uint32_t mapping_id, const IpCidr& cidr) {
    fwd_allow4_key key{};
    key.prefixlen = FWD_ALLOW4_ID_BITS + cidr.prefix_len;
    key.mapping_id = mapping_id;
    key.addr = to_be32(cidr.addr.v4());
    return key;
}

IpCidr cidr_from_allow4(const fwd_allow4_key& key) {
    return {addr_from_be32(key.addr), static_cast<std::uint8_t>(key.prefixlen - FWD_ALLOW4_ID_BITS)};
}

Mapping mapping_from_svc4(const fwd_svc4_key& key, const fwd_svc4_value& value) {
    Mapping mapping;
    mapping.host_addr = addr_from_be32(key.host_addr);
    mapping.host_port = port_from_be16(key.host_port);
    mapping.proto = proto_of(key.proto);
    mapping.container_addr = addr_from_be32(value.container_addr);
    mapping.container_port = port_from_be16(value.container_port);
    mapping.id = value.mapping_id;
    return mapping;
}

fwd_svc6_key make_svc6_key(const Mapping& mapping) {
    fwd_svc6_key key{};
    to_words(mapping.host_addr.v6(), key.host_addr);
    key.host_port = to_be16(mapping.host_port);
    key.proto = static_cast<__u8>(mapping.proto);
    return key;
}

fwd_svc6_value make_svc6_value(const Mapping& mapping) {
    fwd_svc6_value value{};
    to_words(mapping.container_addr.v6(), value.container_addr);
    value.container_port = to_be16(mapping.container_port);
    value.mapping_id = mapping.id;
    value.flags = mapping.allow.empty() ? 0 : FWD_SVC_FLAG_ALLOW_LIST;
    return value;
}

Mapping mapping_from_svc6(const fwd_svc6_key& key, const fwd_svc6_value& value) {
    Mapping mapping;
    mapping.host_addr = addr_from_words(key.host_addr);
    mapping.host_port = port_from_be16(key.host_port);
    mapping.proto = proto_of(key.proto);
    mapping.container_addr = addr_from_words(value.container_addr);
    mapping.container_port = port_from_be16(value.container_port);
    mapping.id = value.mapping_id;
    return mapping;
}

fwd_allow6_key make_allow6_key(std::uint32_t mapping_id, const IpCidr& cidr) {
    fwd_allow6_key key{};
    key.prefixlen = FWD_ALLOW4_ID_BITS + cidr.prefix_len;
    key.mapping_id = mapping_id;
    to_words(cidr.addr.v6(), key.addr);
    return key;
}

IpCidr cidr_from_allow6(const fwd_allow6_key& key) {
    return {addr_from_words(key.addr), static_cast<std::uint8_t>(key.prefixlen - FWD_ALLOW4_ID_BITS)};
}

fwd_local6_key make_local6_key(Ipv6Addr addr) {
    fwd_local6_key key{};
    to_words(addr, key.addr);
    return key;
}

fwd_local4_key make_local4_key(Ipv4Addr addr) {
    fwd_local4_key key{};
    key.addr = to_be32(addr);
    return key;
}

fwd_port_key make_port_key(const Mapping& mapping) {
    fwd_port_key key{};
    key.port = to_be16(mapping.host_port);
    key.proto = static_cast<__u8>(mapping.proto);
    return key;
}

Ipv4Addr addr_from_sockaddr(const sockaddr_in& addr) { return addr_from_be32(addr.sin_addr.s_addr); }

Ipv6Addr addr_from_sockaddr6(const sockaddr_in6& addr) {
    Ipv6Addr::Bytes bytes{};
    std::memcpy(bytes.data(), addr.sin6_addr.s6_addr, bytes.size());
    return Ipv6Addr(bytes);
}

MappingCounters sum_counters(const fwd_mapping_stats* per_cpu, std::size_t cpus) {
    MappingCounters total;
    for (std::size_t cpu = 0; cpu < cpus; ++cpu) {
        total.packets_in += per_cpu[cpu].packets_in;
        total.bytes_in += per_cpu[cpu].bytes_in;
        total.packets_out += per_cpu[cpu].packets_out;
        total.bytes_out += per_cpu[cpu].bytes_out;
        total.new_flows += per_cpu[cpu].new_flows;
    }
    return total;
}

std::string counter_name(std::uint32_t counter_id) {
    return counter_id < kCounterNames.size() ? kCounterNames[counter_id] : "unknown";
}

}  // namespace fwd::loader
