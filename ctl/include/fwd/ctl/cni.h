// fwd-portmap, the CNI chained plugin: the pure part. It reads what a CNI runtime gives a
// plugin (CNI_* environment variables and the network config on stdin, with
// runtimeConfig.portMappings and the previous plugin's result), turns the port mappings into a
// `publish` for the Controller, and writes results and errors the way the CNI spec wants them
// (https://github.com/containernetworking/cni/blob/main/SPEC.md). Nothing here touches the
// kernel or the state dir; ctl/src/cni_main.cpp does.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "fwd/ctl/controller.h"
#include "fwd/result.h"
#include "fwd/types.h"

namespace fwd::ctl::cni {

// The CNI spec's well-known error codes, and fwd's own (100 and up).
enum ErrorCodes : unsigned {
    kIncompatibleVersion = 1,
    kUnsupportedField = 2,
    kUnknownContainer = 3,
    kInvalidEnvironment = 4,
    kIoFailure = 5,
    kDecodeFailure = 6,
    kInvalidNetworkConfig = 7,
    kTryAgainLater = 11,
    kPortConflict = 100,  // the host port is taken (by a mapping or a host socket)
    kMapsFull = 101,      // fwd's service map has no room
    kFwdFailure = 102,    // the kernel or fwd's state refused
    kCheckFailed = 103,   // CHECK found the container's mappings missing or different
};

// What the plugin prints on stdout when it fails (with a non-zero exit status).
struct CniError {
    unsigned code = kFwdFailure;
    std::string msg;
    std::string details;
    bool operator==(const CniError&) const = default;
};

// The CNI code for a Controller error: a taken port is kPortConflict, a full map kMapsFull,
// invalid input kInvalidNetworkConfig, anything else kFwdFailure.
[[nodiscard]] CniError from_fwd_error(const Error& error);

// A value or a CniError (fwd::Result's shape, with the CNI code the runtime needs).
template <typename T>
class [[nodiscard]] CniResult {
public:
    CniResult(T value) : data_(std::move(value)) {}      // NOLINT: implicit by design
    CniResult(CniError error) : data_(std::move(error)) {}  // NOLINT
    CniResult(const Error& error) : data_(from_fwd_error(error)) {}  // NOLINT

    explicit operator bool() const { return data_.index() == 0; }
    T& operator*() { return std::get<T>(data_); }
    const T& operator*() const { return std::get<T>(data_); }
    T* operator->() { return &std::get<T>(data_); }
    const T* operator->() const { return &std::get<T>(data_); }
    [[nodiscard]] const CniError& error() const { return std::get<CniError>(data_); }

private:
    std::variant<T, CniError> data_;
};

// The versions fwd-portmap speaks, oldest first; the last one is its default.
[[nodiscard]] const std::vector<std::string>& supported_versions();
[[nodiscard]] bool is_supported_version(std::string_view version);
// 0.3.0 to 0.4.0 share a result format; 1.0.0 drops ips[].version.
[[nodiscard]] bool is_pre_1_0(std::string_view version);

enum class Command { Add, Del, Check, Version };

// The CNI_* variables a runtime sets. CNI_COMMAND is required; ADD, DEL and CHECK need
// CNI_CONTAINERID and CNI_IFNAME too, ADD and CHECK also CNI_NETNS (DEL may come after the
// namespace is gone). CNI_PATH is not used: fwd-portmap delegates to no other plugin.
struct Environment {
    Command command = Command::Version;
    std::string container_id;
    std::string netns;
    std::string ifname;
};
using GetEnv = std::function<const char*(const char*)>;
[[nodiscard]] CniResult<Environment> parse_environment(const GetEnv& getenv);

// One entry of runtimeConfig.portMappings.
struct PortMapping {
    std::uint16_t host_port = 0;
    std::uint16_t container_port = 0;
    Proto proto = Proto::Tcp;
    std::optional<IpAddr> host_ip;  // unset (or ""): every family the container has
    bool operator==(const PortMapping&) const = default;
};

// Where fwd keeps its state; unset fields fall back to fwdctl's (environment, config file,
// defaults).
struct FwdDirsOverride {
    std::optional<std::string> state_dir;  // "stateDir"
    std::optional<std::string> pin_dir;    // "pinDir"
    std::optional<std::string> config;     // "configFile"
    bool operator==(const FwdDirsOverride&) const = default;
};

// The network config, as far as fwd-portmap reads it.
struct NetConf {
    std::string cni_version;
    std::string name;  // the network's
    std::vector<PortMapping> port_mappings;
    FwdDirsOverride dirs;
    std::optional<nlohmann::json> prev_result;  // as given
    // The container's first address of each family on CNI_IFNAME, from prevResult.
    std::optional<Ipv4Addr> container_ip;
    std::optional<Ipv6Addr> container_ip6;
};

// Parses stdin's network config; `ifname` picks the container's addresses out of prevResult
// (an address on an interface with another name, or without a sandbox, is the host side's).
// Errors: 6 not JSON or wrong JSON types, 1 unsupported cniVersion, 2 an option fwd cannot
// honour (masqAll, conditionsV4/V6), 7 anything else invalid.
[[nodiscard]] CniResult<NetConf> parse_net_conf(std::string_view text, std::string_view ifname);

// The cniVersion to answer in: the one stdin asks for if fwd-portmap supports it, else its
// default (for errors about stdin itself too).
[[nodiscard]] std::string reply_version(std::string_view stdin_text);

// VERSION's answer: {"cniVersion": reply_version(), "supportedVersions": [...]}.
[[nodiscard]] std::string version_json(std::string_view stdin_text);

// The error JSON for stdout: {"cniVersion", "code", "msg", "details"?}.
[[nodiscard]] std::string error_json(const CniError& error, std::string_view cni_version);

// ADD's output: prevResult in the config's cniVersion (ips[].version added for 0.x, removed
// for 1.0.0).
[[nodiscard]] std::string add_result_json(const NetConf& conf);

// The owner name of a container's mappings on one network, so DEL removes exactly them:
// "cni.<network>.<container id>", or for names too long for fwd (128 characters) a shortened
// form ending in a hash of both. Errors (4 or 7) for an ID or network name with characters fwd
// names cannot hold.
[[nodiscard]] CniResult<std::string> mapping_name(std::string_view network,
                                                  std::string_view container_id);

// The `publish` that makes the config's mappings for the container: each port mapping on its
// hostIP, or without one on the wildcard of every family the container has. Errors (7) for a
// config that asks for a family the container has no address of.
[[nodiscard]] CniResult<PublishOptions> publish_options(const NetConf& conf,
                                                        const std::string& name);

// The mappings that `options` makes (ids and host ports as asked; no pool ports in CNI).
[[nodiscard]] std::vector<Mapping> expected_mappings(const PublishOptions& options);

// What `publish` would make the mappings recorded under `name` again (the container's
// addresses and every mapping on its own host address); for putting them back when replacing
// them failed.
[[nodiscard]] PublishOptions recorded_publish_options(const State& state, const std::string& name);

// CHECK's comparison: every expected mapping is recorded under `name` and present in the
// kernel's maps with the same target, and nothing else is recorded under `name`. An empty
// result means all is well; otherwise one line per problem.
[[nodiscard]] std::vector<std::string> check_mappings(const std::vector<Mapping>& expected,
                                                      const std::vector<Mapping>& recorded,
                                                      const std::vector<Mapping>& live);

}  // namespace fwd::ctl::cni
