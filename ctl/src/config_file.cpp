#include "fwd/ctl/config_file.h"

#include <fmt/format.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "spec_text.h"

namespace fwd::ctl {
namespace {

constexpr std::array<std::string_view, 9> kKeys = {
    "state-dir", "pin-dir", "port-range", "interfaces",  "mode",
    "fast-path", "cgroup",  "max-mappings", "max-flows"};

std::string_view trim(std::string_view text) {
    const auto first = text.find_first_not_of(" \t\r");
    if (first == std::string_view::npos) return {};
    const auto last = text.find_last_not_of(" \t\r");
    return text.substr(first, last - first + 1);
}

bool known_key(std::string_view key) {
    for (const auto known : kKeys)
        if (known == key) return true;
    return false;
}

}  // namespace

Result<std::map<std::string, std::string>> parse_config(std::string_view text,
                                                        std::string_view path) {
    std::map<std::string, std::string> values;
    int number = 0;
    for (std::size_t start = 0; start < text.size();) {
        auto end = text.find('\n', start);
        if (end == std::string_view::npos) end = text.size();
        auto line = text.substr(start, end - start);
        start = end + 1;
        ++number;
        line = trim(line.substr(0, line.find('#')));
        if (line.empty()) continue;
        const auto where = fmt::format("{}:{}", path, number);
        const auto equals = line.find('=');
        if (equals == std::string_view::npos)
            return detail::invalid(where + ": expected `key = value`, got " + detail::quote(line));
        const std::string key(trim(line.substr(0, equals)));
        const std::string value(trim(line.substr(equals + 1)));
        if (!known_key(key))
            return detail::invalid(fmt::format("{}: unknown key {} (known: {})", where,
                                               detail::quote(key), fmt::join(kKeys, ", ")));
        if (value.empty()) return detail::invalid(fmt::format("{}: {} has no value", where, key));
        if (!values.emplace(key, value).second)
            return detail::invalid(fmt::format("{}: {} is set twice", where, key));
    }
    return values;
}

Result<std::optional<std::map<std::string, std::string>>> read_config(const std::string& path,
                                                                      bool required) {
    std::ifstream in(path);
    if (!in) {
        if (errno == ENOENT && !required) return std::optional<std::map<std::string, std::string>>{};
        return detail::invalid(fmt::format("config file {}: {}", path, std::strerror(errno)));
    }
    std::ostringstream text;
    text << in.rdbuf();
    auto values = parse_config(text.str(), path);
    if (!values) return values.error();
    return std::optional<std::map<std::string, std::string>>{std::move(*values)};
}

}  // namespace fwd::ctl
