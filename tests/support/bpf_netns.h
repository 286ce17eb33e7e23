// A private network namespace for BPF_PROG_TEST_RUN. The wildcard mapping asks the FIB whether
// a destination is local, so programs under test must run where the host's addresses and routes
// are known: the process moves itself into a fresh namespace at start-up (before any thread
// exists) and gives it a device with a host address. Nothing needs cleaning up: the namespace
// vanishes with the process.
//
//     ns (this process)          IPv6 off but on the fwd6 pair, so no other device sends
//                                anything on its own
//       lo        up, 127.0.0.1/8         ifindex 1
//       fwdhost0  veth, up, 10.0.0.1/24   MAC 02:00:00:00:00:01, forwarding on (the FIB helper
//                                         requires it)
//       fwdpeer0  its peer, up, no address, MAC 02:00:00:00:00:02; frames sent out of fwdhost0
//                 arrive here
//       fwd6host0 veth, up, fd00::1/64 (no link-local address, no DAD), MAC 02:00:00:00:06:01,
//                 IPv6 forwarding on; client fd00::9 at 02:00:00:00:00:09 (permanent neighbour)
//       fwd6peer0 its peer, up, IPv6 on, no address, MAC 02:00:00:00:06:02; the container side:
//                 fd00:c::/64 (fd00:c::2 at 02:00:00:00:06:42, permanent neighbour)
//
// The IPv6 pair is apart so that what its devices send on their own (MLD reports) never reaches
// the frames tests capture on fwdpeer0. Nothing captures on the IPv6 pair.
//
// The MACs are fixed so that expected frames of tests that forward (the FIB writes the egress
// device's MAC) can be written down; fwdhost0's is PacketBuilder's default destination. Tests
// add the routes and neighbours they need with ip() and remove them when done.
//
// A veth rather than a dummy device: the kernels this runs on need not have the dummy driver,
// while fwd needs veth anyway. The peer also lets a test deliver frames for real, for the few
// that BPF_PROG_TEST_RUN refuses to build an skb from.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace fwd::test {

inline constexpr const char* kHostDevice = "fwdhost0";
inline constexpr const char* kPeerDevice = "fwdpeer0";
inline constexpr const char* kHostAddr = "10.0.0.1";
inline constexpr const char* kHostCidr = "10.0.0.1/24";
inline constexpr const char* kHostMac = "02:00:00:00:00:01";
inline constexpr const char* kPeerMac = "02:00:00:00:00:02";
inline constexpr int kLoopbackIfindex = 1;
inline constexpr const char* kHost6Device = "fwd6host0";
inline constexpr const char* kPeer6Device = "fwd6peer0";
inline constexpr const char* kHost6Addr = "fd00::1";
inline constexpr const char* kHost6Mac = "02:00:00:00:06:01";
inline constexpr const char* kPeer6Mac = "02:00:00:00:06:02";
inline constexpr const char* kClient6Addr = "fd00::9";  // a permanent neighbour of fwd6host0
inline constexpr const char* kClient6Mac = "02:00:00:00:00:09";
inline constexpr const char* kRoutedContainer6Addr = "fd00:c::2";  // behind fwd6peer0
inline constexpr const char* kRoutedContainer6Mac = "02:00:00:00:06:42";

class BpfNetns {
public:
    enum class State { NotEntered, Ready, NotRoot, Failed };

    struct Status {
        State state = State::NotEntered;
        std::string detail;    // why it is not Ready
        int host_ifindex = 0;  // ifindex of kHostDevice when Ready
        int peer_ifindex = 0;  // ifindex of kPeerDevice when Ready
        int host6_ifindex = 0;  // ifindex of kHost6Device when Ready
        int peer6_ifindex = 0;  // ifindex of kPeer6Device when Ready
    };

    // Unshares the network namespace of the calling process and sets it up; call once from
    // main() before any thread starts. Without root it does nothing and reports NotRoot.
    static const Status& enter();

    // The outcome of enter(); NotEntered if it was never called.
    [[nodiscard]] static const Status& status();

    // Sends a whole Ethernet frame out of kHostDevice as is (AF_PACKET); the kernel hands it to
    // kPeerDevice's receive path, TC ingress first. Returns "" or what failed.
    [[nodiscard]] static std::string send_to_peer(std::span<const uint8_t> frame);

    // Runs `ip ARGS...` in this namespace (routes, neighbours). Returns "" or what failed.
    [[nodiscard]] static std::string ip(std::vector<std::string> args);

    // This namespace's IPv4 InHdrErrors counter (/proc/net/snmp): packets the IP layer received
    // and dropped for a bad header. nullopt if it cannot be read.
    [[nodiscard]] static std::optional<uint64_t> ipv4_in_hdr_errors();

private:
    static Status status_;
};

// Copies of the frames a device of this namespace receives, from the moment it is opened (an
// AF_PACKET socket bound to the device; what the device sends is ignored). Closes the socket
// when it goes.
//
// Open it on the device that receives what is under test, not on the device whose TC program is
// under test: a packet socket there gets every received skb cloned, and a TC program that writes
// packet data unclones it first, which drops XDP metadata (seen on Linux 6.18).
class RxCapture {
public:
    static std::unique_ptr<RxCapture> open(int ifindex, std::string* error);

    RxCapture(const RxCapture&) = delete;
    RxCapture& operator=(const RxCapture&) = delete;
    ~RxCapture();

    // The next frame the device received, waiting at most `timeout` for it; nullopt if none came.
    [[nodiscard]] std::optional<std::vector<uint8_t>> next(std::chrono::milliseconds timeout);

private:
    RxCapture(int fd, int ifindex) : fd_(fd), ifindex_(ifindex) {}

    int fd_;
    int ifindex_;
};

}  // namespace fwd::test
