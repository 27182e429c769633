// Prefill attention over f16 K/V for a tile of query tokens (kernels/attention.h QueryTile).
// Included by attention_tile_avx2.cpp and attention_tile_avx512.cpp (32 vector registers: more
// heads per register block). Each K row group and V span is converted to f32 once per tile and
// used by every token and head; per query the arithmetic is AttendGroupAvx2's
// (attention_avx2.cpp), operation for operation, so a token's result does not depend on its tile:
//  - score of a position: 8-lane FMA chain over head_dim in order, then HSum8 for full groups of 8
//    positions at block offsets 0, 8, ... (HSum for the positions after the last full group of
//    the token's range in that block), times scale;
//  - ExpRow / ScaleRow over the token's own n_pos;
//  - V: per output lane an FMA chain over positions in order, from zero.
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <cmath>

#include "kernels/attention.h"
#include "kernels/cpu/attention_x86.h"

namespace semantic::kernels::cpu {
namespace {  // NOLINT(build/namespaces): per-ISA copies on purpose

#if defined(__AVX512F__)
constexpr int kScoreHeads = 3;  // heads whose 8 score accumulators live in registers at once
constexpr int kVRows = 3;       // heads x 16-float chunks of V accumulators in registers
constexpr int kVChunks = 4;
#else
constexpr int kScoreHeads = 1;
constexpr int kVRows = 2;  // heads x 8-float chunks of V accumulators in registers
constexpr int kVChunks = 4;
#endif
constexpr int kSpanFloats = 4096;  // V rows converted at once: kSpanFloats / head_dim (>= 8)

// K rows of a group of 8 positions as f32, in pairs: [4][hd / 8][16], chunk j of rows 2i and
// 2i + 1 side by side (one 512-bit vector holds two positions' 8-lane partial dots).
inline float* KAt(float* kp, int nv, int i, int j) {
  return kp + ((i / 2) * nv + j) * 16 + (i % 2) * 8;
}
inline const float* KAt(const float* kp, int nv, int i, int j) {
  return kp + ((i / 2) * nv + j) * 16 + (i % 2) * 8;
}

// Rows [0, n) (n <= 8) of an f16 block part (stride halves apart) into the pair layout.
inline void ConvertKRows(const uint16_t* src, int stride, int n, int nv, float* kp) {
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < nv; ++j)
      _mm256_store_ps(KAt(kp, nv, i, j), LoadF16(src + static_cast<size_t>(i) * stride + 8 * j));
}

// Rows [0, n) of an f16 block part (stride halves apart) as f32: dst [n][hd].
inline void ConvertRows(const uint16_t* src, int stride, int n, int hd, float* dst) {
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < hd; j += 8)
      _mm256_store_ps(dst + i * hd + j, LoadF16(src + static_cast<size_t>(i) * stride + j));
}

// Scores of 8 positions (kp: pair layout) for H heads (q16: [H][hd]): out[h] lane i. Each
// position's accumulator is an 8-lane FMA chain over head_dim, reduced by HSum8.
template <int H>
inline void Scores8(const float* q16, const float* kp, int hd, __m256 vscale, __m256* out) {
  const int nv = hd / 8;
#if defined(__AVX512F__)
  __m512 acc[H][4];  // [h][pair]: positions 2i (low half) and 2i + 1 (high half)
  for (int h = 0; h < H; ++h)
    for (int i = 0; i < 4; ++i) acc[h][i] = _mm512_setzero_ps();
  for (int j = 0; j < nv; ++j) {
    __m512 qj[H];
    for (int h = 0; h < H; ++h)
      qj[h] = _mm512_broadcast_f32x8(_mm256_loadu_ps(q16 + h * hd + 8 * j));
    for (int i = 0; i < 4; ++i) {
      const __m512 k = _mm512_load_ps(kp + (i * nv + j) * 16);
      for (int h = 0; h < H; ++h) acc[h][i] = _mm512_fmadd_ps(qj[h], k, acc[h][i]);
    }
  }
  for (int h = 0; h < H; ++h) out[h] = _mm256_mul_ps(HSum8Pairs(acc[h]), vscale);
#else
  __m256 acc[H][8];
  for (int h = 0; h < H; ++h)
    for (int i = 0; i < 8; ++i) acc[h][i] = _mm256_setzero_ps();
  for (int j = 0; j < nv; ++j) {
    __m256 qj[H];
    for (int h = 0; h < H; ++h) qj[h] = _mm256_loadu_ps(q16 + h * hd + 8 * j);
    for (int i = 0; i < 8; ++i) {
      const __m256 k = _mm256_load_ps(KAt(kp, nv, i, j));
      for (int h = 0; h < H; ++h) acc[h][i] = _mm256_fmadd_ps(qj[h], k, acc[h][i]);
    }
  }
  for (int h = 0; h < H; ++h) out[h] = _mm256_mul_ps(HSum8(acc[h]), vscale);
#endif
}

// Full group of 8 positions for heads [h0, h0 + H): stores scores at s + h * s_stride and folds
// them into vmax[h] (lane-wise, as std::max(m, x) does: x only where x > m, so NaN never wins).
template <int H>
inline void ScoreGroup(const float* q16, const float* kp, int hd, __m256 vscale, float* s,
                       size_t s_stride, __m256* vmax) {
  __m256 sv[H];
  Scores8<H>(q16, kp, hd, vscale, sv);
  for (int h = 0; h < H; ++h) {
    _mm256_storeu_ps(s + h * s_stride, sv[h]);
    vmax[h] = _mm256_max_ps(sv[h], vmax[h]);
  }
}

// out[h][8*c0 ...) += sum over positions i < n of w[h][i] * vf[i] for RB heads, CB chunks of 8.
// out rows head_dim apart; w rows w_stride apart; vf: [n][hd] f32.
template <int RB, int CB>
inline void AccumulateSpan(const float* w, size_t w_stride, const float* vf, int n, int hd, int c0,
                           float* out) {
  __m256 acc[RB][CB];
  for (int r = 0; r < RB; ++r)
    for (int c = 0; c < CB; ++c) acc[r][c] = _mm256_loadu_ps(out + r * hd + 8 * (c0 + c));
  for (int i = 0; i < n; ++i) {
    const float* v = vf + i * hd + 8 * c0;
    for (int r = 0; r < RB; ++r) {
      const __m256 wi = _mm256_broadcast_ss(w + r * w_stride + i);
      for (int c = 0; c < CB; ++c)
        acc[r][c] = _mm256_fmadd_ps(wi, _mm256_load_ps(v + 8 * c), acc[r][c]);
    }
  }
  for (int r = 0; r < RB; ++r)
    for (int c = 0; c < CB; ++c) _mm256_storeu_ps(out + r * hd + 8 * (c0 + c), acc[r][c]);
}

#if defined(__AVX512F__)
// As AccumulateSpan with CB chunks of 16 floats from float offset d0 (each lane is still its own
// FMA chain over positions).
template <int RB, int CB>
inline void AccumulateSpan16(const float* w, size_t w_stride, const float* vf, int n, int hd,
                             int d0, float* out) {
  __m512 acc[RB][CB];
  for (int r = 0; r < RB; ++r)
    for (int c = 0; c < CB; ++c) acc[r][c] = _mm512_loadu_ps(out + r * hd + d0 + 16 * c);
  for (int i = 0; i < n; ++i) {
    const float* v = vf + i * hd + d0;
    for (int r = 0; r < RB; ++r) {
      const __m512 wi = _mm512_set1_ps(w[r * w_stride + i]);
      for (int c = 0; c < CB; ++c)
        // unaligned load: v = vf + i * hd is 64-byte aligned only when hd is a multiple of 16
        acc[r][c] = _mm512_fmadd_ps(wi, _mm512_loadu_ps(v + 16 * c), acc[r][c]);
    }
  }
  for (int r = 0; r < RB; ++r)
    for (int c = 0; c < CB; ++c) _mm512_storeu_ps(out + r * hd + d0 + 16 * c, acc[r][c]);
}
#endif

template <int RB>
inline void AccumulateSpanChunks(const float* w, size_t w_stride, const float* vf, int n, int hd,
                                 float* out) {
  int d = 0;
#if defined(__AVX512F__)
  for (; d + 16 * kVChunks <= hd; d += 16 * kVChunks)
    AccumulateSpan16<RB, kVChunks>(w, w_stride, vf, n, hd, d, out);
  for (; d + 16 <= hd; d += 16) AccumulateSpan16<RB, 1>(w, w_stride, vf, n, hd, d, out);
#else
  for (; d + 8 * kVChunks <= hd; d += 8 * kVChunks)
    AccumulateSpan<RB, kVChunks>(w, w_stride, vf, n, hd, d / 8, out);
#endif
  for (; d < hd; d += 8) AccumulateSpan<RB, 1>(w, w_stride, vf, n, hd, d / 8, out);
}

// The tile kernel. Requires head_dim % 8 == 0 and head_dim <= 512; scratch as AttendTileScratch.
inline void AttendTileF16(const PagedHeadKv& kv, const QueryTile& tile, float scale,
                          float* scratch) {
  const int hd = kv.head_dim, bt = kv.block_tokens, nv = hd / 8, stride = kv.row_stride / 2;
  const int n_tok = tile.n_tok, n_q = tile.n_q, rows = n_tok * n_q;
  const int n_max = *std::max_element(tile.n_pos, tile.n_pos + n_tok);
  // scratch: scores / weights [rows][n_max], then q rounded to f16 [rows][hd].
  float* q16 = scratch + static_cast<size_t>(rows) * n_max;
  for (int t = 0; t < n_tok; ++t) RoundQueryF16(tile.q[t], n_q * hd, q16 + t * n_q * hd);
  auto srow = [&](int t, int h) { return scratch + static_cast<size_t>(t * n_q + h) * n_max; };

  // Scores, block by block, eight positions at a time.
  float max_s[kMaxTileRows];  // over the positions after full groups
  __m256 vmax[kMaxTileRows];  // over the full groups of 8, per lane
  std::fill(max_s, max_s + rows, -INFINITY);
  std::fill(vmax, vmax + rows, _mm256_set1_ps(-INFINITY));
  const __m256 vscale = _mm256_set1_ps(scale);
  alignas(64) float kp[8 * 512];  // one group of 8 K rows as f32, pair layout (KAt)
  for (int b0 = 0; b0 < n_max; b0 += bt) {
    const uint16_t* kblock = Halves(kv.k_blocks[b0 / bt]);
    const int in_block_max = std::min(bt, n_max - b0);
    if (b0 + bt < n_max) PrefetchRows(kv.k_blocks[b0 / bt + 1], bt, kv.row_stride, 16 * nv);
    for (int i0 = 0; i0 < in_block_max; i0 += 8) {
      ConvertKRows(kblock + static_cast<size_t>(i0) * stride, stride,
                   std::min(8, in_block_max - i0), nv, kp);
      for (int t = 0; t < n_tok; ++t) {
        const int in_block = std::min(bt, tile.n_pos[t] - b0);
        if (in_block <= i0) continue;
        const float* qt = q16 + t * n_q * hd;
        float* mt = max_s + t * n_q;
        __m256* vt = vmax + t * n_q;
        if (i0 + 8 <= in_block) {
          int h = 0;
          for (; h + kScoreHeads <= n_q; h += kScoreHeads)
            ScoreGroup<kScoreHeads>(qt + h * hd, kp, hd, vscale, srow(t, h) + b0 + i0, n_max,
                                    vt + h);
          for (; h < n_q; ++h)
            ScoreGroup<1>(qt + h * hd, kp, hd, vscale, srow(t, h) + b0 + i0, n_max, vt + h);
          continue;
        }
        for (int i = i0; i < in_block; ++i) {  // positions after the block's last full group
          for (int h = 0; h < n_q; ++h) {
            __m256 acc = _mm256_setzero_ps();
            for (int j = 0; j < nv; ++j)
              acc = _mm256_fmadd_ps(_mm256_loadu_ps(qt + h * hd + 8 * j),
                                    _mm256_load_ps(KAt(kp, nv, i - i0, j)), acc);
            const float sc = HSum(acc) * scale;
            srow(t, h)[b0 + i] = sc;
            mt[h] = std::max(mt[h], sc);
          }
        }
      }
    }
  }
  // Softmax per query head over its own positions.
  for (int t = 0; t < n_tok; ++t) {
    for (int h = 0; h < n_q; ++h) {
      float* s = srow(t, h);
      const int r = t * n_q + h;
      const float mx = RowMax(max_s[r], vmax[r], s, tile.n_pos[t]);
      SoftmaxRow(s, tile.n_pos[t], mx, tile.m[t] ? tile.m[t] + h : nullptr,
                 tile.m[t] ? tile.l[t] + h : nullptr, /*round_f16=*/true);
    }
    std::fill(tile.out[t], tile.out[t] + n_q * hd, 0.0f);
  }
  // out += w . v, span by span of positions.
  const int span = kSpanFloats / hd;
  alignas(64) float vf[kSpanFloats];  // [span][hd] f32 V rows
  for (int s0 = 0; s0 < n_max; s0 += span) {
    const int n_span = std::min(span, n_max - s0);
    for (int p = s0 + span; p < std::min(n_max, s0 + 2 * span);) {  // the next span into cache
      const int n = std::min(std::min(n_max, s0 + 2 * span) - p, bt - p % bt);
      PrefetchRows(kv.v_blocks[p / bt] + static_cast<size_t>(p % bt) * kv.row_stride, n,
                   kv.row_stride, 2 * hd);
      p += n;
    }
    for (int i = 0; i < n_span;) {  // convert, one block part at a time
      const int p = s0 + i, n = std::min(n_span - i, bt - p % bt);
      ConvertRows(Halves(kv.v_blocks[p / bt]) + static_cast<size_t>(p % bt) * stride, stride, n, hd,
                  vf + i * hd);
      i += n;
    }
    for (int t = 0; t < n_tok; ++t) {
      const int n = std::min(tile.n_pos[t] - s0, n_span);
      if (n <= 0) continue;
      int h = 0;
      for (; h + kVRows <= n_q; h += kVRows)
        AccumulateSpanChunks<kVRows>(srow(t, h) + s0, n_max, vf, n, hd, tile.out[t] + h * hd);
      for (; h < n_q; ++h)
        AccumulateSpanChunks<1>(srow(t, h) + s0, n_max, vf, n, hd, tile.out[t] + h * hd);
    }
  }
}

}  // namespace
}  // namespace semantic::kernels::cpu
