#include "program_identity.h"

#include <bpf/bpf.h>

#include <cstring>

#include "bpf_error.h"
#include "unique_fd.h"

namespace fwd::loader {

Result<bool> program_has_name(std::uint32_t prog_id, const char* name) {
    UniqueFd fd(bpf_prog_get_fd_by_id(prog_id));
    if (!fd.valid()) return errno_error("open program");
    bpf_prog_info info{};
    __u32 len = sizeof(info);
    if (bpf_obj_get_info_by_fd(fd.get(), &info, &len) != 0) return errno_error("program info");
    return std::strncmp(info.name, name, sizeof(info.name)) == 0;
}

}  // namespace fwd::loader
