// ParseJsonBody.
#include "server/http/json_body.h"

#include "server/http/error_response.h"
#include "server/http/limits.h"

namespace semantic::server {

bool ParseJsonBody(const httplib::Request& req, httplib::Response& res, nlohmann::json* body,
                   bool allow_empty, ErrorSender send_error) {
  if (allow_empty && req.body.find_first_not_of(" \t\r\n") == std::string::npos) {
    *body = nlohmann::json::object();
    return true;
  }
  if (const int depth = MaxJsonDepth(); JsonNestsDeeperThan(req.body, depth)) {
    send_error(res, BadRequest("request body nests arrays/objects deeper than " +
                                   std::to_string(depth) + " levels (server.max_json_depth)",
                               "", "json_too_deep"));
    return false;
  }
  *body = nlohmann::json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (body->is_discarded()) {
    send_error(res, {400, "request body is not valid JSON", "invalid_request_error", "",
                          "invalid_json"});
    return false;
  }
  if (!body->is_object()) {
    send_error(res, BadRequest("request body must be a JSON object", "", "invalid_json"));
    return false;
  }
  return true;
}

}  // namespace semantic::server
