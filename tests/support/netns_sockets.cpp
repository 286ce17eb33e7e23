#include "support/netns_sockets.h"

#include <arpa/inet.h>
#include <fmt/core.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <stdexcept>

namespace fwd::test {

int bind_errno(const std::string& ns, int type, const Endpoint& addr) {
    const SocketAddress sa = to_sockaddr(addr);
    const Fd fd = endpoint_socket(ns, addr, type);
    if (::bind(fd.get(), sa.addr(), sa.len) != 0) {
        return errno;
    }
    return 0;
}

}  // namespace fwd::test
