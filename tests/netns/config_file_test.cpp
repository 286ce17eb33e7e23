// End-to-end: fwdctl takes its defaults from a config file (/etc/fwd/fwd.conf, or --config):
// `attach` with no interface attaches the configured ones in the configured mode and sizes, and
// the command line overrides the file. Topology: MainTopology (support/netns_fixture.h).
#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/main_topology_test.h"
#include "support/netns_fixture.h"

namespace fwd::test {
namespace {

using Json = nlohmann::json;

class ConfigFile : public MainTopologyTest {
protected:
    // Writes `text` to a config file in the fixture's scratch dir and returns its path.
    [[nodiscard]] std::string WriteConfig(const std::string& text) const {
        const std::string path = net_->scratch_path("fwd.conf");
        std::ofstream(path) << text;
        return path;
    }

    // `status --json`, parsed.
    [[nodiscard]] Json Status() const {
        const CommandResult r = fwdctl({"status", "--json"});
        EXPECT_TRUE(r.ok()) << r.describe();
        return Json::parse(r.out, nullptr, /*allow_exceptions=*/false);
    }

    [[nodiscard]] static std::string ModeOf(const Json& status, const std::string& ifname) {
        for (const auto& iface : status["interfaces"])
            if (iface["name"] == ifname) return iface["mode"].get<std::string>();
        return "(not attached)";
    }

    [[nodiscard]] static std::uint64_t SizeOf(const Json& status, const std::string& map) {
        for (const auto& entry : status["maps"])
            if (entry["name"] == map) return entry["max_entries"].get<std::uint64_t>();
        return 0;
    }
};

TEST_F(ConfigFile, AttachTakesInterfacesModeAndSizesFromTheFile) {
    const std::string config = WriteConfig(
        "# this host\n"
        "interfaces = up0 fbr0\n"
        "mode = xdp\n"
        "cgroup = " + net_->empty_cgroup() + "\n"
        "max-flows = 2048\n");
    const CommandResult attached = fwdctl({"--config", config, "attach"});
    ASSERT_TRUE(attached.ok()) << attached.describe();
    Json status = Status();
    EXPECT_EQ(ModeOf(status, MainTopology::kUplink), "xdp") << status.dump();
    EXPECT_EQ(ModeOf(status, MainTopology::kBridge), "xdp") << status.dump();
    EXPECT_EQ(SizeOf(status, "fwd_ct4"), 2048U) << status.dump();

    // The command line wins over the file.
    const CommandResult tc = fwdctl({"--config", config, "attach", MainTopology::kUplink,
                                     "--mode", "tc"});
    ASSERT_TRUE(tc.ok()) << tc.describe();
    status = Status();
    EXPECT_EQ(ModeOf(status, MainTopology::kUplink), "tc") << status.dump();
    EXPECT_EQ(ModeOf(status, MainTopology::kBridge), "xdp") << status.dump();
}

TEST_F(ConfigFile, ABadFileIsOneLineAndExitTwoAndChangesNothing) {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"interfaces = up0\nmode = dpdk\n", "fwd.conf: mode: unknown mode \"dpdk\""},
        {"interfaces = up0\nmax-flows = 12\n", "fwd.conf: max-flows:"},
        {"interface = up0\n", "fwd.conf:1: unknown key \"interface\""},
    };
    for (const auto& [text, fragment] : cases) {
        const CommandResult r = fwdctl({"--config", WriteConfig(text), "attach"});
        EXPECT_EQ(r.exit_code, 2) << r.describe();
        const auto lines = split_lines(r.err);
        ASSERT_EQ(lines.size(), 1U) << r.describe();
        EXPECT_NE(lines[0].find(fragment), std::string::npos) << lines[0];
    }
    const CommandResult missing = fwdctl({"--config", net_->scratch_path("none.conf"), "list"});
    EXPECT_EQ(missing.exit_code, 2) << missing.describe();
    EXPECT_EQ(ModeOf(Status(), MainTopology::kUplink), "(not attached)");
}

}  // namespace
}  // namespace fwd::test
