// Writing K/V rows in the cache's element type (the reading side is kernels/attention.h).
#include "kernels/kv_dtype.h"

#include "quant/blocks.h"
#include "quant/quantize.h"

namespace semantic::kernels {

void QuantizeKvRow(KvDtype t, const float* x, uint8_t* dst, int n) {
  switch (t) {
    case KvDtype::kQ8_0:
      return quant::QuantizeRowQ8_0(x, reinterpret_cast<quant::BlockQ8_0*>(dst), n);
    case KvDtype::kQ4_0:
      return quant::QuantizeRowQ4_0(x, reinterpret_cast<quant::BlockQ4_0*>(dst), n);
    default:
      return quant::QuantizeRowF16(x, reinterpret_cast<uint16_t*>(dst), n);
  }
}

}  // namespace semantic::kernels
