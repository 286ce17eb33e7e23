// Table-driven tests for fwdctl's spec parsers and the Mapping formatting they feed.
#include "fwd/ctl/spec.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <utility>
#include <string>
#include <string_view>
#include <vector>

#include "support/spec_test_support.h"

namespace fwd::ctl {
namespace {

using namespace std::string_literals;

constexpr Ipv4Addr kAny{};
constexpr Ipv4Addr kContainer = Ipv4Addr::from_octets(172, 17, 0, 2);
constexpr Ipv6Addr kAny6{};
constexpr Ipv6Addr kContainer6{{0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2}};  // fd00::2
constexpr Ipv6Addr kLoopback6{{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}};
constexpr std::nullopt_t kNoAddr = std::nullopt;  // HOST without ADDR

using test::Accepted;
using test::expect_accepts;
using test::expect_rejects;
using test::make_mapping;
using test::Rejection;

// --- Ipv4Parser -----------------------------------------------------------------------

TEST(Ipv4Parser, AcceptsDottedQuads) {
    const std::vector<Accepted<Ipv4Addr>> rows = {
        {"0.0.0.0", kAny},
        {"172.17.0.2", kContainer},
        {"10.0.0.1", Ipv4Addr::from_octets(10, 0, 0, 1)},
        {"255.255.255.255", Ipv4Addr{0xffffffffU}},
        {"127.0.0.1", Ipv4Addr{0x7f000001U}},
        {"1.20.200.0", Ipv4Addr::from_octets(1, 20, 200, 0)},
    };
    expect_accepts(parse_ipv4, rows);
}

TEST(Ipv4Parser, RejectsMalformedAddresses) {
    const std::vector<Rejection> rows = {
        {"300.1.1.1", "invalid IPv4 address \"300.1.1.1\""},
        {"256.0.0.0", "invalid IPv4 address"},
        {"1.2.3", "invalid IPv4 address \"1.2.3\""},
        {"1.2.3.4.5", "invalid IPv4 address \"1.2.3.4.5\""},
        {"01.2.3.4", "without leading zeros"},
        {"1.2.3.00", "without leading zeros"},
        {"0x1.2.3.4", "invalid IPv4 address"},
        {"+1.2.3.4", "invalid IPv4 address"},
        {"1.2.3.-4", "invalid IPv4 address"},
        {"1..2.3", "invalid IPv4 address"},
        {"1.2.3.4.", "invalid IPv4 address"},
        {".1.2.3", "invalid IPv4 address"},
        {"1234.1.1.1", "invalid IPv4 address"},
        {"abc", "invalid IPv4 address \"abc\""},
        {"", "invalid IPv4 address \"\""},
        {" 1.2.3.4", "contains whitespace"},
        {"1.2.3.4\n", "contains whitespace"},
        {"1.2.3.4\0"s, "non-printable"},
        {"[::1]", "\"[::1]\" is not an IPv4 address"},
        {"::1", "\"::1\" is not an IPv4 address"},
    };
    expect_rejects(parse_ipv4, rows);
}

// --- Ipv6Parser -----------------------------------------------------------------------

TEST(Ipv6Parser, AcceptsTextFormsAndPrintsRfc5952) {
    const std::vector<Accepted<std::string>> rows = {
        {"::", "::"},
        {"::1", "::1"},
        {"fd00::2", "fd00::2"},
        {"FD00:0:0:0:0:0:0:2", "fd00::2"},
        {"2001:0db8:0000:0000:0001:0000:0000:0001", "2001:db8::1:0:0:1"},
        {"2001:db8:0:0:1::1", "2001:db8::1:0:0:1"},
        {"fe80::1", "fe80::1"},
        {"::ffff:10.0.0.1", "::ffff:10.0.0.1"},
    };
    expect_accepts(parse_ipv6, rows, [](Ipv6Addr addr) { return addr.to_string(); });
    EXPECT_EQ(parse_ipv6("fd00::2").value(), kContainer6);
    EXPECT_EQ(IpAddr(kContainer6).to_endpoint_string(), "[fd00::2]");
    EXPECT_EQ(IpAddr(kAny6).to_endpoint_string(), "[::]");
}

TEST(Ipv6Parser, RejectsMalformedAddressesAndZones) {
    const std::vector<Rejection> rows = {
        {"zz::", "invalid IPv6 address \"zz::\""},
        {"1::2::3", "invalid IPv6 address"},
        {"1:2:3:4:5:6:7:8:9", "invalid IPv6 address"},
        {"12345::", "invalid IPv6 address"},
        {":", "invalid IPv6 address"},
        {"", "invalid IPv6 address"},
        {"10.0.0.1", "invalid IPv6 address \"10.0.0.1\""},
        {"[::1]", "write it without brackets"},
        {"fe80::1%eth0", "IPv6 address \"fe80::1%eth0\" has a zone id: zone ids are not supported"},
        {" ::1", "contains whitespace"},
        {std::string(100, ':'), "invalid IPv6 address"},
    };
    expect_rejects(parse_ipv6, rows);
}

TEST(IpParser, TakesEitherFamily) {
    EXPECT_EQ(parse_ip("172.17.0.2").value(), IpAddr(kContainer));
    EXPECT_EQ(parse_ip("fd00::2").value(), IpAddr(kContainer6));
    EXPECT_EQ(parse_ip("::").value(), IpAddr::any(Family::V6));
    EXPECT_FALSE(parse_ip("[fd00::2]"));
    EXPECT_FALSE(parse_ip("fd00::2%1"));
    EXPECT_FALSE(parse_ip("1.2.3"));
}

// --- IpCidrParser (--allow) ----------------------------------------------------------

TEST(IpCidrParser, AcceptsNetworksAndSingleAddresses) {
    const std::vector<Accepted<IpCidr>> rows = {
        {"10.0.0.0/8", IpCidr{Ipv4Addr::from_octets(10, 0, 0, 0), 8}},
        {"192.168.1.7", IpCidr{Ipv4Addr::from_octets(192, 168, 1, 7), 32}},
        {"192.168.1.7/32", IpCidr{Ipv4Addr::from_octets(192, 168, 1, 7), 32}},
        {"0.0.0.0/0", IpCidr{kAny, 0}},
        {"172.16.0.0/12", IpCidr{Ipv4Addr::from_octets(172, 16, 0, 0), 12}},
        {"fd00::/8", IpCidr{Ipv6Addr{{0xfd}}, 8}},
        {"fd00::2", IpCidr{kContainer6, 128}},
        {"fd00::2/128", IpCidr{kContainer6, 128}},
        {"::/0", IpCidr{kAny6, 0}},
        {"2001:db8:0:1::/64", IpCidr{*parse_ipv6("2001:db8:0:1::"), 64}},
        {"2001:db8:0:2::/63", IpCidr{*parse_ipv6("2001:db8:0:2::"), 63}},
        {"fd00:0:0:ff80::/57", IpCidr{*parse_ipv6("fd00:0:0:ff80::"), 57}},
    };
    expect_accepts(parse_cidr, rows);
}

TEST(IpCidrParser, RejectsMalformedNetworks) {
    const std::vector<Rejection> rows = {
        {"10.0.0.1/8", "host bits are set (did you mean 10.0.0.0/8?)"},
        {"10.0.0.0/33", "prefix length after '/' must be 0-32"},
        {"10.0.0.0/", "prefix length"},
        {"10.0.0.0/x", "prefix length"},
        {"10.0.0.0/-1", "prefix length"},
        {"10.0.0.0/008", "prefix length"},
        {"10.0.0/8", "invalid IPv4 address"},
        {"/8", "invalid IPv4 address"},
        {"", "invalid IPv4 address"},
        {"10.0.0.0/8 ", "contains whitespace"},
        {"[::1]/128", "write it without brackets"},
        {"fd00::1/8", "host bits are set (did you mean fd00::/8?)"},
        {"fd00:0:0:ffc0::/57", "did you mean fd00:0:0:ff80::/57?"},
        {"2001:db8::1/127", "did you mean 2001:db8::/127?"},
        {"2001:db8:0:1::/63", "did you mean 2001:db8::/63?"},
        {"fd00::/129", "prefix length after '/' must be 0-128"},
        {"fd00::/0128", "prefix length"},
        {"fe80::%eth0/64", "zone ids are not supported"},
        {"zz::/8", "invalid IPv6 address"},
    };
    expect_rejects(parse_cidr, rows);
}

TEST(IpCidrParser, AllowListIsSortedWithoutDuplicates) {
    auto allow = parse_allow_list({"10.0.0.0/8", "192.168.1.7", "10.0.0.0/8", "1.2.3.0/24"});
    ASSERT_TRUE(allow) << allow.error().message;
    const std::vector<IpCidr> expected = {{Ipv4Addr::from_octets(1, 2, 3, 0), 24},
                                            {Ipv4Addr::from_octets(10, 0, 0, 0), 8},
                                            {Ipv4Addr::from_octets(192, 168, 1, 7), 32}};
    EXPECT_EQ(*allow, expected);
    EXPECT_FALSE(parse_allow_list({"10.0.0.0/8", "bad"}));
}

TEST(IpCidrParser, AllowListKeepsBothFamiliesIpv4First) {
    auto allow = parse_allow_list({"fd00::/8", "10.0.0.0/8", "::1", "fd00::/8"});
    ASSERT_TRUE(allow) << allow.error().message;
    const std::vector<IpCidr> expected = {
        {Ipv4Addr::from_octets(10, 0, 0, 0), 8}, {kLoopback6, 128}, {Ipv6Addr{{0xfd}}, 8}};
    EXPECT_EQ(*allow, expected);
}

// --- ProtoParser ----------------------------------------------------------------------

TEST(ProtoParser, AcceptsTcpAndUdpInAnyCase) {
    const std::vector<Accepted<Proto>> rows = {
        {"tcp", Proto::Tcp}, {"TCP", Proto::Tcp}, {"Tcp", Proto::Tcp},
        {"udp", Proto::Udp}, {"UDP", Proto::Udp}, {"uDp", Proto::Udp},
    };
    expect_accepts(parse_proto, rows);
}

TEST(ProtoParser, RejectsOtherProtocols) {
    const std::vector<Rejection> rows = {
        {"sctp", "protocol \"sctp\" is not supported (use tcp or udp)"},
        {"SCTP", "is not supported"},
        {"icmp", "unknown protocol \"icmp\" (use tcp or udp)"},
        {"tcp6", "unknown protocol"},
        {"tc", "unknown protocol"},
        {"", "missing protocol"},
    };
    expect_rejects(parse_proto, rows);
}

// --- PortRangeParser ------------------------------------------------------------------

TEST(PortRangeParser, AcceptsSinglePortsAndRanges) {
    const std::vector<Accepted<PortRange>> rows = {
        {"1", {1, 1}},
        {"80", {80, 80}},
        {"65535", {65535, 65535}},
        {"8000-8010", {8000, 8010}},
        {"80-80", {80, 80}},
        {"1-65535", {1, 65535}},
    };
    expect_accepts(parse_port_range, rows);
}

TEST(PortRangeParser, RejectsMalformedRanges) {
    const std::vector<Rejection> rows = {
        {"0", "invalid port \"0\": must be 1-65535"},
        {"65536", "invalid port \"65536\": must be 1-65535"},
        {"4294967376", "must be 1-65535"},  // 2^32 + 80: must not wrap to 80
        {"99999999999999999999999", "must be 1-65535"},
        {"80-70", "end 70 is below start 80"},
        {"0-5", R"(invalid port "0" in "0-5": must be 1-65535)"},
        {"80-", "missing port in \"80-\""},
        {"-80", "missing port in \"-80\""},
        {"1-2-3", "more than one \"-\""},
        {"+80", "not a decimal number"},
        {"abc", "not a decimal number"},
        {" 80", "contains whitespace"},
        {"", "empty port range"},
    };
    expect_rejects(parse_port_range, rows);
}

// --- HostSpecParser -------------------------------------------------------------------

TEST(HostSpecParser, AcceptsDocumentedForms) {
    const Ipv4Addr ten = Ipv4Addr::from_octets(10, 0, 0, 1);
    const std::vector<Accepted<HostSpec>> rows = {
        {"80", {kNoAddr, {80, 80}, Proto::Tcp}},
        {"80/tcp", {kNoAddr, {80, 80}, Proto::Tcp}},
        {"80/UDP", {kNoAddr, {80, 80}, Proto::Udp}},
        {"0.0.0.0:80/tcp", {kAny, {80, 80}, Proto::Tcp}},
        {"10.0.0.1:8000-8010/udp", {ten, {8000, 8010}, Proto::Udp}},
        {"10.0.0.1:443", {ten, {443, 443}, Proto::Tcp}},
        {"8000-8010", {kNoAddr, {8000, 8010}, Proto::Tcp}},
        {"65535/udp", {kNoAddr, {65535, 65535}, Proto::Udp}},
        {"[::]:8080/tcp", {kAny6, {8080, 8080}, Proto::Tcp}},
        {"[::1]:8080", {kLoopback6, {8080, 8080}, Proto::Tcp}},
        {"[FD00::2]:8000-8001/udp", {kContainer6, {8000, 8001}, Proto::Udp}},
    };
    expect_accepts(parse_host_spec, rows, [](const HostSpec& spec) {
        EXPECT_FALSE(spec.wants_allocation());
        return spec;
    });
}

TEST(HostSpecParser, TreatsLonePortZeroAsAllocation) {
    const std::vector<Accepted<HostSpec>> rows = {
        {"0", {kNoAddr, {0, 0}, Proto::Tcp}},
        {"0/udp", {kNoAddr, {0, 0}, Proto::Udp}},
        {"127.0.0.1:0", {Ipv4Addr{0x7f000001U}, {0, 0}, Proto::Tcp}},
        {"[::1]:0", {kLoopback6, {0, 0}, Proto::Tcp}},
    };
    expect_accepts(parse_host_spec, rows, [](const HostSpec& spec) {
        EXPECT_TRUE(spec.wants_allocation());
        return spec;
    });
}

TEST(HostSpecParser, RejectsMalformedSpecs) {
    const std::vector<Rejection> rows = {
        {"0.0.0.0:70000/tcp", R"(invalid port "70000" in "0.0.0.0:70000/tcp": must be 1-65535)"},
        {"300.1.1.1:80", "invalid IPv4 address \"300.1.1.1\""},
        {"80/sctp", "protocol \"sctp\" is not supported (use tcp or udp)"},
        {"80/icmp", "unknown protocol \"icmp\" (use tcp or udp)"},
        {"", "empty host spec"},
        {":80", R"(missing address before ":" in ":80")"},
        {"1.2.3.4:", "missing port in \"1.2.3.4:\""},
        {"80-70", "end 70 is below start 80"},
        {"0-5", R"(invalid port "0" in "0-5": must be 1-65535)"},
        {"abc", "invalid port \"abc\": not a decimal number"},
        {"1.2.3", "invalid port \"1.2.3\""},
        {"1.2.3:80", "invalid IPv4 address \"1.2.3\""},
        {"1.2.3.4.5:80", "invalid IPv4 address \"1.2.3.4.5\""},
        {"01.2.3.4:80", "without leading zeros"},
        {" 80", "invalid host spec \" 80\": contains whitespace"},
        {"80 ", "contains whitespace"},
        {"80\t/tcp", "contains whitespace"},
        {"80\0"s, "contains a non-printable byte"},
        {"80//tcp", "more than one \"/\""},
        {"80/tcp/udp", "more than one \"/\""},
        {"80/", "missing protocol after \"/\""},
        {"/tcp", "missing port"},
        {"1.2.3.4:80:90", "too many \":\""},
        {"::1:80", "too many \":\" (expected [ADDR:]PORT[-END][/PROTO]; an IPv6 address goes in brackets)"},
        {"[::1:80", R"(missing "]" after the IPv6 address in "[::1:80")"},
        {"[::1]", R"(expected ":PORT" after "]")"},
        {"[::1]]:80", R"(expected ":PORT" after "]")"},
        {"[::1]80", R"(expected ":PORT" after "]")"},
        {"[::1]:", "missing port"},
        {"[zz::]:80", "invalid IPv6 address \"zz::\" in \"[zz::]:80\""},
        {"[1.2.3.4]:80", "\"[1.2.3.4]\" in \"[1.2.3.4]:80\": only IPv6 addresses go in brackets"},
        {"[]:80", "only IPv6 addresses go in brackets"},
        {"[fe80::1%eth0]:80", "zone ids are not supported"},
        {"[::ffff:10.0.0.1]:80", "is IPv4-mapped IPv6: use the IPv4 address"},
        {"[::1]:80-70", "end 70 is below start 80"},
        {"+80", "not a decimal number"},
        {"-80", "missing port"},
        {"80-", "missing port"},
        {"65536", "invalid port \"65536\": must be 1-65535"},
        {"4294967376", "must be 1-65535"},  // 2^32 + 80: must not wrap to 80
        {"80-4294967376", "must be 1-65535"},
        {"0-0", "must be 1-65535"},
    };
    expect_rejects(parse_host_spec, rows);
}

TEST(HostSpecParser, EscapesAndShortensQuotedInput) {
    const auto result = parse_host_spec(std::string(10000, '9'));
    ASSERT_FALSE(result.has_value());
    EXPECT_LT(result.error().message.size(), 200U) << result.error().message;

    const auto with_nul = parse_host_spec(std::string{'8', '\0', '0'});
    ASSERT_FALSE(with_nul.has_value());
    EXPECT_NE(with_nul.error().message.find("\\x00"), std::string::npos);
    EXPECT_EQ(with_nul.error().message.find('\0'), std::string::npos);
}

// --- ContainerSpecParser --------------------------------------------------------------

TEST(ContainerSpecParser, AcceptsAddressWithPortOrRange) {
    const std::vector<Accepted<ContainerSpec>> rows = {
        {"172.17.0.2:8080", {kContainer, {8080, 8080}}},
        {"172.17.0.2:8080-8090", {kContainer, {8080, 8090}}},
        {"127.0.0.1:1", {Ipv4Addr{0x7f000001U}, {1, 1}}},
        {"223.255.255.254:65535", {Ipv4Addr::from_octets(223, 255, 255, 254), {65535, 65535}}},
        {"[fd00::2]:80", {kContainer6, {80, 80}}},
        {"[fd00:0::2]:80-81", {kContainer6, {80, 81}}},
        {"[::1]:1", {kLoopback6, {1, 1}}},
    };
    expect_accepts(parse_container_spec, rows);
}

TEST(ContainerSpecParser, RejectsMalformedSpecs) {
    const std::vector<Rejection> rows = {
        {"8080", "missing container address in \"8080\""},
        {":8080", "missing container address"},
        {"", "empty container spec"},
        {"0.0.0.0:80", "container address \"0.0.0.0\" must be a unicast address"},
        {"255.255.255.255:80", "must be a unicast address"},
        {"224.0.0.1:80", "must be a unicast address"},
        {"239.255.255.255:80", "must be a unicast address"},
        {"172.17.0.2:0", R"(invalid port "0" in "172.17.0.2:0": must be 1-65535)"},
        {"172.17.0.2:", "missing port in \"172.17.0.2:\""},
        {"172.17.0.2:8080/tcp", "takes no protocol"},
        {"172.17.0.2:8090-8080", "end 8080 is below start 8090"},
        {"172.17.0.2:70000", "must be 1-65535"},
        {"172.17.0.2:80:90", "too many \":\""},
        {"300.17.0.2:80", "invalid IPv4 address \"300.17.0.2\""},
        {"[::]:80", "container address \"[::]\" must be a unicast address"},
        {"[ff02::1]:80", "must be a unicast address"},
        {"[::ffff:172.17.0.2]:80", "container address \"[::ffff:172.17.0.2]\" must be a unicast"},
        {"[fd00::2:80", R"(missing "]")"},
        {"[fd00::2]]:80", R"(expected ":PORT" after "]")"},
        {"[zz::]:80", "invalid IPv6 address"},
        {"[1.2.3.4]:80", "only IPv6 addresses go in brackets"},
        {"[fe80::2%eth0]:80", "zone ids are not supported"},
        {"fd00::2:80", "too many \":\""},
        {"[fd00::2]", R"(expected ":PORT" after "]")"},
        {"172.17.0.2 :80", "contains whitespace"},
    };
    expect_rejects(parse_container_spec, rows);
}

// --- PoolRangeParser ------------------------------------------------------------------

TEST(PoolRangeParser, AcceptsRanges) {
    const std::vector<Accepted<PortRange>> rows = {
        {"49000-49900", {49000, 49900}},
        {"49153-65535", {49153, 65535}},
        {"1000-1000", {1000, 1000}},
    };
    expect_accepts(parse_pool_range, rows);
}

TEST(PoolRangeParser, RejectsMalformedRanges) {
    const std::vector<Rejection> rows = {
        {"49900-49000", "end 49000 is below start 49900"},
        {"0-10", "must be 1-65535"},
        {"5", "invalid port range \"5\": expected A-B"},
        {"", "empty port range"},
        {"49000-70000", "must be 1-65535"},
        {"49000 - 49900", "contains whitespace"},
    };
    expect_rejects(parse_pool_range, rows);
}

// --- SpecPair -------------------------------------------------------------------------

HostSpec host(std::string_view text) {
    auto result = parse_host_spec(text);
    EXPECT_TRUE(result.has_value()) << text;
    return result.has_value() ? *result : HostSpec{};
}

ContainerSpec container(std::string_view text) {
    auto result = parse_container_spec(text);
    EXPECT_TRUE(result.has_value()) << text;
    return result.has_value() ? *result : ContainerSpec{};
}

TEST(SpecPair, AcceptsEqualSizes) {
    const std::vector<std::pair<std::string, std::string>> rows = {
        {"80", "172.17.0.2:8080"},
        {"8000-8010/udp", "172.17.0.2:9000-9010"},
        {"0", "172.17.0.2:8080"},
    };
    for (const auto& [host_text, container_text] : rows) {
        SCOPED_TRACE(::testing::Message() << host_text << " " << container_text);
        const auto result = check_spec_pair(host(host_text), container(container_text));
        EXPECT_TRUE(result.has_value()) << result.error().message;
    }
}

TEST(SpecPair, AcceptsIpv6AndAddresslessHostForEitherFamily) {
    EXPECT_TRUE(check_spec_pair(host("[::]:8080"), container("[fd00::2]:80")));
    EXPECT_TRUE(check_spec_pair(host("8000-8001"), container("[fd00::2]:80-81")));
    EXPECT_TRUE(check_spec_pair(host("0"), container("[fd00::2]:80")));
    EXPECT_EQ(host("8080").addr_for(Family::V6), IpAddr::any(Family::V6));
    EXPECT_EQ(host("8080").addr_for(Family::V4), IpAddr::any(Family::V4));
    EXPECT_EQ(host("[::1]:8080").addr_for(Family::V6), IpAddr(kLoopback6));
}

TEST(SpecPair, RejectsMixedFamilies) {
    for (const auto& [host_text, container_text] :
         std::vector<std::pair<std::string, std::string>>{{"[::]:80", "172.17.0.2:80"},
                                                          {"0.0.0.0:80", "[fd00::2]:80"},
                                                          {"127.0.0.1:80", "[::1]:80"}}) {
        const auto result = check_spec_pair(host(host_text), container(container_text));
        ASSERT_FALSE(result.has_value()) << host_text;
        EXPECT_EQ(result.error().code, ErrorCode::InvalidInput);
        EXPECT_NE(result.error().message.find("are of different families (fwd does not translate "
                                              "between IPv4 and IPv6)"),
                  std::string::npos)
            << result.error().message;
    }
}

TEST(SpecPair, RejectsUnequalSizesNamingBoth) {
    const auto result = check_spec_pair(host("8000-8010"), container("172.17.0.2:9000-9005"));
    ASSERT_FALSE(result.has_value());
    EXPECT_EQ(result.error().code, ErrorCode::InvalidInput);
    const auto& message = result.error().message;
    EXPECT_NE(message.find("8000-8010 (11 ports)"), std::string::npos) << message;
    EXPECT_NE(message.find("9000-9005 (6 ports)"), std::string::npos) << message;
}

TEST(SpecPair, RejectsSinglePortAgainstRange) {
    const auto result = check_spec_pair(host("80"), container("172.17.0.2:8080-8081"));
    ASSERT_FALSE(result.has_value());
    EXPECT_NE(result.error().message.find("(1 port)"), std::string::npos) << result.error().message;
    EXPECT_NE(result.error().message.find("(2 ports)"), std::string::npos)
        << result.error().message;
}

TEST(SpecPair, RejectsAllocationWithContainerRange) {
    const auto result = check_spec_pair(host("0"), container("172.17.0.2:8080-8090"));
    ASSERT_FALSE(result.has_value());
    EXPECT_EQ(result.error().code, ErrorCode::InvalidInput);
    EXPECT_NE(result.error().message.find("needs a single container port"), std::string::npos)
        << result.error().message;
}

// --- MappingFormat --------------------------------------------------------------------

TEST(MappingFormat, PrintsProtocolNames) {
    EXPECT_EQ(to_string(Proto::Tcp), "tcp");
    EXPECT_EQ(to_string(Proto::Udp), "udp");
}

TEST(MappingFormat, PrintsDottedQuads) {
    EXPECT_EQ(kAny.to_string(), "0.0.0.0");
    EXPECT_EQ(kContainer.to_string(), "172.17.0.2");
    EXPECT_EQ(Ipv4Addr{0xffffffffU}.to_string(), "255.255.255.255");
    EXPECT_EQ(Ipv4Addr::from_octets(10, 0, 200, 1).to_string(), "10.0.200.1");
}

TEST(MappingFormat, PrintsMappingAndHostKey) {
    const auto m = make_mapping(kAny, 80, Proto::Tcp, kContainer, 8080);
    EXPECT_EQ(to_string(m), "0.0.0.0:80/tcp -> 172.17.0.2:8080");
    EXPECT_EQ(host_key_string(m), "0.0.0.0:80/tcp");

    const auto udp = make_mapping(Ipv4Addr{0x7f000001U}, 5353, Proto::Udp, kContainer, 53);
    EXPECT_EQ(to_string(udp), "127.0.0.1:5353/udp -> 172.17.0.2:53");
    EXPECT_EQ(host_key_string(udp), "127.0.0.1:5353/udp");

    auto v6 = make_mapping(kAny6, 8080, Proto::Tcp, kContainer6, 80);
    v6.allow = parse_allow_list({"fd00::/8", "10.0.0.0/8"}).value();
    EXPECT_EQ(to_string(v6), "[::]:8080/tcp -> [fd00::2]:80 allow 10.0.0.0/8,fd00::/8");
    EXPECT_EQ(host_key_string(v6), "[::]:8080/tcp");
}

TEST(MappingFormat, OrdersByAddressPortThenProtocol) {
    const Ipv4Addr ten = Ipv4Addr::from_octets(10, 0, 0, 1);
    const Ipv4Addr other = Ipv4Addr::from_octets(172, 17, 0, 3);
    const std::vector<Mapping> expected = {
        make_mapping(kAny, 80, Proto::Tcp, kContainer, 8080),
        make_mapping(kAny, 80, Proto::Udp, kContainer, 8080),
        make_mapping(kAny, 443, Proto::Tcp, kContainer, 8443),
        make_mapping(kAny, 1000, Proto::Tcp, kContainer, 1),
        make_mapping(kAny, 1000, Proto::Tcp, other, 1),
        make_mapping(ten, 22, Proto::Tcp, kContainer, 22),
        make_mapping(ten, 22, Proto::Tcp, kContainer, 2222),
        make_mapping(kAny6, 80, Proto::Tcp, kContainer6, 8080),
        make_mapping(kAny6, 443, Proto::Tcp, kContainer6, 8443),
        make_mapping(kLoopback6, 22, Proto::Tcp, kContainer6, 22),
    };
    auto shuffled = expected;
    std::reverse(shuffled.begin(), shuffled.end());
    std::swap(shuffled[1], shuffled[4]);
    std::sort(shuffled.begin(), shuffled.end(), list_order);
    EXPECT_EQ(shuffled, expected);

    for (const auto& m : expected) {
        EXPECT_FALSE(list_order(m, m)) << to_string(m);  // irreflexive
    }
}

}  // namespace
}  // namespace fwd::ctl

namespace fwd::ctl {
namespace {

TEST(AttachOptionsParsing, MapSizesWithinTheAbiBounds) {
    const auto mappings = loader::max_mappings_bounds();
    const auto flows = loader::max_flows_bounds();
    EXPECT_EQ(mappings.min, 16U);
    EXPECT_EQ(mappings.max, 1048576U);
    EXPECT_EQ(flows.min, 1024U);
    EXPECT_EQ(flows.max, 16777216U);
    EXPECT_EQ(parse_max_mappings("16").value(), 16U);
    EXPECT_EQ(parse_max_mappings("65536").value(), loader::default_map_sizes().max_mappings);
    EXPECT_EQ(parse_max_mappings("1048576").value(), 1048576U);
    EXPECT_EQ(parse_max_flows("1024").value(), 1024U);
    EXPECT_EQ(parse_max_flows("16777216").value(), 16777216U);
    for (const char* bad : {"", "15", "1048577", "-16", "+16", " 16", "16 ", "0x10", "1e5", "16k",
                            "4294967312", "99999999999999999999"}) {
        auto value = parse_max_mappings(bad);
        ASSERT_FALSE(value) << bad;
        EXPECT_EQ(value.error().code, ErrorCode::InvalidInput);
    }
    for (const char* bad : {"", "1023", "16777217", "0", "2k", "1024.0"}) {
        auto value = parse_max_flows(bad);
        ASSERT_FALSE(value) << bad;
        EXPECT_EQ(value.error().code, ErrorCode::InvalidInput);
    }
    EXPECT_EQ(parse_max_mappings("8").error().message,
              "invalid --max-mappings \"8\": must be a number from 16 to 1048576");
    EXPECT_EQ(parse_max_flows("lots").error().message,
              "invalid --max-flows \"lots\": must be a number from 1024 to 16777216");
}

TEST(AttachOptionsParsing, ModesAndSwitches) {
    EXPECT_EQ(parse_attach_mode("tc").value(), loader::AttachMode::Tc);
    EXPECT_EQ(parse_attach_mode("xdp").value(), loader::AttachMode::Xdp);
    for (const char* bad : {"", "XDP", "tcx", "xdp "}) {
        auto mode = parse_attach_mode(bad);
        ASSERT_FALSE(mode) << bad;
        EXPECT_EQ(mode.error().code, ErrorCode::InvalidInput);
    }
    EXPECT_TRUE(parse_on_off("on").value());
    EXPECT_FALSE(parse_on_off("off").value());
    for (const char* bad : {"", "yes", "1", "ON"}) {
        auto value = parse_on_off(bad);
        ASSERT_FALSE(value) << bad;
        EXPECT_EQ(value.error().code, ErrorCode::InvalidInput);
    }
}

}  // namespace
}  // namespace fwd::ctl
