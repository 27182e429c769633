// Leveled stderr logging with a timestamp, as text or JSON lines; thread-safe line writes.
#include "base/log.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <mutex>

namespace semantic::log {
namespace {

Level LevelFromEnv() {
  const char* v = std::getenv("SEMANTIC_LOG_LEVEL");
  if (!v) return Level::kInfo;
  if (!std::strcmp(v, "debug")) return Level::kDebug;
  if (!std::strcmp(v, "warn")) return Level::kWarn;
  if (!std::strcmp(v, "error")) return Level::kError;
  return Level::kInfo;
}

std::atomic<int> g_level{static_cast<int>(LevelFromEnv())};
std::atomic<int> g_format{static_cast<int>(Format::kText)};
std::mutex g_mu;
thread_local std::string t_request_id;

constexpr const char* kTag[] = {"debug", "info", "warn", "error"};

// `s` as the inside of a JSON string: quotes, backslashes and control characters escaped.
// Bytes >= 0x80 pass through (messages are UTF-8 or the caller's bytes; a reader replaces
// invalid sequences).
void AppendJsonEscaped(std::string* out, std::string_view s) {
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(static_cast<char>(c));
    } else if (c == '\n') {
      *out += "\\n";
    } else if (c == '\t') {
      *out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", c);
      *out += buf;
    } else {
      out->push_back(static_cast<char>(c));
    }
  }
}

}  // namespace

void SetLevel(Level level) { g_level = static_cast<int>(level); }
Level GetLevel() { return static_cast<Level>(g_level.load()); }
void SetFormat(Format format) { g_format = static_cast<int>(format); }
Format GetFormat() { return static_cast<Format>(g_format.load()); }

void SetRequestId(std::string_view id) { t_request_id.assign(id); }
const std::string& RequestId() { return t_request_id; }

std::string FormatLine(Level level, long long ms, std::string_view request_id,
                       std::string_view msg) {
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char ts[64];
  std::string out;
  if (GetFormat() == Format::kJson) {
    std::snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<int>(ms % 1000));
    out = std::string("{\"ts\":\"") + ts + "\",\"level\":\"" + kTag[static_cast<int>(level)] +
          "\",\"msg\":\"";
    AppendJsonEscaped(&out, msg);
    out += '"';
    if (!request_id.empty()) {
      out += ",\"request_id\":\"";
      AppendJsonEscaped(&out, request_id);
      out += '"';
    }
    out += '}';
    return out;
  }
  std::snprintf(ts, sizeof(ts), "%02d:%02d:%02d.%03d %-5s ", tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000), kTag[static_cast<int>(level)]);
  out = ts;
  if (!request_id.empty()) out += "[" + std::string(request_id) + "] ";
  out += msg;
  return out;
}

void Write(Level level, const char* fmt, ...) {
  if (static_cast<int>(level) < g_level.load()) return;
  char msg[2048];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  const std::string line = FormatLine(level, ms, t_request_id, msg);
  std::lock_guard<std::mutex> lock(g_mu);
  std::fprintf(stderr, "%s\n", line.c_str());
}

}  // namespace semantic::log
