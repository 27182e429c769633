// AVX-512 VNNI kernel table: overrides the AVX2 entries where VNNI / 512-bit kernels exist.
#include "kernels/cpu/kernel_set.h"

namespace semantic::kernels::cpu {

void FillQ32Avx512(KernelSet* ks);
void FillQKAvx512(KernelSet* ks);
void FillQKPackedAvx512(KernelSet* ks);

void FillKernelSetAvx512(KernelSet* ks) {
  FillQ32Avx512(ks);
  FillQKAvx512(ks);
  FillQ32PackedAvx512(ks);
  FillQKPackedAvx512(ks);
}

}  // namespace semantic::kernels::cpu
