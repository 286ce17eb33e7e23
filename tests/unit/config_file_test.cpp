// /etc/fwd/fwd.conf parsing: what a line may hold and the one-line errors for what it may not.
#include "fwd/ctl/config_file.h"

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include "fwd/ctl/spec.h"
#include "fwd_conf_example.h"

namespace fwd::ctl {
namespace {

TEST(ConfigFile, ReadsKeysValuesAndComments) {
    const auto values = parse_config(
        "# fwd on this host\n"
        "interfaces = eth0 docker0   # the uplink and the bridge\n"
        "\n"
        "  mode=xdp\n"
        "port-range = 50000-50999\r\n"
        "max-flows = 1048576",
        "fwd.conf");
    ASSERT_TRUE(values) << values.error().message;
    const std::map<std::string, std::string> expected = {{"interfaces", "eth0 docker0"},
                                                         {"mode", "xdp"},
                                                         {"port-range", "50000-50999"},
                                                         {"max-flows", "1048576"}};
    EXPECT_EQ(*values, expected);
    EXPECT_TRUE(parse_config("", "fwd.conf").value().empty());
}

TEST(ConfigFile, RejectsBadLinesNamingFileAndLine) {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"mode = xdp\nmodes = tc\n", "fwd.conf:2: unknown key \"modes\" (known: state-dir,"},
        {"mode = xdp\nmode = tc\n", "fwd.conf:2: mode is set twice"},
        {"interfaces eth0\n", "fwd.conf:1: expected `key = value`, got \"interfaces eth0\""},
        {"mode =   # nothing\n", "fwd.conf:1: mode has no value"},
        {"= xdp\n", "fwd.conf:1: unknown key \"\""},
    };
    for (const auto& [text, message] : cases) {
        const auto values = parse_config(text, "fwd.conf");
        ASSERT_FALSE(values) << text;
        EXPECT_TRUE(values.error().is_usage_error());
        EXPECT_EQ(values.error().message.rfind(message, 0), 0U) << values.error().message;
    }
}

TEST(ConfigFile, AMissingFileIsFineUnlessNamed) {
    const auto absent = read_config("/nonexistent/fwd.conf", false);
    ASSERT_TRUE(absent) << absent.error().message;
    EXPECT_FALSE(absent->has_value());
    const auto named = read_config("/nonexistent/fwd.conf", true);
    ASSERT_FALSE(named);
    EXPECT_TRUE(named.error().is_usage_error());
    EXPECT_NE(named.error().message.find("/nonexistent/fwd.conf"), std::string::npos);
}

// The /etc/fwd/fwd.conf the packages install (packaging/fwd.conf): all comments, so the built-in
// defaults apply; and each commented-out `#key = value` line, uncommented, is a valid setting.
TEST(ConfigFile, ShippedExampleIsAllCommentsAndEveryKeyValid) {
    const auto as_shipped = parse_config(kFwdConfExample, "fwd.conf");
    ASSERT_TRUE(as_shipped) << as_shipped.error().message;
    EXPECT_TRUE(as_shipped->empty());

    const std::string uncommented =
        std::regex_replace(kFwdConfExample, std::regex("^#([a-z-]+ = )", std::regex::multiline), "$1");
    const auto values = parse_config(uncommented, "fwd.conf");
    ASSERT_TRUE(values) << values.error().message;
    const std::map<std::string, std::function<bool(const std::string&)>> valid = {
        {"state-dir", [](const std::string& v) { return v.starts_with('/'); }},
        {"pin-dir", [](const std::string& v) { return v.starts_with("/sys/fs/bpf/"); }},
        {"port-range", [](const std::string& v) { return parse_pool_range(v).has_value(); }},
        {"interfaces", [](const std::string& v) { return !v.empty(); }},
        {"mode", [](const std::string& v) { return parse_attach_mode(v).has_value(); }},
        {"fast-path", [](const std::string& v) { return parse_on_off(v).has_value(); }},
        {"cgroup", [](const std::string& v) { return v.starts_with("/sys/fs/cgroup"); }},
        {"max-mappings", [](const std::string& v) { return parse_max_mappings(v).has_value(); }},
        {"max-flows", [](const std::string& v) { return parse_max_flows(v).has_value(); }},
    };
    EXPECT_EQ(values->size(), valid.size()) << "a key of the config file is not in the example";
    for (const auto& [key, value] : *values) {
        ASSERT_EQ(valid.count(key), 1U) << key;
        EXPECT_TRUE(valid.at(key)(value)) << key << " = " << value;
    }
}

}  // namespace
}  // namespace fwd::ctl
