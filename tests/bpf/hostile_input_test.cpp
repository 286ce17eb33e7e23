// A corpus of malformed packets through both TC programs and the XDP program: every frame that
// matches a mapping or a tracked flow (TCP with and without IP options, UDP, ICMP errors
// quoting TCP and UDP), cut at every byte from the end of the fixed IPv4 header to one byte
// short of whole, then with bad length fields and bad header lengths. None may be rewritten or
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
constexpr size_t kFixedHeaders = kEthHeaderLen + kIpv4HeaderLen;

// A frame and the program it goes through.
struct Sample {
    std::string what;
    BpfDatapath::Prog prog;
    Bytes frame;
};

Bytes ip_packet_of(const Bytes& frame) {
    return {frame.begin() + kEthHeaderLen, frame.end()};
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
    return {
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
}

// Every cut of `sample` from the end of the fixed IPv4 header to one byte short of whole (the
// IPv4 total length still claims the whole packet).
std::vector<Sample> truncations(const Sample& sample) {
    std::vector<Sample> cuts;
    for (size_t len = kFixedHeaders; len < sample.frame.size(); ++len) {
        cuts.push_back({sample.what + " cut to " + std::to_string(len) + " bytes", sample.prog,
                        Bytes(sample.frame.begin(), sample.frame.begin() + len)});
    }
    return cuts;
}

void set_be16(Bytes& frame, size_t offset, uint16_t value) {
    frame[offset] = static_cast<uint8_t>(value >> 8);
    frame[offset + 1] = static_cast<uint8_t>(value & 0xff);
}

// Bad length fields and header lengths: an IPv4 total length longer than the frame or shorter
// than the headers, IHL below 5 or past the packet, a UDP length past the datagram.
std::vector<Sample> bad_lengths(const Sample& sample) {
    std::vector<Sample> bad;
    const size_t ip = kEthHeaderLen;
    const auto with = [&](const std::string& what, auto&& edit) {
        Bytes frame = sample.frame;
        edit(frame);
        bad.push_back({sample.what + " with " + what, sample.prog, std::move(frame)});
    };
    const auto tot_len = static_cast<uint16_t>(sample.frame.size() - kEthHeaderLen);
    with("tot_len one past the frame", [&](Bytes& f) { set_be16(f, ip + 2, tot_len + 1); });
    with("tot_len 0xffff", [&](Bytes& f) { set_be16(f, ip + 2, 0xffff); });
    with("tot_len below the IPv4 header", [&](Bytes& f) { set_be16(f, ip + 2, 19); });
    with("tot_len 0", [&](Bytes& f) { set_be16(f, ip + 2, 0); });
    for (const uint8_t ihl : std::initializer_list<uint8_t>{0, 1, 4, 15}) {
        with("IHL " + std::to_string(ihl),
             [&](Bytes& f) { f[ip] = static_cast<uint8_t>((f[ip] & 0xf0) | ihl); });
    }
    with("IP version 6 in an IPv4 frame", [&](Bytes& f) { f[ip] = static_cast<uint8_t>(0x60 | (f[ip] & 0x0f)); });
    const size_t ihl_bytes = (sample.frame[ip] & 0x0fu) * 4u;
    if (sample.frame[ip + 9] == kIpProtoUdp) {
        const size_t udp = ip + ihl_bytes;
        with("UDP length past the datagram", [&](Bytes& f) { set_be16(f, udp + 4, 0xfff0); });
        with("UDP length below its header", [&](Bytes& f) { set_be16(f, udp + 4, 7); });
    }
    if (sample.frame[ip + 9] == kIpProtoTcp) {
        const size_t tcp = ip + ihl_bytes;
        with("TCP data offset 4", [&](Bytes& f) { f[tcp + 12] = 4 << 4; });
    }
    return bad;
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
        for (const ConntrackEntry& flow :
             {ConntrackEntry{kContainer, kContainerTcpPort, kClient, kClientPort, kIpProtoTcp,
                             kHostAddr, kHostTcpPort, 1},
              ConntrackEntry{kContainer, kContainerUdpPort, kClient, kClientPort, kIpProtoUdp,
                             kHostAddr, kHostUdpPort, 2}}) {
            ASSERT_NO_FATAL_FAILURE(datapath_->add_conntrack(flow, now));
        }
    }

    // Runs the sample; a failure message names it. Returns false if it was rewritten, dropped
    // or redirected.
    static bool passes_untouched(const Sample& sample) {
        const int ifindex = BpfNetns::status().host_ifindex;
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
        const int ifindex = BpfNetns::status().host_ifindex;
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
    RecordProperty("malformed_frames", static_cast<int>(corpus.size()));
    std::printf("[ corpus   ] %zu malformed frames, %zu passed untouched\n", corpus.size(),
                untouched);
}

}  // namespace
}  // namespace fwd::test
