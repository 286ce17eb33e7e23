// One address family's maps (service, conntrack, allow-list) and how a MappingChange is
// applied to them. IPv4 and IPv6 run the same code through the traits Maps4 and Maps6, which
// name the ABI structs, pins and conversions of their family.
#pragma once

#include <fwd_abi.h>

#include <algorithm>
#include <cstring>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "abi_convert.h"
#include "fwd/loader/datapath.h"
#include "fwd/types.h"
#include "pinned_map.h"

namespace fwd::loader {

// Keys and values of the ABI have no implicit padding (their pads are explicit and zero), so
// their bytes compare like their fields.
template <typename T>
struct RawLess {
    bool operator()(const T& a, const T& b) const { return std::memcmp(&a, &b, sizeof(T)) < 0; }
};
template <typename T>
bool raw_equal(const T& a, const T& b) {
    return std::memcmp(&a, &b, sizeof(T)) == 0;
}

struct Maps4 {
    using SvcKey = fwd_svc4_key;
    using SvcValue = fwd_svc4_value;
    using CtKey = fwd_ct4_key;
    using CtValue = fwd_ct4_value;
    using AllowKey = fwd_allow4_key;
    static constexpr Family kFamily = Family::V4;
    static constexpr const char* kSvc = FWD_STRINGIFY(FWD_MAP_SVC4);
    static constexpr const char* kCt = FWD_STRINGIFY(FWD_MAP_CT4);
    static constexpr const char* kAllow = FWD_STRINGIFY(FWD_MAP_ALLOW4);
    static SvcKey svc_key(const Mapping& m) { return make_svc4_key(m); }
    static SvcValue svc_value(const Mapping& m) { return make_svc4_value(m); }
    static Mapping mapping(const SvcKey& k, const SvcValue& v) { return mapping_from_svc4(k, v); }
    static AllowKey allow_key(std::uint32_t id, const IpCidr& c) { return make_allow4_key(id, c); }
    static IpCidr cidr(const AllowKey& k) { return cidr_from_allow4(k); }
};

struct Maps6 {
    using SvcKey = fwd_svc6_key;
    using SvcValue = fwd_svc6_value;
    using CtKey = fwd_ct6_key;
    using CtValue = fwd_ct6_value;
    using AllowKey = fwd_allow6_key;
    static constexpr Family kFamily = Family::V6;
    static constexpr const char* kSvc = FWD_STRINGIFY(FWD_MAP_SVC6);
    static constexpr const char* kCt = FWD_STRINGIFY(FWD_MAP_CT6);
    static constexpr const char* kAllow = FWD_STRINGIFY(FWD_MAP_ALLOW6);
    static SvcKey svc_key(const Mapping& m) { return make_svc6_key(m); }
    static SvcValue svc_value(const Mapping& m) { return make_svc6_value(m); }
    static Mapping mapping(const SvcKey& k, const SvcValue& v) { return mapping_from_svc6(k, v); }
    static AllowKey allow_key(std::uint32_t id, const IpCidr& c) { return make_allow6_key(id, c); }
    static IpCidr cidr(const AllowKey& k) { return cidr_from_allow6(k); }
};

// (port, proto) of a service key, in network order: what fwd_ports records.
using PublishedPorts = std::set<std::pair<__be16, __u8>>;

// The part of `change` whose mappings are of `family`.
inline MappingChange change_of_family(const MappingChange& change, Family family) {
    MappingChange part;
    for (const auto& m : change.remove)
        if (m.host_addr.family() == family) part.remove.push_back(m);
    for (const auto& m : change.upsert)
        if (m.host_addr.family() == family) part.upsert.push_back(m);
    return part;
}

template <typename Maps>
class FamilyMaps {
public:
    using SvcMap = PinnedMap<typename Maps::SvcKey, typename Maps::SvcValue>;
    using CtMap = PinnedMap<typename Maps::CtKey, typename Maps::CtValue>;
    using AllowMap = PinnedMap<typename Maps::AllowKey, __u32>;
    // Allow-list entries as (mapping id, network), ordered.
    using AllowSet = std::set<std::pair<std::uint32_t, IpCidr>>;

    static Result<FamilyMaps> open(const std::string& pin_dir) {
        auto svc = SvcMap::open(pin_dir, Maps::kSvc, BPF_MAP_TYPE_HASH);
        if (!svc) return svc.error();
        auto ct = CtMap::open(pin_dir, Maps::kCt, BPF_MAP_TYPE_LRU_HASH);
        if (!ct) return ct.error();
        auto allow = AllowMap::open(pin_dir, Maps::kAllow, BPF_MAP_TYPE_LPM_TRIE);
        if (!allow) return allow.error();
        return FamilyMaps(std::move(*svc), std::move(*ct), std::move(*allow));
    }

    // Applies this family's part of a change: one batch read of the service map, then one
    // batch delete and one batch update (where the kernel has batch ops), so a 60,000-port
    // range costs a handful of syscalls. `stats` slots of new ids are zeroed first. Adds the
    // (port, proto) pairs the service map publishes afterwards to `published`.
    Result<void> apply(const MappingChange& change, PerCpuArray<fwd_mapping_stats>& stats,
                       PublishedPorts& published) {
        auto services = read_services();  // becomes the map as it is after the change
        if (!services) return services.error();
        auto allowed = read_allow();
        if (!allowed) return allowed.error();
        // New networks are in place before a service entry turns its allow-list flag on, and
        // old ones go only after it is off or changed, so no moment drops a source both allow.
        const AllowSet wanted = wanted_allow(change);
        AllowSet added;
        std::set_difference(wanted.begin(), wanted.end(), allowed->begin(), allowed->end(),
                            std::inserter(added, added.end()));
        if (auto ok = allow_.update_all(allow_keys(added), std::vector<__u32>(added.size(), 1)); !ok)
            return ok;
        std::set<std::uint32_t> flush_ids;
        if (auto ok = write_services(change, *services, stats, flush_ids); !ok) return ok;
        for (const auto& [key, value] : *services) published.insert({key.host_port, key.proto});
        const std::set<std::uint32_t> touched = touched_ids(change);
        AllowSet stale;
        for (const auto& entry : *allowed)
            if (touched.count(entry.first) != 0 && wanted.count(entry) == 0) stale.insert(entry);
        if (auto ok = allow_.erase_all(allow_keys(stale)); !ok) return ok;
        // A changed allow-list applies to open flows too: they must ask again.
        for (const auto& entry : stale) flush_ids.insert(entry.first);
        for (const auto& entry : added) flush_ids.insert(entry.first);
        // Flows of removed or retargeted mappings must not keep being translated (stale UDP).
        return flush_conntrack(flush_ids);
    }

    // Every mapping in the service map, with its allow-list.
    Result<std::vector<Mapping>> read_mappings() const {
        auto entries = svc_.entries();
        if (!entries) return entries.error();
        auto allowed = read_allow();
        if (!allowed) return allowed.error();
        std::map<std::uint32_t, std::vector<IpCidr>> allow_by_id;
        for (const auto& [id, cidr] : *allowed) allow_by_id[id].push_back(cidr);  // sorted: a set
        std::vector<Mapping> mappings;
        mappings.reserve(entries->size());
        for (const auto& [key, value] : *entries) {
            Mapping mapping = Maps::mapping(key, value);
            // Entries without the flag have no effect (left by an interrupted change).
            if (value.flags & FWD_SVC_FLAG_ALLOW_LIST) mapping.allow = allow_by_id[mapping.id];
            mappings.push_back(std::move(mapping));
        }
        return mappings;
    }

    [[nodiscard]] const SvcMap& services() const { return svc_; }
    [[nodiscard]] const CtMap& conntrack() const { return ct_; }

private:
    using Snapshot = std::map<typename Maps::SvcKey, typename Maps::SvcValue, RawLess<typename Maps::SvcKey>>;
    // One step of an applied change, so a failure can put the previous value back.
    struct Undo {
        typename Maps::SvcKey key;
        std::optional<typename Maps::SvcValue> previous;
    };

    FamilyMaps(SvcMap svc, CtMap ct, AllowMap allow)
        : svc_(std::move(svc)), ct_(std::move(ct)), allow_(std::move(allow)) {}

    Result<void> write_services(const MappingChange& change, Snapshot& services,
                                PerCpuArray<fwd_mapping_stats>& stats,
                                std::set<std::uint32_t>& flush_ids) {
        std::vector<Undo> undo;
        std::vector<typename Maps::SvcKey> removed;
        for (const auto& mapping : change.remove) {
            const auto key = Maps::svc_key(mapping);
            auto it = services.find(key);
            if (it == services.end()) continue;
            removed.push_back(key);
            undo.push_back({key, it->second});
            flush_ids.insert(it->second.mapping_id);
            services.erase(it);
        }
        if (auto ok = svc_.erase_all(removed); !ok) {
            roll_back(undo);
            return ok;
        }
        std::vector<typename Maps::SvcKey> keys;
        std::vector<typename Maps::SvcValue> values;
        std::vector<std::uint32_t> ids;
        for (const auto& mapping : change.upsert) {
            const auto key = Maps::svc_key(mapping);
            const auto value = Maps::svc_value(mapping);
            auto& slot = services[key];
            std::optional<typename Maps::SvcValue> previous;
            if (slot.mapping_id != 0) previous = slot;  // ids start at 1: 0 is a fresh slot
            if (previous && raw_equal(*previous, value)) continue;
            keys.push_back(key);
            values.push_back(value);
            ids.push_back(mapping.id);
            undo.push_back({key, previous});
            if (previous) flush_ids.insert(previous->mapping_id);
            slot = value;
        }
        // Counters of a (re)used id start from zero before the entry is visible.
        auto written = stats.zero_all(ids);
        if (written) written = svc_.update_all(keys, values);
        if (!written) roll_back(undo);
        return written;
    }

    void roll_back(const std::vector<Undo>& undo) {
        // Newest first. (Not std::ranges::reverse_view: clang 14 cannot parse libstdc++ 12's.)
        for (std::size_t i = undo.size(); i-- > 0;) {
            const Undo& step = undo[i];
            if (step.previous)
                (void)svc_.update(step.key, *step.previous);
            else
                (void)svc_.erase(step.key);
        }
    }

    Result<Snapshot> read_services() const {
        auto entries = svc_.entries();
        if (!entries) return entries.error();
        Snapshot services;
        for (const auto& [key, value] : *entries) services[key] = value;
        return services;
    }

    Result<AllowSet> read_allow() const {
        auto keys = allow_.keys();  // an LPM trie has no batch lookup
        if (!keys) return keys.error();
        AllowSet entries;
        for (const auto& key : *keys) entries.insert({key.mapping_id, Maps::cidr(key)});
        return entries;
    }

    // The allow-list entries of this family a change leaves for the mapping ids it touches.
    // A mapping's networks of the other family have no entry: they admit none of its clients.
    static AllowSet wanted_allow(const MappingChange& change) {
        AllowSet wanted;
        for (const auto& mapping : change.upsert)
            for (const auto& cidr : mapping.allow)
                if (cidr.addr.family() == Maps::kFamily) wanted.insert({mapping.id, cidr});
        return wanted;
    }

    static std::set<std::uint32_t> touched_ids(const MappingChange& change) {
        std::set<std::uint32_t> ids;
        for (const auto* list : {&change.remove, &change.upsert})
            for (const auto& mapping : *list) ids.insert(mapping.id);
        return ids;
    }

    static std::vector<typename Maps::AllowKey> allow_keys(const AllowSet& entries) {
        std::vector<typename Maps::AllowKey> keys;
        for (const auto& [id, cidr] : entries) keys.push_back(Maps::allow_key(id, cidr));
        return keys;
    }

    Result<void> flush_conntrack(const std::set<std::uint32_t>& mapping_ids) {
        if (mapping_ids.empty()) return {};
        auto entries = ct_.entries();
        if (!entries) return entries.error();
        std::vector<typename Maps::CtKey> doomed;
        for (const auto& [key, entry] : *entries)
            if (mapping_ids.count(entry.mapping_id) != 0) doomed.push_back(key);
        return ct_.erase_all(doomed);
    }

    SvcMap svc_;
    CtMap ct_;
    AllowMap allow_;
};

}  // namespace fwd::loader
