// Scenarios: the original's YAML schema (agents, phases with topology / max_turns / auto_rounds /
// initial_prompt_template with ${phase.messages[agent]}, ui hints, outcome, payoff matrix) as
// plain types, plus the pure steps of running one: template resolution, the carry-over of an
// agent's earlier phases, and the outcome rules. The HTTP client is tools/semantic/scenario_cmd.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "coordination/types.h"

namespace semantic::coordination {

struct ScenarioAgent {
  std::string key;  // the YAML map key; the agent id in every phase
  std::string display_name;
  std::string role = "participant";
  std::string system_prompt;
  std::string lifecycle = "ephemeral";
  std::string color;
};

struct ScenarioPhase {
  std::string name;  // [a-z][a-z0-9_]{0,29}
  std::string label;
  std::vector<std::string> agents;  // agent keys
  std::string topology = "round_robin";
  std::string debate_format = "free_form";
  std::string decision_mode = "none";
  std::string initial_prompt;
  std::string initial_prompt_template;  // wins over initial_prompt when set
  std::map<std::string, std::string> per_agent_prompt_templates;  // agent key -> template
  int max_turns = 0;
  int auto_rounds = 3;
};

struct OutcomeRule {
  std::string type;  // parse_choice, vote_tally or summary
  std::string pattern;
  std::vector<std::string> choices;
  std::string display = "table";
};

struct PayoffMatrix {
  std::vector<std::string> labels;
  std::vector<std::vector<std::string>> matrix;  // [row player's choice][column player's choice]
};

struct Scenario {
  std::string id, title, description;
  std::vector<ScenarioAgent> agents;  // in file order
  std::vector<ScenarioPhase> phases;
  std::optional<OutcomeRule> outcome;
  std::optional<PayoffMatrix> payoff;

  const ScenarioAgent* Agent(const std::string& key) const;
};

// Reads and validates a scenario file (schema in docs/coordination.md#scenarios).
Expected<Scenario> LoadScenarioFile(const std::string& path);
Expected<Scenario> ParseScenarioYaml(const std::string& text);
// The checks of the schema: id and phase name patterns, agent references, limits.
Status ValidateScenario(const Scenario& s);

// One public message of a finished phase.
struct TranscriptEntry {
  std::string sender_key;  // agent key, or "system"
  std::string sender_name;
  std::string content;
};
using PhaseTranscripts = std::map<std::string, std::vector<TranscriptEntry>>;  // phase -> msgs

// Replaces every ${phase.messages[agent]} with the phase's transcript as "Name: text" lines from
// that agent's perspective (its own lines labelled "You", system lines left out); a phase not run
// yet or without messages reads "(no messages yet)". Unknown phases are an error.
Expected<std::string> ResolveTemplate(const std::string& tmpl, const Scenario& s,
                                      const PhaseTranscripts& done);

// The outcome of parse_choice for each named agent's last statement: the last match of the
// pattern; a match that is one of `choices` (case-insensitive) counts for it, otherwise the k-th
// alternative of the pattern's first group counts for choices[k mod |choices|] (so
// "(cooperate|defect|silent|talk)" maps silent -> cooperate, talk -> defect).
struct ChoiceResult {
  std::string agent_key;
  std::string matched;  // "" when nothing matched
  std::string choice;   // "" when nothing matched
};
Expected<std::vector<ChoiceResult>> ParseChoices(
    const OutcomeRule& rule, const std::vector<std::pair<std::string, std::string>>& statements);

// The payoff cell for two players' choices ("" when either is unknown).
std::string PayoffCell(const OutcomeRule& rule, const PayoffMatrix& p, const std::string& row,
                       const std::string& col);

}  // namespace semantic::coordination
