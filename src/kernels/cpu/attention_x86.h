// SIMD pieces shared by the paged-attention kernel files (*_avx2.cpp, *_avx512.cpp): the softmax
// passes over a score row (vector exp from simd_x86.h) and block prefetch. Anonymous namespace:
// each ISA file gets its own copy.
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "kernels/cpu/simd_x86.h"

namespace semantic::kernels::cpu {
namespace {  // NOLINT(build/namespaces): per-ISA copies on purpose

inline float HSum(__m256 v) {
  __m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);
  lo = _mm_add_ps(lo, hi);
  lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
  lo = _mm_add_ss(lo, _mm_movehdup_ps(lo));
  return _mm_cvtss_f32(lo);
}

// The f16 rows of a block (PagedHeadKv addresses bytes).
inline const uint16_t* Halves(const uint8_t* p) { return reinterpret_cast<const uint16_t*>(p); }

inline __m256 LoadF16(const uint16_t* p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
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

#if defined(__AVX512F__)
// _mm256_hadd_ps on each 256-bit half: [a0+a1, a2+a3, b0+b1, b2+b3] per 128-bit lane.
inline __m512 Hadd16(__m512 a, __m512 b) {
  return _mm512_add_ps(_mm512_shuffle_ps(a, b, 0x88), _mm512_shuffle_ps(a, b, 0xDD));
}

// HSum8 of the 8 vectors held in pairs (p[i] = [v[2i] | v[2i+1]]): the same additions of the
// same operands, so the same bits. Lane i of the result is sum(v[i]) =
// ((x0 + x1) + (x2 + x3)) + ((x4 + x5) + (x6 + x7)).
inline __m256 HSum8Pairs(const __m512* p) {
  // r, by 128-bit lane: [v0 v2 v4 v6 first halves], [second halves], [v1 v3 v5 v7 ...], [...].
  const __m512 r = Hadd16(Hadd16(p[0], p[1]), Hadd16(p[2], p[3]));
  const __m512 sum = _mm512_add_ps(r, _mm512_shuffle_f32x4(r, r, 0xB1));  // lanes 0 and 1 swapped
  const __m512i order = _mm512_setr_epi32(0, 8, 1, 9, 2, 10, 3, 11, 0, 0, 0, 0, 0, 0, 0, 0);
  return _mm512_castps512_ps256(_mm512_permutexvar_ps(order, sum));
}
#endif

// Rounds 8 floats to f16 precision and back.
inline __m256 RoundF16(__m256 x) {
  return _mm256_cvtph_ps(_mm256_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT));
}

// q16[i] = q[i] rounded to f16 precision, i < n (a multiple of 8).
inline void RoundQueryF16(const float* q, int n, float* q16) {
  for (int i = 0; i < n; i += 8) _mm256_storeu_ps(q16 + i, RoundF16(_mm256_loadu_ps(q + i)));
}

// Scores of a block's positions [i0, i1) that are not in a full group of 8, one by one: per
// head an 8-lane FMA chain over the dims (q16: [n_q][hd], 32-byte aligned rows) reduced by HSum,
// times scale, into s[h * n_pos + i] (s at the block's first position) and max_s[h].
inline void ScoreTail(const uint16_t* kblock, int stride, int i0, int i1, const float* q16,
                      int n_q, int hd, float scale, float* s, int n_pos, float* max_s) {
  for (int i = i0; i < i1; ++i) {
    const uint16_t* k = kblock + static_cast<size_t>(i) * stride;
    for (int h = 0; h < n_q; ++h) {
      __m256 acc = _mm256_setzero_ps();
      for (int j = 0; j < hd / 8; ++j)
        acc = _mm256_fmadd_ps(_mm256_load_ps(q16 + h * hd + 8 * j), LoadF16(k + 8 * j), acc);
      const float sc = HSum(acc) * scale;
      s[static_cast<size_t>(h) * n_pos + i] = sc;
      max_s[h] = std::max(max_s[h], sc);
    }
  }
}

// s[p] = exp(s[p] - max) for p < n; returns sum_p s[p].
inline double ExpRow(float* s, int n, float max) {
  const __m256 vmax = _mm256_set1_ps(max);
  __m256 vsum = _mm256_setzero_ps();
  int p = 0;
#if defined(__AVX512F__)
  // 16 at a time, added to the sum in the 8-wide loop's order: the same bits.
  for (; p + 16 <= n; p += 16) {
    const __m512 e = Exp16(_mm512_sub_ps(_mm512_loadu_ps(s + p), _mm512_set1_ps(max)));
    _mm512_storeu_ps(s + p, e);
    vsum = _mm256_add_ps(vsum, _mm512_castps512_ps256(e));
    vsum = _mm256_add_ps(vsum, _mm512_extractf32x8_ps(e, 1));
  }
#endif
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
#if defined(__AVX512F__)
  for (; p + 16 <= n; p += 16) {  // lane by lane as below
    const __m512 w = _mm512_mul_ps(_mm512_loadu_ps(s + p), _mm512_set1_ps(inv));
    _mm512_storeu_ps(s + p, round_f16 ? _mm512_cvtph_ps(_mm512_cvtps_ph(
                                            w, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC))
                                      : w);
  }
#endif
  for (; p + 8 <= n; p += 8) {
    const __m256 w = _mm256_mul_ps(_mm256_loadu_ps(s + p), vinv);
    _mm256_storeu_ps(s + p, round_f16 ? RoundF16(w) : w);
  }
  for (; p < n; ++p) {
    const float w = s[p] * inv;
    s[p] = round_f16 ? _cvtsh_ss(_cvtss_sh(w, _MM_FROUND_TO_NEAREST_INT)) : w;
  }
}

// Softmax of one head's scores in place: exp(s - max), then either the partial state (max, sum)
// for a later merge of segments (m_out != nullptr) or weights normalised to sum 1 (rounded to f16
// precision when round_f16).
inline void SoftmaxRow(float* s, int n, float max, float* m_out, float* l_out, bool round_f16) {
  const double sum = ExpRow(s, n, max);
  if (m_out != nullptr) {
    *m_out = max;
    *l_out = static_cast<float>(sum);
  } else {
    ScaleRow(s, n, static_cast<float>(1.0 / sum), round_f16);
  }
}

// The maximum score of a row as AttendGroupAvx2's running std::max over positions in order
// finds it: from the tail maximum m and the lane maxima of the full groups. The maximum value is
// the same in any order; only its sign when it is zero (+0 and -0 compare equal, the first seen
// is kept) depends on the order, so a zero maximum is found again in position order.
inline float RowMax(float m, __m256 vmax, const float* s, int n) {
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, vmax);
  for (float x : lanes) m = std::max(m, x);
  if (m != 0.0f) return m;
  m = -INFINITY;
  for (int p = 0; p < n; ++p) m = std::max(m, s[p]);
  return m;
}

// Asks for `rows` rows of `bytes` bytes each (`stride` bytes apart) to be brought into cache.
inline void PrefetchRows(const uint8_t* base, int rows, size_t stride, size_t bytes) {
  for (int r = 0; r < rows; ++r)
    for (size_t b = 0; b < bytes; b += 64)
      _mm_prefetch(reinterpret_cast<const char*>(base + r * stride + b), _MM_HINT_T0);
}

}  // namespace
}  // namespace semantic::kernels::cpu
