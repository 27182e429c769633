// Generated text -> text and tool-call events for a request, and a generation loop that feeds the
// parser and ends the sequence as soon as the family's answer is complete.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "chat/tool_calls.h"
#include "server/api/common/tool_choice.h"
#include "server/http/generation.h"
#include "server/http/server.h"

namespace semantic::server {

class ToolOutput {
 public:
  // Parsing is on when ToolsActive(tools, choice); `prefill` (the forced call opening, already
  // in the prompt) is read first, as if the model had written it. Off: text passes through.
  ToolOutput(chat::ToolFamily family, const nlohmann::json& tools, const ToolChoice& choice,
             const std::string& prefill);

  bool active() const { return active_; }
  std::vector<chat::ToolCallEvent> Push(const std::string& text);
  std::vector<chat::ToolCallEvent> Finish();
  bool done() const { return active_ && parser_.done(); }
  size_t calls() const { return parser_.calls(); }

 private:
  bool active_;
  chat::ToolCallParser parser_;
};

// d: the delta the events came from (nullptr for the events released at the end). Returns false
// when the client is gone.
using ToolEventsFn = std::function<bool(const Delta* d, std::vector<chat::ToolCallEvent>& events)>;

// RunGeneration with every delta passed through `tools`. When the parser is done the sequence is
// ended and the outcome reads as a normal stop ("stop"). The end-of-output events are passed on
// (d == nullptr) unless the generation failed or the client went away.
GenerationOutcome RunToolGeneration(const ModelHandle& m, engine::Request request,
                                    const std::vector<std::string>& stops, ToolOutput& tools,
                                    const ToolEventsFn& on_events,
                                    const std::function<bool()>& on_idle = nullptr);

}  // namespace semantic::server
