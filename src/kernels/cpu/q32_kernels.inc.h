// Tile kernels for 32-element block weights (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, IQ4_NL) against
// Q8_0 / Q8_1 activations. Included by q32_avx2.cpp and q32_avx512.cpp; the VNNI build uses
// vpdpbusd and turns signed weights unsigned (+128) with an integer correction.
//
// A tile is RM weight rows x RN tokens = RM*RN (row, token) pairs, processed 8 pairs at a time:
// each pair's 32-byte integer dot product is reduced across lanes so that lane p of one i32x8
// vector holds pair p, and one FMA applies the per-block scales d_w * d_x to all 8 pairs.
#pragma once

#include <algorithm>
#include <utility>

#include "kernels/cpu/kernel_set.h"
#include "kernels/cpu/simd_x86.h"

namespace semantic::kernels::cpu {
namespace {  // NOLINT(build/namespaces): per-ISA copies on purpose

#if defined(__AVX512VNNI__) && defined(__AVX512VL__)
constexpr bool kVnni = true;
#else
constexpr bool kVnni = false;
#endif

// Weight block traits: bytes per block, offset of the f16 d (always 0) and m, quants as 32
// bytes (unsigned with an offset to subtract, or signed).
struct TraitsQ4_0 {
  static constexpr int kBytes = 18, kOffset = 8;
  static constexpr bool kAffine = false, kSigned = false;
  static __m256i Quants(const uint8_t* b) { return LoadNibbles32(b + 2); }
};
struct TraitsQ4_1 {
  static constexpr int kBytes = 20, kOffset = 0;
  static constexpr bool kAffine = true, kSigned = false;
  static __m256i Quants(const uint8_t* b) { return LoadNibbles32(b + 4); }
};
struct TraitsQ5_0 {
  static constexpr int kBytes = 22, kOffset = 16;
  static constexpr bool kAffine = false, kSigned = false;
  static __m256i Quants(const uint8_t* b) {
    uint32_t qh;
    std::memcpy(&qh, b + 2, 4);
    return _mm256_or_si256(LoadNibbles32(b + 6),
                           _mm256_and_si256(BitsToBytes32(qh), _mm256_set1_epi8(0x10)));
  }
};
struct TraitsQ5_1 {
  static constexpr int kBytes = 24, kOffset = 0;
  static constexpr bool kAffine = true, kSigned = false;
  static __m256i Quants(const uint8_t* b) {
    uint32_t qh;
    std::memcpy(&qh, b + 4, 4);
    return _mm256_or_si256(LoadNibbles32(b + 8),
                           _mm256_and_si256(BitsToBytes32(qh), _mm256_set1_epi8(0x10)));
  }
};
struct TraitsQ8_0 {
  static constexpr int kBytes = 34, kOffset = 0;
  static constexpr bool kAffine = false, kSigned = true;
  static __m256i Quants(const uint8_t* b) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + 2));
  }
};
struct TraitsIQ4_NL {
  static constexpr int kBytes = 18, kOffset = 0;
  static constexpr bool kAffine = false, kSigned = true;
  static __m256i Quants(const uint8_t* b) {
    const __m256i table =
        _mm256_setr_epi8(-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113,
                         -127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113);
    return _mm256_shuffle_epi8(table, LoadNibbles32(b + 2));
  }
};

// Broadcast of RN consecutive per-token floats (RN = 1, 2, 4) to 8 lanes: lane p -> p % RN.
template <int RN>
inline __m256 TokenPattern(const void* p) {
  if constexpr (RN == 1) return _mm256_broadcast_ss(static_cast<const float*>(p));
  if constexpr (RN == 2)
    return _mm256_castpd_ps(_mm256_broadcast_sd(static_cast<const double*>(p)));
  if constexpr (RN == 4) return _mm256_broadcast_ps(static_cast<const __m128*>(p));
}

inline int Load32(const uint8_t* p) {
  int v;
  std::memcpy(&v, p, 4);
  return v;
}

// The first 4 bytes (f16 d, then f16 m for affine types) of rows[I] + off, as i32 lanes.
template <size_t... I>
inline __m128i GatherHeads(const uint8_t* const* rows, size_t off, std::index_sequence<I...>) {
  __m128i h = _mm_setzero_si128();
  ((h = _mm_insert_epi32(h, Load32(rows[I] + off), static_cast<int>(I))), ...);
  return h;
}

// Block scales d (and mins m) of the 8/RN rows of one 8-pair group as lane patterns: lane p
// holds pair LanePair<RN>(p) (for RN = 1 the lanes come out as rows 0,1,4,5,2,3,6,7, which the
// tile undoes once at the end with the same self-inverse permutation).
template <int RN>
inline void RowScales(const uint8_t* const* rows, size_t off, __m256* d, __m256* m) {
  if constexpr (RN == 1) {
    const __m256 lo = _mm256_cvtph_ps(GatherHeads(rows, off, std::make_index_sequence<4>()));
    const __m256 hi = _mm256_cvtph_ps(GatherHeads(rows + 4, off, std::make_index_sequence<4>()));
    *d = _mm256_shuffle_ps(lo, hi, 0x88);  // d0 d1 d4 d5 | d2 d3 d6 d7
    *m = _mm256_shuffle_ps(lo, hi, 0xDD);
  } else {
    const __m256 v = _mm256_cvtph_ps(GatherHeads(rows, off, std::make_index_sequence<8 / RN>()));
    if constexpr (RN == 2) {
      *d = _mm256_permutevar8x32_ps(v, _mm256_setr_epi32(0, 0, 2, 2, 4, 4, 6, 6));
      *m = _mm256_permutevar8x32_ps(v, _mm256_setr_epi32(1, 1, 3, 3, 5, 5, 7, 7));
    } else {
      *d = _mm256_permutevar8x32_ps(v, _mm256_setr_epi32(0, 0, 0, 0, 2, 2, 2, 2));
      *m = _mm256_permutevar8x32_ps(v, _mm256_setr_epi32(1, 1, 1, 1, 3, 3, 3, 3));
    }
  }
}

// Which pair (row * RN + token) lane p of a group holds (see RowScales).
template <int RN>
constexpr int LanePair(int p) {
  if constexpr (RN == 1) {
    constexpr int kMap[8] = {0, 1, 4, 5, 2, 3, 6, 7};
    return kMap[p];
  }
  return p;
}

// Software prefetch of the weight rows two tiles ahead, issued at the start of a tile: the
// hardware prefetchers lose track of RM interleaved short row streams, and DRAM-resident
// matrices (the LM head) then run at a third of the bandwidth.
struct Prefetch {
  const uint8_t* ptr = nullptr;  // start of the region (contiguous rows)
  int64_t lines = 0;             // 64-byte lines in the region
};

// One RM x RN tile over all blocks: out[i * RN + j] = dot(row i, token t + j). Pairs are taken
// 8 at a time (group g = rows g*8/RN .. +8/RN, all RN tokens); every loop has a constant trip
// count and is fully unrolled so the 8 partial dot vectors stay in registers.
template <class W, int RM, int RN>
void TileQ32(const uint8_t* const* rows, const PackedActs& a, int64_t t, const Prefetch& pf,
             float* out) {
  constexpr int kRowsPerGroup = 8 / RN, kGroups = RM / kRowsPerGroup;
  static_assert(RM % kRowsPerGroup == 0);
  constexpr int kOff = W::kOffset + (W::kSigned && kVnni ? 128 : 0);
  __m256 acc[kGroups];  // [groups] f32x8, lane p = pair 8g + LanePair(p)
#pragma GCC unroll 8
  for (int g = 0; g < kGroups; ++g) acc[g] = _mm256_setzero_ps();
  const int8_t* xrow[RN];
#pragma GCC unroll 8
  for (int j = 0; j < RN; ++j) xrow[j] = a.qs + (t + j) * a.qs_stride;
  const int64_t pad = a.n_tok_pad;
  for (int64_t k = 0; k < pf.lines; ++k)
    _mm_prefetch(reinterpret_cast<const char*>(pf.ptr + 64 * k), _MM_HINT_T0);
  for (int64_t b = 0; b < a.nb; ++b) {
    __m256i xv[RN];
#pragma GCC unroll 8
    for (int j = 0; j < RN; ++j)
      xv[j] = _mm256_load_si256(reinterpret_cast<const __m256i*>(xrow[j] + 32 * b));
    const size_t off = static_cast<size_t>(b) * W::kBytes;
    const __m256 dx = TokenPattern<RN>(a.d + b * pad + t);
#pragma GCC unroll 8
    for (int g = 0; g < kGroups; ++g) {
      const uint8_t* const* grows = rows + g * kRowsPerGroup;
      __m256i p[8];  // [8 pairs] i32x8 partial dot products
#pragma GCC unroll 8
      for (int ii = 0; ii < kRowsPerGroup; ++ii) {
        __m256i wq = W::Quants(grows[ii] + off);
        __m256i wu = wq;
        if constexpr (W::kSigned) {
          if constexpr (kVnni) {
            wu = _mm256_xor_si256(wq, _mm256_set1_epi8(static_cast<char>(0x80)));
          } else {
            wu = _mm256_sign_epi8(wq, wq);
          }
        }
#pragma GCC unroll 8
        for (int j = 0; j < RN; ++j) {
          if constexpr (W::kSigned && !kVnni) {
            p[ii * RN + j] = DotU8S8(wu, _mm256_sign_epi8(xv[j], wq));
          } else {
            p[ii * RN + j] = DotU8S8(wu, xv[j]);
          }
        }
      }
      __m256i lanes[8];
#pragma GCC unroll 8
      for (int q = 0; q < 8; ++q) lanes[q] = p[LanePair<RN>(q)];
      __m256i isum = ReduceLanes8(lanes);
      if constexpr (kOff != 0) {
        const __m256i xs = _mm256_castps_si256(TokenPattern<RN>(a.xsum + b * pad + t));
        isum = _mm256_sub_epi32(isum, _mm256_mullo_epi32(xs, _mm256_set1_epi32(kOff)));
      }
      __m256 dw, mw;
      RowScales<RN>(grows, off, &dw, &mw);
      acc[g] = _mm256_fmadd_ps(_mm256_mul_ps(dw, dx), _mm256_cvtepi32_ps(isum), acc[g]);
      if constexpr (W::kAffine)
        acc[g] = _mm256_fmadd_ps(mw, TokenPattern<RN>(a.s + b * pad + t), acc[g]);
    }
  }
  if constexpr (RN == 1)
    acc[0] = _mm256_permutevar8x32_ps(acc[0], _mm256_setr_epi32(0, 1, 4, 5, 2, 3, 6, 7));
#pragma GCC unroll 8
  for (int g = 0; g < kGroups; ++g) _mm256_storeu_ps(out + 8 * g, acc[g]);
}

// The RM row pointers of the tile at row r of [.., r1) (the last valid row repeated past r1) and
// the prefetch region of the rows two tiles ahead; returns the number of valid rows.
template <int RM>
[[gnu::always_inline]] inline int TileRows(const WeightView& w, int64_t r, int64_t r1,
                                           const uint8_t** rows, Prefetch* pf) {
  const auto* base = static_cast<const uint8_t*>(w.data);
  constexpr int64_t kAhead = 2 * RM;
  const int valid = static_cast<int>(std::min<int64_t>(RM, r1 - r));
  for (int i = 0; i < RM; ++i) rows[i] = base + (r + std::min(i, valid - 1)) * w.row_bytes;
  if (r + kAhead < r1) {
    pf->ptr = base + (r + kAhead) * w.row_bytes;
    pf->lines =
        (std::min<int64_t>(RM, r1 - r - kAhead) * static_cast<int64_t>(w.row_bytes) + 63) / 64;
  }
  return valid;
}

template <class W, int RM, int RN>
void RowSweepQ32(const WeightView& w, const PackedActs& a, int64_t r0, int64_t r1, int64_t t,
                 float* y) {
  for (int64_t r = r0; r < r1; r += RM) {
    const uint8_t* rows[RM];
    Prefetch pf;
    const int valid = TileRows<RM>(w, r, r1, rows, &pf);
    alignas(32) float out[RM * RN];  // [RM][RN] f32 tile result
    TileQ32<W, RM, RN>(rows, a, t, pf, out);
    for (int j = 0; j < RN; ++j)
      for (int i = 0; i < valid; ++i) y[(t + j) * w.rows + r + i] = out[i * RN + j];
  }
}

// Token tiles of 4, then 2, then 1 (t stays a multiple of the tile width, so the per-token
// scale loads never run past n_tok_pad); within a token tile, all rows of the range.
template <class W>
void MatMulQ32(const WeightView& w, const PackedActs& a, int64_t r0, int64_t r1, int64_t t0,
               int64_t t1, float* y) {
  int64_t t = t0;
  for (; t + 4 <= t1; t += 4) RowSweepQ32<W, 4, 4>(w, a, r0, r1, t, y);
  for (; t + 2 <= t1; t += 2) RowSweepQ32<W, 4, 2>(w, a, r0, r1, t, y);
  for (; t < t1; ++t) RowSweepQ32<W, 8, 1>(w, a, r0, r1, t, y);
}

inline void FillQ32(KernelSet* ks) {
  using quant::DType;
  ks->tile[static_cast<int>(DType::kQ4_0)] = MatMulQ32<TraitsQ4_0>;
  ks->tile[static_cast<int>(DType::kQ4_1)] = MatMulQ32<TraitsQ4_1>;
  ks->tile[static_cast<int>(DType::kQ5_0)] = MatMulQ32<TraitsQ5_0>;
  ks->tile[static_cast<int>(DType::kQ5_1)] = MatMulQ32<TraitsQ5_1>;
  ks->tile[static_cast<int>(DType::kQ8_0)] = MatMulQ32<TraitsQ8_0>;
  ks->tile[static_cast<int>(DType::kIQ4_NL)] = MatMulQ32<TraitsIQ4_NL>;
}

}  // namespace
}  // namespace semantic::kernels::cpu
