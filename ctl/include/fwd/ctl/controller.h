// fwdctl's commands as plain logic over a Datapath and the state store. Each
// command validates everything first, then changes maps and state together:
// on any failure neither changes.
#pragma once

#include <string>
#include <vector>

#include "fwd/ctl/spec.h"
#include "fwd/ctl/state.h"
#include "fwd/loader/datapath.h"
#include "fwd/result.h"

namespace fwd::ctl {

struct CommandOutput {
    std::string text;                   // for stdout
    std::vector<std::string> warnings;  // one line each, for stderr
};

struct ControllerOptions {
    std::string pin_dir;
    PortRange pool{49000, 49900};
};

class Controller {
public:
    Controller(loader::Datapath& datapath, const StateStore& store, ControllerOptions options)
        : datapath_(datapath), store_(store), options_(std::move(options)) {}

    [[nodiscard]] Result<CommandOutput> attach(const std::vector<std::string>& interfaces);
    [[nodiscard]] Result<CommandOutput> detach(const std::vector<std::string>& interfaces, bool all);
    [[nodiscard]] Result<CommandOutput> add(const HostSpec& host, const ContainerSpec& container,
                                            const std::string& name, bool json);
    [[nodiscard]] Result<CommandOutput> del(const HostSpec& host);
    [[nodiscard]] Result<CommandOutput> list(bool json);
    [[nodiscard]] Result<CommandOutput> status(bool json);
    [[nodiscard]] Result<CommandOutput> stats(bool json);

private:
    // Makes the maps equal to `desired` (when loaded), then saves the state; on a
    // failed save the maps are put back as they were.
    [[nodiscard]] Result<void> commit(const State& desired, std::vector<std::string>& warnings);
    [[nodiscard]] Result<void> sync_maps(const std::vector<Mapping>& desired);

    loader::Datapath& datapath_;
    const StateStore& store_;
    ControllerOptions options_;
};

// Docker's container-name rule: [a-zA-Z0-9][a-zA-Z0-9_.-]*
[[nodiscard]] Result<void> validate_name(const std::string& name);

// The map edits that turn `current` into `desired` (compared by key and target).
[[nodiscard]] loader::MappingChange diff_mappings(const std::vector<Mapping>& current,
                                                  const std::vector<Mapping>& desired);

}  // namespace fwd::ctl
