#include "spec_text.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstddef>
#include <utility>

namespace fwd::ctl::detail {
namespace {

// Messages quote user input; a pasted megabyte must not turn into a megabyte of error.
constexpr std::size_t kMaxQuoted = 64;

// Printable ASCII, space included.
bool is_printable(char ch) {
    const auto byte = static_cast<unsigned char>(ch);
    return byte >= 0x20 && byte < 0x7f;
}

// Printable ASCII except space: the only bytes any spec is made of.
bool is_graphic(char ch) {
    return ch != ' ' && is_printable(ch);
}

}  // namespace

Error invalid(std::string message) {
    return make_error(ErrorCode::InvalidInput, std::move(message));
}

std::string quote(std::string_view text) {
    std::string out = "\"";
    for (const char ch : text.substr(0, kMaxQuoted)) {
        if (!is_printable(ch)) {
            out += fmt::format("\\x{:02x}", static_cast<unsigned char>(ch));
            continue;
        }
        if (ch == '"' || ch == '\\') {
            out += '\\';
        }
        out += ch;
    }
    if (text.size() > kMaxQuoted) {
        out += "...";
    }
    out += '"';
    return out;
}

Result<void> check_characters(std::string_view label, std::string_view text) {
    const auto bad = std::find_if_not(text.begin(), text.end(), is_graphic);
    if (bad == text.end()) {
        return {};
    }
    const bool whitespace = *bad == ' ' || (*bad >= '\t' && *bad <= '\r');
    const std::string_view problem =
        whitespace ? "contains whitespace" : "contains a non-printable byte";
    return invalid(fmt::format("{} {}: {}", label, quote(text), problem));
}

}  // namespace fwd::ctl::detail
