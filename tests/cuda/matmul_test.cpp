// Activation quantization (bit-exact with quant/quantize) and the quantized / f16 matmul against
// kernels/ref on random matrices, including 2-byte-aligned and padded rows on the device.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "kernels/cuda/ops.h"
#include "kernels/ref/matmul_ref.h"
#include "quant/quantize.h"
#include "tests/cuda/cuda_test_util.h"
#include "tests/kernels/kernel_test_util.h"

namespace semantic::kernels::cuda {
namespace {

using kernels::testing::MakeMatrix;
using kernels::testing::RandomVector;
using testing::ToDevice;
using testing::ToHost;

TEST(CudaMatMulTest, ActivationQuantizationIsBitExact) {
  SKIP_WITHOUT_CUDA_DEVICE();
  for (quant::DType act : {quant::DType::kQ8_0, quant::DType::kQ8_1}) {
    const int64_t n_tok = 3, cols = 1536;
    auto x = RandomVector(n_tok * cols, 31, 3.0f);
    std::fill(x.begin(), x.begin() + 32, 0.0f);          // an all-zero block
    std::fill(x.begin() + 32, x.begin() + 64, 1e-38f);   // 127/amax overflows to inf
    for (int j = 64; j < 96; ++j) x[j] = (j % 2 ? 0.5f : -0.5f) * 127.0f / (j - 63);  // ties
    const size_t rb = quant::RowBytes(act, cols);
    std::vector<uint8_t> want(rb * n_tok);
    for (int64_t t = 0; t < n_tok; ++t)
      quant::QuantizeActivationRow(act, x.data() + t * cols, want.data() + t * rb, cols);
    DeviceBuffer dx = ToDevice(x);
    DeviceBuffer out = testing::DeviceZeros<uint8_t>(want.size());
    ASSERT_TRUE(QuantizeActivations(act, dx.as<float>(), n_tok, cols, out.get()).ok());
    const auto got = ToHost<uint8_t>(out, want.size());
    for (size_t i = 0; i < want.size(); ++i)
      ASSERT_EQ(got[i], want[i]) << quant::GetDTypeInfo(act)->name << " byte " << i;
  }
}

struct Shape {
  int64_t rows, cols, n_tok;
};

TEST(CudaMatMulTest, MatchesReference) {
  SKIP_WITHOUT_CUDA_DEVICE();
  const Shape shapes[] = {{1, 32, 1}, {37, 576, 1}, {576, 1536, 1}, {64, 2048, 5}, {300, 96, 17},
                          {129, 576, 70}};
  for (quant::DType type : {quant::DType::kQ4_0, quant::DType::kQ8_0, quant::DType::kQ4_1,
                            quant::DType::kF16}) {
    for (const Shape& s : shapes) {
      for (size_t row_pad : {size_t{0}, size_t{6}}) {
        SCOPED_TRACE(::testing::Message()
                     << quant::GetDTypeInfo(type)->name << " rows " << s.rows << " cols "
                     << s.cols << " n_tok " << s.n_tok << " row_pad " << row_pad);
        const auto m = MakeMatrix(type, s.rows, s.cols, 41 + s.rows, 0, row_pad);
        const auto x = RandomVector(s.n_tok * s.cols, 43 + s.cols);
        std::vector<float> want(s.rows * s.n_tok);
        ref::MatMul(m.view, x.data(), s.n_tok, want.data());

        // Weights at a 2-byte offset in device memory: GGUF rows are only 2-byte aligned.
        const size_t bytes = m.view.row_bytes * s.rows;
        std::vector<uint8_t> host(bytes + 2, 0x5A);
        std::memcpy(host.data() + 2, m.view.data, bytes);
        DeviceBuffer dw = ToDevice(host), dx = ToDevice(x);
        DeviceBuffer dy = testing::DeviceZeros<float>(want.size());
        WeightView w = m.view;
        w.data = dw.as<uint8_t>() + 2;
        auto scratch = DeviceBuffer::Alloc(MatMulScratchBytes(w, s.n_tok));
        ASSERT_TRUE(scratch.ok());
        const Status st = MatMul(w, dx.as<float>(), s.n_tok, dy.as<float>(), scratch->get());
        ASSERT_TRUE(st.ok()) << st.message();
        const auto got = ToHost<float>(dy, want.size());
        // Same integer block sums; f32 accumulation on the GPU vs double in the reference.
        float max_ref = 0.0f;
        for (float v : want) max_ref = std::max(max_ref, std::fabs(v));
        const float tol = 1e-5f * max_ref * std::sqrt(static_cast<float>(s.cols) / 32) + 1e-6f;
        int bad = 0;
        for (size_t i = 0; i < want.size() && bad < 5; ++i) {
          if (!(std::fabs(got[i] - want[i]) <= tol)) {
            ADD_FAILURE() << "y[" << i << "]: cuda " << got[i] << " vs ref " << want[i]
                          << " (tol " << tol << ")";
            ++bad;
          }
        }
      }
    }
  }
}

// MatMulShared (x quantized once for several weights) gives each MatMul's result bit for bit, for
// a small (decode) and a large (prefill tile) batch, and one token's row does not depend on the
// batch (the 16-token tile and the 4-token tile sum alike).
TEST(CudaMatMulTest, SharedInputAndBatchInvariance) {
  SKIP_WITHOUT_CUDA_DEVICE();
  const int64_t cols = 576;
  const auto a = MakeMatrix(quant::DType::kQ4_1, 192, cols, 5);
  const auto b = MakeMatrix(quant::DType::kQ4_1, 64, cols, 6);
  DeviceBuffer da = ToDevice(std::vector<uint8_t>(static_cast<const uint8_t*>(a.view.data),
                                                  static_cast<const uint8_t*>(a.view.data) +
                                                      a.view.row_bytes * a.view.rows));
  DeviceBuffer db = ToDevice(std::vector<uint8_t>(static_cast<const uint8_t*>(b.view.data),
                                                  static_cast<const uint8_t*>(b.view.data) +
                                                      b.view.row_bytes * b.view.rows));
  WeightView wa = a.view, wb = b.view;
  wa.data = da.get();
  wb.data = db.get();
  std::vector<float> first_row;
  for (int64_t n_tok : {int64_t{3}, int64_t{40}}) {
    const auto x = RandomVector(n_tok * cols, 7);  // same seed: token 0 is the same row
    DeviceBuffer dx = ToDevice(x);
    auto scratch = DeviceBuffer::Alloc(MatMulScratchBytes(wa, n_tok));
    ASSERT_TRUE(scratch.ok());
    DeviceBuffer ya = testing::DeviceZeros<float>(n_tok * 192);
    DeviceBuffer yb = testing::DeviceZeros<float>(n_tok * 64);
    DeviceBuffer sa = testing::DeviceZeros<float>(n_tok * 192);
    DeviceBuffer sb = testing::DeviceZeros<float>(n_tok * 64);
    ASSERT_TRUE(MatMul(wa, dx.as<float>(), n_tok, ya.as<float>(), scratch->get()).ok());
    ASSERT_TRUE(MatMul(wb, dx.as<float>(), n_tok, yb.as<float>(), scratch->get()).ok());
    ASSERT_TRUE(MatMulShared({{&wa, sa.as<float>()}, {&wb, sb.as<float>()}}, dx.as<float>(), n_tok,
                             scratch->get())
                    .ok());
    const auto ra = ToHost<float>(ya, n_tok * 192), rs = ToHost<float>(sa, n_tok * 192);
    EXPECT_EQ(ra, rs) << "n_tok " << n_tok;
    EXPECT_EQ(ToHost<float>(yb, n_tok * 64), ToHost<float>(sb, n_tok * 64)) << "n_tok " << n_tok;
    const std::vector<float> row0(ra.begin(), ra.begin() + 192);
    if (first_row.empty()) {
      first_row = row0;
    } else {
      EXPECT_EQ(row0, first_row) << "token 0 alone in a small batch vs in a 16-token tile";
    }
  }
}

}  // namespace
}  // namespace semantic::kernels::cuda
