// fwd_xdp_ingress and the redirect fast path of fwd_tc_ingress, run for real with
// BPF_PROG_TEST_RUN on packets from PacketBuilder inside this binary's private network namespace
// (main.cpp). The XDP program is loaded on the TC program's private maps (bpf_map__reuse_fd,
// support/bpf_datapath.h), so the two share one state as they do when attached.
//
//   XdpIngressNat   table: map contents, input frame, expected output frame, whether the XDP
//                   metadata carries fwd's mark, exact counter and stats bumps, conntrack as
//                   inserted (XDP never creates or removes entries)
//   TcFastPath      table: TC ingress with the routes and neighbours below: verdict
//                   (TC_ACT_REDIRECT or TC_ACT_OK), output bytes (TTL, MACs), counters, stats and
//                   conntrack; every case on a CHECKSUM_NONE and a CHECKSUM_COMPLETE skb
//   XdpIngressNatRandom, TcFastPathRandom
//                   seeded random flows (addresses, ports, TTL, options, payloads): the hand-made
//                   checksum updates (XDP's L4 and IPv4 sums, TC's TTL) against full recomputation
//   TcFastPathFlow  the same reply before and after the FIB loses its route to the client
//   XdpTcHandover   XDP and TC in turn: one conntrack table for both, and XDP's metadata mark
//                   reaching TC ingress
//
// The mark cannot be handed to TC through BPF_PROG_TEST_RUN: for TC programs it refuses (EINVAL)
// a __sk_buff context with data_meta or data set, so a TC test run never has metadata. The
// handover tests use live frames instead (BPF_F_TEST_XDP_LIVE_FRAMES, Linux 5.18+): a frame the
// XDP program passes becomes an skb carrying the program's metadata and is received by fwdhost0,
// TC ingress first, where fwd_tc_ingress is attached for the test; an RxCapture on fwdpeer0 sees
// what leaves fwdhost0.
//
// Outputs are compared byte for byte (a mismatch prints a decoded field diff) and checked with the
// independent checksum oracle. Topology the fixture adds to support/bpf_netns.h (and removes):
//
//   uplink     fwdhost0 02:00:00:00:00:01  client 10.0.0.20 at 02:00:00:00:00:20 (permanent
//                                           neighbour), client 10.0.0.21 unresolved;
//                                           172.18.2.0/24 (172.18.2.2 at 02:00:00:00:00:44): live
//                                           frames forwarded leave here and die at fwdpeer0
//   container  fwdpeer0 02:00:00:00:00:02  172.18.0.0/24 (172.18.0.2 at 02:00:00:00:00:42,
//                                           172.18.0.3 unresolved); 172.18.1.0/24 with
//                                           `mtu lock 100` (172.18.1.2 at 02:00:00:00:00:43)
//   no route   192.0.2.0/24, 172.19.0.0/16
//
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <random>
#include <span>
#include <string>
#include <tuple>
#include <vector>

#include "fwd_abi.h"
#include "support/bpf_case_builder.h"
#include "support/bpf_case_check.h"
#include "support/bpf_datapath.h"
#include "support/bpf_netns.h"
#include "support/checksum.h"
#include "support/packet_builder.h"
#include "support/prog_runner.h"

namespace fwd::test {
namespace {

constexpr uint32_t kXdpPass = XDP_PASS;
constexpr uint32_t kTcOk = TC_ACT_OK;
constexpr uint32_t kTcRedirect = TC_ACT_REDIRECT;

constexpr const char* kClient = "10.0.0.20";
constexpr const char* kClientMac = "02:00:00:00:00:20";
constexpr const char* kUnresolvedClient = "10.0.0.21";  // on the uplink subnet, no neighbour
constexpr const char* kUnroutableClient = "192.0.2.9";
constexpr uint16_t kClientPort = 40000;
constexpr const char* kHost = kHostAddr;
constexpr const char* kRoutedDst = "10.0.0.50";  // on fwdhost0's subnet, not a host address
constexpr const char* kAnyAddr = "0.0.0.0";
constexpr const char* kLoopback = "127.0.0.1";
constexpr uint16_t kHostTcpPort = 80;
constexpr uint16_t kHostUdpPort = 5353;
constexpr const char* kContainer = "172.18.0.2";
constexpr const char* kContainerMac = "02:00:00:00:00:42";
constexpr const char* kUnresolvedContainer = "172.18.0.3";
constexpr const char* kLowMtuContainer = "172.18.1.2";
constexpr const char* kLowMtuContainerMac = "02:00:00:00:00:43";
constexpr uint16_t kLowMtu = 100;
constexpr const char* kUnroutedContainer = "172.19.0.2";
constexpr const char* kUplinkContainer = "172.18.2.2";  // routed out of the uplink again
constexpr const char* kUplinkContainerMac = "02:00:00:00:00:44";
constexpr uint16_t kContainerTcpPort = 8080;
constexpr uint16_t kContainerUdpPort = 53;
constexpr uint32_t kTcpMapping = 1;
constexpr uint32_t kUdpMapping = 2;
constexpr uint8_t kTtl = 64;  // PacketBuilder's default

// What the fixture adds to the namespace, and how it takes it away again.
struct IpCommand {
    std::vector<std::string> add;
    std::vector<std::string> remove;
};

const std::vector<IpCommand>& topology() {
    static const std::vector<IpCommand> commands = {
        {{"route", "replace", "172.18.0.0/24", "dev", kPeerDevice},
         {"route", "del", "172.18.0.0/24", "dev", kPeerDevice}},
        {{"neigh", "replace", kContainer, "lladdr", kContainerMac, "dev", kPeerDevice, "nud",
          "permanent"},
         {"neigh", "del", kContainer, "dev", kPeerDevice}},
        {{"route", "replace", "172.18.1.0/24", "dev", kPeerDevice, "mtu", "lock",
          std::to_string(kLowMtu)},
         {"route", "del", "172.18.1.0/24", "dev", kPeerDevice}},
        {{"neigh", "replace", kLowMtuContainer, "lladdr", kLowMtuContainerMac, "dev", kPeerDevice,
          "nud", "permanent"},
         {"neigh", "del", kLowMtuContainer, "dev", kPeerDevice}},
        {{"neigh", "replace", kClient, "lladdr", kClientMac, "dev", kHostDevice, "nud",
          "permanent"},
         {"neigh", "del", kClient, "dev", kHostDevice}},
        {{"route", "replace", "172.18.2.0/24", "dev", kHostDevice},
         {"route", "del", "172.18.2.0/24", "dev", kHostDevice}},
        {{"neigh", "replace", kUplinkContainer, "lladdr", kUplinkContainerMac, "dev", kHostDevice,
          "nud", "permanent"},
         {"neigh", "del", kUplinkContainer, "dev", kHostDevice}},
    };
    return commands;
}

// The XDP metadata fwd_xdp_ingress leaves on a frame it translated: one u32 in host order.
Bytes xdp_mark_bytes() {
    const uint32_t mark = FWD_XDP_META_TRANSLATED;
    Bytes bytes(sizeof(mark));
    std::memcpy(bytes.data(), &mark, sizeof(mark));
    return bytes;
}

uint8_t ttl_of(const Bytes& frame) {
    const auto decoded = decode(frame);
    return decoded.ipv4 ? decoded.ipv4->ttl : 0;
}

// ---------------------------------------------------------------------------------------------
// Table cases

enum class Prog { Xdp, TcIngress };
// `flow` as the fast path records it: its forward packets go out of the container-side device,
// where its replies arrive. Case tables are built before the test namespace exists, so the
// device is a placeholder that resolve_device() turns into its ifindex when the case runs.
constexpr uint32_t kContainerSidePlaceholder = 0xffffffffU;

ConntrackEntry via_container_side(ConntrackEntry flow) {
    flow.container_ifindex = kContainerSidePlaceholder;
    return flow;
}

ConntrackEntry resolve_device(ConntrackEntry flow) {
    if (flow.container_ifindex == kContainerSidePlaceholder)
        flow.container_ifindex = static_cast<uint32_t>(BpfNetns::status().peer_ifindex);
    return flow;
}

enum class Device { Uplink, ContainerSide, Loopback };

struct PacketCase {
    std::string name;
    Prog prog = Prog::Xdp;
    Device device = Device::Uplink;
    uint32_t config_flags = 0;  // fwd_config.flags
    std::vector<ServiceEntry> services;
    std::vector<ConntrackEntry> conntrack;
    Bytes input;
    uint32_t verdict = kXdpPass;
    Bytes expected;
    bool xdp_mark = false;              // XDP: the metadata carries FWD_XDP_META_TRANSLATED
    std::vector<CounterBump> counters;  // every other counter must stay 0
    std::vector<StatsBump> stats;       // every other test stats slot must stay 0
    // The whole conntrack table afterwards; nullopt: exactly the entries the case inserted.
    std::optional<std::vector<ConntrackEntry>> conntrack_after;
};

void PrintTo(const PacketCase& c, std::ostream* os) {
    *os << c.name;
}

// Builds one table row; each row names only what it is about. Call input() before the outcome,
// and conntrack() before new_flow().
class CaseBuilder : public CaseBuilderBase<CaseBuilder, PacketCase> {
public:
    CaseBuilder(Prog prog, std::string name) : CaseBuilderBase(std::move(name)) {
        case_.prog = prog;
        case_.verdict = prog == Prog::Xdp ? kXdpPass : kTcOk;
    }

    CaseBuilder& on(Device device) {
        case_.device = device;
        return *this;
    }
    // `attach --fast-path off`.
    CaseBuilder& fast_path_off() {
        case_.config_flags = FWD_CONFIG_NO_FAST_PATH;
        return *this;
    }

    // XDP translated the frame of a tracked flow of mapping `mapping_id` to `expected` and
    // marked it for TC.
    CaseBuilder& xdp_translated(Bytes expected, uint32_t mapping_id) {
        case_.expected = std::move(expected);
        case_.xdp_mark = true;
        case_.stats.push_back({mapping_id, 1, 0, 0});
        return counts(FWD_CNT_NAT_IN).counts(FWD_CNT_XDP_NAT_IN);
    }
    // XDP left a mapped frame unchanged for TC (new flow, offload-partial checksum).
    CaseBuilder& left_to_tc() {
        case_.expected = case_.input;
        return counts(FWD_CNT_XDP_TO_TC);
    }
    // XDP passed a frame that is no mapped packet unchanged and counted nothing (TC counts it).
    CaseBuilder& ignored() {
        case_.expected = case_.input;
        return *this;
    }
    // TC sent the packet, now `expected`, straight to the next hop.
    CaseBuilder& redirected(Bytes expected) {
        case_.verdict = kTcRedirect;
        case_.expected = std::move(expected);
        return counts(FWD_CNT_REDIRECT);
    }
};

// ---------------------------------------------------------------------------------------------
// Fixture: one loaded data path and the topology above for each suite.

class FastPathTest : public testing::Test {
protected:
    static void SetUpTestSuite() {
        if (BpfNetns::status().state != BpfNetns::State::Ready) return;
        datapath_ = BpfDatapath::load(&setup_error_);
        if (!datapath_) {
            setup_error_ = "loading fwd_tc and fwd_xdp: " + setup_error_;
            return;
        }
        topology_added_ = true;
        for (const auto& command : topology()) {
            if (auto error = BpfNetns::ip(command.add); !error.empty()) {
                setup_error_ = "test topology: " + error;
                datapath_.reset();
                return;
            }
        }
        // Kernels before 6.11 refuse the CHECKSUM_COMPLETE flag with EINVAL.
        const Bytes arp = PacketBuilder().eth().arp_request(kClient, kHost).build();
        checksum_complete_supported_ =
            run_tc(arp, Device::Uplink, SkbChecksum::Complete).err != EINVAL;
    }

    static void TearDownTestSuite() {
        if (topology_added_) {
            const std::vector<IpCommand> undo(topology().rbegin(), topology().rend());
            for (const auto& command : undo) {
                (void)BpfNetns::ip(command.remove);  // best effort: the namespace dies with us
            }
            topology_added_ = false;
        }
        datapath_.reset();
    }

    void SetUp() override {
        const auto& netns = BpfNetns::status();
        if (netns.state == BpfNetns::State::NotRoot) {
            GTEST_SKIP() << netns.detail;
        }
        ASSERT_EQ(netns.state, BpfNetns::State::Ready)
            << "private network namespace: " << netns.detail;
        ASSERT_NE(datapath_, nullptr) << setup_error_;
        ASSERT_NO_FATAL_FAILURE(datapath_->reset());
    }

    static int ifindex(Device device) {
        switch (device) {
            case Device::Uplink:
                return BpfNetns::status().host_ifindex;
            case Device::ContainerSide:
                return BpfNetns::status().peer_ifindex;
            case Device::Loopback:
                return kLoopbackIfindex;
        }
        return kLoopbackIfindex;
    }

    static ProgRun run_tc(const Bytes& packet, Device device, SkbChecksum csum = SkbChecksum::None,
                          BpfDatapath::Prog prog = BpfDatapath::Prog::TcIngress) {
        const ProgRunner runner(datapath_->prog_fd(prog));
        return runner.run(packet, ProgRunner::tc_ctx(ifindex(device)), 1, csum);
    }

    static XdpRun run_xdp(const Bytes& frame, Device device) {
        const ProgRunner runner(datapath_->prog_fd(BpfDatapath::Prog::XdpIngress));
        return runner.run_xdp(frame, ProgRunner::xdp_ctx(ifindex(device), frame.size()));
    }

    // Runs one table case on an skb in checksum state `csum` (TC) or as an XDP frame, and checks
    // every expectation.
    static void check_case(const PacketCase& c, SkbChecksum csum) {
        if (csum == SkbChecksum::Complete && !checksum_complete_supported_) {
            GTEST_SKIP() << "kernel lacks BPF_F_TEST_SKB_CHECKSUM_COMPLETE (Linux 6.11+)";
        }
        ASSERT_NO_FATAL_FAILURE(datapath_->set_config_flags(c.config_flags));
        for (const auto& service : c.services) {
            ASSERT_NO_FATAL_FAILURE(datapath_->add_service(service));
        }
        const uint64_t inserted_at = coarse_monotonic_ns();
        for (const auto& entry : c.conntrack) {
            ASSERT_NO_FATAL_FAILURE(datapath_->add_conntrack(resolve_device(entry), inserted_at));
        }

        const uint64_t started = coarse_monotonic_ns();
        Bytes output;
        if (c.prog == Prog::Xdp) {
            const XdpRun result = run_xdp(c.input, c.device);
            ASSERT_TRUE(result.ok()) << result.error_message();
            EXPECT_EQ(result.retval, c.verdict) << "verdict (2 XDP_PASS)";
            EXPECT_EQ(result.meta, c.xdp_mark ? xdp_mark_bytes() : Bytes{})
                << "XDP metadata: fwd's mark exactly when XDP translated the frame";
            output = result.data;
        } else {
            const ProgRun result = run_tc(c.input, c.device, csum);
            ASSERT_TRUE(result.ok())
                << result.error_message()
                << (result.err == EBADMSG ? ": the program left skb->csum (CHECKSUM_COMPLETE) "
                                            "inconsistent with the packet"
                                          : "");
            EXPECT_EQ(result.retval, c.verdict) << "verdict (0 TC_ACT_OK, 7 TC_ACT_REDIRECT)";
            output = result.data;
            // Said separately from the byte comparison: only a redirect forwards (TTL - 1).
            if (c.verdict == kTcRedirect) {
                EXPECT_EQ(ttl_of(output) + 1, ttl_of(c.input)) << "a redirect decrements the TTL";
            } else {
                EXPECT_EQ(ttl_of(output), ttl_of(c.input)) << "the stack decrements the TTL";
            }
        }
        const uint64_t finished = coarse_monotonic_ns();

        check_output(c.input, c.expected, output);
        check_counters(datapath_->counters(), c.counters);
        check_stats(*datapath_, c.stats, c.input.size());
        // The test routes containers out of the container-side device, where the fast path may
        // send a flow's forward packets.
        check_conntrack(*datapath_, c.conntrack_after.value_or(c.conntrack), c.conntrack,
                        inserted_at, started, finished,
                        static_cast<uint32_t>(BpfNetns::status().peer_ifindex));
    }

    inline static std::unique_ptr<BpfDatapath> datapath_;
    inline static std::string setup_error_;
    inline static bool topology_added_ = false;
    inline static bool checksum_complete_supported_ = false;
};

// XDP cases run once (an XDP frame has no checksum state); TC cases on a CHECKSUM_NONE skb (named
// after the case) and on a CHECKSUM_COMPLETE one (name + "ChecksumComplete").
using TableParam = std::tuple<PacketCase, SkbChecksum>;

class XdpIngressNat : public FastPathTest, public testing::WithParamInterface<PacketCase> {};
class TcFastPath : public FastPathTest, public testing::WithParamInterface<TableParam> {};
class XdpIngressNatRandom : public FastPathTest {};
class TcFastPathRandom : public FastPathTest {};
class TcFastPathFlow : public FastPathTest {};
class XdpTcHandover : public FastPathTest {};

std::string case_name(const testing::TestParamInfo<TableParam>& info) {
    const auto& [c, csum] = info.param;
    return c.name + (csum == SkbChecksum::Complete ? "ChecksumComplete" : "");
}

std::string xdp_case_name(const testing::TestParamInfo<PacketCase>& info) {
    return info.param.name;
}

const auto kChecksumModes = testing::Values(SkbChecksum::None, SkbChecksum::Complete);

// ---------------------------------------------------------------------------------------------
// Packet and entry shorthands

const ServiceEntry kExactTcp{kHost,      kHostTcpPort,      kIpProtoTcp,
                             kContainer, kContainerTcpPort, kTcpMapping};
const ServiceEntry kWildcardTcp{kAnyAddr,   kHostTcpPort,      kIpProtoTcp,
                                kContainer, kContainerTcpPort, kTcpMapping};
const ServiceEntry kExactUdp{kHost,      kHostUdpPort,      kIpProtoUdp,
                             kContainer, kContainerUdpPort, kUdpMapping};
const ServiceEntry kWildcardUdp{kAnyAddr,   kHostUdpPort,      kIpProtoUdp,
                                kContainer, kContainerUdpPort, kUdpMapping};

// The exact TCP mapping, to another container.
ServiceEntry tcp_mapping_to(const std::string& container) {
    ServiceEntry entry = kExactTcp;
    entry.container_addr = container;
    return entry;
}

// The conntrack entry the client's TCP flow to `host`:80 creates.
ConntrackEntry tcp_flow(const std::string& host = kHost, uint64_t age_ns = 0,
                        const std::string& container = kContainer,
                        const std::string& client = kClient) {
    return {container, kContainerTcpPort, client,      kClientPort, kIpProtoTcp,
            host,      kHostTcpPort,      kTcpMapping, age_ns};
}

ConntrackEntry udp_flow(const std::string& host = kHost) {
    return {kContainer,   kContainerUdpPort, kClient, kClientPort, kIpProtoUdp, host,
            kHostUdpPort, kUdpMapping,       0};
}

// Client -> dst over TCP/UDP as it arrives on the uplink, addressed to fwdhost0's MAC.
PacketBuilder client_tcp(const std::string& dst, uint16_t dport = kHostTcpPort,
                         const std::string& client = kClient) {
    return std::move(
        PacketBuilder().eth(kClientMac, kHostMac).ipv4(client, dst).tcp(kClientPort, dport));
}

PacketBuilder client_udp(const std::string& dst, uint16_t dport = kHostUdpPort) {
    return std::move(
        PacketBuilder().eth(kClientMac, kHostMac).ipv4(kClient, dst).udp(kClientPort, dport));
}

// A client's packet after the fast path sent it on towards `container`: from fwdpeer0's MAC to
// `container_mac`, one hop later.
PacketBuilder forwarded_tcp(const std::string& container, const char* container_mac,
                            const std::string& client = kClient) {
    return std::move(PacketBuilder()
                         .eth(kPeerMac, container_mac)
                         .ipv4(client, container)
                         .ttl(kTtl - 1)
                         .tcp(kClientPort, kContainerTcpPort));
}

// Container -> client replies as they arrive on the container side.
PacketBuilder reply_tcp(const std::string& client = kClient) {
    return std::move(PacketBuilder()
                         .eth(kContainerMac, kPeerMac)
                         .ipv4(kContainer, client)
                         .tcp(kContainerTcpPort, kClientPort));
}

PacketBuilder reply_udp() {
    return std::move(PacketBuilder()
                         .eth(kContainerMac, kPeerMac)
                         .ipv4(kContainer, kClient)
                         .udp(kContainerUdpPort, kClientPort));
}

// The TCP/UDP checksum RFC 1071 computes for a frame (before RFC 768's 0 -> 0xffff for UDP).
uint16_t raw_l4_checksum(const Bytes& frame) {
    const auto ip = std::span<const uint8_t>(frame).subspan(kEthHeaderLen);
    const size_t ihl_bytes = static_cast<size_t>(ip[0] & 0x0fu) * 4;
    const auto l4 = ip.subspan(ihl_bytes);
    const uint8_t proto = ip[9];
    return ipv4_l4_checksum(std::span<const uint8_t, 4>(ip.data() + 12, 4),
                            std::span<const uint8_t, 4>(ip.data() + 16, 4), proto, l4,
                            proto == kIpProtoTcp ? 16 : 6);
}

// A payload for `make` whose TCP/UDP checksum computes to exactly 0. Its first 16-bit word is
// free: with that word 0 the sum folds to S and the checksum is ~S; a word of ~S makes the sum
// fold to 0xffff, whose complement is 0. (If ~S is 0 the checksum is 0 already.)
Bytes payload_with_zero_l4_sum(const std::function<Bytes(const Bytes&)>& make) {
    Bytes payload = {0, 0, 'f', 'w', 'd'};
    const uint16_t word = raw_l4_checksum(make(payload));
    payload[0] = static_cast<uint8_t>(word >> 8);
    payload[1] = static_cast<uint8_t>(word & 0xff);
    return payload;
}

// What a local sender with checksum offload (CHECKSUM_PARTIAL) leaves in the TCP/UDP checksum
// field: the folded pseudo-header sum, not complemented. Computed from the frame's own IPv4
// header by the oracle's one's-complement sum.
uint16_t offload_partial_checksum(const Bytes& frame) {
    const auto ip = std::span<const uint8_t>(frame).subspan(kEthHeaderLen);
    const size_t ihl_bytes = static_cast<size_t>(ip[0] & 0x0fu) * 4;
    const auto l4_len = static_cast<uint16_t>(((ip[2] << 8) | ip[3]) - ihl_bytes);
    std::array<uint8_t, 12> pseudo{};  // saddr, daddr, zero, protocol, L4 length
    std::copy_n(ip.begin() + 12, 8, pseudo.begin());
    pseudo[9] = ip[9];
    pseudo[10] = static_cast<uint8_t>(l4_len >> 8);
    pseudo[11] = static_cast<uint8_t>(l4_len & 0xff);
    return ones_complement_sum(pseudo);
}

// Aborts unless a "computes to zero" case really exercises RFC 768's rule.
void require_zero_udp_sum_case(const PacketCase& c) {
    if (raw_l4_checksum(c.expected) != 0 || decode(c.expected).udp->check != 0xffff ||
        decode(c.input).udp->check == 0) {
        std::fprintf(stderr, "%s: payload search failed\n", c.name.c_str());
        std::abort();
    }
}

const std::vector<uint8_t> kRouterAlert = {0x94, 0x04, 0x00, 0x00};

// ---------------------------------------------------------------------------------------------
// XDP table

std::vector<PacketCase> xdp_cases() {
    std::vector<PacketCase> cases;
    auto add = [&cases](const CaseBuilder& builder) { cases.push_back(builder.build()); };
    const auto xdp = [](const std::string& name) { return CaseBuilder(Prog::Xdp, name); };
    const std::string host = kHost;
    const std::string container = kContainer;
    // The translated frame keeps the client's MACs: XDP only rewrites, TC forwards.
    const auto to_container_tcp = [&] { return client_tcp(container, kContainerTcpPort); };
    const auto to_container_udp = [&] { return client_udp(container, kContainerUdpPort); };

    // Translated and marked ---------------------------------------------------------------------
    add(xdp("TrackedTcpIsTranslatedAndMarked")
            .services({kExactTcp})
            .conntrack({tcp_flow()})
            .input(client_tcp(host).ack().seq(1001).ack_seq(77).payload("GET /").build())
            .xdp_translated(to_container_tcp().ack().seq(1001).ack_seq(77).payload("GET /").build(),
                            kTcpMapping));
    add(xdp("TrackedUdpIsTranslatedAndMarked")
            .services({kExactUdp})
            .conntrack({udp_flow()})
            .input(client_udp(host).payload("query").build())
            .xdp_translated(to_container_udp().payload("query").build(), kUdpMapping));
    add(xdp("UdpZeroChecksumStaysZero")
            .services({kExactUdp})
            .conntrack({udp_flow()})
            .input(client_udp(host).zero_udp_checksum().payload("query").build())
            .xdp_translated(to_container_udp().zero_udp_checksum().payload("query").build(),
                            kUdpMapping));
    {
        const auto translated = [&](const Bytes& payload) {
            return to_container_udp().payload(payload).build();
        };
        const Bytes payload = payload_with_zero_l4_sum(translated);
        add(xdp("UdpChecksumComputingToZeroIsSentAsFfff")
                .services({kExactUdp})
                .conntrack({udp_flow()})
                .input(client_udp(host).payload(payload).build())
                .xdp_translated(translated(payload), kUdpMapping));
        require_zero_udp_sum_case(cases.back());
    }
    {
        // Inputs whose checksum computes to 0: UDP carries it as 0xffff, TCP as 0.
        const auto udp_input = [&](const Bytes& payload) {
            return client_udp(host).payload(payload).build();
        };
        const Bytes udp_payload = payload_with_zero_l4_sum(udp_input);
        add(xdp("UdpFfffChecksumIsTranslated")
                .services({kExactUdp})
                .conntrack({udp_flow()})
                .input(udp_input(udp_payload))
                .xdp_translated(to_container_udp().payload(udp_payload).build(), kUdpMapping));
        const auto tcp_input = [&](const Bytes& payload) {
            return client_tcp(host).ack().payload(payload).build();
        };
        const Bytes tcp_payload = payload_with_zero_l4_sum(tcp_input);
        add(xdp("TcpZeroChecksumIsTranslated")
                .services({kExactTcp})
                .conntrack({tcp_flow()})
                .input(tcp_input(tcp_payload))
                .xdp_translated(to_container_tcp().ack().payload(tcp_payload).build(),
                                kTcpMapping));
        if (decode(cases[cases.size() - 2].input).udp->check != 0xffff ||
            decode(cases.back().input).tcp->check != 0) {
            std::fprintf(stderr, "zero-sum input payload search failed\n");
            std::abort();
        }
        // And the other way round: TCP computing to 0 after translation.
        const auto tcp_translated = [&](const Bytes& payload) {
            return to_container_tcp().ack().payload(payload).build();
        };
        const Bytes tcp_out_payload = payload_with_zero_l4_sum(tcp_translated);
        add(xdp("TcpChecksumComputingToZeroIsTranslated")
                .services({kExactTcp})
                .conntrack({tcp_flow()})
                .input(client_tcp(host).ack().payload(tcp_out_payload).build())
                .xdp_translated(tcp_translated(tcp_out_payload), kTcpMapping));
        if (decode(cases.back().expected).tcp->check != 0) {
            std::fprintf(stderr, "zero-sum output payload search failed\n");
            std::abort();
        }
    }
    add(xdp("WildcardToLocalAddressIsTranslated")
            .services({kWildcardTcp})
            .conntrack({tcp_flow(kHost)})
            .input(client_tcp(host).ack().build())
            .xdp_translated(to_container_tcp().ack().build(), kTcpMapping));
    add(xdp("UdpWildcardToLocalAddressIsTranslated")
            .services({kWildcardUdp})
            .conntrack({udp_flow(kHost)})
            .input(client_udp(host).payload("q").build())
            .xdp_translated(to_container_udp().payload("q").build(), kUdpMapping));
    add(xdp("IdleTrackedFlowIsTranslated")
            .services({kExactTcp})
            .conntrack({tcp_flow(kHost, 5 * kNsPerSec)})
            .input(client_tcp(host).ack().build())
            .xdp_translated(to_container_tcp().ack().build(), kTcpMapping));
    add(xdp("IpOptionsAreKeptAndCounted")
            .services({kExactTcp})
            .conntrack({tcp_flow()})
            .input(client_tcp(host).ip_options(kRouterAlert).ack().payload("opt").build())
            .xdp_translated(
                to_container_tcp().ip_options(kRouterAlert).ack().payload("opt").build(),
                kTcpMapping)
            .counts(FWD_CNT_IP_OPTIONS));
    add(xdp("EthernetPaddingIsKept")
            .services({kExactUdp})
            .conntrack({udp_flow()})
            .input(client_udp(host).payload("pad").pad_to(60).build())
            .xdp_translated(to_container_udp().payload("pad").pad_to(60).build(), kUdpMapping));
    {
        // Same address, other port: only the port and the L4 checksum change.
        const ServiceEntry port_only{kHost, kHostTcpPort,      kIpProtoTcp,
                                     kHost, kContainerTcpPort, kTcpMapping};
        add(xdp("PortOnlyRewrite")
                .services({port_only})
                .conntrack({tcp_flow(kHost, 0, kHost)})
                .input(client_tcp(host).ack().build())
                .xdp_translated(client_tcp(host, kContainerTcpPort).ack().build(), kTcpMapping));
    }
    {
        // Same port, other address: the IP and pseudo-header sums change, the port does not.
        const ServiceEntry addr_only{kHost,      kHostUdpPort, kIpProtoUdp,
                                     kContainer, kHostUdpPort, kUdpMapping};
        auto flow = udp_flow();
        flow.container_port = kHostUdpPort;
        add(xdp("AddressOnlyRewrite")
                .services({addr_only})
                .conntrack({flow})
                .input(client_udp(host).payload("a").build())
                .xdp_translated(client_udp(container, kHostUdpPort).payload("a").build(),
                                kUdpMapping));
    }
    {
        const ServiceEntry loopback{kLoopback,  kHostTcpPort,      kIpProtoTcp,
                                    kContainer, kContainerTcpPort, kTcpMapping};
        add(xdp("LoopbackMappingOnLoopbackDeviceIsTranslated")
                .on(Device::Loopback)
                .services({loopback})
                .conntrack({tcp_flow(kLoopback)})
                .input(client_tcp(kLoopback).ack().build())
                .xdp_translated(to_container_tcp().ack().build(), kTcpMapping));
        // TC drops these (DROP_LOOPBACK); XDP leaves them to it without counting.
        add(xdp("LoopbackMappingFromOutsideIsLeftUntouched")
                .services({loopback})
                .conntrack({tcp_flow(kLoopback)})
                .input(client_tcp(kLoopback).ack().build())
                .ignored());
    }

    // Left to TC: the first packet of a flow, checksums left for offload ---------------------
    add(xdp("UntrackedTcpSynIsLeftToTc")
            .services({kExactTcp})
            .input(client_tcp(host).syn().build())
            .left_to_tc());
    add(xdp("UntrackedUdpIsLeftToTc")
            .services({kExactUdp})
            .input(client_udp(host).payload("query").build())
            .left_to_tc());
    add(xdp("UntrackedWildcardFlowIsLeftToTc")
            .services({kWildcardTcp})
            .input(client_tcp(host).syn().build())
            .left_to_tc());
    {
        // The client port last reached the container through another mapping: TC retracks it.
        auto stale = tcp_flow();
        stale.host_port = 81;
        stale.mapping_id = 3;
        add(xdp("FlowTrackedForOtherMappingIsLeftToTc")
                .services({kExactTcp})
                .conntrack({stale})
                .input(client_tcp(host).syn().build())
                .left_to_tc());
    }
    {
        const Bytes tcp = client_tcp(host).ack().payload("offloaded").build();
        add(xdp("PartialTcpChecksumIsLeftToTc")
                .services({kExactTcp})
                .conntrack({tcp_flow()})
                .input(client_tcp(host)
                           .ack()
                           .payload("offloaded")
                           .l4_checksum(offload_partial_checksum(tcp))
                           .build())
                .left_to_tc());
        const Bytes udp = client_udp(host).payload("offloaded").build();
        add(xdp("PartialUdpChecksumIsLeftToTc")
                .services({kExactUdp})
                .conntrack({udp_flow()})
                .input(client_udp(host)
                           .payload("offloaded")
                           .l4_checksum(offload_partial_checksum(udp))
                           .build())
                .left_to_tc());
    }

    // Ignored: no mapping applies (TC counts these) -------------------------------------------
    add(xdp("WildcardToRoutedAddressIsIgnored")
            .services({kWildcardTcp})
            .conntrack({tcp_flow(kRoutedDst)})
            .input(client_tcp(kRoutedDst).ack().build())
            .ignored());
    add(xdp("WildcardToSubnetBroadcastIsIgnored")
            .services({kWildcardUdp})
            .conntrack({udp_flow("10.0.0.255")})
            .input(PacketBuilder()
                       .eth(kClientMac, "ff:ff:ff:ff:ff:ff")
                       .ipv4(kClient, "10.0.0.255")
                       .udp(kClientPort, kHostUdpPort)
                       .payload("b")
                       .build())
            .ignored());
    add(xdp("UnmappedPortIsIgnored")
            .services({kExactTcp})
            .conntrack({tcp_flow()})
            .input(client_tcp(host, 81).ack().build())
            .ignored());
    add(xdp("UdpToTcpMappingIsIgnored")
            .services({kExactTcp, kWildcardTcp})
            .conntrack({tcp_flow()})
            .input(client_udp(host, kHostTcpPort).payload("q").build())
            .ignored());
    add(xdp("EmptyTablesAreIgnored").input(client_tcp(host).ack().build()).ignored());
    add(xdp("TrackedReplyIsIgnored")
            .services({kExactTcp})
            .conntrack({tcp_flow()})
            .input(reply_tcp().ack().build())
            .ignored());

    // Ignored: not IPv4 TCP/UDP, fragments, malformed headers -----------------------------------
    const std::vector<ServiceEntry> both = {kExactTcp, kExactUdp, kWildcardTcp, kWildcardUdp};
    const std::vector<ConntrackEntry> flows = {tcp_flow(), udp_flow()};
    const auto ignored = [&](const std::string& name, Bytes input) {
        add(xdp(name).services(both).conntrack(flows).input(std::move(input)).ignored());
    };
    ignored("ArpIsIgnored", PacketBuilder().eth().arp_request(kClient, kHost).build());
    ignored("Ipv6TcpIsIgnored", PacketBuilder()
                                    .eth(kClientMac, kHostMac)
                                    .ipv6("fd00::9", "fd00::1")
                                    .tcp(kClientPort, kHostTcpPort)
                                    .ack()
                                    .build());
    ignored("VlanTaggedIpv4IsIgnored", PacketBuilder()
                                           .eth(kClientMac, kHostMac)
                                           .vlan(100)
                                           .ipv4(kClient, kHost)
                                           .tcp(kClientPort, kHostTcpPort)
                                           .ack()
                                           .build());
    ignored("IcmpIsIgnored",
            PacketBuilder().eth(kClientMac, kHostMac).ipv4(kClient, kHost).icmp_echo(7, 1).build());
    ignored("FirstFragmentIsIgnored",
            client_tcp(host).fragment(true, 0).ack().payload("part1").build());
    ignored("MiddleFragmentIsIgnored", PacketBuilder()
                                           .eth(kClientMac, kHostMac)
                                           .ipv4(kClient, kHost)
                                           .ip_proto(kIpProtoTcp)
                                           .fragment(true, 3)
                                           .payload("middle-of-a-segment")
                                           .build());
    ignored("LastFragmentIsIgnored", PacketBuilder()
                                         .eth(kClientMac, kHostMac)
                                         .ipv4(kClient, kHost)
                                         .ip_proto(kIpProtoUdp)
                                         .fragment(false, 185)
                                         .payload("tail")
                                         .build());
    ignored("IhlFourIsIgnored", client_tcp(host).bad_ihl(4).ack().build());
    ignored("IhlZeroIsIgnored", client_tcp(host).bad_ihl(0).ack().build());
    ignored("IhlBeyondTotalLengthIsIgnored", client_tcp(host).bad_ihl(15).ack().build());
    ignored("TotalLengthBelowIhlIsIgnored", client_tcp(host).ack().tot_len(16).build());
    ignored("Ipv4EthertypeWithVersionSixIsIgnored", client_tcp(host).ip_version(6).ack().build());
    ignored("TcpDataOffsetBelowFiveIsIgnored", client_tcp(host).tcp_doff(4).ack().build());
    ignored("UdpLengthBelowHeaderIsIgnored", client_udp(host).payload("q").udp_len(7).build());
    ignored("UdpLengthBeyondIpPayloadIsIgnored", client_udp(host).payload("q").udp_len(10).build());
    ignored("TotalLengthEndsInsideTcpHeaderIsIgnored",
            client_tcp(host).ack().tot_len(kIpv4HeaderLen + 10).build());
    ignored("TotalLengthEndsInsideUdpHeaderIsIgnored",
            client_udp(host).payload("q").tot_len(kIpv4HeaderLen + 4).build());
    ignored("TotalLengthBeyondFrameIsIgnored",
            client_tcp(host).ack().payload("hi").tot_len(100).build());

    // Ignored: cut short at every byte from the end of the Ethernet header on (BPF_PROG_TEST_RUN
    // takes no XDP frame shorter than that). Whole, each frame would be translated.
    const struct {
        const char* name;
        Bytes frame;
    } whole[] = {
        {"Tcp", client_tcp(host).ack().payload("hello").build()},
        {"Udp", client_udp(host).payload("hello").build()},
        {"TcpWithIpOptions", client_tcp(host).ip_options(kRouterAlert).ack().payload("hi").build()},
    };
    for (const auto& [proto, frame] : whole) {
        for (size_t length = kEthHeaderLen; length < frame.size(); ++length) {
            ignored(fmt::format("{}FrameCutTo{}BytesIsIgnored", proto, length),
                    Bytes(frame.begin(), frame.begin() + static_cast<long>(length)));
        }
    }
    return cases;
}

// ---------------------------------------------------------------------------------------------
// TC fast path table

std::vector<PacketCase> fast_path_cases() {
    std::vector<PacketCase> cases;
    auto add = [&cases](const CaseBuilder& builder) { cases.push_back(builder.build()); };
    const auto tc = [](const std::string& name) { return CaseBuilder(Prog::TcIngress, name); };
    const std::string host = kHost;
    const std::string container = kContainer;
    // Translated, not forwarded: the stack gets it with the client's MACs and TTL.
    const auto to_container_tcp = [&](const std::string& addr = kContainer) {
        return client_tcp(addr, kContainerTcpPort);
    };
    // A reply after the fast path sent it to the client: from fwdhost0's MAC to the client's.
    const auto published_tcp = [&](const std::string& client, const char* client_mac, uint8_t ttl) {
        return std::move(PacketBuilder()
                             .eth(kHostMac, client_mac)
                             .ipv4(host, client)
                             .ttl(ttl)
                             .tcp(kHostTcpPort, kClientPort));
    };

    // Client -> container, redirected to fwdpeer0 -------------------------------------------------
    add(tc("TrackedTcpIsRedirectedToContainer")
            .services({kExactTcp})
            .conntrack({tcp_flow()})
            .input(client_tcp(host).ack().seq(1001).payload("GET /").build())
            .redirected(
                forwarded_tcp(container, kContainerMac).ack().seq(1001).payload("GET /").build())
            .tracked_in(kTcpMapping));
    add(tc("NewTcpFlowIsTrackedAndRedirected")
            .services({kExactTcp})
            .input(client_tcp(host).syn().build())
            .redirected(forwarded_tcp(container, kContainerMac).syn().build())
            .new_flow(kTcpMapping, tcp_flow()));
    add(tc("WildcardFlowIsRedirected")
            .services({kWildcardTcp})
            .conntrack({tcp_flow()})
            .input(client_tcp(host).ack().build())
            .redirected(forwarded_tcp(container, kContainerMac).ack().build())
            .tracked_in(kTcpMapping));
    add(tc("UdpIsRedirected")
            .services({kExactUdp})
            .conntrack({udp_flow()})
            .input(client_udp(host).payload("query").build())
            .redirected(PacketBuilder()
                            .eth(kPeerMac, kContainerMac)
                            .ipv4(kClient, container)
                            .ttl(kTtl - 1)
                            .udp(kClientPort, kContainerUdpPort)
                            .payload("query")
                            .build())
            .tracked_in(kUdpMapping));
    add(tc("UdpZeroChecksumIsRedirectedWithZeroChecksum")
            .services({kExactUdp})
            .conntrack({udp_flow()})
            .input(client_udp(host).zero_udp_checksum().payload("query").build())
            .redirected(PacketBuilder()
                            .eth(kPeerMac, kContainerMac)
                            .ipv4(kClient, container)
                            .ttl(kTtl - 1)
                            .udp(kClientPort, kContainerUdpPort)
                            .zero_udp_checksum()
                            .payload("query")
                            .build())
            .tracked_in(kUdpMapping));
    add(tc("IpOptionsAreRedirected")
            .services({kExactTcp})
            .conntrack({tcp_flow()})
            .input(client_tcp(host).ip_options(kRouterAlert).ack().build())
            .redirected(
                forwarded_tcp(container, kContainerMac).ip_options(kRouterAlert).ack().build())
            .tracked_in(kTcpMapping)
            .counts(FWD_CNT_IP_OPTIONS));
    add(tc("TtlTwoIsRedirectedWithTtlOne")
            .services({kExactTcp})
            .conntrack({tcp_flow()})
            .input(client_tcp(host).ttl(2).ack().build())
            .redirected(forwarded_tcp(container, kContainerMac).ttl(1).ack().build())
            .tracked_in(kTcpMapping));
    add(tc("UnresolvedContainerIsRedirectedThroughNeighbourResolution")
            .services({tcp_mapping_to(kUnresolvedContainer)})
            .conntrack({tcp_flow(kHost, 0, kUnresolvedContainer)})
            .input(client_tcp(host).ack().build())
            // bpf_redirect_neigh fills in the MACs later: they are still the received ones.
            .redirected(to_container_tcp(kUnresolvedContainer).ttl(kTtl - 1).ack().build())
            .tracked_in(kTcpMapping));
    {
        // The route to 172.18.1.0/24 allows 100 bytes: tot_len 100 still fits.
        const std::string fits(kLowMtu - kIpv4HeaderLen - kTcpHeaderLen, 'f');
        add(tc("PacketFittingNextHopMtuIsRedirected")
                .services({tcp_mapping_to(kLowMtuContainer)})
                .conntrack({tcp_flow(kHost, 0, kLowMtuContainer)})
                .input(client_tcp(host).ack().payload(fits).build())
                .redirected(forwarded_tcp(kLowMtuContainer, kLowMtuContainerMac)
                                .ack()
                                .payload(fits)
                                .build())
                .tracked_in(kTcpMapping));
        const std::string too_big = fits + "x";
        add(tc("PacketAboveNextHopMtuGoesThroughStack")
                .services({tcp_mapping_to(kLowMtuContainer)})
                .conntrack({tcp_flow(kHost, 0, kLowMtuContainer)})
                .input(client_tcp(host).ack().payload(too_big).build())
                .output(to_container_tcp(kLowMtuContainer).ack().payload(too_big).build())
                .tracked_in(kTcpMapping));
    }

    // Client -> container, translated but left to the stack -------------------------------------
    add(tc("FastPathOffGoesThroughStack")
            .fast_path_off()
            .services({kExactTcp})
            .conntrack({tcp_flow()})
            .input(client_tcp(host).ack().build())
            .output(to_container_tcp().ack().build())
            .tracked_in(kTcpMapping));
    add(tc("NewFlowWithFastPathOffGoesThroughStack")
            .fast_path_off()
            .services({kExactTcp})
            .input(client_tcp(host).syn().build())
            .output(to_container_tcp().syn().build())
            .new_flow(kTcpMapping, tcp_flow()));
    add(tc("TtlOneGoesThroughStackTranslated")
            .services({kExactTcp})
            .conntrack({tcp_flow()})
            .input(client_tcp(host).ttl(1).ack().build())
            .output(to_container_tcp().ttl(1).ack().build())
            .tracked_in(kTcpMapping));
    add(tc("TtlZeroGoesThroughStackTranslated")
            .services({kExactTcp})
            .conntrack({tcp_flow()})
            .input(client_tcp(host).ttl(0).ack().build())
            .output(to_container_tcp().ttl(0).ack().build())
            .tracked_in(kTcpMapping));
    add(tc("UnroutedContainerGoesThroughStack")
            .services({tcp_mapping_to(kUnroutedContainer)})
            .conntrack({tcp_flow(kHost, 0, kUnroutedContainer)})
            .input(client_tcp(host).ack().build())
            .output(to_container_tcp(kUnroutedContainer).ack().build())
            .tracked_in(kTcpMapping));
    {
        // Published on a host port, served by the host itself on another: a local destination.
        const ServiceEntry port_only{kHost, kHostTcpPort,      kIpProtoTcp,
                                     kHost, kContainerTcpPort, kTcpMapping};
        add(tc("LocalDestinationGoesThroughStack")
                .services({port_only})
                .conntrack({tcp_flow(kHost, 0, kHost)})
                .input(client_tcp(host).ack().build())
                .output(client_tcp(host, kContainerTcpPort).ack().build())
                .tracked_in(kTcpMapping));
    }

    // Container -> client on the container side --------------------------------------------------
    add(tc("TrackedTcpReplyIsTranslatedAndRedirected")
            .on(Device::ContainerSide)
            .conntrack({via_container_side(tcp_flow())})
            .input(reply_tcp().syn().ack().ack_seq(1001).payload("welcome").build())
            .redirected(published_tcp(kClient, kClientMac, kTtl - 1)
                            .syn()
                            .ack()
                            .ack_seq(1001)
                            .payload("welcome")
                            .build())
            .reply_out(kTcpMapping));
    add(tc("TrackedUdpReplyIsTranslatedAndRedirected")
            .on(Device::ContainerSide)
            .conntrack({via_container_side(udp_flow())})
            .input(reply_udp().payload("answer").build())
            .redirected(PacketBuilder()
                            .eth(kHostMac, kClientMac)
                            .ipv4(host, kClient)
                            .ttl(kTtl - 1)
                            .udp(kHostUdpPort, kClientPort)
                            .payload("answer")
                            .build())
            .reply_out(kUdpMapping));
    add(tc("ReplyToUnresolvedClientIsRedirectedThroughNeighbourResolution")
            .on(Device::ContainerSide)
            .conntrack({via_container_side(tcp_flow(kHost, 0, kContainer, kUnresolvedClient))})
            .input(reply_tcp(kUnresolvedClient).ack().build())
            .redirected(PacketBuilder()
                            .eth(kContainerMac, kPeerMac)
                            .ipv4(host, kUnresolvedClient)
                            .ttl(kTtl - 1)
                            .tcp(kHostTcpPort, kClientPort)
                            .ack()
                            .build())
            .reply_out(kTcpMapping));
    add(tc("ReplyTheFibCannotRouteIsLeftUntouched")
            .on(Device::ContainerSide)
            .conntrack({via_container_side(tcp_flow(kHost, 0, kContainer, kUnroutableClient))})
            .input(reply_tcp(kUnroutableClient).ack().payload("late").build())
            .passes(FWD_CNT_PASS_NO_MATCH));
    add(tc("ReplyWithTtlOneIsLeftUntouched")
            .on(Device::ContainerSide)
            .conntrack({via_container_side(tcp_flow())})
            .input(reply_tcp().ttl(1).ack().build())
            .passes(FWD_CNT_PASS_NO_MATCH));
    add(tc("ReplyWithFastPathOffIsLeftUntouched")
            .on(Device::ContainerSide)
            .fast_path_off()
            .conntrack({via_container_side(tcp_flow())})
            .input(reply_tcp().ack().build())
            .passes(FWD_CNT_PASS_NO_MATCH));
    add(tc("UntrackedReplyIsLeftUntouched")
            .on(Device::ContainerSide)
            .input(reply_tcp().ack().build())
            .passes(FWD_CNT_PASS_NO_MATCH));
    // A packet spoofing a tracked flow's container source from anywhere but the device the flow
    // goes to is never translated and sent on (the stack's reverse-path rules still apply).
    add(tc("ReplyArrivingOnAnotherDeviceIsLeftUntouched")
            .on(Device::Uplink)
            .conntrack({via_container_side(tcp_flow())})
            .input(reply_tcp().ack().payload("spoofed").build())
            .passes(FWD_CNT_PASS_NO_MATCH));
    add(tc("ReplyOfAFlowThroughTheStackIsLeftUntouched")
            .on(Device::ContainerSide)
            .conntrack({tcp_flow()})
            .input(reply_tcp().ack().build())
            .passes(FWD_CNT_PASS_NO_MATCH));
    return cases;
}

TEST_P(XdpIngressNat, Run) {
    check_case(GetParam(), SkbChecksum::None);
}
INSTANTIATE_TEST_SUITE_P(Table, XdpIngressNat, testing::ValuesIn(xdp_cases()), xdp_case_name);

TEST_P(TcFastPath, Run) {
    check_case(std::get<0>(GetParam()), std::get<1>(GetParam()));
}
INSTANTIATE_TEST_SUITE_P(Table, TcFastPath,
                         testing::Combine(testing::ValuesIn(fast_path_cases()), kChecksumModes),
                         case_name);

// ---------------------------------------------------------------------------------------------
// Random flows: incremental checksum arithmetic against the oracle's full recomputation.

// One random flow and packet; build(dst, dport) lays it out addressed to `dst`:`dport`, so the
// input (to the published address) and the expected output (to the container) differ in exactly
// what the translation changes.
struct RandomPacket {
    bool tcp = true;
    std::string client;
    uint16_t client_port = 0;
    std::string container;
    uint16_t container_port = 0;
    uint16_t host_port = 0;
    uint8_t ttl = kTtl;
    uint8_t tos = 0;
    uint16_t ip_id = 0;
    bool ip_options = false;
    bool zero_udp_checksum = false;
    Bytes payload;

    [[nodiscard]] PacketBuilder build(const std::string& dst, uint16_t dport) const {
        PacketBuilder packet;
        packet.eth(kClientMac, kHostMac).ipv4(client, dst).ttl(ttl).tos(tos).ip_id(ip_id);
        if (ip_options) packet.ip_options(kRouterAlert);
        if (tcp) {
            packet.tcp(client_port, dport).ack().seq(ip_id * 7919U);
        } else {
            packet.udp(client_port, dport);
            if (zero_udp_checksum) packet.zero_udp_checksum();
        }
        packet.payload(payload);
        return packet;
    }

    [[nodiscard]] ServiceEntry service() const {
        return {kHost, host_port, tcp ? kIpProtoTcp : kIpProtoUdp, container, container_port, 1};
    }
    [[nodiscard]] ConntrackEntry flow() const {
        return {container,
                container_port,
                client,
                client_port,
                tcp ? kIpProtoTcp : kIpProtoUdp,
                kHost,
                host_port,
                1,
                0};
    }
};

class RandomPackets {
public:
    explicit RandomPackets(uint32_t seed) : rng_(seed) {}

    // A flow to `container` (a random unicast address if empty).
    RandomPacket next(const std::string& container = "") {
        RandomPacket p;
        p.tcp = bit();
        p.client = address();
        p.client_port = port();
        p.container = container.empty() ? address() : container;
        p.container_port = port();
        p.host_port = port();
        p.ttl = static_cast<uint8_t>(2 + below(254));
        p.tos = static_cast<uint8_t>(below(256));
        p.ip_id = static_cast<uint16_t>(below(65536));
        p.ip_options = below(4) == 0;
        p.zero_udp_checksum = !p.tcp && below(4) == 0;
        p.payload.resize(below(48));
        for (auto& byte : p.payload) byte = static_cast<uint8_t>(below(256));
        return p;
    }

private:
    uint32_t below(uint32_t n) { return std::uniform_int_distribution<uint32_t>(0, n - 1)(rng_); }
    bool bit() { return below(2) == 1; }
    uint16_t port() { return static_cast<uint16_t>(1 + below(65535)); }
    // 1.0.0.0 - 126.255.255.255 and 128.0.0.0 - 223.255.255.255: unicast, never loopback.
    std::string address() {
        uint32_t first = 1 + below(222);
        if (first == 127) first = 128;
        return fmt::format("{}.{}.{}.{}", first, below(256), below(256), 1 + below(254));
    }

    std::mt19937 rng_;
};

constexpr int kRandomRounds = 1000;

TEST_F(XdpIngressNatRandom, RandomFlowsMatchFullRecomputation) {
    RandomPackets random(0xf3d0);
    uint64_t translated = 0;
    for (int round = 0; round < kRandomRounds; ++round) {
        ASSERT_NO_FATAL_FAILURE(datapath_->reset());
        const RandomPacket p = random.next();
        ASSERT_NO_FATAL_FAILURE(datapath_->add_service(p.service()));
        ASSERT_NO_FATAL_FAILURE(datapath_->add_conntrack(p.flow(), coarse_monotonic_ns()));
        const Bytes input = p.build(kHost, p.host_port).build();
        // One in 65536 full checksums equals the pseudo-header sum: XDP leaves those to TC.
        const auto l4_check = p.tcp ? decode(input).tcp->check : decode(input).udp->check;
        const bool looks_partial = l4_check == offload_partial_checksum(input);
        const Bytes expected =
            looks_partial ? input : p.build(p.container, p.container_port).build();

        const XdpRun result = run_xdp(input, Device::Uplink);
        ASSERT_TRUE(result.ok()) << result.error_message();
        ASSERT_EQ(result.retval, kXdpPass);
        ASSERT_TRUE(same_frame(expected, result.data)) << "round " << round << ", input:\n"
                                                       << decode(input).to_string();
        const auto sums = verify_ipv4_checksums(result.data);
        ASSERT_TRUE(sums.ok) << "round " << round << ": " << sums.detail;
        ASSERT_EQ(result.meta, looks_partial ? Bytes{} : xdp_mark_bytes()) << "round " << round;
        translated += looks_partial ? 0 : 1;
    }
    EXPECT_GT(translated, kRandomRounds * 9U / 10U);
}

TEST_F(TcFastPathRandom, RandomFlowsAreRedirectedWithValidChecksums) {
    RandomPackets random(0x7e57);
    for (const SkbChecksum csum : {SkbChecksum::None, SkbChecksum::Complete}) {
        if (csum == SkbChecksum::Complete && !checksum_complete_supported_) continue;
        for (int round = 0; round < kRandomRounds / 4; ++round) {
            ASSERT_NO_FATAL_FAILURE(datapath_->reset());
            const RandomPacket p = random.next(kContainer);
            ASSERT_NO_FATAL_FAILURE(datapath_->add_service(p.service()));
            ASSERT_NO_FATAL_FAILURE(datapath_->add_conntrack(p.flow(), coarse_monotonic_ns()));
            const Bytes input = p.build(kHost, p.host_port).build();
            RandomPacket out = p;
            out.ttl = static_cast<uint8_t>(p.ttl - 1);
            const Bytes expected =
                out.build(p.container, p.container_port).eth(kPeerMac, kContainerMac).build();

            const ProgRun result = run_tc(input, Device::Uplink, csum);
            ASSERT_TRUE(result.ok()) << result.error_message() << " (round " << round << ")";
            ASSERT_EQ(result.retval, kTcRedirect) << "round " << round;
            ASSERT_TRUE(same_frame(expected, result.data)) << "round " << round << ", input:\n"
                                                           << decode(input).to_string();
            const auto sums = verify_ipv4_checksums(result.data);
            ASSERT_TRUE(sums.ok) << "round " << round << ": " << sums.detail;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The same reply, routable and then not.

// An `ip route` entry for the length of a test.
class ScopedRoute {
public:
    explicit ScopedRoute(std::vector<std::string> route) : route_(std::move(route)) {
        std::vector<std::string> add = {"route", "add"};
        add.insert(add.end(), route_.begin(), route_.end());
        error_ = BpfNetns::ip(add);
    }
    ScopedRoute(const ScopedRoute&) = delete;
    ScopedRoute& operator=(const ScopedRoute&) = delete;
    ~ScopedRoute() {
        if (!error_.empty()) return;
        std::vector<std::string> del = {"route", "del"};
        del.insert(del.end(), route_.begin(), route_.end());
        (void)BpfNetns::ip(del);
    }
    [[nodiscard]] const std::string& error() const { return error_; }

private:
    std::vector<std::string> route_;
    std::string error_;
};

// A new flow records the device its forward packets go to (the container side here), which is
// where the fast path accepts its replies; through the stack it records none.
TEST_F(TcFastPathFlow, NewFlowRecordsTheDeviceItsPacketsGoTo) {
    ASSERT_NO_FATAL_FAILURE(datapath_->add_service(kExactTcp));
    const ProgRun fast = run_tc(client_tcp(kHost).syn().build(), Device::Uplink);
    ASSERT_TRUE(fast.ok()) << fast.error_message();
    EXPECT_EQ(fast.retval, kTcRedirect);
    auto records = datapath_->conntrack();
    ASSERT_EQ(records.size(), 1U);
    EXPECT_EQ(records[0].value.container_ifindex,
              static_cast<uint32_t>(BpfNetns::status().peer_ifindex));

    ASSERT_NO_FATAL_FAILURE(datapath_->reset());
    ASSERT_NO_FATAL_FAILURE(datapath_->add_service(kExactTcp));
    ASSERT_NO_FATAL_FAILURE(datapath_->set_config_flags(FWD_CONFIG_NO_FAST_PATH));
    const ProgRun slow = run_tc(client_tcp(kHost).syn().build(), Device::Uplink);
    ASSERT_TRUE(slow.ok()) << slow.error_message();
    EXPECT_EQ(slow.retval, kTcOk);
    records = datapath_->conntrack();
    ASSERT_EQ(records.size(), 1U);
    EXPECT_EQ(records[0].value.container_ifindex, 0U);
}

// A GRO/GSO super-packet is longer than the MTU but each of its segments fits: the FIB is asked
// without a length, so the helper checks the skb segment by segment and the packet is
// redirected (with a length it would be refused as too big and go through the stack).
TEST_F(TcFastPathFlow, GsoSuperPacketIsRedirected) {
    ASSERT_NO_FATAL_FAILURE(datapath_->add_service(kExactTcp));
    const std::string payload(2900, 'g');
    const Bytes super_packet = client_tcp(kHost).ack().payload(payload).build();
    __sk_buff ctx = ProgRunner::tc_ctx(ifindex(Device::Uplink));
    ctx.gso_size = 1000;
    ctx.gso_segs = 3;
    const ProgRun run =
        ProgRunner(datapath_->prog_fd(BpfDatapath::Prog::TcIngress)).run(super_packet, ctx);
    ASSERT_TRUE(run.ok()) << run.error_message();
    EXPECT_EQ(run.retval, kTcRedirect);
    EXPECT_EQ(datapath_->counters()[FWD_CNT_REDIRECT], 1U);
}

TEST_F(TcFastPathFlow, SameReplyIsLeftToEgressOnceTheFibCannotRouteIt) {
    ASSERT_NO_FATAL_FAILURE(datapath_->add_conntrack(resolve_device(via_container_side(tcp_flow())),
                                                     coarse_monotonic_ns()));
    const Bytes reply = reply_tcp().ack().payload("data").build();
    const Bytes published = PacketBuilder()
                                .eth(kHostMac, kClientMac)
                                .ipv4(kHost, kClient)
                                .ttl(kTtl - 1)
                                .tcp(kHostTcpPort, kClientPort)
                                .ack()
                                .payload("data")
                                .build();
    const ProgRun routed = run_tc(reply, Device::ContainerSide);
    ASSERT_TRUE(routed.ok()) << routed.error_message();
    EXPECT_EQ(routed.retval, kTcRedirect);
    EXPECT_TRUE(same_frame(published, routed.data));

    {
        const ScopedRoute unreachable({"unreachable", std::string(kClient) + "/32"});
        ASSERT_EQ(unreachable.error(), "");
        const ProgRun unroutable = run_tc(reply, Device::ContainerSide);
        ASSERT_TRUE(unroutable.ok()) << unroutable.error_message();
        EXPECT_EQ(unroutable.retval, kTcOk);
        EXPECT_TRUE(same_frame(reply, unroutable.data)) << "left completely untouched";
    }
    auto counters = datapath_->counters();
    EXPECT_EQ(counters[FWD_CNT_NAT_OUT], 1U);
    EXPECT_EQ(counters[FWD_CNT_REDIRECT], 1U);
    EXPECT_EQ(counters[FWD_CNT_PASS_NO_MATCH], 1U);
    const auto records = datapath_->conntrack();
    ASSERT_EQ(records.size(), 1U) << "the flow stays tracked";
    EXPECT_EQ(records[0].entry.to_string(), tcp_flow().to_string());

    // After the stack routed it, the egress program gives it the published source.
    const ProgRun egress =
        run_tc(reply, Device::Uplink, SkbChecksum::None, BpfDatapath::Prog::TcEgress);
    ASSERT_TRUE(egress.ok()) << egress.error_message();
    EXPECT_EQ(egress.retval, kTcOk);
    const Bytes egress_expected = PacketBuilder()
                                      .eth(kContainerMac, kPeerMac)
                                      .ipv4(kHost, kClient)
                                      .tcp(kHostTcpPort, kClientPort)
                                      .ack()
                                      .payload("data")
                                      .build();
    EXPECT_TRUE(same_frame(egress_expected, egress.data));
    counters = datapath_->counters();
    EXPECT_EQ(counters[FWD_CNT_NAT_OUT], 2U);
    EXPECT_EQ(counters[FWD_CNT_REDIRECT], 1U);
    const auto stats = datapath_->stats(kTcpMapping);
    EXPECT_EQ(stats.packets_out, 2U);
    EXPECT_EQ(stats.bytes_out, 2 * reply.size());
}

// ---------------------------------------------------------------------------------------------
// XDP and TC together

// In XDP mode the first packet of a flow passes XDP untouched and TC tracks it; XDP translates
// the next one with the entry TC created: both programs work on the same maps.
TEST_F(XdpTcHandover, TcTracksNewFlowAndXdpTranslatesItsNextPacket) {
    ASSERT_NO_FATAL_FAILURE(datapath_->add_service(kExactTcp));
    const Bytes syn = client_tcp(kHost).syn().build();
    const XdpRun syn_in_xdp = run_xdp(syn, Device::Uplink);
    ASSERT_TRUE(syn_in_xdp.ok()) << syn_in_xdp.error_message();
    EXPECT_TRUE(same_frame(syn, syn_in_xdp.data));
    EXPECT_TRUE(syn_in_xdp.meta.empty());

    const ProgRun syn_in_tc = run_tc(syn, Device::Uplink);
    ASSERT_TRUE(syn_in_tc.ok()) << syn_in_tc.error_message();
    EXPECT_EQ(syn_in_tc.retval, kTcRedirect);
    EXPECT_TRUE(same_frame(forwarded_tcp(kContainer, kContainerMac).syn().build(), syn_in_tc.data));
    ASSERT_EQ(datapath_->conntrack().size(), 1U) << "TC tracked the flow";

    const Bytes ack = client_tcp(kHost).ack().seq(1001).payload("x").build();
    const XdpRun ack_in_xdp = run_xdp(ack, Device::Uplink);
    ASSERT_TRUE(ack_in_xdp.ok()) << ack_in_xdp.error_message();
    EXPECT_EQ(ack_in_xdp.retval, kXdpPass);
    EXPECT_EQ(ack_in_xdp.meta, xdp_mark_bytes());
    const Bytes translated =
        client_tcp(kContainer, kContainerTcpPort).ack().seq(1001).payload("x").build();
    EXPECT_TRUE(same_frame(translated, ack_in_xdp.data));
    const auto sums = verify_ipv4_checksums(ack_in_xdp.data);
    EXPECT_TRUE(sums.ok) << sums.detail;

    check_counters(datapath_->counters(), {{FWD_CNT_XDP_TO_TC},
                                           {FWD_CNT_NAT_IN, 2},
                                           {FWD_CNT_CT_CREATED},
                                           {FWD_CNT_REDIRECT},
                                           {FWD_CNT_XDP_NAT_IN}});
    const auto stats = datapath_->stats(kTcpMapping);
    EXPECT_EQ(stats.packets_in, 2U);
    EXPECT_EQ(stats.bytes_in, syn.size() + ack.size());
    EXPECT_EQ(stats.new_flows, 1U);
}

// Live frames: fwd_tc_ingress attached at fwdhost0's ingress, fwd_xdp_ingress run in live mode
// on frames "received" by fwdhost0. The container 172.18.2.2 is routed out of fwdhost0 itself,
// so what TC (or the stack) forwards arrives at fwdpeer0, is captured there and dies there (not
// addressed to it). The capture sits on fwdpeer0 on purpose (see RxCapture).
class XdpLive {
public:
    static constexpr std::chrono::milliseconds kWait{5000};

    // "" or what failed.
    std::string start(int tc_prog_fd) {
        std::string error;
        hook_ = TcIngressHook::attach(BpfNetns::status().host_ifindex, tc_prog_fd, &error);
        if (!hook_) return error;
        capture_ = RxCapture::open(BpfNetns::status().peer_ifindex, &error);
        if (!capture_) return error;
        return {};
    }

    // The first frame leaving fwdhost0 (arriving at fwdpeer0) that `wanted` accepts, within kWait.
    std::optional<Bytes> sent(const std::function<bool(const Bytes&)>& wanted) {
        const auto deadline = std::chrono::steady_clock::now() + kWait;
        while (std::chrono::steady_clock::now() < deadline) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            auto frame = capture_->next(left);
            if (frame && wanted(*frame)) return frame;
        }
        return std::nullopt;
    }

private:
    std::unique_ptr<TcIngressHook> hook_;
    std::unique_ptr<RxCapture> capture_;
};

// A TCP frame to the container published as 172.18.2.2:8080.
bool to_uplink_container(const Bytes& frame) {
    const auto pkt = decode(frame);
    return pkt.ipv4 && pkt.tcp && pkt.ipv4->daddr == ipv4_bytes(kUplinkContainer);
}

PacketBuilder forwarded_to_uplink_container() {
    return std::move(PacketBuilder()
                         .eth(kHostMac, kUplinkContainerMac)
                         .ipv4(kClient, kUplinkContainer)
                         .ttl(kTtl - 1)
                         .tcp(kClientPort, kContainerTcpPort));
}

TEST_F(XdpTcHandover, MarkedFrameIsForwardedByTcWithoutSecondTranslation) {
    ASSERT_NO_FATAL_FAILURE(datapath_->add_service(tcp_mapping_to(kUplinkContainer)));
    ASSERT_NO_FATAL_FAILURE(
        datapath_->add_conntrack(tcp_flow(kHost, 0, kUplinkContainer), coarse_monotonic_ns()));
    // A decoy: were TC to look the translated frame up again, this mapping (and its tracked
    // flow) would translate it a second time.
    const ServiceEntry decoy{
        kUplinkContainer, kContainerTcpPort, kIpProtoTcp, "172.18.2.99", 9999, 3};
    ASSERT_NO_FATAL_FAILURE(datapath_->add_service(decoy));
    ASSERT_NO_FATAL_FAILURE(
        datapath_->add_conntrack({"172.18.2.99", 9999, kClient, kClientPort, kIpProtoTcp,
                                  kUplinkContainer, kContainerTcpPort, 3, 0},
                                 coarse_monotonic_ns()));

    XdpLive live;
    ASSERT_EQ(live.start(datapath_->prog_fd(BpfDatapath::Prog::TcIngress)), "");
    const Bytes frame = client_tcp(kHost).ack().payload("marked").build();
    const ProgRunner xdp(datapath_->prog_fd(BpfDatapath::Prog::XdpIngress));
    const int err =
        xdp.run_xdp_live(frame, ProgRunner::xdp_ctx(BpfNetns::status().host_ifindex, frame.size()));
    ASSERT_EQ(err, 0) << "live XDP run: " << std::strerror(err);

    const auto sent = live.sent(to_uplink_container);
    ASSERT_TRUE(sent.has_value()) << "nothing left fwdhost0 for " << kUplinkContainer;
    EXPECT_TRUE(same_frame(forwarded_to_uplink_container().ack().payload("marked").build(), *sent))
        << "translated once by XDP, then only forwarded by TC";
    const auto sums = verify_ipv4_checksums(*sent);
    EXPECT_TRUE(sums.ok) << sums.detail;
    check_counters(datapath_->counters(),
                   {{FWD_CNT_NAT_IN}, {FWD_CNT_XDP_NAT_IN}, {FWD_CNT_REDIRECT}});
    EXPECT_EQ(datapath_->stats(kTcpMapping).packets_in, 1U);
    EXPECT_EQ(datapath_->stats(3).packets_in, 0U);
}

TEST_F(XdpTcHandover, NewFlowLeftByXdpIsTranslatedAndForwardedByTc) {
    ASSERT_NO_FATAL_FAILURE(datapath_->add_service(tcp_mapping_to(kUplinkContainer)));

    XdpLive live;
    ASSERT_EQ(live.start(datapath_->prog_fd(BpfDatapath::Prog::TcIngress)), "");
    const Bytes frame = client_tcp(kHost).syn().build();
    const ProgRunner xdp(datapath_->prog_fd(BpfDatapath::Prog::XdpIngress));
    const int err =
        xdp.run_xdp_live(frame, ProgRunner::xdp_ctx(BpfNetns::status().host_ifindex, frame.size()));
    ASSERT_EQ(err, 0) << "live XDP run: " << std::strerror(err);

    const auto sent = live.sent(to_uplink_container);
    ASSERT_TRUE(sent.has_value()) << "nothing left fwdhost0 for " << kUplinkContainer;
    EXPECT_TRUE(same_frame(forwarded_to_uplink_container().syn().build(), *sent));
    const auto sums = verify_ipv4_checksums(*sent);
    EXPECT_TRUE(sums.ok) << sums.detail;
    check_counters(
        datapath_->counters(),
        {{FWD_CNT_XDP_TO_TC}, {FWD_CNT_NAT_IN}, {FWD_CNT_CT_CREATED}, {FWD_CNT_REDIRECT}});
    const auto records = datapath_->conntrack();
    ASSERT_EQ(records.size(), 1U);
    EXPECT_EQ(records[0].entry.to_string(), tcp_flow(kHost, 0, kUplinkContainer).to_string());
}

TEST_F(XdpTcHandover, MarkedFrameWithFastPathOffIsLeftToTheStack) {
    ASSERT_NO_FATAL_FAILURE(datapath_->set_config_flags(FWD_CONFIG_NO_FAST_PATH));
    ASSERT_NO_FATAL_FAILURE(datapath_->add_service(tcp_mapping_to(kUplinkContainer)));
    ASSERT_NO_FATAL_FAILURE(
        datapath_->add_conntrack(tcp_flow(kHost, 0, kUplinkContainer), coarse_monotonic_ns()));

    XdpLive live;
    ASSERT_EQ(live.start(datapath_->prog_fd(BpfDatapath::Prog::TcIngress)), "");
    const Bytes frame = client_tcp(kHost).ack().payload("slow").build();
    const ProgRunner xdp(datapath_->prog_fd(BpfDatapath::Prog::XdpIngress));
    const int err =
        xdp.run_xdp_live(frame, ProgRunner::xdp_ctx(BpfNetns::status().host_ifindex, frame.size()));
    ASSERT_EQ(err, 0) << "live XDP run: " << std::strerror(err);

    // The stack forwards what XDP translated (it also tells the client about a better route,
    // since the frame leaves by the device it came in by: that ICMP redirect is skipped).
    const auto sent = live.sent(to_uplink_container);
    ASSERT_TRUE(sent.has_value()) << "the stack did not forward the frame";
    EXPECT_TRUE(same_frame(forwarded_to_uplink_container().ack().payload("slow").build(), *sent));
    check_counters(datapath_->counters(), {{FWD_CNT_NAT_IN}, {FWD_CNT_XDP_NAT_IN}});
}

}  // namespace
}  // namespace fwd::test
