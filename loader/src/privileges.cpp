#include "fwd/loader/privileges.h"

#include <cstdint>
#include <fstream>
#include <string>

namespace fwd::loader {
namespace {

// Capability numbers from <linux/capability.h> (CAP_BPF is 5.8+, newer than some libc headers).
constexpr int kCapNetAdmin = 12;
constexpr int kCapSysAdmin = 21;
constexpr int kCapBpf = 39;

// The effective capability set from /proc/self/status ("CapEff:\t000001ffffffffff").
std::uint64_t effective_capabilities() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("CapEff:", 0) == 0) return std::stoull(line.substr(7), nullptr, 16);
    }
    return 0;
}

bool has(std::uint64_t caps, int cap) { return (caps >> cap) & 1U; }

}  // namespace

Result<void> check_admin_privileges() {
    const std::uint64_t caps = effective_capabilities();
    if (has(caps, kCapSysAdmin) || (has(caps, kCapBpf) && has(caps, kCapNetAdmin))) return {};
    return make_error(ErrorCode::PermissionDenied,
                      "permission denied: fwdctl manages BPF programs, pinned maps and the state "
                      "dir, and needs root (CAP_BPF and CAP_NET_ADMIN, or CAP_SYS_ADMIN)");
}

}  // namespace fwd::loader
