// End-to-end test support: network namespaces, veth pairs and a bridge that a test creates
// and always removes, running commands (and fwdctl) inside them, and small socket helpers
// (servers and clients) that open real sockets in a namespace from C++.
//
// Namespaces are named "<prefix><pid>-<short name>", so two test processes never collide and
// a fixture can tell its own leftovers (and those of dead processes) from a live run's.
// Every wait polls with a bounded timeout; every loop is bounded.
#pragma once

#include <sys/socket.h>
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace fwd::test {

// ---------------------------------------------------------------------------------------------
// Processes

struct CommandResult {
    std::string command;     // the command line, for failure messages
    int exit_code = -1;      // exit status; 128+N if killed by signal N; -1 if it never ran
    bool timed_out = false;  // killed because it outlived its timeout
    std::string out;
    std::string err;

    [[nodiscard]] bool ok() const { return exit_code == 0 && !timed_out; }
    // "`cmd` exited 1 (stdout: ..., stderr: ...)", for assertion messages.
    [[nodiscard]] std::string describe() const;
};

inline constexpr std::chrono::milliseconds kCommandTimeout{30000};

// Runs argv[0] (searched in PATH) without a shell, capturing stdout and stderr. A command that
// outlives `timeout` is killed (its whole process group) and reported as timed out.
[[nodiscard]] CommandResult run_command(const std::vector<std::string>& argv,
                                        std::chrono::milliseconds timeout = kCommandTimeout);

// Splits text into lines (without the '\n'); a trailing newline does not add an empty line.
[[nodiscard]] std::vector<std::string> split_lines(std::string_view text);

[[nodiscard]] bool running_as_root();

// Calls pred every `interval` until it returns true or `timeout` has passed. Returns the last
// result of pred (which is called at least once, and once more at the deadline).
bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout,
                std::chrono::milliseconds interval = std::chrono::milliseconds{20});

// ---------------------------------------------------------------------------------------------
// Namespaces from C++ threads

// Moves the calling thread (only it: the network namespace is per thread) into
// /run/netns/<ns>. Throws std::runtime_error on failure.
void enter_netns(const std::string& ns);

// Runs fn on a new thread that first enters namespace `ns`, waits for it and returns its
// result (or rethrows its exception). fn must itself be bounded in time. gtest ASSERT_* inside
// fn only returns from fn: prefer returning values and asserting in the caller.
template <typename F>
auto run_in_netns(const std::string& ns, F&& fn) {
    using R = std::invoke_result_t<F&>;
    std::exception_ptr error;
    if constexpr (std::is_void_v<R>) {
        std::thread worker([&] {
            try {
                enter_netns(ns);
                fn();
            } catch (...) {
                error = std::current_exception();
            }
        });
        worker.join();
        if (error) {
            std::rethrow_exception(error);
        }
    } else {
        std::optional<R> result;
        std::thread worker([&] {
            try {
                enter_netns(ns);
                result.emplace(fn());
            } catch (...) {
                error = std::current_exception();
            }
        });
        worker.join();
        if (error) {
            std::rethrow_exception(error);
        }
        return std::move(*result);
    }
}

// An owned file descriptor (move-only).
class Fd {
public:
    Fd() = default;
    explicit Fd(int fd) : fd_(fd) {}
    Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    Fd& operator=(Fd&& other) noexcept;
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd();

    [[nodiscard]] int get() const { return fd_; }
    [[nodiscard]] bool valid() const { return fd_ >= 0; }
    void reset();

private:
    int fd_ = -1;
};

// A socket created inside namespace `ns` (SOCK_CLOEXEC added). The socket stays in that
// namespace and can be used from any thread. Throws std::runtime_error on failure.
[[nodiscard]] Fd socket_in_netns(const std::string& ns, int domain, int type, int protocol = 0);

// Writes `value` to /proc/sys/<key with dots as slashes> inside `ns`. Throws on failure.
void set_sysctl(const std::string& ns, const std::string& key, const std::string& value);

// Turns a device's TX checksum offload on or off (ethtool -K IF tx on|off). Off makes a local
// sender put full checksums in its packets, as frames from a wire carry them.
void set_tx_checksum_offload(const std::string& ns, const std::string& ifname, bool on);

// ---------------------------------------------------------------------------------------------
// Topology

// Owns the namespaces it creates (and, after setup_fwd(), a private bpffs and state dir).
// The destructor detaches fwd, deletes the namespaces, unmounts the bpffs and removes the
// temp dirs, whatever state a failed test left them in. Setup methods throw
// std::runtime_error (with the failing command's output) so a test fails at the first
// broken step.
class NetnsFixture {
public:
    // Removes stale namespaces and temp dirs with this prefix left by dead processes (or by an
    // earlier fixture in this process).
    explicit NetnsFixture(std::string prefix = "fwdt-");
    ~NetnsFixture();
    NetnsFixture(const NetnsFixture&) = delete;
    NetnsFixture& operator=(const NetnsFixture&) = delete;

    // Creates namespace "<prefix><pid>-<short_name>" with loopback up; returns its full name.
    const std::string& add_namespace(std::string_view short_name);
    // Full name of a namespace created by add_namespace.
    [[nodiscard]] const std::string& ns(std::string_view short_name) const;

    // A veth pair: if_a in ns_a, if_b in ns_b, both up; cidr "" leaves an end unaddressed.
    void add_veth(const std::string& ns_a, const std::string& if_a, const std::string& cidr_a,
                  const std::string& ns_b, const std::string& if_b, const std::string& cidr_b);
    // A bridge (STP off), up, with an optional address.
    void add_bridge(const std::string& ns, const std::string& name, const std::string& cidr);
    void set_master(const std::string& ns, const std::string& ifname, const std::string& bridge);
    void add_default_route(const std::string& ns, const std::string& via);
    void set_forwarding(const std::string& ns, bool on);
    // Polls until the interface reports carrier (LOWER_UP), at most `timeout`; throws if not.
    void wait_carrier(const std::string& ns, const std::string& ifname,
                      std::chrono::milliseconds timeout = std::chrono::milliseconds{5000});

    // `ip netns exec NS sh -c CMD`: for tools that need no /sys/fs/bpf.
    [[nodiscard]] CommandResult exec_in(const std::string& ns, const std::string& shell_command,
                                        std::chrono::milliseconds timeout = kCommandTimeout) const;
    // `ip -n NS ARGS...`; throws with the command's output if it fails.
    void ip(const std::string& ns, const std::vector<std::string>& args) const;

    // Mounts a private bpffs and creates a temp state dir; fwdctl will run in namespace
    // fwd_ns (via nsenter --net, which keeps our mount namespace and so the bpffs).
    void setup_fwd(const std::string& fwd_ns);
    // FWDCTL --state-dir S --pin-dir P ARGS..., run in the fwd namespace.
    [[nodiscard]] CommandResult run_fwdctl(
        const std::vector<std::string>& args,
        std::chrono::milliseconds timeout = kCommandTimeout) const;
    // One global counter from `fwdctl stats --json`; throws if the command fails or lacks it.
    [[nodiscard]] std::uint64_t fwd_counter(const std::string& name) const;
    // The command line run_fwdctl runs (nsenter into the fwd namespace, private dirs).
    [[nodiscard]] std::vector<std::string> fwdctl_argv(const std::vector<std::string>& args) const;
    // run_fwdctl with another pin dir (the same state dir).
    [[nodiscard]] CommandResult run_fwdctl_at(
        const std::string& pin_dir, const std::vector<std::string>& args,
        std::chrono::milliseconds timeout = kCommandTimeout) const;
    [[nodiscard]] const std::string& pin_dir() const { return pin_dir_; }
    // The private bpffs that holds pin_dir(); a test may make other pin dirs in it.
    [[nodiscard]] const std::string& bpffs_dir() const { return bpffs_dir_; }
    // A path in the fixture's temp dir (not on bpffs), removed at teardown.
    [[nodiscard]] std::string scratch_path(std::string_view name) const;
    // A reboot as bpffs sees it: unmounts the private bpffs (every pin in it goes) and mounts
    // a fresh, empty one in its place. Throws on failure.
    void remount_bpffs();
    // A cgroup v2 directory with no processes, made by setup_fwd (for socket programs that
    // must not affect the test).
    [[nodiscard]] const std::string& empty_cgroup() const { return empty_cgroup_; }
    [[nodiscard]] const std::string& state_dir() const { return state_dir_; }

    // Best-effort teardown (the destructor calls it; calling it twice is harmless).
    void teardown() noexcept;

private:
    void remove_stale() noexcept;

    std::string prefix_;
    std::string tag_;                                              // prefix_ + pid + "-"
    std::vector<std::pair<std::string, std::string>> namespaces_;  // short name, full name
    std::string fwd_ns_;
    std::string temp_dir_;  // holds the bpffs mount point and the state dir
    std::string bpffs_dir_;
    std::string pin_dir_;
    std::string state_dir_;
    std::string empty_cgroup_;
};

// "<prefix><pid>-..." -> pid, or 0 if the name does not carry one (names of test resources).
[[nodiscard]] pid_t owner_pid(std::string_view name, std::string_view prefix);

// The cgroup v2 mount point, from /proc/mounts. Throws if there is none.
[[nodiscard]] std::string find_cgroup2_mount();

// Path of the fwdctl binary under test (compile definition FWD_FWDCTL_PATH).
[[nodiscard]] std::string fwdctl_path();

// The main end-to-end topology:
//
//   client (eth0 10.77.1.2/24, default via 10.77.1.1)
//     | veth
//   host (up0 10.77.1.1/24; bridge fbr0 172.30.0.1/24; ip_forward=1)
//     | vc1 (port of fbr0)            | vc2 (port of fbr0)
//   c1 (eth0 172.30.0.2/24)          c2 (eth0 172.30.0.3/24), default via 172.30.0.1
struct MainTopology {
    std::string client;
    std::string host;
    std::string c1;
    std::string c2;

    static constexpr const char* kClientAddr = "10.77.1.2";
    static constexpr const char* kHostUplinkAddr = "10.77.1.1";
    static constexpr const char* kBridgeAddr = "172.30.0.1";
    static constexpr const char* kC1Addr = "172.30.0.2";
    static constexpr const char* kC2Addr = "172.30.0.3";
    static constexpr const char* kUplink = "up0";
    static constexpr const char* kBridge = "fbr0";
};

// Builds MainTopology in `fixture` and waits until every link has carrier.
MainTopology build_main_topology(NetnsFixture& fixture);

// IPv6 on MainTopology, for the dual-stack suites: the same links get these addresses (no
// duplicate address detection, so they are usable at once), default routes and forwarding.
struct MainTopology6 {
    static constexpr const char* kClientAddr = "fd00:77:1::2";
    static constexpr const char* kHostUplinkAddr = "fd00:77:1::1";
    static constexpr const char* kBridgeAddr = "fd00:30::1";
    static constexpr const char* kC1Addr = "fd00:30::2";
    static constexpr const char* kC2Addr = "fd00:30::3";
};
void add_main_topology_ipv6(NetnsFixture& fixture, const MainTopology& topo);

// ---------------------------------------------------------------------------------------------
// Sockets

struct Endpoint {
    std::string addr;  // dotted quad, or IPv6 text without brackets ("fd00:77::2")
    std::uint16_t port = 0;

    [[nodiscard]] bool is_ipv6() const { return addr.find(':') != std::string::npos; }
    [[nodiscard]] std::string str() const;  // "a.b.c.d:port" or "[v6]:port"
    bool operator==(const Endpoint&) const = default;
};

// A socket address of either family, sized for accept/recvfrom/getpeername to fill.
struct SocketAddress {
    sockaddr_storage storage{};
    socklen_t len = sizeof(sockaddr_storage);

    template <typename T>
    T& as() { return *reinterpret_cast<T*>(&storage); }
    template <typename T>
    [[nodiscard]] const T& as() const { return *reinterpret_cast<const T*>(&storage); }
    sockaddr* addr() { return reinterpret_cast<sockaddr*>(&storage); }
    [[nodiscard]] const sockaddr* addr() const { return reinterpret_cast<const sockaddr*>(&storage); }
    [[nodiscard]] int family() const { return storage.ss_family; }
};

// Endpoint <-> socket address; to_sockaddr throws std::runtime_error on a malformed address.
[[nodiscard]] SocketAddress to_sockaddr(const Endpoint& ep);
[[nodiscard]] Endpoint from_sockaddr(const SocketAddress& sa);
// A socket of `ep`'s family in namespace `ns`; IPv6 ones are IPv6-only (IPV6_V6ONLY).
[[nodiscard]] Fd endpoint_socket(const std::string& ns, const Endpoint& ep, int type);

std::ostream& operator<<(std::ostream& os, const Endpoint& ep);  // for test messages

// A TCP server on a background thread, listening in a namespace. For every line it receives
// on a connection it answers "<tag> <peer address> <line>\n", where the peer address is the
// source address the server saw (so a test can tell whether the client's address survived).
class TcpTagServer {
public:
    // Throws std::runtime_error if the socket cannot be bound.
    TcpTagServer(const std::string& ns, const Endpoint& bind_to, std::string tag);
    ~TcpTagServer();
    TcpTagServer(const TcpTagServer&) = delete;
    TcpTagServer& operator=(const TcpTagServer&) = delete;

    [[nodiscard]] std::size_t accepted() const { return accepted_.load(); }

private:
    void serve();

    Fd listener_;
    std::string tag_;
    std::atomic<bool> stop_{false};
    std::atomic<std::size_t> accepted_{0};
    std::thread thread_;
};

// A UDP server on a background thread: answers each datagram with
// "<tag> <sender address> <payload>".
class UdpTagServer {
public:
    UdpTagServer(const std::string& ns, const Endpoint& bind_to, std::string tag);
    ~UdpTagServer();
    UdpTagServer(const UdpTagServer&) = delete;
    UdpTagServer& operator=(const UdpTagServer&) = delete;

private:
    void serve();

    Fd socket_;
    std::string tag_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

// A TCP client connection opened from a namespace.
class TcpConnection {
public:
    // Connects with a bounded timeout. Check ok(); on failure error() is the errno
    // (ECONNREFUSED, ETIMEDOUT, EHOSTUNREACH, ...).
    // local_port != 0 binds the client to that source port first.
    static TcpConnection connect(const std::string& ns, const Endpoint& dst,
                                 std::chrono::milliseconds timeout, std::uint16_t local_port = 0);

    [[nodiscard]] bool ok() const { return fd_.valid(); }
    [[nodiscard]] int error() const { return error_; }
    [[nodiscard]] std::string error_text() const;
    // getpeername / getsockname of the connected socket.
    [[nodiscard]] std::optional<Endpoint> peer() const;
    [[nodiscard]] std::optional<Endpoint> local() const;
    // Sends `line` + '\n' and reads one answer line (without '\n'). nullopt on timeout, EOF or
    // error.
    std::optional<std::string> request(std::string_view line, std::chrono::milliseconds timeout);

private:
    Fd fd_;
    int error_ = 0;
    std::string buffered_;
};

struct UdpReply {
    Endpoint from;  // recvfrom's source address
    std::string payload;
};

// Sends `payload` from an unbound UDP socket in `ns` to dst and waits for one reply, resending
// every 500 ms, for at most `timeout` in all. nullopt if nothing came back.
// local_port != 0: a connected socket bound to that source port.
std::optional<UdpReply> udp_request(const std::string& ns, const Endpoint& dst,
                                    std::string_view payload, std::chrono::milliseconds timeout,
                                    std::uint16_t local_port = 0);

}  // namespace fwd::test
