// Writes an ApiError as OpenAI's or Anthropic's error body, and JSON
// response text that never throws on invalid UTF-8.
#pragma once

#include <httplib.h>

#include <nlohmann/json.hpp>
#include <string>

#include "server/api/common/api_error.h"

namespace semantic::server {

// Both shapes carry the request id (X-Request-ID of `res`, request_context.h) when there is one:
// OpenAI's inside the error object, Anthropic's at the top level as Anthropic's API does.
void SendOpenAiError(httplib::Response& res, const ApiError& e);
// The body alone, also for an error event in the middle of a stream ("" request id: none).
nlohmann::json OpenAiErrorBody(const ApiError& e, const std::string& request_id = "");

// Anthropic's shape {type: "error", error: {type, message}}; the error type follows the status
// (AnthropicErrorType), the message names the offending field.
void SendAnthropicError(httplib::Response& res, const ApiError& e);
nlohmann::json AnthropicErrorBody(const ApiError& e, const std::string& request_id = "");
const char* AnthropicErrorType(int status);

// JSON text for responses; invalid UTF-8 (a byte-level token on its own) becomes U+FFFD instead
// of an exception.
std::string JsonText(const nlohmann::json& j);

}  // namespace semantic::server
