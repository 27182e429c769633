// Paged attention over f16 / q8_0 / q4_0 K/V: the SIMD kernels against the scalar reference,
// the reference against a plain f64 softmax-attention over the same (rounded) inputs, the
// quantization error against exact f32 attention, and split segments merged.
#include "kernels/attention.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "attention_fixture.h"
#include "base/fp16.h"
#include "quant/blocks.h"
#include "quant/dequantize.h"
#include "quant/quantize.h"

namespace semantic::kernels {
namespace {

using testing::Fixture;
using testing::kAll;

// Softmax attention in f64 of query q over rows k, v ([n_pos][hd] each).
std::vector<double> PlainAttention(const float* q, const std::vector<float>& k,
                                   const std::vector<float>& v, int n_pos, int hd, double scale) {
  std::vector<double> s(n_pos), o(hd, 0.0);
  double mx = -1e300, sum = 0;
  for (int p = 0; p < n_pos; ++p) {
    double d = 0;
    for (int i = 0; i < hd; ++i) d += static_cast<double>(q[i]) * k[p * hd + i];
    s[p] = d * scale;
    mx = std::max(mx, s[p]);
  }
  for (auto& x : s) sum += (x = std::exp(x - mx));
  for (int p = 0; p < n_pos; ++p)
    for (int i = 0; i < hd; ++i) o[i] += s[p] / sum * v[p * hd + i];
  return o;
}

TEST(AttentionTest, FastMatchesReference) {
  for (KvDtype dt : kAll)
    for (int hd : {8, 32, 64, 128, 256})
      for (int n_q : {1, 3, 4, 7})
        for (int n_pos : {1, 7, 16, 17, 100, 1000}) {
          if (dt != KvDtype::kF16 && hd % 32 != 0) continue;
          Fixture f(hd, n_q, n_pos, 16, hd * 1000 + n_q * 10 + n_pos, dt);
          std::vector<float> scratch(static_cast<size_t>(n_q) * n_pos), a(n_q * hd), b(n_q * hd);
          AttendGroup(f.Kv(), f.q.data(), n_q, n_pos, 0.125f, scratch.data(), a.data());
          ref::AttendGroup(f.Kv(), f.q.data(), n_q, n_pos, 0.125f, scratch.data(), b.data());
          for (int i = 0; i < n_q * hd; ++i)
            ASSERT_NEAR(a[i], b[i], 2e-4f + 1e-3f * std::fabs(b[i]))
                << KvDtypeName(dt) << " hd " << hd << " n_q " << n_q << " n_pos " << n_pos << " i "
                << i;
        }
}

TEST(AttentionTest, FastMatchesReferenceOddBlocksAndWideGroups) {
  // Block sizes that are not multiples of 8 (partial position groups), 16 query heads.
  for (KvDtype dt : kAll)
    for (int bt : {1, 5, 12, 32})
      for (int n_q : {2, 16}) {
        const int n_pos = 77;
        Fixture f(64, n_q, n_pos, bt, bt * 100 + n_q, dt);
        std::vector<float> scratch(static_cast<size_t>(n_q) * n_pos), a(n_q * 64), b(n_q * 64);
        AttendGroup(f.Kv(), f.q.data(), n_q, n_pos, 0.125f, scratch.data(), a.data());
        ref::AttendGroup(f.Kv(), f.q.data(), n_q, n_pos, 0.125f, scratch.data(), b.data());
        for (int i = 0; i < n_q * 64; ++i)
          ASSERT_NEAR(a[i], b[i], 2e-4f + 1e-3f * std::fabs(b[i]))
              << KvDtypeName(dt) << " bt " << bt << " n_q " << n_q << " i " << i;
      }
}

TEST(AttentionTest, ReferenceMatchesPlainAttention) {
  // Same rounded inputs: q rounded to f16 (f16 K) or rotated and rounded to its Q8_0 values
  // (block K), K/V rows as stored, the output rotated back. f16 rounds the weights too (relative
  // error <= 2^-11 each).
  for (KvDtype dt : kAll) {
    const KvRotation rot = KvRotationFor(dt, 64);
    EXPECT_EQ(rot.k, dt == KvDtype::kF16 ? 0 : 64);
    Fixture f(64, 3, 50, 16, 7, dt);
    std::vector<float> scratch(3 * 50), out(3 * 64);
    ref::AttendGroup(f.Kv(), f.q.data(), 3, 50, 0.125f, scratch.data(), out.data());
    std::vector<float> k, v;
    for (int p = 0; p < 50; ++p) {
      auto kr = f.Row(f.kb, p), vr = f.Row(f.vb, p);
      k.insert(k.end(), kr.begin(), kr.end());
      v.insert(v.end(), vr.begin(), vr.end());
    }
    for (int h = 0; h < 3; ++h) {
      std::vector<float> qr(64);
      if (dt == KvDtype::kF16) {
        for (int i = 0; i < 64; ++i) qr[i] = Fp16ToFp32(Fp32ToFp16(f.q[h * 64 + i]));
      } else {
        std::vector<float> qh(f.q.begin() + h * 64, f.q.begin() + (h + 1) * 64);
        HadamardRotate(qh.data(), 64, rot.k);
        quant::BlockQ8_0 qb[2];
        quant::QuantizeRowQ8_0(qh.data(), qb, 64);
        quant::DequantizeRowRef(quant::DType::kQ8_0, qb, qr.data(), 64);
      }
      auto o = PlainAttention(qr.data(), k, v, 50, 64, 0.125);
      std::vector<float> of(o.begin(), o.end());
      HadamardRotate(of.data(), 64, rot.v);
      o.assign(of.begin(), of.end());
      const double tol = dt == KvDtype::kF16 ? 2e-3 : 1e-4;
      for (int i = 0; i < 64; ++i)
        EXPECT_NEAR(out[h * 64 + i], o[i], tol * (1 + std::fabs(o[i]))) << KvDtypeName(dt);
    }
  }
}

// RMS error of AttendGroup on stored K/V against exact f64 attention on the unrounded f32
// inputs, relative to the RMS of the exact output. Random N(0,1) K/V, q ~ N(0,4), scale 1/8.
double RelativeRmsError(KvDtype dt, int n_pos, uint32_t seed) {
  Fixture f(64, 3, n_pos, 16, seed, dt);
  std::vector<float> scratch(3 * n_pos), out(3 * 64);
  AttendGroup(f.Kv(), f.q.data(), 3, n_pos, 0.125f, scratch.data(), out.data());
  double err = 0, ref = 0;
  for (int h = 0; h < 3; ++h) {
    const auto o = PlainAttention(f.q.data() + h * 64, f.k32, f.v32, n_pos, 64, 0.125);
    for (int i = 0; i < 64; ++i) {
      err += (out[h * 64 + i] - o[i]) * (out[h * 64 + i] - o[i]);
      ref += o[i] * o[i];
    }
  }
  return std::sqrt(err / ref);
}

TEST(AttentionTest, QuantizationErrorAgainstExactAttention) {
  // Stated tolerances (relative RMS error of the attention output): f16 0.5%, q8_0 3%, q4_0 25%.
  // Measured on these inputs: f16 0.04-0.09%, q8_0 0.8-1.5%, q4_0 9-18%.
  for (int n_pos : {20, 300}) {
    for (uint32_t seed : {1u, 2u, 3u}) {
      const double e16 = RelativeRmsError(KvDtype::kF16, n_pos, seed);
      const double e8 = RelativeRmsError(KvDtype::kQ8_0, n_pos, seed);
      const double e4 = RelativeRmsError(KvDtype::kQ4_0, n_pos, seed);
      EXPECT_LT(e16, 0.005) << n_pos;
      EXPECT_LT(e8, 0.03) << n_pos;
      EXPECT_LT(e4, 0.25) << n_pos;
      EXPECT_LT(e16, e8);
      EXPECT_LT(e8, e4);
      std::printf("n_pos %d seed %u: rel RMS error f16 %.5f q8_0 %.5f q4_0 %.5f\n", n_pos, seed,
                  e16, e8, e4);
    }
  }
}

TEST(KvRotationTest, SylvesterHadamardIsItsOwnInverse) {
  // H_n as llama.cpp's ggml_gen_hadamard builds it: H_1 = 1/sqrt(n), H_2s = [[H, H], [H, -H]].
  for (int n : {64, 128, 256}) {
    std::vector<double> h(n * n, 0.0);
    h[0] = 1.0 / std::sqrt(n);
    for (int s = 1; s < n; s *= 2)
      for (int i = 0; i < s; ++i)
        for (int j = 0; j < s; ++j) {
          h[(i + s) * n + j] = h[i * n + j];
          h[i * n + j + s] = h[i * n + j];
          h[(i + s) * n + j + s] = -h[i * n + j];
        }
    std::mt19937 rng(n);
    std::normal_distribution<float> nd;
    std::vector<float> x(2 * n), y;
    for (auto& e : x) e = nd(rng);
    y = x;
    HadamardRotate(y.data(), 2 * n, n);  // two chunks
    for (int c = 0; c < 2; ++c)
      for (int i = 0; i < n; ++i) {
        double want = 0;
        for (int j = 0; j < n; ++j) want += h[i * n + j] * x[c * n + j];
        ASSERT_NEAR(y[c * n + i], want, 1e-5) << n;
      }
    HadamardRotate(y.data(), 2 * n, n);
    for (int i = 0; i < 2 * n; ++i) ASSERT_NEAR(y[i], x[i], 1e-5) << n;
  }
  EXPECT_EQ(KvRotationFor(KvDtype::kQ4_0, 256).k, 256);
  EXPECT_EQ(KvRotationFor(KvDtype::kQ4_0, 256).v, 64);
  EXPECT_EQ(KvRotationFor(KvDtype::kQ8_0, 192).k, 64);
  EXPECT_EQ(KvRotationFor(KvDtype::kQ8_0, 96).k, 0);  // not a multiple of 64: stored unrotated
  EXPECT_EQ(KvRotationFor(KvDtype::kF16, 128).k, 0);
}

TEST(AttentionTest, SplitSegmentsMergeToTheWholeResult) {
  // 3 segments of 48 + 48 + 37 positions (whole blocks of 16) against one normalized pass.
  for (KvDtype dt : kAll) {
    Fixture f(64, 3, 133, 16, 11, dt);
    std::vector<float> scratch(3 * 133), whole(3 * 64), merged(3 * 64);
    AttendGroup(f.Kv(), f.q.data(), 3, 133, 0.125f, scratch.data(), whole.data());
    const int bounds[] = {0, 48, 96, 133};
    for (bool fast : {true, false}) {
      std::vector<float> outs(3 * 3 * 64), ms(3 * 3), ls(3 * 3);
      for (int sgi = 0; sgi < 3; ++sgi) {
        const int p0 = bounds[sgi], n = bounds[sgi + 1] - p0;
        PagedHeadKv kv = f.Kv();
        kv.k_blocks += p0 / 16;
        kv.v_blocks += p0 / 16;
        auto fn = fast ? &AttendGroupPartial : &ref::AttendGroupPartial;
        fn(kv, f.q.data(), 3, n, 0.125f, scratch.data(), outs.data() + sgi * 3 * 64,
           ms.data() + sgi * 3, ls.data() + sgi * 3);
      }
      MergePartials(outs.data(), ms.data(), ls.data(), 3, 3, 64, merged.data());
      // The whole f16 pass rounds weights to f16 (llama.cpp numerics); the split one does not.
      const float tol = dt == KvDtype::kF16 ? 2e-3f : 2e-5f;
      for (int i = 0; i < 3 * 64; ++i)
        ASSERT_NEAR(merged[i], whole[i], tol * (1 + std::fabs(whole[i])))
            << KvDtypeName(dt) << " i " << i;
    }
  }
}

}  // namespace
}  // namespace semantic::kernels
