// Token-lane tiles for Q4_0, Q4_1 and Q8_0 weights at 2+ tokens (batched decode, prefill): lane
// j of every vector is token t + j, so no horizontal reductions are needed. Each 4-byte group of
// a weight block is broadcast to all lanes and multiplied (vpdpbusd, or maddubs + madd on AVX2)
// against the token-interleaved activation quants PackedActs::qsi, where lane j holds the same
// 4 columns of token t + j (the AVX-512 build does a Q4 group's low and high nibbles in one
// 512-bit vpdpbusd). A weight block is unpacked once for 8 tokens; the per-block scale
// arithmetic is the same f32 op sequence as TileQ32 (so results are bit-identical to it).
// Included by q32_avx2.cpp and q32_avx512.cpp after q32_kernels.inc.h.
#pragma once

#include <algorithm>

#include "kernels/cpu/q32_kernels.inc.h"

namespace semantic::kernels::cpu {
namespace {  // NOLINT(build/namespaces): per-ISA copies on purpose

constexpr int kLanes = 8;  // tokens per tile (one i32x8 / f32x8 vector)

inline __m256i Broadcast32(const uint8_t* p) { return _mm256_set1_epi32(Load32(p)); }

// Integer dot products of one 32-element weight block with the 8 tokens' block quants x[g]
// (g = column group 4g..4g+3 of the block), before the kOffset correction.
// Q4_0/Q4_1: byte k of the 16 quant bytes holds column k (low nibble) and k + 16 (high nibble),
// so the 4 bytes of group g feed groups g (low) and g + 4 (high).
template <class W>
inline __m256i BlockDotLanes(const uint8_t* q, const __m256i* x) {
  if constexpr (!W::kSigned) {
#if defined(__AVX512VNNI__)
    // One 512-bit op per group: low nibbles against x[g] in the lower half, high nibbles used in
    // place (x16, shifted out once per block) against x[g + 4] in the upper half.
    // (Masked insert / extract forms with an all-ones mask: the plain ones pass an undefined
    // vector that g++ 12 warns about under -Wmaybe-uninitialized.)
    const __m512i mask = _mm512_mask_blend_epi64(0xF0, _mm512_set1_epi8(0x0F),
                                                 _mm512_set1_epi8(static_cast<char>(0xF0)));
    __m512i acc = _mm512_setzero_si512();
#pragma GCC unroll 4
    for (int g = 0; g < 4; ++g) {
      const __m512i v = _mm512_set1_epi32(Load32(q + 4 * g));
      const __m512i xp = _mm512_mask_inserti64x4(_mm512_setzero_si512(), 0xFF,
                                                 _mm512_castsi256_si512(x[g]), x[g + 4], 1);
      acc = _mm512_dpbusd_epi32(acc, _mm512_and_si512(v, mask), xp);
    }
    const __m256i lo = _mm512_mask_extracti64x4_epi64(_mm256_setzero_si256(), 0xFF, acc, 0);
    const __m256i hi = _mm512_mask_extracti64x4_epi64(_mm256_setzero_si256(), 0xFF, acc, 1);
    return _mm256_add_epi32(lo, _mm256_srai_epi32(hi, 4));
#else
    // 8 maddubs of 15 * 127 * 2 each sum to at most 30480: no i16 saturation.
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    __m256i s16 = _mm256_setzero_si256();
#pragma GCC unroll 4
    for (int g = 0; g < 4; ++g) {
      const __m256i v = Broadcast32(q + 4 * g);
      s16 = _mm256_add_epi16(s16, _mm256_maddubs_epi16(_mm256_and_si256(v, m4), x[g]));
      s16 = _mm256_add_epi16(
          s16, _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(v, 4), m4), x[g + 4]));
    }
    return _mm256_madd_epi16(s16, _mm256_set1_epi16(1));
#endif
  } else {  // Q8_0: 32 signed bytes
    __m256i acc = _mm256_setzero_si256();
#pragma GCC unroll 8
    for (int g = 0; g < 8; ++g) {
      const __m256i v = Broadcast32(q + 4 * g);
      if constexpr (kVnni) {  // +128 makes the weights unsigned; kOff corrects by 128 * xsum
        acc = _mm256_dpbusd_epi32(acc, _mm256_xor_si256(v, _mm256_set1_epi8(-128)), x[g]);
      } else {
        acc = _mm256_add_epi32(acc, DotU8S8(_mm256_sign_epi8(v, v), _mm256_sign_epi8(x[g], v)));
      }
    }
    return acc;
  }
}

#if defined(__AVX512VNNI__)
// Q8_0 on 512-bit VNNI: two groups per op. x2[p] lanes 2j / 2j + 1 hold token j's quants of groups
// 2p / 2p + 1, so one 64-bit broadcast of the weights' groups 2p, 2p + 1 lines up with them; the
// lane pairs are summed at the end (exact integer sums: the same result as BlockDotLanes).
inline __m256i BlockDotLanesQ8Pairs(const uint8_t* q, const __m512i* x2) {
  __m512i acc = _mm512_setzero_si512();
#pragma GCC unroll 4
  for (int p = 0; p < 4; ++p) {
    int64_t w;
    std::memcpy(&w, q + 8 * p, 8);
    const __m512i v = _mm512_xor_si512(_mm512_set1_epi64(w), _mm512_set1_epi8(-128));
    acc = _mm512_dpbusd_epi32(acc, v, x2[p]);
  }
  return _mm512_cvtepi64_epi32(_mm512_add_epi32(acc, _mm512_srli_epi64(acc, 32)));
}
#endif

// RM rows x 8 tokens over all blocks: acc[i] lane j = dot(row i, token t + j).
template <class W, int RM>
void TileLanes(const uint8_t* const* rows, const PackedActs& a, int64_t t, const Prefetch& pf,
               __m256* acc) {
  constexpr int kOff = W::kOffset + (W::kSigned && kVnni ? 128 : 0);
  constexpr int kQuants = W::kSigned ? 2 : (W::kAffine ? 4 : 2);  // quant bytes after d (and m)
  const int64_t pad = a.n_tok_pad;
  const int32_t* xt = a.qsi + t * (a.cols / 4);  // this 8-token tile's quants (t % 8 == 0)
#pragma GCC unroll 8
  for (int i = 0; i < RM; ++i) acc[i] = _mm256_setzero_ps();
  for (int64_t k = 0; k < pf.lines; ++k)
    _mm_prefetch(reinterpret_cast<const char*>(pf.ptr + 64 * k), _MM_HINT_T0);
  for (int64_t b = 0; b < a.nb; ++b) {
    const int32_t* xb = xt + 64 * b;
    __m256i x[8];
#pragma GCC unroll 8
    for (int g = 0; g < 8; ++g)
      x[g] = _mm256_load_si256(reinterpret_cast<const __m256i*>(xb + 8 * g));
#if defined(__AVX512VNNI__)
    __m512i x2[4];  // Q8_0: token-interleaved group pairs for BlockDotLanesQ8Pairs
    if constexpr (W::kSigned) {
      const __m512i idx = _mm512_set_epi32(23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
#pragma GCC unroll 4
      for (int p = 0; p < 4; ++p)
        x2[p] = _mm512_permutex2var_epi32(_mm512_castsi256_si512(x[2 * p]), idx,
                                          _mm512_castsi256_si512(x[2 * p + 1]));
    }
#endif
    const __m256 dx = _mm256_loadu_ps(a.d + b * pad + t);
    __m256i corr = _mm256_setzero_si256();
    if constexpr (kOff != 0)
      corr = _mm256_mullo_epi32(
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.xsum + b * pad + t)),
          _mm256_set1_epi32(kOff));
    __m256 sx = _mm256_setzero_ps();
    if constexpr (W::kAffine) sx = _mm256_loadu_ps(a.s + b * pad + t);
    const size_t off = static_cast<size_t>(b) * W::kBytes;
#pragma GCC unroll 8
    for (int i = 0; i < RM; ++i) {
      const uint8_t* blk = rows[i] + off;
#if defined(__AVX512VNNI__)
      __m256i isum;
      if constexpr (W::kSigned) {
        isum = BlockDotLanesQ8Pairs(blk + kQuants, x2);
      } else {
        isum = BlockDotLanes<W>(blk + kQuants, x);
      }
#else
      __m256i isum = BlockDotLanes<W>(blk + kQuants, x);
#endif
      if constexpr (kOff != 0) isum = _mm256_sub_epi32(isum, corr);
      // f16 d (and m) -> lanes d m d m ...; then broadcast each.
      const __m256 dm = _mm256_cvtph_ps(_mm_set1_epi32(Load32(blk)));
      const __m256 dw = _mm256_permute_ps(dm, 0x00);
      acc[i] = _mm256_fmadd_ps(_mm256_mul_ps(dw, dx), _mm256_cvtepi32_ps(isum), acc[i]);
      if constexpr (W::kAffine) acc[i] = _mm256_fmadd_ps(_mm256_permute_ps(dm, 0x55), sx, acc[i]);
    }
  }
}

// Rows [r0, r1) for tokens [t, t + n) (n <= 8; t % 8 == 0), RM rows at a time.
template <class W, int RM>
void RowSweepLanes(const WeightView& w, const PackedActs& a, int64_t r0, int64_t r1, int64_t t,
                   int n, float* y) {
  for (int64_t r = r0; r < r1; r += RM) {
    const uint8_t* rows[RM];
    Prefetch pf;
    const int valid = TileRows<RM>(w, r, r1, rows, &pf);
    __m256 acc[RM];
    TileLanes<W, RM>(rows, a, t, pf, acc);
    alignas(32) float out[RM][kLanes];
    for (int i = 0; i < RM; ++i) _mm256_store_ps(out[i], acc[i]);
    for (int j = 0; j < n; ++j)
      for (int i = 0; i < valid; ++i) y[(t + j) * w.rows + r + i] = out[i][j];
  }
}

// Token-lane tiles when the driver packed a.qsi (2+ tokens), else the pair tiles of TileQ32.
template <class W>
void MatMulQ32Lanes(const WeightView& w, const PackedActs& a, int64_t r0, int64_t r1, int64_t t0,
                    int64_t t1, float* y) {
  if (a.qsi == nullptr) {
    MatMulQ32<W>(w, a, r0, r1, t0, t1, y);
    return;
  }
  constexpr int kRows = kVnni ? 4 : 2;  // AVX2 has 16 vector registers, 8 of them hold x
  for (int64_t t = t0; t < t1; t += kLanes)
    RowSweepLanes<W, kRows>(w, a, r0, r1, t, static_cast<int>(std::min<int64_t>(kLanes, t1 - t)),
                            y);
}

// Overrides the Q4_0, Q4_1 and Q8_0 entries of FillQ32 and marks them as wanting a.qsi.
inline void FillQ32Lanes(KernelSet* ks) {
  using quant::DType;
  ks->tile[static_cast<int>(DType::kQ4_0)] = MatMulQ32Lanes<TraitsQ4_0>;
  ks->tile[static_cast<int>(DType::kQ4_1)] = MatMulQ32Lanes<TraitsQ4_1>;
  ks->tile[static_cast<int>(DType::kQ8_0)] = MatMulQ32Lanes<TraitsQ8_0>;
  for (DType t : {DType::kQ4_0, DType::kQ4_1, DType::kQ8_0})
    ks->token_lanes[static_cast<int>(t)] = true;
}

}  // namespace
}  // namespace semantic::kernels::cpu
