// AVX2 tiles for float weights (F32, F16, BF16) against f32 activations (already rounded to the
// weight's type by the quantizer): f32 FMA dot products, 8 (row, token) pairs per tile.
#include <algorithm>

#include "base/fp16.h"
#include "kernels/cpu/kernel_set.h"
#include "kernels/cpu/simd_x86.h"

namespace semantic::kernels::cpu {
namespace {

enum class FloatKind { kF32, kF16, kBF16 };

template <FloatKind K>
inline __m256 LoadWeights8(const uint8_t* p) {
  if constexpr (K == FloatKind::kF32) return _mm256_loadu_ps(reinterpret_cast<const float*>(p));
  if constexpr (K == FloatKind::kF16)
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  if constexpr (K == FloatKind::kBF16)
    return _mm256_castsi256_ps(_mm256_slli_epi32(
        _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))), 16));
}

template <FloatKind K>
inline float LoadWeight1(const uint8_t* p) {
  if constexpr (K == FloatKind::kF32) {
    float f;
    std::memcpy(&f, p, 4);
    return f;
  }
  uint16_t h;
  std::memcpy(&h, p, 2);
  if constexpr (K == FloatKind::kF16) return Fp16ToFp32(h);
  return Bf16ToFp32(h);
}

constexpr int ElemBytes(FloatKind k) { return k == FloatKind::kF32 ? 4 : 2; }

// out[i * RN + j] = dot(row i, token t + j), RM * RN == 8.
template <FloatKind K, int RM, int RN>
void TileFloat(const uint8_t* const* rows, const PackedActs& a, int64_t t, float* out) {
  constexpr int kEb = ElemBytes(K);
  const int64_t cols = a.cols;
  const float* x[RN];
#pragma GCC unroll 8
  for (int j = 0; j < RN; ++j) x[j] = a.f + (t + j) * a.f_stride;
  __m256 acc[8];  // [RM * RN pairs] f32x8 partial sums
#pragma GCC unroll 8
  for (int k = 0; k < 8; ++k) acc[k] = _mm256_setzero_ps();
  int64_t c = 0;
  for (; c + 8 <= cols; c += 8) {
    __m256 xv[RN];
#pragma GCC unroll 8
    for (int j = 0; j < RN; ++j) xv[j] = _mm256_loadu_ps(x[j] + c);
#pragma GCC unroll 8
    for (int i = 0; i < RM; ++i) {
      const __m256 wv = LoadWeights8<K>(rows[i] + c * kEb);
#pragma GCC unroll 8
      for (int j = 0; j < RN; ++j) acc[i * RN + j] = _mm256_fmadd_ps(wv, xv[j], acc[i * RN + j]);
    }
  }
  _mm256_storeu_ps(out, ReduceLanes8(acc));
  for (; c < cols; ++c)
    for (int i = 0; i < RM; ++i)
      for (int j = 0; j < RN; ++j) out[i * RN + j] += LoadWeight1<K>(rows[i] + c * kEb) * x[j][c];
}

template <FloatKind K, int RM, int RN>
void RowSweepFloat(const WeightView& w, const PackedActs& a, int64_t r0, int64_t r1, int64_t t,
                   float* y) {
  const auto* base = static_cast<const uint8_t*>(w.data);
  for (int64_t r = r0; r < r1; r += RM) {
    const uint8_t* rows[RM];
    const int valid = static_cast<int>(std::min<int64_t>(RM, r1 - r));
    for (int i = 0; i < RM; ++i) rows[i] = base + (r + std::min(i, valid - 1)) * w.row_bytes;
    if (r + 2 * RM < r1) {  // prefetch rows two tiles ahead
      const uint8_t* pf = base + (r + 2 * RM) * w.row_bytes;
      const int64_t bytes =
          std::min<int64_t>(RM, r1 - r - 2 * RM) * static_cast<int64_t>(w.row_bytes);
      for (int64_t k = 0; k < bytes; k += 64)
        _mm_prefetch(reinterpret_cast<const char*>(pf + k), _MM_HINT_T0);
    }
    alignas(32) float out[8];  // [RM][RN] f32 tile result
    TileFloat<K, RM, RN>(rows, a, t, out);
    for (int j = 0; j < RN; ++j)
      for (int i = 0; i < valid; ++i) y[(t + j) * w.rows + r + i] = out[i * RN + j];
  }
}

template <FloatKind K>
void MatMulFloat(const WeightView& w, const PackedActs& a, int64_t r0, int64_t r1, int64_t t0,
                 int64_t t1, float* y) {
  int64_t t = t0;
  for (; t + 4 <= t1; t += 4) RowSweepFloat<K, 2, 4>(w, a, r0, r1, t, y);
  for (; t + 2 <= t1; t += 2) RowSweepFloat<K, 4, 2>(w, a, r0, r1, t, y);
  for (; t < t1; ++t) RowSweepFloat<K, 8, 1>(w, a, r0, r1, t, y);
}

}  // namespace

void FillFloatAvx2(KernelSet* ks) {
  using quant::DType;
  ks->tile[static_cast<int>(DType::kF32)] = MatMulFloat<FloatKind::kF32>;
  ks->tile[static_cast<int>(DType::kF16)] = MatMulFloat<FloatKind::kF16>;
  ks->tile[static_cast<int>(DType::kBF16)] = MatMulFloat<FloatKind::kBF16>;
}

}  // namespace semantic::kernels::cpu
