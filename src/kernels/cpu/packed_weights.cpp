// Packs weight matrices into the interleaved layout of packed_layout.h at model load.
#include "kernels/packed_weights.h"

#include <algorithm>
#include <cstring>

#include "base/check.h"
#include "base/huge_pages.h"
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
    case DType::kQ5_0:
      return 16 * 22;
    case DType::kQ5_1:
      return 16 * 24;
    case DType::kQ8_0:
      return 16 * 34;
    case DType::kQ4_K:
    case DType::kQ5_K:
    case DType::kQ6_K:
      return static_cast<size_t>(PackedKOffsets(type).bytes);
    default:
      return 0;
  }
}

int64_t PackedBlockElems(DType type) { return PackedKOffsets(type).bytes != 0 ? 256 : 32; }

size_t PackedBytes(const WeightView& w) {
  const int64_t groups = (w.rows + kPackRows - 1) / kPackRows;
  return static_cast<size_t>(groups * (w.cols / PackedBlockElems(w.type))) *
         PackedBlockBytes(w.type);
}

void PackRows(const WeightView& w, int64_t g0, int64_t g1, uint8_t* out) {
  if (PackedKOffsets(w.type).bytes != 0) return PackRowsK(w, g0, g1, out);
  const size_t bb = PackedBlockBytes(w.type);
  CHECK(bb != 0 && w.cols % 32 == 0);
  // GGUF block: f16 d (and m), Q5's 4 bytes of high bits, then the quants.
  const bool q8 = w.type == DType::kQ8_0;
  const bool q5 = w.type == DType::kQ5_0 || w.type == DType::kQ5_1;
  const int scales = w.type == DType::kQ4_1 || w.type == DType::kQ5_1 ? 2 : 1;
  const int quant_bytes = q8 ? 32 : 16, qh_bytes = q5 ? 4 : 0;
  const int quants_at = 2 * scales + qh_bytes;
  const size_t src_block = quants_at + quant_bytes;
  const int packed_quants = 16 * quant_bytes + (q5 ? 64 : 0);  // scales follow
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
          std::memcpy(q, blk + quants_at + 4 * k, 4);
          if (q8)
            for (int i = 0; i < 4; ++i) q[i] ^= 0x80;
        }
        if (q5) {  // mask g, bit 4r + j = high bit of column 4g + j
          uint32_t qh;
          std::memcpy(&qh, blk + 2 * scales, 4);
          for (int g = 0; g < 8; ++g) {
            uint64_t mask;
            uint8_t* m = dst + 16 * quant_bytes + 8 * g;
            std::memcpy(&mask, m, 8);
            mask |= static_cast<uint64_t>((qh >> (4 * g)) & 0xF) << (4 * r);
            std::memcpy(m, &mask, 8);
          }
        }
        for (int s = 0; s < scales; ++s)
          std::memcpy(dst + packed_quants + 32 * s + 2 * r, blk + 2 * s, 2);
      }
    }
  }
}

}  // namespace semantic::kernels::cpu

namespace semantic::kernels {

namespace {

// SEMANTIC_PACKED_WEIGHTS=0: matrices stay on the GGUF file's pages (for comparisons).
bool PackingOff() {
  const char* env = std::getenv("SEMANTIC_PACKED_WEIGHTS");
  return env != nullptr && std::strcmp(env, "0") == 0;
}

}  // namespace

void PackedWeights::Pack(WeightView* w) {
  const cpu::KernelSet* ks = cpu::ActiveKernelSet();
  if (w->packed != nullptr || PackingOff()) return;
  const uint32_t id = static_cast<uint32_t>(w->type);
  if (ks == nullptr || id >= cpu::kMaxTypeId || ks->tile_packed[id] == nullptr || w->rows <= 0 ||
      w->data == nullptr || cpu::PackedBlockBytes(w->type) == 0)
    return;
  const size_t bytes = cpu::PackedBytes(*w);
  uint8_t* p = Allocate(bytes);
  const int64_t groups = (w->rows + cpu::kPackRows - 1) / cpu::kPackRows;
  if (pool_ != nullptr && bytes >= (1 << 20)) {
    pool_->ParallelFor(groups, [&](int64_t g0, int64_t g1) { cpu::PackRows(*w, g0, g1, p); });
  } else {
    cpu::PackRows(*w, 0, groups, p);
  }
  bytes_ += bytes;
  w->packed = p;
}

void PackedWeights::Place(WeightView* w) {
  if (w->packed != nullptr || w->data == nullptr || w->rows <= 0 || PackingOff()) return;
  const size_t bytes = static_cast<size_t>(w->rows) * w->row_bytes;
  uint8_t* p = Allocate(bytes);
  std::memcpy(p, w->data, bytes);
  bytes_ += bytes;
  w->data = p;
}

uint8_t* PackedWeights::Allocate(size_t bytes) {
  constexpr size_t kChunk = size_t{64} << 20;
  bytes = (bytes + 63) / 64 * 64;
  if (chunks_.empty() || chunks_.back().used + bytes > chunks_.back().size) {
    // Huge pages: the kernels stream every packed byte once per decode step, and with 4 KB
    // pages that is one TLB miss per 4 KB (24K a token for SmolLM2's 96 MB).
    const size_t size = RoundUpToHugePages(std::max(kChunk, bytes));
    chunks_.push_back({MapHugePages(size), size, 0});
  }
  Chunk& c = chunks_.back();
  uint8_t* p = c.base + c.used;
  c.used += bytes;
  return p;
}

void PackedWeights::Release() {
  for (const Chunk& c : chunks_) UnmapHugePages(c.base, c.size);
  chunks_.clear();
  bytes_ = 0;
}

}  // namespace semantic::kernels
