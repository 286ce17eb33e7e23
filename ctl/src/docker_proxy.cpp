#include "fwd/ctl/docker_proxy.h"

#include <fmt/format.h>

#include <map>
#include <optional>
#include <string_view>

#include "fwd/ctl/spec.h"
#include "spec_text.h"

namespace fwd::ctl {
namespace {

constexpr std::string_view kKnownFlags[] = {"proto", "host-ip", "host-port", "container-ip",
                                            "container-port"};

bool known_flag(std::string_view name) {
    for (const auto flag : kKnownFlags)
        if (flag == name) return true;
    return false;
}

// "-name" or "--name" without its dashes; nullopt for something that is no flag.
std::optional<std::string_view> flag_name(std::string_view arg) {
    if (arg.size() < 2 || arg[0] != '-') return std::nullopt;
    arg.remove_prefix(arg[1] == '-' ? 2 : 1);
    if (arg.empty()) return std::nullopt;
    return arg;
}

// Docker's five values, by flag name.
Result<std::map<std::string, std::string>> collect_flags(const std::vector<std::string>& args) {
    std::map<std::string, std::string> values;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const auto name = flag_name(args[i]);
        if (!name) return detail::invalid("unexpected argument " + detail::quote(args[i]));
        const auto equals = name->find('=');
        const std::string key(name->substr(0, equals));
        if (!known_flag(key)) continue;  // a newer dockerd's switch or -flag=value
        std::string value;
        if (equals != std::string_view::npos) {
            value = std::string(name->substr(equals + 1));
        } else if (i + 1 < args.size()) {
            value = args[++i];
        } else {
            return detail::invalid("flag -" + key + " needs a value");
        }
        values[key] = value;
    }
    for (const auto flag : kKnownFlags)
        if (values.count(std::string(flag)) == 0)
            return detail::invalid(fmt::format("missing -{}", flag));
    return values;
}

Result<std::uint16_t> port_value(const std::string& flag, const std::string& text) {
    auto range = parse_port_range(text);
    if (!range || range->first != range->last)
        return detail::invalid(fmt::format("-{} {}: not a port 1-65535", flag, detail::quote(text)));
    return range->first;
}

}  // namespace

Result<ProxyRequest> parse_proxy_args(const std::vector<std::string>& args) {
    auto values = collect_flags(args);
    if (!values) return values.error();
    ProxyRequest request;
    auto proto = parse_proto(values->at("proto"));
    if (!proto) return proto.error();
    request.proto = *proto;
    auto host_ip = parse_ip(values->at("host-ip"));
    if (!host_ip) return host_ip.error();
    request.host_ip = *host_ip;
    auto container_ip = parse_ip(values->at("container-ip"));
    if (!container_ip) return container_ip.error();
    request.container_ip = *container_ip;
    if (host_ip->family() != container_ip->family())
        return detail::invalid(fmt::format("-host-ip {} and -container-ip {} are of different "
                                           "families (fwd does not translate between IPv4 and "
                                           "IPv6)",
                                           host_ip->to_string(), container_ip->to_string()));
    auto host_port = port_value("host-port", values->at("host-port"));
    if (!host_port) return host_port.error();
    request.host_port = *host_port;
    auto container_port = port_value("container-port", values->at("container-port"));
    if (!container_port) return container_port.error();
    request.container_port = *container_port;
    return request;
}

std::string proxy_mapping_name(long pid) { return fmt::format("docker-proxy.{}", pid); }

}  // namespace fwd::ctl
