// Element-wise kernels (SiLU * up, RMS norm, f32 -> f16, shifted exp) of every kernel set
// against their scalar definitions, and independent of the call's length and an element's
// position in it (a token must compute the same values alone or in a batch).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "base/fp16.h"
#include "kernels/cpu/kernel_set.h"
#include "kernels/ops.h"

namespace semantic::kernels {
namespace {

std::vector<const cpu::KernelSet*> VectorSets() {
  std::vector<const cpu::KernelSet*> out;
  for (const char* isa : {"avx2", "avx512"})
    if (const cpu::KernelSet* ks = cpu::KernelSetFor(isa)) out.push_back(ks);
  return out;
}

std::vector<float> Values(size_t n, uint32_t seed, float scale) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

TEST(Elementwise, SiluMulWithinFourUlpOfExactAndPositionIndependent) {
  for (const cpu::KernelSet* ks : VectorSets()) {
    SCOPED_TRACE(ks->name);
    ASSERT_NE(ks->silu_mul, nullptr);
    auto gate = Values(1000, 1, 6.f), up = Values(1000, 2, 1.f);
    // Extremes: large magnitudes (exp clamped), zero, tiny values.
    for (float g : {-120.f, -87.5f, -30.f, -1e-30f, 0.f, 1e-30f, 30.f, 87.5f, 120.f})
      gate.push_back(g), up.push_back(1.5f);
    const size_t n = gate.size();
    std::vector<float> got = gate;
    ks->silu_mul(got.data(), up.data(), static_cast<int64_t>(n));
    for (size_t i = 0; i < n; ++i) {
      const double g = gate[i];
      const double want = g / (1.0 + std::exp(-g)) * up[i];
      ASSERT_NEAR(got[i], want, 4e-7 * std::fabs(want) + 1e-35) << "gate=" << gate[i];
    }
    // Any length and offset gives each element the same value.
    for (int64_t len = 1; len <= 19; ++len) {
      for (int64_t off : {0, 3, 8}) {
        std::vector<float> part(gate.begin() + off, gate.begin() + off + len);
        ks->silu_mul(part.data(), up.data() + off, len);
        for (int64_t i = 0; i < len; ++i) ASSERT_EQ(part[i], got[off + i]) << len << " " << off;
      }
    }
  }
}

TEST(Elementwise, RmsNormMatchesDoubleSumAndWorksInPlace) {
  for (const cpu::KernelSet* ks : VectorSets()) {
    SCOPED_TRACE(ks->name);
    ASSERT_NE(ks->rms_norm, nullptr);
    for (int64_t n : {1, 7, 64, 576, 1001}) {
      const int64_t rows = 3;
      const auto x = Values(rows * n, 3 + n, 2.f), w = Values(n, 4 + n, 1.f);
      std::vector<float> got(rows * n);
      ks->rms_norm(x.data(), w.data(), rows, n, 1e-5f, got.data());
      for (int64_t t = 0; t < rows; ++t) {
        double sum = 0;
        for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(x[t * n + i]) * x[t * n + i];
        const float scale = 1.0f / std::sqrt(static_cast<float>(sum / n) + 1e-5f);
        for (int64_t i = 0; i < n; ++i)
          ASSERT_NEAR(got[t * n + i], x[t * n + i] * scale * w[i], 1e-6 * std::fabs(got[t * n + i]))
              << "n=" << n << " t=" << t << " i=" << i;
      }
      std::vector<float> inplace = x;  // out == x (QK-norm)
      ks->rms_norm(inplace.data(), w.data(), rows, n, 1e-5f, inplace.data());
      EXPECT_EQ(inplace, got);
      std::vector<float> one(n);  // one row alone equals the same row in the batch
      ks->rms_norm(x.data() + n, w.data(), 1, n, 1e-5f, one.data());
      EXPECT_TRUE(std::equal(one.begin(), one.end(), got.begin() + n));
    }
  }
}

TEST(Elementwise, F32ToF16MatchesScalarRoundingBitwise) {
  std::vector<float> x = Values(4000, 5, 100.f);
  std::mt19937 rng(6);
  for (int i = 0; i < 4000; ++i) {  // every exponent, random mantissas, both signs
    uint32_t bits = rng() & 0xFFFFFFFFu;
    float f;
    std::memcpy(&f, &bits, 4);
    if (!std::isnan(f)) x.push_back(f);
  }
  for (float f : {0.f, -0.f, 65504.f, 65519.f, 65520.f, 6.1e-5f, 5.96e-8f, 2.98e-8f, 1e-9f,
                  std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity()})
    x.push_back(f);
  for (const cpu::KernelSet* ks : VectorSets()) {
    SCOPED_TRACE(ks->name);
    ASSERT_NE(ks->f32_to_f16, nullptr);
    std::vector<uint16_t> got(x.size());
    ks->f32_to_f16(x.data(), got.data(), static_cast<int64_t>(x.size()));
    for (size_t i = 0; i < x.size(); ++i) ASSERT_EQ(got[i], Fp32ToFp16(x[i])) << x[i];
  }
}

TEST(Elementwise, ExpShiftedWithinFourUlpOfExactAndPositionIndependent) {
  for (const cpu::KernelSet* ks : VectorSets()) {
    SCOPED_TRACE(ks->name);
    ASSERT_NE(ks->exp_shifted, nullptr);
    auto x = Values(1000, 5, 8.f);
    for (float v : {0.f, -1e-30f, 20.f, -60.f}) x.push_back(v);
    const size_t n = x.size();
    const float shift = 20.f, divisor = 0.7f;
    std::vector<float> got(n);
    ks->exp_shifted(x.data(), static_cast<int64_t>(n), shift, divisor, got.data());
    for (size_t i = 0; i < n; ++i) {
      // The argument as the kernel forms it (float subtract, divide); the exp within 4 ulp.
      const double arg = (x[i] - shift) / divisor;
      if (arg < -87.0) {
        ASSERT_LE(got[i], 1.5e-38f) << x[i];  // underflow: 0 or near it
        continue;
      }
      const double want = std::exp(arg);
      ASSERT_NEAR(got[i], want, 4e-7 * want + 1e-37) << "x=" << x[i];
    }
    EXPECT_EQ(got[n - 2], 1.0f);  // x == shift: exactly 1, the maximum's weight
    for (int64_t len = 1; len <= 19; ++len) {
      for (int64_t off : {0, 3, 8}) {
        std::vector<float> part(len);
        ks->exp_shifted(x.data() + off, len, shift, divisor, part.data());
        for (int64_t i = 0; i < len; ++i) ASSERT_EQ(part[i], got[off + i]) << len << " " << off;
      }
    }
  }
}

TEST(Elementwise, PublicEntryPointsUseTheActiveSet) {
  std::vector<float> g = {-2.f, 0.f, 3.f}, u = {1.f, 1.f, 2.f};
  SiluMul(g.data(), u.data(), 3);
  EXPECT_NEAR(g[0], -2.0 / (1 + std::exp(2.0)), 1e-6);
  EXPECT_EQ(g[1], 0.f);
  EXPECT_NEAR(g[2], 2 * 3.0 / (1 + std::exp(-3.0)), 1e-6);
  const float x[2] = {3.f, 4.f}, w[2] = {1.f, 2.f};
  float out[2];
  RmsNormRows(x, w, 1, 2, 0.f, out);
  EXPECT_NEAR(out[0], 3 / std::sqrt(12.5), 1e-6);
  EXPECT_NEAR(out[1], 8 / std::sqrt(12.5), 1e-6);
  uint16_t h[2];
  F32ToF16(x, h, 2);
  EXPECT_EQ(Fp16ToFp32(h[0]), 3.f);
  EXPECT_EQ(Fp16ToFp32(h[1]), 4.f);
}

}  // namespace
}  // namespace semantic::kernels
