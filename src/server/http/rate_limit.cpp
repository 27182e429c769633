// RateLimiter.
#include "server/http/rate_limit.h"

#include <algorithm>
#include <cmath>

namespace semantic::server {

RateLimiter::RateLimiter(RateLimits limits) : limits_(limits) {
  global_bucket_.tokens = limits_.global;
}

double RateLimiter::Refill(Bucket& b, int per_minute, Clock::time_point now) {
  const double per_second = per_minute / 60.0;
  if (b.last != Clock::time_point{}) {
    const double dt = std::chrono::duration<double>(now - b.last).count();
    b.tokens += std::max(0.0, dt) * per_second;
  }
  b.tokens = std::min<double>(per_minute, b.tokens);
  b.last = now;
  return b.tokens >= 1.0 ? 0.0 : (1.0 - b.tokens) / per_second;
}

RateLimiter::Bucket* RateLimiter::Find(Buckets& buckets, const std::string& name, int per_minute,
                                       Clock::time_point now) {
  if (per_minute <= 0 || name.empty()) return nullptr;
  if (buckets.size() > 100000) {  // forget names whose buckets are full again
    for (auto it = buckets.begin(); it != buckets.end();) {
      Refill(it->second, per_minute, now);
      it = it->second.tokens >= per_minute ? buckets.erase(it) : std::next(it);
    }
  }
  auto [it, fresh] = buckets.try_emplace(name);
  if (fresh) it->second = {static_cast<double>(per_minute), now};
  return &it->second;
}

RateLimiter::Verdict RateLimiter::Take(const std::string& agent, const std::string& key,
                                       Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mu_);
  struct Check {
    Bucket* bucket;
    int limit;
    const char* which;
  };
  const Check checks[] = {
      {Find(agents_, agent, limits_.per_agent, now), limits_.per_agent, "agent"},
      {Find(keys_, key, limits_.per_key, now), limits_.per_key, "key"},
      {limits_.global > 0 ? &global_bucket_ : nullptr, limits_.global, "server"},
  };
  Verdict v;
  double longest = 0;
  for (const Check& c : checks) {
    if (c.bucket == nullptr) continue;
    const double wait = Refill(*c.bucket, c.limit, now);
    if (wait > longest) {
      longest = wait;
      v.which = c.which;
      v.limit = c.limit;
    }
  }
  if (longest > 0) {
    v.allowed = false;
    v.retry_after_s = std::max(1, static_cast<int>(std::ceil(longest)));
    return v;
  }
  for (const Check& c : checks) {
    if (c.bucket != nullptr) c.bucket->tokens -= 1.0;
  }
  return v;
}

void RateLimiter::SetLimits(RateLimits limits) {
  std::lock_guard<std::mutex> lock(mu_);
  if (limits_.global <= 0 && limits.global > 0) global_bucket_ = {};  // turned on: a full bucket
  if (global_bucket_.last == Clock::time_point{}) global_bucket_.tokens = limits.global;
  limits_ = limits;
}

RateLimits RateLimiter::limits() const {
  std::lock_guard<std::mutex> lock(mu_);
  return limits_;
}

bool RateLimiter::enabled() const {
  const RateLimits l = limits();
  return l.per_agent > 0 || l.per_key > 0 || l.global > 0;
}

}  // namespace semantic::server
