// RoPE (models::Rope), NORM and NEOX pairing, optional freq_factors and YaRN. The per-pair
// frequency and YaRN ramp are computed on the host exactly as the CPU code does and passed by
// value, so only cos/sin differ (by an ulp or so).
#include <algorithm>
#include <cmath>

#include "kernels/cuda/common.cuh"
#include "kernels/cuda/ops.h"
#include "kernels/cuda/runtime.h"

namespace semantic::kernels::cuda {
namespace {

constexpr int kMaxPairs = 256;

struct RopeTable {
  float inv_freq[kMaxPairs];
  float ramp[kMaxPairs];
  int half, n_heads, head_dim;
  float freq_scale, mscale;
  bool neox, yarn;
};

// grid: (n_tok, heads of x + heads of y); threads: pairs. y (nullable, y_heads per token) is a
// second tensor rotated in the same launch (k beside q).
__global__ void RopeKernel(float* x, float* y, int y_heads, const int32_t* pos,
                           const RopeTable tab) {
  const int t = blockIdx.x;
  const bool in_x = static_cast<int>(blockIdx.y) < tab.n_heads;
  const int h = in_x ? blockIdx.y : blockIdx.y - tab.n_heads;
  float* v = in_x ? x + (static_cast<int64_t>(t) * tab.n_heads + h) * tab.head_dim
                  : y + (static_cast<int64_t>(t) * y_heads + h) * tab.head_dim;
  const float p = static_cast<float>(pos[t]);
  for (int i = threadIdx.x; i < tab.half; i += blockDim.x) {
    // Rounded like the CPU code (no FMA contraction): at large positions an angle differing by
    // one ulp would turn the pair visibly.
    const float extrap = __fmul_rn(p, tab.inv_freq[i]);
    const float interp = __fmul_rn(extrap, tab.freq_scale);
    const float theta =
        tab.yarn ? __fadd_rn(__fmul_rn(interp, __fsub_rn(1.0f, tab.ramp[i])),
                             __fmul_rn(extrap, tab.ramp[i]))
                 : interp;
    const float c = cosf(theta) * tab.mscale, s = sinf(theta) * tab.mscale;
    const int a = tab.neox ? i : 2 * i;
    const int b = tab.neox ? i + tab.half : 2 * i + 1;
    const float x0 = v[a], x1 = v[b];
    v[a] = x0 * c - x1 * s;
    v[b] = x0 * s + x1 * c;
  }
}

}  // namespace

Status RopeQK(float* x, float* y, int y_heads, int64_t n_tok, const int32_t* pos,
              const RopeArgs& a, cudaStream_t stream) {
  const int half = a.n_rot / 2;
  if (half > kMaxPairs || a.n_rot > a.head_dim || a.n_rot % 2 != 0)
    return InvalidArgument("cuda::Rope: n_rot must be even, <= head_dim and <= 512");
  if (n_tok <= 0 || half == 0) return Status::Ok();
  RopeTable tab{};
  const float theta_scale = std::pow(a.freq_base, -2.0f / a.n_rot);
  float f = 1.0f;
  for (int i = 0; i < half; ++i) {
    tab.inv_freq[i] = a.freq_factors ? f / a.freq_factors[i] : f;
    f *= theta_scale;
  }
  tab.mscale = 1.0f;
  if (a.yarn) {
    for (int i = 0; i < half; ++i) {
      const float y = (i - a.yarn_low) / std::max(0.001f, a.yarn_high - a.yarn_low);
      tab.ramp[i] = (1.0f - std::min(1.0f, std::max(0.0f, y))) * a.yarn_ext_factor;
    }
    tab.mscale = a.yarn_mscale;
  }
  tab.half = half;
  tab.n_heads = a.n_heads;
  tab.head_dim = a.head_dim;
  tab.freq_scale = a.freq_scale;
  tab.neox = a.neox;
  tab.yarn = a.yarn;
  const dim3 grid(static_cast<unsigned>(n_tok), static_cast<unsigned>(a.n_heads + y_heads));
  RopeKernel<<<grid, std::min(half, 128), 0, stream>>>(x, y, y_heads, pos, tab);
  return LaunchStatus("Rope");
}

Status Rope(float* x, int64_t n_tok, const int32_t* pos, const RopeArgs& a, cudaStream_t stream) {
  return RopeQK(x, nullptr, 0, n_tok, pos, a, stream);
}

}  // namespace semantic::kernels::cuda
