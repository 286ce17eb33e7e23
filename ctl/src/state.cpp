#include "fwd/ctl/state.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <tuple>

#include "fwd/ctl/output.h"
#include "fwd/ctl/spec.h"
#include "fwd/loader/datapath.h"

namespace fwd::ctl {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr int kStateVersion = 1;
constexpr const char* kStateFile = "state.json";
constexpr const char* kLockFile = "lock";

Error corrupt(const std::string& what) {
    return make_error(ErrorCode::Incompatible, "state file is corrupt: " + what);
}

Error io_error(const std::string& context) {
    const int err_no = errno;
    const ErrorCode code = (err_no == EACCES || err_no == EPERM || err_no == EROFS)
                               ? ErrorCode::PermissionDenied
                               : ErrorCode::Kernel;
    return make_error(code, context + ": " + std::strerror(err_no), err_no);
}

// The `list --json` object plus the mapping's counter id.
json mapping_to_json(const Mapping& mapping) {
    json object = mapping_json(mapping);
    object["id"] = mapping.id;
    return object;
}

Result<std::uint16_t> port_field(const json& object, const char* field) {
    if (!object.contains(field) || !object[field].is_number_unsigned())
        return corrupt(std::string("mapping field ") + field + " missing or not a number");
    const auto value = object[field].get<std::uint64_t>();
    if (value == 0 || value > 65535) return corrupt(std::string("mapping field ") + field + " out of range");
    return static_cast<std::uint16_t>(value);
}

Result<std::string> string_field(const json& object, const char* field) {
    if (!object.contains(field) || !object[field].is_string())
        return corrupt(std::string("field ") + field + " missing or not a string");
    return object[field].get<std::string>();
}

// An address of either family, as `list --json` writes it ("0.0.0.0", "::").
Result<IpAddr> address_field(const json& object, const char* field) {
    auto text = string_field(object, field);
    if (!text) return text.error();
    auto addr = parse_ip(*text);
    if (!addr) return corrupt(std::string("mapping field ") + field + ": " + addr.error().message);
    return *addr;
}

// The optional "allow" list: networks as `--allow` takes them, stored sorted and unique.
Result<std::vector<IpCidr>> allow_field(const json& object) {
    if (!object.contains("allow")) return std::vector<IpCidr>{};
    const json& list = object["allow"];
    if (!list.is_array() || list.empty()) return corrupt("mapping field allow is not a list of networks");
    std::vector<std::string> texts;
    for (const auto& item : list) {
        if (!item.is_string()) return corrupt("mapping field allow holds a non-string");
        texts.push_back(item.get<std::string>());
    }
    auto allow = parse_allow_list(texts);
    if (!allow) return corrupt("mapping field allow: " + allow.error().message);
    return *allow;
}

Result<Mapping> mapping_from_json(const json& object, std::uint32_t max_id) {
    if (!object.is_object()) return corrupt("mapping is not an object");
    Mapping mapping;
    auto host_addr = address_field(object, "host_ip");
    if (!host_addr) return host_addr.error();
    auto container_addr = address_field(object, "container_ip");
    if (!container_addr) return container_addr.error();
    if (host_addr->family() != container_addr->family())
        return corrupt(fmt::format("mapping {} -> {} mixes IPv4 and IPv6", host_addr->to_string(),
                                   container_addr->to_string()));
    auto host_port = port_field(object, "host_port");
    if (!host_port) return host_port.error();
    auto container_port = port_field(object, "container_port");
    if (!container_port) return container_port.error();
    auto proto_text = string_field(object, "proto");
    if (!proto_text) return proto_text.error();
    auto proto = parse_proto(*proto_text);
    if (!proto) return corrupt("mapping field proto: " + proto.error().message);
    auto name = string_field(object, "name");
    if (!name) return name.error();
    auto allow = allow_field(object);
    if (!allow) return allow.error();
    if (!object.contains("id") || !object["id"].is_number_unsigned()) return corrupt("mapping id missing");
    const auto id = object["id"].get<std::uint64_t>();
    if (id == 0 || id > max_id) return corrupt("mapping id out of range");

    mapping.host_addr = *host_addr;
    mapping.host_port = *host_port;
    mapping.proto = *proto;
    mapping.container_addr = *container_addr;
    mapping.container_port = *container_port;
    mapping.name = *name;
    mapping.allow = std::move(*allow);
    mapping.id = static_cast<std::uint32_t>(id);
    return mapping;
}

Result<void> check_unique(const std::vector<Mapping>& mappings) {
    std::set<std::tuple<IpAddr, std::uint16_t, Proto>> keys;
    std::set<std::uint32_t> ids;
    for (const auto& mapping : mappings) {
        if (!keys.insert({mapping.host_addr, mapping.host_port, mapping.proto}).second)
            return corrupt("duplicate mapping " + host_key_string(mapping));
        if (!ids.insert(mapping.id).second)
            return corrupt("duplicate mapping id " + std::to_string(mapping.id));
    }
    return {};
}

json container_to_json(const ContainerRecord& container) {
    json exposed = json::array();
    for (const auto& port : container.exposed) exposed.push_back(to_string(port));
    json env = json::array();
    for (const auto& var : container.env) env.push_back(var.key + "=" + var.value);
    json object{{"name", container.name}, {"exposed", exposed}, {"env", env}};
    if (container.ip) object["ip"] = container.ip->to_string();
    if (container.ip6) object["ip6"] = container.ip6->to_string();
    return object;
}

// A container's optional address field, parsed with `parse` (parse_ipv4 or parse_ipv6).
template <typename Parse, typename Addr>
Result<void> optional_address(const json& object, const char* field, Parse parse,
                              std::optional<Addr>& out) {
    if (!object.contains(field)) return {};
    auto text = string_field(object, field);
    if (!text) return text.error();
    auto addr = parse(*text);
    if (!addr) return corrupt(std::string("container ") + field + ": " + addr.error().message);
    out = *addr;
    return {};
}

// "ip" and "ip6", each optional (files written before IPv6 have "ip" only), one required.
Result<void> read_container_addresses(const json& object, ContainerRecord& container) {
    if (auto ok = optional_address(object, "ip", parse_ipv4, container.ip); !ok) return ok;
    if (auto ok = optional_address(object, "ip6", parse_ipv6, container.ip6); !ok) return ok;
    if (!container.ip && !container.ip6) return corrupt("container " + container.name + " has no address");
    return {};
}

Result<ContainerRecord> container_from_json(const json& object) {
    if (!object.is_object()) return corrupt("container is not an object");
    ContainerRecord container;
    auto name = string_field(object, "name");
    if (!name) return name.error();
    if (!validate_name(*name)) return corrupt("bad container name");
    container.name = *name;
    if (auto ok = read_container_addresses(object, container); !ok) return ok.error();
    if (!object.contains("exposed") || !object["exposed"].is_array())
        return corrupt("container exposed missing");
    for (const auto& item : object["exposed"]) {
        if (!item.is_string()) return corrupt("exposed port is not a string");
        auto port = parse_port_query(item.get<std::string>());
        if (!port) return corrupt("exposed port: " + port.error().message);
        container.exposed.push_back(*port);
    }
    if (!object.contains("env") || !object["env"].is_array()) return corrupt("container env missing");
    for (const auto& item : object["env"]) {
        if (!item.is_string()) return corrupt("env entry is not a string");
        auto var = parse_env(item.get<std::string>());
        if (!var) return corrupt("env entry: " + var.error().message);
        container.env.push_back(*var);
    }
    return container;
}

Result<AllocationCursor> cursor_from_json(const json& object) {
    if (!object.is_object()) return corrupt("cursor is not an object");
    auto addr = address_field(object, "host_ip");
    if (!addr) return addr.error();
    auto proto_text = string_field(object, "proto");
    if (!proto_text) return proto_text.error();
    auto proto = parse_proto(*proto_text);
    if (!proto) return corrupt("cursor proto: " + proto.error().message);
    auto last = port_field(object, "last");
    if (!last) return last.error();
    return AllocationCursor{*addr, *proto, *last};
}

// An interface's "mode": "tc" or "xdp"; absent (older files) is tc.
Result<loader::AttachMode> attach_mode_field(const json& interface) {
    if (!interface.contains("mode")) return loader::AttachMode::Tc;
    auto text = string_field(interface, "mode");
    if (!text) return text.error();
    auto mode = parse_attach_mode(*text);
    if (!mode) return corrupt("interface mode: " + mode.error().message);
    return *mode;
}

Result<void> read_containers(const json& root, State& state) {
    if (!root.contains("containers")) return {};  // written before containers existed
    if (!root["containers"].is_array()) return corrupt("containers is not an array");
    std::set<std::string> names;
    for (const auto& item : root["containers"]) {
        auto container = container_from_json(item);
        if (!container) return container.error();
        if (!names.insert(container->name).second)
            return corrupt("duplicate container " + container->name);
        state.containers.push_back(*container);
    }
    return {};
}

Result<void> read_cursors(const json& root, State& state) {
    if (!root.contains("cursors")) return {};
    if (!root["cursors"].is_array()) return corrupt("cursors is not an array");
    for (const auto& item : root["cursors"]) {
        auto cursor = cursor_from_json(item);
        if (!cursor) return cursor.error();
        state.cursors.push_back(*cursor);
    }
    return {};
}

Result<void> read_cgroups(const json& root, State& state) {
    if (!root.contains("cgroups")) return {};
    if (!root["cgroups"].is_array()) return corrupt("cgroups is not an array");
    for (const auto& item : root["cgroups"]) {
        if (!item.is_string() || item.get<std::string>().empty() || item.get<std::string>()[0] != '/')
            return corrupt("cgroup is not an absolute path");
        state.cgroups.push_back(item.get<std::string>());
    }
    return {};
}

Result<std::uint32_t> map_size_field(const json& sizes, const char* field,
                                     loader::SizeBounds bounds) {
    if (!sizes.contains(field) || !sizes[field].is_number_unsigned())
        return corrupt(std::string("map_sizes field ") + field + " missing or not a number");
    const auto value = sizes[field].get<std::uint64_t>();
    if (!bounds.contains(value))
        return corrupt(fmt::format("map_sizes field {} is {}, not {}-{}", field, value, bounds.min,
                                   bounds.max));
    return static_cast<std::uint32_t>(value);
}

// "map_sizes": {"max_mappings", "max_flows"}; absent (files written before sizes could be
// chosen) means the defaults.
Result<void> read_map_sizes(const json& root, State& state) {
    if (!root.contains("map_sizes")) return {};
    const json& sizes = root["map_sizes"];
    if (!sizes.is_object()) return corrupt("map_sizes is not an object");
    auto mappings = map_size_field(sizes, "max_mappings", loader::max_mappings_bounds());
    if (!mappings) return mappings.error();
    auto flows = map_size_field(sizes, "max_flows", loader::max_flows_bounds());
    if (!flows) return flows.error();
    state.map_sizes = {*mappings, *flows};
    return {};
}

Result<State> state_from_json(const json& root) {
    if (!root.is_object()) return corrupt("top level is not an object");
    if (!root.contains("version") || root["version"] != kStateVersion)
        return corrupt("unknown version (this build reads version 1)");
    State state;
    if (auto ok = read_map_sizes(root, state); !ok) return ok.error();  // bounds the mapping ids
    if (!root.contains("mappings") || !root["mappings"].is_array()) return corrupt("mappings missing");
    for (const auto& item : root["mappings"]) {
        auto mapping = mapping_from_json(item, state.map_sizes.max_mapping_id());
        if (!mapping) return mapping.error();
        state.mappings.push_back(*mapping);
    }
    if (auto ok = check_unique(state.mappings); !ok) return ok.error();
    if (!root.contains("interfaces") || !root["interfaces"].is_array())
        return corrupt("interfaces missing");
    for (const auto& item : root["interfaces"]) {
        if (!item.is_object()) return corrupt("interface is not an object");
        auto name = string_field(item, "name");
        if (!name) return name.error();
        if (name->empty() || name->size() > 15) return corrupt("bad interface name");
        if (!item.contains("created_clsact") || !item["created_clsact"].is_boolean())
            return corrupt("interface field created_clsact missing");
        auto mode = attach_mode_field(item);
        if (!mode) return mode.error();
        state.interfaces.push_back({*name, item["created_clsact"].get<bool>(), *mode});
    }
    if (root.contains("fast_path")) {  // absent in files written before the fast path existed
        if (!root["fast_path"].is_boolean()) return corrupt("fast_path is not a boolean");
        state.fast_path = root["fast_path"].get<bool>();
    }
    if (auto ok = read_containers(root, state); !ok) return ok.error();
    if (auto ok = read_cursors(root, state); !ok) return ok.error();
    if (auto ok = read_cgroups(root, state); !ok) return ok.error();
    return state;
}

}  // namespace

const ContainerRecord* State::find_container(std::string_view name) const {
    auto it = std::find_if(containers.begin(), containers.end(),
                           [&](const ContainerRecord& c) { return c.name == name; });
    return it == containers.end() ? nullptr : &*it;
}

bool State::name_in_use(std::string_view name) const {
    return find_container(name) != nullptr ||
           std::any_of(mappings.begin(), mappings.end(),
                       [&](const Mapping& m) { return m.name == name; });
}

Result<State> parse_state(std::string_view text) {
    json root = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
    if (root.is_discarded()) return corrupt("not valid JSON");
    return state_from_json(root);
}

std::string serialize_state(const State& state) {
    json mappings = json::array();
    for (const auto& mapping : state.mappings) mappings.push_back(mapping_to_json(mapping));
    json interfaces = json::array();
    for (const auto& record : state.interfaces)
        interfaces.push_back({{"name", record.name},
                              {"created_clsact", record.created_clsact},
                              {"mode", loader::to_string(record.mode)}});
    json containers = json::array();
    for (const auto& container : state.containers) containers.push_back(container_to_json(container));
    json cursors = json::array();
    for (const auto& cursor : state.cursors)
        cursors.push_back({{"host_ip", cursor.addr.to_string()},
                           {"proto", to_string(cursor.proto)},
                           {"last", cursor.last}});
    json root{{"version", kStateVersion}, {"mappings", mappings},     {"interfaces", interfaces},
              {"containers", containers},  {"cursors", cursors},        {"cgroups", state.cgroups},
              {"fast_path", state.fast_path},
              {"map_sizes",
               {{"max_mappings", state.map_sizes.max_mappings},
                {"max_flows", state.map_sizes.max_flows}}}};
    return root.dump(2) + "\n";
}

Result<StateStore> StateStore::open(const std::string& dir) {
    std::error_code ec;
    const bool created = fs::create_directories(dir, ec);
    if (ec) return make_error(ec.value() == EACCES ? ErrorCode::PermissionDenied : ErrorCode::Kernel,
                              "create state dir " + dir + ": " + ec.message(), ec.value());
    // Root only: the state names every published port and container (the file itself is 0600).
    if (created) fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);
    const std::string lock_path = dir + "/" + kLockFile;
    const int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return io_error("open " + lock_path);
    if (::flock(fd, LOCK_EX) != 0) {
        auto error = io_error("lock " + lock_path);
        ::close(fd);
        return error;
    }
    return StateStore(dir, fd);
}

StateStore::StateStore(StateStore&& other) noexcept
    : dir_(std::move(other.dir_)), lock_fd_(std::exchange(other.lock_fd_, -1)) {}

StateStore::~StateStore() {
    if (lock_fd_ >= 0) ::close(lock_fd_);  // closing releases the flock
}

std::string StateStore::file_path() const { return dir_ + "/" + kStateFile; }

Result<State> StateStore::load() const {
    std::ifstream in(file_path(), std::ios::binary);
    if (!in) {
        if (errno == ENOENT) return State{};
        return io_error("read " + file_path());
    }
    std::ostringstream text;
    text << in.rdbuf();
    auto state = parse_state(text.str());
    if (!state)
        return make_error(state.error().code, file_path() + ": " + state.error().message);
    return state;
}

Result<void> StateStore::save(const State& state) const {
    const std::string text = serialize_state(state);
    const std::string temp = file_path() + ".tmp";
    const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return io_error("write " + temp);
    std::size_t written = 0;
    while (written < text.size()) {
        const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
        if (n < 0) {
            if (errno == EINTR) continue;
            auto error = io_error("write " + temp);
            ::close(fd);
            return error;
        }
        written += static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0) {
        auto error = io_error("fsync " + temp);
        ::close(fd);
        return error;
    }
    ::close(fd);
    if (::rename(temp.c_str(), file_path().c_str()) != 0) return io_error("rename " + temp);
    const int dir_fd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd >= 0) {
        (void)::fsync(dir_fd);  // make the rename durable
        ::close(dir_fd);
    }
    return {};
}

}  // namespace fwd::ctl
