#include "fwd/loader/host_sockets.h"

#include <gtest/gtest.h>

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
    "   2: 000080FE00000000FF005452120000FE:1F92 00000000000000000000000000000000:0000 0A\n";

TEST(ProcNetParser, ReadsIpv4Sockets) {
    if (std::endian::native != std::endian::little) GTEST_SKIP() << "samples are little-endian";
    const auto sockets = parse_proc_net(kTcp, Proto::Tcp, false);
    ASSERT_EQ(sockets.size(), 3U);
    EXPECT_EQ(sockets[0], (BoundSocket{Ipv4Addr::from_octets(127, 0, 0, 1), false, 53, Proto::Tcp}));
    EXPECT_EQ(sockets[1], (BoundSocket{Ipv4Addr{}, true, 22, Proto::Tcp}));
    EXPECT_EQ(sockets[2], (BoundSocket{Ipv4Addr::from_octets(192, 168, 1, 2), false, 50000, Proto::Tcp}));
}

TEST(ProcNetParser, ReadsWildcardAndMappedIpv6Sockets) {
    if (std::endian::native != std::endian::little) GTEST_SKIP() << "samples are little-endian";
    const auto sockets = parse_proc_net(kTcp6, Proto::Tcp, true);
    ASSERT_EQ(sockets.size(), 2U);  // the fe80:: socket holds no IPv4 port
    EXPECT_EQ(sockets[0], (BoundSocket{Ipv4Addr{}, true, 8080, Proto::Tcp}));
    EXPECT_EQ(sockets[1], (BoundSocket{Ipv4Addr::from_octets(127, 0, 0, 1), false, 8081, Proto::Tcp}));
}

TEST(ProcNetParser, IgnoresEmptyAndMalformedInput) {
    EXPECT_TRUE(parse_proc_net("", Proto::Udp, false).empty());
    EXPECT_TRUE(parse_proc_net("header\n 0: zz:zz\n 1: 0100007F:GGGG\n", Proto::Udp, false).empty());
}

}  // namespace
}  // namespace fwd::loader
