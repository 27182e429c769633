// AVX-512 VNNI instantiation of the q8_0 / q4_0 paged-attention kernel (vpdpbusd on 256-bit
// vectors, 32 vector registers).
#include "kernels/cpu/attention_q.inc.h"

namespace semantic::kernels::cpu {

void AttendGroupQuantizedAvx512(const PagedHeadKv& kv, const float* q, int n_q, int n_pos,
                                float scale, float* scratch, float* out, float* partial_m,
                                float* partial_l) {
  AttendGroupQuantized(kv, q, n_q, n_pos, scale, scratch, out, partial_m, partial_l);
}

}  // namespace semantic::kernels::cpu
