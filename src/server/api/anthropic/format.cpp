// Anthropic message, usage and SSE framing.
#include "server/api/anthropic/format.h"

#include "server/api/common/ids.h"
#include "server/http/error_response.h"
#include "server/http/limits.h"

namespace semantic::server::anthropic {

using nlohmann::json;

json Usage(int prompt_tokens, int cached_tokens, int output_tokens) {
  // The three input counts add up to the prompt, as Claude Code expects when it sums them for
  // its context meter. input_tokens = what this request had to prefill; cache_read = the prefix
  // served from the KV cache. This server caches every prompt block on its own, so nothing is
  // "created" at a client's request: cache_creation_input_tokens is always 0 (the wire notes
  // allow it) rather than a second, overlapping count of the prefilled tokens.
  return {{"input_tokens", prompt_tokens - cached_tokens},
          {"output_tokens", output_tokens},
          {"cache_creation_input_tokens", 0},
          {"cache_read_input_tokens", cached_tokens}};
}

json FinalUsage(const MessageInfo& info, const GenerationOutcome& o) {
  return Usage(o.prompt_tokens, o.cached_tokens, info.prefill_only ? 0 : o.completion_tokens);
}

std::string StopReason(const MessageInfo& info, const GenerationOutcome& o, bool tool_calls) {
  if (o.finish_reason == "length") {
    return info.context_clamped && !info.prefill_only ? "model_context_window_exceeded"
                                                      : "max_tokens";
  }
  if (!o.stop_sequence.empty()) return "stop_sequence";
  return tool_calls ? "tool_use" : "end_turn";
}

json ToolUseBlock(const std::string& name, const std::string& arguments, bool streaming) {
  json input = json::object();
  if (!streaming && !JsonNestsDeeperThan(arguments, MaxJsonDepth())) {
    input = json::parse(arguments, nullptr, false);
    if (!input.is_object()) input = json::object();  // the parser only passes objects
  }
  return {{"type", "tool_use"}, {"id", NewId("toolu_")}, {"name", name}, {"input", input}};
}

json StopSequence(const GenerationOutcome& o) {
  return o.stop_sequence.empty() ? json(nullptr) : json(o.stop_sequence);
}

json Message(const MessageInfo& info, json content, const GenerationOutcome& o, bool tool_calls) {
  if (content.empty()) content.push_back({{"type", "text"}, {"text", ""}});
  return {{"id", info.id},
          {"type", "message"},
          {"role", "assistant"},
          {"model", info.model},
          {"content", std::move(content)},
          {"stop_reason", StopReason(info, o, tool_calls)},
          {"stop_sequence", StopSequence(o)},
          {"usage", FinalUsage(info, o)}};
}

json StartMessage(const MessageInfo& info, int prompt_tokens) {
  // The prefix-cache hit is known only when the sequence finishes; message_delta repeats every
  // usage field with the final split (SDKs overwrite message_start's values with it).
  return {{"id", info.id},
          {"type", "message"},
          {"role", "assistant"},
          {"model", info.model},
          {"content", json::array()},
          {"stop_reason", nullptr},
          {"stop_sequence", nullptr},
          {"usage", Usage(prompt_tokens, 0, 0)}};
}

std::string SseEvent(const json& data) {
  return "event: " + data["type"].get<std::string>() + "\ndata: " + JsonText(data) + "\n\n";
}

}  // namespace semantic::server::anthropic
