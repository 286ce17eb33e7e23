#include "bpf_error.h"

#include <cerrno>
#include <cstring>

namespace fwd::loader {

ErrorCode error_code_for_errno(int err_no) {
    switch (err_no) {
    case EPERM:
    case EACCES: return ErrorCode::PermissionDenied;
    case ENOENT:
    case ENODEV: return ErrorCode::NotFound;
    case EEXIST:
    case EBUSY: return ErrorCode::Exists;
    case E2BIG:
    case ENOSPC: return ErrorCode::Full;
    default: return ErrorCode::Kernel;
    }
}

Error libbpf_error(int ret, const std::string& context) {
    const int err_no = ret < 0 ? -ret : ret;
    return make_error(error_code_for_errno(err_no), context + ": " + std::strerror(err_no),
                      err_no);
}

Error errno_error(const std::string& context) {
    const int err_no = errno;
    return make_error(error_code_for_errno(err_no), context + ": " + std::strerror(err_no),
                      err_no);
}

}  // namespace fwd::loader
