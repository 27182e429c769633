// Checks shared by every generating endpoint before a request is queued: the model name, the
// prompt against the context, the output budget (clamped to the context left) and the queue.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "engine/request.h"
#include "server/api/common/fields.h"
#include "server/api/common/model_names.h"
#include "server/http/server.h"

namespace semantic::server {


struct EngineRequestInput {
  std::vector<int32_t> prompt;
  std::optional<int> max_tokens;  // none: the server default, else until the context is full
  engine::SamplingParams sampling;
  bool temperature_set = false;  // false: the server's default temperature
  bool logprobs = false;
  int top_logprobs = 0;
  std::string agent_id;
  std::string cache_salt;
};

// Errors use OpenAI's codes; dialects re-word them: empty prompt (400), "context_length_exceeded"
// (400: the prompt leaves no room for one token), "server_overloaded" (429: the queue is full).
ApiResult<engine::Request> MakeEngineRequest(const ModelHandle& m, EngineRequestInput in);

}  // namespace semantic::server
