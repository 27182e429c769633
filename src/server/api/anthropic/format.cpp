// Anthropic message, usage and SSE framing.
#include "server/api/anthropic/format.h"

#include "server/http/error_response.h"

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

std::string StopReason(const MessageInfo& info, const GenerationOutcome& o) {
  if (o.finish_reason == "length") {
    return info.context_clamped && !info.prefill_only ? "model_context_window_exceeded"
                                                      : "max_tokens";
  }
  return o.stop_sequence.empty() ? "end_turn" : "stop_sequence";
}

json StopSequence(const GenerationOutcome& o) {
  return o.stop_sequence.empty() ? json(nullptr) : json(o.stop_sequence);
}

json Message(const MessageInfo& info, const std::string& text, const GenerationOutcome& o) {
  return {{"id", info.id},
          {"type", "message"},
          {"role", "assistant"},
          {"model", info.model},
          {"content", json::array({{{"type", "text"}, {"text", text}}})},
          {"stop_reason", StopReason(info, o)},
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
