// Turning libbpf/syscall failures into fwd::Error, capturing errno at once.
#pragma once

#include <string>

#include "fwd/result.h"

namespace fwd::loader {

// Maps an errno to the Error code the CLI reports (EPERM -> PermissionDenied, ...).
[[nodiscard]] ErrorCode error_code_for_errno(int err_no);

// For int-returning libbpf APIs (negative errno): "context: strerror".
[[nodiscard]] Error libbpf_error(int ret, const std::string& context);
// For NULL-returning libbpf APIs and raw syscalls: reads errno now.
[[nodiscard]] Error errno_error(const std::string& context);

}  // namespace fwd::loader
