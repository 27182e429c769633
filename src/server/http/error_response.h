// Writes an ApiError as OpenAI's error body {error: {message, type, param, code}}, and JSON
// response text that never throws on invalid UTF-8.
#pragma once

#include <httplib.h>

#include <nlohmann/json.hpp>
#include <string>

#include "server/api/common/api_error.h"

namespace semantic::server {

void SendOpenAiError(httplib::Response& res, const ApiError& e);

// JSON text for responses; invalid UTF-8 (a byte-level token on its own) becomes U+FFFD instead
// of an exception.
std::string JsonText(const nlohmann::json& j);

}  // namespace semantic::server
