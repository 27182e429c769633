// Prefix cache: reuse of published blocks from RAM and disk, the max_tokens cap, deduplication,
// restart from the disk tier, and agent sessions (list/get/fork/delete/evict/pin/expire/restart).
#include "kv/prefix_cache.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "kv/agent_sessions.h"
#include "kv/block_key.h"
#include "kv/kv_pool.h"
#include "kv_test_util.h"
#include "prefix_cache_test_util.h"

namespace semantic::kv {
namespace {

namespace fs = std::filesystem;
using namespace testing_util;

std::vector<int32_t> Tokens(int n, int32_t base = 100) {
  std::vector<int32_t> t(n);
  for (int i = 0; i < n; ++i) t[i] = base + i * 3;
  return t;
}

// Every block of `s` holds the pattern of its key.
void ExpectBlocksHoldTheirKeys(const KvPool& pool, const Seq& s) {
  ASSERT_LE(s.keys.size(), s.kv.blocks.size());
  for (size_t j = 0; j < s.keys.size(); ++j) {
    EXPECT_TRUE(HasPattern(pool, s.kv.blocks[j], s.keys[j])) << "block " << j;
  }
}

std::vector<uint64_t> ExpectedKeys(uint64_t root, const std::vector<int32_t>& tokens, int n) {
  std::vector<uint64_t> keys;
  ExtendKeys(root, tokens, n, kBt, &keys);
  return keys;
}

class PrefixCacheTest : public ::testing::Test {
 protected:
  PrefixCacheOptions RamOnly() const { return {}; }
  PrefixCacheOptions WithDisk(int64_t ttl_ms = 0) const {
    PrefixCacheOptions o;
    o.cache_dir = scratch_.path();
    o.disk_budget = uint64_t{1} << 30;
    o.default_ttl_ms = ttl_ms;
    return o;
  }
  // A server run that computes `t` with the disk tier and shuts down (blocks flushed on exit);
  // returns the keys of its full blocks.
  std::vector<uint64_t> WriteToDisk(const std::vector<int32_t>& t) const {
    Instance in(WithDisk());
    EXPECT_TRUE(in.cache.Open().ok());
    return in.Run(t);
  }
  std::string tier_dir() const { return scratch_.path() + "/" + KeyHex(kFingerprint); }
  std::string session_file(const std::string& id) const {
    return tier_dir() + "/agents/" + id + ".json";
  }
  ScratchDir scratch_;
};

// ---- prefix reuse in RAM ----------------------------------------------------------------------

TEST_F(PrefixCacheTest, EmptyCacheAcquiresNothing) {
  Instance in(RamOnly());
  ASSERT_TRUE(in.cache.Open().ok());
  EXPECT_FALSE(in.cache.disk_enabled());
  EXPECT_EQ(in.cache.root(), RootKey(kFingerprint, ""));
  Seq s;
  const auto t = Tokens(12);
  in.Admit(t, &s);
  EXPECT_EQ(s.match.tokens, 0);
  EXPECT_EQ(s.match.ram_blocks, 0);
  EXPECT_EQ(s.match.disk_blocks, 0);
  EXPECT_TRUE(s.kv.blocks.empty());
  EXPECT_EQ(s.kv.n_tokens, 0);
  EXPECT_TRUE(s.keys.empty());
  EXPECT_EQ(in.cache.Stats().misses, 2u);  // 11 usable tokens: two full blocks looked up
  EXPECT_EQ(in.in_use(), 0);
}

TEST_F(PrefixCacheTest, PublishedBlocksAreReusedWithTheirData) {
  Instance in(RamOnly());
  ASSERT_TRUE(in.cache.Open().ok());
  const auto t = Tokens(14);
  {
    Seq a;
    in.Admit(t, &a);
    in.Compute(t, 14, &a);
    EXPECT_EQ(a.n_published, 3u);
    EXPECT_EQ(a.keys, ExpectedKeys(in.cache.root(), t, 14));
    for (size_t j = 0; j < 3; ++j) EXPECT_EQ(in.pool.KeyOf(a.kv.blocks[j]), a.keys[j]);
    EXPECT_EQ(in.pool.KeyOf(a.kv.blocks[3]), 0u);  // the partial block stays private
    a.kv.Clear(in.pool);
  }
  EXPECT_EQ(in.pool.n_cached(), 3);
  EXPECT_EQ(in.in_use(), 0);

  // The same prompt: 13 usable tokens cover the 3 full blocks.
  Seq b;
  in.Admit(t, &b);
  EXPECT_EQ(b.match.tokens, 12);
  EXPECT_EQ(b.match.ram_blocks, 3);
  EXPECT_EQ(b.match.disk_blocks, 0);
  EXPECT_EQ(b.kv.n_tokens, 12);
  ASSERT_EQ(b.kv.blocks.size(), 3u);
  EXPECT_EQ(b.keys, ExpectedKeys(in.cache.root(), t, 12));
  ExpectBlocksHoldTheirKeys(in.pool, b);
  for (int32_t blk : b.kv.blocks) EXPECT_EQ(in.pool.RefCount(blk), 1);
  EXPECT_EQ(in.pool.n_cached(), 0);

  // A longer prompt sharing the prefix, while the first sequence still holds the blocks.
  auto longer = t;
  for (int i = 0; i < 10; ++i) longer.push_back(7000 + i);
  Seq c;
  in.Admit(longer, &c);
  EXPECT_EQ(c.match.tokens, 12);
  EXPECT_EQ(c.match.ram_blocks, 3);
  EXPECT_EQ(c.kv.blocks, b.kv.blocks);
  for (int32_t blk : c.kv.blocks) EXPECT_EQ(in.pool.RefCount(blk), 2);
  ExpectBlocksHoldTheirKeys(in.pool, c);
  // It goes on from there: its new full blocks are published after the shared ones.
  in.Compute(longer, 24, &c);
  EXPECT_EQ(c.n_published, 6u);
  EXPECT_EQ(c.keys, ExpectedKeys(in.cache.root(), longer, 24));
  b.kv.Clear(in.pool);
  c.kv.Clear(in.pool);
  EXPECT_EQ(in.pool.n_cached(), 6);
  EXPECT_EQ(in.in_use(), 0);
  PrefixCacheStats st = in.cache.Stats();
  EXPECT_EQ(st.ram_hits, 6u);
  EXPECT_EQ(st.disk_hits, 0u);
}

TEST_F(PrefixCacheTest, PromptDifferingInTheMiddleReusesOnlyTheBlocksBefore) {
  Instance in(RamOnly());
  ASSERT_TRUE(in.cache.Open().ok());
  const auto t = Tokens(17);
  in.Run(t);
  EXPECT_EQ(in.pool.n_cached(), 4);
  struct Case {
    int changed_position;
    int expect_tokens;
  };
  for (Case c : {Case{0, 0}, Case{3, 0}, Case{4, 4}, Case{6, 4}, Case{8, 8}, Case{11, 8},
                 Case{12, 12}, Case{15, 12}, Case{16, 16}}) {
    auto u = t;
    u[c.changed_position] += 1;
    Seq s;
    in.Admit(u, &s);
    EXPECT_EQ(s.match.tokens, c.expect_tokens) << "changed at " << c.changed_position;
    EXPECT_EQ(s.keys, ExpectedKeys(in.cache.root(), t, c.expect_tokens));
    ExpectBlocksHoldTheirKeys(in.pool, s);
    s.kv.Clear(in.pool);
  }
}

TEST_F(PrefixCacheTest, MaxTokensCapIsRespected) {
  Instance in(RamOnly());
  ASSERT_TRUE(in.cache.Open().ok());
  const auto t = Tokens(16);
  in.Run(t);  // publishes all 4 blocks
  ASSERT_EQ(in.pool.n_cached(), 4);
  struct Case {
    int max_tokens, expect;
  };
  for (Case c : {Case{-5, 0}, Case{0, 0}, Case{3, 0}, Case{4, 4}, Case{7, 4}, Case{8, 8},
                 Case{15, 12}, Case{16, 16}, Case{1000, 16}}) {
    Seq s;
    PrefixMatch m = in.cache.Acquire(t, c.max_tokens, &s.kv, &s.keys);
    EXPECT_EQ(m.tokens, c.expect) << "max_tokens " << c.max_tokens;
    EXPECT_EQ(s.kv.n_tokens, c.expect);
    EXPECT_EQ(static_cast<int>(s.kv.blocks.size()), c.expect / kBt);
    EXPECT_LE(m.tokens, std::max(0, c.max_tokens));
    s.kv.Clear(in.pool);
  }
  // The executor's cap (prompt length - 1) always leaves a token to compute, even when the
  // whole prompt is cached.
  Seq s;
  in.Admit(t, &s);
  EXPECT_EQ(s.match.tokens, 12);
  EXPECT_LT(s.match.tokens, static_cast<int>(t.size()));
  s.kv.Clear(in.pool);
}

TEST_F(PrefixCacheTest, IncrementalPublishAfterEachForward) {
  Instance in(RamOnly());
  ASSERT_TRUE(in.cache.Open().ok());
  const auto t = Tokens(13);
  Seq s;
  in.Admit(t, &s);
  in.Compute(t, 3, &s);
  EXPECT_EQ(s.n_published, 0u);
  in.Compute(t, 5, &s);
  EXPECT_EQ(s.n_published, 1u);
  in.Compute(t, 6, &s);
  EXPECT_EQ(s.n_published, 1u);
  in.Compute(t, 12, &s);
  EXPECT_EQ(s.n_published, 3u);
  in.Compute(t, 13, &s);
  EXPECT_EQ(s.n_published, 3u);
  EXPECT_EQ(s.keys, ExpectedKeys(in.cache.root(), t, 12));
  for (size_t j = 0; j < 3; ++j) {
    EXPECT_TRUE(in.pool.Contains(s.keys[j]));
    EXPECT_EQ(in.pool.KeyOf(s.kv.blocks[j]), s.keys[j]);
  }
  s.kv.Clear(in.pool);
}

TEST_F(PrefixCacheTest, IdenticalBlocksFromTwoSequencesAreStoredOnce) {
  Instance in(WithDisk());
  ASSERT_TRUE(in.cache.Open().ok());
  const auto t = Tokens(14);
  Seq a, b;
  in.Admit(t, &a);
  in.Admit(t, &b);  // both admitted before either published: both compute everything
  EXPECT_EQ(b.match.tokens, 0);
  in.Compute(t, 14, &a);
  in.cache.Flush();  // pending disk writes hold references too; keep the counts below exact
  ASSERT_TRUE(b.kv.Reserve(in.pool, 14).ok());
  const std::vector<int32_t> b_own = b.kv.blocks;
  EXPECT_EQ(in.in_use(), 8);  // 4 + 4 before dedup
  in.Compute(t, 14, &b);
  EXPECT_EQ(b.keys, a.keys);
  for (size_t j = 0; j < 3; ++j) {
    EXPECT_EQ(b.kv.blocks[j], a.kv.blocks[j]) << j;  // switched to the first one's block
    EXPECT_NE(b_own[j], a.kv.blocks[j]);
    EXPECT_EQ(in.pool.RefCount(a.kv.blocks[j]), 2);
    EXPECT_EQ(in.pool.KeyOf(b_own[j]), 0u);
  }
  EXPECT_NE(b.kv.blocks[3], a.kv.blocks[3]);  // partial blocks are private
  EXPECT_EQ(in.in_use(), 5);                  // 3 shared full blocks + 2 partial ones
  ExpectBlocksHoldTheirKeys(in.pool, b);
  in.cache.Flush();
  EXPECT_EQ(in.cache.Stats().disk.writes, 3u);  // each key written once
  a.kv.Clear(in.pool);
  b.kv.Clear(in.pool);
  EXPECT_EQ(in.in_use(), 0);
  EXPECT_EQ(in.pool.n_cached(), 3);
}

TEST_F(PrefixCacheTest, SaltsSeparateTenants) {
  PrefixCacheOptions o1 = RamOnly(), o2 = RamOnly();
  o1.salt = "tenant-a";
  o2.salt = "tenant-b";
  Instance in(o1);
  PrefixCache other(in.pool, in.id, o2);
  EXPECT_NE(in.cache.root(), other.root());
  const auto t = Tokens(13);
  in.Run(t);
  Seq s;
  PrefixMatch m = other.Acquire(t, 12, &s.kv, &s.keys);
  EXPECT_EQ(m.tokens, 0);
  m = in.cache.Acquire(t, 12, &s.kv, &s.keys);
  EXPECT_EQ(m.tokens, 12);
  s.kv.Clear(in.pool);
}

TEST_F(PrefixCacheTest, EvictedBlocksAreMissesAndPoolPressureIsHandled) {
  Instance in(RamOnly(), /*n_blocks=*/6);
  ASSERT_TRUE(in.cache.Open().ok());
  const auto t = Tokens(13);
  in.Run(t);  // 3 cached blocks
  const auto u = Tokens(21, 9000);
  in.Run(u);  // needs 6 blocks: evicts all of t's
  Seq s;
  in.Admit(t, &s);
  EXPECT_EQ(s.match.tokens, 0);
  EXPECT_GE(in.cache.Stats().ram_evictions, 3u);
}

// ---- the disk tier behind the cache -----------------------------------------------------------

TEST_F(PrefixCacheTest, RestartRestoresBlocksFromDisk) {
  const auto t = Tokens(14);
  std::vector<uint64_t> keys;
  {
    Instance in(WithDisk());
    ASSERT_TRUE(in.cache.Open().ok());
    ASSERT_TRUE(in.cache.disk_enabled());
    keys = in.Run(t);
    in.cache.Flush();
    PrefixCacheStats st = in.cache.Stats();
    EXPECT_EQ(st.disk.writes, 3u);
    EXPECT_EQ(st.disk.files, 3u);
    EXPECT_TRUE(st.disk.enabled);
  }
  Instance in(WithDisk());  // a new pool and cache on the same directory
  ASSERT_TRUE(in.cache.Open().ok());
  EXPECT_EQ(in.cache.Stats().disk.files, 3u);
  EXPECT_EQ(in.pool.n_cached(), 0);
  Seq s;
  in.Admit(t, &s);
  EXPECT_EQ(s.match.tokens, 12);
  EXPECT_EQ(s.match.disk_blocks, 3);
  EXPECT_EQ(s.match.ram_blocks, 0);
  EXPECT_EQ(s.keys, keys);
  ExpectBlocksHoldTheirKeys(in.pool, s);
  for (size_t j = 0; j < 3; ++j) EXPECT_EQ(in.pool.KeyOf(s.kv.blocks[j]), keys[j]);
  s.kv.Clear(in.pool);
  PrefixCacheStats st = in.cache.Stats();
  EXPECT_EQ(st.disk_hits, 3u);
  EXPECT_EQ(st.disk.loads, 3u);
  EXPECT_EQ(st.disk.writes, 0u);  // already on disk: not written again
  // Now in RAM as well.
  Seq again;
  in.Admit(t, &again);
  EXPECT_EQ(again.match.ram_blocks, 3);
  EXPECT_EQ(again.match.disk_blocks, 0);
  ExpectBlocksHoldTheirKeys(in.pool, again);
  again.kv.Clear(in.pool);
}

TEST_F(PrefixCacheTest, RamAndDiskBlocksCombineInOneMatch) {
  const auto t = Tokens(17);
  WriteToDisk(t);
  Instance in(WithDisk());
  ASSERT_TRUE(in.cache.Open().ok());
  Seq first;  // brings block 0 into RAM only
  PrefixMatch m = in.cache.Acquire(t, 5, &first.kv, &first.keys);
  EXPECT_EQ(m.disk_blocks, 1);
  first.kv.Clear(in.pool);
  Seq s;
  in.Admit(t, &s);
  EXPECT_EQ(s.match.tokens, 16);
  EXPECT_EQ(s.match.ram_blocks, 1);
  EXPECT_EQ(s.match.disk_blocks, 3);
  ExpectBlocksHoldTheirKeys(in.pool, s);
  s.kv.Clear(in.pool);
}

TEST_F(PrefixCacheTest, RamOnlyPassThenAFullPassExtendTheSameSequence) {
  const auto t = Tokens(17);
  WriteToDisk(t);
  Instance in(WithDisk());
  ASSERT_TRUE(in.cache.Open().ok());
  Seq warm;  // block 0 back in RAM
  in.cache.Acquire(t, 5, &warm.kv, &warm.keys);
  warm.kv.Clear(in.pool);
  const uint64_t misses_before = in.cache.Stats().misses;
  Seq s;
  PrefixMatch m = in.cache.Acquire(t, 16, &s.kv, &s.keys, /*ram_only=*/true);
  EXPECT_EQ(m.tokens, 4);
  EXPECT_EQ(m.ram_blocks, 1);
  EXPECT_EQ(m.disk_blocks, 0);
  EXPECT_EQ(s.kv.n_tokens, 4);
  EXPECT_EQ(in.cache.Stats().misses, misses_before);  // a stopped RAM-only pass is no miss
  EXPECT_TRUE(in.cache.NextOnDisk(t, 16, s.keys));
  EXPECT_FALSE(in.cache.NextOnDisk(t, 7, s.keys));  // the next block would pass max_tokens
  m = in.cache.Acquire(t, 16, &s.kv, &s.keys);      // continues after the RAM blocks
  EXPECT_EQ(m.tokens, 12);                          // counts only what this call added
  EXPECT_EQ(m.ram_blocks, 0);
  EXPECT_EQ(m.disk_blocks, 3);
  EXPECT_EQ(s.kv.n_tokens, 16);
  ASSERT_EQ(s.kv.blocks.size(), 4u);
  EXPECT_EQ(s.keys, ExpectedKeys(in.cache.root(), t, 16));
  ExpectBlocksHoldTheirKeys(in.pool, s);
  EXPECT_FALSE(in.cache.NextOnDisk(t, 16, s.keys));
  s.kv.Clear(in.pool);
}

TEST_F(PrefixCacheTest, DamagedDiskBlockEndsTheMatchAndIsRecomputed) {
  const auto t = Tokens(17);
  const std::string hex = KeyHex(WriteToDisk(t)[1]);
  const std::string path1 = tier_dir() + "/blocks/" + hex.substr(0, 2) + "/" + hex + ".kvb";
  auto bytes = ReadBytes(path1);
  bytes[bytes.size() - 3] ^= 0x10;  // K/V payload: the start-up scan does not notice
  WriteBytes(path1, bytes);
  Instance in(WithDisk());
  ASSERT_TRUE(in.cache.Open().ok());
  Seq s;
  in.Admit(t, &s);
  EXPECT_EQ(s.match.tokens, 4);
  EXPECT_EQ(s.match.disk_blocks, 1);
  ExpectBlocksHoldTheirKeys(in.pool, s);
  PrefixCacheStats st = in.cache.Stats();
  EXPECT_EQ(st.disk_load_failures, 1u);
  EXPECT_EQ(st.disk.quarantined, 1u);
  EXPECT_EQ(in.in_use(), 1);  // the block the failed load used went back to the pool
  EXPECT_FALSE(fs::exists(path1));
  // The request recomputes from there; the block is written again, correctly.
  in.Compute(t, 17, &s);
  s.kv.Clear(in.pool);
  in.cache.Flush();
  EXPECT_TRUE(fs::exists(path1));
  Instance in2(WithDisk());
  ASSERT_TRUE(in2.cache.Open().ok());
  Seq r;
  in2.Admit(t, &r);
  EXPECT_EQ(r.match.disk_blocks, 4);
  ExpectBlocksHoldTheirKeys(in2.pool, r);
  r.kv.Clear(in2.pool);
}

TEST_F(PrefixCacheTest, PersistOffWritesNothing) {
  PrefixCacheOptions o = WithDisk();
  o.persist = false;
  Instance in(o);
  ASSERT_TRUE(in.cache.Open().ok());
  in.Run(Tokens(13));
  in.cache.Flush();
  EXPECT_EQ(in.cache.Stats().disk.writes, 0u);
  EXPECT_TRUE(FilesUnder(tier_dir() + "/blocks").empty());
}

TEST_F(PrefixCacheTest, UnusableCacheDirectoryFallsBackToRam) {
  WriteBytes(scratch_.path() + "/file", {'x'});
  PrefixCacheOptions o = WithDisk();
  o.cache_dir = scratch_.path() + "/file/cache";
  Instance in(o);
  EXPECT_FALSE(in.cache.Open().ok());
  EXPECT_FALSE(in.cache.disk_enabled());
  const auto t = Tokens(13);
  in.Run(t, "agent");
  Seq s;
  in.Admit(t, &s);
  EXPECT_EQ(s.match.ram_blocks, 3);
  ExpectBlocksHoldTheirKeys(in.pool, s);
  s.kv.Clear(in.pool);
  EXPECT_TRUE(in.cache.GetAgent("agent").has_value());
  EXPECT_FALSE(in.cache.Stats().disk.enabled);
  // evict_only without a disk tier: the blocks leave RAM (there is nowhere to keep them).
  EXPECT_TRUE(in.cache.DeleteAgent("agent", /*evict_only=*/true));
  EXPECT_EQ(in.pool.n_cached(), 0);
  EXPECT_TRUE(in.cache.GetAgent("agent").has_value());
}

// ---- agent sessions ---------------------------------------------------------------------------

TEST_F(PrefixCacheTest, EndRequestCreatesAndUpdatesASession) {
  Instance in(WithDisk());
  ASSERT_TRUE(in.cache.Open().ok());
  const auto t = Tokens(14);
  const int64_t before = UnixMs();
  const auto keys = in.Run(t, "agent-1");
  in.cache.Flush();
  auto agents = in.cache.ListAgents();
  ASSERT_EQ(agents.size(), 1u);
  EXPECT_EQ(agents[0].session.id, "agent-1");
  auto info = in.cache.GetAgent("agent-1");
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->session.keys, keys);
  EXPECT_EQ(info->session.n_tokens, 14);
  EXPECT_EQ(info->session.requests, 1u);
  EXPECT_EQ(info->session.prompt_tokens, 14u);
  EXPECT_EQ(info->session.cached_tokens, 0u);
  EXPECT_GE(info->session.created_ms, before);
  EXPECT_GE(info->session.last_use_ms, info->session.created_ms);
  EXPECT_FALSE(info->session.pinned);
  EXPECT_EQ(info->blocks_in_ram, 3);
  EXPECT_EQ(info->blocks_on_disk, 3);
  EXPECT_FALSE(info->active);
  EXPECT_TRUE(fs::is_regular_file(session_file("agent-1")));
  EXPECT_FALSE(in.cache.GetAgent("agent-2").has_value());

  // The next turn: the context grows and is served from cache.
  auto t2 = t;
  for (int i = 0; i < 6; ++i) t2.push_back(500 + i);
  in.cache.BeginRequest("agent-1");
  EXPECT_TRUE(in.cache.GetAgent("agent-1")->active);
  PrefixMatch m;
  in.cache.EndRequest("agent-1", keys, 14, 0, 0);  // close the BeginRequest above
  const auto keys2 = in.Run(t2, "agent-1", &m);
  EXPECT_EQ(m.tokens, 12);
  info = in.cache.GetAgent("agent-1");
  EXPECT_FALSE(info->active);
  EXPECT_EQ(info->session.keys, keys2);
  EXPECT_EQ(info->session.keys.size(), 5u);
  EXPECT_EQ(info->session.n_tokens, 20);
  EXPECT_EQ(info->session.requests, 3u);
  EXPECT_EQ(info->session.prompt_tokens, 34u);
  EXPECT_EQ(info->session.cached_tokens, 12u);
  // Requests without an agent id only count.
  in.Run(Tokens(9, 3000));
  PrefixCacheStats st = in.cache.Stats();
  EXPECT_EQ(st.sessions, 1);
  EXPECT_EQ(st.sessions_hot, 1);
  EXPECT_EQ(st.prompt_tokens, 14u + 20u + 9u);
  EXPECT_EQ(st.cached_tokens, 12u);
  EXPECT_EQ(in.cache.ListAgents().size(), 1u);
}

TEST_F(PrefixCacheTest, ForkSharesKeysAndDeleteKeepsSharedBlocks) {
  Instance in(WithDisk());
  ASSERT_TRUE(in.cache.Open().ok());
  const auto t = Tokens(13);
  const auto keys = in.Run(t, "a");
  ASSERT_TRUE(in.cache.ForkAgent("a", "b").ok());
  auto b = in.cache.GetAgent("b");
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->session.keys, keys);
  EXPECT_EQ(b->session.n_tokens, 13);
  EXPECT_EQ(b->session.requests, 0u);
  EXPECT_FALSE(b->session.pinned);
  EXPECT_EQ(in.cache.ForkAgent("a", "b").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(in.cache.ForkAgent("nobody", "c").code(), StatusCode::kNotFound);
  EXPECT_EQ(in.cache.ListAgents().size(), 2u);

  // a continues and grows apart from b.
  auto longer = t;
  for (int i = 0; i < 8; ++i) longer.push_back(800 + i);
  const auto keys_a = in.Run(longer, "a");
  ASSERT_EQ(keys_a.size(), 5u);
  in.cache.Flush();
  EXPECT_TRUE(fs::exists(session_file("b")));
  std::vector<std::string> paths;
  for (uint64_t k : keys_a) {
    const std::string hex = KeyHex(k);
    paths.push_back(tier_dir() + "/blocks/" + hex.substr(0, 2) + "/" + hex + ".kvb");
    ASSERT_TRUE(fs::exists(paths.back()));
  }
  // Deleting a removes only the blocks b does not use.
  EXPECT_TRUE(in.cache.DeleteAgent("a", /*evict_only=*/false));
  EXPECT_FALSE(in.cache.GetAgent("a").has_value());
  EXPECT_FALSE(fs::exists(session_file("a")));
  for (size_t j = 0; j < 5; ++j) {
    const bool shared = j < 3;
    EXPECT_EQ(fs::exists(paths[j]), shared) << j;
    EXPECT_EQ(in.pool.Contains(keys_a[j]), shared) << j;
  }
  b = in.cache.GetAgent("b");
  EXPECT_EQ(b->blocks_in_ram, 3);
  EXPECT_EQ(b->blocks_on_disk, 3);
  EXPECT_FALSE(in.cache.DeleteAgent("a", false));
  // Deleting b, the last user, removes the rest.
  EXPECT_TRUE(in.cache.DeleteAgent("b", false));
  for (size_t j = 0; j < 3; ++j) {
    EXPECT_FALSE(fs::exists(paths[j])) << j;
    EXPECT_FALSE(in.pool.Contains(keys_a[j])) << j;
  }
  EXPECT_FALSE(fs::exists(session_file("b")));
  EXPECT_TRUE(in.cache.ListAgents().empty());
  EXPECT_EQ(in.cache.Stats().disk.files, 0u);
}

TEST_F(PrefixCacheTest, DeleteRightAfterARequestLeavesNoBlockFiles) {
  // The agent's blocks may still be queued for writing when it is deleted; a write finishing
  // after the delete must not bring them back.
  Instance in(WithDisk(), /*n_blocks=*/256);
  ASSERT_TRUE(in.cache.Open().ok());
  const auto t = Tokens(4 * 150 + 1, 40000);
  const auto keys = in.Run(t, "gone");
  EXPECT_TRUE(in.cache.DeleteAgent("gone", false));
  in.cache.Flush();
  EXPECT_TRUE(FilesUnder(tier_dir() + "/blocks").empty())
      << FilesUnder(tier_dir() + "/blocks").size() << " block files of a deleted agent remain";
  size_t in_ram = 0;
  for (uint64_t k : keys) in_ram += in.pool.Contains(k) ? 1 : 0;
  EXPECT_EQ(in_ram, 0u) << "blocks of a deleted agent are still published in RAM";
}

TEST_F(PrefixCacheTest, EvictOnlyKeepsDiskCopiesAndTheSession) {
  Instance in(WithDisk());
  ASSERT_TRUE(in.cache.Open().ok());
  const auto t = Tokens(13);
  const auto keys = in.Run(t, "a");
  EXPECT_TRUE(in.cache.DeleteAgent("a", /*evict_only=*/true));  // flushes before dropping RAM
  auto info = in.cache.GetAgent("a");
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->session.keys, keys);
  EXPECT_EQ(info->blocks_in_ram, 0);
  EXPECT_EQ(info->blocks_on_disk, 3);
  for (uint64_t k : keys) EXPECT_FALSE(in.pool.Contains(k));
  EXPECT_EQ(in.pool.n_cached(), 0);
  EXPECT_EQ(in.cache.Stats().sessions_hot, 0);
  Seq s;
  in.Admit(t, &s);
  EXPECT_EQ(s.match.disk_blocks, 3);
  EXPECT_EQ(s.match.ram_blocks, 0);
  ExpectBlocksHoldTheirKeys(in.pool, s);
  s.kv.Clear(in.pool);
  EXPECT_FALSE(in.cache.DeleteAgent("nobody", true));
}

TEST_F(PrefixCacheTest, PinnedSessionBlocksStayInRam) {
  Instance in(WithDisk(), /*n_blocks=*/8);
  ASSERT_TRUE(in.cache.Open().ok());
  const auto t = Tokens(13);
  const auto keys = in.Run(t, "a");
  in.cache.Flush();  // pending writes hold pool references too
  AgentInfo info = in.cache.PutAgent("a", true, std::nullopt);
  EXPECT_TRUE(info.session.pinned);
  EXPECT_EQ(in.cache.Stats().sessions_pinned, 1);
  EXPECT_EQ(in.pool.n_free(), 5);  // 3 blocks held by the pin
  // Pool pressure: everything else is allocated and released again, the pinned blocks stay.
  std::vector<int32_t> taken;
  for (;;) {
    auto b = in.pool.Allocate();
    if (!b.ok()) break;
    taken.push_back(*b);
  }
  EXPECT_EQ(taken.size(), 5u);
  for (int32_t b : taken) in.pool.Release(b);
  for (uint64_t k : keys) EXPECT_TRUE(in.pool.Contains(k));
  // A pinned session cannot be expired and keeps its pin through a new request.
  const auto keys2 = in.Run(t, "a");
  EXPECT_EQ(keys2, keys);
  EXPECT_TRUE(in.cache.GetAgent("a")->session.pinned);
  EXPECT_EQ(in.pool.n_free(), 5);
  // Unpinned: the blocks are ordinary cached blocks again.
  in.cache.PutAgent("a", false, std::nullopt);
  EXPECT_EQ(in.pool.n_free(), 8);
  EXPECT_EQ(in.pool.n_cached(), 3);
  EXPECT_EQ(in.cache.Stats().sessions_pinned, 0);
}

TEST_F(PrefixCacheTest, SessionsSurviveARestart) {
  const auto t = Tokens(13);
  std::vector<uint64_t> keys;
  {
    Instance in(WithDisk());
    ASSERT_TRUE(in.cache.Open().ok());
    keys = in.Run(t, "agent.one");
    in.Run(t, "agent.one");
    in.cache.PutAgent("agent.one", true, int64_t{5000});
    in.cache.PutAgent("empty_agent", std::nullopt, std::nullopt);
    in.cache.Flush();
  }
  // Leftovers the scan must cope with: a temp file, another model's record, a record whose
  // name and id differ, and junk.
  const std::string agents = tier_dir() + "/agents/";
  WriteBytes(agents + "x.json.tmp-1-2", {'{'});
  AgentSession foreign;
  foreign.id = "foreign";
  WriteBytes(agents + "foreign.json", [&] {
    const std::string j = foreign.ToJson(kFingerprint ^ 1);
    return std::vector<uint8_t>(j.begin(), j.end());
  }());
  AgentSession misnamed;
  misnamed.id = "real-name";
  WriteBytes(agents + "other-name.json", [&] {
    const std::string j = misnamed.ToJson(kFingerprint);
    return std::vector<uint8_t>(j.begin(), j.end());
  }());
  WriteBytes(agents + "junk.json", {'n', 'o', 'p', 'e'});

  Instance in(WithDisk());
  ASSERT_TRUE(in.cache.Open().ok());
  auto agents_list = in.cache.ListAgents();
  ASSERT_EQ(agents_list.size(), 2u);
  auto a = in.cache.GetAgent("agent.one");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->session.keys, keys);
  EXPECT_EQ(a->session.n_tokens, 13);
  EXPECT_EQ(a->session.requests, 2u);
  EXPECT_EQ(a->session.cached_tokens, 12u);
  EXPECT_TRUE(a->session.pinned);
  EXPECT_EQ(a->session.ttl_ms, 5000);
  EXPECT_EQ(a->blocks_on_disk, 3);
  EXPECT_EQ(a->blocks_in_ram, 0);
  auto e = in.cache.GetAgent("empty_agent");
  ASSERT_TRUE(e.has_value());
  EXPECT_TRUE(e->session.keys.empty());
  EXPECT_FALSE(in.cache.GetAgent("foreign").has_value());
  EXPECT_FALSE(in.cache.GetAgent("real-name").has_value());
  EXPECT_FALSE(fs::exists(agents + "x.json.tmp-1-2"));
  EXPECT_FALSE(fs::exists(agents + "foreign.json"));
  EXPECT_FALSE(fs::exists(agents + "junk.json"));
  EXPECT_EQ(FilesUnder(tier_dir() + "/quarantine").size(), 3u);
  // The restored session's context is served from disk.
  Seq s;
  in.Admit(t, &s);
  EXPECT_EQ(s.match.disk_blocks, 3);
  ExpectBlocksHoldTheirKeys(in.pool, s);
  s.kv.Clear(in.pool);
  // Unpinning is persisted as well.
  in.cache.PutAgent("agent.one", false, std::nullopt);
  in.cache.Flush();
  Instance in2(WithDisk());
  ASSERT_TRUE(in2.cache.Open().ok());
  EXPECT_FALSE(in2.cache.GetAgent("agent.one")->session.pinned);
}

TEST_F(PrefixCacheTest, ExpireSessionsHonoursTtlPinsAndActivity) {
  constexpr int64_t kTtl = 200;
  Instance in(WithDisk(kTtl));
  ASSERT_TRUE(in.cache.Open().ok());
  const auto start = std::chrono::steady_clock::now();
  const auto old_keys = in.Run(Tokens(9, 100), "old");
  in.Run(Tokens(9, 2000), "forever");
  in.cache.PutAgent("forever", std::nullopt, int64_t{0});
  in.Run(Tokens(9, 4000), "pinned");
  in.cache.PutAgent("pinned", true, std::nullopt);
  in.Run(Tokens(9, 6000), "busy");
  in.cache.BeginRequest("busy");
  in.Run(Tokens(9, 8000), "fresh");
  in.cache.PutAgent("fresh", std::nullopt, int64_t{600000});
  EXPECT_EQ(in.cache.GetAgent("old")->session.ttl_ms, kTtl);  // the default TTL
  if (std::chrono::steady_clock::now() - start < std::chrono::milliseconds(kTtl / 2)) {
    EXPECT_EQ(in.cache.ExpireSessions(), 0);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(kTtl + 50));
  EXPECT_EQ(in.cache.ExpireSessions(), 1);
  EXPECT_FALSE(in.cache.GetAgent("old").has_value());
  for (const char* id : {"forever", "pinned", "busy", "fresh"}) {
    EXPECT_TRUE(in.cache.GetAgent(id).has_value()) << id;
  }
  in.cache.Flush();
  EXPECT_FALSE(fs::exists(session_file("old")));
  for (uint64_t k : old_keys) EXPECT_FALSE(in.pool.Contains(k));
  EXPECT_EQ(in.cache.Stats().disk.files, 8u);  // 2 blocks each for the 4 remaining agents
  // Once the busy agent's request ends (and its TTL passes) it expires too.
  in.cache.EndRequest("busy", in.cache.GetAgent("busy")->session.keys, 9, 0, 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(kTtl + 50));
  EXPECT_EQ(in.cache.ExpireSessions(), 1);
  EXPECT_FALSE(in.cache.GetAgent("busy").has_value());
}

TEST_F(PrefixCacheTest, ClearDropsEverything) {
  Instance in(WithDisk());
  ASSERT_TRUE(in.cache.Open().ok());
  const auto t = Tokens(13);
  in.Run(t, "a");
  in.Run(Tokens(9, 5000), "b");
  in.cache.PutAgent("b", true, std::nullopt);
  Seq held;  // a running sequence keeps its blocks
  in.Admit(Tokens(9, 5000), &held);
  EXPECT_EQ(held.match.tokens, 8);
  in.cache.Clear();
  EXPECT_TRUE(in.cache.ListAgents().empty());
  EXPECT_EQ(in.pool.n_cached(), 0);
  EXPECT_EQ(in.cache.Stats().disk.files, 0u);
  EXPECT_TRUE(FilesUnder(tier_dir() + "/blocks").empty());
  EXPECT_TRUE(FilesUnder(tier_dir() + "/agents").empty());
  ExpectBlocksHoldTheirKeys(in.pool, held);
  held.kv.Clear(in.pool);
  Seq s;
  in.Admit(t, &s);
  EXPECT_EQ(s.match.tokens, 0);
  // Nothing comes back after a restart either.
  Instance in2(WithDisk());
  ASSERT_TRUE(in2.cache.Open().ok());
  EXPECT_TRUE(in2.cache.ListAgents().empty());
  EXPECT_EQ(in2.cache.Stats().disk.files, 0u);
}

}  // namespace
}  // namespace semantic::kv
