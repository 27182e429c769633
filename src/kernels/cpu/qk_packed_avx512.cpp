// Q4_K / Q5_K / Q6_K matmul over packed weights (packed_layout.h) on 512-bit VNNI, for the avx512
// and amx sets at every token count. Lane i of every vector is row 16g + i: a 32-column unit's
// quants are unpacked once for all tokens of a call, and each token's 4 columns are a broadcast
// operand of one vpdpbusd. The sub-block scales are applied in integers, as the unpacked kernels
// (qk_kernels.inc.h) do, and the per-super-block f32 operations are theirs in the same order, so
// results are bit-identical to them:
//   Q4_K  partial sums of 16 columns (< 2^15: 16 * 15 * 127) times the scale by vpdpwssd;
//   Q5_K  the 32-column sum times the scale by vpmulld (a 16-column sum can pass 2^15);
//   Q6_K  each 16-column sub-block's sum times its i8 scale by vpmulld.
// Mins (Q4_K / Q5_K) and Q6_K's -32 offset come from the activations' 16-column sums (bsums).
#include <immintrin.h>

#include <cstring>

#include "kernels/cpu/kernel_set.h"
#include "kernels/cpu/packed_layout.h"
#include "kernels/cpu/simd_avx512.h"

namespace semantic::kernels::cpu {
namespace {

using quant::DType;

inline uint64_t LoadU64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

// Lane r = (v[r], v[r]) as two i16, from 16 u8 (one per row): every 128-bit lane holds the 16
// bytes, and dword r of the control picks byte r twice, each followed by a zero.
inline __m512i DupU8Pairs(const uint8_t* p) {
  const __m512i v =
      _mm512_maskz_broadcast_i32x4(0xFFFF, _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  const __m512i ctrl = _mm512_add_epi32(
      _mm512_set1_epi32(static_cast<int>(0x80008000u)),
      _mm512_mullo_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
                         _mm512_set1_epi32(0x10001)));
  return _mm512_shuffle_epi8(v, ctrl);
}

template <DType kType, int NT>
void GroupTokensK(const uint8_t* gp, const PackedActs& a, int64_t t, __m512* facc) {
  constexpr PackedKLayout kL = PackedKOffsets(kType);
  constexpr bool kSix = kType == DType::kQ6_K, kFive = kType == DType::kQ5_K;
  const __m512i m4 = _mm512_set1_epi8(0x0F), zero = _mm512_setzero_si512();
  const int64_t nb = a.nb;
#pragma GCC unroll 8
  for (int j = 0; j < NT; ++j) facc[j] = _mm512_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* blk = gp + b * kL.bytes;
    for (int l = 0; l < kL.bytes; l += 64)
      _mm_prefetch(reinterpret_cast<const char*>(blk + kPackedPrefetchAhead + l), _MM_HINT_T0);
    __m512i isum[NT], imin[NT];  // Q6_K: imin is sum_s sc_s * bsum_s
#pragma GCC unroll 8
    for (int j = 0; j < NT; ++j) isum[j] = imin[j] = zero;
    for (int u = 0; u < 8; ++u) {  // 32-column unit: Q4_K/Q5_K sub-block u, Q6_K 2u and 2u + 1
      const uint8_t* q = blk + 512 * (u / 2);
      __m512i w[8];
#pragma GCC unroll 8
      for (int k = 0; k < 8; ++k) {
        const __m512i v = _mm512_loadu_si512(q + 64 * k);
        w[k] = _mm512_and_si512(u % 2 ? _mm512_srli_epi16(v, 4) : v, m4);
        if constexpr (kL.masks >= 0) {
          const uint8_t* mk = blk + kL.masks + 64 * u + 8 * k;
          w[k] =
              _mm512_mask_add_epi8(w[k], _cvtu64_mask64(LoadU64(mk)), w[k], _mm512_set1_epi8(16));
          if constexpr (kSix)
            w[k] = _mm512_mask_add_epi8(w[k], _cvtu64_mask64(LoadU64(mk + 512)), w[k],
                                        _mm512_set1_epi8(32));
        }
      }
      __m512i sc0, sc1, pair;
      if constexpr (kSix) {  // pair: lane r = (sc_2u, sc_2u+1) as i16
        pair = _mm512_cvtepi8_epi16(
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + kL.sc + 32 * u)));
        sc0 = _mm512_maskz_srai_epi32(0xFFFF, _mm512_maskz_slli_epi32(0xFFFF, pair, 16), 16);
        sc1 = _mm512_maskz_srai_epi32(0xFFFF, pair, 16);
      } else {
        sc0 = _mm512_maskz_cvtepu8_epi32(
            0xFFFF, _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + kL.sc + 16 * u)));
        pair = DupU8Pairs(blk + kL.m + 16 * u);
      }
#pragma GCC unroll 8
      for (int j = 0; j < NT; ++j) {
        const int8_t* x = a.qs + (t + j) * a.qs_stride + 256 * b + 32 * u;
        __m512i p0 = _mm512_dpbusd_epi32(zero, w[0], Bcast32(x));
        __m512i p1 = _mm512_dpbusd_epi32(zero, w[4], Bcast32(x + 16));
#pragma GCC unroll 3
        for (int k = 1; k < 4; ++k) {
          p0 = _mm512_dpbusd_epi32(p0, w[k], Bcast32(x + 4 * k));
          p1 = _mm512_dpbusd_epi32(p1, w[k + 4], Bcast32(x + 16 + 4 * k));
        }
        if constexpr (kSix) {
          isum[j] = _mm512_add_epi32(isum[j], _mm512_mullo_epi32(p0, sc0));
          isum[j] = _mm512_add_epi32(isum[j], _mm512_mullo_epi32(p1, sc1));
        } else if constexpr (kFive) {
          isum[j] = _mm512_add_epi32(isum[j], _mm512_mullo_epi32(_mm512_add_epi32(p0, p1), sc0));
        } else {
          isum[j] = _mm512_dpwssd_epi32(isum[j], p0, sc0);
          isum[j] = _mm512_dpwssd_epi32(isum[j], p1, sc0);
        }
        // bsums 2u, 2u + 1: Q4_K/Q5_K m_u * (both), Q6_K sc_2u * first + sc_2u+1 * second.
        const int16_t* bs = a.bsums + ((t + j) * nb + b) * 16 + 2 * u;
        imin[j] = _mm512_dpwssd_epi32(imin[j], pair, Bcast32(bs));
      }
    }
#pragma GCC unroll 8
    for (int j = 0; j < NT; ++j) {
      const __m512 dx = _mm512_set1_ps(a.d[b * a.n_tok_pad + t + j]);
      const __m512 d = _mm512_mul_ps(LoadF16x16(blk + kL.d), dx);
      if constexpr (kSix) {
        const __m512i total =
            _mm512_sub_epi32(isum[j], _mm512_maskz_slli_epi32(0xFFFF, imin[j], 5));
        facc[j] = _mm512_fmadd_ps(d, CvtI32(total), facc[j]);
      } else {
        const __m512 dmin = _mm512_mul_ps(LoadF16x16(blk + kL.dmin), dx);
        facc[j] = _mm512_fmadd_ps(d, CvtI32(isum[j]), facc[j]);
        facc[j] = _mm512_fnmadd_ps(dmin, CvtI32(imin[j]), facc[j]);
      }
    }
  }
}

template <DType kType, int NT>
void StoreTokensK(const uint8_t* gp, const PackedActs& a, int64_t t, int64_t row0, __mmask16 valid,
                  int64_t rows, float* y) {
  __m512 acc[NT];
  GroupTokensK<kType, NT>(gp, a, t, acc);
#pragma GCC unroll 8
  for (int j = 0; j < NT; ++j) _mm512_mask_storeu_ps(y + (t + j) * rows + row0, valid, acc[j]);
}

template <DType kType>
void MatMulPackedK(const WeightView& w, const PackedActs& a, int64_t r0, int64_t r1, int64_t t0,
                   int64_t t1, float* y) {
  ForPackedGroups(w, a.nb, r0, r1, [&](const uint8_t* gp, int64_t row0, int valid_rows) {
    const __mmask16 valid = static_cast<__mmask16>((1u << valid_rows) - 1);
    int64_t t = t0;
    for (; t + 8 <= t1; t += 8) StoreTokensK<kType, 8>(gp, a, t, row0, valid, w.rows, y);
    if (t + 4 <= t1) {
      StoreTokensK<kType, 4>(gp, a, t, row0, valid, w.rows, y);
      t += 4;
    }
    if (t + 2 <= t1) {
      StoreTokensK<kType, 2>(gp, a, t, row0, valid, w.rows, y);
      t += 2;
    }
    if (t < t1) StoreTokensK<kType, 1>(gp, a, t, row0, valid, w.rows, y);
  });
}

}  // namespace

void FillQKPackedAvx512(KernelSet* ks) {
  ks->tile_packed[static_cast<int>(DType::kQ4_K)] = MatMulPackedK<DType::kQ4_K>;
  ks->tile_packed[static_cast<int>(DType::kQ5_K)] = MatMulPackedK<DType::kQ5_K>;
  ks->tile_packed[static_cast<int>(DType::kQ6_K)] = MatMulPackedK<DType::kQ6_K>;
}

}  // namespace semantic::kernels::cpu
