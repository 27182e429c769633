// Attention over a batch whose sequences share a cached prefix (the same physical blocks): the
// shared 1024-position segments are attended once for all of them, and every sequence's result
// is the same bits as attending it alone — across KV dtypes, tile-size limits, sinks, a sequence
// that shares nothing, one whose blocks match only at a segment's end, and a prefill chunk.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "base/thread_pool.h"
#include "kv/kv_pool.h"
#include "models/layers.h"

namespace semantic::models {
namespace {

struct SeqSpec {
  int shared = 0;         // leading positions taken from the base sequence's blocks (whole blocks)
  int n_pos = 0;          // positions in all
  int n_tok = 1;          // query tokens: the last n_tok positions
  int borrow_block = -1;  // >= 0: only this one block index is taken from the base sequence
};

struct SharedCase {
  kernels::KvDtype dt = kernels::KvDtype::kF16;
  int base_pos = 0;  // the base sequence (args[0]) holds this many positions
  std::vector<SeqSpec> seqs;
  int n_head = 9, n_kv = 3, hd = 64, bt = 16;
  bool sinks = false;
};

void CheckShared(const SharedCase& c, int64_t min_shared_tokens) {
  std::string what = std::string(kernels::KvDtypeName(c.dt)) + " base " +
                     std::to_string(c.base_pos) + " seqs " + std::to_string(c.seqs.size()) +
                     " heads " + std::to_string(c.n_head) + "/" + std::to_string(c.n_kv) +
                     (c.sinks ? " sinks" : "");
  int total_blocks = (c.base_pos + c.bt - 1) / c.bt + 1;
  for (const SeqSpec& s : c.seqs) total_blocks += (s.n_pos + c.bt - 1) / c.bt + 1;
  kv::KvPool pool(kv::KvLayout{1, c.n_kv, c.hd, c.bt, c.dt}, total_blocks);
  std::mt19937 rng(c.base_pos * 7 + static_cast<int>(c.seqs.size()));
  std::normal_distribution<float> nd(0.0f, 1.0f);
  const int kv_dim = c.n_kv * c.hd, row = c.n_head * c.hd;
  auto fill = [&](kv::SequenceKv& seq, int start, int n) {
    std::vector<float> k(static_cast<size_t>(n) * kv_dim), v(k.size());
    for (auto& e : k) e = nd(rng);
    for (auto& e : v) e = nd(rng);
    StoreKv(pool, seq, 0, start, n, k.data(), v.data());
  };
  // Sequence 0 is the base; the others take its leading blocks (Retain) and fill the rest.
  std::vector<SeqSpec> specs = {{0, c.base_pos, 1}};
  specs.insert(specs.end(), c.seqs.begin(), c.seqs.end());
  std::vector<kv::SequenceKv> seqs(specs.size());
  ASSERT_TRUE(seqs[0].Reserve(pool, c.base_pos).ok());
  fill(seqs[0], 0, c.base_pos);
  for (size_t i = 1; i < specs.size(); ++i) {
    const SeqSpec& s = specs[i];
    for (int b = 0; b < s.shared / c.bt; ++b) {
      seqs[i].blocks.push_back(seqs[0].blocks[b]);
      pool.Retain(seqs[0].blocks[b]);
    }
    seqs[i].n_tokens = s.shared;  // Reserve counts from the filled positions
    ASSERT_TRUE(seqs[i].Reserve(pool, s.n_pos - s.shared).ok());
    fill(seqs[i], s.shared, s.n_pos - s.shared);
    if (s.borrow_block >= 0) {  // same block at one index only
      pool.Release(seqs[i].blocks[s.borrow_block]);
      seqs[i].blocks[s.borrow_block] = seqs[0].blocks[s.borrow_block];
      pool.Retain(seqs[0].blocks[s.borrow_block]);
    }
  }
  std::vector<float> sinks(c.n_head);
  for (auto& e : sinks) e = 2.0f * nd(rng);
  std::vector<std::vector<float>> q(specs.size()), alone(specs.size()), batched(specs.size());
  std::vector<AttentionArgs> args(specs.size());
  for (size_t i = 0; i < specs.size(); ++i) {
    q[i].resize(static_cast<size_t>(specs[i].n_tok) * row);
    for (auto& e : q[i]) e = 2.0f * nd(rng);
    alone[i].assign(q[i].size(), 0.0f);
    batched[i].assign(q[i].size(), -1.0f);
    args[i] = {
        &pool,       &seqs[i], 0, specs[i].n_pos - specs[i].n_tok, specs[i].n_tok, c.n_head, 0.125f,
        q[i].data(), nullptr,  0, c.sinks ? sinks.data() : nullptr};
  }
  ThreadPool one(1), two(2);
  for (size_t i = 0; i < specs.size(); ++i) {
    AttentionArgs a = args[i];
    a.out = alone[i].data();
    Attention(&a, 1, one);
  }
  for (ThreadPool* threads : {&one, &two}) {
    for (size_t i = 0; i < specs.size(); ++i) args[i].out = batched[i].data();
    AttentionStats stats;
    Attention(args.data(), static_cast<int>(args.size()), *threads, &stats);
    EXPECT_GE(stats.shared_tokens, min_shared_tokens) << what;
    if (min_shared_tokens == 0) EXPECT_EQ(stats.shared_tiles, 0) << what;
    for (size_t i = 0; i < specs.size(); ++i)
      for (size_t j = 0; j < alone[i].size(); ++j)
        ASSERT_EQ(std::memcmp(&batched[i][j], &alone[i][j], sizeof(float)), 0)
            << what << " threads " << threads->size() << " seq " << i << " j " << j << ": "
            << batched[i][j] << " vs " << alone[i][j];
  }
  for (kv::SequenceKv& s : seqs) s.Clear(pool);
}

TEST(AttentionSharedPrefixTest, SharedSegmentsGiveTheBitsOfEachSequenceAlone) {
  for (kernels::KvDtype dt :
       {kernels::KvDtype::kF16, kernels::KvDtype::kQ8_0, kernels::KvDtype::kQ4_0}) {
    // Three sequences on a 2100-position prefix: two whole shared segments each, 3 KV heads.
    CheckShared({dt, 2300, {{2096, 2500}, {2096, 3100}}}, 2 * 3 * 3);
    // A prefix of exactly one segment, a sequence ending right after it, and one that shares
    // nothing (its own blocks everywhere).
    CheckShared({dt, 1030, {{1024, 1025}, {1024, 1500}, {0, 1400}}}, 3 * 3);
  }
}

TEST(AttentionSharedPrefixTest, TilesAreCutAtTheirSizeLimit) {
  // 9 query heads per KV head: tiles of at most 14 tokens, so 20 sharing sequences form a tile of
  // 14 and one of 6 per segment; group 1 takes 16 per tile.
  std::vector<SeqSpec> many(19, SeqSpec{1024, 1100});
  SharedCase nine{kernels::KvDtype::kF16, 1100, many, 9, 1, 64};
  CheckShared(nine, 20);
  SharedCase single{kernels::KvDtype::kF16, 1100, many, 4, 4, 32};
  CheckShared(single, 20 * 4);
}

TEST(AttentionSharedPrefixTest, SinksAndHeadDim128) {
  CheckShared({kernels::KvDtype::kF16, 2100, {{2048, 2200}, {2048, 2060}}, 8, 2, 128, 16, true},
              3 * 2 * 2);
}

TEST(AttentionSharedPrefixTest, OnlyWholeIdenticalSegmentsAreShared) {
  // Block 63 (the first segment's last) is the base's, the others are not: no sharing. A
  // prefill chunk of 40 tokens over the shared prefix is a tile of its own tokens; the
  // single-token sequence beside it still shares with the base.
  SeqSpec borrowed{0, 1300, 1, 63};
  CheckShared({kernels::KvDtype::kF16, 1300, {borrowed}}, 0);
  CheckShared({kernels::KvDtype::kF16, 1300, {{1024, 1200, 40}, {1024, 1100}}}, 2 * 3);
}

}  // namespace
}  // namespace semantic::models
