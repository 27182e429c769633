// AVX2 activation quantizers into PackedActs. Bit-exact with the scalar quantizers in
// quant/quantize.cpp (same max, same 127/amax multiplier, round half to even).
#include "kernels/cpu/kernel_set.h"
#include "kernels/cpu/simd_x86.h"

namespace semantic::kernels::cpu {
namespace {

// 32 i32 values (4 vectors) -> 32 i8 in element order.
inline __m256i PackI32ToI8(__m256i a, __m256i b, __m256i c, __m256i d) {
  const __m256i ab = _mm256_packs_epi32(a, b);  // 0-3 8-11 | 4-7 12-15
  const __m256i cd = _mm256_packs_epi32(c, d);
  const __m256i abcd = _mm256_packs_epi16(ab, cd);  // 0-3 8-11 16-19 24-27 | 4-7 12-15 20-23 28-31
  return _mm256_permutevar8x32_epi32(abcd, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

// |x| mask. (A function, not a namespace-scope constant: a dynamic initializer in this file would
// run AVX instructions at program start on any CPU.)
inline __m256 AbsMask() { return _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff)); }

template <bool kWithS>
void QuantizeQ8_32(const float* x, int64_t t0, int64_t t1, PackedActs* a) {
  const int64_t cols = a->cols;
  for (int64_t t = t0; t < t1; ++t) {
    const float* xr = x + t * cols;
    int8_t* qr = a->qs + t * a->qs_stride;
    for (int64_t b = 0; b < a->nb; ++b) {
      __m256 v[4];
      __m256 amax = _mm256_setzero_ps();
      for (int k = 0; k < 4; ++k) {
        v[k] = _mm256_loadu_ps(xr + 32 * b + 8 * k);
        amax = _mm256_max_ps(amax, _mm256_and_ps(v[k], AbsMask()));
      }
      const float max = HorizontalMax(amax);
      const float d = max / 127.f;
      float inv = max != 0.f ? 127.f / max : 0.f;
      if (inv > 3.4e38f) inv = 0.f;  // subnormal amax: a zero block, as in the scalar path
      const __m256 id = _mm256_set1_ps(inv);
      __m256i q[4];
      for (int k = 0; k < 4; ++k)
        q[k] = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v[k], id),
                                                  _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
      const int32_t sum = HorizontalSum(
          _mm256_add_epi32(_mm256_add_epi32(q[0], q[1]), _mm256_add_epi32(q[2], q[3])));
      _mm256_store_si256(reinterpret_cast<__m256i*>(qr + 32 * b),
                         PackI32ToI8(q[0], q[1], q[2], q[3]));
      const int64_t i = b * a->n_tok_pad + t;
      a->d[i] = RoundThroughHalf(d);
      a->xsum[i] = sum;
      if (kWithS) a->s[i] = RoundThroughHalf(d * static_cast<float>(sum));
    }
  }
}

void QuantizeQ8_K(const float* x, int64_t t0, int64_t t1, PackedActs* a) {
  const int64_t cols = a->cols;
  for (int64_t t = t0; t < t1; ++t) {
    const float* xr = x + t * cols;
    int8_t* qr = a->qs + t * a->qs_stride;
    int16_t* bs = a->bsums + t * a->nb * 16;
    for (int64_t b = 0; b < a->nb; ++b) {
      const float* xb = xr + 256 * b;
      __m256 amax = _mm256_setzero_ps();
      for (int k = 0; k < 32; ++k)
        amax = _mm256_max_ps(amax, _mm256_and_ps(_mm256_loadu_ps(xb + 8 * k), AbsMask()));
      const float am = HorizontalMax(amax);
      const int64_t i = b * a->n_tok_pad + t;
      if (am == 0.f || !(127.f / am <= 3.4e38f)) {  // zero, or -127/max overflows: as scalar
        std::memset(qr + 256 * b, 0, 256);
        std::memset(bs + 16 * b, 0, 32);
        a->d[i] = 0.f;
        continue;
      }
      // The first element of largest magnitude sets the sign (as the scalar scan does).
      float max = 0.f;
      const __m256 amv = _mm256_set1_ps(am);
      for (int k = 0; k < 32; ++k) {
        const __m256 xv = _mm256_loadu_ps(xb + 8 * k);
        const int mask =
            _mm256_movemask_ps(_mm256_cmp_ps(_mm256_and_ps(xv, AbsMask()), amv, _CMP_EQ_OQ));
        if (mask != 0) {
          max = xb[8 * k + __builtin_ctz(static_cast<unsigned>(mask))];
          break;
        }
      }
      const float iscale = -127.f / max;
      const __m256 is = _mm256_set1_ps(iscale);
      const __m256i k127 = _mm256_set1_epi32(127);
      for (int g = 0; g < 8; ++g) {  // 32 elements per group
        __m256i q[4];
        for (int k = 0; k < 4; ++k) {
          const __m256 xv = _mm256_loadu_ps(xb + 32 * g + 8 * k);
          q[k] = _mm256_min_epi32(
              k127, _mm256_cvtps_epi32(_mm256_round_ps(
                        _mm256_mul_ps(xv, is), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)));
        }
        bs[16 * b + 2 * g] = static_cast<int16_t>(HorizontalSum(_mm256_add_epi32(q[0], q[1])));
        bs[16 * b + 2 * g + 1] = static_cast<int16_t>(HorizontalSum(_mm256_add_epi32(q[2], q[3])));
        _mm256_store_si256(reinterpret_cast<__m256i*>(qr + 256 * b + 32 * g),
                           PackI32ToI8(q[0], q[1], q[2], q[3]));
      }
      a->d[i] = 1.f / iscale;
    }
  }
}

// F16 / BF16 weights: activations rounded to the weight's float type, kept as f32.
void QuantizeF16(const float* x, int64_t t0, int64_t t1, PackedActs* a) {
  float* f = const_cast<float*>(a->f);
  const int64_t cols = a->cols;
  for (int64_t t = t0; t < t1; ++t) {
    const float* xr = x + t * cols;
    float* fr = f + t * a->f_stride;
    int64_t c = 0;
    for (; c + 8 <= cols; c += 8)
      _mm256_storeu_ps(fr + c, _mm256_cvtph_ps(_mm256_cvtps_ph(_mm256_loadu_ps(xr + c),
                                                               _MM_FROUND_TO_NEAREST_INT)));
    for (; c < cols; ++c) fr[c] = RoundThroughHalf(xr[c]);
  }
}

inline float RoundThroughBf16(float v) {
  uint32_t u;
  std::memcpy(&u, &v, 4);
  if ((u & 0x7fffffff) > 0x7f800000u) {
    u = (u | 0x00400000u) & 0xffff0000u;
  } else {
    u = (u + 0x7fff + ((u >> 16) & 1)) & 0xffff0000u;
  }
  std::memcpy(&v, &u, 4);
  return v;
}

void QuantizeBf16(const float* x, int64_t t0, int64_t t1, PackedActs* a) {
  float* f = const_cast<float*>(a->f);
  const int64_t cols = a->cols;
  const __m256i abs_mask = _mm256_set1_epi32(0x7fffffff), inf = _mm256_set1_epi32(0x7f800000);
  const __m256i hi_mask = _mm256_set1_epi32(static_cast<int>(0xffff0000u));
  const __m256i quiet = _mm256_set1_epi32(0x00400000), bias = _mm256_set1_epi32(0x7fff);
  const __m256i one = _mm256_set1_epi32(1);
  for (int64_t t = t0; t < t1; ++t) {
    const float* xr = x + t * cols;
    float* fr = f + t * a->f_stride;
    int64_t c = 0;
    for (; c + 8 <= cols; c += 8) {
      const __m256i u = _mm256_castps_si256(_mm256_loadu_ps(xr + c));
      const __m256i nan = _mm256_cmpgt_epi32(_mm256_and_si256(u, abs_mask), inf);
      const __m256i rounded = _mm256_add_epi32(
          u, _mm256_add_epi32(bias, _mm256_and_si256(_mm256_srli_epi32(u, 16), one)));
      const __m256i r = _mm256_blendv_epi8(rounded, _mm256_or_si256(u, quiet), nan);
      _mm256_storeu_ps(fr + c, _mm256_castsi256_ps(_mm256_and_si256(r, hi_mask)));
    }
    for (; c < cols; ++c) fr[c] = RoundThroughBf16(xr[c]);
  }
}

}  // namespace

void FillActQuantAvx2(KernelSet* ks) {
  using quant::DType;
  ks->quantize[static_cast<int>(DType::kQ8_0)] = QuantizeQ8_32<false>;
  ks->quantize[static_cast<int>(DType::kQ8_1)] = QuantizeQ8_32<true>;
  ks->quantize[static_cast<int>(DType::kQ8_K)] = QuantizeQ8_K;
  ks->quantize[static_cast<int>(DType::kF16)] = QuantizeF16;
  ks->quantize[static_cast<int>(DType::kBF16)] = QuantizeBf16;
}

}  // namespace semantic::kernels::cpu
