// JSON bodies of the coordination routes -> coordination types; every error names the field.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "coordination/types.h"
#include "server/api/common/fields.h"

namespace semantic::server::coordination_api {

// Generation settings of a session (extension fields of POST /sessions) or of one turn/round.
struct TurnSettings {
  std::optional<int> max_tokens;     // default 200
  std::optional<float> temperature;  // default 0.3
  std::optional<uint64_t> seed;      // default random
};

struct CreateBody {
  coordination::SessionSpec spec;
  TurnSettings settings;
};

// POST /v1/coordination/sessions (validated with coordination::ValidateSpec too).
ApiResult<CreateBody> ParseCreateSession(const nlohmann::json& body);
// POST .../turn, .../round (and /stream): every field optional.
ApiResult<TurnSettings> ParseTurnBody(const nlohmann::json& body);

struct WhisperBody {
  std::string from, to, content;
};
ApiResult<WhisperBody> ParseWhisper(const nlohmann::json& body);

ApiResult<coordination::Vote> ParseVote(const nlohmann::json& body);

}  // namespace semantic::server::coordination_api
