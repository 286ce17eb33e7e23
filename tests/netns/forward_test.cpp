// End-to-end: real TCP/UDP traffic from a client namespace through a host namespace running fwd
// (TC programs on the uplink and the container bridge) to "container" namespaces behind the
// bridge. Topology: see MainTopology in support/netns_fixture.h.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <string_view>
#include <vector>

#include "support/main_topology_test.h"
#include "support/netns_fixture.h"

namespace fwd::test {
namespace {

using std::chrono::milliseconds;
using Json = nlohmann::json;

// Every network wait in this file is bounded by one of these.
constexpr milliseconds kConnectTimeout{3000};
constexpr milliseconds kReplyTimeout{3000};
// How long a connect to a removed mapping may take to fail (refused or timed out).
constexpr milliseconds kRefusalTimeout{2000};

const Endpoint kPublished80{MainTopology::kHostUplinkAddr, 80};

// True if `value` is the number `port` or the string "port".
bool is_port(const Json& value, int port) {
    if (value.is_number_integer()) {
        return value.get<std::int64_t>() == port;
    }
    return value.is_string() && value.get<std::string>() == std::to_string(port);
}

// True if a stats object describes the mapping with host key "0.0.0.0:port/proto": either by
// a host_port (+ proto) field, or by a string field holding that key.
bool describes(const Json& obj, int port, std::string_view proto) {
    if (!obj.is_object()) {
        return false;
    }
    if (obj.contains("host_port") && is_port(obj["host_port"], port)) {
        return !obj.contains("proto") || obj["proto"] == proto;
    }
    const std::string key = "0.0.0.0:" + std::to_string(port) + "/" + std::string(proto);
    for (const auto& [name, value] : obj.items()) {
        if (value.is_string() && value.get<std::string>().find(key) != std::string::npos) {
            return true;
        }
    }
    return false;
}

// The first numeric field named `key` in `j` or below it (depth first).
std::optional<std::uint64_t> find_counter(const Json& j, std::string_view key, int depth = 0) {
    if (depth > 8 || !j.is_structured()) {
        return std::nullopt;
    }
    if (j.is_object()) {
        const auto it = j.find(std::string(key));
        if (it != j.end() && it->is_number()) {
            return it->get<std::uint64_t>();
        }
    }
    for (const auto& child : j) {
        if (auto found = find_counter(child, key, depth + 1)) {
            return found;
        }
    }
    return std::nullopt;
}

// packets_in of the mapping "0.0.0.0:port/proto" in `fwdctl stats --json` output, wherever the
// document nests it. nullopt if the output does not parse or lacks the mapping.
std::optional<std::uint64_t> packets_in(const std::string& stats_json, int port,
                                        std::string_view proto) {
    const Json doc = Json::parse(stats_json, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded()) {
        return std::nullopt;
    }
    // Breadth-first over all objects; the document is small and the queue bounded by its size.
    std::vector<const Json*> queue{&doc};
    for (std::size_t i = 0; i < queue.size() && i < 10000; ++i) {
        const Json& node = *queue[i];
        if (describes(node, port, proto)) {
            if (auto count = find_counter(node, "packets_in")) {
                return count;
            }
        }
        if (node.is_structured()) {
            for (const auto& child : node) {
                queue.push_back(&child);
            }
        }
    }
    return std::nullopt;
}

class EndToEnd : public MainTopologyTest {
protected:
    // `rounds` request/response exchanges on one TCP connection and one UDP request each,
    // from the client through 0.0.0.0:80/tcp and 0.0.0.0:5353/udp to c1.
    void ExchangeTcpAndUdp(int rounds) {
        TcpConnection conn = TcpConnection::connect(topo_.client, kPublished80, kConnectTimeout);
        ASSERT_TRUE(conn.ok()) << "connect to " << kPublished80.str() << ": " << conn.error_text();
        const Endpoint published_udp{MainTopology::kHostUplinkAddr, 5353};
        for (int i = 0; i < rounds; ++i) {
            const std::string line = "m" + std::to_string(i);
            ASSERT_EQ(conn.request(line, kReplyTimeout), "c1 10.77.1.2 " + line);
            const auto reply = udp_request(topo_.client, published_udp, line, kReplyTimeout);
            ASSERT_TRUE(reply.has_value()) << "no UDP reply from " << published_udp.str();
            EXPECT_EQ(reply->from, published_udp);
            EXPECT_EQ(reply->payload, "c1 10.77.1.2 " + line);
        }
        EXPECT_EQ(conn.peer(), kPublished80);
    }

    void PublishTcpAndUdpOnC1() {
        ASSERT_NO_FATAL_FAILURE(Add("0.0.0.0:80/tcp", "172.30.0.2:8080"));
        ASSERT_NO_FATAL_FAILURE(Add("0.0.0.0:5353/udp", "172.30.0.2:53"));
        StartTcpServer(topo_.c1, 8080, "c1");
        StartUdpServer(topo_.c1, 53, "c1");
    }

    // `fwdctl add HOST CONTAINER`, which must succeed and print "HOST -> CONTAINER".
    void Add(const std::string& host, const std::string& container) {
        const CommandResult r = fwdctl({"add", host, container});
        ASSERT_TRUE(r.ok()) << r.describe();
        EXPECT_EQ(r.out, host + " -> " + container + "\n") << r.describe();
    }
};

TEST_F(EndToEnd, TcpThroughMapping) {
    ASSERT_NO_FATAL_FAILURE(Attach());
    ASSERT_NO_FATAL_FAILURE(Add("0.0.0.0:80/tcp", "172.30.0.2:8080"));
    StartTcpServer(topo_.c1, 8080, "c1");

    TcpConnection conn = TcpConnection::connect(topo_.client, kPublished80, kConnectTimeout);
    ASSERT_TRUE(conn.ok()) << "connect to " << kPublished80.str() << ": " << conn.error_text();
    // The server saw the client's real address (no SNAT) ...
    EXPECT_EQ(conn.request("hello", kReplyTimeout), "c1 10.77.1.2 hello");
    // ... and the client only ever saw the published address.
    EXPECT_EQ(conn.peer(), kPublished80);
}

TEST_F(EndToEnd, UdpThroughMapping) {
    ASSERT_NO_FATAL_FAILURE(Attach());
    ASSERT_NO_FATAL_FAILURE(Add("0.0.0.0:5353/udp", "172.30.0.2:53"));
    StartUdpServer(topo_.c1, 53, "c1");

    const Endpoint published{MainTopology::kHostUplinkAddr, 5353};
    const auto reply = udp_request(topo_.client, published, "ping", kReplyTimeout);
    ASSERT_TRUE(reply.has_value()) << "no UDP reply from " << published.str();
    EXPECT_EQ(reply->from, published);
    EXPECT_EQ(reply->payload, "c1 10.77.1.2 ping");
}

TEST_F(EndToEnd, ExactAddressMapping) {
    ASSERT_NO_FATAL_FAILURE(Attach());
    ASSERT_NO_FATAL_FAILURE(Add("10.77.1.1:81/tcp", "172.30.0.3:8081"));
    StartTcpServer(topo_.c2, 8081, "c2");

    ExpectTcpReachesContainer(Endpoint{MainTopology::kHostUplinkAddr, 81}, "c2");
}

TEST_F(EndToEnd, RoutedTrafficNotCaptured) {
    ASSERT_NO_FATAL_FAILURE(Attach());
    ASSERT_NO_FATAL_FAILURE(Add("0.0.0.0:80/tcp", "172.30.0.2:8080"));
    StartTcpServer(topo_.c1, 8080, "c1");
    StartTcpServer(topo_.c2, 80, "c2");

    // Port 80 on an address that is not the host's own: routed, so the wildcard must not match.
    ExpectTcpReachesContainer(Endpoint{MainTopology::kC2Addr, 80}, "c2");
    EXPECT_EQ(tcp_servers_.front()->accepted(), 0U) << "c1 got a connection meant for c2";
}

TEST_F(EndToEnd, DelStopsNewFlows) {
    ASSERT_NO_FATAL_FAILURE(Attach());
    ASSERT_NO_FATAL_FAILURE(Add("0.0.0.0:80/tcp", "172.30.0.2:8080"));
    StartTcpServer(topo_.c1, 8080, "c1");
    ASSERT_NO_FATAL_FAILURE(ExpectTcpReachesContainer(kPublished80, "c1"));

    const CommandResult del = fwdctl({"del", "0.0.0.0:80/tcp"});
    ASSERT_TRUE(del.ok()) << del.describe();

    TcpConnection conn = TcpConnection::connect(topo_.client, kPublished80, kRefusalTimeout);
    if (conn.ok()) {
        // Something accepted; it must not be the container behind the removed mapping.
        const auto reply = conn.request("hello", kRefusalTimeout);
        EXPECT_FALSE(reply.has_value() && reply->rfind("c1 ", 0) == 0)
            << "a new connection still reached the container after del: " << *reply;
    } else {
        EXPECT_TRUE(conn.error() == ECONNREFUSED || conn.error() == ETIMEDOUT)
            << "unexpected connect error: " << conn.error_text();
    }
    EXPECT_EQ(tcp_servers_.front()->accepted(), 1U);
}

TEST_F(EndToEnd, ReloadKeepsOpenConnection) {
    ASSERT_NO_FATAL_FAILURE(Attach());
    ASSERT_NO_FATAL_FAILURE(Add("0.0.0.0:80/tcp", "172.30.0.2:8080"));
    StartTcpServer(topo_.c1, 8080, "c1");

    TcpConnection conn = TcpConnection::connect(topo_.client, kPublished80, kConnectTimeout);
    ASSERT_TRUE(conn.ok()) << "connect to " << kPublished80.str() << ": " << conn.error_text();
    ASSERT_EQ(conn.request("before", kReplyTimeout), "c1 10.77.1.2 before");

    // Attaching again upgrades the programs in place; pinned maps (and flows) survive.
    ASSERT_NO_FATAL_FAILURE(Attach());

    EXPECT_EQ(conn.request("after", kReplyTimeout), "c1 10.77.1.2 after");
    EXPECT_EQ(conn.peer(), kPublished80);
    // New flows keep working too.
    ExpectTcpReachesContainer(kPublished80, "c1");
}

TEST_F(EndToEnd, CountersCount) {
    ASSERT_NO_FATAL_FAILURE(Attach());
    ASSERT_NO_FATAL_FAILURE(Add("0.0.0.0:80/tcp", "172.30.0.2:8080"));
    StartTcpServer(topo_.c1, 8080, "c1");
    ASSERT_NO_FATAL_FAILURE(ExpectTcpReachesContainer(kPublished80, "c1"));

    CommandResult stats;
    std::optional<std::uint64_t> count;
    const bool counted = wait_until(
        [&] {
            stats = fwdctl({"stats", "--json"});
            count = stats.ok() ? packets_in(stats.out, 80, "tcp") : std::nullopt;
            return count.value_or(0) > 0;
        },
        milliseconds{3000}, milliseconds{100});
    ASSERT_TRUE(stats.ok()) << stats.describe();
    ASSERT_TRUE(count.has_value()) << "no packets_in for 0.0.0.0:80/tcp in stats --json:\n"
                                   << stats.out;
    EXPECT_TRUE(counted) << "packets_in is " << *count << " after traffic:\n" << stats.out;

    // The same numbers for the node_exporter textfile collector.
    const CommandResult prometheus = fwdctl({"stats", "--format", "prometheus"});
    ASSERT_TRUE(prometheus.ok()) << prometheus.describe();
    const std::string sample =
        "fwd_mapping_packets_total{host_ip=\"0.0.0.0\",host_port=\"80\",proto=\"tcp\","
        "container_ip=\"172.30.0.2\",container_port=\"8080\",name=\"\",direction=\"in\"} ";
    const auto at = prometheus.out.find(sample);
    ASSERT_NE(at, std::string::npos) << prometheus.out;
    EXPECT_GE(std::stoull(prometheus.out.substr(at + sample.size())), *count);
    EXPECT_NE(prometheus.out.find("fwd_map_entries{map=\"fwd_ct4\"} 1\n"), std::string::npos)
        << prometheus.out;
}

// stats --watch prints a new view every interval until it is stopped, and does not hold the
// state dir's lock in between: other commands go on meanwhile.
TEST_F(EndToEnd, StatsWatchPrintsAgainAndLetsOtherCommandsRun) {
    ASSERT_NO_FATAL_FAILURE(Attach());
    ASSERT_NO_FATAL_FAILURE(Add("0.0.0.0:80/tcp", "172.30.0.2:8080"));
    CommandResult watched;
    std::thread watcher([&] {
        watched = run_command(net_->fwdctl_argv({"stats", "--watch", "--interval", "0.2"}),
                              milliseconds{2000});
    });
    std::this_thread::sleep_for(milliseconds{300});
    const CommandResult added = fwdctl({"add", "0.0.0.0:81/tcp", "172.30.0.2:8081"});
    watcher.join();
    EXPECT_TRUE(added.ok()) << added.describe();
    EXPECT_TRUE(watched.timed_out) << watched.describe();
    std::size_t views = 0;
    for (std::size_t at = 0; (at = watched.out.find("fwdctl stats, ", at)) != std::string::npos;
         ++at)
        ++views;
    EXPECT_GE(views, 3U) << watched.out;
    EXPECT_NE(watched.out.find("0.0.0.0:81/tcp -> 172.30.0.2:8081"), std::string::npos)
        << "a later view shows the mapping added meanwhile:\n"
        << watched.out;
}

TEST_F(EndToEnd, BadInputExitsTwo) {
    ASSERT_NO_FATAL_FAILURE(Attach());
    ASSERT_NO_FATAL_FAILURE(Add("0.0.0.0:80/tcp", "172.30.0.2:8080"));
    const CommandResult before = fwdctl({"list"});
    ASSERT_TRUE(before.ok()) << before.describe();
    ASSERT_EQ(before.out, "0.0.0.0:80/tcp -> 172.30.0.2:8080\n");

    const std::vector<std::vector<std::string>> bad = {
        {"add", "0.0.0.0:70000/tcp", "172.30.0.2:80"},
        {"add", "300.1.1.1:80", "172.30.0.2:80"},
        {"add", "80/sctp", "172.30.0.2:80"},
        {"add", "81", "172.30.0.2:80", "--allow", "10.0.0.1/8"},
        {"add", "81", "172.30.0.2:80", "--allow", "10.0.0.0/40"},
        {"stats", "--format", "xml"},
        {"stats", "--watch", "--interval", "0.01"},
        {"stats", "--watch", "--interval", "1s"},
        {"stats", "--interval", "1"},
        {"stats", "--json", "--format", "prometheus"},
        {"list", "--format", "json"},
    };
    for (const auto& args : bad) {
        const CommandResult r = fwdctl(args);
        EXPECT_EQ(r.exit_code, 2) << r.describe();
        const auto lines = split_lines(r.err);
        EXPECT_EQ(lines.size(), 1U) << r.describe();
        EXPECT_TRUE(!lines.empty() && lines.front().rfind("fwdctl: error:", 0) == 0)
            << r.describe();
    }

    const CommandResult after = fwdctl({"list"});
    ASSERT_TRUE(after.ok()) << after.describe();
    EXPECT_EQ(after.out, before.out);
}

TEST_F(EndToEnd, AddBeforeAttach) {
    // The fixture's state dir is fresh and nothing is attached yet.
    const CommandResult add = fwdctl({"add", "0.0.0.0:80/tcp", "172.30.0.2:8080"});
    EXPECT_EQ(add.exit_code, 0) << add.describe();
    EXPECT_FALSE(add.err.empty()) << "expected a warning that fwd is not attached\n"
                                  << add.describe();

    ASSERT_NO_FATAL_FAILURE(Attach());
    StartTcpServer(topo_.c1, 8080, "c1");
    ExpectTcpReachesContainer(kPublished80, "c1");
}

// A host connection whose source port is a published port gets its replies on that port;
// they belong to the host socket, not to the container (iptables leaves them alone too,
// through conntrack).
TEST_F(EndToEnd, HostConnectionOnPublishedPortKeepsItsReplies) {
    ASSERT_NO_FATAL_FAILURE(Attach());
    ASSERT_NO_FATAL_FAILURE(Add("0.0.0.0:45000/tcp", "172.30.0.2:8080"));
    ASSERT_NO_FATAL_FAILURE(Add("0.0.0.0:45001/udp", "172.30.0.2:53"));
    StartTcpServer(topo_.c1, 8080, "c1");
    StartUdpServer(topo_.c1, 53, "c1");
    StartTcpServer(topo_.client, 9000, "client");
    StartUdpServer(topo_.client, 9001, "client");

    const Endpoint client_tcp{MainTopology::kClientAddr, 9000};
    TcpConnection conn = TcpConnection::connect(topo_.host, client_tcp, kConnectTimeout, 45000);
    ASSERT_TRUE(conn.ok()) << "host connect from port 45000: " << conn.error_text();
    EXPECT_EQ(conn.request("hi", kReplyTimeout), "client 10.77.1.1 hi");

    const Endpoint client_udp{MainTopology::kClientAddr, 9001};
    const auto reply = udp_request(topo_.host, client_udp, "ping", kReplyTimeout, 45001);
    ASSERT_TRUE(reply.has_value()) << "no UDP reply on host port 45001";
    EXPECT_EQ(reply->payload, "client 10.77.1.1 ping");

    // The mappings still take new flows from outside.
    ExpectTcpReachesContainer(Endpoint{MainTopology::kHostUplinkAddr, 45000}, "c1");
}

// A host connection that used a published port and was closed leaves a TIME_WAIT socket on its
// tuple. A new connection from the same client port is a new flow for the container, as with
// iptables DNAT (conntrack lets a SYN reopen a TIME_WAIT tuple); it used to go to the host.
TEST_F(EndToEnd, TimeWaitHostSocketDoesNotCaptureANewConnection) {
    ASSERT_NO_FATAL_FAILURE(Attach());
    ASSERT_NO_FATAL_FAILURE(Add("0.0.0.0:45000/tcp", "172.30.0.2:8080"));
    StartTcpServer(topo_.c1, 8080, "c1");
    StartTcpServer(topo_.client, 9000, "client");
    {
        const Endpoint client_tcp{MainTopology::kClientAddr, 9000};
        TcpConnection conn =
            TcpConnection::connect(topo_.host, client_tcp, kConnectTimeout, 45000);
        ASSERT_TRUE(conn.ok()) << "host connect from port 45000: " << conn.error_text();
        EXPECT_EQ(conn.request("hi", kReplyTimeout), "client 10.77.1.1 hi");
    }  // the host closes first: its socket waits in TIME_WAIT
    tcp_servers_.pop_back();  // free the client's port 9000 for the new connection
    ASSERT_TRUE(wait_until(
        [&] {
            const CommandResult ss =
                net_->exec_in(topo_.host, "ss -Htan state time-wait '( sport = :45000 )'");
            return ss.ok() && !ss.out.empty();
        },
        kReplyTimeout))
        << "the host connection left no TIME_WAIT socket";

    const std::uint64_t host_owned = Counter("pass_host_socket");  // the host connection's
    const Endpoint published{MainTopology::kHostUplinkAddr, 45000};
    TcpConnection again = TcpConnection::connect(topo_.client, published, kConnectTimeout, 9000);
    ASSERT_TRUE(again.ok()) << "client connect from port 9000: " << again.error_text();
    EXPECT_EQ(again.request("hello", kReplyTimeout), "c1 10.77.1.2 hello");
    EXPECT_EQ(Counter("pass_host_socket"), host_owned) << "the SYN was handed to the host";
}

// publish -P, then find the port with `fwdctl port` and send traffic through it.
TEST_F(EndToEnd, PublishAllThenPortFindsTheMapping) {
    ASSERT_NO_FATAL_FAILURE(Attach());
    const CommandResult publish = fwdctl(
        {"publish", "web", "--ip", MainTopology::kC1Addr, "-P", "--expose", "8080", "--expose", "53/udp"});
    ASSERT_TRUE(publish.ok()) << publish.describe();
    StartTcpServer(topo_.c1, 8080, "c1");
    StartUdpServer(topo_.c1, 53, "c1");

    const CommandResult tcp_port = fwdctl({"port", "web", "8080/tcp"});
    ASSERT_TRUE(tcp_port.ok()) << tcp_port.describe();
    const auto tcp_lines = split_lines(tcp_port.out);
    ASSERT_EQ(tcp_lines.size(), 1U) << tcp_port.describe();
    ASSERT_EQ(tcp_lines[0].rfind("0.0.0.0:", 0), 0U) << tcp_port.describe();
    const auto tcp_host_port = static_cast<std::uint16_t>(std::stoi(tcp_lines[0].substr(8)));
    ExpectTcpReachesContainer(Endpoint{MainTopology::kHostUplinkAddr, tcp_host_port}, "c1");

    const CommandResult udp_port = fwdctl({"port", "web", "53/udp"});
    ASSERT_TRUE(udp_port.ok()) << udp_port.describe();
    const auto udp_host_port = static_cast<std::uint16_t>(std::stoi(udp_port.out.substr(8)));
    const Endpoint published{MainTopology::kHostUplinkAddr, udp_host_port};
    const auto reply = udp_request(topo_.client, published, "ping", kReplyTimeout);
    ASSERT_TRUE(reply.has_value()) << "no UDP reply from " << published.str();
    EXPECT_EQ(reply->from, published);

    const CommandResult all = fwdctl({"port", "web"});
    ASSERT_TRUE(all.ok()) << all.describe();
    EXPECT_EQ(split_lines(all.out).size(), 2U) << all.describe();

    const CommandResult unpublish = fwdctl({"unpublish", "web"});
    ASSERT_TRUE(unpublish.ok()) << unpublish.describe();
    const CommandResult gone = fwdctl({"port", "web"});
    EXPECT_EQ(gone.exit_code, 1) << gone.describe();
}

// The fast path (default): translated packets in both directions go straight to the next hop,
// the replies translated on the bridge's ingress; the client still sees only the published
// address and the container the client's own.
TEST_F(EndToEnd, FastPathRedirectsBothDirections) {
    ASSERT_NO_FATAL_FAILURE(Attach());
    ASSERT_NO_FATAL_FAILURE(PublishTcpAndUdpOnC1());
    ASSERT_NO_FATAL_FAILURE(ExchangeTcpAndUdp(5));
    const std::uint64_t nat_in = Counter("nat_in");
    const std::uint64_t nat_out = Counter("nat_out");
    // Every exchange is at least a packet each way per protocol, plus the TCP handshake.
    EXPECT_GE(nat_in, 10U);
    EXPECT_GE(nat_out, 10U);
    // The first packet of a flow may meet an unresolved neighbour (redirect_neigh resolves it),
    // but nothing is left to the stack: every translated packet is redirected.
    EXPECT_EQ(Counter("redirect"), nat_in + nat_out);
    // The egress program of the device a packet is redirected to lets it pass without a lookup.
    EXPECT_EQ(Counter("pass_no_match"), 0U);
    const CommandResult status = fwdctl({"status"});
    EXPECT_NE(status.out.find("fast path: on"), std::string::npos) << status.describe();
}

// --fast-path off: the same traffic works through the stack (routing, netfilter) and nothing is
// redirected; the switch is kept across a re-attach.
TEST_F(EndToEnd, FastPathOffRoutesThroughTheStack) {
    ASSERT_NO_FATAL_FAILURE(Attach({"--fast-path", "off"}));
    ASSERT_NO_FATAL_FAILURE(PublishTcpAndUdpOnC1());
    ASSERT_NO_FATAL_FAILURE(ExchangeTcpAndUdp(3));
    ASSERT_NO_FATAL_FAILURE(Attach());
    ASSERT_NO_FATAL_FAILURE(ExchangeTcpAndUdp(2));
    EXPECT_GE(Counter("nat_in"), 10U);
    EXPECT_GE(Counter("nat_out"), 10U);
    EXPECT_EQ(Counter("redirect"), 0U);
    const CommandResult status = fwdctl({"status"});
    EXPECT_NE(status.out.find("fast path: off"), std::string::npos) << status.describe();
}

// --mode xdp with a client that sends full checksums (as frames from a wire carry): after the
// first packet (tracked by TC) XDP translates the forward direction, TC forwards it on.
TEST_F(EndToEnd, XdpModeTranslatesTrackedFlows) {
    set_tx_checksum_offload(topo_.client, "eth0", false);
    ASSERT_NO_FATAL_FAILURE(Attach({"--mode", "xdp"}));
    const CommandResult status = fwdctl({"status", "--json"});
    ASSERT_TRUE(status.ok()) << status.describe();
    const Json doc = Json::parse(status.out);
    for (const auto& interface : doc["interfaces"]) {
        EXPECT_EQ(interface["mode"], "xdp") << status.out;
        EXPECT_NE(interface["xdp_prog_id"], 0) << status.out;
    }
    ASSERT_NO_FATAL_FAILURE(PublishTcpAndUdpOnC1());
    ASSERT_NO_FATAL_FAILURE(ExchangeTcpAndUdp(5));
    const std::uint64_t xdp_nat_in = Counter("xdp_nat_in");
    EXPECT_GE(xdp_nat_in, 5U) << "XDP translated too little";
    EXPECT_LE(xdp_nat_in, Counter("nat_in"));

    // Back to tc mode: fwd's XDP program leaves the interfaces, the traffic keeps working.
    ASSERT_NO_FATAL_FAILURE(Attach({"--mode", "tc"}));
    const CommandResult tc_status = fwdctl({"status", "--json"});
    for (const auto& interface : Json::parse(tc_status.out)["interfaces"])
        EXPECT_EQ(interface["xdp_prog_id"], 0) << tc_status.out;
    ASSERT_NO_FATAL_FAILURE(ExchangeTcpAndUdp(2));
    EXPECT_EQ(Counter("xdp_nat_in"), xdp_nat_in);
}

// A local sender that leaves its checksums to offload (veth default) is recognised by XDP and
// left to TC, which knows the skb's checksum state: traffic works, XDP translates nothing.
TEST_F(EndToEnd, XdpModeLeavesOffloadedChecksumsToTc) {
    set_tx_checksum_offload(topo_.client, "eth0", true);
    ASSERT_NO_FATAL_FAILURE(Attach({"--mode", "xdp"}));
    ASSERT_NO_FATAL_FAILURE(PublishTcpAndUdpOnC1());
    {
        // Counted while the connection is open: once it closes, a slow machine may see the
        // client answer a retransmitted FIN from TIME_WAIT with an ACK whose checksum the
        // kernel computed in full, which XDP rightly translates itself.
        TcpConnection conn = TcpConnection::connect(topo_.client, kPublished80, kConnectTimeout);
        ASSERT_TRUE(conn.ok()) << conn.error_text();
        const Endpoint published_udp{MainTopology::kHostUplinkAddr, 5353};
        for (int i = 0; i < 4; ++i) {
            const std::string line = "m" + std::to_string(i);
            ASSERT_EQ(conn.request(line, kReplyTimeout), "c1 10.77.1.2 " + line);
            const auto reply = udp_request(topo_.client, published_udp, line, kReplyTimeout);
            ASSERT_TRUE(reply.has_value()) << "no UDP reply from " << published_udp.str();
        }
        EXPECT_EQ(Counter("xdp_nat_in"), 0U);
        EXPECT_GE(Counter("xdp_to_tc"), 8U);
    }
    const CommandResult detach = fwdctl({"detach", "--all"});
    ASSERT_TRUE(detach.ok()) << detach.describe();
    const CommandResult link = net_->exec_in(topo_.host, "ip -d link show up0");
    EXPECT_EQ(link.out.find("xdp"), std::string::npos) << "XDP left after detach:\n" << link.out;
}

// A 60,000-port range goes in and out in batched map updates: the maps hold exactly the
// state's mappings afterwards (check), the service map's fill follows, and a port in the middle
// of the range translates.
TEST_F(EndToEnd, SixtyThousandPortRangeAddAndDelete) {
    ASSERT_NO_FATAL_FAILURE(Attach());
    const CommandResult add = fwdctl({"add", "0.0.0.0:5536-65535/tcp", "172.30.0.2:5536-65535"});
    ASSERT_TRUE(add.ok()) << add.describe();
    EXPECT_EQ(split_lines(add.out).size(), 60000U);
    const CommandResult check = fwdctl({"check"});
    EXPECT_TRUE(check.ok()) << check.describe();
    EXPECT_EQ(check.out, "ok: 60000 mapping(s), maps and state agree\n");
    const CommandResult status = fwdctl({"status", "--json"});
    ASSERT_TRUE(status.ok()) << status.describe();
    for (const auto& map : Json::parse(status.out)["maps"]) {
        if (map["name"] == "fwd_svc4") {
            EXPECT_EQ(map["entries"], 60000) << status.out;
        }
    }
    StartTcpServer(topo_.c1, 30000, "c1");
    ExpectTcpReachesContainer(Endpoint{MainTopology::kHostUplinkAddr, 30000}, "c1");

    const CommandResult del = fwdctl({"del", "0.0.0.0:5536-65535/tcp"});
    ASSERT_TRUE(del.ok()) << del.describe();
    const CommandResult after = fwdctl({"check"});
    EXPECT_EQ(after.out, "ok: 0 mapping(s), maps and state agree\n") << after.describe();
    const CommandResult list = fwdctl({"list"});
    EXPECT_EQ(list.out, "");
}

// Where the kernel has batch map ops, a 10,000-port range is a few bpf() calls, not one
// round trip per port: counted with strace on the real fwdctl.
TEST_F(EndToEnd, LargeRangeIsBatchedMapUpdates) {
    ASSERT_NO_FATAL_FAILURE(Attach());
    const CommandResult status = fwdctl({"status", "--json"});
    ASSERT_TRUE(Json::parse(status.out)["kernel_features"]["batch_ops"].get<bool>())
        << "this kernel has batch map ops (5.6+)";
    std::vector<std::string> argv = {"strace", "-f", "-qq", "-e", "trace=bpf"};
    const auto fwdctl_argv = net_->fwdctl_argv({"add", "0.0.0.0:20000-29999/udp",
                                                "172.30.0.2:20000-29999"});
    argv.insert(argv.end(), fwdctl_argv.begin(), fwdctl_argv.end());
    const CommandResult traced = run_command(argv, std::chrono::milliseconds{60000});
    ASSERT_TRUE(traced.ok()) << traced.describe();
    const auto count = [&](const std::string& command) {
        std::size_t n = 0;
        for (std::size_t at = traced.err.find(command); at != std::string::npos;
             at = traced.err.find(command, at + 1))
            ++n;
        return n;
    };
    EXPECT_GE(count("BPF_MAP_UPDATE_BATCH"), 3U) << "stats, services and ports in batches";
    EXPECT_LT(count("BPF_MAP_UPDATE_ELEM"), 50U) << "per-port updates";
    EXPECT_LT(count("BPF_MAP_GET_NEXT_KEY"), 50U) << "per-entry map walks";
    const CommandResult check = fwdctl({"check"});
    EXPECT_EQ(check.out, "ok: 10000 mapping(s), maps and state agree\n") << check.describe();
}

// fwd's kernel and file state is root-only: the pin dir and link dir 0700, pins and the state
// file 0600. A non-root fwdctl gets one clear permission error (exit 1) and changes nothing;
// bad input is still a usage error (exit 2).
TEST_F(EndToEnd, NonRootGetsOnePermissionErrorAndStateIsRootOnly) {
    ASSERT_NO_FATAL_FAILURE(Attach());
    ASSERT_NO_FATAL_FAILURE(Add("0.0.0.0:80/tcp", "172.30.0.2:8080"));
    namespace fs = std::filesystem;
    const auto mode = [](const fs::path& path) {
        return fs::status(path).permissions() & fs::perms::all;
    };
    EXPECT_EQ(mode(net_->pin_dir()), fs::perms::owner_all);
    EXPECT_EQ(mode(fs::path(net_->pin_dir()) / "fwd_svc4"),
              fs::perms::owner_read | fs::perms::owner_write);
    EXPECT_EQ(mode(fs::path(net_->pin_dir()) / "links"), fs::perms::owner_all);
    EXPECT_EQ(mode(fs::path(net_->state_dir()) / "state.json"),
              fs::perms::owner_read | fs::perms::owner_write);

    const auto as_nobody = [&](const std::vector<std::string>& args) {
        auto argv = net_->fwdctl_argv(args);
        // nsenter (root) first, then drop to nobody for fwdctl itself.
        const std::vector<std::string> drop = {"setpriv", "--reuid=nobody", "--regid=nogroup",
                                               "--clear-groups"};
        argv.insert(argv.begin() + 2, drop.begin(), drop.end());
        return run_command(argv, std::chrono::milliseconds{10000});
    };
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"list"}, {"add", "81", "172.30.0.2:81"}, {"del", "80"}, {"detach", "--all"}}) {
        const CommandResult r = as_nobody(args);
        EXPECT_EQ(r.exit_code, 1) << r.describe();
        EXPECT_EQ(r.out, "") << r.describe();
        EXPECT_EQ(split_lines(r.err).size(), 1U) << r.describe();
        EXPECT_NE(r.err.find("permission denied"), std::string::npos) << r.describe();
    }
    const CommandResult usage = as_nobody({"add", "70000", "172.30.0.2:81"});
    EXPECT_EQ(usage.exit_code, 2) << usage.describe();

    const CommandResult list = fwdctl({"list"});
    EXPECT_EQ(list.out, "0.0.0.0:80/tcp -> 172.30.0.2:8080\n") << list.describe();
    const CommandResult check = fwdctl({"check"});
    EXPECT_TRUE(check.ok()) << check.describe();
    StartTcpServer(topo_.c1, 8080, "c1");
    ExpectTcpReachesContainer(kPublished80, "c1");
}

// Two fwdctl processes allocating pool ports at the same time never hand out one port twice:
// the state-dir lock serialises them.
TEST_F(EndToEnd, ConcurrentPublishesNeverShareAPort) {
    ASSERT_NO_FATAL_FAILURE(Attach());
    constexpr int kPerWorker = 8;
    auto worker = [this](const std::string& prefix) {
        std::vector<CommandResult> results;
        for (int i = 0; i < kPerWorker; ++i) {
            results.push_back(fwdctl({"publish", prefix + std::to_string(i), "--ip",
                                      MainTopology::kC1Addr, "-P", "--expose", "80"}));
        }
        return results;
    };
    std::vector<CommandResult> first;
    std::vector<CommandResult> second;
    std::thread a([&] { first = worker("a"); });
    std::thread b([&] { second = worker("b"); });
    a.join();
    b.join();
    for (const auto* results : {&first, &second}) {
        for (const auto& r : *results) {
            EXPECT_TRUE(r.ok()) << r.describe();
        }
    }
    const CommandResult list = fwdctl({"list"});
    ASSERT_TRUE(list.ok()) << list.describe();
    const auto lines = split_lines(list.out);
    EXPECT_EQ(lines.size(), 2U * kPerWorker) << list.out;
    std::set<std::string> host_sides;
    for (const auto& line : lines) {
        host_sides.insert(line.substr(0, line.find(' ')));
    }
    EXPECT_EQ(host_sides.size(), lines.size()) << "a host port was allocated twice:\n" << list.out;
}

}  // namespace
}  // namespace fwd::test
