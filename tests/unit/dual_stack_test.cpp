// IPv6 and dual-stack publishing over the in-memory data plane (issue #9): Docker publishes an
// addressless port on 0.0.0.0 and [::] with one host port (moby#42442), and fwd does the same.
#include <gtest/gtest.h>

#include "support/controller_fixture.h"

namespace fwd::ctl {
namespace {

using DualStackTest = ControllerTest;

constexpr const char* kIp = "172.17.0.2";
constexpr const char* kIp6 = "fd00::2";

// --- publish and port ---------------------------------------------------------------

// The issue's "done when".
TEST_F(DualStackTest, PortPrintsBothFamiliesLikeDockerPort) {
    auto out = publish("web", kIp, {.specs = {"8080:80"}, .ip6 = kIp6});
    ASSERT_TRUE(out) << out.error().message;
    EXPECT_EQ(out->text,
              "0.0.0.0:8080/tcp -> 172.17.0.2:80\n"
              "[::]:8080/tcp -> [fd00::2]:80\n");
    EXPECT_EQ(controller_->port("web", "80").value().text, "0.0.0.0:8080\n[::]:8080\n");
    EXPECT_EQ(controller_->port("web", "").value().text,
              "80/tcp -> 0.0.0.0:8080\n80/tcp -> [::]:8080\n");
}

TEST_F(DualStackTest, PortKeepsNaturalOrderAcrossPortsWithIpv4First) {
    ASSERT_TRUE(publish("web", kIp,
                        {.specs = {"8443:443", "8080:80", "53:53/udp", "[::1]:9000:9000"},
                         .ip6 = kIp6}));
    EXPECT_EQ(controller_->port("web", "").value().text,
              "53/udp -> 0.0.0.0:53\n"
              "53/udp -> [::]:53\n"
              "80/tcp -> 0.0.0.0:8080\n"
              "80/tcp -> [::]:8080\n"
              "443/tcp -> 0.0.0.0:8443\n"
              "443/tcp -> [::]:8443\n"
              "9000/tcp -> [::1]:9000\n");
    EXPECT_EQ(controller_->port("web", "9000").value().text, "[::1]:9000\n");
}

TEST_F(DualStackTest, PublishAllTakesOnePoolPortPerExposedPortForBothFamilies) {
    auto out = publish("web", kIp, {.all = true, .expose = {"80", "443"}, .ip6 = kIp6});
    ASSERT_TRUE(out) << out.error().message;
    EXPECT_EQ(out->text,
              "0.0.0.0:49000/tcp -> 172.17.0.2:80\n"
              "[::]:49000/tcp -> [fd00::2]:80\n"
              "0.0.0.0:49001/tcp -> 172.17.0.2:443\n"
              "[::]:49001/tcp -> [fd00::2]:443\n");
    EXPECT_EQ(controller_->port("web", "443").value().text, "0.0.0.0:49001\n[::]:49001\n");
}

TEST_F(DualStackTest, WithoutIp6OnlyIpv4IsPublished) {
    auto out = publish("web", kIp, {.specs = {"8080:80"}, .all = true, .expose = {"443"}});
    ASSERT_TRUE(out) << out.error().message;
    EXPECT_EQ(out->text,
              "0.0.0.0:8080/tcp -> 172.17.0.2:80\n"
              "0.0.0.0:49000/tcp -> 172.17.0.2:443\n");
}

TEST_F(DualStackTest, Ipv6OnlyContainerPublishesOnIpv6Only) {
    auto out = publish("web", "", {.specs = {"8080:80", "[::1]::81"}, .ip6 = kIp6});
    ASSERT_TRUE(out) << out.error().message;
    EXPECT_EQ(out->text,
              "[::]:8080/tcp -> [fd00::2]:80\n"
              "[::1]:49000/tcp -> [fd00::2]:81\n");
}

TEST_F(DualStackTest, HostIpOfOneFamilyPublishesThatFamilyOnly) {
    auto out = publish("web", kIp,
                       {.specs = {"127.0.0.1:8080:80", "[::1]:8081:81", "::1:8082:82"}, .ip6 = kIp6});
    ASSERT_TRUE(out) << out.error().message;
    EXPECT_EQ(out->text,
              "127.0.0.1:8080/tcp -> 172.17.0.2:80\n"
              "[::1]:8081/tcp -> [fd00::2]:81\n"
              "[::1]:8082/tcp -> [fd00::2]:82\n");
}

TEST_F(DualStackTest, HostIpWithoutAContainerAddressOfItsFamilyIsUsageError) {
    auto v6 = publish("web", kIp, {.specs = {"[::1]:8080:80"}});
    ASSERT_FALSE(v6);
    EXPECT_TRUE(v6.error().is_usage_error());
    EXPECT_EQ(v6.error().message,
              "-p on IPv6 host IP ::1 needs the container's IPv6 address (--ip6 ADDR6; fwd does "
              "not translate between IPv4 and IPv6)");
    auto v4 = publish("web", "", {.specs = {"127.0.0.1:8080:80"}, .ip6 = kIp6});
    ASSERT_FALSE(v4);
    EXPECT_TRUE(v4.error().is_usage_error());
    EXPECT_NE(v4.error().message.find("needs the container's IPv4 address (--ip ADDR"),
              std::string::npos);
    EXPECT_EQ(list(), "");
}

TEST_F(DualStackTest, ContainerNeedsSomeUnicastAddress) {
    auto none = publish("web", "", {.specs = {"80"}});
    ASSERT_FALSE(none);
    EXPECT_TRUE(none.error().is_usage_error());
    EXPECT_EQ(none.error().message, "publish needs --ip ADDR or --ip6 ADDR6");
    for (const char* ip6 : {"::", "::1", "ff02::1", "::ffff:172.17.0.2"}) {
        auto bad = publish("web", kIp, {.specs = {"80"}, .ip6 = ip6});
        ASSERT_FALSE(bad) << ip6;
        EXPECT_TRUE(bad.error().is_usage_error()) << ip6;
    }
    EXPECT_EQ(list(), "");
}

TEST_F(DualStackTest, DryRunPrintsBothFamiliesAndChangesNothing) {
    auto out = publish("web", kIp, {.specs = {"80"}, .dry_run = true, .ip6 = kIp6});
    ASSERT_TRUE(out) << out.error().message;
    EXPECT_EQ(out->text,
              "0.0.0.0:49000/tcp -> 172.17.0.2:80\n"
              "[::]:49000/tcp -> [fd00::2]:80\n");
    EXPECT_EQ(list(), "");
}

TEST_F(DualStackTest, RangeAndAllowListApplyToBothFamilies) {
    auto out = publish("web", kIp,
                       {.specs = {"8000-8001:80-81/udp"}, .ip6 = kIp6,
                        .allow = {"fd00::/8", "10.0.0.0/8"}});
    ASSERT_TRUE(out) << out.error().message;
    EXPECT_EQ(list(),
              "0.0.0.0:8000/udp -> 172.17.0.2:80 allow 10.0.0.0/8,fd00::/8\n"
              "0.0.0.0:8001/udp -> 172.17.0.2:81 allow 10.0.0.0/8,fd00::/8\n"
              "[::]:8000/udp -> [fd00::2]:80 allow 10.0.0.0/8,fd00::/8\n"
              "[::]:8001/udp -> [fd00::2]:81 allow 10.0.0.0/8,fd00::/8\n");
}

// --- allocation and conflicts --------------------------------------------------------

TEST_F(DualStackTest, PoolSkipsAPortMappedInOnlyOneFamily) {
    ASSERT_TRUE(add("[::]:49000", "[fd00::9]:80"));
    auto out = publish("web", kIp, {.specs = {"80"}, .ip6 = kIp6});
    ASSERT_TRUE(out) << out.error().message;
    EXPECT_EQ(out->text,
              "0.0.0.0:49001/tcp -> 172.17.0.2:80\n"
              "[::]:49001/tcp -> [fd00::2]:80\n");
}

TEST_F(DualStackTest, PoolSkipsAPortAHostSocketHoldsInOnlyOneFamily) {
    probe_.sockets.push_back({*parse_ip("::1"), false, 49000, Proto::Tcp});
    probe_.sockets.push_back({Ipv4Addr::from_octets(127, 0, 0, 1), false, 49001, Proto::Tcp});
    auto out = publish("web", kIp, {.specs = {"80"}, .ip6 = kIp6});
    ASSERT_TRUE(out) << out.error().message;
    EXPECT_EQ(out->text,
              "0.0.0.0:49002/tcp -> 172.17.0.2:80\n"
              "[::]:49002/tcp -> [fd00::2]:80\n");
    // An IPv4-only container may have the port that only an IPv6 socket holds.
    EXPECT_EQ(publish("v4", "172.17.0.3", {.specs = {"80"}})->text,
              "0.0.0.0:49000/tcp -> 172.17.0.3:80\n");
}

TEST_F(DualStackTest, ExhaustedPoolNamesBothAddresses) {
    ASSERT_TRUE(add("[::]:49000", "[fd00::9]:80"));
    ASSERT_TRUE(add("0.0.0.0:49001", "172.17.0.9:80"));
    ASSERT_TRUE(add("[::1]:49002", "[fd00::9]:80"));
    auto full = publish("web", kIp, {.specs = {"80"}, .ip6 = kIp6});
    ASSERT_FALSE(full);
    EXPECT_EQ(full.error().code, ErrorCode::Full);
    EXPECT_EQ(full.error().message,
              "no free host port in 49000-49002 for 0.0.0.0 and ::/tcp (the pool is exhausted)");
}

TEST_F(DualStackTest, FixedPortTakenInOneFamilyRefusesTheWholePublish) {
    ASSERT_TRUE(add("[fd00::1]:8080", "[fd00::9]:80", "other"));
    auto taken = publish("web", kIp, {.specs = {"8080:80"}, .ip6 = kIp6});
    ASSERT_FALSE(taken);
    EXPECT_EQ(taken.error().code, ErrorCode::Exists);
    EXPECT_EQ(taken.error().message, "port [::]:8080/tcp is already allocated to other");
    EXPECT_EQ(list(), "[fd00::1]:8080/tcp -> [fd00::9]:80\n");
    auto socket = publish("web", kIp, {.specs = {"8081:80"}, .ip6 = kIp6});
    ASSERT_TRUE(socket) << socket.error().message;
    probe_.sockets.push_back({Ipv6Addr{}, true, 8082, Proto::Tcp});
    auto held = publish("api", kIp, {.specs = {"8082:80"}});
    ASSERT_FALSE(held);  // a [::] socket may be dual-stack: it holds the IPv4 port too
    EXPECT_EQ(held.error().message, "port 0.0.0.0:8082/tcp is in use by a socket of the host");
}

TEST_F(DualStackTest, WildcardsOverlapOnlyTheirOwnFamily) {
    ASSERT_TRUE(publish("v4", kIp, {.specs = {"80:80"}}));
    // [::]:80 is another port than 0.0.0.0:80 ...
    ASSERT_TRUE(publish("v6", "", {.specs = {"80:80"}, .ip6 = kIp6}));
    // ... but :: overlaps every IPv6 address, as 0.0.0.0 overlaps every IPv4 one.
    auto exact6 = publish("x6", "", {.specs = {"[fd00::1]:80:80"}, .ip6 = "fd00::3"});
    ASSERT_FALSE(exact6);
    EXPECT_EQ(exact6.error().message, "port [fd00::1]:80/tcp is already allocated to v6");
    auto exact4 = publish("x4", "172.17.0.3", {.specs = {"10.0.0.1:80:80"}});
    ASSERT_FALSE(exact4);
    EXPECT_EQ(exact4.error().message, "port 10.0.0.1:80/tcp is already allocated to v4");
}

TEST_F(DualStackTest, PortOwnerIsFamilyAware) {
    ASSERT_TRUE(add("[::]:80", "[fd00::2]:80", "six"));
    auto state = store_->load().value();
    const IpAddr any4 = IpAddr::any(Family::V4);
    const IpAddr exact6 = *parse_ip("fd00::1");
    EXPECT_EQ(port_owner(state, any4, 80, Proto::Tcp, Overlap::WildcardOverlaps), nullptr);
    ASSERT_NE(port_owner(state, exact6, 80, Proto::Tcp, Overlap::WildcardOverlaps), nullptr);
    EXPECT_EQ(port_owner(state, exact6, 80, Proto::Tcp, Overlap::ExactKeyOnly), nullptr);
    EXPECT_EQ(port_owner(state, exact6, 80, Proto::Udp, Overlap::WildcardOverlaps), nullptr);
}

// --- add, del, list -------------------------------------------------------------------

TEST_F(DualStackTest, AddTakesIpv6AndTheContainersFamilyWildcard) {
    auto out = add("[::]:8080/tcp", "[fd00::2]:80");
    ASSERT_TRUE(out) << out.error().message;
    EXPECT_EQ(out->text, "[::]:8080/tcp -> [fd00::2]:80\n");
    EXPECT_EQ(add("8081", "[fd00::2]:81")->text, "[::]:8081/tcp -> [fd00::2]:81\n");
    EXPECT_EQ(add("[::1]:8080", "[fd00::2]:80")->text, "[::1]:8080/tcp -> [fd00::2]:80\n");
    EXPECT_EQ(add("0", "[fd00::2]:82")->text, "[::]:49000/tcp -> [fd00::2]:82\n");
    // The data plane's rule, per family: the wildcard and an exact address coexist.
    EXPECT_EQ(add("8080", "172.17.0.2:80")->text, "0.0.0.0:8080/tcp -> 172.17.0.2:80\n");
}

TEST_F(DualStackTest, AddRangeWithIpv6) {
    auto out = add("[::]:8000-8001", "[fd00::2]:80-81");
    ASSERT_TRUE(out) << out.error().message;
    EXPECT_EQ(out->text,
              "[::]:8000/tcp -> [fd00::2]:80\n"
              "[::]:8001/tcp -> [fd00::2]:81\n");
}

TEST_F(DualStackTest, AddRefusesMixedFamiliesAndTakenKeys) {
    auto mixed = add("[::]:8080", "172.17.0.2:80");
    ASSERT_FALSE(mixed);
    EXPECT_TRUE(mixed.error().is_usage_error());
    ASSERT_TRUE(add("[::]:8080", "[fd00::2]:80", "web"));
    auto taken = add("[0::0]:8080", "[fd00::3]:80");
    ASSERT_FALSE(taken);
    EXPECT_EQ(taken.error().code, ErrorCode::Exists);
    EXPECT_EQ(taken.error().message, "port [::]:8080/tcp is already allocated to web");
    EXPECT_EQ(list(), "[::]:8080/tcp -> [fd00::2]:80\n");
}

TEST_F(DualStackTest, DelWithoutAddressRemovesEitherWildcard) {
    ASSERT_TRUE(publish("web", kIp, {.specs = {"8080:80"}, .ip6 = kIp6}));
    ASSERT_TRUE(add("[::]:9000", "[fd00::2]:90"));
    ASSERT_TRUE(add("[::1]:9001", "[fd00::2]:91"));
    EXPECT_EQ(controller_->del(host("9000")).value().text,
              "removed [::]:9000/tcp -> [fd00::2]:90\n");
    EXPECT_EQ(controller_->del(host("[::]:8080")).value().text,
              "removed [::]:8080/tcp -> [fd00::2]:80\n");
    EXPECT_EQ(controller_->del(host("8080")).value().text,
              "removed 0.0.0.0:8080/tcp -> 172.17.0.2:80\n");
    auto missing = controller_->del(host("9001"));
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, ErrorCode::NotFound);
    EXPECT_EQ(missing.error().message, "no mapping for 0.0.0.0:9001/tcp or [::]:9001/tcp");
    EXPECT_TRUE(controller_->del(host("[::1]:9001")));
    EXPECT_EQ(list(), "");
}

TEST_F(DualStackTest, DelRangeRemovesBothFamiliesOrNothing) {
    ASSERT_TRUE(publish("web", kIp, {.specs = {"8000-8001:80-81"}, .ip6 = kIp6}));
    auto partly = controller_->del(host("8000-8002"));
    ASSERT_FALSE(partly);
    EXPECT_EQ(partly.error().code, ErrorCode::NotFound);
    auto out = controller_->del(host("8000-8001"));
    ASSERT_TRUE(out) << out.error().message;
    EXPECT_EQ(out->text,
              "removed 0.0.0.0:8000/tcp -> 172.17.0.2:80\n"
              "removed [::]:8000/tcp -> [fd00::2]:80\n"
              "removed 0.0.0.0:8001/tcp -> 172.17.0.2:81\n"
              "removed [::]:8001/tcp -> [fd00::2]:81\n");
    EXPECT_EQ(list(), "");
}

TEST_F(DualStackTest, ListSortsIpv4BeforeIpv6AndJsonHasBareAddresses) {
    ASSERT_TRUE(add("[::]:80", "[fd00::2]:80"));
    ASSERT_TRUE(add("[::1]:22", "[fd00::2]:22"));
    ASSERT_TRUE(add("10.0.0.1:443", "172.17.0.2:443"));
    ASSERT_TRUE(add("0.0.0.0:8080", "172.17.0.2:80"));
    EXPECT_EQ(list(),
              "0.0.0.0:8080/tcp -> 172.17.0.2:80\n"
              "10.0.0.1:443/tcp -> 172.17.0.2:443\n"
              "[::]:80/tcp -> [fd00::2]:80\n"
              "[::1]:22/tcp -> [fd00::2]:22\n");
    const auto json = controller_->list(true).value().text;
    EXPECT_NE(json.find(R"("host_ip": "::")"), std::string::npos) << json;
    EXPECT_NE(json.find(R"("container_ip": "fd00::2")"), std::string::npos) << json;
}

TEST_F(DualStackTest, MappingsReachTheDataPlaneAndUnpublishRemovesBoth) {
    ASSERT_TRUE(controller_->attach({"eth0"}, kCgroup));
    ASSERT_TRUE(publish("web", kIp, {.specs = {"8080:80"}, .ip6 = kIp6}));
    ASSERT_EQ(datapath_.mappings.size(), 2U);
    EXPECT_EQ(to_string(datapath_.mappings[1]), "[::]:8080/tcp -> [fd00::2]:80");
    EXPECT_NE(datapath_.mappings[0].id, datapath_.mappings[1].id);  // counters per mapping
    auto out = controller_->unpublish("web");
    ASSERT_TRUE(out) << out.error().message;
    EXPECT_EQ(out->text,
              "removed 0.0.0.0:8080/tcp -> 172.17.0.2:80\n"
              "removed [::]:8080/tcp -> [fd00::2]:80\n");
    EXPECT_TRUE(datapath_.mappings.empty());
}

// --- link-env -------------------------------------------------------------------------

TEST_F(DualStackTest, LinkEnvUsesTheIpv4AddressOncePerPort) {
    ASSERT_TRUE(publish("db", "172.17.0.5", {.specs = {"5432:5432"}, .ip6 = "fd00::5"}));
    auto out = controller_->link_env("app", {LinkSpec{"db", "pg"}});
    ASSERT_TRUE(out) << out.error().message;
    EXPECT_EQ(out->text,
              "PG_PORT=tcp://172.17.0.5:5432\n"
              "PG_PORT_5432_TCP=tcp://172.17.0.5:5432\n"
              "PG_PORT_5432_TCP_ADDR=172.17.0.5\n"
              "PG_PORT_5432_TCP_PORT=5432\n"
              "PG_PORT_5432_TCP_PROTO=tcp\n"
              "PG_NAME=/app/pg\n");
}

// Docker builds the link env from the server's IPv4 address field, empty for an IPv6-only one.
TEST_F(DualStackTest, LinkEnvOfAnIpv6OnlyServerHasEmptyAddressesAsDockers) {
    ASSERT_TRUE(publish("db", "", {.expose = {"5432"}, .ip6 = "fd00::5"}));
    auto out = controller_->link_env("app", {LinkSpec{"db", "db"}});
    ASSERT_TRUE(out) << out.error().message;
    EXPECT_EQ(out->text,
              "DB_PORT=tcp://:5432\n"
              "DB_PORT_5432_TCP=tcp://:5432\n"
              "DB_PORT_5432_TCP_ADDR=\n"
              "DB_PORT_5432_TCP_PORT=5432\n"
              "DB_PORT_5432_TCP_PROTO=tcp\n"
              "DB_NAME=/app/db\n");
}

}  // namespace
}  // namespace fwd::ctl
