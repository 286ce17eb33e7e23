// Shared by the spec parsers (spec.cpp, docker_spec.cpp), so every fwdctl message quotes user
// input alike and rejects the same bytes with the same words. Internal: not in include/.
#pragma once

#include <string>
#include <string_view>

#include "fwd/result.h"

namespace fwd::ctl::detail {

// An InvalidInput error (exit 2) with a one-line, user-facing message.
[[nodiscard]] Error invalid(std::string message);

// Quotes user input for a one-line message: control and non-ASCII bytes escaped, '"' and '\'
// backslashed, long input cut short with "...".
[[nodiscard]] std::string quote(std::string_view text);

// Rejects up front what no spec contains (anything but printable ASCII without spaces), so
// later messages can point at real mistakes. The message is "LABEL \"TEXT\": contains
// whitespace" or "... contains a non-printable byte".
[[nodiscard]] Result<void> check_characters(std::string_view label, std::string_view text);

}  // namespace fwd::ctl::detail
