// AVX2 tile for MXFP4 weights x Q8_0 activations: per 32-element block, the nibbles become GGML's
// doubled E2M1 values (one byte shuffle), an integer dot with the activation quants (maddubs on
// |w| and sign-adjusted x, then madd to i32), scaled by E8M0ToFp32Half(e) * d_x in f32.
#include <immintrin.h>

#include <algorithm>

#include "kernels/cpu/kernel_set.h"
#include "kernels/cpu/simd_x86.h"
#include "quant/blocks.h"

namespace semantic::kernels::cpu {
namespace {

// One token against rows [r0, r1), four rows at a time so each activation block is loaded once.
void MatMulMxfp4(const WeightView& w, const PackedActs& a, int64_t r0, int64_t r1, int64_t t0,
                 int64_t t1, float* y) {
  constexpr int kBytes = sizeof(quant::BlockMXFP4);
  const __m256i table = _mm256_setr_epi8(0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12,
                                         0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12);
  const __m256i ones = _mm256_set1_epi16(1);
  const auto* wd = static_cast<const uint8_t*>(w.data);
  for (int64_t t = t0; t < t1; ++t) {
    const int8_t* xq = a.qs + t * a.qs_stride;
    for (int64_t r = r0; r < r1; r += 4) {
      const int n_rows = static_cast<int>(std::min<int64_t>(4, r1 - r));
      __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),
                       _mm256_setzero_ps()};
      for (int64_t b = 0; b < a.nb; ++b) {
        const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xq + b * 32));
        const float dx = a.d[b * a.n_tok_pad + t];
        for (int i = 0; i < n_rows; ++i) {
          const uint8_t* blk = wd + (r + i) * w.row_bytes + b * kBytes;
          const __m256i wq = _mm256_shuffle_epi8(table, LoadNibbles32(blk + 1));
          const __m256i p16 =
              _mm256_maddubs_epi16(_mm256_sign_epi8(wq, wq), _mm256_sign_epi8(x, wq));
          const __m256 p = _mm256_cvtepi32_ps(_mm256_madd_epi16(p16, ones));
          acc[i] = _mm256_fmadd_ps(p, _mm256_set1_ps(quant::E8M0ToFp32Half(blk[0]) * dx), acc[i]);
        }
      }
      for (int i = 0; i < n_rows; ++i) y[t * w.rows + r + i] = HorizontalSum(acc[i]);
    }
  }
}

}  // namespace

void FillMxfp4Avx2(KernelSet* ks) {
  ks->tile[static_cast<int>(quant::DType::kMXFP4)] = MatMulMxfp4;
}

}  // namespace semantic::kernels::cpu
