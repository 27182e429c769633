// Parses a request body that must be a JSON object; on failure sends OpenAI's error shape.
#pragma once

#include <httplib.h>

#include <nlohmann/json.hpp>

namespace semantic::server {

// `allow_empty`: an empty body reads as {} (for endpoints whose every field is optional).
bool ParseJsonBody(const httplib::Request& req, httplib::Response& res, nlohmann::json* body,
                   bool allow_empty = false);

}  // namespace semantic::server
