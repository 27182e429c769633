// AVX2 + F16C paged attention over f16 K/V: each K/V row is converted once per 3 query heads
// of a GQA group (scores: 2 positions x 3 heads; V sums: 3 heads x 4 vectors of dims per pass).
// head_dim must be a multiple of 8 (else the dispatcher uses the reference).
#include <immintrin.h>

#include <algorithm>
#include <cmath>

#include "kernels/attention.h"
#include "kernels/cpu/attention_x86.h"

namespace semantic::kernels::cpu {
namespace {

constexpr int kMaxGroup = 16;  // query heads per KV head handled in one pass
constexpr int kMaxHeadDim = 512;

// out[h][8*j0 .. 8*(j0+CH)) = sum_p w[h][p] * v[p][same dims] for H heads h0 .. h0 + H - 1:
// each V row is converted once for the H heads; accumulators in registers (H * CH <= 12). The
// per-(head, dim) sum runs over p in order, as for one head at a time.
template <int H, int CH>
inline void AccumulateV(const PagedHeadKv& kv, const float* w, int n_pos, int j0, float* out) {
  __m256 acc[H][CH];
  for (int h = 0; h < H; ++h)
    for (int c = 0; c < CH; ++c) acc[h][c] = _mm256_setzero_ps();
  const int bt = kv.block_tokens, stride = kv.row_stride / 2, hd = kv.head_dim;
  for (int b0 = 0; b0 < n_pos; b0 += bt) {
    const uint16_t* vblock = Halves(kv.v_blocks[b0 / bt]) + 8 * j0;
    const int in_block = std::min(bt, n_pos - b0);
    if (b0 + bt < n_pos)
      PrefetchRows(kv.v_blocks[b0 / bt + 1] + 16 * j0, bt, kv.row_stride, 16 * CH);
    for (int i = 0; i < in_block; ++i) {
      const uint16_t* v = vblock + static_cast<size_t>(i) * stride;
      __m256 wi[H];
      for (int h = 0; h < H; ++h) wi[h] = _mm256_broadcast_ss(w + h * n_pos + b0 + i);
      for (int c = 0; c < CH; ++c) {
        const __m256 vc = LoadF16(v + 8 * c);
        for (int h = 0; h < H; ++h) acc[h][c] = _mm256_fmadd_ps(wi[h], vc, acc[h][c]);
      }
    }
  }
  for (int h = 0; h < H; ++h)
    for (int c = 0; c < CH; ++c) _mm256_storeu_ps(out + h * hd + 8 * (j0 + c), acc[h][c]);
}

// All heads' V sums, H heads x up to 4 vectors per pass.
template <int H>
inline void AccumulateVHeads(const PagedHeadKv& kv, const float* w, int n_pos, float* out) {
  const int nv = kv.head_dim / 8;
  int j = 0;
  for (; j + 4 <= nv; j += 4) AccumulateV<H, 4>(kv, w, n_pos, j, out);
  for (; j < nv; ++j) AccumulateV<H, 1>(kv, w, n_pos, j, out);
}

// Scores of P positions of a block (from row k0) for H heads (H * P <= 8): each K row is
// converted once for the H heads; each (head, position) dot product runs over the dims in order
// and is reduced with HSum8's tree, as for 8 positions of one head at a time.
template <int H, int P>
inline void ScoresHP(const uint16_t* k0, int stride, const float* q16, int hd, __m256 vscale,
                     float* scores, int n_pos, float* max_s) {
  static_assert(H * P <= 8);
  const int nv = hd / 8;
  __m256 acc[8];  // [h * P + i], the rest zero
  for (int a = 0; a < 8; ++a) acc[a] = _mm256_setzero_ps();
  for (int j = 0; j < nv; ++j) {
    __m256 kj[P];
    for (int i = 0; i < P; ++i) kj[i] = LoadF16(k0 + i * stride + 8 * j);
    for (int h = 0; h < H; ++h) {
      const __m256 qj = _mm256_load_ps(q16 + h * hd + 8 * j);
      for (int i = 0; i < P; ++i) acc[h * P + i] = _mm256_fmadd_ps(qj, kj[i], acc[h * P + i]);
    }
  }
  alignas(32) float tmp[8];
  _mm256_store_ps(tmp, _mm256_mul_ps(HSum8(acc), vscale));
  for (int h = 0; h < H; ++h)
    for (int i = 0; i < P; ++i) {
      scores[static_cast<size_t>(h) * n_pos + i] = tmp[h * P + i];
      max_s[h] = std::max(max_s[h], tmp[h * P + i]);
    }
}

// Scores of the block's first `grouped` positions (a multiple of 8) for H heads.
template <int H>
inline void ScoresHeads(const uint16_t* kblock, int grouped, int stride, const float* q16, int hd,
                        __m256 vscale, float* scores, int n_pos, float* max_s) {
  constexpr int P = H == 3 ? 2 : 8 / H;
  for (int i0 = 0; i0 < grouped; i0 += P)
    ScoresHP<H, P>(kblock + static_cast<size_t>(i0) * stride, stride, q16, hd, vscale,
                   scores + i0, n_pos, max_s);
}

// Calls fn(h, H) for groups of H consecutive query heads covering [0, n_q): threes, with a
// remainder of 4 or 2 as pairs and of 1 alone.
template <class Fn>
inline void ForHeadGroups(int n_q, Fn fn) {
  for (int h = 0; h < n_q;) {
    const int rest = n_q - h, group = rest == 4 || rest == 2 ? 2 : rest >= 3 ? 3 : 1;
    fn(h, group);
    h += group;
  }
}

}  // namespace

// partial_m/partial_l null: normalized output with f16-rounded weights (llama.cpp's numerics).
// Otherwise: out = sum_p exp(s_p - m) v_p unnormalized, m and l = sum_p exp(s_p - m) per head.
void AttendGroupAvx2(const PagedHeadKv& kv, const float* q, int n_q, int n_pos, float scale,
                     float* scratch, float* out, float* partial_m, float* partial_l) {
  const int hd = kv.head_dim, bt = kv.block_tokens, nv = hd / 8, stride = kv.row_stride / 2;
  alignas(32) float q16[kMaxGroup * kMaxHeadDim];  // [n_q][hd] q rounded to f16
  RoundQueryF16(q, n_q * hd, q16);

  // Scores: s[h][p] = scale * q16[h] . k[p]; eight positions of a block at a time per head.
  float max_s[kMaxGroup];
  std::fill(max_s, max_s + n_q, -INFINITY);
  const __m256 vscale = _mm256_set1_ps(scale);
  for (int b0 = 0; b0 < n_pos; b0 += bt) {
    const uint16_t* kblock = Halves(kv.k_blocks[b0 / bt]);
    const int in_block = std::min(bt, n_pos - b0);
    if (b0 + bt < n_pos) PrefetchRows(kv.k_blocks[b0 / bt + 1], bt, kv.row_stride, 16 * nv);
    // Whole groups of 8 positions (HSum8's reduction tree), up to 3 heads at a time so each K
    // row is converted once per 3 heads; the rest one by one (HSum's tree).
    const int grouped = in_block / 8 * 8;
    ForHeadGroups(n_q, [&](int h, int group) {
      const float* qh = q16 + h * hd;
      float* sh = scratch + h * n_pos + b0;
      if (group == 3) ScoresHeads<3>(kblock, grouped, stride, qh, hd, vscale, sh, n_pos, max_s + h);
      if (group == 2) ScoresHeads<2>(kblock, grouped, stride, qh, hd, vscale, sh, n_pos, max_s + h);
      if (group == 1) ScoresHeads<1>(kblock, grouped, stride, qh, hd, vscale, sh, n_pos, max_s + h);
    });
    ScoreTail(kblock, stride, grouped, in_block, q16, n_q, hd, scale, scratch + b0, n_pos, max_s);
  }
  // Softmax per head (vector exp); weights rounded to f16.
  for (int h = 0; h < n_q; ++h) {
    SoftmaxRow(scratch + static_cast<size_t>(h) * n_pos, n_pos, max_s[h],
               partial_m ? partial_m + h : nullptr, partial_l ? partial_l + h : nullptr,
               /*round_f16=*/true);
  }
  // out[h] = sum_p w[h][p] * v[p], 3 heads x 4 vectors of dims per pass over V.
  ForHeadGroups(n_q, [&](int h, int group) {
    const float* w = scratch + h * n_pos;
    if (group == 3) AccumulateVHeads<3>(kv, w, n_pos, out + h * hd);
    if (group == 2) AccumulateVHeads<2>(kv, w, n_pos, out + h * hd);
    if (group == 1) AccumulateVHeads<1>(kv, w, n_pos, out + h * hd);
  });
}

}  // namespace semantic::kernels::cpu
