// Scalar reference dequantization of one row of any supported weight type to f32 (the oracle for
// kernels and the path for embedding lookups).
#pragma once

#include <cstdint>

#include "quant/types.h"

namespace semantic::quant {

// src: RowBytes(type, n) bytes of `type` blocks (any alignment); dst: [n] f32.
// n must be a multiple of the type's block size. CHECK-fails on unsupported types.
void DequantizeRowRef(DType type, const void* src, float* dst, int64_t n);

}  // namespace semantic::quant
