// OpenAI request bodies parsed and validated into dialect-neutral generation settings.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "engine/sampler.h"
#include "server/api/common/fields.h"
#include "server/api/common/tool_choice.h"

namespace semantic::server::openai {

struct GenerationFields {
  std::string model;
  engine::SamplingParams sampling;
  bool temperature_set = false;
  std::optional<int> max_tokens;
  std::vector<std::string> stop;
  bool stream = false;
  bool include_usage = false;
  bool logprobs = false;
  int top_logprobs = 0;
  std::optional<std::string> session_id;  // body "session_id": an explicit agent id
  std::optional<std::string> user;        // body "user": an agent id if it is a valid one
  std::string cache_salt;                 // body "cache_salt": a separate prefix-cache space
};

struct ChatRequest {
  GenerationFields gen;
  nlohmann::json messages = nlohmann::json::array();  // normalised: role + string content
  nlohmann::json tools;                               // validated function tools
  ToolChoice tool_choice;                             // tool_choice + parallel_tool_calls
};

struct CompletionRequest {
  GenerationFields gen;
  std::string prompt_text;              // prompt as a string, or
  std::vector<int32_t> prompt_tokens;   // as token ids
  bool prompt_is_tokens = false;
  bool echo = false;
};

ApiResult<ChatRequest> ParseChatRequest(const nlohmann::json& body);
ApiResult<CompletionRequest> ParseCompletionRequest(const nlohmann::json& body, int n_vocab);

}  // namespace semantic::server::openai
