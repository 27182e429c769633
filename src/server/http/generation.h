// Runs one generation on the executor from an HTTP thread: submits, turns token events into
// stop-aware text deltas, and reports usage and the finish reason. Dialect-neutral.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "engine/executor.h"
#include "tokenizer/tokenizer.h"

namespace semantic::server {

struct Delta {
  std::string text;
  std::vector<int32_t> tokens;        // tokens that produced this text
  std::vector<engine::Event> events;  // with logprobs when requested
};

struct GenerationOutcome {
  std::string finish_reason;  // "stop", "length", "cancelled", "error"
  std::string stop_sequence;  // the stop string that ended the text (finish "stop"), else ""
  int prompt_tokens = 0;
  int cached_tokens = 0;
  int completion_tokens = 0;
  std::string error;
  int http_status = 0;
};

// on_delta returns false when the client is gone: the request is cancelled and the function
// returns with finish_reason "cancelled". on_idle (optional) runs about every 100 ms while no
// event arrives (queueing, prefill), for keep-alive writes; false cancels the same way.
GenerationOutcome RunGeneration(engine::Executor& exec, const tokenizer::Tokenizer& tok,
                                engine::Request request, const std::vector<std::string>& stops,
                                const std::function<bool(const Delta&)>& on_delta,
                                const std::function<bool()>& on_idle = nullptr);

}  // namespace semantic::server
