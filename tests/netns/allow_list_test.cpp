// End-to-end: `add ... --allow CIDR` and `publish ... --allow CIDR` let only the listed clients
// open flows through a mapping, in the data plane (no host firewall involved), and a changed
// list applies to flows already open. Topology: MainTopology (support/netns_fixture.h); the
// client is 10.77.1.2.
#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "support/main_topology_test.h"
#include "support/netns_fixture.h"

namespace fwd::test {
namespace {

using std::chrono::milliseconds;

constexpr milliseconds kConnectTimeout{3000};
constexpr milliseconds kReplyTimeout{3000};
// A dropped SYN or datagram shows as silence: wait this long for it.
constexpr milliseconds kSilence{1500};
constexpr const char* kOtherNetwork = "10.99.0.0/16";  // holds no address of the test

class AllowList : public MainTopologyTest {
protected:
    void SetUp() override {
        MainTopologyTest::SetUp();
        if (!IsSkipped()) {
            ASSERT_NO_FATAL_FAILURE(Attach());
        }
    }
};

TEST_F(AllowList, AdmitsListedClientsAndDropsOthers) {
    StartTcpServer(topo_.c1, 8080, "c1");
    ASSERT_NO_FATAL_FAILURE(Fwdctl({"add", "80", "172.30.0.2:8080", "--allow", "10.77.1.0/24",
                                    "--allow", kOtherNetwork}));
    ASSERT_NO_FATAL_FAILURE(
        Fwdctl({"publish", "web", "--ip", MainTopology::kC1Addr, "-p", "81:8080", "--allow",
                kOtherNetwork}));

    TcpConnection allowed = TcpConnection::connect(
        topo_.client, {MainTopology::kHostUplinkAddr, 80}, kConnectTimeout);
    ASSERT_TRUE(allowed.ok()) << allowed.error_text();
    EXPECT_EQ(allowed.request("hello", kReplyTimeout), "c1 10.77.1.2 hello")
        << "the client's address survives";

    const std::size_t accepted = tcp_servers_[0]->accepted();
    const std::uint64_t drops = Counter("drop_not_allowed");
    TcpConnection refused = TcpConnection::connect(
        topo_.client, {MainTopology::kHostUplinkAddr, 81}, kSilence);
    EXPECT_FALSE(refused.ok()) << "a client outside the published port's allow-list connected";
    EXPECT_EQ(refused.error(), ETIMEDOUT) << "dropped, not refused: " << refused.error_text();
    EXPECT_EQ(tcp_servers_[0]->accepted(), accepted);
    EXPECT_GE(Counter("drop_not_allowed"), drops + 1);

    const CommandResult list = net_->run_fwdctl({"list"});
    ASSERT_TRUE(list.ok()) << list.describe();
    EXPECT_EQ(list.out,
              "0.0.0.0:80/tcp -> 172.30.0.2:8080 allow 10.77.1.0/24,10.99.0.0/16\n"
              "0.0.0.0:81/tcp -> 172.30.0.2:8080 allow 10.99.0.0/16\n");
}

// A mapping removed and added back with a list that leaves the client out stops the client's
// open UDP flow at once: its conntrack entry is gone, so the next datagram asks again.
TEST_F(AllowList, ReAddedWithANarrowerListStopsAnOpenFlow) {
    StartUdpServer(topo_.c1, 53, "c1");
    ASSERT_NO_FATAL_FAILURE(
        Fwdctl({"add", "5353/udp", "172.30.0.2:53", "--allow", MainTopology::kClientAddr}));
    const Endpoint published{MainTopology::kHostUplinkAddr, 5353};
    constexpr std::uint16_t kClientPort = 40777;  // one flow: the same source port throughout
    const auto before = udp_request(topo_.client, published, "one", kReplyTimeout, kClientPort);
    ASSERT_TRUE(before.has_value()) << "the allowed client's datagram got no answer";
    EXPECT_EQ(before->payload, "c1 10.77.1.2 one");

    ASSERT_NO_FATAL_FAILURE(Fwdctl({"del", "5353/udp"}));
    ASSERT_NO_FATAL_FAILURE(
        Fwdctl({"add", "5353/udp", "172.30.0.2:53", "--allow", kOtherNetwork}));
    const auto after = udp_request(topo_.client, published, "two", kSilence, kClientPort);
    EXPECT_FALSE(after.has_value()) << "answered: " << after->payload;
    EXPECT_GE(Counter("drop_not_allowed"), 1U);
}

}  // namespace
}  // namespace fwd::test
