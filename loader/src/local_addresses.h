// The host's IPv4 and IPv6 addresses in the caller's network namespace (getifaddrs).
#pragma once

#include <vector>

#include "fwd/result.h"
#include "fwd/types.h"

namespace fwd::loader {

[[nodiscard]] Result<std::vector<IpAddr>> local_addresses();  // IPv4 and IPv6
// The network namespace cookie of the caller (SO_NETNS_COOKIE, Linux 5.14+).
[[nodiscard]] Result<std::uint64_t> current_netns_cookie();

}  // namespace fwd::loader
