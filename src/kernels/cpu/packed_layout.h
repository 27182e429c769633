// The packed weight layout (WeightView::packed) for Q4_0, Q4_1, Q5_0, Q5_1 and Q8_0 matrices.
// Rows are taken 16 at a time (the last group padded with zero rows); a group's blocks follow
// each other, so block b of group g is at packed + (g * nb + b) * PackedBlockBytes(type):
//   Q4_0: 4 x 64 quant bytes, 16 f16 d             (288 bytes = 16 rows x 18)
//   Q4_1: 4 x 64 quant bytes, 16 f16 d, 16 f16 m   (320 bytes = 16 rows x 20)
//   Q5_0: 4 x 64 quant bytes, 8 x 8 high-bit masks, 16 f16 d           (352 = 16 x 22)
//   Q5_1: 4 x 64 quant bytes, 8 x 8 high-bit masks, 16 f16 d, 16 f16 m (384 = 16 x 24)
//   Q8_0: 8 x 64 quant bytes (each + 128: u8), 16 f16 d   (544 bytes = 16 rows x 34)
// The 64 quant bytes of group k hold bytes 4k..4k+3 of every row's quants, row r at 4r: one
// 512-bit vpdpbusd multiplies 16 rows by 4 columns of a token (and it is an AMX B-tile row).
// Q4/Q5 byte j holds column j (low nibble) and j + 16 (high), as in GGUF; Q5 mask g (a 64-bit
// word, g < 4: low nibbles of group g, else high nibbles of group g - 4) has bit 4r + j set when
// column 4g + j of row r has its fifth bit set, so one masked byte add completes the quants.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/ops.h"

namespace semantic::kernels::cpu {

constexpr int kPackRows = 16;

// Bytes of one 16-row block in the packed layout; 0 when `type` has none.
size_t PackedBlockBytes(quant::DType type);
// Bytes of w in the packed layout (PackedBlockBytes(w.type) != 0).
size_t PackedBytes(const WeightView& w);
// Writes row groups [g0, g1) of w (from w.data) into out[PackedBytes(w)] in the packed layout
// (padding rows of the last group zero).
void PackRows(const WeightView& w, int64_t g0, int64_t g1, uint8_t* out);

}  // namespace semantic::kernels::cpu
