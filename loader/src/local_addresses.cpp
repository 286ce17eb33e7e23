#include "local_addresses.h"

#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "abi_convert.h"
#include "bpf_error.h"
#include "unique_fd.h"

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

namespace fwd::loader {

Result<std::vector<Ipv4Addr>> local_ipv4_addresses() {
    ifaddrs* list = nullptr;
    if (::getifaddrs(&list) != 0) return errno_error("list interface addresses");
    std::vector<Ipv4Addr> addresses;
    for (const ifaddrs* entry = list; entry != nullptr; entry = entry->ifa_next) {
        if (entry->ifa_addr == nullptr || entry->ifa_addr->sa_family != AF_INET) continue;
        const auto* in = reinterpret_cast<const sockaddr_in*>(entry->ifa_addr);
        addresses.push_back(addr_from_sockaddr(*in));
    }
    ::freeifaddrs(list);
    return addresses;
}

Result<std::uint64_t> current_netns_cookie() {
    UniqueFd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!sock.valid()) return errno_error("socket");
    std::uint64_t cookie = 0;
    socklen_t len = sizeof(cookie);
    if (::getsockopt(sock.get(), SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len) != 0)
        return errno_error("read the network namespace cookie (needs Linux 5.14+)");
    return cookie;
}

}  // namespace fwd::loader
