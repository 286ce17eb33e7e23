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

Result<std::vector<IpAddr>> local_addresses() {
    ifaddrs* list = nullptr;
    if (::getifaddrs(&list) != 0) return errno_error("list interface addresses");
    std::vector<IpAddr> addresses;
    for (const ifaddrs* entry = list; entry != nullptr; entry = entry->ifa_next) {
        if (entry->ifa_addr == nullptr) continue;
        if (entry->ifa_addr->sa_family == AF_INET)
            addresses.emplace_back(addr_from_sockaddr(*reinterpret_cast<const sockaddr_in*>(entry->ifa_addr)));
        else if (entry->ifa_addr->sa_family == AF_INET6)
            addresses.emplace_back(addr_from_sockaddr6(*reinterpret_cast<const sockaddr_in6*>(entry->ifa_addr)));
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
