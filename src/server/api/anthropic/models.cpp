// ModelsResponse (Anthropic shape).
#include "server/api/anthropic/models.h"

#include <string>

#include "server/api/common/model_names.h"

namespace semantic::server::anthropic {

nlohmann::json ModelsResponse(const ModelHandle& m) {
  const int ctx = m.executor->MaxContext();
  auto entry = [&](const std::string& id, const std::string& display) {
    return nlohmann::json{{"type", "model"},
                          {"id", id},
                          {"display_name", display},
                          {"created_at", "1970-01-01T00:00:00Z"},
                          {"max_input_tokens", ctx - 1},
                          {"max_tokens", ctx - 1}};
  };
  nlohmann::json data = nlohmann::json::array({entry(m.id, m.id)});
  for (const auto& [pattern, target] : m.aliases) {
    if (pattern.find_first_of("*?") != std::string::npos || !AliasNamesModel(m, pattern)) continue;
    data.push_back(entry(pattern, pattern + " (alias of " + m.id + ")"));
  }
  return {{"data", data},
          {"has_more", false},
          {"first_id", data.front()["id"]},
          {"last_id", data.back()["id"]}};
}

}  // namespace semantic::server::anthropic
