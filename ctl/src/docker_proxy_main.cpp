// fwd-docker-proxy: dockerd's userland proxy, replaced. dockerd starts one per published port
// ("userland-proxy-path" in daemon.json) and waits for a status on fd 3: "0\n" when the port is
// served, "1\n<error>" when not. This one installs the port's mapping into fwd's maps (fwd must
// be attached), reports, and holds it until SIGTERM or SIGINT (dockerd's stop) or its parent's
// death, then removes exactly that mapping. The state and pin dirs are fwdctl's: FWD_STATE_DIR,
// FWD_PIN_DIR, or /etc/fwd/fwd.conf, or the defaults.
#include <sys/prctl.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "fwd/ctl/config_file.h"
#include "fwd/ctl/controller.h"
#include "fwd/ctl/docker_proxy.h"
#include "fwd/loader/datapath.h"
#include "fwd/loader/host_sockets.h"
#include "fwd/loader/privileges.h"

namespace {

constexpr int kStatusFd = 3;

struct Dirs {
    std::string state_dir = "/var/lib/fwd";
    std::string pin_dir = "/sys/fs/bpf/fwd";
};

// As fwdctl finds them: the environment, then the config file, then the defaults.
fwd::Result<Dirs> find_dirs() {
    Dirs dirs;
    const char* named = std::getenv("FWD_CONFIG");
    auto config = fwd::ctl::read_config(named ? named : fwd::ctl::kDefaultConfigPath, named != nullptr);
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

// Tells dockerd how the start went, once; without fd 3 (run by hand) only stderr says it.
void report(const std::string& status) {
    if (::write(kStatusFd, status.data(), status.size()) < 0) {
        // No status pipe: nothing more to do than the stderr line the caller printed.
    }
    ::close(kStatusFd);
}

int fail(const std::string& message) {
    std::cerr << "fwd-docker-proxy: error: " << message << "\n";
    report("1\n" + message);
    return 1;
}

// Runs `command` on a Controller over fwd's state, which stays locked only meanwhile.
template <typename Command>
fwd::Result<fwd::ctl::CommandOutput> with_controller(const Dirs& dirs, Command command) {
    auto store = fwd::ctl::StateStore::open(dirs.state_dir);
    if (!store) return store.error();
    auto datapath = fwd::loader::make_kernel_datapath(dirs.pin_dir);
    if (!datapath->is_loaded())
        return fwd::make_error(fwd::ErrorCode::NotFound,
                               "fwd is not attached: run fwdctl attach first (pin dir " +
                                   dirs.pin_dir + ")");
    fwd::loader::ProcNetProbe probe;
    fwd::ctl::Controller controller(*datapath, *store, probe, {dirs.pin_dir, {}});
    return command(controller);
}

int run(int argc, char** argv) {
    // dockerd's stop is SIGTERM; its death must stop us too. Both wait in sigwait() below,
    // blocked from here on so that none is lost while the mapping goes in.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    sigprocmask(SIG_BLOCK, &stop_signals, nullptr);
    const pid_t parent = ::getppid();
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) return fail("the parent process is gone");

    const auto request = fwd::ctl::parse_proxy_args(std::vector<std::string>(argv + 1, argv + argc));
    if (!request) return fail(request.error().message);
    if (auto allowed = fwd::loader::check_admin_privileges(); !allowed)
        return fail(allowed.error().message);
    const auto dirs = find_dirs();
    if (!dirs) return fail(dirs.error().message);

    const fwd::ctl::HostSpec host{request->host_ip, {request->host_port, request->host_port},
                                  request->proto};
    const fwd::ctl::ContainerSpec container{request->container_ip,
                                            {request->container_port, request->container_port}};
    fwd::ctl::AddOptions options;
    options.name = fwd::ctl::proxy_mapping_name(::getpid());
    auto added = with_controller(*dirs, [&](fwd::ctl::Controller& controller) {
        return controller.add(host, container, options);
    });
    if (!added) return fail(added.error().message);
    report("0\n");

    int signal = 0;
    sigwait(&stop_signals, &signal);
    auto removed = with_controller(*dirs, [&](fwd::ctl::Controller& controller) {
        return controller.unpublish(options.name);
    });
    if (!removed) {
        std::cerr << "fwd-docker-proxy: error: removing " << options.name << ": "
                  << removed.error().message << "\n";
        return 1;
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) try {
    return run(argc, argv);
} catch (const std::exception& error) {
    // Only allocation failures and the like reach here.
    return fail(error.what());
}
