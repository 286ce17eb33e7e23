// End-to-end: fwd-docker-proxy driven exactly as dockerd drives its userland proxy: started
// with Docker's flags and a pipe on fd 3, it reports "0\n" once the port is served, the port
// carries traffic (with the client's address kept), and SIGTERM removes exactly its mapping.
// Topology: MainTopology (support/netns_fixture.h); the proxy runs in the host namespace.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <string>
#include <vector>

#include "support/main_topology_test.h"
#include "support/netns_fixture.h"

#ifndef FWD_DOCKER_PROXY_PATH
#error "FWD_DOCKER_PROXY_PATH must name the fwd-docker-proxy binary under test"
#endif

namespace fwd::test {
namespace {

using std::chrono::milliseconds;

constexpr milliseconds kStatusTimeout{10000};
constexpr milliseconds kExitTimeout{10000};

// A proxy process as dockerd starts it: in the host namespace, fwd's dirs in its environment,
// the write end of a pipe as fd 3.
class ProxyProcess {
public:
    ProxyProcess(const NetnsFixture& net, const std::string& host_ns,
                 const std::vector<std::string>& args) {
        int status_pipe[2];
        if (::pipe2(status_pipe, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
        std::vector<std::string> argv = {"nsenter", "--net=/run/netns/" + host_ns,
                                         FWD_DOCKER_PROXY_PATH};
        argv.insert(argv.end(), args.begin(), args.end());
        pid_ = ::fork();
        if (pid_ == 0) {
            ::dup2(status_pipe[1], 3);  // dup2 clears FD_CLOEXEC on the copy
            ::setenv("FWD_STATE_DIR", net.state_dir().c_str(), 1);
            ::setenv("FWD_PIN_DIR", net.pin_dir().c_str(), 1);
            ::setenv("FWD_CONFIG", "/dev/null", 1);
            std::vector<char*> raw;
            for (auto& arg : argv) raw.push_back(arg.data());
            raw.push_back(nullptr);
            ::execvp(raw[0], raw.data());
            ::_exit(127);
        }
        ::close(status_pipe[1]);
        status_fd_ = status_pipe[0];
    }
    ~ProxyProcess() {
        if (pid_ > 0 && !exited_) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
        if (status_fd_ >= 0) ::close(status_fd_);
    }
    ProxyProcess(const ProxyProcess&) = delete;
    ProxyProcess& operator=(const ProxyProcess&) = delete;

    // Everything written on fd 3 until the proxy closes it (or the timeout).
    std::string ReadStatus() {
        std::string status;
        const auto deadline = std::chrono::steady_clock::now() + kStatusTimeout;
        while (std::chrono::steady_clock::now() < deadline) {
            pollfd pfd{status_fd_, POLLIN, 0};
            if (::poll(&pfd, 1, 100) <= 0) continue;
            char buf[256];
            const ssize_t n = ::read(status_fd_, buf, sizeof(buf));
            if (n <= 0) break;
            status.append(buf, static_cast<size_t>(n));
        }
        return status;
    }

    // Sends `signal` and waits for the exit status; -1 if it did not exit in time.
    int Stop(int signal) {
        ::kill(pid_, signal);
        return Wait();
    }
    int Wait() {
        int status = 0;
        const bool done = wait_until(
            [&] { return ::waitpid(pid_, &status, WNOHANG) == pid_; }, kExitTimeout);
        if (!done) return -1;
        exited_ = true;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }

private:
    pid_t pid_ = -1;
    int status_fd_ = -1;
    bool exited_ = false;
};

std::vector<std::string> docker_args(const std::string& proto, int host_port, int container_port) {
    return {"-proto",        proto,
            "-host-ip",      "0.0.0.0",
            "-host-port",    std::to_string(host_port),
            "-container-ip", MainTopology::kC1Addr,
            "-container-port", std::to_string(container_port),
            "-use-listen-fd"};
}

class DockerProxy : public MainTopologyTest {};

TEST_F(DockerProxy, ServesThePortUntilSigtermThenRemovesExactlyItsMapping) {
    ASSERT_NO_FATAL_FAILURE(Attach());
    ASSERT_NO_FATAL_FAILURE(Fwdctl({"add", "9000", "172.30.0.3:9000", "--name", "other"}));
    StartTcpServer(topo_.c1, 8080, "c1");
    StartUdpServer(topo_.c1, 53, "c1");

    ProxyProcess tcp(*net_, topo_.host, docker_args("tcp", 80, 8080));
    ProxyProcess udp(*net_, topo_.host, docker_args("udp", 5353, 53));
    EXPECT_EQ(tcp.ReadStatus(), "0\n");
    EXPECT_EQ(udp.ReadStatus(), "0\n");

    ExpectTcpReachesContainer({MainTopology::kHostUplinkAddr, 80}, "c1");
    const Endpoint published_udp{MainTopology::kHostUplinkAddr, 5353};
    const auto reply = udp_request(topo_.client, published_udp, "ping", kExchangeTimeout);
    ASSERT_TRUE(reply.has_value()) << "no UDP reply through the proxy's mapping";
    EXPECT_EQ(reply->payload, "c1 10.77.1.2 ping");

    EXPECT_EQ(tcp.Stop(SIGTERM), 0);
    const CommandResult list = fwdctl({"list"});
    ASSERT_TRUE(list.ok()) << list.describe();
    EXPECT_EQ(list.out,
              "0.0.0.0:5353/udp -> 172.30.0.2:53\n"
              "0.0.0.0:9000/tcp -> 172.30.0.3:9000\n")
        << "only the stopped proxy's mapping is gone";
    TcpConnection gone = TcpConnection::connect(topo_.client, {MainTopology::kHostUplinkAddr, 80},
                                                milliseconds{1500});
    EXPECT_FALSE(gone.ok()) << "port 80 still reaches the container";
    EXPECT_EQ(udp.Stop(SIGINT), 0);
    const CommandResult after = fwdctl({"list"});
    EXPECT_EQ(after.out, "0.0.0.0:9000/tcp -> 172.30.0.3:9000\n");
    EXPECT_EQ(fwdctl({"check"}).exit_code, 0);
}

// dockerd on a dual-stack host starts a second proxy for [::] with the same host port: each
// installs its own family's mapping, and stopping one leaves the other.
TEST_F(DockerProxy, Ipv6ProxyBesideTheIpv4OneOnTheSamePort) {
    add_main_topology_ipv6(*net_, topo_);
    ASSERT_NO_FATAL_FAILURE(Attach());
    StartTcpServer(topo_.c1, 8080, "c1");
    tcp_servers_.push_back(std::make_unique<TcpTagServer>(topo_.c1, Endpoint{"::", 8080}, "c1"));

    ProxyProcess v4(*net_, topo_.host, docker_args("tcp", 80, 8080));
    ProxyProcess v6(*net_, topo_.host,
                    {"-proto", "tcp", "-host-ip", "::", "-host-port", "80", "-container-ip",
                     MainTopology6::kC1Addr, "-container-port", "8080", "-use-listen-fd"});
    EXPECT_EQ(v4.ReadStatus(), "0\n");
    EXPECT_EQ(v6.ReadStatus(), "0\n");
    ExpectTcpReachesContainer({MainTopology::kHostUplinkAddr, 80}, "c1");
    TcpConnection conn =
        TcpConnection::connect(topo_.client, {MainTopology6::kHostUplinkAddr, 80}, kExchangeTimeout);
    ASSERT_TRUE(conn.ok()) << conn.error_text();
    EXPECT_EQ(conn.request("hello", kExchangeTimeout),
              std::string("c1 ") + MainTopology6::kClientAddr + " hello");

    EXPECT_EQ(v6.Stop(SIGTERM), 0);
    const CommandResult list = fwdctl({"list"});
    ASSERT_TRUE(list.ok()) << list.describe();
    EXPECT_EQ(list.out, "0.0.0.0:80/tcp -> 172.30.0.2:8080\n") << "only the IPv6 proxy's mapping is gone";
    EXPECT_EQ(v4.Stop(SIGTERM), 0);
}

TEST_F(DockerProxy, ReportsFailureOnFd3) {
    // Not attached yet: dockerd must hear why, and nothing is recorded.
    ProxyProcess early(*net_, topo_.host, docker_args("tcp", 80, 8080));
    const std::string status = early.ReadStatus();
    EXPECT_EQ(status.rfind("1\nfwd is not attached", 0), 0U) << status;
    EXPECT_EQ(early.Wait(), 1);

    ASSERT_NO_FATAL_FAILURE(Attach());
    ASSERT_NO_FATAL_FAILURE(Fwdctl({"add", "80", "172.30.0.3:80"}));
    ProxyProcess taken(*net_, topo_.host, docker_args("tcp", 80, 8080));
    const std::string conflict = taken.ReadStatus();
    EXPECT_EQ(conflict.rfind("1\nport 0.0.0.0:80/tcp is already allocated", 0), 0U) << conflict;
    EXPECT_EQ(taken.Wait(), 1);

    ProxyProcess bad(*net_, topo_.host, {"-proto", "tcp", "-host-ip", "::", "-host-port", "81"});
    EXPECT_EQ(bad.ReadStatus().rfind("1\n", 0), 0U);
    EXPECT_EQ(bad.Wait(), 1);
    EXPECT_EQ(fwdctl({"list"}).out, "0.0.0.0:80/tcp -> 172.30.0.3:80\n");
}

}  // namespace
}  // namespace fwd::test
