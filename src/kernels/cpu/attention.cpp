// Dispatch for paged attention: AVX2/F16C (f16 K/V) or AVX2 / AVX-512 VNNI (q8_0, q4_0 K/V)
// when the CPU has it and the shape fits, else scalar.
#include "kernels/attention.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "kernels/cpu/kernel_set.h"

namespace semantic::kernels {
namespace cpu {
void AttendGroupAvx2(const PagedHeadKv& kv, const float* q, int n_q, int n_pos, float scale,
                     float* scratch, float* out, float* partial_m, float* partial_l);
void AttendGroupQuantizedAvx2(const PagedHeadKv& kv, const float* q, int n_q, int n_pos,
                              float scale, float* scratch, float* out, float* partial_m,
                              float* partial_l);
void AttendGroupQuantizedAvx512(const PagedHeadKv& kv, const float* q, int n_q, int n_pos,
                                float scale, float* scratch, float* out, float* partial_m,
                                float* partial_l);
}  // namespace cpu

namespace {
bool UseAvx2() {
  static const bool use = [] {
    const char* env = std::getenv("SEMANTIC_KERNELS");
    if (env && std::strcmp(env, "scalar") == 0) return false;
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
           __builtin_cpu_supports("f16c");
  }();
  return use;
}

using Kernel = void (*)(const PagedHeadKv& kv, const float* q, int n_q, int n_pos, float scale,
                        float* scratch, float* out, float* partial_m, float* partial_l);

// The SIMD kernel for this dtype and shape, or nullptr (use the reference).
Kernel FastKernel(const PagedHeadKv& kv, int n_q) {
  if (!UseAvx2() || kv.head_dim > 512 || n_q > 16) return nullptr;
  if (kv.dtype == KvDtype::kF16) return kv.head_dim % 8 == 0 ? cpu::AttendGroupAvx2 : nullptr;
  if (kv.head_dim % 32 != 0) return nullptr;
  static const bool avx512 = [] {
    const cpu::KernelSet* ks = cpu::ActiveKernelSet();
    return ks != nullptr && std::strcmp(ks->name, "avx512") == 0;
  }();
  return avx512 ? cpu::AttendGroupQuantizedAvx512 : cpu::AttendGroupQuantizedAvx2;
}

// Runs a SIMD kernel, with q rotated into the cache's space and the output rotated back for the
// quantized dtypes (kv_dtype.h).
void RunFast(Kernel k, const PagedHeadKv& kv, const float* q, int n_q, int n_pos, float scale,
             float* scratch, float* out, float* m, float* l) {
  const KvRotation rot = KvRotationFor(kv.dtype, kv.head_dim);
  if (rot.k == 0) return k(kv, q, n_q, n_pos, scale, scratch, out, m, l);
  const int n = n_q * kv.head_dim;
  float q_rot[16 * 512];  // [n_q][head_dim]; FastKernel bounds both
  std::copy(q, q + n, q_rot);
  HadamardRotate(q_rot, n, rot.k);
  k(kv, q_rot, n_q, n_pos, scale, scratch, out, m, l);
  HadamardRotate(out, n, rot.v);
}

}  // namespace

void AttendGroup(const PagedHeadKv& kv, const float* q, int n_q, int n_pos, float scale,
                 float* scratch, float* out) {
  if (Kernel k = FastKernel(kv, n_q)) {
    RunFast(k, kv, q, n_q, n_pos, scale, scratch, out, nullptr, nullptr);
  } else {
    ref::AttendGroup(kv, q, n_q, n_pos, scale, scratch, out);
  }
}

void AttendGroupPartial(const PagedHeadKv& kv, const float* q, int n_q, int n_pos, float scale,
                        float* scratch, float* out, float* m, float* l) {
  if (Kernel k = FastKernel(kv, n_q)) {
    RunFast(k, kv, q, n_q, n_pos, scale, scratch, out, m, l);
  } else {
    ref::AttendGroupPartial(kv, q, n_q, n_pos, scale, scratch, out, m, l);
  }
}

}  // namespace semantic::kernels
