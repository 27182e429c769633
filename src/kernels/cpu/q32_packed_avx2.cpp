// Q4_0 / Q4_1 / Q8_0 matmul over packed weights (packed_layout.h) on AVX2, for the avx2 set at
// every token count (the avx512 and amx sets replace these with q32_packed_avx512.cpp's). A 16-row
// group is taken as two halves of 8 rows: lane i of every 256-bit vector is row 8h + i, so a
// block's quants are unpacked once per half for the tokens of a call and each token's 4-column
// group is a broadcast operand of maddubs (no shuffles, no horizontal sums). Q4 sums all 8 column
// groups in 16 bits (at most 8 x 2 x 15 x 128 = 30720) before one madd; Q8_0 (stored + 128) takes
// |q| and the token's sign-adjusted quants per group, as the unpacked AVX2 kernel does. The
// integer block sums are exact and the per-block f32 arithmetic is TileQ32's op sequence, so
// results are bit-identical to the avx2 set's unpacked kernels.
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "kernels/cpu/kernel_set.h"
#include "kernels/cpu/packed_layout.h"

namespace semantic::kernels::cpu {
namespace {

struct PackedQ4_0 {
  static constexpr quant::DType kType = quant::DType::kQ4_0;
  static constexpr bool kNibbles = true, kAffine = false;
  static constexpr int kOffset = 8;  // quants are q + 8
};
struct PackedQ4_1 {
  static constexpr quant::DType kType = quant::DType::kQ4_1;
  static constexpr bool kNibbles = true, kAffine = true;
  static constexpr int kOffset = 0;
};
struct PackedQ8_0 {
  static constexpr quant::DType kType = quant::DType::kQ8_0;
  static constexpr bool kNibbles = false, kAffine = false;
  static constexpr int kOffset = 0;  // stored as q + 128: taken back to signed before the dots
};

inline __m256i Bcast4(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return _mm256_set1_epi32(v);
}

// acc[j] = rows 8h .. 8h + 7 of the group at gp times token t + j, over all blocks.
template <class P, int NT>
void HalfTokens(const uint8_t* gp, size_t block_bytes, const PackedActs& a, int64_t t, int h,
                __m256* acc) {
  constexpr int kQuantBytes = P::kNibbles ? 256 : 512;
  const int64_t pad = a.n_tok_pad;
  const __m256i m4 = _mm256_set1_epi8(0x0F), ones = _mm256_set1_epi16(1);
#pragma GCC unroll 8
  for (int j = 0; j < NT; ++j) acc[j] = _mm256_setzero_ps();
  for (int64_t b = 0; b < a.nb; ++b) {
    const uint8_t* blk = gp + b * block_bytes;
    for (size_t l = 0; l < block_bytes; l += 64)
      _mm_prefetch(reinterpret_cast<const char*>(blk + kPackedPrefetchAhead + l), _MM_HINT_T0);
    const __m256 dw = _mm256_cvtph_ps(
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + kQuantBytes + 16 * h)));
    __m256 mw = _mm256_setzero_ps();
    if constexpr (P::kAffine)
      mw = _mm256_cvtph_ps(
          _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + kQuantBytes + 32 + 16 * h)));
    auto quants = [&](int k) {  // column group k of the half: 8 rows x 4 bytes
      return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 64 * k + 32 * h));
    };
    if constexpr (P::kNibbles) {
      __m256i w[8];  // w[k]: columns 4k..4k+3 of the block for the 8 rows
#pragma GCC unroll 4
      for (int k = 0; k < 4; ++k) {
        const __m256i v = quants(k);
        w[k] = _mm256_and_si256(v, m4);
        w[k + 4] = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
      }
#pragma GCC unroll 4
      for (int j = 0; j < NT; ++j) {
        const int8_t* x = a.qs + (t + j) * a.qs_stride + 32 * b;
        __m256i p16 = _mm256_maddubs_epi16(w[0], Bcast4(x));
#pragma GCC unroll 7
        for (int k = 1; k < 8; ++k)
          p16 = _mm256_add_epi16(p16, _mm256_maddubs_epi16(w[k], Bcast4(x + 4 * k)));
        __m256i isum = _mm256_madd_epi16(p16, ones);
        const int64_t i = b * pad + t + j;
        if constexpr (P::kOffset != 0) isum = _mm256_add_epi32(isum, _mm256_set1_epi32(a.xoff[i]));
        acc[j] = _mm256_fmadd_ps(_mm256_mul_ps(dw, _mm256_set1_ps(a.d[i])),
                                 _mm256_cvtepi32_ps(isum), acc[j]);
        if constexpr (P::kAffine) acc[j] = _mm256_fmadd_ps(mw, _mm256_set1_ps(a.s[i]), acc[j]);
      }
    } else {
      const __m256i flip = _mm256_set1_epi8(static_cast<char>(0x80));
      __m256i isum[NT];
#pragma GCC unroll 4
      for (int j = 0; j < NT; ++j) isum[j] = _mm256_setzero_si256();
#pragma GCC unroll 8
      for (int k = 0; k < 8; ++k) {
        const __m256i q = _mm256_xor_si256(quants(k), flip);  // signed quants
        const __m256i wu = _mm256_sign_epi8(q, q);            // |q|
#pragma GCC unroll 4
        for (int j = 0; j < NT; ++j) {
          const __m256i xs =
              _mm256_sign_epi8(Bcast4(a.qs + (t + j) * a.qs_stride + 32 * b + 4 * k), q);
          isum[j] =
              _mm256_add_epi32(isum[j], _mm256_madd_epi16(_mm256_maddubs_epi16(wu, xs), ones));
        }
      }
#pragma GCC unroll 4
      for (int j = 0; j < NT; ++j) {
        const int64_t i = b * pad + t + j;
        acc[j] = _mm256_fmadd_ps(_mm256_mul_ps(dw, _mm256_set1_ps(a.d[i])),
                                 _mm256_cvtepi32_ps(isum[j]), acc[j]);
      }
    }
  }
}

template <class P, int NT>
void StoreTokens(const uint8_t* gp, size_t block_bytes, const PackedActs& a, int64_t t, int h,
                 int64_t row0, int valid, int64_t rows, float* y) {
  __m256 acc[NT];
  HalfTokens<P, NT>(gp, block_bytes, a, t, h, acc);
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256i keep = _mm256_cmpgt_epi32(_mm256_set1_epi32(valid), lane);
#pragma GCC unroll 4
  for (int j = 0; j < NT; ++j) {
    float* dst = y + (t + j) * rows + row0 + 8 * h;
    if (valid >= 8) {
      _mm256_storeu_ps(dst, acc[j]);
    } else {
      _mm256_maskstore_ps(dst, keep, acc[j]);
    }
  }
}

template <class P>
void MatMulPackedAvx2(const WeightView& w, const PackedActs& a, int64_t r0, int64_t r1, int64_t t0,
                      int64_t t1, float* y) {
  const size_t bb = PackedBlockBytes(P::kType);
  ForPackedGroups(w, a.nb, r0, r1, [&](const uint8_t* gp, int64_t row0, int valid_rows) {
    for (int h = 0; h < 2 && 8 * h < valid_rows; ++h) {
      const int valid = std::min(8, valid_rows - 8 * h);
      int64_t t = t0;
      // Q4: 8 tokens a pass (w, 8 accumulators and temporaries fit the 16 registers); Q8_0's 8
      // integer sums per pass would not (measured: 1536 x 576 at 8 tokens 132 -> 192 us).
      if constexpr (P::kNibbles)
        for (; t + 8 <= t1; t += 8) StoreTokens<P, 8>(gp, bb, a, t, h, row0, valid, w.rows, y);
      for (; t + 4 <= t1; t += 4) StoreTokens<P, 4>(gp, bb, a, t, h, row0, valid, w.rows, y);
      if (t + 2 <= t1) {
        StoreTokens<P, 2>(gp, bb, a, t, h, row0, valid, w.rows, y);
        t += 2;
      }
      if (t < t1) StoreTokens<P, 1>(gp, bb, a, t, h, row0, valid, w.rows, y);
    }
  });
}

}  // namespace

void FillQ32PackedAvx2(KernelSet* ks) {
  ks->tile_packed[static_cast<int>(quant::DType::kQ4_0)] = MatMulPackedAvx2<PackedQ4_0>;
  ks->tile_packed[static_cast<int>(quant::DType::kQ4_1)] = MatMulPackedAvx2<PackedQ4_1>;
  ks->tile_packed[static_cast<int>(quant::DType::kQ8_0)] = MatMulPackedAvx2<PackedQ8_0>;
}

}  // namespace semantic::kernels::cpu
