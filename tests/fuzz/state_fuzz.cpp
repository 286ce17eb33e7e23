// libFuzzer target for the state file loader: any bytes either load into a state that
// serialises and loads back to itself, or are refused as corrupt. Never a crash.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "fwd/ctl/state.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    auto state = fwd::ctl::parse_state(text);
    if (!state) {
        if (state.error().code != fwd::ErrorCode::Incompatible) std::abort();
        return 0;
    }
    auto again = fwd::ctl::parse_state(fwd::ctl::serialize_state(*state));
    if (!again || !(*again == *state)) std::abort();
    return 0;
}
