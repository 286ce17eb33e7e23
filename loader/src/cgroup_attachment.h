// fwd's socket programs on a cgroup, held by bpf_links pinned under the pin dir so
// they outlive fwdctl and can be swapped atomically (bpf_link_update) on upgrade.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "fwd/result.h"

struct bpf_program;

namespace fwd::loader {

struct CgroupHook {
    const char* name;      // "connect4", ... (also the pin name prefix)
    bpf_program* program;  // from the loaded skeleton
};

// Attaches or updates every hook on the cgroup at `path`; links pinned in `link_dir`.
[[nodiscard]] Result<void> cgroup_attach(const std::string& path, const std::string& link_dir,
                                         const std::vector<CgroupHook>& hooks);
// Detaches and unpins fwd's links for that cgroup (names as in `hook_names`).
[[nodiscard]] Result<void> cgroup_detach(const std::string& path, const std::string& link_dir,
                                         const std::vector<std::string>& hook_names);
// Program id behind each hook's pinned link, 0 where none.
[[nodiscard]] Result<std::vector<std::pair<std::string, std::uint32_t>>> cgroup_query(
    const std::string& path, const std::string& link_dir, const std::vector<std::string>& hook_names);

}  // namespace fwd::loader
