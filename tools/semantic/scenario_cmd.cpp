// `semantic scenario run FILE --url URL`: runs a scenario headless as a client of a running
// server's /v1/coordination API (the same path a UI uses; the server owns model, batching and
// caches): one session per phase, auto_rounds rounds each, templates filled from earlier phases,
// permanent agents carried over under the scenario's persistent cache prefix. Prints every
// turn's TTFT and cache state, then the outcome.
#include <httplib.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "coordination/scenario.h"
#include "tools/semantic/commands.h"

namespace semantic::cli {
namespace {

using nlohmann::json;
namespace co = semantic::coordination;

struct ScenarioArgs {
  std::string file;
  std::string url = "http://127.0.0.1:8000";
  std::string api_key;
  int max_tokens = 0;  // 0: the server default per turn
  int rounds = 0;      // 0: each phase's auto_rounds
  bool fresh = false;  // drop the permanent agents' caches first
};

class Api {
 public:
  Api(const std::string& url, const std::string& key) : http_(url) {
    http_.set_read_timeout(3600, 0);
    http_.set_connection_timeout(10, 0);
    if (!key.empty()) http_.set_bearer_token_auth(key);
  }
  // The parsed body, or an error line in *err.
  bool Call(const char* method, const std::string& path, const json* body, json* out,
            std::string* err) {
    httplib::Result r = std::string(method) == "GET" ? http_.Get(path)
                        : std::string(method) == "DELETE"
                            ? http_.Delete(path)
                            : http_.Post(path, body ? body->dump() : "{}", "application/json");
    if (!r) {
      *err = std::string(method) + " " + path + ": " + httplib::to_string(r.error());
      return false;
    }
    json j = json::parse(r->body, nullptr, /*allow_exceptions=*/false);
    if (r->status >= 300) {
      std::string msg =
          j.is_object() && j.contains("error") ? j["error"].value("message", "") : r->body;
      *err = std::string(method) + " " + path + ": HTTP " + std::to_string(r->status) + ": " + msg;
      return false;
    }
    *out = std::move(j);
    return true;
  }

 private:
  httplib::Client http_;
};

std::string PrefixFor(const std::string& id) {
  std::string p;
  for (char c : id)
    p += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.') ? c : '_';
  return p.substr(0, 64);
}

std::string OneLine(const std::string& s, size_t max) {
  std::string o;
  for (char c : s) o += (c == '\n' || c == '\r') ? ' ' : c;
  if (o.size() > max) o = o.substr(0, max - 3) + "...";
  return o;
}

struct TurnRow {
  std::string phase, agent, state;
  int round = 0, prompt = 0, cached = 0, completion = 0;
  double ttft = 0;
};

int Run(const ScenarioArgs& a) {
  auto loaded = co::LoadScenarioFile(a.file);
  if (!loaded.ok()) {
    std::fprintf(stderr, "error: %s\n", loaded.status().message().c_str());
    return 2;
  }
  const co::Scenario& sc = *loaded;
  Api api(a.url, a.api_key);
  std::string err;
  json resp;
  const std::string prefix = PrefixFor(sc.id);
  if (a.fresh && !api.Call("DELETE", "/v1/coordination/caches/" + prefix, nullptr, &resp, &err)) {
    std::fprintf(stderr, "error: %s\n", err.c_str());
    return 1;
  }
  std::printf("scenario %s: %s (%zu phases) against %s\n", sc.id.c_str(), sc.title.c_str(),
              sc.phases.size(), a.url.c_str());
  co::PhaseTranscripts transcripts;
  std::map<std::string, json> history;  // agent key -> its view of earlier phases (prior msgs)
  std::vector<TurnRow> rows;
  std::map<std::string, std::string> last_statement;  // agent key -> its last message
  std::vector<std::string> speaking_order;            // agents in order of first turn
  json last_session;
  for (size_t pi = 0; pi < sc.phases.size(); ++pi) {
    const co::ScenarioPhase& ph = sc.phases[pi];
    std::printf("\n== %s (%s, %s)\n", ph.label.c_str(), ph.name.c_str(), ph.topology.c_str());
    if (ph.agents.empty()) {
      std::printf("   no agents: skipped\n");
      continue;
    }
    json body = {{"topology", ph.topology},
                 {"debate_format", ph.debate_format},
                 {"decision_mode", ph.decision_mode},
                 {"max_turns", ph.max_turns},
                 {"persistent_cache_prefix", prefix},
                 {"agents", json::array()},
                 {"per_agent_prompts", json::object()},
                 {"prior_agent_messages", json::object()}};
    if (a.max_tokens > 0) body["max_tokens"] = a.max_tokens;
    std::string initial = ph.initial_prompt;
    if (!ph.initial_prompt_template.empty()) {
      auto r = co::ResolveTemplate(ph.initial_prompt_template, sc, transcripts);
      if (!r.ok()) {
        std::fprintf(stderr, "error: phase %s: %s\n", ph.name.c_str(),
                     r.status().message().c_str());
        return 2;
      }
      initial = *r;
    }
    body["initial_prompt"] = initial;
    for (const std::string& key : ph.agents) {
      const co::ScenarioAgent& ag = *sc.Agent(key);
      body["agents"].push_back({{"agent_id", ag.key},
                                {"display_name", ag.display_name},
                                {"role", ag.role},
                                {"system_prompt", ag.system_prompt},
                                {"lifecycle", ag.lifecycle}});
      if (ag.lifecycle == "permanent" && history.count(key)) {
        body["prior_agent_messages"][key] = history[key];
      }
      auto t = ph.per_agent_prompt_templates.find(key);
      if (t != ph.per_agent_prompt_templates.end()) {
        auto r = co::ResolveTemplate(t->second, sc, transcripts);
        if (!r.ok()) {
          std::fprintf(stderr, "error: phase %s: %s\n", ph.name.c_str(),
                       r.status().message().c_str());
          return 2;
        }
        body["per_agent_prompts"][ag.display_name] = *r;
      }
    }
    json session;
    if (!api.Call("POST", "/v1/coordination/sessions", &body, &session, &err)) {
      std::fprintf(stderr, "error: %s\n", err.c_str());
      return 1;
    }
    const std::string sid = session["session_id"];
    const std::string base = "/v1/coordination/sessions/" + sid;
    const int rounds = a.rounds > 0 ? a.rounds : ph.auto_rounds;
    for (int r = 0; r < rounds; ++r) {
      json round;
      if (!api.Call("POST", base + "/round", nullptr, &round, &err)) {
        std::fprintf(stderr, "error: %s\n", err.c_str());
        return 1;
      }
      for (const json& t : round["turns"]) {
        TurnRow row{ph.name,
                    t["display_name"],
                    t["cache_state"],
                    r + 1,
                    t["usage"]["prompt_tokens"],
                    t["usage"]["cached_tokens"],
                    t["usage"]["completion_tokens"],
                    t["ttft_ms"]};
        std::printf("   r%d %-10s ttft %7.1f ms  prompt %5d  cached %5d  %-4s  %s\n", row.round,
                    row.agent.c_str(), row.ttft, row.prompt, row.cached, row.state.c_str(),
                    OneLine(t.value("content", ""), 70).c_str());
        rows.push_back(row);
        const std::string key = t["agent_id"];
        last_statement[key] = t.value("content", "");
        if (std::find(speaking_order.begin(), speaking_order.end(), key) == speaking_order.end())
          speaking_order.push_back(key);
      }
      if (!round.value("active", true)) break;
    }
    // This phase's transcript (for templates) and each permanent agent's view (carried over).
    json msgs;
    if (!api.Call("GET", base + "/messages", nullptr, &msgs, &err)) {
      std::fprintf(stderr, "error: %s\n", err.c_str());
      return 1;
    }
    auto& tr = transcripts[ph.name];
    for (const json& m : msgs["messages"]) {
      tr.push_back({m["sender_id"], m["sender_name"], m["content"]});
    }
    for (const std::string& key : ph.agents) {
      if (sc.Agent(key)->lifecycle != "permanent") continue;
      json view;
      if (!api.Call("GET", base + "/messages?agent_id=" + key, nullptr, &view, &err)) {
        std::fprintf(stderr, "error: %s\n", err.c_str());
        return 1;
      }
      json& h = history[key];
      if (h.is_null()) h = json::array();
      for (const json& m : view["messages"]) {
        if (m["kind"] == "prior") continue;  // already in h
        h.push_back({{"sender_id", m["sender_id"]},
                     {"sender_name", m["sender_name"]},
                     {"content", m["content"]}});
      }
    }
    const bool last = pi + 1 == sc.phases.size();
    if (last && sc.outcome && sc.outcome->type == "vote_tally") {
      // Each agent's last statement, read with the outcome pattern, is its vote.
      std::vector<std::pair<std::string, std::string>> st;
      for (const std::string& key : ph.agents) st.push_back({key, last_statement[key]});
      auto choices = co::ParseChoices(*sc.outcome, st);
      if (choices.ok()) {
        for (const co::ChoiceResult& c : *choices) {
          if (c.choice.empty()) continue;
          json vote = {{"agent_id", c.agent_key}, {"question", sc.title}, {"choice", c.choice}};
          json vr;
          if (!api.Call("POST", base + "/vote", &vote, &vr, &err)) {
            std::fprintf(stderr, "error: %s\n", err.c_str());
            return 1;
          }
        }
      }
    }
    if (!api.Call("GET", base, nullptr, &last_session, &err) ||
        !api.Call("DELETE", base, nullptr, &resp, &err)) {
      std::fprintf(stderr, "error: %s\n", err.c_str());
      return 1;
    }
  }
  // Per-turn summary.
  int cold = 0, warm = 0, hot = 0;
  double ttft_sum = 0;
  for (const TurnRow& r : rows) {
    (r.state == "COLD" ? cold : r.state == "WARM" ? warm : hot)++;
    ttft_sum += r.ttft;
  }
  std::printf("\nturns: %zu (COLD %d, WARM %d, HOT %d), mean TTFT %.1f ms\n", rows.size(), cold,
              warm, hot, rows.empty() ? 0.0 : ttft_sum / rows.size());
  std::printf("\n== outcome");
  if (!sc.outcome) {
    std::printf(": none defined\n");
    return 0;
  }
  std::printf(" (%s)\n", sc.outcome->type.c_str());
  if (sc.outcome->type == "summary") {
    const auto& t = transcripts[sc.phases.back().name];
    std::printf("%s\n", t.empty() ? "(no messages)" : t.back().content.c_str());
  } else if (sc.outcome->type == "vote_tally") {
    for (const json& t : last_session["tallies"]) {
      std::printf("   %s: ", t["question"].get<std::string>().c_str());
      for (const json& c : t["counts"]) {
        std::printf("%s=%d ", c["choice"].get<std::string>().c_str(), c["votes"].get<int>());
      }
      std::printf("-> %s (%s)\n",
                  t["winner"].is_null() ? "undecided" : t["winner"].get<std::string>().c_str(),
                  t["reason"].get<std::string>().c_str());
    }
    if (last_session["tallies"].empty()) std::printf("   no votes could be read\n");
  } else {  // parse_choice: the participants' last statements
    std::vector<std::pair<std::string, std::string>> st;
    for (const std::string& key : speaking_order) {
      if (sc.Agent(key)->role == "participant") st.push_back({key, last_statement[key]});
    }
    auto choices = co::ParseChoices(*sc.outcome, st);
    if (!choices.ok()) {
      std::fprintf(stderr, "error: %s\n", choices.status().message().c_str());
      return 2;
    }
    for (const co::ChoiceResult& c : *choices) {
      std::printf("   %-10s %-10s (matched '%s')\n", sc.Agent(c.agent_key)->display_name.c_str(),
                  c.choice.empty() ? "unclear" : c.choice.c_str(), c.matched.c_str());
    }
    if (sc.payoff && choices->size() == 2) {
      const std::string cell =
          co::PayoffCell(*sc.outcome, *sc.payoff, (*choices)[0].choice, (*choices)[1].choice);
      std::printf("   payoff (%s / %s): %s\n",
                  sc.Agent((*choices)[0].agent_key)->display_name.c_str(),
                  sc.Agent((*choices)[1].agent_key)->display_name.c_str(),
                  cell.empty() ? "undetermined" : cell.c_str());
    }
  }
  return 0;
}

}  // namespace

void RegisterScenario(CLI::App& app, int& exit_code) {
  CLI::App* cmd = app.add_subcommand("scenario", "Multi-agent scenarios (YAML) against a server");
  cmd->require_subcommand(1);
  auto args = std::make_shared<ScenarioArgs>();
  CLI::App* run = cmd->add_subcommand("run", "Run a scenario headless and print its outcome");
  run->add_option("file", args->file, "Scenario YAML file (see scenarios/)")->required();
  run->add_option("--url", args->url, "Base URL of a running `semantic serve`");
  run->add_option("--api-key", args->api_key, "API key, when the server requires one");
  run->add_option("--max-tokens", args->max_tokens, "Reply limit per turn (default: server's 200)");
  run->add_option("--rounds", args->rounds, "Rounds per phase (default: each phase's auto_rounds)");
  run->add_flag("--fresh", args->fresh,
                "Delete the permanent agents' caches of this scenario before running");
  run->callback([args, &exit_code] { exit_code = Run(*args); });
}

}  // namespace semantic::cli
