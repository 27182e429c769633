// AVX2 kernel table (FMA, F16C): collects the entries implemented by the *_avx2.cpp files.
#include "kernels/cpu/kernel_set.h"

namespace semantic::kernels::cpu {

void FillActQuantAvx2(KernelSet* ks);
void FillQ32Avx2(KernelSet* ks);
void FillQKAvx2(KernelSet* ks);
void FillFloatAvx2(KernelSet* ks);
void FillElementwiseAvx2(KernelSet* ks);
void FillMxfp4Avx2(KernelSet* ks);

void FillKernelSetAvx2(KernelSet* ks) {
  FillActQuantAvx2(ks);
  FillQ32Avx2(ks);
  FillQKAvx2(ks);
  FillFloatAvx2(ks);
  FillElementwiseAvx2(ks);
  FillMxfp4Avx2(ks);
}

}  // namespace semantic::kernels::cpu
