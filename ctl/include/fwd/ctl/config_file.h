// /etc/fwd/fwd.conf: defaults for fwdctl's options, so a host's interfaces, attach mode, port
// pool and map sizes are written down once (and `fwdctl attach` with no interface attaches the
// configured ones). The command line, then the environment (FWD_STATE_DIR, ...), override it.
//
//     # /etc/fwd/fwd.conf
//     interfaces = eth0 docker0
//     mode = xdp
//     port-range = 49000-49900
//     max-flows = 1048576
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "fwd/result.h"

namespace fwd::ctl {

inline constexpr const char* kDefaultConfigPath = "/etc/fwd/fwd.conf";

// One `key = value` per line; '#' starts a comment; blank lines are ignored. Keys are the long
// option names fwdctl takes from the file: state-dir, pin-dir, port-range, interfaces, mode,
// fast-path, cgroup, max-mappings, max-flows. An unknown or repeated key, a line without '=', or
// an empty value is an InvalidInput error naming `path` and the line.
[[nodiscard]] Result<std::map<std::string, std::string>> parse_config(std::string_view text,
                                                                      std::string_view path);

// Reads and parses the file at `path`. A missing file is nullopt unless `required` (a path the
// user named), which makes it an InvalidInput error.
[[nodiscard]] Result<std::optional<std::map<std::string, std::string>>> read_config(
    const std::string& path, bool required);

}  // namespace fwd::ctl
