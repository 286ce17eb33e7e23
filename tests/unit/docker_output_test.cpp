// Golden-string tests for the output that must read exactly like Docker's: `docker port`
// lines in the CLI's natural order, and the environment of a legacy `--link`. The expected
// lines were worked out by hand from Docker's code (docker/cli port.go, fvbommel/sortorder,
// moby daemon/links/links.go), not taken from this implementation.
#include "fwd/ctl/docker_output.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "support/spec_test_support.h"

namespace fwd::ctl {
namespace {

constexpr Ipv4Addr kAny{};
constexpr Ipv4Addr kLoopback = Ipv4Addr::from_octets(127, 0, 0, 1);
constexpr Ipv4Addr kContainer = Ipv4Addr::from_octets(172, 17, 0, 2);

// A mapping of the container "web" at kContainer.
Mapping mapping(Ipv4Addr host_addr, std::uint16_t host_port, Proto proto,
                std::uint16_t container_port) {
    return test::make_mapping(host_addr, host_port, proto, kContainer, container_port, "web");
}

// --- DockerPortOutput -----------------------------------------------------------------

TEST(DockerPortOutput, SortsPortsByValueNotText) {
    const std::vector<Mapping> mappings = {
        mapping(kAny, 49153, Proto::Tcp, 8080),
        mapping(kAny, 49154, Proto::Tcp, 443),
        mapping(kAny, 49155, Proto::Tcp, 80),
    };
    const std::vector<std::string> expected = {
        "80/tcp -> 0.0.0.0:49155",
        "443/tcp -> 0.0.0.0:49154",
        "8080/tcp -> 0.0.0.0:49153",
    };
    EXPECT_EQ(port_lines(mappings), expected);
}

TEST(DockerPortOutput, OrdersTcpBeforeUdpOfTheSamePort) {
    const std::vector<Mapping> mappings = {
        mapping(kAny, 5353, Proto::Udp, 53),
        mapping(kAny, 5353, Proto::Tcp, 53),
    };
    const std::vector<std::string> expected = {
        "53/tcp -> 0.0.0.0:5353",
        "53/udp -> 0.0.0.0:5353",
    };
    EXPECT_EQ(port_lines(mappings), expected);
}

TEST(DockerPortOutput, SortsBindingsOfOnePortByAddressThenHostPort) {
    const std::vector<Mapping> mappings = {
        mapping(kLoopback, 80, Proto::Tcp, 8080),
        mapping(kAny, 10000, Proto::Tcp, 8080),
        mapping(kAny, 9000, Proto::Tcp, 8080),
        mapping(Ipv4Addr::from_octets(10, 0, 0, 1), 80, Proto::Tcp, 8080),
        mapping(Ipv4Addr::from_octets(9, 0, 0, 1), 80, Proto::Tcp, 8080),
    };
    const std::vector<std::string> expected = {
        "8080/tcp -> 0.0.0.0:9000", "8080/tcp -> 0.0.0.0:10000", "8080/tcp -> 9.0.0.1:80",
        "8080/tcp -> 10.0.0.1:80",  "8080/tcp -> 127.0.0.1:80",
    };
    EXPECT_EQ(port_lines(mappings), expected);
}

TEST(DockerPortOutput, PrintsNothingWithoutMappings) {
    EXPECT_TRUE(port_lines({}).empty());
    EXPECT_TRUE(port_lines_for({}, {80, Proto::Tcp}).empty());
}

TEST(DockerPortOutput, ListsHostEndpointsOfOnePort) {
    const std::vector<Mapping> mappings = {
        mapping(kLoopback, 9000, Proto::Tcp, 80), mapping(kAny, 10000, Proto::Tcp, 80),
        mapping(kAny, 10001, Proto::Udp, 80),     mapping(kAny, 10002, Proto::Tcp, 81),
        mapping(kAny, 9999, Proto::Tcp, 80),
    };
    const std::vector<std::string> tcp = {"0.0.0.0:9999", "0.0.0.0:10000", "127.0.0.1:9000"};
    EXPECT_EQ(port_lines_for(mappings, {80, Proto::Tcp}), tcp);
    EXPECT_EQ(port_lines_for(mappings, {80, Proto::Udp}),
              std::vector<std::string>{"0.0.0.0:10001"});
    EXPECT_TRUE(port_lines_for(mappings, {82, Proto::Tcp}).empty());
}

// --- NaturalOrder ---------------------------------------------------------------------

TEST(NaturalOrder, MatchesSortorderNaturalLess) {
    struct Row {
        std::string less;
        std::string greater;
    };
    const std::vector<Row> rows = {
        {"abc2", "abc12"},
        {"x9", "x10"},
        {"1.2", "1.10"},
        {"2", "02"},  // equal value: fewer leading zeros first
        {"x10", "x010"},
        {"a0", "a00"},
        {"0", "00"},
        {"a", "ab"},  // a prefix sorts first
        {"", "a"},
        {"ab1", "abc1"},  // the shorter non-digit run ends first: digit before letter
        {"a1", "a-"},     // even where the other byte is smaller ('-' < '1')
        {"1", "a"},
        {"B", "a"},                                         // non-digits compare bytewise
        {"a", "\xff"},                                      // as unsigned bytes
        {"99999999999999999999", "100000000000000000000"},  // beyond 64 bits
        {"8080/tcp -> 0.0.0.0:49153", "8080/tcp -> 0.0.0.0:49154"},
        {"80/udp -> 0.0.0.0:1", "443/tcp -> 0.0.0.0:1"},
        {"a1b2", "a1b10"},
        {"a1c", "a01b"},  // the zeros tie-break decides at once, before the rest ("c" > "b")
    };
    for (const auto& row : rows) {
        SCOPED_TRACE(row.less + " < " + row.greater);
        EXPECT_TRUE(natural_less(row.less, row.greater));
        EXPECT_FALSE(natural_less(row.greater, row.less));
    }
}

TEST(NaturalOrder, IsIrreflexive) {
    for (const std::string text : {"", "a", "0", "007", "80/tcp -> 0.0.0.0:80"}) {
        EXPECT_FALSE(natural_less(text, text)) << text;
    }
}

// --- LinkEnv --------------------------------------------------------------------------

LinkServer server(Ipv4Addr ip, std::vector<ContainerPort> exposed, std::vector<EnvVar> env = {}) {
    return LinkServer{ip, std::move(exposed), std::move(env)};
}

TEST(LinkEnv, SinglePort) {
    const std::vector<std::string> expected = {
        "DB_PORT=tcp://172.17.0.2:80",    "DB_PORT_80_TCP=tcp://172.17.0.2:80",
        "DB_PORT_80_TCP_ADDR=172.17.0.2", "DB_PORT_80_TCP_PORT=80",
        "DB_PORT_80_TCP_PROTO=tcp",       "DB_NAME=/app/db",
    };
    EXPECT_EQ(link_env("app", "db", server(kContainer, {{80, Proto::Tcp}})), expected);
}

TEST(LinkEnv, SeveralPortsTcpFirstThenByNumber) {
    const auto ip = Ipv4Addr::from_octets(172, 17, 0, 3);
    const std::vector<std::string> expected = {
        "WEB_PORT=tcp://172.17.0.3:80",     "WEB_PORT_80_TCP=tcp://172.17.0.3:80",
        "WEB_PORT_80_TCP_ADDR=172.17.0.3",  "WEB_PORT_80_TCP_PORT=80",
        "WEB_PORT_80_TCP_PROTO=tcp",        "WEB_PORT_443_TCP=tcp://172.17.0.3:443",
        "WEB_PORT_443_TCP_ADDR=172.17.0.3", "WEB_PORT_443_TCP_PORT=443",
        "WEB_PORT_443_TCP_PROTO=tcp",       "WEB_PORT_53_UDP=udp://172.17.0.3:53",
        "WEB_PORT_53_UDP_ADDR=172.17.0.3",  "WEB_PORT_53_UDP_PORT=53",
        "WEB_PORT_53_UDP_PROTO=udp",        "WEB_NAME=/app/web",
    };
    const auto env =
        link_env("app", "web", server(ip, {{53, Proto::Udp}, {443, Proto::Tcp}, {80, Proto::Tcp}}));
    EXPECT_EQ(env, expected);
}

TEST(LinkEnv, UdpOnlyServerDefaultsToItsLowestUdpPort) {
    const auto ip = Ipv4Addr::from_octets(10, 0, 0, 9);
    const std::vector<std::string> expected = {
        "DNS_PORT=udp://10.0.0.9:53",      "DNS_PORT_53_UDP=udp://10.0.0.9:53",
        "DNS_PORT_53_UDP_ADDR=10.0.0.9",   "DNS_PORT_53_UDP_PORT=53",
        "DNS_PORT_53_UDP_PROTO=udp",       "DNS_PORT_5353_UDP=udp://10.0.0.9:5353",
        "DNS_PORT_5353_UDP_ADDR=10.0.0.9", "DNS_PORT_5353_UDP_PORT=5353",
        "DNS_PORT_5353_UDP_PROTO=udp",     "DNS_NAME=/client/dns",
    };
    EXPECT_EQ(link_env("client", "dns", server(ip, {{5353, Proto::Udp}, {53, Proto::Udp}})),
              expected);
}

TEST(LinkEnv, RangeGetsStartAndEndAfterItsLastPort) {
    const std::vector<std::string> expected = {
        "DB_PORT=tcp://172.17.0.2:8000",    "DB_PORT_8000_TCP=tcp://172.17.0.2:8000",
        "DB_PORT_8000_TCP_ADDR=172.17.0.2", "DB_PORT_8000_TCP_PORT=8000",
        "DB_PORT_8000_TCP_PROTO=tcp",       "DB_PORT_8001_TCP=tcp://172.17.0.2:8001",
        "DB_PORT_8001_TCP_ADDR=172.17.0.2", "DB_PORT_8001_TCP_PORT=8001",
        "DB_PORT_8001_TCP_PROTO=tcp",       "DB_PORT_8002_TCP=tcp://172.17.0.2:8002",
        "DB_PORT_8002_TCP_ADDR=172.17.0.2", "DB_PORT_8002_TCP_PORT=8002",
        "DB_PORT_8002_TCP_PROTO=tcp",       "DB_PORT_8000_TCP_START=tcp://172.17.0.2:8000",
        "DB_PORT_8000_TCP_PORT_START=8000", "DB_PORT_8000_TCP_END=tcp://172.17.0.2:8002",
        "DB_PORT_8000_TCP_PORT_END=8002",   "DB_NAME=/app/db",
    };
    const auto env =
        link_env("app", "db",
                 server(kContainer, {{8002, Proto::Tcp}, {8000, Proto::Tcp}, {8001, Proto::Tcp}}));
    EXPECT_EQ(env, expected);
}

// Docker's quirk: a range's _START/_END lines follow the four lines of the port that ended it.
TEST(LinkEnv, TwoRangesEachClosedByTheNextPort) {
    const auto ip = Ipv4Addr::from_octets(10, 0, 0, 5);
    const std::vector<std::string> expected = {
        "SVC_PORT=tcp://10.0.0.5:8000",      "SVC_PORT_8000_TCP=tcp://10.0.0.5:8000",
        "SVC_PORT_8000_TCP_ADDR=10.0.0.5",   "SVC_PORT_8000_TCP_PORT=8000",
        "SVC_PORT_8000_TCP_PROTO=tcp",       "SVC_PORT_8001_TCP=tcp://10.0.0.5:8001",
        "SVC_PORT_8001_TCP_ADDR=10.0.0.5",   "SVC_PORT_8001_TCP_PORT=8001",
        "SVC_PORT_8001_TCP_PROTO=tcp",       "SVC_PORT_9000_TCP=tcp://10.0.0.5:9000",
        "SVC_PORT_9000_TCP_ADDR=10.0.0.5",   "SVC_PORT_9000_TCP_PORT=9000",
        "SVC_PORT_9000_TCP_PROTO=tcp",       "SVC_PORT_8000_TCP_START=tcp://10.0.0.5:8000",
        "SVC_PORT_8000_TCP_PORT_START=8000", "SVC_PORT_8000_TCP_END=tcp://10.0.0.5:8001",
        "SVC_PORT_8000_TCP_PORT_END=8001",   "SVC_PORT_9001_TCP=tcp://10.0.0.5:9001",
        "SVC_PORT_9001_TCP_ADDR=10.0.0.5",   "SVC_PORT_9001_TCP_PORT=9001",
        "SVC_PORT_9001_TCP_PROTO=tcp",       "SVC_PORT_9000_TCP_START=tcp://10.0.0.5:9000",
        "SVC_PORT_9000_TCP_PORT_START=9000", "SVC_PORT_9000_TCP_END=tcp://10.0.0.5:9001",
        "SVC_PORT_9000_TCP_PORT_END=9001",   "SVC_NAME=/c/svc",
    };
    const auto env = link_env(
        "c", "svc",
        server(ip,
               {{9001, Proto::Tcp}, {8000, Proto::Tcp}, {9000, Proto::Tcp}, {8001, Proto::Tcp}}));
    EXPECT_EQ(env, expected);
}

// Consecutive numbers of different protocols are no range; a tcp range is closed by the
// first udp port that follows it.
TEST(LinkEnv, RangeEndsAtProtocolChange) {
    const std::vector<std::string> expected = {
        "DB_PORT=tcp://172.17.0.2:8000",    "DB_PORT_8000_TCP=tcp://172.17.0.2:8000",
        "DB_PORT_8000_TCP_ADDR=172.17.0.2", "DB_PORT_8000_TCP_PORT=8000",
        "DB_PORT_8000_TCP_PROTO=tcp",       "DB_PORT_8001_TCP=tcp://172.17.0.2:8001",
        "DB_PORT_8001_TCP_ADDR=172.17.0.2", "DB_PORT_8001_TCP_PORT=8001",
        "DB_PORT_8001_TCP_PROTO=tcp",       "DB_PORT_8002_UDP=udp://172.17.0.2:8002",
        "DB_PORT_8002_UDP_ADDR=172.17.0.2", "DB_PORT_8002_UDP_PORT=8002",
        "DB_PORT_8002_UDP_PROTO=udp",       "DB_PORT_8000_TCP_START=tcp://172.17.0.2:8000",
        "DB_PORT_8000_TCP_PORT_START=8000", "DB_PORT_8000_TCP_END=tcp://172.17.0.2:8001",
        "DB_PORT_8000_TCP_PORT_END=8001",   "DB_NAME=/app/db",
    };
    const auto env =
        link_env("app", "db",
                 server(kContainer, {{8002, Proto::Udp}, {8001, Proto::Tcp}, {8000, Proto::Tcp}}));
    EXPECT_EQ(env, expected);
}

TEST(LinkEnv, AliasDashesBecomeUnderscores) {
    const auto ip = Ipv4Addr::from_octets(172, 17, 0, 4);
    const std::vector<std::string> expected = {
        "MY_DB_PORT=tcp://172.17.0.4:5432",    "MY_DB_PORT_5432_TCP=tcp://172.17.0.4:5432",
        "MY_DB_PORT_5432_TCP_ADDR=172.17.0.4", "MY_DB_PORT_5432_TCP_PORT=5432",
        "MY_DB_PORT_5432_TCP_PROTO=tcp",       "MY_DB_NAME=/app/my-db",
    };
    EXPECT_EQ(link_env("app", "my-db", server(ip, {{5432, Proto::Tcp}})), expected);
}

TEST(LinkEnv, ServerEnvKeepsOrderAndSkipsHomeAndPath) {
    const std::vector<EnvVar> env = {
        {"PATH", "/usr/bin"}, {"B", "2"},    {"HOME", "/root"},
        {"A", "1"},           {"EMPTY", ""}, {"home", "kept: only HOME is skipped"},
    };
    const std::vector<std::string> expected = {
        "DB_NAME=/app/db",
        "DB_ENV_B=2",
        "DB_ENV_A=1",
        "DB_ENV_EMPTY=",
        "DB_ENV_home=kept: only HOME is skipped",
    };
    EXPECT_EQ(link_env("app", "db", server(kContainer, {}, env)), expected);
}

TEST(LinkEnv, PortsComeBeforeNameAndEnv) {
    const std::vector<std::string> expected = {
        "DB_PORT=tcp://172.17.0.2:5432",    "DB_PORT_5432_TCP=tcp://172.17.0.2:5432",
        "DB_PORT_5432_TCP_ADDR=172.17.0.2", "DB_PORT_5432_TCP_PORT=5432",
        "DB_PORT_5432_TCP_PROTO=tcp",       "DB_NAME=/app/db",
        "DB_ENV_POSTGRES_DB=app",
    };
    EXPECT_EQ(
        link_env("app", "db", server(kContainer, {{5432, Proto::Tcp}}, {{"POSTGRES_DB", "app"}})),
        expected);
}

TEST(LinkEnv, NoExposedPortsGivesOnlyTheName) {
    EXPECT_EQ(link_env("app", "db", server(kContainer, {})),
              std::vector<std::string>{"DB_NAME=/app/db"});
}

TEST(LinkEnv, DuplicatePortsCountOnce) {
    EXPECT_EQ(link_env("app", "db", server(kContainer, {{80, Proto::Tcp}, {80, Proto::Tcp}})),
              link_env("app", "db", server(kContainer, {{80, Proto::Tcp}})));
}

}  // namespace
}  // namespace fwd::ctl
