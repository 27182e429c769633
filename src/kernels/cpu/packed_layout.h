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
//
// Q4_K, Q5_K and Q6_K (256-column super-blocks, PackedBlockElems 256) take 16 rows at a time too;
// block b of group g is the group's super-block b (PackedKLayout gives the offsets):
//   quants   2048 bytes: 32-column unit u (0..7) is chunk u / 2 at 512 * (u / 2); its vector k
//            (0..7, 64 bytes at + 64k) holds columns 32u + 4k .. + 3 of row r at bytes 4r..4r+3,
//            in the low nibbles for even u and the high nibbles for odd u (bits 0..3 of the quant)
//   masks    Q5_K: [u][k] 64-bit words, bit 4r + j = bit 4 of column 32u + 4k + j of row r;
//            Q6_K: that (bit 4), then the same for bit 5 at + 512
//   d, dmin  16 f16 each (Q6_K: d only)
//   sc, m    Q4_K / Q5_K: [sub-block s][row] u8 6-bit scales, then mins;
//            Q6_K: [pair i][row][2] i8 scales of its 16-column sub-blocks 2i and 2i + 1
// Quants are the unsigned GGUF values (Q5_K 0..31, Q6_K 0..63: weights sc * q - 32 sc).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "base/check.h"
#include "kernels/ops.h"

namespace semantic::kernels::cpu {

constexpr int kPackRows = 16;

// What the packed quants of `type` exceed the signed ones by (Q4_0 8, Q5_0 16, Q8_0 128; else 0):
// a block's dot product is sum(q * x) - offset * sum(x).
constexpr int PackedQuantOffset(quant::DType type) {
  return type == quant::DType::kQ4_0   ? 8
         : type == quant::DType::kQ5_0 ? 16
         : type == quant::DType::kQ8_0 ? 128
                                       : 0;
}

// Bytes of one 16-row block in the packed layout; 0 when `type` has none.
size_t PackedBlockBytes(quant::DType type);
// Columns of one packed block: 256 for the K-quants, else 32.
int64_t PackedBlockElems(quant::DType type);

// Byte offsets inside a packed K-quant block (-1: absent).
struct PackedKLayout {
  int masks, d, dmin, sc, m, bytes;
};
constexpr PackedKLayout PackedKOffsets(quant::DType type) {
  switch (type) {
    case quant::DType::kQ4_K:
      return {-1, 2048, 2080, 2112, 2240, 2368};
    case quant::DType::kQ5_K:
      return {2048, 2560, 2592, 2624, 2752, 2880};
    case quant::DType::kQ6_K:
      return {2048, 3328, -1, 3072, -1, 3360};
    default:
      return {-1, -1, -1, -1, -1, 0};
  }
}
// Bytes of w in the packed layout (PackedBlockBytes(w.type) != 0).
size_t PackedBytes(const WeightView& w);
// Writes row groups [g0, g1) of w (from w.data) into out[PackedBytes(w)] in the packed layout
// (padding rows of the last group zero).
void PackRows(const WeightView& w, int64_t g0, int64_t g1, uint8_t* out);
// PackRows for Q4_K, Q5_K and Q6_K (packed_k.cpp).
void PackRowsK(const WeightView& w, int64_t g0, int64_t g1, uint8_t* out);

// Software prefetch distance of the packed kernels, in bytes ahead in a group's stream. 8 KB:
// decode from weights partly in RAM (the VM's L3 share is ~100 MB) +7-10 % over 2 KB at 1 token,
// batches of 2-8 and pp512 unchanged (Xeon, alternating runs).
constexpr size_t kPackedPrefetchAhead = 8192;

// Calls fn(gp, row0, valid_rows) for the 16-row groups of packed w that cover rows [r0, r1)
// (r0 a multiple of 16): gp is the group's first block, valid_rows (1..16) its rows below r1.
template <class Fn>
[[gnu::always_inline]] inline void ForPackedGroups(const WeightView& w, int64_t nb, int64_t r0,
                                                   int64_t r1, Fn fn) {
  CHECK(r0 % kPackRows == 0);
  const size_t bb = PackedBlockBytes(w.type);
  const auto* base = static_cast<const uint8_t*>(w.packed);
  for (int64_t row0 = r0; row0 < r1; row0 += kPackRows)
    fn(base + (row0 / kPackRows) * nb * bb, row0,
       static_cast<int>(std::min<int64_t>(kPackRows, r1 - row0)));
}

}  // namespace semantic::kernels::cpu
