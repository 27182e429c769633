// The chat a model's template renders when tools are involved, per tool-call family: native
// families get `tools` and call history with object arguments; the generic family gets the tools
// and the answer format described in the system message, and its call history written the way it
// is asked to answer. Forced calls add the family's call opening after the rendered prompt.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "chat/tool_calls.h"
#include "server/api/common/tool_choice.h"

namespace semantic::server {

struct ToolPrompt {
  nlohmann::json messages;  // for the template
  nlohmann::json tools;     // for the template (null: none)
  std::string prefill;      // appended to the rendered prompt (a forced call's opening)
};

// messages: [{role, content (string), tool_calls?, tool_call_id?...}] with OpenAI-shaped
// tool_calls (arguments a JSON string) and tools in OpenAI function shape.
ToolPrompt PrepareToolPrompt(chat::ToolFamily family, const nlohmann::json& messages,
                             const nlohmann::json& tools, const ToolChoice& choice);

// The generic family's system text: the tools and the JSON answer format.
std::string GenericToolInstructions(const nlohmann::json& tools);

}  // namespace semantic::server
