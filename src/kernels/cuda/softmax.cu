// Row-wise softmax with a scale (attention scores, sampling probabilities): one block per row.
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/ops.h"
#include "kernels/cuda/runtime.h"

namespace semantic::kernels::cuda {
namespace {

__global__ void SoftmaxKernel(float* x, int64_t n, float scale) {
  __shared__ float red[32];
  float* r = x + blockIdx.x * n;
  float mx = -INFINITY;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) mx = fmaxf(mx, r[i] * scale);
  mx = BlockMax(mx, red);
  float sum = 0.0f;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
    const float e = expf(r[i] * scale - mx);
    r[i] = e;
    sum += e;
  }
  sum = BlockSum(sum, red);
  const float inv = 1.0f / sum;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) r[i] *= inv;
}

}  // namespace

Status SoftmaxRows(float* x, int64_t n_rows, int64_t n, float scale, cudaStream_t stream) {
  if (n_rows <= 0 || n <= 0) return Status::Ok();
  SoftmaxKernel<<<static_cast<unsigned>(n_rows), 256, 0, stream>>>(x, n, scale);
  return LaunchStatus("SoftmaxRows");
}

}  // namespace semantic::kernels::cuda
