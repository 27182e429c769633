// Minimal leveled logging to stderr; level from SEMANTIC_LOG_LEVEL (debug|info|warn|error).
// Lines are readable text or one JSON object each ({ts, level, msg, request_id?}); the request
// id of the HTTP request a thread is serving (SetRequestId) goes into every line it writes.
#pragma once

#include <cstdarg>
#include <string>
#include <string_view>

namespace semantic::log {

enum class Level { kDebug = 0, kInfo, kWarn, kError };
enum class Format { kText = 0, kJson };

void SetLevel(Level level);
Level GetLevel();
void SetFormat(Format format);
Format GetFormat();

// The request id of this thread's current HTTP request; "" clears it.
void SetRequestId(std::string_view id);
const std::string& RequestId();

void Write(Level level, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

// One finished line as written by Write (no trailing newline); `ms_since_epoch` is the time.
std::string FormatLine(Level level, long long ms_since_epoch, std::string_view request_id,
                       std::string_view msg);

}  // namespace semantic::log

#define LOG_DEBUG(...) ::semantic::log::Write(::semantic::log::Level::kDebug, __VA_ARGS__)
#define LOG_INFO(...) ::semantic::log::Write(::semantic::log::Level::kInfo, __VA_ARGS__)
#define LOG_WARN(...) ::semantic::log::Write(::semantic::log::Level::kWarn, __VA_ARGS__)
#define LOG_ERROR(...) ::semantic::log::Write(::semantic::log::Level::kError, __VA_ARGS__)
