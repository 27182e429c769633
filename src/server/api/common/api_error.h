// An API error as both dialects report it: HTTP status, message, type, offending field, code.
#pragma once

#include <string>

namespace semantic::server {

struct ApiError {
  int status = 400;
  std::string message;
  std::string type = "invalid_request_error";  // OpenAI error type
  std::string param;                            // offending field ("" if none)
  std::string code;                             // machine-readable code ("" if none)
  int retry_after_s = 0;                        // > 0: sent as the Retry-After header
};

inline ApiError BadRequest(std::string message, std::string param = "",
                           std::string code = "invalid_value") {
  return {400, std::move(message), "invalid_request_error", std::move(param), std::move(code)};
}

}  // namespace semantic::server
