// F16 matmul y = W x (x rounded to f16 as kernels/ref does, f32 accumulation): one warp per
// (weight row, token), lanes over columns. A simple kernel instead of cuBLAS: this toolkit ships
// cuBLAS only as a shared library, which the binary would then need at load time on CPU-only
// machines. A tensor-core (mma) kernel for prefill is future work.
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/matmul_impl.h"
#include "kernels/cuda/runtime.h"

namespace semantic::kernels::cuda::detail {
namespace {

constexpr int kWarpsPerBlock = 8;

__global__ void MatMulF16Kernel(const uint8_t* w, size_t row_bytes, int64_t rows, int64_t cols,
                                const float* x, float* y) {
  const int64_t r = blockIdx.x * static_cast<int64_t>(kWarpsPerBlock) + threadIdx.x / kWarp;
  if (r >= rows) return;
  const int lane = threadIdx.x % kWarp;
  const int64_t t = blockIdx.y;
  const auto* wr = reinterpret_cast<const __half*>(w + r * row_bytes);
  const float* xr = x + t * cols;
  float sum = 0.0f;
  for (int64_t c = lane; c < cols; c += kWarp)
    sum += __half2float(wr[c]) * __half2float(__float2half_rn(xr[c]));
  sum = WarpSum(sum);
  if (lane == 0) y[t * rows + r] = sum;
}

}  // namespace

Status MatMulF16(const WeightView& w, const float* x, int64_t n_tok, float* y,
                 cudaStream_t stream) {
  const dim3 grid(Blocks(w.rows, kWarpsPerBlock), static_cast<unsigned>(n_tok));
  MatMulF16Kernel<<<grid, kWarpsPerBlock * kWarp, 0, stream>>>(
      static_cast<const uint8_t*>(w.data), w.row_bytes, w.rows, w.cols, x, y);
  return LaunchStatus("MatMulF16");
}

}  // namespace semantic::kernels::cuda::detail
