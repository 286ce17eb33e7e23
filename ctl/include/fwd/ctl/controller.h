// fwdctl's commands as plain logic over a Datapath and the state store. Each
// command validates everything first, then changes maps and state together:
// on any failure neither changes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "fwd/ctl/docker_spec.h"
#include "fwd/ctl/output.h"
#include "fwd/ctl/port_allocator.h"
#include "fwd/ctl/spec.h"
#include "fwd/ctl/state.h"
#include "fwd/loader/datapath.h"
#include "fwd/loader/host_sockets.h"
#include "fwd/result.h"

namespace fwd::ctl {

struct CommandOutput {
    std::string text;                   // for stdout
    std::vector<std::string> warnings;  // one line each, for stderr
    int exit_code = 0;                  // 1 when the command reports a problem it printed (check)
};

struct ControllerOptions {
    std::string pin_dir;
    PortRange pool{49000, 49900};
};

// `add HOST CONTAINER [--name NAME] [--allow CIDR]...`
struct AddOptions {
    std::string name;
    std::vector<IpCidr> allow;  // sorted, unique; empty: any source
    bool json = false;
};

// `publish NAME [--ip ADDR] [--ip6 ADDR6] [-p SPEC]... [-P] [--expose ...]... [--env K=V]...
// [--allow CIDR]... [--dry-run]`. At least one of ip and ip6: the families the container has.
// A -p without HOSTIP and -P publish on the wildcard of each of them, with one host port.
struct PublishOptions {
    std::string name;
    std::optional<Ipv4Addr> ip;
    std::optional<Ipv6Addr> ip6;
    std::vector<IpCidr> allow;  // for every mapping made; sorted, unique; empty: any source
    std::vector<PublishRequest> publish;  // every -p, expanded per container port
    bool publish_all = false;             // -P
    std::vector<ContainerPort> expose;
    std::vector<EnvVar> env;
    bool dry_run = false;
    bool json = false;
};

// attach's choices beyond the interface list.
struct AttachOptions {
    loader::AttachMode mode = loader::AttachMode::Tc;
    std::optional<bool> fast_path;  // unset: keep the recorded setting (default on)
    // Sizes for maps this attach creates; pinned maps must already have them. Unset: the sizes
    // recorded in the state (the defaults in a new one) for new maps, any size for pinned ones.
    std::optional<std::uint32_t> max_mappings;
    std::optional<std::uint32_t> max_flows;
};

class Controller {
public:
    Controller(loader::Datapath& datapath, const StateStore& store, loader::HostPortProbe& probe,
               ControllerOptions options)
        : datapath_(datapath), store_(store), probe_(probe), options_(std::move(options)) {}

    // Attaches the TC (and with mode xdp the XDP) programs to the interfaces and the socket
    // programs to `cgroup`.
    [[nodiscard]] Result<CommandOutput> attach(const std::vector<std::string>& interfaces,
                                               const std::string& cgroup,
                                               const AttachOptions& options = {});
    [[nodiscard]] Result<CommandOutput> detach(const std::vector<std::string>& interfaces, bool all);
    [[nodiscard]] Result<CommandOutput> add(const HostSpec& host, const ContainerSpec& container,
                                            const AddOptions& options);
    [[nodiscard]] Result<CommandOutput> del(const HostSpec& host);
    [[nodiscard]] Result<CommandOutput> list(bool json);
    [[nodiscard]] Result<CommandOutput> status(bool json);
    [[nodiscard]] Result<CommandOutput> stats(StatsFormat format);
    // Re-attaches the recorded interfaces and refills the maps from the state file.
    [[nodiscard]] Result<CommandOutput> restore();
    // Compares the maps with the state file and lists the drift (exit 1 if any); with
    // `repair`, makes the maps follow the state.
    [[nodiscard]] Result<CommandOutput> check(bool repair);

    [[nodiscard]] Result<CommandOutput> publish(const PublishOptions& options);
    [[nodiscard]] Result<CommandOutput> unpublish(const std::string& name);
    // `docker port NAME [PORT[/PROTO]]`; port_arg is the raw argument, echoed in errors.
    [[nodiscard]] Result<CommandOutput> port(const std::string& name, const std::string& port_arg);
    [[nodiscard]] Result<CommandOutput> link_env(const std::string& client,
                                                 const std::vector<LinkSpec>& links);

private:
    // Makes the maps equal to `desired` (when loaded), then saves the state; on a
    // failed save the maps are put back as they were.
    [[nodiscard]] Result<void> commit(const State& desired, std::vector<std::string>& warnings);
    // The mappings of one request: one per host address, all on one host port.
    [[nodiscard]] Result<std::vector<Mapping>> bind_request(State& desired,
                                                            const PublishRequest& request,
                                                            const PublishOptions& options,
                                                            PortAllocator& allocator);
    // `interfaces` names each interface with its mode (created_clsact is not read).
    [[nodiscard]] Result<CommandOutput> attach_recorded(
        const State& state, const std::vector<InterfaceRecord>& interfaces,
        const std::vector<std::string>& cgroups, bool skip_missing,
        const loader::LoadOptions& load_options);
    // Makes desired.map_sizes the sizes new mappings must fit: the pinned maps' once loaded
    // (which the state's mappings must fit too), else the recorded ones attach will create.
    [[nodiscard]] Result<void> adopt_map_sizes(State& desired);

    loader::Datapath& datapath_;
    const StateStore& store_;
    loader::HostPortProbe& probe_;
    ControllerOptions options_;
};

// The map edits that turn `current` into `desired` (compared by key and target).
[[nodiscard]] loader::MappingChange diff_mappings(const std::vector<Mapping>& current,
                                                  const std::vector<Mapping>& desired);

}  // namespace fwd::ctl
