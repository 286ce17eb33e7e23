#include "fwd/ctl/state.h"
#include "fwd/ctl/spec.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <optional>
#include <random>

namespace fwd::ctl {
namespace {

State sample_state() {
    Mapping mapping;
    mapping.host_addr = Ipv4Addr::from_octets(10, 0, 0, 1);
    mapping.host_port = 80;
    mapping.proto = Proto::Udp;
    mapping.container_addr = Ipv4Addr::from_octets(172, 17, 0, 2);
    mapping.container_port = 8080;
    mapping.id = 7;
    mapping.name = "web";
    mapping.allow = {{Ipv4Addr::from_octets(10, 0, 0, 0), 8},
                     {Ipv4Addr::from_octets(192, 168, 1, 7), 32}};
    ContainerRecord container{"web",
                              Ipv4Addr::from_octets(172, 17, 0, 2),
                              std::nullopt,
                              {ContainerPort{80, Proto::Tcp}, ContainerPort{53, Proto::Udp}},
                              {EnvVar{"MODE", "prod"}, EnvVar{"EMPTY", ""}}};
    AllocationCursor cursor{Ipv4Addr{}, Proto::Tcp, 49003};
    return State{{mapping}, {{"eth0", true}, {"br0", false, loader::AttachMode::Xdp}},
                 {container}, {cursor}};
}

const Ipv6Addr kFd00Two = parse_ipv6("fd00::2").value();

// The sample plus a dual-stack container, an IPv6-only one and their IPv6 mappings.
State dual_stack_state() {
    State state = sample_state();
    Mapping v6;
    v6.host_addr = Ipv6Addr{};
    v6.host_port = 8080;
    v6.container_addr = kFd00Two;
    v6.container_port = 80;
    v6.id = 8;
    v6.name = "dual";
    v6.allow = parse_allow_list({"fd00::/8", "10.0.0.0/8"}).value();
    state.mappings.push_back(v6);
    state.containers.push_back({"dual", Ipv4Addr::from_octets(172, 17, 0, 3), kFd00Two,
                                {ContainerPort{80, Proto::Tcp}}, {}});
    state.containers.push_back({"six", std::nullopt, parse_ipv6("fd00::6").value(), {}, {}});
    state.cursors.push_back({Ipv6Addr{}, Proto::Tcp, 49001});
    return state;
}

TEST(StateFile, RoundTripsIpv6MappingsContainersAndCursors) {
    const State state = dual_stack_state();
    const std::string text = serialize_state(state);
    EXPECT_NE(text.find(R"("host_ip": "::")"), std::string::npos) << text;
    EXPECT_NE(text.find(R"("container_ip": "fd00::2")"), std::string::npos) << text;
    EXPECT_NE(text.find(R"("ip6": "fd00::6")"), std::string::npos) << text;
    auto parsed = parse_state(text);
    ASSERT_TRUE(parsed) << parsed.error().message;
    EXPECT_EQ(*parsed, state);
    EXPECT_FALSE(parsed->containers[2].ip.has_value());  // IPv6-only: no "ip" written or read
}

TEST(StateFile, OlderContainerRecordsHaveNoIpv6) {
    auto parsed = parse_state(R"({"version":1,"mappings":[],"interfaces":[],"containers":[
        {"name":"web","ip":"172.17.0.2","exposed":["80/tcp"],"env":[]}]})");
    ASSERT_TRUE(parsed) << parsed.error().message;
    ASSERT_EQ(parsed->containers.size(), 1U);
    EXPECT_EQ(parsed->containers[0].ip, Ipv4Addr::from_octets(172, 17, 0, 2));
    EXPECT_FALSE(parsed->containers[0].ip6.has_value());
}

TEST(StateFile, Ipv4AndIpv6OnOnePortAreDistinctKeys) {
    State state = dual_stack_state();
    Mapping v4 = state.mappings.back();
    v4.host_addr = Ipv4Addr{};
    v4.container_addr = Ipv4Addr::from_octets(172, 17, 0, 3);
    v4.id = 9;
    state.mappings.push_back(v4);
    auto parsed = parse_state(serialize_state(state));
    ASSERT_TRUE(parsed) << parsed.error().message;
    EXPECT_EQ(*parsed, state);
}

TEST(StateFile, RoundTrips) {
    const State state = sample_state();
    auto parsed = parse_state(serialize_state(state));
    ASSERT_TRUE(parsed) << parsed.error().message;
    EXPECT_EQ(*parsed, state);
}

TEST(StateFile, RoundTripsFastPathOff) {
    State state = sample_state();
    state.fast_path = false;
    auto parsed = parse_state(serialize_state(state));
    ASSERT_TRUE(parsed) << parsed.error().message;
    EXPECT_FALSE(parsed->fast_path);
    EXPECT_EQ(*parsed, state);
}

TEST(StateFile, OlderFilesMeanTcModeAndFastPathOn) {
    // Written before attach modes and the fast path existed.
    auto parsed = parse_state(
        R"({"version":1,"mappings":[],"interfaces":[{"name":"eth0","created_clsact":true}]})");
    ASSERT_TRUE(parsed) << parsed.error().message;
    ASSERT_EQ(parsed->interfaces.size(), 1U);
    EXPECT_EQ(parsed->interfaces[0].mode, loader::AttachMode::Tc);
    EXPECT_TRUE(parsed->fast_path);
}

TEST(StateFile, RoundTripsMapSizes) {
    State state = sample_state();
    state.map_sizes = {16, 1024};
    const std::string text = serialize_state(state);
    EXPECT_NE(text.find(R"("max_mappings": 16)"), std::string::npos) << text;
    auto parsed = parse_state(text);
    ASSERT_TRUE(parsed) << parsed.error().message;
    EXPECT_EQ(parsed->map_sizes, (loader::MapSizes{16, 1024}));
    EXPECT_EQ(*parsed, state);
}

TEST(StateFile, OlderFilesMeanDefaultMapSizes) {
    // Written before the sizes could be chosen: the maps were made with the ABI defaults.
    auto parsed = parse_state(R"({"version":1,"mappings":[{"host_ip":"0.0.0.0","host_port":80,
        "proto":"tcp","container_ip":"1.1.1.1","container_port":80,"name":"","id":65535}],
        "interfaces":[]})");
    ASSERT_TRUE(parsed) << parsed.error().message;
    EXPECT_EQ(parsed->map_sizes, loader::default_map_sizes());
    EXPECT_EQ(parsed->map_sizes, (loader::MapSizes{65536, 262144}));
}

// A mapping id must have a slot in maps of the recorded size (ids run 1..max_mappings-1).
TEST(StateFile, MappingIdsAreBoundedByTheRecordedSize) {
    const auto with = [](const std::string& sizes, std::uint32_t id) {
        return parse_state(R"({"version":1,)" + sizes + R"("interfaces":[],"mappings":[
            {"host_ip":"0.0.0.0","host_port":80,"proto":"tcp","container_ip":"1.1.1.1",
             "container_port":80,"name":"","id":)" + std::to_string(id) + "}]}");
    };
    const std::string small = R"("map_sizes":{"max_mappings":16,"max_flows":1024},)";
    const std::string large = R"("map_sizes":{"max_mappings":131072,"max_flows":1024},)";
    EXPECT_TRUE(with(small, 15));
    ASSERT_FALSE(with(small, 16));
    EXPECT_NE(with(small, 16).error().message.find("mapping id out of range"), std::string::npos);
    EXPECT_TRUE(with(large, 131071));
    EXPECT_FALSE(with("", 65536));  // the default size holds ids up to 65535
}

TEST(StateFile, RejectsDefectsWithClearMessage) {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"", "not valid JSON"},
        {"[]", "top level"},
        {"{\"version\": 2, \"mappings\": [], \"interfaces\": []}", "version"},
        {"{\"version\": 1, \"interfaces\": []}", "mappings missing"},
        {"{\"version\": 1, \"mappings\": [1], \"interfaces\": []}", "not an object"},
        {R"({"version":1,"mappings":[{"host_ip":"1.2.3.4","host_port":0,"proto":"tcp",
            "container_ip":"1.1.1.1","container_port":1,"name":"","id":1}],"interfaces":[]})",
         "host_port"},
        {R"({"version":1,"mappings":[{"host_ip":"1.2.3.999","host_port":1,"proto":"tcp",
            "container_ip":"1.1.1.1","container_port":1,"name":"","id":1}],"interfaces":[]})",
         "host_ip"},
        {R"({"version":1,"mappings":[{"host_ip":"1.2.3.4","host_port":1,"proto":"icmp",
            "container_ip":"1.1.1.1","container_port":1,"name":"","id":1}],"interfaces":[]})",
         "proto"},
        {R"({"version":1,"mappings":[{"host_ip":"1.2.3.4","host_port":1,"proto":"tcp",
            "container_ip":"1.1.1.1","container_port":1,"name":"","id":0}],"interfaces":[]})",
         "id"},
        {R"({"version":1,"mappings":[
            {"host_ip":"1.2.3.4","host_port":1,"proto":"tcp","container_ip":"1.1.1.1","container_port":1,"name":"","id":1},
            {"host_ip":"1.2.3.4","host_port":1,"proto":"tcp","container_ip":"1.1.1.2","container_port":1,"name":"","id":2}],
            "interfaces":[]})",
         "duplicate mapping"},
        {R"({"version":1,"mappings":[],"interfaces":[{"name":"averyveryverylongname"}]})",
         "interface name"},
        {R"({"version":1,"mappings":[],"interfaces":[],"containers":[{"name":"-x","ip":"1.2.3.4",
            "exposed":[],"env":[]}]})",
         "container name"},
        {R"({"version":1,"mappings":[],"interfaces":[],"containers":[{"name":"x","ip":"1.2.3.4",
            "exposed":["80/sctp"],"env":[]}]})",
         "exposed port"},
        {R"({"version":1,"mappings":[],"interfaces":[],"containers":[{"name":"x","ip":"1.2.3.4",
            "exposed":[],"env":["=v"]}]})",
         "env entry"},
        {R"({"version":1,"mappings":[],"interfaces":[],"cursors":[{"host_ip":"0.0.0.0",
            "proto":"tcp","last":70000}]})",
         "last"},
        {R"({"version":1,"mappings":[],"interfaces":[{"name":"eth0","created_clsact":true,
            "mode":"dpdk"}]})",
         "interface mode"},
        {R"({"version":1,"mappings":[],"interfaces":[],"fast_path":"yes"})", "fast_path"},
        {R"({"version":1,"mappings":[{"host_ip":"1.2.3.4","host_port":1,"proto":"tcp",
            "container_ip":"1.1.1.1","container_port":1,"name":"","id":1,"allow":"10.0.0.0/8"}],
            "interfaces":[]})",
         "allow is not a list"},
        {R"({"version":1,"mappings":[{"host_ip":"1.2.3.4","host_port":1,"proto":"tcp",
            "container_ip":"1.1.1.1","container_port":1,"name":"","id":1,"allow":[]}],
            "interfaces":[]})",
         "allow is not a list"},
        {R"({"version":1,"mappings":[{"host_ip":"1.2.3.4","host_port":1,"proto":"tcp",
            "container_ip":"1.1.1.1","container_port":1,"name":"","id":1,"allow":[8]}],
            "interfaces":[]})",
         "allow holds a non-string"},
        {R"({"version":1,"mappings":[{"host_ip":"1.2.3.4","host_port":1,"proto":"tcp",
            "container_ip":"1.1.1.1","container_port":1,"name":"","id":1,"allow":["10.0.0.1/8"]}],
            "interfaces":[]})",
         "host bits"},
        {R"({"version":1,"mappings":[{"host_ip":"::","host_port":1,"proto":"tcp",
            "container_ip":"1.1.1.1","container_port":1,"name":"","id":1}],"interfaces":[]})",
         "mapping :: -> 1.1.1.1 mixes IPv4 and IPv6"},
        {R"({"version":1,"mappings":[{"host_ip":"0.0.0.0","host_port":1,"proto":"tcp",
            "container_ip":"fd00::2","container_port":1,"name":"","id":1}],"interfaces":[]})",
         "mixes IPv4 and IPv6"},
        {R"({"version":1,"mappings":[{"host_ip":"zz::","host_port":1,"proto":"tcp",
            "container_ip":"fd00::2","container_port":1,"name":"","id":1}],"interfaces":[]})",
         "mapping field host_ip: invalid IPv6 address \"zz::\""},
        {R"({"version":1,"mappings":[{"host_ip":"[::]","host_port":1,"proto":"tcp",
            "container_ip":"fd00::2","container_port":1,"name":"","id":1}],"interfaces":[]})",
         "host_ip"},
        {R"({"version":1,"mappings":[{"host_ip":"::","host_port":1,"proto":"tcp",
            "container_ip":"fd00::2%eth0","container_port":1,"name":"","id":1}],"interfaces":[]})",
         "container_ip: IPv6 address \"fd00::2%eth0\" has a zone id"},
        {R"({"version":1,"mappings":[
            {"host_ip":"::","host_port":1,"proto":"tcp","container_ip":"fd00::1","container_port":1,"name":"","id":1},
            {"host_ip":"0:0::0","host_port":1,"proto":"tcp","container_ip":"fd00::2","container_port":1,"name":"","id":2}],
            "interfaces":[]})",
         "duplicate mapping [::]:1/tcp"},
        {R"({"version":1,"mappings":[{"host_ip":"::","host_port":1,"proto":"tcp",
            "container_ip":"fd00::2","container_port":1,"name":"","id":1,"allow":["fd00::1/8"]}],
            "interfaces":[]})",
         "host bits are set (did you mean fd00::/8?)"},
        {R"({"version":1,"mappings":[],"interfaces":[],"containers":[{"name":"x","ip6":"fd00::zz",
            "exposed":[],"env":[]}]})",
         "container ip6: invalid IPv6 address"},
        {R"({"version":1,"mappings":[],"interfaces":[],"containers":[{"name":"x","ip6":"1.2.3.4",
            "exposed":[],"env":[]}]})",
         "container ip6"},
        {R"({"version":1,"mappings":[],"interfaces":[],"containers":[{"name":"x","ip":"fd00::2",
            "exposed":[],"env":[]}]})",
         "container ip: \"fd00::2\" is not an IPv4 address"},
        {R"({"version":1,"mappings":[],"interfaces":[],"containers":[{"name":"x",
            "exposed":[],"env":[]}]})",
         "container x has no address"},
        {R"({"version":1,"mappings":[],"interfaces":[],"cursors":[{"host_ip":":::",
            "proto":"tcp","last":49000}]})",
         "host_ip"},
        {R"({"version":1,"mappings":[],"interfaces":[],"map_sizes":[16,1024]})",
         "map_sizes is not an object"},
        {R"({"version":1,"mappings":[],"interfaces":[],"map_sizes":{"max_mappings":16}})",
         "map_sizes field max_flows missing"},
        {R"({"version":1,"mappings":[],"interfaces":[],
            "map_sizes":{"max_mappings":"16","max_flows":1024}})",
         "map_sizes field max_mappings missing or not a number"},
        {R"({"version":1,"mappings":[],"interfaces":[],
            "map_sizes":{"max_mappings":8,"max_flows":1024}})",
         "map_sizes field max_mappings is 8, not 16-1048576"},
        {R"({"version":1,"mappings":[],"interfaces":[],
            "map_sizes":{"max_mappings":16,"max_flows":-1}})",
         "map_sizes field max_flows missing or not a number"},
        {R"({"version":1,"mappings":[],"interfaces":[],
            "map_sizes":{"max_mappings":16,"max_flows":4294967296}})",
         "map_sizes field max_flows is 4294967296, not 1024-16777216"},
    };
    for (const auto& [text, expected] : cases) {
        auto parsed = parse_state(text);
        ASSERT_FALSE(parsed) << text;
        EXPECT_NE(parsed.error().message.find(expected), std::string::npos)
            << parsed.error().message;
        EXPECT_EQ(parsed.error().code, ErrorCode::Incompatible);
    }
}

TEST(StateFile, SurvivesRandomMutations) {
    const std::string good = serialize_state(dual_stack_state());
    std::mt19937 rng(12345);
    for (int round = 0; round < 20000; ++round) {
        std::string text = good;
        const int edits = 1 + static_cast<int>(rng() % 4);
        for (int e = 0; e < edits; ++e) {
            const std::size_t pos = rng() % text.size();
            switch (rng() % 3) {
            case 0: text[pos] = static_cast<char>(rng() % 256); break;
            case 1: text.erase(pos, 1 + rng() % 8); break;
            default: text.insert(pos, 1, "{}[]\",:0-9ae"[rng() % 12]); break;
            }
            if (text.empty()) text = "x";
        }
        auto parsed = parse_state(text);  // must not crash or throw
        if (parsed) {
            const auto again = parse_state(serialize_state(*parsed));
            ASSERT_TRUE(again.has_value()) << text;
            EXPECT_EQ(*again, *parsed) << text;
        }
    }
}

TEST(StateStore, SavesAtomicallyAndLoads) {
    char pattern[] = "/tmp/fwd-state-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    const std::string dir = pattern;
    {
        auto store = StateStore::open(dir);
        ASSERT_TRUE(store);
        auto empty = store->load();
        ASSERT_TRUE(empty);
        EXPECT_TRUE(empty->mappings.empty());
        ASSERT_TRUE(store->save(sample_state()));
        auto loaded = store->load();
        ASSERT_TRUE(loaded);
        EXPECT_EQ(*loaded, sample_state());
        EXPECT_FALSE(std::filesystem::exists(dir + "/state.json.tmp"));
    }
    std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace fwd::ctl
