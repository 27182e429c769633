// Sliding-window layouts (Gemma 3): the exact-prefix rule, the pool's sliding slots (held,
// cached, evicted before whole blocks' global layers), and prefix matches shortened to a boundary
// whose last window still has its parts — from RAM and after a restart from disk.
#include <gtest/gtest.h>
#include <xxhash.h>

#include <cstddef>
#include <cstring>
#include <filesystem>
#include <memory>
#include <set>
#include <vector>

#include "kv/block_file.h"
#include "kv/block_key.h"
#include "kv/disk_tier.h"
#include "kv/kv_pool.h"
#include "kv/prefix_cache.h"
#include "kv_test_util.h"

namespace semantic::kv {
namespace {

using namespace testing_util;

constexpr int kBt = 4;

// 3 layers (0 and 1 sliding, 2 global), 1 KV head, head_dim 8, 4 tokens a block, window 8: a
// query at position p reads positions > p - 8 on layers 0 and 1.
KvLayout SlidingLayout() {
  KvLayout l{3, 1, 8, kBt};
  l.window = 8;
  l.set_sliding(0);
  l.set_sliding(1);
  return l;
}

std::vector<int32_t> Tokens(int n, int32_t base = 100) {
  std::vector<int32_t> t(n);
  for (int i = 0; i < n; ++i) t[i] = base + i * 3;
  return t;
}

// The rule spelled out: k blocks qualify when every block a sequence at k * kBt positions still
// reads on the sliding layers has its part.
int BruteForceUsable(const KvLayout& l, const std::vector<bool>& has) {
  for (int k = static_cast<int>(has.size()); k > 0; --k) {
    bool ok = true;
    for (int i = 0; i < k; ++i) {
      const int last_pos = (i + 1) * l.block_tokens - 1;
      const bool read = last_pos > k * l.block_tokens - l.window;  // by the query at k * bt
      if (read && !has[i]) ok = false;
    }
    if (ok) return k;
  }
  return 0;
}

TEST(SlidingLayoutTest, SlidingFromBlockFollowsTheWindow) {
  const KvLayout l = SlidingLayout();
  EXPECT_EQ(l.n_sliding(), 2);
  EXPECT_TRUE(l.sliding(0) && l.sliding(1) && !l.sliding(2));
  EXPECT_EQ(l.sliding_block_bytes(), 2 * l.block_bytes() / 3);
  EXPECT_EQ(l.global_block_bytes(), l.block_bytes() / 3);
  // The next query at n reads positions >= n - 7.
  EXPECT_EQ(l.sliding_from_block(0), 0);
  EXPECT_EQ(l.sliding_from_block(8), 0);   // reads 1..8
  EXPECT_EQ(l.sliding_from_block(11), 1);  // reads 4..11
  EXPECT_EQ(l.sliding_from_block(12), 1);  // reads 5..12
  EXPECT_EQ(l.sliding_from_block(15), 2);  // reads 8..15
  KvLayout plain{3, 1, 8, kBt};
  EXPECT_FALSE(plain.has_sliding());
  EXPECT_EQ(plain.sliding_from_block(100), 0);
}

TEST(SlidingLayoutTest, UsablePrefixIsTheLongestExactBoundary) {
  const KvLayout l = SlidingLayout();
  auto usable = [&](int n, std::set<int> missing) {
    return UsablePrefixBlocks(l, n, [&](int i) { return !missing.count(i); });
  };
  EXPECT_EQ(usable(6, {}), 6);
  EXPECT_EQ(usable(6, {0, 1, 2, 3}), 6);  // old parts are not read past 24 positions
  EXPECT_EQ(usable(6, {4}), 4);           // 4 blocks need only blocks 2 and 3
  EXPECT_EQ(usable(6, {5}), 5);
  EXPECT_EQ(usable(6, {3, 5}), 3);
  EXPECT_EQ(usable(6, {1, 3, 5}), 1);     // 3 blocks need 1 and 2; 1 block only 0
  EXPECT_EQ(usable(6, {0, 1, 3, 5}), 0);
  EXPECT_EQ(usable(2, {0}), 0);
  EXPECT_EQ(usable(0, {}), 0);
  KvLayout plain{3, 1, 8, kBt};
  EXPECT_EQ(UsablePrefixBlocks(plain, 6, [](int) { return false; }), 6);
  // Every pattern of missing parts over 9 blocks, at two window sizes, against the definition.
  for (int window : {8, 13}) {
    KvLayout w = SlidingLayout();
    w.window = window;
    for (int mask = 0; mask < (1 << 9); ++mask) {
      std::vector<bool> has(9);
      for (int i = 0; i < 9; ++i) has[i] = !((mask >> i) & 1);
      EXPECT_EQ(UsablePrefixBlocks(w, 9, [&](int i) { return static_cast<bool>(has[i]); }),
                BruteForceUsable(w, has))
          << "window " << window << " mask " << mask;
    }
  }
}

TEST(SlidingPoolTest, SlotsHoldTheSlidingLayersApartFromTheBlocks) {
  const KvLayout l = SlidingLayout();
  KvPool pool(l, 4, 3);
  EXPECT_EQ(pool.bytes(), 4 * l.global_block_bytes() + 3 * l.sliding_block_bytes());
  EXPECT_EQ(pool.n_sliding_slots(), 3);
  std::vector<int32_t> b;
  for (int i = 0; i < 3; ++i) {
    auto a = pool.Allocate();
    ASSERT_TRUE(a.ok());
    b.push_back(*a);
    EXPECT_TRUE(pool.HasSliding(*a));
  }
  // Blocks are left but slots are not: Allocate refuses and n_free says so.
  EXPECT_EQ(pool.n_free_blocks(), 1);
  EXPECT_EQ(pool.n_free(), 0);
  auto none = pool.Allocate();
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("sliding-window slots"), std::string::npos);
  // Every layer of every block is its own memory.
  const size_t n = kBt * l.row_bytes();
  for (int i = 0; i < 3; ++i)
    for (int layer = 0; layer < 3; ++layer) {
      std::memset(pool.K(b[i], layer), i * 16 + layer * 4 + 1, n);
      std::memset(pool.V(b[i], layer), i * 16 + layer * 4 + 2, n);
    }
  for (int i = 0; i < 3; ++i)
    for (int layer = 0; layer < 3; ++layer) {
      EXPECT_EQ(pool.K(b[i], layer)[0], i * 16 + layer * 4 + 1);
      EXPECT_EQ(pool.K(b[i], layer)[n - 1], i * 16 + layer * 4 + 1);
      EXPECT_EQ(pool.V(b[i], layer)[n - 1], i * 16 + layer * 4 + 2);
    }
  // An unpublished block's part is freed with its last reference; the block keeps its global
  // layer.
  pool.ReleaseSliding(b[0]);
  EXPECT_FALSE(pool.HasSliding(b[0]));
  EXPECT_EQ(pool.K(b[0], 2)[0], 2 * 4 + 1);
  EXPECT_EQ(pool.n_free(), 1);
  for (int i = 1; i < 3; ++i) pool.ReleaseSliding(b[i]);
  for (int32_t x : b) pool.Release(x);
  EXPECT_EQ(pool.n_free(), 3);
  EXPECT_EQ(pool.n_free_blocks(), 4);
}

TEST(SlidingPoolTest, PublishedPartsStayCachedAndAreEvictedOldestFirst) {
  KvPool pool(SlidingLayout(), 16, 6);
  SequenceKv s;
  ASSERT_TRUE(s.Reserve(pool, 24).ok());  // 6 blocks, each with its part
  s.n_tokens = 24;
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(pool.Publish(s.blocks[i], 1000 + i));
  EXPECT_EQ(pool.n_sliding_in_use(), 6);
  s.DropSlidingBehind(pool);  // the next query (24) reads 17..24: blocks 4 and 5
  EXPECT_EQ(s.sliding_lo, 4);
  EXPECT_EQ(pool.n_sliding_in_use(), 2);
  EXPECT_EQ(pool.n_sliding_cached(), 4);
  for (int i = 0; i < 6; ++i) EXPECT_TRUE(pool.HasSliding(s.blocks[i])) << i;
  // New blocks take the least recently released parts: block 0's, then block 1's.
  SequenceKv t;
  ASSERT_TRUE(t.Reserve(pool, 8).ok());
  EXPECT_EQ(pool.sliding_evictions(), 2u);
  EXPECT_FALSE(pool.HasSliding(s.blocks[0]));
  EXPECT_FALSE(pool.HasSliding(s.blocks[1]));
  EXPECT_TRUE(pool.HasSliding(s.blocks[2]));
  EXPECT_TRUE(pool.Contains(1000) && !pool.ContainsSliding(1000) && pool.ContainsSliding(1002));
  // A released part cannot be held again; the hold changes nothing then.
  SequenceKv u;
  u.blocks = {pool.Lookup(1000), pool.Lookup(1001), pool.Lookup(1002)};
  u.n_tokens = 12;
  EXPECT_FALSE(u.HoldSliding(pool, 0));
  EXPECT_EQ(u.sliding_hi, 0);
  EXPECT_EQ(pool.n_sliding_cached(), 2);
  EXPECT_TRUE(u.HoldSliding(pool, 2));
  EXPECT_EQ(pool.n_sliding_cached(), 1);
  u.Clear(pool);
  t.Clear(pool);
  s.Clear(pool);
  EXPECT_EQ(pool.n_sliding_in_use(), 0);
  // Forgetting the blocks frees their parts.
  pool.ForgetAll();
  EXPECT_EQ(pool.n_sliding_cached(), 0);
  EXPECT_EQ(pool.n_free(), 6);
  EXPECT_EQ(pool.n_free_blocks(), 16);
}

TEST(SlidingPoolTest, EvictingACachedBlockFreesItsPart) {
  KvPool pool(SlidingLayout(), 2, 2);
  SequenceKv s;
  ASSERT_TRUE(s.Reserve(pool, 8).ok());
  s.n_tokens = 8;
  ASSERT_TRUE(pool.Publish(s.blocks[0], 7) && pool.Publish(s.blocks[1], 8));
  s.Clear(pool);
  EXPECT_EQ(pool.n_cached(), 2);
  EXPECT_EQ(pool.n_sliding_cached(), 2);
  SequenceKv t;
  ASSERT_TRUE(t.Reserve(pool, 4).ok());  // evicts block 7 whole (and reuses its part's slot)
  EXPECT_FALSE(pool.Contains(7));
  EXPECT_TRUE(pool.ContainsSliding(8));
  EXPECT_EQ(pool.n_sliding_in_use(), 1);
  EXPECT_EQ(pool.n_sliding_cached(), 1);
  t.Clear(pool);
}

TEST(SlidingBlockFileTest, TheSlidingPartIsWrittenOnlyWhenAskedAndReadBackExactly) {
  BlockFileIdentity id;
  id.model_fingerprint = kFingerprint;
  id.layout = SlidingLayout();
  KvPool pool(id.layout, 4, 4);
  const std::vector<int32_t> tokens = Tokens(kBt);
  const uint64_t parent = RootKey(kFingerprint, "");
  const uint64_t key = BlockKey(parent, tokens.data(), kBt);
  const int32_t src = *pool.Allocate();
  FillPattern(pool, src, key);
  const auto full = EncodeBlock(id, pool, src, key, parent, tokens.data());
  const auto global = EncodeBlock(id, pool, src, key, parent, tokens.data(), false);
  EXPECT_EQ(full.size(), BlockFileBytes(id));
  EXPECT_EQ(global.size(), BlockFileBytes(id, false));
  EXPECT_EQ(BlockFileBytes(id) - BlockFileBytes(id, false), id.layout.sliding_block_bytes());
  BlockFileHeader h;
  std::memcpy(&h, global.data(), sizeof(h));
  EXPECT_EQ(h.version, kBlockFormatVersionSliding);
  EXPECT_FALSE(BlockFileHasSliding(id, h));

  const int32_t dst = *pool.Allocate();
  bool had = false;
  FillSentinel(pool, dst);
  ASSERT_TRUE(DecodeBlock(id, full.data(), full.size(), key, parent, tokens.data(), pool, dst,
                          &had).ok());
  EXPECT_TRUE(had);
  EXPECT_TRUE(HasPattern(pool, dst, key));
  FillSentinel(pool, dst);
  ASSERT_TRUE(DecodeBlock(id, global.data(), global.size(), key, parent, tokens.data(), pool,
                          dst, &had).ok());
  EXPECT_FALSE(had);
  const size_t n = SlabElems(pool);
  for (size_t i = 0; i < n; ++i) {
    EXPECT_EQ(K16(pool, dst, 2)[i], PatternValue(key, 2, 0, i));
    EXPECT_EQ(V16(pool, dst, 2)[i], PatternValue(key, 2, 1, i));
    EXPECT_EQ(K16(pool, dst, 0)[i], kSentinel);  // not in the file: untouched
  }

  // A version-1 file of the same dims (every layer's K and V, in the same order) is a full
  // version-3 file; a version-3 file is never read by the plain layout.
  BlockFileIdentity plain = id;
  plain.layout = KvLayout{3, 1, 8, kBt};
  KvPool plain_pool(plain.layout, 2);
  const int32_t p = *plain_pool.Allocate();
  FillPattern(plain_pool, p, key);
  const auto v1 = EncodeBlock(plain, plain_pool, p, key, parent, tokens.data());
  FillSentinel(pool, dst);
  ASSERT_TRUE(DecodeBlock(id, v1.data(), v1.size(), key, parent, tokens.data(), pool, dst, &had)
                  .ok());
  EXPECT_TRUE(had);
  EXPECT_TRUE(HasPattern(pool, dst, key));
  for (const auto* img : {&full, &global}) {
    FillSentinel(plain_pool, p);
    const Status st = DecodeBlock(plain, img->data(), img->size(), key, parent, tokens.data(),
                                  plain_pool, p);
    EXPECT_FALSE(st.ok());
    EXPECT_NE(st.message().find("version 3"), std::string::npos) << st.message();
    EXPECT_TRUE(HasSentinel(plain_pool, p));
  }
  // A version-1 header over the shorter payload is refused, not read short.
  std::vector<uint8_t> forged = global;
  BlockFileHeader fh;
  std::memcpy(&fh, forged.data(), sizeof(fh));
  fh.version = kBlockFormatVersion;
  fh.header_xxh3 = XXH3_64bits(&fh, offsetof(BlockFileHeader, header_xxh3));
  std::memcpy(forged.data(), &fh, sizeof(fh));
  EXPECT_FALSE(CheckBlockHeader(id, fh, forged.size()).ok());
}

class SlidingPrefixTest : public ::testing::Test {
 protected:
  static BlockFileIdentity Identity() {
    BlockFileIdentity id;
    id.model_fingerprint = kFingerprint;
    id.layout = SlidingLayout();
    return id;
  }
  // One request as the executor runs it: admit, compute the rest block by block (a forward per
  // block, parts dropped behind the window after each), finish.
  static PrefixMatch Run(KvPool& pool, PrefixCache& cache, const std::vector<int32_t>& tokens,
                         const std::string& agent = "") {
    cache.BeginRequest(agent);
    SequenceKv kv;
    std::vector<uint64_t> keys;
    const PrefixMatch m =
        cache.Acquire(tokens, static_cast<int>(tokens.size()) - 1, &kv, &keys);
    size_t published = keys.size();
    for (size_t j = 0; j < keys.size(); ++j) {
      // Its global layer always, its sliding layers where it has them: at least the last window.
      const bool part = pool.HasSliding(kv.blocks[j]);
      if (static_cast<int>(j) >= kv.sliding_lo) {
        EXPECT_TRUE(part) << "reused block " << j;
      }
      const size_t n = SlabElems(pool);
      for (int l = 0; l < 3; ++l) {
        if (pool.layout().sliding(l) && !part) continue;
        for (size_t i = 0; i < n; ++i) {
          EXPECT_EQ(K16(pool, kv.blocks[j], l)[i], PatternValue(keys[j], l, 0, i)) << j;
          EXPECT_EQ(V16(pool, kv.blocks[j], l)[i], PatternValue(keys[j], l, 1, i)) << j;
        }
      }
    }
    std::vector<uint64_t> all;
    ExtendKeys(cache.root(), tokens, static_cast<int>(tokens.size()), kBt, &all);
    while (kv.n_tokens < static_cast<int>(tokens.size())) {
      const int n = std::min<int>(kBt - kv.n_tokens % kBt, tokens.size() - kv.n_tokens);
      EXPECT_TRUE(kv.Reserve(pool, n).ok());
      const int j = kv.n_tokens / kBt;
      if (j < static_cast<int>(all.size())) FillPattern(pool, kv.blocks[j], all[j]);
      kv.n_tokens += n;
      cache.Publish(tokens, &kv, &keys, &published);
      cache.DropSlidingBehind(tokens, &kv, keys);
    }
    cache.PersistHeld(tokens, kv, keys);
    cache.EndRequest(agent, keys, kv.n_tokens, static_cast<int>(tokens.size()), m.tokens);
    kv.Clear(pool);
    return m;
  }
};

std::vector<int32_t> Branch(const std::vector<int32_t>& trunk, int32_t base = 9000) {
  std::vector<int32_t> branch(trunk.begin(), trunk.begin() + 16);  // 4 shared blocks
  for (int i = 0; i < 9; ++i) branch.push_back(base + i);
  return branch;
}

TEST_F(SlidingPrefixTest, CachedPartsAllowAMatchAtAnEarlierBoundary) {
  const BlockFileIdentity id = Identity();
  KvPool pool(id.layout, 32, 10);
  PrefixCache cache(pool, id, {});
  const std::vector<int32_t> trunk = Tokens(25);  // 6 full blocks
  EXPECT_EQ(Run(pool, cache, trunk).tokens, 0);
  EXPECT_EQ(Run(pool, cache, trunk).tokens, 24);
  EXPECT_EQ(Run(pool, cache, Branch(trunk)).tokens, 16);
  EXPECT_EQ(pool.n_sliding_in_use(), 0);
}

TEST_F(SlidingPrefixTest, MatchIsShortenedToABoundaryWithItsWindow) {
  const BlockFileIdentity id = Identity();
  KvPool pool(id.layout, 32, 8);
  PrefixCache cache(pool, id, {});
  const std::vector<int32_t> trunk = Tokens(25);
  EXPECT_EQ(Run(pool, cache, trunk).tokens, 0);  // parts cached in the order 0, 1, ..., 5
  // Hold blocks 0-1 (a sequence at 8 positions reads both), then let new blocks take the other
  // cached parts, oldest first, until block 2's part is gone: the trunk still matches whole
  // (24 positions read only blocks 4 and 5), the branch only 2 blocks (4 would need block 2).
  SequenceKv hold;
  std::vector<uint64_t> hold_keys;
  EXPECT_EQ(cache.Acquire(trunk, 8, &hold, &hold_keys).tokens, 8);
  EXPECT_EQ(hold.sliding_lo, 0);
  EXPECT_EQ(hold.sliding_hi, 2);
  std::vector<uint64_t> trunk_keys;
  ExtendKeys(cache.root(), trunk, 24, kBt, &trunk_keys);
  SequenceKv filler;
  for (int i = 0; i < 8 && pool.ContainsSliding(trunk_keys[2]); ++i) {
    ASSERT_TRUE(filler.Reserve(pool, kBt).ok());
    filler.n_tokens += kBt;
  }
  filler.Clear(pool);
  ASSERT_FALSE(pool.ContainsSliding(trunk_keys[2]));
  ASSERT_TRUE(pool.Contains(trunk_keys[2]));  // the global layer is still there
  EXPECT_TRUE(pool.ContainsSliding(trunk_keys[4]) && pool.ContainsSliding(trunk_keys[5]));
  EXPECT_EQ(Run(pool, cache, trunk).tokens, 24);
  EXPECT_EQ(Run(pool, cache, Branch(trunk)).tokens, 8);
  hold.Clear(pool);
  EXPECT_EQ(pool.n_sliding_in_use(), 0);
}

TEST_F(SlidingPrefixTest, APinnedSessionKeepsItsLastWindow) {
  const BlockFileIdentity id = Identity();
  KvPool pool(id.layout, 32, 16);
  PrefixCache cache(pool, id, {});
  const std::vector<int32_t> pinned = Tokens(25), other = Tokens(25, 5000);
  Run(pool, cache, pinned, "pinned");
  Run(pool, cache, other, "other");
  cache.PutAgent("pinned", true, std::nullopt);
  EXPECT_EQ(pool.n_sliding_in_use(), 2);  // 24 positions read blocks 4 and 5 only
  // Slot pressure: every other part is taken.
  SequenceKv filler;
  while (filler.Reserve(pool, kBt).ok()) filler.n_tokens += kBt;
  EXPECT_EQ(filler.blocks.size(), 14u);
  filler.Clear(pool);
  EXPECT_EQ(Run(pool, cache, pinned).tokens, 24);
  EXPECT_EQ(Run(pool, cache, other).tokens, 0);  // its window went: recomputed whole
  cache.PutAgent("pinned", false, std::nullopt);
  EXPECT_EQ(pool.n_sliding_in_use(), 0);
}

TEST_F(SlidingPrefixTest, RestartRestoresEveryLayerFromDisk) {
  ScratchDir dir;
  PrefixCacheOptions o;
  o.cache_dir = dir.path();
  o.disk_budget = uint64_t{1} << 30;
  const BlockFileIdentity id = Identity();
  const std::vector<int32_t> t = Tokens(41);  // 10 full blocks
  std::vector<uint64_t> keys;
  {
    KvPool pool(id.layout, 32, 12);
    PrefixCache cache(pool, id, o);
    ASSERT_TRUE(cache.Open().ok());
    Run(pool, cache, t);
    ExtendKeys(cache.root(), t, 40, kBt, &keys);
  }  // flushed on exit
  // The blocks the sequence moved past were written without their sliding part, the last
  // window's (41 positions read blocks 8 and 9) with it.
  DiskTier probe(*std::make_unique<KvPool>(id.layout, 1), id);  // only for BlockPath
  ASSERT_TRUE(probe.Open(dir.path(), uint64_t{1} << 30).ok());
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(std::filesystem::file_size(probe.BlockPath(keys[i])),
              BlockFileBytes(id, /*with_sliding=*/i >= 8))
        << i;
    EXPECT_EQ(probe.HasSliding(keys[i]), i >= 8) << i;
  }
  // A small slot pool: the restore holds the last window's parts and the match is whole.
  KvPool pool(id.layout, 32, 5);
  PrefixCache cache(pool, id, o);
  ASSERT_TRUE(cache.Open().ok());
  const PrefixMatch m = Run(pool, cache, t);
  EXPECT_EQ(m.tokens, 40);
  EXPECT_EQ(m.disk_blocks, 10);
  EXPECT_EQ(pool.n_sliding_in_use(), 0);
}

TEST_F(SlidingPrefixTest, PartsEvictedFromRamAreReadBackFromDisk) {
  ScratchDir dir;
  PrefixCacheOptions o;
  o.cache_dir = dir.path();
  o.disk_budget = uint64_t{1} << 30;
  const BlockFileIdentity id = Identity();
  KvPool pool(id.layout, 32, 8);
  PrefixCache cache(pool, id, o);
  ASSERT_TRUE(cache.Open().ok());
  const std::vector<int32_t> trunk = Tokens(25);
  Run(pool, cache, trunk);
  cache.Flush();
  // Slot pressure takes every cached part; the blocks' global layers stay in RAM.
  SequenceKv filler;
  while (filler.Reserve(pool, kBt).ok()) filler.n_tokens += kBt;
  filler.Clear(pool);
  std::vector<uint64_t> keys;
  ExtendKeys(cache.root(), trunk, 24, kBt, &keys);
  for (uint64_t key : keys) EXPECT_TRUE(pool.Contains(key) && !pool.ContainsSliding(key));
  // From RAM alone the match is empty (its last window lost its parts)...
  SequenceKv ram;
  std::vector<uint64_t> ram_keys;
  EXPECT_EQ(cache.Acquire(trunk, 24, &ram, &ram_keys, /*ram_only=*/true).tokens, 0);
  ram.Clear(pool);
  // ...and whole once the parts of blocks 4 and 5 are read back from their files.
  const uint64_t loads = cache.Stats().disk.loads;
  EXPECT_EQ(Run(pool, cache, trunk).tokens, 24);
  EXPECT_EQ(cache.Stats().disk.loads, loads + 2);
  EXPECT_TRUE(pool.ContainsSliding(keys[4]) && pool.ContainsSliding(keys[5]));
}

TEST_F(SlidingPrefixTest, RestoreFromDiskFollowsTheExactnessRule) {
  ScratchDir dir;
  PrefixCacheOptions o;
  o.cache_dir = dir.path();
  o.disk_budget = uint64_t{1} << 30;
  const BlockFileIdentity id = Identity();
  const std::vector<int32_t> trunk = Tokens(25);
  {
    KvPool pool(id.layout, 32, 12);
    PrefixCache cache(pool, id, o);
    ASSERT_TRUE(cache.Open().ok());
    Run(pool, cache, trunk);
    EXPECT_EQ(Run(pool, cache, Branch(trunk)).tokens, 16);  // parts still cached in RAM
  }
  // After a restart the branch point's window (blocks 2 and 3) is on disk without its parts: a
  // new branch there starts over. The trunk's and the first branch's last windows were written
  // with them.
  KvPool pool(id.layout, 32, 12);
  PrefixCache cache(pool, id, o);
  ASSERT_TRUE(cache.Open().ok());
  EXPECT_EQ(Run(pool, cache, Branch(trunk, 7000)).tokens, 0);
  // Recomputing them gave the blocks read from disk their parts back: the branch point is
  // restorable again, from RAM.
  EXPECT_EQ(Run(pool, cache, Branch(trunk, 8000)).tokens, 16);
  EXPECT_EQ(Run(pool, cache, trunk).tokens, 24);
  EXPECT_EQ(Run(pool, cache, Branch(trunk)).tokens, 24);
}

}  // namespace
}  // namespace semantic::kv
