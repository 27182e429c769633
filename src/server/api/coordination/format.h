// Coordination types -> the JSON shapes of docs/coordination.md.
#pragma once

#include <nlohmann/json.hpp>

#include "coordination/session.h"

namespace semantic::server::coordination_api {

// One agent turn as generated (usage, timing, cache state) with the message it left.
struct TurnResult {
  std::string agent_id, display_name;
  int turn = 0;
  std::string text;  // raw reply (the message holds the cleaned one)
  int prompt_tokens = 0, cached_tokens = 0, completion_tokens = 0;
  double ttft_ms = 0, duration_ms = 0;
  std::string finish_reason;  // stop, length, interrupted, cancelled, timeout
  bool interrupted = false;
  int message_id = 0;  // 0: not recorded (empty reply)
};

// "COLD" (nothing cached), "WARM" (less than half of the prompt cached), "HOT" (half or more).
const char* CacheState(int cached_tokens, int prompt_tokens);

nlohmann::json MessageJson(const coordination::Message& m);
nlohmann::json TallyJson(const coordination::Tally& t);
nlohmann::json VoteJson(const coordination::Vote& v);
// The session: spec, agents (with their KV cache keys), progress, tallies.
nlohmann::json SessionJson(const coordination::Session& s, bool busy);
// A turn result; `message` is the recorded message or null.
nlohmann::json TurnJson(const TurnResult& r, const coordination::Message* message);
// Progress fields after a turn or round: turns_completed, round, active, next_speaker.
nlohmann::json ProgressJson(const coordination::Session& s);

}  // namespace semantic::server::coordination_api
