// Tensor dump implementation (SEMANTIC_DUMP_DIR=dir also writes each tensor as raw f32).
#include "models/debug_dump.h"

#include <cstdio>
#include <cstdlib>

namespace semantic::models {

bool DumpEnabled() {
  static const bool enabled = [] {
    const char* v = std::getenv("SEMANTIC_DUMP_TENSORS");
    return v && *v && *v != '0';
  }();
  return enabled;
}

void DumpTensor(const char* name, int layer, const float* data, int64_t n) {
  if (!DumpEnabled()) return;
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += data[i];
  std::fprintf(stderr, "[dump] %s-%d n=%lld sum=%.6f first=[%.6f %.6f %.6f]\n", name, layer,
               static_cast<long long>(n), sum, n > 0 ? data[0] : 0.0f, n > 1 ? data[1] : 0.0f,
               n > 2 ? data[2] : 0.0f);
  if (const char* dir = std::getenv("SEMANTIC_DUMP_DIR"); dir && *dir) {
    char path[1024];
    std::snprintf(path, sizeof(path), "%s/%s-%d.f32", dir, name, layer);
    if (FILE* f = std::fopen(path, "wb")) {
      std::fwrite(data, sizeof(float), static_cast<size_t>(n), f);
      std::fclose(f);
    }
  }
}

}  // namespace semantic::models
