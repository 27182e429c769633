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

}  // namespace
}  // namespace semantic::kv
