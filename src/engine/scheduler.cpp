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

  // 2. Prefill chunks of running sequences, oldest first, in what is left of the budget and
  //    the blocks (capped while streams are decoding).
  // The cap is per sequence: several newcomers all make progress in the same step.
  const int per_seq = !plan.work.empty() && cfg.prefill_cap_while_decoding > 0
                          ? cfg.prefill_cap_while_decoding
                          : budget;
  for (int i = 0; i < n && budget > 0; ++i) {
    const SchedSeq& s = seqs[i];
    if (!s.running || s.restoring || preempted[i] || s.to_prefill <= 0) continue;
    int len = std::min({s.to_prefill, budget, per_seq});
    const int room = (s.blocks + free) * cfg.block_tokens - s.kv_tokens;  // fits in free blocks
    len = std::min(len, room);
    if (len <= 0) continue;
    const int need = BlocksToAdd(s.kv_tokens, s.blocks, len, cfg.block_tokens);
    free -= need;
    plan.blocks_needed += need;
    budget -= len;
    plan.work.push_back({i, len});
  }
  std::sort(plan.work.begin(), plan.work.end(),
            [](const StepPlan::Work& a, const StepPlan::Work& b) { return a.seq < b.seq; });
  return plan;
}

}  // namespace semantic::engine
