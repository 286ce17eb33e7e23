#include "pinned_map.h"

#include <bpf/libbpf.h>
#include <fmt/format.h>

#include <cerrno>

namespace fwd::loader {

Result<MapShape> map_shape(int fd, const std::string& name) {
    bpf_map_info info{};
    __u32 info_len = sizeof(info);
    if (bpf_obj_get_info_by_fd(fd, &info, &info_len) != 0)
        return errno_error("map " + name + ": get info");
    return MapShape{info.type, info.key_size, info.value_size, info.max_entries};
}

Result<UniqueFd> open_pinned_map(const std::string& path, const MapShape& expected) {
    UniqueFd fd(bpf_obj_get(path.c_str()));
    if (!fd.valid()) {
        // A map newer than the loaded programs: attaching again (the upgrade) creates it.
        if (errno == ENOENT)
            return make_error(ErrorCode::NotFound, "pinned map " + path +
                                                       " does not exist: run fwdctl attach "
                                                       "(again, after an upgrade) to create it");
        return errno_error("open pinned map " + path);
    }
    auto shape = map_shape(fd.get(), path);
    if (!shape) return shape.error();
    if (shape->type != expected.type || shape->key_size != expected.key_size ||
        shape->value_size != expected.value_size ||
        (expected.max_entries != 0 && shape->max_entries != expected.max_entries)) {
        return make_error(ErrorCode::Incompatible,
                          fmt::format("pinned map {} has type {} key {} value {} entries {}, "
                                      "this build needs type {} key {} value {}; detach and "
                                      "remove the pin dir to upgrade",
                                      path, shape->type, shape->key_size, shape->value_size,
                                      shape->max_entries, expected.type, expected.key_size,
                                      expected.value_size));
    }
    return fd;
}

int possible_cpus() {
    static const int count = libbpf_num_possible_cpus();
    return count > 0 ? count : 1;
}

}  // namespace fwd::loader
