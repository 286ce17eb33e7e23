// The gtest fixture most end-to-end suites share: MainTopology built fresh for each test, fwd
// set up in its host namespace (a private bpffs and state dir), and tag servers that the
// fixture stops before the namespaces go. Suites derive from it and add what only they need.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "support/netns_fixture.h"

namespace fwd::test {

class MainTopologyTest : public ::testing::Test {
protected:
    void SetUp() override {
        if (!running_as_root()) {
            GTEST_SKIP() << "needs root: creates network namespaces, mounts bpffs and loads "
                            "BPF programs";
        }
        net_ = std::make_unique<NetnsFixture>("fwdt-");
        topo_ = build_main_topology(*net_);
        net_->setup_fwd(topo_.host);
    }

    void TearDown() override {
        // Servers first (their sockets pin the namespaces), then the topology.
        tcp_servers_.clear();
        udp_servers_.clear();
        net_.reset();
    }

    [[nodiscard]] CommandResult fwdctl(const std::vector<std::string>& args) const {
        return net_->run_fwdctl(args);
    }

    // `attach up0 fbr0 OPTIONS...`, which must succeed. The socket programs go to an empty
    // cgroup: the simulated client shares this kernel, and these suites exercise the TC path
    // (tests/netns/host_local_test.cpp covers the hooks).
    void Attach(const std::vector<std::string>& options = {}) {
        std::vector<std::string> args = {"attach", MainTopology::kUplink, MainTopology::kBridge,
                                         "--cgroup", net_->empty_cgroup()};
        args.insert(args.end(), options.begin(), options.end());
        const CommandResult r = fwdctl(args);
        ASSERT_TRUE(r.ok()) << r.describe();
    }

    // A command that must succeed.
    void Fwdctl(const std::vector<std::string>& args) const {
        const CommandResult r = fwdctl(args);
        ASSERT_TRUE(r.ok()) << r.describe();
    }

    // A reboot as far as fwd can tell: no fwd program on any interface or cgroup and no pin;
    // only the state file is left. The tc and XDP attachments go behind fwd's back (a reboot
    // does not run `detach`), the pins (maps, cgroup links) with the old bpffs.
    void SimulateReboot() {
        for (const char* ifname : {MainTopology::kUplink, MainTopology::kBridge}) {
            const CommandResult tc =
                net_->exec_in(topo_.host, std::string("tc qdisc del dev ") + ifname + " clsact");
            ASSERT_TRUE(tc.ok()) << tc.describe();
            const CommandResult xdp =
                net_->exec_in(topo_.host, std::string("ip link set dev ") + ifname + " xdp off");
            ASSERT_TRUE(xdp.ok()) << xdp.describe();
        }
        net_->remount_bpffs();
    }

    // (entries, max_entries) of one map, from `fwdctl status --json`.
    [[nodiscard]] std::pair<std::uint64_t, std::uint64_t> MapFill(const std::string& name) const {
        const CommandResult r = fwdctl({"status", "--json"});
        EXPECT_TRUE(r.ok()) << r.describe();
        const auto doc = nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
        if (!doc.is_discarded() && doc.contains("maps")) {
            for (const auto& map : doc["maps"])
                if (map["name"] == name)
                    return {map["entries"].get<std::uint64_t>(),
                            map["max_entries"].get<std::uint64_t>()};
        }
        ADD_FAILURE() << "no map " << name << " in status --json:\n" << r.out;
        return {0, 0};
    }

    // One global counter from `fwdctl stats --json`.
    [[nodiscard]] std::uint64_t Counter(const std::string& name) const {
        return net_->fwd_counter(name);
    }

    // Tag servers on every address of namespace `ns` (see TcpTagServer, UdpTagServer).
    void StartTcpServer(const std::string& ns, std::uint16_t port, const std::string& tag) {
        tcp_servers_.push_back(std::make_unique<TcpTagServer>(ns, Endpoint{"0.0.0.0", port}, tag));
    }
    void StartUdpServer(const std::string& ns, std::uint16_t port, const std::string& tag) {
        udp_servers_.push_back(std::make_unique<UdpTagServer>(ns, Endpoint{"0.0.0.0", port}, tag));
    }

    // One exchange from the client to dst: the client sees dst as its peer, and the server
    // tagged `tag` saw the client's own address.
    void ExpectTcpReachesContainer(const Endpoint& dst, const std::string& tag) {
        TcpConnection conn = TcpConnection::connect(topo_.client, dst, kExchangeTimeout);
        ASSERT_TRUE(conn.ok()) << "connect to " << dst.str() << ": " << conn.error_text();
        EXPECT_EQ(conn.peer(), dst);
        EXPECT_EQ(conn.request("hello", kExchangeTimeout),
                  tag + " " + MainTopology::kClientAddr + " hello");
    }

    // Bounds a connect or a reply in the helpers above.
    static constexpr std::chrono::milliseconds kExchangeTimeout{3000};

    std::unique_ptr<NetnsFixture> net_;
    MainTopology topo_;
    std::vector<std::unique_ptr<TcpTagServer>> tcp_servers_;
    std::vector<std::unique_ptr<UdpTagServer>> udp_servers_;
};

}  // namespace fwd::test
