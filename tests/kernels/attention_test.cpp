// Paged attention: the AVX2 kernel against the scalar reference, and the reference against a
// plain f64 softmax-attention over the same (f16-rounded) inputs.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "base/fp16.h"
#include "kernels/attention.h"

namespace semantic::kernels {
namespace {

struct Fixture {
  int hd, n_q, n_pos, bt, n_kv_heads = 2, kvh = 1;
  std::vector<std::vector<uint16_t>> k_store, v_store;  // per block [bt][n_kv_heads*hd] f16
  std::vector<const uint16_t*> kb, vb;
  std::vector<float> q;  // [n_q][hd]

  Fixture(int hd_, int n_q_, int n_pos_, int bt_, uint32_t seed) : hd(hd_), n_q(n_q_), n_pos(n_pos_), bt(bt_) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> nd(0.0f, 1.0f);
    const int n_blocks = (n_pos + bt - 1) / bt;
    for (int b = 0; b < n_blocks; ++b) {
      k_store.emplace_back(static_cast<size_t>(bt) * n_kv_heads * hd);
      v_store.emplace_back(static_cast<size_t>(bt) * n_kv_heads * hd);
      for (auto& x : k_store.back()) x = Fp32ToFp16(nd(rng));
      for (auto& x : v_store.back()) x = Fp32ToFp16(nd(rng));
    }
    for (int b = 0; b < n_blocks; ++b) {
      kb.push_back(k_store[b].data() + kvh * hd);
      vb.push_back(v_store[b].data() + kvh * hd);
    }
    q.resize(static_cast<size_t>(n_q) * hd);
    for (auto& x : q) x = 2.0f * nd(rng);
  }
  PagedHeadKv Kv() const { return {kb.data(), vb.data(), bt, n_kv_heads * hd, hd}; }
};

TEST(AttentionTest, FastMatchesReference) {
  for (int hd : {8, 64, 128, 256})
    for (int n_q : {1, 3, 4})
      for (int n_pos : {1, 7, 16, 17, 100, 1000}) {
        Fixture f(hd, n_q, n_pos, 16, hd * 1000 + n_q * 10 + n_pos);
        std::vector<float> scratch(static_cast<size_t>(n_q) * n_pos), a(n_q * hd), b(n_q * hd);
        AttendGroup(f.Kv(), f.q.data(), n_q, n_pos, 0.125f, scratch.data(), a.data());
        ref::AttendGroup(f.Kv(), f.q.data(), n_q, n_pos, 0.125f, scratch.data(), b.data());
        for (int i = 0; i < n_q * hd; ++i)
          ASSERT_NEAR(a[i], b[i], 2e-4f + 1e-3f * std::fabs(b[i]))
              << "hd " << hd << " n_q " << n_q << " n_pos " << n_pos << " i " << i;
      }
}

TEST(AttentionTest, ReferenceMatchesPlainAttention) {
  Fixture f(64, 3, 50, 16, 7);
  std::vector<float> scratch(3 * 50), out(3 * 64);
  ref::AttendGroup(f.Kv(), f.q.data(), 3, 50, 0.125f, scratch.data(), out.data());
  for (int h = 0; h < 3; ++h) {
    std::vector<double> s(50);
    double mx = -1e30, sum = 0;
    for (int p = 0; p < 50; ++p) {
      const uint16_t* k = f.kb[p / 16] + (p % 16) * 128;
      double d = 0;
      for (int i = 0; i < 64; ++i) d += Fp16ToFp32(Fp32ToFp16(f.q[h * 64 + i])) * Fp16ToFp32(k[i]);
      s[p] = d * 0.125;
      mx = std::max(mx, s[p]);
    }
    for (auto& x : s) sum += (x = std::exp(x - mx));
    for (int i = 0; i < 64; ++i) {
      double o = 0;
      for (int p = 0; p < 50; ++p) o += s[p] / sum * Fp16ToFp32((f.vb[p / 16] + (p % 16) * 128)[i]);
      // f16-rounded weights: relative error per weight <= 2^-11.
      EXPECT_NEAR(out[h * 64 + i], o, 2e-3 * (1 + std::fabs(o)));
    }
  }
}

TEST(AttentionTest, SplitSegmentsMergeToTheWholeResult) {
  // 3 segments of 48 + 48 + 37 positions (whole blocks of 16) against one normalized pass.
  Fixture f(64, 3, 133, 16, 11);
  std::vector<float> scratch(3 * 133), whole(3 * 64), merged(3 * 64);
  AttendGroup(f.Kv(), f.q.data(), 3, 133, 0.125f, scratch.data(), whole.data());
  const int bounds[] = {0, 48, 96, 133};
  for (bool fast : {true, false}) {
    std::vector<float> outs(3 * 3 * 64), ms(3 * 3), ls(3 * 3);
    for (int sgi = 0; sgi < 3; ++sgi) {
      const int p0 = bounds[sgi], n = bounds[sgi + 1] - p0;
      PagedHeadKv kv{f.kb.data() + p0 / 16, f.vb.data() + p0 / 16, 16, f.n_kv_heads * 64, 64};
      auto fn = fast ? &AttendGroupPartial : &ref::AttendGroupPartial;
      fn(kv, f.q.data(), 3, n, 0.125f, scratch.data(), outs.data() + sgi * 3 * 64,
         ms.data() + sgi * 3, ls.data() + sgi * 3);
    }
    MergePartials(outs.data(), ms.data(), ls.data(), 3, 3, 64, merged.data());
    // The whole pass rounds weights to f16 (llama.cpp numerics); the split one does not.
    for (int i = 0; i < 3 * 64; ++i)
      ASSERT_NEAR(merged[i], whole[i], 2e-3f * (1 + std::fabs(whole[i]))) << "i " << i;
  }
}

}  // namespace
}  // namespace semantic::kernels
