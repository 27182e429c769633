// Scenario validation, ${phase.messages[agent]} templates and the parse_choice outcome.
#include "coordination/scenario.h"

#include <algorithm>
#include <cctype>
#include <regex>
#include <set>

namespace semantic::coordination {

namespace {

bool Matches(const std::string& s, const char* pattern) {
  return std::regex_match(s, std::regex(pattern));
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// std::regex knows no inline flags: a leading (?i) becomes the icase option.
Expected<std::regex> CompilePattern(const std::string& pattern) {
  std::string p = pattern;
  auto flags = std::regex::ECMAScript;
  if (p.rfind("(?i)", 0) == 0) {
    p = p.substr(4);
    flags |= std::regex::icase;
  }
  try {
    return std::regex(p, flags);
  } catch (const std::regex_error& e) {
    return InvalidArgument("outcome.pattern is not a valid regular expression: " +
                           std::string(e.what()));
  }
}

// The alternatives of the first capturing group: "(?i)(a|b|c)" -> {a, b, c}.
std::vector<std::string> FirstGroupAlternatives(const std::string& pattern) {
  std::vector<std::string> out;
  size_t i = 0;
  if (pattern.rfind("(?i)", 0) == 0) i = 4;
  for (; i < pattern.size(); ++i) {
    if (pattern[i] == '\\') {
      ++i;
      continue;
    }
    if (pattern[i] == '(' && (i + 1 >= pattern.size() || pattern[i + 1] != '?')) break;
  }
  if (i >= pattern.size()) return out;
  int depth = 0;
  std::string cur;
  for (size_t j = i + 1; j < pattern.size(); ++j) {
    const char c = pattern[j];
    if (c == '\\' && j + 1 < pattern.size()) {
      cur += c;
      cur += pattern[++j];
      continue;
    }
    if (c == '(') ++depth;
    if (c == ')') {
      if (depth == 0) {
        out.push_back(cur);
        return out;
      }
      --depth;
    }
    if (c == '|' && depth == 0) {
      out.push_back(cur);
      cur.clear();
      continue;
    }
    cur += c;
  }
  return {};  // unbalanced
}

}  // namespace

const ScenarioAgent* Scenario::Agent(const std::string& key) const {
  for (const ScenarioAgent& a : agents)
    if (a.key == key) return &a;
  return nullptr;
}

Status ValidateScenario(const Scenario& s) {
  if (!Matches(s.id, "[a-z][a-z0-9_-]{0,49}")) {
    return InvalidArgument("id '" + s.id + "' must match [a-z][a-z0-9_-]{0,49}");
  }
  if (s.title.empty() || s.title.size() > 100) {
    return InvalidArgument("title must be 1 to 100 characters");
  }
  if (s.phases.empty() || s.phases.size() > 20) {
    return InvalidArgument("a scenario has 1 to 20 phases");
  }
  for (const ScenarioAgent& a : s.agents) {
    if (a.display_name.empty() || a.display_name.size() > kMaxDisplayName) {
      return InvalidArgument("agents." + a.key + ".display_name must be 1 to 50 characters");
    }
    if (!ParseLifecycle(a.lifecycle)) {
      return InvalidArgument("agents." + a.key + ".lifecycle must be ephemeral or permanent");
    }
    if (!Matches(a.role, "participant|observer|narrator|judge|moderator")) {
      return InvalidArgument("agents." + a.key +
                             ".role must be participant, observer, narrator, judge or moderator");
    }
  }
  std::set<std::string> names;
  for (const ScenarioPhase& p : s.phases) {
    if (!Matches(p.name, "[a-z][a-z0-9_]{0,29}")) {
      return InvalidArgument("phase name '" + p.name + "' must match [a-z][a-z0-9_]{0,29}");
    }
    if (!names.insert(p.name).second) return InvalidArgument("phase '" + p.name + "' twice");
    const std::string at = "phase '" + p.name + "'";
    if (p.label.empty() || p.label.size() > 80) {
      return InvalidArgument(at + ": label must be 1 to 80 characters");
    }
    if (p.agents.size() > static_cast<size_t>(kMaxAgents)) {
      return InvalidArgument(at + " has more than 30 agents");
    }
    for (const std::string& a : p.agents) {
      if (!s.Agent(a))
        return InvalidArgument(at + " names agent '" + a + "', which is not defined");
    }
    for (const auto& [a, t] : p.per_agent_prompt_templates) {
      if (!s.Agent(a))
        return InvalidArgument(at + ": per_agent_prompt_templates names '" + a + "'");
    }
    if (!ParseTopology(p.topology)) {
      return InvalidArgument(at + ": topology must be " + TopologyNames());
    }
    if (!ParseDebateFormat(p.debate_format)) {
      return InvalidArgument(at + ": debate_format must be " + DebateFormatNames());
    }
    if (!ParseDecisionMode(p.decision_mode)) {
      return InvalidArgument(at + ": decision_mode must be " + DecisionModeNames());
    }
    if (p.max_turns < 0 || p.max_turns > kMaxTurnsLimit) {
      return InvalidArgument(at + ": max_turns must be 0 to 1000");
    }
    if (p.auto_rounds < 1 || p.auto_rounds > 50) {
      return InvalidArgument(at + ": auto_rounds must be 1 to 50");
    }
  }
  if (s.outcome) {
    if (!Matches(s.outcome->type, "parse_choice|vote_tally|summary")) {
      return InvalidArgument("outcome.type must be parse_choice, vote_tally or summary");
    }
    if (s.outcome->type == "parse_choice") {
      if (s.outcome->pattern.empty() || s.outcome->choices.empty()) {
        return InvalidArgument("outcome parse_choice needs a pattern and choices");
      }
      auto re = CompilePattern(s.outcome->pattern);
      if (!re.ok()) return re.status();
    }
  }
  if (s.payoff) {
    if (s.payoff->labels.size() < 2 || s.payoff->matrix.size() != s.payoff->labels.size()) {
      return InvalidArgument("payoff needs at least 2 labels and one matrix row per label");
    }
    for (const auto& row : s.payoff->matrix) {
      if (row.size() != s.payoff->labels.size()) {
        return InvalidArgument("every payoff matrix row needs one cell per label");
      }
    }
  }
  return Status::Ok();
}

Expected<std::string> ResolveTemplate(const std::string& tmpl, const Scenario& s,
                                      const PhaseTranscripts& done) {
  static const std::regex ref(R"(\$\{(\w+)\.messages\[(\w+)\]\})");
  std::string out;
  auto begin = std::sregex_iterator(tmpl.begin(), tmpl.end(), ref);
  size_t last = 0;
  for (auto it = begin; it != std::sregex_iterator(); ++it) {
    const std::smatch& m = *it;
    out += tmpl.substr(last, m.position(0) - last);
    last = m.position(0) + m.length(0);
    const std::string phase = m[1], agent = m[2];
    const bool known = std::any_of(s.phases.begin(), s.phases.end(),
                                   [&](const ScenarioPhase& p) { return p.name == phase; });
    if (!known)
      return InvalidArgument("template names phase '" + phase + "', which is not defined");
    const ScenarioAgent* viewer = s.Agent(agent);
    auto d = done.find(phase);
    std::string text;
    if (d != done.end()) {
      for (const TranscriptEntry& e : d->second) {
        if (e.sender_key == "system") continue;
        if (!text.empty()) text += "\n";
        const bool me = viewer != nullptr && e.sender_key == viewer->key;
        text += (me ? std::string("You") : e.sender_name) + ": " + e.content;
      }
    }
    out += text.empty() ? "(no messages yet)" : text;
  }
  out += tmpl.substr(last);
  return out;
}

Expected<std::vector<ChoiceResult>> ParseChoices(
    const OutcomeRule& rule, const std::vector<std::pair<std::string, std::string>>& statements) {
  auto re = CompilePattern(rule.pattern);
  if (!re.ok()) return re.status();
  const std::vector<std::string> alts = FirstGroupAlternatives(rule.pattern);
  const bool icase = rule.pattern.rfind("(?i)", 0) == 0;
  std::vector<ChoiceResult> out;
  for (const auto& [agent, text] : statements) {
    ChoiceResult r;
    r.agent_key = agent;
    for (auto it = std::sregex_iterator(text.begin(), text.end(), *re);
         it != std::sregex_iterator(); ++it) {
      r.matched = (*it)[0];
    }
    if (!r.matched.empty()) {
      for (const std::string& c : rule.choices)
        if (Lower(c) == Lower(r.matched)) r.choice = c;
      for (size_t k = 0; r.choice.empty() && k < alts.size(); ++k) {
        auto f = std::regex::ECMAScript;
        if (icase) f |= std::regex::icase;
        try {
          if (std::regex_match(r.matched, std::regex(alts[k], f))) {
            r.choice = rule.choices[k % rule.choices.size()];
          }
        } catch (const std::regex_error&) {
        }
      }
    }
    out.push_back(std::move(r));
  }
  return out;
}

std::string PayoffCell(const OutcomeRule& rule, const PayoffMatrix& p, const std::string& row,
                       const std::string& col) {
  auto index = [&](const std::string& c) -> int {
    for (size_t i = 0; i < rule.choices.size(); ++i)
      if (Lower(rule.choices[i]) == Lower(c)) return static_cast<int>(i);
    return -1;
  };
  const int i = index(row), j = index(col);
  if (i < 0 || j < 0 || i >= static_cast<int>(p.matrix.size()) ||
      j >= static_cast<int>(p.matrix[i].size())) {
    return "";
  }
  return p.matrix[i][j];
}

}  // namespace semantic::coordination
