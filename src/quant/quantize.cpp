// Scalar activation quantizers (numerically identical to llama.cpp's x86 path; the SIMD versions
// in kernels/cpu must reproduce these bit for bit) and f32 -> weight quantizers for tests.
#include "quant/quantize.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "base/check.h"
#include "base/fp16.h"

namespace semantic::quant {
namespace {

// Round half to even for |v| < 2^22 (the magic-number trick; same result as rint/nearbyint).
inline int RoundNearestEven(float v) {
  float t = v + 12582912.f;
  int32_t i;
  std::memcpy(&i, &t, 4);
  return (i & 0x007fffff) - 0x00400000;
}

inline int Clamp(int v, int lo, int hi) { return v < lo ? lo : (v > hi ? hi : v); }

template <typename Block>
void StoreBlock(uint8_t* dst, int64_t i, const Block& b) {
  std::memcpy(dst + i * static_cast<int64_t>(sizeof(Block)), &b, sizeof(Block));
}

// Shared by Q8_0 and Q8_1: quants of one 32-block, returns the f32 (unrounded) d and sum(q).
float QuantizeBlock8(const float* x, int8_t* qs, int* sum) {
  float amax = 0.f;
  for (int j = 0; j < kQK; ++j) amax = std::fmax(amax, std::fabs(x[j]));
  const float d = amax / 127.f;
  float id = amax != 0.f ? 127.f / amax : 0.f;
  // amax below ~3.7e-37 overflows 127/amax to inf; d rounds to fp16 0 there anyway, so the
  // block contributes nothing and its quants are set to 0 (deterministic in every path).
  if (id > 3.4e38f) id = 0.f;
  int s = 0;
  for (int j = 0; j < kQK; ++j) {
    const int q = RoundNearestEven(x[j] * id);
    qs[j] = static_cast<int8_t>(q);
    s += q;
  }
  *sum = s;
  return d;
}

// --- weight quantizers (tests) ---

void QuantQ4_0(const float* x, uint8_t* dst, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += kQK) {
    float amax = 0.f, max = 0.f;
    for (int j = 0; j < kQK; ++j)
      if (std::fabs(x[j]) > amax) amax = std::fabs(x[j]), max = x[j];
    BlockQ4_0 b;
    b.d = Fp32ToFp16(max / -8.f);
    const float d = Fp16ToFp32(b.d), id = d != 0.f ? 1.f / d : 0.f;
    for (int j = 0; j < kQK / 2; ++j) {
      const int q0 = Clamp(RoundNearestEven(x[j] * id) + 8, 0, 15);
      const int q1 = Clamp(RoundNearestEven(x[j + 16] * id) + 8, 0, 15);
      b.qs[j] = static_cast<uint8_t>(q0 | (q1 << 4));
    }
    StoreBlock(dst, i, b);
  }
}

void QuantIQ4_NL(const float* x, uint8_t* dst, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += kQK) {
    float amax = 0.f;
    for (int j = 0; j < kQK; ++j) amax = std::fmax(amax, std::fabs(x[j]));
    BlockIQ4_NL b;
    b.d = Fp32ToFp16(amax / 127.f);
    const float d = Fp16ToFp32(b.d), id = d != 0.f ? 1.f / d : 0.f;
    uint8_t q[kQK];  // [32] u8 quants in element order
    for (int j = 0; j < kQK; ++j) {
      const float v = x[j] * id;
      int best = 0;
      for (int k = 1; k < 16; ++k)
        if (std::fabs(v - kIq4nlValues[k]) < std::fabs(v - kIq4nlValues[best])) best = k;
      q[j] = static_cast<uint8_t>(best);
    }
    for (int j = 0; j < kQK / 2; ++j) b.qs[j] = static_cast<uint8_t>(q[j] | (q[j + 16] << 4));
    StoreBlock(dst, i, b);
  }
}

// gguf-py's MXFP4 quantizer: e = floor(log2(amax)) - 2 + 127 (0 for an all-zero block), then the
// nearest table value (first on ties) for each element.
void QuantMXFP4(const float* x, uint8_t* dst, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += kQK) {
    float amax = 0.f;
    for (int j = 0; j < kQK; ++j) amax = std::fmax(amax, std::fabs(x[j]));
    BlockMXFP4 b;
    b.e = amax > 0.f ? static_cast<uint8_t>(Clamp(
                           static_cast<int>(std::floor(std::log2(amax))) - 2 + 127, 0, 255))
                     : 0;
    const float d = E8M0ToFp32Half(b.e);
    uint8_t q[kQK];  // [32] u8 codes in element order
    for (int j = 0; j < kQK; ++j) {
      int best = 0;
      for (int k = 1; k < 16; ++k)
        if (std::fabs(d * kMxfp4Values[k] - x[j]) < std::fabs(d * kMxfp4Values[best] - x[j]))
          best = k;
      q[j] = static_cast<uint8_t>(best);
    }
    for (int j = 0; j < kQK / 2; ++j) b.qs[j] = static_cast<uint8_t>(q[j] | (q[j + 16] << 4));
    StoreBlock(dst, i, b);
  }
}

// Affine 4/5-bit block: d = (max - min) / levels, m = min.
void AffineBlock(const float* x, int levels, uint16_t* d16, uint16_t* m16, uint8_t* q) {
  float mn = x[0], mx = x[0];
  for (int j = 1; j < kQK; ++j) mn = std::fmin(mn, x[j]), mx = std::fmax(mx, x[j]);
  *d16 = Fp32ToFp16((mx - mn) / static_cast<float>(levels));
  *m16 = Fp32ToFp16(mn);
  const float d = Fp16ToFp32(*d16), m = Fp16ToFp32(*m16), id = d != 0.f ? 1.f / d : 0.f;
  for (int j = 0; j < kQK; ++j)
    q[j] = static_cast<uint8_t>(Clamp(RoundNearestEven((x[j] - m) * id), 0, levels));
}

void QuantQ4_1(const float* x, uint8_t* dst, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += kQK) {
    BlockQ4_1 b;
    uint8_t q[kQK];  // [32] u8 quants in element order
    AffineBlock(x, 15, &b.d, &b.m, q);
    for (int j = 0; j < kQK / 2; ++j) b.qs[j] = static_cast<uint8_t>(q[j] | (q[j + 16] << 4));
    StoreBlock(dst, i, b);
  }
}

void PackQ5(const uint8_t* q, uint8_t qs[16], uint8_t qh_bytes[4]) {
  uint32_t qh = 0;
  for (int j = 0; j < kQK / 2; ++j)
    qs[j] = static_cast<uint8_t>((q[j] & 0xF) | ((q[j + 16] & 0xF) << 4));
  for (int j = 0; j < kQK; ++j) qh |= static_cast<uint32_t>(q[j] >> 4) << j;
  std::memcpy(qh_bytes, &qh, 4);
}

void QuantQ5_0(const float* x, uint8_t* dst, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += kQK) {
    float amax = 0.f, max = 0.f;
    for (int j = 0; j < kQK; ++j)
      if (std::fabs(x[j]) > amax) amax = std::fabs(x[j]), max = x[j];
    BlockQ5_0 b;
    b.d = Fp32ToFp16(max / -16.f);
    const float d = Fp16ToFp32(b.d), id = d != 0.f ? 1.f / d : 0.f;
    uint8_t q[kQK];  // [32] u8 quants in element order
    for (int j = 0; j < kQK; ++j)
      q[j] = static_cast<uint8_t>(Clamp(RoundNearestEven(x[j] * id) + 16, 0, 31));
    PackQ5(q, b.qs, b.qh);
    StoreBlock(dst, i, b);
  }
}

void QuantQ5_1(const float* x, uint8_t* dst, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += kQK) {
    BlockQ5_1 b;
    uint8_t q[kQK];  // [32] u8 quants in element order
    AffineBlock(x, 31, &b.d, &b.m, q);
    PackQ5(q, b.qs, b.qh);
    StoreBlock(dst, i, b);
  }
}

void QuantQ8_0(const float* x, uint8_t* dst, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += kQK) {
    BlockQ8_0 b;
    int sum;
    b.d = Fp32ToFp16(QuantizeBlock8(x, b.qs, &sum));
    StoreBlock(dst, i, b);
  }
}

// Q4_K / Q5_K: per 32-element sub-block x ~ sc*d*q - m*dmin with 6-bit sc, m; q < 2^bits.
void QuantKAffine(const float* x, int levels, uint16_t* d16, uint16_t* dmin16, uint8_t scales[12],
                  uint8_t q[kQKK]) {
  float scale[8], minv[8], max_scale = 0.f, max_min = 0.f;
  for (int j = 0; j < 8; ++j) {
    float mn = 0.f, mx = x[32 * j];
    for (int l = 0; l < 32; ++l)
      mn = std::fmin(mn, x[32 * j + l]), mx = std::fmax(mx, x[32 * j + l]);
    scale[j] = (mx - mn) / static_cast<float>(levels);
    minv[j] = -mn;
    max_scale = std::fmax(max_scale, scale[j]);
    max_min = std::fmax(max_min, minv[j]);
  }
  *d16 = Fp32ToFp16(max_scale / 63.f);
  *dmin16 = Fp32ToFp16(max_min / 63.f);
  const float d = Fp16ToFp32(*d16), dmin = Fp16ToFp32(*dmin16);
  uint8_t sc[8], m[8];
  for (int j = 0; j < 8; ++j) {
    sc[j] = static_cast<uint8_t>(d != 0.f ? Clamp(RoundNearestEven(scale[j] / d), 0, 63) : 0);
    m[j] = static_cast<uint8_t>(dmin != 0.f ? Clamp(RoundNearestEven(minv[j] / dmin), 0, 63) : 0);
    const float ds = d * sc[j], dm = dmin * m[j];
    for (int l = 0; l < 32; ++l) {
      const float v = x[32 * j + l] + dm;
      q[32 * j + l] =
          static_cast<uint8_t>(ds != 0.f ? Clamp(RoundNearestEven(v / ds), 0, levels) : 0);
    }
  }
  PackScaleMinK4(sc, m, scales);
}

void QuantQ4_K(const float* x, uint8_t* dst, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += kQKK) {
    BlockQ4_K b;
    uint8_t q[kQKK];  // [256] u8 quants in element order
    QuantKAffine(x, 15, &b.d, &b.dmin, b.scales, q);
    for (int c = 0; c < 4; ++c)
      for (int l = 0; l < 32; ++l)
        b.qs[32 * c + l] = static_cast<uint8_t>(q[64 * c + l] | (q[64 * c + 32 + l] << 4));
    StoreBlock(dst, i, b);
  }
}

void QuantQ5_K(const float* x, uint8_t* dst, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += kQKK) {
    BlockQ5_K b;
    uint8_t q[kQKK];  // [256] u8 quants in element order
    QuantKAffine(x, 31, &b.d, &b.dmin, b.scales, q);
    std::memset(b.qh, 0, sizeof(b.qh));
    for (int c = 0; c < 4; ++c) {
      for (int l = 0; l < 32; ++l) {
        const uint8_t lo = q[64 * c + l], hi = q[64 * c + 32 + l];
        b.qs[32 * c + l] = static_cast<uint8_t>((lo & 0xF) | ((hi & 0xF) << 4));
        b.qh[l] |= static_cast<uint8_t>(((lo >> 4) << (2 * c)) | ((hi >> 4) << (2 * c + 1)));
      }
    }
    StoreBlock(dst, i, b);
  }
}

void QuantQ6_K(const float* x, uint8_t* dst, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += kQKK) {
    float scale[16], max_abs_scale = 0.f;
    for (int j = 0; j < 16; ++j) {
      float amax = 0.f, max = 0.f;
      for (int l = 0; l < 16; ++l)
        if (std::fabs(x[16 * j + l]) > amax) amax = std::fabs(x[16 * j + l]), max = x[16 * j + l];
      scale[j] = max / -32.f;
      max_abs_scale = std::fmax(max_abs_scale, std::fabs(scale[j]));
    }
    BlockQ6_K b;
    b.d = Fp32ToFp16(max_abs_scale / 127.f);
    const float d = Fp16ToFp32(b.d);
    uint8_t q[kQKK];  // [256] u8 quants in element order
    for (int j = 0; j < 16; ++j) {
      b.scales[j] =
          static_cast<int8_t>(d != 0.f ? Clamp(RoundNearestEven(scale[j] / d), -128, 127) : 0);
      const float ds = d * b.scales[j];
      for (int l = 0; l < 16; ++l) {
        const float v = ds != 0.f ? x[16 * j + l] / ds : 0.f;
        q[16 * j + l] = static_cast<uint8_t>(Clamp(RoundNearestEven(v) + 32, 0, 63));
      }
    }
    std::memset(b.ql, 0, sizeof(b.ql));
    std::memset(b.qh, 0, sizeof(b.qh));
    for (int e = 0; e < kQKK; ++e) {
      const int h = e / 128, k = (e % 128) / 32, l = e % 32;
      const int qli = 64 * h + l + (k & 1) * 32;
      b.ql[qli] |= static_cast<uint8_t>((q[e] & 0xF) << (k >= 2 ? 4 : 0));
      b.qh[32 * h + l] |= static_cast<uint8_t>((q[e] >> 4) << (2 * k));
    }
    StoreBlock(dst, i, b);
  }
}

}  // namespace

void QuantizeRowQ8_0(const float* x, BlockQ8_0* y, int64_t n) {
  CHECK(n % kQK == 0);
  for (int64_t i = 0; i < n / kQK; ++i) {
    int sum;
    y[i].d = Fp32ToFp16(QuantizeBlock8(x + i * kQK, y[i].qs, &sum));
  }
}

void QuantizeRowQ4_0(const float* x, BlockQ4_0* y, int64_t n) {
  CHECK(n % kQK == 0);
  for (int64_t i = 0; i < n / kQK; ++i, x += kQK) {
    float amax = 0.f, max = 0.f;
    for (int j = 0; j < kQK; ++j)
      if (amax < std::fabs(x[j])) amax = std::fabs(x[j]), max = x[j];
    const float d = max / -8.f;
    const float id = d != 0.f ? 1.f / d : 0.f;
    y[i].d = Fp32ToFp16(d);
    for (int j = 0; j < kQK / 2; ++j) {
      // x*id is in [-8, 8] (NaN-free input), so x*id + 8.5 >= 0.5 and the cast truncates.
      const int q0 = std::min(15, static_cast<int>(static_cast<int8_t>(x[j] * id + 8.5f)));
      const int q1 = std::min(15, static_cast<int>(static_cast<int8_t>(x[j + 16] * id + 8.5f)));
      y[i].qs[j] = static_cast<uint8_t>(q0 | (q1 << 4));
    }
  }
}

void QuantizeRowQ8_1(const float* x, BlockQ8_1* y, int64_t n) {
  CHECK(n % kQK == 0);
  for (int64_t i = 0; i < n / kQK; ++i) {
    int sum;
    const float d = QuantizeBlock8(x + i * kQK, y[i].qs, &sum);
    y[i].d = Fp32ToFp16(d);
    y[i].s = Fp32ToFp16(d * static_cast<float>(sum));
  }
}

void QuantizeRowQ8_K(const float* x, BlockQ8_K* y, int64_t n) {
  CHECK(n % kQKK == 0);
  for (int64_t i = 0; i < n / kQKK; ++i, x += kQKK) {
    float amax = 0.f, max = 0.f;
    for (int j = 0; j < kQKK; ++j)
      if (std::fabs(x[j]) > amax) amax = std::fabs(x[j]), max = x[j];
    if (amax == 0.f) {
      std::memset(&y[i], 0, sizeof(BlockQ8_K));
      continue;
    }
    const float iscale = -127.f / max;
    if (!(std::fabs(iscale) <= 3.4e38f)) {  // |max| < ~3.7e-37: a zero block (d = 0)
      std::memset(&y[i], 0, sizeof(BlockQ8_K));
      continue;
    }
    for (int j = 0; j < kQKK; ++j) {
      const int v = RoundNearestEven(iscale * x[j]);
      y[i].qs[j] = static_cast<int8_t>(v < 127 ? v : 127);
    }
    for (int g = 0; g < kQKK / 16; ++g) {
      int s = 0;
      for (int l = 0; l < 16; ++l) s += y[i].qs[16 * g + l];
      y[i].bsums[g] = static_cast<int16_t>(s);
    }
    y[i].d = 1.f / iscale;
  }
}

void QuantizeRowF16(const float* x, uint16_t* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = Fp32ToFp16(x[i]);
}

void QuantizeRowBF16(const float* x, uint16_t* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = Fp32ToBf16(x[i]);
}

void QuantizeActivationRow(DType act, const float* x, void* dst, int64_t n) {
  switch (act) {
    case DType::kQ8_0:
      return QuantizeRowQ8_0(x, static_cast<BlockQ8_0*>(dst), n);
    case DType::kQ8_1:
      return QuantizeRowQ8_1(x, static_cast<BlockQ8_1*>(dst), n);
    case DType::kQ8_K:
      return QuantizeRowQ8_K(x, static_cast<BlockQ8_K*>(dst), n);
    case DType::kF16:
      return QuantizeRowF16(x, static_cast<uint16_t*>(dst), n);
    case DType::kBF16:
      return QuantizeRowBF16(x, static_cast<uint16_t*>(dst), n);
    case DType::kF32:
      std::memcpy(dst, x, static_cast<size_t>(n) * 4);
      return;
    default:
      CHECK(false && "QuantizeActivationRow: not an activation type");
  }
}

void QuantizeRowRef(DType type, const float* x, void* dst_v, int64_t n) {
  auto* dst = static_cast<uint8_t*>(dst_v);
  const DTypeInfo* info = GetDTypeInfo(type);
  CHECK(info != nullptr && n % info->block_elems == 0);
  const int64_t nb = n / info->block_elems;
  switch (type) {
    case DType::kF32:
      std::memcpy(dst, x, static_cast<size_t>(n) * 4);
      return;
    case DType::kF16:
    case DType::kBF16:
      for (int64_t i = 0; i < n; ++i) {
        const uint16_t h = type == DType::kF16 ? Fp32ToFp16(x[i]) : Fp32ToBf16(x[i]);
        std::memcpy(dst + 2 * i, &h, 2);
      }
      return;
    case DType::kQ4_0:
      return QuantQ4_0(x, dst, nb);
    case DType::kQ4_1:
      return QuantQ4_1(x, dst, nb);
    case DType::kQ5_0:
      return QuantQ5_0(x, dst, nb);
    case DType::kQ5_1:
      return QuantQ5_1(x, dst, nb);
    case DType::kQ8_0:
      return QuantQ8_0(x, dst, nb);
    case DType::kIQ4_NL:
      return QuantIQ4_NL(x, dst, nb);
    case DType::kMXFP4:
      return QuantMXFP4(x, dst, nb);
    case DType::kQ4_K:
      return QuantQ4_K(x, dst, nb);
    case DType::kQ5_K:
      return QuantQ5_K(x, dst, nb);
    case DType::kQ6_K:
      return QuantQ6_K(x, dst, nb);
    default:
      CHECK(false && "QuantizeRowRef: unsupported type");
  }
}

}  // namespace semantic::quant
