// End-to-end: full tables, map sizes chosen at the first attach (--max-mappings, --max-flows)
// and kept across a reboot, and pin dirs that are not what fwd left there. Topology: see
// MainTopology in support/netns_fixture.h. Every "changes nothing" check compares the state
// file, `list`, the programs on the interfaces and the sized maps' pins (id and size).
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/main_topology_test.h"
#include "support/netns_fixture.h"

namespace fwd::test {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using Json = nlohmann::json;

// Every wait in this file is bounded by one of these.
constexpr milliseconds kConnectTimeout{3000};
constexpr milliseconds kReplyTimeout{3000};
constexpr milliseconds kCounterTimeout{5000};  // for counters to catch up with sent packets

// Sizes small enough to fill in a test's time.
constexpr std::uint32_t kSmallMappings = 16;
constexpr std::uint32_t kSmallFlows = 1024;

// The maps whose size attach chooses, and which option sizes each.
const std::vector<std::pair<std::string, std::string>>& sized_maps() {
    static const std::vector<std::pair<std::string, std::string>> maps = {
        {"fwd_svc4", "--max-mappings"},
        {"fwd_stats", "--max-mappings"},
        {"fwd_ports", "--max-mappings"},
        {"fwd_ct4", "--max-flows"}};
    return maps;
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

void write_file(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out) throw std::runtime_error("write " + path);
}

// A pinned map as `bpftool map show pinned PATH` sees it; nullopt if there is no map pinned.
struct PinnedMapInfo {
    std::uint32_t id = 0;
    std::uint32_t key_size = 0;
    std::uint32_t max_entries = 0;
};

std::optional<PinnedMapInfo> pinned_map_info(const std::string& path) {
    const Fd fd(bpf_obj_get(path.c_str()));
    if (!fd.valid()) return std::nullopt;
    bpf_map_info info{};
    __u32 len = sizeof(info);
    if (bpf_obj_get_info_by_fd(fd.get(), &info, &len) != 0) return std::nullopt;
    return PinnedMapInfo{info.id, info.key_size, info.max_entries};
}

std::string describe_pin(const std::string& path) {
    const auto info = pinned_map_info(path);
    if (!info) return "no map";
    return "map id " + std::to_string(info->id) + " max_entries " +
           std::to_string(info->max_entries);
}

// Creates a hash map with these sizes and pins it at path (the pin keeps it alive).
void pin_new_map(const std::string& path, std::uint32_t key_size, std::uint32_t value_size,
                 std::uint32_t max_entries) {
    const Fd fd(
        bpf_map_create(BPF_MAP_TYPE_HASH, "fwd_test", key_size, value_size, max_entries, nullptr));
    if (!fd.valid())
        throw std::runtime_error("bpf_map_create: " + std::string(std::strerror(errno)));
    if (bpf_obj_pin(fd.get(), path.c_str()) != 0)
        throw std::runtime_error("pin " + path + ": " + std::string(std::strerror(errno)));
}

std::set<std::string> dir_entries(const std::string& dir) {
    std::set<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir)) names.insert(entry.path().filename());
    return names;
}

// A failure the way the contract wants it: the exit code, nothing on stdout, and exactly one
// stderr line "fwdctl: error: ..." containing every fragment.
void ExpectOneLineError(const CommandResult& r, int exit_code,
                        const std::vector<std::string>& fragments) {
    EXPECT_EQ(r.exit_code, exit_code) << r.describe();
    EXPECT_EQ(r.out, "") << r.describe();
    const auto lines = split_lines(r.err);
    ASSERT_EQ(lines.size(), 1U) << r.describe();
    EXPECT_EQ(lines[0].rfind("fwdctl: error: ", 0), 0U) << r.describe();
    for (const auto& fragment : fragments)
        EXPECT_NE(lines[0].find(fragment), std::string::npos)
            << "no \"" << fragment << "\" in: " << lines[0];
}

// Sends one datagram to dst from each client port first..first+count-1, each from a socket of
// its own: count new flows. Returns how many were sent.
int send_from_many_ports(const std::string& ns, const Endpoint& dst, std::uint16_t first,
                         int count) {
    return run_in_netns(ns, [&] {
        sockaddr_in to{};
        to.sin_family = AF_INET;
        to.sin_port = htons(dst.port);
        if (inet_pton(AF_INET, dst.addr.c_str(), &to.sin_addr) != 1) return 0;
        int sent = 0;
        for (int i = 0; i < count; ++i) {
            const Fd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
            sockaddr_in local{};
            local.sin_family = AF_INET;
            local.sin_port = htons(static_cast<std::uint16_t>(first + i));
            if (!fd.valid() ||
                ::bind(fd.get(), reinterpret_cast<const sockaddr*>(&local), sizeof local) != 0)
                continue;
            if (::sendto(fd.get(), "burst", 5, 0, reinterpret_cast<const sockaddr*>(&to),
                         sizeof to) == 5)
                ++sent;
        }
        return sent;
    });
}

class FullTables : public MainTopologyTest {
protected:
    // `attach up0 fbr0` with the socket programs on an empty cgroup, plus `options`.
    [[nodiscard]] std::vector<std::string> AttachArgs(
        const std::vector<std::string>& options = {}) const {
        std::vector<std::string> args = {"attach", MainTopology::kUplink, MainTopology::kBridge,
                                         "--cgroup", net_->empty_cgroup()};
        args.insert(args.end(), options.begin(), options.end());
        return args;
    }

    void Add(const std::string& host, const std::string& container) {
        const CommandResult r = fwdctl({"add", host, container});
        ASSERT_TRUE(r.ok()) << r.describe();
    }

    [[nodiscard]] std::string PinPath(const std::string& map) const {
        return net_->pin_dir() + "/" + map;
    }

    [[nodiscard]] std::string StateFile() const {
        return read_file(net_->state_dir() + "/state.json");
    }

    // What a failed command must leave as it was.
    struct Snapshot {
        std::string state_file;
        std::string list;
        std::string programs;  // status --json "interfaces" and "cgroups": program ids
        std::string pins;      // each sized map's pin: map id and size
    };

    [[nodiscard]] Snapshot TakeSnapshot() const {
        Snapshot snapshot;
        snapshot.state_file = StateFile();
        snapshot.list = fwdctl({"list"}).out;
        const Json status = Json::parse(fwdctl({"status", "--json"}).out, nullptr, false);
        if (!status.is_discarded())
            snapshot.programs = status["interfaces"].dump() + status["cgroups"].dump();
        for (const auto& [map, option] : sized_maps())
            snapshot.pins += map + ": " + describe_pin(PinPath(map)) + "\n";
        return snapshot;
    }

    void ExpectUnchanged(const Snapshot& before) const {
        const Snapshot after = TakeSnapshot();
        EXPECT_EQ(after.state_file, before.state_file);
        EXPECT_EQ(after.list, before.list);
        EXPECT_EQ(after.programs, before.programs);
        EXPECT_EQ(after.pins, before.pins);
        const CommandResult check = fwdctl({"check"});
        EXPECT_EQ(check.exit_code, 0) << check.describe();
    }

    // A reboot as fwd sees it: the bpffs is new and empty (the pins, and the socket programs'
    // links they held, are gone) and no tc program is left on the interfaces; the state file
    // stays.
    void SimulateReboot() {
        ASSERT_NO_THROW(net_->remount_bpffs());
        for (const char* ifname : {MainTopology::kUplink, MainTopology::kBridge}) {
            const CommandResult r =
                net_->exec_in(topo_.host, std::string("tc qdisc del dev ") + ifname + " clsact");
            ASSERT_TRUE(r.ok()) << r.describe();
        }
    }

    // Attach and one mapping through the fixture's own pin dir: the state a corrupt pin dir
    // must leave alone.
    void AttachWithOneMapping() {
        ASSERT_NO_FATAL_FAILURE(Attach());
        ASSERT_NO_FATAL_FAILURE(Add("0.0.0.0:80/tcp", "172.30.0.2:8080"));
    }

    // attach and restore on `pin_dir` fail with one line holding `fragments`, exit 1.
    void ExpectPinDirRefused(const std::string& pin_dir,
                             const std::vector<std::string>& fragments) {
        for (const auto& args : {AttachArgs(), std::vector<std::string>{"restore"}}) {
            SCOPED_TRACE(args.front() + " with --pin-dir " + pin_dir);
            ExpectOneLineError(net_->run_fwdctl_at(pin_dir, args), 1, fragments);
        }
    }
};

// --max-mappings 16 holds ids 1..15. A 16th mapping is refused before any map write, whatever
// the command; the last id translates, and a freed id is taken again.
TEST_F(FullTables, FullServiceMapRefusesANewMappingAndChangesNothing) {
    ASSERT_NO_FATAL_FAILURE(Attach({"--max-mappings", std::to_string(kSmallMappings)}));
    const CommandResult fill = fwdctl({"add", "0.0.0.0:1001-1015/tcp", "172.30.0.2:1001-1015"});
    ASSERT_TRUE(fill.ok()) << fill.describe();
    const Snapshot before = TakeSnapshot();

    for (const auto& args : std::vector<std::vector<std::string>>{
             {"add", "0.0.0.0:2000/tcp", "172.30.0.2:80"},
             {"add", "0.0.0.0:2000-2001/udp", "172.30.0.2:80-81"},
             {"publish", "web", "--ip", MainTopology::kC1Addr, "-p", "2000:80"}}) {
        SCOPED_TRACE(args.front());
        ExpectOneLineError(fwdctl(args), 1, {"the service map is full", "holds 15 mappings"});
    }
    ASSERT_NO_FATAL_FAILURE(ExpectUnchanged(before));
    EXPECT_EQ(MapFill("fwd_svc4"), std::make_pair(std::uint64_t{15}, std::uint64_t{16}));
    const CommandResult status = fwdctl({"status", "--json"});
    EXPECT_EQ(Json::parse(status.out, nullptr, false)["mapping_capacity"], 15) << status.out;

    StartTcpServer(topo_.c1, 1015, "c1");
    ASSERT_NO_FATAL_FAILURE(
        ExpectTcpReachesContainer(Endpoint{MainTopology::kHostUplinkAddr, 1015}, "c1"));
    const CommandResult del = fwdctl({"del", "0.0.0.0:1001/tcp"});
    ASSERT_TRUE(del.ok()) << del.describe();
    const CommandResult again = fwdctl({"add", "0.0.0.0:2000/tcp", "172.30.0.2:1001"});
    EXPECT_TRUE(again.ok()) << again.describe();
}

// --max-flows 1024, then three times as many UDP flows: the LRU table evicts the oldest
// entries, never refuses one, stays within its size, and a brand-new flow is translated.
TEST_F(FullTables, ConntrackFilledPastItsSizeStillAdmitsNewFlows) {
    ASSERT_NO_FATAL_FAILURE(Attach({"--max-flows", std::to_string(kSmallFlows)}));
    ASSERT_NO_FATAL_FAILURE(Add("0.0.0.0:5353/udp", "172.30.0.2:53"));
    StartUdpServer(topo_.c1, 53, "c1");
    const Endpoint published{MainTopology::kHostUplinkAddr, 5353};
    // One exchange first: the neighbours are resolved, so no datagram of the burst waits on ARP.
    ASSERT_TRUE(udp_request(topo_.client, published, "warm-up", kReplyTimeout, 40000).has_value());
    const std::uint64_t created_before = Counter("ct_created");

    // In batches, each one tracked before the next is sent, so a busy machine's receive
    // backlog never drops part of the burst.
    constexpr int kFlows = 3 * static_cast<int>(kSmallFlows);
    constexpr int kBatch = 512;
    for (int sent = 0; sent < kFlows; sent += kBatch) {
        const auto first_port = static_cast<std::uint16_t>(20000 + sent);
        ASSERT_EQ(send_from_many_ports(topo_.client, published, first_port, kBatch), kBatch);
        std::uint64_t created = 0;
        ASSERT_TRUE(wait_until(
            [&] {
                created = Counter("ct_created") - created_before;
                return created >= static_cast<std::uint64_t>(sent + kBatch);
            },
            kCounterTimeout, milliseconds{50}))
            << created << " of " << sent + kBatch << " new flows tracked";
    }
    EXPECT_EQ(Counter("err_ct_create"), 0U);
    const auto [entries, max_entries] = MapFill("fwd_ct4");
    EXPECT_EQ(max_entries, kSmallFlows);
    EXPECT_LE(entries, kSmallFlows);
    EXPECT_GT(entries, kSmallFlows / 2) << "the table never filled";

    const auto reply = udp_request(topo_.client, published, "new", kReplyTimeout, 40001);
    ASSERT_TRUE(reply.has_value()) << "a new flow got no reply through a full conntrack table";
    EXPECT_EQ(reply->from, published);
    EXPECT_EQ(reply->payload, "c1 10.77.1.2 new");
    EXPECT_LE(MapFill("fwd_ct4").first, kSmallFlows);
}

// Sizes go into the state file; after a reboot restore recreates every sized map with them,
// re-attaches, and traffic flows again.
TEST_F(FullTables, SizesAreRecordedAndRestoredAfterAReboot) {
    ASSERT_NO_FATAL_FAILURE(Attach({"--max-mappings", "32", "--max-flows", "2048"}));
    ASSERT_NO_FATAL_FAILURE(Add("0.0.0.0:80/tcp", "172.30.0.2:8080"));
    const Json state = Json::parse(StateFile());
    EXPECT_EQ(state["map_sizes"], Json({{"max_mappings", 32}, {"max_flows", 2048}})) << state;

    ASSERT_NO_FATAL_FAILURE(SimulateReboot());
    ASSERT_FALSE(fs::exists(PinPath("fwd_svc4")));

    const CommandResult restore = fwdctl({"restore"});
    ASSERT_TRUE(restore.ok()) << restore.describe();
    for (const auto& [map, option] : sized_maps()) {
        const auto info = pinned_map_info(PinPath(map));
        ASSERT_TRUE(info.has_value()) << map << " is not pinned after restore";
        EXPECT_EQ(info->max_entries, option == "--max-flows" ? 2048U : 32U) << map;
    }
    EXPECT_EQ(MapFill("fwd_svc4").second, 32U);
    EXPECT_EQ(MapFill("fwd_ct4").second, 2048U);
    StartTcpServer(topo_.c1, 8080, "c1");
    ExpectTcpReachesContainer(Endpoint{MainTopology::kHostUplinkAddr, 80}, "c1");
}

// Once the maps exist, an attach asking for another size fails (exit 1, one line naming the
// map, both sizes and the way to resize) and changes nothing; the same sizes, or none, reuse
// the pinned maps. A size that is out of bounds or not a number is a usage error (exit 2).
TEST_F(FullTables, AttachAskingForAnotherSizeFailsAndTouchesNothing) {
    ASSERT_NO_FATAL_FAILURE(Attach({"--max-mappings", "32", "--max-flows", "2048"}));
    ASSERT_NO_FATAL_FAILURE(Add("0.0.0.0:80/tcp", "172.30.0.2:8080"));
    const Snapshot before = TakeSnapshot();

    ExpectOneLineError(
        fwdctl(AttachArgs({"--max-mappings", "64"})), 1,
        {"fwd_svc4 has 32 entries", "--max-mappings asks for 64", "detach --all", net_->pin_dir()});
    ExpectOneLineError(fwdctl(AttachArgs({"--max-mappings", "32", "--max-flows", "4096"})), 1,
                       {"fwd_ct4 has 2048 entries", "--max-flows asks for 4096"});
    ASSERT_NO_FATAL_FAILURE(ExpectUnchanged(before));

    for (const auto& args : std::vector<std::vector<std::string>>{
             AttachArgs({"--max-mappings", "15"}),
             AttachArgs({"--max-mappings", "1048577"}),
             AttachArgs({"--max-flows", "1023"}),
             AttachArgs({"--max-flows", "16777217"}),
             AttachArgs({"--max-flows", "2k"}),
             AttachArgs({"--max-mappings", "-32"}),
             {"add", "0.0.0.0:81/tcp", "172.30.0.2:81", "--max-mappings", "32"}}) {
        SCOPED_TRACE(args.back());
        ExpectOneLineError(fwdctl(args), 2, {});
    }
    ASSERT_NO_FATAL_FAILURE(ExpectUnchanged(before));

    ASSERT_NO_FATAL_FAILURE(Attach({"--max-mappings", "32", "--max-flows", "2048"}));
    ASSERT_NO_FATAL_FAILURE(Attach());
    EXPECT_EQ(TakeSnapshot().pins, before.pins) << "the pinned maps were replaced";
}

// A pin dir off bpffs, with regular files where the maps should be: refused before anything is
// read or written.
TEST_F(FullTables, PinDirOffBpffsIsRefused) {
    ASSERT_NO_FATAL_FAILURE(AttachWithOneMapping());
    const Snapshot before = TakeSnapshot();
    const std::string pin_dir = net_->scratch_path("plain-pins");
    fs::create_directories(pin_dir);
    for (const auto& [map, option] : sized_maps()) write_file(pin_dir + "/" + map, "not a map\n");

    ExpectPinDirRefused(pin_dir, {pin_dir, "not on a bpf filesystem"});
    for (const auto& [map, option] : sized_maps())
        EXPECT_EQ(read_file(pin_dir + "/" + map), "not a map\n");
    ExpectUnchanged(before);
}

// A pin dir that is a file: a regular one, and a map pinned on bpffs.
TEST_F(FullTables, PinDirThatIsAFileIsRefused) {
    ASSERT_NO_FATAL_FAILURE(AttachWithOneMapping());
    const Snapshot before = TakeSnapshot();
    const std::string regular = net_->scratch_path("pins-file");
    write_file(regular, "not a dir\n");
    const std::string pinned = net_->bpffs_dir() + "/pins-map";
    ASSERT_NO_THROW(pin_new_map(pinned, 8, 12, 16));
    const auto pinned_before = pinned_map_info(pinned);
    ASSERT_TRUE(pinned_before.has_value());

    ExpectPinDirRefused(regular, {regular, "is not a directory"});
    ExpectPinDirRefused(pinned, {pinned, "is not a directory"});
    EXPECT_EQ(read_file(regular), "not a dir\n");
    ASSERT_TRUE(pinned_map_info(pinned).has_value());
    EXPECT_EQ(pinned_map_info(pinned)->id, pinned_before->id);
    ExpectUnchanged(before);
}

// A fresh pin dir on bpffs where fwd_svc4 is a map of another shape (4-byte keys): one line
// naming the pin and its shape; the foreign map stays, nothing else is pinned beside it.
TEST_F(FullTables, PinOfAnotherShapeIsRefused) {
    ASSERT_NO_FATAL_FAILURE(AttachWithOneMapping());
    const Snapshot before = TakeSnapshot();
    const std::string pin_dir = net_->bpffs_dir() + "/odd-pins";
    fs::create_directories(pin_dir);
    ASSERT_NO_THROW(pin_new_map(pin_dir + "/fwd_svc4", 4, 12, kSmallMappings));
    const auto foreign = pinned_map_info(pin_dir + "/fwd_svc4");
    ASSERT_TRUE(foreign.has_value());

    ExpectPinDirRefused(pin_dir, {pin_dir + "/fwd_svc4", "key 4"});
    EXPECT_EQ(dir_entries(pin_dir), std::set<std::string>{"fwd_svc4"});
    const auto after = pinned_map_info(pin_dir + "/fwd_svc4");
    ASSERT_TRUE(after.has_value());
    EXPECT_EQ(after->id, foreign->id);
    EXPECT_EQ(after->key_size, 4U);
    ExpectUnchanged(before);
}

}  // namespace
}  // namespace fwd::test
