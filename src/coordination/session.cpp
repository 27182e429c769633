// Session: message log, visibility, turn order, votes; ValidateSpec.
#include "coordination/session.h"

#include <algorithm>
#include <climits>
#include <set>

#include "coordination/prompt.h"

namespace semantic::coordination {

namespace {

bool ValidIdChars(const std::string& s, size_t max_len) {
  if (s.empty() || s.size() > max_len || s == "." || s == "..") return false;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

// "Dr. Eve Smith" -> "dr_eve_smith"; "" when nothing usable is left.
std::string Slug(const std::string& name) {
  std::string out;
  for (char c : name) {
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
      out += c;
    } else if (c >= 'A' && c <= 'Z') {
      out += static_cast<char>(c - 'A' + 'a');
    } else if (!out.empty() && out.back() != '_') {
      out += '_';
    }
  }
  while (!out.empty() && out.back() == '_') out.pop_back();
  if (out.size() > 48) out.resize(48);
  return out;
}

}  // namespace

Status ValidateSpec(SessionSpec* spec, std::string* field) {
  auto fail = [&](std::string f, std::string why) {
    *field = std::move(f);
    return InvalidArgument(std::move(why));
  };
  const int n = static_cast<int>(spec->agents.size());
  if (n < 1 || n > kMaxAgents) {
    return fail("agents", "'agents' must list 1 to " + std::to_string(kMaxAgents) +
                              " agents, got " + std::to_string(n));
  }
  if (spec->max_turns < 0 || spec->max_turns > kMaxTurnsLimit) {
    return fail("max_turns",
                "'max_turns' must be 0 (unlimited) to " + std::to_string(kMaxTurnsLimit));
  }
  if (spec->initial_prompt.size() > kMaxInitialPrompt) {
    return fail("initial_prompt", "'initial_prompt' is longer than " +
                                      std::to_string(kMaxInitialPrompt) + " characters");
  }
  if (!spec->persistent_cache_prefix.empty() && !ValidIdChars(spec->persistent_cache_prefix, 64)) {
    return fail("persistent_cache_prefix",
                "'persistent_cache_prefix' must be 1-64 characters of [A-Za-z0-9_.-]");
  }
  std::set<std::string> ids, names;
  for (int i = 0; i < n; ++i) {
    AgentSpec& a = spec->agents[i];
    const std::string at = "agents[" + std::to_string(i) + "]";
    if (a.display_name.empty() || a.display_name.size() > kMaxDisplayName) {
      return fail(at + ".display_name", "'" + at + ".display_name' must be 1 to " +
                                            std::to_string(kMaxDisplayName) + " characters");
    }
    if (a.system_prompt.size() > kMaxSystemPrompt) {
      return fail(at + ".system_prompt", "'" + at + ".system_prompt' is longer than " +
                                             std::to_string(kMaxSystemPrompt) + " characters");
    }
    if (a.role.empty() || a.role.size() > 50) {
      return fail(at + ".role", "'" + at + ".role' must be 1 to 50 characters");
    }
    if (a.id.empty()) {
      std::string base = Slug(a.display_name);
      if (base.empty()) base = "agent" + std::to_string(i + 1);
      a.id = base;
      for (int k = 2; ids.count(a.id); ++k) a.id = base + "_" + std::to_string(k);
    } else if (!ValidIdChars(a.id, 64) || a.id == "system") {
      return fail(at + ".agent_id", "'" + at +
                                        ".agent_id' must be 1-64 characters of [A-Za-z0-9_.-] "
                                        "(and not 'system')");
    }
    if (!ids.insert(a.id).second) {
      return fail(at + ".agent_id", "agent id '" + a.id + "' is used twice");
    }
    if (!names.insert(a.display_name).second) {
      return fail(at + ".display_name", "display name '" + a.display_name + "' is used twice");
    }
  }
  for (const auto& entry : spec->per_agent_prompts) {
    const std::string& key = entry.first;  // named: clang 14 cannot capture a structured binding
    const std::string& text = entry.second;
    const bool known = std::any_of(spec->agents.begin(), spec->agents.end(), [&](const auto& a) {
      return a.display_name == key || a.id == key;
    });
    if (!known) {
      return fail("per_agent_prompts",
                  "'per_agent_prompts' names '" + key + "', which is not an agent of this session");
    }
    if (text.size() > kMaxInitialPrompt) {
      return fail("per_agent_prompts", "the per-agent prompt for '" + key + "' is too long");
    }
  }
  for (const auto& [agent, msgs] : spec->prior_agent_messages) {
    if (!ids.count(agent)) {
      return fail("prior_agent_messages", "'prior_agent_messages' names '" + agent +
                                              "', which is not an agent id of this session");
    }
  }
  return Status::Ok();
}

Session::Session(std::string id, SessionSpec spec, int64_t created_ms)
    : id_(std::move(id)), spec_(std::move(spec)), created_ms_(created_ms) {
  // Context order for every agent: what it carried over, the shared prompt, its private prompt.
  for (const AgentSpec& a : spec_.agents) {
    auto it = spec_.prior_agent_messages.find(a.id);
    if (it == spec_.prior_agent_messages.end()) continue;
    for (const PriorMessage& p : it->second) {
      if (p.content.empty()) continue;
      Message m;
      m.sender_id = p.sender_id.empty() ? "system" : p.sender_id;
      m.sender_name = p.sender_name;
      m.content = p.content;
      m.kind = MessageKind::kPrior;
      m.visible_to = {a.id};
      m.created_ms = created_ms;
      Append(std::move(m));
    }
  }
  if (!spec_.initial_prompt.empty()) {
    Message m;
    m.sender_id = "system";
    m.sender_name = "System";
    m.content = spec_.initial_prompt;
    m.created_ms = created_ms;
    Append(std::move(m));
  }
  for (const AgentSpec& a : spec_.agents) {
    auto it = spec_.per_agent_prompts.find(a.display_name);
    if (it == spec_.per_agent_prompts.end()) it = spec_.per_agent_prompts.find(a.id);
    if (it == spec_.per_agent_prompts.end() || it->second.empty()) continue;
    Message m;
    m.sender_id = "system";
    m.sender_name = "System";
    m.content = it->second;
    m.kind = MessageKind::kPrivate;
    m.visible_to = {a.id};
    m.created_ms = created_ms;
    Append(std::move(m));
  }
}

Message& Session::Append(Message m) {
  m.id = static_cast<int>(messages_.size()) + 1;
  messages_.push_back(std::move(m));
  return messages_.back();
}

int Session::round() const { return turns_ / static_cast<int>(spec_.agents.size()); }

bool Session::active() const { return spec_.max_turns == 0 || turns_ < spec_.max_turns; }

int Session::TurnsLeft() const {
  return spec_.max_turns == 0 ? INT_MAX : std::max(0, spec_.max_turns - turns_);
}

const AgentSpec* Session::Agent(const std::string& id) const {
  for (const AgentSpec& a : spec_.agents)
    if (a.id == id) return &a;
  return nullptr;
}

std::vector<std::string> Session::AgentIds() const {
  std::vector<std::string> ids;
  for (const AgentSpec& a : spec_.agents) ids.push_back(a.id);
  return ids;
}

bool Session::CanSee(const Message& m, const std::string& agent_id) const {
  if (m.visible_to.empty()) return true;
  return std::find(m.visible_to.begin(), m.visible_to.end(), agent_id) != m.visible_to.end();
}

std::vector<const Message*> Session::VisibleTo(const std::string& agent_id) const {
  std::vector<const Message*> out;
  for (const Message& m : messages_)
    if (CanSee(m, agent_id)) out.push_back(&m);
  return out;
}

std::vector<const Message*> Session::PublicMessages() const {
  std::vector<const Message*> out;
  for (const Message& m : messages_)
    if (m.visible_to.empty()) out.push_back(&m);
  return out;
}

bool Session::CacheOutlivesSession(const std::string& agent_id) const {
  const AgentSpec* a = Agent(agent_id);
  return a != nullptr && a->lifecycle == Lifecycle::kPermanent &&
         !spec_.persistent_cache_prefix.empty();
}

std::string Session::CacheKey(const std::string& agent_id) const {
  if (CacheOutlivesSession(agent_id)) {
    return "persist_" + spec_.persistent_cache_prefix + "_" + agent_id;
  }
  return id_ + "_" + agent_id;  // the session id starts with "coord_"
}

std::string Session::NextSpeaker() const { return spec_.agents[turns_ % spec_.agents.size()].id; }

std::vector<std::string> Session::RoundSpeakers() const {
  std::vector<std::string> out;
  const int n = static_cast<int>(spec_.agents.size());
  const int k = std::min(n, TurnsLeft());
  for (int i = 0; i < k; ++i) out.push_back(spec_.agents[(turns_ + i) % n].id);
  return out;
}

TurnPlan Session::PlanTurn(const std::string& agent_id, int turn) const {
  const AgentSpec& a = *Agent(agent_id);
  TurnPlan p;
  p.agent_id = a.id;
  p.display_name = a.display_name;
  p.cache_key = CacheKey(a.id);
  p.turn = turn;
  p.prompt = BuildPrompt(a, spec_.debate_format, VisibleTo(a.id));
  std::vector<std::string> names;
  for (const AgentSpec& x : spec_.agents) names.push_back(x.display_name);
  for (const Message& m : messages_)  // speakers carried over from earlier sessions too
    if (m.kind == MessageKind::kPrior && !m.sender_name.empty() && m.sender_id != "system" &&
        std::find(names.begin(), names.end(), m.sender_name) == names.end())
      names.push_back(m.sender_name);
  p.stops = ReplyStops(names);
  return p;
}

const Message& Session::RecordTurn(const std::string& agent_id, const std::string& text,
                                   bool interrupted, int64_t now_ms) {
  const AgentSpec& a = *Agent(agent_id);
  std::vector<std::string> names;
  for (const AgentSpec& x : spec_.agents) names.push_back(x.display_name);
  Message m;
  m.sender_id = a.id;
  m.sender_name = a.display_name;
  m.content = CleanReply(text, names);
  m.turn = turns_;
  m.interrupted = interrupted;
  m.created_ms = now_ms;
  if (spec_.topology == Topology::kWhisper && spec_.agents.size() > 1) {
    // The reply goes down the line: to the agent after the speaker.
    size_t i = 0;
    while (spec_.agents[i].id != a.id) ++i;
    const AgentSpec& to = spec_.agents[(i + 1) % spec_.agents.size()];
    m.kind = MessageKind::kWhisper;
    m.visible_to = {a.id, to.id};
    m.recipient_id = to.id;
    m.recipient_name = to.display_name;
  }
  ++turns_;
  return Append(std::move(m));
}

Status Session::AddWhisper(const std::string& from, const std::string& to,
                           const std::string& content, int64_t now_ms, const Message** out) {
  const AgentSpec* a = Agent(from);
  const AgentSpec* b = Agent(to);
  if (a == nullptr) return NotFound("no agent '" + from + "' in this session");
  if (b == nullptr) return NotFound("no agent '" + to + "' in this session");
  if (from == to) return InvalidArgument("an agent cannot whisper to itself");
  if (messages_.size() >= kMaxMessages) {
    return ResourceExhausted("the session holds " + std::to_string(kMaxMessages) +
                             " messages, its limit");
  }
  if (content.empty() || content.size() > kMaxWhisper) {
    return InvalidArgument("'content' must be 1 to " + std::to_string(kMaxWhisper) + " characters");
  }
  Message m;
  m.sender_id = a->id;
  m.sender_name = a->display_name;
  m.content = content;
  m.turn = turns_;
  m.kind = MessageKind::kWhisper;
  m.visible_to = {a->id, b->id};
  m.recipient_id = b->id;
  m.recipient_name = b->display_name;
  m.created_ms = now_ms;
  *out = &Append(std::move(m));
  return Status::Ok();
}

std::string Session::Coordinator() const {
  for (const AgentSpec& a : spec_.agents)
    if (a.role == "coordinator" || a.role == "moderator") return a.id;
  return spec_.agents.front().id;
}

Expected<Tally> Session::CastVote(Vote v) {
  if (Agent(v.agent_id) == nullptr)
    return NotFound("no agent '" + v.agent_id + "' in this session");
  if (v.question.empty()) return InvalidArgument("'question' must not be empty");
  if (v.choice.empty() && v.ranking.empty()) {
    return InvalidArgument("a vote needs a 'choice' or a non-empty 'ranking'");
  }
  if (spec_.decision_mode == DecisionMode::kRankedChoice && !v.ranking.empty() &&
      !v.choice.empty() && v.choice != v.ranking.front()) {
    return InvalidArgument("'choice' must be the first entry of 'ranking' when both are given");
  }
  std::set<std::string> seen;
  for (const std::string& r : v.ranking) {
    if (r.empty()) return InvalidArgument("'ranking' has an empty entry");
    if (!seen.insert(r).second) return InvalidArgument("'ranking' lists '" + r + "' twice");
  }
  if (votes_.size() >= kMaxVotes) {
    return ResourceExhausted("the session holds " + std::to_string(kMaxVotes) +
                             " votes, its limit");
  }
  v.id = "vote_" + std::to_string(next_vote_++);
  const std::string question = v.question;
  auto same = [&](const Vote& x) { return x.agent_id == v.agent_id && x.question == question; };
  auto it = std::find_if(votes_.begin(), votes_.end(), same);
  if (it != votes_.end()) {
    *it = std::move(v);  // a changed vote keeps its place
  } else {
    votes_.push_back(std::move(v));
  }
  return TallyFor(question);
}

Tally Session::TallyFor(const std::string& question) const {
  return TallyVotes(spec_.decision_mode, question, votes_, AgentIds(), Coordinator());
}

std::vector<Tally> Session::Tallies() const {
  std::vector<std::string> questions;
  for (const Vote& v : votes_)
    if (std::find(questions.begin(), questions.end(), v.question) == questions.end())
      questions.push_back(v.question);
  std::vector<Tally> out;
  for (const std::string& q : questions) out.push_back(TallyFor(q));
  return out;
}

}  // namespace semantic::coordination
