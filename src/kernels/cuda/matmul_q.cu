// Quantized matmul y = W x for Q4_0, Q8_0 (x in Q8_0) and Q4_1 (x in Q8_1): one warp per (weight
// row, tile of up to 4 tokens, or 16 for batches of 16 or more), lanes take 32-element blocks in
// turn, 8 dp4a per block and token, f32 accumulation; the block sums follow kernels/ref
// (d_w*d_x*isum, plus m_w*s_x for Q4_1). A token's sum is the same arithmetic whatever the tile,
// so results do not depend on the batch. A weight row is read once per token tile: prefill wants
// a tensor-core kernel (not yet here).
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/matmul_impl.h"
#include "kernels/cuda/runtime.h"
#include "quant/types.h"

namespace semantic::kernels::cuda::detail {
namespace {

constexpr int kWarpsPerBlock = 8;
// Tokens per warp: the weight block is loaded once for all of them. Small batches (decode) keep
// more warps busy with 4; prefill chunks re-read each weight row 4x less with 16.
constexpr int kSmallTile = 4, kLargeTile = 16;

// GGUF rows and 34-byte Q8_0 blocks are only 2-byte aligned: 32-bit loads from two halves.
__device__ __forceinline__ int Load32(const uint8_t* p) {
  const auto* h = reinterpret_cast<const uint16_t*>(p);
  return static_cast<int>(static_cast<uint32_t>(h[0]) | (static_cast<uint32_t>(h[1]) << 16));
}
__device__ __forceinline__ float LoadHalf(const uint8_t* p) {
  return HalfBitsToFloat(*reinterpret_cast<const uint16_t*>(p));
}

enum class WType { kQ4_0, kQ8_0, kQ4_1 };

template <WType T>
struct Layout;
template <>
struct Layout<WType::kQ4_0> { static constexpr int kW = 18, kA = 34; };
template <>
struct Layout<WType::kQ8_0> { static constexpr int kW = 34, kA = 34; };
template <>
struct Layout<WType::kQ4_1> { static constexpr int kW = 20, kA = 36; };

// A weight block's 32 quants as 8 words of 4 signed bytes: word i holds elements 4i..4i+3.
template <WType T>
__device__ __forceinline__ void UnpackWeights(const uint8_t* wb, int q[8]) {
  if constexpr (T == WType::kQ8_0) {
#pragma unroll
    for (int i = 0; i < 8; ++i) q[i] = Load32(wb + 2 + 4 * i);
  } else {
    constexpr int kWq = Layout<T>::kW - 16;  // weight nibbles offset
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      const int v = Load32(wb + kWq + 4 * i);
      int lo = v & 0x0F0F0F0F, hi = (v >> 4) & 0x0F0F0F0F;  // elements 4i.., 16+4i..
      if constexpr (T == WType::kQ4_0) {
        lo = static_cast<int>(__vsub4(static_cast<unsigned>(lo), 0x08080808u));
        hi = static_cast<int>(__vsub4(static_cast<unsigned>(hi), 0x08080808u));
      }
      q[i] = lo;
      q[i + 4] = hi;
    }
  }
}

// One block's contribution: weight block at wb (quants unpacked in q), activation block at ab.
template <WType T>
__device__ __forceinline__ float BlockDot(const uint8_t* wb, const int q[8], const uint8_t* ab) {
  constexpr int kAq = Layout<T>::kA - 32;  // activation quants offset
  int isum = 0;
#pragma unroll
  for (int i = 0; i < 8; ++i) isum = __dp4a(q[i], Load32(ab + kAq + 4 * i), isum);
  float r = LoadHalf(wb) * LoadHalf(ab) * static_cast<float>(isum);
  if constexpr (T == WType::kQ4_1) r += LoadHalf(wb + 2) * LoadHalf(ab + 2);
  return r;
}

// Up to kMaxOuts weights of one type and width over the same activations in one launch: their
// rows follow one another along grid x (first_block[i]: weight i's first thread block).
constexpr int kMaxOuts = 3;
struct Outs {
  const uint8_t* w[kMaxOuts];
  size_t row_bytes[kMaxOuts];
  int64_t rows[kMaxOuts];
  float* y[kMaxOuts];
  unsigned first_block[kMaxOuts + 1];
  int n;
};

// grid: (sum of ceil(rows_i / kWarpsPerBlock), ceil(n_tok / kTokTile)).
template <WType T, int kTokTile>
__global__ void MatMulQKernel(const Outs o, int64_t nb, const uint8_t* act, size_t act_row_bytes,
                              int64_t n_tok) {
  int i = 0;
  while (i + 1 < o.n && blockIdx.x >= o.first_block[i + 1]) ++i;
  const int64_t rows = o.rows[i];
  const int64_t r = (blockIdx.x - o.first_block[i]) * static_cast<int64_t>(kWarpsPerBlock) +
                    threadIdx.x / kWarp;
  if (r >= rows) return;
  float* y = o.y[i];
  const int lane = threadIdx.x % kWarp;
  const int64_t t0 = blockIdx.y * static_cast<int64_t>(kTokTile);
  const int n_t = static_cast<int>(min(static_cast<int64_t>(kTokTile), n_tok - t0));
  const uint8_t* wr = o.w[i] + r * o.row_bytes[i];
  float sum[kTokTile] = {};
  for (int64_t b = lane; b < nb; b += kWarp) {
    const uint8_t* wb = wr + b * Layout<T>::kW;
    int q[8];
    UnpackWeights<T>(wb, q);
#pragma unroll
    for (int j = 0; j < kTokTile; ++j) {
      if (j < n_t)
        sum[j] += BlockDot<T>(wb, q, act + (t0 + j) * act_row_bytes + b * Layout<T>::kA);
    }
  }
#pragma unroll
  for (int j = 0; j < kTokTile; ++j) {
    const float s = WarpSum(sum[j]);  // every lane takes part: n_t is the same for the warp
    if (lane == 0 && j < n_t) y[(t0 + j) * rows + r] = s;
  }
}

template <WType T>
Status Launch(const Outs& o, int64_t cols, const void* act, size_t act_row_bytes, int64_t n_tok,
              cudaStream_t stream) {
  const auto* ad = static_cast<const uint8_t*>(act);
  if (n_tok >= kLargeTile) {
    const dim3 grid(o.first_block[o.n], Blocks(n_tok, kLargeTile));
    MatMulQKernel<T, kLargeTile><<<grid, kWarpsPerBlock * kWarp, 0, stream>>>(
        o, cols / 32, ad, act_row_bytes, n_tok);
  } else {
    const dim3 grid(o.first_block[o.n], Blocks(n_tok, kSmallTile));
    MatMulQKernel<T, kSmallTile><<<grid, kWarpsPerBlock * kWarp, 0, stream>>>(
        o, cols / 32, ad, act_row_bytes, n_tok);
  }
  return LaunchStatus("MatMulQuantized");
}

}  // namespace

Status MatMulQuantizedMulti(const WeightView* const* ws, float* const* ys, int n,
                            const void* act, size_t act_row_bytes, int64_t n_tok,
                            cudaStream_t stream) {
  if (n < 1 || n > kMaxOuts) return InvalidArgument("cuda::MatMulQuantizedMulti: 1 to 3 weights");
  const WeightView& w0 = *ws[0];
  if (w0.cols % 32 != 0) return InvalidArgument("cuda::MatMul: cols % 32 != 0");
  Outs o{};
  o.n = n;
  o.first_block[0] = 0;
  for (int i = 0; i < n; ++i) {
    if (ws[i]->type != w0.type || ws[i]->cols != w0.cols) {
      return InvalidArgument("cuda::MatMulQuantizedMulti: weights differ in type or width");
    }
    o.w[i] = static_cast<const uint8_t*>(ws[i]->data);
    o.row_bytes[i] = ws[i]->row_bytes;
    o.rows[i] = ws[i]->rows;
    o.y[i] = ys[i];
    o.first_block[i + 1] = o.first_block[i] + Blocks(ws[i]->rows, kWarpsPerBlock);
  }
  if (o.first_block[n] == 0) return Status::Ok();
  switch (w0.type) {
    case quant::DType::kQ4_0:
      return Launch<WType::kQ4_0>(o, w0.cols, act, act_row_bytes, n_tok, stream);
    case quant::DType::kQ8_0:
      return Launch<WType::kQ8_0>(o, w0.cols, act, act_row_bytes, n_tok, stream);
    case quant::DType::kQ4_1:
      return Launch<WType::kQ4_1>(o, w0.cols, act, act_row_bytes, n_tok, stream);
    default: return InvalidArgument("cuda::MatMulQuantized: not a Q4_0/Q8_0/Q4_1 weight");
  }
}

Status MatMulQuantized(const WeightView& w, const void* act, size_t act_row_bytes, int64_t n_tok,
                       float* y, cudaStream_t stream) {
  const WeightView* ws[1] = {&w};
  float* ys[1] = {y};
  return MatMulQuantizedMulti(ws, ys, 1, act, act_row_bytes, n_tok, stream);
}

}  // namespace semantic::kernels::cuda::detail
