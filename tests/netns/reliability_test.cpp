// End-to-end reliability (issue #7): upgrades under live traffic, detach and attach, kill -9 of
// fwdctl at random points, 16 concurrent fwdctl processes, a live UDP flow at `del`, and a reboot
// followed by `restore` (directly, and through the shipped systemd unit). Topology: MainTopology
// in support/netns_fixture.h. Each test prints its figures on a "[ figures ]" line and records
// them as gtest properties (in the XML report).
#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/core.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <vector>

#include "support/main_topology_test.h"
#include "support/netns_fixture.h"

#ifndef FWD_RESTORE_UNIT_PATH
#error "FWD_RESTORE_UNIT_PATH must name the generated fwd-restore.service"
#endif

namespace fwd::test {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using Json = nlohmann::json;

// Every network wait in this file is bounded by one of these.
constexpr milliseconds kConnectTimeout{3000};
constexpr milliseconds kReplyTimeout{3000};
// How long datagrams already sent may take to arrive before they count as lost.
constexpr milliseconds kArrivalTimeout{3000};
// How long a stream may take to send the datagrams a test waits for (a slow VM included).
constexpr milliseconds kStreamTimeout{30000};
// No stream, load or sink thread outlives this, whatever the test does.
constexpr auto kMaxStreamTime = std::chrono::seconds{120};

const Endpoint kPublishedTcp{MainTopology::kHostUplinkAddr, 80};
const Endpoint kPublishedUdp{MainTopology::kHostUplinkAddr, 5353};

// A UDP socket in `ns` bound to 0.0.0.0:port, non-blocking.
Fd bound_udp_socket(const std::string& ns, std::uint16_t port) {
    Fd fd = socket_in_netns(ns, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK);
    const int one = 1;
    (void)::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    const SocketAddress sa = to_sockaddr({"0.0.0.0", port});
    if (::bind(fd.get(), sa.addr(), sa.len) != 0)
        throw std::runtime_error(
            fmt::format("bind UDP port {} in {}: {}", port, ns, std::strerror(errno)));
    return fd;
}

void send_datagram(const Fd& fd, const Endpoint& to, std::string_view payload) {
    const SocketAddress sa = to_sockaddr(to);
    if (::sendto(fd.get(), payload.data(), payload.size(), 0, sa.addr(), sa.len) < 0)
        throw std::runtime_error(fmt::format("send to {}: {}", to.str(), std::strerror(errno)));
}

// A container's UDP socket that records which sequence numbers arrived (each datagram of a
// stream is its 8-byte number). It can also send from that socket, as a late reply of the
// container would come.
class UdpSequenceSink {
public:
    UdpSequenceSink(const std::string& ns, std::uint16_t port)
        : socket_(bound_udp_socket(ns, port)) {
        // Seconds of the stream fit in the buffer, so a descheduled sink thread loses nothing.
        const int buffer = 8 << 20;
        (void)::setsockopt(socket_.get(), SOL_SOCKET, SO_RCVBUFFORCE, &buffer, sizeof buffer);
        thread_ = std::thread([this] { serve(); });
    }
    ~UdpSequenceSink() {
        stop_ = true;
        thread_.join();  // bounded: the loop checks stop_ every 50 ms
    }
    UdpSequenceSink(const UdpSequenceSink&) = delete;
    UdpSequenceSink& operator=(const UdpSequenceSink&) = delete;

    // How many distinct numbers in [first, end) arrived.
    [[nodiscard]] std::uint64_t count(std::uint64_t first, std::uint64_t end) const {
        const std::lock_guard lock(mutex_);
        std::uint64_t n = 0;
        for (std::uint64_t seq = first; seq < end && seq < seen_.size(); ++seq) n += seen_[seq];
        return n;
    }
    [[nodiscard]] std::uint64_t duplicates() const {
        const std::lock_guard lock(mutex_);
        return duplicates_;
    }
    void send_to(const Endpoint& to, std::string_view payload) const {
        send_datagram(socket_, to, payload);
    }

private:
    static constexpr std::uint64_t kMaxSequence = 1U << 22;

    void serve() {
        const auto give_up = Clock::now() + kMaxStreamTime;
        while (!stop_ && Clock::now() < give_up) {
            pollfd pfd{socket_.get(), POLLIN, 0};
            if (::poll(&pfd, 1, 50) <= 0) continue;
            // Drain the queue; bounded per round so stop_ is seen.
            for (int i = 0; i < 4096; ++i) {
                std::uint64_t seq = 0;
                char buf[64];
                const ssize_t n = ::recv(socket_.get(), buf, sizeof buf, 0);
                if (n < 0) break;
                if (n != sizeof seq) continue;  // not part of a stream
                std::memcpy(&seq, buf, sizeof seq);
                record(seq);
            }
        }
    }
    void record(std::uint64_t seq) {
        const std::lock_guard lock(mutex_);
        if (seq >= kMaxSequence) return;
        if (seq >= seen_.size()) seen_.resize(seq + 4096, 0);
        if (seen_[seq] != 0) ++duplicates_;
        seen_[seq] = 1;
    }

    Fd socket_;
    mutable std::mutex mutex_;
    std::vector<std::uint8_t> seen_;
    std::uint64_t duplicates_ = 0;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

// One client UDP socket (one source port for its whole life) that sends numbered datagrams to
// `dst` at a steady rate on a background thread until stopped, and keeps every datagram that
// comes back to it with its source.
class UdpSequenceSender {
public:
    UdpSequenceSender(const std::string& ns, std::uint16_t local_port, Endpoint dst, int per_second)
        : socket_(bound_udp_socket(ns, local_port)),
          dst_(std::move(dst)),
          period_(std::chrono::nanoseconds(1'000'000'000 / per_second)) {
        thread_ = std::thread([this] { run(); });
    }
    ~UdpSequenceSender() { stop(); }
    UdpSequenceSender(const UdpSequenceSender&) = delete;
    UdpSequenceSender& operator=(const UdpSequenceSender&) = delete;

    void stop() {
        stop_ = true;
        if (thread_.joinable()) thread_.join();
    }
    // Datagrams the kernel took so far; they carry the numbers 0 .. sent()-1, in order.
    [[nodiscard]] std::uint64_t sent() const { return sent_; }
    // Where the first datagram with this payload came back from, once one did.
    [[nodiscard]] std::optional<Endpoint> reply_source(std::string_view payload) const {
        const std::lock_guard lock(mutex_);
        for (const auto& [from, text] : replies_)
            if (text == payload) return from;
        return std::nullopt;
    }

private:
    void run() {
        const SocketAddress to = to_sockaddr(dst_);
        auto due = Clock::now();
        const auto give_up = due + kMaxStreamTime;
        while (!stop_ && Clock::now() < give_up) {
            const auto now = Clock::now();
            // A stalled thread resumes the rate instead of bursting to catch up (a burst could
            // overflow a queue and lose datagrams that fwd did not lose).
            if (now - due > milliseconds{20}) due = now;
            if (now >= due) {
                const std::uint64_t seq = sent_;
                // A refused send is retried with the same number, so the numbers stay dense.
                if (::sendto(socket_.get(), &seq, sizeof seq, 0, to.addr(), to.len) == sizeof seq)
                    sent_ = seq + 1;
                due += period_;
            }
            receive_replies();
            std::this_thread::sleep_until(due);
        }
    }
    void receive_replies() {
        for (int i = 0; i < 64; ++i) {
            char buf[2048];
            SocketAddress from;
            const ssize_t n = ::recvfrom(socket_.get(), buf, sizeof buf, 0, from.addr(), &from.len);
            if (n < 0) return;
            const std::lock_guard lock(mutex_);
            replies_.emplace_back(from_sockaddr(from),
                                  std::string(buf, static_cast<std::size_t>(n)));
        }
    }

    Fd socket_;
    Endpoint dst_;
    std::chrono::nanoseconds period_;
    std::atomic<std::uint64_t> sent_{0};
    mutable std::mutex mutex_;
    std::vector<std::pair<Endpoint, std::string>> replies_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

// Paced request/response exchanges on one open TCP connection on a background thread, until
// stopped or the first failure. Each request is a numbered 1 KiB line whose echo
// (`reply_prefix` + line, from TcpTagServer) must come back whole and in order.
class TcpExchangeLoad {
public:
    TcpExchangeLoad(TcpConnection conn, std::string reply_prefix)
        : conn_(std::move(conn)), reply_prefix_(std::move(reply_prefix)) {
        thread_ = std::thread([this] { run(); });
    }
    ~TcpExchangeLoad() { stop(); }
    TcpExchangeLoad(const TcpExchangeLoad&) = delete;
    TcpExchangeLoad& operator=(const TcpExchangeLoad&) = delete;

    void stop() {
        stop_ = true;
        if (thread_.joinable()) thread_.join();
    }
    [[nodiscard]] std::uint64_t exchanges() const { return exchanges_; }
    [[nodiscard]] std::string failure() const {
        const std::lock_guard lock(mutex_);
        return failure_;
    }

private:
    // Generous: a retransmission on a slow VM must not count as a broken connection.
    static constexpr milliseconds kExchangeTimeout{10000};

    void run() {
        const auto give_up = Clock::now() + kMaxStreamTime;
        for (std::uint64_t n = 0; !stop_ && Clock::now() < give_up; ++n) {
            const std::string line =
                fmt::format("{:08} ", n) + std::string(1000, static_cast<char>('a' + n % 26));
            const auto reply = conn_.request(line, kExchangeTimeout);
            if (reply != reply_prefix_ + line) {
                const std::lock_guard lock(mutex_);
                failure_ = fmt::format("exchange {}: {}", n,
                                       reply ? "wrong reply " + reply->substr(0, 40)
                                             : std::string("no reply (reset, EOF or timeout)"));
                return;
            }
            ++exchanges_;
            std::this_thread::sleep_for(milliseconds{2});  // pacing, ~500 exchanges/s at most
        }
    }

    TcpConnection conn_;
    std::string reply_prefix_;
    std::atomic<std::uint64_t> exchanges_{0};
    mutable std::mutex mutex_;
    std::string failure_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

// Starts argv in a process group of its own with its output discarded; -1 if fork failed.
pid_t start_quietly(const std::vector<std::string>& argv) {
    std::vector<char*> cargv;
    cargv.reserve(argv.size() + 1);
    for (const auto& arg : argv) cargv.push_back(const_cast<char*>(arg.c_str()));
    cargv.push_back(nullptr);
    const pid_t pid = ::fork();
    if (pid == 0) {
        // Child: only async-signal-safe calls until exec.
        ::setpgid(0, 0);
        const int devnull = ::open("/dev/null", O_RDWR);
        if (devnull >= 0) {
            ::dup2(devnull, STDIN_FILENO);
            ::dup2(devnull, STDOUT_FILENO);
            ::dup2(devnull, STDERR_FILENO);
        }
        ::execvp(cargv[0], cargv.data());
        ::_exit(127);
    }
    if (pid > 0) ::setpgid(pid, pid);  // also done by the child; whichever runs first wins
    return pid;
}

// How a command started by start_quietly ended.
struct Ending {
    bool killed = false;  // SIGKILL ended it (else it exited on its own)
    int exit_code = -1;
};

Ending wait_for(pid_t pid) {
    int status = 0;
    if (::waitpid(pid, &status, 0) != pid) return {};
    if (WIFSIGNALED(status)) return {WTERMSIG(status) == SIGKILL, 128 + WTERMSIG(status)};
    return {false, WIFEXITED(status) ? WEXITSTATUS(status) : -1};
}

// Runs argv and SIGKILLs its process group `delay` after the start, unless it ended first.
Ending run_and_kill(const std::vector<std::string>& argv, std::chrono::microseconds delay) {
    const pid_t pid = start_quietly(argv);
    if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
    std::this_thread::sleep_for(delay);
    ::kill(-pid, SIGKILL);  // a process that already exited is a zombie: the signal is harmless
    return wait_for(pid);
}

// The duration of one complete run of argv (exit 0 required).
std::chrono::microseconds time_complete_run(const std::vector<std::string>& argv) {
    const auto start = Clock::now();
    const pid_t pid = start_quietly(argv);
    if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
    const Ending ending = wait_for(pid);
    if (ending.killed || ending.exit_code != 0)
        throw std::runtime_error("a full run failed with exit " + std::to_string(ending.exit_code));
    return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start);
}

// Packets the kernel dropped because a CPU's backlog queue was full, all CPUs together.
std::uint64_t backlog_drops() {
    std::ifstream softnet("/proc/net/softnet_stat");
    std::uint64_t dropped = 0;
    for (std::string line; std::getline(softnet, line);)  // one line per CPU
        dropped += std::strtoull(line.substr(9, 8).c_str(), nullptr, 16);
    return dropped;
}

// FWD_TEST_SEED if set (to replay a run), else a fresh random seed.
std::uint64_t test_seed() {
    if (const char* text = std::getenv("FWD_TEST_SEED"); text != nullptr && *text != '\0')
        return std::strtoull(text, nullptr, 10);
    return std::random_device{}();
}

// The words of the unit's ExecStart= line, systemd's "-@:+!" prefixes dropped.
std::vector<std::string> exec_start_words(const std::string& unit_text) {
    std::istringstream lines(unit_text);
    std::string line;
    while (std::getline(lines, line)) {
        if (line.rfind("ExecStart=", 0) != 0) continue;
        std::string command = line.substr(std::string_view("ExecStart=").size());
        command.erase(0, command.find_first_not_of("-@:+!"));
        std::istringstream words(command);
        std::vector<std::string> result;
        for (std::string word; words >> word;) result.push_back(word);
        return result;
    }
    return {};
}

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// One `list --json` row as a comparable tuple.
using MappingRow = std::tuple<std::string, int, std::string, std::string, int, std::string>;

MappingRow row_of(const Json& m) {
    return {m.at("host_ip").get<std::string>(), m.at("host_port").get<int>(),
            m.at("proto").get<std::string>(),   m.at("container_ip").get<std::string>(),
            m.at("container_port").get<int>(),  m.at("name").get<std::string>()};
}

// The mappings a command printed ("0.0.0.0:49000/tcp -> 172.30.0.10:80"), owned by `name`.
std::vector<MappingRow> printed_mappings(const std::string& out, const std::string& name) {
    static const std::regex line_format(R"(([0-9.]+):([0-9]+)/(tcp|udp) -> ([0-9.]+):([0-9]+))");
    std::vector<MappingRow> rows;
    for (const auto& line : split_lines(out)) {
        std::smatch m;
        if (!std::regex_match(line, m, line_format))
            throw std::runtime_error("not a mapping line: " + line);
        rows.emplace_back(m[1], std::stoi(m[2]), m[3], m[4], std::stoi(m[5]), name);
    }
    return rows;
}

class Reliability : public MainTopologyTest {
protected:
    void Add(const std::string& host, const std::string& container) {
        const CommandResult r = fwdctl({"add", host, container});
        ASSERT_TRUE(r.ok()) << r.describe();
    }

    void ExpectCheckAgrees() const {
        const CommandResult check = fwdctl({"check"});
        EXPECT_TRUE(check.ok()) << check.describe();
    }

    void ExpectUdpReachesContainer(const Endpoint& dst, const std::string& tag) {
        const auto reply = udp_request(topo_.client, dst, "ping", kReplyTimeout);
        ASSERT_TRUE(reply.has_value()) << "no UDP reply from " << dst.str();
        EXPECT_EQ(reply->from, dst);
        EXPECT_EQ(reply->payload, tag + " " + MainTopology::kClientAddr + " ping");
    }

    // Entries in one pinned map, from `fwdctl status --json`.
    [[nodiscard]] std::uint64_t MapEntries(const std::string& map_name) const {
        const CommandResult r = fwdctl({"status", "--json"});
        const Json doc = Json::parse(r.out, nullptr, /*allow_exceptions=*/false);
        if (r.ok() && !doc.is_discarded())
            for (const auto& map : doc["maps"])
                if (map["name"] == map_name) return map["entries"].get<std::uint64_t>();
        ADD_FAILURE() << "no map " << map_name << " in status --json:\n" << r.describe();
        return 0;
    }

    // `fwdctl list --json` as rows.
    [[nodiscard]] std::set<MappingRow> ListedMappings() const {
        const CommandResult r = fwdctl({"list", "--json"});
        EXPECT_TRUE(r.ok()) << r.describe();
        std::set<MappingRow> rows;
        const Json doc = Json::parse(r.out, nullptr, /*allow_exceptions=*/false);
        if (doc.is_discarded()) {
            ADD_FAILURE() << "list --json does not parse:\n" << r.out;
            return rows;
        }
        for (const auto& m : doc) rows.insert(row_of(m));
        return rows;
    }

    // MainTopologyTest::SimulateReboot, checked: fwd is really gone.
    void SimulateReboot() {
        ASSERT_NO_FATAL_FAILURE(MainTopologyTest::SimulateReboot());
        const CommandResult check = fwdctl({"check"});
        ASSERT_EQ(check.exit_code, 1) << "fwd still attached after the reboot\n"
                                      << check.describe();
    }

    // Drops outside fwd's programs, to tell an overloaded machine from a lost packet: the
    // receiver's UDP buffer, the kernel's backlog queues (all CPUs, since
    // `backlog_drops_before`) and the devices on the way from the client to `receiver_ns`.
    [[nodiscard]] std::string OverloadDrops(const std::string& receiver_ns,
                                            std::uint64_t backlog_drops_before) const {
        const auto cat = [&](const std::string& ns, const std::string& path) {
            const CommandResult r = net_->exec_in(ns, "cat " + path);
            return r.ok() ? r.out : std::string("?");
        };
        std::string udp = cat(receiver_ns, "/proc/net/snmp");
        udp = udp.substr(std::min(udp.find("Udp:"), udp.size()));
        std::string devices;
        const std::vector<std::pair<std::string, std::string>> path = {
            {topo_.client, "eth0"},
            {topo_.host, MainTopology::kUplink},
            {topo_.host, "vc1"},
            {receiver_ns, "eth0"}};
        for (const auto& [ns, ifname] : path)
            for (const char* counter : {"rx_dropped", "tx_dropped"})
                devices += fmt::format(
                    " {}/{}={}", ifname, counter,
                    cat(ns, fmt::format("/sys/class/net/{}/statistics/{}", ifname, counter)));
        std::erase(devices, '\n');
        std::replace(udp.begin(), udp.end(), '\n', ' ');
        return fmt::format("backlog drops {} in all; devices:{}; receiver {}",
                           backlog_drops() - backlog_drops_before, devices, udp);
    }

    void Figures(const std::string& line) {
        std::printf("[ figures  ] %s\n", line.c_str());
        RecordProperty("figures", line);
    }
};

// ---------------------------------------------------------------------------------------------
// Upgrade and restart

// Re-running attach swaps the programs in place: a UDP stream through a mapping loses no
// datagram across upgrades (re-attaches in the same mode, tc or xdp), and an open TCP
// connection exchanging data all the while is never reset, also across switches into xdp mode
// and back. A switch turns XDP on or off on the uplink veth, which rebuilds the driver's receive
// path: a frame in flight right then can be dropped by the driver (not by fwd), so switches are
// bounded and reported rather than held to 0. The same stream first runs without any
// re-attach, to show the rate itself loses nothing on this machine.
TEST_F(Reliability, UpgradeUnderLiveTrafficLosesNoDatagramAndKeepsTheConnection) {
    constexpr std::uint64_t kTail = 500;  // datagrams after the last re-attach
    // One round passes every transition: tc to tc, to xdp, xdp to xdp, to tc. Rounds repeat
    // while time is left, so a fast machine re-attaches often enough to catch a short gap.
    const std::vector<std::string> round = {"tc", "xdp", "xdp", "tc"};
    constexpr int kMaxRounds = 8;
    constexpr auto kUpgradeTime = std::chrono::seconds{2};

    // Full checksums from the client, so in xdp mode XDP itself translates the tracked flows.
    set_tx_checksum_offload(topo_.client, "eth0", false);
    const auto attach_start = Clock::now();
    ASSERT_NO_FATAL_FAILURE(Attach());
    // The rate suits the machine. In xdp mode the uplink veth queues at most 256 frames
    // (VETH_RING_SIZE) until its NAPI poll runs; an emulated machine that stalls softirqs for
    // ~80 ms while fwdctl loads programs (seen under QEMU TCG, where loading takes seconds)
    // overflows it at 5,000/s: the peer counts those as tx_dropped, fwd never sees them.
    const bool slow_machine = Clock::now() - attach_start > std::chrono::seconds{1};
    const int rate = slow_machine ? 500 : 5000;  // datagrams per second
    // The baseline: one second of the stream without any re-attach.
    const auto baseline_count = static_cast<std::uint64_t>(rate);
    ASSERT_NO_FATAL_FAILURE(Add("0.0.0.0:80/tcp", "172.30.0.2:8080"));
    ASSERT_NO_FATAL_FAILURE(Add("0.0.0.0:5353/udp", "172.30.0.2:53"));
    StartTcpServer(topo_.c1, 8080, "c1");
    UdpSequenceSink sink(topo_.c1, 53);
    TcpConnection conn = TcpConnection::connect(topo_.client, kPublishedTcp, kConnectTimeout);
    ASSERT_TRUE(conn.ok()) << "connect to " << kPublishedTcp.str() << ": " << conn.error_text();
    TcpExchangeLoad tcp(std::move(conn), std::string("c1 ") + MainTopology::kClientAddr + " ");
    const std::uint64_t backlog_drops_before = backlog_drops();
    UdpSequenceSender stream(topo_.client, 40000, kPublishedUdp, rate);

    ASSERT_TRUE(wait_until([&] { return stream.sent() >= baseline_count; }, kStreamTimeout));
    const std::uint64_t baseline = stream.sent();
    wait_until([&] { return sink.count(0, baseline) == baseline; }, kArrivalTimeout);
    ASSERT_EQ(sink.count(0, baseline), baseline)
        << "the stream loses datagrams without any re-attach: the rate is too high here; "
        << OverloadDrops(topo_.c1, backlog_drops_before);

    // The numbers sent while each re-attach ran, to tell where datagrams went missing.
    std::vector<std::pair<std::uint64_t, std::uint64_t>> windows;
    std::vector<std::string> upgrades;
    const auto upgrades_start = Clock::now();
    for (int i = 0; i < kMaxRounds && (i == 0 || Clock::now() - upgrades_start < kUpgradeTime);
         ++i) {
        for (const auto& mode : round) {
            const std::uint64_t first = stream.sent();
            ASSERT_NO_FATAL_FAILURE(Attach({"--mode", mode}));
            windows.emplace_back(first, stream.sent() + 1);
            upgrades.push_back(mode);
        }
    }
    const std::uint64_t upgraded = stream.sent();
    ASSERT_TRUE(wait_until([&] { return stream.sent() >= upgraded + kTail; }, kStreamTimeout));
    stream.stop();
    tcp.stop();

    const std::uint64_t sent = stream.sent();
    wait_until([&] { return sink.count(0, sent) == sent; }, kArrivalTimeout);
    const std::uint64_t during = sent - baseline;
    const std::uint64_t lost = during - sink.count(baseline, sent);
    // Where datagrams went missing: in the windows of same-mode upgrades, of mode switches, or
    // between re-attaches.
    std::uint64_t upgrade_lost = 0;
    std::uint64_t switch_lost = 0;
    std::size_t switches = 0;
    std::string where;
    for (std::size_t i = 0; i < windows.size(); ++i) {
        const auto [first, end] = windows[i];
        const std::uint64_t here = (end - first) - sink.count(first, end);
        const bool is_switch = upgrades[i] != (i == 0 ? std::string("tc") : upgrades[i - 1]);
        (is_switch ? switch_lost : upgrade_lost) += here;
        switches += is_switch ? 1 : 0;
        where += fmt::format(" {}{}:{}", is_switch ? "to " : "", upgrades[i], here);
    }
    // (Windows share their boundary datagram, so one lost there counts in both.)
    const std::uint64_t between =
        lost > upgrade_lost + switch_lost ? lost - upgrade_lost - switch_lost : 0;
    Figures(fmt::format(
        "UDP at {}/s: baseline {} sent, 0 lost; across {} re-attaches ({} upgrades, {} mode "
        "switches) {} sent, {} lost in upgrades, {} in switches, {} between, {} duplicated; TCP {} "
        "exchanges of 1 KiB, failure: {}",
        rate, baseline, upgrades.size(), upgrades.size() - switches, switches, during,
        upgrade_lost, switch_lost, between, sink.duplicates(), tcp.exchanges(),
        tcp.failure().empty() ? "none" : tcp.failure()));
    const auto context = [&] {
        return "lost while each re-attach ran:" + where + "; " +
               OverloadDrops(topo_.c1, backlog_drops_before);
    };
    EXPECT_EQ(upgrade_lost, 0U) << context();
    EXPECT_EQ(between, 0U) << context();
    // At most a few frames in flight per switch (seen: 1 in 16 switches, under load).
    constexpr std::uint64_t kSwitchLossBound = 4;
    EXPECT_LE(switch_lost, kSwitchLossBound * switches) << context();
    EXPECT_EQ(tcp.failure(), "");
    EXPECT_GT(tcp.exchanges(), 0U);
    // XDP translated part of the stream: the swaps really moved it between the programs.
    EXPECT_GT(Counter("xdp_nat_in"), 0U);
}

// detach + attach (the pin dir kept) keeps the mappings and, within the conntrack lifetime,
// the flows: an established TCP connection and a UDP flow carry on afterwards.
TEST_F(Reliability, DetachAndAttachKeepMappingsAndEstablishedFlows) {
    ASSERT_NO_FATAL_FAILURE(Attach());
    ASSERT_NO_FATAL_FAILURE(Add("0.0.0.0:80/tcp", "172.30.0.2:8080"));
    ASSERT_NO_FATAL_FAILURE(Add("0.0.0.0:5353/udp", "172.30.0.2:53"));
    StartTcpServer(topo_.c1, 8080, "c1");
    StartUdpServer(topo_.c1, 53, "c1");
    const std::string tag = std::string("c1 ") + MainTopology::kClientAddr + " ";

    TcpConnection conn = TcpConnection::connect(topo_.client, kPublishedTcp, kConnectTimeout);
    ASSERT_TRUE(conn.ok()) << "connect to " << kPublishedTcp.str() << ": " << conn.error_text();
    // One exchange only: the client's ACK of the first data it receives goes out at once
    // (quick-ack), so nothing of the connection is in flight while fwd is detached (the host
    // would answer a stray segment to a port it does not serve with a reset).
    ASSERT_EQ(conn.request("before", kReplyTimeout), tag + "before");
    const auto udp_before = udp_request(topo_.client, kPublishedUdp, "u1", kReplyTimeout, 40001);
    ASSERT_TRUE(udp_before.has_value());
    const std::uint64_t flows = MapEntries("fwd_ct4");
    const std::set<MappingRow> mappings = ListedMappings();

    const CommandResult detach = fwdctl({"detach", "--all"});
    ASSERT_TRUE(detach.ok()) << detach.describe();
    ASSERT_NO_FATAL_FAILURE(Attach());

    EXPECT_EQ(ListedMappings(), mappings);
    ExpectCheckAgrees();
    EXPECT_EQ(MapEntries("fwd_ct4"), flows) << "conntrack entries lost across detach + attach";
    EXPECT_EQ(conn.request("after", kReplyTimeout), tag + "after");
    EXPECT_EQ(conn.peer(), kPublishedTcp);
    const auto udp_after = udp_request(topo_.client, kPublishedUdp, "u2", kReplyTimeout, 40001);
    ASSERT_TRUE(udp_after.has_value()) << "the UDP flow does not carry on";
    EXPECT_EQ(udp_after->from, kPublishedUdp);
    EXPECT_EQ(udp_after->payload, tag + "u2");
}

// ---------------------------------------------------------------------------------------------
// Crash consistency and concurrency

// kill -9 of a large add (3,000 ports) or publish (1,000 fixed and 200 pool ports) at random
// points, many times. After every kill the state file parses and holds all of the command or
// none of it; `check` exits 0, or 1 listing the drift; and the drift goes away through the
// next mutating command (a small add) or through `check --repair`, alternately. A lock file or
// temp file left by a kill never stops the next command.
TEST_F(Reliability, KillNineAtRandomPointsLeavesStateThatTheNextCommandRepairs) {
    constexpr int kMinIterations = 8;
    constexpr int kMaxIterations = 40;
    constexpr auto kBudget = std::chrono::seconds{25};  // more iterations while time is left
    constexpr std::size_t kRangePorts = 3000;
    constexpr std::size_t kPublishPorts = 1200;
    const std::vector<std::string> big_add = {"add", "0.0.0.0:20000-22999/udp",
                                              "172.30.0.2:20000-22999"};
    const std::string fixed_ports = "30000-30999:30000-30999";
    const std::vector<std::string> big_publish = {
        "publish",   "big", "--ip",     MainTopology::kC1Addr, "-p",
        fixed_ports, "-P",  "--expose", "6000-6199/udp"};
    const std::string state_file = net_->state_dir() + "/state.json";
    ASSERT_NO_FATAL_FAILURE(Attach());

    const std::uint64_t seed = test_seed();
    std::mt19937_64 random(seed);
    RecordProperty("seed", std::to_string(seed));
    std::printf("[ seed     ] FWD_TEST_SEED=%llu\n", static_cast<unsigned long long>(seed));

    // Kill points spread over each command's whole run, start-up included.
    const auto add_time = time_complete_run(net_->fwdctl_argv(big_add));
    ASSERT_TRUE(fwdctl({"del", "0.0.0.0:20000-22999/udp"}).ok());
    const auto publish_time = time_complete_run(net_->fwdctl_argv(big_publish));
    ASSERT_TRUE(fwdctl({"unpublish", "big"}).ok());

    int killed = 0;
    int drifted = 0;
    int by_next_command = 0;
    int by_repair = 0;
    int temp_left = 0;
    const auto start = Clock::now();
    int iteration = 0;
    for (; iteration < kMaxIterations &&
           (iteration < kMinIterations || Clock::now() - start < kBudget);
         ++iteration) {
        const bool is_add = iteration % 2 == 0;
        const auto full = is_add ? add_time : publish_time;
        const auto delay = std::chrono::microseconds(
            std::uniform_int_distribution<std::int64_t>(0, full.count())(random));
        SCOPED_TRACE(fmt::format("iteration {}: {} killed after {} us (seed {})", iteration,
                                 is_add ? "add" : "publish", delay.count(), seed));
        const Ending ending =
            run_and_kill(net_->fwdctl_argv(is_add ? big_add : big_publish), delay);
        killed += ending.killed ? 1 : 0;
        ASSERT_TRUE(ending.killed || ending.exit_code == 0) << "exit " << ending.exit_code;
        temp_left += std::filesystem::exists(state_file + ".tmp") ? 1 : 0;

        // The state file is whole: it parses, with all of the command or none of it.
        const Json state = Json::parse(read_file(state_file), nullptr, false);
        ASSERT_FALSE(state.is_discarded()) << "state file does not parse:\n"
                                           << read_file(state_file);
        const std::size_t in_state = state["mappings"].size();
        ASSERT_TRUE(in_state == 0 || in_state == (is_add ? kRangePorts : kPublishPorts))
            << in_state << " mappings in the state file";

        const CommandResult check = fwdctl({"check"});
        ASSERT_TRUE(check.exit_code == 0 || check.exit_code == 1) << check.describe();
        if (check.exit_code == 1) {
            ++drifted;
            ASSERT_FALSE(check.out.empty()) << "exit 1 without listing the drift";
            // Alternately the next mutating command and check --repair make the maps agree.
            const bool by_command = drifted % 2 == 1;
            const CommandResult fix = by_command ? fwdctl({"add", "0.0.0.0:9/udp", "172.30.0.2:9"})
                                                 : fwdctl({"check", "--repair"});
            ASSERT_TRUE(fix.ok()) << fix.describe();
            const CommandResult agreed = fwdctl({"check"});
            ASSERT_TRUE(agreed.ok())
                << "drift left by a kill is not repaired by `" << fix.command << "`\n"
                << check.out << agreed.describe();
            (by_command ? by_next_command : by_repair) += 1;
            if (by_command) {
                ASSERT_TRUE(fwdctl({"del", "0.0.0.0:9/udp"}).ok());
            }
        }
        // Back to no mappings for the next round.
        if (in_state != 0) {
            const CommandResult undo =
                is_add ? fwdctl({"del", "0.0.0.0:20000-22999/udp"}) : fwdctl({"unpublish", "big"});
            ASSERT_TRUE(undo.ok()) << undo.describe();
        }
        const CommandResult clean = fwdctl({"check"});
        ASSERT_EQ(clean.out, "ok: 0 mapping(s), maps and state agree\n") << clean.describe();
    }
    Figures(
        fmt::format("{} kill points (seed {}; full add {} ms, full publish {} ms): {} killed "
                    "mid-run, {} after the end; {} left drift: {} repaired by the next "
                    "mutating command, {} by check --repair; {} left a temp file",
                    iteration, seed, add_time.count() / 1000, publish_time.count() / 1000, killed,
                    iteration - killed, drifted, by_next_command, by_repair, temp_left));
}

// 16 fwdctl processes at once, each publishing a container with -P (pool ports) and adding a
// range, then half of them deleting part of the range and half unpublishing the container:
// afterwards `list --json` holds exactly the expected mappings, no pool port was handed out
// twice, and maps and state agree.
TEST_F(Reliability, SixteenConcurrentFwdctlProcessesEndWithExactlyTheExpectedMappings) {
    constexpr int kWorkers = 16;
    static constexpr int kPoolFirst = 49000;
    static constexpr int kPoolLast = 49099;
    ASSERT_NO_FATAL_FAILURE(Attach());

    const auto worker = [this](int i) {
        const auto run = [this](std::vector<std::string> args) {
            args.insert(args.begin(),
                        {"--port-range", fmt::format("{}-{}", kPoolFirst, kPoolLast)});
            return fwdctl(args);
        };
        const int base = 20000 + 4 * i;
        const std::string name = fmt::format("w{}", i);
        std::vector<CommandResult> results;
        results.push_back(run({"publish", name, "--ip", fmt::format("172.30.0.{}", 10 + i), "-P",
                               "--expose", "80", "--expose", "53/udp"}));
        results.push_back(
            run({"add", fmt::format("0.0.0.0:{}-{}/tcp", base, base + 3), "172.30.0.2:8000-8003"}));
        if (i % 2 == 0)
            results.push_back(run({"del", fmt::format("0.0.0.0:{}/tcp", base + 3)}));
        else
            results.push_back(run({"unpublish", name}));
        return results;
    };
    std::vector<std::vector<CommandResult>> results(kWorkers);
    {
        std::vector<std::thread> threads;
        for (int i = 0; i < kWorkers; ++i) threads.emplace_back([&, i] { results[i] = worker(i); });
        for (auto& thread : threads) thread.join();  // each fwdctl run is bounded by its timeout
    }

    std::set<MappingRow> expected;
    std::vector<std::pair<int, std::string>> pool_ports;  // every port -P handed out
    std::size_t commands = 0;
    for (int i = 0; i < kWorkers; ++i) {
        for (const auto& r : results[i]) ASSERT_TRUE(r.ok()) << r.describe();
        commands += results[i].size();
        // Even workers deleted the last port of their range, odd ones their container.
        for (int k = 0; k < (i % 2 == 0 ? 3 : 4); ++k)
            expected.insert({"0.0.0.0", 20000 + 4 * i + k, "tcp", "172.30.0.2", 8000 + k, ""});
        for (const auto& row : printed_mappings(results[i][0].out, fmt::format("w{}", i))) {
            pool_ports.emplace_back(std::get<1>(row), std::get<2>(row));
            if (i % 2 == 0) expected.insert(row);
        }
    }
    const std::set<std::pair<int, std::string>> distinct(pool_ports.begin(), pool_ports.end());
    EXPECT_EQ(distinct.size(), pool_ports.size()) << "a pool port was handed out twice";
    for (const auto& [port, proto] : pool_ports) {
        EXPECT_GE(port, kPoolFirst);
        EXPECT_LE(port, kPoolLast);
    }
    EXPECT_EQ(ListedMappings(), expected);
    const CommandResult check = fwdctl({"check"});
    EXPECT_EQ(check.out, fmt::format("ok: {} mapping(s), maps and state agree\n", expected.size()))
        << check.describe();
    Figures(
        fmt::format("{} fwdctl processes, {} commands in all, {} pool ports handed out, {} "
                    "mappings at the end",
                    kWorkers, commands, pool_ports.size(), expected.size()));
}

// ---------------------------------------------------------------------------------------------
// Protocol correctness

// A live UDP flow (one client socket, one source port, sending all along) stops reaching the
// container as soon as `del` returns, and the container's late replies are no longer
// translated (its conntrack entries are gone: no stale flow). Re-added to another container
// and port, the same socket's next datagrams all reach the new target (no black hole), and its
// replies come back from the published address.
TEST_F(Reliability, LiveUdpFlowStopsAtDelAndFollowsTheMappingReadded) {
    constexpr int kRate = 1000;
    constexpr std::uint64_t kWindow = 200;  // datagrams watched after each change
    const Endpoint client{MainTopology::kClientAddr, 40002};
    ASSERT_NO_FATAL_FAILURE(Attach());
    ASSERT_NO_FATAL_FAILURE(Add("0.0.0.0:5353/udp", "172.30.0.2:53"));
    UdpSequenceSink old_target(topo_.c1, 53);
    UdpSequenceSink new_target(topo_.c2, 54);
    UdpSequenceSender flow(topo_.client, client.port, kPublishedUdp, kRate);

    ASSERT_TRUE(wait_until([&] { return old_target.count(0, flow.sent()) >= 20; }, kArrivalTimeout))
        << "the flow does not reach the container";
    old_target.send_to(client, "c1 before del");
    ASSERT_TRUE(
        wait_until([&] { return flow.reply_source("c1 before del").has_value(); }, kReplyTimeout));
    EXPECT_EQ(flow.reply_source("c1 before del"), kPublishedUdp);

    const CommandResult del = fwdctl({"del", "0.0.0.0:5353/udp"});
    ASSERT_TRUE(del.ok()) << del.describe();
    // Datagrams numbered from here on were sent after del returned (the one being sent may
    // have started before).
    const std::uint64_t after_del = flow.sent() + 1;
    old_target.send_to(client, "c1 after del");
    ASSERT_TRUE(
        wait_until([&] { return flow.reply_source("c1 after del").has_value(); }, kReplyTimeout));
    EXPECT_EQ(flow.reply_source("c1 after del"), (Endpoint{MainTopology::kC1Addr, 53}))
        << "a reply of the removed flow was still translated";
    ASSERT_TRUE(wait_until([&] { return flow.sent() >= after_del + kWindow; }, kStreamTimeout));
    EXPECT_EQ(old_target.count(after_del, flow.sent()), 0U)
        << "datagrams sent after del still reached the container";

    ASSERT_NO_FATAL_FAILURE(Add("0.0.0.0:5353/udp", "172.30.0.3:54"));
    const std::uint64_t after_add = flow.sent() + 1;
    ASSERT_TRUE(wait_until([&] { return flow.sent() >= after_add + kWindow; }, kStreamTimeout));
    const std::uint64_t end = flow.sent();
    wait_until([&] { return new_target.count(after_add, end) == end - after_add; },
               kArrivalTimeout);
    EXPECT_EQ(new_target.count(after_add, end), end - after_add)
        << "datagrams of the flow black-holed after the mapping was re-added";
    EXPECT_EQ(old_target.count(after_del, end), 0U);
    new_target.send_to(client, "c2 reply");
    ASSERT_TRUE(
        wait_until([&] { return flow.reply_source("c2 reply").has_value(); }, kReplyTimeout));
    EXPECT_EQ(flow.reply_source("c2 reply"), kPublishedUdp);
}

// ---------------------------------------------------------------------------------------------
// Reboot

// After a reboot (no program attached, an empty bpffs, the state file kept) `fwdctl restore`
// brings back every interface with its mode, the socket programs and every mapping, and
// traffic flows again.
TEST_F(Reliability, RestoreAfterRebootBringsBackInterfacesMappingsAndTraffic) {
    const CommandResult uplink = fwdctl(
        {"attach", MainTopology::kUplink, "--mode", "xdp", "--cgroup", net_->empty_cgroup()});
    ASSERT_TRUE(uplink.ok()) << uplink.describe();
    const CommandResult bridge =
        fwdctl({"attach", MainTopology::kBridge, "--cgroup", net_->empty_cgroup()});
    ASSERT_TRUE(bridge.ok()) << bridge.describe();
    ASSERT_NO_FATAL_FAILURE(Add("0.0.0.0:80/tcp", "172.30.0.2:8080"));
    ASSERT_NO_FATAL_FAILURE(Add("0.0.0.0:5353/udp", "172.30.0.2:53"));
    const CommandResult publish =
        fwdctl({"publish", "web", "--ip", MainTopology::kC2Addr, "-p", "8081:8081"});
    ASSERT_TRUE(publish.ok()) << publish.describe();
    StartTcpServer(topo_.c1, 8080, "c1");
    StartUdpServer(topo_.c1, 53, "c1");
    StartTcpServer(topo_.c2, 8081, "c2");
    const std::set<MappingRow> mappings = ListedMappings();

    ASSERT_NO_FATAL_FAILURE(SimulateReboot());
    const CommandResult restore = fwdctl({"restore"});
    ASSERT_TRUE(restore.ok()) << restore.describe();
    EXPECT_NE(restore.out.find("restored 3 mapping(s)"), std::string::npos) << restore.describe();

    EXPECT_EQ(ListedMappings(), mappings);
    ExpectCheckAgrees();
    const CommandResult status = fwdctl({"status", "--json"});
    const Json doc = Json::parse(status.out, nullptr, false);
    ASSERT_FALSE(doc.is_discarded()) << status.describe();
    ASSERT_EQ(doc["interfaces"].size(), 2U) << status.out;
    for (const auto& interface : doc["interfaces"]) {
        EXPECT_TRUE(interface["attached"].get<bool>()) << status.out;
        const std::string mode = interface["name"] == MainTopology::kUplink ? "xdp" : "tc";
        EXPECT_EQ(interface["mode"], mode) << status.out;
    }
    ASSERT_EQ(doc["cgroups"].size(), 1U) << status.out;
    EXPECT_TRUE(doc["cgroups"][0]["attached"].get<bool>()) << status.out;
    ExpectTcpReachesContainer(kPublishedTcp, "c1");
    ExpectUdpReachesContainer(kPublishedUdp, "c1");
    ExpectTcpReachesContainer(Endpoint{MainTopology::kHostUplinkAddr, 8081}, "c2");
}

// The shipped systemd unit runs `fwdctl restore` at boot: its ExecStart command, run exactly as
// written (the installed fwdctl path replaced by the binary under test, the dirs given through
// FWD_STATE_DIR and FWD_PIN_DIR as the unit's EnvironmentFile would), brings the mappings back
// after a reboot. `systemd-analyze verify` accepts the unit where it is installed.
TEST_F(Reliability, SystemdUnitRestoresTheMappingsAfterReboot) {
    const std::string unit = read_file(FWD_RESTORE_UNIT_PATH);
    ASSERT_FALSE(unit.empty()) << "cannot read " << FWD_RESTORE_UNIT_PATH;
    for (const char* line : {"Type=oneshot", "RemainAfterExit=yes", "WantedBy=multi-user.target"})
        EXPECT_NE(unit.find(std::string("\n") + line + "\n"), std::string::npos) << line;
    const std::vector<std::string> exec_start = exec_start_words(unit);
    ASSERT_GE(exec_start.size(), 2U) << "no ExecStart= command in the unit";
    ASSERT_EQ(exec_start[0].front(), '/') << exec_start[0];
    ASSERT_TRUE(exec_start[0].ends_with("/fwdctl")) << exec_start[0];

    ASSERT_NO_FATAL_FAILURE(Attach());
    ASSERT_NO_FATAL_FAILURE(Add("0.0.0.0:80/tcp", "172.30.0.2:8080"));
    StartTcpServer(topo_.c1, 8080, "c1");
    const std::set<MappingRow> mappings = ListedMappings();
    ASSERT_NO_FATAL_FAILURE(SimulateReboot());

    std::vector<std::string> argv = {"nsenter",
                                     "--net=/run/netns/" + topo_.host,
                                     "env",
                                     "FWD_STATE_DIR=" + net_->state_dir(),
                                     "FWD_PIN_DIR=" + net_->pin_dir(),
                                     fwdctl_path()};
    argv.insert(argv.end(), exec_start.begin() + 1, exec_start.end());
    const CommandResult boot = run_command(argv);
    ASSERT_TRUE(boot.ok()) << boot.describe();
    EXPECT_EQ(ListedMappings(), mappings);
    ExpectCheckAgrees();
    ExpectTcpReachesContainer(kPublishedTcp, "c1");

    // systemd-analyze checks ExecStart's binary exists: verify a copy naming the one under test.
    const std::filesystem::path copy =
        std::filesystem::path(net_->state_dir()).parent_path() / "fwd-restore.service";
    std::string verified = unit;
    verified.replace(verified.find(exec_start[0]), exec_start[0].size(), fwdctl_path());
    std::ofstream(copy) << verified;
    const CommandResult verify = run_command({"systemd-analyze", "verify", copy.string()});
    if (verify.exit_code == 127) {
        std::printf("[ note     ] systemd-analyze is not installed: unit not verified\n");
    } else {
        EXPECT_TRUE(verify.ok()) << verify.describe();
        EXPECT_EQ(verify.err, "") << verify.describe();
    }
}

}  // namespace
}  // namespace fwd::test
