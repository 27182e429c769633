// OpenAI endpoints: /v1/models, /v1/chat/completions, /v1/completions (stream and non-stream).
#pragma once

#include <httplib.h>

#include <nlohmann/json.hpp>

#include "server/http/server.h"

namespace semantic::server::openai {

nlohmann::json ModelsResponse(const ModelHandle& m);
void HandleChatCompletions(const ModelHandle& m, const httplib::Request& req,
                           httplib::Response& res);
void HandleCompletions(const ModelHandle& m, const httplib::Request& req, httplib::Response& res);

}  // namespace semantic::server::openai
