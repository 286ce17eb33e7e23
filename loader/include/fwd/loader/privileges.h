// Whether this process may manage fwd's kernel state (load programs, pin maps, attach).
#pragma once

#include "fwd/result.h"

namespace fwd::loader {

// Ok when the effective capabilities hold CAP_SYS_ADMIN, or CAP_BPF and CAP_NET_ADMIN (root has
// all of them); otherwise one PermissionDenied error saying what is needed.
[[nodiscard]] Result<void> check_admin_privileges();

}  // namespace fwd::loader
