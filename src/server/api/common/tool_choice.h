// Dialect-neutral tool settings of a request: which tools the model may call and how it must
// (tool_choice), read by each dialect's request parser.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace semantic::server {

struct ToolChoice {
  enum class Mode {
    kAuto,      // the model decides (OpenAI "auto", Anthropic "auto"; the default)
    kNone,      // no calls: tools are not rendered and output is not parsed
    kRequired,  // some call (OpenAI "required", Anthropic "any")
    kNamed,     // a call to `name` (OpenAI {type: function}, Anthropic {type: tool})
  };
  Mode mode = Mode::kAuto;
  std::string name;      // kNamed
  bool parallel = true;  // false: at most one call (parallel_tool_calls / disable_parallel_...)
};

// Names of OpenAI-shaped tools [{type: "function", function: {name, ...}}], in order.
std::vector<std::string> ToolNames(const nlohmann::json& tools);

// True when the request has tools and a choice other than none: tools reach the model and its
// output is parsed for calls.
bool ToolsActive(const nlohmann::json& tools, const ToolChoice& choice);

}  // namespace semantic::server
