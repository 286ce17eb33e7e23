// The real Datapath: the fwd_tc skeleton, its pinned maps and tc attachments.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fmt/format.h>
#include <fwd_abi.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <iterator>
#include <cstdarg>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string_view>
#include <tuple>

#include "abi_convert.h"
#include "bpf_error.h"
#include "fwd/loader/datapath.h"
#include "fwd/log.h"
#include "cgroup_attachment.h"
#include "family_maps.h"
#include "fwd_sock.skel.h"
#include "fwd_tc.skel.h"
#include "fwd_xdp.skel.h"
#include "local_addresses.h"
#include "pinned_map.h"
#include "tc_attachment.h"
#include "xdp_attachment.h"

namespace fwd::loader {
namespace {

namespace fs = std::filesystem;

constexpr const char* kSvc4 = FWD_STRINGIFY(FWD_MAP_SVC4);
constexpr const char* kCt4 = FWD_STRINGIFY(FWD_MAP_CT4);
constexpr const char* kStats = FWD_STRINGIFY(FWD_MAP_STATS);
constexpr const char* kCounters = FWD_STRINGIFY(FWD_MAP_COUNTERS);
constexpr const char* kConfig = FWD_STRINGIFY(FWD_MAP_CONFIG);
constexpr const char* kLocal4 = FWD_STRINGIFY(FWD_MAP_LOCAL4);
constexpr const char* kPorts = FWD_STRINGIFY(FWD_MAP_PORTS);
constexpr const char* kLocal6 = FWD_STRINGIFY(FWD_MAP_LOCAL6);
constexpr const char* kSvc6 = FWD_STRINGIFY(FWD_MAP_SVC6);
constexpr const char* kCt6 = FWD_STRINGIFY(FWD_MAP_CT6);
constexpr const char* kLinkDir = "links";
constexpr const char* kBpffsRoot = "/sys/fs/bpf";

// The maps whose size attach chooses (--max-mappings, --max-flows), and which size each takes.
enum class SizedBy { Mappings, Flows };
struct SizedMap {
    const char* name;
    SizedBy by;
};
constexpr std::array<SizedMap, 6> kSizedMaps = {
    {{kSvc4, SizedBy::Mappings}, {kSvc6, SizedBy::Mappings}, {kStats, SizedBy::Mappings},
     {kPorts, SizedBy::Mappings}, {kCt4, SizedBy::Flows}, {kCt6, SizedBy::Flows}}};

std::uint32_t& size_of(MapSizes& sizes, SizedBy by) {
    return by == SizedBy::Mappings ? sizes.max_mappings : sizes.max_flows;
}

const char* size_option(SizedBy by) {
    return by == SizedBy::Mappings ? "--max-mappings" : "--max-flows";
}

const SizedMap* find_sized_map(const char* name) {
    for (const auto& sized : kSizedMaps)
        if (std::string_view(sized.name) == name) return &sized;
    return nullptr;
}

// A pinned map cannot be resized in place: say which map, both sizes, and how to resize.
Error resize_error(const SizedMap& map, std::uint32_t has, std::uint32_t asked,
                   const std::string& pin_dir) {
    return make_error(ErrorCode::Incompatible,
                      fmt::format("pinned map {} has {} entries, {} asks for {}: sizes are fixed "
                                  "when the maps are created; to resize, run `fwdctl detach "
                                  "--all`, remove the pin dir {} and attach again",
                                  map.name, has, size_option(map.by), asked, pin_dir));
}

// Two pins of one size (fwd_svc4 and fwd_stats, say) that differ: not made by one attach.
Error sizes_disagree_error(const std::string& first, std::uint32_t first_size, const SizedMap& map,
                           std::uint32_t has, const std::string& pin_dir) {
    return make_error(ErrorCode::Incompatible,
                      fmt::format("pinned maps {} ({} entries) and {} ({} entries) disagree; run "
                                  "`fwdctl detach --all` and remove the pin dir {} to recreate "
                                  "them",
                                  first, first_size, map.name, has, pin_dir));
}

using SkeletonPtr = std::unique_ptr<fwd_tc, decltype(&fwd_tc__destroy)>;
using SockSkeletonPtr = std::unique_ptr<fwd_sock, decltype(&fwd_sock__destroy)>;
using XdpSkeletonPtr = std::unique_ptr<fwd_xdp, decltype(&fwd_xdp__destroy)>;
using Local4Map = PinnedMap<fwd_local4_key, __u32>;
using PortsMap = PinnedMap<fwd_port_key, __u32>;
using Local6Map = PinnedMap<fwd_local6_key, __u32>;

const std::vector<std::string>& cgroup_hook_names() {
    static const std::vector<std::string> names = {
        "connect4", "sendmsg4", "recvmsg4", "getpeername4", "bind4",
        "connect6", "sendmsg6", "recvmsg6", "getpeername6", "bind6"};
    return names;
}

bool probe_set_retval() {
    return libbpf_probe_bpf_helper(BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_FUNC_set_retval, nullptr) == 1;
}

// Batch map operations exist when a batch lookup on an empty map answers ENOENT.
bool probe_batch_ops() {
    UniqueFd map(bpf_map_create(BPF_MAP_TYPE_HASH, "fwd_probe", 4, 4, 1, nullptr));
    if (!map.valid()) return false;
    __u32 keys[1];
    __u32 values[1];
    __u32 count = 1;
    __u32 out_batch = 0;
    const int ret = bpf_map_lookup_batch(map.get(), nullptr, &out_batch, keys, values, &count, nullptr);
    return ret == 0 || errno == ENOENT;
}
using Svc4Map = PinnedMap<fwd_svc4_key, fwd_svc4_value>;
using Ct4Map = PinnedMap<fwd_ct4_key, fwd_ct4_value>;

// libbpf's last warning, so a failed load can say why (the one line the user sees).
std::string& last_libbpf_warning() {
    static std::string warning;
    return warning;
}

int libbpf_print(enum libbpf_print_level level, const char* format, va_list args) {
    if (level == LIBBPF_DEBUG && log::level() < log::Level::LibbpfDebug) return 0;
    char line[1024];
    const int n = std::vsnprintf(line, sizeof(line), format, args);
    if (n <= 0) return 0;
    std::string text(line);
    while (!text.empty() && text.back() == '\n') text.pop_back();
    if (level == LIBBPF_WARN) last_libbpf_warning() = text;
    if (log::level() >= log::Level::Debug) log::debug("libbpf: " + text);
    return 0;
}

Error load_error(int ret, const std::string& what) {
    Error error = libbpf_error(ret, what);
    if (!last_libbpf_warning().empty()) error.message += " (libbpf: " + last_libbpf_warning() + ")";
    return error;
}

bool is_bpffs(const fs::path& path) {
    struct statfs info {};
    return ::statfs(path.c_str(), &info) == 0 &&
           static_cast<unsigned long>(info.f_type) == BPF_FS_MAGIC;
}

// The pin dir must live on a bpf filesystem. The default root is mounted when it
// is not (as systemd does at boot); any other location must already be bpffs.
Result<void> ensure_pin_dir(const fs::path& pin_dir) {
    fs::path existing = pin_dir;
    std::error_code ec;
    while (!existing.empty() && !fs::exists(existing, ec)) existing = existing.parent_path();
    if (!existing.empty() && !fs::is_directory(existing, ec)) {
        const std::string where = existing == pin_dir ? "" : ": " + existing.string();
        return make_error(ErrorCode::Incompatible,
                          "pin dir " + pin_dir.string() + where + " is not a directory");
    }
    if (!is_bpffs(existing)) {
        if (existing != fs::path(kBpffsRoot) || !pin_dir.string().starts_with(kBpffsRoot))
            return make_error(ErrorCode::Incompatible,
                              "pin dir " + pin_dir.string() + " is not on a bpf filesystem");
        if (::mount("bpf", kBpffsRoot, "bpf", 0, "mode=0700") != 0)
            return errno_error(std::string("mount bpffs at ") + kBpffsRoot);
    }
    const bool created = fs::create_directories(pin_dir, ec);
    if (ec) return make_error(ErrorCode::Kernel, "create pin dir " + pin_dir.string() + ": " +
                                                     ec.message(), ec.value());
    // Root only, like the pins in it (the kernel pins objects 0600).
    if (created) fs::permissions(pin_dir, fs::perms::owner_all, fs::perm_options::replace, ec);
    return {};
}

class KernelDatapath final : public Datapath {
public:
    explicit KernelDatapath(std::string pin_dir) : pin_dir_(std::move(pin_dir)) {
        libbpf_set_print(libbpf_print);
    }

    bool is_loaded() override {
        std::error_code ec;
        return fs::exists(fs::path(pin_dir_) / kSvc4, ec);
    }

    Result<MapSizes> load(const LoadOptions& options) override {
        if (auto ok = ensure_pin_dir(pin_dir_); !ok) return ok.error();
        auto skel = open_skeleton();
        if (!skel) return skel.error();
        auto sock = open_sock_skeleton();
        if (!sock) return sock.error();
        auto xdp = open_xdp_skeleton();
        if (!xdp) return xdp.error();
        for (bpf_object* obj : {(*skel)->obj, (*sock)->obj, (*xdp)->obj})
            if (auto ok = check_pins_compatible(obj); !ok) return ok.error();
        if (auto ok = check_abi_version(); !ok) return ok.error();
        auto sizes = resolve_sizes(options);
        if (!sizes) return sizes.error();
        // The three objects share the pinned maps, so each gets the same sizes.
        for (bpf_object* obj : {(*skel)->obj, (*sock)->obj, (*xdp)->obj})
            if (auto ok = set_map_sizes(obj, *sizes); !ok) return ok.error();
        (*sock)->rodata->use_set_retval = features().set_retval ? 1 : 0;
        last_libbpf_warning().clear();
        int ret = fwd_tc__load(skel->get());
        if (ret != 0) return load_error(ret, "load TC programs");
        ret = fwd_sock__load(sock->get());
        if (ret != 0) return load_error(ret, "load socket programs");
        ret = fwd_xdp__load(xdp->get());
        if (ret != 0) return load_error(ret, "load XDP program");
        if (auto ok = write_config(skel->get()); !ok) return ok.error();
        skeleton_ = std::move(*skel);
        sock_skeleton_ = std::move(*sock);
        xdp_skeleton_ = std::move(*xdp);
        return sizes;
    }

    Result<MapSizes> map_sizes() override;

    Result<void> set_fast_path(bool enabled) override {
        if (!skeleton_) return make_error(ErrorCode::Kernel, "programs are not loaded");
        const int fd = bpf_map__fd(skeleton_->maps.fwd_config);
        const __u32 key = 0;
        fwd_config config{};
        if (bpf_map_lookup_elem(fd, &key, &config) != 0) return errno_error("map fwd_config: lookup");
        config.flags = enabled ? (config.flags & ~FWD_CONFIG_NO_FAST_PATH)
                               : (config.flags | FWD_CONFIG_NO_FAST_PATH);
        if (bpf_map_update_elem(fd, &key, &config, BPF_ANY) != 0)
            return errno_error("map fwd_config: update");
        return {};
    }

    Result<CgroupAttachment> attach_cgroup(const std::string& path) override {
        if (!sock_skeleton_) return make_error(ErrorCode::Kernel, "programs are not loaded");
        auto& progs = sock_skeleton_->progs;
        const std::vector<CgroupHook> hooks = {
            {"connect4", progs.fwd_connect4},       {"sendmsg4", progs.fwd_sendmsg4},
            {"recvmsg4", progs.fwd_recvmsg4},       {"getpeername4", progs.fwd_getpeername4},
            {"bind4", progs.fwd_bind4},
            {"connect6", progs.fwd_connect6},       {"sendmsg6", progs.fwd_sendmsg6},
            {"recvmsg6", progs.fwd_recvmsg6},       {"getpeername6", progs.fwd_getpeername6},
            {"bind6", progs.fwd_bind6}};
        if (auto ok = cgroup_attach(path, link_dir(), hooks); !ok) return ok.error();
        return query_cgroup(path);
    }

    Result<void> detach_cgroup(const std::string& path) override {
        return cgroup_detach(path, link_dir(), cgroup_hook_names());
    }

    Result<CgroupAttachment> query_cgroup(const std::string& path) override {
        auto programs = cgroup_query(path, link_dir(), cgroup_hook_names());
        if (!programs) return programs.error();
        return CgroupAttachment{path, *programs};
    }

    Result<void> refresh_local_addresses() override;

    KernelFeatures features() override {
        if (!features_probed_) {
            features_ = KernelFeatures{probe_set_retval(), probe_batch_ops()};
            features_probed_ = true;
        }
        return features_;
    }

    Result<InterfaceAttachment> attach(const std::string& ifname, AttachMode mode) override {
        if (!skeleton_ || !xdp_skeleton_)
            return make_error(ErrorCode::Kernel, "programs are not loaded");
        auto ifindex = interface_index(ifname);
        if (!ifindex) return ifindex.error();
        auto before = xdp_query(*ifindex);
        if (!before) return on_interface(ifname, before.error());
        // XDP first: a refusal (another program there) leaves the interface untouched.
        if (mode == AttachMode::Xdp) {
            auto xdp = xdp_attach(*ifindex, bpf_program__fd(xdp_skeleton_->progs.fwd_xdp_ingress));
            if (!xdp) return on_interface(ifname, xdp.error());
        }
        const TcPrograms programs{bpf_program__fd(skeleton_->progs.fwd_tc_ingress),
                                  bpf_program__fd(skeleton_->progs.fwd_tc_egress)};
        auto created = tc_attach(*ifindex, programs);
        if (!created) {
            if (mode == AttachMode::Xdp && before->prog_id == 0) (void)xdp_detach(*ifindex);
            return on_interface(ifname, created.error());
        }
        if (mode == AttachMode::Tc)
            if (auto ok = xdp_detach(*ifindex); !ok) return on_interface(ifname, ok.error());
        auto state = query(ifname);
        if (!state) return state.error();
        state->created_clsact = *created;
        return state;
    }

    Result<void> detach(const std::string& ifname, bool remove_clsact) override {
        auto ifindex = interface_index(ifname);
        if (!ifindex) return {};  // the interface is gone, and fwd's programs with it
        if (auto ok = xdp_detach(*ifindex); !ok) return on_interface(ifname, ok.error());
        if (auto ok = tc_detach(*ifindex, remove_clsact); !ok) return on_interface(ifname, ok.error());
        return {};
    }

    Result<InterfaceAttachment> query(const std::string& ifname) override {
        InterfaceAttachment result;
        result.ifname = ifname;
        auto ifindex = interface_index(ifname);
        if (!ifindex) return result;
        auto state = tc_query(*ifindex);
        if (!state) return state.error();
        auto xdp = xdp_query(*ifindex);
        if (!xdp) return on_interface(ifname, xdp.error());
        result.ingress_prog_id = state->ingress_prog_id;
        result.egress_prog_id = state->egress_prog_id;
        result.xdp_prog_id = xdp->prog_id;
        result.xdp_mode = xdp->mode;
        return result;
    }

    Result<void> apply(const MappingChange& change) override;
    Result<std::vector<Mapping>> read_mappings() override;
    Result<MappingCounters> counters(std::uint32_t mapping_id) override;
    Result<std::vector<GlobalCounter>> global_counters() override;
    Result<std::vector<MapFill>> map_fill() override;
    Result<void> sync_ports(const PublishedPorts& published, const MappingChange& change);

    std::vector<std::uint32_t> program_ids() override {
        std::vector<std::uint32_t> ids;
        if (!skeleton_) return ids;
        for (auto* prog : {skeleton_->progs.fwd_tc_ingress, skeleton_->progs.fwd_tc_egress,
                           xdp_skeleton_->progs.fwd_xdp_ingress}) {
            bpf_prog_info info{};
            __u32 len = sizeof(info);
            if (bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len) == 0)
                ids.push_back(info.id);
        }
        return ids;
    }

private:
    Result<SkeletonPtr> open_skeleton() {
        LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = pin_dir_.c_str());
        SkeletonPtr skel(fwd_tc__open_opts(&opts), &fwd_tc__destroy);
        if (!skel) return errno_error("open BPF skeleton");
        return skel;
    }

    Result<SockSkeletonPtr> open_sock_skeleton() {
        LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = pin_dir_.c_str());
        SockSkeletonPtr skel(fwd_sock__open_opts(&opts), &fwd_sock__destroy);
        if (!skel) return errno_error("open BPF socket skeleton");
        return skel;
    }

    Result<XdpSkeletonPtr> open_xdp_skeleton() {
        LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = pin_dir_.c_str());
        XdpSkeletonPtr skel(fwd_xdp__open_opts(&opts), &fwd_xdp__destroy);
        if (!skel) return errno_error("open BPF XDP skeleton");
        return skel;
    }

    static Error on_interface(const std::string& ifname, const Error& error) {
        return make_error(error.code, ifname + ": " + error.message, error.err_no);
    }

    [[nodiscard]] std::string link_dir() const { return pin_dir_ + "/" + kLinkDir; }

    // libbpf would refuse a mismatching pin with a generic error; say exactly what differs.
    // A sized map may have any size here: resolve_sizes() decides which one it keeps.
    static Result<void> check_pins_compatible(bpf_object* obj) {
        bpf_map* map = nullptr;
        bpf_object__for_each_map(map, obj) {
            const char* pin_path = bpf_map__pin_path(map);  // NULL for .rodata and the like
            std::error_code ec;
            if (pin_path == nullptr || !fs::exists(pin_path, ec)) continue;
            const std::string pin = pin_path;
            const bool sized = find_sized_map(bpf_map__name(map)) != nullptr;
            auto fd = open_pinned_map(
                pin, MapShape{bpf_map__type(map), bpf_map__key_size(map), bpf_map__value_size(map),
                              sized ? 0 : bpf_map__max_entries(map)});
            if (!fd) return fd.error();
        }
        return {};
    }

    // The sizes the maps will have. A pinned map keeps its size: the pins of one size must
    // agree, and must have a size asked for explicitly. A size no pin fixes comes from options.
    [[nodiscard]] Result<MapSizes> resolve_sizes(const LoadOptions& options) const {
        MapSizes sizes = options.sizes;
        std::map<SizedBy, std::pair<std::string, std::uint32_t>> fixed_by;  // first pin of each
        for (const auto& sized : kSizedMaps) {
            auto pinned = pinned_size(sized.name);
            if (!pinned) return pinned.error();
            if (!*pinned) continue;
            const std::uint32_t has = **pinned;
            if (auto it = fixed_by.find(sized.by); it != fixed_by.end() && it->second.second != has)
                return sizes_disagree_error(it->second.first, it->second.second, sized, has,
                                            pin_dir_);
            const bool asked = sized.by == SizedBy::Mappings ? options.max_mappings_explicit
                                                             : options.max_flows_explicit;
            if (asked && has != size_of(sizes, sized.by))
                return resize_error(sized, has, size_of(sizes, sized.by), pin_dir_);
            fixed_by.emplace(sized.by, std::pair{std::string(sized.name), has});
            size_of(sizes, sized.by) = has;
        }
        return sizes;
    }

    // A pinned map's max_entries, or nullopt when it has no pin.
    [[nodiscard]] Result<std::optional<std::uint32_t>> pinned_size(const char* name) const {
        const std::string path = pin_dir_ + "/" + name;
        std::error_code ec;
        if (!fs::exists(path, ec)) return std::optional<std::uint32_t>{};
        UniqueFd fd(bpf_obj_get(path.c_str()));
        if (!fd.valid()) return errno_error("open pinned map " + path);
        auto shape = map_shape(fd.get(), path);
        if (!shape) return shape.error();
        return std::optional<std::uint32_t>{shape->max_entries};
    }

    // Sizes an opened (not yet loaded) object's sized maps: a map the load creates gets the
    // size, and a pinned one passes libbpf's reuse check, which compares max_entries.
    static Result<void> set_map_sizes(bpf_object* obj, MapSizes sizes) {
        for (const auto& sized : kSizedMaps) {
            bpf_map* map = bpf_object__find_map_by_name(obj, sized.name);
            if (map == nullptr) continue;  // maps.h declares every map, but be exact
            if (const int ret = bpf_map__set_max_entries(map, size_of(sizes, sized.by)); ret != 0)
                return libbpf_error(ret, std::string("map ") + sized.name + ": set max_entries");
        }
        return {};
    }

    Result<void> check_abi_version() {
        std::error_code ec;
        if (!fs::exists(fs::path(pin_dir_) / kConfig, ec)) return {};
        auto config = PinnedMap<__u32, fwd_config>::open(pin_dir_, kConfig, BPF_MAP_TYPE_ARRAY);
        // An older layout (other value size) is reported by check_pins_compatible.
        if (!config) return config.error();
        auto value = config->lookup(0);
        if (!value) return value.error();
        if (value->abi_version != 0 && value->abi_version != FWD_ABI_VERSION)
            return make_error(ErrorCode::Incompatible,
                              fmt::format("maps in {} have ABI version {}, this build needs {}; "
                                          "detach and remove the pin dir to upgrade",
                                          pin_dir_, value->abi_version, FWD_ABI_VERSION));
        return {};
    }

    // The ABI version, and the namespace the socket programs treat as the host. The flags
    // (set_fast_path) are kept.
    Result<void> write_config(fwd_tc* skel) {
        auto cookie = current_netns_cookie();
        if (!cookie) return cookie.error();
        const int fd = bpf_map__fd(skel->maps.fwd_config);
        const __u32 key = 0;
        fwd_config config{};
        if (bpf_map_lookup_elem(fd, &key, &config) != 0) return errno_error("map fwd_config: lookup");
        config.abi_version = FWD_ABI_VERSION;
        config.host_netns_cookie = *cookie;
        if (bpf_map_update_elem(fd, &key, &config, BPF_ANY) != 0)
            return errno_error("map fwd_config: update");
        return {};
    }

    std::string pin_dir_;
    SkeletonPtr skeleton_{nullptr, &fwd_tc__destroy};
    SockSkeletonPtr sock_skeleton_{nullptr, &fwd_sock__destroy};
    XdpSkeletonPtr xdp_skeleton_{nullptr, &fwd_xdp__destroy};
    KernelFeatures features_;
    bool features_probed_ = false;
};

// Each family's maps take their part of the change; fwd_ports then counts both families.
Result<void> KernelDatapath::apply(const MappingChange& change) {
    auto stats = PerCpuArray<fwd_mapping_stats>::open(pin_dir_, kStats, BPF_MAP_TYPE_PERCPU_ARRAY);
    if (!stats) return stats.error();
    auto maps4 = FamilyMaps<Maps4>::open(pin_dir_);
    if (!maps4) return maps4.error();
    auto maps6 = FamilyMaps<Maps6>::open(pin_dir_);
    if (!maps6) return maps6.error();
    PublishedPorts published;
    if (auto ok = maps4->apply(change_of_family(change, Family::V4), *stats, published); !ok)
        return ok;
    if (auto ok = maps6->apply(change_of_family(change, Family::V6), *stats, published); !ok)
        return ok;
    return sync_ports(published, change);
}

// fwd_ports holds every (port, proto) some mapping publishes: recount the changed ones.
Result<void> KernelDatapath::sync_ports(const PublishedPorts& published, const MappingChange& change) {
    auto ports = PortsMap::open(pin_dir_, kPorts, BPF_MAP_TYPE_HASH);
    if (!ports) return ports.error();
    std::vector<fwd_port_key> set;
    std::vector<fwd_port_key> cleared;
    for (const auto* list : {&change.remove, &change.upsert}) {
        for (const auto& mapping : *list) {
            const auto key = make_port_key(mapping);
            (published.count({key.port, key.proto}) ? set : cleared).push_back(key);
        }
    }
    if (auto ok = ports->update_all(set, std::vector<__u32>(set.size(), 1)); !ok) return ok;
    return ports->erase_all(cleared);
}

namespace {

// Makes a fwd_local map hold exactly `wanted`.
template <typename Key>
Result<void> sync_local_map(PinnedMap<Key, __u32>& local, const std::vector<Key>& wanted) {
    const std::set<Key, RawLess<Key>> keep(wanted.begin(), wanted.end());
    auto present = local.keys();
    if (!present) return present.error();
    for (const auto& key : *present)
        if (keep.count(key) == 0)
            if (auto ok = local.erase(key); !ok) return ok;
    for (const auto& key : keep)
        if (auto ok = local.update(key, 1); !ok) return ok;
    return {};
}

}  // namespace

Result<void> KernelDatapath::refresh_local_addresses() {
    auto addresses = local_addresses();
    if (!addresses) return addresses.error();
    auto local4 = Local4Map::open(pin_dir_, kLocal4, BPF_MAP_TYPE_HASH);
    if (!local4) return local4.error();
    auto local6 = Local6Map::open(pin_dir_, kLocal6, BPF_MAP_TYPE_HASH);
    if (!local6) return local6.error();
    std::vector<fwd_local4_key> keys4;
    std::vector<fwd_local6_key> keys6;
    for (const auto& addr : *addresses) {
        if (addr.is_v4())
            keys4.push_back(make_local4_key(addr.v4()));
        else
            keys6.push_back(make_local6_key(addr.v6()));
    }
    if (auto ok = sync_local_map(*local4, keys4); !ok) return ok;
    return sync_local_map(*local6, keys6);
}

Result<std::vector<Mapping>> KernelDatapath::read_mappings() {
    auto maps4 = FamilyMaps<Maps4>::open(pin_dir_);
    if (!maps4) return maps4.error();
    auto maps6 = FamilyMaps<Maps6>::open(pin_dir_);
    if (!maps6) return maps6.error();
    auto mappings = maps4->read_mappings();
    if (!mappings) return mappings.error();
    auto mappings6 = maps6->read_mappings();
    if (!mappings6) return mappings6.error();
    mappings->insert(mappings->end(), mappings6->begin(), mappings6->end());
    return mappings;
}

Result<MappingCounters> KernelDatapath::counters(std::uint32_t mapping_id) {
    auto stats = PerCpuArray<fwd_mapping_stats>::open(pin_dir_, kStats, BPF_MAP_TYPE_PERCPU_ARRAY);
    if (!stats) return stats.error();
    auto per_cpu = stats->lookup(mapping_id);
    if (!per_cpu) return per_cpu.error();
    return sum_counters(per_cpu->data(), per_cpu->size());
}

Result<std::vector<GlobalCounter>> KernelDatapath::global_counters() {
    struct Slot {
        __u64 value;
    };
    auto counters = PerCpuArray<Slot>::open(pin_dir_, kCounters, BPF_MAP_TYPE_PERCPU_ARRAY);
    if (!counters) return counters.error();
    std::vector<GlobalCounter> result;
    for (std::uint32_t id = 0; id < FWD_CNT_MAX; ++id) {
        auto per_cpu = counters->lookup(id);
        if (!per_cpu) return per_cpu.error();
        std::uint64_t total = 0;
        for (const auto& slot : *per_cpu) total += slot.value;
        result.push_back({counter_name(id), total});
    }
    return result;
}

Result<MapSizes> KernelDatapath::map_sizes() {
    auto svc = Svc4Map::open(pin_dir_, kSvc4, BPF_MAP_TYPE_HASH);
    if (!svc) return svc.error();
    auto ct = Ct4Map::open(pin_dir_, kCt4, BPF_MAP_TYPE_LRU_HASH);
    if (!ct) return ct.error();
    auto mappings = map_shape(svc->fd(), kSvc4);
    if (!mappings) return mappings.error();
    auto flows = map_shape(ct->fd(), kCt4);
    if (!flows) return flows.error();
    return MapSizes{mappings->max_entries, flows->max_entries};
}

// Service and conntrack fill of both families.
Result<std::vector<MapFill>> KernelDatapath::map_fill() {
    auto maps4 = FamilyMaps<Maps4>::open(pin_dir_);
    if (!maps4) return maps4.error();
    auto maps6 = FamilyMaps<Maps6>::open(pin_dir_);
    if (!maps6) return maps6.error();
    std::vector<MapFill> fill;
    auto add = [&fill](const auto& map) -> Result<void> {
        auto shape = map_shape(map.fd(), map.name());
        if (!shape) return shape.error();
        auto entries = map.entries();
        if (!entries) return entries.error();
        fill.push_back({map.name(), static_cast<std::uint32_t>(entries->size()), shape->max_entries});
        return {};
    };
    for (const auto& ok : {add(maps4->services()), add(maps4->conntrack()), add(maps6->services()),
                    add(maps6->conntrack())})
        if (!ok) return ok.error();
    return fill;
}

}  // namespace

std::unique_ptr<Datapath> make_kernel_datapath(std::string pin_dir) {
    return std::make_unique<KernelDatapath>(std::move(pin_dir));
}

}  // namespace fwd::loader
