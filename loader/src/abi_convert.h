// The one place where byte order changes: ABI structs <-> domain types.
#pragma once

#include <fwd_abi.h>
#include <netinet/in.h>

#include <cstdint>
#include <string>

#include "fwd/loader/datapath.h"
#include "fwd/types.h"

namespace fwd::loader {

// Keys are value-initialised here, so their padding is always zero.
[[nodiscard]] fwd_svc4_key make_svc4_key(const Mapping& mapping);
[[nodiscard]] fwd_svc4_value make_svc4_value(const Mapping& mapping);
[[nodiscard]] Mapping mapping_from_svc4(const fwd_svc4_key& key, const fwd_svc4_value& value);
// The allow-list entry of network `cidr` under mapping `mapping_id`, and back.
[[nodiscard]] fwd_allow4_key make_allow4_key(std::uint32_t mapping_id, const IpCidr& cidr);
[[nodiscard]] IpCidr cidr_from_allow4(const fwd_allow4_key& key);
// The IPv6 twins; the mapping's addresses must be IPv6.
[[nodiscard]] fwd_svc6_key make_svc6_key(const Mapping& mapping);
[[nodiscard]] fwd_svc6_value make_svc6_value(const Mapping& mapping);
[[nodiscard]] Mapping mapping_from_svc6(const fwd_svc6_key& key, const fwd_svc6_value& value);
[[nodiscard]] fwd_allow6_key make_allow6_key(std::uint32_t mapping_id, const IpCidr& cidr);
[[nodiscard]] IpCidr cidr_from_allow6(const fwd_allow6_key& key);
[[nodiscard]] fwd_local6_key make_local6_key(Ipv6Addr addr);
[[nodiscard]] MappingCounters sum_counters(const fwd_mapping_stats* per_cpu, std::size_t cpus);
[[nodiscard]] fwd_local4_key make_local4_key(Ipv4Addr addr);
[[nodiscard]] fwd_port_key make_port_key(const Mapping& mapping);
[[nodiscard]] Ipv4Addr addr_from_sockaddr(const struct sockaddr_in& addr);
[[nodiscard]] Ipv6Addr addr_from_sockaddr6(const struct sockaddr_in6& addr);
// "pass_fragment", "nat_in", ... for a fwd_counter_id.
[[nodiscard]] std::string counter_name(std::uint32_t counter_id);

}  // namespace fwd::loader
