// Which program an attachment point holds: fwd touches only its own programs.
#pragma once

#include <cstdint>

#include "fwd/result.h"

namespace fwd::loader {

// True when the loaded program `prog_id` is called `name` (the kernel keeps up to 15 characters).
[[nodiscard]] Result<bool> program_has_name(std::uint32_t prog_id, const char* name);

}  // namespace fwd::loader
