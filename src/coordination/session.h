// One coordination session: its agents, the message log with per-agent visibility, whose turn
// it is, the prompt each agent sees, and the votes cast. Not thread-safe: the registry
// (registry.h) serialises access; generation happens outside, between PlanTurn and RecordTurn.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "coordination/types.h"
#include "coordination/votes.h"

namespace semantic::coordination {

// One agent's turn, ready to render with the model's chat template.
struct TurnPlan {
  std::string agent_id;
  std::string display_name;
  std::string cache_key;  // the KV-store agent session of this agent
  int turn = 0;           // turn index this reply will have (0-based)
  std::vector<ChatMessage> prompt;
  std::vector<std::string> stops;  // cut the reply where the model starts another speaker's line
};

class Session {
 public:
  // `spec` must have passed ValidateSpec.
  Session(std::string id, SessionSpec spec, int64_t created_ms);

  const std::string& id() const { return id_; }
  const SessionSpec& spec() const { return spec_; }
  int64_t created_ms() const { return created_ms_; }
  int turns() const { return turns_; }  // turns completed
  int round() const;                    // turns / agents
  bool active() const;                  // false once max_turns turns are done
  int TurnsLeft() const;                // INT_MAX when unlimited
  const std::vector<Message>& messages() const { return messages_; }
  const AgentSpec* Agent(const std::string& id) const;
  std::vector<std::string> AgentIds() const;

  bool CanSee(const Message& m, const std::string& agent_id) const;
  std::vector<const Message*> VisibleTo(const std::string& agent_id) const;
  std::vector<const Message*> PublicMessages() const;

  // "persist_<prefix>_<agent>" for a permanent agent of a session with a persistent cache
  // prefix (it outlives the session), else "<session id>_<agent>" (session ids start "coord_").
  std::string CacheKey(const std::string& agent_id) const;
  bool CacheOutlivesSession(const std::string& agent_id) const;

  // The next single speaker (cycles through the agents in order).
  std::string NextSpeaker() const;
  // The speakers of the next round, in order: every agent once, starting with the next
  // speaker, cut to the turns left under max_turns.
  std::vector<std::string> RoundSpeakers() const;

  TurnPlan PlanTurn(const std::string& agent_id, int turn) const;
  // Appends the reply of `agent_id` (cleaned with CleanReply) and counts the turn. In the whisper
  // topology the reply goes privately to the next agent in order; otherwise it is public.
  const Message& RecordTurn(const std::string& agent_id, const std::string& text, bool interrupted,
                            int64_t now_ms);

  Status AddWhisper(const std::string& from, const std::string& to, const std::string& content,
                    int64_t now_ms, const Message** out);

  // Stores (or replaces: one vote per agent and question) a vote and returns its tally.
  Expected<Tally> CastVote(Vote v);
  Tally TallyFor(const std::string& question) const;
  std::vector<Tally> Tallies() const;  // one per question, in order of first vote
  const std::vector<Vote>& votes() const { return votes_; }
  // The agent whose vote decides under coordinator_decides.
  std::string Coordinator() const;

 private:
  Message& Append(Message m);

  std::string id_;
  SessionSpec spec_;
  int64_t created_ms_ = 0;
  int turns_ = 0;
  std::vector<Message> messages_;
  std::vector<Vote> votes_;
  int next_vote_ = 1;
};

// Checks limits and references (agent count, ids, names, prompt sizes, per-agent prompts and
// prior messages naming agents of the session, the cache prefix). Fills empty agent ids from the
// display name. The message names the offending field.
Status ValidateSpec(SessionSpec* spec, std::string* field);

}  // namespace semantic::coordination
