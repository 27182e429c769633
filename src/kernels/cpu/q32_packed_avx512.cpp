// Q4_0 / Q4_1 / Q5_0 / Q5_1 / Q8_0 matmul over packed weights (packed_layout.h) on 512-bit VNNI,
// for the avx512 and amx sets at every token count: lane i of every vector is row 16g + i, so a
// block's 16 rows are unpacked once for all tokens of a call and each token's 4-column group is a
// broadcast operand of one vpdpbusd (8 per block per token, no shuffles, no horizontal sums). The
// per-block f32 arithmetic is TileQ32's op sequence, so results are bit-identical to the unpacked
// kernels.
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "kernels/cpu/kernel_set.h"
#include "kernels/cpu/packed_layout.h"
#include "kernels/cpu/simd_avx512.h"

namespace semantic::kernels::cpu {
namespace {

// kNibbles: Q4/Q5 quants (kHighBits: Q5's fifth bits as masks); kAffine: a minimum per block.
struct PackedQ4_0 {
  static constexpr quant::DType kType = quant::DType::kQ4_0;
  static constexpr bool kNibbles = true, kHighBits = false, kAffine = false;
  static constexpr int kOffset = 8;  // quants are q + 8
};
struct PackedQ4_1 {
  static constexpr quant::DType kType = quant::DType::kQ4_1;
  static constexpr bool kNibbles = true, kHighBits = false, kAffine = true;
  static constexpr int kOffset = 0;
};
struct PackedQ5_0 {
  static constexpr quant::DType kType = quant::DType::kQ5_0;
  static constexpr bool kNibbles = true, kHighBits = true, kAffine = false;
  static constexpr int kOffset = 16;  // quants are q + 16
};
struct PackedQ5_1 {
  static constexpr quant::DType kType = quant::DType::kQ5_1;
  static constexpr bool kNibbles = true, kHighBits = true, kAffine = true;
  static constexpr int kOffset = 0;
};
struct PackedQ8_0 {
  static constexpr quant::DType kType = quant::DType::kQ8_0;
  static constexpr bool kNibbles = false, kHighBits = false, kAffine = false;
  static constexpr int kOffset = 128;  // stored as q + 128 (u8)
};

// acc[j] = the 16 rows of the group at gp times token t + j, over all blocks.
template <class P, int NT>
void GroupTokens(const uint8_t* gp, size_t block_bytes, const PackedActs& a, int64_t t,
                 __m512* acc) {
  static_assert(P::kOffset == PackedQuantOffset(P::kType));
  constexpr int kQuantBytes = P::kNibbles ? (P::kHighBits ? 320 : 256) : 512;
  const int64_t pad = a.n_tok_pad;
  const __m512i m4 = _mm512_set1_epi8(0x0F);
#pragma GCC unroll 8
  for (int j = 0; j < NT; ++j) acc[j] = _mm512_setzero_ps();
  for (int64_t b = 0; b < a.nb; ++b) {
    const uint8_t* blk = gp + b * block_bytes;
    for (size_t l = 0; l < block_bytes; l += 64)
      _mm_prefetch(reinterpret_cast<const char*>(blk + kPackedPrefetchAhead + l), _MM_HINT_T0);
    __m512i w[8];  // w[k]: columns 4k..4k+3 of the block for the 16 rows
    if constexpr (P::kNibbles) {
#pragma GCC unroll 4
      for (int k = 0; k < 4; ++k) {
        const __m512i v = _mm512_loadu_si512(blk + 64 * k);
        w[k] = _mm512_and_si512(v, m4);
        w[k + 4] = _mm512_and_si512(_mm512_srli_epi16(v, 4), m4);
      }
      if constexpr (P::kHighBits) {
        const __m512i sixteen = _mm512_set1_epi8(16);
#pragma GCC unroll 8
        for (int g = 0; g < 8; ++g) {
          uint64_t bits;
          std::memcpy(&bits, blk + 256 + 8 * g, 8);
          w[g] = _mm512_mask_add_epi8(w[g], _cvtu64_mask64(bits), w[g], sixteen);
        }
      }
    } else {
#pragma GCC unroll 8
      for (int k = 0; k < 8; ++k) w[k] = _mm512_loadu_si512(blk + 64 * k);
    }
    const __m512 dw = LoadF16x16(blk + kQuantBytes);
    __m512 mw = _mm512_setzero_ps();
    if constexpr (P::kAffine) mw = LoadF16x16(blk + kQuantBytes + 32);
#pragma GCC unroll 8
    for (int j = 0; j < NT; ++j) {
      const int8_t* x = a.qs + (t + j) * a.qs_stride + 32 * b;
      const int64_t i = b * pad + t + j;
      // The offset correction (-offset * xsum) is the first chain's starting value.
      const __m512i init = P::kOffset != 0 ? _mm512_set1_epi32(a.xoff[i]) : _mm512_setzero_si512();
      __m512i i0 = _mm512_dpbusd_epi32(init, w[0], Bcast32(x));
      __m512i i1 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), w[1], Bcast32(x + 4));
#pragma GCC unroll 3
      for (int k = 2; k < 8; k += 2) {
        i0 = _mm512_dpbusd_epi32(i0, w[k], Bcast32(x + 4 * k));
        i1 = _mm512_dpbusd_epi32(i1, w[k + 1], Bcast32(x + 4 * k + 4));
      }
      const __m512i isum = _mm512_add_epi32(i0, i1);
      acc[j] = _mm512_fmadd_ps(_mm512_mul_ps(dw, _mm512_set1_ps(a.d[i])), CvtI32(isum), acc[j]);
      if constexpr (P::kAffine) acc[j] = _mm512_fmadd_ps(mw, _mm512_set1_ps(a.s[i]), acc[j]);
    }
  }
}

template <class P, int NT>
void StoreTokens(const uint8_t* gp, size_t block_bytes, const PackedActs& a, int64_t t,
                 int64_t row0, __mmask16 valid, int64_t rows, float* y) {
  __m512 acc[NT];
  GroupTokens<P, NT>(gp, block_bytes, a, t, acc);
#pragma GCC unroll 8
  for (int j = 0; j < NT; ++j) _mm512_mask_storeu_ps(y + (t + j) * rows + row0, valid, acc[j]);
}

template <class P>
void MatMulPacked(const WeightView& w, const PackedActs& a, int64_t r0, int64_t r1, int64_t t0,
                  int64_t t1, float* y) {
  const size_t bb = PackedBlockBytes(P::kType);
  ForPackedGroups(w, a.nb, r0, r1, [&](const uint8_t* gp, int64_t row0, int valid_rows) {
    const __mmask16 valid = static_cast<__mmask16>((1u << valid_rows) - 1);
    int64_t t = t0;
    for (; t + 8 <= t1; t += 8) StoreTokens<P, 8>(gp, bb, a, t, row0, valid, w.rows, y);
    if (t + 4 <= t1) {
      StoreTokens<P, 4>(gp, bb, a, t, row0, valid, w.rows, y);
      t += 4;
    }
    if (t + 2 <= t1) {
      StoreTokens<P, 2>(gp, bb, a, t, row0, valid, w.rows, y);
      t += 2;
    }
    if (t < t1) StoreTokens<P, 1>(gp, bb, a, t, row0, valid, w.rows, y);
  });
}

}  // namespace

void FillQ32PackedAvx512(KernelSet* ks) {
  ks->tile_packed[static_cast<int>(quant::DType::kQ4_0)] = MatMulPacked<PackedQ4_0>;
  ks->tile_packed[static_cast<int>(quant::DType::kQ4_1)] = MatMulPacked<PackedQ4_1>;
  ks->tile_packed[static_cast<int>(quant::DType::kQ5_0)] = MatMulPacked<PackedQ5_0>;
  ks->tile_packed[static_cast<int>(quant::DType::kQ5_1)] = MatMulPacked<PackedQ5_1>;
  ks->tile_packed[static_cast<int>(quant::DType::kQ8_0)] = MatMulPacked<PackedQ8_0>;
}

}  // namespace semantic::kernels::cpu
