// fwd-docker-proxy's command line: the flags dockerd passes, in the forms Go's flag package
// accepts, newer flags ignored, and one clear error for anything else.
#include "fwd/ctl/docker_proxy.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace fwd::ctl {
namespace {

TEST(DockerProxyArgs, ReadsWhatDockerdPasses) {
    const ProxyRequest expected{Proto::Udp, Ipv4Addr::from_octets(127, 0, 0, 1), 5353,
                                Ipv4Addr::from_octets(172, 17, 0, 2), 53};
    const std::vector<std::vector<std::string>> forms = {
        {"-proto", "udp", "-host-ip", "127.0.0.1", "-host-port", "5353", "-container-ip",
         "172.17.0.2", "-container-port", "53"},
        {"--proto=udp", "--host-ip=127.0.0.1", "--host-port=5353", "--container-ip=172.17.0.2",
         "--container-port=53"},
        // Newer dockerd versions add flags: a switch, and one with its value attached.
        {"-proto", "udp", "-host-ip", "127.0.0.1", "-host-port", "5353", "-container-ip",
         "172.17.0.2", "-container-port", "53", "-use-listen-fd", "-some-future=1"},
    };
    for (const auto& args : forms) {
        const auto request = parse_proxy_args(args);
        ASSERT_TRUE(request) << request.error().message;
        EXPECT_EQ(*request, expected);
    }
}

// dockerd runs one proxy per family for a dual-stack port, both with the same host port.
TEST(DockerProxyArgs, ReadsIpv6Requests) {
    const auto request = parse_proxy_args({"-proto", "tcp", "-host-ip", "::", "-host-port", "8080",
                                           "-container-ip", "fd00::2", "-container-port", "80"});
    ASSERT_TRUE(request) << request.error().message;
    EXPECT_EQ(request->host_ip, IpAddr::any(Family::V6));
    EXPECT_EQ(request->container_ip.to_string(), "fd00::2");
    EXPECT_EQ(request->host_port, 8080);
    EXPECT_EQ(request->container_port, 80);
    const auto loopback = parse_proxy_args({"--proto=udp", "--host-ip=::1", "--host-port=53",
                                            "--container-ip=fd00::2", "--container-port=53"});
    ASSERT_TRUE(loopback) << loopback.error().message;
    EXPECT_EQ(loopback->host_ip.to_string(), "::1");
}

TEST(DockerProxyArgs, RejectsWhatItCannotServe) {
    const std::vector<std::string> base = {"-proto", "tcp", "-host-ip", "0.0.0.0",
                                           "-host-port", "80", "-container-ip", "172.17.0.2",
                                           "-container-port", "8080"};
    const auto with = [&](std::size_t index, const std::string& value) {
        auto args = base;
        args[index] = value;
        return args;
    };
    const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
        {with(1, "sctp"), "sctp"},
        {with(3, "::"), "-host-ip :: and -container-ip 172.17.0.2 are of different families"},
        {with(7, "fd00::2"), "-host-ip 0.0.0.0 and -container-ip fd00::2 are of different families"},
        {with(3, "[::]"), "write it without brackets"},
        {with(3, "fe80::1%eth0"), "zone ids are not supported"},
        {with(7, "fd00::zz"), "invalid IPv6 address"},
        {with(5, "0"), "-host-port \"0\": not a port 1-65535"},
        {with(9, "80-81"), "-container-port \"80-81\": not a port"},
        {std::vector<std::string>(base.begin(), base.end() - 2), "missing -container-port"},
        {std::vector<std::string>(base.begin(), base.end() - 1), "flag -container-port needs a value"},
        {{"tcp"}, "unexpected argument \"tcp\""},
    };
    for (const auto& [args, message] : cases) {
        const auto request = parse_proxy_args(args);
        ASSERT_FALSE(request) << message;
        EXPECT_NE(request.error().message.find(message), std::string::npos)
            << request.error().message;
    }
}

TEST(DockerProxyArgs, MappingNamesAreValidAndPerProcess) {
    EXPECT_EQ(proxy_mapping_name(4242), "docker-proxy.4242");
    EXPECT_NE(proxy_mapping_name(1), proxy_mapping_name(2));
}

}  // namespace
}  // namespace fwd::ctl
