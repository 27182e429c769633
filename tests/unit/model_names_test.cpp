// Model names a request may use: the served model's own names and [aliases] glob patterns.
#include "server/api/common/model_names.h"

#include <gtest/gtest.h>

#include "models/model.h"

namespace semantic::server {
namespace {

TEST(GlobMatch, StarAndQuestionMark) {
  EXPECT_TRUE(GlobMatch("claude-*", "claude-opus-5-5"));
  EXPECT_TRUE(GlobMatch("claude-*", "claude-"));
  EXPECT_FALSE(GlobMatch("claude-*", "claud"));
  EXPECT_FALSE(GlobMatch("claude-*", "my-claude-x"));
  EXPECT_TRUE(GlobMatch("*-haiku-*", "claude-3-5-haiku-latest"));
  EXPECT_FALSE(GlobMatch("*-haiku-*", "claude-sonnet-4"));
  EXPECT_TRUE(GlobMatch("gpt-4?", "gpt-4o"));
  EXPECT_FALSE(GlobMatch("gpt-4?", "gpt-4"));
  EXPECT_FALSE(GlobMatch("gpt-4?", "gpt-4oo"));
  EXPECT_TRUE(GlobMatch("exact", "exact"));
  EXPECT_FALSE(GlobMatch("exact", "exactly"));
  EXPECT_TRUE(GlobMatch("*", ""));
  EXPECT_TRUE(GlobMatch("a*b*c", "aXbYbZc"));
  EXPECT_FALSE(GlobMatch("a*b*c", "aXbYbZ"));
  // Many stars against a long near-miss stay fast (no exponential backtracking).
  EXPECT_FALSE(GlobMatch("*a*a*a*a*a*a*a*a*b", std::string(4000, 'a')));
}

TEST(ModelNames, OwnNamesAliasesFirstMatchWins) {
  models::ModelConfig config;
  config.name = "SmolLM2 135M";
  ModelHandle m;
  m.id = "SmolLM2-135M-Instruct.Q4_1";
  m.config = &config;
  for (const char* own : {"SmolLM2-135M-Instruct.Q4_1", "SmolLM2-135M-Instruct.Q4_1.gguf",
                          "default", "semantic", "SmolLM2 135M"}) {
    EXPECT_TRUE(ModelMatches(m, own)) << own;
  }
  EXPECT_FALSE(ModelMatches(m, "gpt-4o"));
  m.aliases = {{"gpt-4o", "default"}, {"claude-haiku-*", "elsewhere"}, {"claude-*", "default"}};
  EXPECT_TRUE(ModelMatches(m, "gpt-4o"));
  EXPECT_TRUE(ModelMatches(m, "claude-sonnet-4-5"));
  EXPECT_FALSE(ModelMatches(m, "claude-haiku-4-5"));  // its first matching alias points elsewhere
  EXPECT_EQ(CheckAliases(m),
            "aliases: 'claude-haiku-*' maps to 'elsewhere', which is not served here (use "
            "\"default\" or 'SmolLM2-135M-Instruct.Q4_1')");
  m.aliases.erase(m.aliases.begin() + 1);
  EXPECT_EQ(CheckAliases(m), "");
}

TEST(ModelNames, AliasNamesModelFollowsTheFirstMatch) {
  ModelHandle m;
  m.id = "gemma3";
  // With several models resident an alias may name another registry model.
  m.aliases = {{"gpt-4o", "tiny"}, {"gpt-*", "gemma3"}, {"claude-*", "default"}};
  EXPECT_FALSE(AliasNamesModel(m, "gpt-4o"));  // shadowed by its own entry, which names "tiny"
  EXPECT_TRUE(AliasNamesModel(m, "gpt-5"));
  EXPECT_TRUE(AliasNamesModel(m, "claude-x"));
  EXPECT_FALSE(AliasNamesModel(m, "gemma3"));  // an own name, not an alias
  EXPECT_FALSE(ModelMatches(m, "gpt-4o"));
  EXPECT_TRUE(ModelMatches(m, "gemma3"));
}

}  // namespace
}  // namespace semantic::server
