// Which agent session a request belongs to. Sources, first found wins: the X-Agent-ID,
// X-Session-ID or X-Claude-Code-Session-Id (sent by Claude Code on every request) header, an explicit body field (OpenAI "session_id"), then a user field (OpenAI
// "user", Anthropic "metadata.user_id"). Explicit ids must be valid (kv::ValidateAgentId) or the
// request fails naming the source; a user value that is not a valid id (an e-mail address, say)
// names the session "user-<xxh3 hex>" instead, so such clients keep working.
#pragma once

#include <optional>
#include <string>
#include <variant>

#include <httplib.h>

#include "server/api/common/api_error.h"

namespace semantic::server {

// The agent id ("" when the request names none) or an error naming the offending field.
std::variant<std::string, ApiError> ResolveAgentId(const httplib::Request& req,
                                                   const std::optional<std::string>& explicit_id,
                                                   const std::string& explicit_field,
                                                   const std::optional<std::string>& user,
                                                   const std::string& user_field);

}  // namespace semantic::server
