#include "cgroup_attachment.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "bpf_error.h"
#include "fwd/loader/datapath.h"
#include "unique_fd.h"

namespace fwd::loader {
namespace {

namespace fs = std::filesystem;

// Links are named by hook and the cgroup's inode, which stays stable while it exists.
Result<std::string> link_pin(const std::string& path, const std::string& link_dir,
                             const std::string& hook) {
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0) return errno_error("cgroup " + path);
    if (!S_ISDIR(info.st_mode))
        return make_error(ErrorCode::NotFound, "cgroup " + path + " is not a directory");
    return link_dir + "/" + hook + "-" + std::to_string(info.st_ino);
}

Result<void> attach_one(int cgroup_fd, const std::string& pin, bpf_program* program,
                        const std::string& hook) {
    UniqueFd existing(bpf_obj_get(pin.c_str()));
    if (existing.valid()) {
        if (bpf_link_update(existing.get(), bpf_program__fd(program), nullptr) != 0)
            return errno_error("update " + hook + " link");
        return {};
    }
    bpf_link* link = bpf_program__attach_cgroup(program, cgroup_fd);
    if (link == nullptr) return errno_error("attach " + hook);
    const int pinned = bpf_link__pin(link, pin.c_str());
    if (pinned != 0) {
        bpf_link__destroy(link);  // not pinned: detach it again
        return libbpf_error(pinned, "pin " + hook + " link");
    }
    bpf_link__disconnect(link);  // the pin keeps it attached after we exit
    bpf_link__destroy(link);
    return {};
}

}  // namespace

Result<void> cgroup_attach(const std::string& path, const std::string& link_dir,
                           const std::vector<CgroupHook>& hooks) {
    std::error_code ec;
    const bool created = fs::create_directories(link_dir, ec);
    if (ec) return make_error(ErrorCode::Kernel, "create " + link_dir + ": " + ec.message());
    if (created) fs::permissions(link_dir, fs::perms::owner_all, fs::perm_options::replace, ec);
    UniqueFd cgroup(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!cgroup.valid()) return errno_error("open cgroup " + path);
    for (const auto& hook : hooks) {
        auto pin = link_pin(path, link_dir, hook.name);
        if (!pin) return pin.error();
        if (auto ok = attach_one(cgroup.get(), *pin, hook.program, hook.name); !ok) return ok;
    }
    return {};
}

Result<void> cgroup_detach(const std::string& path, const std::string& link_dir,
                           const std::vector<std::string>& hook_names) {
    for (const auto& hook : hook_names) {
        auto pin = link_pin(path, link_dir, hook);
        if (!pin) return {};  // the cgroup is gone, and its links with it
        UniqueFd link(bpf_obj_get(pin->c_str()));
        if (!link.valid()) continue;
        if (bpf_link_detach(link.get()) != 0 && errno != ENOENT)
            return errno_error("detach " + hook + " link");
        ::unlink(pin->c_str());
    }
    return {};
}

Result<std::vector<std::pair<std::string, std::uint32_t>>> cgroup_query(
    const std::string& path, const std::string& link_dir, const std::vector<std::string>& hook_names) {
    std::vector<std::pair<std::string, std::uint32_t>> programs;
    for (const auto& hook : hook_names) {
        std::uint32_t prog_id = 0;
        auto pin = link_pin(path, link_dir, hook);
        if (pin) {
            UniqueFd link(bpf_obj_get(pin->c_str()));
            bpf_link_info info{};
            __u32 len = sizeof(info);
            if (link.valid() && bpf_obj_get_info_by_fd(link.get(), &info, &len) == 0 &&
                info.cgroup.cgroup_id != 0)
                prog_id = info.prog_id;
        }
        programs.emplace_back(hook, prog_id);
    }
    return programs;
}

Result<std::string> cgroup2_root() {
    std::ifstream mounts("/proc/mounts");
    std::string line;
    while (std::getline(mounts, line)) {
        std::istringstream fields(line);
        std::string device;
        std::string mount_point;
        std::string type;
        if (fields >> device >> mount_point >> type && type == "cgroup2") return mount_point;
    }
    return make_error(ErrorCode::NotFound, "no cgroup2 filesystem mounted (see /proc/mounts)");
}

}  // namespace fwd::loader
