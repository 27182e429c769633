// Rope keeps the cos / sin tables of its last calls and reuses them when positions and
// parameters match. Every call must give the bits of the direct formula, whatever came before:
// alternating bases (Gemma 3's local and global layers), changed positions of the same count,
// frequency factors that change in place at the same address, YaRN parameters, more parameter
// sets than tables.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "models/layers.h"

namespace semantic::models {
namespace {

struct RopeCall {
  std::vector<int32_t> pos;
  float base = 10000.0f, scale = 1.0f;
  const float* factors = nullptr;
  const RopeYarn* yarn = nullptr;
  RopeMode mode = RopeMode::kNorm;
};

constexpr int kHeads = 3, kHeadDim = 16, kRot = 12;

// The rotation written out from the formula in layers.h, the same float operations as Rope.
std::vector<float> Direct(const std::vector<float>& x, const RopeCall& c) {
  std::vector<float> y = x;
  const int half = kRot / 2;
  const float theta_scale = std::pow(c.base, -2.0f / kRot);
  for (size_t t = 0; t < c.pos.size(); ++t) {
    float f = 1.0f;
    for (int i = 0; i < half; ++i) {
      const float inv_freq = c.factors ? f / c.factors[i] : f;
      f *= theta_scale;
      const float extrap = static_cast<float>(c.pos[t]) * inv_freq;
      const float interp = extrap * c.scale;
      float theta = interp, mscale = 1.0f;
      if (c.yarn) {
        const float r = (i - c.yarn->low) / std::max(0.001f, c.yarn->high - c.yarn->low);
        const float ramp = (1.0f - std::min(1.0f, std::max(0.0f, r))) * c.yarn->ext_factor;
        theta = interp * (1.0f - ramp) + extrap * ramp;
        mscale = c.yarn->mscale;
      }
      const float cs = std::cos(theta) * mscale, sn = std::sin(theta) * mscale;
      for (int h = 0; h < kHeads; ++h) {
        float* v = y.data() + (t * kHeads + h) * kHeadDim;
        const int a = c.mode == RopeMode::kNorm ? 2 * i : i;
        const int b = c.mode == RopeMode::kNorm ? 2 * i + 1 : i + half;
        const float x0 = v[a], x1 = v[b];
        v[a] = x0 * cs - x1 * sn;
        v[b] = x0 * sn + x1 * cs;
      }
    }
  }
  return y;
}

void Check(const RopeCall& c, std::mt19937& rng, const std::string& what) {
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> x(c.pos.size() * kHeads * kHeadDim);
  for (float& e : x) e = nd(rng);
  const std::vector<float> want = Direct(x, c);
  Rope(x.data(), static_cast<int64_t>(c.pos.size()), kHeads, kHeadDim, kRot, c.pos.data(), c.base,
       c.scale, c.mode, c.factors, c.yarn);
  ASSERT_EQ(std::memcmp(x.data(), want.data(), x.size() * sizeof(float)), 0) << what;
}

TEST(RopeTest, ReusedTablesNeverGoStale) {
  std::mt19937 rng(7);
  RopeCall a{{5, 6, 7, 8}};
  RopeCall b = a;
  b.base = 1000000.0f;  // Gemma 3's global layers
  for (int layer = 0; layer < 6; ++layer) {
    Check(a, rng, "base 1e4, layer " + std::to_string(layer));
    Check(a, rng, "base 1e4 again (k after q)");
    Check(b, rng, "base 1e6");
  }
  RopeCall moved = a;
  moved.pos = {9, 10, 11, 12};  // the next step: same count, new positions
  Check(moved, rng, "positions moved");
  moved.pos = {9, 10, 11};
  Check(moved, rng, "one token fewer");
  RopeCall neox = moved;
  neox.mode = RopeMode::kNeox;
  Check(neox, rng, "neox pairs");
  RopeCall scaled = moved;
  scaled.scale = 0.25f;
  Check(scaled, rng, "freq_scale");

  std::vector<float> factors(kRot / 2, 1.0f);
  RopeCall f = moved;
  f.factors = factors.data();
  Check(f, rng, "factors 1");
  factors[2] = 4.0f;  // same address, new values
  Check(f, rng, "factors changed in place");

  RopeYarn y;
  y.low = 1.0f;
  y.high = 4.0f;
  y.ext_factor = 1.0f;
  y.mscale = 1.2f;
  RopeCall yc = moved;
  yc.scale = 0.125f;
  yc.yarn = &y;
  Check(yc, rng, "yarn");
  y.mscale = 1.1f;
  Check(yc, rng, "yarn mscale changed in place");

  for (int round = 0; round < 3; ++round)  // more parameter sets than tables, cycling
    for (float base : {10000.0f, 20000.0f, 40000.0f, 80000.0f, 160000.0f, 500000.0f}) {
      RopeCall c = a;
      c.base = base;
      Check(c, rng, "cycling bases, " + std::to_string(base));
    }
}

}  // namespace
}  // namespace semantic::models
