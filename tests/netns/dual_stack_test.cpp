// End-to-end: IPv6 published ports through the TC (and XDP) programs, and dual-stack publishing
// (one host port on 0.0.0.0 and [::], as Docker does). MainTopology with its IPv6 addresses
// (MainTopology6): client fd00:77:1::2 -> host up0 fd00:77:1::1; containers on fbr0
// fd00:30::/64 (c1 fd00:30::2).
#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include "support/main_topology_test.h"
#include "support/netns_fixture.h"

namespace fwd::test {
namespace {

using std::chrono::milliseconds;

constexpr milliseconds kSilence{1500};  // a dropped SYN shows as silence this long
const std::string kC1Target6 = std::string("[") + MainTopology6::kC1Addr + "]";

class DualStack : public MainTopologyTest {
protected:
    void SetUp() override {
        MainTopologyTest::SetUp();
        if (IsSkipped() || HasFatalFailure()) return;
        add_main_topology_ipv6(*net_, topo_);
    }

    // Starts IPv6 tag servers on c1 (TCP 8080, UDP 53) beside the IPv4 ones.
    void StartServers6() {
        tcp_servers_.push_back(std::make_unique<TcpTagServer>(topo_.c1, Endpoint{"::", 8080}, "c1"));
        udp_servers_.push_back(std::make_unique<UdpTagServer>(topo_.c1, Endpoint{"::", 53}, "c1"));
    }

    // One TCP exchange from the client: the peer it sees is `dst`, and c1 saw `client`.
    void ExpectTcp(const Endpoint& dst, const std::string& client) {
        SCOPED_TRACE("TCP to " + dst.str());
        TcpConnection conn = TcpConnection::connect(topo_.client, dst, kExchangeTimeout);
        ASSERT_TRUE(conn.ok()) << "connect to " << dst.str() << ": " << conn.error_text();
        EXPECT_EQ(conn.peer(), dst);
        EXPECT_EQ(conn.request("hello", kExchangeTimeout), "c1 " + client + " hello");
    }

    void ExpectUdp(const Endpoint& dst, const std::string& client) {
        SCOPED_TRACE("UDP to " + dst.str());
        const auto reply = udp_request(topo_.client, dst, "ping", kExchangeTimeout);
        ASSERT_TRUE(reply.has_value()) << "no UDP reply from " << dst.str();
        EXPECT_EQ(reply->from, dst) << "the reply's source is the published address";
        EXPECT_EQ(reply->payload, "c1 " + client + " ping");
    }
};

// The IPv6 twin of EndToEnd.TcpThroughMapping/UdpThroughMapping, in each attach mode: the
// client's own address reaches the container and replies come from the published address.
class DualStackModes : public DualStack,
                       public ::testing::WithParamInterface<std::vector<std::string>> {};

TEST_P(DualStackModes, Ipv6TcpAndUdpKeepTheClientAddress) {
    ASSERT_NO_FATAL_FAILURE(Attach(GetParam()));
    StartServers6();
    ASSERT_NO_FATAL_FAILURE(Fwdctl({"add", "[::]:80/tcp", kC1Target6 + ":8080"}));
    ASSERT_NO_FATAL_FAILURE(Fwdctl({"add", "[::]:5353/udp", kC1Target6 + ":53"}));
    const std::uint64_t nat6_before = Counter("nat6_in");

    ExpectTcp({MainTopology6::kHostUplinkAddr, 80}, MainTopology6::kClientAddr);
    ExpectUdp({MainTopology6::kHostUplinkAddr, 5353}, MainTopology6::kClientAddr);
    // A second connection is a new flow through the same mapping.
    ExpectTcp({MainTopology6::kHostUplinkAddr, 80}, MainTopology6::kClientAddr);
    EXPECT_GE(Counter("nat6_in"), nat6_before + 4);
    EXPECT_GE(Counter("nat6_out"), 2U);
    EXPECT_EQ(tcp_servers_[0]->accepted(), 2U);
}

INSTANTIATE_TEST_SUITE_P(Modes, DualStackModes,
                         ::testing::Values(std::vector<std::string>{},
                                           std::vector<std::string>{"--fast-path", "off"},
                                           std::vector<std::string>{"--mode", "xdp"}),
                         [](const auto& mode) {
                             return mode.param.empty() ? std::string("Tc")
                                                       : mode.param[0] == "--mode" ? "Xdp"
                                                                                   : "NoFastPath";
                         });

// The "done when": one host port on both families, `port` prints both lines exactly
// as `docker port` does, and both families reach the container with the client's address.
TEST_F(DualStack, PublishGivesBothFamiliesOnePort) {
    ASSERT_NO_FATAL_FAILURE(Attach());
    StartTcpServer(topo_.c1, 8080, "c1");
    StartServers6();
    ASSERT_NO_FATAL_FAILURE(Fwdctl({"publish", "web", "--ip", MainTopology::kC1Addr, "--ip6",
                                    MainTopology6::kC1Addr, "-p", "8000:8080"}));

    const CommandResult port = fwdctl({"port", "web", "8080"});
    ASSERT_TRUE(port.ok()) << port.describe();
    EXPECT_EQ(port.out, "0.0.0.0:8000\n[::]:8000\n");
    const CommandResult all = fwdctl({"port", "web"});
    ASSERT_TRUE(all.ok()) << all.describe();
    EXPECT_EQ(all.out, "8080/tcp -> 0.0.0.0:8000\n8080/tcp -> [::]:8000\n");

    ExpectTcp({MainTopology::kHostUplinkAddr, 8000}, MainTopology::kClientAddr);
    ExpectTcp({MainTopology6::kHostUplinkAddr, 8000}, MainTopology6::kClientAddr);

    // -P: a pool port, the same for both families.
    ASSERT_NO_FATAL_FAILURE(Fwdctl({"unpublish", "web"}));
    ASSERT_NO_FATAL_FAILURE(Fwdctl({"publish", "web", "--ip", MainTopology::kC1Addr, "--ip6",
                                    MainTopology6::kC1Addr, "--expose", "8080", "-P"}));
    const CommandResult pooled = fwdctl({"port", "web", "8080"});
    ASSERT_TRUE(pooled.ok()) << pooled.describe();
    const auto lines = split_lines(pooled.out);
    ASSERT_EQ(lines.size(), 2U) << pooled.out;
    const std::string host_port = lines[0].substr(lines[0].rfind(':') + 1);
    EXPECT_EQ(lines[0], "0.0.0.0:" + host_port);
    EXPECT_EQ(lines[1], "[::]:" + host_port);
    const auto pool_port = static_cast<std::uint16_t>(std::stoi(host_port));
    ExpectTcp({MainTopology6::kHostUplinkAddr, pool_port}, MainTopology6::kClientAddr);
    ExpectTcp({MainTopology::kHostUplinkAddr, pool_port}, MainTopology::kClientAddr);
}

// An exact IPv6 host address wins over [::], and traffic to an address that is not the host's
// own (routed through it) is not captured by the wildcard.
TEST_F(DualStack, Ipv6ExactAddressAndRoutedTraffic) {
    ASSERT_NO_FATAL_FAILURE(Attach());
    StartServers6();
    tcp_servers_.push_back(std::make_unique<TcpTagServer>(topo_.c2, Endpoint{"::", 80}, "c2"));
    ASSERT_NO_FATAL_FAILURE(
        Fwdctl({"add", std::string("[") + MainTopology6::kHostUplinkAddr + "]:80", kC1Target6 + ":8080"}));
    ASSERT_NO_FATAL_FAILURE(Fwdctl({"add", "[::]:80", "[fd00:30::3]:9"}));  // loses to the exact one
    ExpectTcp({MainTopology6::kHostUplinkAddr, 80}, MainTopology6::kClientAddr);

    // c2's own address is routed, not a host address: c2's server answers itself.
    TcpConnection routed =
        TcpConnection::connect(topo_.client, {MainTopology6::kC2Addr, 80}, kExchangeTimeout);
    ASSERT_TRUE(routed.ok()) << routed.error_text();
    EXPECT_EQ(routed.request("hi", kExchangeTimeout),
              std::string("c2 ") + MainTopology6::kClientAddr + " hi");
}

// Removing an IPv6 mapping stops new flows at once; --allow with IPv6 networks admits only the
// listed clients, and a mapping whose list names only IPv4 networks admits no IPv6 client.
TEST_F(DualStack, Ipv6DelAndAllowList) {
    ASSERT_NO_FATAL_FAILURE(Attach());
    StartServers6();
    ASSERT_NO_FATAL_FAILURE(Fwdctl({"add", "[::]:80", kC1Target6 + ":8080", "--allow", "fd00:77:1::/64"}));
    ASSERT_NO_FATAL_FAILURE(Fwdctl({"add", "[::]:81", kC1Target6 + ":8080", "--allow", "fd00:99::/64"}));
    ASSERT_NO_FATAL_FAILURE(Fwdctl({"add", "[::]:82", kC1Target6 + ":8080", "--allow", "10.77.1.0/24"}));
    ExpectTcp({MainTopology6::kHostUplinkAddr, 80}, MainTopology6::kClientAddr);

    const std::uint64_t drops = Counter("drop_not_allowed");
    for (const std::uint16_t port : {std::uint16_t{81}, std::uint16_t{82}}) {
        TcpConnection refused =
            TcpConnection::connect(topo_.client, {MainTopology6::kHostUplinkAddr, port}, kSilence);
        EXPECT_FALSE(refused.ok()) << "port " << port << " let a client outside its list in";
    }
    EXPECT_GE(Counter("drop_not_allowed"), drops + 2);

    ASSERT_NO_FATAL_FAILURE(Fwdctl({"del", "[::]:80"}));
    TcpConnection after =
        TcpConnection::connect(topo_.client, {MainTopology6::kHostUplinkAddr, 80}, kSilence);
    EXPECT_FALSE(after.ok()) << "a deleted IPv6 mapping still took a new connection";
    const CommandResult list = fwdctl({"list"});
    ASSERT_TRUE(list.ok()) << list.describe();
    EXPECT_EQ(list.out,
              "[::]:81/tcp -> [fd00:30::2]:8080 allow fd00:99::/64\n"
              "[::]:82/tcp -> [fd00:30::2]:8080 allow 10.77.1.0/24\n");
}

// A [::1] mapping is for the host only (a client sending to the host's address with the port
// gets nothing); `check` sees the IPv6 maps agree with the state; `restore` after a reboot
// brings the IPv6 mappings back.
TEST_F(DualStack, Ipv6StateRestoreAndCheck) {
    ASSERT_NO_FATAL_FAILURE(Attach());
    StartServers6();
    ASSERT_NO_FATAL_FAILURE(Fwdctl({"add", "[::]:80", kC1Target6 + ":8080"}));
    ASSERT_NO_FATAL_FAILURE(Fwdctl({"add", "[::1]:81", kC1Target6 + ":8080"}));
    const CommandResult check = fwdctl({"check"});
    EXPECT_TRUE(check.ok()) << check.describe();

    TcpConnection loopback_only =
        TcpConnection::connect(topo_.client, {MainTopology6::kHostUplinkAddr, 81}, kSilence);
    EXPECT_FALSE(loopback_only.ok()) << "a [::1] mapping was reachable from another host";

    // After a simulated reboot (maps gone), restore brings the IPv6 mappings back.
    ASSERT_NO_FATAL_FAILURE(SimulateReboot());
    ASSERT_NO_FATAL_FAILURE(Fwdctl({"restore"}));
    ExpectTcp({MainTopology6::kHostUplinkAddr, 80}, MainTopology6::kClientAddr);
    const CommandResult list = fwdctl({"list"});
    ASSERT_TRUE(list.ok()) << list.describe();
    EXPECT_EQ(list.out,
              "[::]:80/tcp -> [fd00:30::2]:8080\n"
              "[::1]:81/tcp -> [fd00:30::2]:8080\n");
}

// Attaching again upgrades the programs in place: an open IPv6 connection survives (the pinned
// fwd_ct6 keeps its flow) and new flows keep working.
TEST_F(DualStack, Ipv6ReloadKeepsOpenConnection) {
    ASSERT_NO_FATAL_FAILURE(Attach());
    StartServers6();
    ASSERT_NO_FATAL_FAILURE(Fwdctl({"add", "[::]:80", kC1Target6 + ":8080"}));
    const Endpoint published{MainTopology6::kHostUplinkAddr, 80};
    TcpConnection conn = TcpConnection::connect(topo_.client, published, kExchangeTimeout);
    ASSERT_TRUE(conn.ok()) << conn.error_text();
    ASSERT_EQ(conn.request("before", kExchangeTimeout), std::string("c1 ") + MainTopology6::kClientAddr + " before");

    ASSERT_NO_FATAL_FAILURE(Attach());
    EXPECT_EQ(conn.request("after", kExchangeTimeout), std::string("c1 ") + MainTopology6::kClientAddr + " after");
    EXPECT_EQ(conn.peer(), published);
    ExpectTcp(published, MainTopology6::kClientAddr);
}

// A host connection whose source port is a published IPv6 port keeps its replies (they belong
// to the host socket, not the container), and the mappings still take flows from outside.
TEST_F(DualStack, Ipv6HostConnectionOnPublishedPortKeepsItsReplies) {
    ASSERT_NO_FATAL_FAILURE(Attach());
    StartServers6();
    ASSERT_NO_FATAL_FAILURE(Fwdctl({"add", "[::]:45000/tcp", kC1Target6 + ":8080"}));
    ASSERT_NO_FATAL_FAILURE(Fwdctl({"add", "[::]:45001/udp", kC1Target6 + ":53"}));
    tcp_servers_.push_back(std::make_unique<TcpTagServer>(topo_.client, Endpoint{"::", 9000}, "client"));
    udp_servers_.push_back(std::make_unique<UdpTagServer>(topo_.client, Endpoint{"::", 9001}, "client"));
    const std::string host_seen_as = std::string("client ") + MainTopology6::kHostUplinkAddr;

    TcpConnection conn = TcpConnection::connect(topo_.host, {MainTopology6::kClientAddr, 9000},
                                                kExchangeTimeout, 45000);
    ASSERT_TRUE(conn.ok()) << "host connect from port 45000: " << conn.error_text();
    EXPECT_EQ(conn.request("hi", kExchangeTimeout), host_seen_as + " hi");
    const auto reply =
        udp_request(topo_.host, {MainTopology6::kClientAddr, 9001}, "ping", kExchangeTimeout, 45001);
    ASSERT_TRUE(reply.has_value()) << "no UDP reply on host port 45001";
    EXPECT_EQ(reply->payload, host_seen_as + " ping");

    ExpectTcp({MainTopology6::kHostUplinkAddr, 45000}, MainTopology6::kClientAddr);
}

// A live IPv6 UDP flow (one client port throughout) stops at `del` (its conntrack entry is
// flushed, no stale translation) and follows the mapping when it is added back elsewhere.
TEST_F(DualStack, Ipv6LiveUdpFlowStopsAtDelAndFollowsTheMappingReadded) {
    ASSERT_NO_FATAL_FAILURE(Attach());
    StartServers6();
    udp_servers_.push_back(std::make_unique<UdpTagServer>(topo_.c2, Endpoint{"::", 53}, "c2"));
    constexpr std::uint16_t kClientPort = 40777;
    const Endpoint published{MainTopology6::kHostUplinkAddr, 5353};
    ASSERT_NO_FATAL_FAILURE(Fwdctl({"add", "[::]:5353/udp", kC1Target6 + ":53"}));
    const auto before = udp_request(topo_.client, published, "one", kExchangeTimeout, kClientPort);
    ASSERT_TRUE(before.has_value());
    EXPECT_EQ(before->payload, std::string("c1 ") + MainTopology6::kClientAddr + " one");

    EXPECT_EQ(MapFill("fwd_ct6").first, 1U);
    ASSERT_NO_FATAL_FAILURE(Fwdctl({"del", "[::]:5353/udp"}));
    EXPECT_EQ(MapFill("fwd_ct6").first, 0U) << "del leaves the flow's conntrack entry";
    const auto gone = udp_request(topo_.client, published, "two", kSilence, kClientPort);
    EXPECT_FALSE(gone.has_value()) << "a deleted mapping still answered: " << gone->payload;

    ASSERT_NO_FATAL_FAILURE(Fwdctl({"add", "[::]:5353/udp", std::string("[") + MainTopology6::kC2Addr + "]:53"}));
    const auto moved = udp_request(topo_.client, published, "three", kExchangeTimeout, kClientPort);
    ASSERT_TRUE(moved.has_value()) << "the flow did not follow the re-added mapping";
    EXPECT_EQ(moved->payload, std::string("c2 ") + MainTopology6::kClientAddr + " three");
    EXPECT_EQ(moved->from, published);
}

}  // namespace
}  // namespace fwd::test
