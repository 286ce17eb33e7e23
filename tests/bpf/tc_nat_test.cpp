// fwd_tc_ingress (DNAT) and fwd_tc_egress (reverse NAT) run for real with BPF_PROG_TEST_RUN on
// packets from PacketBuilder, inside this binary's private network namespace (main.cpp), with
// private unpinned maps (loaded once per suite, emptied before each test).
//
//   TcIngressNat, TcEgressRevNat  table cases: map contents, input, expected verdict and output
//                                 bytes, counter and stats bumps, conntrack table afterwards
//   TcIngressShortFrame           frames ending inside the IPv4 header, delivered through a veth
//                                 because BPF_PROG_TEST_RUN refuses them (see there)
//   TcNatFlow                     several packets through both programs
//
// Outputs are compared byte for byte (a mismatch prints a decoded field diff) and checked with
// the independent checksum oracle. Frames shorter than an Ethernet header have no case: neither
// BPF_PROG_TEST_RUN nor a device hands such a frame to TC.
//
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <linux/pkt_cls.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <thread>
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

constexpr uint32_t kVerdictOk = TC_ACT_OK;
constexpr uint32_t kVerdictShot = TC_ACT_SHOT;

// The flow most cases use: client 10.0.0.9:40000 -> host 10.0.0.1:80 -> container
// 172.17.0.2:8080 (TCP, mapping 1), or host :5353 -> container :53 (UDP, mapping 2).
constexpr const char* kClient = "10.0.0.9";
constexpr const char* kClientMac = "02:00:00:00:00:09";
constexpr const char* kBroadcastMac = "ff:ff:ff:ff:ff:ff";
constexpr uint16_t kClientPort = 40000;
constexpr const char* kHost = kHostAddr;
constexpr const char* kRoutedDst = "10.0.0.50";  // on fwdhost0's subnet, not a host address
constexpr const char* kAnyAddr = "0.0.0.0";
constexpr const char* kLoopback = "127.0.0.1";
constexpr uint16_t kHostTcpPort = 80;
constexpr uint16_t kHostUdpPort = 5353;
constexpr const char* kContainer = "172.17.0.2";
constexpr uint16_t kContainerTcpPort = 8080;
constexpr uint16_t kContainerUdpPort = 53;
constexpr uint32_t kTcpMapping = 1;
constexpr uint32_t kUdpMapping = 2;

enum class Hook { Ingress, Egress };
enum class Device { Host, Loopback };

// Where check_conntrack() lets a flow's forward packets go besides the stack: nowhere, as
// there is no route to the test's containers.
constexpr uint32_t kNoRedirectDevice = 0;

// ---------------------------------------------------------------------------------------------
// Table cases

struct NatCase {
    std::string name;
    Device device = Device::Host;
    std::vector<ServiceEntry> services;
    std::vector<ConntrackEntry> conntrack;
    Bytes input;
    uint32_t verdict = kVerdictOk;
    Bytes expected;
    std::vector<CounterBump> counters;  // every other counter must stay 0
    std::vector<StatsBump> stats;       // every other test stats slot must stay 0
    // The whole conntrack table afterwards; nullopt: exactly the entries the case inserted.
    std::optional<std::vector<ConntrackEntry>> conntrack_after;
};

void PrintTo(const NatCase& c, std::ostream* os) {
    *os << c.name;
}

// Builds one table row; each row names only what it is about.
class CaseBuilder : public CaseBuilderBase<CaseBuilder, NatCase> {
public:
    explicit CaseBuilder(std::string name) : CaseBuilderBase(std::move(name)) {}

    CaseBuilder& on(Device device) {
        case_.device = device;
        return *this;
    }
    // Dropped unchanged (TC_ACT_SHOT), counted in `counter`.
    CaseBuilder& dropped(fwd_counter_id counter) {
        case_.verdict = kVerdictShot;
        return passes(counter);
    }
};

// ---------------------------------------------------------------------------------------------
// Fixtures

class TcProgramTest : public TcProgramFixture {
protected:
    static int ifindex(Device device) {
        return device == Device::Host ? BpfNetns::status().host_ifindex : kLoopbackIfindex;
    }

    static ProgRun run(Hook hook, const Bytes& packet, Device device = Device::Host,
                       SkbChecksum csum = SkbChecksum::None) {
        return run_tc(hook == Hook::Ingress, packet, ifindex(device), csum);
    }

    // Runs one table case through `hook` on an skb in checksum state `csum` and checks every
    // expectation.
    static void check_case(Hook hook, const NatCase& c, SkbChecksum csum) {
        if (csum == SkbChecksum::Complete && !checksum_complete_supported_) {
            GTEST_SKIP() << "kernel lacks BPF_F_TEST_SKB_CHECKSUM_COMPLETE (Linux 6.11+)";
        }
        const uint64_t inserted_at = coarse_monotonic_ns();
        ASSERT_NO_FATAL_FAILURE(insert(c.services, c.conntrack, inserted_at));

        const uint64_t started = coarse_monotonic_ns();
        const ProgRun result = run(hook, c.input, c.device, csum);
        const uint64_t finished = coarse_monotonic_ns();
        ASSERT_NO_FATAL_FAILURE(expect_ran(result));

        EXPECT_EQ(result.retval, c.verdict) << "verdict (0 TC_ACT_OK, 2 TC_ACT_SHOT)";
        check_case_outcome(*datapath_, c, result.data, c.conntrack_after.value_or(c.conntrack),
                           c.conntrack, inserted_at, started, finished, kNoRedirectDevice);
    }
};

// Table suites run every case twice: on a CHECKSUM_NONE skb (named after the case) and on a
// CHECKSUM_COMPLETE one (name + "ChecksumComplete"), where the kernel also checks skb->csum.
using TableParam = std::tuple<NatCase, SkbChecksum>;

class TcIngressNat : public TcProgramTest, public testing::WithParamInterface<TableParam> {};
class TcEgressRevNat : public TcProgramTest, public testing::WithParamInterface<TableParam> {};
class TcNatFlow : public TcProgramTest {};

std::string case_name(const testing::TestParamInfo<TableParam>& info) {
    const auto& [c, csum] = info.param;
    return c.name + (csum == SkbChecksum::Complete ? "ChecksumComplete" : "");
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

// The conntrack entry the client's TCP flow to `host`:80 creates.
ConntrackEntry tcp_flow(const std::string& host = kHost, uint64_t age_ns = 0) {
    return {kContainer, kContainerTcpPort, kClient,     kClientPort, kIpProtoTcp,
            host,       kHostTcpPort,      kTcpMapping, age_ns};
}

ConntrackEntry udp_flow(uint64_t age_ns = 0) {
    return {kContainer, kContainerUdpPort, kClient,     kClientPort, kIpProtoUdp,
            kHost,      kHostUdpPort,      kUdpMapping, age_ns};
}

// Client -> dst over TCP/UDP, from kClient:kClientPort.
PacketBuilder client_tcp(const std::string& dst, uint16_t dport = kHostTcpPort) {
    return std::move(PacketBuilder().eth().ipv4(kClient, dst).tcp(kClientPort, dport));
}

PacketBuilder client_udp(const std::string& dst, uint16_t dport = kHostUdpPort) {
    return std::move(PacketBuilder().eth().ipv4(kClient, dst).udp(kClientPort, dport));
}

// Container -> client replies, from `src`:`sport`.
PacketBuilder reply_tcp(const std::string& src = kContainer, uint16_t sport = kContainerTcpPort) {
    return std::move(PacketBuilder().eth().ipv4(src, kClient).tcp(sport, kClientPort));
}

PacketBuilder reply_udp(const std::string& src = kContainer, uint16_t sport = kContainerUdpPort) {
    return std::move(PacketBuilder().eth().ipv4(src, kClient).udp(sport, kClientPort));
}

// Record Route with room for 9 addresses: 39 bytes, padded to the 40-byte maximum.
std::vector<uint8_t> max_ip_options() {
    std::vector<uint8_t> options = {7, 39, 4};
    options.resize(39, 0);
    return options;
}

const std::vector<uint8_t> kRouterAlert = {0x94, 0x04, 0x00, 0x00};

// Aborts unless a "computes to zero" case really exercises RFC 768's rule: the translated
// checksum computes to 0 and goes out as 0xffff, and the input carried an ordinary checksum.
void require_zero_udp_sum_case(const NatCase& c) {
    if (computed_udp_checksum(c.expected) != 0 || decode(c.expected).udp->check != 0xffff ||
        decode(c.input).udp->check == 0) {
        std::fprintf(stderr, "%s: payload search failed\n", c.name.c_str());
        std::abort();
    }
}

// ---------------------------------------------------------------------------------------------
// ICMP errors about tracked flows

constexpr const char* kClientRouter = "10.0.0.254";     // a router on the client's side
constexpr const char* kContainerRouter = "172.17.0.254";  // a router on the container's side
constexpr uint32_t kLinkMtu = 1280;

// An ICMP error from `src` to `dst` quoting `quote`.
PacketBuilder icmp_error(const std::string& src, const std::string& dst, uint8_t type,
                         uint8_t code, const Bytes& quote, uint32_t rest = 0) {
    return std::move(PacketBuilder().eth().ipv4(src, dst).icmp_error(type, code, quote, rest));
}

PacketBuilder frag_needed(const std::string& src, const std::string& dst, const Bytes& quote) {
    return icmp_error(src, dst, kIcmpDestUnreach, kIcmpFragNeeded, quote, kLinkMtu);
}

// Errors on their way to a client (egress), quoting a client -> container packet.
std::vector<NatCase> icmp_to_client_cases() {
    std::vector<NatCase> cases;
    auto add = [&cases](const CaseBuilder& builder) { cases.push_back(builder.build()); };
    const Bytes udp_in = client_udp(kContainer, kContainerUdpPort).payload("query").build();
    const Bytes udp_sent = client_udp(kHost).payload("query").build();
    const Bytes tcp_in = client_tcp(kContainer, kContainerTcpPort).ack().payload("data").build();
    const Bytes tcp_sent = client_tcp(kHost).ack().payload("data").build();
    const size_t tcp_through_checksum = kIpv4HeaderLen + 18;
    const size_t eight_l4_bytes = kIpv4HeaderLen + 8;

    add(CaseBuilder("IcmpFragNeededFromHostShowsTheClientItsOwnPacket")
            .conntrack({udp_flow()})
            .input(frag_needed(kHost, kClient, ip_packet_of(udp_in)).build())
            .output(frag_needed(kHost, kClient, ip_packet_of(udp_sent)).build())
            .counts(FWD_CNT_ICMP_ERROR_NAT));
    add(CaseBuilder("IcmpPortUnreachableFromContainerComesFromPublishedAddress")
            .conntrack({udp_flow()})
            .input(icmp_error(kContainer, kClient, kIcmpDestUnreach, kIcmpPortUnreach,
                              ip_packet_of(udp_in))
                       .build())
            .output(icmp_error(kHost, kClient, kIcmpDestUnreach, kIcmpPortUnreach,
                               ip_packet_of(udp_sent))
                        .build())
            .counts(FWD_CNT_ICMP_ERROR_NAT));
    add(CaseBuilder("IcmpTimeExceededQuotingTcpChecksum")
            .conntrack({tcp_flow()})
            .input(icmp_error(kContainerRouter, kClient, kIcmpTimeExceeded, 0,
                              ip_packet_of(tcp_in, tcp_through_checksum))
                       .build())
            .output(icmp_error(kContainerRouter, kClient, kIcmpTimeExceeded, 0,
                               ip_packet_of(tcp_sent, tcp_through_checksum))
                        .build())
            .counts(FWD_CNT_ICMP_ERROR_NAT));
    add(CaseBuilder("IcmpQuotingOnlyEightTcpBytes")
            .conntrack({tcp_flow()})
            .input(frag_needed(kHost, kClient, ip_packet_of(tcp_in, eight_l4_bytes)).build())
            .output(frag_needed(kHost, kClient, ip_packet_of(tcp_sent, eight_l4_bytes)).build())
            .counts(FWD_CNT_ICMP_ERROR_NAT));
    add(CaseBuilder("IcmpQuotingUdpWithoutChecksumKeepsItZero")
            .conntrack({udp_flow()})
            .input(frag_needed(kHost, kClient,
                               ip_packet_of(client_udp(kContainer, kContainerUdpPort)
                                                .zero_udp_checksum()
                                                .payload("query")
                                                .build()))
                       .build())
            .output(frag_needed(kHost, kClient,
                                ip_packet_of(
                                    client_udp(kHost).zero_udp_checksum().payload("query").build()))
                        .build())
            .counts(FWD_CNT_ICMP_ERROR_NAT));
    add(CaseBuilder("IcmpQuotingIpOptionsAndCarryingThem")
            .conntrack({udp_flow()})
            .input(frag_needed(kHost, kClient,
                               ip_packet_of(client_udp(kContainer, kContainerUdpPort)
                                                .ip_options(max_ip_options())
                                                .payload("query")
                                                .build()))
                       .ip_options({1, 1, 1, 1})
                       .build())
            .output(
                frag_needed(
                    kHost, kClient,
                    ip_packet_of(
                        client_udp(kHost).ip_options(max_ip_options()).payload("query").build()))
                    .ip_options({1, 1, 1, 1})
                    .build())
            .counts(FWD_CNT_ICMP_ERROR_NAT));
    add(CaseBuilder("IcmpAboutUntrackedFlowPasses")
            .input(frag_needed(kHost, kClient, ip_packet_of(udp_in)).build())
            .passes(FWD_CNT_PASS_NO_MATCH));
    add(CaseBuilder("IcmpAboutAgedOutFlowPasses")
            .conntrack({udp_flow(FWD_CT_UDP_LIFETIME_NS + kNsPerSec)})
            .input(frag_needed(kHost, kClient, ip_packet_of(udp_in)).build())
            .passes(FWD_CNT_PASS_NO_MATCH));
    add(CaseBuilder("IcmpNotAddressedToTheQuotedClientPasses")
            .conntrack({udp_flow()})
            .input(frag_needed(kHost, "10.0.0.77", ip_packet_of(udp_in)).build())
            .passes(FWD_CNT_PASS_NO_MATCH));
    add(CaseBuilder("IcmpQuoteEndingInsideThePortsPasses")
            .conntrack({udp_flow()})
            .input(frag_needed(kHost, kClient, ip_packet_of(udp_in, kIpv4HeaderLen + 3)).build())
            .passes(FWD_CNT_PASS_NOT_L4));
    add(CaseBuilder("IcmpQuotingALaterFragmentPasses")
            .conntrack({udp_flow()})
            .input(frag_needed(kHost, kClient,
                               ip_packet_of(client_udp(kContainer, kContainerUdpPort)
                                                .fragment(false, 8)
                                                .payload("query")
                                                .build()))
                       .build())
            .passes(FWD_CNT_PASS_NOT_L4));
    add(CaseBuilder("IcmpQuotingAMalformedHeaderPasses")
            .conntrack({udp_flow()})
            .input(frag_needed(kHost, kClient,
                               ip_packet_of(client_udp(kContainer, kContainerUdpPort)
                                                .bad_ihl(4)
                                                .payload("query")
                                                .build()))
                       .build())
            .passes(FWD_CNT_PASS_MALFORMED));
    add(CaseBuilder("IcmpErrorThatIsAFragmentPasses")
            .conntrack({udp_flow()})
            .input(frag_needed(kHost, kClient, ip_packet_of(udp_in)).fragment(true, 0).build())
            .passes(FWD_CNT_PASS_FRAGMENT));
    add(CaseBuilder("IcmpErrorTruncatedBeforeItsQuotePasses")
            .conntrack({udp_flow()})
            .input(frag_needed(kHost, kClient, ip_packet_of(udp_in))
                       .truncate(kEthHeaderLen + kIpv4HeaderLen + 12)
                       .build())
            .passes(FWD_CNT_PASS_TRUNCATED));
    return cases;
}

// Errors from the client's side (ingress), quoting a reply fwd sent with the published source.
std::vector<NatCase> icmp_to_container_cases() {
    std::vector<NatCase> cases;
    auto add = [&cases](const CaseBuilder& builder) { cases.push_back(builder.build()); };
    const Bytes tcp_sent = reply_tcp(kHost, kHostTcpPort).ack().payload("big reply").build();
    const Bytes tcp_container = reply_tcp().ack().payload("big reply").build();
    const Bytes udp_sent = reply_udp(kHost, kHostUdpPort).payload("answer").build();
    const Bytes udp_container = reply_udp().payload("answer").build();

    add(CaseBuilder("IcmpFragNeededAboutReplyGoesToTheContainer")
            .services({kWildcardTcp})
            .conntrack({tcp_flow()})
            .input(frag_needed(kClientRouter, kHost, ip_packet_of(tcp_sent)).build())
            .output(frag_needed(kClientRouter, kContainer, ip_packet_of(tcp_container)).build())
            .counts(FWD_CNT_ICMP_ERROR_NAT));
    add(CaseBuilder("IcmpPortUnreachableAboutUdpReplyGoesToTheContainer")
            .services({kExactUdp})
            .conntrack({udp_flow()})
            .input(icmp_error(kClient, kHost, kIcmpDestUnreach, kIcmpPortUnreach,
                              ip_packet_of(udp_sent))
                       .build())
            .output(icmp_error(kClient, kContainer, kIcmpDestUnreach, kIcmpPortUnreach,
                               ip_packet_of(udp_container))
                        .build())
            .counts(FWD_CNT_ICMP_ERROR_NAT));
    add(CaseBuilder("IcmpAboutReplyToUntrackedClientPasses")
            .services({kWildcardTcp})
            .input(frag_needed(kClientRouter, kHost, ip_packet_of(tcp_sent)).build())
            .passes(FWD_CNT_PASS_NO_MATCH));
    add(CaseBuilder("IcmpAboutAnUnpublishedPortPasses")
            .services({kWildcardTcp})
            .conntrack({tcp_flow()})
            .input(frag_needed(kClientRouter, kHost,
                               ip_packet_of(reply_tcp(kHost, 81).ack().payload("x").build()))
                       .build())
            .passes(FWD_CNT_PASS_NO_MATCH));
    add(CaseBuilder("IcmpAboutReplyFromAnotherHostAddressPasses")
            .services({kWildcardTcp})
            .conntrack({tcp_flow()})
            .input(frag_needed(kClientRouter, kRoutedDst,
                               ip_packet_of(reply_tcp(kRoutedDst, kHostTcpPort).ack().build()))
                       .build())
            .passes(FWD_CNT_PASS_NO_MATCH));
    add(CaseBuilder("IcmpNotAddressedToTheReplySourcePasses")
            .services({kWildcardTcp})
            .conntrack({tcp_flow()})
            .input(frag_needed(kClientRouter, kRoutedDst, ip_packet_of(tcp_sent)).build())
            .passes(FWD_CNT_PASS_NO_MATCH));
    return cases;
}


// Mappings with an --allow list: only sources inside it open new flows.
ServiceEntry allowing(ServiceEntry service, std::vector<std::string> allow) {
    service.allow = std::move(allow);
    return service;
}

std::vector<NatCase> allow_list_cases() {
    std::vector<NatCase> cases;
    auto add = [&cases](const CaseBuilder& builder) { cases.push_back(builder.build()); };
    const Bytes syn = client_tcp(kHost).syn().build();
    const Bytes translated_syn = client_tcp(kContainer, kContainerTcpPort).syn().build();

    add(CaseBuilder("AllowedNetworkOpensAFlow")
            .services({allowing(kExactTcp, {"192.168.0.0/16", "10.0.0.0/24"})})
            .input(syn)
            .output(translated_syn)
            .new_flow(kTcpMapping, tcp_flow()));
    add(CaseBuilder("AllowedSingleAddressOpensAFlow")
            .services({allowing(kWildcardTcp, {"10.0.0.9/32"})})
            .input(syn)
            .output(translated_syn)
            .new_flow(kTcpMapping, tcp_flow()));
    add(CaseBuilder("AllowListOfEveryNetworkOpensAFlow")
            .services({allowing(kExactTcp, {"0.0.0.0/0"})})
            .input(syn)
            .output(translated_syn)
            .new_flow(kTcpMapping, tcp_flow()));
    add(CaseBuilder("SourceOutsideTheAllowListIsDropped")
            .services({allowing(kExactTcp, {"192.168.0.0/16", "10.0.0.10/32", "10.0.1.0/24"})})
            .input(syn)
            .dropped(FWD_CNT_DROP_NOT_ALLOWED));
    add(CaseBuilder("UdpFromOutsideTheAllowListIsDropped")
            .services({allowing(kExactUdp, {"10.0.1.0/24"})})
            .input(client_udp(kHost).payload("query").build())
            .dropped(FWD_CNT_DROP_NOT_ALLOWED));
    // Mapping 2's list (which holds the client) must not open mapping 1.
    add(CaseBuilder("AnotherMappingsAllowListDoesNotAdmit")
            .services({allowing(kExactTcp, {"192.168.0.0/16"}), allowing(kExactUdp, {"10.0.0.0/8"})})
            .input(syn)
            .dropped(FWD_CNT_DROP_NOT_ALLOWED));
    // Only new flows ask: the control plane flushes a mapping's flows when its list changes.
    add(CaseBuilder("TrackedFlowIsNotAskedAgain")
            .services({allowing(kExactTcp, {"192.168.0.0/16"})})
            .conntrack({tcp_flow(kHost, kNsPerSec / 10)})
            .input(client_tcp(kHost).ack().payload("more").build())
            .output(client_tcp(kContainer, kContainerTcpPort).ack().payload("more").build())
            .tracked_in(kTcpMapping));
    return cases;
}

void append(std::vector<NatCase>& cases, const std::vector<NatCase>& more) {
    cases.insert(cases.end(), more.begin(), more.end());
}

// ---------------------------------------------------------------------------------------------
// Ingress table

std::vector<NatCase> ingress_cases() {
    std::vector<NatCase> cases;
    auto add = [&cases](const CaseBuilder& builder) { cases.push_back(builder.build()); };
    const std::string host = kHost;
    const std::string container = kContainer;
    const auto to_container_tcp = [&] { return client_tcp(container, kContainerTcpPort); };
    const auto to_container_udp = [&] { return client_udp(container, kContainerUdpPort); };

    // Translated -------------------------------------------------------------------------------
    add(CaseBuilder("TcpSynHitsExactMapping")
            .services({kExactTcp})
            .input(client_tcp(host).syn().payload("hello").build())
            .output(to_container_tcp().syn().payload("hello").build())
            .new_flow(kTcpMapping, tcp_flow()));
    add(CaseBuilder("TcpAckOfTrackedFlowCreatesNoFlow")
            .services({kExactTcp})
            .conntrack({tcp_flow(kHost, kNsPerSec / 10)})
            .input(client_tcp(host).ack().seq(1001).ack_seq(77).payload("GET /").build())
            .output(to_container_tcp().ack().seq(1001).ack_seq(77).payload("GET /").build())
            .tracked_in(kTcpMapping));
    {
        // The client port last reached the container through another mapping (host port 81,
        // mapping 3): the entry is retracked for this flow's published address.
        auto stale = tcp_flow(kHost, kNsPerSec);
        stale.host_port = 81;
        stale.mapping_id = 3;
        add(CaseBuilder("TrackedClientPortOfOtherMappingIsRetracked")
                .services({kExactTcp})
                .conntrack({stale})
                .input(client_tcp(host).syn().build())
                .output(to_container_tcp().syn().build())
                .new_flow(kTcpMapping, tcp_flow()));
    }
    add(CaseBuilder("UdpHitsExactMapping")
            .services({kExactUdp})
            .input(client_udp(host).payload("query").build())
            .output(to_container_udp().payload("query").build())
            .new_flow(kUdpMapping, udp_flow()));
    add(CaseBuilder("UdpZeroChecksumStaysZero")
            .services({kExactUdp})
            .input(client_udp(host).zero_udp_checksum().payload("query").build())
            .output(to_container_udp().zero_udp_checksum().payload("query").build())
            .new_flow(kUdpMapping, udp_flow()));
    {
        // Without a port change no L4 byte changes, so skb->csum needs no update.
        const ServiceEntry addr_only{kHost,      kHostUdpPort, kIpProtoUdp,
                                     kContainer, kHostUdpPort, kUdpMapping};
        auto flow = udp_flow();
        flow.container_port = kHostUdpPort;
        add(CaseBuilder("UdpZeroChecksumAddressOnlyRewrite")
                .services({addr_only})
                .input(client_udp(host).zero_udp_checksum().payload("query").build())
                .output(client_udp(container, kHostUdpPort)
                            .zero_udp_checksum()
                            .payload("query")
                            .build())
                .new_flow(kUdpMapping, flow));
    }
    {
        const auto translated = [&](const Bytes& payload) {
            return to_container_udp().payload(payload).build();
        };
        const Bytes payload = payload_with_zero_udp_sum(translated);
        add(CaseBuilder("UdpChecksumComputingToZeroIsSentAsFfff")
                .services({kExactUdp})
                .input(client_udp(host).payload(payload).build())
                .output(translated(payload))
                .new_flow(kUdpMapping, udp_flow()));
        require_zero_udp_sum_case(cases.back());
    }
    add(CaseBuilder("WildcardHitsLocalDestination")
            .services({kWildcardTcp})
            .input(client_tcp(host).syn().build())
            .output(to_container_tcp().syn().build())
            .new_flow(kTcpMapping, tcp_flow(kHost)));
    add(CaseBuilder("UdpWildcardHitsLocalDestination")
            .services({kWildcardUdp})
            .input(client_udp(host).payload("q").build())
            .output(to_container_udp().payload("q").build())
            .new_flow(kUdpMapping, udp_flow()));
    {
        // Both present: the exact entry's container wins over the wildcard's.
        const ServiceEntry other{kAnyAddr, kHostTcpPort, kIpProtoTcp, "172.17.0.99", 9999, 5};
        add(CaseBuilder("ExactMappingWinsOverWildcard")
                .services({kExactTcp, other})
                .input(client_tcp(host).syn().build())
                .output(to_container_tcp().syn().build())
                .new_flow(kTcpMapping, tcp_flow()));
    }
    add(CaseBuilder("IpOptionsAreKeptAndCounted")
            .services({kExactTcp})
            .input(client_tcp(host).ip_options(kRouterAlert).syn().payload("opt").build())
            .output(to_container_tcp().ip_options(kRouterAlert).syn().payload("opt").build())
            .new_flow(kTcpMapping, tcp_flow())
            .counts(FWD_CNT_IP_OPTIONS));
    add(CaseBuilder("MaximumIpOptionsAreKeptAndCounted")
            .services({kExactUdp})
            .input(client_udp(host).ip_options(max_ip_options()).payload("x").build())
            .output(to_container_udp().ip_options(max_ip_options()).payload("x").build())
            .new_flow(kUdpMapping, udp_flow())
            .counts(FWD_CNT_IP_OPTIONS));
    add(CaseBuilder("DontFragmentIsNoFragment")
            .services({kExactTcp})
            .input(client_tcp(host).dont_fragment().syn().build())
            .output(to_container_tcp().dont_fragment().syn().build())
            .new_flow(kTcpMapping, tcp_flow()));
    add(CaseBuilder("EthernetPaddingIsKeptAndCounted")
            .services({kExactUdp})
            .input(client_udp(host).payload("pad").pad_to(60).build())
            .output(to_container_udp().payload("pad").pad_to(60).build())
            .new_flow(kUdpMapping, udp_flow()));
    {
        // Same address, other port: only the port and the L4 checksum change.
        const ServiceEntry port_only{kHost, kHostTcpPort,      kIpProtoTcp,
                                     kHost, kContainerTcpPort, kTcpMapping};
        auto flow = tcp_flow();
        flow.container_addr = kHost;
        add(CaseBuilder("PortOnlyRewrite")
                .services({port_only})
                .input(client_tcp(host).syn().build())
                .output(client_tcp(host, kContainerTcpPort).syn().build())
                .new_flow(kTcpMapping, flow));
    }
    {
        // Same port, other address: the IP and pseudo-header sums change, the port does not.
        const ServiceEntry addr_only{kHost,      kHostTcpPort, kIpProtoTcp,
                                     kContainer, kHostTcpPort, kTcpMapping};
        auto flow = tcp_flow();
        flow.container_port = kHostTcpPort;
        add(CaseBuilder("AddressOnlyRewrite")
                .services({addr_only})
                .input(client_tcp(host).syn().build())
                .output(client_tcp(container, kHostTcpPort).syn().build())
                .new_flow(kTcpMapping, flow));
    }
    const ServiceEntry loopback{kLoopback,  kHostTcpPort,      kIpProtoTcp,
                                kContainer, kContainerTcpPort, kTcpMapping};
    add(CaseBuilder("LoopbackMappingOnLoopbackDeviceIsTranslated")
            .on(Device::Loopback)
            .services({loopback})
            .input(client_tcp(kLoopback).syn().build())
            .output(to_container_tcp().syn().build())
            .new_flow(kTcpMapping, tcp_flow(kLoopback)));

    // Dropped -----------------------------------------------------------------------------------
    add(CaseBuilder("LoopbackMappingFromOutsideIsDropped")
            .services({loopback})
            .input(client_tcp(kLoopback).syn().build())
            .dropped(FWD_CNT_DROP_LOOPBACK));
    add(CaseBuilder("LoopbackDestinationHittingWildcardFromOutsideIsDropped")
            .services({kWildcardTcp})
            .input(client_tcp(kLoopback).syn().build())
            .dropped(FWD_CNT_DROP_LOOPBACK));

    // Passed unchanged: no mapping applies -------------------------------------------------------
    add(CaseBuilder("LoopbackDestinationWithoutMappingPasses")
            .services({kExactTcp})
            .input(client_tcp(kLoopback, 81).syn().build())
            .passes(FWD_CNT_PASS_NO_MATCH));
    add(CaseBuilder("WildcardSkipsRoutedDestination")
            .services({kWildcardTcp})
            .input(client_tcp(kRoutedDst).syn().build())
            .passes(FWD_CNT_PASS_NOT_LOCAL));
    add(CaseBuilder("WildcardSkipsMulticastDestination")
            .services({kWildcardUdp})
            .input(client_udp("224.0.0.251")
                       .eth(kClientMac, "01:00:5e:00:00:fb")
                       .payload("mdns")
                       .build())
            .passes(FWD_CNT_PASS_NOT_LOCAL));
    add(CaseBuilder("WildcardSkipsLimitedBroadcast")
            .services({kWildcardUdp})
            .input(
                client_udp("255.255.255.255").eth(kClientMac, kBroadcastMac).payload("b").build())
            .passes(FWD_CNT_PASS_NOT_LOCAL));
    add(CaseBuilder("WildcardSkipsSubnetBroadcast")
            .services({kWildcardUdp})
            .input(client_udp("10.0.0.255").eth(kClientMac, kBroadcastMac).payload("b").build())
            .passes(FWD_CNT_PASS_NOT_LOCAL));
    add(CaseBuilder("ExactMappingForOtherAddressMisses")
            .services({{"10.0.0.2", kHostTcpPort, kIpProtoTcp, kContainer, kContainerTcpPort,
                        kTcpMapping}})
            .input(client_tcp(host).syn().build())
            .passes(FWD_CNT_PASS_NO_MATCH));
    add(CaseBuilder("UnmappedPortMisses")
            .services({kExactTcp})
            .input(client_tcp(host, 81).syn().build())
            .passes(FWD_CNT_PASS_NO_MATCH));
    add(CaseBuilder("UdpToTcpMappingMisses")
            .services({kExactTcp, kWildcardTcp})
            .input(client_udp(host, kHostTcpPort).payload("q").build())
            .passes(FWD_CNT_PASS_NO_MATCH));
    add(CaseBuilder("TcpToUdpMappingMisses")
            .services({kExactUdp, kWildcardUdp})
            .input(client_tcp(host, kHostUdpPort).syn().build())
            .passes(FWD_CNT_PASS_NO_MATCH));
    add(CaseBuilder("EmptyTablesMiss")
            .input(client_tcp(host).syn().build())
            .passes(FWD_CNT_PASS_NO_MATCH));

    // Passed unchanged: fragments ----------------------------------------------------------------
    add(CaseBuilder("FirstFragmentPasses")
            .services({kExactTcp})
            .input(client_tcp(host).fragment(true, 0).syn().payload("part1").build())
            .passes(FWD_CNT_PASS_FRAGMENT));
    add(CaseBuilder("MiddleFragmentPasses")
            .services({kExactTcp})
            .input(PacketBuilder()
                       .eth()
                       .ipv4(kClient, kHost)
                       .ip_proto(kIpProtoTcp)
                       .fragment(true, 3)
                       .payload("middle-of-a-segment")
                       .build())
            .passes(FWD_CNT_PASS_FRAGMENT));
    add(CaseBuilder("LastFragmentPasses")
            .services({kExactUdp})
            .input(PacketBuilder()
                       .eth()
                       .ipv4(kClient, kHost)
                       .ip_proto(kIpProtoUdp)
                       .fragment(false, 185)
                       .payload("tail")
                       .build())
            .passes(FWD_CNT_PASS_FRAGMENT));

    // Passed unchanged: every header boundary, and inside each header, cut short. Frames ending
    // before the end of the fixed IPv4 header are in TcIngressShortFrame. -------------------
    const Bytes tcp_full = client_tcp(host).syn().payload("hello").build();
    const Bytes udp_full = client_udp(host).payload("hello").build();
    const Bytes opt_full = client_tcp(host).ip_options({1, 1, 1, 1, 1, 1, 1, 0}).syn().build();
    constexpr size_t kL4 = kEthHeaderLen + kIpv4HeaderLen;
    struct Cut {
        const char* name;
        const Bytes* frame;
        size_t length;
    };
    const Cut cuts[] = {
        {"TruncatedInsideIpOptions", &opt_full, kL4 + 4},
        {"TruncatedAfterIpv4Header", &tcp_full, kL4},
        {"TruncatedInsideTcpPorts", &tcp_full, kL4 + 3},
        {"TruncatedInsideTcpHeader", &tcp_full, kL4 + 12},
        {"TruncatedBeforeTcpChecksum", &tcp_full, kL4 + 16},
        {"TruncatedAfterTcpHeader", &tcp_full, kL4 + kTcpHeaderLen},
        {"TruncatedInsideTcpPayload", &tcp_full, kL4 + kTcpHeaderLen + 2},
        {"TruncatedInsideUdpHeader", &udp_full, kL4 + 4},
        {"TruncatedBeforeUdpChecksum", &udp_full, kL4 + 6},
        {"TruncatedAfterUdpHeader", &udp_full, kL4 + kUdpHeaderLen},
        {"TruncatedInsideUdpPayload", &udp_full, kL4 + kUdpHeaderLen + 1},
    };
    for (const auto& cut : cuts) {
        add(CaseBuilder(cut.name)
                .services({kExactTcp, kExactUdp})
                .input(
                    Bytes(cut.frame->begin(), cut.frame->begin() + static_cast<long>(cut.length)))
                .passes(FWD_CNT_PASS_TRUNCATED));
    }
    // Complete frames whose IPv4 total length ends inside the L4 header, or after the frame.
    add(CaseBuilder("TotalLengthEndsInsideTcpHeader")
            .services({kExactTcp})
            .input(client_tcp(host).syn().tot_len(kIpv4HeaderLen + 10).build())
            .passes(FWD_CNT_PASS_TRUNCATED));
    add(CaseBuilder("TotalLengthEndsInsideUdpHeader")
            .services({kExactUdp})
            .input(client_udp(host).payload("q").tot_len(kIpv4HeaderLen + 4).build())
            .passes(FWD_CNT_PASS_TRUNCATED));
    add(CaseBuilder("TotalLengthBeyondFrame")
            .services({kExactTcp})
            .input(client_tcp(host).syn().payload("hi").tot_len(100).build())
            .passes(FWD_CNT_PASS_TRUNCATED));

    // Passed unchanged: malformed headers ---------------------------------------------------------
    add(CaseBuilder("IhlFourIsMalformed")
            .services({kExactTcp})
            .input(client_tcp(host).bad_ihl(4).syn().build())
            .passes(FWD_CNT_PASS_MALFORMED));
    add(CaseBuilder("IhlZeroIsMalformed")
            .services({kExactTcp})
            .input(client_tcp(host).bad_ihl(0).syn().build())
            .passes(FWD_CNT_PASS_MALFORMED));
    add(CaseBuilder("IhlBeyondTotalLengthIsMalformed")
            .services({kExactTcp})
            .input(client_tcp(host).bad_ihl(15).syn().build())
            .passes(FWD_CNT_PASS_MALFORMED));
    add(CaseBuilder("TotalLengthBelowIhlIsMalformed")
            .services({kExactTcp})
            .input(client_tcp(host).syn().tot_len(16).build())
            .passes(FWD_CNT_PASS_MALFORMED));
    add(CaseBuilder("Ipv4EthertypeWithVersionSixIsMalformed")
            .services({kExactTcp})
            .input(client_tcp(host).ip_version(6).syn().build())
            .passes(FWD_CNT_PASS_MALFORMED));
    add(CaseBuilder("TcpDataOffsetBelowFiveIsMalformed")
            .services({kExactTcp})
            .input(client_tcp(host).tcp_doff(4).syn().build())
            .passes(FWD_CNT_PASS_MALFORMED));
    add(CaseBuilder("UdpLengthBelowHeaderIsMalformed")
            .services({kExactUdp})
            .input(client_udp(host).payload("q").udp_len(7).build())
            .passes(FWD_CNT_PASS_MALFORMED));
    add(CaseBuilder("UdpLengthBeyondIpPayloadIsMalformed")
            .services({kExactUdp})
            .input(client_udp(host).payload("q").udp_len(10).build())
            .passes(FWD_CNT_PASS_MALFORMED));

    // Passed unchanged: not IPv4 TCP/UDP
    // -----------------------------------------------------------
    add(CaseBuilder("ArpPasses")
            .services({kWildcardTcp})
            .input(PacketBuilder().eth().arp_request(kClient, kHost).build())
            .passes(FWD_CNT_PASS_NOT_IP));
    // IPv6 has its own mappings (tc_nat6_test.cpp): an IPv4 one never matches it.
    add(CaseBuilder("Ipv6TcpMissesIpv4Mapping")
            .services({kWildcardTcp})
            .input(PacketBuilder()
                       .eth()
                       .ipv6("fd00::9", "fd00::1")
                       .tcp(kClientPort, kHostTcpPort)
                       .syn()
                       .build())
            .passes(FWD_CNT_PASS_NO_MATCH));
    add(CaseBuilder("VlanTaggedIpv4Passes")
            .services({kExactTcp})
            .input(PacketBuilder()
                       .eth()
                       .vlan(100)
                       .ipv4(kClient, kHost)
                       .tcp(kClientPort, kHostTcpPort)
                       .syn()
                       .build())
            .passes(FWD_CNT_PASS_NOT_IP));
    add(CaseBuilder("IcmpPasses")
            .services({kWildcardTcp, kWildcardUdp})
            .input(PacketBuilder().eth().ipv4(kClient, kHost).icmp_echo(7, 1).build())
            .passes(FWD_CNT_PASS_NOT_L4));
    append(cases, icmp_to_container_cases());
    append(cases, allow_list_cases());
    return cases;
}

// ---------------------------------------------------------------------------------------------
// Egress table

std::vector<NatCase> egress_cases() {
    std::vector<NatCase> cases;
    auto add = [&cases](const CaseBuilder& builder) { cases.push_back(builder.build()); };
    const std::string host = kHost;
    const auto published_tcp = [&] { return reply_tcp(host, kHostTcpPort); };
    const auto published_udp = [&] { return reply_udp(host, kHostUdpPort); };

    // Translated -------------------------------------------------------------------------------
    add(CaseBuilder("TcpReplyGetsPublishedSource")
            .conntrack({tcp_flow()})
            .input(reply_tcp().syn().ack().ack_seq(1001).payload("welcome").build())
            .output(published_tcp().syn().ack().ack_seq(1001).payload("welcome").build())
            .reply_out(kTcpMapping));
    add(CaseBuilder("UdpReplyGetsPublishedSource")
            .conntrack({udp_flow()})
            .input(reply_udp().payload("answer").build())
            .output(published_udp().payload("answer").build())
            .reply_out(kUdpMapping));
    add(CaseBuilder("UdpReplyZeroChecksumStaysZero")
            .conntrack({udp_flow()})
            .input(reply_udp().zero_udp_checksum().payload("answer").build())
            .output(published_udp().zero_udp_checksum().payload("answer").build())
            .reply_out(kUdpMapping));
    {
        const auto translated = [&](const Bytes& payload) {
            return published_udp().payload(payload).build();
        };
        const Bytes payload = payload_with_zero_udp_sum(translated);
        add(CaseBuilder("UdpReplyChecksumComputingToZeroIsSentAsFfff")
                .conntrack({udp_flow()})
                .input(reply_udp().payload(payload).build())
                .output(translated(payload))
                .reply_out(kUdpMapping));
        require_zero_udp_sum_case(cases.back());
    }
    // A TCP flow lives for hours: minutes of silence do not end it.
    add(CaseBuilder("IdleTcpEntryStillMatches")
            .conntrack({tcp_flow(kHost, 300 * kNsPerSec)})
            .input(reply_tcp().ack().build())
            .output(published_tcp().ack().build())
            .reply_out(kTcpMapping));
    add(CaseBuilder("ReplyOfWildcardFlowGetsConcreteHostAddress")
            .services({kWildcardTcp})
            .conntrack({tcp_flow(kHost)})
            .input(reply_tcp().ack().build())
            .output(published_tcp().ack().build())
            .reply_out(kTcpMapping));
    add(CaseBuilder("ReplyWithIpOptionsIsTranslatedAndCounted")
            .conntrack({tcp_flow()})
            .input(reply_tcp().ip_options(kRouterAlert).ack().build())
            .output(published_tcp().ip_options(kRouterAlert).ack().build())
            .reply_out(kTcpMapping)
            .counts(FWD_CNT_IP_OPTIONS));

    // Passed unchanged ---------------------------------------------------------------------------
    add(CaseBuilder("ReplyWithoutEntryPasses")
            .input(reply_tcp().syn().ack().build())
            .passes(FWD_CNT_PASS_NO_MATCH));
    add(CaseBuilder("ReplyOfOtherProtocolPasses")
            .conntrack({tcp_flow()})
            .input(reply_udp(kContainer, kContainerTcpPort).payload("u").build())
            .passes(FWD_CNT_PASS_NO_MATCH));
    add(CaseBuilder("ReplyToOtherClientPortPasses")
            .conntrack({tcp_flow()})
            .input(PacketBuilder()
                       .eth()
                       .ipv4(kContainer, kClient)
                       .tcp(kContainerTcpPort, kClientPort + 1)
                       .ack()
                       .build())
            .passes(FWD_CNT_PASS_NO_MATCH));
    add(CaseBuilder("ReplyToOtherClientAddressPasses")
            .conntrack({tcp_flow()})
            .input(PacketBuilder()
                       .eth()
                       .ipv4(kContainer, "10.0.0.8")
                       .tcp(kContainerTcpPort, kClientPort)
                       .ack()
                       .build())
            .passes(FWD_CNT_PASS_NO_MATCH));
    add(CaseBuilder("ReplyFromOtherContainerPortPasses")
            .conntrack({tcp_flow()})
            .input(reply_tcp(kContainer, kContainerTcpPort + 1).ack().build())
            .passes(FWD_CNT_PASS_NO_MATCH));
    add(CaseBuilder("ForwardPacketPassesEgress")
            .services({kExactTcp})
            .conntrack({tcp_flow()})
            .input(client_tcp(host).syn().build())
            .passes(FWD_CNT_PASS_NO_MATCH));
    add(CaseBuilder("ExpiredUdpEntryPasses")
            .conntrack({udp_flow(121 * kNsPerSec)})
            .input(reply_udp().payload("late").build())
            .passes(FWD_CNT_PASS_NO_MATCH));
    add(CaseBuilder("ReplyFragmentPasses")
            .conntrack({tcp_flow()})
            .input(reply_tcp().fragment(true, 0).ack().payload("part").build())
            .passes(FWD_CNT_PASS_FRAGMENT));
    add(CaseBuilder("TruncatedReplyPasses")
            .conntrack({tcp_flow()})
            .input(reply_tcp().ack().truncate(kEthHeaderLen + kIpv4HeaderLen + 8).build())
            .passes(FWD_CNT_PASS_TRUNCATED));
    add(CaseBuilder("TruncatedUdpReplyPasses")
            .conntrack({udp_flow()})
            .input(
                reply_udp().payload("answer").truncate(kEthHeaderLen + kIpv4HeaderLen + 6).build())
            .passes(FWD_CNT_PASS_TRUNCATED));
    add(CaseBuilder("MalformedReplyPasses")
            .conntrack({tcp_flow()})
            .input(reply_tcp().bad_ihl(3).ack().build())
            .passes(FWD_CNT_PASS_MALFORMED));
    add(CaseBuilder("IcmpReplyPasses")
            .conntrack({tcp_flow()})
            .input(PacketBuilder().eth().ipv4(kContainer, kClient).icmp_echo(7, 1).build())
            .passes(FWD_CNT_PASS_NOT_L4));
    add(CaseBuilder("ArpFromContainerPasses")
            .conntrack({tcp_flow()})
            .input(PacketBuilder().eth().arp_request(kContainer, kClient).build())
            .passes(FWD_CNT_PASS_NOT_IP));
    append(cases, icmp_to_client_cases());
    return cases;
}

TEST_P(TcIngressNat, Run) {
    check_case(Hook::Ingress, std::get<0>(GetParam()), std::get<1>(GetParam()));
}
INSTANTIATE_TEST_SUITE_P(Table, TcIngressNat,
                         testing::Combine(testing::ValuesIn(ingress_cases()), kChecksumModes),
                         case_name);

TEST_P(TcEgressRevNat, Run) {
    check_case(Hook::Egress, std::get<0>(GetParam()), std::get<1>(GetParam()));
}
INSTANTIATE_TEST_SUITE_P(Table, TcEgressRevNat,
                         testing::Combine(testing::ValuesIn(egress_cases()), kChecksumModes),
                         case_name);

// ---------------------------------------------------------------------------------------------
// Frames that end inside the fixed IPv4 header. BPF_PROG_TEST_RUN refuses to build an skb from
// them (EINVAL since the 2026 fix "reject short IPv4/IPv6 inputs in bpf_prog_test_run_skb", in
// 6.18.y), yet a device still hands such a frame to TC. So these are delivered for real: sent out
// of fwdhost0, they reach fwdpeer0, where fwd_tc_ingress is attached for the test. The program
// must count them TRUNCATED and touch nothing; the IP layer then drops them as header errors,
// which also shows the verdict was TC_ACT_OK (a TC_ACT_SHOT frame never reaches it).

struct ShortFrame {
    std::string name;
    size_t length;  // bytes of a complete TCP SYN frame that are sent
};

void PrintTo(const ShortFrame& f, std::ostream* os) {
    *os << f.name;
}

class TcIngressShortFrame : public TcProgramTest, public testing::WithParamInterface<ShortFrame> {};

TEST_P(TcIngressShortFrame, PassesCountedAsTruncated) {
    datapath_->add_service(kExactTcp);
    datapath_->add_service(kWildcardTcp);
    std::string error;
    const auto hook = TcIngressHook::attach(
        BpfNetns::status().peer_ifindex, datapath_->prog_fd(BpfDatapath::Prog::TcIngress), &error);
    ASSERT_NE(hook, nullptr) << error;
    const auto header_errors_before = BpfNetns::ipv4_in_hdr_errors();
    ASSERT_TRUE(header_errors_before.has_value()) << "cannot read /proc/net/snmp";

    // Broadcast, so the peer's IP layer takes the frame rather than dropping it as not its own.
    const Bytes full = PacketBuilder()
                           .eth(kClientMac, kBroadcastMac)
                           .ipv4(kClient, kHost)
                           .tcp(kClientPort, kHostTcpPort)
                           .syn()
                           .build();
    const Bytes frame(full.begin(), full.begin() + static_cast<long>(GetParam().length));
    ASSERT_EQ(BpfNetns::send_to_peer(frame), "");

    // Delivery runs in softirq context: poll, bounded, for the program's counter and the IP
    // layer's drop.
    const uint64_t deadline = coarse_monotonic_ns() + 5 * kNsPerSec;
    Counters counters{};
    std::optional<uint64_t> header_errors;
    do {
        counters = datapath_->counters();
        header_errors = BpfNetns::ipv4_in_hdr_errors();
        if (counters[FWD_CNT_PASS_TRUNCATED] != 0 && header_errors != header_errors_before) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    } while (coarse_monotonic_ns() < deadline);

    check_counters(counters, {{FWD_CNT_PASS_TRUNCATED}});
    EXPECT_EQ(header_errors.value_or(0), *header_errors_before + 1)
        << "the frame should pass TC and be dropped by the IP layer as a header error";
    EXPECT_TRUE(datapath_->conntrack().empty());
    check_stats(*datapath_, {}, frame.size());
}

INSTANTIATE_TEST_SUITE_P(
    Table, TcIngressShortFrame,
    testing::Values(ShortFrame{"TruncatedAfterEthernetHeader", kEthHeaderLen},
                    ShortFrame{"TruncatedInsideIpv4Header", kEthHeaderLen + 10},
                    ShortFrame{"TruncatedInsideIpv4Address", kEthHeaderLen + kIpv4HeaderLen - 1}),
    [](const testing::TestParamInfo<ShortFrame>& frame) { return frame.param.name; });

// ---------------------------------------------------------------------------------------------
// Flows: several packets through both programs.

// Expects a run that returned TC_ACT_OK with exactly `expected`, whose checksums verify.
void expect_translated(const ProgRun& result, const Bytes& expected) {
    ASSERT_TRUE(result.ok()) << result.error_message();
    EXPECT_EQ(result.retval, kVerdictOk);
    EXPECT_TRUE(same_frame(expected, result.data));
    const auto sums = verify_ipv4_checksums(result.data);
    EXPECT_TRUE(sums.ok) << sums.detail;
}

// The reply a server sends to the packet it received: addresses and ports swapped.
PacketBuilder reply_to(const Bytes& received, bool tcp) {
    const auto pkt = decode(received);
    const auto src = fmt::format("{}.{}.{}.{}", pkt.ipv4->daddr[0], pkt.ipv4->daddr[1],
                                 pkt.ipv4->daddr[2], pkt.ipv4->daddr[3]);
    const auto dst = fmt::format("{}.{}.{}.{}", pkt.ipv4->saddr[0], pkt.ipv4->saddr[1],
                                 pkt.ipv4->saddr[2], pkt.ipv4->saddr[3]);
    PacketBuilder reply;
    reply.eth("02:00:00:00:00:01", "02:00:00:00:00:09").ipv4(src, dst);
    if (tcp) {
        reply.tcp(pkt.tcp->dport, pkt.tcp->sport).syn().ack().ack_seq(pkt.tcp->seq + 1);
    } else {
        reply.udp(pkt.udp->dport, pkt.udp->sport);
    }
    return reply;
}

TEST_F(TcNatFlow, TcpRoundTripReplyComesFromPublishedAddress) {
    datapath_->add_service(kWildcardTcp);
    const Bytes syn = client_tcp(kHost).syn().seq(5000).build();
    const ProgRun in = run(Hook::Ingress, syn);
    ASSERT_NO_FATAL_FAILURE(
        expect_translated(in, client_tcp(kContainer, kContainerTcpPort).syn().seq(5000).build()));

    // The container answers the packet it received.
    const Bytes synack = reply_to(in.data, true).payload("hi").build();
    const ProgRun out = run(Hook::Egress, synack);
    // The client must see the answer come from the address and port it connected to.
    const Bytes client_expects = PacketBuilder()
                                     .eth("02:00:00:00:00:01", "02:00:00:00:00:09")
                                     .ipv4(kHost, kClient)
                                     .tcp(kHostTcpPort, kClientPort)
                                     .syn()
                                     .ack()
                                     .ack_seq(5001)
                                     .payload("hi")
                                     .build();
    ASSERT_NO_FATAL_FAILURE(expect_translated(out, client_expects));

    const auto counters = datapath_->counters();
    EXPECT_EQ(counters[FWD_CNT_NAT_IN], 1U);
    EXPECT_EQ(counters[FWD_CNT_NAT_OUT], 1U);
    EXPECT_EQ(counters[FWD_CNT_CT_CREATED], 1U);
    const auto stats = datapath_->stats(kTcpMapping);
    EXPECT_EQ(stats.packets_in, 1U);
    EXPECT_EQ(stats.bytes_in, syn.size());
    EXPECT_EQ(stats.packets_out, 1U);
    EXPECT_EQ(stats.bytes_out, synack.size());
    EXPECT_EQ(stats.new_flows, 1U);
}

TEST_F(TcNatFlow, UdpRoundTripReplyComesFromPublishedAddress) {
    datapath_->add_service(kExactUdp);
    const Bytes query = client_udp(kHost).payload("query").build();
    const ProgRun in = run(Hook::Ingress, query);
    ASSERT_NO_FATAL_FAILURE(
        expect_translated(in, client_udp(kContainer, kContainerUdpPort).payload("query").build()));

    const ProgRun out = run(Hook::Egress, reply_to(in.data, false).payload("answer").build());
    const Bytes client_expects = PacketBuilder()
                                     .eth("02:00:00:00:00:01", "02:00:00:00:00:09")
                                     .ipv4(kHost, kClient)
                                     .udp(kHostUdpPort, kClientPort)
                                     .payload("answer")
                                     .build();
    ASSERT_NO_FATAL_FAILURE(expect_translated(out, client_expects));
}

TEST_F(TcNatFlow, ManyToOneHostPortsKeepFlowsApart) {
    // Two host ports publish the same container port.
    const ServiceEntry first{kAnyAddr, 8080, kIpProtoTcp, kContainer, 80, 1};
    const ServiceEntry second{kAnyAddr, 8081, kIpProtoTcp, kContainer, 80, 2};
    datapath_->add_service(first);
    datapath_->add_service(second);

    const auto from_client = [](uint16_t sport, const std::string& dst, uint16_t dport) {
        return PacketBuilder().eth().ipv4(kClient, dst).tcp(sport, dport).syn();
    };
    expect_translated(run(Hook::Ingress, from_client(40000, kHost, 8080).build()),
                      from_client(40000, kContainer, 80).build());
    expect_translated(run(Hook::Ingress, from_client(40001, kHost, 8081).build()),
                      from_client(40001, kContainer, 80).build());

    std::vector<std::string> entries;
    for (const auto& record : datapath_->conntrack()) {
        entries.push_back(record.entry.to_string());
    }
    std::sort(entries.begin(), entries.end());
    const std::vector<std::string> expected = {
        ConntrackEntry{kContainer, 80, kClient, 40000, kIpProtoTcp, kHost, 8080, 1, 0}.to_string(),
        ConntrackEntry{kContainer, 80, kClient, 40001, kIpProtoTcp, kHost, 8081, 2, 0}.to_string(),
    };
    EXPECT_EQ(entries, expected);

    // Each reply leaves from the host port its client connected to.
    const auto from_container = [](uint16_t dport) {
        return PacketBuilder().eth().ipv4(kContainer, kClient).tcp(80, dport).syn().ack();
    };
    const auto to_client = [](uint16_t sport, uint16_t dport) {
        return PacketBuilder().eth().ipv4(kHost, kClient).tcp(sport, dport).syn().ack();
    };
    expect_translated(run(Hook::Egress, from_container(40000).build()),
                      to_client(8080, 40000).build());
    expect_translated(run(Hook::Egress, from_container(40001).build()),
                      to_client(8081, 40001).build());

    for (const uint32_t id : {1U, 2U}) {
        const auto stats = datapath_->stats(id);
        EXPECT_EQ(stats.packets_in, 1U) << "mapping " << id;
        EXPECT_EQ(stats.packets_out, 1U) << "mapping " << id;
        EXPECT_EQ(stats.new_flows, 1U) << "mapping " << id;
    }
}

TEST_F(TcNatFlow, ClientsSharingSourcePortKeepFlowsApart) {
    datapath_->add_service(kExactTcp);
    for (const char* client : {"10.0.0.9", "10.0.0.10"}) {
        const auto in = PacketBuilder().eth().ipv4(client, kHost).tcp(kClientPort, 80).syn();
        const auto want =
            PacketBuilder().eth().ipv4(client, kContainer).tcp(kClientPort, 8080).syn();
        expect_translated(run(Hook::Ingress, in.build()), want.build());
    }
    EXPECT_EQ(datapath_->conntrack().size(), 2U);
    for (const char* client : {"10.0.0.9", "10.0.0.10"}) {
        const auto reply =
            PacketBuilder().eth().ipv4(kContainer, client).tcp(8080, kClientPort).syn().ack();
        const auto want =
            PacketBuilder().eth().ipv4(kHost, client).tcp(80, kClientPort).syn().ack();
        expect_translated(run(Hook::Egress, reply.build()), want.build());
    }
    EXPECT_EQ(datapath_->stats(kTcpMapping).new_flows, 2U);
    EXPECT_EQ(datapath_->counters()[FWD_CNT_NAT_OUT], 2U);
}

TEST_F(TcNatFlow, LaterPacketsOfFlowCreateNoNewFlow) {
    datapath_->add_service(kExactTcp);
    const Bytes syn = client_tcp(kHost).syn().build();
    const Bytes ack = client_tcp(kHost).ack().seq(1001).payload("data").build();
    expect_translated(run(Hook::Ingress, syn), client_tcp(kContainer, 8080).syn().build());
    expect_translated(run(Hook::Ingress, ack),
                      client_tcp(kContainer, 8080).ack().seq(1001).payload("data").build());
    const auto counters = datapath_->counters();
    EXPECT_EQ(counters[FWD_CNT_NAT_IN], 2U);
    EXPECT_EQ(counters[FWD_CNT_CT_CREATED], 1U);
    const auto stats = datapath_->stats(kTcpMapping);
    EXPECT_EQ(stats.packets_in, 2U);
    EXPECT_EQ(stats.bytes_in, syn.size() + ack.size());
    EXPECT_EQ(stats.new_flows, 1U);
    EXPECT_EQ(datapath_->conntrack().size(), 1U);
}

TEST_F(TcNatFlow, TrafficRefreshesIdleEntryInBothDirections) {
    datapath_->add_service(kExactUdp);
    datapath_->add_conntrack(udp_flow(60 * kNsPerSec), coarse_monotonic_ns());

    const uint64_t before_in = coarse_monotonic_ns();
    expect_translated(run(Hook::Ingress, client_udp(kHost).payload("a").build()),
                      client_udp(kContainer, kContainerUdpPort).payload("a").build());
    auto records = datapath_->conntrack();
    ASSERT_EQ(records.size(), 1U);
    EXPECT_GE(records[0].value.last_seen_ns + kCoarseClockSlackNs, before_in)
        << "a forward packet refreshes the flow";
    EXPECT_EQ(datapath_->counters()[FWD_CNT_CT_CREATED], 0U);

    // Idle again; a reply alone keeps the flow alive too.
    datapath_->add_conntrack(udp_flow(60 * kNsPerSec), coarse_monotonic_ns(), BPF_EXIST);
    const uint64_t before_out = coarse_monotonic_ns();
    expect_translated(run(Hook::Egress, reply_udp().payload("b").build()),
                      reply_udp(kHost, kHostUdpPort).payload("b").build());
    records = datapath_->conntrack();
    ASSERT_EQ(records.size(), 1U);
    EXPECT_GE(records[0].value.last_seen_ns + kCoarseClockSlackNs, before_out)
        << "a reply refreshes the flow";
}

TEST_F(TcNatFlow, RecentEntryIsNotRewrittenByEveryPacket) {
    // Within FWD_CT_REFRESH_NS the entry is left alone, keeping writes off the hot path.
    datapath_->add_service(kExactTcp);
    const uint64_t inserted = coarse_monotonic_ns();
    datapath_->add_conntrack(tcp_flow(kHost, 0), inserted);
    expect_translated(run(Hook::Ingress, client_tcp(kHost).ack().build()),
                      client_tcp(kContainer, kContainerTcpPort).ack().build());
    expect_translated(run(Hook::Egress, reply_tcp().ack().build()),
                      reply_tcp(kHost, kHostTcpPort).ack().build());
    const auto records = datapath_->conntrack();
    ASSERT_EQ(records.size(), 1U);
    EXPECT_EQ(records[0].value.last_seen_ns, inserted);
}

// TCP close: a FIN or RST in either direction marks the flow closing, and a closing flow ages
// out FWD_CT_CLOSE_LIFETIME_NS after its last packet instead of FWD_CT_TCP_LIFETIME_NS.
TEST_F(TcNatFlow, FinOrRstMarksTheFlowClosing) {
    datapath_->add_service(kExactTcp);
    datapath_->add_conntrack(tcp_flow(), coarse_monotonic_ns());
    expect_translated(run(Hook::Ingress, client_tcp(kHost).fin().ack().build()),
                      client_tcp(kContainer, kContainerTcpPort).fin().ack().build());
    auto records = datapath_->conntrack();
    ASSERT_EQ(records.size(), 1U);
    EXPECT_EQ(records[0].value.flags, FWD_CT_FLAG_CLOSING) << "a forward FIN";

    datapath_->add_conntrack(tcp_flow(), coarse_monotonic_ns(), BPF_EXIST);  // open again
    expect_translated(run(Hook::Egress, reply_tcp().rst().build()),
                      reply_tcp(kHost, kHostTcpPort).rst().build());
    records = datapath_->conntrack();
    ASSERT_EQ(records.size(), 1U);
    EXPECT_EQ(records[0].value.flags, FWD_CT_FLAG_CLOSING) << "a reply RST";
}

TEST_F(TcNatFlow, ClosingFlowAgesOutAfterTheCloseLifetime) {
    datapath_->add_service(kExactTcp);
    ConntrackEntry closing = tcp_flow(kHost, FWD_CT_CLOSE_LIFETIME_NS + kNsPerSec);
    closing.flags = FWD_CT_FLAG_CLOSING;
    datapath_->add_conntrack(closing, coarse_monotonic_ns());
    // A late reply is no longer translated ...
    const Bytes late = reply_tcp().ack().build();
    const ProgRun out = run(Hook::Egress, late);
    ASSERT_TRUE(out.ok()) << out.error_message();
    EXPECT_EQ(out.data, late);
    EXPECT_EQ(datapath_->counters()[FWD_CNT_PASS_NO_MATCH], 1U);
    // ... and a forward packet is tracked as a new flow, open again.
    expect_translated(run(Hook::Ingress, client_tcp(kHost).syn().build()),
                      client_tcp(kContainer, kContainerTcpPort).syn().build());
    EXPECT_EQ(datapath_->counters()[FWD_CNT_CT_CREATED], 1U);
    const auto records = datapath_->conntrack();
    ASSERT_EQ(records.size(), 1U);
    EXPECT_EQ(records[0].value.flags, 0U);

    // Within the close lifetime the closing flow still translates its last packets.
    ConntrackEntry recent = tcp_flow(kHost, FWD_CT_CLOSE_LIFETIME_NS / 2);
    recent.flags = FWD_CT_FLAG_CLOSING;
    datapath_->add_conntrack(recent, coarse_monotonic_ns(), BPF_EXIST);
    expect_translated(run(Hook::Egress, reply_tcp().fin().ack().build()),
                      reply_tcp(kHost, kHostTcpPort).fin().ack().build());
}

TEST_F(TcNatFlow, NewSynReopensAClosingFlow) {
    // A client reusing its port right after a close: the new connection must not inherit the
    // short close lifetime.
    datapath_->add_service(kExactTcp);
    ConntrackEntry closing = tcp_flow();
    closing.flags = FWD_CT_FLAG_CLOSING;
    datapath_->add_conntrack(closing, coarse_monotonic_ns());
    expect_translated(run(Hook::Ingress, client_tcp(kHost).syn().build()),
                      client_tcp(kContainer, kContainerTcpPort).syn().build());
    const auto records = datapath_->conntrack();
    ASSERT_EQ(records.size(), 1U);
    EXPECT_EQ(records[0].value.flags, 0U);
    EXPECT_EQ(datapath_->counters()[FWD_CNT_CT_CREATED], 0U) << "the same flow, reopened";
}

TEST_F(TcNatFlow, IdleUdpFlowAgesOutAndIsTrackedAgain) {
    datapath_->add_service(kExactUdp);
    datapath_->add_conntrack(udp_flow(FWD_CT_UDP_LIFETIME_NS + kNsPerSec), coarse_monotonic_ns());
    const Bytes late = reply_udp().payload("late").build();
    const ProgRun out = run(Hook::Egress, late);
    ASSERT_TRUE(out.ok()) << out.error_message();
    EXPECT_EQ(out.data, late) << "a reply after the UDP lifetime is not translated";
    expect_translated(run(Hook::Ingress, client_udp(kHost).payload("again").build()),
                      client_udp(kContainer, kContainerUdpPort).payload("again").build());
    EXPECT_EQ(datapath_->counters()[FWD_CNT_CT_CREATED], 1U);
}

}  // namespace
}  // namespace fwd::test
