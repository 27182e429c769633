// Block geometry table for GGML types.
#include "quant/types.h"

namespace semantic::quant {

const DTypeInfo* GetDTypeInfo(uint32_t id) {
  static const DTypeInfo kTable[] = {
      {"F32", 1, 4},       {"F16", 1, 2},       {"Q4_0", 32, 18},   {"Q4_1", 32, 20},
      {"", 0, 0},          {"", 0, 0},          {"Q5_0", 32, 22},   {"Q5_1", 32, 24},
      {"Q8_0", 32, 34},    {"Q8_1", 32, 36},    {"Q2_K", 256, 84},  {"Q3_K", 256, 110},
      {"Q4_K", 256, 144},  {"Q5_K", 256, 176},  {"Q6_K", 256, 210}, {"Q8_K", 256, 292},
      {"IQ2_XXS", 256, 66}, {"IQ2_XS", 256, 74}, {"IQ3_XXS", 256, 98}, {"IQ1_S", 256, 50},
      {"IQ4_NL", 32, 18},  {"IQ3_S", 256, 110}, {"IQ2_S", 256, 82}, {"IQ4_XS", 256, 136},
      {"I8", 1, 1},        {"I16", 1, 2},       {"I32", 1, 4},      {"I64", 1, 8},
      {"F64", 1, 8},       {"IQ1_M", 256, 56},  {"BF16", 1, 2},     {"", 0, 0},
      {"", 0, 0},          {"", 0, 0},          {"TQ1_0", 256, 54}, {"TQ2_0", 256, 66},
      {"", 0, 0},          {"", 0, 0},          {"", 0, 0},         {"MXFP4", 32, 17},
  };
  if (id >= sizeof(kTable) / sizeof(kTable[0]) || kTable[id].block_elems == 0) return nullptr;
  return &kTable[id];
}

bool IsSupportedWeightType(DType t) {
  switch (t) {
    case DType::kF32: case DType::kF16: case DType::kBF16: case DType::kQ4_0: case DType::kQ4_1:
    case DType::kQ5_0: case DType::kQ5_1: case DType::kQ8_0: case DType::kQ4_K: case DType::kQ5_K:
    case DType::kQ6_K: case DType::kIQ4_NL: case DType::kMXFP4:
      return true;
    default:
      return false;
  }
}

DType ActivationType(DType t) {
  switch (t) {
    case DType::kQ4_0: case DType::kQ5_0: case DType::kQ8_0: case DType::kIQ4_NL:
    case DType::kMXFP4:
      return DType::kQ8_0;
    case DType::kQ4_1: case DType::kQ5_1:
      return DType::kQ8_1;
    case DType::kQ4_K: case DType::kQ5_K: case DType::kQ6_K:
      return DType::kQ8_K;
    case DType::kF16: case DType::kBF16:
      return t;
    default:
      return DType::kF32;
  }
}

}  // namespace semantic::quant
