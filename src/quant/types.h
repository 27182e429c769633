// GGML tensor element types (ids as in GGUF files) and their block geometry.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace semantic::quant {

enum class DType : uint32_t {
  kF32 = 0, kF16 = 1, kQ4_0 = 2, kQ4_1 = 3, kQ5_0 = 6, kQ5_1 = 7, kQ8_0 = 8, kQ8_1 = 9,
  kQ2_K = 10, kQ3_K = 11, kQ4_K = 12, kQ5_K = 13, kQ6_K = 14, kQ8_K = 15,
  kIQ2_XXS = 16, kIQ2_XS = 17, kIQ3_XXS = 18, kIQ1_S = 19, kIQ4_NL = 20, kIQ3_S = 21,
  kIQ2_S = 22, kIQ4_XS = 23, kI8 = 24, kI16 = 25, kI32 = 26, kI64 = 27, kF64 = 28, kIQ1_M = 29,
  kBF16 = 30, kTQ1_0 = 34, kTQ2_0 = 35, kMXFP4 = 39,
};

struct DTypeInfo {
  std::string_view name;
  int64_t block_elems;  // elements per block (1 for plain types)
  int64_t block_bytes;  // bytes per block
};

// Geometry of a known type; nullptr for ids that are not GGML types at all.
const DTypeInfo* GetDTypeInfo(uint32_t type_id);
inline const DTypeInfo* GetDTypeInfo(DType t) { return GetDTypeInfo(static_cast<uint32_t>(t)); }

// Bytes of one row of n elements (n must be a multiple of block_elems).
inline size_t RowBytes(DType t, int64_t n) {
  const DTypeInfo* info = GetDTypeInfo(t);
  return static_cast<size_t>(n / info->block_elems * info->block_bytes);
}

// Whether the engine can compute with weights of this type (dequantize + matmul).
bool IsSupportedWeightType(DType t);

// The format a matmul quantizes its activations to for weights of type `t` (GGML's vec_dot_type):
// Q8_0 for Q4_0/Q5_0/Q8_0/IQ4_NL/MXFP4, Q8_1 for Q4_1/Q5_1, Q8_K for K-quants, F16/BF16/F32 for the
// float types (activations rounded to that type). Only defined for supported weight types.
DType ActivationType(DType t);

}  // namespace semantic::quant
