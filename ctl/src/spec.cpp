// The parsers are strict on purpose: an accepted spec means exactly one thing, so signs,
// whitespace, leading-zero octets and trailing garbage are refused instead of guessed at.
#include "fwd/ctl/spec.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstddef>
#include <limits>
#include <optional>
#include <string>
#include <system_error>

#include "spec_text.h"

namespace fwd::ctl {
namespace {

constexpr std::uint32_t kMaxPort = 65535;
constexpr std::string_view kHostForm = "[ADDR:]PORT[-END][/PROTO]";
constexpr std::string_view kContainerForm = "ADDR:PORT[-END]";
constexpr auto npos = std::string_view::npos;

using detail::check_characters;
using detail::invalid;
using detail::quote;

// " in \"WHOLE\"" when the failing part is only a piece of what the user typed.
std::string where(std::string_view part, std::string_view whole) {
    if (part.data() == whole.data() && part.size() == whole.size()) {
        return {};
    }
    return fmt::format(" in {}", quote(whole));
}

// Decimal digits only. Values past uint32 saturate, so an overflow can never wrap back into
// a valid range ("4294967376" is not port 80).
std::optional<std::uint32_t> parse_decimal(std::string_view text) {
    if (text.empty() ||
        !std::all_of(text.begin(), text.end(), [](char ch) { return ch >= '0' && ch <= '9'; })) {
        return std::nullopt;
    }
    std::uint32_t value = 0;
    const auto result = std::from_chars(text.data(), text.data() + text.size(), value);
    if (result.ec == std::errc::result_out_of_range) {
        return std::numeric_limits<std::uint32_t>::max();
    }
    return value;
}

// One dotted-quad octet: 1-3 digits, no leading zero (inet_aton reads "010" as octal 8).
std::optional<std::uint8_t> parse_octet(std::string_view part) {
    if (part.empty() || part.size() > 3 || (part.size() > 1 && part[0] == '0')) {
        return std::nullopt;
    }
    const auto value = parse_decimal(part);
    if (!value || *value > 255) {
        return std::nullopt;
    }
    return static_cast<std::uint8_t>(*value);
}

Result<Ipv4Addr> parse_ipv4_in(std::string_view text, std::string_view whole) {
    if (text.starts_with('[') || text.find(':') != npos) {
        return invalid(fmt::format("{}{} is not an IPv4 address", quote(text), where(text, whole)));
    }
    const auto bad = [&] {
        return invalid(fmt::format(
            "invalid IPv4 address {}{}: must be four decimal octets 0-255 without leading zeros",
            quote(text), where(text, whole)));
    };
    std::array<std::uint8_t, 4> octets{};
    std::size_t count = 0;
    std::size_t start = 0;
    for (;;) {
        const auto dot = text.find('.', start);
        const auto part = text.substr(start, dot == npos ? npos : dot - start);
        const auto octet = parse_octet(part);
        if (!octet || count == octets.size()) {
            return bad();
        }
        octets[count++] = *octet;
        if (dot == npos) {
            break;
        }
        start = dot + 1;
    }
    if (count != octets.size()) {
        return bad();
    }
    return Ipv4Addr::from_octets(octets[0], octets[1], octets[2], octets[3]);
}

// A zone id names an interface; a mapping serves every interface it is attached to.
Result<Ipv6Addr> parse_ipv6_in(std::string_view text, std::string_view whole) {
    if (text.find('%') != npos) {
        return invalid(fmt::format("IPv6 address {}{} has a zone id: zone ids are not supported",
                                   quote(text), where(text, whole)));
    }
    if (text.starts_with('[') || text.ends_with(']')) {
        return invalid(fmt::format("invalid IPv6 address {}{}: write it without brackets here",
                                   quote(text), where(text, whole)));
    }
    Ipv6Addr::Bytes bytes{};
    // inet_pton wants a C string; longer text than any IPv6 form cannot be one.
    if (text.size() > INET6_ADDRSTRLEN ||
        inet_pton(AF_INET6, std::string(text).c_str(), bytes.data()) != 1) {
        return invalid(
            fmt::format("invalid IPv6 address {}{}", quote(text), where(text, whole)));
    }
    return Ipv6Addr(bytes);
}

// IPv6 when the text holds a ':', as no IPv4 form does.
Result<IpAddr> parse_ip_in(std::string_view text, std::string_view whole) {
    if (text.find(':') != npos) {
        auto v6 = parse_ipv6_in(text, whole);
        if (!v6) return v6.error();
        return IpAddr(*v6);
    }
    auto v4 = parse_ipv4_in(text, whole);
    if (!v4) return v4.error();
    return IpAddr(*v4);
}

// The address in front of ":PORT": IPv4, or IPv6 in brackets ("[fd00::2]"). `text` is what
// stands before that ':'.
Result<IpAddr> parse_endpoint_addr(std::string_view text, std::string_view whole) {
    if (!text.starts_with('[')) {
        auto v4 = parse_ipv4_in(text, whole);
        if (!v4) return v4.error();
        return IpAddr(*v4);
    }
    const auto inner = text.substr(1, text.size() - 2);  // the caller found the ']'
    if (inner.find(':') == npos) {
        return invalid(fmt::format("{}{}: only IPv6 addresses go in brackets", quote(text),
                                   where(text, whole)));
    }
    auto v6 = parse_ipv6_in(inner, whole);
    if (!v6) return v6.error();
    return IpAddr(*v6);
}

// "ADDR:PORTS" cut at the ':' that ends the address: after the ']' of "[IPv6]", else at the
// only ':' there may be. `addr` is unset when there is no ':', empty in ":PORTS".
struct EndpointParts {
    std::optional<std::string_view> addr;
    std::string_view ports;
};

// `name` is "host spec" or "container spec", `form` its syntax.
Result<EndpointParts> split_endpoint(std::string_view body, std::string_view whole,
                                     std::string_view name, std::string_view form) {
    if (body.starts_with('[')) {
        const auto close = body.find(']');
        if (close == npos) {
            return invalid(fmt::format(R"(missing "]" after the IPv6 address in {})", quote(whole)));
        }
        const auto rest = body.substr(close + 1);
        if (!rest.starts_with(':')) {
            return invalid(fmt::format(R"(expected ":PORT" after "]" in {} (expected {}))",
                                       quote(whole), form));
        }
        return EndpointParts{body.substr(0, close + 1), rest.substr(1)};
    }
    const auto colon = body.find(':');
    if (colon == npos) {
        return EndpointParts{std::nullopt, body};
    }
    if (body.find(':', colon + 1) != npos) {
        return invalid(fmt::format("invalid {} {}: too many \":\" (expected {}; an IPv6 "
                                   "address goes in brackets)",
                                   name, quote(whole), form));
    }
    return EndpointParts{body.substr(0, colon), body.substr(colon + 1)};
}

Result<std::uint16_t> parse_port(std::string_view text, std::string_view whole) {
    if (text.empty()) {
        return invalid(fmt::format("missing port in {}", quote(whole)));
    }
    const auto value = parse_decimal(text);
    if (!value) {
        return invalid(fmt::format("invalid port {}{}: not a decimal number", quote(text),
                                   where(text, whole)));
    }
    if (*value < 1 || *value > kMaxPort) {
        return invalid(fmt::format("invalid port {}{}: must be 1-{}", quote(text),
                                   where(text, whole), kMaxPort));
    }
    return static_cast<std::uint16_t>(*value);
}

Result<PortRange> parse_range_in(std::string_view text, std::string_view whole) {
    const auto dash = text.find('-');
    if (dash == npos) {
        auto port = parse_port(text, whole);
        if (!port) {
            return port.error();
        }
        return PortRange{*port, *port};
    }
    if (text.find('-', dash + 1) != npos) {
        return invalid(fmt::format("invalid port range {}{}: more than one \"-\"", quote(text),
                                   where(text, whole)));
    }
    auto first = parse_port(text.substr(0, dash), whole);
    if (!first) {
        return first.error();
    }
    auto last = parse_port(text.substr(dash + 1), whole);
    if (!last) {
        return last.error();
    }
    if (*last < *first) {
        return invalid(fmt::format("invalid port range {}{}: end {} is below start {}", quote(text),
                                   where(text, whole), *last, *first));
    }
    return PortRange{*first, *last};
}

// A lone 0 asks for a port from the pool; inside a range 0 is as invalid as anywhere else.
Result<PortRange> parse_host_ports(std::string_view text, std::string_view whole) {
    if (text.find('-') == npos && parse_decimal(text) == 0U) {
        return PortRange{0, 0};
    }
    return parse_range_in(text, whole);
}

bool iequals(std::string_view a, std::string_view b) {
    const auto lower = [](char ch) {
        return ch >= 'A' && ch <= 'Z' ? static_cast<char>(ch - 'A' + 'a') : ch;
    };
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                              [&](char x, char y) { return lower(x) == lower(y); });
}

std::string format_range(PortRange range) {
    return range.first == range.last ? fmt::format("{}", range.first)
                                     : fmt::format("{}-{}", range.first, range.last);
}

std::string count_ports(std::uint32_t count) {
    return fmt::format("{} port{}", count, count == 1 ? "" : "s");
}

// The first checks of a host or container spec: not empty, only spec characters.
// `name` is "host spec" or "container spec", `form` its syntax.
Result<void> check_spec_text(std::string_view text, std::string_view name, std::string_view form) {
    if (text.empty()) {
        return invalid(fmt::format("empty {} (expected {})", name, form));
    }
    return check_characters(fmt::format("invalid {}", name), text);
}

}  // namespace

Result<Ipv4Addr> parse_ipv4(std::string_view text) {
    if (auto ok = check_characters("invalid IPv4 address", text); !ok) {
        return ok.error();
    }
    return parse_ipv4_in(text, text);
}

Result<Ipv6Addr> parse_ipv6(std::string_view text) {
    if (auto ok = check_characters("invalid IPv6 address", text); !ok) {
        return ok.error();
    }
    return parse_ipv6_in(text, text);
}

Result<IpAddr> parse_ip(std::string_view text) {
    if (auto ok = check_characters("invalid address", text); !ok) {
        return ok.error();
    }
    return parse_ip_in(text, text);
}

namespace {

// The network of `addr` with the first `prefix_len` bits kept and the rest cleared.
IpAddr network_of(IpAddr addr, std::uint8_t prefix_len) {
    if (addr.is_v4()) {
        const std::uint32_t host_bits = prefix_len >= 32 ? 0 : 0xffffffffU >> prefix_len;
        return Ipv4Addr(addr.v4().value() & ~host_bits);
    }
    auto bytes = addr.v6().bytes();
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        const int kept = std::clamp(static_cast<int>(prefix_len) - static_cast<int>(i) * 8, 0, 8);
        bytes[i] &= static_cast<std::uint8_t>(0xff00U >> kept);
    }
    return Ipv6Addr(bytes);
}

}  // namespace

Result<IpCidr> parse_cidr(std::string_view text) {
    if (auto ok = check_characters("invalid --allow network", text); !ok) return ok.error();
    const auto slash = text.find('/');
    auto addr = parse_ip_in(text.substr(0, slash), text);
    if (!addr) return addr.error();
    const unsigned max_len = addr->is_v4() ? 32 : 128;
    IpCidr cidr{*addr, static_cast<std::uint8_t>(max_len)};
    if (slash == npos) return cidr;
    const auto len_text = text.substr(slash + 1);
    const auto len = parse_decimal(len_text);
    // Decimal without leading zeros, like the dotted quad's octets.
    const bool leading_zero = len_text.size() > 1 && len_text[0] == '0';
    if (len_text.empty() || len_text.size() > 3 || leading_zero || !len || *len > max_len)
        return invalid(fmt::format("invalid --allow network {}: the prefix length after '/' must "
                                   "be 0-{}",
                                   quote(text), max_len));
    cidr.prefix_len = static_cast<std::uint8_t>(*len);
    const IpAddr network = network_of(*addr, cidr.prefix_len);
    if (network != *addr)
        return invalid(fmt::format("invalid --allow network {}: host bits are set (did you mean "
                                   "{}?)",
                                   quote(text), IpCidr{network, cidr.prefix_len}.to_string()));
    return cidr;
}

Result<std::vector<IpCidr>> parse_allow_list(const std::vector<std::string>& texts) {
    std::vector<IpCidr> allow;
    for (const auto& text : texts) {
        auto cidr = parse_cidr(text);
        if (!cidr) return cidr.error();
        allow.push_back(*cidr);
    }
    std::sort(allow.begin(), allow.end());
    allow.erase(std::unique(allow.begin(), allow.end()), allow.end());
    return allow;
}

Result<loader::AttachMode> parse_attach_mode(std::string_view text) {
    if (text == "tc") return loader::AttachMode::Tc;
    if (text == "xdp") return loader::AttachMode::Xdp;
    return invalid(fmt::format("unknown mode {} (use tc or xdp)", quote(text)));
}

Result<bool> parse_on_off(std::string_view text) {
    if (text == "on") return true;
    if (text == "off") return false;
    return invalid(fmt::format("{} is neither on nor off", quote(text)));
}

namespace {

// A map size option's value: decimal digits only, within bounds.
Result<std::uint32_t> parse_map_size(std::string_view option, std::string_view text,
                                     loader::SizeBounds bounds) {
    const auto value = parse_decimal(text);
    if (!value || !bounds.contains(*value)) {
        return invalid(fmt::format("invalid {} {}: must be a number from {} to {}", option,
                                   quote(text), bounds.min, bounds.max));
    }
    return *value;
}

}  // namespace

Result<std::uint32_t> parse_max_mappings(std::string_view text) {
    return parse_map_size("--max-mappings", text, loader::max_mappings_bounds());
}

Result<std::uint32_t> parse_max_flows(std::string_view text) {
    return parse_map_size("--max-flows", text, loader::max_flows_bounds());
}

Result<Proto> parse_proto(std::string_view text) {
    if (text.empty()) {
        return invalid("missing protocol (use tcp or udp)");
    }
    if (iequals(text, "tcp")) {
        return Proto::Tcp;
    }
    if (iequals(text, "udp")) {
        return Proto::Udp;
    }
    if (iequals(text, "sctp")) {
        return invalid(fmt::format("protocol {} is not supported (use tcp or udp)", quote(text)));
    }
    return invalid(fmt::format("unknown protocol {} (use tcp or udp)", quote(text)));
}

Result<PortRange> parse_port_range(std::string_view text) {
    if (text.empty()) {
        return invalid("empty port range (expected PORT or PORT-END)");
    }
    if (auto ok = check_characters("invalid port range", text); !ok) {
        return ok.error();
    }
    return parse_range_in(text, text);
}

Result<HostSpec> parse_host_spec(std::string_view text) {
    if (auto ok = check_spec_text(text, "host spec", kHostForm); !ok) {
        return ok.error();
    }
    HostSpec spec;
    auto body = text;
    if (const auto slash = text.find('/'); slash != npos) {
        const auto proto_text = text.substr(slash + 1);
        if (proto_text.find('/') != npos) {
            return invalid(fmt::format("invalid host spec {}: more than one \"/\"", quote(text)));
        }
        if (proto_text.empty()) {
            return invalid(fmt::format("missing protocol after \"/\" in {}", quote(text)));
        }
        auto proto = parse_proto(proto_text);
        if (!proto) {
            return proto.error();
        }
        spec.proto = *proto;
        body = text.substr(0, slash);
    }
    auto parts = split_endpoint(body, text, "host spec", kHostForm);
    if (!parts) {
        return parts.error();
    }
    const auto port_text = parts->ports;
    if (parts->addr) {
        if (parts->addr->empty()) {
            return invalid(fmt::format("missing address before \":\" in {}", quote(text)));
        }
        auto addr = parse_endpoint_addr(*parts->addr, text);
        if (!addr) {
            return addr.error();
        }
        // IPv4 packets never carry a mapped address: such a mapping would match nothing.
        if (addr->is_v6() && addr->v6().is_v4_mapped()) {
            return invalid(fmt::format("host address {} is IPv4-mapped IPv6: use the IPv4 "
                                       "address",
                                       quote(*parts->addr)));
        }
        spec.addr = *addr;
    }
    if (port_text.empty()) {
        return invalid(fmt::format("missing port in {}", quote(text)));
    }
    auto ports = parse_host_ports(port_text, text);
    if (!ports) {
        return ports.error();
    }
    spec.ports = *ports;
    return spec;
}

Result<ContainerSpec> parse_container_spec(std::string_view text) {
    if (auto ok = check_spec_text(text, "container spec", kContainerForm); !ok) {
        return ok.error();
    }
    if (text.find('/') != npos) {
        return invalid(fmt::format("container spec {} takes no protocol (the host spec sets it)",
                                   quote(text)));
    }
    auto parts = split_endpoint(text, text, "container spec", kContainerForm);
    if (!parts) {
        return parts.error();
    }
    if (!parts->addr || parts->addr->empty()) {
        return invalid(fmt::format("missing container address in {} (expected {})", quote(text),
                                   kContainerForm));
    }
    auto addr = parse_endpoint_addr(*parts->addr, text);
    if (!addr) {
        return addr.error();
    }
    if (!addr->is_unicast()) {
        return invalid(fmt::format("container address {} must be a unicast address",
                                   quote(*parts->addr)));
    }
    auto ports = parse_range_in(parts->ports, text);
    if (!ports) {
        return ports.error();
    }
    return ContainerSpec{*addr, *ports};
}

Result<PortRange> parse_pool_range(std::string_view text) {
    if (text.empty()) {
        return invalid("empty port range (expected A-B)");
    }
    if (auto ok = check_characters("invalid port range", text); !ok) {
        return ok.error();
    }
    if (text.find('-') == npos) {
        return invalid(fmt::format("invalid port range {}: expected A-B", quote(text)));
    }
    return parse_range_in(text, text);
}

Result<void> check_spec_pair(const HostSpec& host, const ContainerSpec& container) {
    if (host.addr && host.addr->family() != container.addr.family()) {
        return invalid(fmt::format("host address {} and container address {} are of different "
                                   "families (fwd does not translate between IPv4 and IPv6)",
                                   host.addr->to_string(), container.addr.to_string()));
    }
    if (host.wants_allocation()) {
        if (container.ports.size() != 1) {
            return invalid(
                fmt::format("host port 0 (allocate from the pool) needs a single container port, "
                            "not the range {}",
                            format_range(container.ports)));
        }
        return {};
    }
    if (host.ports.size() != container.ports.size()) {
        return invalid(
            fmt::format("host ports {} ({}) and container ports {} ({}) must be the same size",
                        format_range(host.ports), count_ports(host.ports.size()),
                        format_range(container.ports), count_ports(container.ports.size())));
    }
    return {};
}

}  // namespace fwd::ctl
