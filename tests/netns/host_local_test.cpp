// End-to-end: host-local and hairpin access through fwd's cgroup socket programs (connect4,
// sendmsg4, recvmsg4, getpeername4, bind4, and their IPv6 twins), in MainTopology
// (support/netns_fixture.h).
//
// The whole test process runs in a private cgroup v2 child (support/netns_cgroup.h) and fwd
// attaches its cgroup programs there only (`attach ... --cgroup PATH`), so no other process on
// the machine is affected. Every socket the test opens, in whatever namespace, is in that
// cgroup: the programs themselves must tell the host namespace (where fwdctl attach ran) from
// containers and from an unrelated namespace ("client", standing for another host).
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/utsname.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "support/netns_cgroup.h"
#include "support/netns_fixture.h"
#include "support/netns_sockets.h"

namespace fwd::test {
namespace {

using std::chrono::milliseconds;

// Every network wait in this file is bounded by one of these.
constexpr milliseconds kConnectTimeout{3000};
constexpr milliseconds kReplyTimeout{3000};
// How long a connect that must not reach anything may take to fail (refused or timed out),
// and how long to wait for a UDP reply that must not come.
constexpr milliseconds kRefusalTimeout{2000};
constexpr milliseconds kNoReplyTimeout{1500};

constexpr const char* kLoopback = "127.0.0.1";
constexpr const char* kAny = "0.0.0.0";

// bind4 refuses with EADDRINUSE through bpf_set_retval (kernel >= 5.18), EPERM before.
int expected_bind_refusal() {
    utsname u{};
    int major = 0;
    int minor = 0;
    if (::uname(&u) != 0 || std::sscanf(u.release, "%d.%d", &major, &minor) != 2) {
        return EADDRINUSE;
    }
    return (major > 5 || (major == 5 && minor >= 18)) ? EADDRINUSE : EPERM;
}

std::string errno_name(int err) {
    return err == 0 ? std::string("success") : std::string(std::strerror(err));
}

class HostLocal : public ::testing::Test {
protected:
    void SetUp() override {
        if (!running_as_root()) {
            GTEST_SKIP() << "needs root: creates network namespaces and a cgroup, mounts bpffs "
                            "and loads BPF programs";
        }
        if (!cgroup2_mount()) {
            GTEST_SKIP() << "needs a cgroup v2 hierarchy (no cgroup2 entry in /proc/mounts)";
        }
        // The cgroup first: sockets take the cgroup of their creator, and the fixture's
        // servers and clients must all be inside it.
        cgroup_ = std::make_unique<CgroupFixture>("fwdt-");
        net_ = std::make_unique<NetnsFixture>("fwdt-");
        topo_ = build_main_topology(*net_);
        net_->setup_fwd(topo_.host);
    }

    void TearDown() override {
        // Servers first (their sockets pin the namespaces), then the topology (whose teardown
        // runs `fwdctl detach --all`, which needs the cgroup), then the cgroup.
        tcp_servers_.clear();
        udp_servers_.clear();
        net_.reset();
        cgroup_.reset();
    }

    [[nodiscard]] CommandResult fwdctl(const std::vector<std::string>& args) const {
        return net_->run_fwdctl(args);
    }

    void Attach() {
        const CommandResult r = fwdctl(
            {"attach", MainTopology::kUplink, MainTopology::kBridge, "--cgroup", cgroup_->path()});
        ASSERT_TRUE(r.ok()) << r.describe();
    }

    // `fwdctl add HOST CONTAINER`, which must succeed.
    void Add(const std::string& host, const std::string& container) {
        const CommandResult r = fwdctl({"add", host, container});
        ASSERT_TRUE(r.ok()) << r.describe();
    }

    void Del(const std::string& host) {
        const CommandResult r = fwdctl({"del", host});
        ASSERT_TRUE(r.ok()) << r.describe();
    }

    TcpTagServer& StartTcpServer(const std::string& ns, const Endpoint& at,
                                 const std::string& tag) {
        tcp_servers_.push_back(std::make_unique<TcpTagServer>(ns, at, tag));
        return *tcp_servers_.back();
    }

    void StartUdpServer(const std::string& ns, const Endpoint& at, const std::string& tag) {
        udp_servers_.push_back(std::make_unique<UdpTagServer>(ns, at, tag));
    }

    // Connects from `ns` to dst and checks one exchange: the answer is `expected` and
    // getpeername shows dst (the published address, not the container's).
    void ExpectTcp(const std::string& ns, const Endpoint& dst, const std::string& expected) {
        SCOPED_TRACE("TCP from " + ns + " to " + dst.str());
        TcpConnection conn = TcpConnection::connect(ns, dst, kConnectTimeout);
        ASSERT_TRUE(conn.ok()) << "connect to " << dst.str() << ": " << conn.error_text();
        EXPECT_EQ(conn.request("hello", kReplyTimeout), expected);
        EXPECT_EQ(conn.peer(), dst) << "getpeername";
    }

    // Connects from `ns` to dst, which must not reach any server: refused or timed out, or if
    // something accepts, it must not answer as a container.
    void ExpectTcpRefused(const std::string& ns, const Endpoint& dst) {
        SCOPED_TRACE("TCP from " + ns + " to " + dst.str());
        TcpConnection conn = TcpConnection::connect(ns, dst, kRefusalTimeout);
        if (conn.ok()) {
            const auto reply = conn.request("hello", kRefusalTimeout);
            ADD_FAILURE() << "connect to " << dst.str()
                          << " succeeded; reply: " << reply.value_or("(none)");
            return;
        }
        EXPECT_TRUE(conn.error() == ECONNREFUSED || conn.error() == ETIMEDOUT)
            << "unexpected connect error: " << conn.error_text();
    }

    // Sends a datagram from `ns` to dst (unconnected socket, sendto/recvfrom; or connected
    // from local_port) and checks the reply's source is dst and its payload `expected`.
    void ExpectUdp(const std::string& ns, const Endpoint& dst, const std::string& expected,
                   std::uint16_t local_port = 0) {
        SCOPED_TRACE("UDP from " + ns + " to " + dst.str() +
                     (local_port != 0 ? " (connected)" : " (sendto)"));
        const auto reply = udp_request(ns, dst, "ping", kReplyTimeout, local_port);
        ASSERT_TRUE(reply.has_value()) << "no UDP reply from " << dst.str();
        EXPECT_EQ(reply->from, dst) << "recvfrom source";
        EXPECT_EQ(reply->payload, expected);
    }

    void ExpectNoUdpReply(const std::string& ns, const Endpoint& dst) {
        const auto reply = udp_request(ns, dst, "ping", kNoReplyTimeout);
        EXPECT_FALSE(reply.has_value())
            << "UDP from " << ns << " to " << dst.str() << " got a reply from " << reply->from
            << ": " << reply->payload;
    }

    void ExpectBind(const std::string& ns, int type, const Endpoint& at, int expected_errno) {
        const int err = bind_errno(ns, type, at);
        EXPECT_EQ(err, expected_errno)
            << (type == SOCK_STREAM ? "TCP" : "UDP") << " bind to " << at.str() << " in " << ns
            << ": got " << errno_name(err) << ", expected " << errno_name(expected_errno);
    }

    std::unique_ptr<CgroupFixture> cgroup_;
    std::unique_ptr<NetnsFixture> net_;
    MainTopology topo_;
    std::vector<std::unique_ptr<TcpTagServer>> tcp_servers_;
    std::vector<std::unique_ptr<UdpTagServer>> udp_servers_;
};

// Docker's `-p 127.0.0.1:80:8080`: a host process reaches the container through 127.0.0.1.
TEST_F(HostLocal, LoopbackTcpFromHost) {
    ASSERT_NO_FATAL_FAILURE(Attach());
    ASSERT_NO_FATAL_FAILURE(Add("127.0.0.1:80/tcp", "172.30.0.2:8080"));
    StartTcpServer(topo_.c1, Endpoint{kAny, 8080}, "c1");

    // Connected straight to the container: it sees the host's bridge address, and the host
    // process sees 127.0.0.1:80 as its peer.
    ExpectTcp(topo_.host, Endpoint{kLoopback, 80}, "c1 172.30.0.1 hello");
    // Another port on loopback is the host's own business: nothing listens there.
    ExpectTcpRefused(topo_.host, Endpoint{kLoopback, 81});
    EXPECT_EQ(tcp_servers_.front()->accepted(), 1U);
}

// Docker's `-p 127.0.0.1:53:5353/udp` (here to port 53): replies come from 127.0.0.1:53.
TEST_F(HostLocal, LoopbackUdpFromHost) {
    ASSERT_NO_FATAL_FAILURE(Attach());
    ASSERT_NO_FATAL_FAILURE(Add("127.0.0.1:53/udp", "172.30.0.2:53"));
    StartUdpServer(topo_.c1, Endpoint{kAny, 53}, "c1");

    const Endpoint published{kLoopback, 53};
    ExpectUdp(topo_.host, published, "c1 172.30.0.1 ping");
    ExpectUdp(topo_.host, published, "c1 172.30.0.1 ping", 45053);
}

// A 0.0.0.0 mapping answers a host process on every local address: uplink, bridge, loopback;
// an address that is not the host's own is routed as usual.
TEST_F(HostLocal, HostAddressFromHost) {
    ASSERT_NO_FATAL_FAILURE(Attach());
    ASSERT_NO_FATAL_FAILURE(Add("0.0.0.0:80/tcp", "172.30.0.2:8080"));
    ASSERT_NO_FATAL_FAILURE(Add("0.0.0.0:5353/udp", "172.30.0.2:53"));
    TcpTagServer& c1 = StartTcpServer(topo_.c1, Endpoint{kAny, 8080}, "c1");
    StartUdpServer(topo_.c1, Endpoint{kAny, 53}, "c1");
    TcpTagServer& c2 = StartTcpServer(topo_.c2, Endpoint{kAny, 80}, "c2");

    ExpectTcp(topo_.host, Endpoint{MainTopology::kHostUplinkAddr, 80}, "c1 172.30.0.1 hello");
    ExpectTcp(topo_.host, Endpoint{MainTopology::kBridgeAddr, 80}, "c1 172.30.0.1 hello");
    ExpectTcp(topo_.host, Endpoint{kLoopback, 80}, "c1 172.30.0.1 hello");
    ExpectUdp(topo_.host, Endpoint{MainTopology::kHostUplinkAddr, 5353}, "c1 172.30.0.1 ping");
    ExpectUdp(topo_.host, Endpoint{kLoopback, 5353}, "c1 172.30.0.1 ping");

    // Port 80 on c2's address is not a host address: not translated.
    ExpectTcp(topo_.host, Endpoint{MainTopology::kC2Addr, 80}, "c2 172.30.0.1 hello");
    EXPECT_EQ(c1.accepted(), 3U);
    EXPECT_EQ(c2.accepted(), 1U);
}

// Containers on the bridge reach a published port through the host's addresses: another
// container, and the container behind the mapping itself.
TEST_F(HostLocal, HairpinTcpAndUdp) {
    ASSERT_NO_FATAL_FAILURE(Attach());
    ASSERT_NO_FATAL_FAILURE(Add("0.0.0.0:80/tcp", "172.30.0.2:8080"));
    ASSERT_NO_FATAL_FAILURE(Add("0.0.0.0:5353/udp", "172.30.0.2:53"));
    TcpTagServer& c1 = StartTcpServer(topo_.c1, Endpoint{kAny, 8080}, "c1");
    StartUdpServer(topo_.c1, Endpoint{kAny, 53}, "c1");

    const Endpoint uplink80{MainTopology::kHostUplinkAddr, 80};
    const Endpoint uplink5353{MainTopology::kHostUplinkAddr, 5353};
    // c2 -> host address -> c1: connected directly, so c1 sees c2's own address.
    ExpectTcp(topo_.c2, uplink80, "c1 172.30.0.3 hello");
    ExpectTcp(topo_.c2, Endpoint{MainTopology::kBridgeAddr, 80}, "c1 172.30.0.3 hello");
    ExpectUdp(topo_.c2, uplink5353, "c1 172.30.0.3 ping");
    ExpectUdp(topo_.c2, uplink5353, "c1 172.30.0.3 ping", 45353);
    // c1 -> host address -> c1 itself.
    ExpectTcp(topo_.c1, uplink80, "c1 172.30.0.2 hello");
    ExpectUdp(topo_.c1, uplink5353, "c1 172.30.0.2 ping");
    EXPECT_EQ(c1.accepted(), 3U);
}

// A 127.0.0.1 mapping is for the host only: another host (the client namespace) cannot reach
// it through the host's address, nor can a container; and the client's own 127.0.0.1 stays
// its own.
TEST_F(HostLocal, LoopbackMappingUnreachableFromOutside) {
    ASSERT_NO_FATAL_FAILURE(Attach());
    ASSERT_NO_FATAL_FAILURE(Add("127.0.0.1:80/tcp", "172.30.0.2:8080"));
    ASSERT_NO_FATAL_FAILURE(Add("127.0.0.1:53/udp", "172.30.0.2:53"));
    TcpTagServer& c1 = StartTcpServer(topo_.c1, Endpoint{kAny, 8080}, "c1");
    StartUdpServer(topo_.c1, Endpoint{kAny, 53}, "c1");
    TcpTagServer& client_lo = StartTcpServer(topo_.client, Endpoint{kLoopback, 80}, "client-lo");
    StartUdpServer(topo_.client, Endpoint{kLoopback, 53}, "client-lo");

    ExpectTcpRefused(topo_.client, Endpoint{MainTopology::kHostUplinkAddr, 80});
    ExpectNoUdpReply(topo_.client, Endpoint{MainTopology::kHostUplinkAddr, 53});
    ExpectTcpRefused(topo_.c2, Endpoint{MainTopology::kHostUplinkAddr, 80});
    ExpectTcpRefused(topo_.c2, Endpoint{MainTopology::kBridgeAddr, 80});
    ExpectNoUdpReply(topo_.c2, Endpoint{MainTopology::kBridgeAddr, 53});
    EXPECT_EQ(c1.accepted(), 0U) << "c1 accepted a connection through a 127.0.0.1 mapping";

    // The unrelated namespace's loopback is untouched.
    ExpectTcp(topo_.client, Endpoint{kLoopback, 80}, "client-lo 127.0.0.1 hello");
    ExpectUdp(topo_.client, Endpoint{kLoopback, 53}, "client-lo 127.0.0.1 ping");
    EXPECT_EQ(client_lo.accepted(), 1U);

    // The mapping itself is live: the host reaches c1 through it.
    ExpectTcp(topo_.host, Endpoint{kLoopback, 80}, "c1 172.30.0.1 hello");
    EXPECT_EQ(c1.accepted(), 1U);
}

// While a port is published, a host bind() on it (same protocol; the exact address or the
// wildcard) is refused; other protocols, other ports and other namespaces are not affected;
// unpublishing frees the port.
TEST_F(HostLocal, BindRefusedWhilePublished) {
    const int refused = expected_bind_refusal();
    ASSERT_NO_FATAL_FAILURE(Attach());

    ASSERT_NO_FATAL_FAILURE(Add("0.0.0.0:8888/tcp", "172.30.0.2:8080"));
    ExpectBind(topo_.host, SOCK_STREAM, Endpoint{kAny, 8888}, refused);
    // A host address under the wildcard mapping would take its traffic too.
    ExpectBind(topo_.host, SOCK_STREAM, Endpoint{MainTopology::kHostUplinkAddr, 8888}, refused);
    ExpectBind(topo_.host, SOCK_DGRAM, Endpoint{kAny, 8888}, 0);
    ExpectBind(topo_.host, SOCK_STREAM, Endpoint{kAny, 8887}, 0);
    ExpectBind(topo_.client, SOCK_STREAM, Endpoint{kAny, 8888}, 0);
    ExpectBind(topo_.c1, SOCK_STREAM, Endpoint{kAny, 8888}, 0);
    ASSERT_NO_FATAL_FAILURE(Del("0.0.0.0:8888/tcp"));
    ExpectBind(topo_.host, SOCK_STREAM, Endpoint{kAny, 8888}, 0);

    ASSERT_NO_FATAL_FAILURE(Add("127.0.0.1:8889/tcp", "172.30.0.2:8080"));
    ExpectBind(topo_.host, SOCK_STREAM, Endpoint{kLoopback, 8889}, refused);
    ExpectBind(topo_.host, SOCK_STREAM, Endpoint{kAny, 8889}, refused);
    ExpectBind(topo_.host, SOCK_DGRAM, Endpoint{kLoopback, 8889}, 0);
    ExpectBind(topo_.client, SOCK_STREAM, Endpoint{kLoopback, 8889}, 0);
    ASSERT_NO_FATAL_FAILURE(Del("127.0.0.1:8889/tcp"));
    ExpectBind(topo_.host, SOCK_STREAM, Endpoint{kLoopback, 8889}, 0);
    ExpectBind(topo_.host, SOCK_STREAM, Endpoint{kAny, 8889}, 0);

    // The same through publish/unpublish, for UDP.
    const CommandResult publish =
        fwdctl({"publish", "web", "--ip", MainTopology::kC1Addr, "-p", "127.0.0.1:8890:53/udp"});
    ASSERT_TRUE(publish.ok()) << publish.describe();
    ExpectBind(topo_.host, SOCK_DGRAM, Endpoint{kLoopback, 8890}, refused);
    ExpectBind(topo_.host, SOCK_DGRAM, Endpoint{kAny, 8890}, refused);
    ExpectBind(topo_.host, SOCK_STREAM, Endpoint{kLoopback, 8890}, 0);
    const CommandResult unpublish = fwdctl({"unpublish", "web"});
    ASSERT_TRUE(unpublish.ok()) << unpublish.describe();
    ExpectBind(topo_.host, SOCK_DGRAM, Endpoint{kLoopback, 8890}, 0);
    ExpectBind(topo_.host, SOCK_DGRAM, Endpoint{kAny, 8890}, 0);
}

// `status` lists the cgroup attachment; `detach --all` removes it, and with it the
// translation and the bind protection.
TEST_F(HostLocal, StatusShowsCgroup) {
    ASSERT_NO_FATAL_FAILURE(Attach());
    ASSERT_NO_FATAL_FAILURE(Add("127.0.0.1:80/tcp", "172.30.0.2:8080"));
    TcpTagServer& c1 = StartTcpServer(topo_.c1, Endpoint{kAny, 8080}, "c1");

    const CommandResult status = fwdctl({"status"});
    ASSERT_TRUE(status.ok()) << status.describe();
    EXPECT_NE(status.out.find(cgroup_->path()), std::string::npos)
        << "status does not mention " << cgroup_->path() << "\n"
        << status.describe();
    const CommandResult status_json = fwdctl({"status", "--json"});
    ASSERT_TRUE(status_json.ok()) << status_json.describe();
    EXPECT_NE(status_json.out.find(cgroup_->path()), std::string::npos)
        << "status --json does not mention " << cgroup_->path() << "\n"
        << status_json.describe();
    ExpectTcp(topo_.host, Endpoint{kLoopback, 80}, "c1 172.30.0.1 hello");

    const CommandResult detach = fwdctl({"detach", "--all"});
    ASSERT_TRUE(detach.ok()) << detach.describe();
    const CommandResult after = fwdctl({"status"});
    ASSERT_TRUE(after.ok()) << after.describe();
    EXPECT_EQ(after.out.find(cgroup_->path()), std::string::npos)
        << "status still mentions " << cgroup_->path() << " after detach --all\n"
        << after.describe();

    // The programs are gone from the cgroup: loopback is the host's own again.
    ExpectTcpRefused(topo_.host, Endpoint{kLoopback, 80});
    EXPECT_EQ(c1.accepted(), 1U);
    ExpectBind(topo_.host, SOCK_STREAM, Endpoint{kLoopback, 80}, 0);
}

// The loader probes the running kernel and status says what it found; the bind refusal
// above follows the same probe (EADDRINUSE with bpf_set_retval, EPERM without).
TEST_F(HostLocal, StatusReportsKernelFeatures) {
    ASSERT_NO_FATAL_FAILURE(Attach());
    const CommandResult status = fwdctl({"status", "--json"});
    ASSERT_TRUE(status.ok()) << status.describe();
    const bool has_set_retval = expected_bind_refusal() == EADDRINUSE;
    const std::string expected = std::string("\"set_retval\": ") + (has_set_retval ? "true" : "false");
    EXPECT_NE(status.out.find(expected), std::string::npos) << status.describe();
    // Batch map operations exist on every kernel fwd supports (5.6+).
    EXPECT_NE(status.out.find("\"batch_ops\": true"), std::string::npos) << status.describe();
}

// ---------------------------------------------------------------------------------------------
// IPv6: the same guarantees through connect6, sendmsg6, recvmsg6, getpeername6 and bind6.

constexpr const char* kLoopback6 = "::1";
constexpr const char* kAny6 = "::";

class HostLocal6 : public HostLocal {
protected:
    void SetUp() override {
        HostLocal::SetUp();
        if (IsSkipped() || HasFatalFailure()) return;
        add_main_topology_ipv6(*net_, topo_);
    }
};

// `-p [::1]:80:8080`: a host process reaches the container through [::1], TCP and UDP, and
// sees [::1] as its peer; nobody else can: not another host, not a container.
TEST_F(HostLocal6, LoopbackMappingIsForTheHostOnly) {
    ASSERT_NO_FATAL_FAILURE(Attach());
    ASSERT_NO_FATAL_FAILURE(Add("[::1]:80/tcp", "[fd00:30::2]:8080"));
    ASSERT_NO_FATAL_FAILURE(Add("[::1]:53/udp", "[fd00:30::2]:53"));
    TcpTagServer& c1 = StartTcpServer(topo_.c1, Endpoint{kAny6, 8080}, "c1");
    StartUdpServer(topo_.c1, Endpoint{kAny6, 53}, "c1");

    ExpectTcp(topo_.host, Endpoint{kLoopback6, 80}, "c1 fd00:30::1 hello");
    ExpectUdp(topo_.host, Endpoint{kLoopback6, 53}, "c1 fd00:30::1 ping");
    ExpectUdp(topo_.host, Endpoint{kLoopback6, 53}, "c1 fd00:30::1 ping", 45053);
    ExpectTcpRefused(topo_.host, Endpoint{kLoopback6, 81});

    ExpectTcpRefused(topo_.client, Endpoint{MainTopology6::kHostUplinkAddr, 80});
    ExpectNoUdpReply(topo_.client, Endpoint{MainTopology6::kHostUplinkAddr, 53});
    ExpectTcpRefused(topo_.c2, Endpoint{MainTopology6::kBridgeAddr, 80});
    EXPECT_EQ(c1.accepted(), 1U) << "only the host's connection may reach c1";
}

// A [::] mapping answers host processes on the host's IPv6 addresses and [::1], and containers
// through the host's addresses (hairpin), with their own source address.
TEST_F(HostLocal6, HostAddressesAndHairpin) {
    ASSERT_NO_FATAL_FAILURE(Attach());
    ASSERT_NO_FATAL_FAILURE(Add("[::]:80/tcp", "[fd00:30::2]:8080"));
    ASSERT_NO_FATAL_FAILURE(Add("[::]:5353/udp", "[fd00:30::2]:53"));
    TcpTagServer& c1 = StartTcpServer(topo_.c1, Endpoint{kAny6, 8080}, "c1");
    StartUdpServer(topo_.c1, Endpoint{kAny6, 53}, "c1");

    ExpectTcp(topo_.host, Endpoint{MainTopology6::kHostUplinkAddr, 80}, "c1 fd00:30::1 hello");
    ExpectTcp(topo_.host, Endpoint{kLoopback6, 80}, "c1 fd00:30::1 hello");
    ExpectUdp(topo_.host, Endpoint{MainTopology6::kHostUplinkAddr, 5353}, "c1 fd00:30::1 ping");
    ExpectTcp(topo_.c2, Endpoint{MainTopology6::kHostUplinkAddr, 80}, "c1 fd00:30::3 hello");
    ExpectUdp(topo_.c2, Endpoint{MainTopology6::kBridgeAddr, 5353}, "c1 fd00:30::3 ping");
    EXPECT_EQ(c1.accepted(), 3U);
}

// bind6 refuses a host bind on a published IPv6 port (the exact address or the wildcard), and a
// [::] bind on a port published on 0.0.0.0 (a dual-stack wildcard takes both families).
TEST_F(HostLocal6, BindRefusedWhilePublished) {
    const int refused = expected_bind_refusal();
    ASSERT_NO_FATAL_FAILURE(Attach());
    ASSERT_NO_FATAL_FAILURE(Add("[::]:8888/tcp", "[fd00:30::2]:8080"));
    ExpectBind(topo_.host, SOCK_STREAM, Endpoint{kAny6, 8888}, refused);
    ExpectBind(topo_.host, SOCK_STREAM, Endpoint{MainTopology6::kHostUplinkAddr, 8888}, refused);
    ExpectBind(topo_.host, SOCK_DGRAM, Endpoint{kAny6, 8888}, 0);
    ExpectBind(topo_.c1, SOCK_STREAM, Endpoint{kAny6, 8888}, 0);
    ASSERT_NO_FATAL_FAILURE(Del("[::]:8888/tcp"));
    ExpectBind(topo_.host, SOCK_STREAM, Endpoint{kAny6, 8888}, 0);

    ASSERT_NO_FATAL_FAILURE(Add("0.0.0.0:8889/tcp", "172.30.0.2:8080"));
    ExpectBind(topo_.host, SOCK_STREAM, Endpoint{kAny6, 8889}, refused);
    ExpectBind(topo_.host, SOCK_STREAM, Endpoint{MainTopology6::kHostUplinkAddr, 8889}, 0);
}

}  // namespace
}  // namespace fwd::test
