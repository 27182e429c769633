// JsonNestsDeeperThan (the server.max_json_depth pre-parse check) and HeaderBytes.
#include <gtest/gtest.h>

#include <string>

#include "server/http/limits.h"

namespace semantic::server {
namespace {

std::string Nested(int depth) { return std::string(depth, '[') + std::string(depth, ']'); }

TEST(JsonDepth, CountsArraysAndObjectsTogether) {
  EXPECT_FALSE(JsonNestsDeeperThan("1", 0));
  EXPECT_TRUE(JsonNestsDeeperThan("{}", 0));
  EXPECT_FALSE(JsonNestsDeeperThan(Nested(64), 64));
  EXPECT_TRUE(JsonNestsDeeperThan(Nested(65), 64));
  EXPECT_FALSE(JsonNestsDeeperThan(R"({"a": [{"b": [1]}]})", 4));
  EXPECT_TRUE(JsonNestsDeeperThan(R"({"a": [{"b": [1]}]})", 3));
  // Siblings do not add up; only the deepest path counts.
  EXPECT_FALSE(JsonNestsDeeperThan("[[1],[2],[3],[[4]]]", 3));
}

TEST(JsonDepth, BracketsInsideStringsAreText) {
  EXPECT_FALSE(JsonNestsDeeperThan(R"({"s": "[[[[[[{{{{"})", 1));
  // An escaped quote does not end the string; an escaped backslash before a quote does.
  EXPECT_FALSE(JsonNestsDeeperThan(R"({"s": "\"[[[[["})", 1));
  EXPECT_TRUE(JsonNestsDeeperThan(R"({"s": "\\", "t": [[1]]})", 2));
}

TEST(JsonDepth, MalformedTextNeverReadsPastTheEnd) {
  EXPECT_TRUE(JsonNestsDeeperThan(std::string(100000, '['), 64));  // stops early, never closes
  EXPECT_FALSE(JsonNestsDeeperThan("]]]]}}}}", 0));                // closers alone go nowhere
  EXPECT_FALSE(JsonNestsDeeperThan("\"unterminated \\", 0));       // a trailing escape
  EXPECT_FALSE(JsonNestsDeeperThan("", 0));
}

TEST(HeaderBytes, CountsNamesValuesAndSeparators) {
  httplib::Request req;
  EXPECT_EQ(HeaderBytes(req), 0u);
  req.headers.emplace("Host", "x");
  req.headers.emplace("X-Pad", std::string(100, 'p'));
  EXPECT_EQ(HeaderBytes(req), (4 + 1 + 4) + (5 + 100 + 4));
}

}  // namespace
}  // namespace semantic::server
