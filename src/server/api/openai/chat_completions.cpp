// POST /v1/chat/completions: validate -> tools into the prompt -> render/tokenize -> executor ->
// message JSON or SSE chunks, with the model's tool calls parsed into `tool_calls`.
#include <memory>

#include "server/api/common/ids.h"
#include "server/api/common/request_limits.h"
#include "server/api/common/tool_output.h"
#include "server/api/common/tool_prompt.h"
#include "server/api/openai/handlers.h"
#include "server/api/openai/requests.h"
#include "server/api/openai/response_parts.h"
#include "server/http/error_response.h"
#include "server/http/json_body.h"
#include "server/http/request_context.h"

namespace semantic::server::openai {

using nlohmann::json;

namespace {

constexpr const char* kFingerprint = "semantic-0.1.0";

// The response's fixed fields and the chunk shapes.
struct ChatShape {
  std::string id, model;
  long long created = 0;

  json Chunk(json delta, json logprobs, const char* finish) const {
    json choice = {{"index", 0},
                   {"delta", std::move(delta)},
                   {"finish_reason", finish ? json(finish) : json(nullptr)},
                   {"logprobs", std::move(logprobs)}};
    return {
        {"id", id},       {"object", "chat.completion.chunk"},  {"created", created},
        {"model", model}, {"system_fingerprint", kFingerprint}, {"choices", json::array({choice})}};
  }
  json UsageChunk(const GenerationOutcome& o) const {
    return {{"id", id},       {"object", "chat.completion.chunk"}, {"created", created},
            {"model", model}, {"choices", json::array()},          {"usage", Usage(o)}};
  }
};

json ToolCallJson(const chat::ToolCall& c) {
  return {{"id", NewId("call_")},
          {"type", "function"},
          {"function", {{"name", c.name}, {"arguments", c.arguments}}}};
}

std::string ChatFinishReason(const GenerationOutcome& o, const ToolOutput& tools) {
  const std::string fr = FinishReason(o);
  return fr == "stop" && tools.calls() > 0 ? "tool_calls" : fr;
}

void Collect(const ModelHandle& m, engine::Request request, const ChatRequest& cr,
             const ChatShape& shape, ToolOutput& tools, httplib::Response& res) {
  std::string text;
  json calls = json::array(), lp_content = json::array();
  GenerationOutcome o =
      RunToolGeneration(m, std::move(request), cr.gen.stop, tools,
                        [&](const Delta* d, std::vector<chat::ToolCallEvent>& events) {
                          if (cr.gen.logprobs && d != nullptr) {
                            json lp = ChatLogprobs(*m.tokenizer, *d);  // alive for the loop
                            for (auto& x : lp["content"]) lp_content.push_back(std::move(x));
                          }
                          for (const chat::ToolCallEvent& e : events) {
                            if (e.call)
                              calls.push_back(ToolCallJson(*e.call));
                            else
                              text += e.text;
                          }
                          return true;
                        });
  if (o.finish_reason == "error") {
    SendOpenAiError(res, {o.http_status >= 400 ? o.http_status : 500, o.error,
                          o.http_status >= 500 ? "server_error" : "invalid_request_error", "", ""});
    return;
  }
  json message = {{"role", "assistant"},
                  {"content", text.empty() && !calls.empty() ? json(nullptr) : json(text)},
                  {"refusal", nullptr}};
  if (!calls.empty()) message["tool_calls"] = calls;
  json choice = {{"index", 0},
                 {"message", message},
                 {"logprobs", cr.gen.logprobs ? json{{"content", lp_content}} : json(nullptr)},
                 {"finish_reason", ChatFinishReason(o, tools)}};
  json out = {{"id", shape.id},
              {"object", "chat.completion"},
              {"created", shape.created},
              {"model", shape.model},
              {"system_fingerprint", kFingerprint},
              {"choices", json::array({choice})},
              {"usage", Usage(o)}};
  res.set_content(JsonText(out), "application/json");
}

// One delta's events as chunks: text as `content`, each call as a tool_calls delta with id, type
// and name (arguments "") and then one with its arguments. The delta's logprobs ride on its
// first chunk; without tool parsing every delta is one chunk, as before tools existed.
bool SendEvents(const std::function<bool(const json&)>& send, const ChatShape& shape,
                const ToolOutput& tools, std::vector<chat::ToolCallEvent>& events, json lp,
                int* call_index) {
  if (!tools.active()) {
    std::string text;
    for (const auto& e : events) text += e.text;
    json delta = text.empty() ? json::object() : json{{"content", text}};
    return send(shape.Chunk(std::move(delta), std::move(lp), nullptr));
  }
  if (events.empty() && !lp.is_null()) return send(shape.Chunk(json::object(), lp, nullptr));
  for (const chat::ToolCallEvent& e : events) {
    json delta;
    if (!e.call) {
      delta = {{"content", e.text}};
    } else {
      const int k = (*call_index)++;
      json first = ToolCallJson(*e.call);
      first["index"] = k;
      first["function"]["arguments"] = "";
      if (!send(shape.Chunk({{"tool_calls", json::array({first})}}, lp, nullptr))) return false;
      lp = nullptr;
      json args = {{"index", k}, {"function", {{"arguments", e.call->arguments}}}};
      delta = {{"tool_calls", json::array({args})}};
    }
    if (!send(shape.Chunk(std::move(delta), lp, nullptr))) return false;
    lp = nullptr;
  }
  return true;
}

void Stream(const ModelHandle& m, engine::Request request, const ChatRequest& cr,
            const ChatShape& shape, std::shared_ptr<ToolOutput> tools, httplib::Response& res) {
  auto shared_req = std::make_shared<engine::Request>(std::move(request));
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Accel-Buffering", "no");
  res.set_chunked_content_provider("text/event-stream", [&m, g = cr.gen, shape, shared_req, tools,
                                                         rid = RequestIdOf(res)](
                                                            size_t, httplib::DataSink& sink) {
    auto send = [&](const json& j) {
      const std::string line = "data: " + JsonText(j) + "\n\n";
      return sink.is_writable() && sink.write(line.data(), line.size());
    };
    bool alive = send(shape.Chunk({{"role", "assistant"}, {"content", ""}}, nullptr, nullptr));
    GenerationOutcome o;
    int call_index = 0;
    if (alive) {
      o = RunToolGeneration(
          m, std::move(*shared_req), g.stop, *tools,
          [&](const Delta* d, std::vector<chat::ToolCallEvent>& events) {
            if (d == nullptr && events.empty()) return true;  // nothing held at the end
            json lp = g.logprobs && d ? ChatLogprobs(*m.tokenizer, *d) : json(nullptr);
            return SendEvents(send, shape, *tools, events, std::move(lp), &call_index);
          });
    }
    if (!alive || o.finish_reason == "cancelled") return false;  // client went away
    if (o.finish_reason == "error") {
      send(OpenAiErrorBody({o.http_status, o.error, "server_error", "", ""}, rid));
    } else {
      const std::string fr = ChatFinishReason(o, *tools);
      send(shape.Chunk(json::object(), nullptr, fr.c_str()));
      if (g.include_usage) send(shape.UsageChunk(o));
    }
    const std::string done = "data: [DONE]\n\n";
    sink.write(done.data(), done.size());
    sink.done();
    return true;
  });
}

}  // namespace

void HandleChatCompletions(const ModelHandle& m, const httplib::Request& req,
                           httplib::Response& res) {
  json body;
  if (!ParseJsonBody(req, res, &body)) return;
  if (auto e = CheckRequestLimits(m, body)) return SendOpenAiError(res, *e);
  auto parsed = ParseChatRequest(body);
  if (auto* e = std::get_if<ApiError>(&parsed)) return SendOpenAiError(res, *e);
  ChatRequest& cr = std::get<ChatRequest>(parsed);
  const chat::ToolFamily family = m.chat->tool_family();
  ToolPrompt tp = PrepareToolPrompt(family, cr.messages, cr.tools, cr.tool_choice);
  auto rendered = m.chat->Render(tp.messages, tp.tools, true);
  if (!rendered.ok()) {
    return SendOpenAiError(
        res, BadRequest("cannot render the chat template: " + rendered.status().message(),
                        "messages", "template_error"));
  }
  std::vector<int32_t> prompt = m.tokenizer->Encode(*rendered + tp.prefill, true, true);
  engine::Request request;
  if (!BuildRequest(m, cr.gen, std::move(prompt), req, res, &request)) return;
  const ChatShape shape{NewId("chatcmpl-"), m.id, Now()};
  auto tools = std::make_shared<ToolOutput>(family, cr.tools, cr.tool_choice, tp.prefill);
  if (!cr.gen.stream) return Collect(m, std::move(request), cr, shape, *tools, res);
  Stream(m, std::move(request), cr, shape, std::move(tools), res);
}

}  // namespace semantic::server::openai
