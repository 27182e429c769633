// AVX2 element-wise kernels of the forward pass that run between the matmuls: SiLU(gate) * up,
// RMS norm, f32 -> f16 rows (KV cache stores) and shifted exp (sampler weights). Each element's
// result depends only on its own inputs (and, for RMS norm, its row), never on its position in
// the call, so a token computes the same values alone or in a batch.
#include <cmath>

#include "base/fp16.h"
#include "kernels/cpu/kernel_set.h"
#include "kernels/cpu/simd_x86.h"

namespace semantic::kernels::cpu {
namespace {

// silu(g) * u = g / (1 + exp(-g)) * u; exp's argument capped at 87 (beyond, silu(g) ~ 0 anyway;
// Exp itself gives 0 below -87.3, where silu(g) = g).
inline __m256 SiluMul8(__m256 g, __m256 u) {
  const __m256 e = Exp(_mm256_min_ps(_mm256_sub_ps(_mm256_setzero_ps(), g), _mm256_set1_ps(87.0f)));
  return _mm256_mul_ps(_mm256_div_ps(g, _mm256_add_ps(_mm256_set1_ps(1.0f), e)), u);
}

void SiluMulAvx2(float* gate, const float* up, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(gate + i, SiluMul8(_mm256_loadu_ps(gate + i), _mm256_loadu_ps(up + i)));
  if (i < n) {  // the tail through the same vector code, so every element gets the same formula
    alignas(32) float g[8] = {}, u[8] = {};
    for (int64_t j = i; j < n; ++j) g[j - i] = gate[j], u[j - i] = up[j];
    _mm256_store_ps(g, SiluMul8(_mm256_load_ps(g), _mm256_load_ps(u)));
    for (int64_t j = i; j < n; ++j) gate[j] = g[j - i];
  }
}

void RmsNormAvx2(const float* x, const float* w, int64_t n_tok, int64_t n, float eps, float* out) {
  for (int64_t t = 0; t < n_tok; ++t) {
    const float* xr = x + t * n;
    float* o = out + t * n;
    // Squares of floats are exact in double; four double lanes per half, summed in double.
    __m256d a0 = _mm256_setzero_pd(), a1 = _mm256_setzero_pd();
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
      const __m256 v = _mm256_loadu_ps(xr + i);
      const __m256d lo = _mm256_cvtps_pd(_mm256_castps256_ps128(v));
      const __m256d hi = _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1));
      a0 = _mm256_fmadd_pd(lo, lo, a0);
      a1 = _mm256_fmadd_pd(hi, hi, a1);
    }
    alignas(32) double lanes[4];
    _mm256_store_pd(lanes, _mm256_add_pd(a0, a1));
    double sum = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
    for (; i < n; ++i) sum += static_cast<double>(xr[i]) * xr[i];
    const float scale = 1.0f / std::sqrt(static_cast<float>(sum / n) + eps);
    const __m256 sv = _mm256_set1_ps(scale);
    i = 0;
    for (; i + 8 <= n; i += 8)
      _mm256_storeu_ps(o + i, _mm256_mul_ps(_mm256_mul_ps(_mm256_loadu_ps(xr + i), sv),
                                            _mm256_loadu_ps(w + i)));
    for (; i < n; ++i) o[i] = xr[i] * scale * w[i];
  }
}

// Round to nearest even, like Fp32ToFp16 for every value but NaN payloads.
void F32ToF16Avx2(const float* x, uint16_t* y, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm_storeu_si128(reinterpret_cast<__m128i*>(y + i),
                     _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT));
  for (; i < n; ++i) y[i] = Fp32ToFp16(x[i]);
}

void ExpShiftedAvx2(const float* x, int64_t n, float shift, float divisor, float* y) {
  const __m256 s = _mm256_set1_ps(shift), d = _mm256_set1_ps(divisor);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(y + i, Exp(_mm256_div_ps(_mm256_sub_ps(_mm256_loadu_ps(x + i), s), d)));
  if (i < n) {  // the tail through the same vector code
    alignas(32) float t[8] = {};
    for (int64_t j = i; j < n; ++j) t[j - i] = x[j];
    _mm256_store_ps(t, Exp(_mm256_div_ps(_mm256_sub_ps(_mm256_load_ps(t), s), d)));
    for (int64_t j = i; j < n; ++j) y[j] = t[j - i];
  }
}

}  // namespace

void FillElementwiseAvx2(KernelSet* ks) {
  ks->silu_mul = SiluMulAvx2;
  ks->rms_norm = RmsNormAvx2;
  ks->f32_to_f16 = F32ToF16Avx2;
  ks->exp_shifted = ExpShiftedAvx2;
}

}  // namespace semantic::kernels::cpu
