// Element-wise kernels: dispatch to the active kernel set's vector versions, with the scalar
// definitions as the fallback (SEMANTIC_KERNELS=scalar, CPUs without AVX2).
#include <cmath>

#include "base/fp16.h"
#include "kernels/cpu/kernel_set.h"

namespace semantic::kernels {

void SiluMul(float* gate, const float* up, int64_t n) {
  const cpu::KernelSet* ks = cpu::ActiveKernelSet();
  if (ks != nullptr && ks->silu_mul != nullptr) return ks->silu_mul(gate, up, n);
  for (int64_t i = 0; i < n; ++i) {
    const float g = gate[i];
    gate[i] = g / (1.0f + std::exp(-g)) * up[i];
  }
}

void RmsNormRows(const float* x, const float* w, int64_t n_tok, int64_t n, float eps, float* out) {
  const cpu::KernelSet* ks = cpu::ActiveKernelSet();
  if (ks != nullptr && ks->rms_norm != nullptr) return ks->rms_norm(x, w, n_tok, n, eps, out);
  for (int64_t t = 0; t < n_tok; ++t) {
    const float* xr = x + t * n;
    float* o = out + t * n;
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(xr[i]) * xr[i];
    const float scale = 1.0f / std::sqrt(static_cast<float>(sum / n) + eps);
    for (int64_t i = 0; i < n; ++i) o[i] = xr[i] * scale * w[i];
  }
}

void F32ToF16(const float* x, uint16_t* y, int64_t n) {
  const cpu::KernelSet* ks = cpu::ActiveKernelSet();
  if (ks != nullptr && ks->f32_to_f16 != nullptr) return ks->f32_to_f16(x, y, n);
  for (int64_t i = 0; i < n; ++i) y[i] = Fp32ToFp16(x[i]);
}

void ExpShifted(const float* x, int64_t n, float shift, float divisor, float* y) {
  const cpu::KernelSet* ks = cpu::ActiveKernelSet();
  if (ks != nullptr && ks->exp_shifted != nullptr) return ks->exp_shifted(x, n, shift, divisor, y);
  for (int64_t i = 0; i < n; ++i) y[i] = std::exp((x[i] - shift) / divisor);
}

}  // namespace semantic::kernels
