// Interleaved copies of weight matrices for the CPU kernels that read WeightView::packed.
// Models pack their matmul weights once at load; a matrix whose type the active kernel set has
// no packed kernels for (or any matrix under SEMANTIC_PACKED_WEIGHTS=0) is left as it is.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <memory>
#include <vector>

#include "kernels/ops.h"

namespace semantic::kernels {

class PackedWeights {
 public:
  // Packing runs on `pool` when given (the model's compute threads, idle during load).
  explicit PackedWeights(ThreadPool* pool = nullptr) : pool_(pool) {}

  // Copies *w into the packed layout and points w->packed at the copy (owned here), when the
  // active CPU kernel set has packed kernels for w->type; otherwise (or when w is packed
  // already) leaves *w unchanged.
  void Pack(WeightView* w);
  size_t bytes() const { return bytes_; }  // bytes held by all copies

 private:
  struct Free {
    void operator()(uint8_t* p) const { std::free(p); }
  };
  ThreadPool* pool_;
  std::vector<std::unique_ptr<uint8_t, Free>> bufs_;
  size_t bytes_ = 0;
};

}  // namespace semantic::kernels
