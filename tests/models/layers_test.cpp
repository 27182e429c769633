// Shared model layers: sliding-window attention over paged KV against a plain f64 softmax over
// exactly the positions in the window (optionally with attention sinks), and the GeGLU
// activation against the tanh-GELU formula.
#include "models/layers.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "base/fp16.h"
#include "base/thread_pool.h"
#include "kv/kv_pool.h"

namespace semantic::models {
namespace {

float RoundF16(float x) { return Fp16ToFp32(Fp32ToFp16(x)); }

// One sequence of n_pos positions of random K/V (f16 cache, head_dim hd, 1 KV head) and queries
// for its last n_tok positions; Attention with `window` (and, when `sinks`, a random per-head
// attention-sink logit in every softmax denominator) against the f64 oracle.
void CheckWindow(int n_pos, int n_tok, int window, int bt, int hd = 64, int n_head = 4,
                 bool sinks = false) {
  ThreadPool threads(2);
  kv::KvPool pool(kv::KvLayout{1, 1, hd, bt, kernels::KvDtype::kF16}, (n_pos + bt - 1) / bt + 1);
  kv::SequenceKv seq;
  ASSERT_TRUE(seq.Reserve(pool, n_pos).ok());
  std::mt19937 rng(n_pos * 131 + window * 7 + bt);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> k(static_cast<size_t>(n_pos) * hd), v(k.size());
  for (auto& e : k) e = nd(rng);
  for (auto& e : v) e = nd(rng);
  StoreKv(pool, seq, 0, 0, n_pos, k.data(), v.data());
  std::vector<float> q(static_cast<size_t>(n_tok) * n_head * hd), out(q.size());
  for (auto& e : q) e = nd(rng);
  std::vector<float> sink(n_head);
  for (auto& e : sink) e = 2.0f * nd(rng);
  const int start = n_pos - n_tok;
  const float scale = 0.125f;
  AttentionArgs a{&pool,       &seq,   0,      start, n_tok, n_head, scale, q.data(),
                  out.data(),  window, sinks ? sink.data() : nullptr};
  Attention(&a, 1, threads);
  for (int t = 0; t < n_tok; ++t) {
    const int end = start + t + 1, lo = window > 0 ? std::max(0, end - window) : 0;
    for (int h = 0; h < n_head; ++h) {
      const float* qh = &q[(static_cast<size_t>(t) * n_head + h) * hd];
      std::vector<double> s(end - lo);
      double mx = -1e300, sum = 0.0;
      for (int p = lo; p < end; ++p) {
        double d = 0.0;
        for (int i = 0; i < hd; ++i) d += RoundF16(qh[i]) * RoundF16(k[p * hd + i]);
        s[p - lo] = d * scale;
        mx = std::max(mx, s[p - lo]);
      }
      if (sinks) mx = std::max(mx, static_cast<double>(sink[h]));
      for (double& x : s) sum += (x = std::exp(x - mx));
      if (sinks) sum += std::exp(sink[h] - mx);  // the sink's weight, against no value
      for (int i = 0; i < hd; ++i) {
        double o = 0.0;
        for (int p = lo; p < end; ++p) o += s[p - lo] / sum * RoundF16(v[p * hd + i]);
        const float got = out[(static_cast<size_t>(t) * n_head + h) * hd + i];
        ASSERT_NEAR(got, o, 2e-3 + 2e-3 * std::fabs(o))
            << "n_pos " << n_pos << " window " << window << " bt " << bt << " sinks " << sinks
            << " t " << t << " h " << h
            << " i " << i;
      }
    }
  }
  seq.Clear(pool);
}

TEST(SlidingWindowAttentionTest, MatchesPlainSoftmaxOverTheWindow) {
  CheckWindow(40, 40, 0, 16);            // no window: full causal attention
  CheckWindow(40, 40, 64, 16);           // window wider than the context
  CheckWindow(100, 100, 37, 16);         // window starts inside a block for most queries
  CheckWindow(100, 7, 32, 16);           // decode-like: a few queries, window of two whole blocks
  CheckWindow(100, 100, 1, 16);          // only the query's own position
  CheckWindow(90, 90, 20, 5);            // odd block size
  CheckWindow(300, 3, 256, 16, 256, 4);  // Gemma 3's head_dim
}

// gpt-oss attention sinks: softmax over the positions plus one learned logit per head.
TEST(SlidingWindowAttentionTest, AttentionSinksJoinTheDenominator) {
  CheckWindow(40, 40, 0, 16, 64, 4, true);      // causal prefill
  CheckWindow(100, 100, 37, 16, 64, 4, true);   // sliding window inside blocks
  CheckWindow(100, 3, 0, 16, 64, 4, true);      // decode-like
  CheckWindow(2100, 3, 0, 16, 64, 4, true);     // segments split and merged, then the sink
  CheckWindow(2100, 2, 1500, 16, 64, 4, true);  // long window, split
}

TEST(SlidingWindowAttentionTest, LongWindowSplitIntoSegments) {
  // Windows longer than the 1024-position attention segment are split and merged.
  CheckWindow(2100, 3, 1500, 16);
  CheckWindow(2100, 2, 0, 16);
}

TEST(SlidingWindowAttentionTest, KeysOutsideTheWindowAreNotRead) {
  // Changing K/V before the window must not change the output.
  ThreadPool threads(2);
  const int hd = 32, n_pos = 50, window = 19, bt = 16;
  kv::KvPool pool(kv::KvLayout{1, 1, hd, bt, kernels::KvDtype::kF16}, 8);
  kv::SequenceKv seq;
  ASSERT_TRUE(seq.Reserve(pool, n_pos).ok());
  std::vector<float> k(n_pos * hd, 0.5f), v(n_pos * hd, 0.25f), q(hd, 1.0f), a(hd), b(hd);
  StoreKv(pool, seq, 0, 0, n_pos, k.data(), v.data());
  AttentionArgs args{&pool, &seq, 0, n_pos - 1, 1, 1, 1.0f, q.data(), a.data(), window};
  Attention(&args, 1, threads);
  std::vector<float> big(hd, 100.0f);
  for (int p = 0; p < n_pos - window; ++p) StoreKv(pool, seq, 0, p, 1, big.data(), big.data());
  args.out = b.data();
  Attention(&args, 1, threads);
  EXPECT_EQ(a, b);
  for (float x : a) EXPECT_NEAR(x, 0.25f, 1e-3f);
  seq.Clear(pool);
}

TEST(GeluTanhGluTest, MatchesFormulaWithF16Rounding) {
  std::vector<float> g, up;
  for (float x = -12.0f; x <= 12.0f; x += 0.01f) {
    g.push_back(x);
    up.push_back(1.5f);
  }
  std::vector<float> y = g;
  GeluTanhGlu(y.data(), up.data(), static_cast<int64_t>(y.size()));
  for (size_t i = 0; i < g.size(); ++i) {
    const double x = g[i];
    const double exact =
        0.5 * x * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
    const double want = x <= -10 ? 0.0 : x >= 10 ? x : exact;
    // f16 rounding of the input and of the result: a relative error of about 2^-10.
    EXPECT_NEAR(y[i], 1.5 * want, 4e-3 * std::fabs(want) * 1.5 + 1e-4) << "x " << x;
  }
}

// The table lookup gives what computing the f16-rounded formula per element gives, bit for bit:
// every f16 input, and f32 inputs between f16 values (rounded to f16 first).
TEST(GeluTanhGluTest, TableEqualsDirectF16Formula) {
  auto direct = [](float g) {
    if (g <= -10.0f) return 0.0f;
    if (g >= 10.0f) return g;
    const float x = Fp16ToFp32(Fp32ToFp16(g));
    return Fp16ToFp32(Fp32ToFp16(
        0.5f * x * (1.0f + std::tanh(0.79788456080286535588f * x * (1.0f + 0.044715f * x * x)))));
  };
  std::vector<float> g;
  for (uint32_t h = 0; h < (1u << 16); ++h) {
    const float x = Fp16ToFp32(static_cast<uint16_t>(h));
    if (std::isfinite(x)) g.push_back(x);
  }
  for (float x = -11.0f; x <= 11.0f; x += 0.000917f) g.push_back(x);
  std::vector<float> y = g, up(g.size(), 0.75f);
  GeluTanhGlu(y.data(), up.data(), static_cast<int64_t>(y.size()));
  for (size_t i = 0; i < g.size(); ++i) ASSERT_EQ(y[i], direct(g[i]) * 0.75f) << "x " << g[i];
}

}  // namespace
}  // namespace semantic::models
