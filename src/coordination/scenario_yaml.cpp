// Scenario YAML (yaml-cpp) -> Scenario. Unknown keys are reported, never ignored silently; the
// `ui` hints are accepted and left to user interfaces.
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <set>
#include <sstream>

#include "coordination/scenario.h"

namespace semantic::coordination {

namespace {

struct Reader {
  std::string error;

  bool CheckKeys(const YAML::Node& n, const std::string& at, std::set<std::string> allowed) {
    if (!n.IsMap()) {
      error = at + " must be a mapping";
      return false;
    }
    for (const auto& kv : n) {
      const std::string k = kv.first.as<std::string>();
      if (!allowed.count(k)) {
        error = at + ": unknown key '" + k + "'";
        return false;
      }
    }
    return true;
  }
  bool Str(const YAML::Node& n, const char* key, const std::string& at, std::string* out,
           bool required = false) {
    const YAML::Node v = n[key];
    if (!v) {
      if (required) error = at + "." + key + " is required";
      return !required;
    }
    if (!v.IsScalar()) {
      error = at + "." + key + " must be a string";
      return false;
    }
    *out = v.as<std::string>();
    return true;
  }
  bool Int(const YAML::Node& n, const char* key, const std::string& at, int* out) {
    const YAML::Node v = n[key];
    if (!v) return true;
    try {
      *out = v.as<int>();
      return true;
    } catch (const YAML::Exception&) {
      error = at + "." + key + " must be an integer";
      return false;
    }
  }
  bool StrList(const YAML::Node& n, const char* key, const std::string& at,
               std::vector<std::string>* out) {
    const YAML::Node v = n[key];
    if (!v) return true;
    if (!v.IsSequence()) {
      error = at + "." + key + " must be a list";
      return false;
    }
    for (const auto& x : v) {
      if (!x.IsScalar()) {
        error = at + "." + key + " must list strings";
        return false;
      }
      out->push_back(x.as<std::string>());
    }
    return true;
  }
};

Expected<Scenario> Convert(const YAML::Node& root) {
  Reader r;
  Scenario s;
  auto fail = [&] { return Expected<Scenario>(InvalidArgument(r.error)); };
  if (!r.CheckKeys(root, "scenario",
                   {"id", "title", "description", "agents", "phases", "ui", "outcome", "payoff"}) ||
      !r.Str(root, "id", "scenario", &s.id, true) ||
      !r.Str(root, "title", "scenario", &s.title, true) ||
      !r.Str(root, "description", "scenario", &s.description)) {
    return fail();
  }
  if (const YAML::Node agents = root["agents"]; agents && !agents.IsNull()) {
    if (!agents.IsMap()) return InvalidArgument("agents must be a mapping of key -> agent");
    for (const auto& kv : agents) {
      ScenarioAgent a;
      a.key = kv.first.as<std::string>();
      const std::string at = "agents." + a.key;
      if (!r.CheckKeys(kv.second, at,
                       {"display_name", "role", "system_prompt", "lifecycle", "color"}) ||
          !r.Str(kv.second, "display_name", at, &a.display_name, true) ||
          !r.Str(kv.second, "role", at, &a.role) ||
          !r.Str(kv.second, "system_prompt", at, &a.system_prompt) ||
          !r.Str(kv.second, "lifecycle", at, &a.lifecycle) ||
          !r.Str(kv.second, "color", at, &a.color)) {
        return fail();
      }
      s.agents.push_back(std::move(a));
    }
  }
  const YAML::Node phases = root["phases"];
  if (!phases || !phases.IsSequence()) return InvalidArgument("phases must be a list");
  for (size_t i = 0; i < phases.size(); ++i) {
    const YAML::Node p = phases[i];
    const std::string at = "phases[" + std::to_string(i) + "]";
    ScenarioPhase ph;
    if (!r.CheckKeys(p, at,
                     {"name", "label", "agents", "topology", "debate_format", "decision_mode",
                      "initial_prompt", "initial_prompt_template", "per_agent_prompt_templates",
                      "max_turns", "auto_rounds", "interactions"}) ||
        !r.Str(p, "name", at, &ph.name, true) || !r.Str(p, "label", at, &ph.label, true) ||
        !r.StrList(p, "agents", at, &ph.agents) || !r.Str(p, "topology", at, &ph.topology) ||
        !r.Str(p, "debate_format", at, &ph.debate_format) ||
        !r.Str(p, "decision_mode", at, &ph.decision_mode) ||
        !r.Str(p, "initial_prompt", at, &ph.initial_prompt) ||
        !r.Str(p, "initial_prompt_template", at, &ph.initial_prompt_template) ||
        !r.Int(p, "max_turns", at, &ph.max_turns) ||
        !r.Int(p, "auto_rounds", at, &ph.auto_rounds)) {
      return fail();
    }
    if (const YAML::Node t = p["per_agent_prompt_templates"]; t && !t.IsNull()) {
      if (!t.IsMap()) return InvalidArgument(at + ".per_agent_prompt_templates must be a mapping");
      for (const auto& kv : t) {
        ph.per_agent_prompt_templates[kv.first.as<std::string>()] = kv.second.as<std::string>();
      }
    }
    s.phases.push_back(std::move(ph));
  }
  if (const YAML::Node o = root["outcome"]; o && !o.IsNull()) {
    OutcomeRule rule;
    if (!r.CheckKeys(o, "outcome", {"type", "pattern", "choices", "display"}) ||
        !r.Str(o, "type", "outcome", &rule.type, true) ||
        !r.Str(o, "pattern", "outcome", &rule.pattern) ||
        !r.StrList(o, "choices", "outcome", &rule.choices) ||
        !r.Str(o, "display", "outcome", &rule.display)) {
      return fail();
    }
    s.outcome = std::move(rule);
  }
  if (const YAML::Node p = root["payoff"]; p && !p.IsNull()) {
    PayoffMatrix pm;
    if (!r.CheckKeys(p, "payoff", {"labels", "matrix"}) ||
        !r.StrList(p, "labels", "payoff", &pm.labels)) {
      return fail();
    }
    const YAML::Node m = p["matrix"];
    if (!m || !m.IsSequence()) return InvalidArgument("payoff.matrix must be a list of rows");
    for (const auto& row : m) {
      std::vector<std::string> cells;
      if (!row.IsSequence()) return InvalidArgument("payoff.matrix rows must be lists");
      for (const auto& c : row) cells.push_back(c.as<std::string>());
      pm.matrix.push_back(std::move(cells));
    }
    s.payoff = std::move(pm);
  }
  if (Status st = ValidateScenario(s); !st.ok()) return st;
  return s;
}

}  // namespace

Expected<Scenario> ParseScenarioYaml(const std::string& text) {
  try {
    return Convert(YAML::Load(text));
  } catch (const YAML::Exception& e) {
    return InvalidArgument(std::string("not valid YAML: ") + e.what());
  }
}

Expected<Scenario> LoadScenarioFile(const std::string& path) {
  std::ifstream f(path);
  if (!f) return NotFound("cannot read scenario file " + path);
  std::stringstream ss;
  ss << f.rdbuf();
  auto s = ParseScenarioYaml(ss.str());
  if (!s.ok()) return InvalidArgument(path + ": " + s.status().message());
  return s;
}

}  // namespace semantic::coordination
