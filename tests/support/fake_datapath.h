// An in-memory Datapath for ctl unit tests: no kernel, no root. It records what
// was applied and can be told to fail, to check all-or-nothing behaviour.
#pragma once

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "fwd/loader/datapath.h"
#include "fwd/loader/host_sockets.h"

namespace fwd::test {

class FakeDatapath final : public loader::Datapath {
public:
    bool loaded = false;
    std::vector<Mapping> mappings;  // the "service map"
    std::map<std::string, loader::InterfaceAttachment> attached;
    std::set<std::string> existing_interfaces{"eth0", "br0"};
    std::optional<Error> fail_apply;            // next apply() fails with this
    std::optional<std::string> fail_attach_on;  // attach() of this interface fails
    int apply_calls = 0;
    std::optional<bool> fast_path;  // last set_fast_path()

    loader::MapSizes sizes = loader::default_map_sizes();  // the "pinned" maps' sizes, once loaded
    std::optional<loader::LoadOptions> last_load;

    bool is_loaded() override { return loaded; }
    // Like the kernel data path: new maps get the asked sizes, pinned ones keep theirs and
    // refuse an explicit request for another size.
    Result<loader::MapSizes> load(const loader::LoadOptions& options) override {
        last_load = options;
        if (!loaded) {
            loaded = true;
            sizes = options.sizes;
            return sizes;
        }
        if ((options.max_mappings_explicit && options.sizes.max_mappings != sizes.max_mappings) ||
            (options.max_flows_explicit && options.sizes.max_flows != sizes.max_flows))
            return make_error(ErrorCode::Incompatible, "pinned maps have other sizes");
        return sizes;
    }
    Result<loader::MapSizes> map_sizes() override { return sizes; }
    Result<void> set_fast_path(bool enabled) override {
        fast_path = enabled;
        return {};
    }
    Result<loader::InterfaceAttachment> attach(const std::string& ifname,
                                               loader::AttachMode mode) override {
        if (existing_interfaces.count(ifname) == 0 || fail_attach_on == ifname)
            return make_error(ErrorCode::NotFound, "no such interface: " + ifname);
        const bool created = attached.count(ifname) == 0;
        loader::InterfaceAttachment attachment{ifname, 10, 11, 0, loader::XdpMode::None, created};
        if (mode == loader::AttachMode::Xdp) {
            attachment.xdp_prog_id = 12;
            attachment.xdp_mode = loader::XdpMode::Native;
        }
        attached[ifname] = attachment;
        return attachment;
    }
    Result<void> detach(const std::string& ifname, bool) override {
        attached.erase(ifname);
        return {};
    }
    Result<loader::InterfaceAttachment> query(const std::string& ifname) override {
        auto it = attached.find(ifname);
        if (it == attached.end()) return loader::InterfaceAttachment{ifname};
        return it->second;
    }
    std::set<std::string> cgroups;
    int address_refreshes = 0;

    Result<loader::CgroupAttachment> attach_cgroup(const std::string& path) override {
        if (path.empty() || path[0] != '/') return make_error(ErrorCode::NotFound, "cgroup " + path);
        cgroups.insert(path);
        return query_cgroup(path).value();
    }
    Result<void> detach_cgroup(const std::string& path) override {
        cgroups.erase(path);
        return {};
    }
    Result<loader::CgroupAttachment> query_cgroup(const std::string& path) override {
        const std::uint32_t id = cgroups.count(path) ? 20 : 0;
        return loader::CgroupAttachment{path, {{"connect4", id}, {"bind4", id}}};
    }
    Result<void> refresh_local_addresses() override {
        ++address_refreshes;
        return {};
    }
    loader::KernelFeatures features() override { return {true, true}; }

    Result<void> apply(const loader::MappingChange& change) override {
        ++apply_calls;
        if (fail_apply) {
            auto error = *fail_apply;
            fail_apply.reset();
            return error;
        }
        for (const auto& removed : change.remove)
            std::erase_if(mappings, [&](const Mapping& m) { return m.same_key(removed); });
        for (const auto& upserted : change.upsert) {
            std::erase_if(mappings, [&](const Mapping& m) { return m.same_key(upserted); });
            Mapping stored = upserted;
            stored.name.clear();  // the kernel keeps no names
            mappings.push_back(stored);
        }
        return {};
    }
    Result<std::vector<Mapping>> read_mappings() override { return mappings; }
    Result<loader::MappingCounters> counters(std::uint32_t id) override {
        return loader::MappingCounters{id, id * 100ULL, 0, 0, 1};
    }
    Result<std::vector<loader::GlobalCounter>> global_counters() override {
        return std::vector<loader::GlobalCounter>{{"nat_in", 7}};
    }
    Result<std::vector<loader::MapFill>> map_fill() override {
        return std::vector<loader::MapFill>{
            {"fwd_svc4", static_cast<std::uint32_t>(mappings.size()), sizes.max_mappings}};
    }
    std::vector<std::uint32_t> program_ids() override { return {10, 11}; }
};

// Host sockets for the allocator, without /proc: a set of (addr, port, proto).
class FakeProbe final : public loader::HostPortProbe {
public:
    std::vector<loader::BoundSocket> sockets;

    bool in_use(IpAddr addr, std::uint16_t port, Proto proto) override {
        return std::any_of(sockets.begin(), sockets.end(), [&](const loader::BoundSocket& s) {
            return loader::holds_port(s, addr, port, proto);
        });
    }
};

}  // namespace fwd::test
