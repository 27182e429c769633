// Vote tallies for every decision mode, votes stored per session (one per agent and question).
#include <gtest/gtest.h>

#include "coordination/session.h"
#include "coordination/votes.h"

namespace semantic::coordination {
namespace {

const std::vector<std::string> kAgents = {"a", "b", "c", "d", "e"};

Vote V(std::string agent, std::string choice, std::vector<std::string> ranking = {}) {
  return {"", std::move(agent), "q", std::move(choice), std::move(ranking), 0};
}

TEST(CoordinationVotes, NoneCountsWithoutDeciding) {
  Tally t =
      TallyVotes(DecisionMode::kNone, "q", {V("a", "x"), V("b", "x"), V("c", "y")}, kAgents, "a");
  EXPECT_EQ(t.total_votes, 3);
  ASSERT_EQ(t.counts.size(), 2u);
  EXPECT_EQ(t.counts[0], (std::pair<std::string, int>{"x", 2}));
  EXPECT_FALSE(t.decided);
  EXPECT_FALSE(t.winner);
}

TEST(CoordinationVotes, MajorityNeedsMoreThanHalf) {
  Tally won = TallyVotes(DecisionMode::kMajorityVote, "q", {V("a", "x"), V("b", "x"), V("c", "y")},
                         kAgents, "a");
  EXPECT_TRUE(won.decided);
  EXPECT_EQ(*won.winner, "x");
  Tally plurality =
      TallyVotes(DecisionMode::kMajorityVote, "q",
                 {V("a", "x"), V("b", "x"), V("c", "y"), V("d", "z"), V("e", "w")}, kAgents, "a");
  EXPECT_FALSE(plurality.decided);  // 2 of 5 is not a majority
  Tally tie =
      TallyVotes(DecisionMode::kMajorityVote, "q", {V("a", "x"), V("b", "y")}, kAgents, "a");
  EXPECT_FALSE(tie.decided);
  EXPECT_TRUE(tie.tied);
  // Votes on another question do not count.
  Vote other = V("c", "y");
  other.question = "other";
  Tally q = TallyVotes(DecisionMode::kMajorityVote, "q", {V("a", "x"), other}, kAgents, "a");
  EXPECT_EQ(q.total_votes, 1);
}

TEST(CoordinationVotes, RankedChoiceRunsOff) {
  // First preferences: x 2, y 2, z 1 -> z out, its ballot goes to y -> y 3 of 5.
  std::vector<Vote> votes = {V("a", "", {"x", "y"}), V("b", "", {"x", "z"}), V("c", "", {"y", "x"}),
                             V("d", "", {"y"}), V("e", "", {"z", "y", "x"})};
  Tally t = TallyVotes(DecisionMode::kRankedChoice, "q", votes, kAgents, "a");
  EXPECT_TRUE(t.decided);
  EXPECT_EQ(*t.winner, "y");
  ASSERT_EQ(t.rounds.size(), 2u);
  EXPECT_EQ(t.rounds[1][0], (std::pair<std::string, int>{"y", 3}));
  // Everyone tied: undecided.
  Tally tie =
      TallyVotes(DecisionMode::kRankedChoice, "q", {V("a", "x"), V("b", "y")}, kAgents, "a");
  EXPECT_FALSE(tie.decided);
  EXPECT_TRUE(tie.tied);
}

TEST(CoordinationVotes, CoordinatorDecides) {
  Tally waiting =
      TallyVotes(DecisionMode::kCoordinatorDecides, "q", {V("a", "x"), V("b", "x")}, kAgents, "c");
  EXPECT_FALSE(waiting.decided);
  Tally t = TallyVotes(DecisionMode::kCoordinatorDecides, "q",
                       {V("a", "x"), V("b", "x"), V("c", "y")}, kAgents, "c");
  EXPECT_TRUE(t.decided);
  EXPECT_EQ(*t.winner, "y");  // outvoted, still decides
}

TEST(CoordinationVotes, ConsensusNeedsEveryoneAndAgreement) {
  const std::vector<std::string> three = {"a", "b", "c"};
  Tally partial = TallyVotes(DecisionMode::kConsensus, "q", {V("a", "x"), V("b", "x")}, three, "a");
  EXPECT_FALSE(partial.decided);
  EXPECT_EQ(partial.missing, (std::vector<std::string>{"c"}));
  Tally split = TallyVotes(DecisionMode::kConsensus, "q", {V("a", "x"), V("b", "x"), V("c", "y")},
                           three, "a");
  EXPECT_FALSE(split.decided);
  Tally all = TallyVotes(DecisionMode::kConsensus, "q", {V("a", "x"), V("b", "x"), V("c", "x")},
                         three, "a");
  EXPECT_TRUE(all.decided);
  EXPECT_EQ(*all.winner, "x");
}

TEST(CoordinationVotes, SessionStoresOneVotePerAgentAndQuestion) {
  SessionSpec spec;
  spec.decision_mode = DecisionMode::kMajorityVote;
  for (const char* id : {"a", "b", "c"}) {
    spec.agents.push_back({id, std::string(1, static_cast<char>(id[0] - 'a' + 'A')), "participant",
                           "", Lifecycle::kEphemeral});
  }
  Session s("coord_v", spec, 0);
  ASSERT_TRUE(s.CastVote(V("a", "x")).ok());
  ASSERT_TRUE(s.CastVote(V("b", "y")).ok());
  auto t = s.CastVote(V("a", "y"));  // a changes its mind
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->total_votes, 2);
  EXPECT_EQ(*t->winner, "y");
  EXPECT_EQ(s.votes().size(), 2u);
  EXPECT_EQ(s.CastVote(V("zed", "x")).status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(s.CastVote(V("a", "")).ok());
  EXPECT_FALSE(s.CastVote(V("a", "", {"x", "x"})).ok());
  Vote q2 = V("c", "z");
  q2.question = "second";
  ASSERT_TRUE(s.CastVote(q2).ok());
  ASSERT_EQ(s.Tallies().size(), 2u);
  EXPECT_EQ(s.Tallies()[1].question, "second");
}

}  // namespace
}  // namespace semantic::coordination
