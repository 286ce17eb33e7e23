// libFuzzer target for every spec parser. Beyond "no crash" (ASan watches memory), it
// aborts when an accepted spec breaks the parsers' promises, so the fuzzer reports it.
#include <fmt/format.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "fwd/ctl/spec.h"

namespace {

using namespace fwd;
using namespace fwd::ctl;

void require(bool condition) {
    if (!condition) {
        std::abort();
    }
}

std::string format_ports(PortRange ports) {
    return fmt::format("{}-{}", ports.first, ports.last);
}

template <typename T>
void require_usage_error(const Result<T>& result) {
    require(result.error().code == ErrorCode::InvalidInput);
    require(!result.error().message.empty());
    require(result.error().message.find('\n') == std::string::npos);
}

void fuzz_host(std::string_view input) {
    const auto spec = parse_host_spec(input);
    if (!spec) {
        require_usage_error(spec);
        return;
    }
    require(spec->ports.first <= spec->ports.last);
    const auto text = fmt::format("{}:{}/{}", spec->addr.to_string(),
                                  spec->wants_allocation() ? "0" : format_ports(spec->ports),
                                  to_string(spec->proto));
    const auto again = parse_host_spec(text);
    require(again.has_value() && *again == *spec);
}

void fuzz_container(std::string_view input) {
    const auto spec = parse_container_spec(input);
    if (!spec) {
        require_usage_error(spec);
        return;
    }
    require(spec->ports.first >= 1 && spec->ports.first <= spec->ports.last);
    const auto again = parse_container_spec(
        fmt::format("{}:{}", spec->addr.to_string(), format_ports(spec->ports)));
    require(again.has_value() && *again == *spec);

    if (const auto host = parse_host_spec(input); host) {
        const auto pair = check_spec_pair(*host, *spec);
        if (!pair) {
            require_usage_error(pair);
        }
    }
}

void fuzz_scalars(std::string_view input) {
    if (const auto addr = parse_ipv4(input); addr) {
        require(addr->to_string() == input);  // only the canonical dotted quad is accepted
    } else {
        require_usage_error(addr);
    }
    if (const auto proto = parse_proto(input); proto) {
        require(input.size() == 3);
    } else {
        require_usage_error(proto);
    }
    for (const auto& ports : {parse_port_range(input), parse_pool_range(input)}) {
        if (ports) {
            require(ports->first >= 1 && ports->first <= ports->last);
        } else {
            require_usage_error(ports);
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
