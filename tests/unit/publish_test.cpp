// publish/unpublish/port/link-env/restore over the in-memory data plane.
#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "support/controller_fixture.h"

namespace fwd::ctl {
namespace {

using PublishTest = ControllerTest;

TEST_F(PublishTest, FixedPortPrintsMapping) {
    auto out = publish("web", "172.17.0.2", {.specs = {"80:8080"}});
    ASSERT_TRUE(out) << out.error().message;
    EXPECT_EQ(out->text, "0.0.0.0:80/tcp -> 172.17.0.2:8080\n");
}

TEST_F(PublishTest, PublishAllBindsOnlyUnboundExposedPorts) {
    auto out = publish("web", "172.17.0.2",
                       {.specs = {"127.0.0.1::8080"}, .all = true, .expose = {"443"}});
    ASSERT_TRUE(out) << out.error().message;
    EXPECT_EQ(out->text,
              "127.0.0.1:49000/tcp -> 172.17.0.2:8080\n"
              "0.0.0.0:49001/tcp -> 172.17.0.2:443\n");
}

TEST_F(PublishTest, ExposeWithoutPublishAllBindsNothing) {
    auto out = publish("web", "172.17.0.2", {.expose = {"443", "53/udp"}});
    ASSERT_TRUE(out) << out.error().message;
    EXPECT_EQ(out->text, "");
    EXPECT_EQ(controller_->port("web", "").value().text, "");
}

TEST_F(PublishTest, RangeExpandsPortByPort) {
    auto out = publish("web", "172.17.0.2", {.specs = {"1000-1002:2000-2002/udp"}});
    ASSERT_TRUE(out) << out.error().message;
    EXPECT_EQ(out->text,
              "0.0.0.0:1000/udp -> 172.17.0.2:2000\n"
              "0.0.0.0:1001/udp -> 172.17.0.2:2001\n"
              "0.0.0.0:1002/udp -> 172.17.0.2:2002\n");
}

TEST_F(PublishTest, DryRunJsonChangesNothing) {
    auto out = publish("web", "172.17.0.2", {.specs = {"8080"}, .dry_run = true, .json = true});
    ASSERT_TRUE(out) << out.error().message;
    EXPECT_EQ(out->text,
              "[\n  {\n    \"container_ip\": \"172.17.0.2\",\n    \"container_port\": 8080,\n"
              "    \"host_ip\": \"0.0.0.0\",\n    \"host_port\": 49000,\n    \"name\": \"web\",\n"
              "    \"proto\": \"tcp\"\n  }\n]\n");
    EXPECT_EQ(list(), "");
    EXPECT_TRUE(publish("web", "172.17.0.2", {.specs = {"8080"}}));  // the name is still free
}

TEST_F(PublishTest, RepublishingANameFails) {
    ASSERT_TRUE(publish("web", "172.17.0.2", {.specs = {"80:80"}}));
    auto again = publish("web", "172.17.0.3", {.specs = {"81:80"}});
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, ErrorCode::Exists);
    EXPECT_EQ(list(), "0.0.0.0:80/tcp -> 172.17.0.2:80\n");
}

TEST_F(PublishTest, TakenPortNamesOwnerAndWildcardOverlaps) {
    ASSERT_TRUE(publish("web", "172.17.0.2", {.specs = {"80:8080"}}));
    for (const char* spec : {"80:9090", "10.0.0.1:80:9090"}) {
        auto taken = publish("api", "172.17.0.3", {.specs = {"81:81", spec}});
        ASSERT_FALSE(taken) << spec;
        EXPECT_EQ(taken.error().code, ErrorCode::Exists);
        EXPECT_NE(taken.error().message.find("is already allocated to web"), std::string::npos)
            << taken.error().message;
    }
    EXPECT_EQ(list(), "0.0.0.0:80/tcp -> 172.17.0.2:8080\n");
    EXPECT_TRUE(publish("api", "172.17.0.3", {.specs = {"80:80/udp"}}));  // other protocol
}

TEST_F(PublishTest, HostSocketsAreSkippedOrRefused) {
    probe_.sockets.push_back({Ipv4Addr{}, true, 49000, Proto::Tcp});
    auto out = publish("web", "172.17.0.2", {.specs = {"80"}});
    ASSERT_TRUE(out);
    EXPECT_EQ(out->text, "0.0.0.0:49001/tcp -> 172.17.0.2:80\n");
    auto refused = publish("api", "172.17.0.3", {.specs = {"49000:80"}});
    ASSERT_FALSE(refused);
    EXPECT_NE(refused.error().message.find("in use by a socket of the host"), std::string::npos);
    auto udp = publish("dns", "172.17.0.4", {.specs = {"53/udp"}});
    ASSERT_TRUE(udp);
    EXPECT_EQ(udp->text, "0.0.0.0:49000/udp -> 172.17.0.4:53\n");  // the socket is tcp only
}

TEST_F(PublishTest, FreedPortIsReusedAfterTheRestOfThePool) {
    ASSERT_EQ(publish("a", "172.17.0.2", {.specs = {"80"}})->text, "0.0.0.0:49000/tcp -> 172.17.0.2:80\n");
    ASSERT_TRUE(controller_->unpublish("a"));
    EXPECT_EQ(publish("b", "172.17.0.2", {.specs = {"80"}})->text, "0.0.0.0:49001/tcp -> 172.17.0.2:80\n");
    EXPECT_EQ(publish("c", "172.17.0.2", {.specs = {"80"}})->text, "0.0.0.0:49002/tcp -> 172.17.0.2:80\n");
    EXPECT_EQ(publish("d", "172.17.0.2", {.specs = {"80"}})->text, "0.0.0.0:49000/tcp -> 172.17.0.2:80\n");
}

TEST_F(PublishTest, ExhaustedPoolFailsAndChangesNothing) {
    ASSERT_TRUE(publish("a", "172.17.0.2", {.specs = {"80", "81", "82"}}));
    const auto before = list();
    auto full = publish("b", "172.17.0.3", {.specs = {"90:90"}, .all = true, .expose = {"91"}});
    ASSERT_FALSE(full);
    EXPECT_EQ(full.error().code, ErrorCode::Full);
    EXPECT_EQ(list(), before);
    EXPECT_FALSE(controller_->port("b", ""));
}

TEST_F(PublishTest, PoolsArePerAddressAndProtocolForCursorsOnly) {
    ASSERT_EQ(publish("a", "172.17.0.2", {.specs = {"10.0.0.1::80"}})->text,
              "10.0.0.1:49000/tcp -> 172.17.0.2:80\n");
    // A port mapped on another address is skipped, so wildcard and exact never overlap.
    ASSERT_EQ(publish("b", "172.17.0.3", {.specs = {"80"}})->text,
              "0.0.0.0:49001/tcp -> 172.17.0.3:80\n");
    ASSERT_EQ(publish("c", "172.17.0.4", {.specs = {"80/udp"}})->text,
              "0.0.0.0:49000/udp -> 172.17.0.4:80\n");
}

TEST_F(PublishTest, HostRangeAllocatesInsideIt) {
    EXPECT_EQ(publish("a", "172.17.0.2", {.specs = {"7000-7001:80"}})->text,
              "0.0.0.0:7000/tcp -> 172.17.0.2:80\n");
    EXPECT_EQ(publish("b", "172.17.0.3", {.specs = {"7000-7001:80"}})->text,
              "0.0.0.0:7001/tcp -> 172.17.0.3:80\n");
    auto full = publish("c", "172.17.0.4", {.specs = {"7000-7001:80"}});
    ASSERT_FALSE(full);
    EXPECT_EQ(full.error().code, ErrorCode::Full);
}

TEST_F(PublishTest, BadContainerAddressIsUsageError) {
    for (const char* ip : {"0.0.0.0", "255.255.255.255", "224.0.0.1", "127.0.0.1"}) {
        auto bad = publish("web", ip, {.specs = {"80"}});
        ASSERT_FALSE(bad) << ip;
        EXPECT_TRUE(bad.error().is_usage_error()) << ip;
    }
    EXPECT_EQ(list(), "");
}

TEST_F(PublishTest, UnpublishRemovesEverythingOfTheContainer) {
    ASSERT_TRUE(controller_->attach({"eth0"}, kCgroup));
    ASSERT_TRUE(publish("web", "172.17.0.2", {.specs = {"80:80", "53:53/udp"}}));
    ASSERT_TRUE(publish("db", "172.17.0.3", {.specs = {"5432:5432"}}));
    auto out = controller_->unpublish("web");
    ASSERT_TRUE(out) << out.error().message;
    EXPECT_EQ(out->text,
              "removed 0.0.0.0:53/udp -> 172.17.0.2:53\n"
              "removed 0.0.0.0:80/tcp -> 172.17.0.2:80\n");
    EXPECT_EQ(list(), "0.0.0.0:5432/tcp -> 172.17.0.3:5432\n");
    EXPECT_EQ(datapath_.mappings.size(), 1U);
    auto again = controller_->unpublish("web");
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, ErrorCode::NotFound);
}

TEST_F(PublishTest, PortPrintsWhatDockerPortPrints) {
    ASSERT_TRUE(publish("web", "172.17.0.2", {.specs = {"8080:80", "443:443", "53:53/udp"}}));
    EXPECT_EQ(controller_->port("web", "").value().text,
              "53/udp -> 0.0.0.0:53\n"
              "80/tcp -> 0.0.0.0:8080\n"
              "443/tcp -> 0.0.0.0:443\n");
    EXPECT_EQ(controller_->port("web", "80").value().text, "0.0.0.0:8080\n");
    EXPECT_EQ(controller_->port("web", "53/udp").value().text, "0.0.0.0:53\n");
    auto missing = controller_->port("web", "53");
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, ErrorCode::NotFound);
    EXPECT_EQ(missing.error().message, "No public port '53' published for web");
    auto unknown = controller_->port("nope", "");
    ASSERT_FALSE(unknown);
    EXPECT_EQ(unknown.error().message, "No such container: nope");
    auto bad = controller_->port("web", "http");
    ASSERT_FALSE(bad);
    EXPECT_TRUE(bad.error().is_usage_error());
}

TEST_F(PublishTest, LinkEnvComesFromTheServerRecord) {
    ASSERT_TRUE(publish("db", "172.17.0.5",
                        {.expose = {"5432"}, .env = {"POSTGRES_PASSWORD=secret", "PATH=/bin"}}));
    auto out = controller_->link_env("app", {LinkSpec{"db", "pg"}});
    ASSERT_TRUE(out) << out.error().message;
    EXPECT_EQ(out->text,
              "PG_PORT=tcp://172.17.0.5:5432\n"
              "PG_PORT_5432_TCP=tcp://172.17.0.5:5432\n"
              "PG_PORT_5432_TCP_ADDR=172.17.0.5\n"
              "PG_PORT_5432_TCP_PORT=5432\n"
              "PG_PORT_5432_TCP_PROTO=tcp\n"
              "PG_NAME=/app/pg\n"
              "PG_ENV_POSTGRES_PASSWORD=secret\n");
    auto unknown = controller_->link_env("app", {LinkSpec{"cache", "cache"}});
    ASSERT_FALSE(unknown);
    EXPECT_EQ(unknown.error().code, ErrorCode::NotFound);
}

TEST_F(PublishTest, RestoreReattachesAndRefillsMaps) {
    ASSERT_TRUE(controller_->attach({"eth0", "br0"}, kCgroup));
    ASSERT_TRUE(publish("web", "172.17.0.2", {.specs = {"80:80"}}));
    // A reboot: programs, attachments and maps are gone, and br0 has not come back.
    datapath_.loaded = false;
    datapath_.attached.clear();
    datapath_.mappings.clear();
    datapath_.existing_interfaces.erase("br0");
    auto out = controller_->restore();
    ASSERT_TRUE(out) << out.error().message;
    EXPECT_EQ(datapath_.attached.count("eth0"), 1U);
    ASSERT_EQ(datapath_.mappings.size(), 1U);
    EXPECT_EQ(datapath_.mappings[0].host_port, 80);
    ASSERT_EQ(out->warnings.size(), 1U);
    EXPECT_NE(out->warnings[0].find("br0"), std::string::npos);
}

// Two fwdctl processes allocating at once are serialised by the state-dir lock; here two
// threads, each with its own lock file descriptor, play them.
TEST(PublishConcurrency, ParallelAllocationsNeverShareAPort) {
    char pattern[] = "/tmp/fwd-unit-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    const std::string dir = pattern;
    auto worker = [&](const std::string& prefix) {
        for (int i = 0; i < 20; ++i) {
            auto store = StateStore::open(dir);
            ASSERT_TRUE(store);
            test::FakeDatapath datapath;
            test::FakeProbe probe;
            Controller controller(datapath, *store, probe, {"/pins", {49000, 49100}});
            PublishOptions options;
            options.name = prefix + std::to_string(i);
            options.ip = Ipv4Addr::from_octets(172, 17, 0, 2);
            options.expose = {ContainerPort{80, Proto::Tcp}};
            options.publish_all = true;
            ASSERT_TRUE(controller.publish(options));
        }
    };
    std::thread first(worker, "a");
    std::thread second(worker, "b");
    first.join();
    second.join();
    auto store = StateStore::open(dir);
    ASSERT_TRUE(store);
    auto state = store->load();
    ASSERT_TRUE(state);
    std::set<std::uint16_t> ports;
    for (const auto& mapping : state->mappings) ports.insert(mapping.host_port);
    EXPECT_EQ(state->mappings.size(), 40U);
    EXPECT_EQ(ports.size(), 40U);
    std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace fwd::ctl
