// Per-request limits of the generating endpoints, checked on the parsed body before the dialect's
// own validation: the number of messages (server.max_messages) and the requested output tokens
// (server.max_output_tokens). Each failure is a 400 naming the field and the limit.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>

#include "server/api/common/api_error.h"
#include "server/http/server.h"

namespace semantic::server {

// `output_fields`: check max_tokens / max_completion_tokens against the ceiling (not for
// count_tokens, which generates nothing).
std::optional<ApiError> CheckRequestLimits(const ModelHandle& m, const nlohmann::json& body,
                                           bool output_fields = true);

}  // namespace semantic::server
