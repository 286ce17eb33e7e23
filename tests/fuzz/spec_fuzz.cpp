// libFuzzer target for every spec parser. Beyond "no crash" (ASan watches memory), it
// aborts when an accepted spec breaks the parsers' promises, so the fuzzer reports it.
#include <fmt/format.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_require.h"
#include "fwd/ctl/spec.h"

namespace {

using namespace fwd;
using namespace fwd::ctl;
using fwd::test::accepted;
using fwd::test::require;
using fwd::test::require_usage_error;

std::string format_ports(PortRange ports) {
    return fmt::format("{}-{}", ports.first, ports.last);
}

void fuzz_host(std::string_view input) {
    const auto spec = parse_host_spec(input);
    if (!accepted(spec)) {
        return;
    }
    require(spec->ports.first <= spec->ports.last);
    const auto addr = spec->addr ? spec->addr->to_endpoint_string() + ":" : std::string();
    const auto text = fmt::format("{}{}/{}", addr,
                                  spec->wants_allocation() ? "0" : format_ports(spec->ports),
                                  to_string(spec->proto));
    const auto again = parse_host_spec(text);
    require(again.has_value() && *again == *spec);
}

void fuzz_container(std::string_view input) {
    const auto spec = parse_container_spec(input);
    if (!accepted(spec)) {
        return;
    }
    require(spec->ports.first >= 1 && spec->ports.first <= spec->ports.last);
    require(spec->addr.is_unicast());
    const auto again = parse_container_spec(
        fmt::format("{}:{}", spec->addr.to_endpoint_string(), format_ports(spec->ports)));
    require(again.has_value() && *again == *spec);

    if (const auto host = parse_host_spec(input); host) {
        const auto pair = check_spec_pair(*host, *spec);
        if (!pair) {
            require_usage_error(pair);
        }
    }
}

void fuzz_scalars(std::string_view input) {
    if (const auto addr = parse_ipv4(input); accepted(addr)) {
        require(addr->to_string() == input);  // only the canonical dotted quad is accepted
    }
    if (const auto addr = parse_ipv6(input); accepted(addr)) {
        const auto again = parse_ipv6(addr->to_string());  // RFC 5952 text names the same address
        require(again.has_value() && *again == *addr);
    }
    if (const auto addr = parse_ip(input); accepted(addr)) {
        const auto again = parse_ip(addr->to_string());
        require(again.has_value() && *again == *addr);
    }
    if (const auto cidr = parse_cidr(input); accepted(cidr)) {
        require(cidr->prefix_len <= (cidr->addr.is_v4() ? 32 : 128));
        if (cidr->addr.is_v4()) {
            const std::uint32_t host_bits =
                cidr->prefix_len == 32 ? 0 : 0xffffffffU >> cidr->prefix_len;
            require((cidr->addr.v4().value() & host_bits) == 0);  // refused, never cleared
        }
        const auto again = parse_cidr(cidr->to_string());
        require(again.has_value() && *again == *cidr);
    }
    if (const auto proto = parse_proto(input); accepted(proto)) {
        require(input.size() == 3);
    }
    for (const auto& ports : {parse_port_range(input), parse_pool_range(input)}) {
        if (accepted(ports)) {
            require(ports->first >= 1 && ports->first <= ports->last);
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    fuzz_scalars(input);
    fuzz_host(input);
    fuzz_container(input);
    return 0;
}
