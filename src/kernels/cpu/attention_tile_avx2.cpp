// AVX2 + F16C instantiation of the tiled prefill attention kernel over f16 K/V.
#include "kernels/cpu/attention_tile.inc.h"

namespace semantic::kernels::cpu {

void AttendTileAvx2(const PagedHeadKv& kv, const QueryTile& tile, float scale, float* scratch) {
  AttendTileF16(kv, tile, scale, scratch);
}

}  // namespace semantic::kernels::cpu
