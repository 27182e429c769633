// OpenAI handlers: /v1/models and /v1/completions (validate -> tokenize -> executor -> JSON or
// SSE chunks); chat completions are in chat_completions.cpp.
#include "server/api/openai/handlers.h"

#include <chrono>

#include "server/api/common/agent_id.h"
#include "server/api/common/engine_request.h"
#include "server/api/common/ids.h"
#include "server/api/common/model_names.h"
#include "server/api/common/request_limits.h"
#include "server/api/openai/requests.h"
#include "server/api/openai/response_parts.h"
#include "server/http/error_response.h"
#include "server/http/generation.h"
#include "server/http/json_body.h"
#include "server/http/request_context.h"

namespace semantic::server::openai {

using nlohmann::json;

namespace {

// Streams SSE chunks or collects the whole answer; `make_chunk(delta_text, delta, finish)` and
// `make_final(text, logprobs, outcome)` build the dialect's JSON.
void Respond(const ModelHandle& m, engine::Request request, const GenerationFields& g,
             httplib::Response& res,
             std::function<json(const std::string&, const Delta*, const char*)> make_chunk,
             std::function<json(const std::string&, const json&, const GenerationOutcome&)>
                 make_final,
             std::function<json(const GenerationOutcome&)> make_usage_chunk,
             std::function<json(const Delta&)> logprobs_of, std::string first_chunk_text) {
  if (!g.stream) {
    std::string text;
    json lp_all = json::array();
    GenerationOutcome o = RunGeneration(*m.executor, *m.tokenizer, std::move(request), g.stop,
                                        [&](const Delta& d) {
                                          text += d.text;
                                          if (g.logprobs) lp_all.push_back(logprobs_of(d));
                                          return true;
                                        });
    if (o.finish_reason == "error") {
      SendOpenAiError(res, {o.http_status >= 400 ? o.http_status : 500, o.error,
                      o.http_status >= 500 ? "server_error" : "invalid_request_error", "", ""});
      return;
    }
    res.set_content(JsonText(make_final(text, lp_all, o)), "application/json");
    return;
  }
  auto shared_req = std::make_shared<engine::Request>(std::move(request));
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Accel-Buffering", "no");
  res.set_chunked_content_provider(
      "text/event-stream", [&m, g, shared_req, make_chunk, make_usage_chunk, first_chunk_text,
                            rid = RequestIdOf(res)](size_t, httplib::DataSink& sink) {
        auto send = [&](const json& j) {
          const std::string line = "data: " + JsonText(j) + "\n\n";
          return sink.is_writable() && sink.write(line.data(), line.size());
        };
        bool alive = send(make_chunk(first_chunk_text, nullptr, nullptr));
        GenerationOutcome o;
        if (alive) {
          o = RunGeneration(*m.executor, *m.tokenizer, std::move(*shared_req), g.stop,
                            [&](const Delta& d) { return send(make_chunk(d.text, &d, nullptr)); });
        }
        if (!alive || o.finish_reason == "cancelled") return false;  // client went away
        if (o.finish_reason == "error") {
          send(OpenAiErrorBody({o.http_status, o.error, "server_error", "", ""}, rid));
        } else {
          const std::string fr = FinishReason(o);
          send(make_chunk("", nullptr, fr.c_str()));
          if (g.include_usage) send(make_usage_chunk(o));
        }
        const std::string done = "data: [DONE]\n\n";
        sink.write(done.data(), done.size());
        sink.done();
        return true;
      });
}

}  // namespace

json ModelsResponse(const ModelHandle& m) {
  const models::ModelConfig& c = *m.config;
  json spec = {{"architecture", c.arch},
               {"n_layers", c.n_layers},
               {"n_heads", c.n_head},
               {"n_kv_heads", c.n_head_kv},
               {"head_dim", c.head_dim},
               {"n_embd", c.n_embd},
               {"n_vocab", c.n_vocab},
               {"max_context_length", m.executor->MaxContext()},
               {"context_length_trained", c.n_ctx_train},
               {"block_tokens", m.block_tokens},
               {"kv_dtype", m.kv_dtype}};
  json aliases = json::array();
  for (const auto& [pattern, target] : m.aliases) {
    if (AliasNamesModel(m, pattern)) aliases.push_back(pattern);
  }
  json model = {{"id", m.id}, {"object", "model"}, {"created", 0}, {"owned_by", "semantic"},
                {"spec", spec}, {"aliases", aliases}};
  json data = json::array({model});
  for (const auto& [pattern, target] : m.aliases) {  // plain names are listed as models too
    if (pattern.find_first_of("*?") != std::string::npos || !AliasNamesModel(m, pattern)) continue;
    data.push_back({{"id", pattern}, {"object", "model"}, {"created", 0}, {"owned_by", "semantic"},
                    {"alias_of", m.id}});
  }
  return {{"object", "list"}, {"data", data}};
}

void HandleCompletions(const ModelHandle& m, const httplib::Request& req, httplib::Response& res) {
  json body;
  if (!ParseJsonBody(req, res, &body)) return;
  if (auto e = CheckRequestLimits(m, body)) return SendOpenAiError(res, *e);
  auto parsed = ParseCompletionRequest(body, m.config->n_vocab);
  if (auto* e = std::get_if<ApiError>(&parsed)) return SendOpenAiError(res, *e);
  CompletionRequest& cr = std::get<CompletionRequest>(parsed);
  std::vector<int32_t> prompt = cr.prompt_is_tokens ? cr.prompt_tokens
                                                    : m.tokenizer->Encode(cr.prompt_text, true, false);
  const std::string echo_text = cr.echo ? (cr.prompt_is_tokens ? m.tokenizer->Decode(prompt)
                                                               : cr.prompt_text)
                                        : "";
  engine::Request request;
  if (!BuildRequest(m, cr.gen, std::move(prompt), req, res,
                    &request)) {
    return;
  }
  const std::string id = NewId("cmpl-");
  const long long created = Now();
  const std::string model_id = m.id;
  const bool want_lp = cr.gen.logprobs;
  auto lp_of = [&m](const Delta& d) {
    json tokens = json::array(), lps = json::array(), tops = json::array();
    for (const engine::Event& e : d.events) {
      tokens.push_back(m.tokenizer->TokenToPiece(e.token));
      lps.push_back(e.logprob);
      json top = json::object();
      for (const auto& t : e.top) top[m.tokenizer->TokenToPiece(t.id)] = t.logprob;
      tops.push_back(top);
    }
    return json{{"tokens", tokens}, {"token_logprobs", lps}, {"top_logprobs", tops}};
  };
  auto chunk = [=](const std::string& text, const Delta* d, const char* finish) {
    json choice = {{"index", 0}, {"text", text},
                   {"logprobs", (want_lp && d) ? lp_of(*d) : json(nullptr)},
                   {"finish_reason", finish ? json(finish) : json(nullptr)}};
    return json{{"id", id}, {"object", "text_completion"}, {"created", created},
                {"model", model_id}, {"choices", json::array({choice})}};
  };
  auto final_json = [=](const std::string& text, const json& lps, const GenerationOutcome& o) {
    json lp = nullptr;
    if (want_lp) {
      lp = {{"tokens", json::array()}, {"token_logprobs", json::array()},
            {"top_logprobs", json::array()}};
      for (const auto& part : lps)
        for (const char* k : {"tokens", "token_logprobs", "top_logprobs"})
          for (const auto& x : part[k]) lp[k].push_back(x);
    }
    json choice = {{"index", 0}, {"text", echo_text + text}, {"logprobs", lp},
                   {"finish_reason", FinishReason(o)}};
    return json{{"id", id}, {"object", "text_completion"}, {"created", created},
                {"model", model_id}, {"choices", json::array({choice})}, {"usage", Usage(o)}};
  };
  auto usage_chunk = [=](const GenerationOutcome& o) {
    return json{{"id", id}, {"object", "text_completion"}, {"created", created},
                {"model", model_id}, {"choices", json::array()}, {"usage", Usage(o)}};
  };
  Respond(m, std::move(request), cr.gen, res, chunk, final_json, usage_chunk, lp_of, echo_text);
}

}  // namespace semantic::server::openai
