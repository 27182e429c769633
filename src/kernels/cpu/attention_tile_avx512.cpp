// AVX-512VL instantiation of the tiled prefill attention kernel over f16 K/V: the same 256-bit
// arithmetic as the AVX2 build, with 32 vector registers for larger register blocks.
#include "kernels/cpu/attention_tile.inc.h"

namespace semantic::kernels::cpu {

void AttendTileAvx512(const PagedHeadKv& kv, const QueryTile& tile, float scale, float* scratch) {
  AttendTileF16(kv, tile, scale, scratch);
}

}  // namespace semantic::kernels::cpu
