// Anthropic `system`, `messages` and `tools` turned into the chat the model's template renders, in
// the shape the OpenAI path builds: {role, content (string), tool_calls?, tool_call_id?,
// reasoning_content?} and tools as OpenAI functions.
#pragma once

#include <nlohmann/json.hpp>

#include "server/api/common/fields.h"

namespace semantic::server::anthropic {

// system: the request's `system` (nullptr when absent). Text blocks join with a blank line;
// tool_use -> assistant tool_calls (arguments = canonical JSON of input); tool_result -> a `tool`
// message; thinking -> the assistant's reasoning_content; a `system` role inside `messages` ->
// user text in a <system-reminder> (kept in place, so earlier turns stay a stable prefix);
// consecutive user or assistant turns merge. image/document blocks -> 400 naming the block.
ApiResult<nlohmann::json> ConvertMessages(const nlohmann::json* system,
                                          const nlohmann::json& messages);

// tools: [{name, description?, input_schema?, ...}] -> [{type: "function", function: {name,
// description, parameters}}]; deferred tools (defer_loading) are left out.
ApiResult<nlohmann::json> ConvertTools(const nlohmann::json& tools);

}  // namespace semantic::server::anthropic
