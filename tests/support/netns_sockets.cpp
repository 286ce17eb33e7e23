#include "support/netns_sockets.h"

#include <arpa/inet.h>
#include <fmt/core.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <stdexcept>

namespace fwd::test {

int bind_errno(const std::string& ns, int type, const Endpoint& addr) {
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(addr.port);
    if (::inet_pton(AF_INET, addr.addr.c_str(), &sa.sin_addr) != 1) {
        throw std::runtime_error(fmt::format("not an IPv4 address: {}", addr.addr));
    }
    const Fd fd = socket_in_netns(ns, AF_INET, type);
    if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0) {
        return errno;
    }
    return 0;
}

}  // namespace fwd::test
