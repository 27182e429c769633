// KV block pool: allocation, ref counts, exhaustion and sequence block tables.
#include <gtest/gtest.h>

#include <cstring>

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

// The content generation that copies of the pool (the CUDA mirror) check: a block handed out
// again, or written other than by the forward pass (NoteWrite), is a new generation; holding and
// releasing it is not. Pools have distinct ids.
TEST(KvPoolTest, GenerationChangesWithNewContentOnly) {
  KvPool pool({2, 1, 4, 8}, 1), other({2, 1, 4, 8}, 1);
  EXPECT_NE(pool.id(), other.id());
  const int32_t b = *pool.Allocate();
  const uint32_t g0 = pool.Generation(b);
  pool.Retain(b);
  pool.Release(b);
  EXPECT_EQ(pool.Generation(b), g0);
  pool.NoteWrite(b);
  const uint32_t g1 = pool.Generation(b);
  EXPECT_NE(g1, g0);
  pool.Release(b);
  EXPECT_EQ(pool.Generation(b), g1);  // freed, not yet reused
  EXPECT_EQ(*pool.Allocate(), b);
  EXPECT_NE(pool.Generation(b), g1);
  uint32_t bulk[2] = {0, 0};
  const int32_t ids[2] = {b, b};
  pool.Generations(ids, 2, bulk);
  EXPECT_EQ(bulk[0], pool.Generation(b));
  EXPECT_EQ(bulk[1], pool.Generation(b));
}

TEST(KvPoolTest, BlocksDoNotOverlap) {
  for (kernels::KvDtype dt :
       {kernels::KvDtype::kF16, kernels::KvDtype::kQ8_0, kernels::KvDtype::kQ4_0}) {
    KvLayout L{3, 2, 32, 4, dt};
    KvPool pool(L, 2);
    const size_t n = L.block_tokens * L.row_bytes();  // bytes of one block's K (or V) of a layer
    for (int b = 0; b < 2; ++b)
      for (int l = 0; l < 3; ++l) {
        std::memset(pool.K(b, l), b * 16 + l * 4 + 1, n);
        std::memset(pool.V(b, l), b * 16 + l * 4 + 2, n);
      }
    for (int b = 0; b < 2; ++b)
      for (int l = 0; l < 3; ++l) {
        EXPECT_EQ(pool.K(b, l)[0], b * 16 + l * 4 + 1);
        EXPECT_EQ(pool.K(b, l)[n - 1], b * 16 + l * 4 + 1);
        EXPECT_EQ(pool.V(b, l)[0], b * 16 + l * 4 + 2);
        EXPECT_EQ(pool.V(b, l)[n - 1], b * 16 + l * 4 + 2);
      }
    EXPECT_EQ(pool.bytes(), L.block_bytes() * 2);
  }
}

TEST(KvPoolTest, RowBytesPerDtype) {
  KvLayout L{30, 3, 64, 16};  // SmolLM2-135M: kv_dim 192
  EXPECT_EQ(L.row_bytes(), 384u);
  L.dtype = kernels::KvDtype::kQ8_0;
  EXPECT_EQ(L.row_bytes(), 6u * 34);
  EXPECT_EQ(L.head_bytes(), 2u * 34);
  L.dtype = kernels::KvDtype::kQ4_0;
  EXPECT_EQ(L.row_bytes(), 6u * 18);
  EXPECT_EQ(L.block_bytes(), 30u * 2 * 16 * 6 * 18);
  EXPECT_TRUE(ValidateKvLayout(L).ok());
}

TEST(KvPoolTest, QuantizedDtypesNeedWholeBlocksPerHead) {
  KvLayout L{2, 4, 48, 16, kernels::KvDtype::kQ8_0};  // kv_dim 192 = 6 blocks, but 48 per head
  const Status st = ValidateKvLayout(L);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("head_dim is 48"), std::string::npos) << st.message();
  L.dtype = kernels::KvDtype::kF16;
  EXPECT_TRUE(ValidateKvLayout(L).ok());
}

TEST(KvPoolTest, VFromKLayoutStoresEachRowOnce) {
  // DeepSeek-V2's MLA row (kv_lora_rank 512 + rope 64) in q8_0: K and V rotate alike at 576.
  KvLayout L{3, 1, 576, 4, kernels::KvDtype::kQ8_0, /*v_from_k=*/true};
  ASSERT_TRUE(ValidateKvLayout(L).ok()) << ValidateKvLayout(L).message();
  KvLayout both = L;
  both.v_from_k = false;
  EXPECT_EQ(L.kv_slabs(), 1);
  EXPECT_EQ(L.token_bytes(), 3u * 18 * 34);
  EXPECT_EQ(L.block_bytes() * 2, both.block_bytes());
  KvPool pool(L, 2);
  EXPECT_EQ(pool.bytes(), L.block_bytes() * 2);
  const size_t n = L.block_tokens * L.row_bytes();
  for (int b = 0; b < 2; ++b)
    for (int l = 0; l < 3; ++l) {
      EXPECT_EQ(pool.V(b, l), pool.K(b, l));
      std::memset(pool.K(b, l), b * 16 + l * 4 + 1, n);
    }
  for (int b = 0; b < 2; ++b)
    for (int l = 0; l < 3; ++l) {
      EXPECT_EQ(pool.K(b, l)[0], b * 16 + l * 4 + 1);
      EXPECT_EQ(pool.K(b, l)[n - 1], b * 16 + l * 4 + 1);
    }
}

TEST(KvPoolTest, VFromKNeedsTheSameRotationForKAndV) {
  // head_dim 128 in q8_0 rotates K by H_128 and V by H_64: V read from K rows would be wrong.
  KvLayout L{1, 1, 128, 16, kernels::KvDtype::kQ8_0, /*v_from_k=*/true};
  const Status st = ValidateKvLayout(L);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("reads V from K rows"), std::string::npos) << st.message();
  L.dtype = kernels::KvDtype::kF16;
  EXPECT_TRUE(ValidateKvLayout(L).ok());
  L = {1, 1, 128, 16, kernels::KvDtype::kQ8_0, /*v_from_k=*/false};
  EXPECT_TRUE(ValidateKvLayout(L).ok());
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
