// For the programs that other tools start instead of fwdctl (fwd-docker-proxy, fwd-portmap):
// finding fwd's state and pin dirs as fwdctl does, and running one step on a Controller over
// them. Header-only and internal (not in include/): only those programs include it, and they
// link the loader.
#pragma once

#include <cstdlib>
#include <optional>
#include <string>

#include "fwd/ctl/config_file.h"
#include "fwd/ctl/controller.h"
#include "fwd/loader/datapath.h"
#include "fwd/loader/host_sockets.h"

namespace fwd::ctl {

struct FwdDirs {
    std::string state_dir = "/var/lib/fwd";
    std::string pin_dir = "/sys/fs/bpf/fwd";
};

// As fwdctl finds them: the environment (FWD_STATE_DIR, FWD_PIN_DIR), then the config file
// (`config_path`, else FWD_CONFIG, else /etc/fwd/fwd.conf if it exists), then the defaults.
inline Result<FwdDirs> find_fwd_dirs(const std::optional<std::string>& config_path = std::nullopt) {
    FwdDirs dirs;
    const char* from_env = std::getenv("FWD_CONFIG");
    const bool named = config_path.has_value() || from_env != nullptr;
    const std::string path = config_path ? *config_path : from_env ? from_env : kDefaultConfigPath;
    auto config = read_config(path, named);
    if (!config) return config.error();
    const auto pick = [&](std::string& dir, const char* env, const char* key) {
        if (const char* value = std::getenv(env); value != nullptr && *value != '\0') {
            dir = value;
        } else if (*config && (*config)->count(key) != 0) {
            dir = (*config)->at(key);
        }
    };
    pick(dirs.state_dir, "FWD_STATE_DIR", "state-dir");
    pick(dirs.pin_dir, "FWD_PIN_DIR", "pin-dir");
    return dirs;
}

// What one step sees: the locked state, the kernel's maps, and a Controller over both.
struct FwdSession {
    const StateStore& store;
    loader::Datapath& datapath;
    Controller& controller;
};

inline Error not_attached_error(const FwdDirs& dirs) {
    return make_error(ErrorCode::NotFound,
                      "fwd is not attached: run fwdctl attach first (pin dir " + dirs.pin_dir + ")");
}

// Runs `step(FwdSession&)` with the state dir locked only meanwhile. With `need_attached`, fwd
// must be attached (a NotFound error from not_attached_error() otherwise).
template <typename Step>
auto with_session(const FwdDirs& dirs, bool need_attached, Step step)
    -> decltype(step(std::declval<FwdSession&>())) {
    auto store = StateStore::open(dirs.state_dir);
    if (!store) return store.error();
    auto datapath = loader::make_kernel_datapath(dirs.pin_dir);
    if (need_attached && !datapath->is_loaded()) return not_attached_error(dirs);
    loader::ProcNetProbe probe;
    Controller controller(*datapath, *store, probe, {dirs.pin_dir, {}});
    FwdSession session{*store, *datapath, controller};
    return step(session);
}

}  // namespace fwd::ctl
