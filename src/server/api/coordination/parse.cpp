// Parsing of the coordination request bodies.
#include "server/api/coordination/parse.h"

#include "coordination/session.h"

namespace semantic::server::coordination_api {

using nlohmann::json;
namespace co = semantic::coordination;

namespace {

ApiError Bad(const std::string& field, const std::string& message) {
  return BadRequest(message, field);
}

// A required or optional string member; false after setting *err.
bool Str(const json& obj, const std::string& prefix, const char* key, bool required,
         std::string* out, std::optional<ApiError>* err) {
  const std::string name = prefix + key;
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) {
    if (required) *err = Bad(name, "'" + name + "' is required");
    return !required;
  }
  if (!it->is_string()) {
    *err = Bad(name, "'" + name + "' must be a string, got " + JsonTypeName(*it));
    return false;
  }
  *out = it->get<std::string>();
  return true;
}

template <typename E>
bool EnumField(const json& obj, const char* key, std::optional<E> (*parse)(std::string_view),
               const std::string& names, E* out, std::optional<ApiError>* err) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return true;  // the default
  std::string s;
  if (!Str(obj, "", key, false, &s, err)) return false;
  auto v = parse(s);
  if (!v) {
    *err = Bad(key, "'" + std::string(key) + "' must be " + names + ", got '" + s + "'");
    return false;
  }
  *out = *v;
  return true;
}

bool Settings(const json& body, TurnSettings* s, std::optional<ApiError>* err) {
  Fields f(body);
  std::optional<long long> max_tokens, seed;
  std::optional<double> temperature;
  if (!f.Int("max_tokens", 1, 4096, &max_tokens) || !f.Number("temperature", 0, 2, &temperature) ||
      !f.Int("seed", 0, 9007199254740991LL, &seed)) {
    *err = f.error();
    return false;
  }
  if (max_tokens) s->max_tokens = static_cast<int>(*max_tokens);
  if (temperature) s->temperature = static_cast<float>(*temperature);
  if (seed) s->seed = static_cast<uint64_t>(*seed);
  return true;
}

bool Agent(const json& a, const std::string& at, co::AgentSpec* out, std::optional<ApiError>* err) {
  if (!a.is_object()) {
    *err = Bad(at, "'" + at + "' must be an object, got " + JsonTypeName(a));
    return false;
  }
  std::string lifecycle;
  if (!Str(a, at + ".", "agent_id", false, &out->id, err) ||
      !Str(a, at + ".", "display_name", true, &out->display_name, err) ||
      !Str(a, at + ".", "role", false, &out->role, err) ||
      !Str(a, at + ".", "system_prompt", false, &out->system_prompt, err) ||
      !Str(a, at + ".", "lifecycle", false, &lifecycle, err)) {
    return false;
  }
  if (out->role.empty()) out->role = "participant";
  if (!lifecycle.empty()) {
    auto l = co::ParseLifecycle(lifecycle);
    if (!l) {
      *err = Bad(at + ".lifecycle",
                 "'" + at + ".lifecycle' must be ephemeral or permanent, got '" + lifecycle + "'");
      return false;
    }
    out->lifecycle = *l;
  }
  return true;
}

bool PriorMessages(const json& body, co::SessionSpec* spec, std::optional<ApiError>* err) {
  auto it = body.find("prior_agent_messages");
  if (it == body.end() || it->is_null()) return true;
  if (!it->is_object()) {
    *err = Bad("prior_agent_messages",
               "'prior_agent_messages' must be an object of agent id -> "
               "list of messages");
    return false;
  }
  for (const auto& [agent, list] : it->items()) {
    const std::string at = "prior_agent_messages." + agent;
    if (!list.is_array()) {
      *err = Bad(at, "'" + at + "' must be an array of messages");
      return false;
    }
    auto& out = spec->prior_agent_messages[agent];
    for (size_t i = 0; i < list.size(); ++i) {
      const std::string mat = at + "[" + std::to_string(i) + "]";
      const json& m = list[i];
      if (!m.is_object()) {
        *err = Bad(mat, "'" + mat + "' must be an object {sender_id, sender_name, content}");
        return false;
      }
      co::PriorMessage p;
      if (!Str(m, mat + ".", "sender_id", false, &p.sender_id, err) ||
          !Str(m, mat + ".", "sender_name", false, &p.sender_name, err) ||
          !Str(m, mat + ".", "content", true, &p.content, err)) {
        return false;
      }
      if (p.content.size() > co::kMaxInitialPrompt) {
        *err = Bad(mat + ".content", "'" + mat + ".content' is too long");
        return false;
      }
      out.push_back(std::move(p));
    }
  }
  return true;
}

}  // namespace

ApiResult<CreateBody> ParseCreateSession(const json& body) {
  CreateBody out;
  co::SessionSpec& spec = out.spec;
  std::optional<ApiError> err;
  if (!EnumField(body, "topology", co::ParseTopology, co::TopologyNames(), &spec.topology, &err) ||
      !EnumField(body, "debate_format", co::ParseDebateFormat, co::DebateFormatNames(),
                 &spec.debate_format, &err) ||
      !EnumField(body, "decision_mode", co::ParseDecisionMode, co::DecisionModeNames(),
                 &spec.decision_mode, &err) ||
      !Str(body, "", "initial_prompt", false, &spec.initial_prompt, &err) ||
      !Str(body, "", "persistent_cache_prefix", false, &spec.persistent_cache_prefix, &err) ||
      !Settings(body, &out.settings, &err) || !PriorMessages(body, &spec, &err)) {
    return *err;
  }
  auto agents = body.find("agents");
  if (agents == body.end() || agents->is_null()) return Bad("agents", "'agents' is required");
  if (!agents->is_array()) {
    return Bad("agents", "'agents' must be an array, got " + std::string(JsonTypeName(*agents)));
  }
  if (agents->empty() || agents->size() > static_cast<size_t>(co::kMaxAgents)) {
    return Bad("agents", "'agents' must list 1 to " + std::to_string(co::kMaxAgents) +
                             " agents, got " + std::to_string(agents->size()));
  }
  for (size_t i = 0; i < agents->size(); ++i) {
    co::AgentSpec a;
    if (!Agent((*agents)[i], "agents[" + std::to_string(i) + "]", &a, &err)) return *err;
    spec.agents.push_back(std::move(a));
  }
  if (auto it = body.find("per_agent_prompts"); it != body.end() && !it->is_null()) {
    if (!it->is_object()) {
      return Bad("per_agent_prompts",
                 "'per_agent_prompts' must be an object of display name -> "
                 "text");
    }
    for (const auto& [k, v] : it->items()) {
      if (!v.is_string()) {
        return Bad("per_agent_prompts." + k, "'per_agent_prompts." + k + "' must be a string");
      }
      spec.per_agent_prompts[k] = v.get<std::string>();
    }
  }
  Fields f(body);
  std::optional<long long> max_turns;
  if (!f.Int("max_turns", 0, co::kMaxTurnsLimit, &max_turns)) return f.error();
  spec.max_turns = static_cast<int>(max_turns.value_or(0));
  if (out.settings.max_tokens) spec.reply_max_tokens = *out.settings.max_tokens;
  if (out.settings.temperature) spec.temperature = *out.settings.temperature;
  if (out.settings.seed) spec.seed = *out.settings.seed;
  std::string field;
  if (Status st = co::ValidateSpec(&spec, &field); !st.ok()) return Bad(field, st.message());
  return out;
}

ApiResult<TurnSettings> ParseTurnBody(const json& body) {
  TurnSettings s;
  std::optional<ApiError> err;
  if (!Settings(body, &s, &err)) return *err;
  return s;
}

ApiResult<WhisperBody> ParseWhisper(const json& body) {
  WhisperBody w;
  std::optional<ApiError> err;
  if (!Str(body, "", "from_agent_id", true, &w.from, &err) ||
      !Str(body, "", "to_agent_id", true, &w.to, &err) ||
      !Str(body, "", "content", true, &w.content, &err)) {
    return *err;
  }
  if (w.content.empty() || w.content.size() > co::kMaxWhisper) {
    return Bad("content",
               "'content' must be 1 to " + std::to_string(co::kMaxWhisper) + " characters");
  }
  return w;
}

ApiResult<co::Vote> ParseVote(const json& body) {
  co::Vote v;
  std::optional<ApiError> err;
  if (!Str(body, "", "agent_id", true, &v.agent_id, &err) ||
      !Str(body, "", "question", true, &v.question, &err) ||
      !Str(body, "", "choice", false, &v.choice, &err)) {
    return *err;
  }
  if (v.question.empty() || v.question.size() > 1000) {
    return Bad("question", "'question' must be 1 to 1000 characters");
  }
  if (v.choice.size() > 200) return Bad("choice", "'choice' is longer than 200 characters");
  if (auto it = body.find("ranking"); it != body.end() && !it->is_null()) {
    if (!it->is_array() || it->size() > 100) {
      return Bad("ranking", "'ranking' must be an array of at most 100 strings");
    }
    for (const json& r : *it) {
      if (!r.is_string() || r.get<std::string>().empty() || r.get<std::string>().size() > 200) {
        return Bad("ranking",
                   "'ranking' entries must be non-empty strings of at most 200 "
                   "characters");
      }
      v.ranking.push_back(r.get<std::string>());
    }
  }
  if (v.choice.empty() && v.ranking.empty()) {
    return Bad("choice", "a vote needs 'choice' (or a non-empty 'ranking')");
  }
  return v;
}

}  // namespace semantic::server::coordination_api
