// Runs coordination turns on the engine: each agent's turn is an ordinary chat generation (the
// model's chat template, the shared request checks, the executor) under the agent's own KV
// session id. A concurrent round submits every turn at once so the batching scheduler runs them
// together; a sequential one runs them in order, each seeing the ones before.
#pragma once

#include <atomic>
#include <functional>
#include <optional>

#include "coordination/registry.h"
#include "server/api/coordination/format.h"
#include "server/api/coordination/parse.h"
#include "server/http/server.h"

namespace semantic::server::coordination_api {

// Stream hooks, called from generation threads (concurrent rounds: several at once).
struct TurnHooks {
  std::function<void(const coordination::TurnPlan&)> on_start;
  // false: the client is gone; the turn is cancelled.
  std::function<bool(const coordination::TurnPlan&, const std::string& text,
                     const std::string& accumulated, int tokens)>
      on_token;
  // After the turn is recorded, with the session locked (`message` is valid only then).
  std::function<void(const TurnResult&, const coordination::Message*)> on_complete;
};

struct RunOutcome {
  std::vector<nlohmann::json> turns;  // TurnJson of each recorded turn, in record order
  std::optional<ApiError> error;      // the first failure; turns before it stay recorded
  bool cancelled = false;             // the stream's client went away
};

// Runs the next turn (whole_round false) or the next round of `entry`, whose busy flag the
// caller holds. `s` overrides the session's generation settings.
RunOutcome RunTurns(const ModelHandle& m, coordination::SessionEntry& entry, bool whole_round,
                    const TurnSettings& s, const TurnHooks* hooks);

}  // namespace semantic::server::coordination_api
