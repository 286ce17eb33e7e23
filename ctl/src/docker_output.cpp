// Output that scripts written for Docker parse: `docker port` lines and the `--link`
// environment. Both follow Docker's code rather than its documentation, quirks included
// (docker/cli container/port.go, moby daemon/links/links.go, fvbommel/sortorder).
#include "fwd/ctl/docker_output.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <utility>

namespace fwd::ctl {
namespace {

bool is_digit(char ch) {
    return ch >= '0' && ch <= '9';
}

// Index of the first byte at or after `from` that fails `pred`.
template <typename Pred>
std::size_t skip(const std::string& text, std::size_t from, Pred pred) {
    while (from < text.size() && pred(text[from])) {
        ++from;
    }
    return from;
}

// "HOSTIP:HOSTPORT" as Go's net.JoinHostPort writes it: IPv6 in brackets ("[::]:8080").
std::string host_endpoint(const Mapping& mapping) {
    return fmt::format("{}:{}", mapping.host_addr.to_endpoint_string(), mapping.host_port);
}

void sort_naturally(std::vector<std::string>& lines) {
    std::sort(lines.begin(), lines.end(), natural_less);
}

// Docker's withTCPPriority: tcp before every other protocol, then by port; other protocols
// by name, then by port.
bool tcp_first(const ContainerPort& a, const ContainerPort& b) {
    if (a.proto == b.proto) {
        return a.port < b.port;
    }
    if (a.proto == Proto::Tcp || b.proto == Proto::Tcp) {
        return a.proto == Proto::Tcp;
    }
    return to_string(a.proto) < to_string(b.proto);
}

std::string upper(std::string text) {
    for (auto& ch : text) {
        if (ch >= 'a' && ch <= 'z') {
            ch = static_cast<char>(ch - 'a' + 'A');
        }
    }
    return text;
}

// Docker's variable prefix: the alias upper-cased, '-' (valid in names, not in variables) to '_'.
std::string env_alias(const std::string& alias) {
    auto out = upper(alias);
    std::replace(out.begin(), out.end(), '-', '_');
    return out;
}

// Builds ToEnv's lines; one instance per call, so the loop body reads like Docker's.
class LinkEnvWriter {
public:
    LinkEnvWriter(std::string alias, std::string ip)
        : alias_(std::move(alias)), ip_(std::move(ip)) {}

    // ALIAS_PORT_<p>_<PROTO>, the prefix of every per-port and range variable.
    [[nodiscard]] std::string prefix(const ContainerPort& port) const {
        return fmt::format("{}_PORT_{}_{}", alias_, port.port, upper(to_string(port.proto)));
    }
    [[nodiscard]] std::string url(const ContainerPort& port) const {
        return fmt::format("{}://{}:{}", to_string(port.proto), ip_, port.port);
    }

    void default_port(const ContainerPort& port) {
        lines_.push_back(fmt::format("{}_PORT={}", alias_, url(port)));
    }

    void port(const ContainerPort& port) {
        const auto pre = prefix(port);
        lines_.push_back(fmt::format("{}={}", pre, url(port)));
        lines_.push_back(fmt::format("{}_ADDR={}", pre, ip_));
        lines_.push_back(fmt::format("{}_PORT={}", pre, port.port));
        lines_.push_back(fmt::format("{}_PROTO={}", pre, to_string(port.proto)));
    }

    void range(const ContainerPort& start, const ContainerPort& end) {
        const auto pre = prefix(start);
        lines_.push_back(fmt::format("{}_START={}", pre, url(start)));
        lines_.push_back(fmt::format("{}_PORT_START={}", pre, start.port));
        lines_.push_back(fmt::format("{}_END={}", pre, url(end)));
        lines_.push_back(fmt::format("{}_PORT_END={}", pre, end.port));
    }

    void add(std::string line) { lines_.push_back(std::move(line)); }
    [[nodiscard]] const std::string& alias() const { return alias_; }
    std::vector<std::string> take() { return std::move(lines_); }

private:
    std::string alias_;
    std::string ip_;
    std::vector<std::string> lines_;
};

// The port loop of ToEnv, kept in Docker's shape: a run of consecutive ports gets its
// _START/_END lines only once the port after it (or the last port) has had its own four lines.
void write_ports(LinkEnvWriter& out, const std::vector<ContainerPort>& ports) {
    ContainerPort start;
    ContainerPort end;
    for (std::size_t i = 0; i < ports.size(); ++i) {
        const auto& p = ports[i];
        if (i == 0) {
            start = end = p;
            out.default_port(p);
        }
        out.port(p);
        if (std::uint32_t{p.port} == std::uint32_t{end.port} + 1 && p.proto == end.proto) {
            end = p;
            if (i + 1 < ports.size()) {
                continue;
            }
        }
        if (end != start) {
            out.range(start, end);
        }
        start = end = p;
    }
}

}  // namespace

std::vector<std::string> port_lines(const std::vector<Mapping>& mappings) {
    std::vector<std::string> lines;
    lines.reserve(mappings.size());
    for (const auto& mapping : mappings) {
        const ContainerPort port{mapping.container_port, mapping.proto};
        lines.push_back(fmt::format("{} -> {}", to_string(port), host_endpoint(mapping)));
    }
    sort_naturally(lines);
    return lines;
}

std::vector<std::string> port_lines_for(const std::vector<Mapping>& mappings,
                                        const ContainerPort& port) {
    std::vector<std::string> lines;
    for (const auto& mapping : mappings) {
        if (mapping.container_port == port.port && mapping.proto == port.proto) {
            lines.push_back(host_endpoint(mapping));
        }
    }
    sort_naturally(lines);
    return lines;
}

// sortorder.NaturalLess, byte for byte: where one string has a digit and the other does not,
// the digit sorts first (its non-digit run ended earlier); digit runs compare by value, then
// fewer leading zeros first; a string that is a prefix of the other sorts first.
bool natural_less(const std::string& a, const std::string& b) {
    std::size_t i = 0;
    std::size_t j = 0;
    while (i < a.size() && j < b.size()) {
        const bool digit_a = is_digit(a[i]);
        const bool digit_b = is_digit(b[j]);
        if (digit_a != digit_b) {
            return digit_a;
        }
        if (!digit_a) {
            if (a[i] != b[j]) {
                return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[j]);
            }
            ++i;
            ++j;
            continue;
        }
        const auto nonzero_a = skip(a, i, [](char ch) { return ch == '0'; });
        const auto nonzero_b = skip(b, j, [](char ch) { return ch == '0'; });
        i = skip(a, nonzero_a, is_digit);
        j = skip(b, nonzero_b, is_digit);
        // Without leading zeros, a longer number is a larger one; equally long ones compare
        // as text.
        const auto length_a = i - nonzero_a;
        const auto length_b = j - nonzero_b;
        if (length_a != length_b) {
            return length_a < length_b;
        }
        const auto cmp = a.compare(nonzero_a, length_a, b, nonzero_b, length_b);
        if (cmp != 0) {
            return cmp < 0;
        }
        // Everything before this run was equal, so the later non-zero start has more zeros.
        if (nonzero_a != nonzero_b) {
            return nonzero_a < nonzero_b;
        }
    }
    return a.size() < b.size();
}

std::vector<std::string> link_env(const std::string& client, const std::string& alias,
                                  const LinkServer& server) {
    // Docker's exposed ports are a set; duplicates here would print their lines twice.
    auto ports = server.exposed;
    std::sort(ports.begin(), ports.end(), tcp_first);
    ports.erase(std::unique(ports.begin(), ports.end()), ports.end());

    LinkEnvWriter out(env_alias(alias), server.ip ? server.ip->to_string() : "");
    write_ports(out, ports);
    out.add(fmt::format("{}_NAME=/{}/{}", out.alias(), client, alias));
    for (const auto& var : server.env) {
        // Docker skips these two: image builds set them and they mean nothing to a client.
        if (var.key == "HOME" || var.key == "PATH") {
            continue;
        }
        out.add(fmt::format("{}_ENV_{}={}", out.alias(), var.key, var.value));
    }
    return out.take();
}

}  // namespace fwd::ctl
