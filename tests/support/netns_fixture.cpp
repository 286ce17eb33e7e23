#include "support/netns_fixture.h"

#include <arpa/inet.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <fcntl.h>
#include <fmt/core.h>
#include <nlohmann/json.hpp>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <sstream>
#include <stdexcept>

#ifndef FWD_FWDCTL_PATH
#error "FWD_FWDCTL_PATH must name the fwdctl binary under test"
#endif

namespace fwd::test {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

std::string errno_text(int err) {
    return std::strerror(err);
}

int remaining_ms(Clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
        return 0;
    }
    return left > 60'000 ? 60'000 : static_cast<int>(left);
}

std::string join(const std::vector<std::string>& parts, std::string_view sep) {
    std::string out;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        if (i != 0) {
            out += sep;
        }
        out += parts[i];
    }
    return out;
}

// Reads what is available from fd into out; returns false once the fd is at EOF or broken.
bool drain(int fd, std::string& out) {
    char buf[4096];
    // Bounded: a pipe holds at most a few pages; stop after 64 reads and poll again.
    for (int i = 0; i < 64; ++i) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n > 0) {
            out.append(buf, static_cast<std::size_t>(n));
            continue;
        }
        if (n == 0) {
            return false;
        }
        if (errno == EINTR) {
            continue;
        }
        return errno == EAGAIN || errno == EWOULDBLOCK;
    }
    return true;
}

}  // namespace

SocketAddress to_sockaddr(const Endpoint& ep) {
    SocketAddress sa;
    if (ep.is_ipv6()) {
        auto& in6 = sa.as<sockaddr_in6>();
        in6.sin6_family = AF_INET6;
        in6.sin6_port = htons(ep.port);
        if (::inet_pton(AF_INET6, ep.addr.c_str(), &in6.sin6_addr) != 1)
            throw std::runtime_error(fmt::format("not an IPv6 address: '{}'", ep.addr));
        sa.len = sizeof(sockaddr_in6);
        return sa;
    }
    auto& in = sa.as<sockaddr_in>();
    in.sin_family = AF_INET;
    in.sin_port = htons(ep.port);
    if (::inet_pton(AF_INET, ep.addr.c_str(), &in.sin_addr) != 1)
        throw std::runtime_error(fmt::format("not an IPv4 address: '{}'", ep.addr));
    sa.len = sizeof(sockaddr_in);
    return sa;
}

Endpoint from_sockaddr(const SocketAddress& sa) {
    char text[INET6_ADDRSTRLEN] = {};
    if (sa.family() == AF_INET6) {
        const auto& in6 = sa.as<sockaddr_in6>();
        ::inet_ntop(AF_INET6, &in6.sin6_addr, text, sizeof text);
        return Endpoint{text, ntohs(in6.sin6_port)};
    }
    const auto& in = sa.as<sockaddr_in>();
    ::inet_ntop(AF_INET, &in.sin_addr, text, sizeof text);
    return Endpoint{text, ntohs(in.sin_port)};
}

Fd endpoint_socket(const std::string& ns, const Endpoint& ep, int type) {
    Fd fd = socket_in_netns(ns, ep.is_ipv6() ? AF_INET6 : AF_INET, type);
    if (ep.is_ipv6()) {
        // IPv6 only: a test's IPv4 and IPv6 servers share a port, as Docker's two proxies do.
        const int one = 1;
        (void)::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    }
    return fd;
}

namespace {

Fd bound_socket(const std::string& ns, int type, const Endpoint& bind_to) {
    Fd fd = endpoint_socket(ns, bind_to, type | SOCK_NONBLOCK);
    const int one = 1;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    const SocketAddress sa = to_sockaddr(bind_to);
    if (::bind(fd.get(), sa.addr(), sa.len) != 0) {
        throw std::runtime_error(
            fmt::format("bind {} in {}: {}", bind_to.str(), ns, errno_text(errno)));
    }
    return fd;
}

// A server thread gives up on its own after this long, so a leaked one cannot run forever.
constexpr auto kServerLifetime = std::chrono::minutes{10};
constexpr int kServerPollMs = 50;

bool is_mount_point(const std::string& path) {
    std::ifstream mounts("/proc/self/mounts");
    std::string device;
    std::string mount_point;
    std::string rest;
    // Bounded by the size of the mount table.
    while (mounts >> device >> mount_point && std::getline(mounts, rest)) {
        if (mount_point == path) {
            return true;
        }
    }
    return false;
}

std::vector<std::string> mount_points_under(const std::string& dir) {
    std::vector<std::string> found;
    std::ifstream mounts("/proc/self/mounts");
    std::string device;
    std::string mount_point;
    std::string rest;
    while (mounts >> device >> mount_point && std::getline(mounts, rest)) {
        if (mount_point == dir || mount_point.rfind(dir + "/", 0) == 0) {
            found.push_back(mount_point);
        }
    }
    return found;
}

// Unmounts path (lazily if it is busy). Returns true if it is no longer a mount point.
bool unmount(const std::string& path) {
    if (!is_mount_point(path)) {
        return true;
    }
    if (::umount2(path.c_str(), 0) != 0) {
        ::umount2(path.c_str(), MNT_DETACH);
    }
    return !is_mount_point(path);
}

// True if a resource named by a process that is gone (or by this process: an earlier fixture
// here that could not clean up) may be removed. Names without a pid count as stale too.
bool is_stale(std::string_view name, std::string_view prefix) {
    const pid_t pid = owner_pid(name, prefix);
    if (pid <= 0 || pid == ::getpid()) {
        return true;
    }
    return ::kill(pid, 0) != 0 && errno == ESRCH;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Processes

std::string CommandResult::describe() const {
    std::string status;
    if (timed_out) {
        status = "timed out";
    } else if (exit_code < 0) {
        status = "could not run";
    } else {
        status = fmt::format("exited {}", exit_code);
    }
    return fmt::format("`{}` {}\n--- stdout ---\n{}--- stderr ---\n{}", command, status, out, err);
}

CommandResult run_command(const std::vector<std::string>& argv, milliseconds timeout) {
    CommandResult result;
    result.command = join(argv, " ");
    if (argv.empty()) {
        return result;
    }
    std::vector<char*> cargv;
    cargv.reserve(argv.size() + 1);
    for (const auto& arg : argv) {
        cargv.push_back(const_cast<char*>(arg.c_str()));
    }
    cargv.push_back(nullptr);

    int out_pipe[2];
    int err_pipe[2];
    if (::pipe2(out_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
        result.err = fmt::format("pipe: {}", errno_text(errno));
        return result;
    }
    if (::pipe2(err_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
        result.err = fmt::format("pipe: {}", errno_text(errno));
        ::close(out_pipe[0]);
        ::close(out_pipe[1]);
        return result;
    }

    const pid_t pid = ::fork();
    if (pid == 0) {
        // Child: only async-signal-safe calls until exec.
        ::setpgid(0, 0);
        const int devnull = ::open("/dev/null", O_RDONLY);
        if (devnull >= 0) {
            ::dup2(devnull, STDIN_FILENO);
        }
        ::dup2(out_pipe[1], STDOUT_FILENO);
        ::dup2(err_pipe[1], STDERR_FILENO);
        // The duplicated ends must block like ordinary stdout/stderr.
        ::fcntl(STDOUT_FILENO, F_SETFL, 0);
        ::fcntl(STDERR_FILENO, F_SETFL, 0);
        ::execvp(cargv[0], cargv.data());
        static const char msg[] = "exec failed\n";
        [[maybe_unused]] const ssize_t ignored = ::write(STDERR_FILENO, msg, sizeof msg - 1);
        ::_exit(127);
    }
    ::close(out_pipe[1]);
    ::close(err_pipe[1]);
    if (pid < 0) {
        result.err = fmt::format("fork: {}", errno_text(errno));
        ::close(out_pipe[0]);
        ::close(err_pipe[0]);
        return result;
    }
    ::setpgid(pid, pid);  // also done by the child; whichever runs first wins

    const auto deadline = Clock::now() + timeout;
    Fd out_fd(out_pipe[0]);
    Fd err_fd(err_pipe[0]);
    bool out_open = true;
    bool err_open = true;
    while ((out_open || err_open) && Clock::now() < deadline) {
        pollfd fds[2] = {{out_open ? out_fd.get() : -1, POLLIN, 0},
                         {err_open ? err_fd.get() : -1, POLLIN, 0}};
        const int n = ::poll(fds, 2, remaining_ms(deadline));
        if (n < 0 && errno != EINTR) {
            break;
        }
        if (out_open && fds[0].revents != 0) {
            out_open = drain(out_fd.get(), result.out);
        }
        if (err_open && fds[1].revents != 0) {
            err_open = drain(err_fd.get(), result.err);
        }
    }

    int status = 0;
    pid_t waited = 0;
    // The output is closed (or the deadline passed): the child should be gone or going.
    while ((waited = ::waitpid(pid, &status, WNOHANG)) == 0 && Clock::now() < deadline) {
        std::this_thread::sleep_for(milliseconds{5});
    }
    if (waited == 0) {
        result.timed_out = true;
        ::kill(-pid, SIGKILL);
        ::kill(pid, SIGKILL);
        waited = ::waitpid(pid, &status, 0);
    }
    if (waited == pid) {
        if (WIFEXITED(status)) {
            result.exit_code = WEXITSTATUS(status);
        } else if (WIFSIGNALED(status)) {
            result.exit_code = 128 + WTERMSIG(status);
        }
    }
    return result;
}

std::vector<std::string> split_lines(std::string_view text) {
    std::vector<std::string> lines;
    while (!text.empty()) {
        const auto nl = text.find('\n');
        if (nl == std::string_view::npos) {
            lines.emplace_back(text);
            break;
        }
        lines.emplace_back(text.substr(0, nl));
        text.remove_prefix(nl + 1);
    }
    return lines;
}

bool running_as_root() {
    return ::geteuid() == 0;
}

bool wait_until(const std::function<bool()>& pred, milliseconds timeout, milliseconds interval) {
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
        if (pred()) {
            return true;
        }
        std::this_thread::sleep_for(interval);
    }
    return pred();
}

// ---------------------------------------------------------------------------------------------
// Namespaces from C++ threads

void enter_netns(const std::string& ns) {
    const std::string path = "/run/netns/" + ns;
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        throw std::runtime_error(fmt::format("open {}: {}", path, errno_text(errno)));
    }
    const int rc = ::setns(fd, CLONE_NEWNET);
    const int err = errno;
    ::close(fd);
    if (rc != 0) {
        throw std::runtime_error(fmt::format("setns {}: {}", path, errno_text(err)));
    }
}

Fd& Fd::operator=(Fd&& other) noexcept {
    if (this != &other) {
        reset();
        fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
}

Fd::~Fd() {
    reset();
}

void Fd::reset() {
    if (fd_ >= 0) {
        ::close(fd_);
        fd_ = -1;
    }
}

Fd socket_in_netns(const std::string& ns, int domain, int type, int protocol) {
    const auto [fd, err] = run_in_netns(ns, [&] {
        const int s = ::socket(domain, type | SOCK_CLOEXEC, protocol);
        return std::pair{s, errno};
    });
    if (fd < 0) {
        throw std::runtime_error(fmt::format("socket in {}: {}", ns, errno_text(err)));
    }
    return Fd(fd);
}

void set_tx_checksum_offload(const std::string& ns, const std::string& ifname, bool on) {
    run_in_netns(ns, [&] {
        Fd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
        if (!sock.valid()) throw std::runtime_error("socket for ethtool: " + errno_text(errno));
        ethtool_value value{};
        value.cmd = ETHTOOL_STXCSUM;
        value.data = on ? 1 : 0;
        ifreq request{};
        std::snprintf(request.ifr_name, sizeof(request.ifr_name), "%s", ifname.c_str());
        request.ifr_data = reinterpret_cast<char*>(&value);
        if (::ioctl(sock.get(), SIOCETHTOOL, &request) != 0)
            throw std::runtime_error(fmt::format("tx checksum offload {} on {} in {}: {}",
                                                 on ? "on" : "off", ifname, ns, errno_text(errno)));
    });
}

void set_sysctl(const std::string& ns, const std::string& key, const std::string& value) {
    std::string path = "/proc/sys/" + key;
    for (std::size_t i = std::string("/proc/sys/").size(); i < path.size(); ++i) {
        if (path[i] == '.') {
            path[i] = '/';
        }
    }
    // /proc/sys/net resolves against the opening thread's network namespace.
    run_in_netns(ns, [&] {
        std::ofstream file(path);
        file << value << '\n';
        file.flush();
        if (!file) {
            throw std::runtime_error(fmt::format("write {} in {}: failed", path, ns));
        }
    });
}

// ---------------------------------------------------------------------------------------------
// Topology

std::string fwdctl_path() {
    return FWD_FWDCTL_PATH;
}

NetnsFixture::NetnsFixture(std::string prefix)
    : prefix_(std::move(prefix)), tag_(fmt::format("{}{}-", prefix_, ::getpid())) {
    remove_stale();
}

NetnsFixture::~NetnsFixture() {
    teardown();
}

pid_t owner_pid(std::string_view name, std::string_view prefix) {
    if (name.substr(0, prefix.size()) != prefix) {
        return 0;
    }
    name.remove_prefix(prefix.size());
    pid_t pid = 0;
    std::size_t i = 0;
    for (; i < name.size() && i < 9 && name[i] >= '0' && name[i] <= '9'; ++i) {
        pid = pid * 10 + (name[i] - '0');
    }
    if (i == 0 || i >= name.size() || name[i] != '-') {
        return 0;
    }
    return pid;
}

void NetnsFixture::remove_stale() noexcept {
    try {
        const CommandResult list = run_command({"ip", "netns", "list"}, milliseconds{10000});
        for (const auto& line : split_lines(list.out)) {
            const std::string name = line.substr(0, line.find(' '));
            if (name.rfind(prefix_, 0) == 0 && is_stale(name, prefix_)) {
                (void)run_command({"ip", "netns", "delete", name}, milliseconds{10000});
            }
        }
        std::error_code ec;
        std::vector<std::string> stale_dirs;
        std::filesystem::directory_iterator it("/tmp", ec);
        for (; !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
            const std::string name = it->path().filename().string();
            if (name.rfind(prefix_, 0) == 0 && is_stale(name, prefix_) && it->is_directory(ec)) {
                stale_dirs.push_back(it->path().string());
            }
        }
        // Empty cgroups made by setup_fwd() of dead runs.
        std::filesystem::directory_iterator cgroups(find_cgroup2_mount(), ec);
        for (; !ec && cgroups != std::filesystem::directory_iterator(); cgroups.increment(ec)) {
            const std::string name = cgroups->path().filename().string();
            if (name.rfind(prefix_, 0) == 0 && is_stale(name, prefix_) &&
                name.size() > 6 && name.compare(name.size() - 6, 6, "-empty") == 0) {
                (void)::rmdir(cgroups->path().c_str());
            }
        }
        ec.clear();
        for (const auto& dir : stale_dirs) {
            bool unmounted = true;
            auto mounts = mount_points_under(dir);
            std::reverse(mounts.begin(), mounts.end());  // innermost (mounted last) first
            for (const auto& mount_point : mounts) {
                unmounted = unmount(mount_point) && unmounted;
            }
            if (unmounted) {
                std::filesystem::remove_all(dir, ec);
            }
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "netns fixture: removing stale resources: %s\n", e.what());
    }
}

const std::string& NetnsFixture::add_namespace(std::string_view short_name) {
    const std::string full = tag_ + std::string(short_name);
    // Register first, so teardown removes it even if a later step fails.
    namespaces_.emplace_back(std::string(short_name), full);
    const CommandResult r = run_command({"ip", "netns", "add", full});
    if (!r.ok()) {
        throw std::runtime_error(r.describe());
    }
    ip(full, {"link", "set", "lo", "up"});
    return namespaces_.back().second;
}

const std::string& NetnsFixture::ns(std::string_view short_name) const {
    for (const auto& [short_n, full] : namespaces_) {
        if (short_n == short_name) {
            return full;
        }
    }
    throw std::logic_error(fmt::format("no namespace '{}' in this fixture", short_name));
}

void NetnsFixture::ip(const std::string& ns, const std::vector<std::string>& args) const {
    std::vector<std::string> argv{"ip", "-n", ns};
    argv.insert(argv.end(), args.begin(), args.end());
    const CommandResult r = run_command(argv);
    if (!r.ok()) {
        throw std::runtime_error(r.describe());
    }
}

void NetnsFixture::add_veth(const std::string& ns_a, const std::string& if_a,
                            const std::string& cidr_a, const std::string& ns_b,
                            const std::string& if_b, const std::string& cidr_b) {
    // Created directly in the namespaces, so the names never meet in the root namespace.
    ip(ns_a, {"link", "add", if_a, "type", "veth", "peer", "name", if_b, "netns", ns_b});
    if (!cidr_a.empty()) {
        ip(ns_a, {"addr", "add", cidr_a, "dev", if_a});
    }
    if (!cidr_b.empty()) {
        ip(ns_b, {"addr", "add", cidr_b, "dev", if_b});
    }
    ip(ns_a, {"link", "set", if_a, "up"});
    ip(ns_b, {"link", "set", if_b, "up"});
}

void NetnsFixture::add_bridge(const std::string& ns, const std::string& name,
                              const std::string& cidr) {
    ip(ns, {"link", "add", name, "type", "bridge", "stp_state", "0"});
    if (!cidr.empty()) {
        ip(ns, {"addr", "add", cidr, "dev", name});
    }
    ip(ns, {"link", "set", name, "up"});
}

void NetnsFixture::set_master(const std::string& ns, const std::string& ifname,
                              const std::string& bridge) {
    ip(ns, {"link", "set", ifname, "master", bridge});
}

void NetnsFixture::add_default_route(const std::string& ns, const std::string& via) {
    ip(ns, {"route", "add", "default", "via", via});
}

void NetnsFixture::set_forwarding(const std::string& ns, bool on) {
    set_sysctl(ns, "net.ipv4.ip_forward", on ? "1" : "0");
}

void NetnsFixture::wait_carrier(const std::string& ns, const std::string& ifname,
                                milliseconds timeout) {
    CommandResult last;
    const bool up = wait_until(
        [&] {
            last = run_command({"ip", "-n", ns, "-o", "link", "show", "dev", ifname},
                               milliseconds{5000});
            return last.ok() && last.out.find("LOWER_UP") != std::string::npos;
        },
        timeout, milliseconds{20});
    if (!up) {
        throw std::runtime_error(fmt::format("{} in {} has no carrier after {} ms: {}", ifname, ns,
                                             timeout.count(), last.describe()));
    }
}

CommandResult NetnsFixture::exec_in(const std::string& ns, const std::string& shell_command,
                                    milliseconds timeout) const {
    return run_command({"ip", "netns", "exec", ns, "sh", "-c", shell_command}, timeout);
}

std::string find_cgroup2_mount() {
    std::ifstream mounts("/proc/mounts");
    std::string device;
    std::string mount_point;
    std::string type;
    std::string rest;
    while (mounts >> device >> mount_point >> type && std::getline(mounts, rest)) {
        if (type == "cgroup2") {
            return mount_point;
        }
    }
    throw std::runtime_error("no cgroup2 filesystem in /proc/mounts");
}

void NetnsFixture::setup_fwd(const std::string& fwd_ns) {
    if (!temp_dir_.empty()) {
        throw std::logic_error("setup_fwd called twice");
    }
    fwd_ns_ = fwd_ns;
    std::string templ = "/tmp/" + tag_ + "XXXXXX";
    if (::mkdtemp(templ.data()) == nullptr) {
        throw std::runtime_error(fmt::format("mkdtemp {}: {}", templ, errno_text(errno)));
    }
    temp_dir_ = templ;
    bpffs_dir_ = temp_dir_ + "/bpf";
    state_dir_ = temp_dir_ + "/state";
    if (::mkdir(bpffs_dir_.c_str(), 0700) != 0 || ::mkdir(state_dir_.c_str(), 0700) != 0) {
        throw std::runtime_error(fmt::format("mkdir in {}: {}", temp_dir_, errno_text(errno)));
    }
    if (::mount("bpf", bpffs_dir_.c_str(), "bpf", 0, nullptr) != 0) {
        throw std::runtime_error(
            fmt::format("mount bpffs on {}: {}", bpffs_dir_, errno_text(errno)));
    }
    pin_dir_ = bpffs_dir_ + "/pins";
    empty_cgroup_ = find_cgroup2_mount() + "/" + tag_ + "empty";
    if (::mkdir(empty_cgroup_.c_str(), 0755) != 0 && errno != EEXIST) {
        throw std::runtime_error(
            fmt::format("mkdir cgroup {}: {}", empty_cgroup_, errno_text(errno)));
    }
}

namespace {

std::vector<std::string> fwdctl_argv_for(const std::string& fwd_ns, const std::string& state_dir,
                                         const std::string& pin_dir,
                                         const std::vector<std::string>& args) {
    if (fwd_ns.empty()) {
        throw std::logic_error("run_fwdctl before setup_fwd");
    }
    std::vector<std::string> argv{"nsenter",     "--net=/run/netns/" + fwd_ns,
                                  fwdctl_path(), "--state-dir",
                                  state_dir,     "--pin-dir",
                                  pin_dir};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
}

}  // namespace

std::vector<std::string> NetnsFixture::fwdctl_argv(const std::vector<std::string>& args) const {
    return fwdctl_argv_for(fwd_ns_, state_dir_, pin_dir_, args);
}

std::uint64_t NetnsFixture::fwd_counter(const std::string& name) const {
    const CommandResult r = run_fwdctl({"stats", "--json"});
    if (!r.ok()) {
        throw std::runtime_error(r.describe());
    }
    const auto doc = nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded() || !doc.contains("counters") || !doc["counters"].contains(name)) {
        throw std::runtime_error(fmt::format("no counter {} in stats --json:\n{}", name, r.out));
    }
    return doc["counters"][name].get<std::uint64_t>();
}

CommandResult NetnsFixture::run_fwdctl(const std::vector<std::string>& args,
                                       milliseconds timeout) const {
    return run_command(fwdctl_argv(args), timeout);
}

CommandResult NetnsFixture::run_fwdctl_at(const std::string& pin_dir,
                                          const std::vector<std::string>& args,
                                          milliseconds timeout) const {
    return run_command(fwdctl_argv_for(fwd_ns_, state_dir_, pin_dir, args), timeout);
}

std::string NetnsFixture::scratch_path(std::string_view name) const {
    if (temp_dir_.empty()) {
        throw std::logic_error("scratch_path before setup_fwd");
    }
    return temp_dir_ + "/" + std::string(name);
}

void NetnsFixture::remount_bpffs() {
    if (bpffs_dir_.empty()) {
        throw std::logic_error("remount_bpffs before setup_fwd");
    }
    if (::umount2(bpffs_dir_.c_str(), 0) != 0) {
        throw std::runtime_error(
            fmt::format("unmount bpffs on {}: {}", bpffs_dir_, errno_text(errno)));
    }
    if (::mount("bpf", bpffs_dir_.c_str(), "bpf", 0, nullptr) != 0) {
        throw std::runtime_error(
            fmt::format("mount bpffs on {}: {}", bpffs_dir_, errno_text(errno)));
    }
}

void NetnsFixture::teardown() noexcept {
    try {
        if (!fwd_ns_.empty() && !state_dir_.empty()) {
            const CommandResult r = run_fwdctl({"detach", "--all"}, milliseconds{15000});
            if (!r.ok()) {
                std::fprintf(stderr, "netns fixture: teardown: %s\n", r.describe().c_str());
            }
        }
        fwd_ns_.clear();
        if (!empty_cgroup_.empty()) {
            (void)::rmdir(empty_cgroup_.c_str());
            empty_cgroup_.clear();
        }
        // Deleting a namespace removes its veths (and their peers) and its bridge.
        for (const auto& [short_name, full_name] : namespaces_) {
            if (std::filesystem::exists("/run/netns/" + full_name)) {
                const CommandResult r =
                    run_command({"ip", "netns", "delete", full_name}, milliseconds{10000});
                if (!r.ok()) {
                    std::fprintf(stderr, "netns fixture: teardown: %s\n", r.describe().c_str());
                }
            }
        }
        namespaces_.clear();
        if (!temp_dir_.empty()) {
            bool unmounted = true;
            if (!bpffs_dir_.empty() && !unmount(bpffs_dir_)) {
                unmounted = false;
                std::fprintf(stderr, "netns fixture: teardown: cannot unmount %s\n",
                             bpffs_dir_.c_str());
            }
            if (unmounted) {
                std::error_code ec;
                std::filesystem::remove_all(temp_dir_, ec);
            }
            temp_dir_.clear();
            bpffs_dir_.clear();
            pin_dir_.clear();
            state_dir_.clear();
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "netns fixture: teardown: %s\n", e.what());
    }
}

MainTopology build_main_topology(NetnsFixture& fixture) {
    MainTopology t;
    t.client = fixture.add_namespace("client");
    t.host = fixture.add_namespace("host");
    t.c1 = fixture.add_namespace("c1");
    t.c2 = fixture.add_namespace("c2");
    // No duplicate address detection for the links' IPv6 link-local addresses: while it runs
    // (a second or two after a link comes up) neighbour discovery for forwarded IPv6 stalls.
    for (const auto& ns : {t.client, t.host, t.c1, t.c2}) set_sysctl(ns, "net.ipv6.conf.default.accept_dad", "0");

    fixture.add_veth(t.client, "eth0", "10.77.1.2/24", t.host, MainTopology::kUplink,
                     "10.77.1.1/24");
    fixture.add_bridge(t.host, MainTopology::kBridge, "172.30.0.1/24");
    fixture.add_veth(t.c1, "eth0", "172.30.0.2/24", t.host, "vc1", "");
    fixture.add_veth(t.c2, "eth0", "172.30.0.3/24", t.host, "vc2", "");
    fixture.set_master(t.host, "vc1", MainTopology::kBridge);
    fixture.set_master(t.host, "vc2", MainTopology::kBridge);

    fixture.add_default_route(t.client, MainTopology::kHostUplinkAddr);
    fixture.add_default_route(t.c1, MainTopology::kBridgeAddr);
    fixture.add_default_route(t.c2, MainTopology::kBridgeAddr);
    fixture.set_forwarding(t.host, true);

    fixture.wait_carrier(t.client, "eth0");
    fixture.wait_carrier(t.host, MainTopology::kUplink);
    fixture.wait_carrier(t.host, "vc1");
    fixture.wait_carrier(t.host, "vc2");
    fixture.wait_carrier(t.host, MainTopology::kBridge);
    fixture.wait_carrier(t.c1, "eth0");
    fixture.wait_carrier(t.c2, "eth0");
    return t;
}

void add_main_topology_ipv6(NetnsFixture& fixture, const MainTopology& t) {
    const auto add = [&](const std::string& ns, const char* dev, const char* addr) {
        fixture.ip(ns, {"-6", "addr", "add", fmt::format("{}/64", addr), "dev", dev, "nodad"});
    };
    add(t.client, "eth0", MainTopology6::kClientAddr);
    add(t.host, MainTopology::kUplink, MainTopology6::kHostUplinkAddr);
    add(t.host, MainTopology::kBridge, MainTopology6::kBridgeAddr);
    add(t.c1, "eth0", MainTopology6::kC1Addr);
    add(t.c2, "eth0", MainTopology6::kC2Addr);
    fixture.ip(t.client, {"-6", "route", "add", "default", "via", MainTopology6::kHostUplinkAddr});
    fixture.ip(t.c1, {"-6", "route", "add", "default", "via", MainTopology6::kBridgeAddr});
    fixture.ip(t.c2, {"-6", "route", "add", "default", "via", MainTopology6::kBridgeAddr});
    set_sysctl(t.host, "net.ipv6.conf.all.forwarding", "1");
}

// ---------------------------------------------------------------------------------------------
// Sockets

std::string Endpoint::str() const {
    return is_ipv6() ? fmt::format("[{}]:{}", addr, port) : fmt::format("{}:{}", addr, port);
}

std::ostream& operator<<(std::ostream& os, const Endpoint& ep) {
    return os << ep.str();
}

TcpTagServer::TcpTagServer(const std::string& ns, const Endpoint& bind_to, std::string tag)
    : listener_(bound_socket(ns, SOCK_STREAM, bind_to)), tag_(std::move(tag)) {
    if (::listen(listener_.get(), 64) != 0) {
        throw std::runtime_error(
            fmt::format("listen {} in {}: {}", bind_to.str(), ns, errno_text(errno)));
    }
    thread_ = std::thread([this] { serve(); });
}

TcpTagServer::~TcpTagServer() {
    stop_ = true;
    if (thread_.joinable()) {
        thread_.join();  // bounded: the loop checks stop_ every kServerPollMs
    }
}

void TcpTagServer::serve() {
    struct Conn {
        Fd fd;
        std::string peer;
        std::string buffer;
        bool open = true;
    };
    std::vector<Conn> conns;
    const auto give_up = Clock::now() + kServerLifetime;
    while (!stop_ && Clock::now() < give_up) {
        std::vector<pollfd> fds;
        fds.push_back({listener_.get(), POLLIN, 0});
        for (const auto& c : conns) {
            fds.push_back({c.fd.get(), POLLIN, 0});
        }
        if (::poll(fds.data(), fds.size(), kServerPollMs) <= 0) {
            continue;
        }
        for (std::size_t i = 0; i < conns.size(); ++i) {
            if (fds[i + 1].revents == 0) {
                continue;
            }
            Conn& c = conns[i];
            char buf[4096];
            const ssize_t n = ::recv(c.fd.get(), buf, sizeof buf, 0);
            if (n <= 0) {
                c.open = n < 0 && (errno == EAGAIN || errno == EINTR);
                continue;
            }
            c.buffer.append(buf, static_cast<std::size_t>(n));
            for (auto nl = c.buffer.find('\n'); nl != std::string::npos; nl = c.buffer.find('\n')) {
                const std::string reply =
                    fmt::format("{} {} {}\n", tag_, c.peer, c.buffer.substr(0, nl));
                c.buffer.erase(0, nl + 1);
                // Replies are tiny: a fresh socket buffer always takes them whole.
                (void)::send(c.fd.get(), reply.data(), reply.size(), MSG_NOSIGNAL);
            }
        }
        std::erase_if(conns, [](const Conn& c) { return !c.open; });
        if ((fds[0].revents & POLLIN) != 0) {
            SocketAddress sa;
            const int fd = ::accept4(listener_.get(), sa.addr(), &sa.len, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd >= 0) {
                conns.push_back(Conn{Fd(fd), from_sockaddr(sa).addr, {}, true});
                ++accepted_;
            }
        }
    }
}

UdpTagServer::UdpTagServer(const std::string& ns, const Endpoint& bind_to, std::string tag)
    : socket_(bound_socket(ns, SOCK_DGRAM, bind_to)), tag_(std::move(tag)) {
    thread_ = std::thread([this] { serve(); });
}

UdpTagServer::~UdpTagServer() {
    stop_ = true;
    if (thread_.joinable()) {
        thread_.join();
    }
}

void UdpTagServer::serve() {
    const auto give_up = Clock::now() + kServerLifetime;
    while (!stop_ && Clock::now() < give_up) {
        pollfd pfd{socket_.get(), POLLIN, 0};
        if (::poll(&pfd, 1, kServerPollMs) <= 0) {
            continue;
        }
        char buf[2048];
        SocketAddress sa;
        const ssize_t n = ::recvfrom(socket_.get(), buf, sizeof buf, 0, sa.addr(), &sa.len);
        if (n < 0) {
            continue;
        }
        const std::string reply = fmt::format("{} {} {}", tag_, from_sockaddr(sa).addr,
                                              std::string_view(buf, static_cast<std::size_t>(n)));
        (void)::sendto(socket_.get(), reply.data(), reply.size(), 0, sa.addr(), sa.len);
    }
}

// Binds fd to the wildcard address of `dst`'s family and `port` (SO_REUSEADDR). Returns false
// with errno set on failure.
static bool bind_local_port(const Fd& fd, const Endpoint& dst, std::uint16_t port) {
    const int one = 1;
    (void)::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    const SocketAddress local = to_sockaddr(Endpoint{dst.is_ipv6() ? "::" : "0.0.0.0", port});
    return ::bind(fd.get(), local.addr(), local.len) == 0;
}

TcpConnection TcpConnection::connect(const std::string& ns, const Endpoint& dst,
                                     milliseconds timeout, std::uint16_t local_port) {
    TcpConnection conn;
    Fd fd = endpoint_socket(ns, dst, SOCK_STREAM | SOCK_NONBLOCK);
    if (local_port != 0 && !bind_local_port(fd, dst, local_port)) {
        conn.error_ = errno;
        return conn;
    }
    const SocketAddress sa = to_sockaddr(dst);
    if (::connect(fd.get(), sa.addr(), sa.len) != 0) {
        if (errno != EINPROGRESS) {
            conn.error_ = errno;
            return conn;
        }
        const auto deadline = Clock::now() + timeout;
        int n = 0;
        pollfd pfd{fd.get(), POLLOUT, 0};
        // Bounded by the deadline; only EINTR repeats.
        do {
            n = ::poll(&pfd, 1, remaining_ms(deadline));
        } while (n < 0 && errno == EINTR && Clock::now() < deadline);
        if (n <= 0) {
            conn.error_ = ETIMEDOUT;
            return conn;
        }
        int err = 0;
        socklen_t len = sizeof err;
        ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) {
            conn.error_ = err;
            return conn;
        }
    }
    conn.fd_ = std::move(fd);
    return conn;
}

std::string TcpConnection::error_text() const {
    return error_ == 0 ? std::string("connected") : errno_text(error_);
}

std::optional<Endpoint> TcpConnection::peer() const {
    SocketAddress sa;
    if (!ok() || ::getpeername(fd_.get(), sa.addr(), &sa.len) != 0) {
        return std::nullopt;
    }
    return from_sockaddr(sa);
}

std::optional<Endpoint> TcpConnection::local() const {
    SocketAddress sa;
    if (!ok() || ::getsockname(fd_.get(), sa.addr(), &sa.len) != 0) {
        return std::nullopt;
    }
    return from_sockaddr(sa);
}

std::optional<std::string> TcpConnection::request(std::string_view line, milliseconds timeout) {
    if (!ok()) {
        return std::nullopt;
    }
    const auto deadline = Clock::now() + timeout;
    const std::string message = std::string(line) + "\n";
    std::size_t sent = 0;
    while (sent < message.size() && Clock::now() < deadline) {
        const ssize_t n =
            ::send(fd_.get(), message.data() + sent, message.size() - sent, MSG_NOSIGNAL);
        if (n > 0) {
            sent += static_cast<std::size_t>(n);
            continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EINTR) {
            return std::nullopt;
        }
        pollfd pfd{fd_.get(), POLLOUT, 0};
        ::poll(&pfd, 1, remaining_ms(deadline));
    }
    if (sent < message.size()) {
        return std::nullopt;
    }
    while (Clock::now() < deadline) {
        const auto nl = buffered_.find('\n');
        if (nl != std::string::npos) {
            std::string reply = buffered_.substr(0, nl);
            buffered_.erase(0, nl + 1);
            return reply;
        }
        pollfd pfd{fd_.get(), POLLIN, 0};
        if (::poll(&pfd, 1, remaining_ms(deadline)) <= 0) {
            continue;
        }
        char buf[4096];
        const ssize_t n = ::recv(fd_.get(), buf, sizeof buf, 0);
        if (n == 0) {
            return std::nullopt;  // EOF
        }
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR) {
                continue;
            }
            return std::nullopt;
        }
        buffered_.append(buf, static_cast<std::size_t>(n));
    }
    return std::nullopt;
}

std::optional<UdpReply> udp_request(const std::string& ns, const Endpoint& dst,
                                    std::string_view payload, milliseconds timeout,
                                    std::uint16_t local_port) {
    Fd fd = endpoint_socket(ns, dst, SOCK_DGRAM | SOCK_NONBLOCK);
    const SocketAddress to = to_sockaddr(dst);
    // Connected, as a client library would: the kernel then owns the 4-tuple.
    if (local_port != 0 && (!bind_local_port(fd, dst, local_port) || ::connect(fd.get(), to.addr(), to.len) != 0)) {
        return std::nullopt;
    }
    const auto deadline = Clock::now() + timeout;
    constexpr auto kResend = milliseconds{500};
    // At most timeout / kResend + 1 rounds.
    while (Clock::now() < deadline) {
        (void)::sendto(fd.get(), payload.data(), payload.size(), 0, to.addr(), to.len);
        const auto round_end = std::min(deadline, Clock::now() + kResend);
        while (Clock::now() < round_end) {
            pollfd pfd{fd.get(), POLLIN, 0};
            if (::poll(&pfd, 1, remaining_ms(round_end)) <= 0) {
                continue;
            }
            char buf[2048];
            SocketAddress from;
            const ssize_t n = ::recvfrom(fd.get(), buf, sizeof buf, 0, from.addr(), &from.len);
            if (n >= 0) {
                return UdpReply{from_sockaddr(from), std::string(buf, static_cast<std::size_t>(n))};
            }
        }
    }
    return std::nullopt;
}

}  // namespace fwd::test
