// Kernel interface used by models: quantized matmul and row dequantization. Implementations:
// kernels/ref (scalar oracle) and kernels/cpu (AVX2 / AVX-512, threaded), chosen at run time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>

#include "base/thread_pool.h"
#include "quant/types.h"

namespace semantic::kernels {

// A 2-D weight matrix as stored in GGUF: `rows` rows (output features) of `cols` elements
// (input features), each row `row_bytes` bytes of `type` blocks, rows contiguous.
struct WeightView {
  quant::DType type = quant::DType::kF32;
  int64_t rows = 0;
  int64_t cols = 0;
  size_t row_bytes = 0;
  const void* data = nullptr;
  // The same matrix in the CPU kernels' interleaved layout (kernels/packed_weights.h), or null.
  // `data` stays the GGUF bytes: lookups, the reference kernels and the GPU upload read it.
  const void* packed = nullptr;
};

// y[t][r] = sum_c W[r][c] * x[t][c] for t < n_tok.
// x: [n_tok][cols] f32 row-major; y: [n_tok][rows] f32 row-major (written, not accumulated).
void MatMul(const WeightView& w, const float* x, int64_t n_tok, float* y, ThreadPool& pool);

// Several matmuls over the same input (Q, K and V; FFN gate and up): ys = ws x for each
// {&w, y}. Same result as one MatMul each; matrices of one type and width quantize x once and
// share one fork-join. At most 8.
struct SharedOut {
  const WeightView* w;
  float* y;
};
void MatMulShared(std::initializer_list<SharedOut> outs, const float* x, int64_t n_tok,
                  ThreadPool& pool);

// Dequantizes row `row` of w into out[cols] (f32). Used for embedding lookups.
void DequantizeRow(const WeightView& w, int64_t row, float* out);

// Element-wise steps between the matmuls, vectorized for the active kernel set. Each element's
// value depends only on its inputs (RmsNormRows: on its row), not on n or its position.
// gate[i] = silu(gate[i]) * up[i] (SiLU through an exp within ~1 ulp of std::exp).
void SiluMul(float* gate, const float* up, int64_t n);
// out[t] = x[t] / rms(x[t]) * w for n_tok rows of n (sum of squares in double); out may be x.
void RmsNormRows(const float* x, const float* w, int64_t n_tok, int64_t n, float eps, float* out);
// f32 -> f16 bits, round to nearest even.
void F32ToF16(const float* x, uint16_t* y, int64_t n);
// y[i] = exp((x[i] - shift) / divisor) (an exp within ~1 ulp of std::exp; 0 below -87.3), for
// softmax-style weights such as the sampler's; y may be x.
void ExpShifted(const float* x, int64_t n, float shift, float divisor, float* y);

// Name of the kernel set chosen for this CPU ("amx", "avx512", "avx2", "scalar").
const char* ActiveIsa();

}  // namespace semantic::kernels
