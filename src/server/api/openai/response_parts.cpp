// BuildRequest, Usage, FinishReason, ChatLogprobs, Now.
#include "server/api/openai/response_parts.h"

#include <chrono>

#include "server/api/common/agent_id.h"
#include "server/api/common/engine_request.h"
#include "server/http/error_response.h"

namespace semantic::server::openai {

using nlohmann::json;

long long Now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Common checks and the engine request. Returns false after sending an error.
bool BuildRequest(const ModelHandle& m, const GenerationFields& g, std::vector<int32_t> prompt,
                  const httplib::Request& req, httplib::Response& res, engine::Request* out) {
  auto agent = ResolveAgentId(req, g.session_id, "session_id", g.user, "user");
  if (auto* e = std::get_if<ApiError>(&agent)) {
    SendOpenAiError(res, *e);
    return false;
  }
  if (!ModelMatches(m, g.model)) {
    SendOpenAiError(res, {404,
                          "model '" + g.model + "' does not exist; this server serves '" + m.id +
                              "' (see GET /v1/models)",
                          "invalid_request_error", "model", "model_not_found"});
    return false;
  }
  auto made = MakeEngineRequest(
      m, {std::move(prompt), g.max_tokens, g.sampling, g.temperature_set, g.logprobs,
          g.top_logprobs, std::get<std::string>(agent), g.cache_salt});
  if (auto* e = std::get_if<ApiError>(&made)) {
    SendOpenAiError(res, *e);
    return false;
  }
  *out = std::move(std::get<engine::Request>(made));
  return true;
}

json Usage(const GenerationOutcome& o) {
  return {{"prompt_tokens", o.prompt_tokens},
          {"completion_tokens", o.completion_tokens},
          {"total_tokens", o.prompt_tokens + o.completion_tokens},
          {"prompt_tokens_details", {{"cached_tokens", o.cached_tokens}}}};
}

std::string FinishReason(const GenerationOutcome& o) {
  // A request cut by server.request_timeout ends like one cut by max_tokens.
  return o.finish_reason == "length" || o.finish_reason == "timeout" ? "length" : "stop";
}

namespace {

std::vector<int> Bytes(const std::string& s) {
  return std::vector<int>(reinterpret_cast<const unsigned char*>(s.data()),
                          reinterpret_cast<const unsigned char*>(s.data()) + s.size());
}

}  // namespace

json ChatLogprobs(const tokenizer::Tokenizer& tok, const Delta& d) {
  json content = json::array();
  for (const engine::Event& e : d.events) {
    std::string piece = tok.TokenToPiece(e.token);
    json top = json::array();
    for (const auto& t : e.top) {
      std::string p = tok.TokenToPiece(t.id);
      top.push_back({{"token", p}, {"logprob", t.logprob}, {"bytes", Bytes(p)}});
    }
    content.push_back(
        {{"token", piece}, {"logprob", e.logprob}, {"bytes", Bytes(piece)}, {"top_logprobs", top}});
  }
  return {{"content", content}};
}

}  // namespace semantic::server::openai
