// AVX2 + F16C paged attention over f16 K/V: each K/V row is loaded once per GQA group and used
// for all of the group's query heads. head_dim must be a multiple of 8 (else the dispatcher uses
// the reference).
#include <immintrin.h>

#include <algorithm>
#include <cmath>

#include "kernels/attention.h"
#include "kernels/cpu/attention_x86.h"

namespace semantic::kernels::cpu {
namespace {

constexpr int kMaxGroup = 16;  // query heads per KV head handled in one pass
constexpr int kMaxHeadDim = 512;

// out[8*j0 .. 8*(j0+CH)) = sum_p w[p] * v[p][same dims], accumulators in registers.
template <int CH>
inline void AccumulateV(const PagedHeadKv& kv, const float* w, int n_pos, int j0, float* out) {
  __m256 acc[CH];
  for (int c = 0; c < CH; ++c) acc[c] = _mm256_setzero_ps();
  const int bt = kv.block_tokens, stride = kv.row_stride / 2;
  for (int b0 = 0; b0 < n_pos; b0 += bt) {
    const uint16_t* vblock = Halves(kv.v_blocks[b0 / bt]) + 8 * j0;
    const int in_block = std::min(bt, n_pos - b0);
    if (b0 + bt < n_pos)
      PrefetchRows(kv.v_blocks[b0 / bt + 1] + 16 * j0, bt, kv.row_stride, 16 * CH);
    for (int i = 0; i < in_block; ++i) {
      const __m256 wi = _mm256_broadcast_ss(w + b0 + i);
      const uint16_t* v = vblock + static_cast<size_t>(i) * stride;
      for (int c = 0; c < CH; ++c) acc[c] = _mm256_fmadd_ps(wi, LoadF16(v + 8 * c), acc[c]);
    }
  }
  for (int c = 0; c < CH; ++c) _mm256_storeu_ps(out + 8 * (j0 + c), acc[c]);
}

}  // namespace

// partial_m/partial_l null: normalized output with f16-rounded weights (llama.cpp's numerics).
// Otherwise: out = sum_p exp(s_p - m) v_p unnormalized, m and l = sum_p exp(s_p - m) per head.
void AttendGroupAvx2(const PagedHeadKv& kv, const float* q, int n_q, int n_pos, float scale,
                     float* scratch, float* out, float* partial_m, float* partial_l) {
  const int hd = kv.head_dim, bt = kv.block_tokens, nv = hd / 8, stride = kv.row_stride / 2;
  alignas(32) float q16[kMaxGroup * kMaxHeadDim];  // [n_q][hd] q rounded to f16
  for (int i = 0; i < n_q * hd; i += 8) _mm256_store_ps(q16 + i, RoundF16(_mm256_loadu_ps(q + i)));

  // Scores: s[h][p] = scale * q16[h] . k[p]; eight positions of a block at a time per head.
  float max_s[kMaxGroup];
  std::fill(max_s, max_s + n_q, -INFINITY);
  const __m256 vscale = _mm256_set1_ps(scale);
  for (int b0 = 0; b0 < n_pos; b0 += bt) {
    const uint16_t* kblock = Halves(kv.k_blocks[b0 / bt]);
    const int in_block = std::min(bt, n_pos - b0);
    if (b0 + bt < n_pos) PrefetchRows(kv.k_blocks[b0 / bt + 1], bt, kv.row_stride, 16 * nv);
    int i0 = 0;
    for (; i0 + 8 <= in_block; i0 += 8) {
      const uint16_t* k0 = kblock + static_cast<size_t>(i0) * stride;
      for (int h = 0; h < n_q; ++h) {
        __m256 acc[8];
        for (int i = 0; i < 8; ++i) acc[i] = _mm256_setzero_ps();
        const float* qh = q16 + h * hd;
        for (int j = 0; j < nv; ++j) {
          const __m256 qj = _mm256_load_ps(qh + 8 * j);
          for (int i = 0; i < 8; ++i)
            acc[i] = _mm256_fmadd_ps(qj, LoadF16(k0 + i * stride + 8 * j), acc[i]);
        }
        const __m256 sv = _mm256_mul_ps(HSum8(acc), vscale);
        _mm256_storeu_ps(scratch + static_cast<size_t>(h) * n_pos + b0 + i0, sv);
        alignas(32) float tmp[8];
        _mm256_store_ps(tmp, sv);
        for (int i = 0; i < 8; ++i) max_s[h] = std::max(max_s[h], tmp[i]);
      }
    }
    for (; i0 < in_block; ++i0) {
      const uint16_t* k = kblock + static_cast<size_t>(i0) * stride;
      for (int h = 0; h < n_q; ++h) {
        __m256 acc = _mm256_setzero_ps();
        for (int j = 0; j < nv; ++j)
          acc = _mm256_fmadd_ps(_mm256_load_ps(q16 + h * hd + 8 * j), LoadF16(k + 8 * j), acc);
        const float sc = HSum(acc) * scale;
        scratch[static_cast<size_t>(h) * n_pos + b0 + i0] = sc;
        max_s[h] = std::max(max_s[h], sc);
      }
    }
  }
  // Softmax per head (vector exp); weights rounded to f16.
  for (int h = 0; h < n_q; ++h) {
    SoftmaxRow(scratch + static_cast<size_t>(h) * n_pos, n_pos, max_s[h],
               partial_m ? partial_m + h : nullptr, partial_l ? partial_l + h : nullptr,
               /*round_f16=*/true);
  }
  // out[h] = sum_p w[h][p] * v[p], in chunks of up to 8 vectors kept in registers.
  for (int h = 0; h < n_q; ++h) {
    const float* w = scratch + static_cast<size_t>(h) * n_pos;
    int j = 0;
    for (; j + 8 <= nv; j += 8) AccumulateV<8>(kv, w, n_pos, j, out + h * hd);
    for (; j + 4 <= nv; j += 4) AccumulateV<4>(kv, w, n_pos, j, out + h * hd);
    for (; j < nv; ++j) AccumulateV<1>(kv, w, n_pos, j, out + h * hd);
  }
}

}  // namespace semantic::kernels::cpu
