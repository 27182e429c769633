// Scalar dequantization per GGUF block type; follows the layouts documented in quant/blocks.h.
#include "quant/dequantize.h"

#include <cstring>

#include "base/check.h"
#include "base/fp16.h"
#include "quant/blocks.h"

namespace semantic::quant {
namespace {

// Blocks are read through memcpy: GGUF rows of 18/20/22-byte blocks are not naturally aligned.
template <typename Block>
Block LoadBlock(const uint8_t* p, int64_t i) {
  Block b;
  std::memcpy(&b, p + i * static_cast<int64_t>(sizeof(Block)), sizeof(Block));
  return b;
}

void DequantQ4_0(const uint8_t* src, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += kQK) {
    const auto b = LoadBlock<BlockQ4_0>(src, i);
    const float d = Fp16ToFp32(b.d);
    for (int j = 0; j < kQK / 2; ++j) {
      y[j] = static_cast<float>((b.qs[j] & 0xF) - 8) * d;
      y[j + kQK / 2] = static_cast<float>((b.qs[j] >> 4) - 8) * d;
    }
  }
}

void DequantQ4_1(const uint8_t* src, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += kQK) {
    const auto b = LoadBlock<BlockQ4_1>(src, i);
    const float d = Fp16ToFp32(b.d), m = Fp16ToFp32(b.m);
    for (int j = 0; j < kQK / 2; ++j) {
      y[j] = static_cast<float>(b.qs[j] & 0xF) * d + m;
      y[j + kQK / 2] = static_cast<float>(b.qs[j] >> 4) * d + m;
    }
  }
}

void DequantQ5_0(const uint8_t* src, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += kQK) {
    const auto b = LoadBlock<BlockQ5_0>(src, i);
    const float d = Fp16ToFp32(b.d);
    uint32_t qh;
    std::memcpy(&qh, b.qh, 4);
    for (int j = 0; j < kQK / 2; ++j) {
      const int hi0 = (qh >> j) & 1, hi1 = (qh >> (j + 16)) & 1;
      y[j] = static_cast<float>(((b.qs[j] & 0xF) | (hi0 << 4)) - 16) * d;
      y[j + kQK / 2] = static_cast<float>(((b.qs[j] >> 4) | (hi1 << 4)) - 16) * d;
    }
  }
}

void DequantQ5_1(const uint8_t* src, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += kQK) {
    const auto b = LoadBlock<BlockQ5_1>(src, i);
    const float d = Fp16ToFp32(b.d), m = Fp16ToFp32(b.m);
    uint32_t qh;
    std::memcpy(&qh, b.qh, 4);
    for (int j = 0; j < kQK / 2; ++j) {
      const int hi0 = (qh >> j) & 1, hi1 = (qh >> (j + 16)) & 1;
      y[j] = static_cast<float>((b.qs[j] & 0xF) | (hi0 << 4)) * d + m;
      y[j + kQK / 2] = static_cast<float>((b.qs[j] >> 4) | (hi1 << 4)) * d + m;
    }
  }
}

void DequantQ8_0(const uint8_t* src, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += kQK) {
    const auto b = LoadBlock<BlockQ8_0>(src, i);
    const float d = Fp16ToFp32(b.d);
    for (int j = 0; j < kQK; ++j) y[j] = static_cast<float>(b.qs[j]) * d;
  }
}

void DequantIQ4_NL(const uint8_t* src, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += kQK) {
    const auto b = LoadBlock<BlockIQ4_NL>(src, i);
    const float d = Fp16ToFp32(b.d);
    for (int j = 0; j < kQK / 2; ++j) {
      y[j] = static_cast<float>(kIq4nlValues[b.qs[j] & 0xF]) * d;
      y[j + kQK / 2] = static_cast<float>(kIq4nlValues[b.qs[j] >> 4]) * d;
    }
  }
}

void DequantMXFP4(const uint8_t* src, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += kQK) {
    const auto b = LoadBlock<BlockMXFP4>(src, i);
    const float d = E8M0ToFp32Half(b.e);
    for (int j = 0; j < kQK / 2; ++j) {
      y[j] = static_cast<float>(kMxfp4Values[b.qs[j] & 0xF]) * d;
      y[j + kQK / 2] = static_cast<float>(kMxfp4Values[b.qs[j] >> 4]) * d;
    }
  }
}

void DequantQ4_K(const uint8_t* src, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i) {
    const auto b = LoadBlock<BlockQ4_K>(src, i);
    const float d = Fp16ToFp32(b.d), dmin = Fp16ToFp32(b.dmin);
    for (int c = 0; c < 4; ++c, y += 64) {
      uint8_t sc0, m0, sc1, m1;
      UnpackScaleMinK4(b.scales, 2 * c, &sc0, &m0);
      UnpackScaleMinK4(b.scales, 2 * c + 1, &sc1, &m1);
      const float d0 = d * sc0, dm0 = dmin * m0, d1 = d * sc1, dm1 = dmin * m1;
      const uint8_t* q = b.qs + 32 * c;
      for (int l = 0; l < 32; ++l) {
        y[l] = d0 * static_cast<float>(q[l] & 0xF) - dm0;
        y[l + 32] = d1 * static_cast<float>(q[l] >> 4) - dm1;
      }
    }
  }
}

void DequantQ5_K(const uint8_t* src, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i) {
    const auto b = LoadBlock<BlockQ5_K>(src, i);
    const float d = Fp16ToFp32(b.d), dmin = Fp16ToFp32(b.dmin);
    for (int c = 0; c < 4; ++c, y += 64) {
      uint8_t sc0, m0, sc1, m1;
      UnpackScaleMinK4(b.scales, 2 * c, &sc0, &m0);
      UnpackScaleMinK4(b.scales, 2 * c + 1, &sc1, &m1);
      const float d0 = d * sc0, dm0 = dmin * m0, d1 = d * sc1, dm1 = dmin * m1;
      const uint8_t* q = b.qs + 32 * c;
      for (int l = 0; l < 32; ++l) {
        const int h0 = (b.qh[l] >> (2 * c)) & 1, h1 = (b.qh[l] >> (2 * c + 1)) & 1;
        y[l] = d0 * static_cast<float>((q[l] & 0xF) | (h0 << 4)) - dm0;
        y[l + 32] = d1 * static_cast<float>((q[l] >> 4) | (h1 << 4)) - dm1;
      }
    }
  }
}

void DequantQ6_K(const uint8_t* src, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i) {
    const auto b = LoadBlock<BlockQ6_K>(src, i);
    const float d = Fp16ToFp32(b.d);
    for (int h = 0; h < 2; ++h, y += 128) {
      const uint8_t* ql = b.ql + 64 * h;
      const uint8_t* qh = b.qh + 32 * h;
      const int8_t* sc = b.scales + 8 * h;
      for (int l = 0; l < 32; ++l) {
        const int s = l / 16;
        const int q0 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
        const int q1 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
        const int q2 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
        const int q3 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
        y[l] = d * static_cast<float>(sc[s + 0]) * static_cast<float>(q0);
        y[l + 32] = d * static_cast<float>(sc[s + 2]) * static_cast<float>(q1);
        y[l + 64] = d * static_cast<float>(sc[s + 4]) * static_cast<float>(q2);
        y[l + 96] = d * static_cast<float>(sc[s + 6]) * static_cast<float>(q3);
      }
    }
  }
}

}  // namespace

void DequantizeRowRef(DType type, const void* src_v, float* dst, int64_t n) {
  const auto* src = static_cast<const uint8_t*>(src_v);
  const DTypeInfo* info = GetDTypeInfo(type);
  CHECK(info != nullptr && n % info->block_elems == 0);
  const int64_t nb = n / info->block_elems;
  switch (type) {
    case DType::kF32:
      std::memcpy(dst, src, static_cast<size_t>(n) * 4);
      return;
    case DType::kF16:
      for (int64_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, src + 2 * i, 2);
        dst[i] = Fp16ToFp32(h);
      }
      return;
    case DType::kBF16:
      for (int64_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, src + 2 * i, 2);
        dst[i] = Bf16ToFp32(h);
      }
      return;
    case DType::kQ4_0:
      return DequantQ4_0(src, dst, nb);
    case DType::kQ4_1:
      return DequantQ4_1(src, dst, nb);
    case DType::kQ5_0:
      return DequantQ5_0(src, dst, nb);
    case DType::kQ5_1:
      return DequantQ5_1(src, dst, nb);
    case DType::kQ8_0:
      return DequantQ8_0(src, dst, nb);
    case DType::kIQ4_NL:
      return DequantIQ4_NL(src, dst, nb);
    case DType::kMXFP4:
      return DequantMXFP4(src, dst, nb);
    case DType::kQ4_K:
      return DequantQ4_K(src, dst, nb);
    case DType::kQ5_K:
      return DequantQ5_K(src, dst, nb);
    case DType::kQ6_K:
      return DequantQ6_K(src, dst, nb);
    default:
      CHECK(false && "DequantizeRowRef: unsupported type");
  }
}

}  // namespace semantic::quant
