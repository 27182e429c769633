// Dequantization of hand-built blocks against values worked out by hand from the GGUF layouts,
// activation quantizers against hand-computed quants, and weight quantizer round trips.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "base/fp16.h"
#include "kernel_test_util.h"
#include "quant/blocks.h"
#include "quant/dequantize.h"
#include "quant/quantize.h"

namespace semantic::quant {
namespace {

template <typename Block>
std::vector<float> Dequant(DType t, const Block& b, int64_t n) {
  std::vector<float> out(static_cast<size_t>(n));
  DequantizeRowRef(t, &b, out.data(), n);
  return out;
}

TEST(DequantKnown, Q4_0) {
  BlockQ4_0 b{};
  b.d = 0x3800;                   // 0.5
  for (auto& q : b.qs) q = 0x88;  // all zero after the -8 offset
  b.qs[0] = 0x1F;                 // element 0: 15, element 16: 1
  const auto y = Dequant(DType::kQ4_0, b, 32);
  EXPECT_EQ(y[0], 3.5f);
  EXPECT_EQ(y[16], -3.5f);
  EXPECT_EQ(y[1], 0.f);
  EXPECT_EQ(y[31], 0.f);
}

TEST(DequantKnown, Q4_1) {
  BlockQ4_1 b{};
  b.d = 0x3400;    // 0.25
  b.m = 0xBC00;    // -1
  b.qs[3] = 0xA5;  // element 3: 5, element 19: 10
  const auto y = Dequant(DType::kQ4_1, b, 32);
  EXPECT_EQ(y[3], 0.25f);
  EXPECT_EQ(y[19], 1.5f);
  EXPECT_EQ(y[0], -1.f);
}

TEST(DequantKnown, Q5_0) {
  BlockQ5_0 b{};
  b.d = 0x3C00;  // 1
  b.qs[2] = 0x31;
  const uint32_t qh = (1u << 2) | (1u << 18) | (1u << 31);
  std::memcpy(b.qh, &qh, 4);
  const auto y = Dequant(DType::kQ5_0, b, 32);
  EXPECT_EQ(y[2], 1.f);    // (1 | 16) - 16
  EXPECT_EQ(y[18], 3.f);   // (3 | 16) - 16
  EXPECT_EQ(y[0], -16.f);  // 0 - 16
  EXPECT_EQ(y[31], 0.f);   // (0 | 16) - 16
}

TEST(DequantKnown, Q5_1) {
  BlockQ5_1 b{};
  b.d = 0x4000;  // 2
  b.m = 0x3C00;  // 1
  b.qs[15] = 0xF7;
  const uint32_t qh = 1u << 31;
  std::memcpy(b.qh, &qh, 4);
  const auto y = Dequant(DType::kQ5_1, b, 32);
  EXPECT_EQ(y[15], 15.f);  // 7*2 + 1
  EXPECT_EQ(y[31], 63.f);  // (15 | 16) * 2 + 1
  EXPECT_EQ(y[0], 1.f);
}

TEST(DequantKnown, Q8_0) {
  BlockQ8_0 b{};
  b.d = 0x4000;  // 2
  b.qs[5] = -3;
  b.qs[31] = 127;
  const auto y = Dequant(DType::kQ8_0, b, 32);
  EXPECT_EQ(y[5], -6.f);
  EXPECT_EQ(y[31], 254.f);
}

TEST(DequantKnown, IQ4_NL) {
  BlockIQ4_NL b{};
  b.d = 0x3C00;
  b.qs[0] = 0xF0;  // element 0: code 0, element 16: code 15
  b.qs[1] = 0x98;
  const auto y = Dequant(DType::kIQ4_NL, b, 32);
  EXPECT_EQ(y[0], -127.f);
  EXPECT_EQ(y[16], 113.f);
  EXPECT_EQ(y[1], 1.f);
  EXPECT_EQ(y[17], 13.f);
}

// Scales sc = {1,2,3,4,17,33,50,63}, mins m = {0,5,10,15,20,40,63,1}, packed by hand.
constexpr uint8_t kK4Scales[12] = {65, 130, 195, 196, 64, 133, 202, 15, 65, 129, 242, 31};

TEST(DequantKnown, ScaleMinK4) {
  const uint8_t sc[8] = {1, 2, 3, 4, 17, 33, 50, 63}, m[8] = {0, 5, 10, 15, 20, 40, 63, 1};
  for (int j = 0; j < 8; ++j) {
    uint8_t a, b;
    UnpackScaleMinK4(kK4Scales, j, &a, &b);
    EXPECT_EQ(a, sc[j]) << j;
    EXPECT_EQ(b, m[j]) << j;
  }
  uint8_t packed[12];
  PackScaleMinK4(sc, m, packed);
  EXPECT_EQ(0, std::memcmp(packed, kK4Scales, 12));
}

TEST(DequantKnown, Q4_K) {
  BlockQ4_K b{};
  b.d = 0x3C00;     // 1
  b.dmin = 0x3800;  // 0.5
  std::memcpy(b.scales, kK4Scales, 12);
  b.qs[64 + 3] = 0x70;   // sub-block 5 (chunk 2, high nibble), element 160+3: q = 7
  b.qs[96 + 31] = 0xF0;  // sub-block 7, element 255: q = 15
  b.qs[1] = 0x02;        // sub-block 0, element 1: q = 2
  const auto y = Dequant(DType::kQ4_K, b, 256);
  EXPECT_EQ(y[163], 33.f * 7 - 0.5f * 40);  // 211
  EXPECT_EQ(y[131], -0.5f * 20);            // sub-block 4, q = 0
  EXPECT_EQ(y[255], 63.f * 15 - 0.5f * 1);
  EXPECT_EQ(y[1], 2.f);
  EXPECT_EQ(y[33], -0.5f * 5);  // sub-block 1, q = 0
}

TEST(DequantKnown, Q5_K) {
  BlockQ5_K b{};
  b.d = 0x3C00;
  b.dmin = 0x3800;
  std::memcpy(b.scales, kK4Scales, 12);
  b.qs[64 + 3] = 0x70;
  b.qh[3] = 1u << 5;  // 5th bit of element 3 of sub-block 5
  b.qh[0] = 1u << 0;  // 5th bit of element 0 of sub-block 0
  const auto y = Dequant(DType::kQ5_K, b, 256);
  EXPECT_EQ(y[163], 33.f * 23 - 0.5f * 40);
  EXPECT_EQ(y[0], 16.f);
  EXPECT_EQ(y[32], -0.5f * 5);  // sub-block 1 uses bit 1: not set
}

TEST(DequantKnown, Q6_K) {
  BlockQ6_K b{};
  b.d = 0x3800;  // 0.5
  for (int s = 0; s < 16; ++s) b.scales[s] = static_cast<int8_t>(s - 8);
  // Element 200: half 1, quarter 2, l = 8 -> ql[64+8] high nibble, qh[32+8] bits 4-5.
  b.ql[72] = 0x50;
  b.qh[40] = 0x20;
  // Element 33: half 0, quarter 1, l = 1 -> ql[33] low nibble, qh[1] bits 2-3.
  b.ql[33] = 0x0F;
  b.qh[1] = 0x0C;
  const auto y = Dequant(DType::kQ6_K, b, 256);
  EXPECT_EQ(y[200], 0.5f * 4 * 5);    // q = 5 | 2<<4 = 37 -> 5, scale[12] = 4
  EXPECT_EQ(y[33], 0.5f * -6 * 31);   // q = 15 | 3<<4 = 63 -> 31, scale[2] = -6
  EXPECT_EQ(y[0], 0.5f * -8 * -32);   // q = 0 -> -32, scale[0] = -8
  EXPECT_EQ(y[72], 0.5f * -4 * -32);  // untouched
  EXPECT_EQ(y[255], 0.5f * 7 * -32);
}

TEST(DequantKnown, FloatTypes) {
  const uint16_t h[2] = {0x3C00, 0xC000};   // f16 1, -2
  const uint16_t bf[2] = {0x3F80, 0xC040};  // bf16 1, -3
  float y[2];
  DequantizeRowRef(DType::kF16, h, y, 2);
  EXPECT_EQ(y[0], 1.f);
  EXPECT_EQ(y[1], -2.f);
  DequantizeRowRef(DType::kBF16, bf, y, 2);
  EXPECT_EQ(y[0], 1.f);
  EXPECT_EQ(y[1], -3.f);
}

TEST(ActivationQuant, Q8_0RoundsHalfToEven) {
  std::vector<float> x(32, 0.f);
  x[0] = 127.f;  // amax 127 -> d = 1, id = 1
  x[1] = 0.5f, x[2] = 1.5f, x[3] = 2.5f, x[4] = -0.5f, x[5] = -3.5f, x[6] = 3.49f;
  BlockQ8_0 b;
  QuantizeRowQ8_0(x.data(), &b, 32);
  EXPECT_EQ(Fp16ToFp32(b.d), 1.f);
  EXPECT_EQ(b.qs[0], 127);
  EXPECT_EQ(b.qs[1], 0);
  EXPECT_EQ(b.qs[2], 2);
  EXPECT_EQ(b.qs[3], 2);
  EXPECT_EQ(b.qs[4], 0);
  EXPECT_EQ(b.qs[5], -4);
  EXPECT_EQ(b.qs[6], 3);
}

TEST(KvQuant, Q4_0AsGgmlRef) {
  // ggml's quantize_row_q4_0_ref: d = max / -8 for the signed element of largest |x|, and
  // q = min(15, trunc(x/d + 8.5)) -- halves round up, unlike the RNE of the Q8 quantizers.
  std::vector<float> x(32, 0.f);
  x[0] = -8.f;  // max = -8 -> d = 1
  x[1] = 0.5f, x[2] = -0.5f, x[3] = -1.5f, x[4] = 7.6f, x[16] = 2.5f, x[17] = -7.9f;
  BlockQ4_0 b;
  QuantizeRowQ4_0(x.data(), &b, 32);
  EXPECT_EQ(Fp16ToFp32(b.d), 1.f);
  auto q = [&](int j) { return j < 16 ? b.qs[j] & 0xF : b.qs[j - 16] >> 4; };
  EXPECT_EQ(q(0), 0);    // -8
  EXPECT_EQ(q(1), 9);    // 0.5 -> +1
  EXPECT_EQ(q(2), 8);    // -0.5 -> 0
  EXPECT_EQ(q(3), 7);    // -1.5 -> -1
  EXPECT_EQ(q(4), 15);   // 7.6 -> clamped to +7
  EXPECT_EQ(q(16), 11);  // 2.5 -> +3
  EXPECT_EQ(q(17), 0);   // -7.9 -> -8
  x[0] = 8.f;            // now max = +8 -> d = -1: signs flip
  QuantizeRowQ4_0(x.data(), &b, 32);
  EXPECT_EQ(Fp16ToFp32(b.d), -1.f);
  EXPECT_EQ(q(0), 0);   // 8 / -1 = -8
  EXPECT_EQ(q(1), 8);   // -0.5 + 8.5 = 8
  EXPECT_EQ(q(3), 10);  // 1.5 + 8.5 = 10
}

TEST(ActivationQuant, Q8_1Sum) {
  std::vector<float> x(32, 0.f);
  x[0] = -2.f;  // amax 2: d = 2/127, id = 63.5
  x[1] = 1.f;   // 63.5 -> 64 (half to even)
  x[2] = 0.5f;  // 31.75 -> 32
  BlockQ8_1 b;
  QuantizeRowQ8_1(x.data(), &b, 32);
  EXPECT_EQ(b.qs[0], -127);
  EXPECT_EQ(b.qs[1], 64);
  EXPECT_EQ(b.qs[2], 32);
  EXPECT_EQ(b.d, Fp32ToFp16(2.f / 127.f));
  EXPECT_EQ(b.s, Fp32ToFp16(2.f / 127.f * (-127 + 64 + 32)));
}

TEST(ActivationQuant, Q8_KSignAndBsums) {
  std::vector<float> x(256, 0.f);
  x[0] = 127.f, x[1] = -127.f;  // tie on |x|: the first one sets the sign -> iscale = -1
  x[16] = 1.5f, x[17] = 2.5f;
  BlockQ8_K b;
  QuantizeRowQ8_K(x.data(), &b, 256);
  EXPECT_EQ(b.qs[0], -127);
  EXPECT_EQ(b.qs[1], 127);
  EXPECT_EQ(b.qs[16], -2);  // -1.5 -> -2 (half to even)
  EXPECT_EQ(b.qs[17], -2);  // -2.5 -> -2
  EXPECT_EQ(b.d, -1.f);
  EXPECT_EQ(b.bsums[0], 0);
  EXPECT_EQ(b.bsums[1], -4);
  x[0] = 0.f;  // now the negative one leads: iscale = +1
  QuantizeRowQ8_K(x.data(), &b, 256);
  EXPECT_EQ(b.qs[1], -127);
  EXPECT_EQ(b.d, 1.f);
}

// Every weight quantizer round-trips random data with an error bounded by its step size.
TEST(WeightQuant, RoundTrip) {
  const DType types[] = {DType::kF16,  DType::kBF16, DType::kQ4_0, DType::kQ4_1,
                         DType::kQ5_0, DType::kQ5_1, DType::kQ8_0, DType::kIQ4_NL,
                         DType::kQ4_K, DType::kQ5_K, DType::kQ6_K};
  // Relative RMS error bounds (of the data RMS) by bits; loose, but far below a wrong layout (~1).
  const double bound[] = {1e-3, 8e-3, 0.15, 0.1, 0.08, 0.05, 0.01, 0.12, 0.12, 0.06, 0.04};
  const int64_t n = 1024;
  const auto x = kernels::testing::RandomVector(n, 7);
  for (size_t i = 0; i < std::size(types); ++i) {
    std::vector<uint8_t> q(RowBytes(types[i], n));
    std::vector<float> y(n);
    QuantizeRowRef(types[i], x.data(), q.data(), n);
    DequantizeRowRef(types[i], q.data(), y.data(), n);
    double err = 0, ref = 0;
    for (int64_t j = 0; j < n; ++j) err += (y[j] - x[j]) * (y[j] - x[j]), ref += x[j] * x[j];
    EXPECT_LT(std::sqrt(err / ref), bound[i]) << GetDTypeInfo(types[i])->name;
  }
}

}  // namespace
}  // namespace semantic::quant
