// Opt-in dump of intermediate tensors (SEMANTIC_DUMP_TENSORS=1): name, size and sum of each, in
// the spirit of llama.cpp's eval-callback, for layer-by-layer comparison with a reference.
#pragma once

#include <cstdint>

namespace semantic::models {

bool DumpEnabled();
void DumpTensor(const char* name, int layer, const float* data, int64_t n);

}  // namespace semantic::models
