#include "fwd/loader/host_sockets.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>

#include <bit>

namespace fwd::loader {
namespace {

// /proc/net prints each address word as its in-memory value in hex; the samples below are
// what a little-endian host prints.
constexpr const char* kTcp =
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
    "   0: 0100007F:0035 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1\n"
    "   1: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2\n"
    "   2: 0201A8C0:C350 0101A8C0:0050 01 00000000:00000000 00:00000000 00000000     0        0 3\n"
    "   3: garbage\n";

constexpr const char* kTcp6 =
    "  sl  local_address                         remote_address                        st\n"
    "   0: 00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 0A\n"
    "   1: 0000000000000000FFFF00000100007F:1F91 00000000000000000000000000000000:0000 0A\n"
    "   2: 000080FE00000000FF005452563412FE:1F92 00000000000000000000000000000000:0000 0A\n"
    "   3: 00000000000000000000000001000000:1F93 00000000000000000000000000000000:0000 0A\n";

TEST(ProcNetParser, ReadsIpv4Sockets) {
    if (std::endian::native != std::endian::little) GTEST_SKIP() << "samples are little-endian";
    const auto sockets = parse_proc_net(kTcp, Proto::Tcp, false);
    ASSERT_EQ(sockets.size(), 3U);
    EXPECT_EQ(sockets[0], (BoundSocket{Ipv4Addr::from_octets(127, 0, 0, 1), false, 53, Proto::Tcp}));
    EXPECT_EQ(sockets[1], (BoundSocket{Ipv4Addr{}, true, 22, Proto::Tcp}));
    EXPECT_EQ(sockets[2], (BoundSocket{Ipv4Addr::from_octets(192, 168, 1, 2), false, 50000, Proto::Tcp}));
}

Ipv6Addr v6(const char* text) {
    Ipv6Addr::Bytes bytes{};
    EXPECT_EQ(inet_pton(AF_INET6, text, bytes.data()), 1) << text;
    return Ipv6Addr(bytes);
}

TEST(ProcNetParser, ReadsIpv6AndMappedSockets) {
    if (std::endian::native != std::endian::little) GTEST_SKIP() << "samples are little-endian";
    const auto sockets = parse_proc_net(kTcp6, Proto::Tcp, true);
    ASSERT_EQ(sockets.size(), 4U);
    EXPECT_EQ(sockets[0], (BoundSocket{Ipv6Addr{}, true, 8080, Proto::Tcp}));
    // ::ffff:127.0.0.1, a dual-stack socket bound to an IPv4 address: listed as IPv4.
    EXPECT_EQ(sockets[1], (BoundSocket{Ipv4Addr::from_octets(127, 0, 0, 1), false, 8081, Proto::Tcp}));
    EXPECT_EQ(sockets[2], (BoundSocket{v6("fe80::5254:ff:fe12:3456"), false, 8082, Proto::Tcp}));
    EXPECT_EQ(sockets[3], (BoundSocket{v6("::1"), false, 8083, Proto::Tcp}));
}

// Which (address, port) questions a socket answers "in use" for.
TEST(ProcNetParser, SocketsHoldPortsOfTheirFamilyAndWildcardIpv6HoldsBoth) {
    const auto any4 = IpAddr::any(Family::V4);
    const auto any6 = IpAddr::any(Family::V6);
    const IpAddr loop4 = Ipv4Addr::from_octets(127, 0, 0, 1);
    const IpAddr loop6 = v6("::1");
    const BoundSocket wild6{Ipv6Addr{}, true, 80, Proto::Tcp};
    const BoundSocket wild4{Ipv4Addr{}, true, 80, Proto::Tcp};
    const BoundSocket on_loop6{loop6, false, 80, Proto::Tcp};
    const BoundSocket on_loop4{loop4, false, 80, Proto::Tcp};

    // [::] may be dual-stack (/proc does not show IPV6_V6ONLY): both families.
    for (const auto& addr : {any4, any6, loop4, loop6}) EXPECT_TRUE(holds_port(wild6, addr, 80, Proto::Tcp));
    EXPECT_FALSE(holds_port(wild6, any6, 81, Proto::Tcp));
    EXPECT_FALSE(holds_port(wild6, any6, 80, Proto::Udp));
    // 0.0.0.0: IPv4 only.
    EXPECT_TRUE(holds_port(wild4, loop4, 80, Proto::Tcp));
    EXPECT_FALSE(holds_port(wild4, any6, 80, Proto::Tcp));
    // A specific address: its own, and the wildcard of its family.
    EXPECT_TRUE(holds_port(on_loop6, loop6, 80, Proto::Tcp));
    EXPECT_TRUE(holds_port(on_loop6, any6, 80, Proto::Tcp));
    EXPECT_FALSE(holds_port(on_loop6, any4, 80, Proto::Tcp));
    EXPECT_FALSE(holds_port(on_loop6, v6("fd00::1"), 80, Proto::Tcp));
    EXPECT_TRUE(holds_port(on_loop4, any4, 80, Proto::Tcp));
    EXPECT_FALSE(holds_port(on_loop4, any6, 80, Proto::Tcp));
}

TEST(ProcNetParser, IgnoresEmptyAndMalformedInput) {
    EXPECT_TRUE(parse_proc_net("", Proto::Udp, false).empty());
    EXPECT_TRUE(parse_proc_net("header\n 0: zz:zz\n 1: 0100007F:GGGG\n", Proto::Udp, false).empty());
}

}  // namespace
}  // namespace fwd::loader
