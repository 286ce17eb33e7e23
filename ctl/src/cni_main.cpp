// fwd-portmap: a CNI chained plugin that publishes a container's runtimeConfig.portMappings
// through fwd's BPF maps (instead of the reference portmap plugin's iptables DNAT). A runtime
// runs it after the plugin that gave the container its addresses: CNI_COMMAND and friends in
// the environment, the network config (with prevResult) on stdin. ADD publishes the mappings
// under a name made of the network and container ID and prints prevResult; DEL removes exactly
// that name's mappings (nothing recorded is fine); CHECK compares them with the config and the
// maps; VERSION lists the spec versions. Failures are CNI error JSON on stdout, exit status 1.
// fwd's dirs are fwdctl's (FWD_STATE_DIR, FWD_PIN_DIR, FWD_CONFIG, /etc/fwd/fwd.conf), unless
// the config's stateDir, pinDir or configFile say otherwise.
#include <cstdlib>
#include <exception>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "fwd/ctl/cni.h"
#include "fwd/loader/privileges.h"
#include "fwd_session.h"

namespace {

namespace cni = fwd::ctl::cni;
using fwd::ctl::FwdDirs;
using fwd::ctl::FwdSession;

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;

int fail(const cni::CniError& error, const std::string& version) {
    std::cout << cni::error_json(error, version) << std::flush;
    return kExitFailed;
}

// The config's dirs first, then fwdctl's way of finding them.
cni::CniResult<FwdDirs> fwd_dirs(const cni::NetConf& conf) {
    auto dirs = fwd::ctl::find_fwd_dirs(conf.dirs.config);
    if (!dirs) return cni::CniError{cni::kInvalidNetworkConfig, dirs.error().message, {}};
    if (conf.dirs.state_dir) dirs->state_dir = *conf.dirs.state_dir;
    if (conf.dirs.pin_dir) dirs->pin_dir = *conf.dirs.pin_dir;
    return *dirs;
}

// ADD's one change: publish, or for an ADD repeated without DEL (a runtime's retry) replace
// what the earlier one recorded, putting that back if the new mappings cannot go in.
cni::CniResult<bool> publish(FwdSession& fwd, const FwdDirs& dirs,
                             const fwd::ctl::PublishOptions& options) {
    if (!fwd.datapath.is_loaded())
        return cni::CniError{cni::kTryAgainLater, fwd::ctl::not_attached_error(dirs).message, {}};
    auto state = fwd.store.load();
    if (!state) return state.error();
    if (!state->name_in_use(options.name)) {
        auto added = fwd.controller.publish(options);
        if (!added) return added.error();
        return true;
    }
    const auto earlier = cni::recorded_publish_options(*state, options.name);
    if (auto removed = fwd.controller.unpublish(options.name); !removed) return removed.error();
    auto added = fwd.controller.publish(options);
    if (added) return true;
    (void)fwd.controller.publish(earlier);
    return added.error();
}

int add(const cni::NetConf& conf, const std::string& name) {
    if (!conf.prev_result)
        return fail({cni::kInvalidNetworkConfig,
                     "prevResult is missing: fwd-portmap is a chained plugin and runs after the "
                     "plugin that gives the container its addresses",
                     {}},
                    conf.cni_version);
    if (!conf.port_mappings.empty()) {
        const auto options = cni::publish_options(conf, name);
        if (!options) return fail(options.error(), conf.cni_version);
        const auto dirs = fwd_dirs(conf);
        if (!dirs) return fail(dirs.error(), conf.cni_version);
        const auto done = fwd::ctl::with_session(*dirs, /*need_attached=*/false, [&](FwdSession& fwd) {
            return publish(fwd, *dirs, *options);
        });
        if (!done) return fail(done.error(), conf.cni_version);
    }
    std::cout << cni::add_result_json(conf) << std::flush;
    return kExitOk;
}

// Removes whatever is recorded under the name, whatever the config's mappings say now; with
// fwd not attached only the state changes (restore or attach fills the maps from it).
int del(const cni::NetConf& conf, const std::string& name) {
    const auto dirs = fwd_dirs(conf);
    if (!dirs) return fail(dirs.error(), conf.cni_version);
    const auto done = fwd::ctl::with_session(*dirs, /*need_attached=*/false,
                                             [&](FwdSession& fwd) -> cni::CniResult<bool> {
        auto state = fwd.store.load();
        if (!state) return state.error();
        if (!state->name_in_use(name)) return true;
        if (auto removed = fwd.controller.unpublish(name); !removed) return removed.error();
        return true;
    });
    if (!done) return fail(done.error(), conf.cni_version);
    return kExitOk;
}

int check(const cni::NetConf& conf, const std::string& name) {
    if (!conf.prev_result)
        return fail({cni::kInvalidNetworkConfig, "prevResult is missing: CHECK needs it", {}},
                    conf.cni_version);
    std::vector<fwd::Mapping> expected;
    if (!conf.port_mappings.empty()) {
        const auto options = cni::publish_options(conf, name);
        if (!options) return fail(options.error(), conf.cni_version);
        expected = cni::expected_mappings(*options);
    }
    const auto dirs = fwd_dirs(conf);
    if (!dirs) return fail(dirs.error(), conf.cni_version);
    const auto problems = fwd::ctl::with_session(*dirs, /*need_attached=*/false,
                                                 [&](FwdSession& fwd) -> cni::CniResult<std::vector<std::string>> {
        if (!fwd.datapath.is_loaded())
            return cni::CniError{cni::kTryAgainLater, fwd::ctl::not_attached_error(*dirs).message, {}};
        auto state = fwd.store.load();
        if (!state) return state.error();
        auto live = fwd.datapath.read_mappings();
        if (!live) return live.error();
        std::vector<fwd::Mapping> recorded;
        for (const auto& mapping : state->mappings)
            if (mapping.name == name) recorded.push_back(mapping);
        return cni::check_mappings(expected, recorded, *live);
    });
    if (!problems) return fail(problems.error(), conf.cni_version);
    if (!problems->empty())
        return fail({cni::kCheckFailed, "the mappings of " + name + " are not as configured",
                     fmt::format("{}", fmt::join(*problems, "; "))},
                    conf.cni_version);
    return kExitOk;
}

int run() {
    const auto env = cni::parse_environment([](const char* name) { return std::getenv(name); });
    std::string input(std::istreambuf_iterator<char>(std::cin), {});
    if (std::cin.bad()) return fail({cni::kIoFailure, "reading the network config from stdin failed", {}}, "");
    if (!env) return fail(env.error(), cni::reply_version(input));
    if (env->command == cni::Command::Version) {
        std::cout << cni::version_json(input) << std::flush;
        return kExitOk;
    }
    const auto conf = cni::parse_net_conf(input, env->ifname);
    if (!conf) return fail(conf.error(), cni::reply_version(input));
    const auto name = cni::mapping_name(conf->name, env->container_id);
    if (!name) return fail(name.error(), conf->cni_version);
    if (auto allowed = fwd::loader::check_admin_privileges(); !allowed)
        return fail(cni::from_fwd_error(allowed.error()), conf->cni_version);
    switch (env->command) {
    case cni::Command::Add: return add(*conf, *name);
    case cni::Command::Del: return del(*conf, *name);
    case cni::Command::Check: return check(*conf, *name);
    case cni::Command::Version: break;
    }
    return kExitOk;
}

}  // namespace

int main() try {
    return run();
} catch (const std::exception& error) {
    // Only allocation failures and the like reach here.
    return fail({cni::kFwdFailure, error.what(), {}}, "");
}
