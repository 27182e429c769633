// Token-bucket rate limits per agent and for the server (RateLimiter), with an injected clock.
#include "server/http/rate_limit.h"

#include <gtest/gtest.h>

namespace semantic::server {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(RateLimiter, AgentBucketHoldsAMinuteAndRefills) {
  RateLimiter rl(/*per_agent=*/3, /*global=*/0);
  const auto t0 = RateLimiter::Clock::now();
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(rl.Take("a", t0).allowed) << i;
  RateLimiter::Verdict v = rl.Take("a", t0);
  EXPECT_FALSE(v.allowed);
  EXPECT_STREQ(v.which, "agent");
  EXPECT_EQ(v.retry_after_s, 20);         // 3 per minute: one every 20 s
  EXPECT_TRUE(rl.Take("b", t0).allowed);  // other agents are unaffected
  EXPECT_TRUE(rl.Take("", t0).allowed);   // no agent: only the global limit
  EXPECT_FALSE(rl.Take("a", t0 + seconds(19)).allowed);
  EXPECT_EQ(rl.Take("a", t0 + seconds(19)).retry_after_s, 1);
  EXPECT_TRUE(rl.Take("a", t0 + seconds(20)).allowed);
  EXPECT_FALSE(rl.Take("a", t0 + seconds(20)).allowed);
  // Refill stops at a minute's worth.
  const auto later = t0 + seconds(3600);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(rl.Take("a", later).allowed) << i;
  EXPECT_FALSE(rl.Take("a", later).allowed);
}

TEST(RateLimiter, GlobalLimitCountsEveryoneAndRefusalsTakeNothing) {
  RateLimiter rl(/*per_agent=*/0, /*global=*/120);  // 2 per second
  const auto t0 = RateLimiter::Clock::now();
  for (int i = 0; i < 120; ++i) EXPECT_TRUE(rl.Take("agent-" + std::to_string(i), t0).allowed);
  RateLimiter::Verdict v = rl.Take("x", t0);
  EXPECT_FALSE(v.allowed);
  EXPECT_STREQ(v.which, "server");
  EXPECT_EQ(v.retry_after_s, 1);
  EXPECT_TRUE(rl.Take("x", t0 + milliseconds(500)).allowed);
  EXPECT_FALSE(rl.Take("y", t0 + milliseconds(500)).allowed);

  RateLimiter both(/*per_agent=*/1, /*global=*/2);
  EXPECT_TRUE(both.Take("a", t0).allowed);
  EXPECT_FALSE(both.Take("a", t0).allowed);  // refused by the agent bucket: global keeps its token
  EXPECT_TRUE(both.Take("b", t0).allowed);
  EXPECT_FALSE(both.Take("c", t0).allowed);  // global empty
  EXPECT_FALSE(RateLimiter(0, 0).enabled());
}

}  // namespace
}  // namespace semantic::server
