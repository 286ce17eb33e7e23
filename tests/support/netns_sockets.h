// End-to-end test support: socket probes that complement the servers and clients of
// netns_fixture.h.
#pragma once

#include <string>

#include "support/netns_fixture.h"

namespace fwd::test {

// Opens a socket of `type` (SOCK_STREAM or SOCK_DGRAM) in namespace `ns`, binds it to `addr`
// (no SO_REUSEADDR) and closes it again. Returns 0 if bind() succeeded, else its errno.
// Throws std::runtime_error if the socket cannot be created or the address does not parse.
[[nodiscard]] int bind_errno(const std::string& ns, int type, const Endpoint& addr);

}  // namespace fwd::test
