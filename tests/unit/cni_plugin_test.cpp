// fwd-portmap's pure part: what a CNI runtime hands the plugin (environment, network config,
// prevResult of 0.4.0 and 1.0.0 form), what it answers (VERSION, ADD's result, error JSON with
// the spec's codes), the owner name per container and network, and CHECK's comparison.
#include "fwd/ctl/cni.h"

#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "fwd/ctl/spec.h"

namespace fwd::ctl::cni {
namespace {

using nlohmann::json;

// A bridge plugin's 1.0.0 result: the host's bridge and veth end (no sandbox) and the
// container's eth0 with one address of each family.
json bridge_result() {
    return json::parse(R"({
      "cniVersion": "1.0.0",
      "interfaces": [
        {"name": "cni0", "mac": "aa:bb:cc:dd:ee:01"},
        {"name": "veth1234", "mac": "aa:bb:cc:dd:ee:02"},
        {"name": "eth0", "mac": "aa:bb:cc:dd:ee:03", "sandbox": "/var/run/netns/c1"}
      ],
      "ips": [
        {"address": "10.22.0.1/16", "interface": 0},
        {"address": "10.22.0.5/16", "gateway": "10.22.0.1", "interface": 2},
        {"address": "10.22.0.6/16", "interface": 2},
        {"address": "fd00:22::5/64", "interface": 2}
      ],
      "routes": [{"dst": "0.0.0.0/0"}],
      "dns": {}
    })");
}

json net_conf(const std::string& version = "1.0.0") {
    json conf = {{"cniVersion", version},
                 {"name", "mynet"},
                 {"type", "fwd-portmap"},
                 {"capabilities", {{"portMappings", true}}},
                 {"runtimeConfig",
                  {{"portMappings",
                    json::array({{{"hostPort", 8080}, {"containerPort", 80}, {"protocol", "tcp"}},
                                 {{"hostPort", 5353}, {"containerPort", 53}, {"protocol", "UDP"},
                                  {"hostIP", "10.77.1.1"}}})}}},
                 {"prevResult", bridge_result()}};
    return conf;
}

CniResult<NetConf> parse(const json& conf) { return parse_net_conf(conf.dump(), "eth0"); }

unsigned error_code(const json& conf) {
    const auto parsed = parse(conf);
    return parsed ? 0 : parsed.error().code;
}

TEST(CniNetConf, ReadsPortMappingsAndTheContainersAddresses) {
    const auto conf = parse(net_conf());
    ASSERT_TRUE(conf) << conf.error().msg;
    EXPECT_EQ(conf->cni_version, "1.0.0");
    EXPECT_EQ(conf->name, "mynet");
    const std::vector<PortMapping> expected = {
        {8080, 80, Proto::Tcp, std::nullopt},
        {5353, 53, Proto::Udp, IpAddr(Ipv4Addr::from_octets(10, 77, 1, 1))}};
    EXPECT_EQ(conf->port_mappings, expected);
    // The bridge's own address is skipped; the first address of each family on eth0 counts.
    ASSERT_TRUE(conf->container_ip);
    EXPECT_EQ(conf->container_ip->to_string(), "10.22.0.5");
    ASSERT_TRUE(conf->container_ip6);
    EXPECT_EQ(conf->container_ip6->to_string(), "fd00:22::5");
}

TEST(CniNetConf, SkipsAddressesOfAnotherInterfaceName) {
    const auto conf = parse_net_conf(net_conf().dump(), "net1");
    ASSERT_TRUE(conf) << conf.error().msg;
    EXPECT_FALSE(conf->container_ip);
    EXPECT_FALSE(conf->container_ip6);
}

TEST(CniNetConf, ReadsA040PrevResultWithoutInterfaces) {
    json conf = net_conf("0.4.0");
    conf["prevResult"] = json::parse(
        R"({"cniVersion": "0.4.0", "ips": [{"version": "4", "address": "172.30.0.2/24"}]})");
    const auto parsed = parse(conf);
    ASSERT_TRUE(parsed) << parsed.error().msg;
    EXPECT_EQ(parsed->container_ip->to_string(), "172.30.0.2");
    EXPECT_FALSE(parsed->container_ip6);
}

TEST(CniNetConf, ProtocolDefaultsToTcpAndHostIpMayBeEmpty) {
    json conf = net_conf();
    conf["runtimeConfig"]["portMappings"] =
        json::array({{{"hostPort", 80}, {"containerPort", 8080}, {"hostIP", ""}}});
    const auto parsed = parse(conf);
    ASSERT_TRUE(parsed) << parsed.error().msg;
    EXPECT_EQ(parsed->port_mappings, (std::vector<PortMapping>{{80, 8080, Proto::Tcp, std::nullopt}}));
}

TEST(CniNetConf, WithoutRuntimeConfigOrPrevResultThereIsNothingToPublish) {
    const auto parsed = parse_net_conf(R"({"cniVersion": "0.4.0", "name": "n"})", "eth0");
    ASSERT_TRUE(parsed) << parsed.error().msg;
    EXPECT_TRUE(parsed->port_mappings.empty());
    EXPECT_FALSE(parsed->prev_result);
}

TEST(CniNetConf, ReadsFwdsDirs) {
    json conf = net_conf();
    conf["stateDir"] = "/run/fwd-state";
    conf["pinDir"] = "/sys/fs/bpf/other";
    conf["configFile"] = "/etc/fwd/cni.conf";
    const auto parsed = parse(conf);
    ASSERT_TRUE(parsed) << parsed.error().msg;
    EXPECT_EQ(parsed->dirs, (FwdDirsOverride{"/run/fwd-state", "/sys/fs/bpf/other", "/etc/fwd/cni.conf"}));
    json only_pins = net_conf();
    only_pins["pinDir"] = "/sys/fs/bpf/other";
    EXPECT_EQ(parse(only_pins)->dirs, (FwdDirsOverride{std::nullopt, "/sys/fs/bpf/other", std::nullopt}));
}

// Malformed input of every kind gets the spec's code for it, never a crash or a success.
TEST(CniNetConf, MalformedConfigsGetTheirCodes) {
    struct Case {
        const char* what;
        std::function<void(json&)> edit;
        unsigned code;
    };
    const std::vector<Case> cases = {
        {"cniVersion missing", [](json& c) { c.erase("cniVersion"); }, kInvalidNetworkConfig},
        {"cniVersion 0.2.0", [](json& c) { c["cniVersion"] = "0.2.0"; }, kIncompatibleVersion},
        {"cniVersion 2.0.0", [](json& c) { c["cniVersion"] = "2.0.0"; }, kIncompatibleVersion},
        {"cniVersion a number", [](json& c) { c["cniVersion"] = 1; }, kDecodeFailure},
        {"name missing", [](json& c) { c.erase("name"); }, kInvalidNetworkConfig},
        {"name a list", [](json& c) { c["name"] = json::array(); }, kDecodeFailure},
        {"runtimeConfig a string", [](json& c) { c["runtimeConfig"] = "x"; }, kDecodeFailure},
        {"portMappings an object", [](json& c) { c["runtimeConfig"]["portMappings"] = json::object(); },
         kDecodeFailure},
        {"a mapping a number", [](json& c) { c["runtimeConfig"]["portMappings"][0] = 80; }, kDecodeFailure},
        {"hostPort 0", [](json& c) { c["runtimeConfig"]["portMappings"][0]["hostPort"] = 0; },
         kInvalidNetworkConfig},
        {"hostPort missing", [](json& c) { c["runtimeConfig"]["portMappings"][0].erase("hostPort"); },
         kInvalidNetworkConfig},
        {"hostPort -1", [](json& c) { c["runtimeConfig"]["portMappings"][0]["hostPort"] = -1; },
         kInvalidNetworkConfig},
        {"hostPort \"80\"", [](json& c) { c["runtimeConfig"]["portMappings"][0]["hostPort"] = "80"; },
         kDecodeFailure},
        {"hostPort 80.5", [](json& c) { c["runtimeConfig"]["portMappings"][0]["hostPort"] = 80.5; },
         kDecodeFailure},
        {"containerPort 65536",
         [](json& c) { c["runtimeConfig"]["portMappings"][0]["containerPort"] = 65536; },
         kInvalidNetworkConfig},
        {"protocol sctp", [](json& c) { c["runtimeConfig"]["portMappings"][0]["protocol"] = "sctp"; },
         kInvalidNetworkConfig},
        {"protocol a number", [](json& c) { c["runtimeConfig"]["portMappings"][0]["protocol"] = 6; },
         kDecodeFailure},
        {"hostIP not an address", [](json& c) { c["runtimeConfig"]["portMappings"][0]["hostIP"] = "x"; },
         kInvalidNetworkConfig},
        {"masqAll", [](json& c) { c["masqAll"] = true; }, kUnsupportedField},
        {"conditionsV4", [](json& c) { c["conditionsV4"] = json::array({"-s", "1.2.3.4"}); },
         kUnsupportedField},
        {"stateDir empty", [](json& c) { c["stateDir"] = ""; }, kInvalidNetworkConfig},
        {"pinDir a number", [](json& c) { c["pinDir"] = 1; }, kDecodeFailure},
        {"prevResult a list", [](json& c) { c["prevResult"] = json::array(); }, kDecodeFailure},
        {"prevResult.ips an object", [](json& c) { c["prevResult"]["ips"] = json::object(); },
         kDecodeFailure},
        {"an address without prefix", [](json& c) { c["prevResult"]["ips"][1]["address"] = "10.22.0.5"; },
         kInvalidNetworkConfig},
        {"an address not an address", [](json& c) { c["prevResult"]["ips"][1]["address"] = "x/24"; },
         kInvalidNetworkConfig},
        {"an address missing", [](json& c) { c["prevResult"]["ips"][1].erase("address"); },
         kInvalidNetworkConfig},
        {"interface index out of range", [](json& c) { c["prevResult"]["ips"][1]["interface"] = 9; },
         kInvalidNetworkConfig},
        {"interface index negative", [](json& c) { c["prevResult"]["ips"][1]["interface"] = -1; },
         kDecodeFailure},
    };
    for (const auto& c : cases) {
        json conf = net_conf();
        c.edit(conf);
        EXPECT_EQ(error_code(conf), c.code) << c.what;
    }
    for (const char* text : {"", "{", "null", "[]", "\"x\"", "{\"cniVersion\": \"1.0.0\",}"})
        EXPECT_EQ(parse_net_conf(text, "eth0") ? 0U : parse_net_conf(text, "eth0").error().code,
                  unsigned{kDecodeFailure})
            << text;
}

TEST(CniNetConf, IgnoresTheReferencePluginsIptablesOptions) {
    json conf = net_conf();
    conf["snat"] = false;
    conf["markMasqBit"] = 13;
    conf["masqAll"] = false;
    conf["conditionsV6"] = json::array();
    EXPECT_TRUE(parse(conf));
}

TEST(CniEnvironment, NeedsTheVariablesOfItsCommand) {
    const auto parse_env = [](std::map<std::string, std::string> vars) {
        return parse_environment([vars = std::move(vars)](const char* name) -> const char* {
            const auto it = vars.find(name);
            return it == vars.end() ? nullptr : it->second.c_str();
        });
    };
    EXPECT_EQ(parse_env({}).error().code, unsigned{kInvalidEnvironment});
    EXPECT_EQ(parse_env({{"CNI_COMMAND", "GC"}}).error().code, unsigned{kInvalidEnvironment});
    EXPECT_TRUE(parse_env({{"CNI_COMMAND", "VERSION"}}));
    const auto missing = parse_env({{"CNI_COMMAND", "ADD"}, {"CNI_IFNAME", "eth0"}});
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().msg, "CNI_CONTAINERID, CNI_NETNS not set");
    // DEL may come after the namespace is gone.
    const auto del = parse_env({{"CNI_COMMAND", "DEL"}, {"CNI_CONTAINERID", "abc"}, {"CNI_IFNAME", "eth0"}});
    ASSERT_TRUE(del) << del.error().msg;
    EXPECT_EQ(del->command, Command::Del);
    EXPECT_EQ(del->container_id, "abc");
}

TEST(CniVersion, AnswersInTheAskedVersionWithEverySupportedOne) {
    EXPECT_EQ(json::parse(version_json(R"({"cniVersion": "0.4.0"})")),
              json::parse(R"({"cniVersion": "0.4.0",
                              "supportedVersions": ["0.3.0", "0.3.1", "0.4.0", "1.0.0"]})"));
    EXPECT_EQ(json::parse(version_json(""))["cniVersion"], "1.0.0");
    EXPECT_EQ(json::parse(version_json(R"({"cniVersion": "9.9.9"})"))["cniVersion"], "1.0.0");
}

TEST(CniError, IsTheSpecsErrorObject) {
    EXPECT_EQ(json::parse(error_json({kPortConflict, "port taken", ""}, "0.4.0")),
              json::parse(R"({"cniVersion": "0.4.0", "code": 100, "msg": "port taken"})"));
    EXPECT_EQ(json::parse(error_json({kInvalidEnvironment, "m", "d"}, "")),
              json::parse(R"({"cniVersion": "1.0.0", "code": 4, "msg": "m", "details": "d"})"));
}

TEST(CniError, ControllerErrorsMapToCodes) {
    EXPECT_EQ(from_fwd_error(make_error(ErrorCode::Exists, "x")).code, unsigned{kPortConflict});
    EXPECT_EQ(from_fwd_error(make_error(ErrorCode::Full, "x")).code, unsigned{kMapsFull});
    EXPECT_EQ(from_fwd_error(make_error(ErrorCode::InvalidInput, "x")).code,
              unsigned{kInvalidNetworkConfig});
    EXPECT_EQ(from_fwd_error(make_error(ErrorCode::Kernel, "x")).code, unsigned{kFwdFailure});
    EXPECT_EQ(from_fwd_error(make_error(ErrorCode::Kernel, "x")).msg, "x");
}

TEST(CniAddResult, IsPrevResultInTheConfigsVersion) {
    const auto v1 = parse(net_conf());
    ASSERT_TRUE(v1);
    EXPECT_EQ(json::parse(add_result_json(*v1)), bridge_result());

    json old = net_conf("0.4.0");
    old["prevResult"]["cniVersion"] = "0.4.0";
    const auto v04 = parse(old);
    ASSERT_TRUE(v04);
    const json result = json::parse(add_result_json(*v04));
    EXPECT_EQ(result["cniVersion"], "0.4.0");
    EXPECT_EQ(result["ips"][1]["version"], "4");
    EXPECT_EQ(result["ips"][3]["version"], "6");
    EXPECT_EQ(result["interfaces"], bridge_result()["interfaces"]);

    json back = net_conf();
    back["prevResult"]["ips"][1]["version"] = "4";
    EXPECT_FALSE(json::parse(add_result_json(*parse(back)))["ips"][1].contains("version"));
}

TEST(CniMappingName, NamesNetworkAndContainer) {
    EXPECT_EQ(*mapping_name("mynet", "abc123"), "cni.mynet.abc123");
    const std::string id(64, 'f');
    const std::string network(100, 'n');
    const auto long_name = mapping_name(network, id);
    ASSERT_TRUE(long_name) << long_name.error().msg;
    EXPECT_TRUE(validate_name(*long_name)) << *long_name;
    EXPECT_NE(*long_name, *mapping_name(network, std::string(63, 'f') + "e"));
    EXPECT_EQ(*long_name, *mapping_name(network, id)) << "stable across ADD and DEL";
    EXPECT_EQ(mapping_name("mynet", "a/b").error().code, unsigned{kInvalidEnvironment});
    EXPECT_EQ(mapping_name("my net", "abc").error().code, unsigned{kInvalidNetworkConfig});
}

TEST(CniPublish, PublishesOnEveryFamilyOrOnTheHostIp) {
    const auto conf = parse(net_conf());
    ASSERT_TRUE(conf);
    const auto options = publish_options(*conf, "cni.mynet.c1");
    ASSERT_TRUE(options) << options.error().msg;
    std::vector<std::string> lines;
    for (const auto& mapping : expected_mappings(*options)) lines.push_back(to_string(mapping));
    EXPECT_EQ(lines, (std::vector<std::string>{"0.0.0.0:8080/tcp -> 10.22.0.5:80",
                                               "[::]:8080/tcp -> [fd00:22::5]:80",
                                               "10.77.1.1:5353/udp -> 10.22.0.5:53"}));
}

TEST(CniPublish, RefusesAFamilyTheContainerLacks) {
    json conf = net_conf();
    conf["runtimeConfig"]["portMappings"][1]["hostIP"] = "fd00:77:1::1";
    conf["prevResult"]["ips"].erase(3);
    const auto parsed = parse(conf);
    ASSERT_TRUE(parsed);
    EXPECT_EQ(publish_options(*parsed, "n").error().code, unsigned{kInvalidNetworkConfig});
    EXPECT_EQ(publish_options(*parse_net_conf(net_conf().dump(), "net1"), "n").error().code,
              unsigned{kInvalidNetworkConfig})
        << "no address on the interface";
}

TEST(CniPublish, RecordedMappingsPublishAgainAsTheyWere) {
    const auto conf = parse(net_conf());
    const auto options = publish_options(*conf, "cni.mynet.c1");
    State state;
    state.mappings = expected_mappings(*options);
    state.containers.push_back({"cni.mynet.c1", conf->container_ip, conf->container_ip6, {}, {}});
    const auto again = recorded_publish_options(state, "cni.mynet.c1");
    EXPECT_EQ(again.ip, conf->container_ip);
    EXPECT_EQ(again.ip6, conf->container_ip6);
    EXPECT_EQ(expected_mappings(again), state.mappings);
}

TEST(CniCheck, ComparesConfigStateAndMaps) {
    const auto options = publish_options(*parse(net_conf()), "cni.mynet.c1");
    auto expected = expected_mappings(*options);
    auto recorded = expected;
    for (std::size_t i = 0; i < recorded.size(); ++i) recorded[i].id = static_cast<std::uint32_t>(i + 1);
    EXPECT_TRUE(check_mappings(expected, recorded, recorded).empty());

    auto live = recorded;
    live.pop_back();
    EXPECT_EQ(check_mappings(expected, recorded, live),
              (std::vector<std::string>{"not in fwd's maps: 10.77.1.1:5353/udp -> 10.22.0.5:53"}));
    auto fewer = expected;
    fewer.erase(fewer.begin());
    EXPECT_EQ(check_mappings(fewer, recorded, recorded),
              (std::vector<std::string>{"recorded but not in the config: 0.0.0.0:8080/tcp -> 10.22.0.5:80"}));
    EXPECT_EQ(check_mappings(expected, {}, {}).size(), 3U);
}

}  // namespace
}  // namespace fwd::ctl::cni
