// A bounded, deterministic fuzz smoke test of the Docker-syntax parsers: fixed seed, fixed
// count, so it runs in every unit build. The libFuzzer target (tests/fuzz/docker_spec_fuzz.cpp)
// explores further; this one keeps the invariants checked without a special toolchain.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "fwd/ctl/docker_output.h"
#include "fwd/ctl/docker_spec.h"

namespace fwd::ctl {
namespace {

constexpr int kIterations = 100000;
constexpr std::uint32_t kSeed = 20240612;
// Messages quote at most a short prefix of the input, so they stay one short line.
constexpr std::size_t kMaxMessage = 400;

// Fragments chosen to hit the grammar's edges: separators, brackets, boundary numbers,
// protocols, IPv6 pieces, names, whitespace and NUL.
const std::vector<std::string>& fragments() {
    using namespace std::string_literals;
    // One fragment per line would bury the list.
    // clang-format off
    static const std::vector<std::string> kFragments = {
        "0", "1", "9", "00", "080", "80", "255", "256", "65535", "65536", "4294967376",
        "99999999999999999999", ".", ":", "::", "-", "/", "[", "]", "[::1]", "::1", "fe80::1",
        "=", "_", "tcp", "udp", "TCP", "Udp", "sctp", "icmp", "web", "db", "my-db", "HOME",
        "a", "Z", "+", " ", "\t", "\n", "\0"s, "\x7f", "\xff", "\"", "\\", "0.0.0.0",
        "127.0.0.1", "300.1.1.1", "8000-8010", "1000-1002", "2000-2002"};
    // clang-format on
    return kFragments;
}

class Generator {
public:
    explicit Generator(std::uint32_t seed) : rng_(seed) {}

    std::string next() {
        switch (pick(12)) {
            case 0:
                return random_bytes(pick(12));
            case 1:
                return very_long();
            case 2:
            case 3:
                return name_like();
            case 4:
                return env_like();
            case 5:
            case 6:
            case 7:
                return fragment_soup();
            default:
                return publish_like();
        }
    }

private:
    std::size_t pick(std::size_t bound) {
        return std::uniform_int_distribution<std::size_t>(0, bound - 1)(rng_);
    }

    std::string random_bytes(std::size_t length) {
        // The trailing NUL is part of the alphabet, hence the explicit length.
        static constexpr std::string_view kAlphabet{"0123456789.:-/[]=_abcdeptuTCPUDx \0", 34};
        std::string out;
        for (std::size_t i = 0; i < length; ++i) {
            out += kAlphabet[pick(kAlphabet.size())];
        }
        return out;
    }

    // Rare, so the whole test stays fast; long enough to catch quadratic or unbounded work.
    std::string very_long() {
        if (pick(100) != 0) {
            return fragment_soup();
        }
        std::string out(1000 + pick(10000), "0123456789.:-/["[pick(15)]);
        out[pick(out.size())] = ':';
        return out;
    }

    std::string fragment_soup() {
        std::string out;
        const auto count = 1 + pick(6);
        for (std::size_t i = 0; i < count; ++i) {
            out += fragments()[pick(fragments().size())];
        }
        return out;
    }

    std::string number(std::uint32_t bound) {
        return std::to_string(std::uniform_int_distribution<std::uint32_t>(0, bound)(rng_));
    }

    std::string maybe_mutate(std::string out) {
        if (!out.empty() && pick(8) == 0) {
            out[pick(out.size())] = fragments()[pick(fragments().size())].front();
        }
        return out;
    }

    // Ports in a small window, so ranges stay short and pair up often enough to succeed.
    std::string ports() {
        const auto first = 1 + pick(pick(8) == 0 ? 70000 : 2000);
        if (pick(3) != 0) {
            return std::to_string(first);
        }
        return fmt::format("{}-{}", first, first + pick(4));
    }

    // [[HOSTIP:][HOSTPORT[-END]]:]CTRPORT[-END][/PROTO], occasionally off by one byte.
    std::string publish_like() {
        std::string out;
        switch (pick(4)) {
            case 0:
                out +=
                    fmt::format("{}.{}.{}.{}:", number(260), number(260), number(260), number(260));
                [[fallthrough]];
            case 1:
                out += pick(4) == 0 ? "" : ports();
                out += ':';
                break;
            default:
                break;
        }
        out += ports();
        if (pick(2) == 0) {
            static const std::vector<std::string> kProtos = {"/tcp", "/udp", "/UDP", "/sctp"};
            out += kProtos[pick(kProtos.size())];
        }
        return maybe_mutate(out);
    }

    std::string name_like() {
        static const std::vector<std::string> kNames = {"web", "db", "my-db", "a.b_c", "X9"};
        std::string out = kNames[pick(kNames.size())];
        if (pick(2) == 0) {
            out += ':' + kNames[pick(kNames.size())];
        }
        return maybe_mutate(out);
    }

    std::string env_like() {
        static const std::vector<std::string> kKeys = {"A", "_x", "HOME", "K9", "PATH"};
        return maybe_mutate(kKeys[pick(kKeys.size())] + '=' + fragment_soup());
    }

    std::mt19937 rng_;
};

// The test's own formatters, independent of anything in fwd, for the round trips.
std::string format_proto(Proto proto) {
    return proto == Proto::Tcp ? "tcp" : "udp";
}

std::string format_addr(Ipv4Addr addr) {
    const auto v = addr.value();
    return fmt::format("{}.{}.{}.{}", v >> 24, (v >> 16) & 0xffU, (v >> 8) & 0xffU, v & 0xffU);
}

// One request as the single-port spec that must parse back to it.
std::string format_request(const PublishRequest& request) {
    const auto& hosts = request.host_ports;
    const auto host_ports = hosts.first == 0 ? std::string()
                            : hosts.first == hosts.last
                                ? fmt::format("{}", hosts.first)
                                : fmt::format("{}-{}", hosts.first, hosts.last);
    return fmt::format("{}:{}:{}/{}", format_addr(request.host_addr), host_ports,
                       request.container.port, format_proto(request.container.proto));
}

// A failure must be a usage error with a short, single-line, NUL-free message.
template <typename T>
::testing::AssertionResult well_formed_failure(const Result<T>& result) {
    const auto& message = result.error().message;
    if (result.error().code != ErrorCode::InvalidInput) {
        return ::testing::AssertionFailure() << "not InvalidInput: " << message;
    }
    if (message.empty() || message.size() > kMaxMessage) {
        return ::testing::AssertionFailure() << "bad message length " << message.size();
    }
    if (message.find('\n') != std::string::npos || message.find('\0') != std::string::npos) {
        return ::testing::AssertionFailure() << "control byte in: " << message;
    }
    return ::testing::AssertionSuccess();
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
    if (!requests) {
        EXPECT_TRUE(well_formed_failure(requests)) << input;
        return;
    }
    ++seen.publish;
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
    if (!ports) {
        EXPECT_TRUE(well_formed_failure(ports)) << input;
        return;
    }
    ++seen.expose;
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
    if (!var) {
        EXPECT_TRUE(well_formed_failure(var)) << input;
        return;
    }
    ++seen.env;
    EXPECT_FALSE(var->key.empty()) << input;
    EXPECT_EQ(var->key + '=' + var->value, input);
    EXPECT_EQ(var->value.find('\n'), std::string::npos) << input;
}

void check_query(const std::string& input, Successes& seen) {
    const auto port = parse_port_query(input);
    if (!port) {
        EXPECT_TRUE(well_formed_failure(port)) << input;
        return;
    }
    ++seen.query;
    EXPECT_GE(port->port, 1) << input;
    const auto again =
        parse_port_query(fmt::format("{}/{}", port->port, format_proto(port->proto)));
    ASSERT_TRUE(again.has_value()) << input;
    EXPECT_EQ(*again, *port) << input;
}

void check_link(const std::string& input, Successes& seen) {
    const auto link = parse_link(input);
    if (!link) {
        EXPECT_TRUE(well_formed_failure(link)) << input;
        return;
    }
    ++seen.link;
    EXPECT_TRUE(validate_name(link->server).has_value()) << input;
    EXPECT_TRUE(validate_name(link->alias).has_value()) << input;
    const auto again = parse_link(link->server + ':' + link->alias);
    ASSERT_TRUE(again.has_value()) << input;
    EXPECT_EQ(*again, *link) << input;
}

void check_name(const std::string& input, Successes& seen) {
    const auto ok = validate_name(input);
    if (!ok) {
        EXPECT_TRUE(well_formed_failure(ok)) << input;
        return;
    }
    ++seen.name;
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
