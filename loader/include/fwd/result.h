// fwd::Result<T>: a value or an Error, shaped like std::expected<T, Error>
// (C++20 has none; switch to std::expected when the project moves to C++23).
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace fwd {

enum class ErrorCode {
    NotFound,
    Exists,
    Full,
    PermissionDenied,
    Incompatible,
    InvalidInput,
    Kernel,
};

struct Error {
    ErrorCode code;
    int err_no = 0;       // errno captured where the failure happened, 0 if none
    std::string message;  // e.g. "map fwd_svc4: update: No space left on device"

    // Invalid input is a usage error (exit 2); everything else is a failed operation.
    [[nodiscard]] bool is_usage_error() const { return code == ErrorCode::InvalidInput; }
};

[[nodiscard]] inline Error make_error(ErrorCode code, std::string message, int err_no = 0) {
    return Error{code, err_no, std::move(message)};
}

// Wraps an Error so a Result can be built from it implicitly: `return Unexpected{err};`
struct Unexpected {
    Error error;
};

template <typename T>
class [[nodiscard]] Result {
public:
    Result(T value) : data_(std::move(value)) {}                // NOLINT: implicit by design
    Result(Error error) : data_(std::move(error)) {}            // NOLINT
    Result(Unexpected unexpected) : data_(std::move(unexpected.error)) {}  // NOLINT

    [[nodiscard]] bool has_value() const { return std::holds_alternative<T>(data_); }
    explicit operator bool() const { return has_value(); }

    [[nodiscard]] T& value() & {
        assert(has_value());
        return std::get<T>(data_);
    }
    [[nodiscard]] const T& value() const& {
        assert(has_value());
        return std::get<T>(data_);
    }
    [[nodiscard]] T&& value() && {
        assert(has_value());
        return std::get<T>(std::move(data_));
    }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    [[nodiscard]] const Error& error() const {
        assert(!has_value());
        return std::get<Error>(data_);
    }

private:
    std::variant<T, Error> data_;
};

template <>
class [[nodiscard]] Result<void> {
public:
    Result() = default;
    Result(Error error) : error_(std::move(error)), ok_(false) {}            // NOLINT
    Result(Unexpected unexpected) : error_(std::move(unexpected.error)), ok_(false) {}  // NOLINT

    [[nodiscard]] bool has_value() const { return ok_; }
    explicit operator bool() const { return ok_; }
    [[nodiscard]] const Error& error() const {
        assert(!ok_);
        return error_;
    }

private:
    Error error_{ErrorCode::Kernel, 0, {}};
    bool ok_ = true;
};

}  // namespace fwd
