// SIMD pieces shared by the paged-attention kernel files (*_avx2.cpp, *_avx512.cpp): vector exp,
// the softmax passes over a score row, and block prefetch. Anonymous namespace: each ISA file
// gets its own copy.
#pragma once

#include <immintrin.h>

#include <cmath>
#include <cstddef>
#include <cstdint>

namespace semantic::kernels::cpu {
namespace {  // NOLINT(build/namespaces): per-ISA copies on purpose

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
  const __m256i e =
      _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  const __m256 result = _mm256_mul_ps(p, _mm256_castsi256_ps(e));
  return _mm256_andnot_ps(underflow, result);
}

inline float HSum(__m256 v) {
  __m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);
  lo = _mm_add_ps(lo, hi);
  lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
  lo = _mm_add_ss(lo, _mm_movehdup_ps(lo));
  return _mm_cvtss_f32(lo);
}

// Rounds 8 floats to f16 precision and back.
inline __m256 RoundF16(__m256 x) {
  return _mm256_cvtph_ps(_mm256_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT));
}

// s[p] = exp(s[p] - max) for p < n; returns sum_p s[p].
inline double ExpRow(float* s, int n, float max) {
  const __m256 vmax = _mm256_set1_ps(max);
  __m256 vsum = _mm256_setzero_ps();
  int p = 0;
  for (; p + 8 <= n; p += 8) {
    const __m256 e = Exp(_mm256_sub_ps(_mm256_loadu_ps(s + p), vmax));
    _mm256_storeu_ps(s + p, e);
    vsum = _mm256_add_ps(vsum, e);
  }
  double sum = HSum(vsum);
  for (; p < n; ++p) {
    s[p] = std::exp(s[p] - max);
    sum += s[p];
  }
  return sum;
}

// s[p] *= inv for p < n, rounded to f16 precision when round_f16.
inline void ScaleRow(float* s, int n, float inv, bool round_f16) {
  const __m256 vinv = _mm256_set1_ps(inv);
  int p = 0;
  for (; p + 8 <= n; p += 8) {
    const __m256 w = _mm256_mul_ps(_mm256_loadu_ps(s + p), vinv);
    _mm256_storeu_ps(s + p, round_f16 ? RoundF16(w) : w);
  }
  for (; p < n; ++p) {
    const float w = s[p] * inv;
    s[p] = round_f16 ? _cvtsh_ss(_cvtss_sh(w, _MM_FROUND_TO_NEAREST_INT)) : w;
  }
}

// Asks for `rows` rows of `bytes` bytes each (`stride` bytes apart) to be brought into cache.
inline void PrefetchRows(const uint8_t* base, int rows, size_t stride, size_t bytes) {
  for (int r = 0; r < rows; ++r)
    for (size_t b = 0; b < bytes; b += 64)
      _mm_prefetch(reinterpret_cast<const char*>(base + r * stride + b), _MM_HINT_T0);
}

}  // namespace
}  // namespace semantic::kernels::cpu
