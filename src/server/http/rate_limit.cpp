// RateLimiter.
#include "server/http/rate_limit.h"

#include <algorithm>
#include <cmath>

namespace semantic::server {

RateLimiter::RateLimiter(int per_agent_per_minute, int global_per_minute)
    : per_agent_(per_agent_per_minute), global_(global_per_minute) {
  global_bucket_.tokens = global_;
}

double RateLimiter::Refill(Bucket& b, int per_minute, Clock::time_point now) {
  const double per_second = per_minute / 60.0;
  if (b.last != Clock::time_point{}) {
    const double dt = std::chrono::duration<double>(now - b.last).count();
    b.tokens = std::min<double>(per_minute, b.tokens + std::max(0.0, dt) * per_second);
  }
  b.last = now;
  return b.tokens >= 1.0 ? 0.0 : (1.0 - b.tokens) / per_second;
}

RateLimiter::Verdict RateLimiter::Take(const std::string& agent, Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mu_);
  Bucket* a = nullptr;
  if (per_agent_ > 0 && !agent.empty()) {
    if (agents_.size() > 100000) {  // forget agents whose buckets are full again
      for (auto it = agents_.begin(); it != agents_.end();) {
        Refill(it->second, per_agent_, now);
        it = it->second.tokens >= per_agent_ ? agents_.erase(it) : std::next(it);
      }
    }
    auto [it, fresh] = agents_.try_emplace(agent);
    if (fresh) it->second = {static_cast<double>(per_agent_), now};
    a = &it->second;
  }
  const double wait_agent = a ? Refill(*a, per_agent_, now) : 0.0;
  const double wait_global = global_ > 0 ? Refill(global_bucket_, global_, now) : 0.0;
  if (wait_agent > 0 || wait_global > 0) {
    Verdict v;
    v.allowed = false;
    v.retry_after_s = std::max(1, static_cast<int>(std::ceil(std::max(wait_agent, wait_global))));
    v.which = wait_agent >= wait_global ? "agent" : "server";
    return v;
  }
  if (a) a->tokens -= 1.0;
  if (global_ > 0) global_bucket_.tokens -= 1.0;
  return {};
}

}  // namespace semantic::server
