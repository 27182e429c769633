// The SIMD activation quantizers of every kernel set reproduce the scalar quantizers in
// quant/quantize.cpp bit for bit (quants, scales, sums), including ties, zeros and tiny values.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "base/fp16.h"
#include "kernel_test_util.h"
#include "kernels/cpu/kernel_set.h"
#include "quant/blocks.h"
#include "quant/quantize.h"

namespace semantic::kernels {
namespace {

using quant::DType;

// Rows with awkward values: an all-zero block, exact .5 ties, equal +/- maxima, denormals.
std::vector<float> TrickyActivations(int64_t n_tok, int64_t cols, uint32_t seed) {
  auto x = testing::RandomVector(n_tok * cols, seed);
  for (int64_t c = 0; c < std::min<int64_t>(cols, 32); ++c) x[c] = 0.f;  // token 0, block 0
  if (n_tok > 1) {
    float* r = x.data() + cols;
    for (int64_t c = 0; c < cols; ++c) r[c] = static_cast<float>((c % 9) - 4) * 0.5f;  // ties
    r[1] = 127.f, r[2] = -127.f;
  }
  if (n_tok > 2) {
    float* r = x.data() + 2 * cols;
    for (int64_t c = 0; c < cols; ++c) r[c] *= 1e-40f;  // subnormal inputs
  }
  return x;
}

class ActQuantTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ActQuantTest, MatchesScalarBitForBit) {
  const cpu::KernelSet* ks = cpu::KernelSetFor(GetParam().c_str());
  if (ks == nullptr) GTEST_SKIP() << GetParam() << " not supported on this CPU";
  for (DType act : {DType::kQ8_0, DType::kQ8_1, DType::kQ8_K, DType::kF16, DType::kBF16}) {
    const auto quantize = ks->quantize[static_cast<int>(act)];
    ASSERT_NE(quantize, nullptr);
    for (int64_t cols : {256, 512, 1536}) {
      SCOPED_TRACE(std::string(quant::GetDTypeInfo(act)->name) + " cols=" + std::to_string(cols));
      const int64_t n_tok = 5;
      const auto x = TrickyActivations(n_tok, cols, static_cast<uint32_t>(cols));
      cpu::PackedActs a;
      std::vector<uint8_t> buf(cpu::LayoutPackedActs(act, n_tok, cols, nullptr, &a) + 64);
      uint8_t* base = buf.data() + (64 - reinterpret_cast<uintptr_t>(buf.data()) % 64) % 64;
      cpu::LayoutPackedActs(act, n_tok, cols, base, &a);
      quantize(x.data(), 0, n_tok, &a);
      std::vector<uint8_t> ref(quant::RowBytes(act, cols));
      for (int64_t t = 0; t < n_tok; ++t) {
        quant::QuantizeActivationRow(act, x.data() + t * cols, ref.data(), cols);
        if (act == DType::kF16 || act == DType::kBF16) {
          for (int64_t c = 0; c < cols; ++c) {
            uint16_t h;
            std::memcpy(&h, ref.data() + 2 * c, 2);
            const float want = act == DType::kF16 ? Fp16ToFp32(h) : Bf16ToFp32(h);
            ASSERT_EQ(std::memcmp(&a.f[t * a.f_stride + c], &want, 4), 0)
                << "t=" << t << " c=" << c;
          }
          continue;
        }
        for (int64_t b = 0; b < a.nb; ++b) {
          const int8_t* qs = a.qs + t * a.qs_stride;
          const int64_t i = b * a.n_tok_pad + t;
          if (act == DType::kQ8_K) {
            const auto* rb = reinterpret_cast<const quant::BlockQ8_K*>(ref.data()) + b;
            ASSERT_EQ(std::memcmp(qs + 256 * b, rb->qs, 256), 0) << "t=" << t << " b=" << b;
            ASSERT_EQ(std::memcmp(a.bsums + (t * a.nb + b) * 16, rb->bsums, 32), 0) << "t=" << t;
            ASSERT_EQ(a.d[i], rb->d) << "t=" << t << " b=" << b;
          } else {
            const int8_t* rq = act == DType::kQ8_0
                                   ? reinterpret_cast<const quant::BlockQ8_0*>(ref.data())[b].qs
                                   : reinterpret_cast<const quant::BlockQ8_1*>(ref.data())[b].qs;
            const uint16_t rd = act == DType::kQ8_0
                                    ? reinterpret_cast<const quant::BlockQ8_0*>(ref.data())[b].d
                                    : reinterpret_cast<const quant::BlockQ8_1*>(ref.data())[b].d;
            ASSERT_EQ(std::memcmp(qs + 32 * b, rq, 32), 0) << "t=" << t << " b=" << b;
            ASSERT_EQ(a.d[i], Fp16ToFp32(rd)) << "t=" << t << " b=" << b;
            int sum = 0;
            for (int k = 0; k < 32; ++k) sum += rq[k];
            ASSERT_EQ(a.xsum[i], sum);
            if (act == DType::kQ8_1) {
              ASSERT_EQ(a.s[i],
                        Fp16ToFp32(reinterpret_cast<const quant::BlockQ8_1*>(ref.data())[b].s));
            }
          }
        }
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Isa, ActQuantTest, ::testing::Values("avx2", "avx512"));

}  // namespace
}  // namespace semantic::kernels
