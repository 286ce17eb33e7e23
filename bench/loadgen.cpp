// loadgen: the traffic side of the network benchmark (bench/netbench/run.sh). Plain POSIX
// sockets, one JSON object on stdout per client run, errors on stderr.
//
//   loadgen serve --port P [--addr A] [--udp] [--threads T] [--seconds S]
//       TCP: echo server (epoll, one SO_REUSEPORT listener per thread); --udp: datagram echo.
//   loadgen crr --addr A --port P --seconds S --conns N [--parallel K] [--size B]
//       new connections: connect, send B bytes, read B bytes back, close; K threads, at most N
//       connections and S seconds in all. Reports connections/s and per-connection latency.
//   loadgen rr --addr A --port P --seconds S [--count N] [--size B]
//       request/response on one persistent connection (TCP_NODELAY); p50/p90/p99 round trip.
//   loadgen udp-send --addr A --port P --seconds S [--count N] [--size B] [--batch K]
//       datagrams of B payload bytes as fast as sendmmsg() takes them.
//   loadgen udp-recv --port P --seconds S [--addr A] [--idle-ms M]
//       counts datagrams; stops M ms after the last one (once any arrived) or after S seconds.
//
// An address A is IPv4 or IPv6 text ("10.0.0.1", "fd00::1"); servers bind 0.0.0.0 unless given
// one, so an IPv6 server is a second process with --addr ::.
//
// Every loop is bounded by time and by count; every blocking call has a timeout.
#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

namespace fwd::bench {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kIoTimeoutMs = 2000;            // any single blocking socket call
constexpr int kMaxErrors = 1000;              // a client gives up after this many failures
constexpr uint64_t kMaxSamples = 20'000'000;  // latency samples kept per run (memory bound)
constexpr size_t kMaxSize = 65000;            // payload bytes per request or datagram
constexpr int kMaxThreads = 64;
constexpr double kMaxSeconds = 24 * 3600;

[[noreturn]] void usage(const std::string& what) {
    std::fprintf(stderr, "loadgen: %s\n", what.c_str());
    std::fprintf(stderr,
                 "usage: loadgen serve --port P [--addr A] [--udp] [--threads T] [--seconds S]\n"
                 "       loadgen crr --addr A --port P --seconds S --conns N [--parallel K] "
                 "[--size B]\n"
                 "       loadgen rr --addr A --port P --seconds S [--count N] [--size B]\n"
                 "       loadgen udp-send --addr A --port P --seconds S [--count N] [--size B] "
                 "[--batch K]\n"
                 "       loadgen udp-recv --port P --seconds S [--addr A] [--idle-ms M]\n"
                 "A is an IPv4 or IPv6 address (10.0.0.1, fd00::1)\n");
    std::exit(2);
}

[[noreturn]] void die(const std::string& what) {
    std::fprintf(stderr, "loadgen: %s\n", what.c_str());
    std::exit(1);
}

std::string errno_text(std::string_view call) {
    return fmt::format("{}: {}", call, std::strerror(errno));
}

// --key value pairs and bare --flags, checked against what the command accepts.
class Args {
public:
    Args(int argc, char** argv, int first, const std::vector<std::string>& valued,
         const std::vector<std::string>& flags) {
        for (int i = first; i < argc; ++i) {
            const std::string key = argv[i];
            if (std::find(flags.begin(), flags.end(), key) != flags.end()) {
                values_[key] = "1";
            } else if (std::find(valued.begin(), valued.end(), key) != valued.end()) {
                if (i + 1 >= argc) usage(fmt::format("{} needs a value", key));
                values_[key] = argv[++i];
            } else {
                usage(fmt::format("unknown argument '{}'", key));
            }
        }
    }

    [[nodiscard]] bool has(const std::string& key) const { return values_.count(key) != 0; }

    [[nodiscard]] std::string text(const std::string& key,
                                   const std::optional<std::string>& fallback) const {
        const auto it = values_.find(key);
        if (it != values_.end()) return it->second;
        if (!fallback) usage(fmt::format("{} is required", key));
        return *fallback;
    }

    [[nodiscard]] uint64_t number(const std::string& key, std::optional<uint64_t> fallback,
                                  uint64_t lo, uint64_t hi) const {
        const auto it = values_.find(key);
        if (it == values_.end()) {
            if (!fallback) usage(fmt::format("{} is required", key));
            return *fallback;
        }
        char* end = nullptr;
        errno = 0;
        const unsigned long long value = std::strtoull(it->second.c_str(), &end, 10);
        if (errno != 0 || end == it->second.c_str() || *end != '\0' || value < lo || value > hi) {
            usage(fmt::format("{} must be a number in {}..{}", key, lo, hi));
        }
        return value;
    }

    [[nodiscard]] double seconds(const std::string& key, std::optional<double> fallback) const {
        const auto it = values_.find(key);
        if (it == values_.end()) {
            if (!fallback) usage(fmt::format("{} is required", key));
            return *fallback;
        }
        char* end = nullptr;
        const double value = std::strtod(it->second.c_str(), &end);
        if (end == it->second.c_str() || *end != '\0' || !(value > 0) || value > kMaxSeconds) {
            usage(fmt::format("{} must be a positive number of seconds", key));
        }
        return value;
    }

private:
    std::map<std::string, std::string> values_;
};

// An IPv4 or IPv6 socket address, parsed from bare address text ("10.0.0.1", "fd00::1").
struct SockAddr {
    sockaddr_storage storage{};
    socklen_t len = 0;

    [[nodiscard]] int family() const { return storage.ss_family; }
    [[nodiscard]] const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
};

SockAddr make_addr(const std::string& addr, uint64_t port) {
    SockAddr sa;
    const auto port_be = htons(static_cast<uint16_t>(port));
    auto* v4 = reinterpret_cast<sockaddr_in*>(&sa.storage);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&sa.storage);
    if (inet_pton(AF_INET, addr.c_str(), &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = port_be;
        sa.len = sizeof(sockaddr_in);
    } else if (inet_pton(AF_INET6, addr.c_str(), &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = port_be;
        sa.len = sizeof(sockaddr_in6);
    } else {
        usage(fmt::format("'{}' is not an IPv4 or IPv6 address", addr));
    }
    return sa;
}

// Owns one descriptor.
class Fd {
public:
    explicit Fd(int fd = -1) : fd_(fd) {}
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    Fd(Fd&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
    Fd& operator=(Fd&& other) noexcept {
        if (this != &other) {
            reset();
            fd_ = other.fd_;
            other.fd_ = -1;
        }
        return *this;
    }
    ~Fd() { reset(); }

    [[nodiscard]] int get() const { return fd_; }
    void reset() {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }

private:
    int fd_;
};

void set_int_opt(int fd, int level, int name, int value) {
    // Best effort: the options only tune the run, none of them is needed for correctness.
    (void)::setsockopt(fd, level, name, &value, sizeof(value));
}

// A socket of the address's family. IPv6 sockets are IPv6 only, so that an IPv6 server on [::]
// and an IPv4 server on 0.0.0.0 can share a port and IPv4 is never carried as mapped IPv6.
Fd socket_for(const SockAddr& sa, int type) {
    Fd fd(::socket(sa.family(), type | SOCK_CLOEXEC, 0));
    if (fd.get() >= 0 && sa.family() == AF_INET6) {
        set_int_opt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, 1);
    }
    return fd;
}

void set_timeouts(int fd, int ms) {
    timeval tv{};
    tv.tv_sec = ms / 1000;
    tv.tv_usec = static_cast<suseconds_t>((ms % 1000) * 1000);
    (void)::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    (void)::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

Clock::time_point deadline_after(double seconds) {
    return Clock::now() +
           std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
}

// Sends all of buf or fails (timeouts come from SO_SNDTIMEO).
bool send_all(int fd, const char* buf, size_t len) {
    size_t done = 0;
    while (done < len) {
        const ssize_t n = ::send(fd, buf + done, len - done, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        done += static_cast<size_t>(n);
    }
    return true;
}

// Reads exactly len bytes or fails (EOF, error, or SO_RCVTIMEO).
bool recv_all(int fd, char* buf, size_t len) {
    size_t done = 0;
    while (done < len) {
        const ssize_t n = ::recv(fd, buf + done, len - done, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n == 0) errno = 0;  // EOF: the caller reports "connection closed"
        if (n <= 0) return false;
        done += static_cast<size_t>(n);
    }
    return true;
}

struct Percentiles {
    double p50_us = 0;
    double p90_us = 0;
    double p99_us = 0;
    double mean_us = 0;
    double max_us = 0;
};

// Nanosecond samples to microsecond percentiles (nearest rank).
Percentiles percentiles(std::vector<uint64_t>& ns) {
    Percentiles p;
    if (ns.empty()) return p;
    std::sort(ns.begin(), ns.end());
    const auto rank = [&](double q) {
        const auto idx = static_cast<size_t>(std::lround(q * static_cast<double>(ns.size() - 1)));
        return static_cast<double>(ns[std::min(idx, ns.size() - 1)]) / 1000.0;
    };
    p.p50_us = rank(0.50);
    p.p90_us = rank(0.90);
    p.p99_us = rank(0.99);
    long double sum = 0;
    for (const uint64_t v : ns) sum += v;
    p.mean_us = static_cast<double>(sum / static_cast<long double>(ns.size())) / 1000.0;
    p.max_us = static_cast<double>(ns.back()) / 1000.0;
    return p;
}

std::string json_string(std::string_view text) {
    std::string out = "\"";
    for (const char c : text) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (static_cast<unsigned char>(c) < 0x20) {
            out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
        } else {
            out += c;
        }
    }
    return out + "\"";
}

// ---- serve ------------------------------------------------------------------------------------

Fd listen_tcp(const SockAddr& sa) {
    Fd fd = socket_for(sa, SOCK_STREAM | SOCK_NONBLOCK);
    if (fd.get() < 0) die(errno_text("socket"));
    set_int_opt(fd.get(), SOL_SOCKET, SO_REUSEADDR, 1);
    set_int_opt(fd.get(), SOL_SOCKET, SO_REUSEPORT, 1);
    if (::bind(fd.get(), sa.get(), sa.len) != 0) die(errno_text("bind"));
    if (::listen(fd.get(), 4096) != 0) die(errno_text("listen"));
    return fd;
}

// A request that starts with this byte asks the server to close the connection after the
// reply (crr): the server then sends the first FIN and keeps the TIME_WAIT, as an HTTP/1.0
// server does, so the client's ephemeral ports are free again at once.
constexpr char kCloseAfterReply = 'C';
constexpr char kEndOfRequest = '\n';

struct ServerConn {
    std::string out;  // reply bytes the socket did not take yet
    uint64_t received = 0;
    bool close_after = false;   // the first byte was kCloseAfterReply
    bool request_done = false;  // saw kEndOfRequest
};

// One epoll loop: accept, echo whatever arrives, close on EOF or error, or after the reply when
// the request asked for it. Output the socket does not take at once waits for EPOLLOUT.
void serve_tcp_thread(const SockAddr& sa, Clock::time_point deadline) {
    const Fd listener = listen_tcp(sa);
    const Fd ep(::epoll_create1(EPOLL_CLOEXEC));
    if (ep.get() < 0) die(errno_text("epoll_create1"));
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = listener.get();
    if (::epoll_ctl(ep.get(), EPOLL_CTL_ADD, listener.get(), &ev) != 0) die(errno_text("epoll"));

    std::unordered_map<int, ServerConn> conns;
    std::vector<char> buf(kMaxSize);
    std::vector<epoll_event> events(256);
    const auto drop = [&](int fd) {
        conns.erase(fd);
        ::close(fd);  // also removes it from the epoll set
    };
    const auto watch = [&](int fd, uint32_t what) {
        epoll_event cev{};
        cev.events = what;
        cev.data.fd = fd;
        (void)::epoll_ctl(ep.get(), EPOLL_CTL_MOD, fd, &cev);
    };
    // Writes what is pending; closes when the reply is out and the request asked for that.
    const auto flush = [&](int fd, ServerConn& conn) {
        if (!conn.out.empty()) {
            const ssize_t w = ::send(fd, conn.out.data(), conn.out.size(), MSG_NOSIGNAL);
            if (w < 0 && errno != EAGAIN) {
                drop(fd);
                return;
            }
            conn.out.erase(0, w > 0 ? static_cast<size_t>(w) : 0);
        }
        if (!conn.out.empty()) {
            watch(fd, EPOLLIN | EPOLLOUT);
        } else if (conn.close_after && conn.request_done) {
            drop(fd);
        } else {
            watch(fd, EPOLLIN);
        }
    };
    while (Clock::now() < deadline) {
        const int n = ::epoll_wait(ep.get(), events.data(), static_cast<int>(events.size()), 200);
        if (n < 0 && errno != EINTR) die(errno_text("epoll_wait"));
        for (int i = 0; i < n; ++i) {
            const int fd = events[static_cast<size_t>(i)].data.fd;
            if (fd == listener.get()) {
                for (int k = 0; k < 256; ++k) {  // bounded accept burst
                    const int c =
                        ::accept4(listener.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
                    if (c < 0) break;
                    set_int_opt(c, IPPROTO_TCP, TCP_NODELAY, 1);
                    epoll_event cev{};
                    cev.events = EPOLLIN;
                    cev.data.fd = c;
                    if (::epoll_ctl(ep.get(), EPOLL_CTL_ADD, c, &cev) != 0) {
                        ::close(c);
                    } else {
                        conns[c] = ServerConn{};
                    }
                }
                continue;
            }
            const auto it = conns.find(fd);
            if (it == conns.end()) continue;  // closed earlier in this batch
            ServerConn& conn = it->second;
            if ((events[static_cast<size_t>(i)].events & EPOLLOUT) != 0) {
                flush(fd, conn);
                continue;
            }
            const ssize_t r = ::recv(fd, buf.data(), buf.size(), 0);
            if (r == 0 || (r < 0 && errno != EAGAIN)) {
                drop(fd);
                continue;
            }
            if (r < 0) continue;
            const auto len = static_cast<size_t>(r);
            if (conn.received == 0 && buf[0] == kCloseAfterReply) conn.close_after = true;
            conn.received += len;
            if (buf[len - 1] == kEndOfRequest) conn.request_done = true;
            conn.out.append(buf.data(), len);
            flush(fd, conn);
        }
    }
    for (const auto& [fd, conn] : conns) ::close(fd);
}

void serve_udp_thread(const SockAddr& sa, Clock::time_point deadline) {
    const Fd fd = socket_for(sa, SOCK_DGRAM);
    if (fd.get() < 0) die(errno_text("socket"));
    set_int_opt(fd.get(), SOL_SOCKET, SO_REUSEPORT, 1);
    if (::bind(fd.get(), sa.get(), sa.len) != 0) die(errno_text("bind"));
    set_timeouts(fd.get(), 200);
    std::vector<char> buf(kMaxSize);
    while (Clock::now() < deadline) {
        sockaddr_storage peer{};
        socklen_t len = sizeof(peer);
        const ssize_t r = ::recvfrom(fd.get(), buf.data(), buf.size(), 0,
                                     reinterpret_cast<sockaddr*>(&peer), &len);
        if (r < 0) continue;  // timeout: look at the deadline again
        (void)::sendto(fd.get(), buf.data(), static_cast<size_t>(r), 0,
                       reinterpret_cast<sockaddr*>(&peer), len);
    }
}

int cmd_serve(const Args& args) {
    const SockAddr sa =
        make_addr(args.text("--addr", "0.0.0.0"), args.number("--port", std::nullopt, 1, 65535));
    const auto threads = static_cast<int>(args.number("--threads", 1, 1, kMaxThreads));
    const Clock::time_point deadline = deadline_after(args.seconds("--seconds", 3600));
    const bool udp = args.has("--udp");
    std::vector<std::thread> pool;
    pool.reserve(static_cast<size_t>(threads));
    for (int i = 0; i < threads; ++i) {
        pool.emplace_back([&] {
            if (udp) {
                serve_udp_thread(sa, deadline);
            } else {
                serve_tcp_thread(sa, deadline);
            }
        });
    }
    for (auto& t : pool) t.join();
    return 0;
}

// ---- crr --------------------------------------------------------------------------------------

struct CrrShared {
    std::atomic<uint64_t> started{0};
    std::atomic<uint64_t> done{0};
    std::atomic<int> errors{0};
    std::mutex mutex;
    std::string first_error;
    std::vector<uint64_t> samples;
};

void crr_thread(const SockAddr& sa, size_t size, uint64_t max_conns, Clock::time_point deadline,
                CrrShared& shared) {
    std::string out(std::max<size_t>(size, 2), 'q');
    out.front() = kCloseAfterReply;
    out.back() = kEndOfRequest;
    std::vector<char> in(out.size());
    std::vector<uint64_t> samples;
    const auto fail = [&](std::string what) {
        shared.errors.fetch_add(1);
        const std::lock_guard lock(shared.mutex);
        if (shared.first_error.empty()) shared.first_error = std::move(what);
    };
    while (Clock::now() < deadline && shared.errors.load() < kMaxErrors) {
        if (shared.started.fetch_add(1) >= max_conns) break;
        const auto t0 = Clock::now();
        const Fd fd = socket_for(sa, SOCK_STREAM);
        if (fd.get() < 0) {
            fail(errno_text("socket"));
            continue;
        }
        set_timeouts(fd.get(), kIoTimeoutMs);
        set_int_opt(fd.get(), IPPROTO_TCP, TCP_NODELAY, 1);
        if (::connect(fd.get(), sa.get(), sa.len) != 0) {
            fail(errno_text("connect"));
            continue;
        }
        if (!send_all(fd.get(), out.data(), out.size())) {
            fail(errno_text("send"));
            continue;
        }
        if (!recv_all(fd.get(), in.data(), in.size())) {
            fail(errno != 0 ? errno_text("recv") : std::string("recv: connection closed"));
            continue;
        }
        char extra = 0;
        if (::recv(fd.get(), &extra, 1, 0) != 0) {  // the server closes first (kCloseAfterReply)
            fail(std::string("recv: the server did not close after its reply"));
            continue;
        }
        const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0);
        if (samples.size() < kMaxSamples) samples.push_back(static_cast<uint64_t>(ns.count()));
        shared.done.fetch_add(1);
    }
    const std::lock_guard lock(shared.mutex);
    shared.samples.insert(shared.samples.end(), samples.begin(), samples.end());
}

int cmd_crr(const Args& args) {
    const SockAddr sa =
        make_addr(args.text("--addr", std::nullopt), args.number("--port", std::nullopt, 1, 65535));
    const double seconds = args.seconds("--seconds", std::nullopt);
    const uint64_t max_conns = args.number("--conns", std::nullopt, 1, UINT64_MAX);
    const auto parallel = static_cast<int>(args.number("--parallel", 1, 1, kMaxThreads));
    const size_t size = args.number("--size", 64, 2, kMaxSize);

    CrrShared shared;
    const auto start = Clock::now();
    const Clock::time_point deadline = deadline_after(seconds);
    std::vector<std::thread> pool;
    pool.reserve(static_cast<size_t>(parallel));
    for (int i = 0; i < parallel; ++i) {
        pool.emplace_back([&] { crr_thread(sa, size, max_conns, deadline, shared); });
    }
    for (auto& t : pool) t.join();
    const double elapsed = seconds_since(start);
    const uint64_t done = shared.done.load();
    const Percentiles p = percentiles(shared.samples);
    fmt::print(
        "{{\"test\": \"crr\", \"conns\": {}, \"errors\": {}, \"seconds\": {:.3f}, "
        "\"conns_per_s\": {:.1f}, \"parallel\": {}, \"size\": {}, \"p50_us\": {:.1f}, "
        "\"p99_us\": {:.1f}, \"first_error\": {}}}\n",
        done, shared.errors.load(), elapsed, static_cast<double>(done) / elapsed, parallel, size,
        p.p50_us, p.p99_us, json_string(shared.first_error));
    return done > 0 ? 0 : 1;
}

// ---- rr ---------------------------------------------------------------------------------------

int cmd_rr(const Args& args) {
    const SockAddr sa =
        make_addr(args.text("--addr", std::nullopt), args.number("--port", std::nullopt, 1, 65535));
    const double seconds = args.seconds("--seconds", std::nullopt);
    const uint64_t max_count = args.number("--count", kMaxSamples, 1, kMaxSamples);
    const size_t size = args.number("--size", 64, 1, kMaxSize);

    const Fd fd = socket_for(sa, SOCK_STREAM);
    if (fd.get() < 0) die(errno_text("socket"));
    set_timeouts(fd.get(), kIoTimeoutMs);
    set_int_opt(fd.get(), IPPROTO_TCP, TCP_NODELAY, 1);
    if (::connect(fd.get(), sa.get(), sa.len) != 0) die(errno_text("connect"));

    std::vector<char> out(size, 'r');
    std::vector<char> in(size);
    std::vector<uint64_t> samples;
    samples.reserve(static_cast<size_t>(std::min<uint64_t>(max_count, 1'000'000)));
    std::string error;
    const auto start = Clock::now();
    const Clock::time_point deadline = deadline_after(seconds);
    while (samples.size() < max_count && Clock::now() < deadline) {
        const auto t0 = Clock::now();
        if (!send_all(fd.get(), out.data(), out.size())) {
            error = errno_text("send");
            break;
        }
        if (!recv_all(fd.get(), in.data(), in.size())) {
            error = errno != 0 ? errno_text("recv") : std::string("recv: connection closed");
            break;
        }
        const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0);
        samples.push_back(static_cast<uint64_t>(ns.count()));
    }
    const double elapsed = seconds_since(start);
    const size_t count = samples.size();
    const Percentiles p = percentiles(samples);
    fmt::print(
        "{{\"test\": \"rr\", \"transactions\": {}, \"seconds\": {:.3f}, \"per_s\": {:.1f}, "
        "\"size\": {}, \"p50_us\": {:.1f}, \"p90_us\": {:.1f}, \"p99_us\": {:.1f}, "
        "\"mean_us\": {:.1f}, \"max_us\": {:.1f}, \"error\": {}}}\n",
        count, elapsed, static_cast<double>(count) / elapsed, size, p.p50_us, p.p90_us, p.p99_us,
        p.mean_us, p.max_us, json_string(error));
    return count > 0 && error.empty() ? 0 : 1;
}

// ---- udp-send / udp-recv ----------------------------------------------------------------------

int cmd_udp_send(const Args& args) {
    const SockAddr sa =
        make_addr(args.text("--addr", std::nullopt), args.number("--port", std::nullopt, 1, 65535));
    const double seconds = args.seconds("--seconds", std::nullopt);
    const uint64_t max_count = args.number("--count", UINT64_MAX, 1, UINT64_MAX);
    const size_t size = args.number("--size", 64, 1, kMaxSize);
    const size_t batch = args.number("--batch", 32, 1, 1024);

    const Fd fd = socket_for(sa, SOCK_DGRAM);
    if (fd.get() < 0) die(errno_text("socket"));
    set_timeouts(fd.get(), kIoTimeoutMs);
    if (::connect(fd.get(), sa.get(), sa.len) != 0) die(errno_text("connect"));

    std::vector<char> payload(size, 'u');
    std::vector<iovec> iov(batch);
    std::vector<mmsghdr> msgs(batch);
    for (size_t i = 0; i < batch; ++i) {
        iov[i].iov_base = payload.data();
        iov[i].iov_len = payload.size();
        msgs[i] = mmsghdr{};
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
    }
    uint64_t sent = 0;
    uint64_t errors = 0;
    std::string first_error;
    const auto start = Clock::now();
    const Clock::time_point deadline = deadline_after(seconds);
    while (sent < max_count && Clock::now() < deadline && errors < kMaxErrors) {
        const auto want = static_cast<unsigned>(std::min<uint64_t>(batch, max_count - sent));
        const int n = ::sendmmsg(fd.get(), msgs.data(), want, 0);
        if (n < 0) {
            // ECONNREFUSED (an ICMP error for an earlier datagram) or ENOBUFS: count, go on.
            if (errno != EINTR) ++errors;
            if (first_error.empty()) first_error = errno_text("sendmmsg");
            continue;
        }
        sent += static_cast<uint64_t>(n);
    }
    const double elapsed = seconds_since(start);
    fmt::print(
        "{{\"test\": \"udp-send\", \"sent\": {}, \"errors\": {}, \"seconds\": {:.3f}, "
        "\"pps\": {:.1f}, \"size\": {}, \"first_error\": {}}}\n",
        sent, errors, elapsed, static_cast<double>(sent) / elapsed, size, json_string(first_error));
    return sent > 0 ? 0 : 1;
}

int cmd_udp_recv(const Args& args) {
    const SockAddr sa =
        make_addr(args.text("--addr", "0.0.0.0"), args.number("--port", std::nullopt, 1, 65535));
    const double seconds = args.seconds("--seconds", std::nullopt);
    const auto idle = std::chrono::milliseconds(args.number("--idle-ms", 500, 10, 60000));
    constexpr size_t kBatch = 64;

    const Fd fd = socket_for(sa, SOCK_DGRAM);
    if (fd.get() < 0) die(errno_text("socket"));
    // As root: a big receive buffer, so that the socket is not what drops datagrams.
    set_int_opt(fd.get(), SOL_SOCKET, SO_RCVBUFFORCE, 32 << 20);
    if (::bind(fd.get(), sa.get(), sa.len) != 0) die(errno_text("bind"));
    set_timeouts(fd.get(), 50);

    std::vector<std::vector<char>> bufs(kBatch, std::vector<char>(kMaxSize));
    std::vector<iovec> iov(kBatch);
    std::vector<mmsghdr> msgs(kBatch);
    uint64_t received = 0;
    uint64_t bytes = 0;
    std::optional<Clock::time_point> first;
    Clock::time_point last;
    const Clock::time_point deadline = deadline_after(seconds);
    while (Clock::now() < deadline) {
        if (first && Clock::now() - last > idle) break;
        for (size_t i = 0; i < kBatch; ++i) {
            iov[i].iov_base = bufs[i].data();
            iov[i].iov_len = bufs[i].size();
            msgs[i] = mmsghdr{};
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
        }
        const int n = ::recvmmsg(fd.get(), msgs.data(), kBatch, MSG_WAITFORONE, nullptr);
        if (n <= 0) continue;  // timeout: look at the deadline and the idle time again
        last = Clock::now();
        if (!first) first = last;
        received += static_cast<uint64_t>(n);
        for (int i = 0; i < n; ++i) bytes += msgs[static_cast<size_t>(i)].msg_len;
    }
    const double window = first ? std::chrono::duration<double>(last - *first).count() : 0.0;
    fmt::print(
        "{{\"test\": \"udp-recv\", \"received\": {}, \"bytes\": {}, \"first_to_last_s\": "
        "{:.3f}}}\n",
        received, bytes, window);
    return 0;
}

int run(int argc, char** argv) {
    if (argc < 2) usage("missing command");
    const std::string cmd = argv[1];
    if (cmd == "serve") {
        return cmd_serve(
            Args(argc, argv, 2, {"--port", "--addr", "--threads", "--seconds"}, {"--udp"}));
    }
    if (cmd == "crr") {
        return cmd_crr(Args(argc, argv, 2,
                            {"--addr", "--port", "--seconds", "--conns", "--parallel", "--size"},
                            {}));
    }
    if (cmd == "rr") {
        return cmd_rr(
            Args(argc, argv, 2, {"--addr", "--port", "--seconds", "--count", "--size"}, {}));
    }
    if (cmd == "udp-send") {
        return cmd_udp_send(Args(
            argc, argv, 2, {"--addr", "--port", "--seconds", "--count", "--size", "--batch"}, {}));
    }
    if (cmd == "udp-recv") {
        return cmd_udp_recv(
            Args(argc, argv, 2, {"--addr", "--port", "--seconds", "--idle-ms"}, {}));
    }
    usage(fmt::format("unknown command '{}'", cmd));
}

}  // namespace
}  // namespace fwd::bench

int main(int argc, char** argv) {
    return fwd::bench::run(argc, argv);
}
