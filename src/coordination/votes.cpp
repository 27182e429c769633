// TallyVotes: one rule per decision mode.
#include "coordination/votes.h"

#include <algorithm>
#include <map>
#include <set>

namespace semantic::coordination {

namespace {

Counts Sorted(const std::map<std::string, int>& m) {
  Counts c(m.begin(), m.end());
  std::stable_sort(c.begin(), c.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  return c;
}

bool TopTied(const Counts& c) { return c.size() > 1 && c[0].second == c[1].second; }

void Decide(Tally& t, const std::string& winner, std::string reason) {
  t.winner = winner;
  t.decided = true;
  t.reason = std::move(reason);
}

void Majority(Tally& t) {
  if (t.counts.empty()) {
    t.reason = "no votes yet";
    return;
  }
  t.tied = TopTied(t.counts);
  const auto& [top, n] = t.counts[0];
  if (2 * n > t.total_votes) {
    Decide(t, top,
           top + " has " + std::to_string(n) + " of " + std::to_string(t.total_votes) + " votes");
  } else {
    t.reason =
        t.tied ? "tie: no choice has a majority"
               : "no choice has more than half of the " + std::to_string(t.total_votes) + " votes";
  }
}

// Instant runoff: count each ballot for its highest-ranked remaining choice; a choice with more
// than half of the live ballots wins; otherwise every choice with the fewest votes is dropped.
// When all remaining choices are tied, nothing is decided.
void RankedChoice(Tally& t, const std::vector<std::vector<std::string>>& ballots) {
  std::set<std::string> remaining;
  for (const auto& b : ballots)
    for (const auto& c : b) remaining.insert(c);
  while (!remaining.empty()) {
    std::map<std::string, int> counts;
    for (const auto& c : remaining) counts[c] = 0;
    int live = 0;
    for (const auto& b : ballots) {
      for (const auto& c : b) {
        if (remaining.count(c)) {
          ++counts[c];
          ++live;
          break;
        }
      }
    }
    Counts round = Sorted(counts);
    t.rounds.push_back(round);
    if (live == 0) break;
    if (2 * round[0].second > live) {
      Decide(t, round[0].first,
             round[0].first + " wins round " + std::to_string(t.rounds.size()) + " with " +
                 std::to_string(round[0].second) + " of " + std::to_string(live) + " ballots");
      return;
    }
    const int fewest = round.back().second;
    if (round[0].second == fewest) {  // everyone left is tied
      t.tied = round.size() > 1;
      t.reason = "tie between the remaining choices after " + std::to_string(t.rounds.size()) +
                 " round(s)";
      return;
    }
    for (const auto& [c, n] : round)
      if (n == fewest) remaining.erase(c);
  }
  t.reason = "no ballots";
}

}  // namespace

Tally TallyVotes(DecisionMode mode, const std::string& question, const std::vector<Vote>& votes,
                 const std::vector<std::string>& eligible, const std::string& coordinator) {
  Tally t;
  t.question = question;
  t.mode = mode;
  std::map<std::string, int> first;
  std::map<std::string, const Vote*> by_agent;
  std::vector<std::vector<std::string>> ballots;
  for (const Vote& v : votes) {
    if (v.question != question) continue;
    ++t.total_votes;
    by_agent[v.agent_id] = &v;
    std::vector<std::string> ballot = v.ranking;
    if (ballot.empty() && !v.choice.empty()) ballot.push_back(v.choice);
    const std::string& top = v.choice.empty() ? ballot.front() : v.choice;
    ++first[top];
    ballots.push_back(std::move(ballot));
  }
  t.counts = Sorted(first);
  for (const std::string& a : eligible)
    if (!by_agent.count(a)) t.missing.push_back(a);
  switch (mode) {
    case DecisionMode::kNone:
      t.tied = TopTied(t.counts);
      t.reason = "decision_mode none: votes are counted, nothing is decided";
      break;
    case DecisionMode::kMajorityVote:
      Majority(t);
      break;
    case DecisionMode::kRankedChoice:
      RankedChoice(t, ballots);
      break;
    case DecisionMode::kCoordinatorDecides: {
      t.tied = TopTied(t.counts);
      auto it = by_agent.find(coordinator);
      if (it == by_agent.end()) {
        t.reason = "waiting for the coordinator '" + coordinator + "' to vote";
      } else {
        const Vote& v = *it->second;
        Decide(t, v.choice.empty() ? v.ranking.front() : v.choice,
               "the coordinator '" + coordinator + "' decides");
      }
      break;
    }
    case DecisionMode::kConsensus:
      if (!t.missing.empty()) {
        t.reason = std::to_string(t.missing.size()) + " agent(s) have not voted";
      } else if (t.counts.size() == 1) {
        Decide(t, t.counts[0].first, "every agent chose " + t.counts[0].first);
      } else {
        t.tied = TopTied(t.counts);
        t.reason = "no consensus: " + std::to_string(t.counts.size()) + " different choices";
      }
      break;
  }
  return t;
}

}  // namespace semantic::coordination
