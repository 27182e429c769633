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

// Name of the kernel set chosen for this CPU ("avx512", "avx2", "scalar").
const char* ActiveIsa();

}  // namespace semantic::kernels
