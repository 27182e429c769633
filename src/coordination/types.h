// Multi-agent coordination: the vocabulary (topologies, debate formats, decision modes, agents,
// messages, votes). Plain C++, no JSON and no engine: the server's coordination routes and the
// scenario runner both build on it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace semantic::coordination {

// Who speaks when (docs/coordination.md#topologies). Sequential topologies run a round's turns
// one after another, each speaker seeing the turns before it; concurrent ones submit every
// agent's turn at once (the batching scheduler runs them together), all seeing the same history.
enum class Topology { kTurnByTurn, kBroadcast, kWhisper, kRoundRobin, kInterrupt };
enum class DebateFormat { kFreeForm, kStructured, kSocratic, kDevilsAdvocate, kParliamentary };
enum class DecisionMode { kNone, kMajorityVote, kRankedChoice, kCoordinatorDecides, kConsensus };
enum class Lifecycle { kEphemeral, kPermanent };

std::optional<Topology> ParseTopology(std::string_view s);
std::optional<DebateFormat> ParseDebateFormat(std::string_view s);
std::optional<DecisionMode> ParseDecisionMode(std::string_view s);
std::optional<Lifecycle> ParseLifecycle(std::string_view s);
const char* Name(Topology t);
const char* Name(DebateFormat f);
const char* Name(DecisionMode m);
const char* Name(Lifecycle l);
// "a, b or c": the accepted names, for error messages.
std::string TopologyNames();
std::string DebateFormatNames();
std::string DecisionModeNames();

// True when a round submits all its turns at once (broadcast, interrupt).
bool IsConcurrent(Topology t);

constexpr int kMaxAgents = 30;
constexpr size_t kMaxDisplayName = 50;
constexpr size_t kMaxSystemPrompt = 2000;
constexpr size_t kMaxInitialPrompt = 50000;
constexpr size_t kMaxWhisper = 5000;
constexpr int kMaxTurnsLimit = 1000;
constexpr size_t kMaxMessages = 10000;  // per session (whispers count)
constexpr size_t kMaxVotes = 10000;     // per session

struct AgentSpec {
  std::string id;  // [A-Za-z0-9_.-]{1,64}, unique in the session
  std::string display_name;
  std::string role = "participant";
  std::string system_prompt;
  Lifecycle lifecycle = Lifecycle::kEphemeral;
};

// A message carried over from an earlier session (a scenario's previous phase) into one agent's
// context, so that its prompt extends what its persistent cache already holds.
struct PriorMessage {
  std::string sender_id;  // an agent id, or "system"
  std::string sender_name;
  std::string content;
};

struct SessionSpec {
  Topology topology = Topology::kTurnByTurn;
  DebateFormat debate_format = DebateFormat::kFreeForm;
  DecisionMode decision_mode = DecisionMode::kNone;
  std::vector<AgentSpec> agents;
  std::string initial_prompt;
  std::map<std::string, std::string> per_agent_prompts;  // display name (or agent id) -> text
  int max_turns = 0;                                     // 0: unlimited
  std::string persistent_cache_prefix;                   // "" : every agent is ephemeral
  std::map<std::string, std::vector<PriorMessage>> prior_agent_messages;  // agent id -> msgs
  // How every turn generates unless a turn request overrides it.
  int reply_max_tokens = 200;
  float temperature = 0.3f;
  uint64_t seed = ~0ull;  // ~0: random
};

enum class MessageKind {
  kPublic,   // a turn or the initial prompt: every agent sees it
  kWhisper,  // sender and recipient only
  kPrivate,  // a per-agent prompt: that agent only
  kPrior,    // carried over from an earlier session: that agent only
};
const char* Name(MessageKind k);

struct Message {
  int id = 0;             // 1, 2, ... in session order
  std::string sender_id;  // an agent id, or "system"
  std::string sender_name;
  std::string content;
  int turn = 0;  // turns completed when it was sent
  MessageKind kind = MessageKind::kPublic;
  std::vector<std::string> visible_to;  // empty: everyone
  std::string recipient_id;             // whispers: the agent it was whispered to
  std::string recipient_name;
  bool interrupted = false;  // cut off by another agent (interrupt topology)
  int64_t created_ms = 0;
};

struct ChatMessage {
  std::string role;  // system, user, assistant
  std::string content;
};

struct Vote {
  std::string id;
  std::string agent_id;
  std::string question;
  std::string choice;
  std::vector<std::string> ranking;  // ranked_choice preferences, most preferred first
  int64_t created_ms = 0;
};

}  // namespace semantic::coordination
