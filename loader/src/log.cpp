#include "fwd/log.h"

#include <cstdio>

namespace fwd::log {
namespace {

Level g_level = Level::Warn;  // the one process-wide knob: set once by main from -v

void emit(Level at, const char* tag, std::string_view message) {
    if (static_cast<int>(at) > static_cast<int>(g_level)) return;
    std::fprintf(stderr, "fwdctl: %s: %.*s\n", tag, static_cast<int>(message.size()),
                 message.data());
}

}  // namespace

void set_level(Level new_level) { g_level = new_level; }
Level level() { return g_level; }
void error(std::string_view message) { emit(Level::Error, "error", message); }
void warn(std::string_view message) { emit(Level::Warn, "warning", message); }
void info(std::string_view message) { emit(Level::Info, "info", message); }
void debug(std::string_view message) { emit(Level::Debug, "debug", message); }

}  // namespace fwd::log
