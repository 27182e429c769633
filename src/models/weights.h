// Helpers for pulling typed weights out of a GGUF file with shape checks and clear errors.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "kernels/ops.h"
#include "kernels/packed_weights.h"
#include "loader/gguf/gguf_file.h"

namespace semantic::models {

// A 2-D matrix tensor {cols = ne[0], rows = ne[1]}; checks the shape and that the dtype is
// supported by the kernels.
Expected<kernels::WeightView> GetMatrix(const loader::GgufFile& f, const std::string& name,
                                        int64_t cols, int64_t rows);
// A 3-D tensor {cols, rows, n} (e.g. stacked experts, per-head projections) as n matrices.
Expected<std::vector<kernels::WeightView>> GetMatrixStack(const loader::GgufFile& f,
                                                          const std::string& name, int64_t cols,
                                                          int64_t rows, int64_t n);
// A 1-D tensor of n elements, dequantized to f32.
Expected<std::vector<float>> GetVector(const loader::GgufFile& f, const std::string& name,
                                       int64_t n);
bool HasTensor(const loader::GgufFile& f, const std::string& name);

// Packs *w for the CPU kernels into *store when the active kernel set runs its type packed
// (kernels/packed_weights.h), else copies its GGUF bytes onto the store's huge pages
// (PackedWeights::Place), then releases its mapped file pages (later reads, such as token
// lookups in a tied token_embd or a GPU upload, fault them back in). No-op for an empty view.
void PackMatrix(const loader::GgufFile& f, kernels::WeightView* w, kernels::PackedWeights* store);

}  // namespace semantic::models
