// RMSNorm (models::RmsNorm): one thread block per token row.
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/ops.h"
#include "kernels/cuda/runtime.h"

namespace semantic::kernels::cuda {
namespace {

__global__ void RmsNormKernel(const float* x, const float* w, int64_t n, float eps, float* out) {
  __shared__ float red[32];
  const float* xr = x + blockIdx.x * n;
  float* o = out + blockIdx.x * n;
  float sum = 0.0f;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) sum += xr[i] * xr[i];
  sum = BlockSum(sum, red);
  const float scale = 1.0f / sqrtf(sum / static_cast<float>(n) + eps);  // as the CPU code
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) o[i] = xr[i] * scale * w[i];
}

// x[row] += d[row], then out[row] = RmsNorm(x[row]) * w: the residual add and the next norm in
// one pass, the same arithmetic as Add then RmsNorm. d may alias out (each thread reads its
// elements of d before any thread writes out, after the block-wide sum).
__global__ void AddRmsNormKernel(float* x, const float* d, const float* w, int64_t n, float eps,
                                 float* out) {
  __shared__ float red[32];
  float* xr = x + blockIdx.x * n;
  const float* dr = d + blockIdx.x * n;
  float* o = out + blockIdx.x * n;
  float sum = 0.0f;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
    const float v = xr[i] + dr[i];
    xr[i] = v;
    sum += v * v;
  }
  sum = BlockSum(sum, red);
  const float scale = 1.0f / sqrtf(sum / static_cast<float>(n) + eps);
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) o[i] = xr[i] * scale * w[i];
}

}  // namespace

Status AddRmsNorm(float* x, const float* d, const float* w, int64_t n_tok, int64_t n, float eps,
                  float* out, cudaStream_t stream) {
  if (n_tok <= 0) return Status::Ok();
  AddRmsNormKernel<<<static_cast<unsigned>(n_tok), 256, 0, stream>>>(x, d, w, n, eps, out);
  return LaunchStatus("AddRmsNorm");
}

Status RmsNorm(const float* x, const float* w, int64_t n_tok, int64_t n, float eps, float* out,
               cudaStream_t stream) {
  if (n_tok <= 0) return Status::Ok();
  RmsNormKernel<<<static_cast<unsigned>(n_tok), 256, 0, stream>>>(x, w, n, eps, out);
  return LaunchStatus("RmsNorm");
}

}  // namespace semantic::kernels::cuda
