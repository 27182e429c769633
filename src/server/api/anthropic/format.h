// Anthropic response JSON: the message object, usage, stop reasons and SSE event framing.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "server/http/generation.h"

namespace semantic::server::anthropic {

// What a response echoes and how its stop reason is read.
struct MessageInfo {
  std::string id;                // "msg_…"
  std::string model;             // the requested name, echoed
  bool prefill_only = false;     // max_tokens 0: the prompt is cached, no text is returned
  bool context_clamped = false;  // max_tokens was cut to the context left
};

// {input_tokens, output_tokens, cache_read_input_tokens, cache_creation_input_tokens}.
nlohmann::json Usage(int prompt_tokens, int cached_tokens, int output_tokens);
nlohmann::json FinalUsage(const MessageInfo& info, const GenerationOutcome& o);

// end_turn | tool_use (the answer ended with tool calls) | max_tokens | stop_sequence |
// model_context_window_exceeded.
std::string StopReason(const MessageInfo& info, const GenerationOutcome& o, bool tool_calls);
nlohmann::json StopSequence(const GenerationOutcome& o);  // the matched string or null

// {type: "tool_use", id: "toolu_…", name, input}; `input` is `arguments` (a JSON object's text)
// parsed, or {} when streaming (the input then follows as input_json_delta).
nlohmann::json ToolUseBlock(const std::string& name, const std::string& arguments, bool streaming);

// The whole message (non-streaming answer); content: text and tool_use blocks in output order
// (an empty text block when there are none).
nlohmann::json Message(const MessageInfo& info, nlohmann::json content, const GenerationOutcome& o,
                       bool tool_calls);
// message_start's message: empty content, no stop reason yet, prompt usage so far.
nlohmann::json StartMessage(const MessageInfo& info, int prompt_tokens);

// "event: <data.type>\ndata: <json>\n\n".
std::string SseEvent(const nlohmann::json& data);

}  // namespace semantic::server::anthropic
