// Packs weight matrices into the interleaved layout of packed_layout.h at model load.
#include "kernels/packed_weights.h"

#include <cstring>

#include "base/check.h"
#include "kernels/cpu/kernel_set.h"
#include "kernels/cpu/packed_layout.h"

namespace semantic::kernels::cpu {

using quant::DType;

size_t PackedBlockBytes(DType type) {
  switch (type) {
    case DType::kQ4_0:
      return 16 * 18;
    case DType::kQ4_1:
      return 16 * 20;
    case DType::kQ8_0:
      return 16 * 34;
    default:
      return 0;
  }
}

size_t PackedBytes(const WeightView& w) {
  const int64_t groups = (w.rows + kPackRows - 1) / kPackRows;
  return static_cast<size_t>(groups * (w.cols / 32)) * PackedBlockBytes(w.type);
}

void PackRows(const WeightView& w, int64_t g0, int64_t g1, uint8_t* out) {
  const size_t bb = PackedBlockBytes(w.type);
  CHECK(bb != 0 && w.cols % 32 == 0);
  const bool q8 = w.type == DType::kQ8_0;
  const int scales = w.type == DType::kQ4_1 ? 2 : 1;  // f16 d (and m) before the quants
  const int quant_bytes = q8 ? 32 : 16;
  const size_t src_block = 2 * scales + quant_bytes;
  const int64_t nb = w.cols / 32;
  const auto* src = static_cast<const uint8_t*>(w.data);
  std::memset(out + g0 * nb * bb, 0, (g1 - g0) * nb * bb);  // padding rows: zero quants, scales
  for (int64_t g = g0; g < g1; ++g) {
    for (int64_t b = 0; b < nb; ++b) {
      uint8_t* dst = out + (g * nb + b) * bb;
      for (int r = 0; r < kPackRows && g * kPackRows + r < w.rows; ++r) {
        const uint8_t* blk = src + (g * kPackRows + r) * w.row_bytes + b * src_block;
        for (int k = 0; k < quant_bytes / 4; ++k) {
          uint8_t* q = dst + 64 * k + 4 * r;
          std::memcpy(q, blk + 2 * scales + 4 * k, 4);
          if (q8)
            for (int i = 0; i < 4; ++i) q[i] ^= 0x80;
        }
        for (int s = 0; s < scales; ++s)
          std::memcpy(dst + 16 * quant_bytes + 32 * s + 2 * r, blk + 2 * s, 2);
      }
    }
  }
}

}  // namespace semantic::kernels::cpu

namespace semantic::kernels {

void PackedWeights::Pack(WeightView* w) {
  const cpu::KernelSet* ks = cpu::ActiveKernelSet();
  const char* env = std::getenv("SEMANTIC_PACKED_WEIGHTS");
  if (w->packed != nullptr || (env != nullptr && std::strcmp(env, "0") == 0)) return;
  const uint32_t id = static_cast<uint32_t>(w->type);
  if (ks == nullptr || id >= cpu::kMaxTypeId || ks->tile_packed[id] == nullptr || w->rows <= 0 ||
      w->data == nullptr || cpu::PackedBlockBytes(w->type) == 0)
    return;
  const size_t bytes = cpu::PackedBytes(*w);
  auto* p = static_cast<uint8_t*>(std::aligned_alloc(64, (bytes + 63) / 64 * 64));
  CHECK(p != nullptr);
  const int64_t groups = (w->rows + cpu::kPackRows - 1) / cpu::kPackRows;
  if (pool_ != nullptr && bytes >= (1 << 20)) {
    pool_->ParallelFor(groups, [&](int64_t g0, int64_t g1) { cpu::PackRows(*w, g0, g1, p); });
  } else {
    cpu::PackRows(*w, 0, groups, p);
  }
  bufs_.emplace_back(p);
  bytes_ += bytes;
  w->packed = p;
}

}  // namespace semantic::kernels
