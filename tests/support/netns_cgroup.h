// End-to-end test support: a private cgroup v2 child that holds the whole test process, so
// cgroup socket programs (fwdctl attach --cgroup PATH) act on the test's own sockets and on
// nothing else on the machine.
//
// Cgroups are named "<prefix><pid>-<n>" directly under the cgroup2 mount, so two test
// processes never collide and a fixture can tell the leftovers of dead processes from a live
// run's. Every wait is bounded.
#pragma once

#include <optional>
#include <string>

namespace fwd::test {

// Where cgroup2 is mounted, from /proc/mounts (the first cgroup2 entry); nullopt if nowhere.
[[nodiscard]] std::optional<std::string> cgroup2_mount();

// This process's cgroup v2 path relative to the cgroup2 mount ("/" or "/a/b"), from the "0::"
// line of /proc/self/cgroup. Throws std::runtime_error if there is none.
[[nodiscard]] std::string current_cgroup2();

// Creates <cgroup2 mount>/<prefix><pid>-<n> and moves this whole process (every thread, so also
// the threads that enter a network namespace to open sockets) into it. Sockets take the
// cgroup of the process that creates them, so create the fixture before any socket.
// The destructor moves the process back to the cgroup it came from and removes the child.
// Processes forked later (fwdctl, ip) start in the child too.
class CgroupFixture {
public:
    // Removes stale "<prefix><pid>-*" cgroups of processes that are gone, then creates and
    // enters a new one. Throws std::runtime_error if cgroup2 is not mounted or a step fails
    // (after undoing what it did).
    explicit CgroupFixture(std::string prefix = "fwdt-");
    ~CgroupFixture();
    CgroupFixture(const CgroupFixture&) = delete;
    CgroupFixture& operator=(const CgroupFixture&) = delete;

    // Absolute path of the child cgroup (e.g. /sys/fs/cgroup/unified/fwdt-123-0).
    [[nodiscard]] const std::string& path() const { return path_; }

    // Best-effort: moves the process back and removes the child (the destructor calls it;
    // calling it twice is harmless).
    void teardown() noexcept;

private:
    void remove_stale() noexcept;

    std::string prefix_;
    std::string mount_;     // cgroup2 mount point
    std::string original_;  // absolute path of the cgroup the process came from
    std::string path_;      // absolute path of the child; empty once removed
    bool entered_ = false;
};

}  // namespace fwd::test
