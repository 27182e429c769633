// AVX-512 VNNI kernels over packed weights (q32_packed.inc.h) for the avx512 kernel set.
#include "kernels/cpu/q32_packed.inc.h"

namespace semantic::kernels::cpu {

void FillQ32PackedAvx512(KernelSet* ks) {
  ks->tile_packed[static_cast<int>(quant::DType::kQ4_0)] = MatMulPacked<PackedQ4_0>;
  ks->tile_packed[static_cast<int>(quant::DType::kQ4_1)] = MatMulPacked<PackedQ4_1>;
  ks->tile_packed[static_cast<int>(quant::DType::kQ8_0)] = MatMulPacked<PackedQ8_0>;
  ks->packed_max_tokens = int64_t{1} << 40;
}

}  // namespace semantic::kernels::cpu
