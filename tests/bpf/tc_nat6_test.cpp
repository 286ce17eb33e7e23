// The IPv6 path of fwd_tc_ingress (DNAT) and fwd_tc_egress (reverse NAT), run for real with
// BPF_PROG_TEST_RUN on packets from PacketBuilder inside this binary's private network namespace
// (main.cpp), on its IPv6 device pair (support/bpf_netns.h), with private unpinned maps.
//
//   Tc6IngressNat, Tc6EgressRevNat  table cases as in tc_nat_test.cpp: map contents, input,
//                                   expected verdict and output bytes, counter and stats bumps,
//                                   conntrack tables afterwards; every case on a CHECKSUM_NONE
//                                   and a CHECKSUM_COMPLETE skb
//   Tc6NatFlow                      several packets through both programs
//   XdpIngressIpv6                  the XDP program leaves IPv6 to TC, unchanged and uncounted
//
// Outputs are compared byte for byte and checked with the independent checksum oracle
// (support/checksum.h). Frames shorter than Ethernet + the fixed IPv6 header have no case:
// BPF_PROG_TEST_RUN refuses to build an skb from them.
#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iterator>
#include <memory>
#include <optional>
#include <ostream>
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

constexpr uint32_t kVerdictOk = TC_ACT_OK;
constexpr uint32_t kVerdictShot = TC_ACT_SHOT;
constexpr uint32_t kVerdictRedirect = TC_ACT_REDIRECT;

// The flow most cases use: client [fd00::9]:40000 -> host [fd00::1]:80 -> container
// [fd00:b::2]:8080 (TCP, mapping 1; no route to it, so packets go through the stack), or host
// :5353 -> container :53 (UDP, mapping 2). fd00:c::2 is a container the FIB routes to (fast path).
constexpr const char* kClient = kClient6Addr;
constexpr const char* kClientMac = kClient6Mac;
constexpr uint16_t kClientPort = 40000;
constexpr const char* kHost = kHost6Addr;
constexpr const char* kRoutedDst = "fd00::50";  // on fwd6host0's subnet, not a host address
constexpr const char* kAnyAddr = "::";
constexpr const char* kLoopback = "::1";
constexpr uint16_t kHostTcpPort = 80;
constexpr uint16_t kHostUdpPort = 5353;
constexpr const char* kContainer = "fd00:b::2";
constexpr const char* kRoutedContainer = kRoutedContainer6Addr;
constexpr uint16_t kContainerTcpPort = 8080;
constexpr uint16_t kContainerUdpPort = 53;
constexpr uint32_t kTcpMapping = 1;
constexpr uint32_t kUdpMapping = 2;
constexpr uint8_t kHopLimit = 64;  // PacketBuilder's default

enum class Hook { Ingress, Egress };
// Uplink: fwd6host0 (clients); ContainerSide: fwd6peer0 (where fd00:c::/64 is routed).
enum class Device { Uplink, ContainerSide, Loopback };

// Case tables are built before the namespace exists: a flow that the fast path records as sent
// to the container side carries this placeholder, which check_case turns into the ifindex.
constexpr uint32_t kContainerSidePlaceholder = 0xffffffffU;

ConntrackEntry resolve_device(ConntrackEntry flow) {
    if (flow.container_ifindex == kContainerSidePlaceholder) {
        flow.container_ifindex = static_cast<uint32_t>(BpfNetns::status().peer6_ifindex);
    }
    return flow;
}

// ---------------------------------------------------------------------------------------------
// Table cases

struct Nat6Case {
    std::string name;
    Device device = Device::Uplink;
    uint32_t config_flags = 0;  // fwd_config.flags
    std::vector<ServiceEntry> services;
    std::vector<ConntrackEntry> conntrack;
    Bytes input;
    uint32_t verdict = kVerdictOk;
    Bytes expected;
    std::vector<CounterBump> counters;  // every other counter must stay 0
    std::vector<StatsBump> stats;       // every other test stats slot must stay 0
    std::optional<std::vector<ConntrackEntry>> conntrack_after;
};

void PrintTo(const Nat6Case& c, std::ostream* os) {
    *os << c.name;
}

class CaseBuilder : public CaseBuilderBase<CaseBuilder, Nat6Case> {
public:
    explicit CaseBuilder(std::string name) : CaseBuilderBase(std::move(name)) {}

    CaseBuilder& on(Device device) {
        case_.device = device;
        return *this;
    }
    CaseBuilder& config(uint32_t flags) {
        case_.config_flags = flags;
        return *this;
    }
    CaseBuilder& dropped(fwd_counter_id counter) {
        case_.verdict = kVerdictShot;
        return passes(counter);
    }
    // The IPv6 outcomes also bump the IPv6 translation counters.
    CaseBuilder& new_flow6(uint32_t mapping_id, const ConntrackEntry& flow) {
        return new_flow(mapping_id, flow).counts(FWD_CNT_NAT6_IN);
    }
    CaseBuilder& tracked_in6(uint32_t mapping_id) {
        return tracked_in(mapping_id).counts(FWD_CNT_NAT6_IN);
    }
    CaseBuilder& reply_out6(uint32_t mapping_id) {
        return reply_out(mapping_id).counts(FWD_CNT_NAT6_OUT);
    }
    // Sent straight to the next hop (fib_send).
    CaseBuilder& redirected() {
        case_.verdict = kVerdictRedirect;
        return counts(FWD_CNT_REDIRECT);
    }
};

// ---------------------------------------------------------------------------------------------
// Fixtures

class Tc6ProgramTest : public TcProgramFixture {
protected:
    static int ifindex(Device device) {
        switch (device) {
            case Device::Uplink:
                return BpfNetns::status().host6_ifindex;
            case Device::ContainerSide:
                return BpfNetns::status().peer6_ifindex;
            case Device::Loopback:
                break;
        }
        return kLoopbackIfindex;
    }

    static ProgRun run(Hook hook, const Bytes& packet, Device device = Device::Uplink,
                       SkbChecksum csum = SkbChecksum::None) {
        return run_tc(hook == Hook::Ingress, packet, ifindex(device), csum);
    }

    static std::vector<ConntrackEntry> resolved(const std::vector<ConntrackEntry>& entries) {
        std::vector<ConntrackEntry> out;
        std::transform(entries.begin(), entries.end(), std::back_inserter(out), resolve_device);
        return out;
    }

    static void check_case(Hook hook, const Nat6Case& c, SkbChecksum csum) {
        if (csum == SkbChecksum::Complete && !checksum_complete_supported_) {
            GTEST_SKIP() << "kernel lacks BPF_F_TEST_SKB_CHECKSUM_COMPLETE (Linux 6.11+)";
        }
        ASSERT_NO_FATAL_FAILURE(datapath_->set_config_flags(c.config_flags));
        const uint64_t inserted_at = coarse_monotonic_ns();
        const auto before = resolved(c.conntrack);
        ASSERT_NO_FATAL_FAILURE(insert(c.services, before, inserted_at));

        const uint64_t started = coarse_monotonic_ns();
        const ProgRun result = run(hook, c.input, c.device, csum);
        const uint64_t finished = coarse_monotonic_ns();
        ASSERT_NO_FATAL_FAILURE(expect_ran(result));

        EXPECT_EQ(result.retval, c.verdict) << "verdict (0 OK, 2 SHOT, 7 REDIRECT)";
        check_case_outcome(*datapath_, c, result.data,
                           resolved(c.conntrack_after.value_or(c.conntrack)), before, inserted_at,
                           started, finished,
                           static_cast<uint32_t>(BpfNetns::status().peer6_ifindex));
    }
};

using TableParam = std::tuple<Nat6Case, SkbChecksum>;

class Tc6IngressNat : public Tc6ProgramTest, public testing::WithParamInterface<TableParam> {};
class Tc6EgressRevNat : public Tc6ProgramTest, public testing::WithParamInterface<TableParam> {};
class Tc6NatFlow : public Tc6ProgramTest {};
class XdpIngressIpv6 : public Tc6ProgramTest {};

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

ConntrackEntry tcp_flow(const std::string& host = kHost, uint64_t age_ns = 0) {
    return {kContainer, kContainerTcpPort, kClient,     kClientPort, kIpProtoTcp,
            host,       kHostTcpPort,      kTcpMapping, age_ns};
}

ConntrackEntry udp_flow(uint64_t age_ns = 0) {
    return {kContainer, kContainerUdpPort, kClient,     kClientPort, kIpProtoUdp,
            kHost,      kHostUdpPort,      kUdpMapping, age_ns};
}

PacketBuilder client_tcp(const std::string& dst, uint16_t dport = kHostTcpPort) {
    return std::move(PacketBuilder().eth().ipv6(kClient, dst).tcp(kClientPort, dport));
}

PacketBuilder client_udp(const std::string& dst, uint16_t dport = kHostUdpPort) {
    return std::move(PacketBuilder().eth().ipv6(kClient, dst).udp(kClientPort, dport));
}

PacketBuilder reply_tcp(const std::string& src = kContainer, uint16_t sport = kContainerTcpPort) {
    return std::move(PacketBuilder().eth().ipv6(src, kClient).tcp(sport, kClientPort));
}

PacketBuilder reply_udp(const std::string& src = kContainer, uint16_t sport = kContainerUdpPort) {
    return std::move(PacketBuilder().eth().ipv6(src, kClient).udp(sport, kClientPort));
}

// The 16 bytes of an IPv6 address, as an NDP message's target.
Bytes addr_bytes(const std::string& addr) {
    const auto bytes = ipv6_bytes(addr);
    return {bytes.begin(), bytes.end()};
}

Bytes cut(const Bytes& frame, size_t len) {
    return {frame.begin(), frame.begin() + static_cast<long>(len)};
}

void append(std::vector<Nat6Case>& cases, const std::vector<Nat6Case>& more) {
    cases.insert(cases.end(), more.begin(), more.end());
}

// ---------------------------------------------------------------------------------------------
// ICMPv6 errors about tracked flows

constexpr const char* kClientRouter = "fd00::fe";       // a router on the client's side
constexpr const char* kContainerRouter = "fd00:b::fe";  // a router on the container's side
constexpr uint32_t kLinkMtu = 1280;

PacketBuilder icmp6_error(const std::string& src, const std::string& dst, uint8_t type,
                          uint8_t code, const Bytes& quote, uint32_t rest = 0) {
    return std::move(PacketBuilder().eth().ipv6(src, dst).icmp_error(type, code, quote, rest));
}

PacketBuilder too_big(const std::string& src, const std::string& dst, const Bytes& quote) {
    return icmp6_error(src, dst, kIcmp6PacketTooBig, 0, quote, kLinkMtu);
}

// Errors on their way to a client (egress), quoting a client -> container packet.
std::vector<Nat6Case> icmp_to_client_cases() {
    std::vector<Nat6Case> cases;
    auto add = [&cases](const CaseBuilder& builder) { cases.push_back(builder.build()); };
    const Bytes udp_in = client_udp(kContainer, kContainerUdpPort).payload("query").build();
    const Bytes udp_sent = client_udp(kHost).payload("query").build();
    const Bytes tcp_in = client_tcp(kContainer, kContainerTcpPort).ack().payload("data").build();
    const Bytes tcp_sent = client_tcp(kHost).ack().payload("data").build();
    const size_t tcp_through_checksum = kIpv6HeaderLen + 18;
    const size_t eight_l4_bytes = kIpv6HeaderLen + 8;

    add(CaseBuilder("PacketTooBigFromHostShowsTheClientItsOwnPacket")
            .conntrack({udp_flow()})
            .input(too_big(kHost, kClient, ip_packet_of(udp_in)).build())
            .output(too_big(kHost, kClient, ip_packet_of(udp_sent)).build())
            .counts(FWD_CNT_ICMP_ERROR_NAT));
    add(CaseBuilder("PacketTooBigQuotingTcpFromContainerRouter")
            .conntrack({tcp_flow()})
            .input(too_big(kContainerRouter, kClient, ip_packet_of(tcp_in)).build())
            .output(too_big(kContainerRouter, kClient, ip_packet_of(tcp_sent)).build())
            .counts(FWD_CNT_ICMP_ERROR_NAT));
    add(CaseBuilder("PortUnreachableFromContainerComesFromPublishedAddress")
            .conntrack({udp_flow()})
            .input(icmp6_error(kContainer, kClient, kIcmp6DestUnreach, kIcmp6PortUnreach,
                               ip_packet_of(udp_in))
                       .build())
            .output(icmp6_error(kHost, kClient, kIcmp6DestUnreach, kIcmp6PortUnreach,
                                ip_packet_of(udp_sent))
                        .build())
            .counts(FWD_CNT_ICMP_ERROR_NAT));
    add(CaseBuilder("TimeExceededQuotingTcpThroughItsChecksum")
            .conntrack({tcp_flow()})
            .input(icmp6_error(kContainerRouter, kClient, kIcmp6TimeExceeded, 0,
                               ip_packet_of(tcp_in, tcp_through_checksum))
                       .build())
            .output(icmp6_error(kContainerRouter, kClient, kIcmp6TimeExceeded, 0,
                                ip_packet_of(tcp_sent, tcp_through_checksum))
                        .build())
            .counts(FWD_CNT_ICMP_ERROR_NAT));
    add(CaseBuilder("ParameterProblemQuotingOnlyEightTcpBytes")
            .conntrack({tcp_flow()})
            .input(icmp6_error(kContainerRouter, kClient, kIcmp6ParameterProblem, 0,
                               ip_packet_of(tcp_in, eight_l4_bytes), 6)
                       .build())
            .output(icmp6_error(kContainerRouter, kClient, kIcmp6ParameterProblem, 0,
                                ip_packet_of(tcp_sent, eight_l4_bytes), 6)
                        .build())
            .counts(FWD_CNT_ICMP_ERROR_NAT));
    add(CaseBuilder("ErrorCarryingHopByHopIsTranslated")
            .conntrack({udp_flow()})
            .input(too_big(kHost, kClient, ip_packet_of(udp_in)).hop_by_hop().build())
            .output(too_big(kHost, kClient, ip_packet_of(udp_sent)).hop_by_hop().build())
            .counts(FWD_CNT_ICMP_ERROR_NAT));
    add(CaseBuilder("ErrorAboutUntrackedFlowPasses")
            .input(too_big(kHost, kClient, ip_packet_of(udp_in)).build())
            .passes(FWD_CNT_PASS_NO_MATCH));
    add(CaseBuilder("ErrorAboutAgedOutFlowPasses")
            .conntrack({udp_flow(FWD_CT_UDP_LIFETIME_NS + kNsPerSec)})
            .input(too_big(kHost, kClient, ip_packet_of(udp_in)).build())
            .passes(FWD_CNT_PASS_NO_MATCH));
    add(CaseBuilder("ErrorNotAddressedToTheQuotedClientPasses")
            .conntrack({udp_flow()})
            .input(too_big(kHost, "fd00::77", ip_packet_of(udp_in)).build())
            .passes(FWD_CNT_PASS_NO_MATCH));
    add(CaseBuilder("ErrorQuoteEndingInsideThePortsPasses")
            .conntrack({udp_flow()})
            .input(too_big(kHost, kClient, ip_packet_of(udp_in, kIpv6HeaderLen + 3)).build())
            .passes(FWD_CNT_PASS_NOT_L4));
    add(CaseBuilder("ErrorQuotingExtensionHeadersPasses")
            .conntrack({udp_flow()})
            .input(too_big(kHost, kClient,
                           ip_packet_of(client_udp(kContainer, kContainerUdpPort)
                                            .hop_by_hop()
                                            .payload("query")
                                            .build()))
                       .build())
            .passes(FWD_CNT_PASS_NOT_L4));
    add(CaseBuilder("ErrorQuotingAnIpv4HeaderIsMalformed")
            .conntrack({udp_flow()})
            .input(too_big(kHost, kClient,
                           ip_packet_of(PacketBuilder()
                                            .eth()
                                            .ipv4("10.0.0.9", "10.0.0.1")
                                            .udp(kClientPort, kContainerUdpPort)
                                            .payload("an IPv4 query, quoted")
                                            .build()))
                       .build())
            .passes(FWD_CNT_PASS_MALFORMED));
    add(CaseBuilder("ErrorThatIsAFragmentPasses")
            .conntrack({udp_flow()})
            .input(too_big(kHost, kClient, ip_packet_of(udp_in)).ipv6_fragment(true, 0).build())
            .passes(FWD_CNT_PASS_FRAGMENT));
    add(CaseBuilder("ErrorTruncatedBeforeItsQuotePasses")
            .conntrack({udp_flow()})
            .input(too_big(kHost, kClient, ip_packet_of(udp_in))
                       .truncate(kEthHeaderLen + kIpv6HeaderLen + 12)
                       .build())
            .passes(FWD_CNT_PASS_TRUNCATED));
    add(CaseBuilder("EchoReplyFromContainerPasses")
            .conntrack({udp_flow()})
            .input(PacketBuilder().eth().ipv6(kContainer, kClient).icmp_echo(7, 1).build())
            .passes(FWD_CNT_PASS_NOT_L4));
    return cases;
}

// Errors from the client's side (ingress), quoting a reply fwd sent with the published source.
std::vector<Nat6Case> icmp_to_container_cases() {
    std::vector<Nat6Case> cases;
    auto add = [&cases](const CaseBuilder& builder) { cases.push_back(builder.build()); };
    const Bytes tcp_sent = reply_tcp(kHost, kHostTcpPort).ack().payload("big reply").build();
    const Bytes tcp_container = reply_tcp().ack().payload("big reply").build();
    const Bytes udp_sent = reply_udp(kHost, kHostUdpPort).payload("answer").build();
    const Bytes udp_container = reply_udp().payload("answer").build();

    add(CaseBuilder("PacketTooBigAboutReplyGoesToTheContainer")
            .services({kWildcardTcp})
            .conntrack({tcp_flow()})
            .input(too_big(kClientRouter, kHost, ip_packet_of(tcp_sent)).build())
            .output(too_big(kClientRouter, kContainer, ip_packet_of(tcp_container)).build())
            .counts(FWD_CNT_ICMP_ERROR_NAT));
    add(CaseBuilder("PortUnreachableAboutUdpReplyGoesToTheContainer")
            .services({kExactUdp})
            .conntrack({udp_flow()})
            .input(icmp6_error(kClient, kHost, kIcmp6DestUnreach, kIcmp6PortUnreach,
                               ip_packet_of(udp_sent))
                       .build())
            .output(icmp6_error(kClient, kContainer, kIcmp6DestUnreach, kIcmp6PortUnreach,
                                ip_packet_of(udp_container))
                        .build())
            .counts(FWD_CNT_ICMP_ERROR_NAT));
    add(CaseBuilder("ErrorAboutReplyToUntrackedClientPasses")
            .services({kWildcardTcp})
            .input(too_big(kClientRouter, kHost, ip_packet_of(tcp_sent)).build())
            .passes(FWD_CNT_PASS_NO_MATCH));
    add(CaseBuilder("ErrorAboutAnUnpublishedPortPasses")
            .services({kWildcardTcp})
            .conntrack({tcp_flow()})
            .input(too_big(kClientRouter, kHost,
                           ip_packet_of(reply_tcp(kHost, 81).ack().payload("x").build()))
                       .build())
            .passes(FWD_CNT_PASS_NO_MATCH));
    add(CaseBuilder("ErrorNotAddressedToTheReplySourcePasses")
            .services({kWildcardTcp})
            .conntrack({tcp_flow()})
            .input(too_big(kClientRouter, kRoutedDst, ip_packet_of(tcp_sent)).build())
            .passes(FWD_CNT_PASS_NO_MATCH));
    return cases;
}

// ---------------------------------------------------------------------------------------------
// Allow lists

ServiceEntry allowing(ServiceEntry service, std::vector<std::string> allow) {
    service.allow = std::move(allow);
    return service;
}

std::vector<Nat6Case> allow_list_cases() {
    std::vector<Nat6Case> cases;
    auto add = [&cases](const CaseBuilder& builder) { cases.push_back(builder.build()); };
    const Bytes syn = client_tcp(kHost).syn().build();
    const Bytes translated_syn = client_tcp(kContainer, kContainerTcpPort).syn().build();

    add(CaseBuilder("AllowedNetworkOpensAFlow")
            .services({allowing(kExactTcp, {"2001:db8::/32", "fd00::/64"})})
            .input(syn)
            .output(translated_syn)
            .new_flow6(kTcpMapping, tcp_flow()));
    add(CaseBuilder("AllowedSingleAddressOpensAFlow")
            .services({allowing(kWildcardTcp, {"fd00::9/128"})})
            .input(syn)
            .output(translated_syn)
            .new_flow6(kTcpMapping, tcp_flow()));
    add(CaseBuilder("AllowListOfEveryNetworkOpensAFlow")
            .services({allowing(kExactTcp, {"::/0"})})
            .input(syn)
            .output(translated_syn)
            .new_flow6(kTcpMapping, tcp_flow()));
    add(CaseBuilder("SourceOutsideTheAllowListIsDropped")
            .services({allowing(kExactTcp, {"2001:db8::/32", "fd00::10/128", "fd00:1::/64"})})
            .input(syn)
            .dropped(FWD_CNT_DROP_NOT_ALLOWED));
    add(CaseBuilder("UdpFromOutsideTheAllowListIsDropped")
            .services({allowing(kExactUdp, {"fd00:1::/64"})})
            .input(client_udp(kHost).payload("query").build())
            .dropped(FWD_CNT_DROP_NOT_ALLOWED));
    add(CaseBuilder("AnotherMappingsAllowListDoesNotAdmit")
            .services({allowing(kExactTcp, {"2001:db8::/32"}), allowing(kExactUdp, {"fd00::/8"})})
            .input(syn)
            .dropped(FWD_CNT_DROP_NOT_ALLOWED));
    add(CaseBuilder("TrackedFlowIsNotAskedAgain")
            .services({allowing(kExactTcp, {"2001:db8::/32"})})
            .conntrack({tcp_flow(kHost, kNsPerSec / 10)})
            .input(client_tcp(kHost).ack().payload("more").build())
            .output(client_tcp(kContainer, kContainerTcpPort).ack().payload("more").build())
            .tracked_in6(kTcpMapping));
    return cases;
}

// ---------------------------------------------------------------------------------------------
// Ingress table

// Extension headers that are skipped: the packet is translated, its headers kept.
std::vector<Nat6Case> extension_header_cases() {
    std::vector<Nat6Case> cases;
    auto add = [&cases](const CaseBuilder& builder) { cases.push_back(builder.build()); };
    struct Chain {
        const char* name;
        std::function<void(PacketBuilder&)> headers;
    };
    const Chain chains[] = {
        {"HopByHop", [](PacketBuilder& p) { p.hop_by_hop(); }},
        {"LongHopByHop", [](PacketBuilder& p) { p.hop_by_hop(8); }},
        {"DestinationOptions", [](PacketBuilder& p) { p.dest_options(2); }},
        {"RoutingWithNoSegmentsLeft", [](PacketBuilder& p) { p.routing(0); }},
        {"HopByHopRoutingDestinationOptions",
         [](PacketBuilder& p) { p.hop_by_hop().routing(0).dest_options(); }},
        {"SixExtensionHeaders",
         [](PacketBuilder& p) {
             p.hop_by_hop().dest_options().routing(0).dest_options().dest_options().dest_options();
         }},
    };
    for (const auto& chain : chains) {
        PacketBuilder in = client_tcp(kHost).syn().payload("ext");
        PacketBuilder out = client_tcp(kContainer, kContainerTcpPort).syn().payload("ext");
        chain.headers(in);
        chain.headers(out);
        add(CaseBuilder(std::string("TcpWith") + chain.name + "IsTranslated")
                .services({kExactTcp})
                .input(in.build())
                .output(out.build())
                .new_flow6(kTcpMapping, tcp_flow())
                .counts(FWD_CNT_IP_OPTIONS));
        PacketBuilder udp_in = client_udp(kHost).payload("ext");
        PacketBuilder udp_out = client_udp(kContainer, kContainerUdpPort).payload("ext");
        chain.headers(udp_in);
        chain.headers(udp_out);
        add(CaseBuilder(std::string("UdpWith") + chain.name + "IsTranslated")
                .services({kExactUdp})
                .input(udp_in.build())
                .output(udp_out.build())
                .new_flow6(kUdpMapping, udp_flow())
                .counts(FWD_CNT_IP_OPTIONS));
    }
    return cases;
}

// Every header boundary, and inside each header, cut short; bad lengths.
std::vector<Nat6Case> malformed_cases() {
    std::vector<Nat6Case> cases;
    auto add = [&cases](const CaseBuilder& builder) { cases.push_back(builder.build()); };
    const Bytes tcp_full = client_tcp(kHost).syn().payload("hello").build();
    const Bytes udp_full = client_udp(kHost).payload("hello").build();
    const Bytes ext_full = client_tcp(kHost).hop_by_hop().routing(0).syn().build();
    constexpr size_t kL4 = kEthHeaderLen + kIpv6HeaderLen;
    const struct {
        const char* name;
        const Bytes* frame;
        size_t length;
    } cuts[] = {
        {"TruncatedAfterIpv6Header", &tcp_full, kL4},
        {"TruncatedInsideHopByHop", &ext_full, kL4 + 4},
        {"TruncatedAfterHopByHop", &ext_full, kL4 + 8},
        {"TruncatedInsideRoutingHeader", &ext_full, kL4 + 8 + 12},
        {"TruncatedAfterExtensionHeaders", &ext_full, kL4 + 32},
        {"TruncatedInsideTcpPorts", &tcp_full, kL4 + 3},
        {"TruncatedInsideTcpHeader", &tcp_full, kL4 + 12},
        {"TruncatedBeforeTcpChecksum", &tcp_full, kL4 + 16},
        {"TruncatedAfterTcpHeader", &tcp_full, kL4 + kTcpHeaderLen},
        {"TruncatedInsideTcpPayload", &tcp_full, kL4 + kTcpHeaderLen + 2},
        {"TruncatedInsideUdpHeader", &udp_full, kL4 + 4},
        {"TruncatedAfterUdpHeader", &udp_full, kL4 + kUdpHeaderLen},
        {"TruncatedInsideUdpPayload", &udp_full, kL4 + kUdpHeaderLen + 1},
    };
    for (const auto& c : cuts) {
        add(CaseBuilder(c.name)
                .services({kExactTcp, kExactUdp})
                .input(cut(*c.frame, c.length))
                .passes(FWD_CNT_PASS_TRUNCATED));
    }
    add(CaseBuilder("PayloadLengthBeyondFrame")
            .services({kExactTcp})
            .input(client_tcp(kHost).syn().payload("hi").tot_len(100).build())
            .passes(FWD_CNT_PASS_TRUNCATED));
    add(CaseBuilder("PayloadLengthEndsInsideTcpHeader")
            .services({kExactTcp})
            .input(client_tcp(kHost).syn().tot_len(10).build())
            .passes(FWD_CNT_PASS_TRUNCATED));
    add(CaseBuilder("PayloadLengthEndsInsideHopByHop")
            .services({kExactTcp})
            .input(client_tcp(kHost).hop_by_hop(2).syn().tot_len(12).build())
            .passes(FWD_CNT_PASS_TRUNCATED));
    add(CaseBuilder("PayloadLengthZeroIsMalformed")  // a jumbogram, or nonsense
            .services({kExactTcp})
            .input(client_tcp(kHost).syn().tot_len(0).build())
            .passes(FWD_CNT_PASS_MALFORMED));
    add(CaseBuilder("Ipv6EthertypeWithVersionFourIsMalformed")
            .services({kExactTcp})
            .input([] {
                Bytes frame = client_tcp(kHost).syn().build();
                frame[kEthHeaderLen] = static_cast<uint8_t>(0x40 | (frame[kEthHeaderLen] & 0x0f));
                return frame;
            }())
            .passes(FWD_CNT_PASS_MALFORMED));
    add(CaseBuilder("TcpDataOffsetBelowFiveIsMalformed")
            .services({kExactTcp})
            .input(client_tcp(kHost).tcp_doff(4).syn().build())
            .passes(FWD_CNT_PASS_MALFORMED));
    add(CaseBuilder("UdpLengthBelowHeaderIsMalformed")
            .services({kExactUdp})
            .input(client_udp(kHost).payload("q").udp_len(7).build())
            .passes(FWD_CNT_PASS_MALFORMED));
    add(CaseBuilder("UdpLengthBeyondPayloadIsMalformed")
            .services({kExactUdp})
            .input(client_udp(kHost).payload("q").udp_len(10).build())
            .passes(FWD_CNT_PASS_MALFORMED));
    add(CaseBuilder("UdpWithoutChecksumIsNotTranslated")  // illegal over IPv6 (RFC 8200 8.1)
            .services({kExactUdp})
            .input(client_udp(kHost).zero_udp_checksum().payload("query").build())
            .passes(FWD_CNT_PASS_MALFORMED));
    return cases;
}

std::vector<Nat6Case> ingress_cases() {
    std::vector<Nat6Case> cases;
    auto add = [&cases](const CaseBuilder& builder) { cases.push_back(builder.build()); };
    const std::string host = kHost;
    const auto to_container_tcp = [] { return client_tcp(kContainer, kContainerTcpPort); };
    const auto to_container_udp = [] { return client_udp(kContainer, kContainerUdpPort); };

    // Translated -------------------------------------------------------------------------------
    add(CaseBuilder("TcpSynHitsExactMapping")
            .services({kExactTcp})
            .input(client_tcp(host).syn().payload("hello").build())
            .output(to_container_tcp().syn().payload("hello").build())
            .new_flow6(kTcpMapping, tcp_flow()));
    add(CaseBuilder("TcpAckOfTrackedFlowCreatesNoFlow")
            .services({kExactTcp})
            .conntrack({tcp_flow(kHost, kNsPerSec / 10)})
            .input(client_tcp(host).ack().seq(1001).ack_seq(77).payload("GET /").build())
            .output(to_container_tcp().ack().seq(1001).ack_seq(77).payload("GET /").build())
            .tracked_in6(kTcpMapping));
    {
        auto stale = tcp_flow(kHost, kNsPerSec);
        stale.host_port = 81;
        stale.mapping_id = 3;
        add(CaseBuilder("TrackedClientPortOfOtherMappingIsRetracked")
                .services({kExactTcp})
                .conntrack({stale})
                .input(client_tcp(host).syn().build())
                .output(to_container_tcp().syn().build())
                .new_flow6(kTcpMapping, tcp_flow()));
    }
    add(CaseBuilder("UdpHitsExactMapping")
            .services({kExactUdp})
            .input(client_udp(host).payload("query").build())
            .output(to_container_udp().payload("query").build())
            .new_flow6(kUdpMapping, udp_flow()));
    {
        const auto translated = [&](const Bytes& payload) {
            return to_container_udp().payload(payload).build();
        };
        const Bytes payload = payload_with_zero_udp_sum(translated);
        add(CaseBuilder("UdpChecksumComputingToZeroIsSentAsFfff")
                .services({kExactUdp})
                .input(client_udp(host).payload(payload).build())
                .output(translated(payload))
                .new_flow6(kUdpMapping, udp_flow()));
    }
    add(CaseBuilder("WildcardHitsLocalDestination")
            .services({kWildcardTcp})
            .input(client_tcp(host).syn().build())
            .output(to_container_tcp().syn().build())
            .new_flow6(kTcpMapping, tcp_flow()));
    add(CaseBuilder("UdpWildcardHitsLocalDestination")
            .services({kWildcardUdp})
            .input(client_udp(host).payload("q").build())
            .output(to_container_udp().payload("q").build())
            .new_flow6(kUdpMapping, udp_flow()));
    {
        const ServiceEntry other{kAnyAddr, kHostTcpPort, kIpProtoTcp, "fd00:b::99", 9999, 5};
        add(CaseBuilder("ExactMappingWinsOverWildcard")
                .services({kExactTcp, other})
                .input(client_tcp(host).syn().build())
                .output(to_container_tcp().syn().build())
                .new_flow6(kTcpMapping, tcp_flow()));
    }
    add(CaseBuilder("TrafficClassAndPaddingAreKept")
            .services({kExactUdp})
            .input(client_udp(host).tos(0xb8).payload("pad").pad_to(90).build())
            .output(to_container_udp().tos(0xb8).payload("pad").pad_to(90).build())
            .new_flow6(kUdpMapping, udp_flow()));
    {
        const ServiceEntry port_only{kHost, kHostTcpPort,      kIpProtoTcp,
                                     kHost, kContainerTcpPort, kTcpMapping};
        auto flow = tcp_flow();
        flow.container_addr = kHost;
        add(CaseBuilder("PortOnlyRewrite")
                .services({port_only})
                .input(client_tcp(host).syn().build())
                .output(client_tcp(host, kContainerTcpPort).syn().build())
                .new_flow6(kTcpMapping, flow));
    }
    {
        const ServiceEntry addr_only{kHost,      kHostUdpPort, kIpProtoUdp,
                                     kContainer, kHostUdpPort, kUdpMapping};
        auto flow = udp_flow();
        flow.container_port = kHostUdpPort;
        add(CaseBuilder("AddressOnlyRewrite")
                .services({addr_only})
                .input(client_udp(host).payload("q").build())
                .output(client_udp(kContainer, kHostUdpPort).payload("q").build())
                .new_flow6(kUdpMapping, flow));
    }
    const ServiceEntry loopback{kLoopback,  kHostTcpPort,      kIpProtoTcp,
                                kContainer, kContainerTcpPort, kTcpMapping};
    add(CaseBuilder("LoopbackMappingOnLoopbackDeviceIsTranslated")
            .on(Device::Loopback)
            .services({loopback})
            .input(client_tcp(kLoopback).syn().build())
            .output(to_container_tcp().syn().build())
            .new_flow6(kTcpMapping, tcp_flow(kLoopback)));

    // Fast path: a routed container gets the packet straight from fwd ---------------------------
    {
        const ServiceEntry routed{
            kHost, kHostTcpPort, kIpProtoTcp, kRoutedContainer, kContainerTcpPort, kTcpMapping};
        auto flow = tcp_flow();
        flow.container_addr = kRoutedContainer;
        auto via_container_side = flow;
        via_container_side.container_ifindex = kContainerSidePlaceholder;
        add(CaseBuilder("RoutedContainerGetsThePacketStraight")
                .services({routed})
                .input(client_tcp(host).syn().payload("fast").build())
                .output(PacketBuilder()
                            .eth(kPeer6Mac, kRoutedContainer6Mac)
                            .ipv6(kClient, kRoutedContainer)
                            .ttl(kHopLimit - 1)
                            .tcp(kClientPort, kContainerTcpPort)
                            .syn()
                            .payload("fast")
                            .build())
                .new_flow6(kTcpMapping, via_container_side)
                .redirected());
        add(CaseBuilder("HopLimitOneGoesThroughTheStack")
                .services({routed})
                .input(client_tcp(host).ttl(1).syn().build())
                .output(client_tcp(kRoutedContainer, kContainerTcpPort).ttl(1).syn().build())
                .new_flow6(kTcpMapping, flow));
        add(CaseBuilder("WithoutFastPathGoesThroughTheStack")
                .config(FWD_CONFIG_NO_FAST_PATH)
                .services({routed})
                .input(client_tcp(host).syn().build())
                .output(client_tcp(kRoutedContainer, kContainerTcpPort).syn().build())
                .new_flow6(kTcpMapping, flow));
        // The reply arrives on the device the flow's forward packets were sent to.
        add(CaseBuilder("ReplyOnContainerSideGoesStraightToTheClient")
                .on(Device::ContainerSide)
                .services({routed})
                .conntrack({via_container_side})
                .input(PacketBuilder()
                           .eth(kRoutedContainer6Mac, kPeer6Mac)
                           .ipv6(kRoutedContainer, kClient)
                           .tcp(kContainerTcpPort, kClientPort)
                           .syn()
                           .ack()
                           .build())
                .output(PacketBuilder()
                            .eth(kHost6Mac, kClientMac)
                            .ipv6(kHost, kClient)
                            .ttl(kHopLimit - 1)
                            .tcp(kHostTcpPort, kClientPort)
                            .syn()
                            .ack()
                            .build())
                .reply_out6(kTcpMapping)
                .redirected());
        // The same reply arriving elsewhere is a spoofed container source: not translated.
        add(CaseBuilder("ReplyOnAnotherDeviceIsNotTranslated")
                .services({routed})
                .conntrack({via_container_side})
                .input(reply_tcp(kRoutedContainer).syn().ack().build())
                .passes(FWD_CNT_PASS_NO_MATCH));
    }

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
    add(CaseBuilder("WildcardSkipsRoutedDestination")
            .services({kWildcardTcp})
            .input(client_tcp(kRoutedDst).syn().build())
            .passes(FWD_CNT_PASS_NOT_LOCAL));
    add(CaseBuilder("WildcardSkipsMulticastDestination")
            .services({kWildcardUdp})
            .input(client_udp("ff02::fb").eth(kClientMac, "33:33:00:00:00:fb").payload("m").build())
            .passes(FWD_CNT_PASS_NOT_LOCAL));
    add(CaseBuilder("WildcardSkipsLinkLocalDestination")
            .services({kWildcardTcp})
            .input(client_tcp("fe80::1").syn().build())
            .passes(FWD_CNT_PASS_NOT_LOCAL));
    add(CaseBuilder("WildcardSkipsFrameToLinkMulticast")
            .services({kWildcardUdp})
            .input(client_udp(host).eth(kClientMac, "33:33:00:00:00:01").payload("m").build())
            .passes(FWD_CNT_PASS_NOT_LOCAL));
    add(CaseBuilder("UnmappedPortMisses")
            .services({kExactTcp})
            .input(client_tcp(host, 81).syn().build())
            .passes(FWD_CNT_PASS_NO_MATCH));
    add(CaseBuilder("UdpToTcpMappingMisses")
            .services({kExactTcp, kWildcardTcp})
            .input(client_udp(host, kHostTcpPort).payload("q").build())
            .passes(FWD_CNT_PASS_NO_MATCH));
    add(CaseBuilder("Ipv4MappingsDoNotMatch")
            .services({{"0.0.0.0", kHostTcpPort, kIpProtoTcp, "172.17.0.2", 8080, kTcpMapping}})
            .input(client_tcp(host).syn().build())
            .passes(FWD_CNT_PASS_NO_MATCH));
    add(CaseBuilder("EmptyTablesMiss")
            .input(client_tcp(host).syn().build())
            .passes(FWD_CNT_PASS_NO_MATCH));

    // Passed unchanged: fragments and extension headers fwd does not walk ------------------------
    add(CaseBuilder("FirstFragmentPasses")
            .services({kExactTcp})
            .input(client_tcp(host).ipv6_fragment(true, 0).syn().payload("part1").build())
            .passes(FWD_CNT_PASS_FRAGMENT));
    add(CaseBuilder("AtomicFragmentPasses")
            .services({kExactUdp})
            .input(client_udp(host).ipv6_fragment(false, 0).payload("whole").build())
            .passes(FWD_CNT_PASS_FRAGMENT));
    add(CaseBuilder("LaterFragmentPasses")
            .services({kExactUdp})
            .input(PacketBuilder()
                       .eth()
                       .ipv6(kClient, host)
                       .ipv6_fragment(false, 185)
                       .ip_proto(kIpProtoUdp)
                       .payload("tail")
                       .build())
            .passes(FWD_CNT_PASS_FRAGMENT));
    add(CaseBuilder("FragmentAfterHopByHopPasses")
            .services({kExactTcp})
            .input(client_tcp(host).hop_by_hop().ipv6_fragment(true, 0).syn().build())
            .passes(FWD_CNT_PASS_FRAGMENT));
    add(CaseBuilder("RoutingWithSegmentsLeftPasses")
            .services({kExactTcp, kWildcardTcp})
            .input(client_tcp(host).routing(1).syn().build())
            .passes(FWD_CNT_PASS_EXT_HEADERS));
    add(CaseBuilder("EspPasses")
            .services({kExactTcp})
            .input(PacketBuilder()
                       .eth()
                       .ipv6(kClient, host)
                       .ip_proto(kIpv6Esp)
                       .payload(Bytes{0, 0, 1, 0, 0, 0, 0, 1, 'e', 'n', 'c'})
                       .build())
            .passes(FWD_CNT_PASS_EXT_HEADERS));
    add(CaseBuilder("AuthenticationHeaderPasses")
            .services({kExactTcp})
            .input(client_tcp(host)
                       .ipv6_ext(kIpv6Ah, {2, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0})
                       .syn()
                       .build())
            .passes(FWD_CNT_PASS_EXT_HEADERS));
    add(CaseBuilder("SevenExtensionHeadersPass")
            .services({kExactTcp})
            .input(client_tcp(host)
                       .hop_by_hop()
                       .dest_options()
                       .dest_options()
                       .dest_options()
                       .dest_options()
                       .dest_options()
                       .dest_options()
                       .syn()
                       .build())
            .passes(FWD_CNT_PASS_EXT_HEADERS));
    add(CaseBuilder("ExtensionHeadersLongerThanFwdWalksPass")
            .services({kExactTcp})
            .input(client_tcp(host).hop_by_hop(33).syn().build())
            .passes(FWD_CNT_PASS_EXT_HEADERS));
    add(CaseBuilder("NoNextHeaderPasses")
            .services({kExactTcp})
            .input(PacketBuilder()
                       .eth()
                       .ipv6(kClient, host)
                       .ip_proto(kIpv6NoNextHeader)
                       .payload("ignored")
                       .build())
            .passes(FWD_CNT_PASS_NOT_L4));

    // Passed unchanged: ICMPv6 that is not an error about a flow ----------------------------------
    add(CaseBuilder("NeighbourSolicitationPasses")
            .services({kWildcardTcp, kWildcardUdp})
            .conntrack({tcp_flow()})
            .input(PacketBuilder()
                       .eth(kClientMac, "33:33:ff:00:00:01")
                       .ipv6(kClient, "ff02::1:ff00:1")
                       .ttl(255)
                       .icmp_error(kIcmp6NeighborSolicitation, 0, addr_bytes(kHost))
                       .build())
            .passes(FWD_CNT_PASS_NOT_L4));
    add(CaseBuilder("EchoRequestPasses")
            .services({kWildcardTcp, kWildcardUdp})
            .input(PacketBuilder().eth().ipv6(kClient, host).icmp_echo(7, 1).build())
            .passes(FWD_CNT_PASS_NOT_L4));

    append(cases, extension_header_cases());
    append(cases, malformed_cases());
    append(cases, icmp_to_container_cases());
    append(cases, allow_list_cases());
    return cases;
}

// ---------------------------------------------------------------------------------------------
// Egress table

std::vector<Nat6Case> egress_cases() {
    std::vector<Nat6Case> cases;
    auto add = [&cases](const CaseBuilder& builder) { cases.push_back(builder.build()); };
    const auto published_tcp = [] { return reply_tcp(kHost, kHostTcpPort); };
    const auto published_udp = [] { return reply_udp(kHost, kHostUdpPort); };

    // Translated -------------------------------------------------------------------------------
    add(CaseBuilder("TcpReplyGetsPublishedSource")
            .conntrack({tcp_flow()})
            .input(reply_tcp().syn().ack().ack_seq(1001).payload("welcome").build())
            .output(published_tcp().syn().ack().ack_seq(1001).payload("welcome").build())
            .reply_out6(kTcpMapping));
    add(CaseBuilder("UdpReplyGetsPublishedSource")
            .conntrack({udp_flow()})
            .input(reply_udp().payload("answer").build())
            .output(published_udp().payload("answer").build())
            .reply_out6(kUdpMapping));
    {
        const auto translated = [&](const Bytes& payload) {
            return published_udp().payload(payload).build();
        };
        const Bytes payload = payload_with_zero_udp_sum(translated);
        add(CaseBuilder("UdpReplyChecksumComputingToZeroIsSentAsFfff")
                .conntrack({udp_flow()})
                .input(reply_udp().payload(payload).build())
                .output(translated(payload))
                .reply_out6(kUdpMapping));
    }
    add(CaseBuilder("IdleTcpEntryStillMatches")
            .conntrack({tcp_flow(kHost, 300 * kNsPerSec)})
            .input(reply_tcp().ack().build())
            .output(published_tcp().ack().build())
            .reply_out6(kTcpMapping));
    add(CaseBuilder("ReplyWithDestinationOptionsIsTranslatedAndCounted")
            .conntrack({tcp_flow()})
            .input(reply_tcp().dest_options().ack().build())
            .output(published_tcp().dest_options().ack().build())
            .reply_out6(kTcpMapping)
            .counts(FWD_CNT_IP_OPTIONS));

    // Passed unchanged ---------------------------------------------------------------------------
    add(CaseBuilder("ReplyWithoutEntryPasses")
            .input(reply_tcp().syn().ack().build())
            .passes(FWD_CNT_PASS_NO_MATCH));
    add(CaseBuilder("ReplyOfOtherProtocolPasses")
            .conntrack({tcp_flow()})
            .input(reply_udp(kContainer, kContainerTcpPort).payload("u").build())
            .passes(FWD_CNT_PASS_NO_MATCH));
    add(CaseBuilder("ReplyToOtherClientAddressPasses")
            .conntrack({tcp_flow()})
            .input(PacketBuilder()
                       .eth()
                       .ipv6(kContainer, "fd00::8")
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
            .input(client_tcp(kHost).syn().build())
            .passes(FWD_CNT_PASS_NO_MATCH));
    add(CaseBuilder("ExpiredUdpEntryPasses")
            .conntrack({udp_flow(121 * kNsPerSec)})
            .input(reply_udp().payload("late").build())
            .passes(FWD_CNT_PASS_NO_MATCH));
    add(CaseBuilder("ReplyFragmentPasses")
            .conntrack({tcp_flow()})
            .input(reply_tcp().ipv6_fragment(true, 0).ack().payload("part").build())
            .passes(FWD_CNT_PASS_FRAGMENT));
    add(CaseBuilder("TruncatedReplyPasses")
            .conntrack({tcp_flow()})
            .input(reply_tcp().ack().truncate(kEthHeaderLen + kIpv6HeaderLen + 8).build())
            .passes(FWD_CNT_PASS_TRUNCATED));
    add(CaseBuilder("ReplyWithoutUdpChecksumIsNotTranslated")
            .conntrack({udp_flow()})
            .input(reply_udp().zero_udp_checksum().payload("answer").build())
            .passes(FWD_CNT_PASS_MALFORMED));
    add(CaseBuilder("NeighbourAdvertisementFromContainerPasses")
            .conntrack({tcp_flow()})
            .input(PacketBuilder()
                       .eth()
                       .ipv6(kContainer, kClient)
                       .ttl(255)
                       .icmp_error(136, 0, addr_bytes(kContainer), 0x60000000)
                       .build())
            .passes(FWD_CNT_PASS_NOT_L4));
    append(cases, icmp_to_client_cases());
    return cases;
}

TEST_P(Tc6IngressNat, Run) {
    check_case(Hook::Ingress, std::get<0>(GetParam()), std::get<1>(GetParam()));
}
INSTANTIATE_TEST_SUITE_P(Table, Tc6IngressNat,
                         testing::Combine(testing::ValuesIn(ingress_cases()), kChecksumModes),
                         case_name);

TEST_P(Tc6EgressRevNat, Run) {
    check_case(Hook::Egress, std::get<0>(GetParam()), std::get<1>(GetParam()));
}
INSTANTIATE_TEST_SUITE_P(Table, Tc6EgressRevNat,
                         testing::Combine(testing::ValuesIn(egress_cases()), kChecksumModes),
                         case_name);

// ---------------------------------------------------------------------------------------------
// Flows: several packets through both programs.

void expect_translated(const ProgRun& result, const Bytes& expected) {
    ASSERT_TRUE(result.ok()) << result.error_message();
    EXPECT_EQ(result.retval, kVerdictOk);
    EXPECT_TRUE(same_frame(expected, result.data));
    const auto sums = verify_ipv6_checksums(result.data);
    EXPECT_TRUE(sums.ok) << sums.detail;
}

TEST_F(Tc6NatFlow, TcpConnectionThroughBothDirections) {
    datapath_->add_service(kWildcardTcp);
    const auto from_client = [] { return client_tcp(kHost); };
    const auto to_container = [] { return client_tcp(kContainer, kContainerTcpPort); };
    const auto from_container = [] { return reply_tcp(); };
    const auto to_client = [] { return reply_tcp(kHost, kHostTcpPort); };

    expect_translated(run(Hook::Ingress, from_client().syn().seq(5000).build()),
                      to_container().syn().seq(5000).build());
    expect_translated(
        run(Hook::Egress, from_container().syn().ack().seq(9000).ack_seq(5001).build()),
        to_client().syn().ack().seq(9000).ack_seq(5001).build());
    expect_translated(
        run(Hook::Ingress, from_client().ack().seq(5001).ack_seq(9001).payload("GET /").build()),
        to_container().ack().seq(5001).ack_seq(9001).payload("GET /").build());

    auto records = datapath_->conntrack6();
    ASSERT_EQ(records.size(), 1U);
    EXPECT_EQ(records[0].entry.to_string(), tcp_flow().to_string());
    EXPECT_EQ(records[0].value.flags, 0U);
    EXPECT_EQ(records[0].value.container_ifindex, 0U) << "no route to the container: the stack";
    EXPECT_EQ(records[0].value.pad, 0U);
    EXPECT_TRUE(datapath_->conntrack().empty()) << "an IPv6 flow is not in fwd_ct4";

    // The container closes: the flow is marked closing, and still translated.
    expect_translated(
        run(Hook::Egress, from_container().fin().ack().seq(9001).ack_seq(5006).build()),
        to_client().fin().ack().seq(9001).ack_seq(5006).build());
    records = datapath_->conntrack6();
    ASSERT_EQ(records.size(), 1U);
    EXPECT_EQ(records[0].value.flags, FWD_CT_FLAG_CLOSING);
    expect_translated(run(Hook::Ingress, from_client().fin().ack().seq(5006).ack_seq(9002).build()),
                      to_container().fin().ack().seq(5006).ack_seq(9002).build());

    const auto counters = datapath_->counters();
    EXPECT_EQ(counters[FWD_CNT_NAT_IN], 3U);
    EXPECT_EQ(counters[FWD_CNT_NAT6_IN], 3U);
    EXPECT_EQ(counters[FWD_CNT_NAT_OUT], 2U);
    EXPECT_EQ(counters[FWD_CNT_NAT6_OUT], 2U);
    EXPECT_EQ(counters[FWD_CNT_CT_CREATED], 1U);
    const auto stats = datapath_->stats(kTcpMapping);
    EXPECT_EQ(stats.packets_in, 3U);
    EXPECT_EQ(stats.packets_out, 2U);
    EXPECT_EQ(stats.new_flows, 1U);
}

TEST_F(Tc6NatFlow, UdpAndIpv4FlowsOfTheSameClientPortStayApart) {
    datapath_->add_service(kExactUdp);
    datapath_->add_service({"10.0.0.1", kHostUdpPort, kIpProtoUdp, "172.17.0.2", 53, 3});
    expect_translated(run(Hook::Ingress, client_udp(kHost).payload("q6").build()),
                      client_udp(kContainer, kContainerUdpPort).payload("q6").build());
    const ProgRun v4 = run(Hook::Ingress,
                           PacketBuilder()
                               .eth()
                               .ipv4("10.0.0.9", "10.0.0.1")
                               .udp(kClientPort, kHostUdpPort)
                               .payload("q4")
                               .build(),
                           Device::Uplink);
    ASSERT_TRUE(v4.ok()) << v4.error_message();
    EXPECT_EQ(datapath_->conntrack6().size(), 1U);
    EXPECT_EQ(datapath_->conntrack().size(), 1U);
    expect_translated(run(Hook::Egress, reply_udp().payload("a6").build()),
                      reply_udp(kHost, kHostUdpPort).payload("a6").build());
    const auto counters = datapath_->counters();
    EXPECT_EQ(counters[FWD_CNT_NAT_IN], 2U);
    EXPECT_EQ(counters[FWD_CNT_NAT6_IN], 1U);
    EXPECT_EQ(counters[FWD_CNT_NAT6_OUT], 1U);
}

TEST_F(Tc6NatFlow, IcmpErrorNeitherRefreshesNorClosesTheFlow) {
    const uint64_t inserted = coarse_monotonic_ns();
    datapath_->add_conntrack(udp_flow(60 * kNsPerSec), inserted);
    const Bytes udp_in = client_udp(kContainer, kContainerUdpPort).payload("query").build();
    expect_translated(
        run(Hook::Egress, too_big(kHost, kClient, ip_packet_of(udp_in)).build()),
        too_big(kHost, kClient, ip_packet_of(client_udp(kHost).payload("query").build())).build());
    const auto records = datapath_->conntrack6();
    ASSERT_EQ(records.size(), 1U);
    EXPECT_EQ(records[0].value.last_seen_ns, inserted - 60 * kNsPerSec);
    EXPECT_EQ(records[0].value.flags, 0U);
}

// ---------------------------------------------------------------------------------------------
// XDP is IPv4 only: IPv6 frames go to TC as they came, and XDP counts nothing for them.

TEST_F(XdpIngressIpv6, PassesIpv6FramesUnchangedAndUncounted) {
    datapath_->add_service(kWildcardTcp);
    datapath_->add_service(kExactUdp);
    datapath_->add_conntrack(tcp_flow(), coarse_monotonic_ns());
    datapath_->add_conntrack(udp_flow(), coarse_monotonic_ns());
    const ProgRunner runner(datapath_->prog_fd(BpfDatapath::Prog::XdpIngress));
    const int uplink = BpfNetns::status().host6_ifindex;
    const std::vector<Bytes> frames = {
        client_tcp(kHost).ack().payload("tracked").build(),
        client_udp(kHost).payload("tracked").build(),
        client_tcp(kHost).syn().build(),
        too_big(kClientRouter, kHost,
                ip_packet_of(reply_tcp(kHost, kHostTcpPort).ack().payload("x").build()))
            .build(),
    };
    for (const auto& frame : frames) {
        const XdpRun run = runner.run_xdp(frame, ProgRunner::xdp_ctx(uplink, frame.size()));
        ASSERT_TRUE(run.ok()) << run.error_message();
        EXPECT_EQ(run.retval, static_cast<uint32_t>(XDP_PASS));
        EXPECT_TRUE(same_frame(frame, run.data));
        EXPECT_TRUE(run.meta.empty()) << "an IPv6 frame was marked translated";
    }
    check_counters(datapath_->counters(), {});
    check_stats(*datapath_, {}, 0);
}

}  // namespace
}  // namespace fwd::test
