// Additions between the matmuls: residual (y += x) and per-row bias (models::AddBias).
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/ops.h"
#include "kernels/cuda/runtime.h"

namespace semantic::kernels::cuda {
namespace {

__global__ void AddKernel(float* y, const float* x, int64_t n) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) y[i] += x[i];
}

__global__ void AddBiasKernel(float* x, const float* b, int64_t n_tok, int64_t n) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n_tok * n) x[i] += b[i % n];
}

}  // namespace

Status Add(float* y, const float* x, int64_t n, cudaStream_t stream) {
  if (n <= 0) return Status::Ok();
  AddKernel<<<Blocks(n, 256), 256, 0, stream>>>(y, x, n);
  return LaunchStatus("Add");
}

Status AddBias(float* x, const float* b, int64_t n_tok, int64_t n, cudaStream_t stream) {
  if (n_tok <= 0 || n <= 0) return Status::Ok();
  AddBiasKernel<<<Blocks(n_tok * n, 256), 256, 0, stream>>>(x, b, n_tok, n);
  return LaunchStatus("AddBias");
}

}  // namespace semantic::kernels::cuda
