// AVX2 instantiation of the K-quant kernels (maddubs + madd by sub-block scale).
#include "kernels/cpu/qk_kernels.inc.h"

namespace semantic::kernels::cpu {

void FillQKAvx2(KernelSet* ks) { FillK(ks); }

}  // namespace semantic::kernels::cpu
