// Helpers for kernel tests: random data, quantized weight matrices at chosen misalignment, and
// f32 reference matmuls computed from independently dequantized weights.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "kernels/ops.h"
#include "quant/dequantize.h"
#include "quant/quantize.h"
#include "quant/types.h"

namespace semantic::kernels::testing {

inline std::vector<float> RandomVector(int64_t n, uint32_t seed, float scale = 1.f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.f, scale);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) x = dist(rng);
  // A few outliers, as real activations have.
  for (int64_t i = 0; i < n; i += 97) v[static_cast<size_t>(i)] *= 6.f;
  return v;
}

// A quantized [rows][cols] matrix whose data starts `misalign` bytes past a 64-byte boundary;
// rows are `row_bytes` apart (>= RowBytes(type, cols); extra bytes are garbage).
struct TestMatrix {
  std::vector<uint8_t> storage;
  WeightView view;
  std::vector<float> dequant;  // [rows][cols] f32 from quant::DequantizeRowRef
};

inline TestMatrix MakeMatrix(quant::DType type, int64_t rows, int64_t cols, uint32_t seed,
                             int misalign = 0, size_t row_pad = 0) {
  TestMatrix m;
  const size_t rb = quant::RowBytes(type, cols) + row_pad;
  m.storage.assign(rb * rows + 128, 0xA5);
  auto base = reinterpret_cast<uintptr_t>(m.storage.data());
  uint8_t* data = m.storage.data() + ((64 - base % 64) % 64) + misalign;
  const std::vector<float> src = RandomVector(rows * cols, seed, 0.5f);
  for (int64_t r = 0; r < rows; ++r)
    quant::QuantizeRowRef(type, src.data() + r * cols, data + r * rb, cols);
  m.view = WeightView{type, rows, cols, rb, data};
  m.dequant.resize(static_cast<size_t>(rows * cols));
  for (int64_t r = 0; r < rows; ++r)
    quant::DequantizeRowRef(type, data + r * rb, m.dequant.data() + r * cols, cols);
  return m;
}

// y[t][r] = sum_c w[r][c] * x[t][c] in double, and abs_sum[t][r] = sum_c |w[r][c] * x[t][c]|.
inline void MatMulF64(const std::vector<float>& w, int64_t rows, int64_t cols, const float* x,
                      int64_t n_tok, std::vector<double>* y, std::vector<double>* abs_sum) {
  y->assign(static_cast<size_t>(rows * n_tok), 0.0);
  abs_sum->assign(static_cast<size_t>(rows * n_tok), 0.0);
  for (int64_t t = 0; t < n_tok; ++t) {
    for (int64_t r = 0; r < rows; ++r) {
      double s = 0, a = 0;
      for (int64_t c = 0; c < cols; ++c) {
        const double p = static_cast<double>(w[r * cols + c]) * x[t * cols + c];
        s += p;
        a += std::fabs(p);
      }
      (*y)[t * rows + r] = s;
      (*abs_sum)[t * rows + r] = a;
    }
  }
}

}  // namespace semantic::kernels::testing
