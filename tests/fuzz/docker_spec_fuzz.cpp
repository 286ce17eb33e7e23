// libFuzzer target for every Docker-syntax parser. Beyond "no crash" (ASan watches memory), it
// aborts when an accepted input breaks the parsers' promises, so the fuzzer reports it.
#include <fmt/format.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_require.h"
#include "fwd/ctl/docker_output.h"
#include "fwd/ctl/docker_spec.h"

namespace {

using namespace fwd;
using namespace fwd::ctl;
using fwd::test::accepted;
using fwd::test::require;

// One request as the single-port spec that must parse back to it.
std::string format_request(const PublishRequest& request) {
    const auto& hosts = request.host_ports;
    std::string host_ports;
    if (hosts.first != 0) {
        host_ports = hosts.first == hosts.last ? fmt::format("{}", hosts.first)
                                               : fmt::format("{}-{}", hosts.first, hosts.last);
    }
    const auto host_ip = request.host_addr ? request.host_addr->to_endpoint_string() : "";
    return fmt::format("{}:{}:{}", host_ip, host_ports, to_string(request.container));
}

void fuzz_publish(std::string_view input) {
    const auto requests = parse_publish_spec(input);
    if (!accepted(requests)) {
        return;
    }
    require(!requests->empty());
    const auto& first = requests->front();
    for (std::size_t i = 0; i < requests->size(); ++i) {
        const auto& request = (*requests)[i];
        require(request.container.port >= 1 && request.container.port == first.container.port + i);
        require(request.container.proto == first.container.proto);
        require(request.host_addr == first.host_addr);
        require(request.host_ports.first <= request.host_ports.last);
        require(requests->size() == 1 || request.host_ports.first == request.host_ports.last);
    }
    // The ends are enough: the middle follows from the checks above.
    for (const auto* request : {&first, &requests->back()}) {
        const auto again = parse_publish_spec(format_request(*request));
        require(again.has_value() && *again == std::vector<PublishRequest>{*request});
    }
}

void fuzz_expose(std::string_view input) {
    const auto ports = parse_expose_spec(input);
    if (!accepted(ports)) {
        return;
    }
    require(!ports->empty());
    for (std::size_t i = 0; i < ports->size(); ++i) {
        require((*ports)[i].port >= 1 && (*ports)[i].port == ports->front().port + i);
    }
    const auto again = parse_expose_spec(to_string(ports->back()));
    require(again.has_value() && *again == std::vector<ContainerPort>{ports->back()});
}

void fuzz_scalars(std::string_view input) {
    if (const auto var = parse_env(input); accepted(var)) {
        require(!var->key.empty() && var->key + '=' + var->value == input);
    }
    if (const auto port = parse_port_query(input); accepted(port)) {
        const auto again = parse_port_query(to_string(*port));
        require(port->port >= 1 && again.has_value() && *again == *port);
    }
    if (const auto link = parse_link(input); accepted(link)) {
        const auto again = parse_link(link->server + ':' + link->alias);
        require(again.has_value() && *again == *link);
    }
    if (const auto name = validate_name(input); accepted(name)) {
        require(parse_link(input).has_value());
    }
}

// Sorting needs a strict total order on distinct strings.
void fuzz_order(std::string_view input) {
    const std::string a(input.substr(0, input.size() / 2));
    const std::string b(input.substr(input.size() / 2));
    require(!natural_less(a, a));
    require(a == b || natural_less(a, b) != natural_less(b, a));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    fuzz_publish(input);
    fuzz_expose(input);
    fuzz_scalars(input);
    fuzz_order(input);
    return 0;
}
