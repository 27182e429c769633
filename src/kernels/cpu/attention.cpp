// Dispatch for paged attention: AVX2/F16C when the CPU has it and the shape fits, else scalar.
#include "kernels/attention.h"

#include <cstdlib>
#include <cstring>

namespace semantic::kernels {
namespace cpu {
void AttendGroupAvx2(const PagedHeadKv& kv, const float* q, int n_q, int n_pos, float scale,
                     float* scratch, float* out, float* partial_m, float* partial_l);
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

bool FastShape(const PagedHeadKv& kv, int n_q) {
  return UseAvx2() && kv.head_dim % 8 == 0 && kv.head_dim <= 512 && n_q <= 16;
}

}  // namespace

void AttendGroup(const PagedHeadKv& kv, const float* q, int n_q, int n_pos, float scale,
                 float* scratch, float* out) {
  if (FastShape(kv, n_q)) {
    cpu::AttendGroupAvx2(kv, q, n_q, n_pos, scale, scratch, out, nullptr, nullptr);
  } else {
    ref::AttendGroup(kv, q, n_q, n_pos, scale, scratch, out);
  }
}

void AttendGroupPartial(const PagedHeadKv& kv, const float* q, int n_q, int n_pos, float scale,
                        float* scratch, float* out, float* m, float* l) {
  if (FastShape(kv, n_q)) {
    cpu::AttendGroupAvx2(kv, q, n_q, n_pos, scale, scratch, out, m, l);
  } else {
    ref::AttendGroupPartial(kv, q, n_q, n_pos, scale, scratch, out, m, l);
  }
}

}  // namespace semantic::kernels
