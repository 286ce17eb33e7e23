#include "fwd/loader/host_sockets.h"

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

namespace fwd::loader {
namespace {

// /proc prints each 32-bit word of an address with %08X of its in-memory value, so on a
// little-endian host the bytes of a.b.c.d read "DDCCBBAA".
std::optional<std::array<std::uint8_t, 4>> parse_word(std::string_view hex) {
    std::uint32_t word = 0;
    auto [end, ec] = std::from_chars(hex.data(), hex.data() + hex.size(), word, 16);
    if (ec != std::errc() || end != hex.data() + hex.size() || hex.size() != 8) return std::nullopt;
    std::array<std::uint8_t, 4> bytes{};
    for (int i = 0; i < 4; ++i) {
        const int shift = std::endian::native == std::endian::little ? 8 * i : 8 * (3 - i);
        bytes[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(word >> shift);
    }
    return bytes;
}

// Fills `socket` from "ADDR:PORT" (hex). Returns false for malformed text.
bool parse_local(std::string_view field, bool ipv6, BoundSocket& socket) {
    const auto colon = field.find(':');
    if (colon == std::string_view::npos) return false;
    const auto addr_hex = field.substr(0, colon);
    const auto port_hex = field.substr(colon + 1);
    unsigned port = 0;
    auto [end, ec] = std::from_chars(port_hex.data(), port_hex.data() + port_hex.size(), port, 16);
    if (ec != std::errc() || end != port_hex.data() + port_hex.size() || port > 65535) return false;
    socket.port = static_cast<std::uint16_t>(port);

    std::array<std::uint8_t, 16> bytes{};
    const std::size_t words = ipv6 ? 4 : 1;
    if (addr_hex.size() != words * 8) return false;
    for (std::size_t w = 0; w < words; ++w) {
        auto word = parse_word(addr_hex.substr(w * 8, 8));
        if (!word) return false;
        std::copy(word->begin(), word->end(), bytes.begin() + static_cast<long>(w * 4));
    }
    if (!ipv6) {
        socket.addr = Ipv4Addr::from_octets(bytes[0], bytes[1], bytes[2], bytes[3]);
    } else if (const Ipv6Addr v6(bytes); v6.is_v4_mapped()) {
        socket.addr = Ipv4Addr::from_octets(bytes[12], bytes[13], bytes[14], bytes[15]);
    } else {
        socket.addr = v6;
    }
    socket.any_addr = socket.addr.is_any();
    return true;
}

std::string read_file(const char* path) {
    std::ifstream in(path);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

}  // namespace

std::vector<BoundSocket> parse_proc_net(std::string_view text, Proto proto, bool ipv6) {
    std::vector<BoundSocket> sockets;
    std::istringstream lines{std::string(text)};
    std::string line;
    std::getline(lines, line);  // header
    while (std::getline(lines, line)) {
        std::istringstream fields(line);
        std::string slot;
        std::string local;
        if (!(fields >> slot >> local)) continue;
        BoundSocket socket;
        socket.proto = proto;
        if (parse_local(local, ipv6, socket) && socket.port != 0) sockets.push_back(socket);
    }
    return sockets;
}

bool holds_port(const BoundSocket& socket, IpAddr addr, std::uint16_t port, Proto proto) {
    if (socket.port != port || socket.proto != proto) return false;
    if (socket.any_addr && socket.addr.is_v6()) return true;
    if (socket.addr.family() != addr.family()) return false;
    return socket.any_addr || addr.is_any() || socket.addr == addr;
}

void ProcNetProbe::load() {
    loaded_ = true;
    struct Source {
        const char* path;
        Proto proto;
        bool ipv6;
    };
    for (const auto& source : {Source{"/proc/net/tcp", Proto::Tcp, false},
                               Source{"/proc/net/tcp6", Proto::Tcp, true},
                               Source{"/proc/net/udp", Proto::Udp, false},
                               Source{"/proc/net/udp6", Proto::Udp, true}}) {
        auto found = parse_proc_net(read_file(source.path), source.proto, source.ipv6);
        sockets_.insert(sockets_.end(), found.begin(), found.end());
    }
}

bool ProcNetProbe::in_use(IpAddr addr, std::uint16_t port, Proto proto) {
    if (!loaded_) load();
    return std::any_of(sockets_.begin(), sockets_.end(), [&](const BoundSocket& socket) {
        return holds_port(socket, addr, port, proto);
    });
}

}  // namespace fwd::loader
