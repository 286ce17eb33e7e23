#include "fwd/ctl/controller.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "fwd/ctl/spec.h"
#include "support/controller_fixture.h"

namespace fwd::ctl {
namespace {

TEST_F(ControllerTest, AddPrintsOneLinePerMapping) {
    auto out = add("0.0.0.0:80/tcp", "172.17.0.2:8080");
    ASSERT_TRUE(out) << out.error().message;
    EXPECT_EQ(out->text, "0.0.0.0:80/tcp -> 172.17.0.2:8080\n");
}

TEST_F(ControllerTest, AddBeforeAttachWarnsAndTakesEffectAtAttach) {
    auto out = add("80", "172.17.0.2:8080");
    ASSERT_TRUE(out);
    ASSERT_EQ(out->warnings.size(), 1U);
    EXPECT_EQ(datapath_.apply_calls, 0);
    EXPECT_TRUE(datapath_.mappings.empty());

    auto attached = controller_->attach({"eth0"}, kCgroup);
    ASSERT_TRUE(attached) << attached.error().message;
    ASSERT_EQ(datapath_.mappings.size(), 1U);
    EXPECT_EQ(datapath_.mappings[0].container_port, 8080);
}

TEST_F(ControllerTest, AttachModeAndFastPathAreRecordedAndRestored) {
    AttachOptions xdp{loader::AttachMode::Xdp, false};
    auto attached = controller_->attach({"eth0"}, kCgroup, xdp);
    ASSERT_TRUE(attached) << attached.error().message;
    EXPECT_EQ(attached->text,
              "attached eth0 (ingress prog 10, egress prog 11, xdp prog 12 native)\n"
              "attached socket programs to cgroup " + std::string(kCgroup) + "\n");
    ASSERT_TRUE(controller_->attach({"br0"}, kCgroup));  // tc, fast path as recorded
    EXPECT_EQ(datapath_.fast_path, std::optional<bool>(false));

    auto state = store_->load();
    ASSERT_TRUE(state);
    ASSERT_EQ(state->interfaces.size(), 2U);
    EXPECT_EQ(state->interfaces[0].mode, loader::AttachMode::Xdp);
    EXPECT_EQ(state->interfaces[1].mode, loader::AttachMode::Tc);
    EXPECT_FALSE(state->fast_path);

    // A reboot: nothing attached, nothing loaded. restore brings back each mode and the switch.
    datapath_.attached.clear();
    datapath_.fast_path.reset();
    ASSERT_TRUE(controller_->restore());
    EXPECT_EQ(datapath_.attached.at("eth0").xdp_prog_id, 12U);
    EXPECT_EQ(datapath_.attached.at("br0").xdp_prog_id, 0U);
    EXPECT_EQ(datapath_.fast_path, std::optional<bool>(false));

    auto status = controller_->status(false);
    ASSERT_TRUE(status);
    EXPECT_NE(status->text.find("eth0            xdp ingress prog 10  egress prog 11  xdp prog 12 (native)"),
              std::string::npos)
        << status->text;
    EXPECT_NE(status->text.find("fast path: off"), std::string::npos) << status->text;
}

TEST_F(ControllerTest, CheckReportsAMissingXdpProgram) {
    ASSERT_TRUE(controller_->attach({"eth0"}, kCgroup, {loader::AttachMode::Xdp, std::nullopt}));
    datapath_.attached.at("eth0").xdp_prog_id = 0;  // someone removed it
    auto check = controller_->check(false);
    ASSERT_TRUE(check);
    EXPECT_EQ(check->exit_code, 1);
    EXPECT_EQ(check->text, "interface eth0: XDP program not attached\n");
}

TEST_F(ControllerTest, AddWhenAttachedUpdatesMapsAtOnce) {
    ASSERT_TRUE(controller_->attach({"eth0", "br0"}, kCgroup));
    ASSERT_TRUE(add("10.0.0.1:8000-8002/udp", "172.17.0.2:9000-9002"));
    EXPECT_EQ(datapath_.mappings.size(), 3U);
    EXPECT_EQ(list(),
              "10.0.0.1:8000/udp -> 172.17.0.2:9000\n"
              "10.0.0.1:8001/udp -> 172.17.0.2:9001\n"
              "10.0.0.1:8002/udp -> 172.17.0.2:9002\n");
}

TEST_F(ControllerTest, AllowListReachesTheMapsAndTheListing) {
    ASSERT_TRUE(controller_->attach({"eth0"}, kCgroup));
    auto out = add("80", "172.17.0.2:8080", "", {"192.168.1.7", "10.0.0.0/8"});
    ASSERT_TRUE(out) << out.error().message;
    EXPECT_EQ(out->text, "0.0.0.0:80/tcp -> 172.17.0.2:8080 allow 10.0.0.0/8,192.168.1.7/32\n");
    ASSERT_EQ(datapath_.mappings.size(), 1U);
    const std::vector<IpCidr> expected = {{Ipv4Addr::from_octets(10, 0, 0, 0), 8},
                                            {Ipv4Addr::from_octets(192, 168, 1, 7), 32}};
    EXPECT_EQ(datapath_.mappings[0].allow, expected);
    EXPECT_EQ(list(), out->text);
    const auto json = controller_->list(true);
    ASSERT_TRUE(json);
    const auto parsed = nlohmann::json::parse(json->text);
    EXPECT_EQ(parsed.at(0).at("allow"), nlohmann::json::array({"10.0.0.0/8", "192.168.1.7/32"}));
}

TEST_F(ControllerTest, CheckReportsAChangedAllowListAndRepairRestoresIt) {
    ASSERT_TRUE(controller_->attach({"eth0"}, kCgroup));
    ASSERT_TRUE(add("80", "172.17.0.2:8080", "", {"10.0.0.0/8"}));
    datapath_.mappings[0].allow.clear();  // as if someone emptied fwd_allow4
    auto check = controller_->check(false);
    ASSERT_TRUE(check) << check.error().message;
    EXPECT_EQ(check->exit_code, 1);
    EXPECT_NE(check->text.find("differs: state 0.0.0.0:80/tcp -> 172.17.0.2:8080 allow 10.0.0.0/8"),
              std::string::npos)
        << check->text;
    ASSERT_TRUE(controller_->check(true));
    ASSERT_EQ(datapath_.mappings[0].allow.size(), 1U);
    EXPECT_EQ(controller_->check(false)->exit_code, 0);
}

TEST_F(ControllerTest, PublishAppliesTheAllowListToEveryPort) {
    ASSERT_TRUE(controller_->attach({"eth0"}, kCgroup));
    PublishOptions options;
    options.name = "web";
    options.ip = Ipv4Addr::from_octets(172, 17, 0, 2);
    options.publish = parse_publish_spec("8080-8081:80-81").value();
    options.allow = parse_allow_list({"10.1.0.0/16"}).value();
    auto out = controller_->publish(options);
    ASSERT_TRUE(out) << out.error().message;
    ASSERT_EQ(datapath_.mappings.size(), 2U);
    for (const auto& mapping : datapath_.mappings) {
        ASSERT_EQ(mapping.allow.size(), 1U);
        EXPECT_EQ(mapping.allow[0].to_string(), "10.1.0.0/16");
    }
}

TEST_F(ControllerTest, ConflictNamesOwnerAndChangesNothing) {
    ASSERT_TRUE(controller_->attach({"eth0"}, kCgroup));
    ASSERT_TRUE(add("80", "172.17.0.2:8080", "web"));
    const auto before = list();
    auto conflict = add("79-81", "172.17.0.3:1-3");
    ASSERT_FALSE(conflict);
    EXPECT_EQ(conflict.error().code, ErrorCode::Exists);
    EXPECT_EQ(conflict.error().message, "port 0.0.0.0:80/tcp is already allocated to web");
    EXPECT_EQ(list(), before);
    EXPECT_EQ(datapath_.mappings.size(), 1U);
}

TEST_F(ControllerTest, WildcardAndExactAddressCoexist) {
    ASSERT_TRUE(add("0.0.0.0:80", "172.17.0.2:8080"));
    ASSERT_TRUE(add("10.0.0.1:80", "172.17.0.3:8080"));
    EXPECT_EQ(list(),
              "0.0.0.0:80/tcp -> 172.17.0.2:8080\n"
              "10.0.0.1:80/tcp -> 172.17.0.3:8080\n");
}

TEST_F(ControllerTest, FailedApplyLeavesStateUnchanged) {
    ASSERT_TRUE(controller_->attach({"eth0"}, kCgroup));
    ASSERT_TRUE(add("80", "172.17.0.2:8080"));
    datapath_.fail_apply = make_error(ErrorCode::Full, "map fwd_svc4: update: No space left");
    auto failed = add("81", "172.17.0.2:8081");
    ASSERT_FALSE(failed);
    EXPECT_EQ(failed.error().code, ErrorCode::Full);
    EXPECT_EQ(list(), "0.0.0.0:80/tcp -> 172.17.0.2:8080\n");
}

TEST_F(ControllerTest, PortZeroAllocatesFromPoolAndExhaustionFails) {
    ASSERT_TRUE(add("0", "172.17.0.2:1"));
    ASSERT_TRUE(add("0", "172.17.0.2:2"));
    ASSERT_TRUE(add("0/udp", "172.17.0.2:3"));
    ASSERT_TRUE(add("0", "172.17.0.2:4"));
    auto full = add("0", "172.17.0.2:5");
    ASSERT_FALSE(full);
    EXPECT_EQ(full.error().code, ErrorCode::Full);
    EXPECT_EQ(list(),
              "0.0.0.0:49000/tcp -> 172.17.0.2:1\n"
              "0.0.0.0:49000/udp -> 172.17.0.2:3\n"
              "0.0.0.0:49001/tcp -> 172.17.0.2:2\n"
              "0.0.0.0:49002/tcp -> 172.17.0.2:4\n");
}

TEST_F(ControllerTest, DelRemovesRangeOrNothing) {
    ASSERT_TRUE(controller_->attach({"eth0"}, kCgroup));
    ASSERT_TRUE(add("8000-8001", "172.17.0.2:9000-9001"));
    auto missing = controller_->del(host("8000-8002"));
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, ErrorCode::NotFound);
    EXPECT_EQ(datapath_.mappings.size(), 2U);
    auto removed = controller_->del(host("8000-8001"));
    ASSERT_TRUE(removed) << removed.error().message;
    EXPECT_TRUE(datapath_.mappings.empty());
    EXPECT_EQ(list(), "");
}

TEST_F(ControllerTest, ListJsonHasContractFields) {
    ASSERT_TRUE(add("127.0.0.1:53/udp", "172.17.0.2:5353", "dns"));
    auto out = controller_->list(true);
    ASSERT_TRUE(out);
    EXPECT_EQ(out->text,
              "[\n  {\n    \"container_ip\": \"172.17.0.2\",\n    \"container_port\": 5353,\n"
              "    \"host_ip\": \"127.0.0.1\",\n    \"host_port\": 53,\n    \"name\": \"dns\",\n"
              "    \"proto\": \"udp\"\n  }\n]\n");
}

TEST_F(ControllerTest, AttachFailureRollsBackNewInterfaces) {
    datapath_.fail_attach_on = "br0";
    auto failed = controller_->attach({"eth0", "br0"}, kCgroup);
    ASSERT_FALSE(failed);
    EXPECT_TRUE(datapath_.attached.empty());
    auto status = controller_->status(false);
    ASSERT_TRUE(status);
    EXPECT_NE(status->text.find("(none)"), std::string::npos);
}

TEST_F(ControllerTest, AttachRepairsDriftedMaps) {
    ASSERT_TRUE(controller_->attach({"eth0"}, kCgroup));
    ASSERT_TRUE(add("80", "172.17.0.2:8080"));
    Mapping stray;
    stray.host_port = 9999;
    stray.container_addr = Ipv4Addr::from_octets(1, 2, 3, 4);
    stray.container_port = 1;
    stray.id = 500;
    datapath_.mappings.push_back(stray);
    ASSERT_TRUE(controller_->attach({"eth0"}, kCgroup));
    ASSERT_EQ(datapath_.mappings.size(), 1U);
    EXPECT_EQ(datapath_.mappings[0].host_port, 80);
}

TEST_F(ControllerTest, DetachUnknownInterfaceFails) {
    auto failed = controller_->detach({"eth0"}, false);
    ASSERT_FALSE(failed);
    EXPECT_EQ(failed.error().code, ErrorCode::NotFound);
}

TEST_F(ControllerTest, DetachAllForgetsInterfacesKeepsMappings) {
    ASSERT_TRUE(controller_->attach({"eth0", "br0"}, kCgroup));
    ASSERT_TRUE(add("80", "172.17.0.2:8080"));
    EXPECT_EQ(datapath_.cgroups.count(kCgroup), 1U);
    auto out = controller_->detach({}, true);
    ASSERT_TRUE(out) << out.error().message;
    EXPECT_EQ(out->text, std::string("detached eth0\ndetached br0\n") +
                             "detached socket programs from cgroup " + kCgroup + "\n");
    EXPECT_TRUE(datapath_.attached.empty());
    EXPECT_TRUE(datapath_.cgroups.empty());
    EXPECT_EQ(list(), "0.0.0.0:80/tcp -> 172.17.0.2:8080\n");
}

TEST_F(ControllerTest, AttachRecordsCgroupAndStatusShowsIt) {
    ASSERT_TRUE(controller_->attach({"eth0"}, kCgroup));
    EXPECT_GE(datapath_.address_refreshes, 1);
    auto status = controller_->status(false);
    ASSERT_TRUE(status);
    EXPECT_NE(status->text.find(std::string(kCgroup) + "\n    connect4     prog 20"),
              std::string::npos)
        << status->text;
}

TEST_F(ControllerTest, StatsNeedAttach) {
    auto failed = controller_->stats(StatsFormat::Text);
    ASSERT_FALSE(failed);
    EXPECT_EQ(failed.error().code, ErrorCode::NotFound);
}

TEST_F(ControllerTest, InvalidNameIsUsageError) {
    auto failed = add("80", "172.17.0.2:8080", "-bad name");
    ASSERT_FALSE(failed);
    EXPECT_TRUE(failed.error().is_usage_error());
    EXPECT_EQ(list(), "");
}

TEST_F(ControllerTest, CorruptStateFileFailsClearly) {
    std::ofstream(dir_ + "/state.json") << "{\"version\": 1, \"mappings\": [";
    auto failed = controller_->list(false);
    ASSERT_FALSE(failed);
    EXPECT_EQ(failed.error().code, ErrorCode::Incompatible);
    EXPECT_NE(failed.error().message.find("corrupt"), std::string::npos);
    auto add_failed = add("80", "172.17.0.2:8080");
    ASSERT_FALSE(add_failed);
    EXPECT_EQ(datapath_.apply_calls, 0);
}

TEST_F(ControllerTest, CheckReportsDriftAndRepairFixesIt) {
    ASSERT_TRUE(controller_->attach({"eth0"}, kCgroup));
    ASSERT_TRUE(add("80", "172.17.0.2:8080"));
    ASSERT_TRUE(add("81", "172.17.0.2:8081"));
    auto clean = controller_->check(false);
    ASSERT_TRUE(clean) << clean.error().message;
    EXPECT_EQ(clean->exit_code, 0);
    EXPECT_EQ(clean->text, "ok: 2 mapping(s), maps and state agree\n");

    drift_maps();
    datapath_.attached.erase("eth0");

    auto drift = controller_->check(false);
    ASSERT_TRUE(drift);
    EXPECT_EQ(drift->exit_code, 1);
    EXPECT_EQ(drift->text,
              "in the maps but not in the state: 0.0.0.0:82/tcp -> 10.0.0.9:1\n"
              "differs: state 0.0.0.0:80/tcp -> 172.17.0.2:8080 (id 1), maps 0.0.0.0:80/tcp -> "
              "172.17.0.2:9999 (id 1)\n"
              "in the state but not in the maps: 0.0.0.0:81/tcp -> 172.17.0.2:8081\n"
              "interface eth0: not attached\n");

    auto repaired = controller_->check(true);
    ASSERT_TRUE(repaired);
    EXPECT_EQ(repaired->exit_code, 0);
    ASSERT_EQ(datapath_.mappings.size(), 2U);
    ASSERT_TRUE(controller_->attach({"eth0"}, kCgroup));
    EXPECT_EQ(controller_->check(false)->exit_code, 0);
}

// Map sizes: chosen at attach, recorded in the state, and the bound for mapping ids.

class MapSizesTest : public ControllerTest {
protected:
    static AttachOptions sized(std::optional<std::uint32_t> mappings,
                               std::optional<std::uint32_t> flows) {
        AttachOptions options;
        options.max_mappings = mappings;
        options.max_flows = flows;
        return options;
    }
    std::string state_text() const {
        std::ifstream in(store_->file_path());
        return std::string(std::istreambuf_iterator<char>(in), {});
    }
};

TEST_F(MapSizesTest, FullServiceMapRefusesTheWholeCommandAndChangesNothing) {
    ASSERT_TRUE(controller_->attach({"eth0"}, kCgroup, sized(16, std::nullopt)));
    ASSERT_TRUE(add("1001-1014", "172.17.0.2:1001-1014"));  // ids 1..14 of 15
    const std::string before = state_text();
    const int applied = datapath_.apply_calls;

    auto two = add("2001-2002", "172.17.0.2:1-2");
    ASSERT_FALSE(two);
    EXPECT_EQ(two.error().code, ErrorCode::Full);
    EXPECT_FALSE(two.error().is_usage_error());
    EXPECT_EQ(two.error().message,
              "the service map is full: it holds 15 mappings, 14 are in use, 2 more asked for "
              "(its size is set when the maps are created: attach --max-mappings)");
    auto published = publish("web", "172.17.0.3", {.specs = {"2001:80", "2002:81"}});
    ASSERT_FALSE(published);
    EXPECT_EQ(published.error().code, ErrorCode::Full);
    EXPECT_EQ(state_text(), before);
    EXPECT_EQ(datapath_.apply_calls, applied);
    EXPECT_EQ(datapath_.mappings.size(), 14U);

    ASSERT_TRUE(add("2001", "172.17.0.2:1"));  // id 15, the last one
    EXPECT_EQ(datapath_.mappings.size(), 15U);
    auto status = controller_->status(false);
    ASSERT_TRUE(status);
    EXPECT_NE(status->text.find("mappings: 15 of at most 15\n"), std::string::npos) << status->text;
    EXPECT_NE(status->text.find("fwd_svc4     15/16\n"), std::string::npos) << status->text;
}

TEST_F(MapSizesTest, CapacityIsThePinnedMapsOnceLoaded) {
    // Maps pinned by an earlier attach with 16 entries; the state file knows nothing of it.
    datapath_.loaded = true;
    datapath_.sizes = {16, 1024};
    ASSERT_TRUE(add("1001-1015", "172.17.0.2:1001-1015"));
    EXPECT_EQ(store_->load()->map_sizes, (loader::MapSizes{16, 1024})) << "ids 1..15 recorded "
                                                                          "with the default sizes";
    auto full = add("2001", "172.17.0.2:1");
    ASSERT_FALSE(full);
    EXPECT_EQ(full.error().code, ErrorCode::Full);
}

TEST_F(MapSizesTest, CapacityBeforeAttachIsTheRecordedSize) {
    ASSERT_TRUE(controller_->attach({"eth0"}, kCgroup, sized(16, std::nullopt)));
    ASSERT_TRUE(controller_->detach({}, true));
    datapath_.loaded = false;  // a reboot: the maps are gone until restore
    ASSERT_TRUE(add("1001-1015", "172.17.0.2:1001-1015"));
    auto full = add("2001", "172.17.0.2:1");
    ASSERT_FALSE(full);
    EXPECT_EQ(full.error().code, ErrorCode::Full);
}

TEST_F(MapSizesTest, AttachRecordsSizesAndRestoreRecreatesTheMapsWithThem) {
    ASSERT_TRUE(controller_->attach({"eth0"}, kCgroup, sized(32, 2048)));
    ASSERT_TRUE(datapath_.last_load);
    EXPECT_EQ(datapath_.last_load->sizes, (loader::MapSizes{32, 2048}));
    EXPECT_TRUE(datapath_.last_load->max_mappings_explicit);
    EXPECT_TRUE(datapath_.last_load->max_flows_explicit);
    EXPECT_EQ(store_->load()->map_sizes, (loader::MapSizes{32, 2048}));

    // A reboot: the maps are gone. restore asks for the recorded sizes for the maps it creates.
    datapath_.loaded = false;
    datapath_.attached.clear();
    datapath_.sizes = loader::default_map_sizes();
    ASSERT_TRUE(controller_->restore());
    ASSERT_TRUE(datapath_.last_load);
    EXPECT_EQ(datapath_.last_load->sizes, (loader::MapSizes{32, 2048}));
    EXPECT_FALSE(datapath_.last_load->max_mappings_explicit);
    EXPECT_FALSE(datapath_.last_load->max_flows_explicit);
    EXPECT_EQ(datapath_.sizes, (loader::MapSizes{32, 2048}));
}

TEST_F(MapSizesTest, AttachWithoutSizesRecordsThePinnedOnes) {
    datapath_.loaded = true;
    datapath_.sizes = {64, 4096};
    ASSERT_TRUE(controller_->attach({"eth0"}, kCgroup));
    EXPECT_FALSE(datapath_.last_load->max_mappings_explicit);
    EXPECT_EQ(store_->load()->map_sizes, (loader::MapSizes{64, 4096}));

    // One size asked for: the other one keeps the recorded (pinned) size.
    ASSERT_TRUE(controller_->attach({"eth0"}, kCgroup, sized(std::nullopt, 4096)));
    EXPECT_EQ(datapath_.last_load->sizes, (loader::MapSizes{64, 4096}));
    EXPECT_FALSE(datapath_.last_load->max_mappings_explicit);
    EXPECT_TRUE(datapath_.last_load->max_flows_explicit);
}

TEST_F(MapSizesTest, SizeTooSmallForTheStateIsRefusedBeforeAnyMapIsMade) {
    ASSERT_TRUE(add("1001-1020", "172.17.0.2:1001-1020"));  // before attach: ids 1..20
    const std::string before = state_text();
    auto refused = controller_->attach({"eth0"}, kCgroup, sized(16, std::nullopt));
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, ErrorCode::Full);
    EXPECT_EQ(refused.error().message,
              "the state's 20 mapping(s) use ids up to 20, but maps of --max-mappings 16 hold "
              "ids 1..15");
    EXPECT_FALSE(datapath_.last_load) << "load() ran: maps too small were made";
    EXPECT_FALSE(datapath_.loaded);
    EXPECT_EQ(state_text(), before);
}

TEST_F(MapSizesTest, PinnedMapsTooSmallForTheStateAreRefusedBeforeAttaching) {
    ASSERT_TRUE(add("1001-1020", "172.17.0.2:1001-1020"));
    datapath_.loaded = true;  // maps pinned with 16 entries by another state dir's attach
    datapath_.sizes = {16, 1024};
    const std::string before = state_text();
    auto refused = controller_->attach({"eth0"}, kCgroup);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, ErrorCode::Full);
    EXPECT_TRUE(datapath_.attached.empty());
    // An add must not record sizes the state's own ids do not fit either.
    auto add_refused = add("2001", "172.17.0.2:1");
    ASSERT_FALSE(add_refused);
    EXPECT_EQ(add_refused.error().code, ErrorCode::Full);
    EXPECT_EQ(datapath_.apply_calls, 0);
    EXPECT_EQ(state_text(), before);
}

// A kill -9 between the map writes and the state save leaves the maps off the state. Whichever
// mutating command runs next makes them agree again: commit diffs the desired state against
// the maps as they are, not against the state it loaded.
TEST_F(ControllerTest, NextMutatingCommandReconcilesDrift) {
    ASSERT_TRUE(controller_->attach({"eth0"}, kCgroup));
    ASSERT_TRUE(add("80", "172.17.0.2:8080"));
    ASSERT_TRUE(publish("web", "172.17.0.3", {.specs = {"81:8081"}}));
    const std::vector<std::pair<std::string, std::function<Result<CommandOutput>()>>> commands = {
        {"add", [this] { return add("90", "172.17.0.2:9090"); }},
        {"del", [this] { return controller_->del(host("90")); }},
        {"publish", [this] { return publish("db", "172.17.0.4", {.specs = {"5432:5432"}}); }},
        {"unpublish", [this] { return controller_->unpublish("db"); }},
    };
    for (const auto& [name, command] : commands) {
        SCOPED_TRACE(name);
        drift_maps();
        ASSERT_EQ(controller_->check(false)->exit_code, 1);
        auto out = command();
        ASSERT_TRUE(out) << out.error().message;
        auto check = controller_->check(false);
        ASSERT_TRUE(check);
        EXPECT_EQ(check->exit_code, 0) << check->text;
    }
    EXPECT_EQ(datapath_.mappings.size(), 2U);
}

TEST(MappingDiff, ComputesRemovalsAndRetargets) {
    Mapping a;
    a.host_port = 80;
    a.container_addr = Ipv4Addr::from_octets(10, 0, 0, 2);
    a.container_port = 8080;
    a.id = 1;
    Mapping b = a;
    b.host_port = 81;
    b.id = 2;
    Mapping a_moved = a;
    a_moved.container_port = 9090;
    const auto change = diff_mappings({a, b}, {a_moved});
    ASSERT_EQ(change.remove.size(), 1U);
    EXPECT_EQ(change.remove[0].host_port, 81);
    ASSERT_EQ(change.upsert.size(), 1U);
    EXPECT_EQ(change.upsert[0].container_port, 9090);
    EXPECT_TRUE(diff_mappings({a}, {a}).empty());
}

}  // namespace
}  // namespace fwd::ctl
