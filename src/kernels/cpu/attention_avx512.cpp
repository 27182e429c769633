// AVX-512 paged attention over f16 K/V for one query token (decode): AttendGroupAvx2's
// arithmetic on 512-bit vectors, so the same bits.
//  - Scores: each K row chunk of 8 dims is converted once for up to 3 query heads; one vector
//    holds two positions' 8-lane partial dots (HSum8Pairs reduces them with HSum8's tree).
//  - V: 16 dims per vector, up to 3 heads x 4 vectors per pass, each lane an FMA chain over the
//    positions in order (a head_dim remainder of 8 runs masked to the low 8 lanes).
// head_dim must be a multiple of 8 (else the dispatcher uses the reference).
#include <immintrin.h>

#include <algorithm>
#include <cmath>

#include "kernels/attention.h"
#include "kernels/cpu/attention_x86.h"

namespace semantic::kernels::cpu {
namespace {

constexpr int kMaxGroup = 16;  // query heads per KV head handled in one call
constexpr int kMaxHeadDim = 512;

// Chunk j (8 dims) of K rows r and r + 1 as one vector: row r low, row r + 1 high.
inline __m512 LoadKPair(const uint16_t* row, int stride, int j) {
  const __m128i lo = _mm_loadu_si128(reinterpret_cast<const __m128i*>(row + 8 * j));
  const __m128i hi = _mm_loadu_si128(reinterpret_cast<const __m128i*>(row + stride + 8 * j));
  return _mm512_cvtph_ps(_mm256_inserti128_si256(_mm256_castsi128_si256(lo), hi, 1));
}

// Scores of 8 positions (rows k0, k0 + stride, ...) for H heads: out[h] lane i = scale * the
// 8-lane FMA chain over the dims of q16[h] . k[i], reduced by HSum8's tree.
template <int H>
inline void Scores8(const uint16_t* k0, int stride, const float* q16, int hd, __m256 vscale,
                    __m256* out) {
  const int nv = hd / 8;
  __m512 acc[H][4];  // [h][pair]: positions 2i (low half) and 2i + 1 (high half)
  for (int h = 0; h < H; ++h)
    for (int i = 0; i < 4; ++i) acc[h][i] = _mm512_setzero_ps();
  for (int j = 0; j < nv; ++j) {
    __m512 qj[H];
    for (int h = 0; h < H; ++h)
      qj[h] = _mm512_broadcast_f32x8(_mm256_load_ps(q16 + h * hd + 8 * j));
    for (int i = 0; i < 4; ++i) {
      const __m512 k = LoadKPair(k0 + static_cast<size_t>(2 * i) * stride, stride, j);
      for (int h = 0; h < H; ++h) acc[h][i] = _mm512_fmadd_ps(qj[h], k, acc[h][i]);
    }
  }
  for (int h = 0; h < H; ++h) out[h] = _mm256_mul_ps(HSum8Pairs(acc[h]), vscale);
}

// Scores of the block's first `grouped` positions (a multiple of 8) for H heads, into
// scores[h * n_pos + i] and the lane maxima vmax[h].
template <int H>
inline void ScoresHeads(const uint16_t* kblock, int grouped, int stride, const float* q16, int hd,
                        __m256 vscale, float* scores, int n_pos, __m256* vmax) {
  for (int i0 = 0; i0 < grouped; i0 += 8) {
    __m256 sv[H];
    Scores8<H>(kblock + static_cast<size_t>(i0) * stride, stride, q16, hd, vscale, sv);
    for (int h = 0; h < H; ++h) {
      _mm256_storeu_ps(scores + static_cast<size_t>(h) * n_pos + i0, sv[h]);
      vmax[h] = _mm256_max_ps(sv[h], vmax[h]);
    }
  }
}

// out[h][d0 .. d0 + 16 CH) = sum_p w[h][p] * v[p][same dims] for H heads: each V chunk is
// converted once for the H heads. kHalf: one chunk of 8 dims (the low lanes) instead.
template <int H, int CH, bool kHalf = false>
inline void AccumulateV(const PagedHeadKv& kv, const float* w, int n_pos, int d0, float* out) {
  static_assert(!kHalf || CH == 1);
  constexpr __mmask16 kLanes = kHalf ? 0x00FF : 0xFFFF;
  __m512 acc[H][CH];
  for (int h = 0; h < H; ++h)
    for (int c = 0; c < CH; ++c) acc[h][c] = _mm512_setzero_ps();
  const int bt = kv.block_tokens, stride = kv.row_stride / 2, hd = kv.head_dim;
  for (int b0 = 0; b0 < n_pos; b0 += bt) {
    const uint16_t* vblock = Halves(kv.v_blocks[b0 / bt]) + d0;
    const int in_block = std::min(bt, n_pos - b0);
    if (b0 + bt < n_pos)
      PrefetchRows(kv.v_blocks[b0 / bt + 1] + 2 * d0, bt, kv.row_stride, 32 * CH);
    for (int i = 0; i < in_block; ++i) {
      const uint16_t* v = vblock + static_cast<size_t>(i) * stride;
      __m512 wi[H];
      for (int h = 0; h < H; ++h) wi[h] = _mm512_set1_ps(w[h * n_pos + b0 + i]);
      for (int c = 0; c < CH; ++c) {
        const __m512 vc = _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(kLanes, v + 16 * c));
        for (int h = 0; h < H; ++h) acc[h][c] = _mm512_fmadd_ps(wi[h], vc, acc[h][c]);
      }
    }
  }
  for (int h = 0; h < H; ++h)
    for (int c = 0; c < CH; ++c)
      _mm512_mask_storeu_ps(out + h * hd + d0 + 16 * c, kLanes, acc[h][c]);
}

// All heads' V sums, H heads x up to 4 vectors of 16 dims per pass.
template <int H>
inline void AccumulateVHeads(const PagedHeadKv& kv, const float* w, int n_pos, float* out) {
  const int hd = kv.head_dim;
  int d = 0;
  for (; d + 64 <= hd; d += 64) AccumulateV<H, 4>(kv, w, n_pos, d, out);
  for (; d + 16 <= hd; d += 16) AccumulateV<H, 1>(kv, w, n_pos, d, out);
  if (d < hd) AccumulateV<H, 1, true>(kv, w, n_pos, d, out);
}

// Calls fn(h, H) for groups of H consecutive query heads covering [0, n_q): threes, then the
// remainder (the grouping changes no result; it only sets how many heads share a conversion).
template <class Fn>
inline void ForHeadGroups(int n_q, Fn fn) {
  for (int h = 0; h < n_q;) {
    const int group = std::min(3, n_q - h);
    fn(h, group);
    h += group;
  }
}

}  // namespace

// As AttendGroupAvx2 (attention_avx2.cpp), bit for bit.
void AttendGroupAvx512(const PagedHeadKv& kv, const float* q, int n_q, int n_pos, float scale,
                       float* scratch, float* out, float* partial_m, float* partial_l) {
  const int hd = kv.head_dim, bt = kv.block_tokens, nv = hd / 8, stride = kv.row_stride / 2;
  alignas(64) float q16[kMaxGroup * kMaxHeadDim];  // [n_q][hd] q rounded to f16
  RoundQueryF16(q, n_q * hd, q16);

  // Scores: full groups of 8 positions of a block (HSum8's tree), the rest one by one (HSum's).
  float max_s[kMaxGroup];  // over the positions after full groups
  __m256 vmax[kMaxGroup];  // over the full groups, per lane
  std::fill(max_s, max_s + n_q, -INFINITY);
  std::fill(vmax, vmax + n_q, _mm256_set1_ps(-INFINITY));
  const __m256 vscale = _mm256_set1_ps(scale);
  for (int b0 = 0; b0 < n_pos; b0 += bt) {
    const uint16_t* kblock = Halves(kv.k_blocks[b0 / bt]);
    const int in_block = std::min(bt, n_pos - b0);
    if (b0 + bt < n_pos) PrefetchRows(kv.k_blocks[b0 / bt + 1], bt, kv.row_stride, 16 * nv);
    const int grouped = in_block / 8 * 8;
    ForHeadGroups(n_q, [&](int h, int group) {
      const float* qh = q16 + h * hd;
      float* sh = scratch + static_cast<size_t>(h) * n_pos + b0;
      if (group == 3) ScoresHeads<3>(kblock, grouped, stride, qh, hd, vscale, sh, n_pos, vmax + h);
      if (group == 2) ScoresHeads<2>(kblock, grouped, stride, qh, hd, vscale, sh, n_pos, vmax + h);
      if (group == 1) ScoresHeads<1>(kblock, grouped, stride, qh, hd, vscale, sh, n_pos, vmax + h);
    });
    ScoreTail(kblock, stride, grouped, in_block, q16, n_q, hd, scale, scratch + b0, n_pos, max_s);
  }
  // Softmax per head (vector exp); weights rounded to f16.
  for (int h = 0; h < n_q; ++h) {
    float* s = scratch + static_cast<size_t>(h) * n_pos;
    SoftmaxRow(s, n_pos, RowMax(max_s[h], vmax[h], s, n_pos), partial_m ? partial_m + h : nullptr,
               partial_l ? partial_l + h : nullptr, /*round_f16=*/true);
  }
  // out[h] = sum_p w[h][p] * v[p].
  ForHeadGroups(n_q, [&](int h, int group) {
    const float* w = scratch + static_cast<size_t>(h) * n_pos;
    if (group == 3) AccumulateVHeads<3>(kv, w, n_pos, out + h * hd);
    if (group == 2) AccumulateVHeads<2>(kv, w, n_pos, out + h * hd);
    if (group == 1) AccumulateVHeads<1>(kv, w, n_pos, out + h * hd);
  });
}

}  // namespace semantic::kernels::cpu
