// Parses a request body that must be a JSON object; on failure sends the dialect's error shape.
#pragma once

#include <httplib.h>

#include <nlohmann/json.hpp>

#include "server/http/error_response.h"

namespace semantic::server {

using ErrorSender = void (*)(httplib::Response&, const ApiError&);

// `allow_empty`: an empty body reads as {} (for endpoints whose every field is optional).
bool ParseJsonBody(const httplib::Request& req, httplib::Response& res, nlohmann::json* body,
                   bool allow_empty = false, ErrorSender send_error = SendOpenAiError);

}  // namespace semantic::server
