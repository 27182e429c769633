// Anthropic endpoints: POST /v1/messages (stream and non-stream), /v1/messages/count_tokens and
// the /api/event_logging/batch no-op Claude Code calls.
#pragma once

#include <httplib.h>

#include <string>

#include "server/http/server.h"

namespace semantic::server::anthropic {

void HandleMessages(const ModelHandle& m, const httplib::Request& req, httplib::Response& res);
void HandleCountTokens(const ModelHandle& m, const httplib::Request& req, httplib::Response& res);
void HandleEventLogging(const httplib::Request& req, httplib::Response& res);

// Routes whose errors (including the server's own 404/413) use Anthropic's error shape.
bool IsAnthropicPath(const std::string& path);

}  // namespace semantic::server::anthropic
