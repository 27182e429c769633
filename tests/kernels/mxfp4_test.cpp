// MXFP4 blocks: dequantization against gguf-py's own (gguf.quants) on random blocks
// (tests/data/quant/mxfp4-gguf-py.txt, scripts/make_mxfp4_fixture.py), a hand-worked block, and
// the test quantizer's round trip. Matmuls are covered with the other types in matmul_test.cpp.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "kernel_test_util.h"
#include "quant/blocks.h"
#include "quant/dequantize.h"
#include "quant/quantize.h"

namespace semantic::quant {
namespace {

std::string SourceDir() {
  const char* env = std::getenv("SEMANTIC_SOURCE_DIR");
  return env ? env : SEMANTIC_SOURCE_DIR;
}

TEST(Mxfp4, MatchesGgufPyDequantization) {
  std::ifstream in(SourceDir() + "/tests/data/quant/mxfp4-gguf-py.txt");
  ASSERT_TRUE(in.good());
  std::string line;
  int blocks = 0;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string hex;
    ls >> hex;
    ASSERT_EQ(hex.size(), 34u);
    uint8_t raw[17];
    for (int i = 0; i < 17; ++i)
      raw[i] = static_cast<uint8_t>(std::stoul(hex.substr(2 * i, 2), nullptr, 16));
    float y[32];
    DequantizeRowRef(DType::kMXFP4, raw, y, 32);
    for (int j = 0; j < 32; ++j) {
      std::string word;
      ASSERT_TRUE(static_cast<bool>(ls >> word));
      const auto want = static_cast<uint32_t>(std::stoul(word, nullptr, 16));
      uint32_t got;
      std::memcpy(&got, &y[j], 4);
      ASSERT_EQ(got, want) << "block " << blocks << " element " << j;
    }
    ++blocks;
  }
  EXPECT_EQ(blocks, 64);
}

TEST(Mxfp4, HandWorkedBlock) {
  BlockMXFP4 b{};
  b.e = 128;       // scale 2^(128-128) = 1 on the doubled table: codes read 0, 0.5, 1, ... 6
  b.qs[0] = 0x9F;  // element 0: code 15 (-6), element 16: code 9 (-0.5)
  b.qs[1] = 0x71;  // element 1: code 1 (0.5), element 17: code 7 (6)
  float y[32];
  DequantizeRowRef(DType::kMXFP4, &b, y, 32);
  EXPECT_EQ(y[0], -12.f);
  EXPECT_EQ(y[16], -1.f);
  EXPECT_EQ(y[1], 1.f);
  EXPECT_EQ(y[17], 12.f);
  EXPECT_EQ(y[2], 0.f);
  b.e = 126;  // 2^-2
  DequantizeRowRef(DType::kMXFP4, &b, y, 32);
  EXPECT_EQ(y[0], -3.f);
  EXPECT_EQ(y[17], 3.f);
  EXPECT_EQ(E8M0ToFp32Half(0), std::ldexp(1.f, -128));  // subnormal
  EXPECT_EQ(E8M0ToFp32Half(1), std::ldexp(1.f, -127));
  EXPECT_EQ(E8M0ToFp32Half(254), std::ldexp(1.f, 126));
}

// gguf-py's quantizer: picks e = floor(log2 amax) - 2 + 127, so the largest element maps to a
// code within one E2M1 step; relative RMS error is that of a 4-bit float (~0.1).
TEST(Mxfp4, QuantizerRoundTrip) {
  const int64_t n = 1024;
  const auto x = kernels::testing::RandomVector(n, 7);
  std::vector<uint8_t> q(RowBytes(DType::kMXFP4, n));
  std::vector<float> y(n);
  QuantizeRowRef(DType::kMXFP4, x.data(), q.data(), n);
  DequantizeRowRef(DType::kMXFP4, q.data(), y.data(), n);
  double err = 0, ref = 0;
  for (int64_t j = 0; j < n; ++j) err += (y[j] - x[j]) * (y[j] - x[j]), ref += x[j] * x[j];
  EXPECT_LT(std::sqrt(err / ref), 0.15);
  EXPECT_GT(std::sqrt(err / ref), 0.0);
}

}  // namespace
}  // namespace semantic::quant
