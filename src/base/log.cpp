// Leveled stderr logging with a timestamp; thread-safe line writes.
#include "base/log.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
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
std::mutex g_mu;

}  // namespace

void SetLevel(Level level) { g_level = static_cast<int>(level); }
Level GetLevel() { return static_cast<Level>(g_level.load()); }

void Write(Level level, const char* fmt, ...) {
  if (static_cast<int>(level) < g_level.load()) return;
  static const char* kTag[] = {"debug", "info", "warn", "error"};
  char msg[2048];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  std::time_t secs = ms / 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  std::lock_guard<std::mutex> lock(g_mu);
  std::fprintf(stderr, "%02d:%02d:%02d.%03d %-5s %s\n", tm.tm_hour, tm.tm_min, tm.tm_sec,
               static_cast<int>(ms % 1000), kTag[static_cast<int>(level)], msg);
}

}  // namespace semantic::log
