// OpenAI and Anthropic error bodies.
#include "server/http/error_response.h"

#include <nlohmann/json.hpp>

#include "server/http/request_context.h"

namespace semantic::server {

nlohmann::json OpenAiErrorBody(const ApiError& e, const std::string& request_id) {
  using nlohmann::json;
  json err = {{"message", e.message},
              {"type", e.type},
              {"param", e.param.empty() ? json(nullptr) : json(e.param)},
              {"code", e.code.empty() ? json(nullptr) : json(e.code)}};
  if (!request_id.empty()) err["request_id"] = request_id;
  return json{{"error", err}};
}

void SendOpenAiError(httplib::Response& res, const ApiError& e) {
  res.status = e.status;
  if (e.retry_after_s > 0) res.set_header("Retry-After", std::to_string(e.retry_after_s));
  res.set_content(JsonText(OpenAiErrorBody(e, RequestIdOf(res))), "application/json");
}

const char* AnthropicErrorType(int status) {
  switch (status) {
    case 401: return "authentication_error";
    case 403: return "permission_error";
    case 404: return "not_found_error";
    case 413: return "request_too_large";
    case 429: return "rate_limit_error";
    case 504: return "timeout_error";
    case 529: return "overloaded_error";
    default: return status >= 500 ? "api_error" : "invalid_request_error";
  }
}

nlohmann::json AnthropicErrorBody(const ApiError& e, const std::string& request_id) {
  nlohmann::json body = {
      {"type", "error"},
      {"error", {{"type", AnthropicErrorType(e.status)}, {"message", e.message}}}};
  if (!request_id.empty()) body["request_id"] = request_id;
  return body;
}

void SendAnthropicError(httplib::Response& res, const ApiError& e) {
  res.status = e.status;
  if (e.retry_after_s > 0) res.set_header("Retry-After", std::to_string(e.retry_after_s));
  res.set_content(JsonText(AnthropicErrorBody(e, RequestIdOf(res))), "application/json");
}

std::string JsonText(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace semantic::server
