// Agent sessions: a durable name for one agent's context — its chain of block keys, token
// count, last use, pin and TTL — persisted as agents/<id>.json in the disk tier's directory.
// Ids are restricted to [A-Za-z0-9_.-]{1,256} (not "." or "..") so they can never name a path
// outside the cache directory.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace semantic::kv {

// Ok, or InvalidArgument saying what is wrong with `id`.
Status ValidateAgentId(std::string_view id);

struct AgentSession {
  std::string id;
  std::vector<uint64_t> keys;  // full blocks of the context, in order
  int n_tokens = 0;            // context length at the end of the last request
  int64_t created_ms = 0;      // wall-clock Unix milliseconds
  int64_t last_use_ms = 0;
  int64_t ttl_ms = 0;  // 0: never expires
  bool pinned = false;
  int64_t hold_until_ms = 0;  // Anthropic cache_control: blocks held in RAM until then
  uint64_t requests = 0;
  uint64_t cached_tokens = 0;  // prompt tokens served from cache over the session's life
  uint64_t prompt_tokens = 0;

  // Pinned, or held by a cache_control breakpoint at `now_ms`.
  bool Held(int64_t now_ms) const { return pinned || hold_until_ms > now_ms; }

  std::string ToJson(uint64_t model_fingerprint) const;
  static Expected<AgentSession> FromJson(const std::string& text, uint64_t model_fingerprint);
};

int64_t UnixMs();

}  // namespace semantic::kv
