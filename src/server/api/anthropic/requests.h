// Anthropic Messages request bodies (/v1/messages, /v1/messages/count_tokens) parsed and
// validated into dialect-neutral generation settings plus the chat to render.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "engine/sampler.h"
#include "server/api/common/fields.h"
#include "server/api/common/tool_choice.h"

namespace semantic::server::anthropic {

struct MessagesRequest {
  std::string model;
  std::optional<int> max_tokens;  // required for /v1/messages; 0 = prefill only (cache warm-up)
  engine::SamplingParams sampling;
  bool temperature_set = false;
  std::vector<std::string> stop_sequences;
  bool stream = false;
  std::optional<std::string> user_id;  // metadata.user_id
  nlohmann::json messages;             // template chat (see conversation.h)
  nlohmann::json tools;                // OpenAI function shape, for the template
  ToolChoice tool_choice;              // tool_choice (+ disable_parallel_tool_use)
  int64_t cache_hold_ms = 0;           // from cache_control breakpoints (cache_control.h)
};

// count_tokens: `max_tokens` is optional there. Unknown fields are ignored; `thinking` is
// validated for shape only. tool_choice any/tool need tools, and tool a tool of that name.
ApiResult<MessagesRequest> ParseMessagesRequest(const nlohmann::json& body, bool count_tokens);

// A trailing assistant turn without tool calls is a prefill: the model continues that text
// instead of starting a new turn. Removes it from `messages` and returns its text ("" if none).
std::string SplitAssistantPrefill(nlohmann::json* messages);

}  // namespace semantic::server::anthropic
