// Fuzzes the agent session record reader (kv/agent_sessions: agents/<id>.json in the cache
// directory, read back at start-up). A record that loads must write back to one that loads equal.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_util.h"
#include "kv/agent_sessions.h"

using namespace semantic;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  constexpr uint64_t kFingerprint = 0x5eed0f00dcafe123ULL;
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto s = kv::AgentSession::FromJson(text, kFingerprint);
  if (!s.ok()) return 0;
  auto again = kv::AgentSession::FromJson(s->ToJson(kFingerprint), kFingerprint);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(again->id == s->id && again->keys == s->keys && again->n_tokens == s->n_tokens);
  FUZZ_CHECK(again->created_ms == s->created_ms && again->last_use_ms == s->last_use_ms);
  FUZZ_CHECK(again->ttl_ms == s->ttl_ms && again->pinned == s->pinned);
  FUZZ_CHECK(again->hold_until_ms == s->hold_until_ms && again->requests == s->requests);
  FUZZ_CHECK(again->cached_tokens == s->cached_tokens &&
             again->prompt_tokens == s->prompt_tokens);
  return 0;
}
