// KV block pool: allocation, ref counts, exhaustion and sequence block tables.
#include <gtest/gtest.h>

#include "kv/kv_pool.h"

namespace semantic::kv {
namespace {

TEST(KvPoolTest, AllocateReleaseAndExhaust) {
  KvPool pool({2, 1, 4, 8}, 3);
  EXPECT_EQ(pool.n_free(), 3);
  auto a = pool.Allocate(), b = pool.Allocate(), c = pool.Allocate();
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_NE(*a, *b);
  auto d = pool.Allocate();
  EXPECT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("exhausted"), std::string::npos);
  pool.Retain(*b);
  pool.Release(*b);
  EXPECT_EQ(pool.n_free(), 0);
  pool.Release(*b);
  EXPECT_EQ(pool.n_free(), 1);
}

TEST(KvPoolTest, BlocksDoNotOverlap) {
  KvLayout L{3, 2, 4, 4};
  KvPool pool(L, 2);
  for (int b = 0; b < 2; ++b)
    for (int l = 0; l < 3; ++l) {
      for (int i = 0; i < L.block_tokens * L.kv_dim(); ++i) {
        pool.K(b, l)[i] = static_cast<uint16_t>(b * 1000 + l * 10 + 1);
        pool.V(b, l)[i] = static_cast<uint16_t>(b * 1000 + l * 10 + 2);
      }
    }
  for (int b = 0; b < 2; ++b)
    for (int l = 0; l < 3; ++l) {
      EXPECT_EQ(pool.K(b, l)[0], b * 1000 + l * 10 + 1);
      EXPECT_EQ(pool.V(b, l)[L.block_tokens * L.kv_dim() - 1], b * 1000 + l * 10 + 2);
    }
}

TEST(KvPoolTest, SequenceReserveGrowsByBlocks) {
  KvPool pool({1, 1, 2, 4}, 4);
  SequenceKv s;
  ASSERT_TRUE(s.Reserve(pool, 5).ok());
  EXPECT_EQ(s.blocks.size(), 2u);
  s.n_tokens = 5;
  ASSERT_TRUE(s.Reserve(pool, 3).ok());
  EXPECT_EQ(s.blocks.size(), 2u);
  ASSERT_TRUE(s.Reserve(pool, 4).ok());
  EXPECT_EQ(s.blocks.size(), 3u);
  EXPECT_FALSE(s.Reserve(pool, 100).ok());
  s.Clear(pool);
  EXPECT_EQ(pool.n_free(), 4);
}

TEST(KvPoolTest, PublishedBlocksAreCachedAfterReleaseAndFoundByKey) {
  KvPool pool({1, 1, 2, 4}, 3);
  auto a = pool.Allocate();
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(pool.Publish(*a, 42));
  EXPECT_TRUE(pool.Publish(*a, 42));  // idempotent
  auto b = pool.Allocate();
  EXPECT_FALSE(pool.Publish(*b, 42)); // the key belongs to a
  pool.Release(*a);
  pool.Release(*b);
  EXPECT_EQ(pool.n_free(), 3);   // cached blocks still count as allocatable
  EXPECT_EQ(pool.n_cached(), 1);
  EXPECT_EQ(pool.Lookup(42), *a);
  EXPECT_EQ(pool.RefCount(*a), 1);
  EXPECT_EQ(pool.n_cached(), 0);
  EXPECT_EQ(pool.Lookup(7), -1);
  pool.Release(*a);
  EXPECT_TRUE(pool.Contains(42));
}

TEST(KvPoolTest, AllocateEvictsLeastRecentlyReleasedCachedBlockLast) {
  KvPool pool({1, 1, 2, 4}, 3);
  int32_t ids[3];
  for (int i = 0; i < 3; ++i) {
    ids[i] = *pool.Allocate();
    ASSERT_TRUE(pool.Publish(ids[i], 100 + i));
  }
  pool.Release(ids[1]);
  pool.Release(ids[0]);
  pool.Release(ids[2]);  // LRU order: 1, 0, 2
  EXPECT_EQ(*pool.Allocate(), ids[1]);
  EXPECT_FALSE(pool.Contains(101));
  EXPECT_EQ(pool.KeyOf(ids[1]), 0u);
  EXPECT_EQ(pool.Lookup(100), ids[0]);  // touched: no longer evictable
  EXPECT_EQ(*pool.Allocate(), ids[2]);
  EXPECT_FALSE(pool.Allocate().ok());
  EXPECT_EQ(pool.evictions(), 2u);
  EXPECT_TRUE(pool.Contains(100));
}

TEST(KvPoolTest, ForgetFreesOnlyUnusedCachedBlocks) {
  KvPool pool({1, 1, 2, 4}, 2);
  int32_t a = *pool.Allocate();
  ASSERT_TRUE(pool.Publish(a, 9));
  EXPECT_FALSE(pool.Forget(9));  // in use
  pool.Release(a);
  EXPECT_TRUE(pool.Forget(9));
  EXPECT_FALSE(pool.Contains(9));
  EXPECT_EQ(pool.n_cached(), 0);
  EXPECT_EQ(pool.n_free(), 2);
}

}  // namespace
}  // namespace semantic::kv
