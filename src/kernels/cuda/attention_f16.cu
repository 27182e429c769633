// Paged attention over f16 K/V blocks in GPU memory: kernels::ref::AttendGroup's f16 path (q
// rounded to f16 for q·k, f32 softmax, weights rounded to f16 before they multiply V), one thread
// block per query head. A first, simple kernel: scores go through global scratch; no split over
// positions, no tiling of query tokens, no q8_0/q4_0 blocks yet.
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/ops.h"
#include "kernels/cuda/runtime.h"

namespace semantic::kernels::cuda {
namespace {

constexpr int kThreads = 128;

__device__ __forceinline__ const __half* Row(const uint8_t* const* blocks, int block_tokens,
                                              int row_stride, int p) {
  return reinterpret_cast<const __half*>(blocks[p / block_tokens] +
                                         static_cast<size_t>(p % block_tokens) * row_stride);
}

// grid: n_q; dynamic shared memory: head_dim floats (q rounded to f16).
__global__ void AttendF16Kernel(const uint8_t* const* k_blocks, const uint8_t* const* v_blocks,
                                int block_tokens, int row_stride, int hd, const float* q,
                                int n_pos, float scale, float* scratch, float* out) {
  extern __shared__ float q16[];
  __shared__ float red[32];
  const int h = blockIdx.x;
  for (int i = threadIdx.x; i < hd; i += kThreads)
    q16[i] = __half2float(__float2half_rn(q[h * hd + i]));
  __syncthreads();
  float* s = scratch + static_cast<size_t>(h) * n_pos;
  float mx = -INFINITY;
  for (int p = threadIdx.x; p < n_pos; p += kThreads) {
    const __half* k = Row(k_blocks, block_tokens, row_stride, p);
    float dot = 0.0f;
    for (int i = 0; i < hd; ++i) dot += q16[i] * __half2float(k[i]);
    s[p] = dot * scale;
    mx = fmaxf(mx, s[p]);
  }
  mx = BlockMax(mx, red);
  float sum = 0.0f;
  for (int p = threadIdx.x; p < n_pos; p += kThreads) {
    s[p] = expf(s[p] - mx);
    sum += s[p];
  }
  sum = BlockSum(sum, red);  // its __syncthreads also publish every s[p] to the block
  const float inv = 1.0f / sum;
  for (int i = threadIdx.x; i < hd; i += kThreads) {
    float o = 0.0f;
    for (int p = 0; p < n_pos; ++p) {
      const float w = __half2float(__float2half_rn(s[p] * inv));
      o += w * __half2float(Row(v_blocks, block_tokens, row_stride, p)[i]);
    }
    out[h * hd + i] = o;
  }
}

}  // namespace

Status AttendGroupF16(const PagedHeadKv& kv, const float* q, int n_q, int n_pos, float scale,
                      float* scratch, float* out, cudaStream_t stream) {
  if (kv.dtype != KvDtype::kF16) return Unimplemented("cuda::AttendGroupF16: f16 K/V only");
  if (n_pos < 1 || kv.head_dim < 1 || kv.row_stride % 2 != 0)
    return InvalidArgument("cuda::AttendGroupF16: need n_pos >= 1 and an even row_stride");
  if (n_q <= 0) return Status::Ok();
  AttendF16Kernel<<<static_cast<unsigned>(n_q), kThreads, kv.head_dim * sizeof(float), stream>>>(
      kv.k_blocks, kv.v_blocks, kv.block_tokens, kv.row_stride, kv.head_dim, q, n_pos, scale,
      scratch, out);
  return LaunchStatus("AttendGroupF16");
}

}  // namespace semantic::kernels::cuda
