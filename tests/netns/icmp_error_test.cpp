// End-to-end: ICMP errors about flows through a mapping reach the flow's real endpoints, so
// path MTU discovery and "port unreachable" work through fwd in both directions.
//
// MainTopology (support/netns_fixture.h), plus a "far" client behind the client namespace,
// which routes for it over a link with a small MTU:
//
//   far (eth0 10.77.2.2/24, MTU 1280) -- client (far0 10.77.2.1/24, forwarding) -- host -- c1
#include <arpa/inet.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/main_topology_test.h"
#include "support/netns_fixture.h"

namespace fwd::test {
namespace {

using std::chrono::milliseconds;

constexpr int kSmallMtu = 1280;
constexpr size_t kBigDatagram = 1400;  // fits a 1500 link, not a 1280 one
constexpr milliseconds kErrorTimeout{4000};
constexpr milliseconds kResendInterval{200};
constexpr const char* kFarAddr = "10.77.2.2";
constexpr const char* kFarRouterAddr = "10.77.2.1";
constexpr uint16_t kPublishedUdpPort = 5353;
constexpr uint16_t kContainerUdpPort = 53;

void set_int_option(const Fd& fd, int level, int name, int value) {
    if (setsockopt(fd.get(), level, name, &value, sizeof(value)) != 0) {
        throw std::runtime_error(fmt::format("setsockopt({}, {}): errno {}", level, name, errno));
    }
}

void set_receive_timeout(const Fd& fd, milliseconds timeout) {
    const timeval tv{static_cast<time_t>(timeout.count() / 1000),
                     static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
    if (setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0) {
        throw std::runtime_error(fmt::format("SO_RCVTIMEO: errno {}", errno));
    }
}

// A UDP socket in `ns` that never fragments (DF set: path MTU discovery), connected to `peer`.
Fd connected_df_udp(const std::string& ns, const Endpoint& peer) {
    Fd fd = endpoint_socket(ns, peer, SOCK_DGRAM);
    if (peer.is_ipv6())
        set_int_option(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, IPV6_PMTUDISC_DO);
    else
        set_int_option(fd, IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DO);
    const SocketAddress sa = to_sockaddr(peer);
    if (connect(fd.get(), sa.addr(), sa.len) != 0) {
        throw std::runtime_error(fmt::format("connect {}: errno {}", peer.str(), errno));
    }
    return fd;
}

// The path MTU the kernel holds for a connected socket's destination (either family).
int path_mtu(const Fd& fd) {
    int mtu = 0;
    socklen_t len = sizeof(mtu);
    SocketAddress self;
    if (getsockname(fd.get(), self.addr(), &self.len) != 0) {
        return -errno;
    }
    const bool ipv6 = self.family() == AF_INET6;
    if (getsockopt(fd.get(), ipv6 ? IPPROTO_IPV6 : IPPROTO_IP, ipv6 ? IPV6_MTU : IP_MTU, &mtu,
                   &len) != 0) {
        return -errno;
    }
    return mtu;
}

// Sends `size` bytes every kResendInterval (EMSGSIZE once the path MTU is known is fine) until
// the socket's path MTU drops to `mtu` or kErrorTimeout passes. Returns the last path MTU seen.
int send_until_path_mtu(const Fd& fd, size_t size, int mtu) {
    const std::vector<char> datagram(size, 'x');
    int seen = path_mtu(fd);
    wait_until(
        [&] {
            (void)send(fd.get(), datagram.data(), datagram.size(), MSG_DONTWAIT);
            seen = path_mtu(fd);
            return seen == mtu;
        },
        kErrorTimeout, kResendInterval);
    return seen;
}

class IcmpErrors : public MainTopologyTest {
protected:
    // 0.0.0.0:5353/udp -> c1:53.
    void AddUdpMapping() {
        const CommandResult r = net_->run_fwdctl(
            {"add", fmt::format("{}/udp", kPublishedUdpPort),
             fmt::format("{}:{}", MainTopology::kC1Addr, kContainerUdpPort)});
        ASSERT_TRUE(r.ok()) << r.describe();
    }

    // The container's link (c1 eth0 and its bridge port) gets the small MTU; the bridge follows.
    void ShrinkContainerLink() {
        net_->ip(topo_.c1, {"link", "set", "eth0", "mtu", std::to_string(kSmallMtu)});
        net_->ip(topo_.host, {"link", "set", "vc1", "mtu", std::to_string(kSmallMtu)});
    }

    // The far client behind the client namespace, over a small-MTU link.
    void AddFarClient() {
        far_ = net_->add_namespace("far");
        net_->add_veth(far_, "eth0", std::string(kFarAddr) + "/24", topo_.client, "far0",
                       std::string(kFarRouterAddr) + "/24");
        net_->ip(far_, {"link", "set", "eth0", "mtu", std::to_string(kSmallMtu)});
        net_->ip(topo_.client, {"link", "set", "far0", "mtu", std::to_string(kSmallMtu)});
        net_->add_default_route(far_, kFarRouterAddr);
        net_->set_forwarding(topo_.client, true);
        net_->ip(topo_.host, {"route", "add", "10.77.2.0/24", "via", MainTopology::kClientAddr});
        net_->wait_carrier(far_, "eth0");
        net_->wait_carrier(topo_.client, "far0");
    }

    // [::]:5353/udp -> c1:53, on the topology's IPv6 addresses.
    void AddUdpMapping6() {
        add_main_topology_ipv6(*net_, topo_);
        const CommandResult r = net_->run_fwdctl(
            {"add", fmt::format("[::]:{}/udp", kPublishedUdpPort),
             fmt::format("[{}]:{}", MainTopology6::kC1Addr, kContainerUdpPort)});
        ASSERT_TRUE(r.ok()) << r.describe();
    }

    // A client's datagram too big for the container's link: the host's "fragmentation needed"
    // (IPv6: "packet too big") must quote the client's own packet (the published address and
    // port), or the client's kernel finds no socket for it and never learns the path MTU.
    void ExpectClientLearnsContainerLinkMtu(const std::vector<std::string>& attach_options,
                                            bool ipv6 = false) {
        ShrinkContainerLink();
        ASSERT_NO_FATAL_FAILURE(Attach(attach_options));
        if (ipv6) {
            ASSERT_NO_FATAL_FAILURE(AddUdpMapping6());
        } else {
            ASSERT_NO_FATAL_FAILURE(AddUdpMapping());
        }
        const Endpoint published{ipv6 ? MainTopology6::kHostUplinkAddr : MainTopology::kHostUplinkAddr,
                                 kPublishedUdpPort};
        const Fd client = connected_df_udp(topo_.client, published);
        EXPECT_EQ(send_until_path_mtu(client, kBigDatagram, kSmallMtu), kSmallMtu)
            << "the client's path MTU to the published address";
        EXPECT_GE(Counter("icmp_error_nat"), 1U);
    }

    std::string far_;
};

TEST_F(IcmpErrors, ClientLearnsThePathMtuOfTheContainerLink) {
    ExpectClientLearnsContainerLinkMtu({});
}

TEST_F(IcmpErrors, ClientLearnsThePathMtuWithTheFastPathOff) {
    ExpectClientLearnsContainerLinkMtu({"--fast-path", "off"});
}

TEST_F(IcmpErrors, Ipv6ClientLearnsThePathMtuOfTheContainerLink) {
    ExpectClientLearnsContainerLinkMtu({}, true);
}

TEST_F(IcmpErrors, Ipv6ClientLearnsThePathMtuWithTheFastPathOff) {
    ExpectClientLearnsContainerLinkMtu({"--fast-path", "off"}, true);
}

// Nothing listens on the container port: the container's "port unreachable" must come back
// as if from the published address, so the client's connected socket sees ECONNREFUSED.
class IcmpPortUnreachable : public IcmpErrors, public ::testing::WithParamInterface<bool> {};

TEST_P(IcmpPortUnreachable, FromTheContainerReachesTheClient) {
    const bool ipv6 = GetParam();
    ASSERT_NO_FATAL_FAILURE(Attach());
    if (ipv6) {
        ASSERT_NO_FATAL_FAILURE(AddUdpMapping6());
    } else {
        ASSERT_NO_FATAL_FAILURE(AddUdpMapping());
    }
    const Endpoint published{ipv6 ? MainTopology6::kHostUplinkAddr : MainTopology::kHostUplinkAddr,
                             kPublishedUdpPort};
    const Fd client = connected_df_udp(topo_.client, published);
    set_receive_timeout(client, kResendInterval);
    int last_errno = 0;
    wait_until(
        [&] {
            (void)send(client.get(), "ping", 4, 0);
            char buf[64];
            if (recv(client.get(), buf, sizeof(buf), 0) < 0) {
                last_errno = errno;
            }
            return last_errno == ECONNREFUSED;
        },
        kErrorTimeout, milliseconds{1});
    EXPECT_EQ(last_errno, ECONNREFUSED) << "errno of the client's recv";
    EXPECT_GE(Counter("icmp_error_nat"), 1U);
}

INSTANTIATE_TEST_SUITE_P(Families, IcmpPortUnreachable, ::testing::Values(false, true),
                         [](const auto& family) { return family.param ? "Ipv6" : "Ipv4"; });

// The container answers a far client with datagrams too big for the far client's link. The
// router's "fragmentation needed" goes to the published address and quotes the translated
// reply: fwd must hand it to the container, quoting the container's own packet, so that the
// container's socket learns the path MTU.
TEST_F(IcmpErrors, ContainerLearnsThePathMtuOfTheClientSide) {
    AddFarClient();
    ASSERT_NO_FATAL_FAILURE(Attach());
    ASSERT_NO_FATAL_FAILURE(AddUdpMapping());
    // The far client's request, which the container answers to the address it sees.
    const Fd far_client = connected_df_udp(far_, {MainTopology::kHostUplinkAddr, kPublishedUdpPort});
    const sockaddr_in far_bound = [&] {
        sockaddr_in sa{};
        socklen_t len = sizeof(sa);
        (void)getsockname(far_client.get(), reinterpret_cast<sockaddr*>(&sa), &len);
        return sa;
    }();
    const Endpoint far_endpoint{kFarAddr, ntohs(far_bound.sin_port)};

    Fd server = socket_in_netns(topo_.c1, AF_INET, SOCK_DGRAM);
    const SocketAddress server_addr = to_sockaddr({MainTopology::kC1Addr, kContainerUdpPort});
    ASSERT_EQ(bind(server.get(), server_addr.addr(), server_addr.len), 0);
    set_receive_timeout(server, kResendInterval);
    std::optional<Endpoint> seen;
    wait_until(
        [&] {
            (void)send(far_client.get(), "hello", 5, 0);
            char buf[64];
            SocketAddress from;
            if (recvfrom(server.get(), buf, sizeof(buf), 0, from.addr(), &from.len) > 0) {
                seen = from_sockaddr(from);
            }
            return seen.has_value();
        },
        kErrorTimeout, milliseconds{1});
    ASSERT_TRUE(seen.has_value()) << "the container never got the far client's request";
    ASSERT_EQ(*seen, far_endpoint) << "the client's address must survive";

    // The container replies from its server port, too big for the far link.
    set_int_option(server, IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DO);
    const SocketAddress far_addr = to_sockaddr(far_endpoint);
    ASSERT_EQ(connect(server.get(), far_addr.addr(), far_addr.len), 0);
    EXPECT_EQ(send_until_path_mtu(server, kBigDatagram, kSmallMtu), kSmallMtu)
        << "the container's path MTU to the far client";
    EXPECT_GE(Counter("icmp_error_nat"), 1U);
}

}  // namespace
}  // namespace fwd::test
