// A private network namespace for BPF_PROG_TEST_RUN. The wildcard mapping asks the FIB whether
// a destination is local, so programs under test must run where the host's addresses and routes
// are known: the process moves itself into a fresh namespace at start-up (before any thread
// exists) and gives it a device with a host address. Nothing needs cleaning up: the namespace
// vanishes with the process.
//
//     ns (this process)          IPv6 off, so no device sends anything on its own
//       lo        up, 127.0.0.1/8         ifindex 1
//       fwdhost0  veth, up, 10.0.0.1/24   forwarding on (the FIB helper requires it)
//       fwdpeer0  its peer, up, no address; frames sent out of fwdhost0 arrive here
//
// A veth rather than a dummy device: the kernels this runs on need not have the dummy driver,
// while fwd needs veth anyway. The peer also lets a test deliver frames for real, for the few
// that BPF_PROG_TEST_RUN refuses to build an skb from.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace fwd::test {

inline constexpr const char* kHostDevice = "fwdhost0";
inline constexpr const char* kPeerDevice = "fwdpeer0";
inline constexpr const char* kHostAddr = "10.0.0.1";
inline constexpr const char* kHostCidr = "10.0.0.1/24";
inline constexpr int kLoopbackIfindex = 1;

class BpfNetns {
public:
    enum class State { NotEntered, Ready, NotRoot, Failed };

    struct Status {
        State state = State::NotEntered;
        std::string detail;    // why it is not Ready
        int host_ifindex = 0;  // ifindex of kHostDevice when Ready
        int peer_ifindex = 0;  // ifindex of kPeerDevice when Ready
    };

    // Unshares the network namespace of the calling process and sets it up; call once from
    // main() before any thread starts. Without root it does nothing and reports NotRoot.
    static const Status& enter();

    // The outcome of enter(); NotEntered if it was never called.
    [[nodiscard]] static const Status& status();

    // Sends a whole Ethernet frame out of kHostDevice as is (AF_PACKET); the kernel hands it to
    // kPeerDevice's receive path, TC ingress first. Returns "" or what failed.
    [[nodiscard]] static std::string send_to_peer(std::span<const uint8_t> frame);

    // This namespace's IPv4 InHdrErrors counter (/proc/net/snmp): packets the IP layer received
    // and dropped for a bad header. nullopt if it cannot be read.
    [[nodiscard]] static std::optional<uint64_t> ipv4_in_hdr_errors();

private:
    static Status status_;
};

}  // namespace fwd::test
