// agent.max_agents_in_memory and agent.eviction_policy: the least recently used agents' blocks
// leave RAM beyond the limit (to disk when there is a disk tier), pinned and running agents stay;
// without eviction the pool refuses new blocks instead of dropping cached prefixes.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "kv/kv_pool.h"
#include "kv/prefix_cache.h"
#include "kv_test_util.h"
#include "prefix_cache_test_util.h"

namespace semantic::kv {
namespace {

using namespace testing_util;

// 3 full blocks of tokens distinct per `seed`.
std::vector<int32_t> Prompt(int seed) {
  std::vector<int32_t> t(3 * kBt);
  for (size_t i = 0; i < t.size(); ++i) t[i] = seed * 1000 + static_cast<int32_t>(i);
  return t;
}

// A request of `agent`, then a pause: sessions are ordered by their last use in milliseconds.
void Use(Instance& in, const std::vector<int32_t>& tokens, const std::string& agent) {
  in.Run(tokens, agent);
  std::this_thread::sleep_for(std::chrono::milliseconds(3));
}

int InRam(Instance& in, const std::string& agent) {
  return in.cache.GetAgent(agent)->blocks_in_ram;
}

PrefixCacheOptions Limited(int max_agents, const std::string& dir = "") {
  PrefixCacheOptions o;
  o.max_agents_in_memory = max_agents;
  if (!dir.empty()) {
    o.cache_dir = dir;
    o.disk_budget = uint64_t{1} << 30;
  }
  return o;
}

TEST(AgentMemoryLimitTest, LeastRecentlyUsedAgentLeavesRamWithoutDisk) {
  Instance in(Limited(2));
  ASSERT_TRUE(in.cache.Open().ok());
  Use(in, Prompt(1), "a");
  Use(in, Prompt(2), "b");
  EXPECT_EQ(InRam(in, "a"), 3);
  Use(in, Prompt(1), "a");  // a is now more recent than b
  Use(in, Prompt(3), "c");  // third agent: b, the least recently used, leaves RAM
  EXPECT_EQ(InRam(in, "a"), 3);
  EXPECT_EQ(InRam(in, "b"), 0);
  EXPECT_EQ(InRam(in, "c"), 3);
  EXPECT_EQ(in.cache.Stats().sessions_hot, 2);
  EXPECT_EQ(in.pool.n_cached(), 6);
}

TEST(AgentMemoryLimitTest, NoLimitKeepsEveryAgentInRam) {
  Instance in(Limited(0));
  ASSERT_TRUE(in.cache.Open().ok());
  for (int i = 1; i <= 5; ++i) Use(in, Prompt(i), "agent" + std::to_string(i));
  EXPECT_EQ(in.cache.Stats().sessions_hot, 5);
}

TEST(AgentMemoryLimitTest, EvictedAgentsBlocksGoToDiskAndComeBack) {
  ScratchDir dir;
  Instance in(Limited(1, dir.path()));
  ASSERT_TRUE(in.cache.Open().ok());
  Use(in, Prompt(1), "a");
  in.cache.Flush();  // a's blocks are on disk: they may leave RAM
  Use(in, Prompt(2), "b");
  EXPECT_EQ(InRam(in, "a"), 0);
  EXPECT_EQ(in.cache.GetAgent("a")->blocks_on_disk, 3);
  EXPECT_EQ(InRam(in, "b"), 3);
  // a returns: its prefix is read back from disk.
  SequenceKv kv;
  std::vector<uint64_t> keys;
  const PrefixMatch m = in.cache.Acquire(Prompt(1), 12, &kv, &keys);
  EXPECT_EQ(m.disk_blocks, 3);
  for (size_t j = 0; j < keys.size(); ++j) EXPECT_TRUE(HasPattern(in.pool, kv.blocks[j], keys[j]));
  kv.Clear(in.pool);
}

TEST(AgentMemoryLimitTest, BlocksNotYetOnDiskStayInRam) {
  ScratchDir dir;
  PrefixCacheOptions o = Limited(1, dir.path());
  o.persist = false;  // nothing is ever written: nothing may leave RAM
  Instance in(o);
  ASSERT_TRUE(in.cache.Open().ok());
  Use(in, Prompt(1), "a");
  Use(in, Prompt(2), "b");
  EXPECT_EQ(InRam(in, "a"), 3);
}

TEST(AgentMemoryLimitTest, PinnedAgentsNeitherCountNorLeave) {
  Instance in(Limited(1));
  ASSERT_TRUE(in.cache.Open().ok());
  Use(in, Prompt(1), "pinned");
  in.cache.PutAgent("pinned", true, std::nullopt);
  Use(in, Prompt(2), "b");
  Use(in, Prompt(3), "c");  // b leaves; the pinned agent does not count against the limit
  EXPECT_EQ(InRam(in, "pinned"), 3);
  EXPECT_EQ(InRam(in, "b"), 0);
  EXPECT_EQ(InRam(in, "c"), 3);
}

TEST(AgentMemoryLimitTest, SharedBlocksStayForTheAgentsInRam) {
  Instance in(Limited(1));
  ASSERT_TRUE(in.cache.Open().ok());
  std::vector<int32_t> shared = Prompt(9);  // a common system prompt, then each agent's own block
  std::vector<int32_t> a = shared, b = shared;
  a.resize(4 * kBt, 1);
  b.resize(4 * kBt, 2);
  Use(in, a, "a");
  Use(in, b, "b");
  EXPECT_EQ(InRam(in, "a"), 3);  // the shared prefix stays: b uses it
  EXPECT_EQ(InRam(in, "b"), 4);
}

TEST(AgentMemoryLimitTest, RunningAgentStaysUntilItEnds) {
  Instance in(Limited(1));
  ASSERT_TRUE(in.cache.Open().ok());
  Use(in, Prompt(1), "a");
  in.cache.BeginRequest("a");  // a runs again (its blocks would be in use by its sequence)
  Use(in, Prompt(2), "b");
  EXPECT_EQ(InRam(in, "a"), 3);  // the older agent a stays: it is running
  in.cache.EndRequest("a", in.cache.GetAgent("a")->session.keys, 12, 0, 0);
  EXPECT_EQ(InRam(in, "b"), 0);  // a just ended: now b is the least recently used
  EXPECT_EQ(InRam(in, "a"), 3);
}

TEST(AgentMemoryLimitTest, RecentAgentUsageIsNewestFirstAndCapped) {
  Instance in(Limited(0));
  ASSERT_TRUE(in.cache.Open().ok());
  Use(in, Prompt(1), "a");
  Use(in, Prompt(2), "b");
  Use(in, Prompt(1), "a");
  const auto usage = in.cache.RecentAgentUsage(1);
  ASSERT_EQ(usage.size(), 1u);
  EXPECT_EQ(usage[0].id, "a");
  EXPECT_EQ(usage[0].requests, 2u);
  EXPECT_EQ(usage[0].prompt_tokens, 24u);
  EXPECT_EQ(usage[0].cached_tokens, 8u);  // the last prompt token is always computed
  EXPECT_EQ(in.cache.RecentAgentUsage(10).size(), 2u);
}

// ---- agent.eviction_policy = none -------------------------------------------------------------

TEST(EvictionPolicyTest, NoneRefusesInsteadOfEvictingCachedBlocks) {
  KvPool pool(SmallLayout(), 2);
  EXPECT_TRUE(pool.evict_cached());
  pool.set_evict_cached(false);
  auto a = pool.Allocate();
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(pool.Publish(*a, 42));
  pool.Release(*a);  // cached
  EXPECT_EQ(pool.n_cached(), 1);
  EXPECT_EQ(pool.n_free(), 1);  // the cached block does not count as free
  auto b = pool.Allocate();
  ASSERT_TRUE(b.ok());
  auto c = pool.Allocate();
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("eviction_policy = none"), std::string::npos);
  EXPECT_TRUE(pool.Contains(42));  // the cached prefix survived
  EXPECT_EQ(pool.evictions(), 0u);
  // Reusing the cached prefix needs no new block; forgetting it explicitly frees it.
  const int32_t again = pool.Lookup(42);
  EXPECT_EQ(again, *a);
  pool.Release(again);
  EXPECT_TRUE(pool.Forget(42));
  EXPECT_TRUE(pool.Allocate().ok());
}

TEST(EvictionPolicyTest, LruEvictsTheOldestCachedBlock) {
  KvPool pool(SmallLayout(), 1);
  auto a = pool.Allocate();
  ASSERT_TRUE(a.ok() && pool.Publish(*a, 42));
  pool.Release(*a);
  EXPECT_EQ(pool.n_free(), 1);
  EXPECT_TRUE(pool.Allocate().ok());
  EXPECT_FALSE(pool.Contains(42));
  EXPECT_EQ(pool.evictions(), 1u);
}

}  // namespace
}  // namespace semantic::kv
