// End-to-end: fwd-portmap driven exactly as a CNI runtime drives a chained plugin: CNI_*
// variables in a clean environment, the network config (with the bridge plugin's prevResult for
// c1 or c2) on stdin, stdout read back as the result or an error object. ADD carries real
// traffic with the client's address kept, CHECK agrees, DEL removes exactly that container's
// mappings and is idempotent, conflicts and a missing attach are CNI errors that change
// nothing. The Reference* tests run Debian's portmap plugin (containernetworking-plugins) on the
// same config in a fresh topology and pin down where it behaves differently (docs/cni.md).
// Topology: MainTopology (support/netns_fixture.h); the plugins run in the host namespace.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/main_topology_test.h"
#include "support/netns_fixture.h"

#ifndef FWD_PORTMAP_PATH
#error "FWD_PORTMAP_PATH must name the fwd-portmap binary under test"
#endif

namespace fwd::test {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

constexpr const char* kReferencePortmap = "/usr/lib/cni/portmap";
constexpr milliseconds kPluginTimeout{20000};

struct PluginRun {
    int exit_code = -1;
    std::string out;
    std::string err;

    [[nodiscard]] json result() const { return json::parse(out, nullptr, false); }
    [[nodiscard]] std::string describe() const {
        return "exit " + std::to_string(exit_code) + ", stdout: " + out + ", stderr: " + err;
    }
};

// Writes `input` to `fd` and closes it; the config is small enough for the pipe's buffer.
void write_all(int fd, const std::string& input) {
    std::size_t done = 0;
    while (done < input.size()) {
        const ssize_t n = ::write(fd, input.data() + done, input.size() - done);
        if (n <= 0) break;
        done += static_cast<std::size_t>(n);
    }
    ::close(fd);
}

// Reads stdout and stderr until both close or the deadline passes.
void read_until_closed(int out_fd, int err_fd, PluginRun& run) {
    const auto deadline = std::chrono::steady_clock::now() + kPluginTimeout;
    pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
    std::string* sinks[2] = {&run.out, &run.err};
    int open = 2;
    while (open > 0 && std::chrono::steady_clock::now() < deadline) {
        if (::poll(fds, 2, 100) <= 0) continue;
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || fds[i].revents == 0) continue;
            char buf[4096];
            const ssize_t n = ::read(fds[i].fd, buf, sizeof(buf));
            if (n > 0) {
                sinks[i]->append(buf, static_cast<std::size_t>(n));
                continue;
            }
            ::close(fds[i].fd);
            fds[i].fd = -1;
            --open;
        }
    }
    for (auto& pfd : fds)
        if (pfd.fd >= 0) ::close(pfd.fd);
}

// A runtime's view of a plugin: `plugin` exec'd in the host namespace with nothing in its
// environment but PATH, the CNI_* variables and fwd's dirs, `config` on stdin.
PluginRun run_plugin(const std::string& plugin, const std::string& host_ns,
                     const std::map<std::string, std::string>& vars, const std::string& config) {
    int in[2], out[2], err[2];
    if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0)
        throw std::runtime_error("pipe");
    std::vector<std::string> argv = {"/usr/bin/nsenter", "--net=/run/netns/" + host_ns, plugin};
    std::vector<std::string> envp = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin"};
    for (const auto& [key, value] : vars) envp.push_back(key + "=" + value);
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::dup2(in[0], 0);
        ::dup2(out[1], 1);
        ::dup2(err[1], 2);
        std::vector<char*> raw_argv, raw_envp;
        for (auto& arg : argv) raw_argv.push_back(arg.data());
        raw_argv.push_back(nullptr);
        for (auto& var : envp) raw_envp.push_back(var.data());
        raw_envp.push_back(nullptr);
        ::execve(raw_argv[0], raw_argv.data(), raw_envp.data());
        ::_exit(127);
    }
    ::close(in[0]);
    ::close(out[1]);
    ::close(err[1]);
    write_all(in[1], config);
    PluginRun run;
    read_until_closed(out[0], err[0], run);
    int status = 0;
    const bool exited = wait_until([&] { return ::waitpid(pid, &status, WNOHANG) == pid; },
                                   kPluginTimeout);
    if (!exited) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &status, 0);
        return run;
    }
    run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return run;
}

// The bridge plugin's result for a container on fbr0: the host's bridge and veth end, and
// eth0 in the container's namespace with its addresses.
json bridge_result(const std::string& netns_path, const std::vector<std::string>& cidrs) {
    json ips = json::array();
    for (const auto& cidr : cidrs) ips.push_back({{"address", cidr}, {"interface", 2}});
    return {{"cniVersion", "1.0.0"},
            {"interfaces",
             json::array({{{"name", MainTopology::kBridge}, {"mac", "02:00:00:00:00:01"}},
                          {{"name", "vc1"}, {"mac", "02:00:00:00:00:02"}},
                          {{"name", "eth0"}, {"mac", "02:00:00:00:00:03"}, {"sandbox", netns_path}}})},
            {"ips", ips},
            {"routes", json::array({{{"dst", "0.0.0.0/0"}}})},
            {"dns", json::object()}};
}

json port_mapping(int host_port, int container_port, const std::string& proto,
                  const std::string& host_ip = "") {
    json entry = {{"hostPort", host_port}, {"containerPort", container_port}, {"protocol", proto}};
    if (!host_ip.empty()) entry["hostIP"] = host_ip;
    return entry;
}

// One plugin's config out of a conflist, as the runtime hands it over.
json plugin_config(const std::string& type, const json& mappings, const json& prev_result) {
    json conf = {{"cniVersion", "1.0.0"},
                 {"name", "fwdnet"},
                 {"type", type},
                 {"capabilities", {{"portMappings", true}}},
                 {"runtimeConfig", {{"portMappings", mappings}}}};
    if (!prev_result.is_null()) conf["prevResult"] = prev_result;
    return conf;
}

// Both plugins on MainTopology; fwd is set up (not attached) by MainTopologyTest.
class CniPortmap : public MainTopologyTest {
protected:
    // One container as the runtime knows it: its ID and namespace.
    struct Container {
        std::string id;
        std::string ns;
        [[nodiscard]] std::string netns_path() const { return "/run/netns/" + ns; }
    };

    void SetUp() override {
        MainTopologyTest::SetUp();
        if (IsSkipped()) return;
        c1_ = {"c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1", topo_.c1};
        c2_ = {"c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2", topo_.c2};
    }

    PluginRun Run(const std::string& plugin, const std::string& command, const Container& c,
                  const json& config) const {
        return run_plugin(plugin, topo_.host,
                          {{"CNI_COMMAND", command},
                           {"CNI_CONTAINERID", c.id},
                           {"CNI_NETNS", c.netns_path()},
                           {"CNI_IFNAME", "eth0"},
                           {"CNI_PATH", "/usr/lib/cni"},
                           {"FWD_STATE_DIR", net_->state_dir()},
                           {"FWD_PIN_DIR", net_->pin_dir()},
                           {"FWD_CONFIG", "/dev/null"}},
                          config.dump());
    }
    PluginRun Fwd(const std::string& command, const Container& c, const json& config) const {
        return Run(FWD_PORTMAP_PATH, command, c, config);
    }
    PluginRun Reference(const std::string& command, const Container& c, const json& config) const {
        return Run(kReferencePortmap, command, c, config);
    }

    [[nodiscard]] std::string List() const {
        const CommandResult r = fwdctl({"list"});
        EXPECT_TRUE(r.ok()) << r.describe();
        return r.out;
    }

    // The client reaches `dst` and the server tagged `tag` saw the client's own address.
    void ExpectTcpReaches(const Endpoint& dst, const std::string& tag, const std::string& client_addr) {
        TcpConnection conn = TcpConnection::connect(topo_.client, dst, kExchangeTimeout);
        ASSERT_TRUE(conn.ok()) << "connect to " << dst.str() << ": " << conn.error_text();
        EXPECT_EQ(conn.request("hello", kExchangeTimeout), tag + " " + client_addr + " hello");
    }
    void ExpectTcpRefused(const Endpoint& dst) {
        TcpConnection conn = TcpConnection::connect(topo_.client, dst, milliseconds{1500});
        EXPECT_FALSE(conn.ok()) << dst.str() << " still reaches a container";
    }

    [[nodiscard]] json C1Result(bool ipv6 = false) const {
        std::vector<std::string> cidrs = {std::string(MainTopology::kC1Addr) + "/24"};
        if (ipv6) cidrs.push_back(std::string(MainTopology6::kC1Addr) + "/64");
        return bridge_result(c1_.netns_path(), cidrs);
    }
    [[nodiscard]] json C2Result() const {
        return bridge_result(c2_.netns_path(), {std::string(MainTopology::kC2Addr) + "/24"});
    }

    Container c1_;
    Container c2_;
};

TEST_F(CniPortmap, AddPublishesDelRemovesExactlyThatContainersMappings) {
    add_main_topology_ipv6(*net_, topo_);
    ASSERT_NO_FATAL_FAILURE(Attach());
    ASSERT_NO_FATAL_FAILURE(Fwdctl({"add", "9000", "172.30.0.3:9000", "--name", "unrelated"}));
    StartTcpServer(topo_.c1, 8080, "c1");
    tcp_servers_.push_back(std::make_unique<TcpTagServer>(topo_.c1, Endpoint{"::", 8080}, "c1"));
    StartUdpServer(topo_.c1, 53, "c1");

    const json c1_config = plugin_config(
        "fwd-portmap", json::array({port_mapping(80, 8080, "tcp"), port_mapping(5353, 53, "udp")}),
        C1Result(/*ipv6=*/true));
    const PluginRun add = Fwd("ADD", c1_, c1_config);
    ASSERT_EQ(add.exit_code, 0) << add.describe();
    EXPECT_EQ(add.result(), C1Result(true)) << "ADD passes prevResult through";
    const json c2_config = plugin_config("fwd-portmap", json::array({port_mapping(81, 8080, "tcp")}),
                                         C2Result());
    ASSERT_EQ(Fwd("ADD", c2_, c2_config).exit_code, 0);

    ExpectTcpReaches({MainTopology::kHostUplinkAddr, 80}, "c1", MainTopology::kClientAddr);
    ExpectTcpReaches({MainTopology6::kHostUplinkAddr, 80}, "c1", MainTopology6::kClientAddr);
    const auto reply = udp_request(topo_.client, {MainTopology::kHostUplinkAddr, 5353}, "ping",
                                   kExchangeTimeout);
    ASSERT_TRUE(reply.has_value()) << "no UDP reply through the plugin's mapping";
    EXPECT_EQ(reply->payload, std::string("c1 ") + MainTopology::kClientAddr + " ping");

    const PluginRun check = Fwd("CHECK", c1_, c1_config);
    EXPECT_EQ(check.exit_code, 0) << check.describe();
    EXPECT_EQ(check.out, "");

    const PluginRun del = Fwd("DEL", c1_, c1_config);
    EXPECT_EQ(del.exit_code, 0) << del.describe();
    EXPECT_EQ(del.out, "");
    EXPECT_EQ(List(),
              "0.0.0.0:81/tcp -> 172.30.0.3:8080\n"
              "0.0.0.0:9000/tcp -> 172.30.0.3:9000\n")
        << "only c1's mappings are gone";
    ExpectTcpRefused({MainTopology::kHostUplinkAddr, 80});
    EXPECT_EQ(Fwd("CHECK", c2_, c2_config).exit_code, 0);

    const PluginRun again = Fwd("DEL", c1_, c1_config);
    EXPECT_EQ(again.exit_code, 0) << "DEL is idempotent: " << again.describe();
    const PluginRun gone = Fwd("CHECK", c1_, c1_config);
    EXPECT_EQ(gone.exit_code, 1);
    EXPECT_EQ(gone.result()["code"], 103) << gone.describe();
    EXPECT_EQ(fwdctl({"check"}).exit_code, 0);
}

// DEL needs neither prevResult nor the mappings: the name records what ADD made.
TEST_F(CniPortmap, DelWithoutPrevResultOrMappingsRemovesWhatAddMade) {
    ASSERT_NO_FATAL_FAILURE(Attach());
    ASSERT_EQ(Fwd("ADD", c1_, plugin_config("fwd-portmap", json::array({port_mapping(80, 8080, "tcp")}),
                                            C1Result()))
                  .exit_code,
              0);
    json bare = plugin_config("fwd-portmap", json::array(), nullptr);
    bare.erase("runtimeConfig");
    const PluginRun del = Fwd("DEL", c1_, bare);
    EXPECT_EQ(del.exit_code, 0) << del.describe();
    EXPECT_EQ(List(), "");
}

TEST_F(CniPortmap, RefusesAndChangesNothing) {
    const json config =
        plugin_config("fwd-portmap", json::array({port_mapping(80, 8080, "tcp")}), C1Result());
    const PluginRun early = Fwd("ADD", c1_, config);
    EXPECT_EQ(early.exit_code, 1);
    EXPECT_EQ(early.result()["code"], 11) << "not attached yet: try again later; " << early.describe();
    EXPECT_NE(early.result()["msg"].get<std::string>().find("run fwdctl attach"), std::string::npos);

    ASSERT_NO_FATAL_FAILURE(Attach());
    StartTcpServer(topo_.c1, 8080, "c1");
    ASSERT_EQ(Fwd("ADD", c1_, config).exit_code, 0);
    const PluginRun taken = Fwd(
        "ADD", c2_, plugin_config("fwd-portmap", json::array({port_mapping(81, 8080, "tcp"),
                                                              port_mapping(80, 8080, "tcp")}),
                                  C2Result()));
    EXPECT_EQ(taken.exit_code, 1);
    const json error = taken.result();
    EXPECT_EQ(error["cniVersion"], "1.0.0");
    EXPECT_EQ(error["code"], 100) << taken.describe();
    EXPECT_EQ(error["msg"], "port 0.0.0.0:80/tcp is already allocated to cni.fwdnet." + c1_.id);

    json chained = config;
    chained.erase("prevResult");
    const PluginRun unchained = Fwd("ADD", c2_, chained);
    EXPECT_EQ(unchained.result()["code"], 7) << unchained.describe();
    const PluginRun no_check = Fwd("CHECK", c1_, chained);
    EXPECT_EQ(no_check.result()["code"], 7) << no_check.describe();
    EXPECT_EQ(List(), "0.0.0.0:80/tcp -> 172.30.0.2:8080\n");

    const PluginRun bad_env = run_plugin(FWD_PORTMAP_PATH, topo_.host, {{"CNI_COMMAND", "ADD"}}, config.dump());
    EXPECT_EQ(bad_env.result()["code"], 4) << bad_env.describe();
    ExpectTcpReaches({MainTopology::kHostUplinkAddr, 80}, "c1", MainTopology::kClientAddr);
}

TEST_F(CniPortmap, VersionAnswersWithTheSupportedVersions) {
    const PluginRun version = run_plugin(FWD_PORTMAP_PATH, topo_.host, {{"CNI_COMMAND", "VERSION"}},
                                         R"({"cniVersion": "0.4.0"})");
    ASSERT_EQ(version.exit_code, 0) << version.describe();
    EXPECT_EQ(version.result(), json::parse(R"({"cniVersion": "0.4.0",
        "supportedVersions": ["0.3.0", "0.3.1", "0.4.0", "1.0.0"]})"));
}

// A repeated ADD (a runtime's retry) replaces what the first one made.
TEST_F(CniPortmap, RepeatedAddReplaces) {
    ASSERT_NO_FATAL_FAILURE(Attach());
    ASSERT_EQ(Fwd("ADD", c1_, plugin_config("fwd-portmap", json::array({port_mapping(80, 8080, "tcp")}),
                                            C1Result()))
                  .exit_code,
              0);
    const PluginRun again = Fwd(
        "ADD", c1_, plugin_config("fwd-portmap", json::array({port_mapping(82, 8080, "tcp")}), C1Result()));
    EXPECT_EQ(again.exit_code, 0) << again.describe();
    EXPECT_EQ(List(), "0.0.0.0:82/tcp -> 172.30.0.2:8080\n");
}

// The reference plugin on the same config: its DNAT carries the traffic with the client's
// address kept too (its SNAT options only masquerade hairpin and localhost traffic).
TEST_F(CniPortmap, ReferencePortmapCarriesTheSameConfig) {
    if (::access(kReferencePortmap, X_OK) != 0)
        GTEST_SKIP() << kReferencePortmap << " missing: apt-get install containernetworking-plugins";
    StartTcpServer(topo_.c1, 8080, "c1");
    const json config =
        plugin_config("portmap", json::array({port_mapping(80, 8080, "tcp")}), C1Result());
    const PluginRun add = Reference("ADD", c1_, config);
    ASSERT_EQ(add.exit_code, 0) << add.describe();
    EXPECT_EQ(add.result(), C1Result());
    ExpectTcpReaches({MainTopology::kHostUplinkAddr, 80}, "c1", MainTopology::kClientAddr);
    EXPECT_EQ(Reference("DEL", c1_, config).exit_code, 0);
    ExpectTcpRefused({MainTopology::kHostUplinkAddr, 80});
}

// Where the reference plugin differs, each checked on both (docs/cni.md lists them).
TEST_F(CniPortmap, ReferencePortmapDifferences) {
    if (::access(kReferencePortmap, X_OK) != 0)
        GTEST_SKIP() << kReferencePortmap << " missing: apt-get install containernetworking-plugins";
    const json c1_config =
        plugin_config("portmap", json::array({port_mapping(80, 8080, "tcp")}), C1Result());
    const json c2_config =
        plugin_config("portmap", json::array({port_mapping(80, 8080, "tcp")}), C2Result());

    // 1. A host port another container holds: the reference adds a second DNAT rule (it
    //    reserves nothing); fwd refuses with code 100.
    ASSERT_EQ(Reference("ADD", c1_, c1_config).exit_code, 0);
    // 0. CHECK right after ADD of an IPv4-only container: 1.1.1 also checks for an IPv6 chain
    //    it never made, and fails (containernetworking/plugins#819); fwd's CHECK passes.
    const PluginRun fresh = Reference("CHECK", c1_, c1_config);
    EXPECT_EQ(fresh.exit_code, 1);
    EXPECT_NE(fresh.result()["msg"].get<std::string>().find("could not check ipv6 dnat"),
              std::string::npos)
        << fresh.describe();
    EXPECT_EQ(Reference("ADD", c2_, c2_config).exit_code, 0) << "reference: no conflict check";

    // 2. DEL without runtimeConfig.portMappings: the reference does nothing (its rules stay
    //    and the port still forwards); fwd removes what ADD recorded.
    StartTcpServer(topo_.c1, 8080, "c1");
    StartTcpServer(topo_.c2, 8080, "c2");
    json bare = c1_config;
    bare.erase("runtimeConfig");
    EXPECT_EQ(Reference("DEL", c1_, bare).exit_code, 0);
    TcpConnection still = TcpConnection::connect(topo_.client, {MainTopology::kHostUplinkAddr, 80},
                                                 kExchangeTimeout);
    EXPECT_TRUE(still.ok()) << "reference: the port forwards after a DEL without mappings";

    // 3. CHECK after DEL fails in both; the reference says so with its catch-all code 999.
    EXPECT_EQ(Reference("DEL", c1_, c1_config).exit_code, 0);
    EXPECT_EQ(Reference("DEL", c2_, c2_config).exit_code, 0);
    const PluginRun checked = Reference("CHECK", c1_, c1_config);
    EXPECT_EQ(checked.exit_code, 1);
    EXPECT_EQ(checked.result()["code"], 999) << checked.describe();
    EXPECT_FALSE(checked.result().contains("cniVersion"));

    // 4. hostIP of a family the container has no address of: the reference skips the mapping
    //    and succeeds; fwd refuses (7).
    const json v6_only_host =
        plugin_config("portmap", json::array({port_mapping(80, 8080, "tcp", "fd00:77:1::1")}), C1Result());
    EXPECT_EQ(Reference("ADD", c1_, v6_only_host).exit_code, 0);
    EXPECT_EQ(Reference("DEL", c1_, v6_only_host).exit_code, 0);

    // 5. ADD without prevResult: an error in both, 999 from the reference.
    json chained = c1_config;
    chained.erase("prevResult");
    const PluginRun unchained = Reference("ADD", c1_, chained);
    EXPECT_EQ(unchained.exit_code, 1);
    EXPECT_EQ(unchained.result()["code"], 999) << unchained.describe();

    // The same steps through fwd-portmap.
    ASSERT_NO_FATAL_FAILURE(Attach());
    const auto fwd_config = [](json config) {
        config["type"] = "fwd-portmap";
        return config;
    };
    ASSERT_EQ(Fwd("ADD", c1_, fwd_config(c1_config)).exit_code, 0);
    EXPECT_EQ(Fwd("CHECK", c1_, fwd_config(c1_config)).exit_code, 0);
    EXPECT_EQ(Fwd("ADD", c2_, fwd_config(c2_config)).result()["code"], 100);
    EXPECT_EQ(Fwd("DEL", c1_, fwd_config(bare)).exit_code, 0);
    EXPECT_EQ(List(), "") << "fwd: DEL without mappings removes them";
    EXPECT_EQ(Fwd("CHECK", c1_, fwd_config(c1_config)).result()["code"], 103);
    EXPECT_EQ(Fwd("ADD", c1_, fwd_config(v6_only_host)).result()["code"], 7);
    EXPECT_EQ(Fwd("ADD", c1_, fwd_config(chained)).result()["code"], 7);
}

}  // namespace
}  // namespace fwd::test
