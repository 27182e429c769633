// Attention's batch invariance at the layer: the queries of a prompt attended in one call (tiles
// of prefill tokens), in chunks, or one token per call (as decode does) give the same bits, on
// one thread or two, across the 1024-position segment split and under a sliding window, with and
// without attention sinks.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "base/thread_pool.h"
#include "kv/kv_pool.h"
#include "models/layers.h"

namespace semantic::models {
namespace {

struct ChunkCase {
  kernels::KvDtype dt = kernels::KvDtype::kF16;
  int n_pos = 0, n_tok = 0;  // queries for the last n_tok of n_pos positions
  int window = 0, bt = 16, hd = 64, n_head = 9, n_kv = 3;
  bool sinks = false;  // per-head attention-sink logits (gpt-oss)
};

// out: [n_tok][n_head][hd] from Attention calls over chunks of `chunk` tokens.
std::vector<float> Run(const ChunkCase& c, kv::KvPool& pool, const kv::SequenceKv& seq,
                       const std::vector<float>& q, const std::vector<float>& sinks, int chunk,
                       ThreadPool& threads) {
  std::vector<float> out(q.size());
  const int start = c.n_pos - c.n_tok, row = c.n_head * c.hd;
  for (int t0 = 0; t0 < c.n_tok; t0 += chunk) {
    const int n = std::min(chunk, c.n_tok - t0);
    AttentionArgs a{&pool,
                    &seq,
                    0,
                    start + t0,
                    n,
                    c.n_head,
                    0.125f,
                    q.data() + t0 * row,
                    out.data() + t0 * row,
                    c.window,
                    c.sinks ? sinks.data() : nullptr};
    Attention(&a, 1, threads);
  }
  return out;
}

void CheckChunking(const ChunkCase& c) {
  const std::string what = std::string(kernels::KvDtypeName(c.dt)) + " n_pos " +
                           std::to_string(c.n_pos) + " n_tok " + std::to_string(c.n_tok) +
                           " window " + std::to_string(c.window) + " bt " + std::to_string(c.bt) +
                           " hd " + std::to_string(c.hd) + (c.sinks ? " sinks" : "");
  kv::KvPool pool(kv::KvLayout{1, c.n_kv, c.hd, c.bt, c.dt}, (c.n_pos + c.bt - 1) / c.bt + 1);
  kv::SequenceKv seq;
  ASSERT_TRUE(seq.Reserve(pool, c.n_pos).ok());
  std::mt19937 rng(c.n_pos * 31 + c.n_tok + c.bt);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> k(static_cast<size_t>(c.n_pos) * c.n_kv * c.hd), v(k.size());
  for (auto& e : k) e = nd(rng);
  for (auto& e : v) e = nd(rng);
  StoreKv(pool, seq, 0, 0, c.n_pos, k.data(), v.data());
  std::vector<float> q(static_cast<size_t>(c.n_tok) * c.n_head * c.hd);
  for (auto& e : q) e = 2.0f * nd(rng);
  std::vector<float> sinks(c.n_head);
  for (auto& e : sinks) e = 2.0f * nd(rng);
  ThreadPool one(1), two(2);
  const std::vector<float> decode = Run(c, pool, seq, q, sinks, 1, one);
  for (int chunk : {c.n_tok, 13, 8}) {
    for (ThreadPool* threads : {&one, &two}) {
      const std::vector<float> got = Run(c, pool, seq, q, sinks, chunk, *threads);
      for (size_t i = 0; i < got.size(); ++i)
        ASSERT_EQ(std::memcmp(&got[i], &decode[i], sizeof(float)), 0)
            << what << " chunk " << chunk << " threads " << threads->size() << " i " << i << ": "
            << got[i] << " vs " << decode[i];
    }
  }
  seq.Clear(pool);
}

TEST(AttentionChunkingTest, PrefillTilesMatchOneTokenAtATime) {
  for (kernels::KvDtype dt :
       {kernels::KvDtype::kF16, kernels::KvDtype::kQ8_0, kernels::KvDtype::kQ4_0}) {
    CheckChunking({dt, 61, 61});                    // a prompt from position 0
    CheckChunking({dt, 1100, 90});                  // across the 1024-position segment split
    CheckChunking({dt, 75, 50, 0, 5});              // blocks of 5 positions
    CheckChunking({dt, 200, 40, 37, 16});           // a sliding window inside blocks
    CheckChunking({dt, 70, 30, 0, 16, 128, 8, 2});  // head_dim 128, groups of 4
    CheckChunking({dt, 61, 61, 0, 16, 64, 9, 3, true});      // attention sinks
    CheckChunking({dt, 1100, 90, 0, 16, 64, 9, 3, true});    // sinks across the segment split
    CheckChunking({dt, 200, 40, 37, 16, 64, 9, 3, true});    // sinks under a sliding window
  }
}

}  // namespace
}  // namespace semantic::models
