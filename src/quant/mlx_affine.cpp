// MLX affine dequantization and the lossless 4-bit -> Q4_1 repack (mlx_affine.h).
#include "quant/mlx_affine.h"

#include "base/fp16.h"

namespace semantic::quant {
namespace {

inline uint32_t Value(const uint32_t* packed, int64_t k, int bits) {
  const int per_word = 32 / bits;
  return (packed[k / per_word] >> ((k % per_word) * bits)) & ((1u << bits) - 1);
}

}  // namespace

bool IsSupportedMlxAffine(int bits, int group, int64_t cols) {
  return (bits == 2 || bits == 4 || bits == 8) && group > 0 && cols > 0 && cols % group == 0 &&
         (cols * bits) % 32 == 0;
}

void DequantizeMlxAffineRow(const uint32_t* packed, const float* scales, const float* biases,
                            int64_t cols, int group, int bits, float* out) {
  for (int64_t k = 0; k < cols; ++k) {
    const float q = static_cast<float>(Value(packed, k, bits));
    out[k] = scales[k / group] * q + biases[k / group];
  }
}

void MlxQ4RowToQ4_1(const uint32_t* packed, const float* scales, const float* biases, int64_t cols,
                    int group, BlockQ4_1* out) {
  for (int64_t b = 0; b < cols / kQK; ++b) {
    const int64_t first = b * kQK;
    BlockQ4_1& blk = out[b];
    blk.d = Fp32ToFp16(scales[first / group]);
    blk.m = Fp32ToFp16(biases[first / group]);
    for (int k = 0; k < kQK / 2; ++k) {
      const uint32_t lo = Value(packed, first + k, 4), hi = Value(packed, first + kQK / 2 + k, 4);
      blk.qs[k] = static_cast<uint8_t>(lo | (hi << 4));
    }
  }
}

}  // namespace semantic::quant
