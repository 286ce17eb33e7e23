#include "fwd/ctl/cni.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <set>
#include <tuple>
#include <type_traits>

#include "fwd/ctl/spec.h"
#include "spec_text.h"

namespace fwd::ctl::cni {
namespace {

using nlohmann::json;

CniError error(unsigned code, std::string msg, std::string details = {}) {
    return CniError{code, std::move(msg), std::move(details)};
}

// --- environment -----------------------------------------------------------------------------

std::optional<Command> command_named(std::string_view text) {
    if (text == "ADD") return Command::Add;
    if (text == "DEL") return Command::Del;
    if (text == "CHECK") return Command::Check;
    if (text == "VERSION") return Command::Version;
    return std::nullopt;
}

// --- network config --------------------------------------------------------------------------

// A field of `object` that must be of one JSON type when present.
template <typename Check>
CniResult<const json*> optional_field(const json& object, const char* field, Check is_type,
                                      const char* type_name, std::string_view where) {
    const auto it = object.find(field);
    if (it == object.end() || it->is_null()) return static_cast<const json*>(nullptr);
    if (!is_type(*it))
        return error(kDecodeFailure, fmt::format("{}{} is not {}", where, field, type_name));
    return &*it;
}

CniResult<std::optional<std::string>> optional_string(const json& object, const char* field,
                                                      std::string_view where = "") {
    auto value = optional_field(object, field, [](const json& j) { return j.is_string(); },
                                "a string", where);
    if (!value) return value.error();
    if (*value == nullptr) return std::optional<std::string>{};
    return std::optional<std::string>{(*value)->get<std::string>()};
}

CniResult<std::uint16_t> port_number(const json& entry, const char* field, std::size_t index) {
    const std::string where = fmt::format("runtimeConfig.portMappings[{}].{}", index, field);
    const auto it = entry.find(field);
    if (it == entry.end()) return error(kInvalidNetworkConfig, where + " is missing");
    if (!it->is_number_integer()) return error(kDecodeFailure, where + " is not an integer");
    const auto value = it->get<std::int64_t>();
    if (value < 1 || value > 65535)
        return error(kInvalidNetworkConfig,
                     fmt::format("{} {}: not a port 1-65535 (fwd-portmap allocates no host "
                                 "port for 0)",
                                 where, value));
    return static_cast<std::uint16_t>(value);
}

// An optional string field read by one of fwdctl's parsers; "" counts as absent.
template <typename Parse>
auto parsed_field(const json& entry, const char* field, const std::string& where, Parse parse)
    -> CniResult<std::optional<std::decay_t<decltype(*parse(std::string_view{}))>>> {
    using Value = std::decay_t<decltype(*parse(std::string_view{}))>;
    auto text = optional_string(entry, field, where);
    if (!text) return text.error();
    if (!*text || (*text)->empty()) return std::optional<Value>{};
    auto parsed = parse(**text);
    if (!parsed) return error(kInvalidNetworkConfig, where + field + ": " + parsed.error().message);
    return std::optional<Value>{*parsed};
}

CniResult<PortMapping> port_mapping(const json& entry, std::size_t index) {
    const std::string where = fmt::format("runtimeConfig.portMappings[{}].", index);
    if (!entry.is_object()) return error(kDecodeFailure, where + " is not an object");
    PortMapping mapping;
    auto host_port = port_number(entry, "hostPort", index);
    if (!host_port) return host_port.error();
    mapping.host_port = *host_port;
    auto container_port = port_number(entry, "containerPort", index);
    if (!container_port) return container_port.error();
    mapping.container_port = *container_port;
    auto proto = parsed_field(entry, "protocol", where, parse_proto);
    if (!proto) return proto.error();
    mapping.proto = proto->value_or(Proto::Tcp);
    auto host_ip = parsed_field(entry, "hostIP", where, parse_ip);
    if (!host_ip) return host_ip.error();
    mapping.host_ip = *host_ip;
    return mapping;
}

CniResult<std::vector<PortMapping>> port_mappings(const json& conf) {
    std::vector<PortMapping> mappings;
    auto runtime = optional_field(conf, "runtimeConfig", [](const json& j) { return j.is_object(); },
                                  "an object", "");
    if (!runtime) return runtime.error();
    if (*runtime == nullptr) return mappings;
    auto list = optional_field(**runtime, "portMappings", [](const json& j) { return j.is_array(); },
                               "a list", "runtimeConfig.");
    if (!list) return list.error();
    if (*list == nullptr) return mappings;
    for (std::size_t i = 0; i < (*list)->size(); ++i) {
        auto mapping = port_mapping((**list)[i], i);
        if (!mapping) return mapping.error();
        mappings.push_back(*mapping);
    }
    return mappings;
}

// The reference portmap plugin's options that ask for what fwd never does (SNAT of outside
// clients, iptables match conditions) are refused rather than silently ignored. Its other
// options (snat, markMasqBit, externalSetMarkChain) steer iptables rules fwd does not make.
CniResult<bool> refuse_unsupported_options(const json& conf) {
    if (conf.contains("masqAll") && conf["masqAll"] == true)
        return error(kUnsupportedField, "masqAll: true is not supported",
                     "fwd keeps every client's own address; it never masquerades");
    for (const char* field : {"conditionsV4", "conditionsV6"}) {
        const auto it = conf.find(field);
        if (it != conf.end() && !it->is_null() && !(it->is_array() && it->empty()))
            return error(kUnsupportedField, std::string(field) + " is not supported",
                         "fwd's mappings are BPF map entries, not iptables rules");
    }
    return true;
}

CniResult<FwdDirsOverride> dirs_override(const json& conf) {
    FwdDirsOverride dirs;
    const std::pair<const char*, std::optional<std::string>*> fields[] = {
        {"stateDir", &dirs.state_dir}, {"pinDir", &dirs.pin_dir}, {"configFile", &dirs.config}};
    for (const auto& [field, target] : fields) {
        auto value = optional_string(conf, field);
        if (!value) return value.error();
        if (*value && (*value)->empty())
            return error(kInvalidNetworkConfig, std::string(field) + " is empty");
        *target = *value;
    }
    return dirs;
}

// The index of the interface an address is on, if prevResult names one.
CniResult<std::optional<std::size_t>> interface_index(const json& ip, std::size_t index) {
    const auto it = ip.find("interface");
    if (it == ip.end() || it->is_null()) return std::optional<std::size_t>{};
    if (!it->is_number_unsigned())
        return error(kDecodeFailure, fmt::format("prevResult.ips[{}].interface is not an index", index));
    return std::optional<std::size_t>{it->get<std::size_t>()};
}

// An address on the container's side of CNI_IFNAME: on no named interface, or on one with
// that name and a sandbox (the host end of a veth has none).
CniResult<bool> on_container_interface(const json& ip, std::size_t index, const json& result,
                                       std::string_view ifname) {
    auto iface = interface_index(ip, index);
    if (!iface) return iface.error();
    if (!*iface) return true;
    const auto interfaces = result.find("interfaces");
    if (interfaces == result.end() || !interfaces->is_array() || **iface >= interfaces->size())
        return error(kInvalidNetworkConfig,
                     fmt::format("prevResult.ips[{}].interface {} names no interface", index, **iface));
    const json& named = (*interfaces)[**iface];
    if (!named.is_object()) return error(kDecodeFailure, "prevResult.interfaces holds a non-object");
    const auto name = named.find("name");
    const auto sandbox = named.find("sandbox");
    return name != named.end() && name->is_string() && *name == ifname && sandbox != named.end() &&
           sandbox->is_string() && !sandbox->get<std::string>().empty();
}

// The container's first address of each family, from prevResult.ips.
CniResult<bool> container_addresses(NetConf& conf, std::string_view ifname) {
    const json& result = *conf.prev_result;
    const auto ips = result.find("ips");
    if (ips == result.end() || ips->is_null()) return true;
    if (!ips->is_array()) return error(kDecodeFailure, "prevResult.ips is not a list");
    for (std::size_t i = 0; i < ips->size(); ++i) {
        const json& ip = (*ips)[i];
        auto address = ip.is_object() ? optional_string(ip, "address", "prevResult.ips[].")
                                      : CniResult<std::optional<std::string>>(error(
                                            kDecodeFailure, "prevResult.ips holds a non-object"));
        if (!address) return address.error();
        if (!*address) return error(kInvalidNetworkConfig, fmt::format("prevResult.ips[{}] has no address", i));
        auto mine = on_container_interface(ip, i, result, ifname);
        if (!mine) return mine.error();
        if (!*mine) continue;
        const std::string& text = **address;
        auto cidr = parse_ip(text.substr(0, text.find('/')));
        if (!cidr || text.find('/') == std::string::npos)
            return error(kInvalidNetworkConfig,
                         fmt::format("prevResult.ips[{}].address {}: not an address in CIDR form", i,
                                     detail::quote(text)));
        if (cidr->is_v4() && !conf.container_ip) conf.container_ip = cidr->v4();
        if (cidr->is_v6() && !conf.container_ip6) conf.container_ip6 = cidr->v6();
    }
    return true;
}

CniResult<std::string> cni_version(const json& conf) {
    auto version = optional_string(conf, "cniVersion");
    if (!version) return version.error();
    if (!*version) return error(kInvalidNetworkConfig, "cniVersion is missing");
    if (!is_supported_version(**version))
        return error(kIncompatibleVersion,
                     fmt::format("cniVersion {} is not supported", detail::quote(**version)),
                     fmt::format("fwd-portmap supports {}",
                                 fmt::join(supported_versions(), ", ")));
    return **version;
}

// Network and container names become part of a fwd name, so they keep to its characters.
bool is_name_text(std::string_view text) { return validate_name(text).has_value(); }

// FNV-1a, 64 bits: a short, stable tag for names too long to keep whole.
std::uint64_t fnv1a(std::string_view text) {
    std::uint64_t hash = 0xcbf29ce484222325ULL;
    for (const char c : text) {
        hash ^= static_cast<unsigned char>(c);
        hash *= 0x100000001b3ULL;
    }
    return hash;
}

}  // namespace

const std::vector<std::string>& supported_versions() {
    static const std::vector<std::string> versions = {"0.3.0", "0.3.1", "0.4.0", "1.0.0"};
    return versions;
}

bool is_supported_version(std::string_view version) {
    const auto& all = supported_versions();
    return std::find(all.begin(), all.end(), version) != all.end();
}

bool is_pre_1_0(std::string_view version) { return version.substr(0, 2) == "0."; }

CniResult<Environment> parse_environment(const GetEnv& getenv) {
    const auto value = [&](const char* name) -> std::string {
        const char* text = getenv(name);
        return text == nullptr ? std::string() : std::string(text);
    };
    Environment env;
    const std::string command = value("CNI_COMMAND");
    const auto parsed = command_named(command);
    if (!parsed)
        return error(kInvalidEnvironment,
                     command.empty() ? "CNI_COMMAND is not set"
                                     : "CNI_COMMAND " + detail::quote(command) +
                                           " is not ADD, DEL, CHECK or VERSION");
    env.command = *parsed;
    if (env.command == Command::Version) return env;
    env.container_id = value("CNI_CONTAINERID");
    env.ifname = value("CNI_IFNAME");
    env.netns = value("CNI_NETNS");
    std::vector<std::string> missing;
    if (env.container_id.empty()) missing.emplace_back("CNI_CONTAINERID");
    if (env.ifname.empty()) missing.emplace_back("CNI_IFNAME");
    if (env.netns.empty() && env.command != Command::Del) missing.emplace_back("CNI_NETNS");
    if (!missing.empty())
        return error(kInvalidEnvironment, fmt::format("{} not set", fmt::join(missing, ", ")));
    return env;
}

CniResult<NetConf> parse_net_conf(std::string_view text, std::string_view ifname) {
    const json root = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
    if (root.is_discarded()) return error(kDecodeFailure, "the network config is not JSON");
    if (!root.is_object()) return error(kDecodeFailure, "the network config is not a JSON object");
    NetConf conf;
    auto version = cni_version(root);
    if (!version) return version.error();
    conf.cni_version = *version;
    auto name = optional_string(root, "name");
    if (!name) return name.error();
    if (!*name || (*name)->empty()) return error(kInvalidNetworkConfig, "name is missing");
    conf.name = **name;
    if (auto ok = refuse_unsupported_options(root); !ok) return ok.error();
    auto dirs = dirs_override(root);
    if (!dirs) return dirs.error();
    conf.dirs = *dirs;
    auto mappings = port_mappings(root);
    if (!mappings) return mappings.error();
    conf.port_mappings = *mappings;
    const auto prev = root.find("prevResult");
    if (prev != root.end() && !prev->is_null()) {
        if (!prev->is_object()) return error(kDecodeFailure, "prevResult is not an object");
        conf.prev_result = *prev;
        if (auto ok = container_addresses(conf, ifname); !ok) return ok.error();
    }
    return conf;
}

std::string reply_version(std::string_view stdin_text) {
    const json root = json::parse(stdin_text.begin(), stdin_text.end(), nullptr, false);
    if (root.is_object() && root.contains("cniVersion") && root["cniVersion"].is_string() &&
        is_supported_version(root["cniVersion"].get<std::string>()))
        return root["cniVersion"].get<std::string>();
    return supported_versions().back();
}

std::string version_json(std::string_view stdin_text) {
    return json{{"cniVersion", reply_version(stdin_text)},
                {"supportedVersions", supported_versions()}}
               .dump() +
           "\n";
}

std::string error_json(const CniError& error, std::string_view cni_version) {
    json object = {{"cniVersion", cni_version.empty() ? supported_versions().back()
                                                      : std::string(cni_version)},
                   {"code", error.code},
                   {"msg", error.msg}};
    if (!error.details.empty()) object["details"] = error.details;
    return object.dump() + "\n";
}

CniError from_fwd_error(const Error& fwd_error) {
    switch (fwd_error.code) {
    case ErrorCode::Exists: return error(kPortConflict, fwd_error.message);
    case ErrorCode::Full: return error(kMapsFull, fwd_error.message);
    case ErrorCode::InvalidInput: return error(kInvalidNetworkConfig, fwd_error.message);
    default: return error(kFwdFailure, fwd_error.message);
    }
}

std::string add_result_json(const NetConf& conf) {
    json result = conf.prev_result.value_or(json::object());
    result["cniVersion"] = conf.cni_version;
    if (result.contains("ips") && result["ips"].is_array()) {
        for (auto& ip : result["ips"]) {
            if (!ip.is_object() || !ip.contains("address") || !ip["address"].is_string()) continue;
            if (!is_pre_1_0(conf.cni_version)) {
                ip.erase("version");
            } else if (!ip.contains("version")) {
                const bool v6 = ip["address"].get<std::string>().find(':') != std::string::npos;
                ip["version"] = v6 ? "6" : "4";
            }
        }
    }
    return result.dump() + "\n";
}

CniResult<std::string> mapping_name(std::string_view network, std::string_view container_id) {
    if (!is_name_text(container_id))
        return error(kInvalidEnvironment,
                     "CNI_CONTAINERID " + detail::quote(container_id) +
                         ": not [A-Za-z0-9][A-Za-z0-9_.-]*, at most 128 characters");
    if (!is_name_text(network))
        return error(kInvalidNetworkConfig,
                     "network name " + detail::quote(network) +
                         ": not [A-Za-z0-9][A-Za-z0-9_.-]*, at most 128 characters");
    std::string name = fmt::format("cni.{}.{}", network, container_id);
    if (is_name_text(name)) return name;
    // 4 + 40 + 1 + 64 + 1 + 16 = 126 characters, and the hash keeps them distinct.
    const std::string both = std::string(network) + '\0' + std::string(container_id);
    return fmt::format("cni.{}.{}.{:016x}", network.substr(0, 40), container_id.substr(0, 64),
                       fnv1a(both));
}

CniResult<PublishOptions> publish_options(const NetConf& conf, const std::string& name) {
    PublishOptions options;
    options.name = name;
    options.ip = conf.container_ip;
    options.ip6 = conf.container_ip6;
    if (!options.ip && !options.ip6)
        return error(kInvalidNetworkConfig,
                     "prevResult holds no address of the container's interface to publish on");
    for (const auto& mapping : conf.port_mappings) {
        if (mapping.host_ip) {
            const bool v6 = mapping.host_ip->is_v6();
            if ((v6 && !options.ip6) || (!v6 && !options.ip))
                return error(kInvalidNetworkConfig,
                             fmt::format("hostIP {} needs the container's {} address, and "
                                         "prevResult has none (fwd does not translate between "
                                         "IPv4 and IPv6)",
                                         mapping.host_ip->to_string(), v6 ? "IPv6" : "IPv4"));
        }
        options.publish.push_back({ContainerPort{mapping.container_port, mapping.proto},
                                   mapping.host_ip,
                                   PortRange{mapping.host_port, mapping.host_port}});
    }
    return options;
}

std::vector<Mapping> expected_mappings(const PublishOptions& options) {
    std::vector<Mapping> mappings;
    for (const auto& request : options.publish) {
        std::vector<IpAddr> hosts;
        if (request.host_addr) hosts.push_back(*request.host_addr);
        if (!request.host_addr && options.ip) hosts.push_back(IpAddr::any(Family::V4));
        if (!request.host_addr && options.ip6) hosts.push_back(IpAddr::any(Family::V6));
        for (const auto& host : hosts) {
            Mapping mapping;
            mapping.host_addr = host;
            mapping.host_port = request.host_ports.first;
            mapping.proto = request.container.proto;
            mapping.container_addr =
                host.is_v4() ? IpAddr(*options.ip) : IpAddr(*options.ip6);
            mapping.container_port = request.container.port;
            mapping.name = options.name;
            mappings.push_back(mapping);
        }
    }
    return mappings;
}

PublishOptions recorded_publish_options(const State& state, const std::string& name) {
    PublishOptions options;
    options.name = name;
    if (const ContainerRecord* record = state.find_container(name)) {
        options.ip = record->ip;
        options.ip6 = record->ip6;
    }
    for (const auto& mapping : state.mappings) {
        if (mapping.name != name) continue;
        options.publish.push_back({ContainerPort{mapping.container_port, mapping.proto},
                                   mapping.host_addr,
                                   PortRange{mapping.host_port, mapping.host_port}});
    }
    return options;
}

std::vector<std::string> check_mappings(const std::vector<Mapping>& expected,
                                        const std::vector<Mapping>& recorded,
                                        const std::vector<Mapping>& live) {
    const auto target = [](const Mapping& m) {
        return std::make_tuple(m.host_addr, m.host_port, m.proto, m.container_addr,
                               m.container_port);
    };
    const auto find = [&](const std::vector<Mapping>& in, const Mapping& wanted) {
        return std::find_if(in.begin(), in.end(),
                            [&](const Mapping& m) { return target(m) == target(wanted); });
    };
    std::vector<std::string> problems;
    for (const auto& mapping : expected) {
        const auto record = find(recorded, mapping);
        if (record == recorded.end()) {
            problems.push_back("not recorded: " + to_string(mapping));
            continue;
        }
        const auto in_maps = find(live, mapping);
        if (in_maps == live.end() || in_maps->id != record->id)
            problems.push_back("not in fwd's maps: " + to_string(mapping));
    }
    for (const auto& mapping : recorded)
        if (find(expected, mapping) == expected.end())
            problems.push_back("recorded but not in the config: " + to_string(mapping));
    return problems;
}

}  // namespace fwd::ctl::cni
