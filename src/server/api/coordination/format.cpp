// JSON shapes of the coordination API.
#include "server/api/coordination/format.h"

namespace semantic::server::coordination_api {

using nlohmann::json;
namespace co = semantic::coordination;

const char* CacheState(int cached_tokens, int prompt_tokens) {
  if (cached_tokens <= 0 || prompt_tokens <= 0) return "COLD";
  return 2 * cached_tokens >= prompt_tokens ? "HOT" : "WARM";
}

json MessageJson(const co::Message& m) {
  json j = {{"message_id", m.id},
            {"sender_id", m.sender_id},
            {"sender_name", m.sender_name},
            {"content", m.content},
            {"turn", m.turn},
            {"kind", co::Name(m.kind)},
            {"visible_to", m.visible_to},
            {"interrupted", m.interrupted},
            {"created_at", m.created_ms / 1000.0}};
  if (!m.recipient_id.empty()) {
    j["recipient_id"] = m.recipient_id;
    j["recipient_name"] = m.recipient_name;
  }
  return j;
}

namespace {

json CountsJson(const co::Counts& c) {
  json a = json::array();
  for (const auto& [choice, n] : c) a.push_back({{"choice", choice}, {"votes", n}});
  return a;
}

}  // namespace

json TallyJson(const co::Tally& t) {
  json rounds = json::array();
  for (const auto& r : t.rounds) rounds.push_back(CountsJson(r));
  return {{"question", t.question},
          {"decision_mode", co::Name(t.mode)},
          {"total_votes", t.total_votes},
          {"counts", CountsJson(t.counts)},
          {"winner", t.winner ? json(*t.winner) : json(nullptr)},
          {"decided", t.decided},
          {"tied", t.tied},
          {"reason", t.reason},
          {"rounds", rounds},
          {"missing", t.missing}};
}

json VoteJson(const co::Vote& v) {
  return {{"vote_id", v.id},
          {"agent_id", v.agent_id},
          {"question", v.question},
          {"choice", v.choice.empty() ? json(v.ranking.front()) : json(v.choice)},
          {"ranking", v.ranking},
          {"created_at", v.created_ms / 1000.0}};
}

json ProgressJson(const co::Session& s) {
  return {{"turns_completed", s.turns()},
          {"round", s.round()},
          {"active", s.active()},
          {"next_speaker", s.active() ? json(s.NextSpeaker()) : json(nullptr)}};
}

json SessionJson(const co::Session& s, bool busy) {
  const co::SessionSpec& spec = s.spec();
  json agents = json::array();
  for (const co::AgentSpec& a : spec.agents) {
    agents.push_back({{"agent_id", a.id},
                      {"display_name", a.display_name},
                      {"role", a.role},
                      {"system_prompt", a.system_prompt},
                      {"lifecycle", co::Name(a.lifecycle)},
                      {"cache_key", s.CacheKey(a.id)},
                      {"cache_persists", s.CacheOutlivesSession(a.id)}});
  }
  json tallies = json::array();
  for (const co::Tally& t : s.Tallies()) tallies.push_back(TallyJson(t));
  json j = {{"session_id", s.id()},
            {"object", "coordination.session"},
            {"topology", co::Name(spec.topology)},
            {"concurrent_rounds", co::IsConcurrent(spec.topology)},
            {"debate_format", co::Name(spec.debate_format)},
            {"decision_mode", co::Name(spec.decision_mode)},
            {"max_turns", spec.max_turns},
            {"persistent_cache_prefix", spec.persistent_cache_prefix},
            {"initial_prompt", spec.initial_prompt},
            {"created_at", s.created_ms() / 1000.0},
            {"agents", agents},
            {"coordinator", s.Coordinator()},
            {"message_count", s.PublicMessages().size()},
            {"busy", busy},
            {"tallies", tallies}};
  j.update(ProgressJson(s));
  return j;
}

json TurnJson(const TurnResult& r, const co::Message* message) {
  return {{"agent_id", r.agent_id},
          {"display_name", r.display_name},
          {"turn", r.turn},
          {"message", message ? MessageJson(*message) : json(nullptr)},
          {"content", message ? json(message->content) : json("")},
          {"finish_reason", r.finish_reason},
          {"interrupted", r.interrupted},
          {"usage",
           {{"prompt_tokens", r.prompt_tokens},
            {"cached_tokens", r.cached_tokens},
            {"completion_tokens", r.completion_tokens}}},
          {"tokens", r.completion_tokens},
          {"cached_tokens", r.cached_tokens},
          {"ttft_ms", r.ttft_ms},
          {"duration_ms", r.duration_ms},
          {"cache_state", CacheState(r.cached_tokens, r.prompt_tokens)}};
}

}  // namespace semantic::server::coordination_api
