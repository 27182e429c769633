// CacheHoldMs.
#include "server/api/anthropic/cache_control.h"

#include <algorithm>

namespace semantic::server::anthropic {

namespace {

constexpr int64_t kFiveMinutes = 5 * 60 * 1000;
constexpr int64_t kOneHour = 60 * 60 * 1000;

int64_t BlockHold(const nlohmann::json& block) {
  if (!block.is_object()) return 0;
  auto cc = block.find("cache_control");
  if (cc == block.end() || !cc->is_object() || cc->value("type", "") != "ephemeral") return 0;
  auto ttl = cc->find("ttl");
  return ttl != cc->end() && ttl->is_string() && *ttl == "1h" ? kOneHour : kFiveMinutes;
}

int64_t ListHold(const nlohmann::json* list) {
  int64_t hold = 0;
  if (list == nullptr || !list->is_array()) return 0;
  for (const auto& b : *list) hold = std::max(hold, BlockHold(b));
  return hold;
}

const nlohmann::json* Field(const nlohmann::json& j, const char* name) {
  auto it = j.find(name);
  return it == j.end() ? nullptr : &*it;
}

}  // namespace

int64_t CacheHoldMs(const nlohmann::json& body) {
  if (!body.is_object()) return 0;
  int64_t hold = std::max(ListHold(Field(body, "system")), ListHold(Field(body, "tools")));
  if (const auto* messages = Field(body, "messages"); messages && messages->is_array()) {
    for (const auto& m : *messages) {
      if (m.is_object()) hold = std::max(hold, ListHold(Field(m, "content")));
    }
  }
  return hold;
}

}  // namespace semantic::server::anthropic
