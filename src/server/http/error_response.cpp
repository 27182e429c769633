// OpenAI error body.
#include "server/http/error_response.h"

#include <nlohmann/json.hpp>

namespace semantic::server {

void SendOpenAiError(httplib::Response& res, const ApiError& e) {
  using nlohmann::json;
  json err = {{"message", e.message},
              {"type", e.type},
              {"param", e.param.empty() ? json(nullptr) : json(e.param)},
              {"code", e.code.empty() ? json(nullptr) : json(e.code)}};
  res.status = e.status;
  res.set_content(JsonText(json{{"error", err}}), "application/json");
}

std::string JsonText(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace semantic::server
