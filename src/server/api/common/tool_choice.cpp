// ToolNames, ToolsActive.
#include "server/api/common/tool_choice.h"

namespace semantic::server {

using nlohmann::json;

std::vector<std::string> ToolNames(const json& tools) {
  std::vector<std::string> names;
  if (!tools.is_array()) return names;
  for (const json& t : tools) {
    if (!t.is_object() || !t.contains("function") || !t["function"].is_object()) continue;
    auto name = t["function"].find("name");
    if (name != t["function"].end() && name->is_string()) names.push_back(name->get<std::string>());
  }
  return names;
}

bool ToolsActive(const json& tools, const ToolChoice& choice) {
  return tools.is_array() && !tools.empty() && choice.mode != ToolChoice::Mode::kNone;
}

}  // namespace semantic::server
