// MLX affine quantization (mlx-community checkpoints): each row's `cols` values are packed LSB
// first into uint32 words (32/bits values per word), with one scale and one bias per group of
// `group` consecutive values: w = scale * q + bias (model-formats.md §5).
#pragma once

#include <cstdint>

#include "quant/blocks.h"

namespace semantic::quant {

// bits in {2, 4, 8}; group > 0 divides cols; cols * bits divisible by 32.
bool IsSupportedMlxAffine(int bits, int group, int64_t cols);

// Dequantizes one row: packed [cols * bits / 32] u32, scales/biases [cols / group] f32 -> out
// [cols] f32 (scale * q + bias, in f32).
void DequantizeMlxAffineRow(const uint32_t* packed, const float* scales, const float* biases,
                            int64_t cols, int group, int bits, float* out);

// Repacks one 4-bit row into cols / 32 Q4_1 blocks (d = scale, m = bias, the same nibbles):
// exact when scales and biases are f16 values. Needs group % 32 == 0.
void MlxQ4RowToQ4_1(const uint32_t* packed, const float* scales, const float* biases, int64_t cols,
                    int group, BlockQ4_1* out);

}  // namespace semantic::quant
