// Shared by the tests of fwdctl's spec parsers (spec.h, docker_spec.h) and their output:
// table runners for accepted and rejected input, the check every failure must pass, and the
// tests' own formatters, written independently of anything in fwd for the round trips.
#pragma once

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "fwd/ctl/spec.h"
#include "fwd/result.h"
#include "fwd/types.h"

namespace fwd::test {

// A table row of input that must parse to `expected`.
template <typename T>
struct Accepted {
    std::string input;
    T expected;
};

// A table row of input that must be refused.
struct Rejection {
    std::string input;
    std::string message;  // expected substring of the error message
};

// Every row parses, and `project` of the result equals the row's expected value. `project`
// lets a table state results in a readable form, or check more of each result.
template <typename Parse, typename T, typename Project = std::identity>
void expect_accepts(Parse parse, const std::vector<Accepted<T>>& rows, Project project = {}) {
    for (const auto& row : rows) {
        SCOPED_TRACE(row.input);
        const auto result = parse(row.input);
        ASSERT_TRUE(result.has_value()) << result.error().message;
        EXPECT_EQ(project(*result), row.expected);
    }
}

// Every rejection is InvalidInput (exit 2) with a one-line message naming the problem.
template <typename Parse>
void expect_rejects(Parse parse, const std::vector<Rejection>& rows) {
    for (const auto& row : rows) {
        SCOPED_TRACE(row.input);
        const auto result = parse(row.input);
        ASSERT_FALSE(result.has_value());
        EXPECT_EQ(result.error().code, ErrorCode::InvalidInput);
        EXPECT_TRUE(result.error().is_usage_error());
        EXPECT_NE(result.error().message.find(row.message), std::string::npos)
            << "message: " << result.error().message;
        EXPECT_EQ(result.error().message.find('\n'), std::string::npos);
    }
}

// Messages quote at most a short prefix of the input, so they stay one short line.
constexpr std::size_t kMaxMessage = 400;

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

// For the fuzz tests' checks: true, counted in `successes`, when `result` holds a value;
// otherwise false, after checking the failure is well formed.
template <typename T>
bool succeeded(const Result<T>& result, const std::string& input, int& successes) {
    if (!result) {
        EXPECT_TRUE(well_formed_failure(result)) << input;
        return false;
    }
    ++successes;
    return true;
}

// A mapping from its parts, with the id left at 0.
inline Mapping make_mapping(IpAddr host_addr, std::uint16_t host_port, Proto proto,
                            IpAddr container_addr, std::uint16_t container_port,
                            std::string name = {}) {
    Mapping m;
    m.host_addr = host_addr;
    m.host_port = host_port;
    m.proto = proto;
    m.container_addr = container_addr;
    m.container_port = container_port;
    m.name = std::move(name);
    return m;
}

// --- The tests' own formatters ----------------------------------------------------------

inline std::string format_proto(Proto proto) {
    return proto == Proto::Tcp ? "tcp" : "udp";
}

inline std::string format_addr(Ipv4Addr addr) {
    const auto v = addr.value();
    return fmt::format("{}.{}.{}.{}", v >> 24, (v >> 16) & 0xffU, (v >> 8) & 0xffU, v & 0xffU);
}

// Eight groups of full hex: not RFC 5952's form, so a round trip also exercises the parsers'
// other accepted spellings.
inline std::string format_addr(Ipv6Addr addr) {
    const auto& b = addr.bytes();
    std::string text;
    for (std::size_t i = 0; i < b.size(); i += 2)
        text += fmt::format("{}{:02x}{:02x}", i == 0 ? "" : ":", b[i], b[i + 1]);
    return text;
}

inline std::string format_addr(const IpAddr& addr) {
    return addr.is_v4() ? format_addr(addr.v4()) : format_addr(addr.v6());
}

// The address as it stands before ":PORT": IPv6 in brackets.
inline std::string format_endpoint(const IpAddr& addr) {
    return addr.is_v4() ? format_addr(addr) : "[" + format_addr(addr) + "]";
}

// "80" or "8000-8010".
inline std::string format_ports(ctl::PortRange ports) {
    return ports.first == ports.last ? fmt::format("{}", ports.first)
                                     : fmt::format("{}-{}", ports.first, ports.last);
}

}  // namespace fwd::test
