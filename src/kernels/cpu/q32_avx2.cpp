// AVX2 instantiation of the 32-element block kernels (maddubs + madd int8 dot products).
#include "kernels/cpu/q32_token_lanes.inc.h"

namespace semantic::kernels::cpu {

void FillQ32PackedAvx2(KernelSet* ks);  // q32_packed_avx2.cpp

void FillQ32Avx2(KernelSet* ks) {
  FillQ32(ks);
  FillQ32Lanes(ks);
  FillQ32PackedAvx2(ks);
}

}  // namespace semantic::kernels::cpu
