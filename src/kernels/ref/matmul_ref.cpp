// Scalar reference dot products per weight type against its activation format, written from the
// block layouts in quant/blocks.h independently of quant/dequantize.cpp (tests compare the two).
#include "kernels/ref/matmul_ref.h"

#include <cstring>
#include <vector>

#include "base/check.h"
#include "base/fp16.h"
#include "quant/blocks.h"
#include "quant/quantize.h"

namespace semantic::kernels::ref {
namespace {

using namespace semantic::quant;  // NOLINT: block types

template <typename Block>
Block Load(const void* p, int64_t i) {
  Block b;
  std::memcpy(&b, static_cast<const uint8_t*>(p) + i * static_cast<int64_t>(sizeof(Block)),
              sizeof(Block));
  return b;
}

// Weight quants of one legacy block as integers (offset already removed for symmetric types).
template <typename Block>
void Unpack32(const Block& b, int* q);

template <>
void Unpack32(const BlockQ4_0& b, int* q) {
  for (int j = 0; j < 16; ++j) q[j] = (b.qs[j] & 0xF) - 8, q[j + 16] = (b.qs[j] >> 4) - 8;
}
template <>
void Unpack32(const BlockQ4_1& b, int* q) {
  for (int j = 0; j < 16; ++j) q[j] = b.qs[j] & 0xF, q[j + 16] = b.qs[j] >> 4;
}
template <>
void Unpack32(const BlockQ5_0& b, int* q) {
  uint32_t qh;
  std::memcpy(&qh, b.qh, 4);
  for (int j = 0; j < 16; ++j) {
    q[j] = ((b.qs[j] & 0xF) | (((qh >> j) & 1) << 4)) - 16;
    q[j + 16] = ((b.qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4)) - 16;
  }
}
template <>
void Unpack32(const BlockQ5_1& b, int* q) {
  uint32_t qh;
  std::memcpy(&qh, b.qh, 4);
  for (int j = 0; j < 16; ++j) {
    q[j] = (b.qs[j] & 0xF) | (((qh >> j) & 1) << 4);
    q[j + 16] = (b.qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4);
  }
}
template <>
void Unpack32(const BlockQ8_0& b, int* q) {
  for (int j = 0; j < 32; ++j) q[j] = b.qs[j];
}
template <>
void Unpack32(const BlockIQ4_NL& b, int* q) {
  for (int j = 0; j < 16; ++j)
    q[j] = kIq4nlValues[b.qs[j] & 0xF], q[j + 16] = kIq4nlValues[b.qs[j] >> 4];
}

// Symmetric weights x Q8_0: sum_b (d_w * d_x) * isum_b.
template <typename Block>
float DotSym(const void* w, const void* a, int64_t nb) {
  double sum = 0;
  int q[32];
  for (int64_t i = 0; i < nb; ++i) {
    const auto bw = Load<Block>(w, i);
    const auto bx = Load<BlockQ8_0>(a, i);
    Unpack32(bw, q);
    int isum = 0;
    for (int j = 0; j < 32; ++j) isum += q[j] * bx.qs[j];
    sum += static_cast<double>(Fp16ToFp32(bw.d) * Fp16ToFp32(bx.d) * static_cast<float>(isum));
  }
  return static_cast<float>(sum);
}

// MXFP4 x Q8_0: the block scale is E8M0 (GGML: E8M0_TO_FP32_HALF(e) * d_x * isum), codes from
// the doubled E2M1 table.
float DotMXFP4(const void* w, const void* a, int64_t nb) {
  double sum = 0;
  for (int64_t i = 0; i < nb; ++i) {
    const auto bw = Load<BlockMXFP4>(w, i);
    const auto bx = Load<BlockQ8_0>(a, i);
    int isum = 0;
    for (int j = 0; j < 16; ++j)
      isum += kMxfp4Values[bw.qs[j] & 0xF] * bx.qs[j] + kMxfp4Values[bw.qs[j] >> 4] * bx.qs[j + 16];
    sum += static_cast<double>(E8M0ToFp32Half(bw.e) * Fp16ToFp32(bx.d) * static_cast<float>(isum));
  }
  return static_cast<float>(sum);
}

// Affine weights (x = q*d + m) x Q8_1: sum_b (d_w * d_x) * isum_b + m_w * s_x.
template <typename Block>
float DotAffine(const void* w, const void* a, int64_t nb) {
  double sum = 0;
  int q[32];
  for (int64_t i = 0; i < nb; ++i) {
    const auto bw = Load<Block>(w, i);
    const auto bx = Load<BlockQ8_1>(a, i);
    Unpack32(bw, q);
    int isum = 0;
    for (int j = 0; j < 32; ++j) isum += q[j] * bx.qs[j];
    sum += static_cast<double>(Fp16ToFp32(bw.d) * Fp16ToFp32(bx.d) * static_cast<float>(isum));
    sum += static_cast<double>(Fp16ToFp32(bw.m) * Fp16ToFp32(bx.s));
  }
  return static_cast<float>(sum);
}

// Q4_K / Q5_K x Q8_K: d_w*d_x * sum_j sc_j * dot_j  -  dmin_w*d_x * sum_j m_j * bsum_j.
template <bool kFive>
float DotQ45K(const void* w, const void* a, int64_t nb) {
  double sum = 0;
  for (int64_t i = 0; i < nb; ++i) {
    const auto bx = Load<BlockQ8_K>(a, i);
    const uint8_t *scales, *qs, *qh = nullptr;
    uint16_t d16, dmin16;
    BlockQ4_K b4;
    BlockQ5_K b5;
    if constexpr (kFive) {
      b5 = Load<BlockQ5_K>(w, i);
      scales = b5.scales, qs = b5.qs, qh = b5.qh, d16 = b5.d, dmin16 = b5.dmin;
    } else {
      b4 = Load<BlockQ4_K>(w, i);
      scales = b4.scales, qs = b4.qs, d16 = b4.d, dmin16 = b4.dmin;
    }
    int isum = 0, imin = 0;
    for (int j = 0; j < 8; ++j) {  // sub-block j: elements 32j .. 32j+31
      uint8_t sc, m;
      UnpackScaleMinK4(scales, j, &sc, &m);
      const int c = j / 2, shift = (j % 2) * 4;
      int dot = 0;
      for (int l = 0; l < 32; ++l) {
        int q = (qs[32 * c + l] >> shift) & 0xF;
        if (kFive) q |= ((qh[l] >> j) & 1) << 4;
        dot += q * bx.qs[32 * j + l];
      }
      isum += sc * dot;
      imin += m * (bx.bsums[2 * j] + bx.bsums[2 * j + 1]);
    }
    sum += static_cast<double>(Fp16ToFp32(d16) * bx.d * static_cast<float>(isum));
    sum -= static_cast<double>(Fp16ToFp32(dmin16) * bx.d * static_cast<float>(imin));
  }
  return static_cast<float>(sum);
}

float DotQ6K(const void* w, const void* a, int64_t nb) {
  double sum = 0;
  for (int64_t i = 0; i < nb; ++i) {
    const auto bw = Load<BlockQ6_K>(w, i);
    const auto bx = Load<BlockQ8_K>(a, i);
    int isum = 0;
    for (int s = 0; s < 16; ++s) {  // sub-block s: elements 16s .. 16s+15
      int dot = 0;
      for (int e = 16 * s; e < 16 * s + 16; ++e) {
        const int h = e / 128, k = (e % 128) / 32, l = e % 32;
        const uint8_t ql = bw.ql[64 * h + l + (k & 1) * 32];
        const int lo = k >= 2 ? ql >> 4 : ql & 0xF;
        const int hi = (bw.qh[32 * h + l] >> (2 * k)) & 3;
        dot += ((lo | (hi << 4)) - 32) * bx.qs[e];
      }
      isum += bw.scales[s] * dot;
    }
    sum += static_cast<double>(Fp16ToFp32(bw.d) * bx.d * static_cast<float>(isum));
  }
  return static_cast<float>(sum);
}

// Float types: weights and activations as f32 (exact for f16/bf16), products summed in double.
template <uint16_t kTag>
float DotHalf(const void* w, const void* a, int64_t n) {
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    uint16_t hw, hx;
    std::memcpy(&hw, static_cast<const uint8_t*>(w) + 2 * i, 2);
    std::memcpy(&hx, static_cast<const uint8_t*>(a) + 2 * i, 2);
    const float fw = kTag == 0 ? Fp16ToFp32(hw) : Bf16ToFp32(hw);
    const float fx = kTag == 0 ? Fp16ToFp32(hx) : Bf16ToFp32(hx);
    sum += static_cast<double>(fw * fx);
  }
  return static_cast<float>(sum);
}

float DotF32(const void* w, const void* a, int64_t n) {
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    float fw, fx;
    std::memcpy(&fw, static_cast<const uint8_t*>(w) + 4 * i, 4);
    std::memcpy(&fx, static_cast<const uint8_t*>(a) + 4 * i, 4);
    sum += static_cast<double>(fw * fx);
  }
  return static_cast<float>(sum);
}

}  // namespace

float VecDot(DType t, const void* w, const void* a, int64_t cols) {
  switch (t) {
    case DType::kF32:
      return DotF32(w, a, cols);
    case DType::kF16:
      return DotHalf<0>(w, a, cols);
    case DType::kBF16:
      return DotHalf<1>(w, a, cols);
    case DType::kQ4_0:
      return DotSym<BlockQ4_0>(w, a, cols / kQK);
    case DType::kQ5_0:
      return DotSym<BlockQ5_0>(w, a, cols / kQK);
    case DType::kQ8_0:
      return DotSym<BlockQ8_0>(w, a, cols / kQK);
    case DType::kIQ4_NL:
      return DotSym<BlockIQ4_NL>(w, a, cols / kQK);
    case DType::kMXFP4:
      return DotMXFP4(w, a, cols / kQK);
    case DType::kQ4_1:
      return DotAffine<BlockQ4_1>(w, a, cols / kQK);
    case DType::kQ5_1:
      return DotAffine<BlockQ5_1>(w, a, cols / kQK);
    case DType::kQ4_K:
      return DotQ45K<false>(w, a, cols / kQKK);
    case DType::kQ5_K:
      return DotQ45K<true>(w, a, cols / kQKK);
    case DType::kQ6_K:
      return DotQ6K(w, a, cols / kQKK);
    default:
      CHECK(false && "ref::VecDot: unsupported type");
      return 0.f;
  }
}

void MatMulRange(const WeightView& w, const uint8_t* act, size_t act_row_bytes, int64_t r0,
                 int64_t r1, int64_t t0, int64_t t1, float* y) {
  const auto* wd = static_cast<const uint8_t*>(w.data);
  for (int64_t t = t0; t < t1; ++t)
    for (int64_t r = r0; r < r1; ++r)
      y[t * w.rows + r] = VecDot(w.type, wd + r * w.row_bytes, act + t * act_row_bytes, w.cols);
}

void MatMul(const WeightView& w, const float* x, int64_t n_tok, float* y) {
  CHECK(IsSupportedWeightType(w.type));
  const DType act_type = ActivationType(w.type);
  const size_t act_row_bytes = RowBytes(act_type, w.cols);
  std::vector<uint8_t> act(act_row_bytes * static_cast<size_t>(n_tok));  // [n_tok][act_row_bytes]
  for (int64_t t = 0; t < n_tok; ++t)
    QuantizeActivationRow(act_type, x + t * w.cols, act.data() + t * act_row_bytes, w.cols);
  MatMulRange(w, act.data(), act_row_bytes, 0, w.rows, 0, n_tok, y);
}

}  // namespace semantic::kernels::ref
