// What the server hands the engine (already tokenized and validated) and what comes back: a
// stream of events on a per-request ResultChannel.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engine/sampler.h"

namespace semantic::engine {

struct Request {
  uint64_t id = 0;
  std::string agent_id;             // durable session name (cache issue); may be empty
  std::string cache_salt;           // requests share cached blocks only with the same salt
  int64_t cache_hold_ms = 0;        // > 0: the agent's blocks stay in RAM this long after it ends
  std::vector<int32_t> prompt;      // token ids, non-empty
  int max_tokens = 256;
  SamplingParams sampling;
  int top_logprobs = 0;             // 0: no logprobs; k > 0: also the k most likely tokens
  bool logprobs = false;
  std::shared_ptr<std::atomic<bool>> cancelled = std::make_shared<std::atomic<bool>>(false);
  // Ends the request ("timeout") at the first step after this time; none when default.
  std::chrono::steady_clock::time_point deadline{};
};

struct TokenLogprob {
  int32_t id;
  float logprob;
};

struct Event {
  enum class Kind { kToken, kDone, kError } kind = Kind::kToken;
  int32_t token = -1;
  float logprob = 0.0f;
  std::vector<TokenLogprob> top;  // when top_logprobs > 0
  // kDone:
  std::string finish_reason;      // "stop" (EOG token), "length", "cancelled", "timeout"
  int prompt_tokens = 0;
  int cached_tokens = 0;
  int completion_tokens = 0;
  // kError:
  std::string error;
  int http_status = 500;
};

// Single-producer (executor) / single-consumer (HTTP thread) event queue.
class ResultChannel {
 public:
  void Push(Event e) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      events_.push_back(std::move(e));
    }
    cv_.notify_one();
  }
  // Waits until at least one event is available (or the timeout passes) and takes them all.
  std::vector<Event> Take(int timeout_ms) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return !events_.empty(); });
    std::vector<Event> out(std::make_move_iterator(events_.begin()),
                           std::make_move_iterator(events_.end()));
    events_.clear();
    return out;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Event> events_;
};

}  // namespace semantic::engine
