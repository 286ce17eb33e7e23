// /etc/fwd/fwd.conf parsing: what a line may hold and the one-line errors for what it may not.
#include "fwd/ctl/config_file.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

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

}  // namespace
}  // namespace fwd::ctl
