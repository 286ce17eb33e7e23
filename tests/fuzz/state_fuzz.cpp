// libFuzzer target for the state file loader: any bytes either load into a state that
// serialises and loads back to itself, or are refused as corrupt. Never a crash.
// Besides the raw input, the input also drives edits of a built-in dual-stack state, so the
// IPv6 paths (mappings, allow networks, cursors, container ip6) are explored from the first
// run, without a seed corpus.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "fwd/ctl/state.h"

namespace {

constexpr std::string_view kDualStackState = R"({"version":1,"mappings":[
 {"host_ip":"0.0.0.0","host_port":8080,"proto":"tcp","container_ip":"172.17.0.2",
  "container_port":80,"name":"web","id":1,"allow":["10.0.0.0/8","fd00::/8"]},
 {"host_ip":"::","host_port":8080,"proto":"tcp","container_ip":"fd00::2","container_port":80,
  "name":"web","id":2,"allow":["10.0.0.0/8","fd00::/8"]},
 {"host_ip":"::1","host_port":53,"proto":"udp","container_ip":"fd00::6","container_port":53,
  "name":"","id":3}],
 "interfaces":[{"name":"eth0","created_clsact":true,"mode":"tc"}],
 "containers":[{"name":"web","ip":"172.17.0.2","ip6":"fd00::2","exposed":["80/tcp"],"env":[]},
  {"name":"six","ip6":"fd00::6","exposed":[],"env":["K=v"]}],
 "cursors":[{"host_ip":"0.0.0.0","proto":"tcp","last":49000},
  {"host_ip":"::","proto":"tcp","last":49000}],
 "cgroups":[],"fast_path":true})";

// Loads `text`; if it loads, its serialisation must load back to the same state.
void check_round_trip(std::string_view text) {
    auto state = fwd::ctl::parse_state(text);
    if (!state) {
        if (state.error().code != fwd::ErrorCode::Incompatible) std::abort();
        return;
    }
    auto again = fwd::ctl::parse_state(fwd::ctl::serialize_state(*state));
    if (!again || !(*again == *state)) std::abort();
}

// Each 3 input bytes edit the seed: an operation, a position and a byte.
std::string edited_seed(const std::uint8_t* data, std::size_t size) {
    std::string text(kDualStackState);
    for (std::size_t i = 0; i + 2 < size && !text.empty(); i += 3) {
        const std::size_t pos = (std::size_t{data[i + 1]} * 7919U) % text.size();
        const char byte = static_cast<char>(data[i + 2]);
        switch (data[i] % 3) {
            case 0: text[pos] = byte; break;
            case 1: text.erase(pos, 1 + data[i + 2] % 8); break;
            default: text.insert(pos, 1, byte); break;
        }
    }
    return text;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    check_round_trip(std::string_view(reinterpret_cast<const char*>(data), size));
    check_round_trip(edited_seed(data, size));
    return 0;
}
