// Checks for the libFuzzer targets: a broken promise aborts, so the fuzzer reports the input.
#pragma once

#include <cstdlib>
#include <string>

#include "fwd/result.h"

namespace fwd::test {

inline void require(bool condition) {
    if (!condition) {
        std::abort();
    }
}

// A refusal must be a usage error with a non-empty, one-line message.
template <typename T>
void require_usage_error(const Result<T>& result) {
    require(result.error().code == ErrorCode::InvalidInput);
    require(!result.error().message.empty());
    require(result.error().message.find('\n') == std::string::npos);
}

// True when `result` holds a value; otherwise requires a usage error and returns false.
template <typename T>
bool accepted(const Result<T>& result) {
    if (result) {
        return true;
    }
    require_usage_error(result);
    return false;
}

}  // namespace fwd::test
