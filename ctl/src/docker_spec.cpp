// Docker's `run` port syntax. A -p spec is cut into its parts exactly as go-connections
// nat.ParsePortSpec cuts it, so every spec means here what it means to Docker; the parts then
// go through the strict parsers of spec.h, so signs, whitespace and trailing garbage that Go's
// parsers would shrug off are refused. Messages start with the option and the quoted spec
// ("-p \"80:0\": ..."), because one command line can carry many of them.
#include "fwd/ctl/docker_spec.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstddef>
#include <string>

#include "spec_text.h"

namespace fwd::ctl {
namespace {

constexpr auto npos = std::string_view::npos;
constexpr std::size_t kMaxNameLength = 128;
constexpr std::string_view kPublishForm = "[[HOSTIP:][HOSTPORT[-END]]:]CTRPORT[-END][/PROTO]";
constexpr std::string_view kExposeForm = "PORT[-END][/PROTO]";
constexpr std::string_view kQueryForm = "PORT[/PROTO]";
constexpr std::string_view kLinkForm = "SERVER[:ALIAS]";

using detail::check_characters;
using detail::invalid;
using detail::quote;

// Puts the option and the whole spec in front of a message about one of its parts.
Error about(std::string_view option, std::string_view spec, std::string_view message) {
    return invalid(fmt::format("{} {}: {}", option, quote(spec), message));
}

struct PortsAndProto {
    PortRange ports;
    Proto proto = Proto::Tcp;
};

// "PORT[-END][/PROTO]", the container side of -p and all of --expose. The protocol is split off
// at the first '/', as nat.SplitProtoPort does; a second '/' then makes the protocol unknown.
// `role` names the part in messages where a spec has more than one port ("container port: ").
Result<PortsAndProto> parse_ports_and_proto(std::string_view text, std::string_view option,
                                            std::string_view spec, std::string_view form,
                                            std::string_view role) {
    const auto slash = text.find('/');
    const auto port_text = text.substr(0, slash);
    if (port_text.empty()) {
        return about(option, spec, fmt::format("no port specified (expected {})", form));
    }
    PortsAndProto result;
    if (slash != npos) {
        // Docker reads "80/" as tcp; an empty protocol is more likely a typo than a request.
        const auto proto = parse_proto(text.substr(slash + 1));
        if (!proto) {
            return about(option, spec, proto.error().message);
        }
        result.proto = *proto;
    }
    const auto ports = parse_port_range(port_text);
    if (!ports) {
        return about(option, spec, fmt::format("{}{}", role, ports.error().message));
    }
    result.ports = *ports;
    return result;
}

// --- -p ---------------------------------------------------------------------------------

// The three parts of a -p spec, split as nat.splitParts does: the last ':'-separated part is
// the container's, the one before it the host port, and everything before those (colons
// included) the host IP. So "[::1]:80:8080" has host IP "[::1]", and "::80" two empty parts.
struct PublishParts {
    std::string_view host_ip;
    std::string_view host_port;
    std::string_view container;
};

PublishParts split_parts(std::string_view spec) {
    const auto last = spec.rfind(':');
    if (last == npos) {
        return {{}, {}, spec};
    }
    const auto head = spec.substr(0, last);
    const auto container = spec.substr(last + 1);
    const auto second = head.rfind(':');
    if (second == npos) {
        return {{}, head, container};
    }
    return {head.substr(0, second), head.substr(second + 1), container};
}

// HOSTIP: empty means every address. Docker takes IPv6 bracketed or not, and strips brackets
// even around IPv4 ("[1.2.3.4]").
Result<std::optional<IpAddr>> parse_host_ip(std::string_view text, std::string_view spec) {
    constexpr std::string_view kOption = "-p";
    if (text.empty()) {
        return std::optional<IpAddr>{};
    }
    auto addr = text;
    if (text.front() == '[') {
        if (text.size() < 2 || text.back() != ']') {
            return about(
                kOption, spec,
                fmt::format("unbalanced \"[\" in host IP {} (expected [IPV6]:HOSTPORT:CTRPORT)",
                            quote(text)));
        }
        addr = text.substr(1, text.size() - 2);
    }
    const bool ipv6_text = addr.find(':') != npos;
    // Docker's splitting leaves any extra "ADDR:PORT:" in the host IP; say that, unless the
    // text is meant as IPv6 (brackets, or a zone id).
    if (ipv6_text && addr.data() == text.data() && addr.find('%') == npos &&
        !parse_ipv6(addr)) {
        return about(kOption, spec,
                     fmt::format("too many \":\" (host IP {} is not an address; expected {})",
                                 quote(text), kPublishForm));
    }
    auto ip = parse_ip(addr);
    if (!ip) {
        return about(kOption, spec, ip.error().message);
    }
    if (ip->is_v6() && ip->v6().is_v4_mapped()) {
        return about(kOption, spec,
                     fmt::format("host IP {} is IPv4-mapped IPv6: use the IPv4 address",
                                 quote(text)));
    }
    return std::optional<IpAddr>{*ip};
}

// True for "0", "00", ...: Docker reads them as port 0, "any port from the pool".
bool is_zero(std::string_view text) {
    return !text.empty() &&
           std::all_of(text.begin(), text.end(), [](char ch) { return ch == '0'; });
}

// HOSTPORT[-END]; {0,0} when empty or zero.
Result<PortRange> parse_host_ports(std::string_view text, std::string_view spec) {
    if (text.empty() || is_zero(text)) {
        return PortRange{0, 0};
    }
    auto ports = parse_port_range(text);
    if (!ports) {
        return about("-p", spec, "host port: " + ports.error().message);
    }
    return *ports;
}

std::string format_range(PortRange range) {
    return range.first == range.last ? fmt::format("{}", range.first)
                                     : fmt::format("{}-{}", range.first, range.last);
}

// A host range pairs port by port with an equally long container range; with a single
// container port it is the range to allocate that one port from. A given host port "0" counts
// as the one port 0, so it cannot go with a container range either (Docker's rules).
Result<void> check_ranges(std::string_view host_text, PortRange host, PortRange container,
                          std::string_view spec) {
    if (host_text.empty() || container.size() == 1 || host.size() == container.size()) {
        return {};
    }
    return about("-p", spec,
                 fmt::format("invalid ranges specified for container and host ports: {} and {}",
                             format_range(container), format_range(host)));
}

}  // namespace

std::string to_string(const ContainerPort& port) {
    return fmt::format("{}/{}", port.port, to_string(port.proto));
}

Result<std::vector<PublishRequest>> parse_publish_spec(std::string_view spec) {
    constexpr std::string_view kOption = "-p";
    if (auto ok = check_characters(kOption, spec); !ok) {
        return ok.error();
    }
    const auto parts = split_parts(spec);
    const auto container =
        parse_ports_and_proto(parts.container, kOption, spec, kPublishForm, "container port: ");
    if (!container) {
        return container.error();
    }
    const auto host_addr = parse_host_ip(parts.host_ip, spec);
    if (!host_addr) {
        return host_addr.error();
    }
    const auto host_ports = parse_host_ports(parts.host_port, spec);
    if (!host_ports) {
        return host_ports.error();
    }
    if (auto ok = check_ranges(parts.host_port, *host_ports, container->ports, spec); !ok) {
        return ok.error();
    }
    std::vector<PublishRequest> requests;
    requests.reserve(container->ports.size());
    for (std::uint32_t i = 0; i < container->ports.size(); ++i) {
        PublishRequest request{
            {static_cast<std::uint16_t>(container->ports.first + i), container->proto},
            *host_addr,
            *host_ports};
        if (host_ports->first != 0 && container->ports.size() > 1) {
            const auto port = static_cast<std::uint16_t>(host_ports->first + i);
            request.host_ports = PortRange{port, port};
        }
        requests.push_back(request);
    }
    return requests;
}

Result<std::vector<ContainerPort>> parse_expose_spec(std::string_view spec) {
    constexpr std::string_view kOption = "--expose";
    if (auto ok = check_characters(kOption, spec); !ok) {
        return ok.error();
    }
    if (spec.find(':') != npos) {
        return about(kOption, spec, fmt::format("invalid port format (expected {})", kExposeForm));
    }
    const auto parsed = parse_ports_and_proto(spec, kOption, spec, kExposeForm, "");
    if (!parsed) {
        return parsed.error();
    }
    std::vector<ContainerPort> ports;
    ports.reserve(parsed->ports.size());
    for (std::uint32_t port = parsed->ports.first; port <= parsed->ports.last; ++port) {
        ports.push_back({static_cast<std::uint16_t>(port), parsed->proto});
    }
    return ports;
}

// Messages name the key only: values are often secrets and must not end up in logs.
Result<EnvVar> parse_env(std::string_view text) {
    constexpr std::string_view kOption = "--env";
    const auto equals = text.find('=');
    if (equals == npos) {
        // Docker would copy the value of this variable from its own environment; fwdctl's
        // environment is not the container's, so that form is refused.
        return about(kOption, text, "expected K=V");
    }
    const auto key = text.substr(0, equals);
    const auto value = text.substr(equals + 1);
    const auto word = [](char ch) {
        return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
               ch == '_';
    };
    if (key.empty() || (key.front() >= '0' && key.front() <= '9') ||
        !std::all_of(key.begin(), key.end(), word)) {
        return invalid(fmt::format("--env: invalid variable name {} (use [A-Za-z_][A-Za-z0-9_]*)",
                                   quote(key)));
    }
    // link-env prints one variable per line; a newline in a value would forge another one.
    const auto control = [](char ch) {
        const auto byte = static_cast<unsigned char>(ch);
        return ch != '\t' && (byte < 0x20 || byte == 0x7f);
    };
    if (std::any_of(value.begin(), value.end(), control)) {
        return about(kOption, key, "value contains a control character");
    }
    return EnvVar{std::string(key), std::string(value)};
}

Result<ContainerPort> parse_port_query(std::string_view text) {
    constexpr std::string_view kOption = "port";
    if (auto ok = check_characters(kOption, text); !ok) {
        return ok.error();
    }
    const auto slash = text.find('/');
    const auto port_text = text.substr(0, slash);
    if (port_text.empty()) {
        return about(kOption, text, fmt::format("no port specified (expected {})", kQueryForm));
    }
    const auto ports = parse_port_range(port_text);
    if (!ports) {
        return about(kOption, text, ports.error().message);
    }
    if (ports->first != ports->last) {
        return about(kOption, text, fmt::format("expected a single port ({})", kQueryForm));
    }
    ContainerPort result{ports->first, Proto::Tcp};
    if (slash == npos) {
        return result;
    }
    const auto proto_text = text.substr(slash + 1);
    const auto proto = parse_proto(proto_text);
    if (!proto) {
        return about(kOption, text, proto.error().message);
    }
    // `docker port` looks "80/TCP" up verbatim and never finds it; say so instead.
    if (proto_text != to_string(*proto)) {
        return about(kOption, text,
                     fmt::format("protocol {} must be lower-case (tcp or udp)", quote(proto_text)));
    }
    result.proto = *proto;
    return result;
}

Result<LinkSpec> parse_link(std::string_view text) {
    constexpr std::string_view kOption = "--link";
    const auto colon = text.find(':');
    if (colon != npos && text.find(':', colon + 1) != npos) {
        return about(kOption, text, fmt::format("too many \":\" (expected {})", kLinkForm));
    }
    const auto server = text.substr(0, colon);
    const auto alias = colon == npos ? server : text.substr(colon + 1);
    for (const auto name : {server, alias}) {
        if (auto ok = validate_name(name); !ok) {
            return about(kOption, text, ok.error().message);
        }
    }
    return LinkSpec{std::string(server), std::string(alias)};
}

Result<void> validate_name(std::string_view name) {
    const auto valid_char = [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '.' || c == '-';
    };
    if (name.size() > kMaxNameLength) {
        return invalid(
            fmt::format("invalid name {}: longer than {} characters", quote(name), kMaxNameLength));
    }
    const bool ok = !name.empty() && valid_char(name[0]) && name[0] != '_' && name[0] != '.' &&
                    name[0] != '-' && std::all_of(name.begin(), name.end(), valid_char);
    if (!ok) {
        return invalid(fmt::format("invalid name {}: use [a-zA-Z0-9][a-zA-Z0-9_.-]*", quote(name)));
    }
    return {};
}

}  // namespace fwd::ctl
