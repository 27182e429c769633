// AVX-512 VNNI instantiation of the K-quant kernels (maddubs + vpdpwssd).
#include "kernels/cpu/qk_kernels.inc.h"

namespace semantic::kernels::cpu {

void FillQKAvx512(KernelSet* ks) { FillK(ks); }

}  // namespace semantic::kernels::cpu
