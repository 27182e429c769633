// The scheduler planner on its own: budgets, FIFO, chunking, per-agent limits, preemption.
#include "engine/scheduler.h"

#include <gtest/gtest.h>

namespace semantic::engine {
namespace {

SchedSeq Decoding(int kv_tokens, std::string agent = "") {
  SchedSeq s;
  s.agent = std::move(agent);
  s.running = true;
  s.kv_tokens = kv_tokens;
  s.blocks = (kv_tokens + 15) / 16;
  return s;
}

SchedSeq Waiting(int prompt, std::string agent = "") {
  SchedSeq s;
  s.agent = std::move(agent);
  s.to_prefill = prompt;
  return s;
}

SchedSeq Prefilling(int done, int left) {
  SchedSeq s = Decoding(done);
  s.to_prefill = left;
  return s;
}

SchedulerConfig Config(int max_running = 8, int budget = 64) {
  SchedulerConfig c;
  c.max_running = max_running;
  c.max_batched_tokens = budget;
  c.block_tokens = 16;
  return c;
}

TEST(SchedulerTest, EveryRunningDecodeGetsATokenBeforeAnyPrefill) {
  std::vector<SchedSeq> seqs = {Prefilling(0, 1000), Decoding(20), Decoding(33)};
  StepPlan p = PlanStep(seqs, 100, Config(8, 64));
  ASSERT_EQ(p.work.size(), 3u);
  EXPECT_EQ(p.work[0].seq, 0);
  EXPECT_EQ(p.work[0].n_tokens, 62);  // the chunk gets what the two decodes leave
  EXPECT_EQ(p.work[1].n_tokens, 1);
  EXPECT_EQ(p.work[2].n_tokens, 1);
  EXPECT_TRUE(p.preempt.empty());
}

TEST(SchedulerTest, PrefillIsCappedWhileStreamsDecodeAndNotOtherwise) {
  SchedulerConfig c = Config(8, 512);
  c.prefill_cap_while_decoding = 24;
  std::vector<SchedSeq> seqs = {Decoding(20), Prefilling(0, 4096)};
  StepPlan p = PlanStep(seqs, 1000, c);
  ASSERT_EQ(p.work.size(), 2u);
  EXPECT_EQ(p.work[1].n_tokens, 24);
  seqs.push_back(Prefilling(0, 100));  // the older prompt takes the whole cap
  p = PlanStep(seqs, 1000, c);
  ASSERT_EQ(p.work.size(), 2u);
  EXPECT_EQ(p.work[1].seq, 1);
  EXPECT_EQ(p.work[1].n_tokens, 24);
  seqs.pop_back();
  seqs.erase(seqs.begin());  // the stream finished: the prompt gets the whole budget
  p = PlanStep(seqs, 1000, c);
  ASSERT_EQ(p.work.size(), 1u);
  EXPECT_EQ(p.work[0].n_tokens, 512);
}

// Seven newcomers next to one decoding stream: the step's prompt chunks together stay within
// the cap, so the stream's inter-token latency does not grow with the number of newcomers; the
// oldest prompt goes first and the next one gets what it leaves.
TEST(SchedulerTest, ThePrefillCapIsSharedByAllPromptsOfAStep) {
  SchedulerConfig c = Config(8, 512);
  c.prefill_cap_while_decoding = 24;
  std::vector<SchedSeq> seqs = {Decoding(140), Prefilling(0, 10)};
  for (int i = 0; i < 6; ++i) seqs.push_back(Prefilling(0, 128));
  StepPlan p = PlanStep(seqs, 1000, c);
  ASSERT_EQ(p.work.size(), 3u);
  EXPECT_EQ(p.work[0].n_tokens, 1);
  EXPECT_EQ(p.work[1].seq, 1);
  EXPECT_EQ(p.work[1].n_tokens, 10);
  EXPECT_EQ(p.work[2].seq, 2);
  EXPECT_EQ(p.work[2].n_tokens, 14);
  int prefill = 0;
  for (const auto& w : p.work) prefill += w.seq > 0 ? w.n_tokens : 0;
  EXPECT_EQ(prefill, 24);
}

// Eight requests sent together, four prefilled in the first step (the budget): the other four
// were already waiting when the first four began streaming, so they are not held to the cap
// (which would make them trickle in over dozens of steps) and share the budget equally; a prompt
// that arrives after the streams began is capped.
TEST(SchedulerTest, PromptsWaitingBeforeAStreamBeganAreNotCappedForIt) {
  SchedulerConfig c = Config(8, 512);
  c.prefill_cap_while_decoding = 16;
  std::vector<SchedSeq> seqs;
  for (int i = 0; i < 4; ++i) {
    seqs.push_back(Decoding(129));
    seqs.back().first_token_step = 1;  // sampled in step 0
  }
  for (int i = 0; i < 4; ++i) seqs.push_back(Prefilling(0, 128));  // arrived_step 0
  StepPlan p = PlanStep(seqs, 1000, c);
  ASSERT_EQ(p.work.size(), 8u);
  for (int i = 4; i < 8; ++i) EXPECT_EQ(p.work[i].n_tokens, 127) << i;  // 508 shared equally
  seqs.push_back(Prefilling(0, 4096));
  seqs.back().arrived_step = 1;  // came after the streams' first tokens
  p = PlanStep(seqs, 1000, c);
  ASSERT_EQ(p.work.size(), 8u);  // the owed prompts fill the budget first
  for (auto& s : seqs) {
    if (s.to_prefill == 128) s.to_prefill = 0;  // the wave decodes now
  }
  for (int i = 4; i < 8; ++i) seqs[i].first_token_step = 2;
  p = PlanStep(seqs, 1000, c);
  ASSERT_EQ(p.work.size(), 9u);
  EXPECT_EQ(p.work[8].n_tokens, 16);  // capped: it arrived after the first four began
}

// A burst of prompts sent together into an idle server: equal shares of the budget, so all of
// them finish prefill in the same step (no stream decodes alone while the rest prefill).
TEST(SchedulerTest, ABurstOfPromptsSharesTheBudgetAndFinishesTogether) {
  std::vector<SchedSeq> seqs;
  for (int i = 0; i < 8; ++i) seqs.push_back(Prefilling(0, 128));
  for (int step = 0; step < 2; ++step) {
    StepPlan p = PlanStep(seqs, 1000, Config(8, 512));
    ASSERT_EQ(p.work.size(), 8u);
    for (const auto& w : p.work) {
      EXPECT_EQ(w.n_tokens, 64);
      seqs[w.seq].to_prefill -= w.n_tokens;
      seqs[w.seq].kv_tokens += w.n_tokens;
      seqs[w.seq].blocks = (seqs[w.seq].kv_tokens + 15) / 16;
    }
  }
  for (const auto& s : seqs) EXPECT_EQ(s.to_prefill, 0);
}

// Short of blocks, prompts of a burst do not all start: each would hold part of its prompt's
// blocks and none could finish. The oldest goes first; a newer one joins only if the blocks for
// all of it are free after the older ones'.
TEST(SchedulerTest, UnderBlockPressureABurstIsPrefilledInOrder) {
  std::vector<SchedSeq> seqs = {Prefilling(0, 300), Prefilling(0, 300), Prefilling(0, 100)};
  StepPlan p = PlanStep(seqs, 30, Config(8, 512));  // 30 blocks: 19 + 7 fit, 19 + 19 do not
  ASSERT_EQ(p.work.size(), 1u);
  EXPECT_EQ(p.work[0].seq, 0);
  EXPECT_EQ(p.work[0].n_tokens, 300);
  p = PlanStep(seqs, 40, Config(8, 512));  // 19 + 19 fit: the first two share
  ASSERT_EQ(p.work.size(), 2u);
  EXPECT_EQ(p.work[0].n_tokens, 256);
  EXPECT_EQ(p.work[1].n_tokens, 256);
}

// The same for a prompt that arrived after a stream began: it does not take the blocks an older
// prompt needs to finish (a running decode can preempt, but a step with only part-prefilled
// prompts cannot).
TEST(SchedulerTest, PartPrefilledPromptsHoldingEveryBlockArePreemptedNewestFirst) {
  // Three prompts part-prefilled earlier hold all blocks; none can take a token and nothing
  // decodes: the newest are preempted until the oldest can continue (it runs next step).
  std::vector<SchedSeq> seqs = {Prefilling(32, 300), Prefilling(32, 300), Prefilling(32, 300)};
  StepPlan p = PlanStep(seqs, 0, Config(8, 64));
  EXPECT_TRUE(p.work.empty());
  EXPECT_EQ(p.preempt, std::vector<int>({2}));
  StepPlan next = PlanStep({seqs[0], seqs[1]}, 2, Config(8, 64));
  ASSERT_FALSE(next.work.empty());
  EXPECT_EQ(next.work[0].seq, 0);
  // A lone sequence that cannot grow has nobody to preempt: the plan stays empty (the executor
  // then fails it with 503, the pool is too small for it).
  StepPlan lone = PlanStep({Prefilling(32, 300)}, 0, Config(8, 64));
  EXPECT_TRUE(lone.work.empty() && lone.preempt.empty());
}

TEST(SchedulerTest, ANewerPromptLeavesTheBlocksAnOlderOneNeeds) {
  SchedulerConfig c = Config(8, 512);
  c.prefill_cap_while_decoding = 64;
  std::vector<SchedSeq> seqs = {Decoding(20), Prefilling(0, 300), Prefilling(0, 300)};
  seqs[2].arrived_step = 5;  // capped; seqs[1] is owed (arrived before the stream began)
  seqs[0].first_token_step = 3;
  StepPlan p = PlanStep(seqs, 30, c);  // 30 blocks: the decode 0, the first prompt 19
  ASSERT_EQ(p.work.size(), 2u);
  EXPECT_EQ(p.work[1].seq, 1);
}

TEST(SchedulerTest, FairSharesGiveWhatShortRequestsLeaveToTheOthers) {
  EXPECT_EQ(FairShares({10, 300, 300}, 100), (std::vector<int>{10, 45, 45}));
  EXPECT_EQ(FairShares({10, 20}, 100), (std::vector<int>{10, 20}));
  EXPECT_EQ(FairShares({50, 50, 50}, 100), (std::vector<int>{34, 33, 33}));
  EXPECT_EQ(FairShares({5, 5, 5}, 2), (std::vector<int>{1, 1, 0}));
  EXPECT_EQ(FairShares({}, 100), (std::vector<int>{}));
}

TEST(SchedulerTest, ALongPromptIsChunkedAcrossSteps) {
  std::vector<SchedSeq> seqs = {Prefilling(0, 4096)};
  int steps = 0;
  while (seqs[0].to_prefill > 0) {
    StepPlan p = PlanStep(seqs, 1000, Config(8, 512));
    ASSERT_EQ(p.work.size(), 1u);
    EXPECT_LE(p.work[0].n_tokens, 512);
    seqs[0].kv_tokens += p.work[0].n_tokens;
    seqs[0].blocks += p.blocks_needed;
    seqs[0].to_prefill -= p.work[0].n_tokens;
    ++steps;
  }
  EXPECT_EQ(steps, 8);
  EXPECT_EQ(seqs[0].blocks, 256);
}

TEST(SchedulerTest, BlocksNeededCountOnlyNewBlocks) {
  EXPECT_EQ(BlocksToAdd(16, 1, 1, 16), 1);
  EXPECT_EQ(BlocksToAdd(15, 1, 1, 16), 0);
  EXPECT_EQ(BlocksToAdd(0, 0, 33, 16), 3);
  EXPECT_EQ(BlocksToAdd(40, 5, 8, 16), 0);  // holds more than it needs
  std::vector<SchedSeq> seqs = {Decoding(16), Decoding(17)};
  EXPECT_EQ(PlanStep(seqs, 10, Config()).blocks_needed, 1);
}

TEST(SchedulerTest, AdmissionIsFifoWithinMaxRunning) {
  std::vector<SchedSeq> seqs = {Decoding(10), Waiting(30), Waiting(30), Waiting(30)};
  EXPECT_EQ(PlanAdmission(seqs, 100, Config(3)), (std::vector<int>{1, 2}));
  EXPECT_EQ(PlanAdmission(seqs, 100, Config(8)), (std::vector<int>{1, 2, 3}));
}

TEST(SchedulerTest, AdmissionWaitsForRoomWithoutLettingLaterRequestsOvertake) {
  // The first waiting prompt needs 4 blocks for its first chunk; only 3 are free: the small one
  // behind it must not overtake (that would starve big prompts).
  std::vector<SchedSeq> seqs = {Waiting(64), Waiting(10)};
  EXPECT_TRUE(PlanAdmission(seqs, 3, Config(8, 64)).empty());
  EXPECT_EQ(PlanAdmission(seqs, 5, Config(8, 64)), (std::vector<int>{0, 1}));
}

TEST(SchedulerTest, AdmissionKeepsABlockForEveryRunningDecode) {
  std::vector<SchedSeq> seqs = {Decoding(16), Decoding(32), Waiting(10)};
  EXPECT_TRUE(PlanAdmission(seqs, 2, Config()).empty());  // both decodes need a new block
  EXPECT_EQ(PlanAdmission(seqs, 3, Config()), (std::vector<int>{2}));
}

TEST(SchedulerTest, PerAgentLimitLetsOtherAgentsGoAheadButKeepsOrder) {
  SchedulerConfig c = Config();
  c.max_running_per_agent = 1;
  std::vector<SchedSeq> seqs = {Decoding(10, "a"), Waiting(10, "a"), Waiting(10, "b"),
                                Waiting(10, "a"), Waiting(10, "")};
  EXPECT_EQ(PlanAdmission(seqs, 100, c), (std::vector<int>{2, 4}));
  seqs[0].running = false;  // a's first request finished (now just an entry we skip)
  seqs[0].to_prefill = 0;
  seqs.erase(seqs.begin());
  EXPECT_EQ(PlanAdmission(seqs, 100, c), (std::vector<int>{0, 1, 3}));
}

TEST(SchedulerTest, OutOfBlocksTheNewestRunningSequenceIsPreempted) {
  // Three decodes each need a new block; one block is free. The oldest two decode, the newest is
  // parked so that its blocks pay for the second.
  std::vector<SchedSeq> seqs = {Decoding(32), Decoding(48), Decoding(64)};
  StepPlan p = PlanStep(seqs, 1, Config());
  EXPECT_EQ(p.preempt, (std::vector<int>{2}));
  ASSERT_EQ(p.work.size(), 2u);
  EXPECT_EQ(p.work[0].seq, 0);
  EXPECT_EQ(p.work[1].seq, 1);
}

TEST(SchedulerTest, TheOldestIsNeverPreemptedForANewerOne) {
  std::vector<SchedSeq> seqs = {Decoding(64), Decoding(32)};
  seqs[1].blocks = 2;
  StepPlan p = PlanStep(seqs, 0, Config());
  EXPECT_EQ(p.preempt, (std::vector<int>{1}));  // the newest pays
  ASSERT_EQ(p.work.size(), 1u);
  EXPECT_EQ(p.work[0].seq, 0);
}

TEST(SchedulerTest, ASingleSequenceWithoutBlocksWaitsInsteadOfPreemptingItself) {
  std::vector<SchedSeq> seqs = {Decoding(64)};
  StepPlan p = PlanStep(seqs, 0, Config());
  EXPECT_TRUE(p.work.empty());
  EXPECT_TRUE(p.preempt.empty());
}

TEST(SchedulerTest, PrefillChunkShrinksToTheFreeBlocks) {
  std::vector<SchedSeq> seqs = {Prefilling(8, 200)};  // holds 1 block with 8 tokens
  StepPlan p = PlanStep(seqs, 2, Config(8, 512));
  ASSERT_EQ(p.work.size(), 1u);
  EXPECT_EQ(p.work[0].n_tokens, 40);  // 8 + 40 = 48 = 3 blocks
  EXPECT_EQ(p.blocks_needed, 2);
}

TEST(SchedulerTest, RestoringSequencesHoldTheirPlaceButGetNoWork) {
  std::vector<SchedSeq> seqs = {Prefilling(0, 100), Waiting(10)};
  seqs[0].restoring = true;
  StepPlan p = PlanStep(seqs, 100, Config(1));
  EXPECT_TRUE(p.work.empty());
  EXPECT_TRUE(PlanAdmission(seqs, 100, Config(1)).empty());  // max_running 1 is taken
}

TEST(SchedulerTest, HeldPromptsGetNoChunkAndLeaveTheBudgetToTheOthers) {
  // Three prompts sent together; the newer two wait for the blocks the first computes (the same
  // prefix), so the first gets the whole budget, and a decode still gets its token.
  std::vector<SchedSeq> seqs = {Prefilling(0, 1000), Prefilling(0, 1000), Prefilling(0, 1000),
                                Decoding(40)};
  seqs[1].held = seqs[2].held = true;
  StepPlan p = PlanStep(seqs, 1000, Config(8, 64));
  ASSERT_EQ(p.work.size(), 2u);
  EXPECT_EQ(p.work[0].seq, 0);
  EXPECT_EQ(p.work[0].n_tokens, 63);
  EXPECT_EQ(p.work[1].seq, 3);
  // Out of blocks with nothing planned, a held prompt is not the one others are preempted for.
  std::vector<SchedSeq> stuck = {Prefilling(0, 100), Prefilling(32, 100)};
  stuck[0].held = true;
  stuck[0].blocks = 2;
  p = PlanStep(stuck, 0, Config(8, 64));
  EXPECT_TRUE(p.work.empty());
  EXPECT_TRUE(p.preempt.empty());
}

TEST(SchedulerTest, NoRequestStarvesUnderAStreamOfNewArrivals) {
  // Requests keep arriving; each step admits by FIFO. The first request finishes within a bounded
  // number of steps although newer ones keep coming.
  std::vector<SchedSeq> seqs = {Waiting(300)};
  SchedulerConfig c = Config(2, 64);
  int steps = 0;
  int generated = 0;
  while (generated < 5 && steps < 100) {
    seqs.push_back(Waiting(50));
    for (int i : PlanAdmission(seqs, 1000, c)) seqs[i].running = true;
    StepPlan p = PlanStep(seqs, 1000, c);
    for (const auto& w : p.work) {
      SchedSeq& s = seqs[w.seq];
      if (s.to_prefill > 0)
        s.to_prefill -= w.n_tokens;
      else if (w.seq == 0)
        ++generated;
      s.kv_tokens += w.n_tokens;
      s.blocks = (s.kv_tokens + 16) / 16;
    }
    ++steps;
  }
  EXPECT_EQ(generated, 5);
  EXPECT_LT(steps, 20);
}

}  // namespace
}  // namespace semantic::engine
