// cache_control breakpoints -> how long the agent's blocks are held (CacheHoldMs).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "server/api/anthropic/cache_control.h"

namespace semantic::server::anthropic {
namespace {

using nlohmann::json;

constexpr int64_t k5m = 300000;
constexpr int64_t k1h = 3600000;

TEST(AnthropicCacheControl, NoBreakpointNoHold) {
  EXPECT_EQ(CacheHoldMs(json::parse(R"({"system": "s", "messages": [
      {"role": "user", "content": "hi"}]})")),
            0);
  EXPECT_EQ(CacheHoldMs(json::array()), 0);
  EXPECT_EQ(CacheHoldMs(json::parse(R"({"system": 3, "messages": {"a": 1}, "tools": "x"})")), 0);
}

TEST(AnthropicCacheControl, EachPlaceCountsAndTheLongestTtlWins) {
  const json cc5 = {{"type", "ephemeral"}};
  const json cc1h = {{"type", "ephemeral"}, {"ttl", "1h"}};
  json body = {{"messages", json::array({{{"role", "user"},
                                          {"content", json::array({{{"type", "text"},
                                                                    {"text", "hi"},
                                                                    {"cache_control", cc5}}})}}})}};
  EXPECT_EQ(CacheHoldMs(body), k5m);
  body["system"] = json::array({{{"type", "text"}, {"text", "s"}, {"cache_control", cc1h}}});
  EXPECT_EQ(CacheHoldMs(body), k1h);
  body.erase("system");
  body["tools"] = json::array({{{"name", "t"}, {"cache_control", cc1h}}});
  EXPECT_EQ(CacheHoldMs(body), k1h);
  // Unknown types and malformed values are advisory: ignored, never an error.
  body["tools"] = json::array({{{"name", "t"}, {"cache_control", {{"type", "persistent"}}}},
                               {{"name", "u"}, {"cache_control", "yes"}}});
  EXPECT_EQ(CacheHoldMs(body), k5m);
  body["tools"][0]["cache_control"] = {{"type", "ephemeral"}, {"ttl", 7}};
  EXPECT_EQ(CacheHoldMs(body), k5m);
}

}  // namespace
}  // namespace semantic::server::anthropic
