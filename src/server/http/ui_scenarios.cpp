// UiScenariosJson: coordination::Scenario -> JSON for the UI (field names as in the YAML schema).
#include "server/http/ui_scenarios.h"

#include <string>

#include "coordination/scenario.h"
#include "server/http/ui_assets.h"

namespace semantic::server {

namespace {

using nlohmann::json;
namespace co = semantic::coordination;

json ScenarioJson(const co::Scenario& s) {
  json agents = json::array();
  for (const co::ScenarioAgent& a : s.agents) {
    agents.push_back({{"key", a.key},
                      {"display_name", a.display_name},
                      {"role", a.role},
                      {"system_prompt", a.system_prompt},
                      {"lifecycle", a.lifecycle},
                      {"color", a.color}});
  }
  json phases = json::array();
  for (const co::ScenarioPhase& p : s.phases) {
    phases.push_back({{"name", p.name},
                      {"label", p.label},
                      {"agents", p.agents},
                      {"topology", p.topology},
                      {"debate_format", p.debate_format},
                      {"decision_mode", p.decision_mode},
                      {"initial_prompt", p.initial_prompt},
                      {"initial_prompt_template", p.initial_prompt_template},
                      {"per_agent_prompt_templates", p.per_agent_prompt_templates},
                      {"max_turns", p.max_turns},
                      {"auto_rounds", p.auto_rounds}});
  }
  json outcome = nullptr;
  if (s.outcome) {
    outcome = {{"type", s.outcome->type},
               {"pattern", s.outcome->pattern},
               {"choices", s.outcome->choices},
               {"display", s.outcome->display}};
  }
  json payoff = nullptr;
  if (s.payoff) payoff = {{"labels", s.payoff->labels}, {"matrix", s.payoff->matrix}};
  return {{"id", s.id},       {"title", s.title}, {"description", s.description},
          {"agents", agents}, {"phases", phases}, {"outcome", outcome},
          {"payoff", payoff}};
}

}  // namespace

json UiScenariosJson() {
  json list = json::array();
  json errors = json::array();
  for (const UiAsset& a : UiAssets()) {
    if (a.path.rfind("scenarios/", 0) != 0) continue;
    auto s = co::ParseScenarioYaml(std::string(a.body));
    if (!s.ok()) {
      errors.push_back({{"file", a.path}, {"message", s.status().message()}});
      continue;
    }
    json j = ScenarioJson(*s);
    j["file"] = a.path;
    list.push_back(std::move(j));
  }
  return {{"scenarios", list}, {"errors", errors}};
}

}  // namespace semantic::server
