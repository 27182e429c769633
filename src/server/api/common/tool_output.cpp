// ToolOutput and RunToolGeneration.
#include "server/api/common/tool_output.h"

namespace semantic::server {

namespace {

chat::ToolParseOptions Options(const nlohmann::json& tools, const ToolChoice& choice) {
  chat::ToolParseOptions o;
  o.tool_names = ToolNames(tools);
  o.max_calls = choice.parallel ? 0 : 1;
  return o;
}

}  // namespace

ToolOutput::ToolOutput(chat::ToolFamily family, const nlohmann::json& tools,
                       const ToolChoice& choice, const std::string& prefill)
    : active_(ToolsActive(tools, choice)), parser_(family, Options(tools, choice)) {
  // The opening is a call's start: it is held, never released as events on its own.
  if (active_ && !prefill.empty()) parser_.Push(prefill);
}

std::vector<chat::ToolCallEvent> ToolOutput::Push(const std::string& text) {
  if (!active_) {
    if (text.empty()) return {};
    return {{text, std::nullopt}};
  }
  return parser_.Push(text);
}

std::vector<chat::ToolCallEvent> ToolOutput::Finish() {
  if (!active_) return {};
  return parser_.Finish();
}

GenerationOutcome RunToolGeneration(const ModelHandle& m, engine::Request request,
                                    const std::vector<std::string>& stops, ToolOutput& tools,
                                    const ToolEventsFn& on_events,
                                    const std::function<bool()>& on_idle) {
  auto cancel = request.cancelled;
  bool ended_by_parser = false;
  int answer_tokens = 0;  // up to the token that completed the answer
  GenerationOutcome o = RunGeneration(
      *m.executor, *m.tokenizer, std::move(request), stops,
      [&](const Delta& d) {
        if (ended_by_parser) return true;  // tokens already on their way when the answer ended
        answer_tokens += static_cast<int>(d.tokens.size());
        std::vector<chat::ToolCallEvent> events = tools.Push(d.text);
        if (tools.done()) {
          ended_by_parser = true;
          cancel->store(true);
        }
        return on_events(&d, events);
      },
      on_idle);
  if (ended_by_parser) {
    if (o.finish_reason == "cancelled") o.finish_reason = "stop";
    o.completion_tokens = answer_tokens;  // not the tokens generated before the cancel landed
  }
  if (o.finish_reason == "cancelled" || o.finish_reason == "error") return o;
  std::vector<chat::ToolCallEvent> rest = tools.Finish();
  if (!on_events(nullptr, rest)) o.finish_reason = "cancelled";
  return o;
}

}  // namespace semantic::server
