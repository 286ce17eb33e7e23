#include "fwd/ctl/controller.h"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>
#include <optional>
#include <map>
#include <set>
#include <tuple>

#include "fwd/ctl/docker_spec.h"
#include "fwd/ctl/docker_output.h"
#include "fwd/ctl/output.h"

namespace fwd::ctl {
namespace {

using KeyTuple = std::tuple<IpAddr, std::uint16_t, Proto>;

KeyTuple key_of(const Mapping& mapping) {
    return {mapping.host_addr, mapping.host_port, mapping.proto};
}

// Everything of a mapping the kernel holds: where it goes, its counter id, its allow-list.
bool same_target(const Mapping& a, const Mapping& b) {
    return a.container_addr == b.container_addr && a.container_port == b.container_port &&
           a.id == b.id && a.allow == b.allow;
}

const Mapping* find_mapping(const std::vector<Mapping>& mappings, const Mapping& key) {
    auto it = std::find_if(mappings.begin(), mappings.end(),
                           [&](const Mapping& m) { return m.same_key(key); });
    return it == mappings.end() ? nullptr : &*it;
}

std::string owner_of(const Mapping& mapping) {
    if (!mapping.name.empty()) return mapping.name;
    return fmt::format("{}:{}", mapping.container_addr.to_string(), mapping.container_port);
}

Error port_taken_error(const Mapping& wanted, const Mapping& owner) {
    return make_error(ErrorCode::Exists, fmt::format("port {} is already allocated to {}",
                                                     host_key_string(wanted), owner_of(owner)));
}

// Lowest ids not used by any mapping, `count` of them, within the service map's size. Checked
// before any map write, so a full map refuses the whole command.
Result<std::vector<std::uint32_t>> allocate_ids(const std::vector<Mapping>& mappings,
                                                std::size_t count, const loader::MapSizes& sizes) {
    std::set<std::uint32_t> used;
    for (const auto& mapping : mappings) used.insert(mapping.id);
    std::vector<std::uint32_t> ids;
    for (std::uint32_t id = 1; id <= sizes.max_mapping_id() && ids.size() < count; ++id)
        if (used.count(id) == 0) ids.push_back(id);
    if (ids.size() < count)
        return make_error(ErrorCode::Full,
                          fmt::format("the service map is full: it holds {} mappings, {} are in "
                                      "use, {} more asked for (its size is set when the maps "
                                      "are created: attach --max-mappings)",
                                      sizes.max_mapping_id(), mappings.size(), count));
    return ids;
}

// Every mapping of `state` fits maps of `sizes` (its id has a stats slot).
Result<void> check_fits(const State& state, const loader::MapSizes& sizes) {
    std::uint32_t highest = 0;
    for (const auto& mapping : state.mappings) highest = std::max(highest, mapping.id);
    if (highest <= sizes.max_mapping_id()) return {};
    return make_error(
        ErrorCode::Full,
        fmt::format("the state's {} mapping(s) use ids up to {}, but maps of "
                    "--max-mappings {} hold ids 1..{}",
                    state.mappings.size(), highest, sizes.max_mappings, sizes.max_mapping_id()));
}

// What attach asks load() for: explicit sizes, else the recorded ones for maps it creates.
loader::LoadOptions load_options(const State& state, const AttachOptions& options) {
    loader::LoadOptions load;
    load.sizes = state.map_sizes;
    if (options.max_mappings) load.sizes.max_mappings = *options.max_mappings;
    if (options.max_flows) load.sizes.max_flows = *options.max_flows;
    load.max_mappings_explicit = options.max_mappings.has_value();
    load.max_flows_explicit = options.max_flows.has_value();
    return load;
}

std::vector<Mapping> sorted(std::vector<Mapping> mappings) {
    std::sort(mappings.begin(), mappings.end(), list_order);
    return mappings;
}

// The keys one port of `del HOST` may name: HOST's address, or without one the wildcard of
// either family (as `add` without an address took the container's family).
std::vector<Mapping> del_candidates(const HostSpec& host, std::uint16_t port) {
    std::vector<Mapping> keys;
    const auto families = host.addr ? std::vector<Family>{host.addr->family()}
                                    : std::vector<Family>{Family::V4, Family::V6};
    for (const auto family : families) {
        Mapping key;
        key.host_addr = host.addr_for(family);
        key.host_port = port;
        key.proto = host.proto;
        keys.push_back(key);
    }
    return keys;
}

std::string describe_keys(const std::vector<Mapping>& keys) {
    std::string text;
    for (const auto& key : keys) text += (text.empty() ? "" : " or ") + host_key_string(key);
    return text;
}

}  // namespace

loader::MappingChange diff_mappings(const std::vector<Mapping>& current,
                                    const std::vector<Mapping>& desired) {
    loader::MappingChange change;
    std::map<KeyTuple, const Mapping*> wanted;
    for (const auto& mapping : desired) wanted[key_of(mapping)] = &mapping;
    std::map<KeyTuple, const Mapping*> present;
    for (const auto& mapping : current) present[key_of(mapping)] = &mapping;

    for (const auto& mapping : current)
        if (wanted.count(key_of(mapping)) == 0) change.remove.push_back(mapping);
    for (const auto& mapping : desired) {
        auto it = present.find(key_of(mapping));
        if (it == present.end() || !same_target(*it->second, mapping))
            change.upsert.push_back(mapping);
    }
    return change;
}

Result<void> Controller::commit(const State& desired, std::vector<std::string>& warnings) {
    if (!datapath_.is_loaded()) {
        warnings.emplace_back("fwd is not attached yet; mappings take effect at `fwdctl attach`");
        return store_.save(desired);
    }
    auto before = datapath_.read_mappings();
    if (!before) return before.error();
    // Addresses come and go (DHCP, new interfaces): every change refreshes the socket hooks' view.
    if (auto ok = datapath_.refresh_local_addresses(); !ok) return ok;
    const auto change = diff_mappings(*before, desired.mappings);
    if (!change.empty())
        if (auto ok = datapath_.apply(change); !ok) return ok;
    if (auto saved = store_.save(desired); !saved) {
        // Put the maps back so they agree with the old state.
        if (!change.empty()) (void)datapath_.apply(diff_mappings(desired.mappings, *before));
        return saved;
    }
    return {};
}

Result<CommandOutput> Controller::attach(const std::vector<std::string>& interfaces,
                                         const std::string& cgroup, const AttachOptions& options) {
    auto state = store_.load();
    if (!state) return state.error();
    if (options.fast_path) state->fast_path = *options.fast_path;
    std::vector<InterfaceRecord> targets;
    targets.reserve(interfaces.size());
    for (const auto& ifname : interfaces) targets.push_back({ifname, false, options.mode});
    return attach_recorded(*state, targets, {cgroup}, /*skip_missing=*/false,
                           load_options(*state, options));
}

Result<CommandOutput> Controller::restore() {
    auto state = store_.load();
    if (!state) return state.error();
    // Maps lost with bpffs are recreated with the recorded sizes.
    auto output = attach_recorded(*state, state->interfaces, state->cgroups, /*skip_missing=*/true,
                                  load_options(*state, {}));
    if (output && state->interfaces.empty())
        output->warnings.emplace_back("no interfaces recorded; maps refilled, nothing attached");
    if (output)
        output->text += fmt::format("restored {} mapping(s)\n", state->mappings.size());
    return output;
}

namespace {

// One line per difference between the maps and the state, in list order.
std::vector<std::string> describe_drift(const loader::MappingChange& change,
                                        const std::vector<Mapping>& current) {
    std::vector<std::string> lines;
    for (const auto& mapping : sorted(change.remove))
        lines.push_back("in the maps but not in the state: " + to_string(mapping));
    for (const auto& mapping : sorted(change.upsert)) {
        const Mapping* present = find_mapping(current, mapping);
        if (present == nullptr) {
            lines.push_back("in the state but not in the maps: " + to_string(mapping));
        } else {
            lines.push_back(fmt::format("differs: state {} (id {}), maps {} (id {})",
                                        to_string(mapping), mapping.id, to_string(*present),
                                        present->id));
        }
    }
    return lines;
}

}  // namespace

Result<CommandOutput> Controller::check(bool repair) {
    auto state = store_.load();
    if (!state) return state.error();
    if (!datapath_.is_loaded())
        return make_error(ErrorCode::NotFound, "fwd is not attached (run fwdctl attach or restore)");
    auto current = datapath_.read_mappings();
    if (!current) return current.error();
    const auto change = diff_mappings(*current, state->mappings);
    std::vector<std::string> drift = describe_drift(change, *current);
    for (const auto& record : state->interfaces) {
        auto live = datapath_.query(record.name);
        if (!live) return live.error();
        if (!live->attached()) drift.push_back("interface " + record.name + ": not attached");
        else if (record.mode == loader::AttachMode::Xdp && live->xdp_prog_id == 0)
            drift.push_back("interface " + record.name + ": XDP program not attached");
    }
    CommandOutput output;
    for (const auto& line : drift) output.text += line + "\n";
    if (drift.empty()) {
        output.text = fmt::format("ok: {} mapping(s), maps and state agree\n", state->mappings.size());
        return output;
    }
    if (!repair) {
        output.exit_code = 1;
        return output;
    }
    if (!change.empty())
        if (auto ok = datapath_.apply(change); !ok) return ok.error();
    output.text += fmt::format("repaired: {} map change(s)\n", change.remove.size() + change.upsert.size());
    if (drift.size() > change.remove.size() + change.upsert.size())
        output.warnings.emplace_back("interfaces are re-attached by `fwdctl restore`, not by check");
    return output;
}

Result<CommandOutput> Controller::attach_recorded(const State& state,
                                                  const std::vector<InterfaceRecord>& interfaces,
                                                  const std::vector<std::string>& cgroups,
                                                  bool skip_missing,
                                                  const loader::LoadOptions& load_options) {
    // Checked before load() creates maps too small for the state's mappings...
    if (auto ok = check_fits(state, load_options.sizes); !ok) return ok.error();
    auto sizes = datapath_.load(load_options);
    if (!sizes) return sizes.error();
    // ... and after, as pinned maps keep the size they were created with.
    if (auto ok = check_fits(state, *sizes); !ok) return ok.error();
    if (auto ok = datapath_.set_fast_path(state.fast_path); !ok) return ok.error();
    State desired = state;
    desired.map_sizes = *sizes;
    std::vector<std::string> newly_attached;
    CommandOutput output;
    const auto record_of = [&](const std::string& ifname) {
        return std::find_if(desired.interfaces.begin(), desired.interfaces.end(),
                            [&](const auto& r) { return r.name == ifname; });
    };
    for (const auto& target : interfaces) {
        const std::string& ifname = target.name;
        auto attachment = datapath_.attach(ifname, target.mode);
        if (!attachment && skip_missing && attachment.error().code == ErrorCode::NotFound) {
            output.warnings.push_back("skipping " + attachment.error().message);
            continue;
        }
        if (!attachment) {
            for (const auto& done : newly_attached) {
                auto record = record_of(done);
                (void)datapath_.detach(done, record != desired.interfaces.end() &&
                                                 record->created_clsact);
            }
            return attachment.error();
        }
        auto record = record_of(ifname);
        if (record == desired.interfaces.end()) {
            desired.interfaces.push_back({ifname, attachment->created_clsact, target.mode});
            newly_attached.push_back(ifname);
        } else {
            record->created_clsact = record->created_clsact || attachment->created_clsact;
            record->mode = target.mode;
        }
        output.text += format_attach_line(*attachment);
    }
    for (const auto& cgroup : cgroups) {
        auto attachment = datapath_.attach_cgroup(cgroup);
        if (!attachment && skip_missing && attachment.error().code == ErrorCode::NotFound) {
            output.warnings.push_back("skipping " + attachment.error().message);
            continue;
        }
        if (!attachment) return attachment.error();
        if (std::find(desired.cgroups.begin(), desired.cgroups.end(), cgroup) == desired.cgroups.end())
            desired.cgroups.push_back(cgroup);
        output.text += "attached socket programs to cgroup " + cgroup + "\n";
    }
    if (auto ok = commit(desired, output.warnings); !ok) return ok.error();
    return output;
}

Result<CommandOutput> Controller::detach(const std::vector<std::string>& interfaces, bool all) {
    auto state = store_.load();
    if (!state) return state.error();
    State desired = *state;
    std::vector<std::string> targets = interfaces;
    if (all)
        for (const auto& record : state->interfaces) targets.push_back(record.name);

    CommandOutput output;
    for (const auto& ifname : targets) {
        auto record = std::find_if(desired.interfaces.begin(), desired.interfaces.end(),
                                   [&](const auto& r) { return r.name == ifname; });
        auto live = datapath_.query(ifname);
        if (!live) return live.error();
        const bool known = record != desired.interfaces.end();
        if (!known && live->ingress_prog_id == 0 && live->egress_prog_id == 0)
            return make_error(ErrorCode::NotFound, "fwd is not attached to " + ifname);
        if (auto ok = datapath_.detach(ifname, known && record->created_clsact); !ok)
            return ok.error();
        if (known) desired.interfaces.erase(record);
        output.text += "detached " + ifname + "\n";
    }
    if (all) {
        for (const auto& cgroup : state->cgroups) {
            if (auto ok = datapath_.detach_cgroup(cgroup); !ok) return ok.error();
            output.text += "detached socket programs from cgroup " + cgroup + "\n";
        }
        desired.cgroups.clear();
    }
    if (auto ok = store_.save(desired); !ok) return ok.error();
    return output;
}

Result<CommandOutput> Controller::add(const HostSpec& host, const ContainerSpec& container,
                                      const AddOptions& options) {
    if (auto ok = check_spec_pair(host, container); !ok) return ok.error();
    if (!options.name.empty())
        if (auto ok = validate_name(options.name); !ok) return ok.error();
    auto state = store_.load();
    if (!state) return state.error();

    State desired = *state;
    const std::size_t count = container.ports.size();
    if (auto ok = adopt_map_sizes(desired); !ok) return ok.error();
    auto ids = allocate_ids(desired.mappings, count, desired.map_sizes);
    if (!ids) return ids.error();
    // The keys taken before this command, so a 60,000-port range is not 60,000 scans.
    std::map<KeyTuple, const Mapping*> taken;
    for (const auto& mapping : state->mappings) taken[key_of(mapping)] = &mapping;
    std::vector<Mapping> added;
    for (std::size_t i = 0; i < count; ++i) {
        Mapping mapping;
        mapping.host_addr = host.addr_for(container.addr.family());
        mapping.proto = host.proto;
        mapping.container_addr = container.addr;
        mapping.container_port = static_cast<std::uint16_t>(container.ports.first + i);
        mapping.name = options.name;
        mapping.allow = options.allow;
        mapping.id = (*ids)[i];
        if (host.wants_allocation()) {
            PortAllocator allocator(options_.pool, probe_);
            auto port = allocator.allocate(desired, {mapping.host_addr}, host.proto, PortRange{0, 0});
            if (!port) return port.error();
            mapping.host_port = *port;
        } else {
            mapping.host_port = static_cast<std::uint16_t>(host.ports.first + i);
        }
        // The range's own keys are distinct, and an allocated port is free: `taken` suffices.
        if (auto owner = taken.find(key_of(mapping)); owner != taken.end())
            return port_taken_error(mapping, *owner->second);
        added.push_back(mapping);
    }
    desired.mappings.insert(desired.mappings.end(), added.begin(), added.end());
    CommandOutput output;
    if (auto ok = commit(desired, output.warnings); !ok) return ok.error();
    output.text = options.json ? format_mappings_json(added) : format_mapping_lines(added);
    return output;
}

Result<CommandOutput> Controller::del(const HostSpec& host) {
    if (host.wants_allocation())
        return make_error(ErrorCode::InvalidInput, "del needs a host port, not 0");
    auto state = store_.load();
    if (!state) return state.error();
    State desired = *state;
    std::map<KeyTuple, const Mapping*> present;
    for (const auto& mapping : state->mappings) present[key_of(mapping)] = &mapping;
    std::vector<Mapping> removed;
    std::set<KeyTuple> doomed;
    for (std::uint32_t port = host.ports.first; port <= host.ports.last; ++port) {
        const auto keys = del_candidates(host, static_cast<std::uint16_t>(port));
        const std::size_t before = removed.size();
        for (const auto& key : keys) {
            if (auto it = present.find(key_of(key)); it != present.end()) {
                removed.push_back(*it->second);
                doomed.insert(it->first);
            }
        }
        if (removed.size() == before)
            return make_error(ErrorCode::NotFound, "no mapping for " + describe_keys(keys));
    }
    std::erase_if(desired.mappings, [&](const Mapping& m) { return doomed.count(key_of(m)) != 0; });
    CommandOutput output;
    if (auto ok = commit(desired, output.warnings); !ok) return ok.error();
    for (const auto& mapping : removed) output.text += "removed " + to_string(mapping) + "\n";
    return output;
}

Result<void> Controller::adopt_map_sizes(State& desired) {
    if (!datapath_.is_loaded()) return {};
    auto pinned = datapath_.map_sizes();
    if (!pinned) return pinned.error();
    if (auto ok = check_fits(desired, *pinned); !ok) return ok;
    desired.map_sizes = *pinned;
    return {};
}

Result<CommandOutput> Controller::list(bool json) {
    auto state = store_.load();
    if (!state) return state.error();
    const auto mappings = sorted(state->mappings);
    return CommandOutput{json ? format_mappings_json(mappings) : format_mapping_lines(mappings), {}};
}

Result<CommandOutput> Controller::status(bool json) {
    auto state = store_.load();
    if (!state) return state.error();
    StatusReport report;
    report.loaded = datapath_.is_loaded();
    report.features = datapath_.features();
    report.pin_dir = options_.pin_dir;
    report.state_file = store_.file_path();
    report.mapping_count = state->mappings.size();
    report.fast_path = state->fast_path;
    for (const auto& record : state->interfaces) {
        auto attachment = datapath_.query(record.name);
        if (!attachment) return attachment.error();
        report.interfaces.push_back(*attachment);
    }
    for (const auto& cgroup : state->cgroups) {
        auto attachment = datapath_.query_cgroup(cgroup);
        if (!attachment) return attachment.error();
        report.cgroups.push_back(*attachment);
    }
    if (report.loaded) {
        auto maps = datapath_.map_fill();
        if (!maps) return maps.error();
        report.maps = *maps;
        auto sizes = datapath_.map_sizes();
        if (!sizes) return sizes.error();
        report.mapping_capacity = sizes->max_mapping_id();
    }
    return CommandOutput{format_status(report, json), {}};
}

Result<CommandOutput> Controller::stats(StatsFormat format) {
    auto state = store_.load();
    if (!state) return state.error();
    if (!datapath_.is_loaded())
        return make_error(ErrorCode::NotFound, "fwd is not attached (run fwdctl attach)");
    StatsReport report;
    for (const auto& mapping : sorted(state->mappings)) {
        auto counters = datapath_.counters(mapping.id);
        if (!counters) return counters.error();
        report.rows.push_back({mapping, *counters});
    }
    auto counters = datapath_.global_counters();
    if (!counters) return counters.error();
    report.counters = *counters;
    auto maps = datapath_.map_fill();
    if (!maps) return maps.error();
    report.maps = *maps;
    return CommandOutput{format_stats(report, format), {}};
}

}  // namespace fwd::ctl

namespace fwd::ctl {
namespace {

// The ports a container exposes: its -p ports and --expose ports, sorted and unique.
std::vector<ContainerPort> exposed_ports(const PublishOptions& options) {
    std::vector<ContainerPort> ports = options.expose;
    for (const auto& request : options.publish) ports.push_back(request.container);
    std::sort(ports.begin(), ports.end());
    ports.erase(std::unique(ports.begin(), ports.end()), ports.end());
    return ports;
}

// -P: every exposed port that no -p binds gets a pool port on every family's wildcard.
std::vector<PublishRequest> requests_with_publish_all(const PublishOptions& options,
                                                      const std::vector<ContainerPort>& exposed) {
    std::vector<PublishRequest> requests = options.publish;
    if (!options.publish_all) return requests;
    for (const auto& port : exposed) {
        const bool bound = std::any_of(options.publish.begin(), options.publish.end(),
                                       [&](const PublishRequest& r) { return r.container == port; });
        if (!bound) requests.push_back({port, std::nullopt, PortRange{0, 0}});
    }
    return requests;
}

Result<void> check_container_ip(IpAddr ip) {
    if (!ip.is_unicast() || ip.is_loopback())
        return make_error(ErrorCode::InvalidInput,
                          "invalid container address " + ip.to_string() + ": must be unicast");
    return {};
}

// The container's address of `family`, if it has one.
std::optional<IpAddr> container_ip(const PublishOptions& options, Family family) {
    if (family == Family::V4 && options.ip) return IpAddr(*options.ip);
    if (family == Family::V6 && options.ip6) return IpAddr(*options.ip6);
    return std::nullopt;
}

// Where a request publishes: its HOSTIP, or without one the wildcard of every family the
// container has, IPv4 first (Docker publishes 0.0.0.0 and [::] with one port: moby#42442).
std::vector<IpAddr> host_addrs(const PublishRequest& request, const PublishOptions& options) {
    if (request.host_addr) return {*request.host_addr};
    std::vector<IpAddr> addrs;
    for (const auto family : {Family::V4, Family::V6})
        if (container_ip(options, family)) addrs.push_back(IpAddr::any(family));
    return addrs;
}

// The container addresses, and a container address for every -p HOSTIP's family (fwd does
// not translate between IPv4 and IPv6). Invalid input, so checked before anything else.
Result<void> check_publish_addresses(const PublishOptions& options) {
    if (!options.ip && !options.ip6)
        return make_error(ErrorCode::InvalidInput, "publish needs --ip ADDR or --ip6 ADDR6");
    for (const auto family : {Family::V4, Family::V6})
        if (auto ip = container_ip(options, family))
            if (auto ok = check_container_ip(*ip); !ok) return ok;
    for (const auto& request : options.publish) {
        if (!request.host_addr || container_ip(options, request.host_addr->family())) continue;
        const bool v6 = request.host_addr->is_v6();
        return make_error(ErrorCode::InvalidInput,
                          fmt::format("-p on {} host IP {} needs the container's {} address "
                                      "({}; fwd does not translate between IPv4 and IPv6)",
                                      to_string(request.host_addr->family()),
                                      request.host_addr->to_string(), v6 ? "IPv6" : "IPv4",
                                      v6 ? "--ip6 ADDR6" : "--ip ADDR"));
    }
    return {};
}

std::vector<Mapping> mappings_named(const State& state, const std::string& name) {
    std::vector<Mapping> result;
    std::copy_if(state.mappings.begin(), state.mappings.end(), std::back_inserter(result),
                 [&](const Mapping& m) { return m.name == name; });
    return result;
}

std::string joined_lines(const std::vector<std::string>& lines) {
    std::string text;
    for (const auto& line : lines) text += line + "\n";
    return text;
}

}  // namespace

Result<std::vector<Mapping>> Controller::bind_request(State& desired,
                                                      const PublishRequest& request,
                                                      const PublishOptions& options,
                                                      PortAllocator& allocator) {
    const auto addrs = host_addrs(request, options);
    const Proto proto = request.container.proto;
    const bool fixed = request.host_ports.first != 0 && request.host_ports.first == request.host_ports.last;
    std::uint16_t host_port = request.host_ports.first;
    if (fixed) {
        for (const auto& addr : addrs) {
            Mapping wanted;
            wanted.host_addr = addr;
            wanted.host_port = host_port;
            wanted.proto = proto;
            if (const Mapping* owner =
                    port_owner(desired, addr, host_port, proto, Overlap::WildcardOverlaps))
                return port_taken_error(wanted, *owner);
            if (probe_.in_use(addr, host_port, proto))
                return make_error(ErrorCode::Exists,
                                  fmt::format("port {} is in use by a socket of the host",
                                              host_key_string(wanted)));
        }
    } else {
        auto port = allocator.allocate(desired, addrs, proto, request.host_ports);
        if (!port) return port.error();
        host_port = *port;
    }
    auto ids = allocate_ids(desired.mappings, addrs.size(), desired.map_sizes);
    if (!ids) return ids.error();
    std::vector<Mapping> mappings;
    for (std::size_t i = 0; i < addrs.size(); ++i) {
        Mapping mapping;
        mapping.host_addr = addrs[i];
        mapping.host_port = host_port;
        mapping.proto = proto;
        mapping.container_addr = *container_ip(options, addrs[i].family());
        mapping.container_port = request.container.port;
        mapping.name = options.name;
        mapping.allow = options.allow;
        mapping.id = (*ids)[i];
        mappings.push_back(mapping);
    }
    return mappings;
}

Result<CommandOutput> Controller::publish(const PublishOptions& options) {
    if (auto ok = validate_name(options.name); !ok) return ok.error();
    if (auto ok = check_publish_addresses(options); !ok) return ok.error();
    auto state = store_.load();
    if (!state) return state.error();
    if (state->name_in_use(options.name))
        return make_error(ErrorCode::Exists,
                          "container name \"" + options.name + "\" is already in use");

    State desired = *state;
    const auto exposed = exposed_ports(options);
    PortAllocator allocator(options_.pool, probe_);
    if (auto ok = adopt_map_sizes(desired); !ok) return ok.error();
    std::vector<Mapping> added;
    for (const auto& request : requests_with_publish_all(options, exposed)) {
        auto mappings = bind_request(desired, request, options, allocator);
        if (!mappings) return mappings.error();
        desired.mappings.insert(desired.mappings.end(), mappings->begin(), mappings->end());
        added.insert(added.end(), mappings->begin(), mappings->end());
    }
    desired.containers.push_back({options.name, options.ip, options.ip6, exposed, options.env});

    CommandOutput output;
    output.text = options.json ? format_mappings_json(added) : format_mapping_lines(added);
    if (options.dry_run) return output;
    if (auto ok = commit(desired, output.warnings); !ok) return ok.error();
    return output;
}

Result<CommandOutput> Controller::unpublish(const std::string& name) {
    auto state = store_.load();
    if (!state) return state.error();
    if (!state->name_in_use(name)) return make_error(ErrorCode::NotFound, "no such container: " + name);
    State desired = *state;
    const auto removed = mappings_named(desired, name);
    std::erase_if(desired.mappings, [&](const Mapping& m) { return m.name == name; });
    std::erase_if(desired.containers, [&](const ContainerRecord& c) { return c.name == name; });
    CommandOutput output;
    if (auto ok = commit(desired, output.warnings); !ok) return ok.error();
    for (const auto& mapping : sorted(removed)) output.text += "removed " + to_string(mapping) + "\n";
    return output;
}

Result<CommandOutput> Controller::port(const std::string& name, const std::string& port_arg) {
    std::optional<ContainerPort> query;
    if (!port_arg.empty()) {
        auto parsed = parse_port_query(port_arg);
        if (!parsed) return parsed.error();
        query = *parsed;
    }
    auto state = store_.load();
    if (!state) return state.error();
    if (!state->name_in_use(name)) return make_error(ErrorCode::NotFound, "No such container: " + name);
    const auto mappings = mappings_named(*state, name);
    if (!query) return CommandOutput{joined_lines(port_lines(mappings)), {}};
    const auto lines = port_lines_for(mappings, *query);
    if (lines.empty())
        return make_error(ErrorCode::NotFound,
                          "No public port '" + port_arg + "' published for " + name);
    return CommandOutput{joined_lines(lines), {}};
}

Result<CommandOutput> Controller::link_env(const std::string& client,
                                           const std::vector<LinkSpec>& links) {
    if (auto ok = validate_name(client); !ok) return ok.error();
    auto state = store_.load();
    if (!state) return state.error();
    CommandOutput output;
    for (const auto& link : links) {
        const ContainerRecord* server = state->find_container(link.server);
        if (server == nullptr)
            return make_error(ErrorCode::NotFound, "no such container: " + link.server);
        const LinkServer info{server->ip, server->exposed, server->env};
        output.text += joined_lines(fwd::ctl::link_env(client, link.alias, info));
    }
    return output;
}

}  // namespace fwd::ctl
