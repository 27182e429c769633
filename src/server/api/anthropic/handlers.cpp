// Anthropic handlers: validate -> render/tokenize -> executor -> message JSON or SSE events.
#include "server/api/anthropic/handlers.h"

#include "server/api/anthropic/format.h"
#include "server/api/anthropic/requests.h"
#include "server/api/anthropic/stream.h"
#include "server/api/common/agent_id.h"
#include "server/api/common/engine_request.h"
#include "server/api/common/ids.h"
#include "server/api/common/request_limits.h"
#include "server/api/common/tool_output.h"
#include "server/api/common/tool_prompt.h"
#include "server/http/error_response.h"
#include "server/http/json_body.h"

namespace semantic::server::anthropic {

using nlohmann::json;

namespace {

// Claude Code and the SDKs send claude-* names; every such name selects the served model.
bool AnthropicModelMatches(const ModelHandle& m, const std::string& name) {
  return ModelMatches(m, name) || name.rfind("claude-", 0) == 0;
}

// The prompt exactly as generation prefills it. A conversation that ends with an assistant turn
// (without tool calls) is a prefill: the model continues that text instead of a new turn. A
// forced tool call's opening (*tool_prefill) follows it.
ApiResult<std::vector<int32_t>> RenderPrompt(const ModelHandle& m, const MessagesRequest& r,
                                             std::string* tool_prefill) {
  json messages = r.messages;
  const std::string prefill = SplitAssistantPrefill(&messages);
  ToolPrompt tp = PrepareToolPrompt(m.chat->tool_family(), messages, r.tools, r.tool_choice);
  auto rendered = m.chat->Render(tp.messages, tp.tools, true);
  if (!rendered.ok()) {
    return BadRequest("messages: the model's chat template cannot render this conversation: " +
                          rendered.status().message(),
                      "messages", "template_error");
  }
  *tool_prefill = tp.prefill;
  return m.tokenizer->Encode(*rendered + prefill + tp.prefill, true, true);
}

// Body -> request -> model check -> prompt tokens. Sends the error and returns false on failure.
bool Prepare(const ModelHandle& m, const httplib::Request& req, httplib::Response& res,
             bool count_tokens, MessagesRequest* r, std::vector<int32_t>* prompt,
             std::string* tool_prefill) {
  json body;
  if (!ParseJsonBody(req, res, &body, false, SendAnthropicError)) return false;
  if (auto e = CheckRequestLimits(m, body, /*output_fields=*/!count_tokens)) {
    SendAnthropicError(res, *e);
    return false;
  }
  auto parsed = ParseMessagesRequest(body, count_tokens);
  if (auto* e = std::get_if<ApiError>(&parsed)) {
    SendAnthropicError(res, *e);
    return false;
  }
  *r = std::move(std::get<MessagesRequest>(parsed));
  if (!AnthropicModelMatches(m, r->model)) {
    SendAnthropicError(res, {404,
                             "model: '" + r->model + "' not found; this server serves '" + m.id +
                                 "' (any 'claude-*' name selects it too)",
                             "not_found_error", "model", "model_not_found"});
    return false;
  }
  auto tokens = RenderPrompt(m, *r, tool_prefill);
  if (auto* e = std::get_if<ApiError>(&tokens)) {
    SendAnthropicError(res, *e);
    return false;
  }
  *prompt = std::move(std::get<std::vector<int32_t>>(tokens));
  return true;
}

// Anthropic's wording and statuses for the shared pre-queue checks.
void SendQueueError(const ModelHandle& m, int n_prompt, ApiError e, httplib::Response& res) {
  if (e.code == "context_length_exceeded") {
    // Claude Code matches this exact sentence to start compaction. The maximum is the longest
    // prompt that still leaves room for one output token.
    e.message = "prompt is too long: " + std::to_string(n_prompt) + " tokens > " +
                std::to_string(m.executor->MaxContext() - 1) + " maximum";
  } else if (e.code == "server_overloaded") {
    e.status = 529;  // overloaded_error; the SDKs retry it after Retry-After
  }
  SendAnthropicError(res, e);
}

}  // namespace

bool IsAnthropicPath(const std::string& path) {
  return path.rfind("/v1/messages", 0) == 0 || path.rfind("/api/event_logging", 0) == 0;
}

void HandleCountTokens(const ModelHandle& m, const httplib::Request& req, httplib::Response& res) {
  MessagesRequest r;
  std::vector<int32_t> prompt;
  std::string tool_prefill;
  if (!Prepare(m, req, res, true, &r, &prompt, &tool_prefill)) return;
  res.set_content(JsonText({{"input_tokens", prompt.size()}}), "application/json");
}

void HandleEventLogging(const httplib::Request&, httplib::Response& res) {
  res.set_content("{}", "application/json");  // Claude Code telemetry: accepted and dropped
}

void HandleMessages(const ModelHandle& m, const httplib::Request& req, httplib::Response& res) {
  MessagesRequest r;
  std::vector<int32_t> prompt;
  std::string tool_prefill;
  if (!Prepare(m, req, res, false, &r, &prompt, &tool_prefill)) return;
  auto agent = ResolveAgentId(req, std::nullopt, "", r.user_id, "metadata.user_id");
  if (auto* e = std::get_if<ApiError>(&agent)) return SendAnthropicError(res, *e);

  MessageInfo info{NewId("msg_"), r.model, *r.max_tokens == 0, false};
  const int n_prompt = static_cast<int>(prompt.size());
  // max_tokens 0 warms the cache: one token is generated and thrown away.
  const int wanted = std::max(1, *r.max_tokens);
  auto made = MakeEngineRequest(m, {std::move(prompt), wanted, r.sampling, r.temperature_set, false,
                                    0, std::get<std::string>(agent), ""});
  if (auto* e = std::get_if<ApiError>(&made)) return SendQueueError(m, n_prompt, *e, res);
  engine::Request request = std::move(std::get<engine::Request>(made));
  request.cache_hold_ms = r.cache_hold_ms;
  info.context_clamped = request.max_tokens < wanted;

  auto tools =
      std::make_shared<ToolOutput>(m.chat->tool_family(), r.tools, r.tool_choice, tool_prefill);
  if (r.stream) {
    return StreamMessage(m, std::move(request), std::move(r.stop_sequences), std::move(info),
                         std::move(tools), res);
  }
  json content = json::array();
  GenerationOutcome o = RunToolGeneration(
      m, std::move(request), r.stop_sequences, *tools,
      [&](const Delta*, std::vector<chat::ToolCallEvent>& events) {
        if (info.prefill_only) return true;
        for (chat::ToolCallEvent& e : events) {
          if (e.call) {
            content.push_back(ToolUseBlock(e.call->name, e.call->arguments, false));
          } else if (!content.empty() && content.back()["type"] == "text") {
            content.back()["text"] = content.back()["text"].get<std::string>() + e.text;
          } else {
            content.push_back({{"type", "text"}, {"text", e.text}});
          }
        }
        return true;
      });
  if (o.finish_reason == "error") {
    return SendAnthropicError(
        res, {o.http_status >= 400 ? o.http_status : 500, o.error, "server_error", "", ""});
  }
  const bool called = !info.prefill_only && tools->calls() > 0;
  res.set_content(JsonText(Message(info, std::move(content), o, called)), "application/json");
}

}  // namespace semantic::server::anthropic
