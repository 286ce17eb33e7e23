// A corpus of malformed packets through both TC programs and the XDP program: every frame that
// matches a mapping or a tracked flow (IPv4 and IPv6; TCP with and without IP options or
// extension headers, UDP, ICMP and ICMPv6 errors quoting TCP and UDP), cut at every byte from
// the end of the fixed IP header to one byte short of whole (BPF_PROG_TEST_RUN refuses shorter
// ones), then with bad length fields and bad header lengths. None may be rewritten or
// dropped: each passes byte for byte, and no translation counter moves. The table tests in
// tc_nat_test.cpp and xdp_fast_path_test.cpp check the counter each case lands in; this file
// checks the corpus as a whole (and prints its size).
#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include <cstddef>
#include <cstdio>
#include <initializer_list>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "fwd_abi.h"
#include "support/bpf_datapath.h"
#include "support/bpf_netns.h"
#include "support/packet_builder.h"
#include "support/prog_runner.h"

namespace fwd::test {
namespace {

constexpr const char* kClient = "10.0.0.9";
constexpr const char* kContainer = "172.17.0.2";
constexpr uint16_t kClientPort = 40000;
constexpr uint16_t kHostTcpPort = 80;
constexpr uint16_t kHostUdpPort = 5353;
constexpr uint16_t kContainerTcpPort = 8080;
constexpr uint16_t kContainerUdpPort = 53;
constexpr const char* kClient6 = "fd00::9";
constexpr const char* kContainer6 = "fd00:b::2";

// A frame and the program it goes through.
struct Sample {
    std::string what;
    BpfDatapath::Prog prog;
    Bytes frame;
};

// The IPv6 frames of the corpus (XDP leaves IPv6 to TC, so only the TC programs).
std::vector<Sample> translatable_ipv6_frames() {
    using Prog = BpfDatapath::Prog;
    const auto to_host_tcp = [] {
        return PacketBuilder().eth().ipv6(kClient6, kHost6Addr).tcp(kClientPort, kHostTcpPort);
    };
    const auto to_host_udp = [] {
        return PacketBuilder().eth().ipv6(kClient6, kHost6Addr).udp(kClientPort, kHostUdpPort);
    };
    const auto from_container = [] { return PacketBuilder().eth().ipv6(kContainer6, kClient6); };
    const auto delivered = [] { return PacketBuilder().eth().ipv6(kClient6, kContainer6); };
    const auto error_to_client = [](const Bytes& quoted) {
        return PacketBuilder()
            .eth()
            .ipv6(kHost6Addr, kClient6)
            .icmp_error(kIcmp6PacketTooBig, 0, ip_packet_of(quoted), 1280)
            .build();
    };
    return {
        {"IPv6 TCP to the host", Prog::TcIngress, to_host_tcp().syn().payload("hello").build()},
        {"IPv6 UDP to the host", Prog::TcIngress, to_host_udp().payload("query").build()},
        {"IPv6 TCP with extension headers to the host", Prog::TcIngress,
         to_host_tcp().hop_by_hop().routing(0).dest_options().ack().payload("x").build()},
        {"IPv6 TCP reply", Prog::TcEgress,
         from_container().tcp(kContainerTcpPort, kClientPort).ack().payload("welcome").build()},
        {"IPv6 UDP reply", Prog::TcEgress,
         from_container().udp(kContainerUdpPort, kClientPort).payload("answer").build()},
        {"ICMPv6 error quoting TCP", Prog::TcEgress,
         error_to_client(
             delivered().tcp(kClientPort, kContainerTcpPort).ack().payload("data").build())},
        {"ICMPv6 error quoting UDP", Prog::TcEgress,
         error_to_client(delivered().udp(kClientPort, kContainerUdpPort).payload("query").build())},
    };
}

bool is_ipv6_frame(const Bytes& frame) {
    return frame.size() > 13 && frame[12] == 0x86 && frame[13] == 0xdd;
}

// Whole, well-formed frames that a program translates; the corpus is made of their defects.
std::vector<Sample> translatable_frames() {
    using Prog = BpfDatapath::Prog;
    const auto to_host_tcp = [] {
        return PacketBuilder().eth().ipv4(kClient, kHostAddr).tcp(kClientPort, kHostTcpPort);
    };
    const auto to_host_udp = [] {
        return PacketBuilder().eth().ipv4(kClient, kHostAddr).udp(kClientPort, kHostUdpPort);
    };
    const Bytes tcp_in = to_host_tcp().syn().payload("hello").build();
    const Bytes udp_in = to_host_udp().payload("query").build();
    const Bytes tcp_opts_in = to_host_tcp().ip_options({1, 1, 1, 0}).ack().payload("x").build();
    const Bytes tcp_reply = PacketBuilder()
                                .eth()
                                .ipv4(kContainer, kClient)
                                .tcp(kContainerTcpPort, kClientPort)
                                .ack()
                                .payload("welcome")
                                .build();
    const Bytes udp_reply = PacketBuilder()
                                .eth()
                                .ipv4(kContainer, kClient)
                                .udp(kContainerUdpPort, kClientPort)
                                .payload("answer")
                                .build();
    // What the container received, quoted by errors on their way back to the client.
    const Bytes tcp_delivered = PacketBuilder()
                                    .eth()
                                    .ipv4(kClient, kContainer)
                                    .tcp(kClientPort, kContainerTcpPort)
                                    .ack()
                                    .payload("data")
                                    .build();
    const Bytes udp_delivered = PacketBuilder()
                                    .eth()
                                    .ipv4(kClient, kContainer)
                                    .udp(kClientPort, kContainerUdpPort)
                                    .payload("query")
                                    .build();
    const auto error_to_client = [](const Bytes& quoted) {
        return PacketBuilder()
            .eth()
            .ipv4(kHostAddr, kClient)
            .icmp_error(kIcmpDestUnreach, kIcmpFragNeeded, ip_packet_of(quoted), 1280)
            .build();
    };
    std::vector<Sample> samples = {
        {"TCP to the host", Prog::TcIngress, tcp_in},
        {"UDP to the host", Prog::TcIngress, udp_in},
        {"TCP with IP options to the host", Prog::TcIngress, tcp_opts_in},
        {"TCP to the host (XDP)", Prog::XdpIngress, tcp_in},
        {"UDP to the host (XDP)", Prog::XdpIngress, udp_in},
        {"TCP reply", Prog::TcEgress, tcp_reply},
        {"UDP reply", Prog::TcEgress, udp_reply},
        {"ICMP error quoting TCP", Prog::TcEgress, error_to_client(tcp_delivered)},
        {"ICMP error quoting UDP", Prog::TcEgress, error_to_client(udp_delivered)},
    };
    for (auto& sample : translatable_ipv6_frames()) samples.push_back(std::move(sample));
    return samples;
}

// Every cut of `sample` from the end of the fixed IP header to one byte short of whole (the
// IP header's length still claims the whole packet).
std::vector<Sample> truncations(const Sample& sample) {
    std::vector<Sample> cuts;
    const size_t fixed =
        kEthHeaderLen + (is_ipv6_frame(sample.frame) ? kIpv6HeaderLen : kIpv4HeaderLen);
    for (size_t len = fixed; len < sample.frame.size(); ++len) {
        cuts.push_back({sample.what + " cut to " + std::to_string(len) + " bytes", sample.prog,
                        Bytes(sample.frame.begin(), sample.frame.begin() + len)});
    }
    return cuts;
}

void set_be16(Bytes& frame, size_t offset, uint16_t value) {
    frame[offset] = static_cast<uint8_t>(value >> 8);
    frame[offset + 1] = static_cast<uint8_t>(value & 0xff);
}

// The variants of a sample, each its frame with one edit.
class Variants {
public:
    explicit Variants(const Sample& sample) : sample_(sample) {}

    template <typename Edit>
    void with(const std::string& what, Edit&& edit) {
        Bytes frame = sample_.frame;
        edit(frame);
        variants_.push_back({sample_.what + " with " + what, sample_.prog, std::move(frame)});
    }

    [[nodiscard]] std::vector<Sample> take() { return std::move(variants_); }

private:
    const Sample& sample_;
    std::vector<Sample> variants_;
};

// The IPv6 twin of bad_lengths: a payload length past the frame, 0 or ending inside the
// extension or L4 headers, version 4, an extension header longer than the payload, bad L4
// lengths.
std::vector<Sample> bad_ipv6_lengths(const Sample& sample) {
    Variants bad(sample);
    const size_t ip = kEthHeaderLen;
    const auto payload_len = static_cast<uint16_t>(sample.frame.size() - ip - kIpv6HeaderLen);
    bad.with("payload_len one past the frame",
             [&](Bytes& f) { set_be16(f, ip + 4, payload_len + 1); });
    bad.with("payload_len 0xffff", [&](Bytes& f) { set_be16(f, ip + 4, 0xffff); });
    bad.with("payload_len 0", [&](Bytes& f) { set_be16(f, ip + 4, 0); });
    for (const uint16_t len : std::initializer_list<uint16_t>{1, 4, 7, 8, 12}) {
        bad.with("payload_len " + std::to_string(len), [&](Bytes& f) { set_be16(f, ip + 4, len); });
    }
    bad.with("IP version 4 in an IPv6 frame",
             [&](Bytes& f) { f[ip] = static_cast<uint8_t>(0x40 | (f[ip] & 0x0f)); });
    uint8_t next = sample.frame[ip + 6];
    size_t l4 = ip + kIpv6HeaderLen;
    if (next == kIpv6HopByHop) {
        bad.with("a hop-by-hop header longer than the payload",
                 [&](Bytes& f) { f[l4 + 1] = 0xff; });
    }
    while (next == kIpv6HopByHop || next == kIpv6Routing || next == kIpv6DestOptions) {
        next = sample.frame[l4];
        l4 += (sample.frame[l4 + 1] + 1u) * 8u;
    }
    if (next == kIpProtoUdp) {
        bad.with("UDP length past the datagram", [&](Bytes& f) { set_be16(f, l4 + 4, 0xfff0); });
        bad.with("UDP length below its header", [&](Bytes& f) { set_be16(f, l4 + 4, 7); });
        bad.with("UDP checksum 0", [&](Bytes& f) { set_be16(f, l4 + 6, 0); });
    }
    if (next == kIpProtoTcp) {
        bad.with("TCP data offset 4", [&](Bytes& f) { f[l4 + 12] = 4 << 4; });
    }
    return bad.take();
}

// Bad length fields and header lengths: an IPv4 total length longer than the frame or shorter
// than the headers, IHL below 5 or past the packet, a UDP length past the datagram.
std::vector<Sample> bad_lengths(const Sample& sample) {
    if (is_ipv6_frame(sample.frame)) return bad_ipv6_lengths(sample);
    Variants bad(sample);
    const size_t ip = kEthHeaderLen;
    const auto tot_len = static_cast<uint16_t>(sample.frame.size() - kEthHeaderLen);
    bad.with("tot_len one past the frame", [&](Bytes& f) { set_be16(f, ip + 2, tot_len + 1); });
    bad.with("tot_len 0xffff", [&](Bytes& f) { set_be16(f, ip + 2, 0xffff); });
    bad.with("tot_len below the IPv4 header", [&](Bytes& f) { set_be16(f, ip + 2, 19); });
    bad.with("tot_len 0", [&](Bytes& f) { set_be16(f, ip + 2, 0); });
    for (const uint8_t ihl : std::initializer_list<uint8_t>{0, 1, 4, 15}) {
        bad.with("IHL " + std::to_string(ihl),
                 [&](Bytes& f) { f[ip] = static_cast<uint8_t>((f[ip] & 0xf0) | ihl); });
    }
    bad.with("IP version 6 in an IPv4 frame",
             [&](Bytes& f) { f[ip] = static_cast<uint8_t>(0x60 | (f[ip] & 0x0f)); });
    const size_t ihl_bytes = (sample.frame[ip] & 0x0fu) * 4u;
    if (sample.frame[ip + 9] == kIpProtoUdp) {
        const size_t udp = ip + ihl_bytes;
        bad.with("UDP length past the datagram", [&](Bytes& f) { set_be16(f, udp + 4, 0xfff0); });
        bad.with("UDP length below its header", [&](Bytes& f) { set_be16(f, udp + 4, 7); });
    }
    if (sample.frame[ip + 9] == kIpProtoTcp) {
        const size_t tcp = ip + ihl_bytes;
        bad.with("TCP data offset 4", [&](Bytes& f) { f[tcp + 12] = 4 << 4; });
    }
    return bad.take();
}

class HostileInput : public testing::Test {
protected:
    static void SetUpTestSuite() {
        if (BpfNetns::status().state == BpfNetns::State::Ready) {
            datapath_ = BpfDatapath::load(&load_error_);
        }
    }
    static void TearDownTestSuite() { datapath_.reset(); }

    void SetUp() override {
        const auto& netns = BpfNetns::status();
        if (netns.state == BpfNetns::State::NotRoot) {
            GTEST_SKIP() << netns.detail;
        }
        ASSERT_EQ(netns.state, BpfNetns::State::Ready) << netns.detail;
        ASSERT_NE(datapath_, nullptr) << "loading the programs: " << load_error_;
        ASSERT_NO_FATAL_FAILURE(datapath_->reset());
        // Every frame of the corpus would be translated were it whole: a mapping for each
        // forward packet and a live flow for each reply and each quoted packet.
        for (const ServiceEntry& service :
             {ServiceEntry{"0.0.0.0", kHostTcpPort, kIpProtoTcp, kContainer, kContainerTcpPort, 1},
              ServiceEntry{"0.0.0.0", kHostUdpPort, kIpProtoUdp, kContainer, kContainerUdpPort, 2}}) {
            ASSERT_NO_FATAL_FAILURE(datapath_->add_service(service));
        }
        const uint64_t now = coarse_monotonic_ns();
        for (const ServiceEntry& service :
             {ServiceEntry{"::", kHostTcpPort, kIpProtoTcp, kContainer6, kContainerTcpPort, 3},
              ServiceEntry{"::", kHostUdpPort, kIpProtoUdp, kContainer6, kContainerUdpPort, 4}}) {
            ASSERT_NO_FATAL_FAILURE(datapath_->add_service(service));
        }
        for (const ConntrackEntry& flow :
             {ConntrackEntry{kContainer, kContainerTcpPort, kClient, kClientPort, kIpProtoTcp,
                             kHostAddr, kHostTcpPort, 1},
              ConntrackEntry{kContainer, kContainerUdpPort, kClient, kClientPort, kIpProtoUdp,
                             kHostAddr, kHostUdpPort, 2},
              ConntrackEntry{kContainer6, kContainerTcpPort, kClient6, kClientPort, kIpProtoTcp,
                             kHost6Addr, kHostTcpPort, 3},
              ConntrackEntry{kContainer6, kContainerUdpPort, kClient6, kClientPort, kIpProtoUdp,
                             kHost6Addr, kHostUdpPort, 4}}) {
            ASSERT_NO_FATAL_FAILURE(datapath_->add_conntrack(flow, now));
        }
    }

    // The device a sample arrives on: its family's uplink.
    static int ifindex_for(const Sample& sample) {
        return is_ipv6_frame(sample.frame) ? BpfNetns::status().host6_ifindex
                                           : BpfNetns::status().host_ifindex;
    }

    // Runs the sample; a failure message names it. Returns false if it was rewritten, dropped
    // or redirected.
    static bool passes_untouched(const Sample& sample) {
        const int ifindex = ifindex_for(sample);
        if (sample.prog == BpfDatapath::Prog::XdpIngress) {
            const ProgRunner runner(datapath_->prog_fd(sample.prog));
            const XdpRun run =
                runner.run_xdp(sample.frame, ProgRunner::xdp_ctx(ifindex, sample.frame.size()));
            EXPECT_TRUE(run.ok()) << sample.what << ": " << run.error_message();
            EXPECT_EQ(run.retval, static_cast<uint32_t>(XDP_PASS)) << sample.what;
            EXPECT_EQ(run.data, sample.frame) << sample.what << " was rewritten";
            EXPECT_TRUE(run.meta.empty()) << sample.what << " was marked translated";
            return run.ok() && run.retval == XDP_PASS && run.data == sample.frame &&
                   run.meta.empty();
        }
        const ProgRunner runner(datapath_->prog_fd(sample.prog));
        const ProgRun run = runner.run(sample.frame, ProgRunner::tc_ctx(ifindex));
        EXPECT_TRUE(run.ok()) << sample.what << ": " << run.error_message();
        EXPECT_EQ(run.retval, static_cast<uint32_t>(TC_ACT_OK)) << sample.what;
        EXPECT_EQ(run.data, sample.frame) << sample.what << " was rewritten";
        return run.ok() && run.retval == TC_ACT_OK && run.data == sample.frame;
    }

    static std::unique_ptr<BpfDatapath> datapath_;
    static std::string load_error_;
};

std::unique_ptr<BpfDatapath> HostileInput::datapath_;
std::string HostileInput::load_error_;

TEST_F(HostileInput, WholeFramesOfTheCorpusAreTranslated) {
    // The corpus is only meaningful if the frames it cuts up would be translated.
    for (const auto& sample : translatable_frames()) {
        const int ifindex = ifindex_for(sample);
        const ProgRunner runner(datapath_->prog_fd(sample.prog));
        if (sample.prog == BpfDatapath::Prog::XdpIngress) {
            const XdpRun run =
                runner.run_xdp(sample.frame, ProgRunner::xdp_ctx(ifindex, sample.frame.size()));
            ASSERT_TRUE(run.ok()) << run.error_message();
            // A new flow goes to TC; the tracked TCP/UDP flows from the client are translated.
            EXPECT_NE(run.data, sample.frame) << sample.what << " was not translated";
        } else {
            const ProgRun run = runner.run(sample.frame, ProgRunner::tc_ctx(ifindex));
            ASSERT_TRUE(run.ok()) << run.error_message();
            EXPECT_NE(run.data, sample.frame) << sample.what << " was not translated";
        }
    }
}

TEST_F(HostileInput, NoMalformedFrameIsRewrittenOrDropped) {
    std::vector<Sample> corpus;
    for (const auto& sample : translatable_frames()) {
        for (auto& cut : truncations(sample)) corpus.push_back(std::move(cut));
        for (auto& bad : bad_lengths(sample)) corpus.push_back(std::move(bad));
    }
    size_t untouched = 0;
    for (const auto& sample : corpus) {
        untouched += passes_untouched(sample) ? 1 : 0;
    }
    EXPECT_EQ(untouched, corpus.size());
    const Counters counters = datapath_->counters();
    EXPECT_EQ(counters[FWD_CNT_NAT_IN], 0U);
    EXPECT_EQ(counters[FWD_CNT_NAT_OUT], 0U);
    EXPECT_EQ(counters[FWD_CNT_ICMP_ERROR_NAT], 0U);
    EXPECT_EQ(counters[FWD_CNT_CT_CREATED], 0U);
    EXPECT_EQ(counters[FWD_CNT_NAT6_IN], 0U);
    EXPECT_EQ(counters[FWD_CNT_NAT6_OUT], 0U);
    EXPECT_EQ(counters[FWD_CNT_REDIRECT], 0U);
    RecordProperty("malformed_frames", static_cast<int>(corpus.size()));
    std::printf("[ corpus   ] %zu malformed frames, %zu passed untouched\n", corpus.size(),
                untouched);
}

}  // namespace
}  // namespace fwd::test
