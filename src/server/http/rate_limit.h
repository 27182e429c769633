// Request rate limits ([server] rate_limit_per_agent, rate_limit_per_key, rate_limit_global):
// token buckets that hold a minute's worth of requests and refill continuously, one per agent, one
// per API key and one for the server. Applied to generating requests when they are admitted
// (MakeEngineRequest); a request over a limit gets 429 with Retry-After and takes nothing from the
// other buckets. The limits can change while serving (SIGHUP); buckets keep their level.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>

namespace semantic::server {

// Requests per minute; 0: unlimited.
struct RateLimits {
  int per_agent = 0;
  int per_key = 0;
  int global = 0;
  bool operator==(const RateLimits&) const = default;
};

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  explicit RateLimiter(RateLimits limits = {});

  struct Verdict {
    bool allowed = true;
    int retry_after_s = 0;   // when refused: whole seconds until the limit lets one through
    const char* which = "";  // when refused: "agent", "key" or "server"
    int limit = 0;           // when refused: that limit's requests per minute
  };
  // Takes one request for `agent` and API `key` ("" for either: that bucket does not apply).
  Verdict Take(const std::string& agent, const std::string& key,
               Clock::time_point now = Clock::now());

  // New limits apply from the next Take; a bucket above a lowered limit is cut to it.
  void SetLimits(RateLimits limits);
  RateLimits limits() const;
  bool enabled() const;

 private:
  struct Bucket {
    double tokens = 0;
    Clock::time_point last{};
  };
  using Buckets = std::unordered_map<std::string, Bucket>;
  // Refills b to `now`; seconds until one token is there (0 if there is one).
  static double Refill(Bucket& b, int per_minute, Clock::time_point now);
  // The bucket of `name` in `buckets` (created full), or null when the limit is off or name empty.
  static Bucket* Find(Buckets& buckets, const std::string& name, int per_minute,
                      Clock::time_point now);

  mutable std::mutex mu_;
  RateLimits limits_;
  Bucket global_bucket_;
  Buckets agents_;
  Buckets keys_;
};

}  // namespace semantic::server
