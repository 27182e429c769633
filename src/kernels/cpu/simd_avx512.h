// Small 512-bit helpers shared by the AVX-512 kernel files (include only from *_avx512.cpp).
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>

namespace semantic::kernels::cpu {
namespace {  // NOLINT(build/namespaces): inlined into each ISA file

// The 4 bytes at p (any alignment) in every 32-bit lane.
inline __m512i Bcast32(const void* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return _mm512_set1_epi32(v);
}

// All-lanes masked forms: the plain ones pass an undefined vector g++ 12 warns about under
// -Wmaybe-uninitialized (the same instructions).
// 16 f16 at p as f32.
inline __m512 LoadF16x16(const void* p) {
  return _mm512_maskz_cvtph_ps(0xFFFF, _mm256_loadu_si256(static_cast<const __m256i*>(p)));
}
inline __m512 CvtI32(__m512i v) { return _mm512_maskz_cvtepi32_ps(0xFFFF, v); }

}  // namespace
}  // namespace semantic::kernels::cpu
