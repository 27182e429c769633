// The scheduler planner on its own: budgets, FIFO, chunking, per-agent limits, preemption.
#include <gtest/gtest.h>

#include "engine/scheduler.h"

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
  seqs.push_back(Prefilling(0, 100));  // a second newcomer progresses in the same step
  p = PlanStep(seqs, 1000, c);
  ASSERT_EQ(p.work.size(), 3u);
  EXPECT_EQ(p.work[2].n_tokens, 24);
  seqs.pop_back();
  seqs.erase(seqs.begin());  // the stream finished: the prompt gets the whole budget
  p = PlanStep(seqs, 1000, c);
  ASSERT_EQ(p.work.size(), 1u);
  EXPECT_EQ(p.work[0].n_tokens, 512);
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
      if (s.to_prefill > 0) s.to_prefill -= w.n_tokens;
      else if (w.seq == 0) ++generated;
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
