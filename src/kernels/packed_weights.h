// Interleaved copies of weight matrices for the CPU kernels that read WeightView::packed.
// Models pack their matmul weights once at load; a matrix whose type the active kernel set has
// no packed kernels for (or any matrix under SEMANTIC_PACKED_WEIGHTS=0) is left as it is.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "kernels/ops.h"

namespace semantic::kernels {

class PackedWeights {
 public:
  // Packing runs on `pool` when given (the model's compute threads, idle during load).
  explicit PackedWeights(ThreadPool* pool = nullptr) : pool_(pool) {}
  ~PackedWeights() { Release(); }
  PackedWeights(const PackedWeights&) = delete;
  PackedWeights& operator=(const PackedWeights&) = delete;
  // Moving keeps the copies where they are (WeightView::packed pointers stay valid).
  PackedWeights(PackedWeights&& o) noexcept
      : pool_(o.pool_), chunks_(std::move(o.chunks_)), bytes_(o.bytes_) {
    o.chunks_.clear();
    o.bytes_ = 0;
  }
  PackedWeights& operator=(PackedWeights&& o) noexcept {
    if (this != &o) {
      Release();
      pool_ = o.pool_;
      chunks_ = std::move(o.chunks_);
      bytes_ = o.bytes_;
      o.chunks_.clear();
      o.bytes_ = 0;
    }
    return *this;
  }

  // Copies *w into the packed layout and points w->packed at the copy (owned here), when the
  // active CPU kernel set has packed kernels for w->type; otherwise (or when w is packed
  // already) leaves *w unchanged.
  void Pack(WeightView* w);
  // For a matrix Pack left in the GGUF layout: copies its bytes into the same huge-page chunks
  // and points w->data at the copy (same bytes, so every reader of w->data is unaffected).
  // No-op under SEMANTIC_PACKED_WEIGHTS=0 or for a packed or empty matrix.
  void Place(WeightView* w);
  size_t bytes() const { return bytes_; }  // bytes held by all copies

 private:
  // The copies live in 64 MB (or larger) chunks of 2 MB-aligned memory, 64-byte aligned each.
  struct Chunk {
    uint8_t* base;
    size_t size, used;
  };
  uint8_t* Allocate(size_t bytes);
  void Release();  // unmaps the chunks
  ThreadPool* pool_;
  std::vector<Chunk> chunks_;
  size_t bytes_ = 0;
};

}  // namespace semantic::kernels
