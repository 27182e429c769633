// Token-bucket rate limits per agent, per API key and for the server (RateLimiter), with an
// injected clock.
#include "server/http/rate_limit.h"

#include <gtest/gtest.h>

namespace semantic::server {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(RateLimiter, AgentBucketHoldsAMinuteAndRefills) {
  RateLimiter rl({.per_agent = 3});
  const auto t0 = RateLimiter::Clock::now();
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(rl.Take("a", "", t0).allowed) << i;
  RateLimiter::Verdict v = rl.Take("a", "", t0);
  EXPECT_FALSE(v.allowed);
  EXPECT_STREQ(v.which, "agent");
  EXPECT_EQ(v.retry_after_s, 20);             // 3 per minute: one every 20 s
  EXPECT_TRUE(rl.Take("b", "", t0).allowed);  // other agents are unaffected
  EXPECT_TRUE(rl.Take("", "", t0).allowed);   // no agent: only the global limit
  EXPECT_FALSE(rl.Take("a", "", t0 + seconds(19)).allowed);
  EXPECT_EQ(rl.Take("a", "", t0 + seconds(19)).retry_after_s, 1);
  EXPECT_TRUE(rl.Take("a", "", t0 + seconds(20)).allowed);
  EXPECT_FALSE(rl.Take("a", "", t0 + seconds(20)).allowed);
  // Refill stops at a minute's worth.
  const auto later = t0 + seconds(3600);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(rl.Take("a", "", later).allowed) << i;
  EXPECT_FALSE(rl.Take("a", "", later).allowed);
}

TEST(RateLimiter, GlobalLimitCountsEveryoneAndRefusalsTakeNothing) {
  RateLimiter rl({.global = 120});  // 2 per second
  const auto t0 = RateLimiter::Clock::now();
  for (int i = 0; i < 120; ++i) {
    EXPECT_TRUE(rl.Take("agent-" + std::to_string(i), "", t0).allowed);
  }
  RateLimiter::Verdict v = rl.Take("x", "", t0);
  EXPECT_FALSE(v.allowed);
  EXPECT_STREQ(v.which, "server");
  EXPECT_EQ(v.retry_after_s, 1);
  EXPECT_TRUE(rl.Take("x", "", t0 + milliseconds(500)).allowed);
  EXPECT_FALSE(rl.Take("y", "", t0 + milliseconds(500)).allowed);

  RateLimiter both({.per_agent = 1, .global = 2});
  EXPECT_TRUE(both.Take("a", "", t0).allowed);
  // Refused by the agent bucket: the global one keeps its token.
  EXPECT_FALSE(both.Take("a", "", t0).allowed);
  EXPECT_TRUE(both.Take("b", "", t0).allowed);
  EXPECT_FALSE(both.Take("c", "", t0).allowed);  // global empty
  EXPECT_FALSE(RateLimiter().enabled());
}

TEST(RateLimiter, KeyBucketCountsEveryAgentOfThatKey) {
  RateLimiter rl({.per_agent = 5, .per_key = 2});
  const auto t0 = RateLimiter::Clock::now();
  EXPECT_TRUE(rl.Take("a", "k1", t0).allowed);
  EXPECT_TRUE(rl.Take("b", "k1", t0).allowed);
  RateLimiter::Verdict v = rl.Take("c", "k1", t0);
  EXPECT_FALSE(v.allowed);
  EXPECT_STREQ(v.which, "key");
  EXPECT_EQ(v.limit, 2);
  EXPECT_EQ(v.retry_after_s, 30);
  EXPECT_TRUE(rl.Take("c", "k2", t0).allowed);  // another key has its own bucket
  EXPECT_TRUE(rl.Take("c", "", t0).allowed);    // no key: the key limit does not apply
  // Refused by the key: agent "a" kept its token (5 per minute: 4 left, not 3).
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(rl.Take("a", "k" + std::to_string(10 + i), t0).allowed);
  EXPECT_STREQ(rl.Take("a", "k20", t0).which, "agent");
}

TEST(RateLimiter, LimitsChangeWhileServing) {
  RateLimiter rl;
  const auto t0 = RateLimiter::Clock::now();
  EXPECT_FALSE(rl.enabled());
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(rl.Take("a", "k", t0).allowed);
  rl.SetLimits({.per_key = 1});
  EXPECT_TRUE(rl.enabled());
  EXPECT_TRUE(rl.Take("a", "k", t0).allowed);  // a new bucket starts full
  EXPECT_FALSE(rl.Take("a", "k", t0).allowed);
  rl.SetLimits({.global = 3});  // the key limit is off; the global bucket starts full
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(rl.Take("a", "k", t0).allowed) << i;
  EXPECT_STREQ(rl.Take("a", "k", t0).which, "server");
  rl.SetLimits({.global = 1});  // lowered: a bucket refilled for an hour holds 1, not 3
  EXPECT_TRUE(rl.Take("", "", t0 + std::chrono::hours(1)).allowed);
  EXPECT_FALSE(rl.Take("", "", t0 + std::chrono::hours(1)).allowed);
  rl.SetLimits({});
  EXPECT_TRUE(rl.Take("", "", t0 + std::chrono::hours(1)).allowed);
}

}  // namespace
}  // namespace semantic::server
