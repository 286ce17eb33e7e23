// A bounded, deterministic fuzz smoke test of the Docker-syntax parsers: fixed seed, fixed
// count, so it runs in every unit build. The libFuzzer target (tests/fuzz/docker_spec_fuzz.cpp)
// explores further; this one keeps the invariants checked without a special toolchain.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fwd/ctl/docker_output.h"
#include "fwd/ctl/docker_spec.h"
#include "support/random_text.h"
#include "support/spec_test_support.h"

namespace fwd::ctl {
namespace {

constexpr int kIterations = 100000;
constexpr std::uint32_t kSeed = 20240612;

using test::format_endpoint;
using test::format_ports;
using test::format_proto;
using test::RandomText;
using test::succeeded;

class Generator {
public:
    explicit Generator(std::uint32_t seed) : random_(seed, alphabet()) {}

    std::string next() {
        switch (random_.pick(12)) {
            case 0:
                return random_.random_bytes(random_.pick(12));
            case 1:
                return random_.very_long();
            case 2:
            case 3:
                return name_like();
            case 4:
                return env_like();
            case 5:
            case 6:
            case 7:
                return random_.fragment_soup();
            default:
                return publish_like();
        }
    }

private:
    // Fragments chosen to hit the grammar's edges: separators, brackets, boundary numbers,
    // protocols, IPv6 pieces, names, whitespace and NUL.
    static test::TextAlphabet alphabet() {
        using namespace std::string_literals;
        // One fragment per line would bury the list.
        // clang-format off
        return {
            .fragments = {
                "0", "1", "9", "00", "080", "80", "255", "256", "65535", "65536", "4294967376",
                "99999999999999999999", ".", ":", "::", "-", "/", "[", "]", "[::1]", "::1",
                "fe80::1", "=", "_", "tcp", "udp", "TCP", "Udp", "sctp", "icmp", "web", "db",
                "my-db", "HOME", "a", "Z", "+", " ", "\t", "\n", "\0"s, "\x7f", "\xff", "\"",
                "\\", "0.0.0.0", "127.0.0.1", "300.1.1.1", "8000-8010", "1000-1002",
                "2000-2002"},
            .bytes = "0123456789.:-/[]=_abcdeptuTCPUDx \0"s,
            .long_fill = "0123456789.:-/[",
        };
        // clang-format on
    }

    // Ports in a small window, so ranges stay short and pair up often enough to succeed.
    std::string ports() {
        const auto first = 1 + random_.pick(random_.pick(8) == 0 ? 70000 : 2000);
        if (random_.pick(3) != 0) {
            return std::to_string(first);
        }
        return fmt::format("{}-{}", first, first + random_.pick(4));
    }

    // [[HOSTIP:][HOSTPORT[-END]]:]CTRPORT[-END][/PROTO], occasionally off by one byte.
    std::string publish_like() {
        std::string out;
        switch (random_.pick(5)) {
            case 0:
                out += fmt::format("{}.{}.{}.{}:", random_.number(260), random_.number(260),
                                   random_.number(260), random_.number(260));
                [[fallthrough]];
            case 4:
                if (out.empty()) out += ipv6_host_ip() + ':';
                [[fallthrough]];
            case 1:
                out += random_.pick(4) == 0 ? "" : ports();
                out += ':';
                break;
            default:
                break;
        }
        out += ports();
        if (random_.pick(2) == 0) {
            static const std::vector<std::string> kProtos = {"/tcp", "/udp", "/UDP", "/sctp"};
            out += kProtos[random_.pick(kProtos.size())];
        }
        return random_.maybe_mutate(out);
    }

    // Docker's IPv6 HOSTIP forms, bracketed or not; some are invalid on purpose.
    std::string ipv6_host_ip() {
        static const std::vector<std::string> kAddrs = {"::", "::1", "fd00::2", "fe80::1%eth0",
                                                        "::ffff:1.2.3.4", "1::2::3", "ff02::1"};
        const auto& addr = kAddrs[random_.pick(kAddrs.size())];
        return random_.pick(2) == 0 ? "[" + addr + "]" : addr;
    }

    std::string name_like() {
        static const std::vector<std::string> kNames = {"web", "db", "my-db", "a.b_c", "X9"};
        std::string out = kNames[random_.pick(kNames.size())];
        if (random_.pick(2) == 0) {
            out += ':' + kNames[random_.pick(kNames.size())];
        }
        return random_.maybe_mutate(out);
    }

    std::string env_like() {
        static const std::vector<std::string> kKeys = {"A", "_x", "HOME", "K9", "PATH"};
        return random_.maybe_mutate(kKeys[random_.pick(kKeys.size())] + '=' +
                                    random_.fragment_soup());
    }

    RandomText random_;
};

// One request as the single-port spec that must parse back to it.
std::string format_request(const PublishRequest& request) {
    const auto& hosts = request.host_ports;
    const auto host_ports = hosts.first == 0 ? std::string() : format_ports(hosts);
    const auto host_ip = request.host_addr ? format_endpoint(*request.host_addr) : std::string();
    return fmt::format("{}:{}:{}/{}", host_ip, host_ports,
                       request.container.port, format_proto(request.container.proto));
}

struct Successes {
    int publish = 0;
    int expose = 0;
    int env = 0;
    int query = 0;
    int link = 0;
    int name = 0;
};

// The requests of one spec: consecutive container ports of one protocol and one address;
// host ports all from the pool, one allocation range, or consecutive alongside.
::testing::AssertionResult coherent(const std::vector<PublishRequest>& requests) {
    if (requests.empty()) {
        return ::testing::AssertionFailure() << "no requests";
    }
    const auto& first = requests.front();
    for (std::size_t i = 0; i < requests.size(); ++i) {
        const auto& r = requests[i];
        const auto hosts = r.host_ports;
        const bool pool = hosts.first == 0 && hosts.last == 0;
        const bool ranged = hosts.first >= 1 && hosts.first < hosts.last && requests.size() == 1;
        const bool paired = hosts.first >= 1 && hosts.first == hosts.last &&
                            hosts.first == first.host_ports.first + i;
        if (r.container.port != first.container.port + i || r.container.port == 0 ||
            r.container.proto != first.container.proto || r.host_addr != first.host_addr ||
            !(pool || ranged || paired) || (pool != (first.host_ports.first == 0))) {
            return ::testing::AssertionFailure() << "incoherent request " << i;
        }
    }
    return ::testing::AssertionSuccess();
}

void check_publish(const std::string& input, Successes& seen) {
    const auto requests = parse_publish_spec(input);
    if (!succeeded(requests, input, seen.publish)) {
        return;
    }
    ASSERT_TRUE(coherent(*requests)) << input;
    // The ends are enough: the middle follows from coherence, and 65535 re-parses would not.
    for (const auto* request : {&requests->front(), &requests->back()}) {
        const auto text = format_request(*request);
        const auto again = parse_publish_spec(text);
        ASSERT_TRUE(again.has_value()) << input << " -> " << text;
        EXPECT_EQ(*again, std::vector<PublishRequest>{*request}) << input << " -> " << text;
    }
}

void check_expose(const std::string& input, Successes& seen) {
    const auto ports = parse_expose_spec(input);
    if (!succeeded(ports, input, seen.expose)) {
        return;
    }
    ASSERT_FALSE(ports->empty()) << input;
    for (std::size_t i = 0; i < ports->size(); ++i) {
        const auto& port = (*ports)[i];
        ASSERT_TRUE(port.port == ports->front().port + i && port.proto == ports->front().proto)
            << input;
    }
    const auto& port = ports->back();
    const auto again = parse_expose_spec(fmt::format("{}/{}", port.port, format_proto(port.proto)));
    ASSERT_TRUE(again.has_value()) << input;
    EXPECT_EQ(*again, std::vector<ContainerPort>{port}) << input;
    EXPECT_EQ(to_string(port), fmt::format("{}/{}", port.port, format_proto(port.proto)));
}

void check_env(const std::string& input, Successes& seen) {
    const auto var = parse_env(input);
    if (!succeeded(var, input, seen.env)) {
        return;
    }
    EXPECT_FALSE(var->key.empty()) << input;
    EXPECT_EQ(var->key + '=' + var->value, input);
    EXPECT_EQ(var->value.find('\n'), std::string::npos) << input;
}

void check_query(const std::string& input, Successes& seen) {
    const auto port = parse_port_query(input);
    if (!succeeded(port, input, seen.query)) {
        return;
    }
    EXPECT_GE(port->port, 1) << input;
    const auto again =
        parse_port_query(fmt::format("{}/{}", port->port, format_proto(port->proto)));
    ASSERT_TRUE(again.has_value()) << input;
    EXPECT_EQ(*again, *port) << input;
}

void check_link(const std::string& input, Successes& seen) {
    const auto link = parse_link(input);
    if (!succeeded(link, input, seen.link)) {
        return;
    }
    EXPECT_TRUE(validate_name(link->server).has_value()) << input;
    EXPECT_TRUE(validate_name(link->alias).has_value()) << input;
    const auto again = parse_link(link->server + ':' + link->alias);
    ASSERT_TRUE(again.has_value()) << input;
    EXPECT_EQ(*again, *link) << input;
}

void check_name(const std::string& input, Successes& seen) {
    const auto ok = validate_name(input);
    if (!succeeded(ok, input, seen.name)) {
        return;
    }
    const auto link = parse_link(input);
    ASSERT_TRUE(link.has_value()) << input;
    EXPECT_EQ(link->alias, input);
}

// The natural order must be a strict total order on distinct strings, or sorting is undefined.
void check_order(const std::string& input) {
    const auto a = input.substr(0, input.size() / 2);
    const auto b = input.substr(input.size() / 2);
    EXPECT_FALSE(natural_less(a, a)) << a;
    if (a != b) {
        EXPECT_NE(natural_less(a, b), natural_less(b, a)) << a << " vs " << b;
    }
}

TEST(DockerSpecFuzz, SurvivesPseudoRandomInputAndRoundTrips) {
    Generator generator(kSeed);
    Successes seen;
    for (int i = 0; i < kIterations && !::testing::Test::HasFailure(); ++i) {
        const auto input = generator.next();
        check_publish(input, seen);
        check_expose(input, seen);
        check_env(input, seen);
        check_query(input, seen);
        check_link(input, seen);
        check_name(input, seen);
        check_order(input);
    }
    // Guard the generator: without enough successes the round trips test nothing.
    EXPECT_GT(seen.publish, 1000);
    EXPECT_GT(seen.expose, 1000);
    EXPECT_GT(seen.env, 1000);
    EXPECT_GT(seen.query, 1000);
    EXPECT_GT(seen.link, 1000);
    EXPECT_GT(seen.name, 1000);
}

}  // namespace
}  // namespace fwd::ctl
