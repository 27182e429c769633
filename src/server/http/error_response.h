// Writes an ApiError as OpenAI's error body {error: {message, type, param, code}}.
#pragma once

#include <httplib.h>

#include "server/api/common/api_error.h"

namespace semantic::server {

void SendOpenAiError(httplib::Response& res, const ApiError& e);

}  // namespace semantic::server
