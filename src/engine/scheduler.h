// The scheduler as a pure planner (no model, no threads): given the sequences in the executor and
// the free KV blocks, it decides one step — which running sequences decode, which prompts get a
// prefill chunk, which waiting requests are admitted and which running sequence is preempted
// (its blocks parked in the cache) when blocks run out. Unit-tested on its own
// (tests/unit/scheduler_test.cpp).
//
// Policy:
//  - Order is arrival order (FIFO), so an older request always goes first: nothing starves.
//  - Every running decode gets its token first (steady inter-token latency), then prompt chunks
//    of running sequences, then newly admitted ones, within `max_batched_tokens`; a long prompt
//    is cut into chunks so it never stalls the running streams. While streams decode, the prompt
//    chunks of a step together stay within `prefill_cap_while_decoding` (oldest prompt first) —
//    but only prompts that arrived after a decoding stream began streaming are capped: a prompt
//    that was already waiting when a stream got its first token (requests sent together, split
//    by the step budget) is owed its prefill and does not pay for the other's head start. Owed
//    prompts share the budget equally (FairShares), so a burst of equal prompts finishes its
//    prefill in one step and decodes as one batch, without a stall after the first tokens.
//  - Admission respects `max_running` and `max_running_per_agent` (a waiting request of a busy
//    agent lets later requests of other agents go ahead; it keeps its place in line).
//  - A prompt whose next block an older running prompt is computing (sent together with the
//    same long prefix) is held: it takes that block from the prefix cache once published instead
//    of computing it too, so a burst of agents with one system prompt prefills it once.
//  - When the blocks a running decode needs are not free, the newest running sequence is
//    preempted: its full blocks stay in the prefix cache (and the disk tier), so on resume they
//    are found again instead of recomputed. The oldest sequence is never preempted for a newer one.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace semantic::engine {

struct SchedulerConfig {
  int max_running = 8;            // sequences in a step
  int max_batched_tokens = 512;   // tokens in a step (decodes + prefill chunks)
  int max_running_per_agent = 0;  // 0: no per-agent limit
  int block_tokens = 16;
  // Prefill tokens in all of a step's prompt chunks together when the step also decodes (0: no
  // cap). The executor sets it from measured step times so a step with prefill work stays within
  // a small multiple of a decode-only step: running streams keep a steady inter-token latency
  // while prompts arrive, however many arrive at once (a cap per sequence let 7 newcomers make a
  // step 30x a decode step). The oldest prompt gets the cap first (FIFO: least mean TTFT).
  int prefill_cap_while_decoding = 0;
};

// What the planner needs to know of one sequence, in arrival order.
struct SchedSeq {
  std::string agent;       // "" : anonymous (no per-agent limit)
  bool running = false;    // admitted: may hold blocks
  bool restoring = false;  // running, waiting for its blocks to come back from disk
  // Running, but takes no prefill this step: an older sequence is computing its next prompt
  // block (the same tokens), which it then takes from the prefix cache (executor: Follows).
  bool held = false;
  int kv_tokens = 0;       // positions in its KV
  int blocks = 0;          // blocks it holds
  int to_prefill = 0;      // context tokens still to put in the KV (0: decoding)
  // On the executor's step clock (steps completed): when the request was taken in, and when its
  // first token was sampled (-1: not yet). A prompt is capped while decoding only for streams
  // with first_token_step <= its arrived_step.
  int64_t arrived_step = 0;
  int64_t first_token_step = 0;
};

struct StepPlan {
  struct Work {
    int seq;       // index into the input
    int n_tokens;  // 1 for a decode, the chunk length for a prefill
  };
  std::vector<Work> work;      // in input order
  std::vector<int> preempt;    // running sequences to park (blocks released, back to waiting)
  int blocks_needed = 0;       // new blocks the work allocates
};

// Which waiting sequences join now, in order: FIFO within max_running and the per-agent limit,
// and only while the free blocks (beyond what running decodes need next) can hold their first
// prompt chunk. The executor then looks up their cached prefixes before planning the step.
// `free_blocks`: blocks the pool can hand out (free plus evictable cached blocks).
std::vector<int> PlanAdmission(const std::vector<SchedSeq>& seqs, int free_blocks,
                               const SchedulerConfig& cfg);

// The step for the running sequences.
StepPlan PlanStep(const std::vector<SchedSeq>& seqs, int free_blocks, const SchedulerConfig& cfg);

// Equal shares of `budget` for requests wanting `want` tokens each (in order, oldest first): what
// a small request leaves is shared by the others; when fewer tokens than open requests remain,
// the oldest get one each. Never more than a request wants.
std::vector<int> FairShares(const std::vector<int>& want, int budget);

// Blocks a sequence holding `blocks` for `kv_tokens` positions must add for `n` more.
int BlocksToAdd(int kv_tokens, int blocks, int n, int block_tokens);

}  // namespace semantic::engine
