// AVX-512 VNNI instantiation of the 32-element block kernels (vpdpbusd on 256-bit vectors).
#include "kernels/cpu/q32_token_lanes.inc.h"

namespace semantic::kernels::cpu {

void FillQ32Avx512(KernelSet* ks) {
  FillQ32(ks);
  FillQ32Lanes(ks);
}

}  // namespace semantic::kernels::cpu
