// NewId.
#include "server/api/common/ids.h"

#include <atomic>
#include <cstdio>
#include <random>

namespace semantic::server {

std::string NewId(const char* prefix) {
  static std::atomic<uint64_t> counter{0};
  static const uint64_t salt = std::random_device{}();
  char buf[64];
  // A random per-process part, then the whole counter (never wraps in practice: no repeats).
  std::snprintf(buf, sizeof(buf), "%s%012llx%04llx", prefix,
                static_cast<unsigned long long>(salt & 0xffffffffffffull),
                static_cast<unsigned long long>(++counter));
  return buf;
}

}  // namespace semantic::server
