// Names of the coordination enums, both ways.
#include "coordination/types.h"

#include <array>
#include <utility>

namespace semantic::coordination {

namespace {

template <typename E, size_t N>
std::optional<E> Find(const std::array<std::pair<E, const char*>, N>& table, std::string_view s) {
  for (const auto& [e, name] : table) {
    if (s == name) return e;
  }
  return std::nullopt;
}

template <typename E, size_t N>
const char* NameOf(const std::array<std::pair<E, const char*>, N>& table, E e) {
  for (const auto& [x, name] : table) {
    if (x == e) return name;
  }
  return "?";
}

template <typename E, size_t N>
std::string List(const std::array<std::pair<E, const char*>, N>& table) {
  std::string out;
  for (size_t i = 0; i < N; ++i) {
    if (i > 0) out += i + 1 == N ? " or " : ", ";
    out += table[i].second;
  }
  return out;
}

constexpr std::array<std::pair<Topology, const char*>, 5> kTopologies = {{
    {Topology::kTurnByTurn, "turn_by_turn"},
    {Topology::kBroadcast, "broadcast"},
    {Topology::kWhisper, "whisper"},
    {Topology::kRoundRobin, "round_robin"},
    {Topology::kInterrupt, "interrupt"},
}};
constexpr std::array<std::pair<DebateFormat, const char*>, 5> kFormats = {{
    {DebateFormat::kFreeForm, "free_form"},
    {DebateFormat::kStructured, "structured"},
    {DebateFormat::kSocratic, "socratic"},
    {DebateFormat::kDevilsAdvocate, "devils_advocate"},
    {DebateFormat::kParliamentary, "parliamentary"},
}};
constexpr std::array<std::pair<DecisionMode, const char*>, 5> kModes = {{
    {DecisionMode::kNone, "none"},
    {DecisionMode::kMajorityVote, "majority_vote"},
    {DecisionMode::kRankedChoice, "ranked_choice"},
    {DecisionMode::kCoordinatorDecides, "coordinator_decides"},
    {DecisionMode::kConsensus, "consensus"},
}};
constexpr std::array<std::pair<Lifecycle, const char*>, 2> kLifecycles = {{
    {Lifecycle::kEphemeral, "ephemeral"},
    {Lifecycle::kPermanent, "permanent"},
}};
constexpr std::array<std::pair<MessageKind, const char*>, 4> kKinds = {{
    {MessageKind::kPublic, "public"},
    {MessageKind::kWhisper, "whisper"},
    {MessageKind::kPrivate, "private"},
    {MessageKind::kPrior, "prior"},
}};

}  // namespace

std::optional<Topology> ParseTopology(std::string_view s) { return Find(kTopologies, s); }
std::optional<DebateFormat> ParseDebateFormat(std::string_view s) { return Find(kFormats, s); }
std::optional<DecisionMode> ParseDecisionMode(std::string_view s) { return Find(kModes, s); }
std::optional<Lifecycle> ParseLifecycle(std::string_view s) { return Find(kLifecycles, s); }
const char* Name(Topology t) { return NameOf(kTopologies, t); }
const char* Name(DebateFormat f) { return NameOf(kFormats, f); }
const char* Name(DecisionMode m) { return NameOf(kModes, m); }
const char* Name(Lifecycle l) { return NameOf(kLifecycles, l); }
const char* Name(MessageKind k) { return NameOf(kKinds, k); }
std::string TopologyNames() { return List(kTopologies); }
std::string DebateFormatNames() { return List(kFormats); }
std::string DecisionModeNames() { return List(kModes); }

bool IsConcurrent(Topology t) { return t == Topology::kBroadcast || t == Topology::kInterrupt; }

}  // namespace semantic::coordination
