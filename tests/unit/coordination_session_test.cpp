// Coordination sessions without a model: spec validation, turn order per topology, who sees
// which message, the prompt each agent gets, cache keys.
#include <gtest/gtest.h>

#include <algorithm>

#include "coordination/prompt.h"
#include "coordination/session.h"

namespace semantic::coordination {
namespace {

SessionSpec ThreeAgents(Topology t) {
  SessionSpec s;
  s.topology = t;
  s.agents = {{"", "Alice", "participant", "", Lifecycle::kEphemeral},
              {"", "Bob", "participant", "", Lifecycle::kPermanent},
              {"", "Dr. Eve", "moderator", "You chair.", Lifecycle::kPermanent}};
  s.initial_prompt = "Pick a lunch place.";
  std::string field;
  EXPECT_TRUE(ValidateSpec(&s, &field).ok());
  return s;
}

std::vector<std::string> Contents(const std::vector<const Message*>& v) {
  std::vector<std::string> out;
  for (const Message* m : v) out.push_back(m->content);
  return out;
}

TEST(CoordinationSpec, FillsIdsAndRejectsBadInput) {
  SessionSpec s = ThreeAgents(Topology::kTurnByTurn);
  EXPECT_EQ(s.agents[0].id, "alice");
  EXPECT_EQ(s.agents[2].id, "dr_eve");
  std::string field;
  SessionSpec many;
  many.agents.resize(31, AgentSpec{"", "x", "participant", "", Lifecycle::kEphemeral});
  EXPECT_FALSE(ValidateSpec(&many, &field).ok());
  EXPECT_EQ(field, "agents");
  SessionSpec dup = ThreeAgents(Topology::kTurnByTurn);
  dup.agents[1].display_name = "Alice";
  EXPECT_FALSE(ValidateSpec(&dup, &field).ok());
  EXPECT_EQ(field, "agents[1].display_name");
  SessionSpec bad_id = ThreeAgents(Topology::kTurnByTurn);
  bad_id.agents[0].id = "a/b";
  EXPECT_FALSE(ValidateSpec(&bad_id, &field).ok());
  SessionSpec unknown = ThreeAgents(Topology::kTurnByTurn);
  unknown.per_agent_prompts["Mallory"] = "psst";
  EXPECT_FALSE(ValidateSpec(&unknown, &field).ok());
  EXPECT_EQ(field, "per_agent_prompts");
  SessionSpec prefix = ThreeAgents(Topology::kTurnByTurn);
  prefix.persistent_cache_prefix = "../x";
  EXPECT_FALSE(ValidateSpec(&prefix, &field).ok());
  EXPECT_FALSE(ParseTopology("star").has_value());
  EXPECT_EQ(*ParseTopology("round_robin"), Topology::kRoundRobin);
}

TEST(CoordinationSession, TurnOrderCyclesAndMaxTurnsEnds) {
  SessionSpec spec = ThreeAgents(Topology::kRoundRobin);
  spec.max_turns = 4;
  Session s("coord_x", spec, 0);
  EXPECT_EQ(s.NextSpeaker(), "alice");
  EXPECT_EQ(s.RoundSpeakers(), (std::vector<std::string>{"alice", "bob", "dr_eve"}));
  s.RecordTurn("alice", "hi", false, 0);
  EXPECT_EQ(s.NextSpeaker(), "bob");
  EXPECT_EQ(s.RoundSpeakers(), (std::vector<std::string>{"bob", "dr_eve", "alice"}));
  s.RecordTurn("bob", "yo", false, 0);
  s.RecordTurn("dr_eve", "ok", false, 0);
  EXPECT_EQ(s.round(), 1);
  EXPECT_EQ(s.RoundSpeakers(), (std::vector<std::string>{"alice"}));  // 1 turn left
  s.RecordTurn("alice", "done", false, 0);
  EXPECT_FALSE(s.active());
  EXPECT_TRUE(s.RoundSpeakers().empty());
}

TEST(CoordinationSession, WhisperVisibleToSenderAndRecipientOnly) {
  Session s("coord_x", ThreeAgents(Topology::kTurnByTurn), 0);
  const Message* w = nullptr;
  ASSERT_TRUE(s.AddWhisper("alice", "bob", "Eve is late again", 0, &w).ok());
  EXPECT_TRUE(s.CanSee(*w, "alice"));
  EXPECT_TRUE(s.CanSee(*w, "bob"));
  EXPECT_FALSE(s.CanSee(*w, "dr_eve"));
  auto eve = Contents(s.VisibleTo("dr_eve"));
  EXPECT_EQ(std::count(eve.begin(), eve.end(), "Eve is late again"), 0);
  EXPECT_EQ(Contents(s.PublicMessages()), (std::vector<std::string>{"Pick a lunch place."}));
  EXPECT_FALSE(s.AddWhisper("alice", "alice", "me", 0, &w).ok());
  EXPECT_EQ(s.AddWhisper("alice", "zed", "x", 0, &w).code(), StatusCode::kNotFound);
  // Bob reads it as a whisper from Alice; Eve's prompt does not contain it.
  const TurnPlan bob = s.PlanTurn("bob", 0);
  const TurnPlan eve_plan = s.PlanTurn("dr_eve", 0);
  std::string bob_text, eve_text;
  for (const ChatMessage& c : bob.prompt) bob_text += c.content;
  for (const ChatMessage& c : eve_plan.prompt) eve_text += c.content;
  EXPECT_NE(bob_text.find("Alice (privately, to you): Eve is late again"), std::string::npos);
  EXPECT_EQ(eve_text.find("Eve is late again"), std::string::npos);
}

TEST(CoordinationSession, MessagesAndVotesAreBounded) {
  Session s("coord_x", ThreeAgents(Topology::kTurnByTurn), 0);
  const Message* w = nullptr;
  Status st;
  for (size_t i = 0; i <= kMaxMessages && st.ok(); ++i)
    st = s.AddWhisper("alice", "bob", "x", 0, &w);
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(s.messages().size(), kMaxMessages);
  Expected<Tally> t = Tally();
  for (size_t i = 0; i <= kMaxVotes && t.ok(); ++i) {
    t = s.CastVote({"", "alice", "q" + std::to_string(i), "yes", {}, 0});
  }
  EXPECT_EQ(t.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(s.votes().size(), kMaxVotes);
}

TEST(CoordinationSession, WhisperTopologyPassesRepliesDownTheLine) {
  Session s("coord_x", ThreeAgents(Topology::kWhisper), 0);
  const Message& m = s.RecordTurn("alice", "Tell Eve: noon.", false, 0);
  EXPECT_EQ(m.kind, MessageKind::kWhisper);
  EXPECT_EQ(m.recipient_id, "bob");
  EXPECT_TRUE(s.CanSee(m, "bob"));
  EXPECT_FALSE(s.CanSee(m, "dr_eve"));
  const Message& m2 = s.RecordTurn("bob", "Noon, Eve.", false, 0);
  EXPECT_EQ(m2.recipient_id, "dr_eve");
  const Message& m3 = s.RecordTurn("dr_eve", "Fine.", false, 0);
  EXPECT_EQ(m3.recipient_id, "alice");  // wraps around
}

TEST(CoordinationSession, BroadcastRepliesArePublic) {
  Session s("coord_x", ThreeAgents(Topology::kBroadcast), 0);
  EXPECT_TRUE(IsConcurrent(Topology::kBroadcast));
  EXPECT_TRUE(IsConcurrent(Topology::kInterrupt));
  EXPECT_FALSE(IsConcurrent(Topology::kTurnByTurn));
  const Message& m = s.RecordTurn("bob", "Tacos.", false, 0);
  EXPECT_TRUE(m.visible_to.empty());
  for (const char* a : {"alice", "bob", "dr_eve"}) EXPECT_TRUE(s.CanSee(m, a));
}

TEST(CoordinationSession, PrivatePromptsAndPriorMessagesReachOneAgent) {
  SessionSpec spec = ThreeAgents(Topology::kTurnByTurn);
  spec.per_agent_prompts["Bob"] = "You secretly hate tacos.";
  spec.prior_agent_messages["dr_eve"] = {{"alice", "Alice", "Last week we had pizza."}};
  Session s("coord_x", spec, 0);
  auto bob = Contents(s.VisibleTo("bob"));
  auto alice = Contents(s.VisibleTo("alice"));
  auto eve = Contents(s.VisibleTo("dr_eve"));
  EXPECT_NE(std::find(bob.begin(), bob.end(), "You secretly hate tacos."), bob.end());
  EXPECT_EQ(std::find(alice.begin(), alice.end(), "You secretly hate tacos."), alice.end());
  EXPECT_EQ(eve.front(), "Last week we had pizza.");  // carried-over context comes first
  EXPECT_EQ(std::find(bob.begin(), bob.end(), "Last week we had pizza."), bob.end());
  EXPECT_EQ(s.PublicMessages().size(), 1u);
}

TEST(CoordinationSession, PromptRolesAndPrefixStability) {
  Session s("coord_x", ThreeAgents(Topology::kTurnByTurn), 0);
  s.RecordTurn("alice", "Alice: Tacos!", false, 0);  // echoed name label is dropped
  EXPECT_EQ(s.messages().back().content, "Tacos!");
  s.RecordTurn("bob", "Sushi.", false, 0);
  const TurnPlan p = s.PlanTurn("alice", 2);
  ASSERT_GE(p.prompt.size(), 4u);
  EXPECT_EQ(p.prompt[0].role, "system");
  EXPECT_NE(p.prompt[0].content.find("You are Alice."), std::string::npos);
  EXPECT_EQ(p.prompt[1].role, "user");
  EXPECT_EQ(p.prompt[1].content, "Pick a lunch place.");
  EXPECT_EQ(p.prompt[2].role, "assistant");
  EXPECT_EQ(p.prompt[2].content, "Tacos!");
  EXPECT_EQ(p.prompt[3].role, "user");
  EXPECT_EQ(p.prompt[3].content, "Bob: Sushi.");
  EXPECT_EQ(p.prompt.size(), 4u);  // others spoke last: no cue needed
  EXPECT_NE(std::find(p.stops.begin(), p.stops.end(), "\nBob:"), p.stops.end());
  // The agent's next prompt is this one plus its reply plus what came after (cache extension).
  s.RecordTurn("alice", "Fine, sushi.", false, 0);
  s.RecordTurn("bob", "Great.", false, 0);
  const TurnPlan q = s.PlanTurn("alice", 4);
  ASSERT_EQ(q.prompt.size(), 6u);
  for (size_t i = 0; i < p.prompt.size(); ++i) {
    EXPECT_EQ(q.prompt[i].role, p.prompt[i].role);
    EXPECT_EQ(q.prompt[i].content, p.prompt[i].content);
  }
  EXPECT_EQ(q.prompt[4].content, "Fine, sushi.");
  EXPECT_EQ(q.prompt[5].content, "Bob: Great.");
  // Nothing after its own words (a lone agent): a cue asks it to go on.
  SessionSpec solo;
  solo.agents = {{"s", "Sol", "participant", "", Lifecycle::kEphemeral}};
  Session one("coord_y", solo, 0);
  EXPECT_EQ(one.PlanTurn("s", 0).prompt.back().content, "[Sol, it is your turn to speak.]");
  one.RecordTurn("s", "Hello.", false, 0);
  EXPECT_EQ(one.PlanTurn("s", 1).prompt.back().content, "[Sol, it is your turn to speak.]");
}

TEST(CoordinationSession, DebateFormatShapesTheSystemInstruction) {
  AgentSpec critic{"c", "Cy", "critic", "", Lifecycle::kEphemeral};
  EXPECT_NE(SystemInstruction(critic, DebateFormat::kDevilsAdvocate).find("Argue against"),
            std::string::npos);
  EXPECT_NE(SystemInstruction(critic, DebateFormat::kSocratic).find("questions"),
            std::string::npos);
  EXPECT_EQ(SystemInstruction(critic, DebateFormat::kFreeForm).find("questions"),
            std::string::npos);
}

TEST(CoordinationSession, CacheKeysPersistOnlyForPermanentAgentsWithAPrefix) {
  SessionSpec spec = ThreeAgents(Topology::kTurnByTurn);
  Session plain("coord_abc", spec, 0);
  EXPECT_EQ(plain.CacheKey("bob"), "coord_abc_bob");
  EXPECT_FALSE(plain.CacheOutlivesSession("bob"));
  spec.persistent_cache_prefix = "lunch";
  Session persisted("coord_abc", spec, 0);
  EXPECT_EQ(persisted.CacheKey("bob"), "persist_lunch_bob");
  EXPECT_TRUE(persisted.CacheOutlivesSession("bob"));
  EXPECT_EQ(persisted.CacheKey("alice"), "coord_abc_alice");  // ephemeral
}

}  // namespace
}  // namespace semantic::coordination
