// Table-driven tests for the Docker-syntax parsers: -p, --expose, --env, the `port` argument,
// --link and container names. Accepted forms include every example of Docker's `run`
// documentation; rejections cover each error kind and check the message names the problem.
#include "fwd/ctl/docker_spec.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "support/spec_test_support.h"

namespace fwd::ctl {
namespace {

using namespace std::string_literals;

using test::Accepted;
using test::expect_accepts;
using test::expect_rejects;
using test::format_ports;
using test::format_proto;
using test::Rejection;

// The test's own rendering of a request, so a table row reads like the binding it means:
// "8080/tcp <- 127.0.0.1:80", with "pool" for {0,0}, "A-B" for an allocation range and "*"
// for no HOSTIP (every family the container has).
std::string describe(const PublishRequest& request) {
    const auto& hosts = request.host_ports;
    const auto host_ports = hosts.first == 0 && hosts.last == 0 ? "pool"s : format_ports(hosts);
    const auto host_ip = request.host_addr ? request.host_addr->to_endpoint_string() : "*"s;
    return fmt::format("{}/{} <- {}:{}", request.container.port,
                       format_proto(request.container.proto), host_ip, host_ports);
}

std::vector<std::string> describe(const std::vector<PublishRequest>& requests) {
    std::vector<std::string> out;
    out.reserve(requests.size());
    for (const auto& request : requests) {
        out.push_back(describe(request));
    }
    return out;
}

// "8000/tcp <- *:pool" ... for every port of first..last.
std::vector<std::string> pooled(int first, int last) {
    std::vector<std::string> out;
    for (int port = first; port <= last; ++port) {
        out.push_back(fmt::format("{}/tcp <- *:pool", port));
    }
    return out;
}

// --- PublishSpecParser ----------------------------------------------------------------

TEST(PublishSpecParser, AcceptsDocumentedForms) {
    const std::vector<Accepted<std::vector<std::string>>> rows = {
        // The examples of `docker run --help` and the "Publish or expose port" docs.
        {"8080", {"8080/tcp <- *:pool"}},
        {"80:8080", {"8080/tcp <- *:80"}},
        {"127.0.0.1:80:8080", {"8080/tcp <- 127.0.0.1:80"}},
        {"127.0.0.1::8080", {"8080/tcp <- 127.0.0.1:pool"}},
        {"53:5353/udp", {"5353/udp <- *:53"}},
        {"8080/tcp", {"8080/tcp <- *:pool"}},
        {"1000-1002:2000-2002",
         {"2000/tcp <- *:1000", "2001/tcp <- *:1001", "2002/tcp <- *:1002"}},
        {"7000-7010:80", {"80/tcp <- *:7000-7010"}},
        {"8000-8010", pooled(8000, 8010)},
        {"80:8080/TCP", {"8080/tcp <- *:80"}},
        {"80:8080/Udp", {"8080/udp <- *:80"}},
        // Docker's split gives these empty host parts, which mean "any address, any port".
        {"::80", {"80/tcp <- *:pool"}},
        {":8080", {"8080/tcp <- *:pool"}},
        // Host port 0 is Docker's other way to ask for a pool port.
        {"0:8080", {"8080/tcp <- *:pool"}},
        {"000:8080/udp", {"8080/udp <- *:pool"}},
        {"127.0.0.1:0:8080", {"8080/tcp <- 127.0.0.1:pool"}},
        {"0.0.0.0:80:8080", {"8080/tcp <- 0.0.0.0:80"}},
        {"10.0.0.1:8000-8001:9000-9001/udp",
         {"9000/udp <- 10.0.0.1:8000", "9001/udp <- 10.0.0.1:8001"}},
        {"127.0.0.1:7000-7010:80/udp", {"80/udp <- 127.0.0.1:7000-7010"}},
        {"80-80:8080-8080", {"8080/tcp <- *:80"}},
        {"65535:65535/udp", {"65535/udp <- *:65535"}},
        {"1:1", {"1/tcp <- *:1"}},
        // Docker strips brackets before parsing the address, IPv4 included.
        {"[127.0.0.1]:80:8080", {"8080/tcp <- 127.0.0.1:80"}},
        // IPv6 host IPs, bracketed or in Docker's unbracketed form (HOSTIP is everything before
        // the last two ':'-separated parts).
        {"[::1]:80:8080", {"8080/tcp <- [::1]:80"}},
        {"::1:8080:80", {"80/tcp <- [::1]:8080"}},
        {"[::]::8080/udp", {"8080/udp <- [::]:pool"}},
        {"fd00::1:8000-8001:80-81", {"80/tcp <- [fd00::1]:8000", "81/tcp <- [fd00::1]:8001"}},
        {"[FD00:0::1]:7000-7010:80", {"80/tcp <- [fd00::1]:7000-7010"}},
        // Go's ParseUint reads leading zeros as decimal, so does fwd.
        {"080:08080", {"8080/tcp <- *:80"}},
    };
    expect_accepts(parse_publish_spec, rows,
                   [](const std::vector<PublishRequest>& requests) { return describe(requests); });
}

TEST(PublishSpecParser, FillsRequestFields) {
    const auto result = parse_publish_spec("127.0.0.1:7000-7010:53/udp");
    ASSERT_TRUE(result.has_value()) << result.error().message;
    ASSERT_EQ(result->size(), 1U);
    const PublishRequest expected{
        {53, Proto::Udp}, Ipv4Addr::from_octets(127, 0, 0, 1), PortRange{7000, 7010}};
    EXPECT_EQ(result->front(), expected);
}

TEST(PublishSpecParser, RejectsMalformedSpecs) {
    const std::vector<Rejection> rows = {
        // Empty parts where a port must be.
        {"", "no port specified"},
        {"80:", R"(-p "80:": no port specified)"},
        {"127.0.0.1:80:", "no port specified"},
        {"127.0.0.1:80:8080:", "no port specified"},
        {"::", "no port specified"},
        {"/tcp", "no port specified"},
        {"80:/udp", "no port specified"},
        {"8080/", "missing protocol"},
        // Protocols.
        {"80:8080/sctp", R"(protocol "sctp" is not supported (use tcp or udp))"},
        {"80:8080/SCTP", R"(protocol "SCTP" is not supported)"},
        {"80:8080/icmp", R"(unknown protocol "icmp")"},
        {"8080/tcp/udp", R"(unknown protocol "tcp/udp")"},
        // Host IPs.
        {"[fe80::1%eth0]::8080", R"(-p "[fe80::1%eth0]::8080": IPv6 address "fe80::1%eth0" has a zone id)"},
        {"fe80::1%eth0:80:8080", "zone ids are not supported"},
        {"[::ffff:1.2.3.4]:80:8080", R"(host IP "[::ffff:1.2.3.4]" is IPv4-mapped IPv6: use the IPv4 address)"},
        {"[zz::]:80:8080", R"(invalid IPv6 address "zz::")"},
        {"[1::2::3]:80:8080", R"(invalid IPv6 address "1::2::3")"},
        {"[::1]:80", R"(unbalanced "[" in host IP "[:")"},
        {"[::1:80:8080", R"(unbalanced "[")"},
        {"[]:80:8080", R"(invalid IPv4 address "")"},
        {"300.1.1.1:80:80", R"(invalid IPv4 address "300.1.1.1")"},
        {"localhost:80:80", R"(invalid IPv4 address "localhost")"},
        {"1.2.3:80:80", R"(invalid IPv4 address "1.2.3")"},
        {"80::8080", R"(invalid IPv4 address "80")"},
        {"1.2.3.4:5:80:8080", R"(too many ":" (host IP "1.2.3.4:5" is not an address)"},
        {"1:2:3:4", R"(too many ":")"},
        // Container ports.
        {"0", R"(-p "0": container port: invalid port "0": must be 1-65535)"},
        {"80:0", "container port: invalid port \"0\": must be 1-65535"},
        {"80:65536", "must be 1-65535"},
        {"80:abc", R"(container port: invalid port "abc": not a decimal number)"},
        {"80:+8080", "not a decimal number"},
        {"80:8080x", "not a decimal number"},
        {"80:-8080", R"(missing port in "-8080")"},
        {"80:8080-", R"(missing port in "8080-")"},
        {"80:1-2-3", R"(more than one "-")"},
        {"80:8080-8070", "end 8070 is below start 8080"},
        {"8000-0", R"(invalid port "0" in "8000-0")"},
        // Host ports.
        {"65536:80", R"(host port: invalid port "65536": must be 1-65535)"},
        {"4294967376:80", "host port: invalid port \"4294967376\": must be 1-65535"},
        {"abc:80", R"(host port: invalid port "abc": not a decimal number)"},
        {"90-80:8080", R"(host port: invalid port range "90-80": end 80 is below start 90)"},
        {"0-10:80", R"(host port: invalid port "0" in "0-10")"},
        // Range sizes.
        {"1000-1001:2000-2002",
         "invalid ranges specified for container and host ports: 2000-2002 and 1000-1001"},
        {"80:8000-8010", "invalid ranges specified for container and host ports: 8000-8010 and 80"},
        {"0:8000-8010", "invalid ranges specified for container and host ports: 8000-8010 and 0"},
        // Bytes no spec contains.
        {" 80:8080", R"(-p " 80:8080": contains whitespace)"},
        {"80:8080 ", "contains whitespace"},
        {"80:8080\n", "contains whitespace"},
        {"80:\t8080", "contains whitespace"},
        {"80\0:8080"s, R"(-p "80\x00:8080": contains a non-printable byte)"},
        {"\xff"
         "80:80",
         "contains a non-printable byte"},
    };
    expect_rejects(parse_publish_spec, rows);
}

TEST(PublishSpecParser, CutsLongInputShortInMessages) {
    const std::string input(100000, '9');
    const auto result = parse_publish_spec(input);
    ASSERT_FALSE(result.has_value());
    EXPECT_LT(result.error().message.size(), 300U) << result.error().message;
    EXPECT_NE(result.error().message.find("...\""), std::string::npos);
}

TEST(PublishSpecParser, ExpandsTheWholePortSpace) {
    const auto result = parse_publish_spec("1-65535:1-65535/udp");
    ASSERT_TRUE(result.has_value()) << result.error().message;
    ASSERT_EQ(result->size(), 65535U);
    EXPECT_EQ(describe(result->back()), "65535/udp <- *:65535");
}

// --- ExposeSpecParser -----------------------------------------------------------------

TEST(ExposeSpecParser, AcceptsPortsAndRanges) {
    const std::vector<Accepted<std::vector<ContainerPort>>> rows = {
        {"80", {{80, Proto::Tcp}}},
        {"80/udp", {{80, Proto::Udp}}},
        {"443/TCP", {{443, Proto::Tcp}}},
        {"8000-8002", {{8000, Proto::Tcp}, {8001, Proto::Tcp}, {8002, Proto::Tcp}}},
        {"53-54/udp", {{53, Proto::Udp}, {54, Proto::Udp}}},
        {"65535", {{65535, Proto::Tcp}}},
        {"7-7/udp", {{7, Proto::Udp}}},
    };
    expect_accepts(parse_expose_spec, rows);
}

TEST(ExposeSpecParser, RejectsMalformedSpecs) {
    const std::vector<Rejection> rows = {
        {"", R"(--expose "": no port specified (expected PORT[-END][/PROTO]))"},
        {"/udp", "no port specified"},
        {"80:80", R"(--expose "80:80": invalid port format)"},
        {"0", R"(--expose "0": invalid port "0": must be 1-65535)"},
        {"65536", "must be 1-65535"},
        {"90-80", "end 80 is below start 90"},
        {"abc", "not a decimal number"},
        {"80/sctp", R"(protocol "sctp" is not supported)"},
        {"80/icmp", R"(unknown protocol "icmp")"},
        {"80/", "missing protocol"},
        {" 80", "contains whitespace"},
    };
    expect_rejects(parse_expose_spec, rows);
}

TEST(ExposeSpecParser, FormatsContainerPortsAsDockerNamesThem) {
    EXPECT_EQ(to_string(ContainerPort{8080, Proto::Tcp}), "8080/tcp");
    EXPECT_EQ(to_string(ContainerPort{53, Proto::Udp}), "53/udp");
}

// --- EnvParser ------------------------------------------------------------------------

TEST(EnvParser, SplitsAtTheFirstEquals) {
    const std::vector<Accepted<EnvVar>> rows = {
        {"A=1", {"A", "1"}},
        {"FOO=bar", {"FOO", "bar"}},
        {"_X=", {"_X", ""}},
        {"K=a=b", {"K", "a=b"}},
        {"Path_2=x y", {"Path_2", "x y"}},
        {"TAB=a\tb", {"TAB", "a\tb"}},
        {"U=\xc3\xa9", {"U", "\xc3\xa9"}},
    };
    expect_accepts(parse_env, rows);
}

TEST(EnvParser, NeverQuotesTheValue) {
    for (const std::string input : {"1A=s3cret", "A B=s3cret", "K=s3cret\n"}) {
        const auto result = parse_env(input);
        ASSERT_FALSE(result.has_value()) << input;
        EXPECT_EQ(result.error().message.find("s3cret"), std::string::npos)
            << result.error().message;
    }
}

TEST(EnvParser, RejectsBadVariables) {
    const std::vector<Rejection> rows = {
        {"FOO", R"(--env "FOO": expected K=V)"},
        {"", "expected K=V"},
        {"=x", R"(--env: invalid variable name "" (use [A-Za-z_][A-Za-z0-9_]*))"},
        {"1A=x", R"(invalid variable name "1A")"},
        {"A-B=x", R"(invalid variable name "A-B")"},
        {"A B=x", R"(invalid variable name "A B")"},
        {"K=a\nb", R"(--env "K": value contains a control character)"},
        {"K=\x7f", "value contains a control character"},
    };
    expect_rejects(parse_env, rows);
}

// --- PortQueryParser ------------------------------------------------------------------

TEST(PortQueryParser, DefaultsToTcp) {
    const std::vector<Accepted<ContainerPort>> rows = {
        {"80", {80, Proto::Tcp}},     {"80/tcp", {80, Proto::Tcp}},
        {"53/udp", {53, Proto::Udp}}, {"65535/udp", {65535, Proto::Udp}},
        {"1", {1, Proto::Tcp}},
    };
    expect_accepts(parse_port_query, rows);
}

TEST(PortQueryParser, RejectsWhatDockerCannotFind) {
    const std::vector<Rejection> rows = {
        {"", "no port specified (expected PORT[/PROTO])"},
        {"/tcp", "no port specified"},
        {"0", R"(port "0": invalid port "0": must be 1-65535)"},
        {"65536", "must be 1-65535"},
        {"http", "not a decimal number"},
        {"80-81", "expected a single port"},
        {"80/TCP", R"(protocol "TCP" must be lower-case (tcp or udp))"},
        {"80/sctp", R"(protocol "sctp" is not supported)"},
        {"80/icmp", R"(unknown protocol "icmp")"},
        {"80/", "missing protocol"},
        {"80 ", "contains whitespace"},
    };
    expect_rejects(parse_port_query, rows);
}

// --- LinkParser -----------------------------------------------------------------------

TEST(LinkParser, DefaultsAliasToServer) {
    const std::vector<Accepted<LinkSpec>> rows = {
        {"web", {"web", "web"}},
        {"web:db", {"web", "db"}},
        {"my-web.1:my_db", {"my-web.1", "my_db"}},
        {"Web2:DB", {"Web2", "DB"}},
    };
    expect_accepts(parse_link, rows);
}

TEST(LinkParser, RejectsBadNamesAndForms) {
    const std::vector<Rejection> rows = {
        {"", R"(--link "": invalid name "")"},
        {"web:", R"(--link "web:": invalid name "")"},
        {":db", R"(invalid name "")"},
        {"a:b:c", R"(--link "a:b:c": too many ":" (expected SERVER[:ALIAS]))"},
        {"-web", R"(invalid name "-web")"},
        {"web:d b", R"(invalid name "d b")"},
        {"/web:/app/db", R"(invalid name "/web")"},
    };
    expect_rejects(parse_link, rows);
}

// --- NameValidator --------------------------------------------------------------------

TEST(NameValidator, AcceptsDockerNames) {
    const std::vector<std::string> names = {"web", "a", "Web_1.2-3", "9lives",
                                            std::string(128, 'a')};
    for (const auto& name : names) {
        SCOPED_TRACE(name);
        const auto result = validate_name(name);
        EXPECT_TRUE(result.has_value()) << result.error().message;
    }
}

TEST(NameValidator, RejectsOtherNames) {
    const std::vector<Rejection> rows = {
        {"", R"(invalid name "": use [a-zA-Z0-9][a-zA-Z0-9_.-]*)"},
        {"_web", R"(invalid name "_web")"},
        {".web", R"(invalid name ".web")"},
        {"-web", R"(invalid name "-web")"},
        {"we b", R"(invalid name "we b")"},
        {"web/1", R"(invalid name "web/1")"},
        {"w\xc3\xa9"
         "b",
         R"(invalid name "w\xc3\xa9b")"},
        {"we\nb", R"(invalid name "we\x0ab")"},
        {std::string(129, 'a'), "longer than 128 characters"},
    };
    expect_rejects(validate_name, rows);
}

}  // namespace
}  // namespace fwd::ctl
