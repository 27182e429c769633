// Scenario files: the shipped scenarios load, schema errors are reported, ${phase.messages[agent]}
// templates resolve from the agent's perspective, parse_choice maps synonyms to choices.
#include <gtest/gtest.h>

#include "coordination/scenario.h"

namespace semantic::coordination {
namespace {

std::string Path(const char* name) {
  return std::string(SEMANTIC_SOURCE_DIR) + "/scenarios/" + name;
}

TEST(CoordinationScenario, ShippedScenariosLoad) {
  auto gossip = LoadScenarioFile(Path("gossip.yaml"));
  ASSERT_TRUE(gossip.ok()) << gossip.status().message();
  EXPECT_EQ(gossip->id, "gossip");
  ASSERT_EQ(gossip->phases.size(), 3u);
  EXPECT_EQ(gossip->phases[2].agents, (std::vector<std::string>{"alice", "bob", "eve"}));
  EXPECT_EQ(gossip->phases[2].per_agent_prompt_templates.size(), 3u);
  EXPECT_EQ(gossip->Agent("eve")->lifecycle, "permanent");
  auto pd = LoadScenarioFile(Path("prisoners_dilemma.yaml"));
  ASSERT_TRUE(pd.ok()) << pd.status().message();
  EXPECT_EQ(pd->phases.size(), 5u);
  ASSERT_TRUE(pd->outcome && pd->payoff);
  EXPECT_EQ(pd->outcome->type, "parse_choice");
  EXPECT_EQ(pd->payoff->matrix[1][1], "5yr / 5yr");
  auto coord = LoadScenarioFile(Path("coordination.yaml"));
  ASSERT_TRUE(coord.ok()) << coord.status().message();
  EXPECT_EQ(coord->phases[0].topology, "broadcast");
  EXPECT_EQ(coord->phases[1].decision_mode, "majority_vote");
}

TEST(CoordinationScenario, OriginalSchemaFeaturesLoad) {
  // A builder-style file with no agents yet, ui hints and interaction edges, as the original
  // agent-memory scenarios use them.
  auto s = ParseScenarioYaml(
      "id: builder\ntitle: Builder\nagents: {}\n"
      "phases:\n  - name: main\n    label: Discussion\n    agents: []\n"
      "    topology: round_robin\n    debate_format: free_form\n    auto_rounds: 3\n"
      "    interactions:\n      - {from_agent: a, to_agent: b, channel: whisper}\n"
      "ui:\n  layout: single\n  show_memory_panel: true\n  phase_controls: global\n");
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_TRUE(s->agents.empty());
  EXPECT_TRUE(s->phases[0].agents.empty());
  EXPECT_EQ(s->phases[0].auto_rounds, 3);
}

TEST(CoordinationScenario, SchemaErrorsNameTheProblem) {
  const std::string base = "id: t\ntitle: T\nagents:\n  a: {display_name: A}\n";
  EXPECT_TRUE(ParseScenarioYaml(base + "phases:\n  - {name: p, label: P, agents: [a]}\n").ok());
  auto unknown_agent = ParseScenarioYaml(base + "phases:\n  - {name: p, label: P, agents: [b]}\n");
  ASSERT_FALSE(unknown_agent.ok());
  EXPECT_NE(unknown_agent.status().message().find("'b'"), std::string::npos);
  auto bad_topology =
      ParseScenarioYaml(base + "phases:\n  - {name: p, label: P, agents: [a], topology: star}\n");
  ASSERT_FALSE(bad_topology.ok());
  EXPECT_NE(bad_topology.status().message().find("topology"), std::string::npos);
  auto unknown_key = ParseScenarioYaml(base + "phases:\n  - {name: p, label: P, colour: red}\n");
  ASSERT_FALSE(unknown_key.ok());
  EXPECT_NE(unknown_key.status().message().find("colour"), std::string::npos);
  EXPECT_FALSE(ParseScenarioYaml("id: Bad Id\ntitle: T\nphases: []\n").ok());
  EXPECT_FALSE(ParseScenarioYaml("id: [unclosed\n").ok());
  EXPECT_FALSE(LoadScenarioFile("/nonexistent/x.yaml").ok());
}

TEST(CoordinationScenario, TemplatesResolveFromTheAgentsPerspective) {
  auto s = LoadScenarioFile(Path("gossip.yaml"));
  ASSERT_TRUE(s.ok());
  PhaseTranscripts done;
  done["alice_bob"] = {{"system", "System", "They meet."},
                       {"alice", "Alice", "Guess what Eve did."},
                       {"bob", "Bob", "Tell me!"}};
  auto for_bob = ResolveTemplate("Before:\n${alice_bob.messages[bob]}\nEnd", *s, done);
  ASSERT_TRUE(for_bob.ok());
  EXPECT_EQ(*for_bob, "Before:\nAlice: Guess what Eve did.\nYou: Tell me!\nEnd");
  auto for_alice = ResolveTemplate("${alice_bob.messages[alice]}", *s, done);
  EXPECT_EQ(*for_alice, "You: Guess what Eve did.\nBob: Tell me!");
  auto not_yet = ResolveTemplate("${alice_eve.messages[eve]}", *s, done);
  EXPECT_EQ(*not_yet, "(no messages yet)");
  EXPECT_FALSE(ResolveTemplate("${nowhere.messages[eve]}", *s, done).ok());
  EXPECT_EQ(*ResolveTemplate("no refs here $5", *s, done), "no refs here $5");
}

TEST(CoordinationScenario, ParseChoiceMapsAlternativesToChoices) {
  OutcomeRule rule{"parse_choice",
                   "(?i)(cooperate|defect|silent|talk|quiet|confess)",
                   {"cooperate", "defect"},
                   "matrix"};
  auto r = ParseChoices(rule, {{"marco", "I will stay SILENT, whatever happens."},
                               {"danny", "Fine. I'll talk. No, I confess."},
                               {"x", "No idea."}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].choice, "cooperate");
  EXPECT_EQ((*r)[0].matched, "SILENT");
  EXPECT_EQ((*r)[1].choice, "defect");  // the last match counts
  EXPECT_EQ((*r)[1].matched, "confess");
  EXPECT_EQ((*r)[2].choice, "");
  PayoffMatrix p{{"Cooperate", "Defect"}, {{"2/2", "10/0"}, {"0/10", "5/5"}}};
  EXPECT_EQ(PayoffCell(rule, p, "cooperate", "defect"), "10/0");
  EXPECT_EQ(PayoffCell(rule, p, "defect", "defect"), "5/5");
  EXPECT_EQ(PayoffCell(rule, p, "", "defect"), "");
}

}  // namespace
}  // namespace semantic::coordination
