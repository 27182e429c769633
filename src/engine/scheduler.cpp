// PlanStep: FIFO, decodes first, chunked prefill, per-agent limits, preemption of the newest.
#include "engine/scheduler.h"

#include <algorithm>
#include <map>

namespace semantic::engine {

int BlocksToAdd(int kv_tokens, int blocks, int n, int block_tokens) {
  const int needed = (kv_tokens + n + block_tokens - 1) / block_tokens;
  return std::max(0, needed - blocks);
}

std::vector<int> PlanAdmission(const std::vector<SchedSeq>& seqs, int free_blocks,
                               const SchedulerConfig& cfg) {
  std::vector<int> admit;
  int running = 0;
  int free = free_blocks;
  std::map<std::string, int> per_agent;
  for (const SchedSeq& s : seqs) {
    if (!s.running) continue;
    ++running;
    if (!s.agent.empty()) ++per_agent[s.agent];
    if (!s.restoring && s.to_prefill == 0) {
      free -= BlocksToAdd(s.kv_tokens, s.blocks, 1, cfg.block_tokens);  // next decode's block
    }
  }
  for (int i = 0; i < static_cast<int>(seqs.size()); ++i) {
    const SchedSeq& s = seqs[i];
    if (s.running) continue;
    if (running >= cfg.max_running) break;
    if (cfg.max_running_per_agent > 0 && !s.agent.empty() &&
        per_agent[s.agent] >= cfg.max_running_per_agent) {
      continue;  // this agent is at its limit; later requests of other agents may go
    }
    // Its first chunk must fit (an upper bound: cached prefix blocks cost none).
    const int first_chunk = std::max(1, std::min(s.to_prefill, cfg.max_batched_tokens));
    const int need = BlocksToAdd(0, 0, first_chunk, cfg.block_tokens);
    if (need > free) break;  // FIFO: nobody overtakes a request that waits for room
    free -= need;
    admit.push_back(i);
    ++running;
    if (!s.agent.empty()) ++per_agent[s.agent];
  }
  return admit;
}

std::vector<int> FairShares(const std::vector<int>& want, int budget) {
  const int n = static_cast<int>(want.size());
  std::vector<int> got(n, 0);
  for (;;) {
    int open = 0;
    for (int i = 0; i < n; ++i) open += got[i] < want[i] ? 1 : 0;
    if (open == 0 || budget <= 0) break;
    const int share = budget / open;
    if (share == 0) {  // fewer tokens than prompts: one each, oldest first
      for (int i = 0; i < n && budget > 0; ++i) {
        if (got[i] < want[i]) {
          ++got[i];
          --budget;
        }
      }
      break;
    }
    for (int i = 0; i < n; ++i) {
      const int g = std::min(want[i] - got[i], share);
      got[i] += g;
      budget -= g;
    }
  }
  return got;
}

StepPlan PlanStep(const std::vector<SchedSeq>& seqs, int free_blocks, const SchedulerConfig& cfg) {
  StepPlan plan;
  const int n = static_cast<int>(seqs.size());
  std::vector<bool> preempted(n, false);
  int free = free_blocks;
  int budget = cfg.max_batched_tokens;

  // 1. Decodes of running sequences, oldest first. A decode that needs a block it cannot get
  //    preempts the newest running sequence (whose blocks then become free), never an older one.
  for (int i = 0; i < n && budget > 0; ++i) {
    const SchedSeq& s = seqs[i];
    if (!s.running || s.restoring || s.to_prefill > 0 || preempted[i]) continue;
    const int need = BlocksToAdd(s.kv_tokens, s.blocks, 1, cfg.block_tokens);
    while (need > free) {
      int victim = -1;
      for (int j = n - 1; j > i; --j) {
        if (seqs[j].running && !seqs[j].restoring && !preempted[j]) {
          victim = j;
          break;
        }
      }
      if (victim < 0) break;
      preempted[victim] = true;
      plan.preempt.push_back(victim);
      free += seqs[victim].blocks;
    }
    if (need > free) continue;  // waits: nothing newer to preempt
    free -= need;
    plan.blocks_needed += need;
    plan.work.push_back({i, 1});
    --budget;
  }
  // Victims are newer than the decode that needed them and decodes are planned oldest first, so
  // no victim is in `work`.

  // 2. Prefill chunks in what is left of the budget and the blocks. Prompts that were already
  //    waiting when every stream of this step began ("owed": a burst split by the budget) share
  //    the budget equally, so a burst's prompts finish in the same step and start decoding
  //    together; prompts that arrived after some stream began go oldest first, and all of their
  //    chunks together stay within the cap while streams decode.
  int64_t first_stream = -1;  // earliest first_token_step among this step's decodes
  for (const StepPlan::Work& w : plan.work) {
    const int64_t f = seqs[w.seq].first_token_step;
    if (f >= 0 && (first_stream < 0 || f < first_stream)) first_stream = f;
  }
  std::vector<int> owed, capped;
  for (int i = 0; i < n; ++i) {
    const SchedSeq& s = seqs[i];
    if (!s.running || s.restoring || s.held || preempted[i] || s.to_prefill <= 0) continue;
    (first_stream >= 0 && first_stream <= s.arrived_step ? capped : owed).push_back(i);
  }
  auto add_chunk = [&](int i, int len) {
    const SchedSeq& s = seqs[i];
    const int room = (s.blocks + free) * cfg.block_tokens - s.kv_tokens;  // fits in free blocks
    len = std::min(len, room);
    if (len <= 0) return 0;
    const int need = BlocksToAdd(s.kv_tokens, s.blocks, len, cfg.block_tokens);
    free -= need;
    plan.blocks_needed += need;
    budget -= len;
    plan.work.push_back({i, len});
    return len;
  };
  // Under block pressure, sharing would leave every prompt part-prefilled, holding blocks none can
  // finish with (and nothing decodes, so nothing is preempted): a prompt joins the sharing only
  // if the blocks for all of it are free after the older ones'; the rest wait their turn (FIFO).
  int reserve = free;
  for (size_t k = 0; k < owed.size(); ++k) {
    const SchedSeq& s = seqs[owed[k]];
    const int need = BlocksToAdd(s.kv_tokens, s.blocks, s.to_prefill, cfg.block_tokens);
    if (need > reserve && k > 0) {
      owed.resize(k);
      break;
    }
    reserve -= need;
  }
  std::vector<int> want;
  for (int i : owed) want.push_back(seqs[i].to_prefill);
  const std::vector<int> shares = FairShares(want, budget);
  for (size_t k = 0; k < owed.size(); ++k) {
    if (shares[k] > 0) add_chunk(owed[k], shares[k]);
  }
  int cap_left = cfg.prefill_cap_while_decoding > 0 && first_stream >= 0
                     ? cfg.prefill_cap_while_decoding
                     : budget;
  for (int i : capped) {
    if (budget <= 0 || cap_left <= 0) break;
    // The same rule: a newer prompt does not take blocks an older one needs to finish.
    const SchedSeq& s = seqs[i];
    const int need = BlocksToAdd(s.kv_tokens, s.blocks, s.to_prefill, cfg.block_tokens);
    if (need > reserve && !(owed.empty() && i == capped.front())) break;
    reserve -= need;
    cap_left -= add_chunk(i, std::min({s.to_prefill, budget, cap_left}));
  }
  // 3. Nothing could be planned while sequences wait for blocks: part-prefilled prompts hold the
  //    free blocks and nothing decodes (so step 1 preempted none). Preempt the newest running
  //    sequences until the oldest waiting one can take its next token; it runs next step.
  if (plan.work.empty()) {
    for (int i = 0; i < n; ++i) {
      const SchedSeq& s = seqs[i];
      if (!s.running || s.restoring || s.held || preempted[i]) continue;
      const int need = BlocksToAdd(s.kv_tokens, s.blocks, 1, cfg.block_tokens);
      for (int j = n - 1; j > i && need > free; --j) {
        if (!seqs[j].running || seqs[j].restoring || preempted[j]) continue;
        preempted[j] = true;
        plan.preempt.push_back(j);
        free += seqs[j].blocks;
      }
      break;  // only the oldest: the others keep their turn
    }
  }
  std::sort(plan.work.begin(), plan.work.end(),
            [](const StepPlan::Work& a, const StepPlan::Work& b) { return a.seq < b.seq; });
  return plan;
}

}  // namespace semantic::engine
