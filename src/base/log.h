// Minimal leveled logging to stderr; level from SEMANTIC_LOG_LEVEL (debug|info|warn|error).
#pragma once

#include <cstdarg>

namespace semantic::log {

enum class Level { kDebug = 0, kInfo, kWarn, kError };

void SetLevel(Level level);
Level GetLevel();
void Write(Level level, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

}  // namespace semantic::log

#define LOG_DEBUG(...) ::semantic::log::Write(::semantic::log::Level::kDebug, __VA_ARGS__)
#define LOG_INFO(...) ::semantic::log::Write(::semantic::log::Level::kInfo, __VA_ARGS__)
#define LOG_WARN(...) ::semantic::log::Write(::semantic::log::Level::kWarn, __VA_ARGS__)
#define LOG_ERROR(...) ::semantic::log::Write(::semantic::log::Level::kError, __VA_ARGS__)
