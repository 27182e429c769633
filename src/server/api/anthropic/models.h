// GET /v1/models in Anthropic's shape, for clients that send `anthropic-version` (the Anthropic
// SDKs, Claude Code's model discovery): {data: [{type: "model", id, display_name, created_at,
// max_input_tokens, max_tokens}], has_more, first_id, last_id}.
#pragma once

#include <nlohmann/json.hpp>

#include "server/http/server.h"

namespace semantic::server::anthropic {

// The served model, then each alias without `*`/`?` (glob patterns are not model ids).
nlohmann::json ModelsResponse(const ModelHandle& m);

}  // namespace semantic::server::anthropic
