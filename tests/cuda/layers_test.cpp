// RMSNorm, RoPE, gated activations and softmax on the GPU against the CPU code (models/layers,
// a double-precision softmax) on random data.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/cuda/ops.h"
#include "models/layers.h"
#include "tests/cuda/cuda_test_util.h"
#include "tests/kernels/kernel_test_util.h"

namespace semantic::kernels::cuda {
namespace {

using kernels::testing::RandomVector;
using testing::ToDevice;
using testing::ToHost;

// |a - b| <= abs_tol + rel_tol * |b| elementwise, reporting the first few failures.
void ExpectNear(const std::vector<float>& got, const std::vector<float>& want, float abs_tol,
                float rel_tol) {
  ASSERT_EQ(got.size(), want.size());
  int bad = 0;
  for (size_t i = 0; i < got.size() && bad < 5; ++i) {
    if (!(std::fabs(got[i] - want[i]) <= abs_tol + rel_tol * std::fabs(want[i]))) {
      ADD_FAILURE() << "element " << i << ": cuda " << got[i] << " vs cpu " << want[i];
      ++bad;
    }
  }
}

TEST(CudaLayersTest, RmsNormMatchesCpu) {
  SKIP_WITHOUT_CUDA_DEVICE();
  for (int64_t n : {64, 576, 1000, 2048}) {
    const int64_t n_tok = 5;
    const auto x = RandomVector(n_tok * n, 1 + n, 2.0f);
    const auto w = RandomVector(n, 2 + n);
    std::vector<float> want(x.size());
    models::RmsNorm(x.data(), w.data(), n_tok, n, 1e-5f, want.data());
    DeviceBuffer dx = ToDevice(x), dw = ToDevice(w);
    ASSERT_TRUE(RmsNorm(dx.as<float>(), dw.as<float>(), n_tok, n, 1e-5f, dx.as<float>()).ok());
    ExpectNear(ToHost<float>(dx, x.size()), want, 1e-6f, 1e-5f);  // f32 vs double sum of squares
  }
}

// The fused residual add + norm gives Add then RmsNorm bit for bit (the delta aliasing the output,
// as the forward pass calls it).
TEST(CudaLayersTest, AddRmsNormEqualsAddThenRmsNorm) {
  SKIP_WITHOUT_CUDA_DEVICE();
  for (int64_t n : {576, 2048}) {
    const int64_t n_tok = 7;
    const auto x = RandomVector(n_tok * n, 11 + n, 2.0f), d = RandomVector(n_tok * n, 12 + n);
    const auto w = RandomVector(n, 13 + n);
    DeviceBuffer x1 = ToDevice(x), d1 = ToDevice(d), x2 = ToDevice(x), d2 = ToDevice(d);
    DeviceBuffer dw = ToDevice(w), out1 = ToDevice(x);
    ASSERT_TRUE(Add(x1.as<float>(), d1.as<float>(), n_tok * n).ok());
    ASSERT_TRUE(RmsNorm(x1.as<float>(), dw.as<float>(), n_tok, n, 1e-5f, out1.as<float>()).ok());
    ASSERT_TRUE(AddRmsNorm(x2.as<float>(), d2.as<float>(), dw.as<float>(), n_tok, n, 1e-5f,
                           d2.as<float>())
                    .ok());
    EXPECT_EQ(ToHost<float>(x1, x.size()), ToHost<float>(x2, x.size())) << "x + d, n " << n;
    EXPECT_EQ(ToHost<float>(out1, x.size()), ToHost<float>(d2, x.size())) << "norm, n " << n;
  }
}

// q and k rotated in one launch give what two Rope calls give, bit for bit.
TEST(CudaLayersTest, RopeQKEqualsTwoRopes) {
  SKIP_WITHOUT_CUDA_DEVICE();
  const int64_t n_tok = 5;
  const int n_head = 9, n_kv = 3, hd = 64;
  const auto q = RandomVector(n_tok * n_head * hd, 21), k = RandomVector(n_tok * n_kv * hd, 22);
  const std::vector<int32_t> pos = {0, 1, 17, 300, 4095};
  RopeArgs a;
  a.n_heads = n_head;
  a.head_dim = hd;
  a.n_rot = hd;
  a.neox = true;
  RopeArgs ak = a;
  ak.n_heads = n_kv;
  DeviceBuffer q1 = ToDevice(q), k1 = ToDevice(k), q2 = ToDevice(q), k2 = ToDevice(k);
  DeviceBuffer dpos = ToDevice(pos);
  ASSERT_TRUE(Rope(q1.as<float>(), n_tok, dpos.as<int32_t>(), a).ok());
  ASSERT_TRUE(Rope(k1.as<float>(), n_tok, dpos.as<int32_t>(), ak).ok());
  ASSERT_TRUE(RopeQK(q2.as<float>(), k2.as<float>(), n_kv, n_tok, dpos.as<int32_t>(), a).ok());
  EXPECT_EQ(ToHost<float>(q1, q.size()), ToHost<float>(q2, q.size()));
  EXPECT_EQ(ToHost<float>(k1, k.size()), ToHost<float>(k2, k.size()));
}

struct RopeCase {
  int head_dim, n_rot;
  bool neox, factors, yarn;
};

TEST(CudaLayersTest, RopeMatchesCpu) {
  SKIP_WITHOUT_CUDA_DEVICE();
  const RopeCase cases[] = {{64, 64, false, false, false}, {64, 64, true, false, false},
                            {128, 64, true, false, false}, {64, 64, false, true, false},
                            {128, 128, true, false, true}, {256, 256, true, true, true}};
  for (const RopeCase& c : cases) {
    SCOPED_TRACE(::testing::Message() << "head_dim " << c.head_dim << " n_rot " << c.n_rot
                                    << " neox " << c.neox << " factors " << c.factors
                                    << " yarn " << c.yarn);
    const int n_heads = 3, n_tok = 6;
    const std::vector<int32_t> pos{0, 1, 17, 511, 4095, 32767};
    auto x = RandomVector(int64_t{n_tok} * n_heads * c.head_dim, 7 + c.head_dim);
    std::vector<float> factors(c.n_rot / 2);
    for (size_t i = 0; i < factors.size(); ++i) factors[i] = 1.0f + 0.25f * (i % 7);
    models::RopeYarn yarn = models::YarnCorrDims(c.n_rot, 4096, 10000.0f);
    yarn.ext_factor = 1.0f;
    yarn.mscale = 1.1f;
    RopeArgs a;
    a.n_heads = n_heads, a.head_dim = c.head_dim, a.n_rot = c.n_rot;
    a.freq_base = 10000.0f, a.freq_scale = c.yarn ? 0.25f : 1.0f, a.neox = c.neox;
    a.freq_factors = c.factors ? factors.data() : nullptr;
    a.yarn = c.yarn;
    a.yarn_low = yarn.low, a.yarn_high = yarn.high, a.yarn_ext_factor = yarn.ext_factor;
    a.yarn_mscale = yarn.mscale;
    DeviceBuffer dx = ToDevice(x), dpos = ToDevice(pos);
    ASSERT_TRUE(Rope(dx.as<float>(), n_tok, dpos.as<int32_t>(), a).ok());
    models::Rope(x.data(), n_tok, n_heads, c.head_dim, c.n_rot, pos.data(), a.freq_base,
                 a.freq_scale, c.neox ? models::RopeMode::kNeox : models::RopeMode::kNorm,
                 a.freq_factors, c.yarn ? &yarn : nullptr);
    // Same f32 angles; cosf/sinf differ from glibc by a few ulp.
    ExpectNear(ToHost<float>(dx, x.size()), x, 2e-5f, 2e-5f);
  }
}

TEST(CudaLayersTest, GatedActivationsMatchCpu) {
  SKIP_WITHOUT_CUDA_DEVICE();
  const int64_t n = 3 * 1536 + 7;
  auto gate = RandomVector(n, 11, 4.0f);
  gate[0] = -12.0f, gate[1] = 12.0f, gate[2] = 0.0f;  // GELU's clamped ends
  const auto up = RandomVector(n, 12);
  {
    std::vector<float> want = gate;
    models::SwiGlu(want.data(), up.data(), n);
    DeviceBuffer dg = ToDevice(gate), du = ToDevice(up);
    ASSERT_TRUE(SwiGlu(dg.as<float>(), du.as<float>(), n).ok());
    ExpectNear(ToHost<float>(dg, n), want, 1e-6f, 1e-5f);
  }
  {
    std::vector<float> want = gate;
    models::GeluTanhGlu(want.data(), up.data(), n);
    DeviceBuffer dg = ToDevice(gate), du = ToDevice(up);
    ASSERT_TRUE(GeluTanhGlu(dg.as<float>(), du.as<float>(), n).ok());
    // GELU values are rounded to f16: a tanhf ulp apart can round one f16 step (2^-10) apart.
    ExpectNear(ToHost<float>(dg, n), want, 1e-6f, 2e-3f);
  }
}

TEST(CudaLayersTest, SoftmaxMatchesDoubleReference) {
  SKIP_WITHOUT_CUDA_DEVICE();
  for (int64_t n : {1, 31, 256, 49152}) {
    const int64_t rows = 3;
    const float scale = 0.125f;
    auto x = RandomVector(rows * n, 21 + n, 8.0f);
    std::vector<float> want(x.size());
    for (int64_t r = 0; r < rows; ++r) {
      const float* xr = x.data() + r * n;
      double mx = -INFINITY, sum = 0;
      for (int64_t i = 0; i < n; ++i) mx = std::max(mx, double{xr[i]} * scale);
      for (int64_t i = 0; i < n; ++i) sum += std::exp(double{xr[i]} * scale - mx);
      for (int64_t i = 0; i < n; ++i)
        want[r * n + i] = static_cast<float>(std::exp(double{xr[i]} * scale - mx) / sum);
    }
    DeviceBuffer dx = ToDevice(x);
    ASSERT_TRUE(SoftmaxRows(dx.as<float>(), rows, n, scale).ok());
    ExpectNear(ToHost<float>(dx, x.size()), want, 1e-8f, 1e-5f);
  }
}

}  // namespace
}  // namespace semantic::kernels::cuda
