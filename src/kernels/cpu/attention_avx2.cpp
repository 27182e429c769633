// AVX2 + F16C paged attention: each K/V row is loaded once per GQA group and used for all of the
// group's query heads. head_dim must be a multiple of 8 (else the dispatcher uses the reference).
#include <immintrin.h>

#include <algorithm>
#include <cmath>

#include "kernels/attention.h"

namespace semantic::kernels::cpu {
namespace {

constexpr int kMaxGroup = 16;   // query heads per KV head handled in one pass
constexpr int kMaxHeadDim = 512;

inline float HSum(__m256 v) {
  __m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);
  lo = _mm_add_ps(lo, hi);
  lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
  lo = _mm_add_ss(lo, _mm_movehdup_ps(lo));
  return _mm_cvtss_f32(lo);
}

inline __m256 LoadF16(const uint16_t* p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

// exp(x) for 8 floats: x = n*ln2 + r, |r| <= ln2/2, exp(r) by a degree-6 polynomial, 2^n from
// the exponent bits. Relative error < 2e-7 over the softmax range (x <= 0); x < -87 gives 0.
inline __m256 Exp(__m256 x) {
  const __m256 lo = _mm256_set1_ps(-87.3f);
  const __m256 underflow = _mm256_cmp_ps(x, lo, _CMP_LT_OQ);
  x = _mm256_max_ps(x, lo);
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);  // ln2 split in two parts
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
  p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  const __m256 result = _mm256_mul_ps(p, _mm256_castsi256_ps(e));
  return _mm256_andnot_ps(underflow, result);
}

// Sums of 8 vectors: lane i of the result is the horizontal sum of v[i].
inline __m256 HSum8(const __m256* v) {
  const __m256 a = _mm256_hadd_ps(v[0], v[1]), b = _mm256_hadd_ps(v[2], v[3]);
  const __m256 c = _mm256_hadd_ps(v[4], v[5]), d = _mm256_hadd_ps(v[6], v[7]);
  const __m256 ab = _mm256_hadd_ps(a, b), cd = _mm256_hadd_ps(c, d);
  // ab = [s0 s1 s2 s3 | s0' s1' s2' s3'] (low/high 128-bit halves of v0..v3), same for cd.
  const __m256 lo = _mm256_permute2f128_ps(ab, cd, 0x20), hi = _mm256_permute2f128_ps(ab, cd, 0x31);
  return _mm256_add_ps(lo, hi);
}

// Asks for `rows` rows of `vecs` x 8 halves (stride `stride` halves) to be brought into cache.
inline void PrefetchRows(const uint16_t* base, int rows, int stride, int vecs) {
  for (int r = 0; r < rows; ++r)
    for (int b = 0; b < vecs * 16; b += 64)
      _mm_prefetch(reinterpret_cast<const char*>(base + static_cast<size_t>(r) * stride) + b,
                   _MM_HINT_T0);
}

// out[8*j0 .. 8*(j0+CH)) = sum_p w[p] * v[p][same dims], accumulators in registers.
template <int CH>
inline void AccumulateV(const PagedHeadKv& kv, const float* w, int n_pos, int j0, float* out) {
  __m256 acc[CH];
  for (int c = 0; c < CH; ++c) acc[c] = _mm256_setzero_ps();
  const int bt = kv.block_tokens;
  for (int b0 = 0; b0 < n_pos; b0 += bt) {
    const uint16_t* vblock = kv.v_blocks[b0 / bt] + 8 * j0;
    const int in_block = std::min(bt, n_pos - b0);
    if (b0 + bt < n_pos) PrefetchRows(kv.v_blocks[b0 / bt + 1] + 8 * j0, bt, kv.row_stride, CH);
    for (int i = 0; i < in_block; ++i) {
      const __m256 wi = _mm256_broadcast_ss(w + b0 + i);
      const uint16_t* v = vblock + static_cast<size_t>(i) * kv.row_stride;
      for (int c = 0; c < CH; ++c) acc[c] = _mm256_fmadd_ps(wi, LoadF16(v + 8 * c), acc[c]);
    }
  }
  for (int c = 0; c < CH; ++c) _mm256_storeu_ps(out + 8 * (j0 + c), acc[c]);
}

// Rounds 8 floats to f16 precision and back.
inline __m256 RoundF16(__m256 x) {
  return _mm256_cvtph_ps(_mm256_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT));
}

}  // namespace

// partial_m/partial_l null: normalized output with f16-rounded weights (llama.cpp's numerics).
// Otherwise: out = sum_p exp(s_p - m) v_p unnormalized, m and l = sum_p exp(s_p - m) per head.
void AttendGroupAvx2(const PagedHeadKv& kv, const float* q, int n_q, int n_pos, float scale,
                     float* scratch, float* out, float* partial_m, float* partial_l) {
  const int hd = kv.head_dim, bt = kv.block_tokens, nv = hd / 8;
  alignas(32) float q16[kMaxGroup * kMaxHeadDim];  // [n_q][hd] q rounded to f16
  for (int i = 0; i < n_q * hd; i += 8) _mm256_store_ps(q16 + i, RoundF16(_mm256_loadu_ps(q + i)));

  // Scores: s[h][p] = scale * q16[h] . k[p]; eight positions of a block at a time per head.
  float max_s[kMaxGroup];
  std::fill(max_s, max_s + n_q, -INFINITY);
  const __m256 vscale = _mm256_set1_ps(scale);
  for (int b0 = 0; b0 < n_pos; b0 += bt) {
    const uint16_t* kblock = kv.k_blocks[b0 / bt];
    const int in_block = std::min(bt, n_pos - b0);
    if (b0 + bt < n_pos) PrefetchRows(kv.k_blocks[b0 / bt + 1], bt, kv.row_stride, nv);
    int i0 = 0;
    for (; i0 + 8 <= in_block; i0 += 8) {
      const uint16_t* k0 = kblock + static_cast<size_t>(i0) * kv.row_stride;
      for (int h = 0; h < n_q; ++h) {
        __m256 acc[8];
        for (int i = 0; i < 8; ++i) acc[i] = _mm256_setzero_ps();
        const float* qh = q16 + h * hd;
        for (int j = 0; j < nv; ++j) {
          const __m256 qj = _mm256_load_ps(qh + 8 * j);
          for (int i = 0; i < 8; ++i)
            acc[i] = _mm256_fmadd_ps(qj, LoadF16(k0 + i * kv.row_stride + 8 * j), acc[i]);
        }
        const __m256 sv = _mm256_mul_ps(HSum8(acc), vscale);
        _mm256_storeu_ps(scratch + static_cast<size_t>(h) * n_pos + b0 + i0, sv);
        alignas(32) float tmp[8];
        _mm256_store_ps(tmp, sv);
        for (int i = 0; i < 8; ++i) max_s[h] = std::max(max_s[h], tmp[i]);
      }
    }
    for (; i0 < in_block; ++i0) {
      const uint16_t* k = kblock + static_cast<size_t>(i0) * kv.row_stride;
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
    float* s = scratch + static_cast<size_t>(h) * n_pos;
    const __m256 vmax = _mm256_set1_ps(max_s[h]);
    __m256 vsum = _mm256_setzero_ps();
    int p = 0;
    for (; p + 8 <= n_pos; p += 8) {
      const __m256 e = Exp(_mm256_sub_ps(_mm256_loadu_ps(s + p), vmax));
      _mm256_storeu_ps(s + p, e);
      vsum = _mm256_add_ps(vsum, e);
    }
    double sum = HSum(vsum);
    for (; p < n_pos; ++p) {
      s[p] = std::exp(s[p] - max_s[h]);
      sum += s[p];
    }
    if (partial_m != nullptr) {
      partial_m[h] = max_s[h];
      partial_l[h] = static_cast<float>(sum);
      continue;
    }
    const __m256 inv = _mm256_set1_ps(static_cast<float>(1.0 / sum));
    p = 0;
    for (; p + 8 <= n_pos; p += 8) _mm256_storeu_ps(s + p, RoundF16(_mm256_mul_ps(_mm256_loadu_ps(s + p), inv)));
    for (; p < n_pos; ++p) {
      const float w = s[p] * _mm256_cvtss_f32(inv);
      s[p] = _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtps_ph(_mm_set_ss(w), _MM_FROUND_TO_NEAREST_INT)));
    }
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
