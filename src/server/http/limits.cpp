// HeaderBytes, JsonNestsDeeperThan and the process's JSON depth limit.
#include "server/http/limits.h"

#include <atomic>

namespace semantic::server {

namespace {
std::atomic<int> g_max_json_depth{64};
}  // namespace

size_t HeaderBytes(const httplib::Request& req) {
  size_t n = 0;
  for (const auto& [name, value] : req.headers) n += name.size() + value.size() + 4;
  return n;
}

bool JsonNestsDeeperThan(std::string_view text, int max_depth) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;  // the escaped character cannot end the string
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return true;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return false;
}

void SetMaxJsonDepth(int depth) { g_max_json_depth.store(depth, std::memory_order_relaxed); }
int MaxJsonDepth() { return g_max_json_depth.load(std::memory_order_relaxed); }

}  // namespace semantic::server
