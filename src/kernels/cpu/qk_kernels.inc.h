// Tile kernels for K-quant weights (Q4_K, Q5_K, Q6_K) against Q8_K activations. Included by
// qk_avx2.cpp and qk_avx512.cpp (the VNNI build fuses madd + add into vpdpwssd).
//
// Per 256-element super-block each (row, token) pair accumulates sum_s scale_s * dot_s in an
// i32x8 (maddubs -> multiply-add by the 16-bit sub-block scale); the 8 pairs of a tile are then
// reduced so lane p holds pair p. The min term (Q4_K/Q5_K: sum_j m_j * bsum_j) and Q6_K's -32
// offset (sum_s sc_s * bsum_s) come from the activation bsums, never touching the quants.
#pragma once

#include <algorithm>
#include <cstring>
#include <utility>

#include "kernels/cpu/kernel_set.h"
#include "kernels/cpu/simd_x86.h"

namespace semantic::kernels::cpu {
namespace {  // NOLINT(build/namespaces): per-ISA copies on purpose

// acc + sum over i16 pairs of a * b (i32x8).
inline __m256i MaddAcc(__m256i acc, __m256i a, __m256i b) {
#if defined(__AVX512VNNI__) && defined(__AVX512VL__)
  return _mm256_dpwssd_epi32(acc, a, b);
#else
  return _mm256_add_epi32(acc, _mm256_madd_epi16(a, b));
#endif
}

// Lane p of an 8-lane vector -> token p % RN, row p / RN.
template <int RN>
inline __m256 TokenPatternK(const float* p) {
  if constexpr (RN == 1) return _mm256_broadcast_ss(p);
  if constexpr (RN == 2)
    return _mm256_castpd_ps(_mm256_broadcast_sd(reinterpret_cast<const double*>(p)));
  if constexpr (RN == 4) return _mm256_broadcast_ps(reinterpret_cast<const __m128*>(p));
}

template <int RN, size_t... I>
inline __m256 RowHalvesK(const uint8_t* const* rows, size_t off, std::index_sequence<I...>) {
  __m128i h = _mm_setzero_si128();
  // memcpy: weight rows may start at any byte (a 2-byte load through a cast would be UB).
  const auto half = [](const uint8_t* p) {
    uint16_t v;
    std::memcpy(&v, p, sizeof(v));
    return v;
  };
  ((h = _mm_insert_epi16(h, half(rows[I] + off), static_cast<int>(I))), ...);
  const __m256 v = _mm256_cvtph_ps(h);
  if constexpr (RN == 1) return v;
  if constexpr (RN == 2)
    return _mm256_permutevar8x32_ps(v, _mm256_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3));
  if constexpr (RN == 4)
    return _mm256_permutevar8x32_ps(v, _mm256_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1));
}

// Q4_K / Q5_K 6-bit scales and mins of one super-block, as 8 bytes each.
inline void ScalesMinsK4(const uint8_t* s, uint64_t* sc, uint64_t* m) {
  uint32_t a0, a1, a2;
  std::memcpy(&a0, s, 4);
  std::memcpy(&a1, s + 4, 4);
  std::memcpy(&a2, s + 8, 4);
  const uint32_t sc_lo = a0 & 0x3f3f3f3f, m_lo = a1 & 0x3f3f3f3f;
  const uint32_t sc_hi = (a2 & 0x0f0f0f0f) | ((a0 >> 2) & 0x30303030);
  const uint32_t m_hi = ((a2 >> 4) & 0x0f0f0f0f) | ((a1 >> 2) & 0x30303030);
  *sc = sc_lo | static_cast<uint64_t>(sc_hi) << 32;
  *m = m_lo | static_cast<uint64_t>(m_hi) << 32;
}

// 8 u8 values -> i16x16 with value k in lanes 2k and 2k+1 (pairs with the 16 bsums).
inline __m256i Widen8Pairs(uint64_t v) {
  const __m128i w = _mm_cvtepu8_epi16(_mm_cvtsi64_si128(static_cast<long long>(v)));
  return _mm256_set_m128i(_mm_unpackhi_epi16(w, w), _mm_unpacklo_epi16(w, w));
}

// i16 value k of a 128-bit vector (replicated in both lanes) broadcast to all 16 lanes.
inline __m256i BroadcastLane16(__m256i v, int k) {
  return _mm256_shuffle_epi8(v,
                             _mm256_set1_epi16(static_cast<short>((2 * k) | ((2 * k + 1) << 8))));
}

struct TraitsQ4_K {
  static constexpr int kBytes = 144;
  static constexpr bool kFive = false;
};
struct TraitsQ5_K {
  static constexpr int kBytes = 176;
  static constexpr bool kFive = true;
};

// Moves bit `bit` of every byte of v to bit 4 (other bits cleared); bit in 0..7.
template <int kBit>
inline __m256i BitTo4(__m256i v) {
  __m256i s;
  if constexpr (kBit < 4)
    s = _mm256_slli_epi16(v, 4 - kBit);
  else
    s = _mm256_srli_epi16(v, kBit - 4);
  return _mm256_and_si256(s, _mm256_set1_epi8(0x10));
}

template <int C>
inline void HighBitsQ5K(__m256i qh, __m256i* lo, __m256i* hi) {
  *lo = _mm256_or_si256(*lo, BitTo4<2 * C>(qh));
  *hi = _mm256_or_si256(*hi, BitTo4<2 * C + 1>(qh));
}

// One RM x RN tile (RM * RN == 8) of Q4_K / Q5_K rows: out[i * RN + j].
template <class W, int RM, int RN>
void TileQ45K(const uint8_t* const* rows, const PackedActs& a, int64_t t, float* out) {
  static_assert(RM * RN == 8);
  const __m256i nib = _mm256_set1_epi8(0x0F);
  __m256 acc = _mm256_setzero_ps();
  const int8_t* xrow[RN];
  const int16_t* bsrow[RN];
#pragma GCC unroll 8
  for (int j = 0; j < RN; ++j) {
    xrow[j] = a.qs + (t + j) * a.qs_stride;
    bsrow[j] = a.bsums + (t + j) * a.nb * 16;
  }
  for (int64_t b = 0; b < a.nb; ++b) {
    const size_t off = static_cast<size_t>(b) * W::kBytes;
    __m256i p[8];  // [RM * RN pairs] i32x8 accumulators of one super-block
#pragma GCC unroll 8
    for (int k = 0; k < 8; ++k) p[k] = _mm256_setzero_si256();
#pragma GCC unroll 8
    for (int i = 0; i < RM; ++i) {
      const uint8_t* blk = rows[i] + off;
      uint64_t sc, mn;
      ScalesMinsK4(blk + 4, &sc, &mn);
      const __m256i s16 = _mm256_broadcastsi128_si256(
          _mm_cvtepu8_epi16(_mm_cvtsi64_si128(static_cast<long long>(sc))));
      const uint8_t* qs = blk + (W::kFive ? 48 : 16);
      __m256i qh = _mm256_setzero_si256();
      if constexpr (W::kFive) qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 16));
#pragma GCC unroll 4
      for (int c = 0; c < 4; ++c) {
        const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qs + 32 * c));
        __m256i lo = _mm256_and_si256(q, nib), hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), nib);
        if constexpr (W::kFive) {
          if (c == 0) HighBitsQ5K<0>(qh, &lo, &hi);
          if (c == 1) HighBitsQ5K<1>(qh, &lo, &hi);
          if (c == 2) HighBitsQ5K<2>(qh, &lo, &hi);
          if (c == 3) HighBitsQ5K<3>(qh, &lo, &hi);
        }
        const __m256i sl = BroadcastLane16(s16, 2 * c), sh = BroadcastLane16(s16, 2 * c + 1);
#pragma GCC unroll 8
        for (int j = 0; j < RN; ++j) {
          const int8_t* x = xrow[j] + 256 * b + 64 * c;
          p[i * RN + j] = MaddAcc(
              p[i * RN + j],
              _mm256_maddubs_epi16(lo, _mm256_load_si256(reinterpret_cast<const __m256i*>(x))), sl);
          p[i * RN + j] = MaddAcc(
              p[i * RN + j],
              _mm256_maddubs_epi16(hi, _mm256_load_si256(reinterpret_cast<const __m256i*>(x + 32))),
              sh);
        }
      }
    }
    const __m256i isum = ReduceLanes8(p);
    // Min term: sum_j m_j * (bsum_2j + bsum_2j+1) per pair.
#pragma GCC unroll 8
    for (int i = 0; i < RM; ++i) {
      uint64_t sc, mn;
      ScalesMinsK4(rows[i] + off + 4, &sc, &mn);
      const __m256i m16 = Widen8Pairs(mn);
#pragma GCC unroll 8
      for (int j = 0; j < RN; ++j)
        p[i * RN + j] = _mm256_madd_epi16(
            m16, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bsrow[j] + 16 * b)));
    }
    const __m256i imin = ReduceLanes8(p);
    const __m256 dx = TokenPatternK<RN>(a.d + b * a.n_tok_pad + t);
    const __m256 d = _mm256_mul_ps(RowHalvesK<RN>(rows, off, std::make_index_sequence<RM>()), dx);
    const __m256 dmin =
        _mm256_mul_ps(RowHalvesK<RN>(rows, off + 2, std::make_index_sequence<RM>()), dx);
    acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(isum), acc);
    acc = _mm256_fnmadd_ps(dmin, _mm256_cvtepi32_ps(imin), acc);
  }
  _mm256_storeu_ps(out, acc);
}

// Q6_K: 128 bytes ql, 64 qh, 16 i8 scales, f16 d at 208.
template <int RM, int RN>
void TileQ6K(const uint8_t* const* rows, const PackedActs& a, int64_t t, float* out) {
  static_assert(RM * RN == 8);
  const __m256i nib = _mm256_set1_epi8(0x0F), hmask = _mm256_set1_epi8(0x30);
  __m256 acc = _mm256_setzero_ps();
  const int8_t* xrow[RN];
  const int16_t* bsrow[RN];
#pragma GCC unroll 8
  for (int j = 0; j < RN; ++j) {
    xrow[j] = a.qs + (t + j) * a.qs_stride;
    bsrow[j] = a.bsums + (t + j) * a.nb * 16;
  }
  for (int64_t b = 0; b < a.nb; ++b) {
    const size_t off = static_cast<size_t>(b) * 210;
    __m256i p[8];  // [RM * RN pairs] i32x8 accumulators of one super-block
#pragma GCC unroll 8
    for (int k = 0; k < 8; ++k) p[k] = _mm256_setzero_si256();
#pragma GCC unroll 8
    for (int i = 0; i < RM; ++i) {
      const uint8_t* blk = rows[i] + off;
      const __m256i s16 =
          _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 192)));
#pragma GCC unroll 2
      for (int h = 0; h < 2; ++h) {
        const __m256i sh = h == 0 ? _mm256_permute2x128_si256(s16, s16, 0x00)
                                  : _mm256_permute2x128_si256(s16, s16, 0x11);
        const __m256i qa = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 64 * h));
        const __m256i qb = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 64 * h + 32));
        const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 128 + 32 * h));
        __m256i q[4];
        q[0] = _mm256_or_si256(_mm256_and_si256(qa, nib),
                               _mm256_and_si256(_mm256_slli_epi16(qh, 4), hmask));
        q[1] = _mm256_or_si256(_mm256_and_si256(qb, nib),
                               _mm256_and_si256(_mm256_slli_epi16(qh, 2), hmask));
        q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(qa, 4), nib),
                               _mm256_and_si256(qh, hmask));
        q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(qb, 4), nib),
                               _mm256_and_si256(_mm256_srli_epi16(qh, 2), hmask));
#pragma GCC unroll 4
        for (int k = 0; k < 4; ++k) {
          // Low 128-bit lane: sub-block 8h + 2k, high lane: 8h + 2k + 1.
          const __m256i sc = _mm256_shuffle_epi8(
              sh,
              _mm256_setr_epi8(4 * k, 4 * k + 1, 4 * k, 4 * k + 1, 4 * k, 4 * k + 1, 4 * k,
                               4 * k + 1, 4 * k, 4 * k + 1, 4 * k, 4 * k + 1, 4 * k, 4 * k + 1,
                               4 * k, 4 * k + 1, 4 * k + 2, 4 * k + 3, 4 * k + 2, 4 * k + 3,
                               4 * k + 2, 4 * k + 3, 4 * k + 2, 4 * k + 3, 4 * k + 2, 4 * k + 3,
                               4 * k + 2, 4 * k + 3, 4 * k + 2, 4 * k + 3, 4 * k + 2, 4 * k + 3));
#pragma GCC unroll 8
          for (int j = 0; j < RN; ++j) {
            const int8_t* x = xrow[j] + 256 * b + 128 * h + 32 * k;
            p[i * RN + j] = MaddAcc(
                p[i * RN + j],
                _mm256_maddubs_epi16(q[k], _mm256_load_si256(reinterpret_cast<const __m256i*>(x))),
                sc);
          }
        }
      }
    }
    const __m256i isum = ReduceLanes8(p);
    // Offset term: sum_s sc_s * bsum_s per pair (weights are q - 32).
#pragma GCC unroll 8
    for (int i = 0; i < RM; ++i) {
      const __m256i s16 = _mm256_cvtepi8_epi16(
          _mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[i] + off + 192)));
#pragma GCC unroll 8
      for (int j = 0; j < RN; ++j)
        p[i * RN + j] = _mm256_madd_epi16(
            s16, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bsrow[j] + 16 * b)));
    }
    const __m256i ioff = ReduceLanes8(p);
    const __m256i total = _mm256_sub_epi32(isum, _mm256_slli_epi32(ioff, 5));
    const __m256 dx = TokenPatternK<RN>(a.d + b * a.n_tok_pad + t);
    const __m256 d =
        _mm256_mul_ps(RowHalvesK<RN>(rows, off + 208, std::make_index_sequence<RM>()), dx);
    acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(total), acc);
  }
  _mm256_storeu_ps(out, acc);
}

template <int kType, int RM, int RN>
void TileK(const uint8_t* const* rows, const PackedActs& a, int64_t t, float* out) {
  if constexpr (kType == 12) TileQ45K<TraitsQ4_K, RM, RN>(rows, a, t, out);
  if constexpr (kType == 13) TileQ45K<TraitsQ5_K, RM, RN>(rows, a, t, out);
  if constexpr (kType == 14) TileQ6K<RM, RN>(rows, a, t, out);
}

template <int kType, int RM, int RN>
void RowSweepK(const WeightView& w, const PackedActs& a, int64_t r0, int64_t r1, int64_t t,
               float* y) {
  const auto* base = static_cast<const uint8_t*>(w.data);
  constexpr int64_t kAhead = 2 * RM;  // prefetch rows two tiles ahead (see q32_kernels.inc.h)
  for (int64_t r = r0; r < r1; r += RM) {
    const uint8_t* rows[RM];
    const int valid = static_cast<int>(std::min<int64_t>(RM, r1 - r));
    for (int i = 0; i < RM; ++i) rows[i] = base + (r + std::min(i, valid - 1)) * w.row_bytes;
    if (r + kAhead < r1) {
      const uint8_t* pf = base + (r + kAhead) * w.row_bytes;
      const int64_t bytes =
          std::min<int64_t>(RM, r1 - r - kAhead) * static_cast<int64_t>(w.row_bytes);
      for (int64_t k = 0; k < bytes; k += 64)
        _mm_prefetch(reinterpret_cast<const char*>(pf + k), _MM_HINT_T0);
    }
    alignas(32) float out[8];  // [RM][RN] f32 tile result
    TileK<kType, RM, RN>(rows, a, t, out);
    for (int j = 0; j < RN; ++j)
      for (int i = 0; i < valid; ++i) y[(t + j) * w.rows + r + i] = out[i * RN + j];
  }
}

template <int kType>
void MatMulK(const WeightView& w, const PackedActs& a, int64_t r0, int64_t r1, int64_t t0,
             int64_t t1, float* y) {
  int64_t t = t0;
  for (; t + 4 <= t1; t += 4) RowSweepK<kType, 2, 4>(w, a, r0, r1, t, y);
  for (; t + 2 <= t1; t += 2) RowSweepK<kType, 4, 2>(w, a, r0, r1, t, y);
  for (; t < t1; ++t) RowSweepK<kType, 8, 1>(w, a, r0, r1, t, y);
}

inline void FillK(KernelSet* ks) {
  ks->tile[12] = MatMulK<12>;  // Q4_K
  ks->tile[13] = MatMulK<13>;  // Q5_K
  ks->tile[14] = MatMulK<14>;  // Q6_K
}

}  // namespace
}  // namespace semantic::kernels::cpu
