// Vote tallies, one rule per decision mode (docs/coordination.md#votes):
//   none                 counts only; nothing is decided
//   majority_vote        the choice of more than half of the votes cast
//   ranked_choice        instant runoff over each ballot's ranking (or its single choice)
//   coordinator_decides  the coordinator's vote (first agent with role coordinator/moderator,
//                        else the first agent); the others are counted
//   consensus            decided only when every agent has voted and all chose the same
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "coordination/types.h"

namespace semantic::coordination {

using Counts = std::vector<std::pair<std::string, int>>;  // most votes first, then by name

struct Tally {
  std::string question;
  DecisionMode mode = DecisionMode::kNone;
  int total_votes = 0;
  Counts counts;                      // first preferences
  std::optional<std::string> winner;  // set when decided
  bool decided = false;
  bool tied = false;                 // the top choices have equal support
  std::string reason;                // one sentence on how the result came about
  std::vector<Counts> rounds;        // ranked_choice: the counts of each runoff round
  std::vector<std::string> missing;  // consensus / coordinator: agents that have not voted
};

// `eligible`: the session's agent ids in order; `coordinator`: the deciding agent's id.
Tally TallyVotes(DecisionMode mode, const std::string& question, const std::vector<Vote>& votes,
                 const std::vector<std::string>& eligible, const std::string& coordinator);

}  // namespace semantic::coordination
