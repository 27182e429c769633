// Activation quantization to Q8_0 / Q8_1 (quant::QuantizeRowQ8_0 / _Q8_1), bit-exact: one warp
// per 32-element block, lane j quantizes element j.
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/ops.h"
#include "kernels/cuda/runtime.h"
#include "quant/types.h"

namespace semantic::kernels::cuda {
namespace {

constexpr int kWarpsPerBlock = 8;

// Blocks of one row are contiguous, rows are row_bytes apart; block b of the whole grid is
// (row b / nb, block b % nb). kBytes: 34 (Q8_0: d, qs) or 36 (Q8_1: d, s, qs).
template <int kBytes>
__global__ void QuantizeQ8Kernel(const float* x, int64_t cols, int64_t n_blocks, uint8_t* out) {
  const int64_t b = blockIdx.x * static_cast<int64_t>(kWarpsPerBlock) + threadIdx.x / kWarp;
  if (b >= n_blocks) return;
  const int lane = threadIdx.x % kWarp;
  const int64_t nb = cols / 32;
  const int64_t row = b / nb, blk = b % nb;
  const float v = x[row * cols + blk * 32 + lane];
  const float amax = WarpMax(fabsf(v));
  const float d = amax / 127.0f;
  float id = amax != 0.0f ? 127.0f / amax : 0.0f;
  if (id > 3.4e38f) id = 0.0f;
  const int q = __float2int_rn(v * id);
  uint8_t* dst = out + row * nb * kBytes + blk * kBytes;
  constexpr int kQsOffset = kBytes - 32;
  reinterpret_cast<int8_t*>(dst + kQsOffset)[lane] = static_cast<int8_t>(q);
  const int sum = WarpSumInt(q);
  if (lane == 0) {
    reinterpret_cast<uint16_t*>(dst)[0] = FloatToHalfBits(d);
    if constexpr (kBytes == 36)
      reinterpret_cast<uint16_t*>(dst)[1] = FloatToHalfBits(d * static_cast<float>(sum));
  }
}

}  // namespace

Status QuantizeActivations(quant::DType act, const float* x, int64_t n_tok, int64_t cols,
                           void* out, cudaStream_t stream) {
  if (cols % 32 != 0) return InvalidArgument("cuda::QuantizeActivations: cols % 32 != 0");
  const int64_t n_blocks = n_tok * (cols / 32);
  if (n_blocks <= 0) return Status::Ok();
  const unsigned grid = Blocks(n_blocks, kWarpsPerBlock);
  auto* o = static_cast<uint8_t*>(out);
  switch (act) {
    case quant::DType::kQ8_0:
      QuantizeQ8Kernel<34><<<grid, kWarpsPerBlock * kWarp, 0, stream>>>(x, cols, n_blocks, o);
      break;
    case quant::DType::kQ8_1:
      QuantizeQ8Kernel<36><<<grid, kWarpsPerBlock * kWarp, 0, stream>>>(x, cols, n_blocks, o);
      break;
    default:
      return InvalidArgument("cuda::QuantizeActivations: only Q8_0 and Q8_1");
  }
  return LaunchStatus("QuantizeActivations");
}

}  // namespace semantic::kernels::cuda
