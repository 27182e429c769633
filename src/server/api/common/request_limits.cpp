// CheckRequestLimits.
#include "server/api/common/request_limits.h"

#include <string>

namespace semantic::server {

std::optional<ApiError> CheckRequestLimits(const ModelHandle& m, const nlohmann::json& body,
                                           bool output_fields) {
  if (auto it = body.find("messages"); it != body.end() && it->is_array() && m.max_messages > 0 &&
                                       it->size() > static_cast<size_t>(m.max_messages)) {
    return BadRequest("messages: " + std::to_string(it->size()) +
                          " messages are more than this server accepts in one request (" +
                          std::to_string(m.max_messages) + ", server.max_messages)",
                      "messages", "too_many_messages");
  }
  if (!output_fields || m.max_output_tokens <= 0) return std::nullopt;
  for (const char* key : {"max_completion_tokens", "max_tokens"}) {
    auto it = body.find(key);
    if (it == body.end() || !it->is_number()) continue;
    if (it->get<double>() > m.max_output_tokens) {
      return BadRequest(std::string(key) + ": " + it->dump() +
                            " is more than this server's limit of " +
                            std::to_string(m.max_output_tokens) +
                            " output tokens per request (server.max_output_tokens)",
                        key, "max_tokens_exceeded");
    }
  }
  return std::nullopt;
}

}  // namespace semantic::server
