// The data plane as fwdctl sees it: programs, attachments and the pinned maps.
// ctl logic talks only to this interface; tests substitute an in-memory fake.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "fwd/result.h"
#include "fwd/types.h"

namespace fwd::loader {

// The sizes of the maps that grow with use. They are fixed when the maps are created (the first
// attach, or after the pins are lost): a BPF map cannot be resized in place.
struct MapSizes {
    std::uint32_t max_mappings = 0;  // fwd_svc4, fwd_ports, and fwd_stats (indexed by mapping id)
    std::uint32_t max_flows = 0;     // fwd_ct4 (LRU: a full table evicts its oldest flows)

    // Mapping ids run 1..max_mapping_id(): they index fwd_stats, whose slot 0 is never used.
    [[nodiscard]] std::uint32_t max_mapping_id() const { return max_mappings - 1; }
    bool operator==(const MapSizes&) const = default;
};

// An inclusive range of legal map sizes.
struct SizeBounds {
    std::uint32_t min = 0;
    std::uint32_t max = 0;

    [[nodiscard]] bool contains(std::uint64_t size) const { return size >= min && size <= max; }
};

// From the ABI header: the sizes used unless attach asks for others, and the legal bounds.
[[nodiscard]] MapSizes default_map_sizes();
[[nodiscard]] SizeBounds max_mappings_bounds();
[[nodiscard]] SizeBounds max_flows_bounds();

// How load() sizes the maps. A map it creates gets `sizes`; a pinned map keeps its own size.
// A size asked for explicitly (attach --max-mappings/--max-flows) must match the pinned maps.
struct LoadOptions {
    MapSizes sizes = default_map_sizes();
    bool max_mappings_explicit = false;
    bool max_flows_explicit = false;
};

struct MappingCounters {
    std::uint64_t packets_in = 0;  // client -> container
    std::uint64_t bytes_in = 0;
    std::uint64_t packets_out = 0;  // container -> client
    std::uint64_t bytes_out = 0;
    std::uint64_t new_flows = 0;
};

struct GlobalCounter {
    std::string name;  // e.g. "pass_fragment", "nat_in"
    std::uint64_t value = 0;
};

struct MapFill {
    std::string name;
    std::uint32_t entries = 0;
    std::uint32_t max_entries = 0;
};

// How fwd runs on an interface: the TC programs alone, or with the XDP program in front
// translating tracked flows (`attach --mode xdp`).
enum class AttachMode { Tc, Xdp };

// Where an XDP program runs: in the driver (native) or on the skb (generic).
enum class XdpMode { None, Native, Generic };

[[nodiscard]] const char* to_string(AttachMode mode);
[[nodiscard]] const char* to_string(XdpMode mode);

// fwd's programs on one interface. Program ids are 0 where nothing of fwd is attached.
struct InterfaceAttachment {
    std::string ifname;
    std::uint32_t ingress_prog_id = 0;
    std::uint32_t egress_prog_id = 0;
    std::uint32_t xdp_prog_id = 0;
    XdpMode xdp_mode = XdpMode::None;
    bool created_clsact = false;  // fwd created the clsact qdisc, so detach may remove it

    [[nodiscard]] bool attached() const { return ingress_prog_id != 0 && egress_prog_id != 0; }
};

// fwd's socket programs on one cgroup. Program ids are 0 where a hook is not attached.
struct CgroupAttachment {
    std::string path;
    std::vector<std::pair<std::string, std::uint32_t>> programs;  // hook name, program id

    [[nodiscard]] bool attached() const {
        return !programs.empty() &&
               std::all_of(programs.begin(), programs.end(), [](const auto& p) { return p.second != 0; });
    }
};

// What the running kernel offers, probed at load.
struct KernelFeatures {
    bool set_retval = false;  // bpf_set_retval (5.18): a refused bind is EADDRINUSE, else EPERM
    bool batch_ops = false;   // map batch operations (5.6)
};

// One command's map edits, applied all or nothing: removals first, then upserts.
struct MappingChange {
    std::vector<Mapping> remove;
    std::vector<Mapping> upsert;

    [[nodiscard]] bool empty() const { return remove.empty() && upsert.empty(); }
};

class Datapath {
public:
    virtual ~Datapath() = default;

    // True when the pinned maps exist, i.e. `attach` ran at least once.
    [[nodiscard]] virtual bool is_loaded() = 0;
    // Loads the programs, creating the pinned maps or reusing compatible ones; returns the
    // sizes of the maps in use.
    [[nodiscard]] virtual Result<MapSizes> load(const LoadOptions& options) = 0;
    // The sizes of the pinned maps; needs is_loaded().
    [[nodiscard]] virtual Result<MapSizes> map_sizes() = 0;
    // Turns the redirect fast path on or off for every interface (a map flag); needs load().
    [[nodiscard]] virtual Result<void> set_fast_path(bool enabled) = 0;
    // Attaches (or atomically replaces) fwd's programs on an interface; needs load(). In Tc
    // mode an XDP program of fwd's left from an earlier --mode xdp is removed.
    [[nodiscard]] virtual Result<InterfaceAttachment> attach(const std::string& ifname,
                                                             AttachMode mode) = 0;
    // Removes fwd's programs (TC and XDP), and the clsact qdisc too when fwd created it.
    [[nodiscard]] virtual Result<void> detach(const std::string& ifname, bool remove_clsact) = 0;
    [[nodiscard]] virtual Result<InterfaceAttachment> query(const std::string& ifname) = 0;

    // Attaches (or atomically replaces, through pinned links) the socket programs on a
    // cgroup v2 directory; needs load().
    [[nodiscard]] virtual Result<CgroupAttachment> attach_cgroup(const std::string& path) = 0;
    [[nodiscard]] virtual Result<void> detach_cgroup(const std::string& path) = 0;
    [[nodiscard]] virtual Result<CgroupAttachment> query_cgroup(const std::string& path) = 0;
    // Re-reads the host's IPv4 addresses (this namespace) into the socket hooks' map.
    [[nodiscard]] virtual Result<void> refresh_local_addresses() = 0;
    [[nodiscard]] virtual KernelFeatures features() = 0;

    // Map edits; a removed or retargeted mapping's conntrack entries are flushed.
    [[nodiscard]] virtual Result<void> apply(const MappingChange& change) = 0;
    // The mappings in the service map (names are not stored in the kernel).
    [[nodiscard]] virtual Result<std::vector<Mapping>> read_mappings() = 0;
    [[nodiscard]] virtual Result<MappingCounters> counters(std::uint32_t mapping_id) = 0;
    [[nodiscard]] virtual Result<std::vector<GlobalCounter>> global_counters() = 0;
    [[nodiscard]] virtual Result<std::vector<MapFill>> map_fill() = 0;
    [[nodiscard]] virtual std::vector<std::uint32_t> program_ids() = 0;  // loaded by this process
};

// The real data plane over libbpf, with maps pinned under pin_dir.
[[nodiscard]] std::unique_ptr<Datapath> make_kernel_datapath(std::string pin_dir);

// The cgroup v2 mount point from /proc/mounts (the default cgroup for the socket programs).
[[nodiscard]] Result<std::string> cgroup2_root();

}  // namespace fwd::loader
