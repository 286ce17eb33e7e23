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

#include "fwd/ctl/docker_proxy.h"
#include "fwd/loader/privileges.h"
#include "fwd_session.h"

namespace {

constexpr int kStatusFd = 3;

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
    const auto dirs = fwd::ctl::find_fwd_dirs();
    if (!dirs) return fail(dirs.error().message);

    const fwd::ctl::HostSpec host{request->host_ip, {request->host_port, request->host_port},
                                  request->proto};
    const fwd::ctl::ContainerSpec container{request->container_ip,
                                            {request->container_port, request->container_port}};
    fwd::ctl::AddOptions options;
    options.name = fwd::ctl::proxy_mapping_name(::getpid());
    auto added = fwd::ctl::with_session(*dirs, /*need_attached=*/true, [&](fwd::ctl::FwdSession& fwd) {
        return fwd.controller.add(host, container, options);
    });
    if (!added) return fail(added.error().message);
    report("0\n");

    int signal = 0;
    sigwait(&stop_signals, &signal);
    auto removed = fwd::ctl::with_session(*dirs, /*need_attached=*/true, [&](fwd::ctl::FwdSession& fwd) {
        return fwd.controller.unpublish(options.name);
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
