// Request rate limits ([server] rate_limit_per_agent, rate_limit_global): token buckets that hold
// a minute's worth of requests and refill continuously, one per agent and one for the server.
// Applied to generating requests when they are admitted (MakeEngineRequest); a request over a
// limit gets 429 with Retry-After and takes nothing from the other buckets.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>

namespace semantic::server {

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  // Requests per minute; 0: unlimited.
  RateLimiter(int per_agent_per_minute, int global_per_minute);

  struct Verdict {
    bool allowed = true;
    int retry_after_s = 0;   // when refused: whole seconds until the limit lets one through
    const char* which = "";  // when refused: "agent" or "server"
  };
  // Takes one request for `agent` ("" counts only against the global limit).
  Verdict Take(const std::string& agent, Clock::time_point now = Clock::now());

  bool enabled() const { return per_agent_ > 0 || global_ > 0; }
  int per_agent() const { return per_agent_; }
  int global() const { return global_; }

 private:
  struct Bucket {
    double tokens = 0;
    Clock::time_point last{};
  };
  // Refills b to `now`; seconds until one token is there (0 if there is one).
  static double Refill(Bucket& b, int per_minute, Clock::time_point now);

  const int per_agent_;
  const int global_;
  std::mutex mu_;
  Bucket global_bucket_;
  std::unordered_map<std::string, Bucket> agents_;
};

}  // namespace semantic::server
