// One small stderr logger for fwd. Library code logs here; it never prints otherwise.
#pragma once

#include <string_view>

namespace fwd::log {

enum class Level { Error = 0, Warn = 1, Info = 2, Debug = 3, LibbpfDebug = 4 };

void set_level(Level level);
[[nodiscard]] Level level();

void error(std::string_view message);
void warn(std::string_view message);
void info(std::string_view message);
void debug(std::string_view message);

}  // namespace fwd::log
