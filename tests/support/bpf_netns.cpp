#include "support/bpf_netns.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

extern char** environ;

namespace fwd::test {
namespace {

// Runs a command without a shell; it inherits this process's (new) network namespace.
std::string run_command(std::vector<std::string> args) {
    std::vector<char*> argv;
    argv.reserve(args.size() + 1);
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    std::string cmdline;
    for (const auto& arg : args) cmdline += (cmdline.empty() ? "" : " ") + arg;

    pid_t pid = 0;
    const int err = posix_spawnp(&pid, argv[0], nullptr, nullptr, argv.data(), environ);
    if (err != 0) return fmt::format("{}: cannot start: {}", cmdline, std::strerror(err));
    int wstatus = 0;
    while (waitpid(pid, &wstatus, 0) < 0) {
        if (errno != EINTR) return fmt::format("{}: waitpid: {}", cmdline, std::strerror(errno));
    }
    if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0) {
        return fmt::format("{}: failed (status 0x{:x})", cmdline, wstatus);
    }
    return {};
}

std::string write_sysctl(const char* path, const char* value) {
    std::ofstream file(path);
    file << value;
    file.flush();
    if (!file) return fmt::format("write {} to {}: failed", value, path);
    return {};
}

// Closes a descriptor on scope exit.
class ScopedFd {
public:
    explicit ScopedFd(int fd) : fd_(fd) {}
    ScopedFd(const ScopedFd&) = delete;
    ScopedFd& operator=(const ScopedFd&) = delete;
    ~ScopedFd() {
        if (fd_ >= 0) close(fd_);
    }
    [[nodiscard]] int get() const { return fd_; }

private:
    int fd_;
};

}  // namespace

BpfNetns::Status BpfNetns::status_;

const BpfNetns::Status& BpfNetns::status() {
    return status_;
}

// The fwd6 pair (see bpf_netns.h): created with IPv6 off (the namespace default set before),
// then turned on without link-local addresses or DAD, so no address is ever tentative.
static std::string setup_ipv6_pair() {
    const std::vector<std::vector<std::string>> create = {
        {"ip", "link", "add", kHost6Device, "address", kHost6Mac, "type", "veth", "peer", "name",
         kPeer6Device, "address", kPeer6Mac},
    };
    for (const auto& command : create) {
        if (auto error = run_command(command); !error.empty()) return error;
    }
    for (const char* device : {kHost6Device, kPeer6Device}) {
        for (const auto& [knob, value] :
             {std::pair{"addr_gen_mode", "1"}, std::pair{"accept_dad", "0"},
              std::pair{"disable_ipv6", "0"}}) {
            const auto path = fmt::format("/proc/sys/net/ipv6/conf/{}/{}", device, knob);
            if (auto error = write_sysctl(path.c_str(), value); !error.empty()) return error;
        }
    }
    const std::vector<std::vector<std::string>> configure = {
        {"ip", "-6", "addr", "add", fmt::format("{}/64", kHost6Addr), "dev", kHost6Device, "nodad"},
        {"ip", "link", "set", kPeer6Device, "up"},
        {"ip", "link", "set", kHost6Device, "up"},
        {"ip", "-6", "neigh", "replace", kClient6Addr, "lladdr", kClient6Mac, "dev", kHost6Device,
         "nud", "permanent"},
        {"ip", "-6", "route", "replace", "fd00:c::/64", "dev", kPeer6Device},
        {"ip", "-6", "neigh", "replace", kRoutedContainer6Addr, "lladdr", kRoutedContainer6Mac,
         "dev", kPeer6Device, "nud", "permanent"},
    };
    for (const auto& command : configure) {
        if (auto error = run_command(command); !error.empty()) return error;
    }
    return write_sysctl("/proc/sys/net/ipv6/conf/all/forwarding", "1");
}

const BpfNetns::Status& BpfNetns::enter() {
    if (status_.state != State::NotEntered) return status_;
    if (geteuid() != 0) {
        status_ = {State::NotRoot, "needs root: BPF_PROG_TEST_RUN and a private network namespace",
                   0, 0};
        return status_;
    }
    if (unshare(CLONE_NEWNET) != 0) {
        status_ = {State::Failed, fmt::format("unshare(CLONE_NEWNET): {}", std::strerror(errno)), 0,
                   0};
        return status_;
    }
    // No IPv6: devices would otherwise send router solicitations and MLD reports on their own,
    // which tests that deliver frames through the veth would see. Absent without IPv6 support.
    for (const char* path : {"/proc/sys/net/ipv6/conf/all/disable_ipv6",
                             "/proc/sys/net/ipv6/conf/default/disable_ipv6"}) {
        if (access(path, F_OK) == 0) {
            if (auto error = write_sysctl(path, "1"); !error.empty()) {
                status_ = {State::Failed, std::move(error), 0, 0};
                return status_;
            }
        }
    }
    const std::vector<std::vector<std::string>> commands = {
        {"ip", "link", "set", "lo", "up"},
        {"ip", "link", "add", kHostDevice, "address", kHostMac, "type", "veth", "peer", "name",
         kPeerDevice, "address", kPeerMac},
        {"ip", "addr", "add", kHostCidr, "dev", kHostDevice},
        {"ip", "link", "set", kPeerDevice, "up"},
        {"ip", "link", "set", kHostDevice, "up"},
    };
    for (const auto& command : commands) {
        if (auto error = run_command(command); !error.empty()) {
            status_ = {State::Failed, std::move(error), 0, 0};
            return status_;
        }
    }
    // After the devices exist: setting these propagates forwarding to every current device.
    for (const char* path :
         {"/proc/sys/net/ipv4/ip_forward", "/proc/sys/net/ipv4/conf/all/forwarding"}) {
        if (auto error = write_sysctl(path, "1"); !error.empty()) {
            status_ = {State::Failed, std::move(error), 0, 0};
            return status_;
        }
    }
    if (auto error = setup_ipv6_pair(); !error.empty()) {
        status_ = {State::Failed, std::move(error), 0, 0};
        return status_;
    }
    const auto host = if_nametoindex(kHostDevice);
    const auto peer = if_nametoindex(kPeerDevice);
    const auto host6 = if_nametoindex(kHost6Device);
    const auto peer6 = if_nametoindex(kPeer6Device);
    if (host == 0 || peer == 0 || host6 == 0 || peer6 == 0) {
        status_ = {State::Failed, fmt::format("if_nametoindex: {}", std::strerror(errno)), 0, 0};
        return status_;
    }
    status_ = {State::Ready,
               {},
               static_cast<int>(host),
               static_cast<int>(peer),
               static_cast<int>(host6),
               static_cast<int>(peer6)};
    return status_;
}

std::string BpfNetns::send_to_peer(std::span<const uint8_t> frame) {
    // Protocol 0: this socket only sends, it never receives.
    const ScopedFd sock(socket(AF_PACKET, SOCK_RAW, 0));
    if (sock.get() < 0) return fmt::format("socket(AF_PACKET): {}", std::strerror(errno));
    sockaddr_ll addr{};
    addr.sll_family = AF_PACKET;
    addr.sll_ifindex = status_.host_ifindex;
    addr.sll_halen = 6;
    std::copy_n(frame.begin(), std::min<size_t>(frame.size(), 6), addr.sll_addr);
    const auto sent = sendto(sock.get(), frame.data(), frame.size(), 0,
                             reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
    if (sent < 0) return fmt::format("sendto({}): {}", kHostDevice, std::strerror(errno));
    if (static_cast<size_t>(sent) != frame.size()) {
        return fmt::format("sendto({}): sent {} of {} bytes", kHostDevice, sent, frame.size());
    }
    return {};
}

std::string BpfNetns::ip(std::vector<std::string> args) {
    args.insert(args.begin(), "ip");
    return run_command(std::move(args));
}

std::optional<uint64_t> BpfNetns::ipv4_in_hdr_errors() {
    // Two "Ip:" lines: the field names, then their values.
    std::ifstream snmp("/proc/net/snmp");
    std::string names;
    std::string values;
    std::string line;
    while (std::getline(snmp, line)) {
        if (line.rfind("Ip: ", 0) != 0) continue;
        if (names.empty()) {
            names = line;
        } else {
            values = line;
            break;
        }
    }
    std::istringstream name_stream(names);
    std::istringstream value_stream(values);
    std::string name;
    std::string value;
    while (name_stream >> name && value_stream >> value) {
        if (name == "InHdrErrors") return std::stoull(value);
    }
    return std::nullopt;
}

std::unique_ptr<RxCapture> RxCapture::open(int ifindex, std::string* error) {
    const int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
    if (fd < 0) {
        *error = fmt::format("socket(AF_PACKET): {}", std::strerror(errno));
        return nullptr;
    }
    std::unique_ptr<RxCapture> capture(new RxCapture(fd, ifindex));
    sockaddr_ll addr{};
    addr.sll_family = AF_PACKET;
    addr.sll_protocol = htons(ETH_P_ALL);
    addr.sll_ifindex = ifindex;
    if (bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
        *error = fmt::format("bind(AF_PACKET, ifindex {}): {}", ifindex, std::strerror(errno));
        return nullptr;
    }
    return capture;
}

RxCapture::~RxCapture() {
    close(fd_);
}

std::optional<std::vector<uint8_t>> RxCapture::next(std::chrono::milliseconds timeout) {
    using Clock = std::chrono::steady_clock;
    const auto deadline = Clock::now() + timeout;
    std::vector<uint8_t> frame(65536);
    for (auto now = Clock::now(); now < deadline; now = Clock::now()) {
        pollfd pfd{fd_, POLLIN, 0};
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count();
        if (poll(&pfd, 1, static_cast<int>(left) + 1) <= 0) continue;
        sockaddr_ll from{};
        socklen_t from_len = sizeof(from);
        const auto got = recvfrom(fd_, frame.data(), frame.size(), MSG_DONTWAIT,
                                  reinterpret_cast<sockaddr*>(&from), &from_len);
        // Frames queued before bind() may come from other devices; sent frames are not wanted.
        if (got < 0 || from.sll_ifindex != ifindex_ || from.sll_pkttype == PACKET_OUTGOING) {
            continue;
        }
        frame.resize(static_cast<size_t>(got));
        return frame;
    }
    return std::nullopt;
}

}  // namespace fwd::test
