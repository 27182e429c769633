// Parses a request body that must be a JSON object; on failure sends the dialect's error shape.
#pragma once

#include <httplib.h>

#include <nlohmann/json.hpp>
#include <string>

#include "server/http/error_response.h"

namespace semantic::server {

using ErrorSender = void (*)(httplib::Response&, const ApiError&);

// `allow_empty`: an empty body reads as {} (for endpoints whose every field is optional).
bool ParseJsonBody(const httplib::Request& req, httplib::Response& res, nlohmann::json* body,
                   bool allow_empty = false, ErrorSender send_error = SendOpenAiError);

// The top-level "model" string of a JSON object body, read without building the document; ""
// when there is none or the body is not JSON (the handler then reports what is wrong).
std::string RequestedModelName(const std::string& body);

}  // namespace semantic::server
