#include "support/netns_cgroup.h"

#include <fcntl.h>
#include <fmt/core.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string_view>
#include <utility>
#include <vector>

#include "support/netns_fixture.h"

namespace fwd::test {

namespace {

using std::chrono::milliseconds;

// Nested cgroups below a stale one are removed to at most this depth.
constexpr int kMaxStaleDepth = 8;
// A cgroup whose last task just left can stay "populated" for a moment.
constexpr milliseconds kRmdirTimeout{3000};

std::string errno_text(int err) {
    return std::strerror(err);
}

// Writes `pid` to <cgroup>/cgroup.procs. Returns 0 or the errno of the failure.
int move_pid(const std::string& cgroup, pid_t pid) {
    const std::string file = cgroup + "/cgroup.procs";
    const int fd = ::open(file.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
        return errno;
    }
    const std::string text = std::to_string(pid) + "\n";
    const ssize_t n = ::write(fd, text.data(), text.size());
    const int err = n < 0 ? errno : 0;
    ::close(fd);
    return err;
}

std::vector<pid_t> procs_of(const std::string& cgroup) {
    std::vector<pid_t> pids;
    std::ifstream file(cgroup + "/cgroup.procs");
    pid_t pid = 0;
    // Bounded by the file's size.
    while (file >> pid) {
        pids.push_back(pid);
    }
    return pids;
}

// rmdir with a bounded retry while the cgroup still counts as busy. Returns 0 or the errno.
int remove_cgroup_dir(const std::string& path) {
    int err = 0;
    wait_until(
        [&] {
            err = ::rmdir(path.c_str()) == 0 ? 0 : errno;
            return err == 0 || err == ENOENT || err != EBUSY;
        },
        kRmdirTimeout, milliseconds{20});
    return err == ENOENT ? 0 : err;
}

// Removes `path` and the cgroups below it, moving whatever processes are still in them to
// `refuge` first. Best effort; reports failures on stderr.
void remove_tree(const std::string& path, const std::string& refuge, int depth) {
    if (depth > kMaxStaleDepth) {
        return;
    }
    std::error_code ec;
    std::vector<std::string> children;
    std::filesystem::directory_iterator it(path, ec);
    for (; !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
        if (it->is_directory(ec)) {
            children.push_back(it->path().string());
        }
    }
    for (const auto& child : children) {
        remove_tree(child, refuge, depth + 1);
    }
    for (const pid_t pid : procs_of(path)) {
        (void)move_pid(refuge, pid);
    }
    if (const int err = remove_cgroup_dir(path); err != 0) {
        std::fprintf(stderr, "cgroup fixture: cannot remove %s: %s\n", path.c_str(),
                     errno_text(err).c_str());
    }
}

// True for "<prefix><pid>-<n>" (the names CgroupFixture gives), n all digits.
bool is_counter_name(std::string_view name, std::string_view prefix) {
    const auto dash = name.find('-', prefix.size());
    if (owner_pid(name, prefix) <= 0 || dash == std::string_view::npos || dash + 1 >= name.size()) {
        return false;
    }
    return name.find_first_not_of("0123456789", dash + 1) == std::string_view::npos;
}

std::string join_path(const std::string& mount, const std::string& relative) {
    if (relative.empty() || relative == "/") {
        return mount;
    }
    return relative.front() == '/' ? mount + relative : mount + "/" + relative;
}

}  // namespace

std::optional<std::string> cgroup2_mount() {
    std::ifstream mounts("/proc/mounts");
    std::string device;
    std::string mount_point;
    std::string fs_type;
    std::string rest;
    // Bounded by the size of the mount table.
    while (mounts >> device >> mount_point >> fs_type && std::getline(mounts, rest)) {
        if (fs_type == "cgroup2") {
            return mount_point;
        }
    }
    return std::nullopt;
}

std::string current_cgroup2() {
    std::ifstream file("/proc/self/cgroup");
    std::string line;
    // Bounded by the number of hierarchies.
    while (std::getline(file, line)) {
        if (line.rfind("0::", 0) == 0) {
            return line.substr(3);
        }
    }
    throw std::runtime_error("no cgroup v2 (\"0::\") line in /proc/self/cgroup");
}

CgroupFixture::CgroupFixture(std::string prefix) : prefix_(std::move(prefix)) {
    static std::atomic<int> counter{0};
    const auto mount = cgroup2_mount();
    if (!mount) {
        throw std::runtime_error("cgroup2 is not mounted (no cgroup2 entry in /proc/mounts)");
    }
    mount_ = *mount;
    original_ = join_path(mount_, current_cgroup2());
    remove_stale();

    const std::string name = fmt::format("{}{}-{}", prefix_, ::getpid(), counter++);
    const std::string path = mount_ + "/" + name;
    if (::mkdir(path.c_str(), 0755) != 0) {
        throw std::runtime_error(fmt::format("mkdir {}: {}", path, errno_text(errno)));
    }
    path_ = path;
    if (const int err = move_pid(path_, ::getpid()); err != 0) {
        teardown();
        throw std::runtime_error(
            fmt::format("move pid {} into {}: {}", ::getpid(), path, errno_text(err)));
    }
    entered_ = true;
    const std::string now = current_cgroup2();
    if (now != "/" + name) {
        teardown();
        throw std::runtime_error(
            fmt::format("after the move /proc/self/cgroup says {}, not /{}", now, name));
    }
}

CgroupFixture::~CgroupFixture() {
    teardown();
}

void CgroupFixture::teardown() noexcept {
    try {
        if (entered_) {
            if (const int err = move_pid(original_, ::getpid()); err != 0) {
                std::fprintf(stderr, "cgroup fixture: cannot move back to %s: %s\n",
                             original_.c_str(), errno_text(err).c_str());
                // Leave the child: removing it would fail while we are inside anyway.
                return;
            }
            entered_ = false;
        }
        if (!path_.empty()) {
            // Children forked in the test (fwdctl, ip) are reaped by then; remove_tree also
            // moves any straggler out first.
            remove_tree(path_, original_, 0);
            path_.clear();
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "cgroup fixture: teardown: %s\n", e.what());
    }
}

void CgroupFixture::remove_stale() noexcept {
    try {
        std::error_code ec;
        std::vector<std::string> stale;
        std::filesystem::directory_iterator it(mount_, ec);
        for (; !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
            const std::string name = it->path().filename().string();
            const pid_t pid = owner_pid(name, prefix_);
            if (pid <= 0 || !it->is_directory(ec)) {
                continue;
            }
            // An earlier CgroupFixture of this process ("<prefix><pid>-<n>") that could not
            // clean up is stale too, unless the process is still inside it. Other cgroups of
            // this process (NetnsFixture's "<prefix><pid>-empty") may be in use.
            const bool mine = pid == ::getpid() && is_counter_name(name, prefix_) &&
                              it->path().string() != original_ &&
                              original_.rfind(it->path().string() + "/", 0) != 0;
            const bool dead = pid != ::getpid() && ::kill(pid, 0) != 0 && errno == ESRCH;
            if (mine || dead) {
                stale.push_back(it->path().string());
            }
        }
        for (const auto& path : stale) {
            remove_tree(path, mount_, 0);
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "cgroup fixture: removing stale cgroups: %s\n", e.what());
    }
}

}  // namespace fwd::test
