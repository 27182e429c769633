// Sampling helpers on logits: per-row argmax and top-k (value descending, index ascending), one
// block per row. Top-k takes k passes, each finding the next element in that order after the
// previous one: O(k n), meant for the sampler's small k, not as a general sort.
#include <climits>

#include "kernels/cuda/common.cuh"
#include "kernels/cuda/ops.h"
#include "kernels/cuda/runtime.h"

namespace semantic::kernels::cuda {
namespace {

constexpr int kThreads = 256;

// (v, i) comes before (bv, bi) in the order; bi < 0: no candidate yet. NaN never wins.
__device__ __forceinline__ bool Before(float v, int i, float bv, int bi) {
  return bi < 0 ? v == v : (v > bv || (v == bv && i < bi));
}
// (v, i) comes after (pv, pi) (pi < 0: any element).
__device__ __forceinline__ bool After(float v, int i, float pv, int pi) {
  return pi < 0 || v < pv || (v == pv && i > pi);
}

// The block's best (first in the order) element after (pv, pi), into (*bv, *bi) for all threads.
__device__ void BestAfter(const float* r, int n, float pv, int pi, float* out_v, int* out_i) {
  __shared__ float sv[kThreads];
  __shared__ int si[kThreads];
  float bv = -INFINITY;
  int bi = -1;
  for (int i = threadIdx.x; i < n; i += kThreads) {
    const float v = r[i];
    if (After(v, i, pv, pi) && Before(v, i, bv, bi)) bv = v, bi = i;
  }
  sv[threadIdx.x] = bv;
  si[threadIdx.x] = bi;
  __syncthreads();
  for (int s = kThreads / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s) {
      const float v = sv[threadIdx.x + s];
      const int i = si[threadIdx.x + s];
      if (i >= 0 && Before(v, i, sv[threadIdx.x], si[threadIdx.x]))
        sv[threadIdx.x] = v, si[threadIdx.x] = i;
    }
    __syncthreads();
  }
  *out_v = sv[0];
  *out_i = si[0];
  __syncthreads();  // sv/si are reused by the next call
}

__global__ void ArgmaxKernel(const float* x, int n, int32_t* idx) {
  float v;
  int i;
  BestAfter(x + static_cast<int64_t>(blockIdx.x) * n, n, 0.0f, -1, &v, &i);
  if (threadIdx.x == 0) idx[blockIdx.x] = i;
}

__global__ void TopKKernel(const float* x, int n, int k, int32_t* idx, float* val) {
  const float* r = x + static_cast<int64_t>(blockIdx.x) * n;
  float pv = 0.0f;
  int pi = -1;
  for (int j = 0; j < k; ++j) {
    float v;
    int i;
    BestAfter(r, n, pv, pi, &v, &i);
    if (threadIdx.x == 0) {
      idx[static_cast<int64_t>(blockIdx.x) * k + j] = i;
      val[static_cast<int64_t>(blockIdx.x) * k + j] = i >= 0 ? v : -INFINITY;
    }
    if (i < 0) {  // fewer than k non-NaN values: the remaining slots get -1 / -inf
      for (int rest = j + 1 + static_cast<int>(threadIdx.x); rest < k; rest += kThreads) {
        idx[static_cast<int64_t>(blockIdx.x) * k + rest] = -1;
        val[static_cast<int64_t>(blockIdx.x) * k + rest] = -INFINITY;
      }
      break;
    }
    pv = v, pi = i;
  }
}

}  // namespace

Status ArgmaxRows(const float* x, int64_t n_rows, int64_t n, int32_t* idx, cudaStream_t stream) {
  if (n <= 0 || n > INT_MAX) return InvalidArgument("cuda::ArgmaxRows: n must be in [1, 2^31)");
  if (n_rows <= 0) return Status::Ok();
  ArgmaxKernel<<<static_cast<unsigned>(n_rows), kThreads, 0, stream>>>(x, static_cast<int>(n),
                                                                       idx);
  return LaunchStatus("ArgmaxRows");
}

Status TopKRows(const float* x, int64_t n_rows, int64_t n, int k, int32_t* idx, float* val,
                cudaStream_t stream) {
  if (n <= 0 || n > INT_MAX || k <= 0 || k > n || k > 256)
    return InvalidArgument("cuda::TopKRows: need 0 < k <= min(n, 256), n < 2^31");
  if (n_rows <= 0) return Status::Ok();
  TopKKernel<<<static_cast<unsigned>(n_rows), kThreads, 0, stream>>>(x, static_cast<int>(n), k,
                                                                     idx, val);
  return LaunchStatus("TopKRows");
}

}  // namespace semantic::kernels::cuda
