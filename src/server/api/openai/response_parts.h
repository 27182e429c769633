// Pieces both OpenAI generation endpoints share: the engine request with its checks, usage,
// finish reasons, chat logprobs and the `created` clock.
#pragma once

#include <httplib.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "server/api/openai/requests.h"
#include "server/http/generation.h"
#include "server/http/server.h"

namespace semantic::server::openai {

long long Now();  // seconds since the epoch

// Agent id, model name and the shared pre-queue checks. Returns false after sending an error.
bool BuildRequest(const ModelHandle& m, const GenerationFields& g, std::vector<int32_t> prompt,
                  const httplib::Request& req, httplib::Response& res, engine::Request* out);

// {prompt_tokens, completion_tokens, total_tokens, prompt_tokens_details{cached_tokens}}.
nlohmann::json Usage(const GenerationOutcome& o);

// "length" (max_tokens or the request timeout) or "stop".
std::string FinishReason(const GenerationOutcome& o);

// Chat logprobs {content: [{token, logprob, bytes, top_logprobs}]} for the tokens of one delta.
nlohmann::json ChatLogprobs(const tokenizer::Tokenizer& tok, const Delta& d);

}  // namespace semantic::server::openai
