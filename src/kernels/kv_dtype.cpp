// Writing K/V rows in the cache's element type (the reading side is kernels/attention.h).
#include "kernels/kv_dtype.h"

#include <cmath>
#include <vector>

#include "base/check.h"
#include "kernels/ops.h"
#include "quant/blocks.h"
#include "quant/quantize.h"

namespace semantic::kernels {

KvRotation KvRotationFor(KvDtype t, int head_dim) {
  if (t == KvDtype::kF16 || head_dim <= 0 || head_dim % 64 != 0) return {};
  int k = 64;
  while (head_dim % (2 * k) == 0) k *= 2;
  return {k, 64};
}

void HadamardRotate(float* x, int n, int block) {
  if (block <= 0) return;
  CHECK(n % block == 0 && (block & (block - 1)) == 0);
  const float norm = 1.0f / std::sqrt(static_cast<float>(block));
  for (float* c = x; c < x + n; c += block) {
    // In-place fast Walsh-Hadamard transform: Sylvester order, H[i][j] = (-1)^popcount(i & j).
    for (int h = 1; h < block; h *= 2)
      for (int i = 0; i < block; i += 2 * h)
        for (int j = i; j < i + h; ++j) {
          const float a = c[j], b = c[j + h];
          c[j] = a + b;
          c[j + h] = a - b;
        }
    for (int i = 0; i < block; ++i) c[i] *= norm;
  }
}

void QuantizeKvRow(KvDtype t, const float* x, uint8_t* dst, int n, int rot_block) {
  thread_local std::vector<float> rotated;  // [n] f32: x rotated
  if (rot_block > 0) {
    rotated.assign(x, x + n);
    HadamardRotate(rotated.data(), n, rot_block);
    x = rotated.data();
  }
  switch (t) {
    case KvDtype::kQ8_0:
      return quant::QuantizeRowQ8_0(x, reinterpret_cast<quant::BlockQ8_0*>(dst), n);
    case KvDtype::kQ4_0:
      return quant::QuantizeRowQ4_0(x, reinterpret_cast<quant::BlockQ4_0*>(dst), n);
    default:
      return F32ToF16(x, reinterpret_cast<uint16_t*>(dst), n);
  }
}

}  // namespace semantic::kernels
