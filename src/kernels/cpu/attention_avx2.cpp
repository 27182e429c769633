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

// Rounds 8 floats to f16 precision and back.
inline __m256 RoundF16(__m256 x) {
  return _mm256_cvtph_ps(_mm256_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT));
}

}  // namespace

void AttendGroupAvx2(const PagedHeadKv& kv, const float* q, int n_q, int n_pos, float scale,
                     float* scratch, float* out) {
  const int hd = kv.head_dim, bt = kv.block_tokens, nv = hd / 8;
  alignas(32) float q16[kMaxGroup * kMaxHeadDim];  // [n_q][hd] q rounded to f16
  for (int i = 0; i < n_q * hd; i += 8) _mm256_store_ps(q16 + i, RoundF16(_mm256_loadu_ps(q + i)));

  // Scores: s[h][p] = scale * q16[h] . k[p]
  float max_s[kMaxGroup];
  std::fill(max_s, max_s + n_q, -INFINITY);
  for (int p = 0; p < n_pos; ++p) {
    const uint16_t* k = kv.k_blocks[p / bt] + static_cast<size_t>(p % bt) * kv.row_stride;
    __m256 acc[kMaxGroup];
    for (int h = 0; h < n_q; ++h) acc[h] = _mm256_setzero_ps();
    for (int j = 0; j < nv; ++j) {
      const __m256 kj = LoadF16(k + 8 * j);
      for (int h = 0; h < n_q; ++h)
        acc[h] = _mm256_fmadd_ps(_mm256_load_ps(q16 + h * hd + 8 * j), kj, acc[h]);
    }
    for (int h = 0; h < n_q; ++h) {
      const float s = HSum(acc[h]) * scale;
      scratch[static_cast<size_t>(h) * n_pos + p] = s;
      max_s[h] = std::max(max_s[h], s);
    }
  }
  // Softmax per head; weights rounded to f16.
  for (int h = 0; h < n_q; ++h) {
    float* s = scratch + static_cast<size_t>(h) * n_pos;
    double sum = 0.0;
    for (int p = 0; p < n_pos; ++p) {
      s[p] = std::exp(s[p] - max_s[h]);
      sum += s[p];
    }
    const __m256 inv = _mm256_set1_ps(static_cast<float>(1.0 / sum));
    int p = 0;
    for (; p + 8 <= n_pos; p += 8) _mm256_storeu_ps(s + p, RoundF16(_mm256_mul_ps(_mm256_loadu_ps(s + p), inv)));
    for (; p < n_pos; ++p) {
      const float w = s[p] * _mm256_cvtss_f32(inv);
      s[p] = _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtps_ph(_mm_set_ss(w), _MM_FROUND_TO_NEAREST_INT)));
    }
  }
  // out[h] = sum_p w[h][p] * v[p]
  __m256 acc[kMaxGroup * (kMaxHeadDim / 8)];
  for (int i = 0; i < n_q * nv; ++i) acc[i] = _mm256_setzero_ps();
  for (int p = 0; p < n_pos; ++p) {
    const uint16_t* v = kv.v_blocks[p / bt] + static_cast<size_t>(p % bt) * kv.row_stride;
    for (int j = 0; j < nv; ++j) {
      const __m256 vj = LoadF16(v + 8 * j);
      for (int h = 0; h < n_q; ++h) {
        const __m256 w = _mm256_set1_ps(scratch[static_cast<size_t>(h) * n_pos + p]);
        acc[h * nv + j] = _mm256_fmadd_ps(w, vj, acc[h * nv + j]);
      }
    }
  }
  for (int h = 0; h < n_q; ++h)
    for (int j = 0; j < nv; ++j) _mm256_storeu_ps(out + h * hd + 8 * j, acc[h * nv + j]);
}

}  // namespace semantic::kernels::cpu
