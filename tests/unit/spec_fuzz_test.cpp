// A bounded, deterministic fuzz smoke test of the spec parsers: fixed seed, fixed count, so
// it runs in every unit build. The libFuzzer target (tests/fuzz/spec_fuzz.cpp) explores
// further; this one keeps the invariants checked without a special toolchain.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstddef>
#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "fwd/ctl/spec.h"
#include "support/random_text.h"
#include "support/spec_test_support.h"

namespace fwd::ctl {
namespace {

constexpr int kIterations = 200000;
constexpr std::uint32_t kSeed = 20240611;

using test::format_addr;
using test::format_endpoint;
using test::format_ports;
using test::format_proto;
using test::RandomText;
using test::succeeded;
using test::well_formed_failure;

class Generator {
public:
    explicit Generator(std::uint32_t seed) : random_(seed, alphabet()) {}

    std::string next() {
        switch (random_.pick(10)) {
            case 0:
                return random_.random_bytes(random_.pick(12));
            case 1:
                return random_.very_long();
            default:
                return random_.pick(2) == 0 ? random_.fragment_soup() : almost_valid();
        }
    }

private:
    // Fragments chosen to hit the grammar's edges: separators, boundary numbers, protocols,
    // brackets, whitespace and NUL.
    static test::TextAlphabet alphabet() {
        using namespace std::string_literals;
        // One fragment per line would bury the list.
        // clang-format off
        return {
            .fragments = {
                "0", "1", "8", "9", "00", "01", "80", "255", "256", "65535", "65536", "70000",
                "4294967296", "4294967376", "99999999999999999999", ".", ":", "-", "/", "[", "]",
                "::", "tcp", "udp", "TCP", "Udp", "sctp", "icmp", "a", "x", "f", "+", " ", "\t",
                "\0"s, "\xff", "\"", "\\", "0.0.0.0", "172.17.0.2", "10.0.0.1", "224.0.0.1",
                "255.255.255.255", "127.0.0.1", "8000-8010", "49000-49900", "[::]", "[::1]",
                "fd00::2", "[fd00::2]", "fe80::1%eth0", "::ffff:", "ff02::1", "[", "]]"},
            .bytes = "0123456789.:-/[]abcdeftpuTCPUDx% \0"s,
            .long_fill = "0123456789.:-",
        };
        // clang-format on
    }

    // Grammar-shaped input with an occasional one-byte mutation, so successes are common
    // enough for the round-trip checks to mean something.
    std::string almost_valid() {
        std::string out;
        switch (random_.pick(4)) {
            case 0:
            case 1:
                out += fmt::format("{}.{}.{}.{}:", random_.number(260), random_.number(260),
                                   random_.number(260), random_.number(260));
                break;
            case 2:
                out += "[" + ipv6_like() + "]:";
                break;
            default:
                break;
        }
        out += random_.number(random_.pick(4) == 0 ? 70000 : 65535);
        if (random_.pick(3) == 0) {
            out += "-" + random_.number(65535);
        }
        if (random_.pick(2) == 0) {
            out += random_.pick(2) == 0 ? "/tcp" : "/UDP";
        }
        return random_.maybe_mutate(out);
    }

    // An IPv6 address in one of its text forms, some of them not unicast.
    std::string ipv6_like() {
        static const std::vector<std::string> kPrefixes = {"", "fd00:", "fe80:", "ff02:",
                                                           "2001:db8:", "::ffff:"};
        const auto& prefix = kPrefixes[random_.pick(kPrefixes.size())];
        if (prefix == "::ffff:") {
            return prefix + "10.0.0." + random_.number(255);
        }
        return fmt::format("{}:{:x}", prefix, random_.pick(0x10000));
    }

    RandomText random_;
};

// The test's own formatters, independent of anything in fwd, for the round trips.
std::string format_host(const HostSpec& spec) {
    const auto addr = spec.addr ? format_endpoint(*spec.addr) + ":" : std::string();
    return fmt::format("{}{}/{}", addr, format_ports(spec.ports), format_proto(spec.proto));
}

std::string format_container(const ContainerSpec& spec) {
    return fmt::format("{}:{}", format_endpoint(spec.addr), format_ports(spec.ports));
}

bool is_unicast(const IpAddr& addr) {
    if (addr.is_v4()) {
        const auto v = addr.v4().value();
        return v != 0 && v != 0xffffffffU && (v >> 28) != 0xeU;
    }
    const auto b = addr.v6().bytes();  // a copy: v6() returns a temporary
    const Ipv6Addr::Bytes mapped_prefix{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    const bool mapped = std::equal(b.begin(), b.begin() + 12, mapped_prefix.begin());
    return b != Ipv6Addr::Bytes{} && b[0] != 0xff && !mapped;
}

bool valid_range(PortRange ports) {
    return ports.first >= 1 && ports.first <= ports.last;
}

struct Successes {
    int ipv4 = 0;
    int ipv6 = 0;
    int proto = 0;
    int range = 0;
    int host = 0;
    int container = 0;
    int pool = 0;
};

void check_ipv4(const std::string& input, Successes& seen) {
    const auto addr = parse_ipv4(input);
    if (!succeeded(addr, input, seen.ipv4)) {
        return;
    }
    EXPECT_EQ(format_addr(*addr), input);  // strict parser: the canonical form is the only one
}

// Any accepted IPv6 text means one address, which its other spellings name as well.
void check_ipv6(const std::string& input, Successes& seen) {
    const auto addr = parse_ipv6(input);
    if (!succeeded(addr, input, seen.ipv6)) {
        return;
    }
    const auto again = parse_ipv6(format_addr(*addr));
    ASSERT_TRUE(again.has_value()) << input;
    EXPECT_EQ(*again, *addr) << input;
    const auto canonical = parse_ipv6(addr->to_string());
    ASSERT_TRUE(canonical.has_value()) << input;
    EXPECT_EQ(*canonical, *addr) << input;
}

void check_proto(const std::string& input, Successes& seen) {
    const auto proto = parse_proto(input);
    if (!succeeded(proto, input, seen.proto)) {
        return;
    }
    const auto again = parse_proto(to_string(*proto));
    ASSERT_TRUE(again.has_value()) << input;
    EXPECT_EQ(*again, *proto);
}

void check_range(const std::string& input, Successes& seen) {
    const auto ports = parse_port_range(input);
    if (!succeeded(ports, input, seen.range)) {
        return;
    }
    EXPECT_TRUE(valid_range(*ports)) << input;
    const auto again = parse_port_range(format_ports(*ports));
    ASSERT_TRUE(again.has_value()) << input;
    EXPECT_EQ(*again, *ports) << input;
}

std::optional<HostSpec> check_host(const std::string& input, Successes& seen) {
    const auto spec = parse_host_spec(input);
    if (!succeeded(spec, input, seen.host)) {
        return std::nullopt;
    }
    EXPECT_TRUE(spec->wants_allocation() ? spec->ports.last == 0 : valid_range(spec->ports))
        << input;
    const auto again = parse_host_spec(format_host(*spec));
    EXPECT_TRUE(again.has_value() && *again == *spec) << input << " -> " << format_host(*spec);
    return *spec;
}

std::optional<ContainerSpec> check_container(const std::string& input, Successes& seen) {
    const auto spec = parse_container_spec(input);
    if (!succeeded(spec, input, seen.container)) {
        return std::nullopt;
    }
    EXPECT_TRUE(valid_range(spec->ports)) << input;
    EXPECT_TRUE(is_unicast(spec->addr)) << input;
    const auto again = parse_container_spec(format_container(*spec));
    EXPECT_TRUE(again.has_value() && *again == *spec) << input << " -> " << format_container(*spec);
    return *spec;
}

void check_pool(const std::string& input, Successes& seen) {
    const auto pool = parse_pool_range(input);
    if (!succeeded(pool, input, seen.pool)) {
        return;
    }
    EXPECT_TRUE(valid_range(*pool)) << input;
    const auto again = parse_pool_range(fmt::format("{}-{}", pool->first, pool->last));
    ASSERT_TRUE(again.has_value()) << input;
    EXPECT_EQ(*again, *pool) << input;
}

// Inputs that parse as both specs ("172.17.0.2:80") make real pairs.
void check_pair(const std::string& input, const std::optional<HostSpec>& host,
                const std::optional<ContainerSpec>& container) {
    if (!host || !container) {
        return;
    }
    const auto pair = check_spec_pair(*host, *container);
    if (!pair) {
        EXPECT_TRUE(well_formed_failure(pair)) << input;
    }
}

// Most generated inputs carry a port; their address part alone gives parse_ipv4 real
// addresses to accept and not only garbage to reject.
std::string before_colon(const std::string& input) {
    return input.substr(0, input.find(':'));
}

TEST(SpecParserFuzz, SurvivesPseudoRandomInputAndRoundTrips) {
    Generator generator(kSeed);
    Successes seen;
    for (int i = 0; i < kIterations && !::testing::Test::HasFailure(); ++i) {
        const auto input = generator.next();
        check_ipv4(input, seen);
        if (input.find(':') != std::string::npos) {
            check_ipv4(before_colon(input), seen);
        }
        if (const auto close = input.find(']'); input.starts_with('[') && close != std::string::npos) {
            check_ipv6(input.substr(1, close - 1), seen);
        }
        check_proto(input, seen);
        check_range(input, seen);
        check_pool(input, seen);
        const auto host = check_host(input, seen);
        const auto container = check_container(input, seen);
        check_pair(input, host, container);
    }
    // Guard the generator: without enough successes the round trips test nothing.
    EXPECT_GT(seen.ipv4, 1000);
    EXPECT_GT(seen.ipv6, 1000);
    EXPECT_GT(seen.proto, 0);
    EXPECT_GT(seen.range, 1000);
    EXPECT_GT(seen.host, 1000);
    EXPECT_GT(seen.container, 1000);
    EXPECT_GT(seen.pool, 1000);
}

}  // namespace
}  // namespace fwd::ctl
