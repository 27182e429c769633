// Gated activations (models::SwiGlu, models::GeluTanhGlu), elementwise.
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/ops.h"
#include "kernels/cuda/runtime.h"

namespace semantic::kernels::cuda {
namespace {

__global__ void SwiGluKernel(float* gate, const float* up, int64_t n) {
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i >= n) return;
  const float g = gate[i];
  gate[i] = g / (1.0f + expf(-g)) * up[i];
}

// tanh GELU with the input and the result rounded to f16 (GGML_GELU_FP16), 0 below -10 and the
// identity above 10.
__global__ void GeluTanhGluKernel(float* gate, const float* up, int64_t n) {
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i >= n) return;
  constexpr float kSqrt2OverPi = 0.79788456080286535588f, kCoef = 0.044715f;
  const float g = gate[i];
  float y;
  if (g <= -10.0f) {
    y = 0.0f;
  } else if (g >= 10.0f) {
    y = g;
  } else {
    const float x = __half2float(__float2half_rn(g));
    y = __half2float(
        __float2half_rn(0.5f * x * (1.0f + tanhf(kSqrt2OverPi * x * (1.0f + kCoef * x * x)))));
  }
  gate[i] = y * up[i];
}

}  // namespace

Status SwiGlu(float* gate, const float* up, int64_t n, cudaStream_t stream) {
  if (n <= 0) return Status::Ok();
  SwiGluKernel<<<Blocks(n, 256), 256, 0, stream>>>(gate, up, n);
  return LaunchStatus("SwiGlu");
}

Status GeluTanhGlu(float* gate, const float* up, int64_t n, cudaStream_t stream) {
  if (n <= 0) return Status::Ok();
  GeluTanhGluKernel<<<Blocks(n, 256), 256, 0, stream>>>(gate, up, n);
  return LaunchStatus("GeluTanhGlu");
}

}  // namespace semantic::kernels::cuda
